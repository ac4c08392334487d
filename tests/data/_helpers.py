"""Checks the data tests share: an exact linear-separability test."""

import numpy as np
from scipy.optimize import linprog


def linearly_separable(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether some (w, b) has (2y-1)(w·x + b) >= 1 for every row: an exact LP test."""
    sign = 2.0 * np.asarray(y, dtype=np.float64) - 1.0
    n, d = x.shape
    a_ub = -sign[:, None] * np.hstack([x, np.ones((n, 1))])
    result = linprog(
        np.zeros(d + 1), A_ub=a_ub, b_ub=-np.ones(n), bounds=[(None, None)] * (d + 1)
    )
    assert result.status in (0, 2), result.message  # 0: feasible, 2: infeasible
    return result.status == 0


def write_numeric_csv(path, n_rows: int, n_cols: int, seed: int) -> None:
    """A CSV of normal features x1..xd (6 significant digits) and a 0/1 label."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_rows, n_cols))
    label = (x @ rng.normal(size=n_cols) > 0).astype(int)
    header = ",".join([*(f"x{j + 1}" for j in range(n_cols)), "label"])
    table = np.column_stack([x, label])
    fmt = ["%.6g"] * n_cols + ["%d"]
    np.savetxt(path, table, fmt=fmt, delimiter=",", header=header, comments="")

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

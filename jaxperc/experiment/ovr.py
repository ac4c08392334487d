"""One-vs-rest sets: the multi-class accuracy of picking the most confident model."""

from typing import Any

import numpy as np

from jaxperc.experiment import roles


def one_vs_rest(problem, params, activation) -> dict[str, Any]:
    """Multi-class accuracy of each one-vs-rest set, per role of rows.

    A set is the class models of one setting of the other axes; its prediction is
    the class whose model outputs most. ``train_accuracy`` is on the rows the set
    fitted, ``validation_accuracy`` on its validation rows, ``test_accuracy`` on
    the test split.
    """
    grid = problem.grid
    others = [k for k in grid.axes if k != "class"]
    sets: dict[tuple, list[int]] = {}
    for i in range(grid.size):
        sets.setdefault(tuple(grid.labels[k][i] for k in others), []).append(i)
    y = problem.dataset.y
    rows_train, rows_test = problem.train_idx, problem.test_idx
    p_train = roles.outputs(problem.x[rows_train], problem.inputs, params, activation)
    p_test = (
        roles.outputs(problem.x[rows_test], problem.inputs, params, activation)
        if rows_test.size
        else None
    )
    _, wi = problem.model_columns()
    r = problem.roles
    out = []
    for key, idx in sets.items():
        ix = np.asarray(idx)
        classes = grid.labels["class"][ix]  # the class of each model in the set
        right = classes[np.argmax(p_train[ix], axis=0)] == y[rows_train]
        entry = {k: _plain(v) for k, v in zip(others, key, strict=True)}
        fitted = np.ones(len(rows_train), bool)
        if r.weights is not None:
            fitted = r.weights[:, wi[ix[0]]] > 0
        entry["train_accuracy"] = float(np.mean(right[fitted]))
        if r.validation is not None and r.validation[:, wi[ix[0]]].any():
            entry["validation_accuracy"] = float(
                np.mean(right[r.validation[:, wi[ix[0]]]])
            )
        if p_test is not None:
            pred_test = classes[np.argmax(p_test[ix], axis=0)]
            entry["test_accuracy"] = float(np.mean(pred_test == y[rows_test]))
        out.append(entry)
    names = [problem.positive[c] for c in grid.axes["class"]]
    return {"classes": names, "sets": out}


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value

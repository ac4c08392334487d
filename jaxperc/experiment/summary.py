"""The summary of a finished run: per-model metrics, the best model, group means.

Everything here reads a :class:`~jaxperc.experiment.Problem` and a
:class:`jaxperc.TrainResult` and returns plain JSON-ready data (``summary.json``):
test accuracy on the held-out split (or each model's held-out fold), the best model
by the configured metric, mean ± std over seeds, folds and resamples for each
setting of the other axes, the multi-class accuracy of one-vs-rest sets, and notes.
"""

from typing import Any

import jax
import numpy as np

from jaxperc import core

GROUPING_AXES = ("seed", "fold", "resample")  # averaged over in the summary groups


def probabilities(problem, params: core.Params, rows, activation):
    """[M, len(rows)] forward outputs of every model on the given rows."""
    x = np.asarray(problem.x[rows], dtype=np.asarray(params.w).dtype)
    out = jax.vmap(lambda p: core.forward(p, x, activation=activation))(params)
    return np.asarray(out, dtype=np.float64)


def _accuracies(problem, result, activation) -> tuple[np.ndarray, np.ndarray]:
    """[M] test accuracy (held-out fold or test split; NaN without one)."""
    m = problem.grid.size
    ti, wi = problem.model_columns()
    test = np.full(m, np.nan)
    if "fold" in problem.grid.axes:
        rows = problem.train_idx
        prob = probabilities(problem, result.params, rows, activation)
        truth = problem.targets[rows][:, ti].T
        held = (problem.weights[:, wi] == 0).T  # [M, n_train]
        hits = ((prob >= 0.5) == (truth >= 0.5)) & held
        test = hits.sum(1) / np.maximum(held.sum(1), 1)
    elif problem.test_idx.size:
        rows = problem.test_idx
        prob = probabilities(problem, result.params, rows, activation)
        truth = problem.targets[rows][:, ti].T
        test = ((prob >= 0.5) == (truth >= 0.5)).mean(1)
    return np.asarray(result.accuracy, np.float64), test


def _clean(value):
    """JSON-safe scalars: NaN/inf → None, numpy → Python."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _model_labels(problem, m: int) -> dict[str, Any]:
    labels = problem.grid.label(m)
    if "class" in labels:
        labels["class"] = problem.positive[labels["class"]]
    return labels


def _stats(values: np.ndarray) -> dict[str, Any]:
    finite = values[np.isfinite(values)]
    if not finite.size:
        return {"mean": None, "std": None}
    return {"mean": float(finite.mean()), "std": float(finite.std())}


def best_model(metric: str, cost, train_acc, test_acc) -> int:
    """Index of the best model: highest accuracy (ties: lowest cost) or lowest cost."""
    cost = np.where(np.isfinite(cost), cost, np.inf)
    if metric == "cost":
        return int(np.lexsort((np.arange(len(cost)), cost))[0])
    acc = test_acc if metric == "test_accuracy" else train_acc
    acc = np.where(np.isfinite(acc), acc, -np.inf)
    return int(np.lexsort((np.arange(len(cost)), cost, -acc))[0])


def summarize(problem, result, *, activation: str, metric: str) -> dict[str, Any]:
    """The per-model table, the best model, group means and notes (JSON-ready).

    Args:
      problem: the run's :class:`~jaxperc.experiment.run.Problem`.
      result: its :class:`~jaxperc.training.TrainResult`.
      activation: the models' activation (for their outputs on held-out rows).
      metric: what picks the best model (``output.metric``).
    """
    train_acc, test_acc = _accuracies(problem, result, activation)
    cost = np.asarray(result.cost, np.float64)
    m = problem.grid.size
    models = []
    for i in range(m):
        models.append(
            {
                "model": i,
                **_model_labels(problem, i),
                "cost": _clean(cost[i]),
                "train_accuracy": _clean(train_acc[i]),
                "test_accuracy": _clean(test_acc[i]),
                "epochs": int(result.epochs[i]),
                "converged": bool(result.converged[i]),
                "diverged": bool(result.diverged[i]),
                "stop_reason": str(result.stop_reason[i]),
            }
        )
    best = best_model(metric, cost, train_acc, test_acc)
    summary = {
        "n_models": m,
        "axes": {k: [_clean(v) for v in vals] for k, vals in problem.grid.axes.items()},
        "metric": metric,
        "best": models[best],
        "groups": _groups(problem, cost, train_acc, test_acc, result),
        "models": models,
        "notes": _notes(problem, models[best], result, test_acc),
    }
    if len(problem.grid.axes.get("class", ())) > 1:
        summary["one_vs_rest"] = _one_vs_rest(problem, result.params, activation)
    return summary


def _groups(problem, cost, train_acc, test_acc, result) -> list[dict[str, Any]]:
    keys = [k for k in problem.grid.axes if k not in GROUPING_AXES]
    groups: dict[tuple, list[int]] = {}
    for i in range(problem.grid.size):
        groups.setdefault(tuple(problem.grid.labels[k][i] for k in keys), []).append(i)
    out = []
    for idx in groups.values():
        labels = _model_labels(problem, idx[0])
        ix = np.asarray(idx)
        out.append(
            {
                **{k: labels[k] for k in keys},
                "n_models": len(idx),
                "cost": _stats(cost[ix]),
                "train_accuracy": _stats(train_acc[ix]),
                "test_accuracy": _stats(test_acc[ix]),
                "epochs": _stats(np.asarray(result.epochs, np.float64)[ix]),
                "converged": int(np.sum(result.converged[ix])),
                "diverged": int(np.sum(result.diverged[ix])),
            }
        )
    return out


def _one_vs_rest(problem, params, activation) -> dict[str, Any]:
    """Multi-class accuracy of each one-vs-rest set: argmax over the class models."""
    grid = problem.grid
    others = [k for k in grid.axes if k != "class"]
    sets: dict[tuple, list[int]] = {}
    for i in range(grid.size):
        sets.setdefault(tuple(grid.labels[k][i] for k in others), []).append(i)
    y = problem.dataset.y
    rows_train, rows_test = problem.train_idx, problem.test_idx
    p_train = probabilities(problem, params, rows_train, activation)
    p_test = (
        probabilities(problem, params, rows_test, activation)
        if rows_test.size
        else None
    )
    _, wi = problem.model_columns()
    out = []
    for key, idx in sets.items():
        ix = np.asarray(idx)
        classes = grid.labels["class"][ix]  # the class of each model in the set
        pred_train = classes[np.argmax(p_train[ix], axis=0)]
        entry = dict(zip(others, [_clean(v) for v in key], strict=True))
        if "fold" in grid.axes:
            held = problem.weights[:, wi[ix[0]]] == 0
            entry["test_accuracy"] = float(np.mean((pred_train == y[rows_train])[held]))
            entry["train_accuracy"] = float(
                np.mean((pred_train == y[rows_train])[~held])
            )
        else:
            entry["train_accuracy"] = float(np.mean(pred_train == y[rows_train]))
            if p_test is not None:
                pred_test = classes[np.argmax(p_test[ix], axis=0)]
                entry["test_accuracy"] = float(np.mean(pred_test == y[rows_test]))
        out.append(entry)
    names = [problem.positive[c] for c in grid.axes["class"]]
    return {"classes": names, "sets": out}


def _notes(problem, best: dict, result, test_acc) -> list[str]:
    notes = []
    ti, _ = problem.model_columns()
    col = problem.targets[problem.train_idx][:, ti[best["model"]]]
    chance = max(col.mean(), 1 - col.mean())
    acc = best["test_accuracy"]
    which = "test"
    if acc is None:
        acc, which = best["train_accuracy"], "training"
    if acc is not None and acc <= chance + 0.1:
        notes.append(
            f"not separated: the best {which} accuracy {acc:.3f} is near chance "
            f"({chance:.3f}, always the majority class); one perceptron draws a "
            "single straight boundary and these classes need more"
        )
    n_div = int(np.sum(result.diverged))
    if n_div:
        notes.append(f"{n_div} of {len(result.diverged)} models diverged")
    n_max = int(np.sum(result.stop_reason == "max_epochs"))
    if n_max:
        notes.append(
            f"{n_max} of {len(result.stop_reason)} models reached train.max_epochs "
            "before converging"
        )
    return notes

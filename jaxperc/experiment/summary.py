"""The summary of a finished run: per-model metrics, the choice, intervals, notes.

Everything here reads a :class:`~jaxperc.experiment.Problem` and a
:class:`jaxperc.TrainResult` and returns plain JSON-ready data (``summary.json``).
Each metric names its rows (:mod:`jaxperc.experiment.roles`): ``train_accuracy``
and ``cost`` on the rows a model fitted, ``validation_accuracy`` on its validation
rows, ``test_accuracy`` on test rows. The best model and the best setting are chosen
by ``output.metric``, which is never a test metric; the test accuracy of the chosen
setting is then reported as such. Means over seeds, folds and resamples carry 95 %
intervals (:mod:`jaxperc.experiment.groups`).
"""

from typing import Any, NamedTuple

import numpy as np

from jaxperc.experiment import groups, nested, roles


class RowAccuracy(NamedTuple):
    """[M] accuracy of every model on each role's rows (NaN: no such rows)."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


def row_accuracies(problem, result, activation) -> RowAccuracy:
    """Training accuracy (the engine's, on fitted rows), validation and test."""
    m = problem.grid.size
    ti, wi = problem.model_columns()
    r = problem.roles
    nan = np.full(m, np.nan)
    validation, test = nan, nan
    if r.validation is not None or r.test is not None:
        rows = problem.train_idx
        prob = roles.outputs(problem.x[rows], problem.inputs, result.params, activation)
        truth = problem.targets[rows][:, ti].T
        if r.validation is not None:
            validation = roles.masked_accuracy(prob, truth, r.validation[:, wi].T)
        if r.test is not None:
            test = roles.masked_accuracy(prob, truth, r.test[:, wi].T)
    if problem.test_idx.size:
        rows = problem.test_idx
        prob = roles.outputs(problem.x[rows], problem.inputs, result.params, activation)
        truth = problem.targets[rows][:, ti].T
        test = roles.masked_accuracy(prob, truth, np.ones(prob.shape, bool))
    return RowAccuracy(np.asarray(result.accuracy, np.float64), validation, test)


def selection_metric(metric: str | None, problem) -> str:
    """``output.metric``, or by default validation accuracy (training cost without)."""
    if metric is not None:
        return metric
    if problem.roles.source == roles.NO_VALIDATION:
        return "cost"
    return "validation_accuracy"


def row_notes(problem) -> dict[str, str]:
    """Which rows each metric of the summary comes from, in words with counts."""
    r, n_train, n_test = problem.roles, len(problem.train_idx), len(problem.test_idx)
    fitted = n_train if r.weights is None else int(np.median((r.weights > 0).sum(0)))
    where = {
        "none": "none (no data.validation_fraction, sweep.fold or sweep.bootstrap)",
        "split": "a data.validation_fraction split of the training part",
        "fold": "each model's held-out fold of the training part",
        "out-of-bag": "each resample's out-of-bag rows of the training part",
        "nested": "each inner model's held-out inner fold",
    }[r.source]
    test = (
        f"the data.test_fraction split ({n_test} rows), never used to choose"
        if n_test
        else "none (data.test_fraction = 0)"
    )
    if r.source == "nested":
        test = "each refitted model's held-out outer fold, never used to choose"
    count = int(np.median(r.validation.sum(0))) if r.validation is not None else 0
    return {
        "train": f"rows each model fitted (about {fitted} of {n_train}): cost, "
        "train_accuracy",
        "validation": where + (f" (about {count} rows)" if count else ""),
        "test": test,
    }


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
    if problem.nested is not None:  # the fold axis is the weight column
        column = labels.pop("fold")
        inner = int(problem.nested.inner_of[column])
        labels["outer_fold"] = int(problem.nested.outer_of[column])
        labels["inner_fold"] = "refit" if inner == nested.REFIT else inner
    return labels


def best_model(metric: str, metrics: dict[str, np.ndarray]) -> int:
    """Index of the best model by ``metric`` (ties: lower cost, then first)."""
    primary = groups.score(metric, metrics[metric])
    cost = groups.score("cost", metrics["cost"])
    return int(np.lexsort((np.arange(len(primary)), -cost, -primary))[0])


def summarize(problem, result, *, activation: str, metric: str | None) -> dict:
    """The per-model table, the best model and setting, intervals and notes.

    Args:
      problem: the run's :class:`~jaxperc.experiment.problem.Problem`.
      result: its :class:`~jaxperc.training.TrainResult`.
      activation: the models' activation (for their outputs on held-out rows).
      metric: what picks the best model (``output.metric``; None: the default).
    """
    acc = row_accuracies(problem, result, activation)
    metric = selection_metric(metric, problem)
    metrics = {
        "cost": np.asarray(result.cost, np.float64),
        "train_accuracy": acc.train,
        "validation_accuracy": acc.validation,
        "test_accuracy": acc.test,
    }
    models = [_model_entry(problem, result, metrics, i) for i in range(len(acc.train))]
    best = best_model(metric, metrics)
    summary = {
        "n_models": len(models),
        "axes": {k: [_clean(v) for v in vals] for k, vals in problem.grid.axes.items()},
        "metric": metric,
        "rows": row_notes(problem),
        "best": models[best],
        **_settings(problem, metric, metrics, np.asarray(result.epochs, float)),
        "stops": _stop_counts(result),
        # no stopping rule (tol = gtol = 0): max_epochs is what was asked for
        "fixed_epochs": not problem.options.has_stopping_rule,
        "models": models,
        "notes": _notes(problem, models[best], result, metric),
    }
    if problem.nested is not None:
        summary["nested"] = _nested(problem, metrics)
    if len(problem.grid.axes.get("class", ())) > 1:
        from jaxperc.experiment.ovr import one_vs_rest

        summary["one_vs_rest"] = one_vs_rest(problem, result.params, activation)
    return summary


def _model_entry(problem, result, metrics, i: int) -> dict[str, Any]:
    return {
        "model": i,
        **_model_labels(problem, i),
        **{k: _clean(v[i]) for k, v in metrics.items()},
        "epochs": int(result.epochs[i]),
        "converged": bool(result.converged[i]),
        "diverged": bool(result.diverged[i]),
        "stop_reason": str(result.stop_reason[i]),
    }


def _settings(problem, metric, metrics, epochs) -> dict[str, Any]:
    """``groups`` (every setting), ``best_setting`` and ``comparison``."""
    grid = problem.grid
    members = groups.settings(grid)
    ratio = groups.correction_ratio(grid, problem.roles.ratio())
    keys = [k for k in grid.axes if k not in groups.GROUPING_AXES]
    entries = []
    for ix in members:
        labels = _model_labels(problem, int(ix[0]))
        entry = {k: labels[k] for k in keys}
        entry["n_models"] = len(ix)
        for name in groups.GROUP_METRICS:
            bounds = None if name == "cost" else (0.0, 1.0)
            entry[name] = groups.stat_entry(metrics[name][ix], ratio, bounds)
        entry["epochs"] = groups.stat_entry(epochs[ix], None)
        entries.append(entry)
    out: dict[str, Any] = {"groups": entries}
    if len(grid.axes.get("class", ())) > 1:
        return out  # classes are different problems, not settings to choose from
    order = groups.rank_settings(metric, members, metrics)
    out["best_setting"] = {"index": int(order[0]), **entries[order[0]]}
    repeats = [a for a in grid.axes if a in groups.GROUPING_AXES]
    if repeats and len(members) > 1 and len(members[order[0]]) > 1:
        out["comparison"] = {
            "runner_up": {k: entries[order[1]][k] for k in keys},
            "over": repeats,
            **groups.compare(
                metric, members[order[0]], members[order[1]], metrics, ratio
            ),
        }
    return out


def _stop_counts(result) -> dict[str, int]:
    """How many models stopped for each reason (max_epochs and diverged included)."""
    reasons, counts = np.unique(np.asarray(result.stop_reason, str), return_counts=True)
    return {str(r): int(c) for r, c in zip(reasons, counts, strict=True)}


def _nested(problem, metrics) -> dict[str, Any]:
    """The nested-CV estimate and the setting each outer fold chose."""
    plan = problem.nested
    f = len(plan.outer_of)
    g = problem.grid.size // f
    chosen = nested.select(
        plan,
        metrics["validation_accuracy"].reshape(g, f),
        metrics["test_accuracy"].reshape(g, f),
    )
    keys = [k for k in problem.grid.axes if k not in groups.GROUPING_AXES]
    return {
        "accuracy": groups.stat_entry(chosen.outer_accuracy, chosen.ratio, (0, 1)),
        "rows": "each outer fold's held-out rows; the setting was chosen on the "
        "inner folds of the other rows",
        "outer": [
            {
                "outer_fold": o,
                **{k: _clean(problem.grid.labels[k][s * f]) for k in keys},
                "inner_validation_accuracy": float(chosen.inner_accuracy[o, s]),
                "test_accuracy": float(chosen.outer_accuracy[o]),
            }
            for o, s in enumerate(chosen.selected)
        ],
    }  # fmt: skip


def _notes(problem, best: dict, result, metric: str) -> list[str]:
    notes = []
    if metric == "cost" and problem.roles.source == roles.NO_VALIDATION:
        notes.append(
            "chosen by training cost: this run has no validation rows (set "
            "data.validation_fraction, sweep.fold or sweep.bootstrap)"
        )
    ti, _ = problem.model_columns()
    col = problem.targets[problem.train_idx][:, ti[best["model"]]]
    chance = max(col.mean(), 1 - col.mean())
    for which in ("validation_accuracy", "test_accuracy", "train_accuracy"):
        acc = best[which]
        if acc is not None:
            break
    if acc is not None and acc <= chance + 0.1:
        notes.append(
            f"not separated: the best model's {which} {acc:.3f} is near chance "
            f"({chance:.3f}, always the majority class); one perceptron draws a "
            "single straight boundary and these classes need more"
        )
    n_div = int(np.sum(result.diverged))
    if n_div:
        notes.append(f"{n_div} of {len(result.diverged)} models diverged")
    n_max = int(np.sum(result.stop_reason == "max_epochs"))
    if n_max and problem.options.has_stopping_rule:  # else max_epochs is the plan
        notes.append(
            f"{n_max} of {len(result.stop_reason)} models reached train.max_epochs "
            "before converging (marked ! in the table)"
        )
    return notes

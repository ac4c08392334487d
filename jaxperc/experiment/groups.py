"""Settings of a sweep: their means with 95 % intervals, the best one, the runner-up.

A setting is one combination of the axes that are not repeats; its models differ
only in ``seed``, ``fold`` or ``resample`` (the repeats), and the summary reports
each metric's mean over them with an interval from :mod:`jaxperc.experiment.stats`:
Student's t over seeds only, the Nadeau–Bengio corrected t as soon as folds or
resamples are among the repeats. The best setting is chosen by the selection metric
(never a test metric), and a paired test over the shared repeats says whether it is
distinguishable from the runner-up.
"""

from typing import Any

import numpy as np

from jaxperc.experiment import stats

GROUPING_AXES = ("seed", "fold", "resample")  # repeats, averaged over
GROUP_METRICS = ("cost", "train_accuracy", "validation_accuracy", "test_accuracy")


def settings(grid) -> list[np.ndarray]:
    """[G] model indices of each setting, members in grid order (shared repeats)."""
    keys = [k for k in grid.axes if k not in GROUPING_AXES]
    found: dict[tuple, list[int]] = {}
    for i in range(grid.size):
        found.setdefault(tuple(grid.labels[k][i] for k in keys), []).append(i)
    return [np.asarray(v) for v in found.values()]


def correction_ratio(grid, ratio: float | None) -> float | None:
    """The Nadeau–Bengio ratio when folds or resamples are repeats, else None."""
    if any(a in grid.axes for a in ("fold", "resample")):
        return ratio
    return None


def stat_entry(
    values: np.ndarray, ratio: float | None, bounds: tuple[float, float] | None = None
) -> dict[str, Any]:
    """Mean, std (ddof 0), 95 % interval and its method, JSON-ready.

    ``bounds`` clip the interval to the metric's range (accuracies: [0, 1]).
    """
    interval = stats.mean_interval(values, test_train_ratio=ratio)
    if bounds is not None and interval.low is not None:
        interval = interval._replace(
            low=max(interval.low, bounds[0]), high=min(interval.high, bounds[1])
        )
    finite = values[np.isfinite(values)]
    if not finite.size:
        return {"mean": None, "std": None, "low": None, "high": None, "n": 0}
    return {
        "mean": interval.mean,
        "std": float(finite.std()),
        "low": interval.low,
        "high": interval.high,
        "n": interval.n,
        "interval": interval.method,
    }


def score(metric: str, values) -> np.ndarray:
    """Higher is better: accuracies as they are, cost negated (NaN → −inf)."""
    v = np.asarray(values, np.float64)
    v = -v if metric == "cost" else v
    return np.where(np.isfinite(v), v, -np.inf)


def rank_settings(metric: str, members, metrics: dict[str, np.ndarray]) -> np.ndarray:
    """Setting indices, best first: mean metric, ties by lower mean cost."""
    primary = np.array([_mean(score(metric, metrics[metric][ix])) for ix in members])
    cost = np.array([_mean(score("cost", metrics["cost"][ix])) for ix in members])
    return np.lexsort((np.arange(len(members)), -cost, -primary))


def compare(metric: str, best, runner_up, metrics, ratio) -> dict[str, Any]:
    """Paired test of the best setting against the runner-up over shared repeats."""
    a = np.asarray(metrics[metric][best], np.float64)
    b = np.asarray(metrics[metric][runner_up], np.float64)
    c = stats.paired_test(a, b, test_train_ratio=ratio)
    return {
        "metric": metric,
        "difference": c.difference,
        "t": c.t,
        "p_value": c.p_value,
        "n_pairs": c.n,
        "test": c.method,
        "distinguishable": c.distinguishable,
    }


def _mean(scores: np.ndarray) -> float:
    finite = scores[np.isfinite(scores)]
    return float(finite.mean()) if finite.size else -np.inf

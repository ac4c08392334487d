"""The targets, and whether a run met them.

Speed targets are ratios of jaxperc's time per epoch to a baseline's, both
measured in the same run: "the faster baseline" is the faster of the plain and
the hand-blocked JAX programs (only those that passed the correctness gate).
A verdict is True (met), False (not met) or None (not measured in this run).
"""

from __future__ import annotations

from .contenders import BASELINES

# (workload, baseline: "best" or a contender's name, at most this ratio)
SPEED = (
    ("S1", "best", 1.2),
    ("S2", "best", 1.05),
    ("S3", "best", 0.9),
    ("S4", "plain_jax", 0.8),
    ("S4", "blocked_jax", 1.0),
)
COMPILE = (("S1", 0.4), ("S3", 0.6))  # first train_many compile, fresh process
WARM_FIRST_TRAIN_S = 0.15  # persistent cache warm: first jp.train after import
GRID_SPEEDUP = 10.0  # user-level grid and nested CV against scikit-learn
GRID_ACCURACY_POINTS = 1.0


def per_epoch(results: dict, wl: str, name: str) -> float | None:
    return results.get(wl, {}).get("contenders", {}).get(name, {}).get("per_epoch_s")


def best_baseline(results: dict, wl: str) -> tuple[str | None, float | None]:
    """The faster of the JAX baselines that were timed (name, seconds per epoch)."""
    timed = [(per_epoch(results, wl, b), b) for b in BASELINES]
    timed = [(t, b) for t, b in timed if t is not None]
    if not timed:
        return None, None
    t, b = min(timed)
    return b, t


def judge(value: float | None, limit: float, at_most: bool = True) -> bool | None:
    if value is None:
        return None
    return bool(value <= limit) if at_most else bool(value >= limit)


def _target(text, value, limit, shown, at_most=True) -> dict:
    met = judge(value, limit, at_most)
    return {
        "target": text,
        "value": value,
        "met": met,
        "shown": "not measured" if value is None else shown,
    }


def speed_targets(results: dict) -> list[dict]:
    out = []
    for wl, base, limit in SPEED:
        if base == "best":
            name, t = best_baseline(results, wl)
            text = f"{wl} jaxperc per epoch ≤ {limit}× the faster JAX baseline"
        else:
            name, t = base, per_epoch(results, wl, base)
            text = f"{wl} jaxperc per epoch ≤ {limit}× {base}"
        mine = per_epoch(results, wl, "jaxperc")
        r = mine / t if mine and t else None
        out.append(_target(text, r, limit, f"{r:.2f}× ({name})" if r else ""))
    return out


def _user_target(user: dict, task: str, what: str) -> dict:
    """A user-level task ≥ GRID_SPEEDUP× faster than scikit-learn, warm, at equal
    accuracy (faster at a different accuracy is not an answer)."""
    g = (user or {}).get("tasks", {}).get(task, {}).get("warm", {})
    speedup = g.get("speedup")
    if speedup is not None and abs(g["accuracy_gap_points"]) > GRID_ACCURACY_POINTS:
        speedup = 0.0
    text = (
        f"{what} ≥ {GRID_SPEEDUP:.0f}× faster than scikit-learn "
        f"(accuracy within {GRID_ACCURACY_POINTS:.0f} point)"
    )
    shown = f"{speedup:.1f}×" if speedup is not None else ""
    return _target(text, speedup, GRID_SPEEDUP, shown, at_most=False)


def other_targets(results: dict, extras: dict, user: dict) -> list[dict]:
    out = []
    cold = extras.get("coldstart", {})
    for wl, limit in COMPILE:
        c = cold.get(f"compile_{wl}", {}).get("compile_s")
        text = f"{wl} first train_many compile ≤ {limit} s (fresh process, no cache)"
        out.append(_target(text, c, limit, f"{c:.2f} s" if c is not None else ""))
    w = cold.get("warm_cache", {}).get("first_train_s")
    text = f"cache warm: first jp.train in a fresh process ≤ {WARM_FIRST_TRAIN_S} s"
    out.append(_target(text, w, WARM_FIRST_TRAIN_S, f"{w:.3f} s" if w else ""))
    for task, what in (("grid_cv", "grid × 5-fold CV"), ("nested_cv", "nested CV")):
        out.append(_user_target(user, task, what))
    loop, mine = per_epoch(results, "S2", "loop"), per_epoch(results, "S2", "jaxperc")
    r = loop / mine if loop and mine else None
    text = "S2 ≥ 5× faster than a Python loop of train()"
    out.append(_target(text, r, 5.0, f"{r:.1f}×" if r else "", at_most=False))
    a = per_epoch(results, "S2-ad", "jaxperc_manual")
    b = per_epoch(results, "S2-ad", "jaxperc")
    r = a / b if a and b else None
    text = "S2 manual gradient ≤ 1.05× autodiff"
    out.append(_target(text, r, 1.05, f"{r:.2f}×" if r else ""))
    for wl in ("S3", "S4"):
        row = results.get(wl, {}).get("contenders", {}).get("jaxperc", {})
        r = row.get("memory", {}).get("per_nM4")
        text = f"{wl} working memory ≤ 1.2 × n·M·4 bytes beyond the data"
        out.append(_target(text, r, 1.2, f"{r:.2f} × n·M·4" if r is not None else ""))
    return out


def targets(results: dict, extras: dict, user: dict | None = None) -> list[dict]:
    """Every target with its measured value and verdict."""
    return speed_targets(results) + other_targets(results, extras, user or {})

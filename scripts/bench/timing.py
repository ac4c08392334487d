"""The correctness gate, then interleaved timing of every contender that passed.

Before anything is timed each contender's final costs are compared with
jaxperc's at the same epochs (≤ ``RTOL`` relative, per model; the NumPy
contender makes that a check against an independent reference too). A
contender that fails is reported and not timed. The others then run one after
the other in each repeat, the order rotating, since the machine is shared (the
JAX programs among themselves, then the NumPy and PyTorch peers); each figure is
the median over the repeats.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from . import peers
from .contenders import Entry, make_entries, subset_ids
from .workloads import Workload

RTOL = 1e-4  # final costs must agree this closely (relative) before timing


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def check(costs, ref, rtol: float = RTOL) -> dict:
    """Relative difference per model; passed only if finite and ≤ rtol."""
    costs, ref = np.asarray(costs, np.float64), np.asarray(ref, np.float64)
    if costs.shape != ref.shape:
        return {"max_rel_diff": float("inf"), "passed": False}
    rel = np.abs(costs - ref) / np.maximum(np.abs(ref), 1e-12)
    worst = float(np.max(rel)) if rel.size else 0.0
    return {"max_rel_diff": worst, "passed": bool(np.isfinite(worst) and worst <= rtol)}


def gate(entries: list[Entry], n_models: int, reference) -> dict[str, dict]:
    """First call of each entry, checked against ``reference(epochs)``."""
    rows: dict[str, dict] = {}
    for e in entries:
        first, costs = timed(e.run, e.epochs)
        ref = reference(e.epochs)
        if e.scale != 1.0:  # a subset: compare with those models
            ref = ref[subset_ids(n_models, e.models)]
        rows[e.name] = {"first_s": first, "epochs": e.epochs, "note": e.note}
        rows[e.name]["check"] = check(costs, ref)
        verdict = "ok" if rows[e.name]["check"]["passed"] else "FAILED"
        print(
            f"  {e.name:18s} first call {first:8.3f} s  check {verdict} "
            f"{rows[e.name]['check']['max_rel_diff']:.1e}",
            flush=True,
        )
    return rows


def _host_peer(name: str) -> bool:
    """A contender that is not a JAX program (NumPy, PyTorch)."""
    return name == "numpy" or name.startswith("torch")


def interleaved(entries: list[Entry], repeats: int) -> dict[str, list[float]]:
    """Seconds per call of each entry; in repeat r the order starts at entry r."""
    times: dict[str, list[float]] = {e.name: [] for e in entries}
    for r in range(repeats if entries else 0):
        k = r % len(entries)
        for e in entries[k:] + entries[:k]:
            times[e.name].append(timed(e.run, e.epochs)[0])
    return times


def summarise(row: dict, times: list[float], e: Entry, n_models: int) -> None:
    med = statistics.median(times)
    per_epoch = med / e.epochs * e.scale
    row.update(
        times_s=times,
        median_s=med,
        per_epoch_s=per_epoch,
        model_epochs_per_s=n_models / per_epoch,
        compile_s=max(row["first_s"] - med, 0.0),
    )


def full_job(wl: Workload, entries: list[Entry], rows: dict) -> None:
    """The stated job, once, for jaxperc and the JAX baselines (costs checked)."""
    if wl.epochs == wl.timed_epochs:
        return
    names = ("jaxperc", "plain_jax", "blocked_jax")
    got = {e.name: timed(e.run, wl.epochs) for e in entries if e.name in names}
    for k, (secs, costs) in got.items():
        rows[k]["full_job"] = {
            "epochs": wl.epochs,
            "seconds": secs,
            "check": check(costs, got["jaxperc"][1]),
        }


def run_workload(wl: Workload, args, limits, entries=None) -> tuple[dict, list]:
    """Gate every contender against jaxperc, then time those that passed."""
    print(f"\n== {wl.name}: {wl.title}", flush=True)
    entries = entries or make_entries(wl, args.jax_device, args.torch_device)
    refs: dict[int, np.ndarray] = {}

    def reference(epochs):
        if epochs not in refs:
            refs[epochs] = entries[0].run(epochs)
        return refs[epochs]

    m = wl.problem.n_models
    rows = gate(entries, m, reference)
    full_job(wl, entries, rows)
    passed = [e for e in entries if rows[e.name]["check"]["passed"]]
    # JAX programs rotate among themselves, the NumPy and PyTorch peers after
    # them: a JAX program timed right after NumPy freed hundreds of MB ran about
    # 25 % slower (first-touch page faults), which made ratios between JAX
    # programs depend on who happened to follow NumPy
    jax_side = [e for e in passed if not _host_peer(e.name)]
    times = interleaved(jax_side, args.repeats)
    times |= interleaved([e for e in passed if _host_peer(e.name)], args.repeats)
    for e in passed:
        summarise(rows[e.name], times[e.name], e, m)
    base = rows["jaxperc"].get("per_epoch_s")
    roof = limits["roofline"][wl.name]["seconds_per_epoch"]
    for row in rows.values():
        if "per_epoch_s" in row:
            row["ratio_to_jaxperc"] = row["per_epoch_s"] / base if base else None
            row["roofline_pct"] = 100.0 * roof / row["per_epoch_s"]
    result = {
        "title": wl.title,
        "n": int(wl.problem.x.shape[0]),
        "d": int(wl.problem.x.shape[1]),
        "models": m,
        "epochs": wl.epochs,
        "loss": wl.problem.loss,
        "batch_size": wl.problem.batch_size,
        "options": wl.options,
        "contenders": rows,
    }
    if wl.sklearn_models:
        result["sklearn"] = sklearn_rows(wl)
    return result, entries


def sklearn_rows(wl: Workload) -> dict:
    """Not the same algorithm: time per model-epoch and training accuracy."""
    out = {}
    m = wl.problem.n_models
    ids = np.arange(min(wl.sklearn_models, m))
    for kind in ("sgd", "logreg"):
        epochs = min(wl.epochs, 20) if kind == "sgd" else 0
        fit = peers.sklearn_fits(wl.problem, kind, ids, epochs)
        per_model_epoch = fit["seconds_per_model"] / max(fit["epochs_per_model"], 1)
        fit["per_model_epoch_s"] = per_model_epoch
        fit["per_epoch_all_models_s"] = per_model_epoch * m
        fit["note"] = f"{fit['models_fitted']} of {m} models fitted, extrapolated"
        out[kind] = fit
    return out

"""Beside the training loop: early convergence, block sizes, import and CLI times."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import jax
import numpy as np

import jaxperc as jp

from .baselines import PlainJax
from .coldstart import ROOT, child_env
from .contenders import jaxperc_trainer
from .timing import check, interleaved, timed
from .workloads import synthetic


def early_convergence(device, quick: bool, repeats: int) -> dict:
    """Most models stop early: what moving the rest to smaller batches saves."""
    n, d, m = (256, 8, 32) if quick else (1000, 32, 256)
    x, y = synthetic(n, d, 3)
    kw = dict(
        seed=np.arange(m),
        learning_rate=np.geomspace(0.1, 30, m).astype(np.float32),
        loss="bce",
        max_epochs=200 if quick else 2000,
        tol=1e-5,
        device=device,
    )
    runs = {c: (lambda c=c: jp.train_many(x, y, compact=c, **kw)) for c in (1, 0)}
    first = {c: timed(f) for c, f in runs.items()}
    times = {c: [] for c in runs}
    for r in range(repeats):
        for c in (1, 0) if r % 2 == 0 else (0, 1):
            times[c].append(timed(runs[c])[0])
    epochs = first[1][1].epochs
    out = {
        "setup": f"{m} models, synthetic {n}×{d}, bce, learning rates 0.1…30, "
        f"tol=1e-5, max_epochs={kw['max_epochs']}",
        "epochs_percentiles": {
            str(q): float(np.percentile(epochs, q)) for q in (10, 50, 90, 100)
        },
        "same_epochs": bool(np.array_equal(epochs, first[0][1].epochs)),
        "check": check(first[1][1].cost, first[0][1].cost),
    }
    for c, name in ((1, "compact"), (0, "no_compact")):
        med = statistics.median(times[c])
        out[name] = {"first_s": first[c][0], "median_s": med, "times_s": times[c]}
    out["speedup"] = out["no_compact"]["median_s"] / out["compact"]["median_s"]
    print(
        f"\n== early convergence: compact {out['compact']['median_s']:.3f} s, "
        f"no compaction {out['no_compact']['median_s']:.3f} s",
        flush=True,
    )
    return out


SWEEP = (None, 2**18, 2**19, 2**20, 2**21)  # [M, rows] values per block


def block_sweep(workload, device, repeats: int) -> dict:
    """The plain program's layouts and block sizes, timed side by side.

    Evidence for the choices in ``baselines``: per-model weight vectors against
    [d, M] columns, and the block size of the hand-blocked program.
    """
    p, epochs = workload.problem, max(2, workload.timed_epochs // 2)
    progs = {
        f"{layout} {'one pass' if v is None else f'2^{v.bit_length() - 1}'}": (
            PlainJax(p, block_values=v, layout=layout, device=device)
        )
        for layout in ("rows", "cols")
        for v in SWEEP
    }
    entries = [_SweepEntry(k, prog.run, epochs) for k, prog in progs.items()]
    for e in entries:
        e.run(epochs)  # compile
    times = interleaved(entries, repeats)
    out = {
        k: {
            "per_epoch_s": statistics.median(times[k]) / epochs,
            "rows_per_block": progs[k].rows,
            "temp_bytes": progs[k].temp_bytes(epochs),
        }
        for k in progs
    }
    best = min(out, key=lambda k: out[k]["per_epoch_s"])
    print(f"\n== {workload.name} layouts and blocks: fastest {best}", flush=True)
    return {"workload": workload.name, "epochs": epochs, "programs": out}


AGREEMENT_RTOL = 1e-5  # float32: a GPU's final costs and weights against a CPU's
AGREEMENT_MAX_EPOCHS = 20  # S5 on a CPU takes about a second an epoch


def device_agreement(workloads, device) -> list[dict]:
    """The same ``train_many`` call on ``device`` and on the host's CPU.

    Relative difference per model: of the final cost, and of the weights as
    max|w_gpu − w_cpu| / max|w_cpu|. Both runs use true float32 products.
    """
    cpu = jax.devices("cpu")[0]
    out = []
    for wl in workloads:
        if wl.name not in ("S3", "S4", "S5"):
            continue
        epochs = min(wl.epochs, AGREEMENT_MAX_EPOCHS) if wl.name == "S5" else wl.epochs
        got, ref = (jaxperc_trainer(wl.problem, d)(epochs) for d in (device, cpu))
        w, w_ref = np.asarray(got.params.w), np.asarray(ref.params.w)
        rel_w = np.max(np.abs(w - w_ref), axis=1) / np.max(np.abs(w_ref), axis=1)
        row = {
            "workload": wl.name,
            "epochs": epochs,
            "models": wl.problem.n_models,
            "cost": check(got.cost, ref.cost, AGREEMENT_RTOL),
            "weights_max_rel_diff": float(np.max(rel_w)),
            "weights_median_rel_diff": float(np.median(rel_w)),
        }
        row["passed"] = bool(
            row["cost"]["passed"] and row["weights_max_rel_diff"] <= AGREEMENT_RTOL
        )
        print(
            f"\n== {wl.name} {device.platform} vs cpu, {epochs} epochs: cost "
            f"{row['cost']['max_rel_diff']:.1e}, weights "
            f"{row['weights_max_rel_diff']:.1e} (max relative)",
            flush=True,
        )
        out.append(row)
    return out


class _SweepEntry:
    def __init__(self, name, run, epochs):
        self.name, self.run, self.epochs = name, run, epochs


def import_time(repeats: int) -> dict:
    code = (
        "import json, time\nt = time.perf_counter()\nimport jaxperc\n"
        "print(json.dumps({'s': time.perf_counter() - t}))"
    )
    times = []
    for _ in range(repeats):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env=child_env(),
        )
        times.append(float(done.stdout.strip().splitlines()[-1].split(": ")[1][:-1]))
    return {"median_s": statistics.median(times), "times_s": times}


def cli_end_to_end(workdir) -> dict:
    """``jaxperc run configs/default.toml``: cold, then with the cache warm."""
    config = os.path.join(ROOT, "configs", "default.toml")
    if not os.path.exists(config):
        return {"skipped": f"{config} does not exist"}
    env = child_env(JAXPERC_CACHE_DIR=os.path.join(workdir, "xla-cache"))
    out = {"config": "configs/default.toml"}
    for label in ("cold", "warm"):
        cmd = [sys.executable, "-m", "jaxperc", "run", config, "--quiet"]
        cmd += ["--out", os.path.join(workdir, f"run-{label}")]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        secs = time.perf_counter() - start
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
            return {"skipped": f"jaxperc run failed: {' '.join(tail)}"}
        out[f"{label}_s"] = secs
    print(
        f"\n== jaxperc run: cold {out['cold_s']:.2f} s, warm {out['warm_s']:.2f} s",
        flush=True,
    )
    return out

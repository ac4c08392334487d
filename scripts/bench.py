"""jaxperc beside a minimal JAX program, NumPy, PyTorch and scikit-learn.

Run ``python scripts/bench.py`` for the full comparison (about 10 minutes on two
CPU cores), ``--quick`` for a smoke run at tiny sizes, ``--only S3,S4`` for some
workloads, ``--device gpu`` to run JAX and PyTorch on a GPU, ``--out FILE`` for the
results as JSON and ``--markdown docs/performance.md`` to regenerate that page.

Workloads (float32, full-batch gradient descent on sigmoid + MSE with the
hand-derived gradient unless stated):

- S1: one model, breast cancer (569 × 30, standardised), 2000 epochs;
- S2: 256 models (16 seeds × 16 learning rates 1e-3…3), same data, 1000 epochs,
  with variants: cross-entropy, ``grad="autodiff"``, mini-batches of 64;
- S3: 1024 models, synthetic n = 20 000, d = 64, 100 epochs (compute-bound);
- S4: 64 models, synthetic n = 100 000, d = 16, 200 epochs (memory-bound);
- early: models that mostly converge early, with and without compaction.

Every contender's final costs are checked against jaxperc's (≤ 1e-4 relative)
before it is timed; contenders run interleaved, repeat by repeat, and each result
is the median over the repeats. Compile time is the first call minus the median.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import jax
import numpy as np

import jaxperc
import jaxperc.data

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_peers as peers

RTOL = 1e-4  # final costs must agree this closely (relative) before timing


@dataclass
class Workload:
    """One job: a problem, its stated epochs and what each contender runs."""

    name: str
    title: str
    problem: peers.Problem
    epochs: int  # the stated job (checked for jaxperc and the minimal program)
    timed_epochs: int  # epochs per timed repeat for jaxperc and minimal JAX
    peer_epochs: int  # epochs per timed repeat for NumPy / PyTorch
    contenders: tuple[str, ...]
    loop_models: int = 0  # Python loop over train(): models timed (extrapolated)
    sklearn_models: int = 0  # scikit-learn: models fitted (extrapolated)
    options: dict = field(default_factory=dict)  # extra train_many keywords


@dataclass
class Entry:
    """A timed contender: ``run(epochs)`` → final costs of its models."""

    name: str
    run: object
    epochs: int
    models: int  # models the run trains
    scale: float = 1.0  # × to extrapolate to all of the workload's models
    minimal: object = None  # the MinimalJax instance, for memory_analysis
    note: str = ""


# ------------------------------------------------------------------ workloads


def _breast_cancer():
    data = jaxperc.data.load_dataset("breast_cancer")
    std = jaxperc.data.fit_standardizer(data.x)
    x = jaxperc.data.apply_standardizer(std, data.x).astype(np.float32)
    return x, data.targets()[:, 0].astype(np.float32)


def _synthetic(n, d, seed):
    data = jaxperc.data.make_blobs(n, d, margin=0.1, noise=1.0, seed=seed)
    std = jaxperc.data.fit_standardizer(data.x)
    x = jaxperc.data.apply_standardizer(std, data.x).astype(np.float32)
    return x, data.y.astype(np.float32)


def _sweep(n_seeds, n_rates, low=1e-3, high=3.0):
    """Seeds × log-spaced learning rates, flattened (rates fastest)."""
    seeds = np.repeat(np.arange(n_seeds), n_rates)
    rates = np.tile(np.geomspace(low, high, n_rates), n_seeds).astype(np.float32)
    return seeds, rates


def build_workloads(quick: bool, have_torch: bool, have_sklearn: bool):
    bc_x, bc_y = _breast_cancer()
    torch_modes = ("torch", "torch_compile", "torch_vmap") if have_torch else ()
    sk = ("sgd", "logreg") if have_sklearn else ()
    peer = ("numpy", *torch_modes, *sk)
    if quick:
        s3, s4 = _synthetic(512, 8, 1), _synthetic(2048, 4, 2)
        sizes = {"S1": 50, "S2": (4, 4, 40), "S3": (4, 8, 10), "S4": (2, 4, 10)}
    else:
        s3, s4 = _synthetic(20_000, 64, 1), _synthetic(100_000, 16, 2)
        sizes = {
            "S1": 2000,
            "S2": (16, 16, 1000),
            "S3": (32, 32, 100),
            "S4": (8, 8, 200),
        }
    q = quick
    out = []
    e1 = sizes["S1"]
    one = peers.Problem(bc_x, bc_y, np.array([0]), np.array([0.5], np.float32))
    out.append(
        Workload(
            "S1",
            "one model, breast cancer 569×30",
            one,
            e1,
            e1,
            e1,
            ("jaxperc", "minimal_jax", *peer),
        )
    )
    ns, nr, e2 = sizes["S2"]
    s2 = peers.Problem(bc_x, bc_y, *_sweep(ns, nr))
    m2 = ns * nr
    title2 = f"{m2} models, breast cancer"
    out.append(
        Workload(
            "S2",
            title2,
            s2,
            e2,
            e2,
            e2 if q else 100,
            ("jaxperc", "minimal_jax", "loop", *peer),
            loop_models=4 if q else 16,
            sklearn_models=2 if q else 4,
        )
    )
    for name, loss, grad in (("S2-bce", "bce", "manual"), ("S2-ad", "mse", "autodiff")):
        p = peers.Problem(bc_x, bc_y, s2.seeds, s2.learning_rate, loss=loss)
        out.append(
            Workload(
                name,
                f"{title2}, {loss}, {grad} gradient",
                p,
                e2,
                e2,
                e2,
                ("jaxperc", "minimal_jax")
                + (("jaxperc_manual",) if grad == "autodiff" else ()),
                options={"grad": grad},
            )
        )
    mb = peers.Problem(bc_x, bc_y, s2.seeds, s2.learning_rate, batch_size=64)
    e_mb = 20 if q else 200
    out.append(
        Workload(
            "S2-mb",
            f"{title2}, mini-batches of 64",
            mb,
            e_mb,
            e_mb,
            e_mb // 10,
            ("jaxperc", "minimal_jax", "numpy", *torch_modes[:1]),
        )
    )
    # the large synthetic grids: (name, data, epochs timed per repeat, peers' epochs)
    for name, data, timed, peer_epochs in (("S3", s3, 20, 5), ("S4", s4, 50, 10)):
        ns, nr, epochs = sizes[name]
        n, d = data[0].shape
        out.append(
            Workload(
                name,
                f"{ns * nr} models, synthetic {n}×{d}",
                peers.Problem(*data, *_sweep(ns, nr, 1e-2, 3.0)),
                epochs,
                epochs if q else timed,
                epochs if q else peer_epochs,
                ("jaxperc", "jaxperc_unblocked", "minimal_jax", *peer),
                sklearn_models=2,
            )
        )
    return out


# ----------------------------------------------------------------- contenders


def _jaxperc_run(problem, device, **options):
    def run(epochs):
        result = jaxperc.train_many(
            problem.x,
            problem.y,
            seed=problem.seeds,
            learning_rate=problem.learning_rate,
            loss=problem.loss,
            batch_size=problem.batch_size,
            data_seed=problem.data_seed,
            max_epochs=epochs,
            tol=0,
            device=device,
            **options,
        )
        return np.asarray(result.cost, np.float64)

    return run


def _train_one_run(problem, device):
    """jaxperc.train for a single model (S1) or a Python loop of them."""

    def run(epochs):
        costs = []
        for seed, rate in zip(problem.seeds, problem.learning_rate, strict=True):
            result = jaxperc.train(
                problem.x,
                problem.y,
                seed=int(seed),
                learning_rate=float(rate),
                loss=problem.loss,
                max_epochs=epochs,
                tol=0,
                device=device,
            )
            costs.append(float(result.cost))
        return np.asarray(costs)

    return run


def make_entries(wl: Workload, args) -> list[Entry]:
    p, m = wl.problem, wl.problem.n_models
    jdev = args.jax_device
    tdev = "cuda" if args.device == "gpu" else "cpu"
    entries = []
    for name in wl.contenders:
        if name == "jaxperc":
            run = (
                _train_one_run(p, jdev)
                if m == 1
                else _jaxperc_run(p, jdev, **wl.options)
            )
            label = "train" if m == 1 else "train_many"
            entries.append(Entry("jaxperc", run, wl.timed_epochs, m, note=label))
        elif name == "jaxperc_unblocked":
            run = _jaxperc_run(p, jdev, block_rows=None, **wl.options)
            entries.append(Entry(name, run, wl.timed_epochs, m, note="block_rows=None"))
        elif name == "jaxperc_manual":  # timed beside the autodiff run, interleaved
            run = _jaxperc_run(p, jdev, **{**wl.options, "grad": "manual"})
            entries.append(Entry(name, run, wl.timed_epochs, m, note='grad="manual"'))
        elif name == "minimal_jax":
            mj = peers.MinimalJax(p, grad=wl.options.get("grad", "manual"), device=jdev)
            entries.append(Entry(name, mj.run, wl.timed_epochs, m, minimal=mj))
        elif name == "loop":
            k = min(wl.loop_models, m)
            ids = np.linspace(0, m - 1, k).astype(int)
            entries.append(
                Entry(
                    name,
                    _train_one_run(p.subset(ids), jdev),
                    wl.timed_epochs,
                    k,
                    scale=m / k,
                    note=f"{k} of {m} models timed, extrapolated",
                )
            )
        elif name == "numpy":
            entries.append(Entry(name, peers.NumpyBatched(p).run, wl.peer_epochs, m))
        elif name.startswith("torch"):
            mode = {"torch": "eager", "torch_compile": "compile"}.get(name, "vmap")
            t = peers.TorchBatched(p, mode, tdev)
            entries.append(Entry(name, t.run, wl.peer_epochs, m, note=mode))
    return entries


# -------------------------------------------------------------------- timing


def _timed(fn, *a, **kw):
    start = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - start, out


def check(costs, ref) -> dict:
    rel = np.abs(costs - ref) / np.maximum(np.abs(ref), 1e-12)
    worst = float(np.max(rel)) if rel.size else 0.0
    return {"max_rel_diff": worst, "passed": bool(np.isfinite(worst) and worst <= RTOL)}


def run_workload(wl: Workload, args, limits) -> tuple[dict, list[Entry]]:
    """Check every contender against jaxperc, then time them interleaved."""
    print(f"\n== {wl.name}: {wl.title}", flush=True)
    entries = make_entries(wl, args)
    refs: dict[int, np.ndarray] = {}

    def reference(epochs):
        if epochs not in refs:
            refs[epochs] = entries[0].run(epochs)
        return refs[epochs]

    rows: dict[str, dict] = {}
    for e in entries:
        first, costs = _timed(e.run, e.epochs)
        ref = reference(e.epochs)
        if e.scale != 1.0:  # a subset: compare with those models
            ids = np.linspace(0, wl.problem.n_models - 1, e.models).astype(int)
            ref = ref[ids]
        rows[e.name] = {"first_s": first, "epochs": e.epochs, "note": e.note}
        rows[e.name]["check"] = check(costs, ref)
        print(
            f"  {e.name:18s} first call {first:8.3f} s  "
            f"check {rows[e.name]['check']['max_rel_diff']:.1e}",
            flush=True,
        )
    if wl.epochs != wl.timed_epochs:  # the stated job, for the reference pair
        full = {e.name: e for e in entries if e.name in ("jaxperc", "minimal_jax")}
        got = {k: _timed(e.run, wl.epochs) for k, e in full.items()}
        for k, (secs, costs) in got.items():
            rows[k]["full_job"] = {
                "epochs": wl.epochs,
                "seconds": secs,
                "check": check(costs, got["jaxperc"][1]),
            }
    timed = [e for e in entries if rows[e.name]["check"]["passed"]]
    times: dict[str, list[float]] = {e.name: [] for e in timed}
    for r in range(args.repeats):
        for e in timed[r % len(timed) :] + timed[: r % len(timed)]:
            times[e.name].append(_timed(e.run, e.epochs)[0])
    m = wl.problem.n_models
    for e in timed:
        row = rows[e.name]
        med = statistics.median(times[e.name])
        per_epoch = med / e.epochs * e.scale
        row.update(
            times_s=times[e.name],
            median_s=med,
            per_epoch_s=per_epoch,
            model_epochs_per_s=m / per_epoch,
            compile_s=max(row["first_s"] - med, 0.0),
        )
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
    if wl.sklearn_models and peers.sklearn_available():
        result["sklearn"] = sklearn_rows(wl)
    return result, entries


def sklearn_rows(wl: Workload) -> dict:
    """Not the same algorithm: time per model-epoch and training accuracy."""
    out = {}
    ids = np.arange(min(wl.sklearn_models, wl.problem.n_models))
    for kind in ("sgd", "logreg"):
        epochs = min(wl.epochs, 20) if kind == "sgd" else 0
        fit = peers.sklearn_fits(wl.problem, kind, ids, epochs)
        per_model_epoch = fit["seconds_per_model"] / max(fit["epochs_per_model"], 1)
        fit["per_model_epoch_s"] = per_model_epoch
        fit["per_epoch_all_models_s"] = per_model_epoch * wl.problem.n_models
        fit["note"] = (
            f"{fit['models_fitted']} of {wl.problem.n_models} models fitted, "
            "extrapolated"
        )
        out[kind] = fit
    return out


# ------------------------------------------------------------ machine limits


def machine_limits(workloads, args) -> dict:
    """Sustained matmul FLOP/s, stream bandwidth, and a roofline per workload."""
    dev = args.jax_device
    peak = peers.peak_matmul_flops(device=dev, size=512 if args.quick else 2048)
    bw = peers.stream_bandwidth(device=dev, mib=32 if args.quick else 256)
    bandwidth = max(bw.values())
    out = {"peak_matmul_flops": peak, "bandwidth": bw, "roofline": {}}
    shapes = {}
    for wl in workloads:
        n, d = wl.problem.x.shape
        m = wl.problem.n_models
        if (n, d, m) not in shapes:
            shapes[n, d, m] = peers.matmul_seconds(n, d, m, device=dev)
        mm = shapes[n, d, m]
        flops = 4.0 * n * d * m
        best = max(peak, mm["flops_each"] / mm["forward_s"])
        best = max(best, mm["flops_each"] / mm["gradient_s"])
        moved = 4.0 * (2 * n * m + 2 * n * d)  # δ written + read once, x read twice
        compute_s, memory_s = flops / best, moved / bandwidth
        out["roofline"][wl.name] = {
            "flops_per_epoch": flops,
            "bytes_per_epoch": moved,
            "matmul_at_shape": mm,
            "compute_s": compute_s,
            "memory_s": memory_s,
            "seconds_per_epoch": max(compute_s, memory_s),
            "bound": "compute" if compute_s >= memory_s else "memory",
        }
    return out


# ---------------------------------------------------------------- the extras


def early_convergence(args) -> dict:
    """Most models stop early: what moving the rest to smaller batches saves."""
    n, d, m = (256, 8, 32) if args.quick else (1000, 32, 256)
    x, y = _synthetic(n, d, 3)
    kw = dict(
        seed=np.arange(m),
        learning_rate=np.geomspace(0.1, 30, m).astype(np.float32),
        loss="bce",
        max_epochs=200 if args.quick else 2000,
        tol=1e-5,
        device=args.jax_device,
    )
    runs = {c: (lambda c=c: jaxperc.train_many(x, y, compact=c, **kw)) for c in (1, 0)}
    first = {c: _timed(f) for c, f in runs.items()}
    same = np.array_equal(first[1][1].epochs, first[0][1].epochs)
    close = check(first[1][1].cost.astype(np.float64), first[0][1].cost)
    times = {c: [] for c in runs}
    for r in range(args.repeats):
        for c in (1, 0) if r % 2 == 0 else (0, 1):
            times[c].append(_timed(runs[c])[0])
    epochs = first[1][1].epochs
    out = {
        "setup": f"{m} models, synthetic {n}×{d}, bce, learning rates 0.1…30, "
        f"tol=1e-5, max_epochs={kw['max_epochs']}",
        "epochs_percentiles": {
            str(q): float(np.percentile(epochs, q)) for q in (10, 50, 90, 100)
        },
        "same_epochs": bool(same),
        "check": close,
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


def lbfgs_time_to_solution(args) -> dict | None:
    """S1: jaxperc's L-BFGS (bce, matched l2) to LogisticRegression's cost."""
    if not peers.sklearn_available():
        return None
    from sklearn.linear_model import LogisticRegression

    x, y = _breast_cancer()
    n, c = x.shape[0], 1.0
    start = time.perf_counter()
    lr = LogisticRegression(C=c, max_iter=10_000).fit(x, y.astype(int))
    sk_seconds = time.perf_counter() - start
    l2 = 1.0 / (c * n)
    w, b = lr.coef_[0].astype(np.float64), float(lr.intercept_[0])
    z = x.astype(np.float64) @ w + b
    target = float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * w @ w)
    kw = dict(loss="bce", optimizer="lbfgs", l2=l2, tol=0, device=args.jax_device)
    probe = jaxperc.train(x, y, max_epochs=100, **kw)
    hist = probe.cost_history
    reached = np.flatnonzero(hist <= target * (1 + 1e-6))
    out = {
        "logreg_cost": target,
        "logreg_seconds": sk_seconds,
        "logreg_iterations": int(lr.n_iter_[0]),
        "l2": l2,
        "tolerance": "cost ≤ LogisticRegression's × (1 + 1e-6)",
    }
    if reached.size == 0:
        out["reached"] = False
        out["best_cost"] = float(np.nanmin(hist))
        return out
    k = int(reached[0]) + 1  # the cost history is read before each update
    jaxperc.train(x, y, max_epochs=k, **kw)  # compile this length
    secs = [_timed(jaxperc.train, x, y, max_epochs=k, **kw)[0] for _ in range(5)]
    out.update(reached=True, iterations=k, seconds=statistics.median(secs))
    print(
        f"\n== L-BFGS: {k} iterations in {out['seconds']:.3f} s; "
        f"LogisticRegression {sk_seconds:.3f} s",
        flush=True,
    )
    return out


def _python(code: str, *argv: str, env=None) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object last."""
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


# Peak RSS of the child itself. VmHWM starts afresh at exec; ru_maxrss does not
# (Linux carries the parent's over to the child), so it is only the fallback.
_RSS = """
import json, resource
def rss():
    try:
        with open("/proc/self/status") as f:
            hwm = [ln for ln in f if ln.startswith("VmHWM:")]
        return int(hwm[0].split()[1]) * 1024
    except (OSError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
"""


def csv_loading(args, workdir) -> dict:
    """load_csv on n × 20 numbers: time and peak memory above a bare import."""
    rows, cols = (20_000, 20) if args.quick else (1_000_000, 20)
    path = os.path.join(workdir, "big.csv")
    rng = np.random.default_rng(0)
    block = rng.normal(size=(10_000, cols))
    labels = (block @ rng.normal(size=cols) > 0).astype(int)
    with open(path, "w") as f:
        f.write(",".join([*(f"x{j + 1}" for j in range(cols)), "label"]) + "\n")
        lines = "\n".join(
            ",".join(f"{v:.6g}" for v in row) + f",{lab}"
            for row, lab in zip(block, labels, strict=True)
        )
        for _ in range(rows // 10_000):
            f.write(lines + "\n")
    base = _python(_RSS + "import jaxperc.data\nprint(json.dumps({'rss': rss()}))")
    code = _RSS + (
        "import sys, time\nimport jaxperc.data\nt = time.perf_counter()\n"
        "ds = jaxperc.data.load_csv(sys.argv[1])\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'rss': rss(), "
        "'shape': list(ds.x.shape)}))"
    )
    got = _python(code, path)
    out = {
        "rows": rows,
        "cols": cols,
        "file_bytes": os.path.getsize(path),
        "seconds": got["seconds"],
        "peak_rss_above_import_bytes": got["rss"] - base["rss"],
        "x_bytes": 8 * rows * cols,
        "shape": got["shape"],
    }
    os.remove(path)
    print(
        f"\n== load_csv {rows}×{cols}: {out['seconds']:.2f} s, peak "
        f"{out['peak_rss_above_import_bytes'] / 2**20:.0f} MiB",
        flush=True,
    )
    return out


def import_time(repeats: int) -> dict:
    code = (
        "import json, time\nt = time.perf_counter()\nimport jaxperc\n"
        "print(json.dumps({'s': time.perf_counter() - t}))"
    )
    times = [_python(code)["s"] for _ in range(repeats)]
    return {"median_s": statistics.median(times), "times_s": times}


def cli_end_to_end(workdir) -> dict:
    """``jaxperc run configs/default.toml``: cold, then with the cache warm."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    config = os.path.join(root, "configs", "default.toml")
    try:
        import jaxperc.cli  # noqa: F401
    except ImportError:
        return {"skipped": "jaxperc.cli does not exist yet"}
    if not os.path.exists(config):
        return {"skipped": f"{config} does not exist yet"}
    env = {**os.environ, "JAXPERC_CACHE_DIR": os.path.join(workdir, "xla-cache")}
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


# -------------------------------------------------------------------- memory


def memory_probes(results: dict, entries: dict[str, list[Entry]]) -> None:
    """Working memory of each contender's run, added to its row (after all timing).

    JAX and PyTorch: peak RSS above the level before the run (glibc told to return
    large blocks at once, so RSS follows them); the minimal program also gets XLA's
    ``memory_analysis`` temp bytes; NumPy: tracemalloc's peak.
    """
    import tracemalloc

    stable = peers.stable_malloc()
    for name in ("S2", "S3", "S4"):
        if name not in results:
            continue
        res = results[name]
        n, d, m = res["n"], res["d"], res["models"]
        nm4, data = 4 * n * m, 4 * n * (d + 1)
        for e in entries[name]:
            row = res["contenders"][e.name]
            if e.name == "loop" or "per_epoch_s" not in row:
                continue
            if e.name == "numpy":
                tracemalloc.start()
                e.run(e.epochs)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                mem = {"method": "tracemalloc peak", "bytes": peak}
            else:
                got = peers.peak_rss_delta(lambda e=e: e.run(e.epochs))
                mem = {"method": "peak RSS above start", "bytes": got}
                mem["stable_malloc"] = stable
            if mem["bytes"] is not None:
                mem["beyond_data_bytes"] = max(mem["bytes"] - data, 0)
                mem["per_nM4"] = mem["beyond_data_bytes"] / nm4
            if e.minimal is not None:
                mem["xla_temp_bytes"] = e.minimal.temp_bytes(e.epochs)
            row["memory"] = mem


# ------------------------------------------------------------------- targets


def _per_epoch(results, wl, name):
    return results.get(wl, {}).get("contenders", {}).get(name, {}).get("per_epoch_s")


def targets(results: dict, extras: dict) -> list[dict]:
    """Each target: what it says, the measured value, met or not (None: not run)."""
    out = []

    def add(text, value, met, shown):
        out.append({"target": text, "value": value, "met": met, "shown": shown})

    def ratio(text, wl, num, den, limit, at_most=True):
        a, b = _per_epoch(results, wl, num), _per_epoch(results, wl, den)
        if a is None or b is None:
            add(text, None, None, "not measured")
            return
        r = a / b
        add(text, r, bool(r <= limit if at_most else r >= limit), f"{r:.2f}×")

    ratio(
        "S3 train_many per epoch ≤ 1.1× minimal JAX",
        "S3",
        "jaxperc",
        "minimal_jax",
        1.1,
    )
    ratio(
        "S3 ≥ 3× faster than torch.compile",
        "S3",
        "torch_compile",
        "jaxperc",
        3.0,
        at_most=False,
    )
    sgd = results.get("S3", {}).get("sklearn", {}).get("sgd")
    jp = _per_epoch(results, "S3", "jaxperc")
    if sgd and jp:
        r = sgd["per_model_epoch_s"] / (jp / results["S3"]["models"])
        add("S3 ≥ 100× SGDClassifier per model-epoch", r, bool(r >= 100), f"{r:.0f}×")
    else:
        add("S3 ≥ 100× SGDClassifier per model-epoch", None, None, "not measured")
    ratio("S4 ≤ 0.75× minimal JAX", "S4", "jaxperc", "minimal_jax", 0.75)
    ratio("S2 ≤ 1.1× minimal JAX", "S2", "jaxperc", "minimal_jax", 1.1)
    ratio(
        "S2 ≥ 5× a Python loop of train()", "S2", "loop", "jaxperc", 5.0, at_most=False
    )
    ratio("S1 per epoch ≤ 1.2× minimal JAX", "S1", "jaxperc", "minimal_jax", 1.2)
    c = results.get("S1", {}).get("contenders", {}).get("jaxperc", {}).get("compile_s")
    add(
        "S1 compile ≤ 0.5 s",
        c,
        None if c is None else bool(c <= 0.5),
        "not measured" if c is None else f"{c:.2f} s",
    )
    tts = extras.get("lbfgs")
    if tts and tts.get("reached"):
        gd = results.get("S1", {}).get("contenders", {}).get("jaxperc", {})
        gd_s = gd.get("median_s")
        shown = (
            f"L-BFGS {tts['seconds'] * 1e3:.1f} ms ({tts['iterations']} it) vs "
            f"LogisticRegression {tts['logreg_seconds'] * 1e3:.1f} ms"
            + (f"; 2000 gd epochs {gd_s * 1e3:.1f} ms" if gd_s else "")
        )
        add(
            "S1 time to LogisticRegression's cost (reported)",
            tts["seconds"],
            None,
            shown,
        )
    for wl in ("S3", "S4"):
        mem = results.get(wl, {}).get("contenders", {}).get("jaxperc", {})
        mem = mem.get("memory", {})
        r = mem.get("per_nM4")
        add(
            f"{wl} working memory ≤ 1.2 × n·M·4 bytes beyond the data",
            r,
            None if r is None else bool(r <= 1.2),
            "not measured" if r is None else f"{r:.2f} × n·M·4",
        )
    a = _per_epoch(results, "S2-ad", "jaxperc_manual")
    b = _per_epoch(results, "S2-ad", "jaxperc")
    r = a / b if a and b else None
    add(
        "S2 manual gradient ≤ 1.05× autodiff",
        r,
        None if r is None else bool(r <= 1.05),
        "not measured" if r is None else f"{r:.2f}×",
    )
    return out


# -------------------------------------------------------------------- report

COLUMNS = (
    "contender",
    "ms/epoch",
    "model-epochs/s",
    "× jaxperc",
    "% roofline",
    "compile s",
    "check",
    "memory",
)


def _fmt(v, spec):
    return "–" if v is None else format(v, spec)


def table_rows(name: str, res: dict) -> list[list[str]]:
    rows = []
    for cname, row in res["contenders"].items():
        mem = row.get("memory", {})
        mem_s = (
            f"{mem['bytes'] / 2**20:.1f} MiB" if mem.get("bytes") is not None else ""
        )
        if mem.get("xla_temp_bytes") is not None:
            mem_s += f" (XLA temp {mem['xla_temp_bytes'] / 2**20:.1f} MiB)"
        ok = row["check"]
        label = cname + (f" [{row['note']}]" if row.get("note") else "")
        rows.append(
            [
                label,
                _fmt(row.get("per_epoch_s") and row["per_epoch_s"] * 1e3, ".3g"),
                _fmt(row.get("model_epochs_per_s"), ".3g"),
                _fmt(row.get("ratio_to_jaxperc"), ".2f"),
                _fmt(row.get("roofline_pct"), ".0f"),
                _fmt(row.get("compile_s"), ".2f"),
                ("ok " if ok["passed"] else "FAILED ") + f"{ok['max_rel_diff']:.0e}",
                mem_s,
            ]
        )
    for kind, fit in res.get("sklearn", {}).items():
        label = {"sgd": "SGDClassifier", "logreg": "LogisticRegression"}[kind]
        jp = res["contenders"]["jaxperc"].get("per_epoch_s")
        pe = fit["per_epoch_all_models_s"]
        rows.append(
            [
                f"{label} [{fit['note']}; accuracy {fit['accuracy']:.3f}]",
                _fmt(pe * 1e3, ".3g"),
                _fmt(res["models"] / pe, ".3g"),
                _fmt(pe / jp if jp else None, ".2f"),
                "",
                "",
                "other algorithm",
                "",
            ]
        )
    return rows


def _heading(name, res, limits):
    roof = limits["roofline"][name]
    return (
        f"{name}: {res['title']}, {res['epochs']} epochs ({res['loss']}"
        + (f", batch {res['batch_size']}" if res["batch_size"] else "")
        + f"); roofline {roof['seconds_per_epoch'] * 1e3:.3g} ms/epoch "
        f"({roof['bound']}-bound)"
    )


def print_report(out: dict) -> None:
    for name, res in out["workloads"].items():
        print("\n" + _heading(name, res, out["machine"]))
        rows = [list(COLUMNS), *table_rows(name, res)]
        widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
        for r in rows:
            print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    print("\nTargets")
    for t in out["targets"]:
        met = {True: "met", False: "NOT MET", None: "—"}[t["met"]]
        print(f"  {t['target']}: {t['shown']} — {met}")


def markdown(out: dict) -> str:
    m = out["machine"]
    lines = [
        "# Performance",
        "",
        "<!-- Generated by `python scripts/bench.py --markdown docs/performance.md`;",
        "     edit the script, not this file. -->",
        "",
        METHOD,
        "",
        "## This machine",
        "",
        f"- {out['platform']}; JAX {out['versions']['jax']} on "
        f"`{out['device']}`; {out['cpu_count']} CPU cores; load average at the "
        f"start {out['load_average'][0]:.1f}; "
        + ("quick run (tiny sizes)" if out["quick"] else "full run")
        + f", {out['repeats']} repeats, {out['wall_s']:.0f} s in all.",
        f"- Sustained fp32 matrix product: {m['peak_matmul_flops'] / 1e9:.1f} "
        "GFLOP/s (square, jitted); streaming bandwidth: "
        + ", ".join(f"{k} {v / 1e9:.1f} GB/s" for k, v in m["bandwidth"].items())
        + ".",
        "",
    ]
    for name, res in out["workloads"].items():
        lines += [f"### {_heading(name, res, m)}", ""]
        lines.append("| " + " | ".join(COLUMNS) + " |")
        lines.append("|" + "---|" * len(COLUMNS))
        lines += ["| " + " | ".join(r) + " |" for r in table_rows(name, res)]
        lines.append("")
    lines += ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for t in out["targets"]:
        met = {True: "yes", False: "**no**", None: "—"}[t["met"]]
        lines.append(f"| {t['target']} | {t['shown']} | {met} |")
    lines += ["", "## Beside the training loop", ""]
    lines += extras_lines(out["extras"])
    lines += ["", READING, "", GPU, ""]
    return "\n".join(lines)


def extras_lines(ex: dict) -> list[str]:
    lines = []
    e = ex.get("early")
    if e:
        lines.append(
            f"- Early convergence ({e['setup']}; epochs per model, median "
            f"{e['epochs_percentiles']['50']:.0f}, max "
            f"{e['epochs_percentiles']['100']:.0f}): compact=True "
            f"{e['compact']['median_s']:.2f} s (first call "
            f"{e['compact']['first_s']:.2f} s, it compiles each smaller batch), "
            f"compact=False {e['no_compact']['median_s']:.2f} s "
            f"(first {e['no_compact']['first_s']:.2f} s): compaction is "
            f"{e['speedup']:.1f}× faster once compiled."
        )
    t = ex.get("lbfgs")
    if t and t.get("reached"):
        lines.append(
            f"- L-BFGS to LogisticRegression's cost (bce, l2 = 1/(C·n) = "
            f"{t['l2']:.2e}): {t['iterations']} iterations in "
            f"{t['seconds'] * 1e3:.1f} ms; LogisticRegression itself "
            f"{t['logreg_seconds'] * 1e3:.1f} ms ({t['logreg_iterations']} "
            "iterations)."
        )
    elif t:
        lines.append(f"- L-BFGS did not reach LogisticRegression's cost: {t}")
    c = ex.get("csv")
    if c:
        lines.append(
            f"- `load_csv` of {c['rows']:,} × {c['cols']} "
            f"({c['file_bytes'] / 2**20:.0f} MiB file): {c['seconds']:.2f} s, peak "
            f"memory {c['peak_rss_above_import_bytes'] / 2**20:.0f} MiB above a bare "
            f"import (x itself: {c['x_bytes'] / 2**20:.0f} MiB float64)."
        )
    i = ex.get("import")
    if i:
        lines.append(
            f"- `import jaxperc`: {i['median_s']:.2f} s (median, fresh process)."
        )
    cli = ex.get("cli")
    if cli and "skipped" in cli:
        lines.append(
            f"- `jaxperc run configs/default.toml`: skipped ({cli['skipped']})."
        )
    elif cli:
        lines.append(
            f"- `jaxperc run configs/default.toml` end to end: cold "
            f"{cli['cold_s']:.2f} s, with the compilation cache warm "
            f"{cli['warm_s']:.2f} s."
        )
    return lines


METHOD = """\
`scripts/bench.py` trains the same perceptrons with each contender: float32,
full-batch gradient descent on a sigmoid unit with the mean squared error and the
hand-derived gradient unless a workload says otherwise, every model starting from
`jaxperc.init_params(jax.random.key(seed), d)`.

- **jaxperc**: `train` (one model) or `train_many`, with `tol=0` so every model
  runs exactly the stated epochs; `[block_rows=None]` is the same call without
  the cache-sized row blocks the engine uses on a CPU.
- **minimal_jax**: the smallest honest JAX program for the job: one `jit`,
  `lax.scan` over epochs, `vmap` over models, the hand-derived gradient, keeping
  the cost history as the library does. It is the yardstick for the library's
  own overhead.
- **loop**: a Python loop of jitted single-model `jaxperc.train` calls (some
  models timed, extrapolated to all of them): what one batched program saves.
- **numpy**: the same algebra as [n, M] NumPy matrix products.
- **torch** (eager batched products), **torch_compile** (the epoch step through
  `torch.compile`) and **torch_vmap** (`torch.func.vmap` of one model's step),
  when PyTorch is installed; flush-to-zero is on while they run, as XLA has it.
- **SGDClassifier** and **LogisticRegression** (scikit-learn), fitted once per
  model for a few models and extrapolated: a different algorithm, so they are
  compared by time per model-epoch (an L-BFGS iteration for LogisticRegression)
  and training accuracy only.

Before anything is timed, each contender's final costs must match jaxperc's
within 1e-4 (relative, per model); a contender that fails is reported and not
timed. Contenders then run interleaved, one after the other in each repeat
(rotating the order), since the machine is shared; each figure is the median over
the repeats. For the large workloads a timed repeat runs fewer epochs than the
stated job (the stated job is run once for jaxperc and the minimal program, and
its costs checked); per-epoch figures include each call's fixed costs spread over
the timed epochs. Compile time is the first call minus the median.

The machine's limits are measured in the same run: the sustained fp32 rate of a
square jitted matrix product and of the two products of an epoch at the
workload's own shapes, and the streaming bandwidth of a jitted sum and a NumPy
copy. The roofline time of an epoch is the larger of 4·n·d·M flops at the best of
those rates and 4·(2·n·M + 2·n·d) bytes (δ written and read once, x read twice)
at the best bandwidth; "% roofline" is that time over the measured one. Working
memory is the peak RSS above the level before a run (JAX, PyTorch; glibc told to
return large blocks at once), XLA's own `memory_analysis` for the minimal
program, and tracemalloc's peak for NumPy; "beyond the data" subtracts one
float32 copy of x and y."""

READING = """\
## Reading the numbers

- The S3 and S4 epochs are one [n, d]×[d, M] product, an elementwise pass over
  the [n, M] pre-activations and one [M, n]×[n, d] product. At S3 the products
  dominate (compute-bound); at S4 (d = 16) the [n, M] intermediates do, and a
  full-batch pass that writes them to memory is limited by bandwidth. Processing
  the rows in blocks of about 2^20 values (jaxperc's default on a CPU) keeps
  them in cache, which is why jaxperc beats the minimal program at S4 and needs a
  fraction of its memory. Two details decide whether blocking pays: the block
  size (a few hundred rows per block measured 1.1–1.5× the minimal program, as
  each block pays its own kernel launches; 8–16k rows × 64 models 0.7×), and
  keeping every [M, rows] value inside the block's fused loops (a per-model scale
  broadcast inside a reduction once cost an extra [M, rows] array per block).
- The small workloads (S1, S2) cost microseconds per epoch; there the fixed cost
  of each call (argument checks, initialisation, the final evaluation, moving the
  history to the host) and the per-epoch bookkeeping of the stopping rules show.
- NumPy and eager PyTorch run one Python-level step per epoch and allocate the
  [n, M] intermediates afresh each time; NumPy also pays for subnormal numbers
  when sigmoids saturate (XLA flushes them to zero).
- The machine is shared, so figures vary between runs; compare contenders within
  one run, not across runs."""

GPU = """\
## On a GPU

Run `python scripts/bench.py --device gpu --out gpu.json --markdown gpu.md` on a
machine with a CUDA build of JAX (and of PyTorch, for its contenders). JAX and
PyTorch then run on the GPU; NumPy and scikit-learn stay on the CPU. jaxperc does
not block rows on a GPU (`block_rows="auto"` is one pass there), so the
unblocked row shows the same program. Expect S1 and S2 to be bound by kernel
launches rather than arithmetic, and S3/S4 to approach the GPU's own roofline."""


# ---------------------------------------------------------------------- main


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, < 1 minute")
    ap.add_argument("--out", help="write the full results as JSON here")
    ap.add_argument("--markdown", help="write the report as Markdown here")
    ap.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    ap.add_argument("--only", help="comma-separated workloads, e.g. S3,S4")
    ap.add_argument("--repeats", type=int, help="timed repeats (default 5, quick 3)")
    ap.add_argument(
        "--report",
        metavar="JSON",
        help="measure nothing: rebuild the report from a saved --out file",
    )
    ap.add_argument(
        "--no-extras",
        action="store_true",
        help="skip CSV loading, import time and the CLI run",
    )
    args = ap.parse_args(argv)
    args.repeats = args.repeats or (3 if args.quick else 5)
    if args.repeats < 1:
        ap.error(f"--repeats={args.repeats} must be at least 1")
    try:
        args.jax_device = jax.devices(args.device)[0]
    except RuntimeError:
        ap.error(
            f"--device {args.device}: JAX sees no such device; install a "
            "CUDA build of jaxlib or use --device cpu"
        )
    return args


def rebuild(args) -> int:
    """The report of a saved run, with the targets judged again."""
    with open(args.report) as f:
        out = json.load(f)
    for res in out["workloads"].values():
        for row in res["contenders"].values():
            mem = row.get("memory", {})
            if mem.get("beyond_data_bytes") is not None:
                n4 = 4 * res["n"] * res["models"]
                mem["beyond_data_bytes"] = max(mem["beyond_data_bytes"], 0)
                mem["per_nM4"] = mem["beyond_data_bytes"] / n4
    out["targets"] = targets(out["workloads"], out["extras"])
    print_report(out)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1, default=_json_default)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(out))
    return 0 if out["checks_passed"] else 1


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.report:
        return rebuild(args)
    start = time.perf_counter()
    have_torch = peers.torch_available() and (
        args.device == "cpu" or peers.torch_cuda_available()
    )
    workloads = build_workloads(args.quick, have_torch, peers.sklearn_available())
    if args.only:
        wanted = {w.strip() for w in args.only.split(",")}
        known = {w.name for w in workloads}
        if not wanted <= known:
            bad = ", ".join(sorted(wanted - known))
            print(f"--only: unknown workload(s) {bad}; use {', '.join(sorted(known))}")
            return 2
        workloads = [w for w in workloads if w.name in wanted]
    out = {
        "quick": args.quick,
        "repeats": args.repeats,
        "device": str(args.jax_device),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "versions": _versions(),
        "torch": have_torch,
        "rtol": RTOL,
    }
    print("measuring the machine's limits ...", flush=True)
    out["machine"] = machine_limits(workloads, args)
    phases = out["phase_s"] = {"machine": time.perf_counter() - start}
    results, entries = {}, {}
    for wl in workloads:
        t0 = time.perf_counter()
        results[wl.name], entries[wl.name] = run_workload(wl, args, out["machine"])
        phases[wl.name] = time.perf_counter() - t0
    t0 = time.perf_counter()
    extras = {}
    names = {w.name for w in workloads}
    with tempfile.TemporaryDirectory() as workdir:
        if not args.only or "early" in names or "S2" in names:
            extras["early"] = early_convergence(args)
        if "S1" in names:
            extras["lbfgs"] = lbfgs_time_to_solution(args)
        if not args.no_extras and not args.only:
            extras["csv"] = csv_loading(args, workdir)
            extras["import"] = import_time(3 if args.quick else 5)
            extras["cli"] = (
                {"skipped": "--quick"} if args.quick else cli_end_to_end(workdir)
            )
    phases["extras"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    memory_probes(results, entries)
    phases["memory"] = time.perf_counter() - t0
    out["workloads"], out["extras"] = results, extras
    out["targets"] = targets(results, extras)
    out["checks_passed"] = all(
        row["check"]["passed"]
        for res in results.values()
        for row in res["contenders"].values()
    ) and all(
        row["full_job"]["check"]["passed"]
        for res in results.values()
        for row in res["contenders"].values()
        if "full_job" in row
    )
    out["wall_s"] = time.perf_counter() - start
    print_report(out)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(out, f, indent=1, default=_json_default)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(out))
    verdict = "passed" if out["checks_passed"] else "FAILED"
    print(f"\n{out['wall_s']:.0f} s; checks {verdict}")
    return 0 if out["checks_passed"] else 1


def _versions() -> dict:
    out = {
        "jax": jax.__version__,
        "jaxperc": jaxperc.__version__,
        "numpy": np.__version__,
    }
    for name in ("torch", "sklearn"):
        with contextlib.suppress(ImportError):
            out[name] = importlib.import_module(name).__version__
    return out


def _json_default(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


if __name__ == "__main__":
    sys.exit(main())

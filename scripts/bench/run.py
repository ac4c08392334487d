"""The command line: ``python scripts/bench [--quick] [--only S3,S4] ...``."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import sys
import tempfile
import time

import jax
import numpy as np

import jaxperc

from . import (
    coldstart,
    csvload,
    extras,
    machine,
    peers,
    profile,
    report,
    targets,
    userlevel,
)
from .timing import RTOL, run_workload
from .workloads import build_workloads

MATMUL_PRECISION = "highest"  # as jaxperc's own products, on every device
GROUPS = ("U",)  # workload groups besides S1…S4: U is the user-level benchmark


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        prog="python scripts/bench",
        description="jaxperc beside hand-written JAX, NumPy, PyTorch, scikit-learn",
    )
    ap.add_argument(
        "--quick", action="store_true", help="toy sizes, no verdicts, no U unless asked"
    )
    ap.add_argument("--out", help="write the full results as JSON here")
    ap.add_argument("--markdown", help="write the report as Markdown here")
    ap.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    ap.add_argument("--only", help="comma-separated workloads, e.g. S3,S4 or U")
    ap.add_argument("--user", action="store_true", help="only the user level (U)")
    ap.add_argument("--repeats", type=int, help="timed repeats (default 5, quick 2)")
    ap.add_argument("--report", metavar="JSON", help="rebuild from a saved --out file")
    ap.add_argument("--no-extras", action="store_true", help="skip the extras")
    ap.add_argument(
        "--profile",
        metavar="WORKLOAD",
        help="time each compiled operation of one workload's JAX contenders",
    )
    args = ap.parse_args(argv)
    args.repeats = args.repeats or (2 if args.quick else 5)
    if args.repeats < 1:
        ap.error(f"--repeats={args.repeats} must be at least 1")
    if args.user:
        args.only = "U"
    args.torch_device = "cuda" if args.device == "gpu" else "cpu"
    try:
        args.jax_device = jax.devices(args.device)[0]
    except RuntimeError:
        ap.error(f"--device {args.device}: JAX sees no such device")
    # jaxperc's products are true float32 everywhere; the baselines and the
    # machine's measured matmul rate must be too (a GPU's default is TF32)
    jax.config.update("jax_default_matmul_precision", MATMUL_PRECISION)
    return args


def rebuild(args) -> int:
    """The report of a saved run, with the targets judged again."""
    with open(args.report) as f:
        out = json.load(f)
    out["targets"] = (
        targets.targets(out["workloads"], out["extras"], out.get("userlevel"))
        if report.judged(out)
        else []
    )
    report.print_report(out)
    report.write(out, args.out, args.markdown)
    return 0 if out["checks_passed"] else 1


def header(args, have_torch: bool) -> dict:
    versions = {"jax": jax.__version__, "jaxperc": jaxperc.__version__}
    versions["numpy"] = np.__version__
    for name in ("torch", "sklearn"):
        with contextlib.suppress(ImportError):
            versions[name] = importlib.import_module(name).__version__
    return {
        "quick": args.quick,
        "repeats": args.repeats,
        "device": str(args.jax_device),
        "backend": args.device,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "versions": versions,
        "torch": have_torch,
        "rtol": RTOL,
        "matmul_precision": MATMUL_PRECISION,
    }


def select(workloads, only: str | None, quick: bool = False):
    """The workloads (and groups) ``--only`` names; None if it names unknown ones."""
    if not only:  # a quick run is a smoke test of the timing harness only
        return workloads, set() if quick else set(GROUPS)
    wanted = {w.strip() for w in only.split(",")}
    known = {w.name for w in workloads} | set(GROUPS)
    if not wanted <= known:
        bad = ", ".join(sorted(wanted - known))
        print(f"--only: unknown workload(s) {bad}; use {', '.join(sorted(known))}")
        return None, None
    return [w for w in workloads if w.name in wanted], wanted & set(GROUPS)


def run_extras(args, workloads, everything: bool) -> dict:
    ex, names = {}, {w.name for w in workloads}
    if "S2" in names:
        ex["early"] = extras.early_convergence(
            args.jax_device, args.quick, args.repeats
        )
    if args.device != "cpu":
        ex["agreement"] = extras.device_agreement(workloads, args.jax_device)
    elif not args.quick:
        ex["block_sweep"] = [
            extras.block_sweep(w, args.jax_device, 3)
            for w in workloads
            if w.name in ("S3", "S4")
        ]
    if not everything or args.no_extras:
        return ex
    ex["coldstart"] = coldstart.coldstart(args.quick, 1 if args.quick else 3)
    with tempfile.TemporaryDirectory() as workdir:
        ex["csv"] = csvload.csv_loading(args.quick, workdir)
        ex["import"] = extras.import_time(2 if args.quick else 5)
        if not args.quick:
            ex["cli"] = extras.cli_end_to_end(workdir)
    return ex


def memory_probes(results: dict, entries: dict) -> None:
    """Working memory of each contender's run, after all timing (S2, S3, S4)."""
    import tracemalloc

    stable = machine.stable_malloc()
    for name in ("S2", "S3", "S4"):
        for e in entries.get(name, []):
            row = results[name]["contenders"][e.name]
            if e.name == "loop" or "per_epoch_s" not in row:
                continue
            if e.name == "numpy":
                tracemalloc.start()
                e.run(e.epochs)
                mem = {"method": "tracemalloc peak"}
                mem["bytes"] = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            else:
                got = machine.peak_rss_delta(lambda e=e: e.run(e.epochs))
                mem = {"method": "peak RSS above start", "bytes": got}
                mem["stable_malloc"] = stable
            res = results[name]
            if mem["bytes"] is not None:
                data = 4 * res["n"] * (res["d"] + 1)
                mem["beyond_data_bytes"] = max(mem["bytes"] - data, 0)
                mem["per_nM4"] = mem["beyond_data_bytes"] / (
                    4 * res["n"] * res["models"]
                )
            if e.program is not None:
                mem["xla_temp_bytes"] = e.program.temp_bytes(e.epochs)
            row["memory"] = mem


def checks_passed(results: dict) -> bool:
    rows = [row for res in results.values() for row in res["contenders"].values()]
    return all(r["check"]["passed"] for r in rows) and all(
        r["full_job"]["check"]["passed"] for r in rows if "full_job" in r
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.report:
        return rebuild(args)
    start = time.perf_counter()
    have_torch = peers.torch_available() and (
        args.device == "cpu" or peers.torch_cuda_available()
    )
    all_workloads = build_workloads(
        args.quick,
        have_torch,
        peers.sklearn_available(),
        gpu=args.device == "gpu",
        large_sweep="S5" in (args.only or "").split(","),
    )
    workloads, groups = select(all_workloads, args.profile or args.only, args.quick)
    if workloads is None:
        return 2
    if args.profile:
        for wl in workloads:
            profile.profile(wl, args.jax_device)
        return 0
    out = header(args, have_torch)
    print("measuring the machine's limits ...", flush=True)
    out["machine"] = machine.machine_limits(workloads, args.jax_device, args.quick)
    results, entries = {}, {}
    for wl in workloads:
        results[wl.name], entries[wl.name] = run_workload(wl, args, out["machine"])
    out["extras"] = run_extras(args, workloads, everything=not args.only)
    if "U" in groups and peers.sklearn_available():
        out["userlevel"] = userlevel.userlevel(args.quick, args.repeats)
    memory_probes(results, entries)
    out["workloads"] = results
    out["targets"] = (
        targets.targets(results, out["extras"], out.get("userlevel"))
        if report.judged(out)
        else []
    )
    out["checks_passed"] = checks_passed(results) and all(
        a["passed"] for a in out["extras"].get("agreement", [])
    )
    out["wall_s"] = time.perf_counter() - start
    report.print_report(out)
    report.write(out, args.out, args.markdown)
    verdict = "passed" if out["checks_passed"] else "FAILED"
    print(f"\n{out['wall_s']:.0f} s; checks {verdict}")
    return 0 if out["checks_passed"] else 1


if __name__ == "__main__":
    sys.exit(main())

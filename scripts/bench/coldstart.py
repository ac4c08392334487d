"""Compile and start-up times, each measured in a fresh Python process.

- ``compile_S1`` / ``compile_S3``: the first ``train_many`` call of the stated
  job minus the second (the compile), with no persistent compilation cache
  (for S1 too it is ``train_many``, of one model);
- ``warm_cache``: with the persistent cache filled by an earlier process, a fresh
  process's first ``jaxperc.train`` call (S1's job) after import and data loading.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# argv: workload, quick (0/1), cache dir or "off"
_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import jaxperc as jp
import_s = time.perf_counter() - t0
from scripts.bench import workloads as W
name, quick, cache = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
if cache != "off":
    jp.enable_compilation_cache(cache)
wl = {w.name: w for w in W.build_workloads(quick, False, False)}[name]
p = wl.problem
w0, b0 = p.init
def call():
    if p.n_models == 1:
        return jp.train(p.x, p.y, learning_rate=float(p.learning_rate[0]),
                        max_epochs=wl.epochs, tol=0, init=jp.Params(w0[0], b0[0]))
    return jp.train_many(p.x, p.y, seed=p.seeds, learning_rate=p.learning_rate,
                         max_epochs=wl.epochs, tol=0, init=jp.Params(w0, b0))
times = []
for _ in range(2):
    t = time.perf_counter(); call(); times.append(time.perf_counter() - t)
print(json.dumps({"import_s": import_s, "first_s": times[0], "second_s": times[1]}))
"""


def child_env(**extra: str) -> dict:
    """The environment of a fresh process: jaxperc and this package importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    return {**env, **extra}


def child(workload: str, quick: bool, cache: str, use_train: bool = False) -> dict:
    """Run the probe in a fresh interpreter (no inherited compilation cache)."""
    env = child_env(JAXPERC_CACHE_DIR="off")
    code = _CHILD.replace("p.n_models == 1", str(use_train))
    done = subprocess.run(
        [sys.executable, "-c", code, workload, str(int(quick)), cache],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def compile_time(workload: str, quick: bool, repeats: int) -> dict:
    """First call minus second call of ``train_many``, fresh process, no cache."""
    runs = [child(workload, quick, "off") for _ in range(repeats)]
    compiles = [r["first_s"] - r["second_s"] for r in runs]
    return {"compile_s": statistics.median(compiles), "runs": runs}


def warm_cache_first_train(quick: bool, repeats: int) -> dict:
    """S1 with jp.train: fill a fresh cache once, then time fresh processes."""
    with tempfile.TemporaryDirectory() as cache:
        filled = child("S1", quick, cache, use_train=True)
        runs = [child("S1", quick, cache, use_train=True) for _ in range(repeats)]
    first = statistics.median(r["first_s"] for r in runs)
    return {
        "first_train_s": first,
        "import_s": statistics.median(r["import_s"] for r in runs),
        "cold_first_train_s": filled["first_s"],
        "runs": runs,
    }


def coldstart(quick: bool, repeats: int) -> dict:
    out = {f"compile_{w}": compile_time(w, quick, repeats) for w in ("S1", "S3")}
    out["quick"] = quick
    out["warm_cache"] = warm_cache_first_train(quick, repeats)
    print(
        "\n== fresh processes: compile S1 "
        f"{out['compile_S1']['compile_s']:.2f} s, S3 "
        f"{out['compile_S3']['compile_s']:.2f} s; cache warm, first train "
        f"{out['warm_cache']['first_train_s']:.3f} s",
        flush=True,
    )
    return out

"""Smoke test of ``scripts/bench.py --quick``: it runs, and every check passes.

PyTorch is hidden from the run (as it is absent in CI), so this also shows that its
contenders are skipped cleanly. Timings are not asserted: they depend on the machine.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "scripts" / "bench.py"

# Run the script as __main__ with `import torch` failing, whatever is installed.
WITHOUT_TORCH = """
import importlib.abc, runpy, sys

class NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, NoTorch())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "tmp.json"
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH, str(BENCH), "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done, out


@pytest.mark.slow
def test_quick_run_finishes_and_writes_json(quick_run):
    done, out = quick_run
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert out.exists()
    assert "Targets" in done.stdout


@pytest.mark.slow
def test_json_has_the_workloads_and_contenders(quick_run):
    _, out = quick_run
    results = json.loads(out.read_text())
    assert {"S1", "S2", "S3", "S4"} <= set(results["workloads"])
    for name in ("S1", "S2", "S3", "S4"):
        rows = results["workloads"][name]["contenders"]
        assert {"jaxperc", "minimal_jax", "numpy"} <= set(rows)
        assert rows["jaxperc"]["per_epoch_s"] > 0
    assert "loop" in results["workloads"]["S2"]["contenders"]
    assert results["machine"]["peak_matmul_flops"] > 0
    assert results["targets"], "the targets are listed"


@pytest.mark.slow
def test_every_correctness_check_passed(quick_run):
    _, out = quick_run
    results = json.loads(out.read_text())
    assert results["checks_passed"] is True
    for res in results["workloads"].values():
        for name, row in res["contenders"].items():
            assert row["check"]["passed"], (name, row["check"])
            assert row["check"]["max_rel_diff"] <= results["rtol"]


@pytest.mark.slow
def test_torch_contenders_are_skipped_when_torch_is_missing(quick_run):
    _, out = quick_run
    results = json.loads(out.read_text())
    assert results["torch"] is False
    for res in results["workloads"].values():
        assert not any(name.startswith("torch") for name in res["contenders"])

"""One sweep on 4 (fake) devices, across 2 processes, and in memory-sized passes."""

import logging
import socket
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

import jaxperc as jp
from jaxperc.training.sharding import models_per_pass

from .test_compile import counting_compiles

WORKER = Path(__file__).with_name("sharding_worker.py")
sys.path.insert(0, str(WORKER.parent))
from sharding_worker import sweep  # noqa: E402

# the test runs a fixed number of epochs with a tol set: the warning is expected
RUNS_OUT_OF_EPOCHS = pytest.mark.filterwarnings(
    "ignore::jaxperc.errors.NotConvergedWarning"
)


def single_device_result():
    x, y, kw = sweep()
    with jax.enable_x64(True):
        return jax.tree.map(np.asarray, jp.train_many(x, y, **kw))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_same_models(path, reference):
    got = np.load(path)
    np.testing.assert_array_equal(got["epochs"], reference.epochs)
    scale = np.abs(np.asarray(reference.params.w)).max()
    assert np.abs(got["w"] - reference.params.w).max() <= 1e-10 * scale  # float64
    return got


@RUNS_OUT_OF_EPOCHS
@pytest.mark.parametrize("shard_rows", ["0", "1"])
def test_sweep_on_four_devices_equals_one_device(tmp_path, shard_rows):
    out = tmp_path / "four.npz"
    subprocess.run(
        [sys.executable, str(WORKER), str(out), "devices", "4"],
        check=True,
        timeout=120,
        env={**_env(), "SHARD_ROWS": shard_rows},
    )
    got = assert_same_models(out, single_device_result())
    assert int(got["n_devices"]) == 4


def _env():
    import os

    return {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}


def _two_processes(out, *extra):
    port = free_port()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WORKER),
                str(out),
                "process",
                str(port),
                str(pid),
                "2",
                *extra,
            ],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for pid in (0, 1)
    ]
    try:
        return [p.wait(timeout=120) for p in procs]
    finally:
        for p in procs:
            p.kill()
            p.stdout.close()


@RUNS_OUT_OF_EPOCHS
def test_sweep_across_two_processes_equals_one_process(tmp_path):
    out = tmp_path / "two.npz"
    assert _two_processes(out) == [0, 0]
    got = assert_same_models(out, single_device_result())
    assert int(got["n_devices"]) == 2


def test_a_dead_process_makes_the_other_fail_not_hang(tmp_path):
    codes = _two_processes(tmp_path / "never.npz", "die")  # wait() bounds it: 120 s
    assert codes[1] == 3 and codes[0] != 0
    assert not (tmp_path / "never.npz").exists()


@RUNS_OUT_OF_EPOCHS
def test_small_memory_budget_runs_the_grid_in_passes(caplog):
    x, y, kw = sweep()
    reference = single_device_result()
    with jax.enable_x64(True), caplog.at_level(logging.INFO, logger="jaxperc"):
        chunked = jax.tree.map(
            np.asarray, jp.train_many(x, y, memory_budget=30_000, **kw)
        )
    assert "passes of" in caplog.text
    np.testing.assert_array_equal(chunked.epochs, reference.epochs)
    np.testing.assert_allclose(chunked.params.w, reference.params.w, rtol=1e-10)
    assert chunked.cost_history.shape == reference.cost_history.shape


def test_models_per_pass_picks_the_largest_power_of_two_that_fits():
    def need(k):
        return 1000 + 100 * k

    assert models_per_pass(need, 50, None) == 50
    assert models_per_pass(need, 50, 10_000) == 50
    assert models_per_pass(need, 50, 2_000) == 8  # 1000 + 100·8 ≤ 2000 < 1000 + 1600
    assert models_per_pass(need, 50, 500) == 1


def test_cli_run_across_two_processes_writes_one_folder(tmp_path):
    config = tmp_path / "tiny.toml"
    config.write_text(
        '[data]\nsource = "iris_2d"\n[train]\nmax_epochs = 50\ntol = 0.0\n'
        "[sweep]\nseed = [0, 1, 2]\n"
        f'[output]\ndir = "{tmp_path / "runs"}"\nplots = false\n'
    )
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "jaxperc",
        "run",
        str(config),
        "--quiet",
        "--no-cache",
        "--coordinator",
        f"127.0.0.1:{port}",
        "--num-processes",
        "2",
    ]
    procs = [
        subprocess.Popen(
            [*cmd, "--process-id", str(i)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in (0, 1)
    ]
    outs = [p.communicate(timeout=180)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    folders = list((tmp_path / "runs").iterdir())
    assert len(folders) == 1 and "run folder" in outs[0]
    assert "run folder" not in outs[1]  # only process 0 reports and writes
    two = np.load(folders[0] / "params.npz", allow_pickle=False)
    single = tmp_path / "single"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jaxperc",
            "run",
            str(config),
            "--quiet",
            "--no-cache",
            "--out",
            str(single),
        ],
        check=True,
        timeout=180,
        env=_env(),
        capture_output=True,
    )
    one = np.load(single / "params.npz", allow_pickle=False)
    np.testing.assert_allclose(two["w"], one["w"], rtol=1e-5)  # float32


def test_a_memory_budget_is_sized_once_per_shape():
    """Sizing a pass compiles the chunk to ask XLA; the same shapes again ask
    nothing (a warm call compiles nothing), other shapes are sized anew."""
    from jaxperc.training import passes

    x, y = np.ones((20, 3), np.float32), np.ones(20, np.float32)
    kw = dict(learning_rate=[0.1, 0.2], max_epochs=3, tol=0, memory_budget=10**9)
    jp.train_many(x, y, **kw)
    sized = len(passes._MEASURED)
    with counting_compiles() as again:
        jp.train_many(x, y, **kw)
    assert again == [] and len(passes._MEASURED) == sized
    jp.train_many(x[:, :2], y, **kw)
    assert len(passes._MEASURED) == sized + 1

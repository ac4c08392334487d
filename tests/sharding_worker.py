"""Runs one sweep for the sharding tests, in its own process.

usage: sharding_worker.py OUT.npz devices N
       sharding_worker.py OUT.npz process PORT PID NPROC [die]
"""

import os
import sys

out, mode = sys.argv[1], sys.argv[2]
if mode == "devices":
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={sys.argv[3]}"

import jax  # noqa: E402
import numpy as np  # noqa: E402

import jaxperc as jp  # noqa: E402
from jaxperc import distributed  # noqa: E402

jax.config.update("jax_enable_x64", True)
if mode == "process":
    port, pid, nproc = (int(a) for a in sys.argv[3:6])
    distributed.initialize(
        f"127.0.0.1:{port}", nproc, pid, timeout=30, heartbeat_timeout=5
    )
    if sys.argv[6:] == ["die"] and pid == 1:
        os._exit(3)


def sweep():
    """The sweep every test runs: 7 models (not a multiple of the device count)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5))
    y = (x[:, 0] + 0.3 * rng.normal(size=300) > 0).astype(float)
    kw = dict(
        seed=np.arange(7),
        learning_rate=np.geomspace(0.05, 3, 7),
        max_epochs=300,
        tol=1e-6,
        dtype="float64",
    )
    return x, y, kw


if __name__ == "__main__":
    x, y, kw = sweep()
    shard_rows = os.environ.get("SHARD_ROWS") == "1"
    r = jp.train_many(x, y, mesh=jp.model_mesh(), shard_rows=shard_rows, **kw)
    if distributed.is_writer():
        np.savez(
            out,
            w=np.asarray(r.params.w),
            b=np.asarray(r.params.b),
            epochs=r.epochs,
            n_devices=len(jax.devices()),
        )
    if mode == "process":
        jax.distributed.shutdown()

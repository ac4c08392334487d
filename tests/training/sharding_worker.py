"""Runs one sweep for the sharding tests, in its own process.

usage: sharding_worker.py OUT.npz devices N
       sharding_worker.py OUT.npz process PORT PID NPROC [die]

Importing this module (as the tests do, for ``sweep``) runs nothing and changes no
JAX setting.
"""

import os
import sys

import numpy as np


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


def main(out, mode, *args):
    if mode == "devices":  # must be set before JAX starts
        os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={args[0]}"
    import jax

    import jaxperc as jp
    from jaxperc import distributed

    jax.config.update("jax_enable_x64", True)
    if mode == "process":
        port, pid, nproc = (int(a) for a in args[:3])
        distributed.initialize(
            f"127.0.0.1:{port}", nproc, pid, timeout=30, heartbeat_timeout=5
        )
        if args[3:] == ("die",) and pid == 1:
            os._exit(3)
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


if __name__ == "__main__":
    main(*sys.argv[1:])

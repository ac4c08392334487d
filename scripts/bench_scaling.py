"""One sweep on 1, 2 and 4 (fake) devices and on 2 processes: time and throughput.

usage: python scripts/bench_scaling.py [--models 512] [--epochs 200]

Each setup runs in its own process (the device count is fixed when JAX starts).
Prints the table of docs/scaling.md.
"""

import argparse
import os
import socket
import subprocess
import sys
import time

import numpy as np


def worker(args) -> None:
    """Time the sweep in this process; process 0 prints one result line."""
    import jax

    import jaxperc as jp
    from jaxperc import distributed

    if args.port:
        distributed.initialize(f"127.0.0.1:{args.port}", 2, args.process_id)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.rows, args.features)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    m = args.models
    kw = dict(
        seed=np.arange(m),
        learning_rate=np.geomspace(1e-3, 3, m),
        max_epochs=args.epochs,
        tol=0,
        mesh="auto",
    )
    jp.train_many(x, y, **kw)  # compile
    times = []
    for _ in range(3):
        start = time.perf_counter()
        np.asarray(jp.train_many(x, y, **kw).cost)
        times.append(time.perf_counter() - start)
    if jax.process_index() == 0:
        t = float(np.median(times))
        print(f"RESULT {t:.3f} {m * args.epochs / t:.3g}", flush=True)
    if args.port:
        jax.distributed.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_setup(base, devices: int, processes: int) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    if devices > 1:
        env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    cmd = [sys.executable, __file__, "--worker", *base]
    if processes == 1:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        lines = out.stdout
    else:
        port = str(free_port())
        procs = [
            subprocess.Popen(
                [*cmd, "--port", port, "--process-id", str(i)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for i in range(processes)
        ]
        lines = procs[0].communicate(timeout=600)[0]
        for p in procs[1:]:
            p.wait(timeout=60)
    result = next(line for line in lines.splitlines() if line.startswith("RESULT"))
    _, seconds, rate = result.split()
    return float(seconds), float(rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=512)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--process-id", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    base = [
        "--models",
        str(args.models),
        "--epochs",
        str(args.epochs),
        "--rows",
        str(args.rows),
        "--features",
        str(args.features),
    ]
    print(
        f"{args.models} models, n = {args.rows}, d = {args.features}, "
        f"{args.epochs} epochs, float32, median of 3"
    )
    print("| setup | time | model-epochs / s |\n| --- | --- | --- |")
    for label, devices, processes in [
        ("1 device", 1, 1),
        ("2 fake devices, 1 process", 2, 1),
        ("4 fake devices, 1 process", 4, 1),
        ("2 processes × 1 device (gloo)", 1, 2),
    ]:
        seconds, rate = run_setup(base, devices, processes)
        print(f"| {label} | {seconds:.2f} s | {rate:.3g} |", flush=True)


if __name__ == "__main__":
    main()

"""The machine's limits, and the working memory of a run.

Sustained fp32 matrix-product rate (square, and at a workload's own shapes),
streaming bandwidth, the roofline time of an epoch, and peak-RSS probes.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time

import jax
import jax.numpy as jnp
import numpy as np


def _median_seconds(fn, repeats: int) -> float:
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def matmul_seconds(n, d, m, *, device=None, repeats=5, inner=4) -> dict:
    """Seconds for the two products of an epoch at its own shapes.

    Forward ``[n, d] × [d, M]`` and gradient ``[M, n] × [n, d]``, each run
    ``inner`` times inside one compiled loop (a loop-dependent shift keeps XLA from
    hoisting it; summing the forward product reads it once more).
    """
    keys = jax.random.split(jax.random.key(0), 3)
    with jax.default_device(device or jax.devices()[0]):  # drawn where they are used
        x, w, delta = (
            jax.random.normal(k, shape, jnp.float32)
            for k, shape in zip(keys, ((n, d), (d, m), (n, m)), strict=True)
        )

    @jax.jit
    def forward(x, w):
        body = lambda i, acc: acc + jnp.sum(x @ (w + i.astype(w.dtype)))  # noqa: E731
        return jax.lax.fori_loop(0, inner, body, jnp.float32(0))

    @jax.jit
    def backward(delta, x):
        def body(i, acc):
            return acc + delta.T @ (x + i.astype(x.dtype))

        return jax.lax.fori_loop(0, inner, body, jnp.zeros((m, d), x.dtype))

    fwd = _median_seconds(lambda: forward(x, w), repeats) / inner
    bwd = _median_seconds(lambda: backward(delta, x), repeats) / inner
    return {"forward_s": fwd, "gradient_s": bwd, "flops_each": 2.0 * n * d * m}


def peak_matmul_flops(*, device=None, size=2048, repeats=5) -> float:
    """Sustained fp32 FLOP/s of a square jitted matrix product (size³)."""
    put = (lambda a: a) if device is None else (lambda a: jax.device_put(a, device))
    a = put(jnp.asarray(np.random.default_rng(0).normal(size=(size, size)), "f4"))

    @jax.jit
    def prod(a):
        body = lambda i, acc: acc + a @ (acc * 1e-9 + a)  # noqa: E731
        return jax.lax.fori_loop(0, 4, body, jnp.zeros_like(a))

    return 4 * 2.0 * size**3 / _median_seconds(lambda: prod(a), repeats)


def stream_bandwidth(*, device=None, mib=256, repeats=5) -> dict:
    """Streaming memory bandwidth, bytes/s: a jitted sum (read) and a copy."""
    n = mib * 2**20 // 4
    host = np.ones(n, np.float32)
    big = jnp.asarray(host) if device is None else jax.device_put(host, device)
    total = jax.jit(jnp.sum)
    read = host.nbytes / _median_seconds(lambda: total(big), repeats)
    out = {"jax_sum_read": read}
    if device is None or device.platform == "cpu":
        dest = np.empty_like(host)
        copy = _median_seconds(lambda: np.copyto(dest, host), repeats)
        out["numpy_copy_read_write"] = 2 * host.nbytes / copy
    return out


def stable_malloc(threshold: int = 1 << 20) -> bool:
    """Make glibc hand large blocks straight back to the system, so RSS shows them.

    By default glibc raises its mmap threshold after a large free and then keeps
    freed blocks in the heap, which hides a second run's working memory.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    ok = libc.mallopt(m_mmap_threshold, threshold) == 1
    ok &= libc.mallopt(m_trim_threshold, threshold) == 1
    libc.malloc_trim(0)
    return bool(ok)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_delta(fn, interval: float = 2e-4) -> int | None:
    """Peak resident memory while ``fn()`` runs, above the level before it (bytes).

    A thread samples /proc/self/statm; Linux only (None elsewhere).
    """
    if not os.path.exists("/proc/self/statm"):
        return None
    base = _rss_bytes()
    peak = [base]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            time.sleep(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        fn()
    finally:
        done.set()
        thread.join()
    return max(peak[0], _rss_bytes()) - base


def machine_limits(workloads, device, quick: bool) -> dict:
    """Sustained matmul FLOP/s, stream bandwidth, and a roofline per workload.

    The roofline time of an epoch is the larger of 4·n·d·M flops at the best
    measured rate and 4·(2·n·M + 2·n·d) bytes (δ written and read once, x read
    twice) at the best bandwidth.
    """
    gpu = device is not None and device.platform == "gpu"
    peak = peak_matmul_flops(
        device=device, size=512 if quick else 8192 if gpu else 2048
    )
    bw = stream_bandwidth(device=device, mib=32 if quick else 4096 if gpu else 256)
    out = {"peak_matmul_flops": peak, "bandwidth": bw, "roofline": {}}
    shapes = {}
    for wl in workloads:
        n, d = wl.problem.x.shape
        m = wl.problem.n_models
        if (n, d, m) not in shapes:
            shapes[n, d, m] = matmul_seconds(n, d, m, device=device)
        mm = shapes[n, d, m]
        best = max(
            peak,
            mm["flops_each"] / mm["forward_s"],
            mm["flops_each"] / mm["gradient_s"],
        )
        flops, moved = 4.0 * n * d * m, 4.0 * (2 * n * m + 2 * n * d)
        compute_s, memory_s = flops / best, moved / max(bw.values())
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

"""Where an epoch's time goes: each compiled operation's time, from a trace.

``python scripts/bench --profile S4`` runs each JAX contender of a workload
(jaxperc, the plain and hand-blocked programs, the cost-recording one) once under
``jax.profiler.trace`` and prints, per contender, every XLA operation the trace
names (its HLO instruction: ``ynn_fusion.*`` are library products and row sums,
other ``*_fusion`` names XLA's own loops), with its calls and milliseconds per
epoch, largest first. Fixed costs of the call (the final evaluation, the loop's
set-up) are spread over the epochs like the timing tables do.
"""

from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple

import jax

from .contenders import BASELINES, LIKE_FOR_LIKE, make_entry
from .workloads import Workload

# an HLO instruction's name; the trace also holds Python frames ("$file:line"),
# runtime spans ("ThunkExecutor::Execute") and calls ("PjitFunction(run)")
_OPERATION = re.compile(r"^[A-Za-z_][\w.\-]*$")


class OpTime(NamedTuple):
    """One compiled operation's share of an epoch."""

    name: str
    calls_per_epoch: float
    ms_per_epoch: float


def operation_times(run, epochs: int) -> list[OpTime]:
    """Trace one ``run(epochs)`` (after a warm-up) → its operations, largest first."""
    run(epochs)  # compiled and warm: the trace holds one call's work only
    with tempfile.TemporaryDirectory() as folder:
        with jax.profiler.trace(folder):
            run(epochs)
        (path,) = Path(folder).rglob("*.xplane.pb")
        data = jax.profiler.ProfileData.from_file(str(path))
    calls, nanoseconds = defaultdict(int), defaultdict(float)
    for plane in data.planes:
        for line in plane.lines:
            for event in line.events:
                if _OPERATION.match(event.name):
                    calls[event.name] += 1
                    nanoseconds[event.name] += event.duration_ns
    ops = [
        OpTime(name, calls[name] / epochs, nanoseconds[name] / 1e6 / epochs)
        for name in calls
    ]
    return sorted(ops, key=lambda op: -op.ms_per_epoch)


def profile(wl: Workload, jax_device, top: int = 12) -> dict[str, list[OpTime]]:
    """Every JAX contender of ``wl`` → its operations; prints the largest ``top``."""
    names = [
        n
        for n in wl.contenders
        if n == "jaxperc" or n in BASELINES or n == LIKE_FOR_LIKE
    ]
    out = {}
    for name in names:
        entry = make_entry(name, wl, jax_device, "cpu")
        ops = operation_times(entry.run, entry.epochs)
        out[name] = ops
        total = sum(op.ms_per_epoch for op in ops)
        print(f"\n== {wl.name} {name}: {total:.3g} ms per epoch in {len(ops)} ops")
        print(f"  {'operation':36s} {'calls/epoch':>11s} {'ms/epoch':>9s} {'%':>5s}")
        for op in ops[:top]:
            share = 100 * op.ms_per_epoch / total if total else 0.0
            print(
                f"  {op.name:36s} {op.calls_per_epoch:11.3g} "
                f"{op.ms_per_epoch:9.3g} {share:5.1f}"
            )
    return out

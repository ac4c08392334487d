"""What the engine can represent: the allowed range of every numeric config key.

Epoch, step and patience counters are int32 inside the compiled loop, learning
rates and penalties are float32 by default, and the data and the grid must fit in
memory; a config outside these limits is refused before anything is allocated.
"""

import os
from typing import Any, NamedTuple

import numpy as np

from jaxperc.errors import JaxpercError

INT32_MAX = 2**31 - 1
FLOAT32_MAX = float(np.finfo(np.float32).max)
FLOAT32_TINY = float(np.finfo(np.float32).tiny)  # smaller rates round to 0
SEED_MAX = 2**63 - 1
GENERATED_MAX = 1e30  # margins and noise: standardising their squares stays finite
MAX_AXIS = 2**24  # values of one spaced sweep axis


class Rule(NamedTuple):
    """An allowed range ``[low, high]``; ``open_low``/``open_high`` leave out an end."""

    low: float
    high: float
    open_low: bool = False
    open_high: bool = False

    def holds(self, value: Any) -> bool:
        above = value > self.low if self.open_low else value >= self.low
        below = value < self.high if self.open_high else value <= self.high
        return bool(above and below)

    @property
    def text(self) -> str:
        left, right = "(["[not self.open_low], ")]"[not self.open_high]
        return f"use a value in {left}{_number(self.low)}, {_number(self.high)}{right}"


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:.4g}"


COUNT = Rule(1, INT32_MAX)
SEED = Rule(0, SEED_MAX)
RATE = Rule(FLOAT32_TINY, FLOAT32_MAX)
NONNEGATIVE = Rule(0, FLOAT32_MAX)
ANY_FINITE = Rule(-FLOAT32_MAX, FLOAT32_MAX)

RANGES: dict[tuple[str, str], Rule] = {
    ("data", "n_samples"): COUNT,
    ("data", "n_features"): COUNT,
    ("data", "margin"): Rule(0, GENERATED_MAX),
    ("data", "noise"): Rule(0, GENERATED_MAX),
    ("data", "seed"): SEED,
    ("data", "split_seed"): SEED,
    ("data", "test_fraction"): Rule(0, 1, open_high=True),
    ("data", "validation_fraction"): Rule(0, 1, open_high=True),
    ("model", "init_scale"): Rule(0, GENERATED_MAX),
    ("train", "learning_rate"): RATE,
    ("train", "seed"): SEED,
    ("train", "max_epochs"): COUNT,
    ("train", "tol"): NONNEGATIVE,
    ("train", "patience"): COUNT,
    ("train", "gtol"): NONNEGATIVE,
    ("train", "batch_size"): COUNT,
    ("train", "data_seed"): SEED,
    ("train", "l2"): NONNEGATIVE,
    ("output", "checkpoint_every"): Rule(0, 1e9, open_low=True),
    ("sweep", "fold"): Rule(2, 1_000_000),
    ("sweep", "bootstrap"): Rule(1, 1_000_000),
    ("sweep", "outer_fold"): Rule(2, 1_000_000),
}
AXIS_RANGES: dict[str, Rule] = {"seed": SEED, "learning_rate": RATE, "l2": NONNEGATIVE}


def memory_bytes() -> int:
    """The machine's physical memory (a large number where it cannot be read)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):  # pragma: no cover
        return 1 << 40


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def check_synthetic_size(d) -> None:
    """Refuse generated data that would not fit in memory (estimated, not tried).

    A generated set lives about four times: the float64 features, their
    standardised copy, the float32 copy on the device and the targets.
    """
    columns = (d.n_features if d.source == "blobs" else 2) + 2
    need = 4 * 8 * d.n_samples * columns
    have = memory_bytes()
    if need > have // 2:
        raise JaxpercError(
            f"{d.n_samples} samples need about {_gib(need)}, more than half of "
            f"this machine's {_gib(have)}; lower data.n_samples"
        )


def check_grid_size(sweep) -> None:
    """Refuse a sweep whose per-model arrays alone would not fit in memory."""
    m = 1
    for _, values in sweep.axes:
        m *= len(values)
    m *= sweep.fold or sweep.bootstrap or 1
    need = m * 8 * (len(sweep.axes) + 16)  # labels and per-model settings
    have = memory_bytes()
    if m > INT32_MAX or need > have // 4:
        raise JaxpercError(
            f"the grid has {m} models, about {_gib(need)} before training, more "
            f"than this machine's memory allows ({_gib(have)}); sweep fewer values"
        )

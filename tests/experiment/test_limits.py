"""Range rules: the limits the engine can represent, and how a config is refused."""

import numpy as np
import pytest

from jaxperc.errors import ConfigError, JaxpercError
from jaxperc.experiment import limits
from jaxperc.experiment.config import config_from_dict
from jaxperc.experiment.schema import DataConfig, SweepConfig


def test_closed_and_open_ends():
    closed = limits.Rule(0, 1)
    assert closed.holds(0) and closed.holds(1) and closed.holds(0.5)
    assert not closed.holds(-1e-12) and not closed.holds(1.0000001)
    half_open = limits.Rule(0, 1, open_high=True)
    assert half_open.holds(0) and not half_open.holds(1)
    low_open = limits.Rule(0, 1, open_low=True)
    assert not low_open.holds(0) and low_open.holds(1)
    assert not closed.holds(float("nan"))


def test_text_shows_the_interval_with_its_brackets():
    assert limits.Rule(0, 1, open_high=True).text == "use a value in [0, 1)"
    assert limits.Rule(2, 10, open_low=True).text == "use a value in (2, 10]"
    assert limits.COUNT.text == f"use a value in [1, {2**31 - 1}]"


def test_the_rate_rule_refuses_what_float32_rounds_to_zero_or_infinity():
    tiny = float(np.finfo(np.float32).tiny)
    assert limits.RATE.holds(tiny) and not limits.RATE.holds(tiny / 4)
    assert np.float32(tiny / 4) < tiny  # below it, float32 loses the rate
    assert not limits.RATE.holds(1e39)
    assert limits.RATE.holds(float(np.finfo(np.float32).max))


@pytest.mark.parametrize(
    "section, key, value",
    [("train", "max_epochs", 0), ("train", "max_epochs", 2**31),
     ("train", "learning_rate", 0.0), ("train", "tol", -1e-9),
     ("data", "test_fraction", 1.0), ("sweep", "fold", 1),
     ("output", "checkpoint_every", 0.0)],
)  # fmt: skip
def test_a_config_outside_a_rule_is_refused_naming_key_and_range(section, key, value):
    with pytest.raises(ConfigError) as info:
        config_from_dict({section: {key: value}}, path="exp.toml")
    message = str(info.value)
    assert message.startswith(f"exp.toml: {section}.{key}: ")
    assert "out of range" in message and "use a value in" in message
    assert "\n" not in message


def test_every_rule_holds_its_own_closed_ends():
    for (section, key), rule in limits.RANGES.items():
        assert rule.low < rule.high, (section, key)
        assert rule.holds(rule.low) != rule.open_low
        assert rule.holds(rule.high) != rule.open_high


def test_grid_and_data_sizes_beyond_memory_are_refused(monkeypatch):
    monkeypatch.setattr(limits, "memory_bytes", lambda: 1 << 30)  # a 1 GiB machine
    blobs = {"source": "blobs", "n_samples": 10**7}
    with pytest.raises(ConfigError) as info:
        config_from_dict({"data": blobs}, path="exp.toml")
    message = str(info.value)
    assert message.startswith("exp.toml: data.n_samples: ")
    assert "1.0 GiB" in message and "lower data.n_samples" in message
    small = DataConfig(source="blobs", n_samples=10**5)
    limits.check_synthetic_size(small)  # 4 copies × 8 bytes × 4 columns: 12.8 MB
    # 2e6 models × 8 bytes × 18 settings: 288 MB, over a quarter of 1 GiB
    axes = (("seed", tuple(range(1000))), ("learning_rate", (0.1,) * 2000))
    with pytest.raises(JaxpercError, match="the grid has 2000000 models"):
        limits.check_grid_size(SweepConfig(axes=axes))
    limits.check_grid_size(SweepConfig(axes=axes[:1]))

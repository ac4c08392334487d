"""The TOML writer: what it writes reads back the same, and a Config survives it."""

import math
import tomllib

import pytest

from jaxperc.experiment import tomlwrite
from jaxperc.experiment.config import config_from_dict, load_config, to_toml


def test_dumps_reads_back_with_tomllib():
    tables = {
        "a": {"s": 'quote " and \\ and é', "t": True, "f": False, "i": -3,
              "x": 0.1, "big": 1e300, "tiny": 5e-324, "l": [1, 2.5, "x"],
              "empty": [], "odd key": 1, "sub": {"k": 2}, "none": {}},
        "b.c": {"v": 1},
    }  # fmt: skip
    back = tomllib.loads(tomlwrite.dumps(tables))
    a = back["a"]
    assert a["s"] == 'quote " and \\ and é'
    assert (a["t"], a["f"], a["i"]) == (True, False, -3)
    assert a["x"] == 0.1 and a["big"] == 1e300 and a["tiny"] == 5e-324  # exact
    assert a["l"] == [1, 2.5, "x"] and a["empty"] == [] and a["odd key"] == 1
    assert a["sub"] == {"k": 2} and "none" not in a
    assert back["b"]["c"] == {"v": 1}


def test_non_finite_floats_round_trip():
    back = tomllib.loads(tomlwrite.dumps({"t": {"p": math.inf, "n": -math.inf,
                                                "q": math.nan}}))["t"]  # fmt: skip
    assert back["p"] == math.inf and back["n"] == -math.inf and math.isnan(back["q"])


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"data": {"source": "blobs", "n_samples": 50, "noise": 0.5,
                  "validation_fraction": 0.2},
         "model": {"activation": "sigmoid", "init": "zeros"},
         "train": {"optimizer": "sgd", "optimizer_kwargs": {"momentum": 0.8,
                   "nesterov": True}, "schedule": "cosine",
                   "schedule_kwargs": {"alpha": 0.1}, "tol": 0.0,
                   "batch_size": 16, "loss": "bce"},
         "sweep": {"learning_rate": [0.01, 0.1], "seed": [0, 1, 2]},
         "output": {"plots": False, "history": 5, "metric": "cost"}},
        {"data": {"source": "iris"}, "sweep": {"class": "all", "fold": 3}},
        {"data": {"source": "blobs"}, "sweep": {"bootstrap": 4}},
    ],
    ids=["defaults", "many-keys", "classes-folds", "bootstrap"],
)  # fmt: skip
def test_a_config_survives_to_toml_and_load(tmp_path, raw):
    config = config_from_dict(raw)
    path = tmp_path / "experiment.toml"
    path.write_text(to_toml(config))
    again = load_config(path)
    assert again == config  # every field of every section (the path aside)
    assert to_toml(again) == to_toml(config)

"""Config files: parsing, overrides, validation messages and the TOML round trip."""

import dataclasses
import re
import tomllib
from pathlib import Path

import pytest

import jaxperc
from jaxperc.experiment.config import (
    FLOAT_HPARAMS,
    Config,
    DataConfig,
    ModelConfig,
    OutputConfig,
    TrainConfig,
    apply_overrides,
    config_from_dict,
    load_config,
    parse_value,
    to_toml,
)

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "exp.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_defaults_and_types(tmp_path):
    cfg = load_config(write(tmp_path, "[train]\nlearning_rate = 1\n"))
    assert cfg.train.learning_rate == 1.0
    assert isinstance(cfg.train.learning_rate, float)
    assert cfg.data == DataConfig()
    assert cfg.model == ModelConfig()
    assert cfg.output == OutputConfig()
    assert cfg.name == "exp"


def test_overrides_are_typed_by_the_schema(tmp_path):
    path = write(tmp_path, "[data]\nsource = 'breast_cancer'\n")
    cfg = load_config(
        path,
        [
            "data.source=iris",  # bare string
            "data.positive=setosa",
            "train.max_epochs=7",
            "train.learning_rate=2",  # int → float
            "sweep.learning_rate=[0.01, 0.1]",
            "sweep.seed=[0,1,2]",
            "train.optimizer=sgd",
            "train.optimizer_kwargs.momentum=0.9",
        ],
    )
    assert cfg.data.source == "iris"
    assert cfg.data.positive == "setosa"
    assert cfg.train.max_epochs == 7
    assert cfg.train.learning_rate == 2.0
    assert dict(cfg.sweep.axes) == {"learning_rate": (0.01, 0.1), "seed": (0, 1, 2)}
    assert dict(cfg.train.optimizer_kwargs) == {"momentum": 0.9}


def test_parse_value():
    assert parse_value("0.5") == 0.5
    assert parse_value("[1, 2]") == [1, 2]
    assert parse_value("true") is True
    assert parse_value("adam") == "adam"
    assert parse_value('"quoted"') == "quoted"


def test_override_does_not_mutate_input():
    raw = {"train": {"learning_rate": 0.1}}
    new, touched = apply_overrides(raw, ["train.learning_rate=0.3"])
    assert raw["train"]["learning_rate"] == 0.1
    assert new["train"]["learning_rate"] == 0.3
    assert touched == {"train.learning_rate"}


def test_spaced_axis_values(tmp_path):
    cfg = load_config(
        write(
            tmp_path,
            "[sweep]\nlearning_rate = { start = 0.01, stop = 1.0, num = 3, log = true }"
            "\nseed = { start = 0, stop = 3, num = 4 }\n",
        )
    )
    axes = dict(cfg.sweep.axes)
    assert axes["learning_rate"] == pytest.approx((0.01, 0.1, 1.0), rel=1e-12)
    assert axes["seed"] == (0, 1, 2, 3)


BROKEN = [
    ("[train]\nlearnin_rate = 0.1\n", r"train\.learnin_rate: not a known key; "
     r"did you mean learning_rate\? \[train\] has loss, "),
    ("[trian]\nloss = 'mse'\n", r"\[trian\]: not a known table; did you mean "
     r"\[train\]"),
    ("[train]\nmax_epochs = 'many'\n",
     r"train\.max_epochs: 'many' must be an integer, not a string; "
     r"write e\.g\. max_epochs = 1000"),
    ("[train]\nmax_epochs = 0\n", r"train\.max_epochs: 0 is out of range; use a value "
     r"in \[1, 2147483647\]"),
    ("[train]\nmax_epochs = 3000000000\n", r"train\.max_epochs: 3000000000 is out of"),
    ("[train]\nlearning_rate = -1.0\n", r"train\.learning_rate: -1\.0 is out of range"),
    ("[train]\noptimizer = 'adamm'\n", r"train\.optimizer: 'adamm' is not known; "
     r"did you mean 'adam'\? use 'gd', "),
    ("[train]\nloss = 'mae'\n", r"train\.loss: 'mae' is not known"),
    ("[model]\nactivation = 'sigmod'\n", r"model\.activation: 'sigmod' is not known; "
     r"did you mean 'sigmoid'"),
    ("[data]\nsource = 'iris_setosaa'\n", r"data\.source: 'iris_setosaa' is neither"),
    ("[train]\nschedule = 'cosin'\n", r"train\.schedule: 'cosin' is not known"),
    ("[train]\ndtype = 'float16'\n", r"train\.dtype: 'float16' is not known"),
    ("[data]\ntest_fraction = 1.5\n", r"data\.test_fraction: 1\.5 is out of range; "
     r"use a value in \[0, 1\)"),
    ("[sweep]\nfold = 1\n", r"sweep\.fold: 1 is out of range"),
    ("[sweep]\nsed = [1]\n", r"sweep\.sed: not a known key; did you mean seed\?"),
    ("[sweep]\nfold = 3\nbootstrap = 4\n", r"sweep\.bootstrap: a grid can sweep fold "
     r"or resample, not both"),
    ("[sweep]\nlearning_rate = [0.1, -1.0]\n", r"sweep\.learning_rate: holds -1\.0"),
    ("[model]\nactivation = 'step'\n[train]\nloss = 'bce'\n",
     r"train\.loss: loss='bce' needs activation='sigmoid'"),
    ("[output]\nmetric = 'test_accuracy'\n",
     r"output\.metric: 'test_accuracy' would choose the best model by the rows that "
     r"report its accuracy; use 'validation_accuracy'"),
    ("[output]\nmetric = 'validation_accuracy'\n",
     r"output\.metric: 'validation_accuracy' needs validation rows"),
    ("[data]\nvalidation_fraction = 1.0\n",
     r"data\.validation_fraction: 1\.0 is out of range; use a value in \[0, 1\)"),
    ("[data]\nvalidation_fraction = 0.2\n[sweep]\nfold = 3\n",
     r"data\.validation_fraction: cannot be combined with sweep\.fold"),
    ("[sweep]\nouter_fold = 3\n", r"sweep\.outer_fold: needs sweep\.fold"),
    ("[sweep]\nfold = 3\nouter_fold = 3\n",
     r"sweep\.outer_fold: tests on its outer folds: set data\.test_fraction = 0"),
    ("[train]\noptimizer_kwargs = { momentum = 0.9 }\n",
     r"train\.optimizer_kwargs\.momentum: optimizer 'gd' takes no arguments"),
    ("[train]\noptimizer = 'adam'\noptimizer_kwargs = { bogus = 1 }\n",
     r"train\.optimizer_kwargs\.bogus: optimizer 'adam' has no option 'bogus'; "
     r"its options are 'b1', "),
    ("[train]\noptimizer = 'adam'\noptimizer_kwargs = { nesterov = 1 }\n",
     r"train\.optimizer_kwargs\.nesterov: option 'nesterov' of optimizer 'adam' "
     r"must be true or false"),
    ("[train]\nschedule = 'cosine'\nschedule_kwargs = { decay_step = 10 }\n",
     r"train\.schedule_kwargs\.decay_step: schedule 'cosine' has no option "
     r"'decay_step'; did you mean 'decay_steps'"),
    ("[train]\noptimizer = 'lbfgs'\n[sweep]\nlearning_rate = [0.1, 1.0]\n",
     r"sweep\.learning_rate: optimizer 'lbfgs' chooses its own step"),
    ("[sweep]\nb1 = [0.9]\n", r"sweep\.b1: optimizer 'gd' takes no arguments"),
    ("[data]\nsource = 'blobs'\nn_samples = 2000000000\nn_features = 1000\n",
     r"data\.n_samples: 2000000000 samples need about"),
    ("[sweep]\nseed = { start = 0, stop = 1, num = 100000000 }\n",
     r"sweep\.seed\.num: 100000000 must be an integer in 1\.\.16777216"),
    ("[data]\ntarget = 'label'\n", r"data\.target: only applies to CSV files"),
    ("[train\nloss = 1\n", r"not valid TOML"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "pattern"), BROKEN)
def test_broken_configs_raise_one_line_naming_file_and_key(tmp_path, text, pattern):
    path = write(tmp_path, text, "x.toml")
    with pytest.raises(jaxperc.ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert re.search(pattern, message), message


def test_bad_override_is_named_as_set(tmp_path):
    path = write(tmp_path, "")
    with pytest.raises(jaxperc.ConfigError) as info:
        load_config(path, ["train.learnin_rate=0.1"])
    assert str(info.value).startswith(f"{path}: --set train.learnin_rate: not a known")
    with pytest.raises(jaxperc.ConfigError, match=r"section\.key=value"):
        load_config(path, ["learning_rate"])
    with pytest.raises(jaxperc.ConfigError, match="did you mean 'train'"):
        load_config(path, ["trian.loss=mse"])


def test_missing_file():
    with pytest.raises(jaxperc.ConfigError, match="no such config file"):
        load_config("/nonexistent/x.toml")


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.toml")), ids=str)
def test_toml_round_trip_of_every_shipped_config(path):
    cfg = load_config(path)
    again = config_from_dict(tomllib.loads(to_toml(cfg)), path=str(path))
    assert again == cfg


def test_round_trip_keeps_tables_and_special_values():
    cfg = Config(
        train=TrainConfig(
            optimizer="sgd",
            optimizer_kwargs=(("momentum", 0.5), ("nesterov", True)),
            schedule="cosine",
            schedule_kwargs=(("alpha", 0.1),),
            tol=1e-12,
            batch_size=16,
        ),
        data=DataConfig(features=("mean radius", "mean texture"), positive="benign"),
    )
    again = config_from_dict(tomllib.loads(to_toml(cfg)))
    assert again == dataclasses.replace(cfg, name="experiment")


def test_every_key_is_documented():
    doc = (ROOT / "docs" / "configs.md").read_text()
    sections = {
        "data": DataConfig,
        "model": ModelConfig,
        "train": TrainConfig,
        "output": OutputConfig,
    }
    keys = [
        f"{s}.{f.name}" for s, cls in sections.items() for f in dataclasses.fields(cls)
    ]
    keys += [f"sweep.{k}" for k in ("seed", "learning_rate", "l2", "fold")]
    keys += [f"sweep.{k}" for k in ("bootstrap", "class", *FLOAT_HPARAMS)]
    missing = [k for k in keys if f"`{k}`" not in doc]
    assert not missing, f"undocumented keys: {missing}"

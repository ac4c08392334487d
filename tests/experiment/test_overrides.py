"""``--set section.key=value``: values read as TOML, strings kept, bad keys refused."""

import pytest

from jaxperc.errors import ConfigError
from jaxperc.experiment.config import config_from_dict
from jaxperc.experiment.overrides import apply_overrides, parse_value


@pytest.mark.parametrize(
    "text, value",
    [("0.5", 0.5), ("3", 3), ("true", True), ("[1, 2]", [1, 2]), ('"a b"', "a b"),
     ("adam", "adam"), ("1e-3", 1e-3), ("inf", float("inf")), ("[", "[")],
)  # fmt: skip
def test_parse_value_reads_toml_else_the_bare_text(text, value):
    got = parse_value(text)
    assert got == value and type(got) is type(value)


def test_overrides_set_values_in_a_copy_and_report_the_keys():
    raw = {"train": {"learning_rate": 0.1}, "data": {"source": "iris"}}
    new, touched = apply_overrides(
        raw, ["train.learning_rate=0.5", " sweep.seed = [0, 1] ", "model.init=zeros"]
    )
    assert raw == {"train": {"learning_rate": 0.1}, "data": {"source": "iris"}}
    assert new["train"]["learning_rate"] == 0.5
    assert new["sweep"]["seed"] == [0, 1] and new["model"]["init"] == "zeros"
    assert touched == {"train.learning_rate", "sweep.seed", "model.init"}


def test_a_nested_key_makes_its_sub_table():
    new, _ = apply_overrides({}, ["train.optimizer_kwargs.momentum=0.9"])
    assert new == {"train": {"optimizer_kwargs": {"momentum": 0.9}}}


def test_a_string_key_keeps_its_text_as_written():
    new, _ = apply_overrides({}, ["data.positive=1", "train.optimizer=true"])
    assert new["data"]["positive"] == "1" and new["train"]["optimizer"] == "true"
    new, _ = apply_overrides({}, ["train.max_epochs=10"])  # an int key is parsed
    assert new["train"]["max_epochs"] == 10


def test_the_result_validates_as_a_config():
    raw, touched = apply_overrides({}, ["train.optimizer=adam", "train.tol=0"])
    config = config_from_dict(raw, overridden=touched)
    assert config.train.optimizer == "adam" and config.train.tol == 0.0


@pytest.mark.parametrize(
    "item, match",
    [
        ("train.learning_rate", "not of the form section.key=value"),
        ("learning_rate=0.1", "not of the form section.key=value"),
        ("train..tol=1", "not of the form section.key=value"),
        ("trian.tol=1", "no such table; did you mean 'train'"),
    ],
)
def test_malformed_overrides_are_refused_in_one_line(item, match):
    with pytest.raises(ConfigError, match=match) as info:
        apply_overrides({}, [item], path="exp.toml")
    message = str(info.value)
    assert message.startswith("exp.toml: --set ") and "\n" not in message


def test_setting_inside_a_value_that_is_not_a_table_is_refused():
    raw = {"train": {"optimizer_kwargs": 3}}
    with pytest.raises(ConfigError, match=r"train\.optimizer_kwargs is not a table"):
        apply_overrides(raw, ["train.optimizer_kwargs.momentum=0.9"])

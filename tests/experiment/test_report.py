"""The plain-text report of a run: ranked models, and which rows each number is on."""

import pytest

from jaxperc.experiment.config import config_from_dict
from jaxperc.experiment.report import format_summary, interval_text, table
from jaxperc.experiment.run import run_experiment

DATA = {"source": "blobs", "n_samples": 60, "test_fraction": 0.25}
TRAIN = {"max_epochs": 30, "tol": 0.0}


def _run(tmp_path_factory, name, data, sweep):
    raw = {"data": {**DATA, **data}, "train": TRAIN, "sweep": sweep,
           "output": {"plots": False}}  # fmt: skip
    out = run_experiment(config_from_dict(raw), tmp_path_factory.mktemp(name) / "r")
    return out.summary


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    """4 models (2 rates × 2 seeds) with validation and test rows."""
    sweep = {"learning_rate": [0.01, 1.0], "seed": [0, 1]}
    return _run(tmp_path_factory, "val", {"validation_fraction": 0.25}, sweep)


@pytest.fixture(scope="module")
def unvalidated(tmp_path_factory):
    """2 models with neither validation nor test rows: chosen by training cost."""
    sweep = {"learning_rate": [0.01, 1.0]}
    return _run(tmp_path_factory, "plain", {"test_fraction": 0.0}, sweep)


def test_the_report_says_which_rows_validation_and_test_numbers_are_on(validated):
    text = format_summary(validated)
    rows = validated["rows"]
    assert "validation_fraction split" in rows["validation"]
    assert f"rows: validation = {rows['validation']}" in text.splitlines()
    assert f"its test accuracy ({rows['test']}):" in text
    assert "never used to choose" in rows["test"]


def test_without_validation_rows_the_report_says_so_and_ranks_by_cost(unvalidated):
    text = format_summary(unvalidated)
    assert unvalidated["metric"] == "cost"
    assert "rows: validation = none" in text
    header = text.splitlines()[1].split()
    assert "cost" in header and "val_acc" not in header and "test_acc" not in header


def _table_rows(text: str, count: int) -> list[list[str]]:
    return [line.split() for line in text.splitlines()[2 : 2 + count]]


def test_models_are_ranked_by_the_metric_and_cut_at_top(validated):
    models = validated["models"]
    text = format_summary(validated, top=2)
    assert text.splitlines()[0] == "best 2 of 4 models by validation_accuracy:"
    shown = [int(r[0]) for r in _table_rows(text, 2)]
    ranked = sorted(models, key=lambda m: (-m["validation_accuracy"], m["cost"]))
    assert shown == [m["model"] for m in ranked[:2]]
    assert text.splitlines()[4] == ""  # the table ends after 2 models


def test_unconverged_models_are_marked(validated):
    """tol = 0 here, so max_epochs is the plan; with a stopping rule set it is not."""
    assert validated["fixed_epochs"]
    planned = format_summary(validated)
    assert "!" not in " ".join(" ".join(r) for r in _table_rows(planned, 4))
    assert "stops: max_epochs 4" in planned and "max_epochs 4 !" not in planned
    text = format_summary({**validated, "fixed_epochs": False})
    rows = _table_rows(text, 4)
    n_max = sum(m["stop_reason"] == "max_epochs" for m in validated["models"])
    assert sum(r[-2:] == ["max_epochs", "!"] for r in rows) == n_max == 4
    assert f"stops: max_epochs {n_max} !" in text


def test_the_best_model_line_matches_the_summary(validated):
    best = validated["best"]
    line = next(x for x in format_summary(validated).splitlines()
                if x.startswith("best model:"))  # fmt: skip
    assert line.startswith(f"best model: {best['model']}, validation_accuracy ")
    assert f"{best['epochs']} epochs" in line


def test_interval_and_table_formatting():
    assert interval_text({"mean": None}) == "-"
    assert interval_text({"mean": 0.123456, "low": None}) == "0.1235"
    assert interval_text({"mean": 0.5, "low": 0.25, "high": 0.75}) == "0.5 [0.25, 0.75]"
    text = table([["a", 1.0, None], ["bb", 22, 0.5]], ["name", "x", "y"])
    lines = text.splitlines()
    assert lines[0] == "name   x    y"
    assert lines[1] == "a      1    -"  # text left, numbers right, None as "-"
    assert lines[2] == "bb    22  0.5"

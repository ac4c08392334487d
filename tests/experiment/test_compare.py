"""``jaxperc compare``: the settings that differ and the best model of each run."""

import csv
import io

import pytest

from jaxperc.experiment.compare import (
    Comparison,
    as_csv,
    as_markdown,
    as_text,
    compare_runs,
)
from jaxperc.experiment.config import config_from_dict
from jaxperc.experiment.run import run_experiment
from jaxperc.experiment.runs import load_run


def _raw(learning_rate):
    return {
        "data": {"source": "blobs", "n_samples": 40, "test_fraction": 0.25},
        "train": {"max_epochs": 20, "tol": 0.0, "learning_rate": learning_rate},
        "output": {"plots": False},
    }


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    paths = []
    for name, rate in (("slow", 0.01), ("fast", 1.0)):
        out = run_experiment(config_from_dict(_raw(rate)), base / name)
        paths.append(out.run_dir)
    return [load_run(p) for p in paths]


def _rows(c) -> dict[str, list[str]]:
    return {r[0]: r[1:] for r in c.rows}


def test_only_the_settings_that_differ_are_listed(two_runs):
    c = compare_runs(two_runs)
    assert c.header == ["", two_runs[0].path.name, two_runs[1].path.name]
    settings = [r[0] for r in c.rows if "." in r[0]]
    assert settings == ["train.learning_rate"]
    assert _rows(c)["train.learning_rate"] == ["0.01", "1"]


def test_one_run_lists_every_setting(two_runs):
    rows = _rows(compare_runs(two_runs[:1]))
    assert rows["data.source"] == ["blobs"] and rows["train.max_epochs"] == ["20"]
    assert rows["train.tol"] == ["0"] and rows["output.plots"] == ["false"]


def test_the_metrics_are_the_best_models_of_each_summary(two_runs):
    rows = _rows(compare_runs(two_runs))
    for i, run in enumerate(two_runs):
        best = run.summary["best"]
        assert rows["models"][i] == "1" and rows["metric"][i] == run.summary["metric"]
        assert rows["best cost"][i] == f"{best['cost']:.4g}"
        assert rows["best epochs"][i] == "20" and rows["best stop"][i] == "max_epochs"
        assert rows["status"][i] == "completed"
    # the fast learner reached a lower cost in the same 20 epochs
    slow, fast = (float(v) for v in rows["best cost"])
    assert fast < slow


def test_runs_with_the_same_folder_name_are_told_apart_by_path(two_runs):
    c = compare_runs([two_runs[0], two_runs[0]])
    assert c.header[1] == c.header[2] == str(two_runs[0].path)


def test_csv_and_markdown_hold_the_same_cells(two_runs):
    c = compare_runs(two_runs)
    parsed = list(csv.reader(io.StringIO(as_csv(c))))
    assert parsed[0] == ["setting", *c.header[1:]] and parsed[1:] == c.rows
    lines = as_markdown(c).splitlines()
    assert lines[0].startswith("| setting |") and set(lines[1]) <= set("|- ")
    assert len(lines) == 2 + len(c.rows)
    assert lines[2] == "| " + " | ".join(c.rows[0]) + " |"
    text = as_text(c).splitlines()
    assert len(text) == 1 + len(c.rows)
    assert text[1].split() == c.rows[0]


def test_markdown_escapes_pipes_in_cells():
    c = Comparison(["", "a|b"], [["data.delimiter", "|"]])
    assert as_markdown(c).splitlines()[2] == "| data.delimiter | \\| |"

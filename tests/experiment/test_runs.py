"""load_run: a finished run folder back in Python, predicting as the run did."""

import os
import stat

import numpy as np
import pandas as pd
import pytest

import jaxperc
from jaxperc.experiment.compare import as_markdown, compare_runs
from jaxperc.experiment.config import config_from_dict
from jaxperc.experiment.run import run_experiment

OVR = {
    "data": {"source": "iris", "test_fraction": 0.3},
    "train": {"loss": "bce", "optimizer": "adam", "learning_rate": 0.1,
              "max_epochs": 150},
    "sweep": {"class": "all", "seed": [0, 1]},
    "output": {"plots": False},
}  # fmt: skip


@pytest.fixture(scope="module")
def ovr_run(tmp_path_factory):
    config = config_from_dict(OVR, path="ovr.toml")
    return run_experiment(config, tmp_path_factory.mktemp("runs") / "ovr")


def test_load_run_gives_config_summary_history_params(ovr_run):
    run = jaxperc.load_run(ovr_run.run_dir)
    assert run.config.sweep.classes == "all" and run.n_models == 6
    assert run.summary == ovr_run.summary
    assert run.best == ovr_run.summary["best"]["model"]
    assert isinstance(run.history, pd.DataFrame)
    assert set(run.history.model) == set(range(6))
    assert run.is_one_vs_rest
    (std,) = run.standardizers
    np.testing.assert_array_equal(std.mean, ovr_run.problem.standardizer_of(0).mean)


def test_predictions_match_the_training_outputs(ovr_run):
    run = jaxperc.load_run(ovr_run.run_dir)
    problem = ovr_run.problem
    raw = problem.dataset.x[problem.test_idx]
    z_train = problem.x[problem.test_idx].astype(np.float32)
    w, b = np.asarray(ovr_run.result.params.w), np.asarray(ovr_run.result.params.b)
    for m in (0, 5):
        expected = z_train @ w[m] + b[m]
        np.testing.assert_allclose(
            run.decision_function(raw, model=m), expected, rtol=1e-5, atol=1e-5
        )  # float32 parameters; standardising in float64 here
        prob = run.predict_proba(raw, model=m)
        np.testing.assert_allclose(prob, 1 / (1 + np.exp(-expected)), rtol=1e-5)
    sel = run.select()  # default on one-vs-rest: the best model's set
    assert sel.columns == ("setosa", "versicolor", "virginica") and not sel.one_model
    assert run.best in sel.models
    pred = run.predict(raw)
    z = run.decision_function(raw)
    assert z.shape == (len(raw), 3)
    np.testing.assert_array_equal(pred, np.asarray(sel.columns)[z.argmax(1)])
    truth = np.asarray(problem.dataset.classes)[problem.dataset.y[problem.test_idx]]
    sets = run.summary["one_vs_rest"]["sets"]
    assert np.mean(pred == truth) in [pytest.approx(s["test_accuracy"]) for s in sets]
    frame = pd.DataFrame(raw[:, ::-1], columns=run.feature_names[::-1])
    np.testing.assert_array_equal(run.predict(frame), pred)  # columns by name
    with pytest.raises(jaxperc.JaxpercError, match=r"model index in 0\.\.5"):
        run.predict(raw, model=6)


def test_to_estimator_predicts_like_the_run(ovr_run):
    pytest.importorskip("sklearn")
    run = jaxperc.load_run(ovr_run.run_dir)
    raw = ovr_run.problem.dataset.x
    est = run.to_estimator()
    np.testing.assert_array_equal(est.predict(raw), run.predict(raw))
    one = run.to_estimator(model=2)
    assert list(one.classes_) == ["not virginica", "virginica"]
    np.testing.assert_array_equal(one.predict(raw), run.predict(raw, model=2))
    assert one.loss_curve_.ndim == 1 and one.loss_curve_.size >= 100


def test_per_fold_standardizers_are_picked_per_model(ovr_run, tmp_path):
    import dataclasses

    run = jaxperc.load_run(ovr_run.run_dir)
    params = dict(run.params)
    mean, scale = params["mean"].reshape(-1), params["scale"].reshape(-1)  # one row
    params["mean"] = np.stack([mean, mean + 1.0])  # [F, d]
    params["scale"] = np.stack([scale, 2 * scale])
    params["standardizer_index"] = np.array([0, 1, 0, 1, 0, 1])
    per_fold = dataclasses.replace(run, params=params)
    x = ovr_run.problem.dataset.x[:5]
    assert len(per_fold.standardizers) == 2
    np.testing.assert_allclose(
        per_fold.decision_function(x, model=0), run.decision_function(x, model=0)
    )
    shifted = (x - params["mean"][1]) / params["scale"][1]
    np.testing.assert_allclose(
        per_fold.decision_function(x, model=1),
        shifted.astype(np.float32) @ params["w"][1] + params["b"][1],
        rtol=1e-5,
    )


def test_compare_lists_differing_settings_and_metrics(ovr_run, tmp_path):
    other = config_from_dict(
        {**OVR, "train": {**OVR["train"], "learning_rate": 0.05, "max_epochs": 20}}
    )
    second = run_experiment(other, tmp_path / "slow")
    runs = [jaxperc.load_run(ovr_run.run_dir), jaxperc.load_run(second.run_dir)]
    table = compare_runs(runs)
    names = [r[0] for r in table.rows]
    assert "train.learning_rate" in names and "train.max_epochs" in names
    assert "train.loss" not in names  # the same in both
    assert "best test_accuracy" in names and "one-vs-rest accuracy" in names
    md = as_markdown(table)
    assert md.startswith("| setting | ovr | slow |\n| --- | --- | --- |\n")


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_run_files_follow_the_umask(tmp_path, mask):
    config = config_from_dict(
        {"data": {"source": "blobs", "n_samples": 40}, "train": {"max_epochs": 5},
         "output": {"plots": False}}
    )  # fmt: skip
    old = os.umask(mask)
    try:
        out = run_experiment(config, tmp_path / "run")
    finally:
        os.umask(old)
    files = [p for p in out.run_dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"params.npz", "summary.json", "metrics.csv"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path
    assert not [p for p in files if p.name.endswith(".tmp")]

"""Three roles for rows: selection never sees test rows; preprocessing per fold;
nested cross-validation in one program; predict uses each model's own standardizer.
"""

import numpy as np
import pytest

import jaxperc
from jaxperc.cli import main
from jaxperc.experiment import nested, roles
from jaxperc.experiment.config import config_from_dict
from jaxperc.experiment.problem import prepare
from jaxperc.experiment.report import format_summary
from jaxperc.experiment.run import run_experiment

BLOBS = {"source": "blobs", "n_samples": 120, "noise": 1.0}
ADAM = {"loss": "bce", "optimizer": "adam", "learning_rate": 0.1, "max_epochs": 80}


def test_validation_split_is_a_weight_column_and_chooses(tmp_path):
    config = config_from_dict(
        {
            "data": {**BLOBS, "validation_fraction": 0.25},
            "train": ADAM,
            "sweep": {"seed": [0, 1], "learning_rate": [0.01, 1.0]},
            "output": {"plots": False},
        }
    )
    problem = prepare(config)
    w = problem.weights
    assert w.shape == (len(problem.train_idx), 1)  # one column, no copied rows
    assert set(np.unique(w)) == {0.0, 1.0} and (w == 0).sum() == 23  # ceil(90/4)
    std = problem.standardizer_of(0)  # fitted on the fitted rows only
    np.testing.assert_allclose(
        std.mean, problem.x[problem.train_idx][w[:, 0] > 0].mean(0)
    )
    out = run_experiment(config, tmp_path / "run")
    s = out.summary
    assert s["metric"] == "validation_accuracy" and "validation" in s["rows"]
    by_val = max(s["models"], key=lambda m: (m["validation_accuracy"], -m["cost"]))
    assert s["best"]["model"] == by_val["model"]
    assert s["comparison"]["over"] == ["seed"]
    assert s["comparison"]["test"] == "paired_t"
    text = format_summary(s)
    assert (
        "val_acc" in text and "vs runner-up" in text and "never used to choose" in text
    )


def test_unconverged_models_are_marked_and_counted(tmp_path):
    config = config_from_dict(
        {"data": BLOBS, "train": {**ADAM, "max_epochs": 5}, "output": {"plots": False}}
    )
    out = run_experiment(config, tmp_path / "run")
    assert out.summary["stops"] == {"max_epochs": 1}
    text = format_summary(out.summary)
    assert "max_epochs !" in text and "stops: max_epochs 1 !" in text
    assert any("chosen by training cost" in n for n in out.summary["notes"])


def test_bootstrap_validates_on_out_of_bag_rows():
    config = config_from_dict({"data": BLOBS, "train": ADAM, "sweep": {"bootstrap": 3}})
    problem = prepare(config)
    r = problem.roles
    assert r.source == "out-of-bag"
    np.testing.assert_array_equal(r.validation, problem.weights == 0)
    counts = problem.weights[:, 1]
    x = problem.x[problem.train_idx]  # raw: each resample has its own standardizer
    mean = (counts @ x) / counts.sum()
    np.testing.assert_allclose(problem.standardizer_of(1).mean, mean, rtol=1e-12)


def test_nested_columns_keep_outer_test_rows_out_of_every_inner_fit():
    y = np.repeat([0, 1], 30)
    cols = nested.nested_columns(y, 3, 4, seed=1)
    r = cols.roles
    assert r.weights.shape == (60, 3 * 5)
    for o in range(3):
        mine = cols.outer_of == o
        test = r.test[:, mine & (cols.inner_of == nested.REFIT)][:, 0]
        assert test.sum() == 20
        assert not (r.weights[test][:, mine] > 0).any()  # never fitted in outer o
        assert not r.validation[test][:, mine].any()  # nor used to choose
        inner = mine & (cols.inner_of != nested.REFIT)
        np.testing.assert_array_equal(r.validation[:, inner].sum(1), ~test)


@pytest.mark.filterwarnings("ignore::jaxperc.errors.NotConvergedWarning")
def test_nested_cv_python_api_chooses_inside_and_estimates_outside():
    ds = jaxperc.data.load_dataset("breast_cancer")
    options = jaxperc.training.TrainOptions(
        loss="bce", optimizer="adam", max_epochs=100, tol=1e-5
    )
    got = nested.nested_cv(
        ds.x, ds.y, {"learning_rate": [0.001, 0.1]}, options, outer=3, inner=3
    )
    assert got.result.params.w.shape == (2 * 3 * 4, 30)  # grid × outer × (inner + 1)
    assert len(got.selected) == 3 and got.outer_accuracy.shape == (3,)
    assert got.estimate.mean == pytest.approx(got.outer_accuracy.mean())
    assert got.estimate.method == "corrected_t" and got.estimate.low < got.estimate.mean
    for o, chosen in enumerate(got.selected):
        best = int(np.argmax(got.inner_accuracy[o]))
        assert chosen == got.settings[best]
    assert 0.9 < got.estimate.mean <= 1.0


def test_predict_uses_the_models_own_standardizer(tmp_path, capsys):
    config = config_from_dict(
        {
            "data": {**BLOBS, "test_fraction": 0.0},
            "train": ADAM,
            "sweep": {"fold": 3},
            "output": {"plots": False},
        }
    )
    out = run_experiment(config, tmp_path / "run")
    saved = jaxperc.experiment.rundir.read_params(out.run_dir)
    assert saved["mean"].shape == (3, 2) and list(saved["standardizer_index"]) == [
        0,
        1,
        2,
    ]
    assert "standardizer_index" in str(saved["coordinates"])
    x = out.problem.dataset.x
    rows = tmp_path / "new.csv"
    np.savetxt(rows, x[:5], delimiter=",", header="x1,x2", comments="")
    capsys.readouterr()
    assert (
        main(["predict", str(out.run_dir), "--input", str(rows), "--model", "2"]) == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()[1:]
    z = (x[:5] - saved["mean"][2]) / saved["scale"][2]
    p = jaxperc.Params(saved["w"][2], saved["b"][2])
    expected = np.asarray(jaxperc.core.forward(p, z.astype(np.float32)))
    got = np.array([float(line.split(",")[1]) for line in lines])
    np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_roles_ratio_is_validation_over_fitted_rows():
    w = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 1.0]])
    assert roles.plain_roles(w, "fold").ratio() == pytest.approx(1 / 3)

"""run_experiment on tiny configs: the run folder's files agree with each other."""

import csv
import json
import tomllib

import jax
import numpy as np
import pytest

import jaxperc
from jaxperc.experiment import rundir
from jaxperc.experiment.config import config_from_dict, load_config
from jaxperc.experiment.problem import prepare
from jaxperc.experiment.run import run_experiment

SWEEP = {
    "data": {"source": "blobs", "n_samples": 80, "noise": 1.0, "test_fraction": 0.25},
    "train": {"max_epochs": 60, "tol": 0.0, "record_accuracy": True},
    "sweep": {"learning_rate": [0.1, 1.0], "seed": [0, 1, 2]},
    "output": {"checkpoint_every": 0.01},
}


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory):
    config = config_from_dict(SWEEP, path="sweep.toml")
    out = run_experiment(config, tmp_path_factory.mktemp("runs") / "sweep")
    return config, out


def test_run_folder_holds_every_file(sweep_run):
    _, out = sweep_run
    names = {p.name for p in out.run_dir.iterdir()}
    assert {"config.toml", "run.json", "metrics.csv", "summary.json", "params.npz"} <= (
        names
    )
    assert "checkpoint.npz" not in names  # removed once the run completed
    info = json.loads((out.run_dir / "run.json").read_text())
    assert info["status"] == "completed"
    assert info["ended"] is not None
    assert set(info["versions"]) == {
        "jaxperc",
        "jax",
        "jaxlib",
        "optax",
        "numpy",
        "python",
    }
    assert info["device"]["count"] >= 1
    plots = {p.name for p in (out.run_dir / "plots").iterdir()}
    assert plots == {
        "cost.png",
        "boundary.png",  # 2 features
        "heatmap.png",  # a 2-D grid
        "metric_learning_rate.png",  # seeds are repeats, not a setting
    }
    report = (out.run_dir / "report.html").read_text()
    assert report.count("data:image/png;base64,") == 4  # self-contained
    assert "learning_rate = [0.1, 1.0]" in report and "best 6 of 6 models" in report
    assert "<script" not in report and 'src="http' not in report


def test_saved_config_reloads_to_the_same_config(sweep_run):
    config, out = sweep_run
    again = load_config(out.run_dir / "config.toml")
    assert again == config.__class__(**{**config.__dict__, "name": "config"})
    assert tomllib.loads((out.run_dir / "config.toml").read_text())["sweep"] == {
        "learning_rate": [0.1, 1.0],
        "seed": [0, 1, 2],
    }


def test_summary_matches_params_and_metrics(sweep_run):
    config, out = sweep_run
    summary = json.loads((out.run_dir / "summary.json").read_text())
    problem = prepare(config)
    with np.load(out.run_dir / "params.npz", allow_pickle=False) as z:
        saved = {k: z[k] for k in z.files}
    assert saved["w"].shape == (6, 2) and saved["w"].dtype == np.float32
    np.testing.assert_array_equal(saved["mean"], problem.standardizer_of(0).mean[None])
    np.testing.assert_array_equal(saved["standardizer_index"], np.zeros(6))
    assert list(saved["feature_names"]) == ["x1", "x2"]
    assert set(saved["positive"]) == {"1"} and set(saved["negative"]) == {"0"}
    np.testing.assert_allclose(saved["label_learning_rate"], [0.1] * 3 + [1.0] * 3)

    x_train = jax.numpy.asarray(problem.x[problem.train_idx], jax.numpy.float32)
    y_train = problem.targets[problem.train_idx, 0]
    x_test = problem.x[problem.test_idx].astype(np.float32)
    y_test = problem.dataset.y[problem.test_idx]
    with open(out.run_dir / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["model", "epoch", "cost", "accuracy"]
    for m, entry in enumerate(summary["models"]):
        params = jaxperc.Params(saved["w"][m], saved["b"][m])
        # float32 training: the summary's cost is the cost of the saved params
        recomputed = float(jaxperc.cost(params, x_train, y_train))
        assert entry["cost"] == pytest.approx(recomputed, abs=1e-6)
        predicted = np.asarray(jaxperc.predict(params, x_test))
        assert entry["test_accuracy"] == pytest.approx(np.mean(predicted == y_test))
        mine = [r for r in rows if int(r["model"]) == m]
        epochs = [int(r["epoch"]) for r in mine]
        assert epochs == list(range(len(epochs)))  # contiguous from epoch 0
        assert entry["epochs"] == 60 and len(mine) in (60, 61)  # tol=0: max_epochs
        assert float(mine[-1]["cost"]) == pytest.approx(entry["cost"], rel=1e-2)
    best = summary["best"]
    assert summary["metric"] == "cost"  # no validation rows: training cost chooses
    assert best["cost"] == min(m["cost"] for m in summary["models"])
    assert int(saved["best"]) == best["model"]


def test_groups_average_over_seeds(sweep_run):
    _, out = sweep_run
    summary = out.summary
    assert [g["learning_rate"] for g in summary["groups"]] == [0.1, 1.0]
    for g in summary["groups"]:
        members = [
            m for m in summary["models"] if m["learning_rate"] == g["learning_rate"]
        ]
        assert g["n_models"] == 3
        costs = [m["cost"] for m in members]
        assert g["cost"]["mean"] == pytest.approx(np.mean(costs), rel=1e-12)
        assert g["cost"]["std"] == pytest.approx(np.std(costs), rel=1e-9, abs=1e-15)


def test_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    config = config_from_dict(SWEEP)
    with pytest.raises(jaxperc.JaxpercError, match="already exists and is not empty"):
        run_experiment(config, tmp_path / "taken")
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"


def test_kfold_validates_each_model_on_its_held_out_fold(tmp_path):
    config = config_from_dict(
        {
            "data": {"source": "iris_2d", "test_fraction": 0.0},
            "train": {
                "loss": "bce",
                "optimizer": "adam",
                "learning_rate": 0.1,
                "max_epochs": 200,
            },
            "sweep": {"fold": 4},
            "output": {"plots": False},
        }
    )
    out = run_experiment(config, tmp_path / "kfold")
    problem = out.problem
    held = problem.weights == 0  # [n, k]
    np.testing.assert_array_equal(held.sum(1), np.ones(problem.x.shape[0]))
    params = out.result.params
    for f, entry in enumerate(out.summary["models"]):
        rows = np.flatnonzero(held[:, f])
        # each fold's own standardizer, fitted on its training folds only
        std = problem.standardizer_of(f)
        fitted = problem.x[held[:, f] == 0]
        np.testing.assert_allclose(std.mean, fitted.mean(0), rtol=1e-12)
        np.testing.assert_allclose(std.scale, fitted.std(0), rtol=1e-12)
        p = jaxperc.Params(params.w[f], params.b[f])
        z = std.apply(problem.x[rows]).astype(np.float32)
        pred = np.asarray(jaxperc.predict(p, z))
        assert entry["fold"] == f
        assert entry["validation_accuracy"] == pytest.approx(
            np.mean(pred == problem.dataset.y[rows])
        )
        assert entry["test_accuracy"] is None  # test_fraction = 0: no test rows
    assert out.summary["metric"] == "validation_accuracy"


def test_one_vs_rest_names_classes_and_combines_them(tmp_path):
    config = config_from_dict(
        {
            "data": {"source": "iris", "test_fraction": 0.3},
            "train": {"loss": "bce", "optimizer": "adam", "learning_rate": 0.1,
                      "max_epochs": 200},
            "sweep": {"class": "all"},
            "output": {"plots": False},
        }
    )  # fmt: skip
    out = run_experiment(config, tmp_path / "ovr")
    assert [m["class"] for m in out.summary["models"]] == [
        "setosa",
        "versicolor",
        "virginica",
    ]
    ovr = out.summary["one_vs_rest"]
    assert ovr["classes"] == ["setosa", "versicolor", "virginica"]
    # three-class accuracy from the saved parameters
    saved = rundir.read_params(out.run_dir)
    assert list(saved["positive"]) == ["setosa", "versicolor", "virginica"]
    x = out.problem.x[out.problem.test_idx].astype(np.float32)
    z = x @ saved["w"].T + saved["b"]
    pred = np.argmax(z, axis=1)  # sigmoid is monotone: argmax of z = argmax of ŷ
    truth = out.problem.dataset.y[out.problem.test_idx]
    assert ovr["sets"][0]["test_accuracy"] == pytest.approx(np.mean(pred == truth))
    assert ovr["sets"][0]["test_accuracy"] > 0.8


def test_multiclass_without_class_axis_is_a_config_error(tmp_path):
    config = config_from_dict({"data": {"source": "iris"}})
    with pytest.raises(jaxperc.ConfigError, match=r"sweep\.class = \"all\""):
        run_experiment(config, tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_xor_notes_accuracy_near_chance(tmp_path):
    config = config_from_dict(
        {
            "data": {"source": "xor", "n_samples": 120},
            "train": {"learning_rate": 0.5, "max_epochs": 200},
            "output": {"plots": False},
        }
    )
    out = run_experiment(config, tmp_path / "xor")
    assert any("near chance" in n for n in out.summary["notes"])


def test_progress_bar_draws_only_on_a_terminal():
    import io

    from jaxperc.experiment.progress import ProgressBar

    p = jaxperc.Progress(
        epoch=10, max_epochs=100, n_running=2, n_models=4, best_cost=0.25,
        checkpoint=lambda: None,
    )  # fmt: skip
    quiet = io.StringIO()
    ProgressBar(quiet, delay=0.0)(p)  # a StringIO is not a TTY
    assert quiet.getvalue() == ""
    loud = io.StringIO()
    bar = ProgressBar(loud, enabled=True, delay=0.0)
    bar(p)
    bar(p._replace(epoch=20, n_running=1))
    bar.close()
    text = loud.getvalue()
    assert "epoch 20/100" in text and "running 1/4" in text and "best cost 0.25" in text
    assert text.endswith("\n")

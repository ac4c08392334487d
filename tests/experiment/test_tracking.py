"""MLflow: a run logged to a local file store, read back with MLflow's client."""

import json

import pytest

from jaxperc.experiment.config import config_from_dict
from jaxperc.experiment.run import run_experiment

mlflow = pytest.importorskip("mlflow")

SWEEP = {
    "data": {"source": "blobs", "n_samples": 60},
    "train": {"max_epochs": 30, "tol": 0.0},
    "sweep": {"learning_rate": [0.1, 1.0], "seed": [0, 1]},
    "output": {"plots": False, "mlflow": True, "mlflow_children": True},
}


def test_run_is_logged_with_params_metrics_history_and_artifacts(tmp_path):
    store = tmp_path / "mlruns"
    raw = {**SWEEP, "output": {**SWEEP["output"], "mlflow_uri": store.as_uri()}}
    out = run_experiment(config_from_dict(raw, path="sweep.toml"), tmp_path / "run")
    client = mlflow.MlflowClient(tracking_uri=store.as_uri())
    experiment = client.get_experiment_by_name("sweep")
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if "mlflow.parentRunId" not in r.data.tags)
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId")]
    assert parent.data.params["train.max_epochs"] == "30"
    best = out.summary["best"]
    assert parent.data.metrics["best_test_accuracy"] == pytest.approx(
        best["test_accuracy"]
    )
    cost = client.get_metric_history(parent.info.run_id, "cost")
    assert [m.step for m in cost] == list(range(30))
    assert cost[-1].value == pytest.approx(
        float(out.result.cost_history[best["model"], 29]), rel=1e-6
    )
    names = {a.path for a in client.list_artifacts(parent.info.run_id)}
    assert {"summary.json", "params.npz", "metrics", "report.html"} <= names
    assert sorted(c.data.params["learning_rate"] for c in children) == ["0.1", "1.0"]
    info = json.loads((out.run_dir / "run.json").read_text())
    assert info["mlflow"]["run_id"] == parent.info.run_id


def test_unreachable_server_is_one_line_and_the_run_completes(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    raw = {**SWEEP, "output": {**SWEEP["output"], "mlflow_uri": "http://127.0.0.1:9"}}
    out = run_experiment(config_from_dict(raw), tmp_path / "run")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mlflow: could not log to http")
    info = json.loads((out.run_dir / "run.json").read_text())
    assert info["status"] == "completed" and "mlflow" not in info

"""MLflow logging of a finished run (optional: ``pip install 'jaxperc[mlflow]'``).

With ``output.mlflow = true`` a completed run becomes one MLflow run: the resolved
config as params (``section.key``), the best model's summary metrics, the best
model's cost per epoch (metric ``cost``, step = epoch), and the run folder as
artifacts; with ``output.mlflow_children`` one child run per sweep setting holds
that setting and its mean metrics. The tracking URI is ``output.mlflow_uri``, else
``$MLFLOW_TRACKING_URI``, else ``./mlruns``.

Tracking is a copy, never the record: if MLflow is missing or the server cannot be
reached, the run folder is complete anyway and one line on stderr says what failed.
Only :class:`mlflow.MlflowClient` is used (no global active run), so logging never
touches MLflow state a caller may hold.
"""

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from jaxperc.experiment import history, rundir
from jaxperc.experiment.config import Config, config_to_dict

_BATCH = 500  # MLflow accepts at most 1000 metrics and 100 params per batch
_PARAM_BATCH = 100


def tracking_uri(config: Config) -> str:
    """``output.mlflow_uri``, else ``$MLFLOW_TRACKING_URI``, else ``./mlruns``."""
    uri = config.output.mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI")
    return uri or Path("mlruns").resolve().as_uri()


def _is_local(uri: str) -> bool:
    return urlparse(uri).scheme in ("", "file")


def _params(config: Config) -> dict[str, str]:
    tables = config_to_dict(config)
    flat = {f"{s}.{k}": v for s, keys in tables.items() for k, v in keys.items()}
    return {k: str(v)[:6000] for k, v in flat.items()}


def _summary_metrics(summary: dict) -> dict[str, float]:
    best = summary["best"]
    out = {"n_models": float(summary["n_models"]), "best_model": float(best["model"])}
    for key in ("cost", "train_accuracy", "test_accuracy", "validation_accuracy",
                "epochs"):  # fmt: skip
        if isinstance(best.get(key), int | float) and not isinstance(best[key], bool):
            out[f"best_{key}"] = float(best[key])
    ovr = summary.get("one_vs_rest")
    if ovr:
        accs = [s.get("test_accuracy", s["train_accuracy"]) for s in ovr["sets"]]
        out["one_vs_rest_accuracy"] = float(sum(accs) / len(accs))
    return out


def log_run(run_dir: Path, config: Config, summary: dict) -> str | None:
    """Log a completed run to MLflow; its MLflow run id, or None after one line on
    stderr saying why nothing (or not everything) was logged."""
    try:
        from mlflow import MlflowClient
    except ImportError:
        print(
            "mlflow: not installed, run not tracked (pip install 'jaxperc[mlflow]')",
            file=sys.stderr,
        )
        return None
    uri = tracking_uri(config)
    if _is_local(uri):  # MLflow 3 asks file stores to opt in; ./mlruns is one
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    try:
        return _log(MlflowClient(tracking_uri=uri), Path(run_dir), config, summary)
    except Exception as err:  # any failure of the tracker leaves the run as it is
        text = " ".join(str(err).split())[:300]
        print(
            f"mlflow: could not log to {uri} ({type(err).__name__}: {text}); "
            f"the run folder {run_dir} is complete",
            file=sys.stderr,
        )
        return None


def _log(client, run_dir: Path, config: Config, summary: dict) -> str:
    from mlflow.entities import Metric, Param

    name = config.output.mlflow_experiment or config.name
    found = client.get_experiment_by_name(name)
    experiment = found.experiment_id if found else client.create_experiment(name)
    run = client.create_run(
        experiment, run_name=run_dir.name, tags={"jaxperc.run_dir": str(run_dir)}
    )
    rid = run.info.run_id
    params = [Param(k, v) for k, v in _params(config).items()]
    for i in range(0, len(params), _PARAM_BATCH):
        client.log_batch(rid, params=params[i : i + _PARAM_BATCH])
    now = int(time.time() * 1000)
    metrics = [Metric(k, v, now, 0) for k, v in _summary_metrics(summary).items()]
    cols = history.read_history(run_dir)
    if cols:
        mine = cols["model"] == summary["best"]["model"]
        metrics += [
            Metric("cost", float(c), now, int(e))
            for e, c in zip(cols["epoch"][mine], cols["cost"][mine], strict=True)
        ]
    for i in range(0, len(metrics), _BATCH):
        client.log_batch(rid, metrics=metrics[i : i + _BATCH])
    if config.output.mlflow_children:
        _children(client, experiment, rid, summary, now)
    rundir.update_run_json(run_dir, mlflow={"tracking_uri": client.tracking_uri,
                                            "run_id": rid})  # fmt: skip
    client.log_artifacts(rid, str(run_dir))
    client.set_terminated(rid, "FINISHED")
    return rid


def _children(client, experiment: str, parent: str, summary: dict, now: int) -> None:
    """One child run per sweep setting (summary group): its labels, mean metrics."""
    from mlflow.entities import Metric, Param

    stats = ("cost", "train_accuracy", "test_accuracy", "epochs")
    for group in summary["groups"]:
        skip = (*stats, "n_models", "converged", "diverged")
        labels = {k: v for k, v in group.items() if k not in skip}
        labels = {k: v for k, v in labels.items() if not isinstance(v, dict | list)}
        title = ", ".join(f"{k}={v}" for k, v in labels.items()) or "all models"
        child = client.create_run(
            experiment, run_name=title, tags={"mlflow.parentRunId": parent}
        ).info.run_id
        metrics = [Metric("n_models", float(group["n_models"]), now, 0)]
        for key in stats:
            value = group.get(key, {}).get("mean")
            if value is not None:
                metrics.append(Metric(f"mean_{key}", float(value), now, 0))
        client.log_batch(
            child,
            metrics=metrics,
            params=[Param(k, str(v)) for k, v in labels.items()],
        )
        client.set_terminated(child, "FINISHED")


__all__ = ["log_run", "tracking_uri"]

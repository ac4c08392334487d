"""The Parquet history: thinning rules, resume without gaps or repeats, size."""

import numpy as np
import pandas as pd
import pytest

import jaxperc
from jaxperc.experiment import history
from jaxperc.experiment.config import config_from_dict
from jaxperc.experiment.run import run_experiment


def test_keep_epochs_policies():
    e = np.arange(2000)
    assert history.keep_epochs(e, "all").all()
    np.testing.assert_array_equal(np.flatnonzero(history.keep_epochs(e, 7)), e[::7])
    kept = e[history.keep_epochs(e, "log")]
    assert list(kept[:100]) == list(range(100))
    assert list(kept[100:103]) == [100, 110, 120] and 1000 in kept and 1100 in kept
    assert 1050 not in kept and len(kept) == 100 + 90 + 10
    with pytest.raises(jaxperc.ConfigError, match=r"output\.history"):
        history.keep_epochs(e, "some")


def test_writer_resumes_without_gaps_or_repeats(tmp_path):
    rng = np.random.default_rng(0)
    cost = rng.random((3, 100)).astype(np.float32)
    cost[1, 70:] = np.nan  # model 1 stopped after epoch 69
    w = history.HistoryWriter(tmp_path, "all")
    w.append(32, lambda s: (cost[:, s:32], None))
    w.append(64, lambda s: (cost[:, s:64], None))
    w.append(96, lambda s: (cost[:, s:96], None))  # written, but the checkpoint
    w.close()  # ... of the killed run said epoch 64
    (tmp_path / "metrics" / "part-0000000096.parquet.tmp").write_bytes(b"half")
    again = history.HistoryWriter(tmp_path, "all", start=64)
    assert sorted(p.name for p in (tmp_path / "metrics").iterdir()) == [
        "part-0000000000.parquet",
        "part-0000000032.parquet",
    ]
    again.append(96, lambda s: (cost[:, s:96], None))
    again.finish(cost, None)
    h = history.read_history(tmp_path)
    assert h["cost"].dtype == np.float32 and h["epoch"].dtype == np.int32
    expected_model, expected_epoch = np.nonzero(~np.isnan(cost))
    np.testing.assert_array_equal(h["model"], expected_model)
    np.testing.assert_array_equal(h["epoch"], expected_epoch)
    np.testing.assert_array_equal(h["cost"], cost[~np.isnan(cost)])
    frame = pd.read_parquet(tmp_path / "metrics")  # readable as one table
    assert len(frame) == h["model"].size and list(frame.columns) == [
        "model",
        "epoch",
        "cost",
    ]


def test_thinned_history_keeps_each_models_last_epoch(tmp_path):
    cost = np.ones((2, 50))
    cost[0, 23:] = np.nan  # model 0 ran epochs 0..22
    w = history.HistoryWriter(tmp_path, 10)
    w.finish(cost, None)
    h = history.read_history(tmp_path)
    assert list(h["epoch"][h["model"] == 0]) == [0, 10, 20, 22]
    assert list(h["epoch"][h["model"] == 1]) == [0, 10, 20, 30, 40, 49]


def test_history_is_small_and_csv_follows_the_setting(tmp_path):
    config = config_from_dict(
        {
            "data": {"source": "blobs", "n_samples": 60},
            "train": {"max_epochs": 300, "tol": 0.0, "record_accuracy": True},
            "sweep": {"seed": list(range(16))},
            "output": {"plots": False, "metrics_csv": False},
        }
    )
    out = run_experiment(config, tmp_path / "run")
    frame = pd.read_parquet(out.run_dir / "metrics")
    assert len(frame) == 16 * 300 and not (out.run_dir / "metrics.csv").exists()
    assert list(frame.columns) == ["model", "epoch", "cost", "accuracy"]
    parts = list((out.run_dir / "metrics").iterdir())
    size = sum(p.stat().st_size for p in parts)
    assert size <= 8 * len(frame) + 4096 * len(parts)  # a footer per part
    best = frame[frame.model == 0].sort_values("epoch")
    np.testing.assert_allclose(
        best.cost.to_numpy(), out.result.cost_history[0], rtol=1e-6
    )

"""Every shipped config does what its header comment says.

Each file in ``configs/`` states its expected outcome in a machine-readable line,
``# expect: stop=max_epochs,tol validation_accuracy=0.96..0.99``: the set of stop
reasons its models end with, and a band per metric (of the chosen setting's mean,
or of the best model when nothing is chosen; ``nested_accuracy``: the nested-CV
estimate). ``# test with: key=value`` lines shrink a config for this test (the
comment says so), so the comment cannot drift from what the config really does.
"""

import json
from pathlib import Path

import pytest

from jaxperc.experiment.config import load_config
from jaxperc.experiment.run import run_experiment

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.toml"))
METRICS = ("train_accuracy", "validation_accuracy", "test_accuracy")


def header(path: Path) -> tuple[set[str], dict[str, tuple[float, float]], list[str]]:
    """(stop reasons, metric → (low, high), overrides) from a config's comments."""
    stops, bands, overrides = None, {}, []
    for line in path.read_text().splitlines():
        if line.startswith("# test with:"):
            overrides.append(line.removeprefix("# test with:").strip())
        if not line.startswith("# expect:"):
            continue
        for item in line.removeprefix("# expect:").split():
            key, _, value = item.partition("=")
            if key == "stop":
                stops = set(value.split(","))
            else:
                low, high = value.split("..")
                bands[key] = (float(low), float(high))
    assert stops is not None, f"{path.name}: no '# expect: stop=...' line"
    return stops, bands, overrides


def outcome(summary: dict, metric: str) -> float:
    if metric == "nested_accuracy":
        return summary["nested"]["accuracy"]["mean"]
    chosen = summary.get("best_setting")
    return chosen[metric]["mean"] if chosen else summary["best"][metric]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_header_states_an_outcome_with_known_names(path):
    stops, bands, _ = header(path)
    assert stops <= {"tol", "gtol", "zero_errors", "max_epochs", "diverged"}
    assert bands and set(bands) <= {*METRICS, "nested_accuracy"}


@pytest.mark.slow
@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_does_what_its_comment_says(path, tmp_path):
    stops, bands, overrides = header(path)
    config = load_config(path, [*overrides, "output.plots=false"])
    out = run_experiment(config, tmp_path / "run")
    summary = json.loads((out.run_dir / "summary.json").read_text())
    assert set(summary["stops"]) == stops, summary["stops"]
    for metric, (low, high) in bands.items():
        value = outcome(summary, metric)
        assert low <= value <= high, f"{metric} = {value}, expected {low}..{high}"

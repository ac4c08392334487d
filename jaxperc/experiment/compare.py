"""Runs side by side: the settings that differ and the metrics, one column per run.

:func:`compare_runs` turns :class:`~jaxperc.experiment.runs.Run` objects into a
:class:`Comparison` (row names, one column per run) that ``jaxperc compare`` prints
as a text table and writes as CSV or Markdown.
"""

import csv
import io
from typing import Any, NamedTuple

from jaxperc.experiment.config import config_to_dict
from jaxperc.experiment.report import table

METRIC_KEYS = ("cost", "train_accuracy", "test_accuracy", "validation_accuracy")


class Comparison(NamedTuple):
    header: list[str]  # "", then one name per run
    rows: list[list[str]]  # [row name, value per run]


def _text(value: Any) -> str:
    """A cell: numbers to 4 significant digits, intervals as [low, high]."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        low = next((value[k] for k in ("low", "lo", "lower") if k in value), None)
        high = next((value[k] for k in ("high", "hi", "upper") if k in value), None)
        if low is not None and high is not None:
            return f"[{_text(low)}, {_text(high)}]"
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        if len(value) == 2 and all(isinstance(v, int | float) for v in value):
            return f"[{_text(value[0])}, {_text(value[1])}]"
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return str(value)


def _settings(runs) -> list[list[str]]:
    """``section.key`` rows of the resolved configs where the runs differ (all of
    them for a single run)."""
    flat = []
    for run in runs:
        tables = config_to_dict(run.config)
        flat.append(
            {f"{s}.{k}": v for s, keys in tables.items() for k, v in keys.items()}
        )
    keys = list(dict.fromkeys(k for f in flat for k in f))
    rows = []
    for key in keys:
        values = [_text(f.get(key)) for f in flat]
        if len(runs) == 1 or len(set(values)) > 1:
            rows.append([key, *values])
    return rows


def _metrics(runs) -> list[list[str]]:
    best = [run.summary["best"] for run in runs]
    rows = [
        ["models", *(str(run.summary["n_models"]) for run in runs)],
        ["metric", *(run.summary["metric"] for run in runs)],
        ["best model", *(str(b["model"]) for b in best)],
    ]
    for key in METRIC_KEYS:
        if any(key in b for b in best):
            rows.append([f"best {key}", *(_text(b.get(key)) for b in best)])
    extra = sorted({k for b in best for k in b if "interval" in k or k.endswith("_ci")})
    rows += [[f"best {k}", *(_text(b.get(k)) for b in best)] for k in extra]
    rows += [
        ["best epochs", *(str(b["epochs"]) for b in best)],
        ["best stop", *(str(b["stop_reason"]) for b in best)],
    ]
    if any("one_vs_rest" in run.summary for run in runs):
        rows.append(["one-vs-rest accuracy", *(_ovr(run.summary) for run in runs)])
    if any("intervals" in run.summary for run in runs):
        names = sorted({k for r in runs for k in r.summary.get("intervals", {})})
        for name in names:
            cells = [_text(r.summary.get("intervals", {}).get(name)) for r in runs]
            rows.append([f"interval {name}", *cells])
    rows.append(["status", *(str(run.info.get("status")) for run in runs)])
    return rows


def _ovr(summary: dict) -> str:
    ovr = summary.get("one_vs_rest")
    if not ovr:
        return "-"
    accs = [s.get("test_accuracy", s.get("train_accuracy")) for s in ovr["sets"]]
    accs = [a for a in accs if a is not None]
    return _text(sum(accs) / len(accs)) if accs else "-"


def compare_runs(runs) -> Comparison:
    """Settings that differ, then metrics of the best model, one column per run."""
    names = [run.path.name for run in runs]
    if len(set(names)) < len(names):
        names = [str(run.path) for run in runs]
    return Comparison(["", *names], [*_settings(runs), *_metrics(runs)])


def as_text(c: Comparison) -> str:
    return table(c.rows, c.header)


def as_csv(c: Comparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["setting", *c.header[1:]])
    writer.writerows(c.rows)
    return out.getvalue()


def as_markdown(c: Comparison) -> str:
    def line(cells):
        return "| " + " | ".join(str(x).replace("|", "\\|") for x in cells) + " |"

    head = ["setting", *c.header[1:]]
    return (
        "\n".join([line(head), line(["---"] * len(head)), *(line(r) for r in c.rows)])
        + "\n"
    )


__all__ = ["Comparison", "as_csv", "as_markdown", "as_text", "compare_runs"]

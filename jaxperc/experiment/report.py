"""Plain-text tables of a run's results, as ``jaxperc run`` prints them.

Every number says its rows: ``train_acc`` on the rows a model fitted, ``val_acc``
on its validation rows (what chooses), ``test_acc`` on test rows (never chooses).
A model that stopped at ``train.max_epochs`` or diverged is marked ``!``.
"""

import numpy as np

TOP_ROWS = 10
REPEATS = ("seed", "fold", "resample")
UNFINISHED = ("max_epochs", "diverged")  # stop reasons marked "!" in the table
COLUMNS = {  # summary key → column header
    "cost": "cost",
    "train_accuracy": "train_acc",
    "validation_accuracy": "val_acc",
    "test_accuracy": "test_acc",
}


def _fmt(value, width: int = 0) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, float):
        text = f"{value:.4g}"
    else:
        text = str(value)
    return text.rjust(width) if width else text


def table(rows: list[list], header: list[str]) -> str:
    cells = [header] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    left = [bool(rows) and isinstance(v, str) for v in (rows[0] if rows else header)]

    def cell(text, i):
        return text.ljust(widths[i]) if left[i] else text.rjust(widths[i])

    return "\n".join(
        "  ".join(cell(c, i) for i, c in enumerate(r)).rstrip() for r in cells
    )


def interval_text(stat: dict) -> str:
    """``mean [low, high]`` of a summary statistic (just the mean without one)."""
    if stat.get("mean") is None:
        return "-"
    if stat.get("low") is None:
        return _fmt(stat["mean"])
    return f"{_fmt(stat['mean'])} [{_fmt(stat['low'])}, {_fmt(stat['high'])}]"


def _unfinished(reason: str, summary: dict) -> bool:
    """Marked "!": diverged, or max_epochs where a stopping rule could have fired."""
    planned = reason == "max_epochs" and summary.get("fixed_epochs", False)
    return reason in UNFINISHED and not planned


def _stop(model: dict, summary: dict) -> str:
    reason = model["stop_reason"]
    return f"{reason} !" if _unfinished(reason, summary) else reason


def _shown(summary: dict) -> list[str]:
    """Metric columns with at least one value in this run."""
    return [k for k in COLUMNS if any(m[k] is not None for m in summary["models"])]


def _model_table(summary: dict, top: int) -> list[str]:
    metric, models = summary["metric"], summary["models"]
    labels = [k for k in models[0] if k not in _MODEL_FIELDS]

    def key(m):
        cost = m["cost"] if m["cost"] is not None else float("inf")
        if metric == "cost":
            return (cost, m["model"])
        acc = m[metric] if m[metric] is not None else -1.0
        return (-acc, cost, m["model"])

    ranked = sorted(models, key=key)[:top]
    shown = _shown(summary)
    rows = [
        [m["model"], *(m[a] for a in labels), *(m[c] for c in shown), m["epochs"],
         _stop(m, summary)]
        for m in ranked
    ]  # fmt: skip
    header = ["model", *labels, *(COLUMNS[c] for c in shown), "epochs", "stop"]
    return [
        f"best {len(ranked)} of {len(models)} models by {metric}:",
        table(rows, header),
    ]


_MODEL_FIELDS = (
    "model", *COLUMNS, "epochs", "converged", "diverged", "stop_reason",
)  # fmt: skip


def _group_table(summary: dict) -> list[str]:
    groups = summary["groups"]
    if not (1 < len(groups) < summary["n_models"] or groups[0]["n_models"] > 1):
        return []
    over = [a for a in summary["axes"] if a in REPEATS] or ["repeats"]
    keys = [k for k in groups[0] if k not in (*COLUMNS, "n_models", "epochs")]
    shown = _shown(summary)
    rows = [
        [*(g[k] for k in keys), g["n_models"], *(interval_text(g[c]) for c in shown)]
        for g in groups
    ]
    kind = groups[0][shown[0]].get("interval", "t")
    how = "Nadeau–Bengio corrected t" if kind == "corrected_t" else "Student t"
    return [
        "",
        f"mean [95 % interval, {how}] over {', '.join(over)}:",
        table(rows, [*keys, "n", *(COLUMNS[c] for c in shown)]),
    ]


def _choice_lines(summary: dict) -> list[str]:
    metric, lines = summary["metric"], []
    best = summary.get("best_setting")
    if best is not None and best["n_models"] > 1:
        keys = [k for k in best if k not in (*COLUMNS, "n_models", "epochs", "index")]
        name = ", ".join(f"{k} {_fmt(best[k])}" for k in keys) or "the one setting"
        lines.append(f"best setting by {metric}: {name}: {interval_text(best[metric])}")
        if best["test_accuracy"]["mean"] is not None:
            lines.append(
                f"  its test accuracy ({summary['rows']['test']}): "
                f"{interval_text(best['test_accuracy'])}"
            )
    comp = summary.get("comparison")
    if comp:
        runner = ", ".join(f"{k} {_fmt(v)}" for k, v in comp["runner_up"].items())
        verdict = (
            "distinguishable" if comp["distinguishable"] else "NOT distinguishable"
        )
        lines.append(
            f"  vs runner-up ({runner}): difference {_fmt(comp['difference'])}, "
            f"p = {comp['p_value']:.3g} ({comp['test']} over "
            f"{', '.join(comp['over'])}): {verdict} at 5 %"
        )
    return lines


def _nested_lines(summary: dict) -> list[str]:
    nested = summary.get("nested")
    if not nested:
        return []
    rows = [[o.pop("outer_fold"), *o.values()] for o in map(dict, nested["outer"])]
    header = ["outer_fold", *(k for k in nested["outer"][0] if k != "outer_fold")]
    return [
        "",
        "nested cross-validation, setting chosen per outer fold on its inner folds:",
        table(rows, header),
        f"nested estimate (test accuracy on {nested['rows'].split(';')[0]}): "
        f"{interval_text(nested['accuracy'])}",
    ]


def format_summary(summary: dict, top: int = TOP_ROWS) -> str:
    """The plain-text tables printed at the end of a run."""
    lines = [*_model_table(summary, top), *_group_table(summary)]
    lines += _nested_lines(summary)
    ovr = summary.get("one_vs_rest")
    if ovr:
        which = next(
            k for k in ("test_accuracy", "validation_accuracy", "train_accuracy")
            if k in ovr["sets"][0]
        )  # fmt: skip
        accs = [s[which] for s in ovr["sets"]]
        lines += [
            "",
            f"one-vs-rest over {', '.join(ovr['classes'])}: {which} "
            f"{np.mean(accs):.4g} (mean of {len(accs)} set{'s' * (len(accs) > 1)})",
        ]
    best, metric = summary["best"], summary["metric"]
    lines += ["", *_choice_lines(summary)]
    lines.append(
        f"best model: {best['model']}, {metric} {_fmt(best[metric])}, "
        f"{best['epochs']} epochs ({best['stop_reason']})"
    )
    stops = ", ".join(
        f"{r} {n}{' !' if _unfinished(r, summary) else ''}"
        for r, n in summary["stops"].items()
    )
    lines.append(f"stops: {stops}")
    lines.append(f"rows: validation = {summary['rows']['validation']}")
    lines += [f"note: {n}" for n in summary["notes"]]
    return "\n".join(lines)

"""Plain-text tables of a run's results, as ``jaxperc run`` prints them."""

import numpy as np

TOP_ROWS = 10


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


def format_summary(summary: dict, top: int = TOP_ROWS) -> str:
    """The plain-text tables printed at the end of a run."""
    metric = summary["metric"]
    models = summary["models"]
    axes = list(summary["axes"])

    def key(m):
        cost = m["cost"] if m["cost"] is not None else float("inf")
        if metric == "cost":
            return (cost, m["model"])
        acc = m[metric] if m[metric] is not None else -1.0
        return (-acc, cost, m["model"])

    ranked = sorted(models, key=key)[:top]
    cols = ["cost", "train_accuracy", "test_accuracy", "epochs", "stop_reason"]
    header = ["model", *axes, "cost", "train_acc", "test_acc", "epochs", "stop"]
    lines = [
        f"best {len(ranked)} of {len(models)} models by {metric}:",
        table(
            [
                [m["model"], *(m[a] for a in axes), *(m[c] for c in cols)]
                for m in ranked
            ],
            header,
        ),
    ]
    groups = summary["groups"]
    if 1 < len(groups) < len(models) or (groups and groups[0]["n_models"] > 1):
        keys = [a for a in axes if a not in ("seed", "fold", "resample")]
        rows = []
        for g in groups:
            stats = [
                f"{_fmt(g[c]['mean'])} ± {_fmt(g[c]['std'])}"
                for c in ("cost", "train_accuracy", "test_accuracy")
            ]
            rows.append([*(g[k] for k in keys), g["n_models"], *stats])
        over = [a for a in axes if a in ("seed", "fold", "resample")]
        lines += [
            "",
            f"mean ± std over {', '.join(over) or 'repeats'}:",
            table(rows, [*keys, "n", "cost", "train_acc", "test_acc"]),
        ]
    ovr = summary.get("one_vs_rest")
    if ovr:
        accs = [s.get("test_accuracy", s["train_accuracy"]) for s in ovr["sets"]]
        which = "test" if "test_accuracy" in ovr["sets"][0] else "training"
        lines += [
            "",
            f"one-vs-rest over {', '.join(ovr['classes'])}: {which} accuracy "
            f"{np.mean(accs):.4g} (mean of {len(accs)} set{'s' * (len(accs) > 1)})",
        ]
    best = summary["best"]
    lines += [
        "",
        f"best: model {best['model']}, {metric} {_fmt(best[metric])}, "
        f"{best['epochs']} epochs ({best['stop_reason']})",
    ]
    lines += [f"note: {n}" for n in summary["notes"]]
    return "\n".join(lines)

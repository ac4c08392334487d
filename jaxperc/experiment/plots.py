"""Figures of a run (optional: needs matplotlib, imported only when drawing).

``plot_run`` writes into ``plots/``: ``cost.png`` (cost curves coloured by each
swept setting), ``metric_<axis>.png`` (the metric against each swept setting, with
± std bars), ``boundary.png`` (decision boundary of the best model, when the data
have two features), ``regions.png`` (every class of a one-vs-rest set, two
features) and ``heatmap.png`` (the metric over a 2-D sweep). Figures are drawn
with matplotlib's object API on the Agg canvas, so no window or global pyplot
state is involved.
"""

import importlib.util
from pathlib import Path

import numpy as np

from jaxperc import core
from jaxperc.experiment.groups import GROUPING_AXES

MAX_CURVES = 64


def available() -> bool:
    """Whether matplotlib can be imported (the ``plots`` extra)."""
    return importlib.util.find_spec("matplotlib") is not None


def _figure(size=(6.0, 4.0)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _swept(problem, *, grouping: bool = True) -> dict[str, list]:
    """Axes with more than one value (optionally without seed/fold/resample)."""
    return {
        k: list(v)
        for k, v in problem.grid.axes.items()
        if len(v) > 1 and (grouping or k not in GROUPING_AXES)
    }


def _value_text(name: str, value, problem) -> str:
    if name == "class":
        return str(problem.positive[int(value)])
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _colours(n: int):
    from matplotlib import colormaps

    cmap = colormaps["viridis" if n > 10 else "tab10"]
    return [cmap(i / max(n - 1, 1)) if n > 10 else cmap(i) for i in range(n)]


def cost_curves(path: Path, problem, cost_history: np.ndarray, best: int) -> None:
    """Cost per epoch, up to MAX_CURVES models; one panel per swept setting with
    the curves coloured by its value (legend), the best model in black."""
    m = cost_history.shape[0]
    shown = np.unique(np.linspace(0, m - 1, min(m, MAX_CURVES)).astype(int))
    axes = _swept(problem, grouping=False) or _swept(problem) or {"model": [0]}
    axes = dict(list(axes.items())[:3])
    fig = _figure((6.0 * len(axes), 4.0))
    finite = cost_history[np.isfinite(cost_history)]
    for j, (name, values) in enumerate(axes.items()):
        ax = fig.add_subplot(1, len(axes), j + 1)
        labels = problem.grid.labels.get(name, np.zeros(m))
        colours = _colours(len(values))
        for k, value in enumerate(values):
            mine = [i for i in shown if labels[i] == value]
            for n, i in enumerate(mine):
                text = f"{name} = {_value_text(name, value, problem)}"
                ax.plot(cost_history[i], color=colours[k], lw=0.9, alpha=0.7,
                        label=text if n == 0 and name != "model" else None)  # fmt: skip
        ax.plot(cost_history[best], color="k", lw=1.6, ls="--", label=f"best ({best})")
        if finite.size and finite.min() > 0:
            ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("cost")
        title = f"cost of {m} model{'s' if m > 1 else ''}"
        ax.set_title(title + (f" ({len(shown)} shown)" if len(shown) < m else ""))
        ax.legend(fontsize=7, ncol=1 + len(values) // 12)
    fig.savefig(path, dpi=110)


def metric_by_setting(path: Path, problem, summary, name: str) -> None:
    """The run's metric against one swept setting: mean over the other models of
    each value, with bars of ± one standard deviation (or the min–max range)."""
    metric = summary["metric"]
    per_model = np.array(
        [np.nan if m[metric] is None else m[metric] for m in summary["models"]]
    )
    values = list(problem.grid.axes[name])
    labels = problem.grid.labels[name]
    mean, low, high = [], [], []
    for v in values:
        got = per_model[(labels == v) & np.isfinite(per_model)]
        mu = got.mean() if got.size else np.nan
        sd = got.std() if got.size else np.nan
        mean.append(mu)
        low.append(mu - sd)
        high.append(mu + sd)
    mean, low, high = map(np.asarray, (mean, low, high))
    numeric = name not in ("class", "fold", "resample", "seed")
    x = np.asarray(values, float) if numeric else np.arange(len(values))
    fig = _figure((5.5, 4.0))
    ax = fig.add_subplot()
    ax.errorbar(x, mean, yerr=[mean - low, high - mean], marker="o", capsize=4)
    if numeric and x.min() > 0 and x.max() / x.min() > 20:
        ax.set_xscale("log")
    if not numeric:
        ax.set_xticks(x, [_value_text(name, v, problem) for v in values])
    ax.set_xlabel(name)
    ax.set_ylabel(f"{metric} (mean ± std)")
    ax.set_title(f"{metric} by {name}")
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=110)


def class_regions(path: Path, problem, params: core.Params, ids, activation) -> None:
    """A one-vs-rest set on two features: the region where each class's model is
    the most confident (largest z), with the data, in the original units."""
    ds = problem.dataset
    x = np.asarray(ds.x)
    g0, g1, grid = _mesh(x)
    w, b = np.asarray(params.w, np.float64), np.asarray(params.b, np.float64)
    z = np.stack(  # each model in its own coordinates (per-fold standardizers)
        [problem.standardizer_of(int(i)).apply(grid) @ w[i] + b[i] for i in ids],
        axis=1,
    )
    winner = np.argmax(z, axis=1).reshape(g0.shape)
    classes = [problem.positive[int(c)] for c in problem.grid.labels["class"][ids]]
    colours = _colours(len(classes))
    fig = _figure((5.5, 4.5))
    ax = fig.add_subplot()
    from matplotlib.colors import ListedColormap

    ax.contourf(g0, g1, winner, levels=np.arange(len(classes) + 1) - 0.5,
                cmap=ListedColormap(colours), alpha=0.25)  # fmt: skip
    for k, name in enumerate(classes):
        sel = np.asarray(ds.classes)[ds.y] == name
        ax.scatter(x[sel, 0], x[sel, 1], s=12, color=colours[k], label=name,
                   edgecolors="k", linewidths=0.3)  # fmt: skip
    ax.set_xlabel(ds.feature_names[0])
    ax.set_ylabel(ds.feature_names[1])
    ax.set_title(f"one-vs-rest regions (models {', '.join(map(str, ids))})")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


def _mesh(x: np.ndarray, n: int = 200):
    lo, hi = x.min(0), x.max(0)
    pad = 0.05 * (hi - lo + 1e-12)
    g0, g1 = np.meshgrid(
        np.linspace(lo[0] - pad[0], hi[0] + pad[0], n),
        np.linspace(lo[1] - pad[1], hi[1] + pad[1], n),
    )
    return g0, g1, np.column_stack([g0.ravel(), g1.ravel()])


def decision_boundary(
    path: Path, problem, model: int, params: core.Params, activation: str, title: str
) -> None:
    """Data and the ŷ = 0.5 line of one model, in the original feature units."""
    ds = problem.dataset
    x = np.asarray(ds.x)
    g0, g1, grid = _mesh(x)
    z = problem.standardizer_of(model).apply(grid)
    w = np.asarray(params.w)
    prob = np.asarray(
        core.forward(params, z.astype(w.dtype), activation=activation)
    ).reshape(g0.shape)
    fig = _figure((5.5, 4.5))
    ax = fig.add_subplot()
    ax.contourf(
        g0, g1, prob >= 0.5, levels=[-0.5, 0.5, 1.5], alpha=0.2, cmap="coolwarm"
    )
    if prob.min() < 0.5 < prob.max():
        ax.contour(g0, g1, prob, levels=[0.5], colors="k", linewidths=1.5)
    for k, name in enumerate(ds.classes):
        sel = ds.y == k
        if sel.any():
            ax.scatter(x[sel, 0], x[sel, 1], s=12, label=name)
    ax.set_xlabel(ds.feature_names[0])
    ax.set_ylabel(ds.feature_names[1])
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110)


def heatmap(path: Path, values: np.ndarray, axes: dict, metric: str) -> None:
    """A metric over the two swept axes (rows: first axis, columns: second)."""
    (name0, vals0), (name1, vals1) = axes.items()
    fig = _figure((6.0, 4.5))
    ax = fig.add_subplot()
    image = ax.imshow(values, aspect="auto", cmap="viridis", origin="lower")
    ax.set_yticks(range(len(vals0)), [f"{v:.3g}" for v in vals0])
    ax.set_xticks(range(len(vals1)), [f"{v:.3g}" for v in vals1], rotation=45)
    ax.set_ylabel(name0)
    ax.set_xlabel(name1)
    fig.colorbar(image, ax=ax, label=metric)
    fig.savefig(path, dpi=110)


def plot_run(plots_dir: Path, problem, result, summary, activation: str) -> list[Path]:
    """Draw every figure that fits this run; returns the files written."""
    plots_dir = Path(plots_dir)
    plots_dir.mkdir(exist_ok=True)
    best = summary["best"]["model"]
    written = [plots_dir / "cost.png"]
    history = np.asarray(result.cost_history, np.float64)
    cost_curves(written[0], problem, history, best)
    if problem.dataset.n_features == 2:
        params = core.Params(result.params.w[best], result.params.b[best])
        label = summary["best"].get("class")
        title = f"best model {best}" + (f": {label} vs rest" if label else "")
        written.append(plots_dir / "boundary.png")
        decision_boundary(written[-1], problem, best, params, activation, title)
        if len(problem.grid.axes.get("class", ())) > 1:
            written.append(plots_dir / "regions.png")
            ids = _best_set(problem, best)
            class_regions(written[-1], problem, result.params, ids, activation)
    for name in _swept(problem, grouping=False):
        written.append(plots_dir / f"metric_{name}.png")
        metric_by_setting(written[-1], problem, summary, name)
    swept = _swept(problem)
    if len(swept) == 2:
        metric = summary["metric"]
        per_model = np.array(
            [np.nan if m[metric] is None else m[metric] for m in summary["models"]]
        )
        values = problem.grid.reshape(per_model).reshape(
            tuple(len(v) for v in swept.values())
        )
        written.append(plots_dir / "heatmap.png")
        heatmap(written[-1], values, swept, metric)
    return written


def _best_set(problem, best: int) -> np.ndarray:
    """[K] the models that share every setting but the class with ``best``."""
    labels = problem.grid.labels
    same = np.ones(problem.grid.size, bool)
    for name, values in labels.items():
        if name != "class":
            same &= values == values[best]
    ids = np.flatnonzero(same)
    return ids[np.argsort(labels["class"][ids], kind="stable")]

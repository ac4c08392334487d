"""Figures of a run (optional: needs matplotlib, imported only when drawing).

``plot_run`` writes into ``plots/``: ``cost.png`` (cost curves), ``boundary.png``
(decision boundary of the best model, when the data have two features) and
``heatmap.png`` (the metric over a 2-D sweep). Figures are drawn with matplotlib's
object API on the Agg canvas, so no window or global pyplot state is involved.
"""

import importlib.util
from pathlib import Path

import numpy as np

from jaxperc import core

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


def cost_curves(path: Path, cost_history: np.ndarray, best: int) -> None:
    """Cost per epoch, up to MAX_CURVES models (the best one highlighted)."""
    fig = _figure()
    ax = fig.add_subplot()
    m = cost_history.shape[0]
    shown = np.unique(np.linspace(0, m - 1, min(m, MAX_CURVES)).astype(int))
    finite = cost_history[np.isfinite(cost_history)]
    for i in shown:
        ax.plot(cost_history[i], color="0.6", lw=0.8, alpha=0.6)
    ax.plot(cost_history[best], color="C0", lw=2, label=f"best (model {best})")
    if finite.size and finite.min() > 0:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cost")
    title = f"cost of {m} model{'s' if m > 1 else ''}"
    ax.set_title(title + (f" ({len(shown)} shown)" if len(shown) < m else ""))
    ax.legend()
    fig.savefig(path, dpi=110)


def decision_boundary(
    path: Path, problem, model: int, params: core.Params, activation: str, title: str
) -> None:
    """Data and the ŷ = 0.5 line of one model, in the original feature units."""
    ds = problem.dataset
    x = np.asarray(ds.x)
    lo, hi = x.min(0), x.max(0)
    pad = 0.05 * (hi - lo + 1e-12)
    g0, g1 = np.meshgrid(
        np.linspace(lo[0] - pad[0], hi[0] + pad[0], 200),
        np.linspace(lo[1] - pad[1], hi[1] + pad[1], 200),
    )
    grid = np.column_stack([g0.ravel(), g1.ravel()])
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
    cost_curves(written[0], np.asarray(result.cost_history, np.float64), best)
    if problem.dataset.n_features == 2:
        params = core.Params(result.params.w[best], result.params.b[best])
        label = summary["best"].get("class")
        title = f"best model {best}" + (f": {label} vs rest" if label else "")
        written.append(plots_dir / "boundary.png")
        decision_boundary(written[-1], problem, best, params, activation, title)
    swept = {k: v for k, v in problem.grid.axes.items() if len(v) > 1}
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

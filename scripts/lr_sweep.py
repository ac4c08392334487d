"""Final cost against learning rate, across seeds, as one compiled sweep.

Sweeps 16 log-spaced learning rates × 4 seeds on the standardised breast cancer
data with ``jaxperc.make_grid`` and ``jaxperc.train_many`` for two perceptrons: the
derivation's sigmoid unit (its gradient is bounded, so large rates only slow it
down) and a linear unit (identity activation), whose gradient descent diverges
once the rate passes 2 / (largest eigenvalue of the Hessian). Diverged models are
marked with crosses at the top of the plot.

    python scripts/lr_sweep.py --out figures
"""

import argparse
from pathlib import Path

import matplotlib
import numpy as np

import jaxperc
import jaxperc.data

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="figures", help="folder for the figure")
    parser.add_argument("--epochs", type=int, default=500)
    args = parser.parse_args()

    data = jaxperc.data.load_dataset("breast_cancer")
    std = jaxperc.data.fit_standardizer(data.x)
    x = jaxperc.data.apply_standardizer(std, data.x)
    y = data.targets()[:, 0]
    rates = np.logspace(-3, 2, 16)
    grid = jaxperc.make_grid(learning_rate=rates, seed=range(4))

    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    for activation, color in (("sigmoid", "C0"), ("identity", "C3")):
        result = jaxperc.train_many(
            x, y, activation=activation, max_epochs=args.epochs, tol=0.0, **grid.kwargs
        )
        cost = grid.reshape(result.cost)  # [rates, seeds]
        diverged = grid.reshape(result.diverged)
        shown = np.where(diverged, np.nan, cost)
        kept = (~diverged).sum(1)
        mean = np.where(kept > 0, np.nansum(shown, 1) / np.maximum(kept, 1), np.nan)
        ax.plot(rates, mean, "-o", color=color, label=activation)
        for s in range(shown.shape[1]):
            ax.plot(rates, shown[:, s], ".", color=color, alpha=0.4)
        top = 2.0 * np.nanmax(shown)  # crosses just above the finite costs
        ax.plot(rates[diverged.any(1)], np.full(diverged.any(1).sum(), top), "x",
                color=color, ms=9, label=f"{activation}: diverged")  # fmt: skip
        n_div = int(diverged.sum())
        print(f"{activation:>8}: {n_div} of {diverged.size} models diverged; "
              f"best mean cost {np.nanmin(mean):.4g}")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate α")
    ax.set_ylabel(f"MSE after {args.epochs} epochs (dots: seeds)")
    ax.set_title("plain gradient descent: final cost vs learning rate")
    ax.legend()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "lr_sweep.png", dpi=120)
    print(f"wrote {out / 'lr_sweep.png'}")


if __name__ == "__main__":
    main()

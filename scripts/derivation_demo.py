"""The derivation on its default data: manual and autodiff gradients agree.

Trains the perceptron of the derivation (sigmoid, mean squared error, plain gradient
descent) on the standardised breast cancer data twice, once with the hand-derived
chain-rule gradient and once with ``jax.grad``, checks the two gradients at the
starting point, and plots both cost curves (they lie on top of each other).

    python scripts/derivation_demo.py --out figures
"""

import argparse
from pathlib import Path

import jax
import matplotlib
import numpy as np

import jaxperc
import jaxperc.data

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="figures", help="folder for the figure")
    parser.add_argument("--epochs", type=int, default=3000)
    parser.add_argument("--learning-rate", type=float, default=1.0)
    args = parser.parse_args()

    data = jaxperc.data.load_dataset("breast_cancer")
    std = jaxperc.data.fit_standardizer(data.x)
    x = np.asarray(jaxperc.data.apply_standardizer(std, data.x), np.float32)
    y = data.targets()[:, 0].astype(np.float32)

    params = jaxperc.init_params(jax.random.key(0), data.n_features, scale=1.0)
    report = jaxperc.gradient_check(params, x, y)
    print(
        f"gradient check at a random start: max abs diff {report.max_abs_diff:.2e}, "
        f"max rel diff {report.max_rel_diff:.2e}, ok={report.ok}"
    )

    runs = {}
    for grad in ("manual", "autodiff"):
        runs[grad] = jaxperc.train(
            x,
            y,
            learning_rate=args.learning_rate,
            grad=grad,
            max_epochs=args.epochs,
            tol=0.0,
        )
        r = runs[grad]
        cost, acc = float(r.cost), float(r.accuracy)
        print(f"{grad:>8}: final cost {cost:.6f}, training accuracy {acc:.4f}")
    gap = np.max(np.abs(runs["manual"].cost_history - runs["autodiff"].cost_history))
    print(f"largest difference between the two cost curves: {gap:.2e}")

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    for grad, style in (("manual", "-"), ("autodiff", "--")):
        ax1.plot(runs[grad].cost_history, style, label=f"{grad} gradient")
    ax1.set_yscale("log")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("mean squared error")
    ax1.set_title("the two gradients train identically")
    ax1.legend()
    ax2.plot(np.abs(runs["manual"].cost_history - runs["autodiff"].cost_history))
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("|cost(manual) − cost(autodiff)|")
    ax2.set_title(f"gradient check: max rel diff {report.max_rel_diff:.1e}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "derivation_demo.png", dpi=120)
    print(f"wrote {out / 'derivation_demo.png'}")


if __name__ == "__main__":
    main()

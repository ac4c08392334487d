"""Iris one-vs-rest decision regions on two features.

Three sigmoid perceptrons (one per species, cross-entropy, Adam) trained at once by
``jaxperc.train_many`` on the standardised petal length and width; each point of the
plane gets the species whose perceptron is most confident. Each perceptron's own
ŷ = 0.5 line is drawn dashed.

    python scripts/iris_regions.py --out figures
"""

import argparse
import dataclasses
from pathlib import Path

import jax
import matplotlib
import numpy as np

import jaxperc
import jaxperc.data

matplotlib.use("Agg")
import matplotlib.pyplot as plt

FEATURES = ("petal length (cm)", "petal width (cm)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="figures", help="folder for the figure")
    parser.add_argument("--epochs", type=int, default=2000)
    args = parser.parse_args()

    iris = jaxperc.data.load_dataset("iris")
    cols = [iris.feature_names.index(f) for f in FEATURES]
    iris = dataclasses.replace(iris, x=iris.x[:, cols], feature_names=FEATURES)
    std = jaxperc.data.fit_standardizer(iris.x)
    x = jaxperc.data.apply_standardizer(std, iris.x)
    grid = jaxperc.make_grid(**{"class": range(iris.n_classes)})
    result = jaxperc.train_many(
        x,
        iris.targets(),
        loss="bce",
        optimizer="adam",
        learning_rate=0.1,
        max_epochs=args.epochs,
        tol=1e-7,
        **grid.kwargs,
    )

    def scores(points):  # [K, n] probability of each species' perceptron
        return np.asarray(
            jax.vmap(lambda p: jaxperc.forward(p, points.astype(np.float32)))(
                result.params
            )
        )

    accuracy = np.mean(np.argmax(scores(x), axis=0) == iris.y)
    print(f"one-vs-rest training accuracy on two features: {accuracy:.3f}")

    lo, hi = iris.x.min(0) - 0.3, iris.x.max(0) + 0.3
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], 300), np.linspace(lo[1], hi[1], 300))
    plane = np.column_stack([g0.ravel(), g1.ravel()])
    s = scores(jaxperc.data.apply_standardizer(std, plane))
    regions = np.argmax(s, axis=0).reshape(g0.shape)
    fig, ax = plt.subplots(figsize=(6.5, 5), layout="constrained")
    ax.contourf(g0, g1, regions, levels=[-0.5, 0.5, 1.5, 2.5], alpha=0.25,
                colors=["C0", "C1", "C2"])  # fmt: skip
    for k, name in enumerate(iris.classes):
        ax.contour(g0, g1, s[k].reshape(g0.shape), levels=[0.5], colors=f"C{k}",
                   linestyles="--", linewidths=1)  # fmt: skip
        sel = iris.y == k
        ax.scatter(iris.x[sel, 0], iris.x[sel, 1], s=14, color=f"C{k}", label=name)
    ax.set_xlabel(FEATURES[0])
    ax.set_ylabel(FEATURES[1])
    ax.set_title(f"iris one-vs-rest: 3 perceptrons, accuracy {accuracy:.3f}")
    ax.legend()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig.savefig(out / "iris_regions.png", dpi=120)
    print(f"wrote {out / 'iris_regions.png'}")


if __name__ == "__main__":
    main()

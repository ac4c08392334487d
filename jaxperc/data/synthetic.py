"""Seeded synthetic data sets: linearly separable blobs and the XOR problem."""

from __future__ import annotations

import numpy as np

from jaxperc.data._validate import check_int, check_nonnegative, check_seed
from jaxperc.data.dataset import Dataset


def make_blobs(
    n_samples: int = 200,
    n_features: int = 2,
    *,
    margin: float = 0.5,
    noise: float = 0.0,
    seed: int = 0,
) -> Dataset:
    """Two classes on either side of a random hyperplane, kept ``margin`` away from it.

    Points are drawn from a standard normal around a random centre; each is
    reflected to its class's side of a random hyperplane through the centre and
    pushed ``margin`` further along the normal. With ``noise=0`` and ``margin > 0``
    every point is at least ``margin`` from the hyperplane, so the classes are
    linearly separable (Rosenblatt's rule converges); Gaussian ``noise`` added
    afterwards can make them overlap. Classes are balanced (sizes differ by <= 1).

    Args:
      n_samples: n >= 2 rows.
      n_features: d >= 1 columns, named "x1", "x2", ...
      margin: distance >= 0 from the hyperplane to the closest point before noise.
      noise: standard deviation >= 0 of Gaussian jitter added to every coordinate.
      seed: non-negative integer; the same arguments give the same data.

    Returns:
      A Dataset named "blobs" with x [n, d], y [n] in {0, 1}, classes ("0", "1").
    """
    n = check_int("n_samples", n_samples, minimum=2, why="so both classes appear")
    d = check_int("n_features", n_features, minimum=1)
    gap = check_nonnegative("margin", margin)
    jitter = check_nonnegative("noise", noise)
    rng = np.random.default_rng(check_seed(seed))
    normal = rng.normal(size=d)
    normal /= np.linalg.norm(normal)
    centre = rng.normal(size=d)
    y = rng.permutation(np.arange(n) % 2)
    z = rng.normal(size=(n, d))
    side = 2.0 * y - 1.0  # -1 for class 0, +1 for class 1
    along = z @ normal
    # Reflect onto the class's side, then move `gap` further out along the normal.
    z += (side * (np.abs(along) + gap) - along)[:, None] * normal[None, :]
    x = centre + z + jitter * rng.normal(size=(n, d))
    return Dataset(
        x=x,
        y=y,
        feature_names=tuple(f"x{j + 1}" for j in range(d)),
        classes=("0", "1"),
        name="blobs",
        target_name="y",
    )


def make_xor(n_samples: int = 200, *, noise: float = 0.1, seed: int = 0) -> Dataset:
    """The XOR problem: four clusters at (±1, ±1), label 1 where the signs differ.

    No straight line separates the classes: a linear model gets at most 3 of the 4
    clusters right, so a single perceptron stays near 75 % accuracy or below.

    Args:
      n_samples: n >= 4 rows, dealt evenly to the four corners.
      noise: standard deviation >= 0 of Gaussian jitter around each corner.
      seed: non-negative integer; the same arguments give the same data.

    Returns:
      A Dataset named "xor" with x [n, 2] (features "x1", "x2"), y [n] in {0, 1},
      classes ("0", "1").
    """
    n = check_int("n_samples", n_samples, minimum=4, why="(one per corner)")
    jitter = check_nonnegative("noise", noise)
    rng = np.random.default_rng(check_seed(seed))
    corners = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    corner_labels = np.array([0, 0, 1, 1])
    which = rng.permutation(np.arange(n) % 4)
    x = corners[which] + jitter * rng.normal(size=(n, 2))
    return Dataset(
        x=x,
        y=corner_labels[which],
        feature_names=("x1", "x2"),
        classes=("0", "1"),
        name="xor",
        target_name="y",
    )

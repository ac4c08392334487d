"""Real data sets shipped inside the package (see docs/datasets.md for sources)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from importlib import resources
from typing import NamedTuple

from jaxperc.data._validate import quoted
from jaxperc.data.csvfile import load_csv
from jaxperc.data.dataset import Dataset
from jaxperc.errors import DataError, unknown_choice

BREAST_CANCER_CLASSES = ("malignant", "benign")  # label 0, label 1 (as scikit-learn)
IRIS_CLASSES = ("setosa", "versicolor", "virginica")


class DatasetInfo(NamedTuple):
    """One line of the bundled data set listing."""

    name: str
    n_samples: int
    n_features: int
    n_classes: int
    description: str


@functools.cache
def _from_file(file_name: str, name: str, classes: tuple[str, ...]) -> Dataset:
    """Reads a bundled CSV (numeric label last) and names its classes."""
    source = resources.files("jaxperc.data") / "files" / file_name
    with resources.as_file(source) as path:
        data = load_csv(path)
    return dataclasses.replace(data, classes=classes, name=name)


def _breast_cancer() -> Dataset:
    return _from_file("breast_cancer.csv", "breast_cancer", BREAST_CANCER_CLASSES)


def _breast_cancer_2d() -> Dataset:
    data = _breast_cancer()
    return _columns(data, ["mean radius", "mean texture"], "breast_cancer_2d")


def _iris() -> Dataset:
    return _from_file("iris.csv", "iris", IRIS_CLASSES)


def _iris_setosa() -> Dataset:
    return _iris().binary("setosa")


def _iris_2d() -> Dataset:
    iris = _iris()
    two = iris.subset(iris.y < 2)
    two = dataclasses.replace(two, classes=IRIS_CLASSES[:2])
    return _columns(two, ["sepal length (cm)", "sepal width (cm)"], "iris_2d")


def _columns(data: Dataset, names: list[str], name: str) -> Dataset:
    cols = [data.feature_names.index(n) for n in names]
    return dataclasses.replace(
        data, x=data.x[:, cols], feature_names=tuple(names), name=name
    )


class _Entry(NamedTuple):
    load: Callable[[], Dataset]
    shape: tuple[int, int, int]  # n_samples, n_features, n_classes
    description: str


_REGISTRY: dict[str, _Entry] = {
    "breast_cancer": _Entry(
        _breast_cancer,
        (569, 30, 2),
        "Wisconsin diagnostic breast cancer; 1 = benign, 0 = malignant (default)",
    ),
    "breast_cancer_2d": _Entry(
        _breast_cancer_2d,
        (569, 2, 2),
        "breast_cancer on mean radius and mean texture only (not separable)",
    ),
    "iris": _Entry(
        _iris,
        (150, 4, 3),
        "Fisher's iris; 3 species, 50 each (one-vs-rest: three perceptrons)",
    ),
    "iris_setosa": _Entry(
        _iris_setosa,
        (150, 4, 2),
        "iris as setosa (1) versus the other two species (0); separable",
    ),
    "iris_2d": _Entry(
        _iris_2d,
        (100, 2, 2),
        "setosa (0) vs versicolor (1) on sepal length and width; separable",
    ),
}


def list_datasets() -> list[DatasetInfo]:
    """The bundled data sets, in a stable order, without reading any file.

    Returns:
      One DatasetInfo (name, n_samples, n_features, n_classes, description) each.
    """
    return [
        DatasetInfo(name, *entry.shape, entry.description)
        for name, entry in _REGISTRY.items()
    ]


def load_dataset(name: str) -> Dataset:
    """Loads a bundled data set by name (no network access; files ship with jaxperc).

    Args:
      name: one of the names from :func:`list_datasets`, e.g. "breast_cancer".

    Returns:
      The Dataset, with read-only arrays (repeated loads share them).
    """
    if not isinstance(name, str) or name not in _REGISTRY:
        shown = name if isinstance(name, str) else repr(name)
        message = unknown_choice(
            "data set",
            shown,
            _REGISTRY,
            subject=f"unknown data set {quoted(str(shown))}",
            quote=quoted,
            listing="bundled data sets are",
        )
        raise DataError(f"{message}; read your own file with load_csv(path)")
    return _REGISTRY[name].load()

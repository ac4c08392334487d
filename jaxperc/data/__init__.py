"""Data for perceptrons: bundled and synthetic sets, CSV files, scaling and splits.

Numpy only, so importing it is fast and it never touches an accelerator.
"""

from jaxperc.data.bundled import DatasetInfo, list_datasets, load_dataset
from jaxperc.data.csvfile import load_csv
from jaxperc.data.dataset import Dataset
from jaxperc.data.preprocess import (
    ConstantFeatureWarning,
    Standardizer,
    Standardizers,
    apply_standardizer,
    class_weight_columns,
    class_weights,
    fit_standardizer,
    fit_standardizers,
    one_vs_rest,
)
from jaxperc.data.sources import SYNTHETIC, source_kind, source_names
from jaxperc.data.splits import bootstrap_weights, kfold_weights, train_test_split
from jaxperc.data.synthetic import make_blobs, make_xor

__all__ = [
    "SYNTHETIC",
    "ConstantFeatureWarning",
    "Dataset",
    "DatasetInfo",
    "Standardizer",
    "Standardizers",
    "apply_standardizer",
    "bootstrap_weights",
    "class_weight_columns",
    "class_weights",
    "fit_standardizer",
    "fit_standardizers",
    "kfold_weights",
    "list_datasets",
    "load_csv",
    "load_dataset",
    "make_blobs",
    "make_xor",
    "one_vs_rest",
    "source_kind",
    "source_names",
    "train_test_split",
]

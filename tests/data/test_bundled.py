"""Bundled data sets: the facts accuracy numbers rest on, names, and provenance."""

import importlib.util
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from jaxperc.data import DatasetInfo, list_datasets, load_dataset
from jaxperc.errors import DataError

from ._helpers import linearly_separable

ROOT = Path(__file__).resolve().parents[2]


def test_breast_cancer_facts():
    data = load_dataset("breast_cancer")
    assert data.x.shape == (569, 30)
    assert data.classes == ("malignant", "benign")  # 1 = benign, as scikit-learn
    np.testing.assert_array_equal(data.class_counts(), [212, 357])
    assert data.feature_names[0] == "mean radius"
    assert data.x[0, 0] == 17.99 and data.y[0] == 0  # first row: malignant
    assert data.targets().shape == (569, 1)


def test_iris_facts():
    data = load_dataset("iris")
    assert data.x.shape == (150, 4)
    assert data.classes == ("setosa", "versicolor", "virginica")
    np.testing.assert_array_equal(data.class_counts(), [50, 50, 50])
    assert data.targets().shape == (150, 3)
    # Fisher's values for rows 35 and 38 (the UCI file has two wrong rows).
    np.testing.assert_array_equal(data.x[34], [4.9, 3.1, 1.5, 0.2])
    np.testing.assert_array_equal(data.x[37], [4.9, 3.6, 1.4, 0.1])


def test_binary_views():
    setosa = load_dataset("iris_setosa")
    assert setosa.classes == ("not setosa", "setosa")
    np.testing.assert_array_equal(setosa.class_counts(), [100, 50])
    assert linearly_separable(setosa.x, setosa.y)
    flat = load_dataset("iris_2d")
    assert flat.x.shape == (100, 2)
    assert flat.feature_names == ("sepal length (cm)", "sepal width (cm)")
    assert flat.classes == ("setosa", "versicolor")
    assert linearly_separable(flat.x, flat.y)  # Rosenblatt's rule converges here
    cancer = load_dataset("breast_cancer_2d")
    assert cancer.x.shape == (569, 2)
    assert not linearly_separable(cancer.x, cancer.y)


def test_listing_matches_what_loads():
    infos = list_datasets()
    assert [i.name for i in infos][:1] == ["breast_cancer"]
    assert {i.name for i in infos} >= {"breast_cancer", "iris", "iris_2d"}
    for info in infos:
        assert isinstance(info, DatasetInfo) and info.description
        data = load_dataset(info.name)
        assert data.name == info.name
        assert (data.n_samples, data.n_features, data.n_classes) == info[1:4]


def test_repeated_loads_share_read_only_arrays():
    first, second = load_dataset("iris"), load_dataset("iris")
    assert np.shares_memory(first.x, second.x)
    assert not first.x.flags.writeable


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("iris2d", 'did you mean "iris_2d"'),
        ("breast-cancer", 'did you mean "breast_cancer"'),
        ("mnist", '"breast_cancer", "breast_cancer_2d"'),
        (None, "unknown data set"),
    ],
)
def test_unknown_names_list_the_choices(name, fragment):
    with pytest.raises(DataError, match=fragment):
        load_dataset(name)


def test_files_ship_inside_the_package():
    files = resources.files("jaxperc.data") / "files"
    for name in ("breast_cancer.csv", "iris.csv", "README.md"):
        assert (files / name).is_file()


def test_bundled_files_are_what_the_script_makes_from_scikit_learn():
    pytest.importorskip("sklearn")
    spec = importlib.util.spec_from_file_location(
        "make_bundled_data", ROOT / "scripts" / "make_bundled_data.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    files = resources.files("jaxperc.data") / "files"
    for name, text in script.bundled_csv_texts().items():
        assert (files / name).read_text(encoding="utf-8") == text, name


def test_data_matches_scikit_learn_exactly():
    datasets = pytest.importorskip("sklearn.datasets")
    cancer = datasets.load_breast_cancer()
    ours = load_dataset("breast_cancer")
    np.testing.assert_array_equal(ours.x, cancer.data)
    np.testing.assert_array_equal(ours.y, cancer.target)
    assert ours.feature_names == tuple(cancer.feature_names)
    iris = datasets.load_iris()
    np.testing.assert_array_equal(load_dataset("iris").x, iris.data)


def test_datasets_doc_names_every_bundled_set():
    doc = (ROOT / "docs" / "datasets.md").read_text(encoding="utf-8")
    for info in list_datasets():
        assert f"`{info.name}`" in doc
    for fact in ("CC BY 4.0", "10.24432/C5DW2B", "10.24432/C56C76"):
        assert fact in doc

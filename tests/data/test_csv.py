"""load_csv: columns, labels and their mapping, formats, and the fast/slow paths."""

import numpy as np
import pytest

from jaxperc.data import load_csv
from jaxperc.data.csvcells import read_slow
from jaxperc.data.csvfile import _read_fast, _read_layout
from jaxperc.errors import DataError

from ._helpers import write_numeric_csv


def test_default_target_is_last_column_and_features_the_rest(write_csv):
    path = write_csv("a,b,label\n1,2.5,0\n3,-4e1,1\n5,6,1\n")
    data = load_csv(path)
    np.testing.assert_array_equal(data.x, [[1, 2.5], [3, -40], [5, 6]])
    assert data.x.dtype == np.float64
    np.testing.assert_array_equal(data.y, [0, 1, 1])
    assert data.feature_names == ("a", "b")
    assert data.target_name == "label"
    assert data.classes == ("0", "1")
    assert data.name == str(path)


def test_target_and_features_by_name_skip_other_columns(write_csv):
    path = write_csv("id,label,a,notes,b\nr1,1,1,hello,2\nr2,0,3,,4\n")
    data = load_csv(path, target="label", features=["b", "a"])
    np.testing.assert_array_equal(data.x, [[2, 1], [4, 3]])
    assert data.feature_names == ("b", "a")
    np.testing.assert_array_equal(data.y, [1, 0])


def test_columns_by_one_based_number(write_csv):
    path = write_csv("label,a,b\n1,1,2\n0,3,4\n")
    data = load_csv(path, target=1, features=[3])
    np.testing.assert_array_equal(data.x, [[2], [4]])
    assert data.target_name == "label"


def test_without_header_columns_are_named_col1_col2(write_csv):
    path = write_csv("1,5,0\n2,6,1\n3,7,1\n")
    data = load_csv(path, header=False)
    assert data.feature_names == ("col1", "col2")
    assert data.target_name == "col3"
    by_name = load_csv(path, header=False, target="col1")
    assert by_name.feature_names == ("col2", "col3")
    assert by_name.classes == ("1", "2", "3")


def test_text_labels_map_by_string_sort_and_report_the_mapping(write_csv):
    path = write_csv("a,b,kind\n1,2,yes\n3,4,no\n5,6, yes \n")
    data = load_csv(path)
    assert data.classes == ("no", "yes")
    np.testing.assert_array_equal(data.y, [1, 0, 1])
    np.testing.assert_array_equal(data.targets(), [[1.0], [0.0], [1.0]])


def test_numeric_labels_sort_numerically_not_as_text(write_csv):
    data = load_csv(write_csv("a,label\n1,10\n2,9\n3,10.0\n4,9\n"))
    assert data.classes == ("9", "10")  # text order would put "10" first
    np.testing.assert_array_equal(data.y, [1, 0, 1, 0])


def test_numeric_labels_in_a_file_with_a_text_column_still_sort_numerically(
    write_csv,
):
    data = load_csv(write_csv("a,note,label\n1,x,2\n2,y,-1\n3,z,0.5\n"), features=["a"])
    assert data.classes == ("-1", "0.5", "2")
    np.testing.assert_array_equal(data.y, [2, 0, 1])


def test_more_than_two_classes_give_one_vs_rest_targets(write_csv):
    data = load_csv(write_csv("a,sp\n1,cat\n2,dog\n3,emu\n4,dog\n"))
    assert data.classes == ("cat", "dog", "emu")
    np.testing.assert_array_equal(
        data.targets(), [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]
    )


@pytest.mark.parametrize(
    "text",
    [
        "a;b;label\n1;2;0\n3;4;1\n",
        "\ufeffa,b,label\r\n1,2,0\r\n3,4,1\r\n",
        'a,"b",label\n"1"," 2 ",0\n\n3,4,"1"\n',
        "a,b,label\n1,2,0\n3,4,1",
    ],
    ids=["semicolon", "bom-crlf", "quotes-spaces-blank-line", "no-final-newline"],
)
def test_common_formats_read_the_same(write_csv, text):
    delimiter = ";" if ";" in text else ","
    data = load_csv(write_csv(text), delimiter=delimiter)
    np.testing.assert_array_equal(data.x, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(data.y, [0, 1])
    assert data.feature_names == ("a", "b")


def test_tab_delimiter(write_csv):
    data = load_csv(write_csv("a\tb\tlabel\n1\t2\tx\n3\t4\ty\n"), delimiter="\t")
    np.testing.assert_array_equal(data.x, [[1, 2], [3, 4]])


def test_loaded_arrays_are_read_only(write_csv):
    data = load_csv(write_csv("a,label\n1,0\n2,1\n"))
    with pytest.raises(ValueError, match="read-only"):
        data.x[0, 0] = 5.0


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"features": "a"}, "features must be a list"),
        ({"features": []}, "no feature columns"),
        ({"features": ["a", "a"]}, "listed twice"),
        ({"features": ["a", "label"]}, "both the target and a feature"),
        ({"target": 0}, "target column 0 does not exist"),
        ({"target": True}, "column name or a 1-based column number"),
        ({"delimiter": ";;"}, "delimiter must be one character"),
        ({"delimiter": '"'}, "delimiter must be one character"),
    ],
)
def test_bad_arguments_are_refused(write_csv, kwargs, fragment):
    path = write_csv("a,b,label\n1,2,0\n3,4,1\n")
    with pytest.raises(DataError, match=fragment):
        load_csv(path, **kwargs)


def test_path_must_be_a_path():
    with pytest.raises(DataError, match="path must be a file path"):
        load_csv(42)


def test_fast_and_slow_paths_agree_on_20k_rows(tmp_path):
    path = tmp_path / "big.csv"
    write_numeric_csv(path, 20_000, 6, seed=3)
    layout = _read_layout(str(path), True, ",")
    features, target = list(range(6)), 6
    fast = _read_fast(layout, features, target)
    assert fast is not None, "a clean numeric file must take the fast path"
    slow = read_slow(layout, features, target)
    np.testing.assert_array_equal(fast[0], slow[0])
    assert fast[0].shape == (20_000, 6)
    np.testing.assert_array_equal(
        fast[1], np.asarray(slow[2], float)[slow[1].astype(int)]
    )
    data = load_csv(path)
    assert data.n_samples == 20_000 and data.classes == ("0", "1")
    assert 0.3 < data.y.mean() < 0.7


def test_fast_and_slow_paths_agree_on_text_labels_and_skipped_columns(write_csv):
    rows = [f"{i},{i * 0.5},{'junk' if i % 3 else ''},{'bc'[i % 2]}" for i in range(50)]
    path = write_csv("a,b,note,label\n" + "\n".join(rows) + "\n")
    layout = _read_layout(str(path), True, ",")
    fast = _read_fast(layout, [0, 1], 3)
    slow = read_slow(layout, [0, 1], 3)
    assert fast is not None
    np.testing.assert_array_equal(fast[0], slow[0])
    assert fast[2] == slow[2] == ["b", "c"]
    np.testing.assert_array_equal(fast[1], slow[1])


def test_the_fast_path_declines_bad_cells_so_the_slow_path_can_name_them(write_csv):
    path = write_csv("a,b,label\n1,2,0\n3,nan,1\n")
    assert _read_fast(_read_layout(str(path), True, ","), [0, 1], 2) is None
    with pytest.raises(DataError, match=r"row 3, column 2"):
        read_slow(_read_layout(str(path), True, ","), [0, 1], 2)

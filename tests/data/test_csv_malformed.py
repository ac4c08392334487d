"""Every malformed file in tests/data/malformed/ is refused with a precise message.

One row per file: the keyword arguments, a kind (the test id) and the fragments the
one-line message must contain, e.g. the 1-based row and column and the fix.
"""

import os
from pathlib import Path

import pytest

from jaxperc.data import load_csv
from jaxperc.errors import DataError

CORPUS = Path(__file__).parent / "malformed"

# file, load_csv keyword arguments, kind, fragments the message must contain
CASES = [
    ("empty.csv", {}, "empty", ["the file is empty"]),
    ("blank_only.csv", {}, "empty", ["the file is empty"]),
    ("header_only.csv", {}, "header only", ["no data rows"]),
    ("ragged_short.csv", {}, "ragged", ["row 4 has 2 fields", "header has 3"]),
    ("ragged_long.csv", {}, "ragged", ["row 3 has 4 fields", "header has 3"]),
    ("trailing_delimiter.csv", {}, "ragged", ["row 5 has 4 fields"]),
    ("whitespace_row.csv", {}, "ragged", ["row 5 has 1 field but"]),
    ("unclosed_quote.csv", {}, "ragged", ["row 3 has 2 fields", "unclosed quote"]),
    ("text_cell.csv", {}, "not a number", ['row 5, column 2 ("b")', "'abc' is not"]),
    ("quoted_comma.csv", {}, "not a number", ["row 3, column 1", "'3,5' is not"]),
    ("underscore_number.csv", {}, "not a number", ["row 3, column 2", "'1_000'"]),
    ("blank_lines_then_bad.csv", {}, "not a number", ["row 6, column 2", "'x'"]),
    ("empty_cell.csv", {}, "missing", ['row 3, column 1 ("a")', "cell is empty"]),
    ("na_cell.csv", {}, "missing", ["row 4, column 2", "'NA' is a missing value"]),
    ("nan_cell.csv", {}, "missing", ["row 3, column 1", "'nan' is a missing value"]),
    ("inf_cell.csv", {}, "infinite", ["row 3, column 2", "'-inf' is infinite"]),
    ("overflow_cell.csv", {}, "infinite", ["row 3, column 2", "'1e999' is infinite"]),
    ("empty_label.csv", {}, "missing label", ['row 4, column 3 ("label")', "empty"]),
    ("na_label.csv", {}, "missing label", ["row 3, column 3", "'N/A' is a missing"]),
    ("inf_label.csv", {}, "bad label", ["row 3, column 3", "not a finite number"]),
    ("single_class.csv", {}, "single class", ['single class "1"', "target="]),
    ("duplicate_header.csv", {}, "bad header", ["columns 1 and 3", 'named "a"']),
    ("numeric_header.csv", {}, "bad header", ["looks like data", "header=False"]),
    ("blank_first_line.csv", {}, "bad header", ["row 1 is blank"]),
    ("nameless_column.csv", {}, "bad header", ["column 1 has no name"]),
    ("semicolon.csv", {}, "delimiter", ["no feature columns", "delimiter=';'"]),
    ("latin1.csv", {}, "encoding", ["not UTF-8", "save it as UTF-8"]),
    (
        "no_header_bad.csv",
        {"header": False},
        "missing",
        ['row 3, column 2 ("col2")', "'?' is a missing value"],
    ),
    (
        "text_cell.csv",
        {"target": "lable"},
        "unknown target",
        ['no column named "lable"', 'did you mean "label"', '"a", "b", "label"'],
    ),
    (
        "text_cell.csv",
        {"features": ["a", "c"]},
        "unknown feature",
        ['no column named "c" for the feature', "available columns"],
    ),
    (
        "numeric_header.csv",
        {"header": False, "target": 4},
        "target out of range",
        ["target column 4 does not exist", "numbered 1 to 3"],
    ),
    ("does_not_exist.csv", {}, "missing file", ["file not found", "check the path"]),
]


def test_corpus_and_table_match():
    listed = {case[0] for case in CASES}
    on_disk = {p.name for p in CORPUS.glob("*.csv")}
    assert on_disk == listed - {"does_not_exist.csv"}


@pytest.mark.parametrize(
    ("file", "kwargs", "kind", "fragments"),
    CASES,
    ids=[f"{case[0]}-{case[2]}" for case in CASES],
)
def test_malformed_file_is_refused(file, kwargs, kind, fragments, tmp_path):
    before = sorted(os.listdir(CORPUS))
    path = CORPUS / file
    with pytest.raises(DataError) as info:
        load_csv(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message, "messages are one line"
    assert message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, f"{kind}: {fragment!r} not in {message!r}"
    assert sorted(os.listdir(CORPUS)) == before, "loading must not write files"


def test_a_folder_is_refused():
    with pytest.raises(DataError, match="is a folder"):
        load_csv(CORPUS)


def test_failed_load_writes_nothing_in_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.csv").write_text("a,b,label\n1,x,0\n2,3,1\n")
    with pytest.raises(DataError, match="row 2, column 2"):
        load_csv("bad.csv")
    assert os.listdir(tmp_path) == ["bad.csv"]

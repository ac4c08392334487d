"""Regenerates the bundled CSV files in jaxperc/data/files/ from scikit-learn's copies.

The files ship inside the package, so users never run this; it records where the
numbers came from and lets anyone rebuild them byte for byte. Needs scikit-learn.

Usage:
  python scripts/make_bundled_data.py          # (re)write the CSV files
  python scripts/make_bundled_data.py --check  # exit 1 if a file differs
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

FILES_DIR = Path(__file__).resolve().parent.parent / "jaxperc" / "data" / "files"


def _csv_text(features, target, feature_names, target_name: str) -> str:
    """One header row, then features as shortest round-trip floats and an int label."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*feature_names, target_name])
    for row, label in zip(features.tolist(), target.tolist(), strict=True):
        writer.writerow([*(repr(float(v)) for v in row), int(label)])
    return out.getvalue()


def bundled_csv_texts() -> dict[str, str]:
    """The text of each bundled CSV file, keyed by file name, built from scikit-learn.

    breast_cancer.csv: 569 rows, 30 features, "diagnosis" 0 = malignant, 1 = benign.
    iris.csv: 150 rows, 4 features, "species" 0 = setosa, 1 = versicolor,
    2 = virginica.
    """
    from sklearn.datasets import load_breast_cancer, load_iris

    cancer = load_breast_cancer()
    assert list(cancer.target_names) == ["malignant", "benign"]
    iris = load_iris()
    assert list(iris.target_names) == ["setosa", "versicolor", "virginica"]
    return {
        "breast_cancer.csv": _csv_text(
            cancer.data, cancer.target, cancer.feature_names, "diagnosis"
        ),
        "iris.csv": _csv_text(iris.data, iris.target, iris.feature_names, "species"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="compare with the files, write nothing"
    )
    args = parser.parse_args(argv)
    stale = []
    for name, text in bundled_csv_texts().items():
        path = FILES_DIR / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            print(f"{path}: up to date")
        elif args.check:
            stale.append(name)
            print(f"{path}: differs from scikit-learn's copy")
        else:
            path.write_text(text, encoding="utf-8")
            print(f"{path}: written ({text.count(chr(10)) - 1} rows)")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

"""Large synthetic CSV files, and the time and peak memory ``load_csv`` needs for them.

Run ``python -m jaxperc.data.bench --rows 1000000 --cols 20`` to measure; each
measurement loads the file in a fresh Python process so its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from jaxperc.data._validate import check_int, check_seed

_CHUNK_ROWS = 100_000

_MEASURE = """
import json, resource, sys, time
from jaxperc.data import load_csv
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
data = load_csv(sys.argv[1])
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_rss_mib": peak / 1024,
                  "rss_before_mib": before / 1024, "x_mib": data.x.nbytes / 2**20,
                  "shape": list(data.x.shape), "classes": list(data.classes)}))
"""


def make_large_csv(
    path: str | os.PathLike[str], n_rows: int, n_cols: int, seed: int = 0
) -> Path:
    """Writes a CSV of random numeric features and a 0/1 label, chunk by chunk.

    Args:
      path: the file to write (overwritten).
      n_rows: n >= 1 data rows below the header.
      n_cols: d >= 1 feature columns "x1".."xd"; a last column "label" follows.
      seed: non-negative integer; the same arguments give the same file.

    Returns:
      The path written. Features are standard normal with 6 significant digits;
      the label says which side of a random hyperplane the row lies on.
    """
    rows = check_int("n_rows", n_rows, minimum=1)
    cols = check_int("n_cols", n_cols, minimum=1)
    rng = np.random.default_rng(check_seed(seed))
    normal = rng.normal(size=cols)
    out = Path(path)
    header = ",".join([*(f"x{j + 1}" for j in range(cols)), "label"])
    fmt = ["%.6g"] * cols + ["%d"]
    with out.open("w", encoding="utf-8", newline="\n") as f:
        f.write(header + "\n")
        for start in range(0, rows, _CHUNK_ROWS):
            x = rng.normal(size=(min(_CHUNK_ROWS, rows - start), cols))
            label = (x @ normal > 0).astype(np.float64)
            np.savetxt(f, np.column_stack([x, label]), fmt=fmt, delimiter=",")
    return out


def measure_load_csv(path: str | os.PathLike[str]) -> dict:
    """Loads ``path`` with ``load_csv`` in a fresh process and reports the cost.

    Returns:
      A dict with "seconds" (load time), "peak_rss_mib" (peak resident memory of
      that process), "rss_before_mib" (after imports, before loading), "x_mib"
      (size of the feature array), "shape" and "classes".
    """
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, os.fspath(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cols", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.csv"
        make_large_csv(path, args.rows, args.cols, args.seed)
        size = path.stat().st_size / 2**20
        report = measure_load_csv(path)
    report["file_mib"] = size
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

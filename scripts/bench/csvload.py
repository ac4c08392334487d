"""Large synthetic CSV files, and the time and peak memory ``load_csv`` needs.

Each measurement loads the file in a fresh Python process, so its peak memory is
its own; the figure reported is the peak above a bare ``import jaxperc.data``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from .coldstart import child_env

_CHUNK_ROWS = 10_000

# Peak RSS of the child itself. VmHWM starts afresh at exec; ru_maxrss does not
# (Linux carries the parent's over to the child), so it is only the fallback.
_RSS = """
import json, resource
def rss():
    try:
        with open("/proc/self/status") as f:
            hwm = [ln for ln in f if ln.startswith("VmHWM:")]
        return int(hwm[0].split()[1]) * 1024
    except (OSError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
"""
_BASE = _RSS + "import jaxperc.data\nprint(json.dumps({'rss': rss()}))"
_LOAD = _RSS + (
    "import sys, time\nimport jaxperc.data\nt = time.perf_counter()\n"
    "ds = jaxperc.data.load_csv(sys.argv[1])\n"
    "print(json.dumps({'seconds': time.perf_counter() - t, 'rss': rss(), "
    "'shape': list(ds.x.shape)}))"
)


def make_large_csv(path, n_rows: int, n_cols: int, seed: int = 0) -> Path:
    """A CSV of standard-normal features (6 significant digits) and a 0/1 label.

    The label says which side of a random hyperplane the row lies on; rows are
    written chunk by chunk, so memory stays small however many there are.
    """
    rng = np.random.default_rng(seed)
    normal = rng.normal(size=n_cols)
    out = Path(path)
    header = ",".join([*(f"x{j + 1}" for j in range(n_cols)), "label"])
    fmt = ["%.6g"] * n_cols + ["%d"]
    with out.open("w", encoding="utf-8", newline="\n") as f:
        f.write(header + "\n")
        for start in range(0, n_rows, _CHUNK_ROWS):
            x = rng.normal(size=(min(_CHUNK_ROWS, n_rows - start), n_cols))
            label = (x @ normal > 0).astype(np.float64)
            np.savetxt(f, np.column_stack([x, label]), fmt=fmt, delimiter=",")
    return out


def _python(code: str, *argv: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object last."""
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(),
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def csv_loading(quick: bool, workdir) -> dict:
    """load_csv on rows × 20 numbers: time and peak memory above a bare import."""
    rows, cols = (20_000, 20) if quick else (1_000_000, 20)
    path = make_large_csv(os.path.join(workdir, "big.csv"), rows, cols)
    base = _python(_BASE)
    got = _python(_LOAD, os.fspath(path))
    out = {
        "rows": rows,
        "cols": cols,
        "file_bytes": path.stat().st_size,
        "seconds": got["seconds"],
        "peak_rss_above_import_bytes": got["rss"] - base["rss"],
        "x_bytes": 8 * rows * cols,
        "shape": got["shape"],
    }
    path.unlink()
    print(
        f"\n== load_csv {rows}×{cols}: {out['seconds']:.2f} s, peak "
        f"{out['peak_rss_above_import_bytes'] / 2**20:.0f} MiB",
        flush=True,
    )
    return out

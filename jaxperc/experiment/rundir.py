"""The run folder on disk: what a run writes, how it is read back, atomically.

A run folder holds ``config.toml`` (the resolved config), ``run.json`` (command,
versions, device, times, status), ``metrics.csv`` (cost per model and epoch),
``metrics/`` (the same as Parquet, written during the run: :mod:`.history`),
``summary.json``, ``params.npz`` (parameters and preprocessing, no pickle),
``plots/`` and, while running, ``checkpoint.npz``. Every file is written to a
temporary name and renamed, so a crash never leaves half a file.
"""

import contextlib
import csv
import datetime
import json
import platform
from pathlib import Path
from typing import Any

import numpy as np

from jaxperc._version import __version__
from jaxperc.errors import DataError, JaxpercError
from jaxperc.experiment.config import Config, to_toml
from jaxperc.training.checkpoint import atomic_write

CONFIG = "config.toml"
RUN = "run.json"
METRICS = "metrics.csv"
SUMMARY = "summary.json"
PARAMS = "params.npz"
CHECKPOINT = "checkpoint.npz"
# what params.npz says about the coordinates its w and b are in
COORDINATES = (
    "w and b of model m act on (x - mean[s]) / scale[s], s = standardizer_index[m]"
)
OUR_FILES = (CONFIG, RUN, METRICS, SUMMARY, PARAMS, CHECKPOINT)


def now() -> str:
    """Local time with offset, to the second (ISO 8601)."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def fresh_run_path(root: str | Path, stem: str) -> Path:
    """``root/<stem>-<YYYYmmdd-HHMMSS>[-N]``: a folder name not taken yet."""
    root = Path(root)
    base = f"{stem}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    for n in range(1, 10_000):
        path = root / (base if n == 1 else f"{base}-{n}")
        if not path.exists():
            return path
    raise JaxpercError(f"{root}: too many runs named {base}; use --out DIR")


def create_run_dir(path: Path) -> bool:
    """Make ``path`` (True) or accept it empty (False); refuse a non-empty one."""
    path = Path(path)
    if path.exists():
        if not path.is_dir() or any(path.iterdir()):
            raise JaxpercError(
                f"{path} already exists and is not empty; pick another --out or "
                "leave it out for a new folder under output.dir"
            )
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir()
    except FileExistsError:
        raise JaxpercError(f"{path} was just created by another run; retry") from None
    return True


def remove_temporaries(run_dir: Path) -> None:
    """Delete the temporary files a killed write left (``atomic_write``'s ``*.tmp``)."""
    for path in Path(run_dir).glob("*.tmp"):
        path.unlink(missing_ok=True)


def remove_run_dir(path: Path) -> None:
    """Remove a run folder this package created, if it holds only its own files."""
    path = Path(path)
    for name in OUR_FILES:
        (path / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.rmdir()


def versions() -> dict[str, str]:
    import jax
    import jaxlib
    import optax

    return {
        "jaxperc": __version__,
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "optax": optax.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def device_info() -> dict[str, Any]:
    import jax

    devices = jax.devices()
    return {
        "platform": devices[0].platform,
        "kind": devices[0].device_kind,
        "count": len(devices),
    }


def run_info(command: list[str]) -> dict[str, Any]:
    """The first ``run.json`` of a run."""
    return {
        "command": list(command),
        "versions": versions(),
        "device": device_info(),
        "started": now(),
        "ended": None,
        "status": "running",
    }


def read_run_json(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / RUN
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise JaxpercError(f"{run_dir}: not a run folder (no {RUN})") from None
    except (OSError, ValueError) as err:
        raise JaxpercError(f"{path}: unreadable ({err})") from None


def update_run_json(run_dir: Path, **fields) -> None:
    info = read_run_json(run_dir)
    if "resumed" in fields:
        info.setdefault("resumed", []).append(fields.pop("resumed"))
        info["ended"] = None
    info.update(fields)
    write_json(Path(run_dir) / RUN, info)


def config_text(config: Config) -> str:
    return "# resolved config of this run: jaxperc run --resume reads it\n" + to_toml(
        config
    )


def write_params(path: Path, problem, result, best: int, activation: str) -> None:
    """Parameters and the preprocessing they need, loadable without pickle."""
    ti, _ = problem.model_columns()
    mean, scale, index = standardizer_tables(problem)
    arrays = {
        "w": np.asarray(result.params.w),
        "b": np.asarray(result.params.b),
        "mean": mean,
        "scale": scale,
        "standardizer_index": index,
        "coordinates": np.asarray(COORDINATES),
        "feature_names": np.asarray(problem.dataset.feature_names, dtype=str),
        "classes": np.asarray(problem.dataset.classes, dtype=str),
        "target_index": ti,
        "positive": np.asarray(problem.positive, dtype=str)[ti],
        "negative": np.asarray(problem.negative, dtype=str)[ti],
        "activation": np.asarray(activation),
        "best": np.int64(best),
    }
    for name, values in problem.grid.labels.items():
        arrays[f"label_{name}"] = np.asarray(values)
    atomic_write(path, lambda f: np.savez(f, **arrays))


def standardizer_tables(problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``mean`` [F, d], ``scale`` [F, d] and each model's row ``standardizer_index``."""
    m, inputs = problem.grid.size, problem.inputs
    if inputs.tables is not None:
        mean, scale = inputs.tables.mean, inputs.tables.scale
        index = inputs.index
    else:
        std = problem.standardizer_of(0)  # the one global standardizer (or identity)
        mean, scale, index = std.mean[None, :], std.scale[None, :], np.zeros(m)
    return (
        np.asarray(mean, np.float64),
        np.asarray(scale, np.float64),
        np.asarray(index, np.int64),
    )


def read_params(run_dir: Path) -> dict[str, np.ndarray]:
    """``params.npz`` of a finished run as a dict of arrays."""
    path = Path(run_dir) / PARAMS
    if not path.exists():
        status = read_run_json(run_dir).get("status")
        raise JaxpercError(
            f"{run_dir}: no {PARAMS} (run status: {status}); finish it with "
            f"jaxperc run --resume {run_dir}"
        )
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as err:
        raise JaxpercError(f"{path}: unreadable ({err})") from None


def write_results(run_dir: Path, problem, result, summary, activation: str) -> None:
    """summary.json and params.npz of a finished run (metrics: ``history``)."""
    run_dir = Path(run_dir)
    write_json(run_dir / SUMMARY, summary)
    write_params(
        run_dir / PARAMS, problem, result, summary["best"]["model"], activation
    )


def read_column(path: str | Path, name: str) -> list[str]:
    """The cells of column ``name`` of a CSV file with a header, as text."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    header = [h.strip() for h in rows[0]] if rows else []
    if name not in header:
        raise DataError(
            f"{path}: no column {name!r} (--id-column); columns are {', '.join(header)}"
        )
    c = header.index(name)
    return [row[c] if c < len(row) else "" for row in rows[1:]]


def read_features(path: str | Path, feature_names: list[str]) -> np.ndarray:
    """[n, d] float64 columns named ``feature_names`` from a CSV file with a header."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: unreadable ({err})") from None
    if not rows:
        raise DataError(f"{path}: empty file; it needs a header row of feature names")
    header = [h.strip() for h in rows[0]]
    missing = [n for n in feature_names if n not in header]
    if missing:
        raise DataError(
            f"{path}: no column {missing[0]!r}; the model needs the columns "
            f"{', '.join(feature_names)}"
        )
    cols = [header.index(n) for n in feature_names]
    x = np.empty((len(rows) - 1, len(cols)))
    for i, row in enumerate(rows[1:]):
        for j, c in enumerate(cols):
            cell = row[c].strip() if c < len(row) else ""
            try:
                x[i, j] = float(cell)
            except ValueError:
                raise DataError(
                    f"{path}: row {i + 2}, column {feature_names[j]!r} holds "
                    f"{cell!r}, not a number; fix or remove that row"
                ) from None
    if not np.isfinite(x).all():
        i, j = np.argwhere(~np.isfinite(x))[0]
        raise DataError(
            f"{path}: row {i + 2}, column {feature_names[j]!r} is not finite; "
            "fix or remove that row"
        )
    return x

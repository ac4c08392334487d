"""The run folder on disk: what a run writes, how it is read back, atomically.

A run folder holds ``config.toml`` (the resolved config), ``run.json`` (command,
versions, device, times, status), ``metrics.csv`` (cost per model and epoch),
``metrics/`` (the same as Parquet, written during the run: :mod:`.history`),
``summary.json``, ``params.npz`` (parameters and preprocessing, no pickle),
``plots/`` and, while running, ``checkpoint.npz``. Every file is written to a
temporary name and renamed, so a crash never leaves half a file.
"""

import contextlib
import datetime
import hashlib
import json
import os
import platform
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from jaxperc._version import __version__
from jaxperc.errors import CheckpointError, JaxpercError
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
PARAM_KEYS = ("w", "b", "mean", "scale", "feature_names", "positive", "negative")
PARAM_KEYS += ("activation", "best")


def now() -> str:
    """Local time with offset, to the second (ISO 8601)."""
    return datetime.datetime.now().astimezone().isoformat(timespec="seconds")


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))


def write_json(path: Path, data: Any) -> None:
    write_text(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


class NewRunFolder(NamedTuple):
    """A run folder still to be named: ``root/<stem>-<YYYYmmdd-HHMMSS>[-N]``."""

    root: Path
    stem: str


def check_run_name(name: str) -> str:
    """A run name is one folder name: it cannot leave ``output.dir``."""
    bad = not name or name in (".", "..") or "\0" in name
    if bad or "/" in name or "\\" in name or os.sep in name:
        raise JaxpercError(
            f"--name {name!r}: a run name is one folder name, without '/' or '..'; "
            "use --out DIR for a folder elsewhere"
        )
    return name


def _make_parents(path: Path) -> list[Path]:
    """Create the missing folders above ``path``; → those created, outermost first."""
    missing = [p for p in reversed(path.parents) if not p.exists()]
    made = []
    for folder in missing:
        try:
            folder.mkdir()
        except FileExistsError:
            continue  # another run made it meanwhile
        except OSError as err:
            remove_folders(made)
            raise JaxpercError(
                f"{folder}: cannot create the folder ({err.strerror}); check "
                "output.dir or --out"
            ) from None
        made.append(folder)
    return made


def claim_run_dir(where: "Path | NewRunFolder") -> tuple[Path, list[Path]]:
    """Create the run folder; → (its path, every folder made, outermost first).

    A :class:`NewRunFolder` is claimed with ``mkdir``, which only one process can
    win, so runs started in the same second get ``-2``, ``-3``… An exact path may
    exist if empty; a non-empty one is refused.
    """
    if isinstance(where, NewRunFolder):
        base = f"{where.stem}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
        made = _make_parents(Path(where.root) / base)
        for n in range(1, 100_000):
            path = Path(where.root) / (base if n == 1 else f"{base}-{n}")
            try:
                path.mkdir()
            except FileExistsError:
                continue
            except OSError as err:
                remove_folders(made)
                raise JaxpercError(
                    f"{path}: cannot create the run folder ({err.strerror}); check "
                    "output.dir"
                ) from None
            return path, [*made, path]
        remove_folders(made)
        raise JaxpercError(f"{where.root}: too many runs named {base}; use --out DIR")
    path = Path(where)
    if path.exists():
        if not path.is_dir() or any(path.iterdir()):
            raise JaxpercError(
                f"{path}: already exists and is not empty; pick another --out or "
                "leave it out for a new folder under output.dir"
            )
        return path, []
    made = _make_parents(path)
    try:
        path.mkdir()
    except OSError as err:
        remove_folders(made)
        raise JaxpercError(
            f"{path}: cannot create the run folder ({err.strerror}); pick another --out"
        ) from None
    return path, [*made, path]


def create_run_dir(path: Path) -> bool:
    """Make ``path`` (True) or accept it empty (False); refuse a non-empty one."""
    return bool(claim_run_dir(Path(path))[1])


def remove_temporaries(run_dir: Path) -> None:
    """Remove what an interrupted atomic write left (``<file>*.tmp``)."""
    run_dir = Path(run_dir)
    for folder in (run_dir, run_dir / "plots", run_dir / "metrics"):
        for tmp in folder.glob("*.tmp") if folder.is_dir() else ():
            with contextlib.suppress(OSError):
                tmp.unlink()


def remove_folders(made: list[Path]) -> None:
    """Remove folders this run created (innermost first), where empty."""
    for folder in reversed(made):
        with contextlib.suppress(OSError):
            folder.rmdir()


def remove_run_dir(path: Path, made: list[Path] | None = None) -> None:
    """Remove a run folder this package created, if it holds only its own files,
    and the folders above it that the run made (``made``) where left empty."""
    path = Path(path)
    for name in OUR_FILES:
        (path / name).unlink(missing_ok=True)
    remove_temporaries(path)
    history = path / "metrics"  # the per-epoch history's parts, if any were written
    for part in history.glob("part-*.parquet") if history.is_dir() else ():
        part.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        history.rmdir()
    with contextlib.suppress(OSError):
        path.rmdir()
    remove_folders(list(made or []))


def fingerprint(config_text: str, arrays: list[np.ndarray]) -> dict[str, str]:
    """SHA-256 of the resolved config and of the data arrays a run trains on."""
    data = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        data.update(f"{a.dtype.str}{a.shape}".encode())
        data.update(a.tobytes())
    return {
        "config_sha256": hashlib.sha256(config_text.encode()).hexdigest(),
        "data_sha256": data.hexdigest(),
    }


def check_fingerprint(run_dir: Path, info: dict, now: dict[str, str]) -> None:
    """Refuse to resume when the folder's config or data changed since it began."""
    then = info.get("fingerprint")
    if not isinstance(then, dict):
        return  # a folder from before fingerprints: nothing to compare
    if then.get("config_sha256") != now["config_sha256"]:
        raise CheckpointError(
            f"{Path(run_dir) / CONFIG}: differs from the config this run started "
            f"with (hash in {RUN}); undo the edit to resume, or start a new run "
            f"with jaxperc run {Path(run_dir) / CONFIG}"
        )
    if then.get("data_sha256") != now["data_sha256"]:
        raise CheckpointError(
            f"{run_dir}: the data differ from those this run started with (hash in "
            f"{RUN}), e.g. the CSV file changed; restore them to resume, or start "
            "a new run"
        )


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
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(
            f"{run_dir}: not a run folder (no {RUN}); give a folder that "
            "jaxperc run made"
        ) from None
    except (OSError, ValueError) as err:
        why = err.strerror if isinstance(err, OSError) else "not valid JSON"
        raise CheckpointError(
            f"{path}: cannot be read ({why}); the run folder is damaged, start "
            "the run again"
        ) from None
    if not isinstance(info, dict) or not isinstance(info.get("status", ""), str):
        raise CheckpointError(
            f"{path}: not a run record (expected a JSON object with a status); "
            "the run folder is damaged, start the run again"
        )
    return info


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


def _standardizer_rows_ok(params) -> bool:
    """[F, d] tables come with a valid row index per model."""
    if np.ndim(params["mean"]) == 1:
        return True
    index = params.get("standardizer_index")
    return (
        index is not None
        and np.shape(index) == np.shape(params["b"])
        and bool(np.all((index >= 0) & (index < np.shape(params["mean"])[0])))
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
        fix = {
            "completed": "the file was removed; run the config again",
            "failed": "the run failed; fix it and run the config again",
        }.get(status, f"finish the run with jaxperc run --resume {run_dir}")
        raise CheckpointError(f"{path}: missing (run status: {status}); {fix}")
    damaged = (
        f"{path}: not a readable parameter file (corrupt, truncated or from "
        "another program); run the config again"
    )
    try:
        with open(path, "rb") as f:
            z = np.load(f, allow_pickle=False)
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive")
            with z:
                params = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
        raise CheckpointError(damaged) from None
    missing = [k for k in PARAM_KEYS if k not in params]
    if missing:
        raise CheckpointError(f"{damaged} (no {missing[0]!r})")
    m = np.shape(params["b"])
    shapes_ok = (
        np.ndim(params["w"]) == 2
        and len(m) == 1
        and np.shape(params["w"])[0] == m[0]
        and np.shape(params["mean"]) == np.shape(params["scale"])
        and np.shape(params["mean"])[-1] == np.shape(params["w"])[1]
        and np.ndim(params["mean"]) in (1, 2)  # [d], or [F, d] tables
        and _standardizer_rows_ok(params)
        and np.shape(params["feature_names"]) == (np.shape(params["w"])[1],)
        and np.shape(params["positive"]) == m
        and np.shape(params["negative"]) == m
        and np.ndim(params["best"]) == 0
        and np.issubdtype(params["w"].dtype, np.floating)
    )
    if not shapes_ok or not 0 <= int(params["best"]) < m[0]:
        raise CheckpointError(f"{damaged} (arrays of inconsistent shapes)")
    return params


def write_results(run_dir: Path, problem, result, summary, activation: str) -> None:
    """summary.json and params.npz of a finished run (metrics: ``history``)."""
    run_dir = Path(run_dir)
    write_json(run_dir / SUMMARY, summary)
    write_params(
        run_dir / PARAMS, problem, result, summary["best"]["model"], activation
    )

"""A training run in progress, as plain arrays: what a checkpoint holds.

:class:`RunState` is everything ``train_many`` needs to continue a run exactly where
it stopped: every model's state, the order of models in the compiled batch, the
epoch counter and the history so far. It is saved as one ``.npz`` file (no pickle),
written atomically so a crash mid-write never leaves a half checkpoint.
"""

import contextlib
import os
import tempfile
import threading
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from jaxperc.errors import CheckpointError, JaxpercError

FORMAT_VERSION = 2  # 2: the State carries each model's optimizer step count


class RunState(NamedTuple):
    """A run between two chunks of epochs (all host arrays)."""

    leaves: tuple[np.ndarray, ...]  # the flattened engine State, model axis first
    slot_ids: np.ndarray  # [bucket] model id in each slot of the batch, -1 = padding
    epoch: int  # epochs run by the batch so far
    chunk: int  # chunks run so far (sets the next chunk's length)
    cost_history: np.ndarray  # [M, epoch]
    accuracy_history: np.ndarray  # [M, epoch] or [M, 0]
    tag: str = ""  # whose checkpoint this is (e.g. a run folder's id), "" for none


_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process umask, read without changing it where Linux allows."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    with _UMASK_LOCK:  # elsewhere: set and restore (other threads wait here)
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write) -> None:
    """Call ``write(binary_file)`` on a temporary file, then rename it to ``path``.

    Readers see the old file or the whole new one, never a part: the data is
    flushed to disk before the rename, and the temporary file goes on failure.
    The file gets the mode a plain ``open`` would give it (0666 less the umask),
    not the 0600 of a temporary file.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    except OSError as err:  # named by the target: the temporary name means nothing
        raise JaxpercError(
            f"{path}: cannot write ({err.strerror}); check that its folder exists "
            "and is writable"
        ) from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
            os.fchmod(f.fileno(), 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise JaxpercError(
            f"{path}: cannot write ({err.strerror}); check the disk space and "
            "permissions"
        ) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_run_state(path: str | os.PathLike, state: RunState) -> None:
    """Write ``state`` to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    arrays = {f"leaf_{i:04d}": leaf for i, leaf in enumerate(state.leaves)}
    arrays.update(
        format_version=np.int64(FORMAT_VERSION),
        slot_ids=state.slot_ids,
        epoch=np.int64(state.epoch),
        chunk=np.int64(state.chunk),
        cost_history=state.cost_history,
        accuracy_history=state.accuracy_history,
        tag=np.str_(state.tag),
    )
    atomic_write(path, lambda f: np.savez(f, **arrays))


def load_run_state(path: str | os.PathLike) -> RunState:
    """Read a checkpoint written by :func:`save_run_state`, or raise CheckpointError."""
    path = Path(path)
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as z:
            files = set(z.files)
            version = _scalar(z["format_version"])
            if version != FORMAT_VERSION:
                raise CheckpointError(
                    f"{path}: checkpoint format {version} is not "
                    f"{FORMAT_VERSION}; start the run again without --resume"
                )
            n_leaves = sum(1 for f in files if f.startswith("leaf_"))
            return RunState(
                leaves=tuple(z[f"leaf_{i:04d}"] for i in range(n_leaves)),
                slot_ids=z["slot_ids"],
                epoch=_scalar(z["epoch"]),
                chunk=_scalar(z["chunk"]),
                cost_history=z["cost_history"],
                accuracy_history=z["accuracy_history"],
                tag=str(z["tag"]) if "tag" in files else "",
            )
    except CheckpointError:
        raise
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no checkpoint there") from None
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile, EOFError):
        raise CheckpointError(
            f"{path}: not a readable checkpoint (corrupt, truncated or from another "
            "program); start the run again without --resume"
        ) from None


def _scalar(a: np.ndarray) -> int:
    """A saved integer scalar (ValueError for anything else: a damaged file)."""
    if a.shape != () or not np.issubdtype(a.dtype, np.integer):
        raise ValueError("not an integer scalar")
    return int(a)

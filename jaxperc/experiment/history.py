"""Per-epoch history of a run as a Parquet dataset, written while the run goes.

``metrics/`` in a run folder holds one Parquet file per compiled chunk,
``part-<first epoch>.parquet`` with columns ``model`` (int32), ``epoch`` (int32),
``cost`` (float32) and ``accuracy`` (float32, with ``train.record_accuracy``),
rows sorted by model then epoch. pandas, polars and DuckDB read the folder as one
table (``pandas.read_parquet(run / "metrics")``).

Why a file per chunk rather than one file rewritten at each checkpoint: a Parquet
file cannot be appended to, and rewriting it costs time proportional to the run so
far at every checkpoint (quadratic over a long run). A new part per chunk costs only
the new rows; each part is written to a temporary name and renamed, so a killed run
leaves whole parts only. A checkpoint may lag the newest parts, so ``--resume``
first drops every part that starts at or after the checkpoint's epoch: the resumed
run writes those epochs again, and no epoch is missing or written twice.

Layout for size: the model column is run-length encoded (sorted), the epoch column
delta-encoded, the cost float32 byte-stream-split, all zstd-compressed: a few bytes
per model-epoch (``docs/cli.md`` has the measurement).
"""

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np

from jaxperc.errors import ConfigError
from jaxperc.training.checkpoint import atomic_write

FOLDER = "metrics"
CSV_MAX_ROWS = 1_000_000  # metrics.csv is written up to this many rows unless asked
_COLUMNS = ("model", "epoch", "cost", "accuracy")


def keep_epochs(epochs: np.ndarray, policy: str | int) -> np.ndarray:
    """[E] bool: which of these epoch numbers ``output.history`` keeps.

    ``"all"`` keeps every epoch; an integer N every N-th (0, N, 2N, …); ``"log"``
    epochs 0–99 and then those with at most two significant digits (100, 110, …,
    990, 1000, 1100, …): about 90 per decade.
    """
    epochs = np.asarray(epochs, np.int64)
    if policy == "all":
        return np.ones(epochs.shape, bool)
    if policy == "log":
        digits = np.floor(np.log10(np.maximum(epochs, 1))).astype(np.int64)
        return epochs % 10 ** np.maximum(digits - 1, 0) == 0
    if isinstance(policy, int) and not isinstance(policy, bool) and policy >= 1:
        return epochs % policy == 0
    raise ConfigError(
        f'output.history = {policy!r} must be "all", "log" or an integer ≥ 1'
    )


def _part_name(start: int) -> str:
    return f"part-{start:010d}.parquet"


def _part_start(path: Path) -> int:
    return int(path.name[len("part-") :].split(".")[0])


def _table(model, epoch, cost, acc):
    import pyarrow as pa

    columns = {
        "model": pa.array(model.astype(np.int32, copy=False)),
        "epoch": pa.array(epoch.astype(np.int32, copy=False)),
        "cost": pa.array(cost.astype(np.float32, copy=False)),
    }
    if acc is not None:
        columns["accuracy"] = pa.array(acc.astype(np.float32, copy=False))
    return pa.table(columns)


def _write_part(path: Path, table) -> None:
    import pyarrow.parquet as pq

    encodings = {"epoch": "DELTA_BINARY_PACKED", "cost": "BYTE_STREAM_SPLIT"}
    if "accuracy" in table.column_names:
        encodings["accuracy"] = "BYTE_STREAM_SPLIT"

    def write(f):
        pq.write_table(
            table,
            f,
            compression="zstd",
            compression_level=1,  # fastest: written while the run goes, same size here
            use_dictionary=["model"],
            column_encoding=encodings,
            write_statistics=["model", "epoch"],
        )

    atomic_write(path, write)


def _rows(cost, acc, start: int, keep: np.ndarray):
    """(model, epoch, cost, accuracy) of the recorded, kept cells of [M, E] arrays,
    sorted by model, then epoch (row-major boolean indexing)."""
    mask = ~np.isnan(cost) & keep[None, :]
    m, e = cost.shape
    model = np.repeat(np.arange(m, dtype=np.int32), mask.sum(axis=1))
    epochs = np.arange(start, start + e, dtype=np.int32)
    epoch = np.broadcast_to(epochs[None, :], (m, e))[mask]
    return model, epoch, cost[mask], None if acc is None else acc[mask]


class HistoryWriter:
    """Appends a run's per-epoch history to ``<run>/metrics/``, a part per chunk.

    Parts are encoded and written on one background thread while the next chunk
    trains; :meth:`flush` waits for them (before every checkpoint, so a checkpoint
    never claims epochs whose history is not on disk yet).

    Args:
      run_dir: the run folder.
      policy: ``output.history`` (``"all"``, ``"log"`` or every N-th epoch).
      start: the first epoch still to write: 0 for a new run, the checkpoint's
        epoch when resuming (parts from there on are removed first).
    """

    def __init__(self, run_dir: Path, policy: str | int, start: int = 0):
        keep_epochs(np.zeros(1), policy)  # refuse a bad policy before writing
        self.folder = Path(run_dir) / FOLDER
        self.policy, self.epoch = policy, start
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="jaxperc-history")
        self._pending: list[Future] = []
        for path in self.folder.glob("*") if self.folder.is_dir() else ():
            # leftovers past the checkpoint, and temporary files of a killed run
            if not path.name.endswith(".parquet") or _part_start(path) >= start:
                path.unlink()

    def append(self, epoch: int, history_since: Callable) -> None:
        """Write the epochs from the last written one up to ``epoch`` (a chunk end)."""
        if epoch <= self.epoch:
            return
        cost, acc = history_since(self.epoch)
        self._pending.append(self._pool.submit(self._write, cost, acc, self.epoch))
        self.epoch = epoch

    def flush(self) -> None:
        """Wait until every part handed over is on disk; raise a failed write's."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def close(self) -> None:
        """Flush and stop the background thread."""
        try:
            self.flush()
        finally:
            self._pool.shutdown()

    def abandon(self) -> None:
        """Stop the background thread after its writes, raising nothing (a run that
        failed already has an error to report)."""
        self._pool.shutdown()

    def finish(self, cost_history, accuracy_history) -> None:
        """Write the epochs after the last chunk seen, and each model's last epoch,
        then :meth:`close`. ``cost_history`` / ``accuracy_history``: the run's full
        [M, E] arrays."""
        self.close()
        cost = np.asarray(cost_history)
        acc = None if accuracy_history is None else np.asarray(accuracy_history)
        end = cost.shape[1]
        first = not any(self.folder.glob("part-*.parquet"))
        if end > self.epoch or first:
            tail = None if acc is None else acc[:, self.epoch :]
            self._write(cost[:, self.epoch :], tail, self.epoch, force=first)
        if self.policy != "all":  # each model's last epoch, if the policy dropped it
            recorded = ~np.isnan(cost)
            last = end - 1 - np.argmax(recorded[:, ::-1], axis=1)
            model = np.flatnonzero(
                recorded.any(axis=1) & ~keep_epochs(last, self.policy)
            )
            if model.size:
                epoch = last[model]
                last_acc = None if acc is None else acc[model, epoch]
                self._save(end, _table(model, epoch, cost[model, epoch], last_acc))
        self.epoch = end

    def _write(self, cost, acc, start: int, force: bool = False) -> None:
        keep = keep_epochs(np.arange(start, start + cost.shape[1]), self.policy)
        model, epoch, c, a = _rows(cost, acc, start, keep)
        if model.size or force:
            self._save(start, _table(model, epoch, c, a))

    def _save(self, start: int, table) -> None:
        self.folder.mkdir(exist_ok=True)
        _write_part(self.folder / _part_name(start), table)


def read_history(run_dir: Path) -> dict[str, np.ndarray]:
    """The whole history as NumPy columns, sorted by model then epoch."""
    import pyarrow.parquet as pq

    folder = Path(run_dir) / FOLDER
    parts = sorted(folder.glob("part-*.parquet"))
    if not parts:
        return {}
    table = pq.read_table(folder)
    cols = {n: table.column(n).to_numpy() for n in _COLUMNS if n in table.column_names}
    order = np.lexsort((cols["epoch"], cols["model"]))
    return {n: v[order] for n, v in cols.items()}


def count_rows(run_dir: Path) -> int:
    """Rows in the history, from the Parquet footers only."""
    import pyarrow.parquet as pq

    parts = sorted((Path(run_dir) / FOLDER).glob("part-*.parquet"))
    return sum(pq.ParquetFile(p).metadata.num_rows for p in parts)


def write_csv(run_dir: Path, path: Path) -> None:
    """``model,epoch,cost[,accuracy]``: the Parquet history as text."""
    cols = read_history(run_dir)
    names = [n for n in _COLUMNS if n in cols] or ["model", "epoch", "cost"]
    fmt = {"model": "%d", "epoch": "%d", "cost": "%.9g", "accuracy": "%.6g"}

    def write(f):
        f.write((",".join(names) + "\n").encode())
        if cols and cols["model"].size:
            table = np.column_stack([cols[n].astype(np.float64) for n in names])
            np.savetxt(f, table, fmt=[fmt[n] for n in names], delimiter=",")

    atomic_write(path, write)


def wants_csv(setting: bool | None, n_rows: int) -> bool:
    """``output.metrics_csv``: always, never, or (unset) for ≤ CSV_MAX_ROWS rows."""
    return n_rows <= CSV_MAX_ROWS if setting is None else setting


__all__ = ["FOLDER", "HistoryWriter", "keep_epochs", "read_history", "write_csv"]

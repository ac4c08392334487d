"""One experiment from a :class:`~jaxperc.experiment.config.Config`: train, write.

:func:`run_experiment` prepares the problem (:mod:`~jaxperc.experiment.problem`),
trains the whole grid as ONE ``train_models`` call, checkpointing and streaming the
history between compiled chunks, and writes the run folder
(:mod:`~jaxperc.experiment.rundir`): summary, parameters, plots and report.
"""

import threading
import time
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np
from jax.experimental import multihost_utils

from jaxperc import training
from jaxperc.errors import (
    CheckpointError,
    ConfigError,
    JaxpercError,
    NotConvergedWarning,
)
from jaxperc.experiment import history, html_report, rundir, tracking
from jaxperc.experiment.config import Config, to_toml
from jaxperc.experiment.problem import Problem, prepare
from jaxperc.experiment.summary import summarize


class RunResult(NamedTuple):
    run_dir: Path
    summary: dict[str, Any]
    result: training.TrainResult
    problem: Problem


class _Checkpointer:
    """The train_many callback: progress, checkpoints, and a clean stop on request."""

    def __init__(
        self, path: Path, every: float, progress, stop: threading.Event, writer, tag
    ):
        self.path, self.every, self.progress, self.stop = path, every, progress, stop
        self.tag = tag  # the run folder's id, stored in every checkpoint
        self.writer = writer  # a history.HistoryWriter: the new epochs each chunk
        self.last = None  # time of the last save
        self.saved = False

    def __call__(self, p: training.Progress) -> None:
        now = time.monotonic()
        stop = self.stop.is_set()
        save = stop or self.last is None or now - self.last >= self.every
        if jax.process_count() > 1:  # a checkpoint gathers from every process, so
            # process 0 decides for all (its Ctrl-C stops them all)
            flags = multihost_utils.broadcast_one_to_all(np.array([save, stop]))
            save, stop = bool(flags[0]), bool(flags[1])
        if p.history_since is not None:
            self.writer.append(p.epoch, p.history_since)
        if save:
            self.writer.flush()  # the history on disk reaches the checkpoint's epoch
            training.save_run_state(self.path, p.checkpoint()._replace(tag=self.tag))
            self.last, self.saved = now, True
        if self.progress is not None:
            self.progress(p)
        if stop:
            raise KeyboardInterrupt


def run_experiment(
    config: Config,
    out_dir: "str | Path | rundir.NewRunFolder",
    *,
    progress: Callable[[training.Progress], Any] | None = None,
    resume: bool = False,
    command: list[str] | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """Train the config's grid and write the run folder ``out_dir``.

    Args:
      config: a validated :class:`~jaxperc.config.Config`.
      out_dir: the run folder: new (or empty) unless ``resume``; or a
        :class:`~jaxperc.experiment.rundir.NewRunFolder` to name a new one.
      progress: called with each :class:`jaxperc.Progress` between chunks.
      resume: continue the run in ``out_dir`` from its ``checkpoint.npz``.
      command: the command line, recorded in ``run.json``.
      stop: when set, the run saves a checkpoint at the next chunk boundary and
        raises :class:`RunInterrupted` (run.json then says "interrupted").

    Returns:
      A :class:`RunResult` (folder, summary, TrainResult, Problem).

    A user error (a :class:`~jaxperc.JaxpercError`) leaves nothing behind: a new
    folder is removed, a resumed one keeps its status.
    """
    problem = prepare(config)
    folder = _open_folder(config, problem, out_dir, resume, command)
    writer = history.HistoryWriter(
        folder.path,
        config.output.history,
        0 if folder.state is None else folder.state.epoch,
    )
    callback = _Checkpointer(
        folder.path / rundir.CHECKPOINT,
        config.output.checkpoint_every,
        progress,
        stop or threading.Event(),
        writer,
        folder.run_id,
    )
    result = _train(config, problem, folder, writer, callback)
    summary = _finish(config, problem, folder.path, writer, result)
    return RunResult(folder.path, summary, result, problem)


class _Folder(NamedTuple):
    """The run folder a run writes to, and how it came to be."""

    path: Path
    run_id: str  # stored in run.json and in every checkpoint of this folder
    state: training.RunState | None  # the checkpoint to resume from
    made: list[Path]  # folders this run created (removed on a user error)
    before: dict[str, Any] | None  # a resumed run's run.json as it was


def _open_folder(config, problem, out_dir, resume: bool, command) -> _Folder:
    """Claim a new run folder (config, run.json with fingerprints), or reopen one."""
    arrays = [problem.x, problem.targets, problem.train_idx, problem.test_idx]
    weights = problem.training_weights
    arrays += [] if weights is None else [weights]
    prints = rundir.fingerprint(to_toml(config), arrays)
    if resume:
        run_dir = Path(out_dir)
        state, before = _resumable(run_dir, prints)
        rundir.remove_temporaries(run_dir)
        rundir.update_run_json(run_dir, status="running", resumed=rundir.now())
        return _Folder(run_dir, before.get("run_id", ""), state, [], before)
    run_dir, made = rundir.claim_run_dir(out_dir)
    try:
        rundir.write_text(run_dir / rundir.CONFIG, rundir.config_text(config))
        run_id = uuid.uuid4().hex
        info = {
            **rundir.run_info(command or []),
            "fingerprint": prints,
            "run_id": run_id,
        }
        rundir.write_json(run_dir / rundir.RUN, info)
    except BaseException:
        rundir.remove_run_dir(run_dir, made)
        raise
    return _Folder(run_dir, run_id, None, made, None)


def _train(config, problem, folder: _Folder, writer, callback) -> training.TrainResult:
    """The one train_models call; on failure the folder is left as the contract says.

    Ctrl-C: interrupted (resumable). A user error: a new folder is removed, a
    resumed one keeps its run.json. Anything else: status failed.
    """
    run_dir = folder.path
    try:
        rows = problem.train_idx
        # the summary counts and names models that ran out of epochs or diverged
        # (its notes, the CLI's table): no separate Python warning for them here
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=NotConvergedWarning)
            return training.train_models(
                problem.x[rows],
                problem.targets[rows],
                problem.per_model,
                problem.options,
                weights=problem.training_weights,
                standardizers=problem.inputs.tables,
                callback=callback,
                resume=folder.state,
                mesh="auto",
            )
    except KeyboardInterrupt:
        writer.abandon()
        rundir.remove_temporaries(run_dir)
        rundir.update_run_json(run_dir, status="interrupted", ended=rundir.now())
        raise RunInterrupted(run_dir) from None
    except JaxpercError as err:
        writer.abandon()
        if folder.before is not None:
            rundir.write_json(run_dir / rundir.RUN, folder.before)  # as it was
        elif not callback.saved:
            rundir.remove_run_dir(run_dir, folder.made)  # nothing ran: no folder
        else:
            rundir.update_run_json(run_dir, status="failed", error=str(err))
        raise _located(config, run_dir, err) from None
    except BaseException as err:
        writer.abandon()
        rundir.remove_temporaries(run_dir)
        rundir.update_run_json(
            run_dir, status="failed", ended=rundir.now(), error=repr(err)
        )
        raise


def _finish(config, problem, run_dir: Path, writer, result) -> dict[str, Any]:
    """Summary, history, parameters, plots, report and tracking of a finished run."""
    activation = config.model.activation
    summary = summarize(
        problem, result, activation=activation, metric=config.output.metric
    )
    writer.finish(result.cost_history, result.accuracy_history)
    if history.wants_csv(config.output.metrics_csv, history.count_rows(run_dir)):
        history.write_csv(run_dir, run_dir / rundir.METRICS)
    rundir.write_results(run_dir, problem, result, summary, activation)
    if config.output.plots:
        from jaxperc.experiment import plots

        if plots.available():
            plots.plot_run(run_dir / "plots", problem, result, summary, activation)
    (run_dir / rundir.CHECKPOINT).unlink(missing_ok=True)
    rundir.remove_temporaries(run_dir)
    rundir.update_run_json(run_dir, status="completed", ended=rundir.now())
    html_report.write_report(run_dir)
    if config.output.mlflow:
        tracking.log_run(run_dir, config, summary)
    return summary


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C (or ``stop``) after saving its checkpoint."""

    def __init__(self, run_dir: Path):
        super().__init__(str(run_dir))
        self.run_dir = run_dir


def _resumable(run_dir: Path, prints: dict[str, str]):
    """Check a folder can be resumed; → (its checkpoint or None, its run.json).

    Nothing is written: a refused resume leaves the folder as it was.
    """
    info = rundir.read_run_json(run_dir)
    status = info.get("status")
    if status == "completed":
        raise CheckpointError(
            f"{run_dir}: run already completed; nothing to resume (start a new "
            "run with jaxperc run CONFIG)"
        )
    rundir.check_fingerprint(run_dir, info, prints)
    state = None
    if (run_dir / rundir.CHECKPOINT).exists():
        state = training.load_run_state(run_dir / rundir.CHECKPOINT)
        if info.get("run_id") and state.tag != info["run_id"]:
            raise CheckpointError(
                f"{run_dir / rundir.CHECKPOINT}: belongs to another run (its id is "
                f"not this folder's run.json run_id); start the run again with "
                f"jaxperc run {run_dir / rundir.CONFIG}"
            )
    return state, info


def _located(config: Config, run_dir: Path, err: JaxpercError) -> JaxpercError:
    """An error from training, named by the file it concerns."""
    text = str(err)
    if isinstance(err, CheckpointError) and not text.startswith(str(run_dir)):
        return CheckpointError(
            f"{run_dir / rundir.CHECKPOINT}: {text}; start the run again with "
            f"jaxperc run {run_dir / rundir.CONFIG}"
        )
    if text.startswith(config.path) or text.startswith(str(run_dir)):
        return err
    return ConfigError(f"{config.path}: {text}")


__all__ = ["RunInterrupted", "RunResult", "run_experiment"]

"""The ``jaxperc`` command: run experiments, predict, show and compare runs, list data
sets, check gradients.

A thin layer over :mod:`jaxperc.experiment`: it parses arguments, turns every
:class:`~jaxperc.JaxpercError` into one ``error: ...`` line and exit status 2, and
prints results. ``main(argv)`` returns the exit status, so tests call it in-process.
"""

import argparse
import contextlib
import shutil
import signal
import sys
import tempfile
import threading
import traceback
import warnings
from pathlib import Path

import jaxperc.data
from jaxperc import core, training
from jaxperc._version import __version__
from jaxperc.errors import ConfigError, JaxpercError, JaxpercWarning
from jaxperc.experiment.report import format_summary, table
from jaxperc.training import distributed

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def setup_cache(enabled: bool = True) -> str | None:
    """The persistent compilation cache for this command, unless ``--no-cache``."""
    return training.enable_compilation_cache() if enabled else None


def _x64(dtype: str):
    """64-bit JAX for this command only, when a float64 config asks for it."""
    if dtype == "float64":
        import jax

        return jax.enable_x64(True)
    return contextlib.nullcontext()


@contextlib.contextmanager
def _graceful_sigint(stop: threading.Event):
    """First Ctrl-C: stop at the next chunk boundary; a second one stops at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    old = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def cmd_run(args) -> int:
    from jaxperc.experiment.progress import ProgressBar
    from jaxperc.experiment.run import RunInterrupted, run_experiment

    config, run_dir = _run_target(args)
    setup_cache(not args.no_cache)
    if distributed.initialize(args.coordinator, args.num_processes, args.process_id):
        if args.resume:
            raise JaxpercError(
                "--resume continues single-process runs only; start the "
                "multi-process run again"
            )
        if not distributed.is_writer():  # only process 0 writes the run folder
            return _run_worker(config, args)
    bar = ProgressBar(enabled=False if args.quiet else None)
    stop = threading.Event()
    command = ["jaxperc", *(args.argv or [])]
    try:
        with _x64(config.train.dtype), _graceful_sigint(stop):
            out = run_experiment(
                config,
                run_dir,
                progress=bar,
                resume=bool(args.resume),
                command=command,
                stop=stop,
            )
    except RunInterrupted as stopped:
        bar.close()
        print(
            f"interrupted: checkpoint in {stopped.run_dir}; continue with "
            f"jaxperc run --resume {stopped.run_dir}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        bar.close()
    print(format_summary(out.summary))
    print(f"run folder: {out.run_dir}")
    return EXIT_OK


def _run_target(args):
    """The config to run and where: (Config, a run folder or a NewRunFolder)."""
    from jaxperc.experiment import rundir
    from jaxperc.experiment.config import load_config

    if args.resume:
        if args.config or args.set or args.out or args.name:
            raise ConfigError(
                "--resume RUNDIR takes no CONFIG, --set, --out or --name: the run "
                "continues with the config saved in its folder"
            )
        run_dir = Path(args.resume)
        if not (run_dir / rundir.CONFIG).is_file():
            raise JaxpercError(
                f"{run_dir}: not a run folder (no {rundir.CONFIG}); give a folder "
                "that jaxperc run made"
            )
        return load_config(run_dir / rundir.CONFIG), run_dir
    if not args.config:
        raise ConfigError("jaxperc run needs a CONFIG file (or --resume RUNDIR)")
    if args.name is not None:
        rundir.check_run_name(args.name)
    config = load_config(args.config, args.set)
    if args.out:
        return config, Path(args.out)
    stem = args.name or Path(args.config).stem
    return config, rundir.NewRunFolder(Path(config.output.dir), stem)


def _run_worker(config, args) -> int:
    """A process other than 0: trains its share, in a scratch folder it removes."""
    from jaxperc.experiment.run import run_experiment

    scratch = Path(tempfile.mkdtemp(prefix="jaxperc-worker-"))
    try:
        with _x64(config.train.dtype):
            run_experiment(config, scratch / "run", resume=False)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return EXIT_OK


def cmd_predict(args) -> int:
    from jaxperc.experiment import new_rows, rundir
    from jaxperc.experiment.runs import load_run

    run = load_run(args.run_dir)
    model = args.model
    selection = run.select(model)
    if args.output and Path(args.output).exists() and not args.force:
        raise JaxpercError(f"{args.output} already exists; add --force to overwrite")
    x = new_rows.read_features(args.input, run.feature_names)
    if args.id_column:
        first = [args.id_column, new_rows.read_column(args.input, args.id_column)]
    else:
        first = ["row", [str(i) for i in range(x.shape[0])]]
    columns = dict([first])
    prob = run.predict_proba(x, model)
    label = run.predict(x, model)
    if selection.one_model:
        columns["probability"] = [f"{p:.6g}" for p in prob]
        columns["class"] = [str(c) for c in label]
    elif selection.one_vs_rest:
        columns["class"] = [str(c) for c in label]
        for k, name in enumerate(selection.columns):
            columns[f"probability_{name}"] = [f"{p:.6g}" for p in prob[:, k]]
    else:
        for k, name in enumerate(selection.columns):
            columns[f"probability_{name}"] = [f"{p:.6g}" for p in prob[:, k]]
            columns[f"class_{name}"] = [str(c) for c in label[:, k]]
    text = _csv_text(columns)
    if args.output:
        rundir.write_text(Path(args.output), text)
        which = ", ".join(str(m) for m in selection.models)
        print(f"wrote {x.shape[0]} predictions of model {which} to {args.output}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _csv_text(columns: dict[str, list[str]]) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(columns))
    writer.writerows(zip(*columns.values(), strict=True))
    return out.getvalue()


def cmd_show(args) -> int:
    from jaxperc.experiment.runs import load_run

    run = load_run(args.run_dir)
    print(format_summary(run.summary))
    print(f"run folder: {run.path} (status: {run.info.get('status')})")
    report = run.path / "report.html"
    if report.exists():
        print(f"report: {report}")
    for plot in run.plots:
        print(f"plot: {plot}")
    return EXIT_OK


def cmd_compare(args) -> int:
    from jaxperc.experiment import compare, rundir
    from jaxperc.experiment.runs import load_run

    table_ = compare.compare_runs([load_run(p) for p in args.run_dirs])
    print(compare.as_text(table_))
    if args.out:
        out = Path(args.out)
        if out.suffix.lower() not in (".csv", ".md"):
            raise JaxpercError(
                f"--out {out}: name a .csv or .md file (CSV or Markdown table)"
            )
        if out.exists() and not args.force:
            raise JaxpercError(f"{out} already exists; add --force to overwrite")
        writer = compare.as_csv if out.suffix.lower() == ".csv" else compare.as_markdown
        rundir.write_text(out, writer(table_))
        print(f"wrote {out}")
    return EXIT_OK


def cmd_datasets(args) -> int:
    rows = [
        [i.name, i.n_samples, i.n_features, i.n_classes, i.description]
        for i in jaxperc.data.list_datasets()
    ]
    rows += [
        ["blobs", "n_samples", "n_features", 2, "synthetic separable blobs"],
        ["xor", "n_samples", 2, 2, "synthetic XOR: not linearly separable"],
    ]
    print(table(rows, ["name", "samples", "features", "classes", "description"]))
    return EXIT_OK


def cmd_gradcheck(args) -> int:
    import jax

    setup_cache(not args.no_cache)
    config = None
    if args.config:
        from jaxperc.experiment.config import load_config

        config = load_config(args.config)
    loss = args.loss or (config.train.loss if config else "mse")
    activation = args.activation or (config.model.activation if config else "sigmoid")
    dtype = args.dtype or (config.train.dtype if config else "float32")
    with _x64(dtype):
        if config is not None:
            from jaxperc.experiment.problem import load_data

            ds = load_data(config)
            std = jaxperc.data.fit_standardizer(ds.x, feature_names=ds.feature_names)
            x = jax.numpy.asarray(jaxperc.data.apply_standardizer(std, ds.x), dtype)
            y = jax.numpy.asarray(ds.targets()[:, 0], dtype)
            params = core.init_params(
                jax.random.key(args.seed), ds.n_features, scale=1.0, dtype=dtype
            )
            what = f"{ds.name} ({ds.n_samples}×{ds.n_features})"
        else:
            params, x, y = core.random_problem(
                args.n, args.d, seed=args.seed, dtype=dtype
            )
            what = f"random problem ({args.n}×{args.d}, seed {args.seed})"
        report = core.gradient_check(params, x, y, loss=loss, activation=activation)
    verdict = "OK" if report.ok else "FAILED"
    print(
        f"gradcheck {verdict}: manual vs autodiff gradient on {what}, loss={loss}, "
        f"activation={activation}, {report.dtype}\n"
        f"  max abs diff {report.max_abs_diff:.3e} (atol {report.atol:.1e})\n"
        f"  max rel diff {report.max_rel_diff:.3e} (rtol {report.rtol:.1e})"
    )
    return EXIT_OK if report.ok else EXIT_FAIL


class _Parser(argparse.ArgumentParser):
    """argparse, with usage mistakes in the one-line error form (status 2)."""

    def error(self, message: str):
        self.exit(
            EXIT_USAGE,
            f"error: {self.prog}: {_one_line(message)}; see {self.prog} --help\n",
        )


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", help="show tracebacks on errors"
    )
    parser = _Parser(
        prog="jaxperc",
        description="Train single-neuron perceptrons from TOML experiment configs.",
    )
    parser.add_argument(  # its own dest: a subcommand's default would overwrite it
        "--debug", dest="debug_top", action="store_true", help="show tracebacks"
    )
    parser.add_argument("--version", action="version", version=f"jaxperc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_run(sub.add_parser("run", parents=[common], help="run an experiment config"))
    _add_predict(sub.add_parser("predict", parents=[common], help="predict with a run"))
    show = sub.add_parser("show", parents=[common], help="a run's summary again")
    show.add_argument("run_dir", metavar="RUNDIR")
    show.set_defaults(func=cmd_show)
    comp = sub.add_parser("compare", parents=[common], help="runs side by side")
    comp.add_argument("run_dirs", metavar="RUNDIR", nargs="+")
    comp.add_argument("--out", help="also write the table: FILE.csv or FILE.md")
    comp.add_argument("--force", action="store_true", help="overwrite --out")
    comp.set_defaults(func=cmd_compare)
    data = sub.add_parser("datasets", parents=[common], help="list bundled data")
    data.set_defaults(func=cmd_datasets)
    _add_gradcheck(
        sub.add_parser(
            "gradcheck", parents=[common], help="manual vs autodiff gradient"
        )
    )
    return parser


def _add_run(run: argparse.ArgumentParser) -> None:
    run.add_argument("config", nargs="?", help="TOML config file")
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key, e.g. --set train.learning_rate=0.5 (repeatable)",
    )
    run.add_argument("--out", help="exact run folder (must be new or empty)")
    run.add_argument("--name", help="run folder name stem (default: config stem)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--resume", metavar="RUNDIR", help="continue a stopped run")
    run.add_argument(
        "--no-cache", action="store_true", help="no persistent compilation cache"
    )
    multi = run.add_argument_group(
        "multi-process runs (or JAXPERC_COORDINATOR, JAXPERC_NUM_PROCESSES, "
        "JAXPERC_PROCESS_ID; SLURM is detected)"
    )
    multi.add_argument("--coordinator", metavar="HOST:PORT", help="process 0's address")
    multi.add_argument("--num-processes", type=int, metavar="N")
    multi.add_argument("--process-id", type=int, metavar="I")
    run.set_defaults(func=cmd_run)


def _add_predict(pred: argparse.ArgumentParser) -> None:
    pred.add_argument("run_dir", metavar="RUNDIR")
    pred.add_argument("--input", required=True, help="CSV with the feature columns")
    pred.add_argument(
        "--model",
        help="'best', a model index, or 'all' (every model; on a one-vs-rest run "
        "the best set, which is also the default there)",
    )
    pred.add_argument(
        "--id-column", metavar="NAME", help="carry this input column through"
    )
    pred.add_argument("--output", help="CSV to write (default: stdout)")
    pred.add_argument("--force", action="store_true", help="overwrite --output")
    pred.set_defaults(func=cmd_predict)


def _add_gradcheck(grad: argparse.ArgumentParser) -> None:
    grad.add_argument("config", nargs="?", help="use this config's data")
    grad.add_argument("--n", type=int, default=64, help="samples (random problem)")
    grad.add_argument("--d", type=int, default=8, help="features (random problem)")
    grad.add_argument("--loss", choices=sorted(core.LOSSES))
    grad.add_argument("--activation", choices=sorted(core.ACTIVATIONS))
    grad.add_argument("--dtype", choices=["float32", "float64"])
    grad.add_argument("--seed", type=int, default=0)
    grad.add_argument(
        "--no-cache", action="store_true", help="no persistent compilation cache"
    )
    grad.set_defaults(func=cmd_gradcheck)


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the status.

    A user error (:class:`~jaxperc.JaxpercError`, or a jaxperc warning that
    ``-W error`` turned into one) prints ``error: ...`` in one line and returns 2;
    any other exception is a bug: one line asking for ``--debug``, status 1.
    Warnings print as one ``warning: ...`` line each.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, usage errors
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    args.argv = argv
    args.debug = args.debug or args.debug_top
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.func(args)
        except (JaxpercError, JaxpercWarning) as err:
            if args.debug:
                traceback.print_exc()
            print(f"error: {_one_line(err)}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except Exception as err:
            if args.debug:
                traceback.print_exc()
                return EXIT_FAIL
            print(
                f"error: internal error ({type(err).__name__}: {_one_line(err)}); "
                "this is a bug in jaxperc: run again with --debug for the "
                "traceback and report it",
                file=sys.stderr,
            )
            return EXIT_FAIL


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """A warning as one ``warning: ...`` line on stderr (no source line)."""
    print(f"warning: {_one_line(message)}", file=file or sys.stderr)


def _one_line(err: BaseException | Warning | str) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 2000 else text[:1997] + "..."


if __name__ == "__main__":
    sys.exit(main())

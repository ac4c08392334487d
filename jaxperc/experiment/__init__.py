"""Experiments: a TOML config in, a run folder out.

The layer above training. ``schema``, ``config``, ``overrides`` and ``tomlwrite`` read
and write configs; ``run`` turns a config into one ``train_many`` call and a run
folder; ``rundir`` reads and writes run folders, ``history`` the per-epoch
Parquet history, ``runs`` opens finished ones (:func:`load_run`); ``roles`` says
which rows train, validate and test each model; ``nested`` runs nested
cross-validation; ``stats`` and ``groups`` give intervals and comparisons;
``summary``, ``ovr``, ``report``, ``plots``, ``html_report``, ``compare``,
``tracking`` and ``progress`` present the results. May import
:mod:`jaxperc.training`, :mod:`jaxperc.core`, :mod:`jaxperc.data` and
:mod:`jaxperc.errors`; never the CLI, the estimator or the package facade.
"""

from jaxperc.experiment.config import Config, load_config
from jaxperc.experiment.nested import NestedCVResult, nested_cv
from jaxperc.experiment.run import RunResult, run_experiment
from jaxperc.experiment.runs import Run, load_run

__all__ = [
    "Config",
    "NestedCVResult",
    "Run",
    "RunResult",
    "load_config",
    "load_run",
    "nested_cv",
    "run_experiment",
]

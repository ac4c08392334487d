"""A finished run folder, opened from Python: :func:`load_run` → :class:`Run`.

``Run`` holds the resolved config, the summary, the parameters and the fitted
standardizer(s) of a run folder, and predicts with any of its models, in the units
of the original features (standardisation is applied here):

>>> run = load_run("runs/iris_ovr-20261128-130923")  # doctest: +SKIP
>>> run.predict(x)                 # the run's predictor: see ``model`` below
>>> run.predict_proba(x, model=3)  # model 3 alone
>>> run.history                    # per-epoch cost: a pandas DataFrame

The ``model`` argument of the predicting methods picks the models:

* ``None`` (default): the best model's one-vs-rest set on a one-vs-rest run, else
  the best model;
* ``"best"`` or an index: one model, outputs of shape [n];
* ``"all"``: the best model's one-vs-rest set (columns: the classes, in order) on a
  one-vs-rest run, else every model (columns: model index), outputs [n, K].
"""

import contextlib
import dataclasses
import importlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from jaxperc import core
from jaxperc.data import Standardizer
from jaxperc.errors import DataError, JaxpercError
from jaxperc.experiment import history, rundir
from jaxperc.experiment.config import Config, load_config


@dataclasses.dataclass(frozen=True)
class Selection:
    """Which models a prediction uses, and how their outputs read."""

    models: np.ndarray  # [K] model indices
    one_model: bool  # outputs [n], not [n, K]
    one_vs_rest: bool  # columns are classes: predict = the most confident one
    columns: tuple[str, ...]  # [K] the name of each output column


@dataclasses.dataclass(frozen=True)
class Run:
    """A run folder: config, summary, parameters, history, and its predictors."""

    path: Path
    config: Config
    summary: dict[str, Any]
    params: dict[str, np.ndarray]
    info: dict[str, Any]  # run.json: command, versions, device, times, status

    @property
    def n_models(self) -> int:
        return int(self.params["b"].shape[0])

    @property
    def best(self) -> int:
        """Index of the best model by ``output.metric``."""
        return int(self.params["best"])

    @property
    def activation(self) -> str:
        return str(self.params["activation"])

    @property
    def feature_names(self) -> list[str]:
        return [str(n) for n in self.params["feature_names"]]

    @property
    def is_one_vs_rest(self) -> bool:
        labels = self.params.get("label_class")
        return labels is not None and np.unique(labels).size > 1

    @property
    def history(self):
        """Per-epoch ``model, epoch, cost[, accuracy]``, sorted by model then epoch:
        a pandas DataFrame when pandas is installed, else a dict of NumPy arrays."""
        cols = history.read_history(self.path)
        try:
            import pandas as pd
        except ImportError:
            return cols
        return pd.DataFrame(cols)

    @property
    def standardizers(self) -> tuple[Standardizer, ...]:
        """The fitted standardizer(s): one, or one per fold when fitted per fold."""
        mean, scale = self.params["mean"], self.params["scale"]
        if mean.ndim == 1:
            return (Standardizer(mean, scale),)
        return tuple(Standardizer(m, s) for m, s in zip(mean, scale, strict=True))

    def standardizer(self, model: int) -> Standardizer:
        """The standardizer whose outputs model ``model`` was trained on."""
        index = self.params.get("standardizer_index")
        return self.standardizers[0 if index is None else int(index[model])]

    @property
    def plots(self) -> list[Path]:
        """The figures of the run (``plots/*.png``), by name."""
        return sorted((self.path / "plots").glob("*.png"))

    def select(self, model: str | int | None = None) -> Selection:
        """The models that ``model`` names (see the module docstring)."""
        if model is None:
            model = "all" if self.is_one_vs_rest else "best"
        if model == "all" and self.is_one_vs_rest:
            ids = self._best_set()
            names = tuple(str(self.params["positive"][i]) for i in ids)
            return Selection(ids, False, True, names)
        if model == "all":
            ids = np.arange(self.n_models)
            return Selection(ids, False, False, tuple(str(i) for i in ids))
        index = self.best if model == "best" else _model_index(model, self.n_models)
        return Selection(np.array([index]), True, False, (str(index),))

    def _best_set(self) -> np.ndarray:
        """[K] the models of the best model's one-vs-rest set, in class order."""
        others = [
            k for k in self.params if k.startswith("label_") and k != "label_class"
        ]
        same = np.ones(self.n_models, bool)
        for k in others:
            same &= self.params[k] == self.params[k][self.best]
        ids = np.flatnonzero(same)
        return ids[np.argsort(self.params["label_class"][ids], kind="stable")]

    def decision_function(self, X, model: str | int | None = None) -> np.ndarray:
        """z = x·w + b of the selected models: [n] for one model, else [n, K].

        ``X``: [n, d] in the run's feature order, or a table (pandas) with the
        run's feature names as columns; raw units (standardised here).
        """
        sel = self.select(model)
        x = _features(X, self.feature_names)
        w, b = self.params["w"], self.params["b"]
        z = np.column_stack(
            [
                self.standardizer(m).apply(x).astype(w.dtype) @ w[m] + b[m]
                for m in sel.models
            ]
        )
        return z[:, 0] if sel.one_model else z

    def predict_proba(self, X, model: str | int | None = None) -> np.ndarray:
        """ŷ = σ(z) of the selected models: [n] for one model, else [n, K]
        (one-vs-rest: each class model's own output, not normalised)."""
        z = self.decision_function(X, model)
        import jax

        enable = z.dtype == np.float64 and not jax.config.jax_enable_x64
        with jax.enable_x64(True) if enable else contextlib.nullcontext():
            out = core.get_activation(self.activation).fn(jax.numpy.asarray(z))
            return np.asarray(out, np.float64)

    def predict(self, X, model: str | int | None = None) -> np.ndarray:
        """Class names: ŷ ≥ 0.5 per model, or on a one-vs-rest set the class of the
        most confident model (largest z). [n], or [n, M] for ``"all"`` models."""
        sel = self.select(model)
        if sel.one_vs_rest:
            z = self.decision_function(X, model)
            return np.asarray(sel.columns)[np.argmax(z, axis=1)]
        prob = np.atleast_1d(self.predict_proba(X, model))
        pos = self.params["positive"][sel.models].astype(str)
        neg = self.params["negative"][sel.models].astype(str)
        if sel.one_model:
            return np.where(prob >= 0.5, pos[0], neg[0])
        return np.where(prob >= 0.5, pos[None, :], neg[None, :])

    def to_estimator(self, model: str | int | None = None):
        """A fitted :class:`jaxperc.sklearn.PerceptronClassifier` with the selected
        model (or one-vs-rest set), for scikit-learn pipelines and tools.

        It predicts as the run does; ``fit`` and ``partial_fit`` on it train afresh
        (pass ``coef_init=est.coef_`` to start from the run's weights)."""
        sel = self.select(model)
        if not (sel.one_model or sel.one_vs_rest):
            raise JaxpercError(
                "to_estimator takes one model or a one-vs-rest set; pick a model "
                "with model='best' or an index"
            )
        # the estimator lives a layer above this one: found by name at call time
        module = importlib.import_module("jaxperc.sklearn")
        return _fitted(self, sel, module.PerceptronClassifier)


def _fitted(run: Run, sel: Selection, estimator_class):
    """A PerceptronClassifier set up as if fitted: weights, classes, curves."""
    c = run.config
    est = estimator_class(
        loss=c.train.loss,
        activation=c.model.activation,
        grad=c.train.grad,
        optimizer=c.train.optimizer,
        optimizer_kwargs=dict(c.train.optimizer_kwargs) or None,
        learning_rate=c.train.learning_rate,
        max_epochs=c.train.max_epochs,
        tol=c.train.tol,
        n_iter_no_change=c.train.patience,
        l2=c.train.l2,
        standardize=c.data.standardize,
        init=c.model.init,
        init_scale=c.model.init_scale,
        dtype=c.train.dtype,
    )
    ids = sel.models
    std = run.standardizer(int(ids[0]))  # a one-vs-rest set shares its fold
    w = run.params["w"][ids].astype(np.float64)
    b = run.params["b"][ids].astype(np.float64)
    # fitted for prediction (its scaler and coefficients); there is no training
    # run to continue, so fit and partial_fit start afresh
    est._scaler = std if c.data.standardize else None
    est.coef_ = w / std.scale
    est.intercept_ = b - est.coef_ @ std.mean
    if sel.one_vs_rest:
        est.classes_ = np.asarray(sel.columns)
    else:
        m = int(ids[0])
        est.classes_ = np.asarray(
            [str(run.params["negative"][m]), str(run.params["positive"][m])]
        )
    models = [run.summary["models"][int(i)] for i in ids]
    est.n_features_in_ = w.shape[1]
    est.n_iter_ = max(int(m["epochs"]) for m in models)
    est.stop_reason_ = np.asarray([m["stop_reason"] for m in models])
    curve = _cost_curves(run, ids)
    est.loss_curve_ = curve[0] if len(ids) == 1 else curve
    return est


def _cost_curves(run: Run, ids: np.ndarray) -> np.ndarray:
    """[K, E] recorded cost per epoch of the given models (NaN where not kept)."""
    cols = history.read_history(run.path)
    if not cols:
        return np.zeros((len(ids), 0))
    end = int(cols["epoch"].max()) + 1
    curve = np.full((len(ids), end), np.nan)
    for k, m in enumerate(ids):
        mine = cols["model"] == m
        curve[k, cols["epoch"][mine]] = cols["cost"][mine]
    return curve


def _model_index(model, n_models: int) -> int:
    try:
        index = int(model)
    except (TypeError, ValueError):
        index = -1
    if not 0 <= index < n_models:
        raise JaxpercError(
            f"model {model!r} must be 'best', 'all' or a model index in "
            f"0..{n_models - 1}"
        )
    return index


def _features(X, names: list[str]) -> np.ndarray:
    """[n, d] float64 from an array in feature order or a table with those columns."""
    if hasattr(X, "columns"):
        missing = [n for n in names if n not in X.columns]
        if missing:
            raise DataError(
                f"no column {missing[0]!r}; the model needs the columns "
                f"{', '.join(names)}"
            )
        X = X[names].to_numpy()
    x = np.asarray(X, dtype=np.float64)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] != len(names):
        raise DataError(
            f"X has shape {x.shape}; the model needs [n, {len(names)}] columns "
            f"{', '.join(names)}"
        )
    return x


def load_run(path: str | Path) -> Run:
    """Open a finished run folder (``jaxperc run`` wrote it) as a :class:`Run`."""
    path = Path(path)
    info = rundir.read_run_json(path)
    params = rundir.read_params(path)
    config = load_config(path / rundir.CONFIG)
    try:
        summary = json.loads((path / rundir.SUMMARY).read_text())
    except (OSError, ValueError) as err:
        raise JaxpercError(f"{path / rundir.SUMMARY}: unreadable ({err})") from None
    return Run(path, config, summary, params, info)


__all__ = ["Run", "Selection", "load_run"]

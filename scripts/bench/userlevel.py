"""Time to an answer, jaxperc against scikit-learn on the same data and folds.

A task is three functions in :data:`TASKS`: ``prepare()`` (the data, not timed)
and one function per contender that returns its answer (accuracy, and what else
the task reports). Each is timed cold (its first call in a fresh process, after
imports and data loading) and warm (median of later calls in this process).

- ``fit``: one model on breast cancer (standardised) to LogisticRegression's
  training cost. LogisticRegression(C) minimises ½‖w‖² + C·Σ log-loss, which is
  jaxperc's mean bce + (l2/2)‖w‖² with l2 = 1/(C·n); jaxperc runs L-BFGS and
  stops, as LogisticRegression's lbfgs does, on the gradient: ``gtol=1e-4`` on
  its 2-norm (scikit-learn's ``tol=1e-4`` bounds the largest entry, a looser test).
- ``grid_cv``: 16 values of C × 5-fold cross-validation: jaxperc in ONE
  ``train_many`` call (``make_grid`` over l2 and fold, the folds as weight
  columns from ``kfold_weights``), scoring the held-out rows; scikit-learn
  ``GridSearchCV(LogisticRegression(), {"C": ...}, cv=the same folds,
  n_jobs=-1, refit=False)`` (jaxperc refits nothing either). jaxperc runs a
  first-order method, :data:`FIRST_ORDER`: Nesterov momentum 0.9, learning rate
  0.5, 100 epochs, no early stop. Under ``vmap`` every model pays for the slowest
  one's L-BFGS line search, while 100 cheap epochs reach LogisticRegression's
  held-out accuracy (the task's answer; the slowest-converging models, C ≥ 100,
  are not at their optimum).
- ``nested_cv``: the same 16 values × 5 inner × 5 outer folds: jaxperc's
  ``nested_cv`` (one ``train_models`` call of 16 × 5 × 6 models, the same
  :data:`FIRST_ORDER` method); scikit-learn ``GridSearchCV(LogisticRegression(),
  cv=inner folds, n_jobs=-1)`` fitted and scored per outer fold, the loop of
  ``cross_val_score``, on the same outer and inner folds. The grid is over
  l2 = 1/(C·n_outer) with n_outer the rows of an outer training part, so an inner
  fit (with 4/5 of those rows) has an effective C of 0.8 C: ``nested_cv`` sweeps
  one l2 per setting, not one per fold size.
- ``ovr_digits``: one-vs-rest on digits (1797 × 64, 10 classes), 75/25 split:
  jaxperc one ``train_many`` with a target column per class, Newton's method
  (:data:`NEWTON`, ``gtol`` as in ``fit``: about 9 epochs, against 36 for
  L-BFGS, whose line searches also compile 4× longer);
  scikit-learn ``OneVsRestClassifier(LogisticRegression())``.

Preprocessing is fitted inside each fold, by both contenders alike: where a
task scores held-out rows (``grid_cv``, ``nested_cv``, ``ovr_digits``), each
fold's standardizer is fitted on that fold's training rows only (jaxperc:
``fit_standardizers`` of the fold columns; scikit-learn: a
``make_pipeline(StandardScaler(), LogisticRegression())``), so the test rows
never reach the scaler. ``fit`` scores its own training rows, so its data are
standardised once, on all rows.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import warnings

import numpy as np

import jaxperc as jp
import jaxperc.data
from jaxperc.experiment.nested import REFIT, nested_columns
from jaxperc.training import TrainOptions

from .coldstart import ROOT, child_env
from .timing import timed
from .workloads import breast_cancer, raw_breast_cancer

C = 1.0
GRID_C = np.logspace(-3, 3, 16)
FOLDS = 5
# LogisticRegression's lbfgs stops at max |gradient| ≤ tol = 1e-4 (of the same
# mean-scaled objective); a relative cost change of 1e-7 is below float32's
# resolution, so tol is off and gtol plays that part
LBFGS = dict(loss="bce", optimizer="lbfgs", tol=0.0, gtol=1e-4)
# Newton's method to the same gradient norm: a few epochs, each with the Hessian
NEWTON = dict(loss="bce", optimizer="newton", tol=0.0, gtol=1e-4)
FIRST_ORDER = dict(
    loss="bce", optimizer="nesterov", learning_rate=0.5, max_epochs=100, tol=0.0
)


def _sizes(quick: bool) -> dict:
    """At --quick sizes: two values of C and few iterations (a smoke test)."""
    if quick:
        return {
            "grid_C": np.array([0.1, 10.0]),
            "max_epochs": 20,
            "first_order_epochs": 20,
            "sk_iter": 20,
        }
    return {
        "grid_C": GRID_C,
        "max_epochs": 1000,
        "first_order_epochs": FIRST_ORDER["max_epochs"],
        "sk_iter": 1000,
    }


def _quiet_sklearn():
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)


def penalised_cost(x, y, w, b, l2) -> float:
    """Mean log-loss + (l2/2)‖w‖², in float64."""
    w = np.asarray(w, np.float64)
    z = np.asarray(x, np.float64) @ w + float(b)
    return float(np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * w @ w)


# ------------------------------------------------------------------------ fit


def prepare_fit(quick: bool = False) -> dict:
    x, y = breast_cancer()
    return {"x": x, "y": y, "l2": 1.0 / (C * x.shape[0]), **_sizes(quick)}


def jaxperc_fit(d: dict) -> dict:
    r = jp.train(d["x"], d["y"], l2=d["l2"], max_epochs=d["max_epochs"], **LBFGS)
    w, b = np.asarray(r.params.w), float(r.params.b)
    acc = float(np.mean(((d["x"] @ w + b) > 0) == d["y"]))
    cost = penalised_cost(d["x"], d["y"], w, b, d["l2"])
    return {"accuracy": acc, "cost": cost, "iterations": int(r.epochs)}


def sklearn_fit(d: dict) -> dict:
    from sklearn.linear_model import LogisticRegression

    _quiet_sklearn()
    lr = LogisticRegression(C=C, max_iter=d["sk_iter"]).fit(d["x"], d["y"].astype(int))
    cost = penalised_cost(d["x"], d["y"], lr.coef_[0], lr.intercept_[0], d["l2"])
    acc = float(lr.score(d["x"], d["y"].astype(int)))
    return {"accuracy": acc, "cost": cost, "iterations": int(lr.n_iter_[0])}


# -------------------------------------------------------------------- grid_cv


def scaled_logistic_regression(max_iter: int):
    """scikit-learn's LogisticRegression behind a StandardScaler fitted per fit."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))


SK_GRID_KEY = "logisticregression__C"


def prepare_grid(quick: bool = False) -> dict:
    x, y = raw_breast_cancer()
    folds = jaxperc.data.kfold_weights(y.astype(int), FOLDS, seed=0)  # [k, n]
    return {"x": x, "y": y, "folds": folds, **_sizes(quick)}


def jaxperc_grid(d: dict) -> dict:
    x, y, folds = d["x"], d["y"], d["folds"]
    cs = d["grid_C"]
    grid = jp.make_grid(l2=1.0 / cs, fold=range(FOLDS))
    kw = grid.kwargs  # l2 = 1/(C·n_train) of each model's own fold
    kw["l2"] = grid.labels["l2"] / folds.sum(axis=1)[grid.labels["fold"]]
    options = {**FIRST_ORDER, "max_epochs": d["first_order_epochs"]}
    tables = jaxperc.data.fit_standardizers(x, folds.T)  # one per fold's train rows
    fold = grid.labels["fold"]
    r = jp.train_many(
        x,
        y,
        weights=folds.T,
        standardizers=tables,
        standardizer_index=fold,
        **kw,
        **options,
    )
    # each model's params are in its fold's coordinates: z = ((x − μ)/σ)·w + b
    w = np.asarray(r.params.w, np.float64) / tables.scale[fold]
    b = np.asarray(r.params.b, np.float64) - np.sum(tables.mean[fold] * w, axis=1)
    right = ((x @ w.T + b) > 0) == (y[:, None] > 0.5)  # [n, M]
    held = 1.0 - folds[grid.labels["fold"]].T
    acc = grid.reshape((right * held).sum(axis=0) / held.sum(axis=0)).mean(axis=1)
    best = int(np.argmax(acc))
    return {"accuracy": float(acc[best]), "best_C": float(d["grid_C"][best])}


def sklearn_grid(d: dict) -> dict:
    from sklearn.model_selection import GridSearchCV

    _quiet_sklearn()
    cv = [(np.flatnonzero(f), np.flatnonzero(f == 0)) for f in d["folds"]]
    search = GridSearchCV(
        scaled_logistic_regression(d["sk_iter"]),
        {SK_GRID_KEY: d["grid_C"]},
        cv=cv,
        n_jobs=-1,
        refit=False,
    ).fit(d["x"], d["y"].astype(int))
    acc = search.cv_results_["mean_test_score"]
    best = int(np.argmax(acc))
    return {"accuracy": float(acc[best]), "best_C": float(d["grid_C"][best])}


# ------------------------------------------------------------------ nested_cv


def prepare_nested(quick: bool = False) -> dict:
    x, y = raw_breast_cancer()
    cols = nested_columns(y.astype(int), FOLDS, FOLDS, seed=0)
    return {"x": x, "y": y, "columns": cols, **_sizes(quick)}


def jaxperc_nested(d: dict) -> dict:
    options = {**FIRST_ORDER, "max_epochs": d["first_order_epochs"]}
    n_outer = round(d["x"].shape[0] * (FOLDS - 1) / FOLDS)
    lr = options.pop("learning_rate")
    r = jp.nested_cv(
        d["x"],
        d["y"],
        {"l2": 1.0 / (d["grid_C"] * n_outer)},
        TrainOptions(**options),
        outer=FOLDS,
        inner=FOLDS,
        seed=0,
        standardize=True,  # a scaler per column, on its training rows
        defaults={"learning_rate": lr},
    )
    return {"accuracy": float(r.estimate.mean)}


def _outer_inner_splits(columns):
    """Per outer fold: (train rows, test rows, inner splits in train-row indices)."""
    w, outer_of, inner_of = columns.roles.weights, columns.outer_of, columns.inner_of
    out = []
    for o in range(int(outer_of.max()) + 1):
        refit = np.flatnonzero((outer_of == o) & (inner_of == REFIT))[0]
        train = np.flatnonzero(w[:, refit] > 0)
        inner = [
            (np.flatnonzero(w[train, f] > 0), np.flatnonzero(w[train, f] == 0))
            for f in np.flatnonzero((outer_of == o) & (inner_of != REFIT))
        ]
        out.append((train, np.flatnonzero(columns.roles.test[:, refit]), inner))
    return out


def sklearn_nested(d: dict) -> dict:
    from sklearn.model_selection import GridSearchCV

    _quiet_sklearn()
    x, y = d["x"], d["y"].astype(int)
    scores = []
    for train, test, inner in _outer_inner_splits(d["columns"]):
        search = GridSearchCV(
            scaled_logistic_regression(d["sk_iter"]),
            {SK_GRID_KEY: d["grid_C"]},
            cv=inner,
            n_jobs=-1,
        ).fit(x[train], y[train])
        scores.append(search.score(x[test], y[test]))
    return {"accuracy": float(np.mean(scores))}


# ----------------------------------------------------------------- ovr_digits


def prepare_digits(quick: bool = False) -> dict:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    train, test = jaxperc.data.train_test_split(y, test_fraction=0.25, seed=0)
    with warnings.catch_warnings():  # the blank border pixels: left unscaled
        warnings.simplefilter("ignore", jaxperc.data.ConstantFeatureWarning)
        scaler = jaxperc.data.fit_standardizer(x[train])  # training rows only
    x = scaler.apply(x).astype(np.float32)
    out = {"x": x[train], "y": y[train], "x_test": x[test], "y_test": y[test]}
    return {**out, **_sizes(quick)}


def jaxperc_ovr(d: dict) -> dict:
    k = 10
    targets = jaxperc.data.one_vs_rest(d["y"], k)
    l2 = 1.0 / (C * d["x"].shape[0])
    r = jp.train_many(
        d["x"],
        targets,
        target_index=np.arange(k),
        l2=l2,
        max_epochs=d["max_epochs"],
        **NEWTON,
    )
    w, b = np.asarray(r.params.w), np.asarray(r.params.b)
    pred = np.argmax(d["x_test"] @ w.T + b, axis=1)
    return {"accuracy": float(np.mean(pred == d["y_test"]))}


def sklearn_ovr(d: dict) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    _quiet_sklearn()
    model = OneVsRestClassifier(LogisticRegression(C=C, max_iter=d["sk_iter"]))
    model.fit(d["x"], d["y"])
    return {"accuracy": float(model.score(d["x_test"], d["y_test"]))}


TASKS = {
    "fit": (prepare_fit, jaxperc_fit, sklearn_fit),
    "grid_cv": (prepare_grid, jaxperc_grid, sklearn_grid),
    "nested_cv": (prepare_nested, jaxperc_nested, sklearn_nested),
    "ovr_digits": (prepare_digits, jaxperc_ovr, sklearn_ovr),
}
CONTENDERS = ("jaxperc", "sklearn")

_CHILD = """
import json, sys, time
import sklearn.linear_model, sklearn.model_selection
from scripts.bench.userlevel import TASKS
prepare, *fns = TASKS[sys.argv[1]]
fn = fns[("jaxperc", "sklearn").index(sys.argv[2])]
data = prepare()
t = time.perf_counter()
answer = fn(data)
print(json.dumps({"seconds": time.perf_counter() - t, **answer}))
"""


def cold(task: str, contender: str) -> dict:
    """The first call in a fresh process (imports and data loaded beforehand)."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, task, contender],
        capture_output=True,
        text=True,
        env=child_env(JAXPERC_CACHE_DIR="off"),
        cwd=ROOT,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def warm(task: str, repeats: int, quick: bool = False) -> dict:
    """Median of ``repeats`` calls each, interleaved, after one warm-up call."""
    prepare, *fns = TASKS[task]
    data = prepare(quick)
    out = {
        name: {"answer": fn(data), "times_s": []}
        for name, fn in zip(CONTENDERS, fns, strict=True)
    }
    for r in range(repeats):
        order = list(zip(CONTENDERS, fns, strict=True))[:: 1 if r % 2 == 0 else -1]
        for name, fn in order:
            out[name]["times_s"].append(timed(fn, data)[0])
    for row in out.values():
        row.update(row.pop("answer"))
        row["seconds"] = statistics.median(row["times_s"])
    return _compare(out)


def _compare(rows: dict) -> dict:
    jx, sk = rows["jaxperc"], rows["sklearn"]
    rows["speedup"] = sk["seconds"] / jx["seconds"]
    rows["accuracy_gap_points"] = 100.0 * (jx["accuracy"] - sk["accuracy"])
    return rows


def userlevel(quick: bool, repeats: int) -> dict:
    """Every task warm; cold too unless ``quick``."""
    out = {"C": C, "grid_C": GRID_C.tolist(), "folds": FOLDS, "tasks": {}}
    for task in TASKS:
        res = {"warm": warm(task, repeats, quick)}
        if not quick:
            res["cold"] = _compare({c: cold(task, c) for c in CONTENDERS})
        out["tasks"][task] = res
        w = res["warm"]
        print(
            f"\n== user level {task}: jaxperc {w['jaxperc']['seconds'] * 1e3:.1f} ms "
            f"(accuracy {w['jaxperc']['accuracy']:.3f}), scikit-learn "
            f"{w['sklearn']['seconds'] * 1e3:.1f} ms "
            f"({w['sklearn']['accuracy']:.3f}): {w['speedup']:.1f}×",
            flush=True,
        )
    return out

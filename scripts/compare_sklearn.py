"""Compare jaxperc's PerceptronClassifier with scikit-learn's linear classifiers.

On a bundled data set (default breast cancer), one stratified split, every model
behind a StandardScaler: test accuracy and fit time, the median of several fits.
jaxperc's first fit compiles the training loop for the data's shape; that time is
reported apart from the warm fits.

    python scripts/compare_sklearn.py [--dataset breast_cancer] [--repeats 5]

Then the speed targets: the same GridSearchCV over 16 values of C × 5 folds for
jaxperc (Adam and L-BFGS), LogisticRegression, and a DummyClassifier that
measures GridSearchCV's own cost; the same search as one estimator,
PerceptronClassifierCV (one compiled program; Adam, Newton's method, or 100
Nesterov epochs) beside LogisticRegressionCV (a warm-started path per fold);
and the first fit in a fresh Python process with JAX's persistent compilation
cache cold and warm (the second session of a notebook).
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import (
    LogisticRegression,
    LogisticRegressionCV,
    Perceptron,
    SGDClassifier,
)
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import jaxperc.data as jd
from jaxperc.sklearn import PerceptronClassifier, PerceptronClassifierCV


def models(seed: int) -> dict:
    return {
        "jaxperc PerceptronClassifier": PerceptronClassifier(
            standardize=False, random_state=seed
        ),
        "jaxperc PerceptronClassifier (lbfgs)": PerceptronClassifier(
            standardize=False, optimizer="lbfgs", random_state=seed
        ),
        "jaxperc PerceptronClassifier (newton)": PerceptronClassifier(
            standardize=False, random_state=seed, **NEWTON
        ),
        "sklearn Perceptron": Perceptron(random_state=seed),
        "sklearn SGDClassifier (log_loss)": SGDClassifier(
            loss="log_loss", random_state=seed
        ),
        "sklearn LogisticRegression": LogisticRegression(),
    }


def timed_fit(estimator, x, y) -> float:
    start = time.perf_counter()
    estimator.fit(x, y)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="breast_cancer")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--test-fraction", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    ds = jd.load_dataset(args.dataset)
    train, test = jd.train_test_split(
        ds.y, test_fraction=args.test_fraction, seed=args.seed, stratify=True
    )
    x, y, x_test, y_test = ds.x[train], ds.y[train], ds.x[test], ds.y[test]
    print(
        f"{ds.name}: {len(train)} training rows, {len(test)} test rows, "
        f"{ds.n_features} features, {ds.n_classes} classes; "
        f"median of {args.repeats} fits"
    )
    header = f"{'model':38} {'test acc':>9} {'fit ms':>9} {'first fit ms':>13}"
    print(header)
    print("-" * len(header))
    for name, estimator in models(args.seed).items():
        pipe = make_pipeline(StandardScaler(), estimator)
        first = timed_fit(pipe, x, y)
        times = [timed_fit(pipe, x, y) for _ in range(args.repeats)]
        accuracy = pipe.score(x_test, y_test)
        print(
            f"{name:38} {accuracy:9.4f} {1e3 * statistics.median(times):9.2f} "
            f"{1e3 * first:13.1f}"
        )
    grid_searches(x, y, args.repeats)
    cv_estimators(x, y, args.repeats, (x_test, y_test))
    with tempfile.TemporaryDirectory() as cache:
        cold, warm = fresh_process_fit(cache), fresh_process_fit(cache)
    off = fresh_process_fit("off")
    print(
        f"first fit in a fresh process on breast cancer: {cold:.2f} s with an empty "
        f"compilation cache, {warm:.2f} s with it warm, {off:.2f} s with it off"
    )


FRESH_FIT = """
import time
import jaxperc.data as jd
from jaxperc.sklearn import PerceptronClassifier
ds = jd.load_dataset("breast_cancer")
start = time.perf_counter()
PerceptronClassifier(random_state=0).fit(ds.x, ds.y)
print(time.perf_counter() - start)
"""


def fresh_process_fit(cache_dir: str) -> float:
    """Seconds of the first fit in a new process (imports not counted)."""
    env = {**os.environ, "JAXPERC_CACHE_DIR": cache_dir}
    out = subprocess.run(
        [sys.executable, "-c", FRESH_FIT], env=env, capture_output=True, text=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def grid_searches(x, y, repeats: int) -> None:
    """16 values of C × 5 folds, the same search for every estimator.

    jaxperc's penalty is l2 = 1/(C·n) with n the rows of a fold's training part,
    LogisticRegression's objective scaled by 1/n. The DummyClassifier search
    (16 candidates that train nothing) is GridSearchCV's own cost: no estimator
    can make the search faster than that.
    """
    cs = np.geomspace(0.01, 100, 16)
    l2 = list(1.0 / (cs * (len(y) - len(y) // 5)))
    searches = {
        "jaxperc PerceptronClassifier": GridSearchCV(
            PerceptronClassifier(random_state=0), {"l2": l2}, cv=5
        ),
        "jaxperc PerceptronClassifier (lbfgs)": GridSearchCV(
            PerceptronClassifier(optimizer="lbfgs", random_state=0),
            {"l2": l2},
            cv=5,
        ),
        "sklearn LogisticRegression, n_jobs=-1": GridSearchCV(
            make_pipeline(StandardScaler(), LogisticRegression()),
            {"logisticregression__C": list(cs)},
            cv=5,
            n_jobs=-1,
        ),
        "DummyClassifier (GridSearchCV's own cost)": GridSearchCV(
            DummyClassifier(), {"constant": [None] * 16}, cv=5
        ),
    }
    for name, search in searches.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(x, y)  # compiles, for jaxperc
            times = [timed_fit(search, x, y) for _ in range(repeats)]
        print(
            f"GridSearchCV 16 C × 5 folds, {name}: "
            f"{statistics.median(times):.3f} s, best mean held-out-fold accuracy "
            f"{search.best_score_:.4f}"
        )


# Newton's method, stopping as LogisticRegression's lbfgs does: on the gradient
NEWTON = dict(optimizer="newton", tol=None, gtol=1e-4)
FIRST_ORDER = dict(optimizer="nesterov", learning_rate=0.5, max_epochs=100, tol=None)


def cv_estimators(x, y, repeats: int, test) -> None:
    """The same 16 values × 5 folds and the refit, as one estimator each.

    Both score accuracy on scikit-learn's unshuffled StratifiedKFold(5) and
    refit the best value on all rows. PerceptronClassifierCV takes one l2 per
    value, l2 = 1/(C·n) with n the rows of a fold's training part.
    """
    cs = np.geomspace(0.01, 100, 16)
    l2s = list(1.0 / (cs * (len(y) - len(y) // 5)))
    estimators = {
        "jaxperc PerceptronClassifierCV": PerceptronClassifierCV(l2s=l2s, cv=5),
        "jaxperc PerceptronClassifierCV (newton)": PerceptronClassifierCV(
            l2s=l2s, cv=5, **NEWTON
        ),
        # the user-level benchmark's grid method: 100 epochs, no stopping rule
        "jaxperc PerceptronClassifierCV (Nesterov, 100 epochs)": PerceptronClassifierCV(
            l2s=l2s, cv=5, **FIRST_ORDER
        ),
        "sklearn LogisticRegressionCV": make_pipeline(
            StandardScaler(),
            LogisticRegressionCV(Cs=list(cs), cv=5, scoring="accuracy"),
        ),
    }
    for name, estimator in estimators.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", FutureWarning)  # LRCV's API changes
            first = timed_fit(estimator, x, y)
            times = [timed_fit(estimator, x, y) for _ in range(repeats)]
        cv = estimator[-1] if hasattr(estimator, "steps") else estimator
        best = cv.best_score_ if hasattr(cv, "best_score_") else _lrcv_best(cv)
        print(
            f"16 C × 5 folds + refit, {name}: {statistics.median(times):.3f} s "
            f"(first {first:.2f} s), best mean held-out-fold accuracy {best:.4f}, "
            f"refit's test acc {estimator.score(*test):.4f}"
        )


def _lrcv_best(lrcv) -> float:
    """LogisticRegressionCV's best mean held-out-fold accuracy."""
    scores = next(iter(lrcv.scores_.values()))  # [folds, Cs]
    return float(scores.mean(axis=0).max())


if __name__ == "__main__":
    main()

"""Nested cross-validation: jaxperc's one compiled program vs scikit-learn.

16 learning rates × 5 inner × 5 outer folds on the breast cancer data. jaxperc
trains every model (16 × 5 × (5 + 1) = 480 perceptrons: sigmoid, cross-entropy,
Adam, full batch) as ONE ``train_models`` program with ``jaxperc.nested_cv``;
scikit-learn runs ``cross_val_score(GridSearchCV(...))`` over the same outer and
inner folds (a splitter that asks ``jaxperc.data.kfold_weights`` for them), with a
StandardScaler fitted inside each fold like jaxperc's per-fold standardizers.

    python scripts/nested_cv_vs_sklearn.py [--max-epochs 2000] [--estimator sgd]
        [--global-scaling]
"""

import argparse
import time

import numpy as np
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import jaxperc
import jaxperc.data as jd

LEARNING_RATES = np.geomspace(1e-3, 1.0, 16)


class JaxpercFolds:
    """A scikit-learn splitter giving exactly jaxperc's stratified seeded folds."""

    def __init__(self, k: int, seed: int):
        self.k, self.seed = k, seed

    def split(self, x, y, groups=None):
        masks = jd.kfold_weights(np.asarray(y), self.k, seed=self.seed)
        for mask in masks:
            yield np.flatnonzero(mask > 0), np.flatnonzero(mask == 0)

    def get_n_splits(self, x=None, y=None, groups=None):
        return self.k


def run_jaxperc(x, y, args) -> tuple[float, float]:
    options = jaxperc.TrainOptions(
        loss="bce", optimizer="adam", max_epochs=args.max_epochs, tol=1e-5
    )
    if args.global_scaling:  # timing of the program without per-fold standardizers
        x = jd.fit_standardizer(x).apply(x)
    start = time.perf_counter()
    got = jaxperc.nested_cv(
        x, y, {"learning_rate": LEARNING_RATES}, options,
        outer=args.outer, inner=args.inner, seed=args.seed,
        standardize=not args.global_scaling,
    )  # fmt: skip
    return time.perf_counter() - start, got.estimate.mean


def run_sklearn(x, y, args) -> tuple[float, float]:
    if args.estimator == "sgd":
        model = SGDClassifier(
            loss="log_loss", learning_rate="constant", max_iter=args.max_epochs,
            tol=1e-5, random_state=0,
        )  # fmt: skip
        grid = {"sgdclassifier__eta0": LEARNING_RATES}
    else:  # logistic regression: the regularisation strength plays the rate's part
        model = LogisticRegression(max_iter=args.max_epochs)
        grid = {"logisticregression__C": np.geomspace(1e-3, 1e3, 16)}
    search = GridSearchCV(
        make_pipeline(StandardScaler(), model),
        grid,
        cv=JaxpercFolds(args.inner, args.seed),
    )
    start = time.perf_counter()
    scores = cross_val_score(search, x, y, cv=JaxpercFolds(args.outer, args.seed))
    return time.perf_counter() - start, float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=2000)
    parser.add_argument("--outer", type=int, default=5)
    parser.add_argument("--inner", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--estimator", choices=("sgd", "logistic"), default="sgd")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--global-scaling",
        action="store_true",
        help="jaxperc: standardise once on all rows instead of per fold (leaks; "
        "for timing only)",
    )
    args = parser.parse_args()
    ds = jd.load_dataset("breast_cancer")
    print(f"{len(LEARNING_RATES)} settings × {args.inner} inner × {args.outer} outer")
    for name, fn in (("jaxperc nested_cv", run_jaxperc), ("sklearn", run_sklearn)):
        times = []
        for _ in range(args.repeats):  # the first jaxperc call also compiles
            seconds, acc = fn(ds.x, ds.y, args)
            times.append(seconds)
        shown = ", ".join(f"{t:.2f}" for t in times)
        label = name if name != "sklearn" else f"sklearn ({args.estimator})"
        print(f"{label:28s} seconds per call: {shown}; nested accuracy {acc:.4f}")


if __name__ == "__main__":
    main()

"""Compare jaxperc's PerceptronClassifier with scikit-learn's linear classifiers.

On a bundled data set (default breast cancer), one stratified split, every model
behind a StandardScaler: test accuracy and fit time, the median of several fits.
jaxperc's first fit compiles the training loop for the data's shape; that time is
reported apart from the warm fits.

    python scripts/compare_sklearn.py [--dataset breast_cancer] [--repeats 5]
"""

import argparse
import statistics
import time

from sklearn.linear_model import LogisticRegression, Perceptron, SGDClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import jaxperc.data as jd
from jaxperc.sklearn import PerceptronClassifier


def models(seed: int) -> dict:
    return {
        "jaxperc PerceptronClassifier": PerceptronClassifier(
            standardize=False, random_state=seed
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
    header = f"{'model':34} {'accuracy':>9} {'fit ms':>9} {'first fit ms':>13}"
    print(header)
    print("-" * len(header))
    for name, estimator in models(args.seed).items():
        pipe = make_pipeline(StandardScaler(), estimator)
        first = timed_fit(pipe, x, y)
        times = [timed_fit(pipe, x, y) for _ in range(args.repeats)]
        accuracy = pipe.score(x_test, y_test)
        print(
            f"{name:34} {accuracy:9.4f} {1e3 * statistics.median(times):9.2f} "
            f"{1e3 * first:13.1f}"
        )


if __name__ == "__main__":
    main()

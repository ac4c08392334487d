"""Sparse text: PerceptronClassifier on a hashed bag of words beside SGDClassifier.

Generated documents (a 200,000-word vocabulary, each class leaning on its own
slice of it) go through scikit-learn's ``HashingVectorizer`` into a CSR matrix
with 2^17 features at about 1 % density. Both estimators train logistic models
on the same matrix for a fixed number of epochs (no stopping rule); time per
epoch is the difference of two runs' times divided by the difference of their
epochs, so compile and set-up drop out. Memory: the
process's peak resident size before and after training, beside what a dense
float32 copy would need.

    python scripts/bench_sparse.py [--docs 4000] [--classes 2]
"""

import argparse
import resource
import time

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import SGDClassifier

from jaxperc.sklearn import PerceptronClassifier


def documents(n_docs: int, n_classes: int, words: int, seed: int = 0):
    """n_docs strings of ``words`` tokens each, and their class labels."""
    rng = np.random.default_rng(seed)
    vocab = 200_000
    labels = rng.integers(0, n_classes, n_docs)
    slice_size = vocab // (4 * n_classes)
    docs = []
    for c in labels:
        common = rng.integers(0, vocab, int(0.8 * words))
        topical = c * slice_size + rng.integers(0, slice_size, words - common.size)
        docs.append(" ".join(f"w{t}" for t in np.concatenate([common, topical])))
    return docs, labels


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def per_epoch(make, x, y, epochs=(5, 25)) -> tuple[float, float]:
    """(seconds per epoch, seconds of the first, cold fit)."""
    start = time.perf_counter()
    make(epochs[0]).fit(x, y)
    cold = time.perf_counter() - start
    times = []
    for e in epochs:
        start = time.perf_counter()
        make(e).fit(x, y)
        times.append(time.perf_counter() - start)
    return (times[1] - times[0]) / (epochs[1] - epochs[0]), cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=4000)
    parser.add_argument("--classes", type=int, default=2)
    parser.add_argument("--words", type=int, default=1500)
    args = parser.parse_args()

    docs, y = documents(args.docs, args.classes, args.words)
    x = HashingVectorizer(n_features=2**17, alternate_sign=False).transform(docs)
    n, d = x.shape
    print(
        f"{n} documents × {d} features, {x.nnz} non-zeros ({x.nnz / n / d:.2%} "
        f"density), {args.classes} classes; a dense float32 copy: "
        f"{n * d * 4 / 2**20:.0f} MiB, the CSR matrix: "
        f"{(x.data.nbytes + x.indices.nbytes + x.indptr.nbytes) / 2**20:.0f} MiB"
    )
    before = peak_mib()
    ours, ours_cold = per_epoch(
        lambda e: PerceptronClassifier(max_epochs=e, tol=None, random_state=0), x, y
    )
    after = peak_mib()
    theirs, _ = per_epoch(
        lambda e: SGDClassifier(loss="log_loss", max_iter=e, tol=None, random_state=0),
        x,
        y,
    )
    print(f"{'estimator':44} {'ms/epoch':>9}")
    print(f"{'jaxperc PerceptronClassifier (full batch)':44} {1e3 * ours:9.1f}")
    print(f"{'sklearn SGDClassifier(log_loss) (per row)':44} {1e3 * theirs:9.1f}")
    print(
        f"jaxperc first fit (compiles): {ours_cold:.2f} s; peak resident memory "
        f"{before:.0f} MiB before training, {after:.0f} MiB after"
    )


if __name__ == "__main__":
    main()

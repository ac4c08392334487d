"""Feature standardisation fitted on training data, and one-vs-rest label columns."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from jaxperc.data._validate import check_int, quoted
from jaxperc.errors import DataError, JaxpercWarning


class ConstantFeatureWarning(JaxpercWarning):
    """A feature has one value in the training data, so it is left unscaled."""


class Standardizer(NamedTuple):
    """Per-feature shift and scale: ``(x - mean) / scale``.

    Plain arrays only, so ``np.savez(path, **std._asdict())`` saves it without
    pickle and ``Standardizer(**np.load(path))`` restores it.
    """

    mean: np.ndarray  # [d] float64
    scale: np.ndarray  # [d] float64, all > 0 (1 for constant features)

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Standardises ``x`` [n, d] or [d]; see :func:`apply_standardizer`."""
        return apply_standardizer(self, x)

    @classmethod
    def identity(cls, n_features: int) -> Standardizer:
        """The standardizer that changes nothing (mean 0, scale 1): for raw inputs."""
        return cls(np.zeros(n_features), np.ones(n_features))


def fit_standardizer(
    x: np.ndarray,
    *,
    feature_names: Sequence[str] | None = None,
    weights: np.ndarray | None = None,
) -> Standardizer:
    """Fits mean and standard deviation per feature on training rows only.

    A feature with a single value among the rows used (or with a standard deviation
    that underflows to 0) gets scale 1, so it is shifted but never divided by zero,
    and a :class:`ConstantFeatureWarning` names it.

    Args:
      x: [n, d] training features (pass only the training rows, never the test rows).
      feature_names: d names used in the warning; default "column 1", "column 2", ...
      weights: optional [n] non-negative per-sample weights, e.g. one row of
        ``kfold_weights`` or ``bootstrap_weights``; rows with weight 0 are ignored.

    Returns:
      A Standardizer with ``mean`` [d] and ``scale`` [d] (population std, ddof=0).
    """
    data = np.asarray(x, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] < 1 or data.shape[1] < 1:
        raise DataError(
            f"fit_standardizer needs x of shape [n, d] with n, d >= 1, got shape "
            f"{data.shape}; pass Dataset.x or x.reshape(-1, 1) for one feature"
        )
    n, d = data.shape
    names = _feature_names(feature_names, d)
    if weights is None:
        used, w = data, np.ones(n)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise DataError(
                f"weights must be {n} finite non-negative numbers (one per row of "
                f"x), got shape {w.shape}; pass a row of kfold_weights(...)"
            )
        if not np.any(w > 0):
            raise DataError("weights are all 0; at least one row must be used to fit")
        used, w = data[w > 0], w[w > 0]
    if not np.all(np.isfinite(used)):
        raise DataError(
            "x contains NaN or inf; clean the data before fitting a standardizer"
        )
    # on columns divided by their largest magnitude, so features near 1e300 do not
    # overflow when squared (underflow to 0 in the squares is harmless)
    big = np.max(np.abs(used), axis=0)
    big = np.where(big > 0, big, 1.0)
    with np.errstate(under="ignore"):
        unit = used / big
        mean_unit = (w @ unit) / w.sum()
        var_unit = (w @ (unit - mean_unit) ** 2) / w.sum()
    mean, var = mean_unit * big, var_unit
    single = np.max(used, axis=0) == np.min(used, axis=0)
    mean = np.where(single, used[0], mean)  # exact, so the column becomes exactly 0
    constant = single | ~(var > 0)
    scale = np.where(constant, 1.0, np.sqrt(np.where(constant, 1.0, var)) * big)
    if np.any(constant):
        listed = ", ".join(
            f"{quoted(names[j])} (value {mean[j]:g})" for j in np.flatnonzero(constant)
        )
        warnings.warn(
            f"constant feature(s) in the training data left unscaled (scale 1): "
            f"{listed}; consider dropping them",
            ConstantFeatureWarning,
            stacklevel=2,
        )
    return Standardizer(mean=mean, scale=scale)


class Standardizers(NamedTuple):
    """One standardizer per weight column (fold, resample): tables [F, d].

    Row f standardises the rows that column f trains on:
    ``(x - mean[f]) / scale[f]``. ``train_many(standardizers=...)`` takes it as is.
    """

    mean: np.ndarray  # [F, d] float64
    scale: np.ndarray  # [F, d] float64, all > 0

    def row(self, f: int) -> Standardizer:
        """The standardizer of column f."""
        return Standardizer(self.mean[f], self.scale[f])


def fit_standardizers(
    x: np.ndarray,
    weights: np.ndarray,
    *,
    feature_names: Sequence[str] | None = None,
) -> Standardizers:
    """Fits one standardizer per weight column, each on that column's rows only.

    Under k-fold cross-validation or the bootstrap, preprocessing must be fitted
    inside each fold: column f of ``weights`` (a fold mask or bootstrap counts)
    says which training rows model f sees, and how often, so its mean and scale
    come from those rows alone and the held-out rows never leak into them.

    Args:
      x: [n, d] raw features.
      weights: [n, F] non-negative weight columns (``kfold_weights(...).T``).
      feature_names: d names for the constant-feature warning.

    Returns:
      :class:`Standardizers` with ``mean`` and ``scale`` of shape [F, d]. One
      :class:`ConstantFeatureWarning` names the features constant in some column.
    """
    w = np.asarray(weights, dtype=np.float64)
    n = np.shape(x)[0]
    if w.ndim != 2 or w.shape[0] != n:
        raise DataError(
            f"weights must have shape [n, F] with n = {n} (the rows of x), got "
            f"{w.shape}; pass kfold_weights(...).T or bootstrap_weights(...).T"
        )
    fitted, constant = [], []
    for f in range(w.shape[1]):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConstantFeatureWarning)
            fitted.append(
                fit_standardizer(x, feature_names=feature_names, weights=w[:, f])
            )
        constant += [
            f for c in caught if issubclass(c.category, ConstantFeatureWarning)
        ]
    if constant:
        names = _feature_names(feature_names, np.shape(x)[1])
        cols = np.flatnonzero(np.any([s.scale == 1.0 for s in fitted], axis=0))
        listed = ", ".join(quoted(names[j]) for j in cols)
        warnings.warn(
            f"feature(s) constant in the training rows of {len(constant)} of "
            f"{w.shape[1]} columns left unscaled there (scale 1): {listed}",
            ConstantFeatureWarning,
            stacklevel=2,
        )
    return Standardizers(
        np.stack([s.mean for s in fitted]), np.stack([s.scale for s in fitted])
    )


def apply_standardizer(std: Standardizer, x: np.ndarray) -> np.ndarray:
    """Returns ``(x - std.mean) / std.scale``.

    Args:
      std: a fitted Standardizer with ``mean`` [d] and ``scale`` [d].
      x: [n, d] or [d] features.

    Returns:
      float64 array of the same shape as ``x``.
    """
    mean = np.asarray(std.mean, dtype=np.float64)
    scale = np.asarray(std.scale, dtype=np.float64)
    if mean.ndim != 1 or scale.shape != mean.shape:
        raise DataError(
            f"standardizer mean and scale must both have shape [d], got "
            f"{mean.shape} and {scale.shape}; refit it with fit_standardizer"
        )
    if not np.all(np.isfinite(scale) & (scale > 0)):
        raise DataError("standardizer scale must be finite and > 0; refit it")
    data = np.asarray(x, dtype=np.float64)
    if data.ndim not in (1, 2) or data.shape[-1] != mean.shape[0]:
        raise DataError(
            f"x has shape {data.shape} but the standardizer was fitted on "
            f"{mean.shape[0]} features; pass x of shape [n, {mean.shape[0]}]"
        )
    return (data - mean) / scale


def one_vs_rest(y_index: np.ndarray, n_classes: int) -> np.ndarray:
    """One 0/1 target column per class: column k is 1 where ``y_index == k``.

    Args:
      y_index: [n] integer class indices in ``0..n_classes-1``.
      n_classes: K, the number of classes (columns).

    Returns:
      [n, K] float64 array of 0.0 and 1.0 with exactly one 1 per row.
    """
    k = check_int("n_classes", n_classes, minimum=1)
    y = np.asarray(y_index)
    if y.ndim != 1 or not (np.issubdtype(y.dtype, np.integer) and y.dtype != bool):
        raise DataError(
            f"y_index must be a 1-D integer array [n], got dtype {y.dtype} and shape "
            f"{y.shape}; pass Dataset.y"
        )
    if y.size and (y.min() < 0 or y.max() >= k):
        bad = y[(y < 0) | (y >= k)][0]
        raise DataError(
            f"y_index holds class index {bad}, outside 0..{k - 1} for n_classes={k}; "
            f"pass the number of classes, len(Dataset.classes)"
        )
    return (y[:, None] == np.arange(k)[None, :]).astype(np.float64)


def class_weight_columns(
    y_index: np.ndarray,
    n_classes: int,
    class_weight=None,
    *,
    sample_weight: np.ndarray | None = None,
) -> np.ndarray:
    """Weight columns for one classifier with class weights, as scikit-learn's SGD.

    For two classes (one model) there is one column: row i weighs
    ``class_weight[y_i] · sample_weight[i]``. For K > 2 classes trained one-vs-rest
    (K models) there is a column per model: in column k the rows of class k weigh
    ``class_weight[k] · sample_weight[i]`` and every other row ``sample_weight[i]``
    (the "rest" keeps weight 1, as in ``SGDClassifier``). Pass the table as
    ``train_many(weights=..., weight_index=arange(K))`` (``weight_index`` 0 for two
    classes).

    Args:
      y_index: [n] integer class indices in ``0..n_classes-1``.
      n_classes: K.
      class_weight: None (all 1), ``"balanced"`` (n / (K · n_k), n_k the number
        of rows of class k), a sequence of K weights, or a dict
        ``{class index: weight}`` (classes not in it weigh 1).
      sample_weight: optional [n] non-negative weights (default 1).

    Returns:
      float64 [n, 1] for K = 2, else [n, K].
    """
    y = one_vs_rest(y_index, n_classes).astype(bool)  # validates y_index, K
    n, k = y.shape
    per_class = class_weights(class_weight, y_index, k)
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    if sw.shape != (n,) or not np.all(np.isfinite(sw)) or np.any(sw < 0):
        raise DataError(
            f"sample_weight must be {n} finite numbers ≥ 0 (one per row), got "
            f"shape {sw.shape}"
        )
    if k == 2:
        return (sw * per_class[np.asarray(y_index)])[:, None]
    return sw[:, None] * np.where(y, per_class[None, :], 1.0)


def class_weights(
    class_weight,
    y_index: np.ndarray,
    n_classes: int,
    *,
    row_weights=None,
    class_names=None,
) -> np.ndarray:
    """[K] weight per class from a class_weight argument (see class_weight_columns).

    ``"balanced"`` is n / (K · n_k) over the rows given, each row counted
    ``row_weights[i]`` times (default once): with fold masks or bootstrap counts
    as ``row_weights`` it balances the rows that fold or resample fits.
    ``class_names`` only names classes in error messages.
    """
    k = n_classes
    if class_weight is None:
        return np.ones(k)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise DataError(
                f"class_weight={class_weight!r} is not known; use 'balanced', a "
                "dict {class index: weight} or K weights"
            )
        rows = np.ones(len(y_index)) if row_weights is None else row_weights
        counts = np.bincount(y_index, weights=rows, minlength=k)
        if np.any(counts == 0):
            empty = int(np.argmin(counts))
            name = empty if class_names is None else repr(class_names[empty])
            raise DataError(
                f"class_weight='balanced' needs rows of every class; class "
                f"{name} has none"
            )
        return np.sum(rows) / (k * counts)
    if isinstance(class_weight, dict):
        out = np.ones(k)
        for c, weight in class_weight.items():
            if not (isinstance(c, int | np.integer) and 0 <= c < k):
                raise DataError(
                    f"class_weight has key {c!r}, not a class index in 0..{k - 1}"
                )
            out[c] = weight
    else:
        out = np.asarray(class_weight, dtype=float)
        if out.shape != (k,):
            raise DataError(
                f"class_weight must hold {k} weights (one per class), got shape "
                f"{out.shape}"
            )
    if not np.all(np.isfinite(out)) or np.any(out < 0):
        raise DataError(f"class weights must be finite and ≥ 0, got {out.tolist()}")
    return out


def _feature_names(feature_names: Sequence[str] | None, d: int) -> list[str]:
    if feature_names is None:
        return [f"column {j + 1}" for j in range(d)]
    names = [str(name) for name in feature_names]
    if len(names) != d:
        raise DataError(
            f"feature_names has {len(names)} names but x has {d} columns; "
            f"pass Dataset.feature_names"
        )
    return names

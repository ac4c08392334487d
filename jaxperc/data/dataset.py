"""The Dataset record: features, integer class labels and their names."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from jaxperc.data._validate import name_list, quoted
from jaxperc.data.preprocess import one_vs_rest
from jaxperc.errors import DataError, unknown_choice


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """Features and integer class labels with their names; the arrays are read-only.

    Attributes:
      x: [n, d] float64 features, all finite.
      y: [n] int64 class index in ``0..K-1``.
      feature_names: d column names.
      classes: K >= 2 class names; ``classes[i]`` is the name of label ``i``.
      name: where the data came from, e.g. "breast_cancer" or a CSV path.
      target_name: the name of the label column.
    """

    x: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    classes: tuple[str, ...]
    name: str = "data"
    target_name: str = "target"

    def __post_init__(self) -> None:
        name = str(self.name)
        x = np.asarray(self.x, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
            raise DataError(
                f"{name}: x must have shape [n_samples, n_features] with both >= 1, "
                f"got {x.shape}; use x.reshape(-1, 1) for a single feature"
            )
        y = np.asarray(self.y)
        if not np.issubdtype(y.dtype, np.integer) or y.shape != (x.shape[0],):
            raise DataError(
                f"{name}: y must be {x.shape[0]} integer class indices (one per row "
                f"of x), got dtype {y.dtype} and shape {y.shape}"
            )
        feature_names = tuple(str(f) for f in self.feature_names)
        classes = tuple(str(c) for c in self.classes)
        if len(feature_names) != x.shape[1] or len(set(feature_names)) != x.shape[1]:
            raise DataError(
                f"{name}: need {x.shape[1]} distinct feature names, got "
                f"{len(feature_names)} ({len(set(feature_names))} distinct)"
            )
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise DataError(
                f"{name}: need at least two distinct class names, got {classes!r}"
            )
        if y.min() < 0 or y.max() >= len(classes):
            raise DataError(
                f"{name}: y holds values outside 0..{len(classes) - 1} for the "
                f"{len(classes)} classes {classes!r}"
            )
        finite = np.isfinite(x)
        if not finite.all():
            i, j = np.argwhere(~finite)[0]
            raise DataError(
                f"{name}: x[{i}, {j}] (feature {quoted(feature_names[j])}) is "
                f"{x[i, j]}; remove or fill in missing and infinite values"
            )
        set_ = object.__setattr__
        set_(self, "x", _read_only(x))
        set_(self, "y", _read_only(y.astype(np.int64, copy=False)))
        set_(self, "feature_names", feature_names)
        set_(self, "classes", classes)
        set_(self, "name", name)
        set_(self, "target_name", str(self.target_name))

    @property
    def n_samples(self) -> int:
        """n, the number of rows."""
        return int(self.x.shape[0])

    @property
    def n_features(self) -> int:
        """d, the number of feature columns."""
        return int(self.x.shape[1])

    @property
    def n_classes(self) -> int:
        """K, the number of classes (``len(classes)``)."""
        return len(self.classes)

    def class_counts(self) -> np.ndarray:
        """[K] int64 number of rows in each class."""
        return np.bincount(self.y, minlength=self.n_classes)

    def targets(self) -> np.ndarray:
        """0/1 training targets for perceptrons.

        Returns:
          [n, 1] float64 for two classes (the column is "is ``classes[1]``"), or
          [n, K] float64 one-vs-rest columns for K > 2 classes (column k is
          "is ``classes[k]``"), ready for K perceptrons at once.
        """
        if self.n_classes == 2:
            return (self.y == 1).astype(np.float64)[:, None]
        return one_vs_rest(self.y, self.n_classes)

    def subset(self, idx: np.ndarray) -> Dataset:
        """The rows picked by ``idx``, keeping names and class mapping.

        Args:
          idx: [m] integer row indices, or an [n] boolean mask.

        Returns:
          A Dataset with m rows (``classes`` unchanged even if some are absent).
        """
        index = np.asarray(idx)
        n = self.n_samples
        if index.dtype == bool:
            if index.shape != (n,):
                raise DataError(
                    f"{self.name}: a boolean mask must have shape ({n},), got "
                    f"{index.shape}"
                )
        elif not np.issubdtype(index.dtype, np.integer) or index.ndim != 1:
            raise DataError(
                f"{self.name}: subset needs a 1-D integer index array or boolean "
                f"mask, got dtype {index.dtype} and shape {index.shape}; pass e.g. "
                f"the train_idx from train_test_split"
            )
        elif index.size and (index.min() < -n or index.max() >= n):
            raise DataError(
                f"{self.name}: row index out of range for {n} rows; pass indices in "
                f"0..{n - 1}"
            )
        return dataclasses.replace(self, x=self.x[index], y=self.y[index])

    def binary(self, positive: str | int) -> Dataset:
        """A one-class-versus-the-rest view: label 1 is ``positive``, 0 the rest.

        Args:
          positive: the positive class, by name or by index into ``classes``.

        Returns:
          A Dataset sharing ``x``, with classes ``("not <positive>", "<positive>")``
          and name ``"<name>_<positive>"``.
        """
        k = self._class_index(positive)
        label = self.classes[k]
        return Dataset(
            x=self.x,
            y=(self.y == k).astype(np.int64),
            feature_names=self.feature_names,
            classes=(f"not {label}", label),
            name=f"{self.name}_{label}",
            target_name=self.target_name,
        )

    def _class_index(self, positive: str | int) -> int:
        if isinstance(positive, str):
            if positive in self.classes:
                return self.classes.index(positive)
            message = unknown_choice(
                "class",
                positive,
                self.classes,
                subject=f"no class named {quoted(positive)}",
                quote=quoted,
                listing="classes are",
            )
            raise DataError(f"{self.name}: {message}", argument="positive")
        is_int = isinstance(positive, (int, np.integer))
        if is_int and not isinstance(positive, bool) and 0 <= positive < self.n_classes:
            return int(positive)
        raise DataError(
            f"{self.name}: positive must be a class name or an index in "
            f"0..{self.n_classes - 1}, got {positive!r}; classes are "
            f"{name_list(self.classes)}"
        )

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, n_samples={self.n_samples}, "
            f"n_features={self.n_features}, classes={self.classes!r})"
        )


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view

"""What both estimators share: tags, label and weight checks, the ``train_many``
call with the estimator's options, and predictions from ``coef_``/``intercept_``."""

import warnings

import numpy as np
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from jaxperc import training
from jaxperc.data import one_vs_rest
from jaxperc.errors import NotConvergedWarning
from jaxperc.sklearn import _fit as fit_help

# z at which each activation's output crosses 0.5 (the class boundary ŷ = 0.5)
THRESHOLD_Z = {"sigmoid": 0.0, "step": 0.0, "tanh": np.arctanh(0.5), "identity": 0.5}
# options passed to train_many as they are (l2: a value, or one per model in CV)
TRAIN_KEYWORDS = (
    *("learning_rate", "loss", "activation", "grad", "optimizer"),
    *("optimizer_kwargs", "schedule", "schedule_kwargs", "gtol", "init_scale"),
)
FLOATS = [np.float64, np.float32]


def sample_weight_of(sample_weight, X) -> np.ndarray:
    """[n] float64 weights ≥ 0 (all zero is refused later, with the reason)."""
    return _check_sample_weight(
        sample_weight,
        X,
        dtype=np.float64,
        ensure_non_negative=True,
        allow_all_zero_weights=True,
    )


def class_weights_of(class_weight, classes, y) -> np.ndarray:
    """[K] weight per class: scikit-learn's rule and errors (None: all 1)."""
    if class_weight is None:  # the common case, without compute_class_weight's checks
        return np.ones(classes.size)
    return compute_class_weight(class_weight, classes=classes, y=y)


class PerceptronBase(ClassifierMixin, BaseEstimator):
    """What both estimators share: tags, label checks, and predictions.

    Predictions are plain numpy from ``coef_`` [K, d] and ``intercept_`` [K].
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_class = True  # one-vs-rest
        return tags

    def _check_labels(self, y_index, row_weight):
        if not np.any(row_weight > 0):
            raise ValueError(
                "sample_weight is all zero; at least one row needs a positive weight"
            )
        present = np.unique(y_index[row_weight > 0])
        if present.size < 2:
            raise ValueError(
                "a classifier needs samples of at least 2 classes, got one class "
                f"({self.classes_[present[0]].tolist()!r}) with positive weight"
            )

    def _stopping_rule_on(self) -> bool:
        return bool(self.tol) or bool(self.gtol)

    def _seeds(self):
        if isinstance(self.random_state, int | np.integer):
            return int(self.random_state), int(self.random_state)
        rng = check_random_state(self.random_state)
        return int(rng.randint(2**31 - 1)), int(rng.randint(2**31 - 1))

    def _targets(self, y_index) -> np.ndarray:
        """[n, 1] 0/1 for two classes, else the [n, K] one-vs-rest table."""
        table = one_vs_rest(y_index, self.classes_.size)
        return table[:, 1:] if table.shape[1] == 2 else table

    def _checked_dtype(self, X, xs) -> str:
        """The training dtype for X; xs (X as training sees it) must fit in it."""
        dtype = fit_help.training_dtype(self.dtype, X.dtype)
        fit_help.check_magnitude(xs, dtype)
        return dtype

    def _train_many(self, x, targets, weights, dtype, **per_call):
        """``train_many`` with this estimator's options; ``per_call`` adds the rest."""
        fit_help.enable_default_cache()
        seed, data_seed = self._seeds()
        options = {
            "seed": seed,
            "data_seed": data_seed,
            "final_metrics": False,  # never read here: a smaller program
            "tol": 0.0 if self.tol is None else float(self.tol),
            "patience": self.n_iter_no_change,
            "max_epochs": self.max_epochs,
            "batch_size": self.batch_size,
            "dtype": dtype,
            **{name: getattr(self, name) for name in TRAIN_KEYWORDS},
        }
        # running out of epochs is reported as scikit-learn's ConvergenceWarning
        # (fit_help.check_stops), not as jaxperc's own warning
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=NotConvergedWarning)
            return training.train_many(
                x, targets, weights=weights, **{**options, **per_call}
            )

    def _z(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=("csr", "csc"), dtype=FLOATS, reset=False
        )
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def decision_function(self, X):
        """Signed distance to the class boundary ŷ = 0.5 in z: [n] or [n, K].

        For the sigmoid this is the logit z = x·w + b; for other activations z
        shifted so that it is 0 where ŷ = 0.5.
        """
        score = self._z(X) - THRESHOLD_Z[self.activation]
        return score[:, 0] if score.shape[1] == 1 else score

    def predict(self, X):
        """The class of each row: ŷ ≥ 0.5 (two classes) or the largest score."""
        score = self.decision_function(X)
        if score.ndim == 1:
            return self.classes_[(score >= 0).astype(int)]
        return self.classes_[np.argmax(score, axis=1)]

    @available_if(lambda self: self.activation == "sigmoid")
    def predict_log_proba(self, X):
        """log of :meth:`predict_proba`, computed stably.  → [n, K]."""
        z = self._z(X)
        if z.shape[1] == 1:
            return np.hstack([log_expit(-z), log_expit(z)])
        logp = log_expit(z)
        top = logp.max(axis=1, keepdims=True)
        return logp - top - np.log(np.exp(logp - top).sum(axis=1, keepdims=True))

    @available_if(lambda self: self.activation == "sigmoid")
    def predict_proba(self, X):
        """Class probabilities [n, K]: σ(z) for two classes, else the K
        one-vs-rest σ(z_k) normalised to sum to 1 (sigmoid activation only)."""
        z = self._z(X)
        if z.shape[1] == 1:
            return np.hstack([expit(-z), expit(z)])
        return np.exp(self.predict_log_proba(X))

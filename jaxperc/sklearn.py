"""A scikit-learn classifier over :func:`jaxperc.training.train_many`.

``PerceptronClassifier`` fits one perceptron for two classes and K perceptrons
one-vs-rest for K > 2 classes, all K in one compiled ``train_many`` call (a
[n, K] targets table and ``target_index = arange(K)``). ``partial_fit`` is one
more epoch of the same call, continuing its optimizer state
(``train_many(init=<previous TrainResult>)``). Predictions are plain numpy from
``coef_`` and ``intercept_``, which are expressed in the units of the input
features even when the estimator standardises internally.

scikit-learn is an optional dependency: ``import jaxperc`` never imports this
module; ``import jaxperc.sklearn`` does (``pip install jaxperc[sklearn]``). The
work around ``train_many`` (scaling, weights, padding, checks) lives in
:mod:`jaxperc._sklearn_fit`.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from jaxperc import _sklearn_fit as fit_help
from jaxperc import core, training
from jaxperc.errors import NotConvergedWarning

# z at which each activation's output crosses 0.5 (the class boundary ŷ = 0.5)
_THRESHOLD_Z = {"sigmoid": 0.0, "step": 0.0, "tanh": np.arctanh(0.5), "identity": 0.5}
_TRAIN_KEYWORDS = (
    *("learning_rate", "l2", "loss", "activation", "grad", "optimizer"),
    *("optimizer_kwargs", "schedule", "schedule_kwargs", "gtol", "init_scale"),
)
_FLOATS = [np.float64, np.float32]
_BALANCED_PARTIAL = (
    "class_weight 'balanced' is not supported for partial_fit. In order to use "
    "'balanced' weights, use compute_class_weight('balanced', classes=classes, "
    "y=y). In place of y you can use a large enough sample of the full training "
    "set target to properly estimate the class frequency distributions. Pass the "
    "resulting weights as the class_weight parameter."
)


def _sample_weight(sample_weight, X) -> np.ndarray:
    """[n] float64 weights ≥ 0 (all zero is refused later, with the reason)."""
    return _check_sample_weight(
        sample_weight,
        X,
        dtype=np.float64,
        ensure_non_negative=True,
        allow_all_zero_weights=True,
    )


class PerceptronClassifier(ClassifierMixin, BaseEstimator):
    """The single-neuron perceptron as a scikit-learn classifier.

    Two classes train one perceptron; K > 2 classes K one-vs-rest perceptrons in
    one compiled program. The defaults (cross-entropy, sigmoid, Adam, a small L2
    penalty, standardised inputs) make it a logistic regression as accurate as
    scikit-learn's ``LogisticRegression`` (see ``docs/sklearn.md``). X may be a
    numpy array or a SciPy sparse matrix (trained without densifying).

    Args:
      loss, activation, grad, optimizer, optimizer_kwargs, learning_rate,
        schedule, schedule_kwargs, max_epochs, gtol, batch_size, init_scale:
        as in :func:`jaxperc.training.train_many`. Only ``activation="sigmoid"``
        gives ``predict_proba``.
      tol, n_iter_no_change: stop once the cost's relative change is ≤ tol for
        ``n_iter_no_change`` epochs in a row (``tol=None`` or 0: off).
      early_stopping, validation_fraction: hold out a stratified
        ``validation_fraction`` of the rows and stop on their cost instead (see
        ``docs/sklearn.md``).
      l2: penalty (l2/2)·‖w‖² on the mean loss. ``LogisticRegression(C)``
        fitted on n rows corresponds to ``l2 = 1 / (C · n)``.
      class_weight: None, ``"balanced"`` or {label: weight}, multiplied with
        ``sample_weight`` as in ``SGDClassifier``.
      standardize: fit a scaler on the training rows (sample weights honoured)
        and train on scaled inputs: mean and standard deviation for dense X,
        standard deviation only for sparse X. ``coef_`` is in the units of X.
      init: ``"zeros"`` (default) or a random scheme of ``train_many``.
      random_state: an int r seeds both the initial weights and the mini-batch
        order with r; None or a RandomState draws them.
      dtype: None (float64 for float64 X when ``jax_enable_x64`` is on, else
        float32), ``"float32"`` or ``"float64"``.
      warm_start: ``fit`` starts from the current ``coef_`` and ``intercept_``.

    Attributes:
      classes_, coef_ ([1, d] or [K, d]), intercept_ ([1] or [K]) in X's
      floating dtype, n_iter_ (epochs of the longest-running model; cumulative
      over partial_fit), t_ (optimizer steps + 1), loss_curve_ ([E] or [K, E]),
      stop_reason_, n_features_in_, feature_names_in_.
    """

    def __init__(
        self,
        *,
        loss="bce",
        activation="sigmoid",
        grad="manual",
        optimizer="adam",
        optimizer_kwargs=None,
        learning_rate=0.05,
        schedule=None,
        schedule_kwargs=None,
        max_epochs=1000,
        tol=1e-6,
        n_iter_no_change=5,
        gtol=0.0,
        early_stopping=False,
        validation_fraction=0.1,
        batch_size=None,
        l2=2e-3,
        class_weight=None,
        standardize=True,
        init="zeros",
        init_scale=0.01,
        random_state=None,
        dtype=None,
        warm_start=False,
    ):
        self.loss = loss
        self.activation = activation
        self.grad = grad
        self.optimizer = optimizer
        self.optimizer_kwargs = optimizer_kwargs
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.schedule_kwargs = schedule_kwargs
        self.max_epochs = max_epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.gtol = gtol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.batch_size = batch_size
        self.l2 = l2
        self.class_weight = class_weight
        self.standardize = standardize
        self.init = init
        self.init_scale = init_scale
        self.random_state = random_state
        self.dtype = dtype
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_class = True  # one-vs-rest
        return tags

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Train on X [n, d] (dense or sparse) and labels y [n]; returns self.

        ``coef_init`` [K, d] and ``intercept_init`` [K] start training from the
        given weights, in the units of X (as ``SGDClassifier``'s).
        """
        if self.warm_start and hasattr(self, "coef_") and coef_init is None:
            coef_init, intercept_init = self.coef_, self.intercept_
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), dtype=_FLOATS)
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        k = 1 if self.classes_.size == 2 else self.classes_.size
        sw = _sample_weight(sample_weight, X)
        cw = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        held = None
        if self.early_stopping:
            rs = self.random_state
            held = fit_help.validation_mask(y, sw, self.validation_fraction, rs)
        table, w_index, h_index = fit_help.weight_table(
            y_index, self.classes_.size, cw, sw, held
        )
        # each row's weight: sample × its class's weight (held-out rows: 0)
        train_rows = sw * cw[y_index] * (1 if held is None else ~held)
        self._check_labels(y_index, train_rows)
        self._scaler = fit_help.fit_scaler(X, train_rows, self.standardize)
        start = None
        if coef_init is not None or intercept_init is not None:
            coef, b = fit_help.given_start(coef_init, intercept_init, k, X.shape[1])
            start = fit_help.to_training_units(coef, b, self._scaler)
        self._run, self._d_pad, self.n_iter_, self.loss_curve_ = None, None, 0, None
        result = self._train(X, y_index, table, (w_index, h_index), start, epochs=None)
        fit_help.check_stops(result, self._stopping_rule_on())
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One more epoch over (X, y), continuing weights and optimizer state.

        Mini-batches of ``batch_size`` when it is set, else one full-batch step.
        The first call needs ``classes`` (every label that can occur) and fits the
        scaler on its rows; later calls keep it. ``n_iter_`` counts the epochs.
        """
        if self.early_stopping:
            raise ValueError("early_stopping should be False with partial_fit")
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            raise ValueError(_BALANCED_PARTIAL)
        first = not hasattr(self, "_run")
        X, y = validate_data(
            self, X, y, accept_sparse=("csr", "csc"), dtype=_FLOATS, reset=first
        )
        check_classification_targets(y)
        all_classes = self._partial_classes(classes, first)
        unknown = np.setdiff1d(y, all_classes)
        if unknown.size:
            raise ValueError(
                f"y holds label {unknown[0]!r}, not among classes "
                f"{all_classes.tolist()}"
            )
        sw = _sample_weight(sample_weight, X)
        cw = compute_class_weight(self.class_weight, classes=all_classes, y=y)
        y_index = np.searchsorted(all_classes, y)
        table, w_index, _ = fit_help.weight_table(
            y_index, all_classes.size, cw, sw, None
        )
        if first:
            self.classes_ = all_classes
            rows = sw * cw[y_index]
            self._scaler = fit_help.fit_scaler(X, rows, self.standardize)
            self._run, self._d_pad, self.n_iter_, self.loss_curve_ = None, None, 0, None
        self._train(X, y_index, table, (w_index, None), None, epochs=1)
        return self

    def _partial_classes(self, classes, first: bool) -> np.ndarray:
        if first and (classes is None or np.unique(classes).size < 2):
            raise ValueError(
                "the first call to partial_fit needs classes=, every label that "
                "can occur (at least 2, e.g. classes=np.unique(y_all))"
            )
        all_classes = np.unique(classes) if first else self.classes_
        if classes is not None and not np.array_equal(np.unique(classes), all_classes):
            raise ValueError(
                f"classes={list(classes)} differs from the first call's "
                f"{all_classes.tolist()}"
            )
        return all_classes

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
        k = self.classes_.size
        if k == 2:
            return (y_index == 1).astype(np.float64)[:, None]
        return (y_index[:, None] == np.arange(k)[None, :]).astype(np.float64)

    def _train(self, X, y_index, table, indices, start, *, epochs):
        """One train_many call: a fit (``epochs=None``) or partial_fit's one epoch.

        ``start``: (w [K, d], b [K]) in training units, or None (zeros / the
        ``init`` scheme); partial_fit continues ``self._run`` when there is one.
        """
        fit_help.enable_default_cache()
        dtype = fit_help.training_dtype(self.dtype, X.dtype)
        xs = fit_help.scaled(self._scaler, X)
        fit_help.check_magnitude(xs, dtype)
        n, d = xs.shape
        targets = self._targets(y_index)
        k = targets.shape[1]
        if self._d_pad is None:
            padding = self.init == "zeros" or start is not None
            self._d_pad = fit_help.bucket(d, 4) if padding and not sp.issparse(X) else d
        full_batch = self.batch_size is None and not sp.issparse(X)
        n_pad = fit_help.bucket(n, 16) if full_batch else n
        x, t, v = fit_help.padded(xs, targets, table, n_pad, self._d_pad)
        seed, data_seed = self._seeds()
        init = self.init if self._run is None else self._run
        if start is not None:
            w0 = np.pad(start[0], ((0, 0), (0, self._d_pad - d)))
            init = core.Params(w0, start[1])
        tol = 0.0 if epochs or self.tol is None else float(self.tol)
        # the estimator reports running out of epochs as scikit-learn's
        # ConvergenceWarning (see _keep), not as jaxperc's own warning
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=NotConvergedWarning)
            result = training.train_many(
                x,
                t,
                weights=v,
                weight_index=indices[0],
                holdout_index=indices[1],
                seed=seed,
                data_seed=data_seed,
                target_index=np.arange(k) if k > 1 else None,
                compact=k > 16,  # compaction pays off only for many models
                final_metrics=False,  # never read here: a smaller program
                init=init,
                tol=tol,
                patience=self.n_iter_no_change,
                max_epochs=epochs or self.max_epochs,
                batch_size=self.batch_size,
                dtype=dtype,
                **{name: getattr(self, name) for name in _TRAIN_KEYWORDS},
            )
        self._keep(result, X.dtype, k)
        return result

    def _keep(self, result, x_dtype, k):
        """Fitted attributes from a TrainResult (histories appended on partial_fit)."""
        run = fit_help.host_run(result)
        self._run = run
        w = run.params.w.astype(np.float64)[:, : self.n_features_in_]
        coef, intercept = fit_help.to_input_units(
            w, run.params.b.astype(np.float64), self._scaler
        )
        self.coef_, self.intercept_ = coef.astype(x_dtype), intercept.astype(x_dtype)
        self.n_iter_ += int(np.max(result.epochs))
        self.t_ = int(np.max(run.steps)) + 1
        curve = np.asarray(result.cost_history, np.float64)
        if self.loss_curve_ is not None:
            curve = np.concatenate([np.atleast_2d(self.loss_curve_), curve], axis=1)
        self.loss_curve_ = curve[0] if k == 1 else curve
        self.stop_reason_ = np.asarray(result.stop_reason)

    def _z(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=("csr", "csc"), dtype=_FLOATS, reset=False
        )
        return np.asarray(X @ self.coef_.T) + self.intercept_

    def decision_function(self, X):
        """Signed distance to the class boundary ŷ = 0.5 in z: [n] or [n, K].

        For the sigmoid this is the logit z = x·w + b; for other activations z
        shifted so that it is 0 where ŷ = 0.5.
        """
        score = self._z(X) - _THRESHOLD_Z[self.activation]
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

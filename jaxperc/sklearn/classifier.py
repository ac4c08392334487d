"""``PerceptronClassifier``: one perceptron for two classes, K one-vs-rest for K.

All K train in one compiled ``train_many`` call (a [n, K] targets table and
``target_index = arange(K)``). ``partial_fit`` is one more epoch of the same call,
continuing its optimizer state (``train_many(init=<previous TrainResult>)``).
``coef_`` and ``intercept_`` are in the units of the input features even when the
estimator standardises internally.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from jaxperc import core
from jaxperc.sklearn import _fit as fit_help
from jaxperc.sklearn._base import (
    FLOATS,
    PerceptronBase,
    class_weights_of,
    sample_weight_of,
)

_BALANCED_PARTIAL = (
    "class_weight 'balanced' is not supported for partial_fit. In order to use "
    "'balanced' weights, use compute_class_weight('balanced', classes=classes, "
    "y=y). In place of y you can use a large enough sample of the full training "
    "set target to properly estimate the class frequency distributions. Pass the "
    "resulting weights as the class_weight parameter."
)


class PerceptronClassifier(PerceptronBase):
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
        learning_rate=0.5,
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

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Train on X [n, d] (dense or sparse) and labels y [n]; returns self.

        ``coef_init`` [K, d] and ``intercept_init`` [K] start training from the
        given weights, in the units of X (as ``SGDClassifier``'s).
        """
        if self.warm_start and hasattr(self, "coef_") and coef_init is None:
            coef_init, intercept_init = self.coef_, self.intercept_
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), dtype=FLOATS)
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        k = 1 if self.classes_.size == 2 else self.classes_.size
        sw = sample_weight_of(sample_weight, X)
        cw = class_weights_of(self.class_weight, self.classes_, y)
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
            self, X, y, accept_sparse=("csr", "csc"), dtype=FLOATS, reset=first
        )
        check_classification_targets(y)
        all_classes = self._partial_classes(classes, first)
        unknown = np.setdiff1d(y, all_classes)
        if unknown.size:
            raise ValueError(
                f"y holds label {unknown[0]!r}, not among classes "
                f"{all_classes.tolist()}"
            )
        sw = sample_weight_of(sample_weight, X)
        cw = class_weights_of(self.class_weight, all_classes, y)
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

    def _train(self, X, y_index, table, indices, start, *, epochs):
        """One train_many call: a fit (``epochs=None``) or partial_fit's one epoch.

        ``start``: (w [K, d], b [K]) in training units, or None (zeros / the
        ``init`` scheme); partial_fit continues ``self._run`` when there is one.
        """
        xs = fit_help.scaled(self._scaler, X)
        dtype = self._checked_dtype(X, xs)
        n, d = xs.shape
        targets = self._targets(y_index)
        k = targets.shape[1]
        n_pad, d_pad = fit_help.padded_sizes(
            n,
            d,
            sparse=sp.issparse(X),
            batch_size=self.batch_size,
            pad_features=self.init == "zeros" or start is not None,
        )
        if self._d_pad is None:  # partial_fit keeps the first call's features
            self._d_pad = d_pad
        x, t, v = fit_help.padded(xs, targets, table, n_pad, self._d_pad)
        init = self.init if self._run is None else self._run
        if start is not None:
            w0 = np.pad(start[0], ((0, 0), (0, self._d_pad - d)))
            init = core.Params(w0, start[1])
        result = self._train_many(
            x,
            t,
            v,
            dtype,
            weight_index=indices[0],
            holdout_index=indices[1],
            target_index=np.arange(k) if k > 1 else None,
            compact=k > 16,  # compaction pays off only for many models
            init=init,
            l2=self.l2,
            **({"tol": 0.0, "max_epochs": epochs} if epochs else {}),
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

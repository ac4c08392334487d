"""scikit-learn classifiers over :func:`jaxperc.training.train_many`.

``PerceptronClassifier`` fits one perceptron for two classes and K perceptrons
one-vs-rest for K > 2 classes, all K in one compiled ``train_many`` call (a
[n, K] targets table and ``target_index = arange(K)``). ``partial_fit`` is one
more epoch of the same call, continuing its optimizer state
(``train_many(init=<previous TrainResult>)``). Predictions are plain numpy from
``coef_`` and ``intercept_``, which are expressed in the units of the input
features even when the estimator standardises internally.

``PerceptronClassifierCV`` chooses ``l2`` by k-fold cross-validation: every
(penalty, fold) model and every penalty's refit on all rows in one
``train_many`` call, each fold with its own scaler (:mod:`jaxperc._sklearn_cv`).

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
from sklearn.metrics import get_scorer
from sklearn.utils import check_random_state, compute_class_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from jaxperc import _sklearn_cv as cv_help
from jaxperc import _sklearn_fit as fit_help
from jaxperc import core, training
from jaxperc.errors import NotConvergedWarning
from jaxperc.experiment import stats

# z at which each activation's output crosses 0.5 (the class boundary ŷ = 0.5)
_THRESHOLD_Z = {"sigmoid": 0.0, "step": 0.0, "tanh": np.arctanh(0.5), "identity": 0.5}
# options passed to train_many as they are (l2: a value, or one per model in CV)
_TRAIN_KEYWORDS = (
    *("learning_rate", "loss", "activation", "grad", "optimizer"),
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


def _class_weights(class_weight, classes, y) -> np.ndarray:
    """[K] weight per class: scikit-learn's rule and errors (None: all 1)."""
    if class_weight is None:  # the common case, without compute_class_weight's checks
        return np.ones(classes.size)
    return compute_class_weight(class_weight, classes=classes, y=y)


class _PerceptronBase(ClassifierMixin, BaseEstimator):
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
        k = self.classes_.size
        if k == 2:
            return (y_index == 1).astype(np.float64)[:, None]
        return (y_index[:, None] == np.arange(k)[None, :]).astype(np.float64)

    def _train_many(self, x, targets, weights, dtype, **per_call):
        """``train_many`` with this estimator's options; ``per_call`` adds the rest."""
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
            **{name: getattr(self, name) for name in _TRAIN_KEYWORDS},
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


class PerceptronClassifier(_PerceptronBase):
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
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), dtype=_FLOATS)
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        k = 1 if self.classes_.size == 2 else self.classes_.size
        sw = _sample_weight(sample_weight, X)
        cw = _class_weights(self.class_weight, self.classes_, y)
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
        cw = _class_weights(self.class_weight, all_classes, y)
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


class PerceptronClassifierCV(_PerceptronBase):
    """:class:`PerceptronClassifier` with its L2 penalty chosen by cross-validation.

    scikit-learn's ``LogisticRegressionCV`` for the perceptron, with every fit in
    one compiled program. For each penalty in ``l2s`` and each of the k folds of
    ``cv``, a perceptron (K one-vs-rest for K > 2 classes) trains on the fold's
    training rows, under a scaler fitted on those rows alone, and is scored
    (``scoring``, accuracy by default) on the fold's held-out rows. The penalty
    with the best mean held-out score is chosen (ties: the first in ``l2s_``),
    and the model trained with it on all rows is the fitted classifier. The
    refits of every penalty train beside the folds, so the G · (k + 1) · K
    models are one ``train_many`` call and the choice costs no second fit.

    ``best_score_`` is the best of G fold means, so it is optimistic as an
    estimate of the chosen model's score; :func:`jaxperc.nested_cv` estimates
    the whole procedure without that bias (``docs/evaluation.md``).

    Args:
      l2s: an int G ≥ 2 (G penalties from 1 down to 1e-6, log-spaced, strongest
        first) or a list of penalties (l2/2)·‖w‖² ≥ 0.
      cv: as scikit-learn's: an int k (``StratifiedKFold(k)``, unshuffled), a
        splitter, or an iterable of (train, test) index arrays.
      scoring: None (accuracy, computed from the scores directly) or any
        scikit-learn scorer name or callable (``"neg_log_loss"``,
        ``"roc_auc"``, …), applied to each fold model on its held-out rows.
      Other arguments: as :class:`PerceptronClassifier`'s (no early stopping,
        ``partial_fit`` or warm start: the folds are the held-out data).
        ``optimizer="newton", tol=None, gtol=1e-4`` (dense X) converges every
        model in about ten epochs, the fastest converged search.

    Attributes:
      l2_ (the chosen penalty), l2s_ [G], scores_ [k, G] (held-out score per
      fold and penalty), best_score_ (mean held-out score at ``l2_``),
      best_score_interval_ ((low, high), the Nadeau–Bengio corrected 95 % t
      interval over the k folds), coefs_paths_ [k, G, K', d + 1] (each fold
      model's coef and intercept, in X's units; K' = 1 for two classes), and
      the refit's classes_, coef_, intercept_, n_iter_, t_, loss_curve_,
      stop_reason_, n_features_in_, feature_names_in_ as in
      :class:`PerceptronClassifier`.
    """

    def __init__(
        self,
        *,
        l2s=16,
        cv=5,
        scoring=None,
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
        batch_size=None,
        class_weight=None,
        standardize=True,
        init="zeros",
        init_scale=0.01,
        random_state=None,
        dtype=None,
    ):
        self.l2s = l2s
        self.cv = cv
        self.scoring = scoring
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
        self.batch_size = batch_size
        self.class_weight = class_weight
        self.standardize = standardize
        self.init = init
        self.init_scale = init_scale
        self.random_state = random_state
        self.dtype = dtype

    def fit(self, X, y, sample_weight=None, groups=None):
        """Choose the penalty on the folds and refit on all rows; returns self.

        X [n, d] (dense or sparse), labels y [n], ``sample_weight`` [n] (training
        only: held-out scores count every row once, as scikit-learn's default
        scoring), ``groups`` [n] for a group splitter.
        """
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), dtype=_FLOATS)
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        sw = _sample_weight(sample_weight, X)
        cw = _class_weights(self.class_weight, self.classes_, y)
        self._check_labels(y_index, sw * cw[y_index])
        self.l2s_ = cv_help.l2_grid(self.l2s)
        folds = cv_help.folds(self.cv, X, y, groups, sw * cw[y_index])
        table, per_column, rows = cv_help.column_weights(
            y_index, self.classes_.size, self.class_weight, cw, sw, folds.train
        )
        _, xs, tables, in_x = cv_help.scalers(X, rows, self.standardize)
        targets = self._targets(y_index)
        n_columns, k = folds.train.shape[1], targets.shape[1]
        models = cv_help.models(self.l2s_.size, n_columns, per_column, k, self.l2s_)
        result = self._train_folds(X, xs, targets, table, tables, models)
        run = fit_help.host_run(result)
        d = X.shape[1]
        coef = run.params.w.astype(np.float64)[:, :d]  # [M, d] in training units
        intercept = run.params.b.astype(np.float64)
        if in_x is not None:  # → X's units, through each model's own scaler
            coef = coef / in_x[1][models.column]
            intercept = intercept - np.sum(coef * in_x[0][models.column], axis=1)
        shape = (self.l2s_.size, n_columns, k)
        paths = np.concatenate([coef, intercept[:, None]], axis=1).reshape(*shape, -1)
        self.coefs_paths_ = paths[:, :-1].transpose(1, 0, 2, 3)  # [k, G, K', d + 1]
        if self.scoring in (None, "accuracy"):  # from the scores, no estimator
            z = np.asarray(X @ coef.T) + intercept  # [n, M]
            self.scores_ = cv_help.fold_scores(
                z.reshape(-1, *shape),
                y_index,
                folds.held_out,
                _THRESHOLD_Z[self.activation],
            )
        else:
            self.scores_ = self._scored(X, y, folds.held_out)
        self._choose(folds)
        refit = np.ravel_multi_index(
            (np.full(k, self._best), np.full(k, n_columns - 1), np.arange(k)), shape
        )
        self.coef_ = coef[refit].astype(X.dtype)
        self.intercept_ = intercept[refit].astype(X.dtype)
        self.n_iter_ = int(np.max(run.epochs[refit]))
        self.t_ = int(np.max(run.steps[refit])) + 1
        curve = np.asarray(result.cost_history, np.float64)[refit]
        curve = curve[:, : np.flatnonzero(np.isfinite(curve).any(axis=0)).max() + 1]
        self.loss_curve_ = curve[0] if k == 1 else curve
        self.stop_reason_ = np.asarray(result.stop_reason)[refit]
        fit_help.check_stops(result, self._stopping_rule_on(), returned=refit)
        return self

    def _scored(self, X, y, held_out) -> np.ndarray:
        """[k, G] ``scoring`` of each fold model on its fold's held-out rows.

        Each model is scored as a fitted :class:`PerceptronClassifier` with its
        coefficients, so any scikit-learn scorer applies.
        """
        scorer = get_scorer(self.scoring)
        out = np.empty(self.coefs_paths_.shape[:2])
        for f, rows in enumerate(held_out):
            for g in range(out.shape[1]):
                model = PerceptronClassifier(activation=self.activation)
                model.classes_ = self.classes_
                model.n_features_in_ = self.n_features_in_
                if hasattr(self, "feature_names_in_"):
                    model.feature_names_in_ = self.feature_names_in_
                model.coef_ = self.coefs_paths_[f, g, :, :-1]
                model.intercept_ = self.coefs_paths_[f, g, :, -1]
                out[f, g] = scorer(model, X[rows], y[rows])
        return out

    def _train_folds(self, X, xs, targets, table, tables, models):
        """One ``train_many`` call: every (penalty, column, class) model."""
        fit_help.enable_default_cache()
        dtype = fit_help.training_dtype(self.dtype, X.dtype)
        fit_help.check_magnitude(xs, dtype)
        n, d = xs.shape
        dense = not sp.issparse(X)
        d_pad = fit_help.bucket(d, 4) if dense and self.init == "zeros" else d
        n_pad = fit_help.bucket(n, 16) if dense and self.batch_size is None else n
        x, t, v = fit_help.padded(xs, targets, table, n_pad, d_pad)
        return self._train_many(
            x,
            t,
            v,
            dtype,
            l2=models.l2,
            weight_index=models.weight_index,
            target_index=models.target_index,
            standardizers=cv_help.padded_tables(tables, d_pad),
            standardizer_index=None if tables is None else models.column,
            # no compaction: each smaller batch of survivors is one more compile
            # (3 s for a first 16 × 6 fit, against 0.8 s) to save 10 % of a warm one
            compact=False,
            init=self.init,
        )

    def _choose(self, folds) -> None:
        """l2_, best_score_ and its interval from ``scores_`` [k, G]."""
        mean = self.scores_.mean(axis=0)
        self._best = int(np.argmax(mean))  # ties: the first in l2s_
        self.l2_ = float(self.l2s_[self._best])
        self.best_score_ = float(mean[self._best])
        ratio = folds.held_out.sum(axis=1) / folds.train[:, :-1].sum(axis=0)
        interval = stats.mean_interval(
            self.scores_[:, self._best], test_train_ratio=float(np.mean(ratio))
        )
        self.best_score_interval_ = (interval.low, interval.high)

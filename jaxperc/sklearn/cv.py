"""``PerceptronClassifierCV``: the L2 penalty chosen by k-fold cross-validation.

Every (penalty, fold) model and every penalty's refit on all rows train in one
``train_many`` call, each fold with its own scaler (:mod:`jaxperc.sklearn._folds`).
"""

import numpy as np
import scipy.sparse as sp
from sklearn.metrics import get_scorer
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from jaxperc.experiment import stats
from jaxperc.sklearn import _fit as fit_help
from jaxperc.sklearn import _folds as cv_help
from jaxperc.sklearn._base import (
    FLOATS,
    THRESHOLD_Z,
    PerceptronBase,
    class_weights_of,
    sample_weight_of,
)
from jaxperc.sklearn.classifier import PerceptronClassifier


class PerceptronClassifierCV(PerceptronBase):
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
        X, y = validate_data(self, X, y, accept_sparse=("csr", "csc"), dtype=FLOATS)
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        sw = sample_weight_of(sample_weight, X)
        cw = class_weights_of(self.class_weight, self.classes_, y)
        self._check_labels(y_index, sw * cw[y_index])
        self.l2s_ = cv_help.l2_grid(self.l2s)
        folds = cv_help.folds(self.cv, X, y, groups, sw * cw[y_index])
        table, per_column, rows = cv_help.column_weights(
            y_index, self.classes_.size, self.class_weight, cw, sw, folds.train
        )
        xs, tables, in_x = cv_help.scalers(X, rows, self.standardize)
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
                THRESHOLD_Z[self.activation],
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
        dtype = self._checked_dtype(X, xs)
        n, d = xs.shape
        n_pad, d_pad = fit_help.padded_sizes(
            n,
            d,
            sparse=sp.issparse(X),
            batch_size=self.batch_size,
            pad_features=self.init == "zeros",
        )
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

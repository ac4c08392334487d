"""A scikit-learn classifier over :func:`jaxperc.train_many`.

``PerceptronClassifier`` fits one perceptron for two classes and K perceptrons
one-vs-rest for K > 2 classes, all K in one compiled ``train_many`` call (a
[n, K] targets table and ``target_index = arange(K)``). Predictions are plain
numpy in float64 from ``coef_`` and ``intercept_``, which are expressed in the
units of the input features even when the estimator standardises internally.

scikit-learn is an optional dependency: ``import jaxperc`` never imports this
module; ``import jaxperc.sklearn`` does (``pip install jaxperc[sklearn]``).

Each data shape compiles the training loop once, so full-batch fits pad rows
with zero-weight rows to a bucket size (exact: the cost is a weighted mean), and
with ``init="zeros"`` features with zero columns (exact: their weights stay 0).
"""

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

import jaxperc.data as jd
from jaxperc import core, training

# z at which each activation's output crosses 0.5 (the class boundary ŷ = 0.5)
_THRESHOLD_Z = {"sigmoid": 0.0, "step": 0.0, "tanh": np.arctanh(0.5), "identity": 0.5}
_TRAIN_KEYWORDS = (
    *("learning_rate", "l2", "loss", "activation", "grad", "optimizer"),
    *("optimizer_kwargs", "schedule", "schedule_kwargs", "max_epochs", "tol"),
    *("patience", "gtol", "batch_size", "init", "init_scale", "dtype"),
)


def _bucket(n: int, smallest: int) -> int:
    """A padded size ≥ n from a short list: powers of two, then 1/16 steps."""
    if n <= smallest:
        return smallest
    power = 1 << (n - 1).bit_length()
    if n <= 4096:
        return power
    step = power // 16
    return -(-n // step) * step


def _padded(xs, targets, sw, n_pad: int, d_pad: int):
    """Zero-padded copies: x [n_pad, d_pad], targets [n_pad, K], weights [n_pad]."""
    rows = n_pad - xs.shape[0]
    x = np.pad(xs, ((0, rows), (0, d_pad - xs.shape[1])))
    return x, np.pad(targets, ((0, rows), (0, 0))), np.pad(sw, (0, rows))


def _sample_weight(sample_weight, n: int) -> np.ndarray:
    """[n] float64 non-negative weights (ones when None)."""
    if sample_weight is None:
        return np.ones(n)
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim == 0:
        sw = np.full(n, float(sw))
    if sw.shape != (n,):
        raise ValueError(
            f"sample_weight.shape == {sw.shape}, expected ({n},): one weight per row"
        )
    if not np.all(np.isfinite(sw)) or np.any(sw < 0):
        raise ValueError("sample_weight must be finite and ≥ 0; fix or drop the rows")
    return sw


@functools.lru_cache(maxsize=32)
def _compiled_steps(loss, activation, grad, optimizer, optimizer_kwargs, n_steps):
    """``steps(Params(w [M,d], b [M]), state, x [n,d], t [n,M], v [n], lr, l2, hp)``:
    ``n_steps`` full-batch optimizer steps per model, one compiled scan.
    → (params, state, cost before each step [M, n_steps])."""
    opt = training.make_optimizer(optimizer, dict(optimizer_kwargs))
    grad_fn = core.manual_grad if grad == "manual" else core.autodiff_grad
    kw = {"loss": loss, "activation": activation}

    def objective(p, x, y, v, l2):
        return core.cost(p, x, y, weights=v, **kw) + 0.5 * l2 * jnp.sum(p.w**2)

    def one(p, state, x, y, v, lr, l2, hp):
        def body(carry, _):
            p, state = carry
            value = objective(p, x, y, v, l2)
            g = grad_fn(p, x, y, weights=v, **kw)
            g = g._replace(w=g.w + l2 * p.w)
            direction, state = opt.update(
                g, state, p, hp, value, lambda q: objective(q, x, y, v, l2)
            )
            alpha = lr if opt.uses_learning_rate else 1.0
            p = jax.tree.map(lambda a, u: a + alpha * u, p, direction)
            return (p, state), value

        (p, state), costs = jax.lax.scan(body, (p, state), None, length=n_steps)
        return p, state, costs

    def init(p, hp):
        return jax.vmap(opt.init, in_axes=(0, None))(p, hp)

    steps = jax.vmap(one, in_axes=(0, 0, None, 1, None, None, None, None))
    return jax.jit(steps), jax.jit(init), opt.float_hparams


class PerceptronClassifier(ClassifierMixin, BaseEstimator):
    """The single-neuron perceptron as a scikit-learn classifier.

    Two classes train one perceptron; K > 2 classes K one-vs-rest perceptrons in
    one compiled program. Parameters mirror :func:`jaxperc.train_many` and are
    validated in ``fit``. The defaults (cross-entropy, sigmoid, Adam, a small L2
    penalty, standardised inputs) make it a logistic regression as accurate as
    scikit-learn's ``LogisticRegression`` (see ``docs/sklearn.md``).

    Args:
      loss, activation, grad, optimizer, optimizer_kwargs, learning_rate,
        schedule, schedule_kwargs, max_epochs, tol, patience, gtol, batch_size:
        as in :func:`jaxperc.train_many`. Only ``activation="sigmoid"`` gives
        ``predict_proba``.
      l2: penalty (l2/2)·‖w‖² on the mean loss. ``LogisticRegression(C)``
        fitted on n rows corresponds to ``l2 = 1 / (C · n)``.
      standardize: fit mean and scale on the training rows (sample weights
        honoured) and train on standardised inputs; ``coef_`` is still in the
        units of X. Set False when a ``StandardScaler`` precedes it in a Pipeline.
      init, init_scale: initial weights (default ``"zeros"``: the loss is
        convex, and zero padding of features stays exact).
      random_state: seeds the initial weights and the mini-batch order.
      dtype: ``None``/``"float32"`` or ``"float64"`` (needs ``jax_enable_x64``).
      warm_start: ``fit`` continues from the current weights (see ``docs``).

    Attributes:
      classes_: [K] the class labels. coef_: [1, d] (two classes) or [K, d].
      intercept_: [1] or [K]. n_iter_: epochs of the longest-running model.
      loss_curve_: cost per epoch, [E] (two classes) or [K, E] (NaN after a
        model stopped). stop_reason_: [1] or [K] why each model stopped.
      n_features_in_, feature_names_in_ (when X has string column names).
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
        patience=5,
        gtol=0.0,
        batch_size=None,
        l2=2e-3,
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
        self.patience = patience
        self.gtol = gtol
        self.batch_size = batch_size
        self.l2 = l2
        self.standardize = standardize
        self.init = init
        self.init_scale = init_scale
        self.random_state = random_state
        self.dtype = dtype
        self.warm_start = warm_start

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()  # a single-output, dense-input classifier
        tags.input_tags.allow_nan = False
        tags.classifier_tags.multi_class = True  # one-vs-rest
        return tags

    def fit(self, X, y, sample_weight=None):
        """Train on X [n, d] and labels y [n] (any label type); returns self."""
        warm = self.warm_start and hasattr(self, "coef_")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=not warm)
        check_classification_targets(y)
        classes, y_index = np.unique(y, return_inverse=True)
        sw = _sample_weight(sample_weight, X.shape[0])
        self._check_labels(classes, y_index, sw)
        if warm and not np.array_equal(classes, self.classes_):
            raise ValueError(
                f"warm_start fit got classes {classes.tolist()} but the model has "
                f"{self.classes_.tolist()}; use warm_start=False to start again"
            )
        if not warm:
            self.classes_ = classes
            self._standardizer = self._fit_standardizer(X, sw)
        xs = self._scaled(X)
        targets = self._targets(y_index)
        self._train(xs, targets, sw, start=(self._w, self._b) if warm else None)
        return self

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One full-batch optimizer step on (X, y) from the current weights.

        The first call needs ``classes`` (all labels that will ever occur); it
        fits the standardizer on that first batch and keeps it afterwards.
        """
        first = not hasattr(self, "coef_")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=first)
        check_classification_targets(y)
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
        unknown = np.setdiff1d(y, all_classes)
        if unknown.size:
            raise ValueError(
                f"y holds label {unknown[0]!r}, not among classes "
                f"{all_classes.tolist()}"
            )
        sw = _sample_weight(sample_weight, X.shape[0])
        if first:
            self.classes_ = all_classes
            self._standardizer = self._fit_standardizer(X, sw)
            k = 1 if all_classes.size == 2 else all_classes.size
            self._set_params(np.zeros((k, X.shape[1])), np.zeros(k), None, 0)
            self.loss_curve_ = np.zeros((k, 0))
            self.stop_reason_ = np.full(k, "max_epochs")
        y_index = np.searchsorted(all_classes, y)
        self._continue(self._scaled(X), self._targets(y_index), sw, 1)
        return self

    def _check_labels(self, classes, y_index, sw):
        if not np.any(sw > 0):
            raise ValueError(
                "sample_weight is all zero; at least one row needs a positive weight"
            )
        present = np.unique(y_index[sw > 0])
        if present.size < 2:
            raise ValueError(
                "a classifier needs samples of at least 2 classes, got one class "
                f"({classes[present[0]].tolist()!r}) with positive weight"
            )

    def _fit_standardizer(self, X, sw):
        if not self.standardize:
            return None
        with warnings.catch_warnings():  # constant columns just keep scale 1
            warnings.simplefilter("ignore", jd.ConstantFeatureWarning)
            return jd.fit_standardizer(X, weights=sw)

    def _scaled(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return X if self._standardizer is None else self._standardizer.apply(X)

    def _targets(self, y_index) -> np.ndarray:
        """[n, 1] 0/1 for two classes, else the [n, K] one-vs-rest table."""
        if self.classes_.size == 2:
            return (y_index == 1).astype(np.float64)[:, None]
        return jd.one_vs_rest(y_index.astype(np.int64), self.classes_.size)

    def _seeds(self):
        rng = check_random_state(self.random_state)
        return int(rng.randint(2**31 - 1)), int(rng.randint(2**31 - 1))

    def _train(self, xs, targets, sw, start=None):
        """Train from scratch, or from ``start`` = (w [K, d], b [K]) (warm start)."""
        n, d = xs.shape
        k = targets.shape[1]
        n_pad = n if self.batch_size is not None else _bucket(n, 16)
        d_pad = _bucket(d, 4) if self.init == "zeros" or start is not None else d
        seed, data_seed = self._seeds()
        x, t, v = _padded(xs, targets, sw, n_pad, d_pad)
        keywords = {name: getattr(self, name) for name in _TRAIN_KEYWORDS}
        if start is not None:  # padded feature columns are zero: their weights too
            w0 = np.pad(start[0], ((0, 0), (0, d_pad - d)))
            keywords["init"] = core.Params(w=w0, b=np.asarray(start[1]))
        result = training.train_many(
            x,
            t,
            weights=v,
            seed=seed,
            data_seed=data_seed,
            target_index=np.arange(k) if k > 1 else None,
            compact=k > 16,  # compaction pays off only for many models
            **keywords,
        )
        w = np.asarray(result.params.w, dtype=np.float64)[:, :d]
        b = np.asarray(result.params.b, dtype=np.float64)
        self._set_params(w, b, None, int(result.epochs.max()))
        curve = result.cost_history.astype(np.float64)
        if start is not None:  # a warm start extends the curve, as MLPClassifier's
            curve = np.concatenate([np.atleast_2d(self.loss_curve_), curve], axis=1)
        self.loss_curve_ = curve[0] if k == 1 else curve
        self.stop_reason_ = np.asarray(result.stop_reason)
        if result.diverged.any():
            warnings.warn(
                f"training diverged (non-finite cost) for {int(result.diverged.sum())}"
                f" of {k} model(s); lower learning_rate or keep standardize=True",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _continue(self, xs, targets, sw, n_steps):
        """``n_steps`` full-batch steps from the current weights and optimizer state.

        ``partial_fit`` keeps the optimizer state (Adam's moments …) from call to
        call, which ``train_many(init=...)`` would start afresh; so it runs the same
        optimizer and gradient here, one compiled scan, without stopping rules.
        """
        opt_kwargs = tuple(sorted((self.optimizer_kwargs or {}).items()))
        statics = (self.loss, self.activation, self.grad, self.optimizer)
        steps, init, float_names = _compiled_steps(*statics, opt_kwargs, n_steps)
        dtype = jnp.dtype(self.dtype or jnp.float32)
        hp = {k: jnp.asarray(dict(opt_kwargs)[k], dtype) for k in float_names}
        x, t, v = _padded(xs, targets, sw, _bucket(xs.shape[0], 16), xs.shape[1])
        params = core.Params(*(jnp.asarray(a, dtype) for a in (self._w, self._b)))
        state = init(params, hp) if self._opt_state is None else self._opt_state
        arrays = (x, t, v, self.learning_rate, self.l2)
        params, state, costs = steps(
            params, state, *(jnp.asarray(a, dtype) for a in arrays), hp
        )
        w, b = (np.asarray(a, dtype=np.float64) for a in params)
        if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
            raise ValueError("weights became non-finite; lower learning_rate")
        self._set_params(w, b, jax.tree.map(np.asarray, state), n_steps)
        curve = np.concatenate(
            [np.atleast_2d(self.loss_curve_), np.asarray(costs, np.float64)], axis=1
        )
        self.loss_curve_ = curve[0] if curve.shape[0] == 1 else curve
        self.stop_reason_ = np.full(w.shape[0], "max_epochs")

    def _set_params(self, w, b, opt_state, n_iter):
        """Keep the standardised-space weights; expose them in X's units."""
        self._w, self._b, self._opt_state = w, b, opt_state
        self.n_iter_ = n_iter
        if self._standardizer is None:
            self.coef_, self.intercept_ = w.copy(), b.copy()
        else:
            self.coef_ = w / self._standardizer.scale
            self.intercept_ = b - self.coef_ @ self._standardizer.mean

    def _z(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_.T + self.intercept_

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

"""What the estimators of :mod:`jaxperc.sklearn` do around ``train_many``.

Host-side helpers, numpy and SciPy only: scaling dense and sparse inputs, weights
(sample × class, and the held-out column of early stopping), starting weights given
in the units of X, padding to few compiled shapes, and the checks that turn bad
input into scikit-learn's errors.
"""

import warnings

import jax
import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedShuffleSplit

import jaxperc.data as jd
from jaxperc import training

_FLOAT32_MAX = float(np.finfo(np.float32).max)


def bucket(n: int, smallest: int) -> int:
    """A padded size ≥ n from a short list: 16 steps per power of two.

    Sizes that differ a little (cross-validation folds, a few rows more) share
    one compiled program, and padding adds at most 1/16 of the rows (a power of
    two would add up to 100 %, which the epoch pays every time).
    """
    if n <= smallest:
        return smallest
    step = max((1 << (n - 1).bit_length()) // 16, smallest)
    return -(-n // step) * step


def padded_sizes(n: int, d: int, *, sparse: bool, batch_size, pad_features: bool):
    """(rows, features) to pad a fit to, so that nearby sizes share a program.

    Dense full-batch rows go up to a :func:`bucket`; features too when training
    starts from zero or given weights (the padded columns then stay exactly 0).
    Sparse and mini-batch fits are not padded.
    """
    n_pad = bucket(n, 16) if not sparse and batch_size is None else n
    d_pad = bucket(d, 4) if not sparse and pad_features else d
    return n_pad, d_pad


def enable_default_cache() -> None:
    """JAX's persistent compilation cache, unless the user configured one.

    ``JAXPERC_CACHE_DIR=off`` keeps it off; ``JAXPERC_CACHE_DIR=<folder>`` moves it.
    """
    if jax.config.jax_compilation_cache_dir is None:
        training.enable_compilation_cache()


def training_dtype(dtype, x_dtype) -> str:
    """float64 for float64 input when 64-bit JAX is on (or asked), else float32."""
    if dtype is not None:
        return str(np.dtype(dtype))
    if x_dtype == np.float64 and jax.config.jax_enable_x64:
        return "float64"
    return "float32"


def check_magnitude(X, dtype: str) -> None:
    """Refuse values that float32 training could not hold, with a clear ValueError."""
    if dtype != "float32":
        return
    values = X.data if sp.issparse(X) else X
    if values.size and np.max(np.abs(values)) > _FLOAT32_MAX:
        raise ValueError(
            f"Input X contains a value too large for float32 training "
            f"({np.max(np.abs(values)):g}); keep standardize=True, scale X, or "
            "train in float64 (jax_enable_x64 and float64 input)"
        )


def fit_scaler(X, weights, standardize: bool):
    """A Standardizer fitted on the rows with weight > 0, or None.

    Dense X: mean and standard deviation. Sparse X: scale only, mean 0
    (scikit-learn's ``with_mean=False``), so zeros stay zeros and X stays sparse.
    """
    if not standardize:
        return None
    if not sp.issparse(X):
        with warnings.catch_warnings():  # constant columns just keep scale 1
            warnings.simplefilter("ignore", jd.ConstantFeatureWarning)
            return jd.fit_standardizer(X, weights=weights)
    X = sp.csr_matrix(X)[weights > 0]
    w = weights[weights > 0] / weights[weights > 0].sum()
    big = np.asarray(abs(X).max(axis=0).todense()).ravel()
    big = np.where(big > 0, big, 1.0)
    unit = X @ sp.diags(1.0 / big)  # columns divided by their largest magnitude
    mean = unit.T @ w
    with np.errstate(under="ignore"):
        var = np.maximum(unit.multiply(unit).T @ w - mean**2, 0.0)
    scale = np.where(var > 0, np.sqrt(var) * big, 1.0)
    return jd.Standardizer(mean=np.zeros(X.shape[1]), scale=scale)


def scaled(scaler, X):
    """X in the units training sees: float64, dense or CSR."""
    if sp.issparse(X):
        X = sp.csr_matrix(X, dtype=np.float64)
        return X if scaler is None else X @ sp.diags(1.0 / scaler.scale)
    X = np.asarray(X, dtype=np.float64)
    return X if scaler is None else scaler.apply(X)


def to_training_units(coef, intercept, scaler):
    """coef [K, d], intercept [K] in X's units → w, b in standardised units."""
    if scaler is None:
        return coef, intercept
    return coef * scaler.scale, intercept + coef @ scaler.mean


def to_input_units(w, b, scaler):
    """w [K, d], b [K] of the trained perceptrons → coef_, intercept_ in X's units."""
    if scaler is None:
        return w.copy(), b.copy()
    coef = w / scaler.scale
    return coef, b - coef @ scaler.mean


def given_start(coef_init, intercept_init, k: int, d: int):
    """coef_init / intercept_init checked (scikit-learn's messages).  → [K, d], [K]."""
    coef = np.zeros((k, d))
    if coef_init is not None:
        coef = np.asarray(coef_init, dtype=np.float64)
        if coef.shape not in ((k, d),) + (((d,),) if k == 1 else ()):
            raise ValueError("Provided coef_init does not match dataset.")
        coef = coef.reshape(k, d)
    intercept = np.zeros(k)
    if intercept_init is not None:
        intercept = np.asarray(intercept_init, dtype=np.float64)
        if intercept.shape not in ((k,),) + (((),) if k == 1 else ()):
            raise ValueError("Provided intercept_init does not match dataset.")
        intercept = intercept.reshape(k)
    return coef, intercept


def validation_mask(y, sw, fraction: float, random_state) -> np.ndarray:
    """[n] True on the held-out rows: a stratified split, as ``SGDClassifier``'s."""
    cv = StratifiedShuffleSplit(test_size=fraction, random_state=random_state)
    _, idx_val = next(cv.split(np.zeros((y.shape[0], 1)), y))
    if not np.any(sw[idx_val] > 0):
        raise ValueError(
            "The sample weights for validation set are all zero, consider using a"
            " different random state."
        )
    mask = np.zeros(y.shape[0], bool)
    mask[idx_val] = True
    return mask


def weight_table(y_index, k_classes: int, class_weight, sw, held_out):
    """Training weight columns (sample × class weight) and the held-out column.

    → (table [n, F] or [n, F + 1], weight_index, holdout_index or None).
    """
    table = jd.class_weight_columns(y_index, k_classes, class_weight, sample_weight=sw)
    index = np.arange(table.shape[1]) if table.shape[1] > 1 else 0
    if held_out is None:
        return table, index, None
    table = np.hstack([table * ~held_out[:, None], (sw * held_out)[:, None]])
    return table, index, table.shape[1] - 1


def padded(x, targets, weights, n_pad: int, d_pad: int):
    """Dense x: zero rows (weight 0) and zero feature columns up to [n_pad, d_pad].

    Exact: the cost is a weighted mean, and a zero column's weight gets zero
    gradient. Sparse x is left as it is (its compiled shapes follow its non-zeros).
    """
    if sp.issparse(x):
        return x, targets, weights
    rows = n_pad - x.shape[0]
    x = np.pad(x, ((0, rows), (0, d_pad - x.shape[1])))
    return x, np.pad(targets, ((0, rows), (0, 0))), np.pad(weights, ((0, rows), (0, 0)))


def host_run(result):
    """A TrainResult without its histories, params on the host: what partial_fit
    resumes. The optimizer state stays where it is (partial_fit hands it back to
    ``train_many`` as it is; copying it out costs a fit a tenth of a millisecond).
    """
    params = jax.tree.map(np.asarray, jax.device_get(result.params))
    m = params.w.shape[0]
    return result._replace(
        params=params, cost_history=np.zeros((m, 0)), accuracy_history=None
    )


def check_stops(result, checking: bool, returned=slice(None)) -> None:
    """scikit-learn's ValueError on divergence; ConvergenceWarning at max_epochs.

    ``returned``: the models the estimator keeps (cross-validation also trains
    models it only scores); only they warn.
    """
    if result.diverged.any():
        epoch = int(result.epochs[result.diverged].min()) + 1
        raise ValueError(
            f"Floating-point under-/overflow occurred at epoch #{epoch}. Scaling "
            "input data with StandardScaler or MinMaxScaler might help."
        )
    stuck = np.asarray(result.stop_reason)[returned] == "max_epochs"
    if checking and stuck.any():
        warnings.warn(
            f"Maximum number of epochs reached before convergence ({int(stuck.sum())}"
            f" of {stuck.size} model(s)). Consider increasing max_epochs to improve "
            "the fit.",
            ConvergenceWarning,
            stacklevel=4,
        )

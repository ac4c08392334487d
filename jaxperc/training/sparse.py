"""Sparse inputs: a compressed layout of x and the two products training needs.

A text task's x (documents × a hashed vocabulary) is mostly zeros: stored dense it
can need gigabytes where its non-zeros need megabytes. :class:`SparseRows` keeps
only the non-zeros, twice: sorted by row (CSR order) for the forward product
Z = W Xᵀ and sorted by column (CSC order) for the gradient's δ X. Each product is
then a gather and a *sorted* segment sum, about 2× faster on a CPU than
``jax.experimental.sparse.BCOO``'s unsorted scatter for the second product
(100,000 features, 1 % density, 8,000 rows: 0.06 s against 0.11 s for both
products of one model). Memory: 2 × nnz values and 4 × nnz int32 indices,
proportional to the non-zeros.

Only full-batch passes over all rows are supported: a mini-batch would gather
rows out of both orders.
"""

import dataclasses
import sys

import jax
import numpy as np


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class SparseRows:
    """The non-zeros of x [n, d], in row order and in column order."""

    data: jax.Array  # [nnz] values, sorted by (row, column)
    rows: jax.Array  # [nnz] int32 row of each value, non-decreasing
    cols: jax.Array  # [nnz] int32 column of each value
    t_data: jax.Array  # [nnz] the same values, sorted by (column, row)
    t_rows: jax.Array  # [nnz] int32
    t_cols: jax.Array  # [nnz] int32, non-decreasing
    shape: tuple[int, int] = dataclasses.field(metadata={"static": True})

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def nnz(self) -> int:
        return self.data.shape[0]


def is_sparse(x) -> bool:
    """True for a SciPy sparse matrix or array (without importing SciPy)."""
    scipy_sparse = sys.modules.get("scipy.sparse")
    return scipy_sparse is not None and scipy_sparse.issparse(x)


def from_scipy(x, dtype) -> SparseRows:
    """Host copies of a SciPy sparse matrix's non-zeros in both orders.

    Explicitly stored zeros are dropped and duplicates summed, so every entry is one
    value of x.
    """
    csr = x.tocsr().astype(dtype, copy=True)
    csr.sum_duplicates()
    csr.eliminate_zeros()
    csc = csr.tocsc()
    csc.sort_indices()
    n, d = csr.shape

    def expand(indptr, size):  # CSR row pointers → one row index per value
        return np.repeat(np.arange(size, dtype=np.int32), np.diff(indptr))

    return SparseRows(
        data=np.asarray(csr.data),
        rows=expand(csr.indptr, n),
        cols=csr.indices.astype(np.int32),
        t_data=np.asarray(csc.data),
        t_rows=csc.indices.astype(np.int32),
        t_cols=expand(csc.indptr, d),
        shape=(int(n), int(d)),
    )


def times_w(x: SparseRows, w: jax.Array) -> jax.Array:
    """W Xᵀ for W [M, d].  → [M, n]: row i of x against every model's weights."""
    per_value = w.T[x.cols] * x.data[:, None]  # [nnz, M]
    z = jax.ops.segment_sum(per_value, x.rows, x.shape[0], indices_are_sorted=True)
    return z.T


def delta_times(d: jax.Array, x: SparseRows) -> jax.Array:
    """δ X for δ [M, n].  → [M, d]: each model's gradient with respect to w."""
    per_value = d.T[x.t_rows] * x.t_data[:, None]  # [nnz, M]
    g = jax.ops.segment_sum(per_value, x.t_cols, x.shape[1], indices_are_sorted=True)
    return g.T

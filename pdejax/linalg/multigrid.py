r"""Geometric multigrid with Galerkin coarsening for symmetric stencil operators.

The operators are symmetric positive definite $3^d$-point (or $(2d+1)$-point) stencils on the
interior vertices of a box with zero Dirichlet data, as produced by
:meth:`pdejax.VertexGrid.div_a_grad`. :class:`Multigrid` builds, for one operator, a hierarchy

- per axis, coarse vertices are every other fine vertex; an odd number of intervals keeps one
  interval (the longest, so the coarse mesh stays nearly uniform) unmerged, so *any* vertex
  count (85, 141, 211, 421, ...) coarsens with nested grids down to a few intervals;
- prolongation $P$ is linear interpolation (tensor product over the axes), restriction is
  $R = P^T$;
- coarse operators are Galerkin products $A_{c} = P^T A P$ (the coefficient-aware choice: jumps
  of $a$ are seen by every level), computed matrix-free by probing with $3^d$ colourings;
  they are $3^d$-point stencils again;
- smoothing is damped Jacobi, the same number of sweeps before and after the coarse correction,
  and the coarsest level is solved exactly (dense Cholesky).

The resulting V-cycle (:meth:`MultigridHierarchy.__call__`, zero initial guess) is a symmetric
positive definite linear map, so it is a valid preconditioner for conjugate gradients
(:func:`pdejax.linalg.conjugate_gradient`). Everything is pure JAX: the setup and the cycle are
jittable, vmappable over a batch of operators, and work in float32 and float64.

Reference: Trottenberg, Oosterlee, Schüller, *Multigrid* (2001), ch. 2 and 7 (Galerkin
coarsening for discontinuous coefficients); Briggs, Henson, McCormick, *A Multigrid Tutorial*.
"""

import dataclasses
import itertools
import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
from jaxtyping import Array, Float

from .stencils import FluxOperator, StencilOperator


@dataclasses.dataclass(frozen=True)
class _AxisTransfer:
    """Linear interpolation along one axis between nested vertex sets (static, hashable).

    Fine vertices ``0..n``, coarse vertices ``c_0 = 0 < ... < c_m = n`` with steps of 1 or 2.
    Only interior vertices carry unknowns; the end values are the (zero) Dirichlet data.
    """

    n_fine: int
    n_coarse: int
    # prolongation, per fine interior vertex i = 1..n-1: indices into padded coarse (0..m)
    p_index0: tuple[int, ...]
    p_index1: tuple[int, ...]
    p_weight0: tuple[float, ...]
    p_weight1: tuple[float, ...]
    # restriction, per coarse interior vertex k = 1..m-1: indices into padded fine (0..n)
    r_index: tuple[int, ...]
    r_weight_left: tuple[float, ...]
    r_weight_right: tuple[float, ...]


def _coarsen_axis(positions: np.ndarray) -> tuple[_AxisTransfer, np.ndarray]:
    n = len(positions) - 1
    if n % 2 == 0:
        coarse = list(range(0, n + 1, 2))
    else:
        lengths = np.diff(positions)
        candidates = np.arange(0, n, 2)
        # longest interval stays unmerged; ties go to the one nearest the middle
        score = lengths[candidates] - 1e-9 * np.abs(candidates - n / 2)
        s = int(candidates[np.argmax(score)])
        coarse = list(range(0, s + 1, 2)) + list(range(s + 1, n + 1, 2))
    coarse = np.asarray(coarse)
    where = {int(c): k for k, c in enumerate(coarse)}
    i0, i1, w0, w1 = [], [], [], []
    for i in range(1, n):
        if i in where:
            i0.append(where[i]), i1.append(where[i]), w0.append(1.0), w1.append(0.0)
        else:
            k = int(np.searchsorted(coarse, i)) - 1
            left, right = positions[coarse[k]], positions[coarse[k + 1]]
            t = (positions[i] - left) / (right - left)
            i0.append(k), i1.append(k + 1), w0.append(1.0 - t), w1.append(t)
    r_index, wl, wr = [], [], []
    for k in range(1, len(coarse) - 1):
        c = int(coarse[k])
        r_index.append(c)
        # fine interior row c-1 sits at list position c-2
        wl.append(w1[c - 2] if (c - 1 not in where and c - 1 >= 1) else 0.0)
        wr.append(w0[c] if (c + 1 not in where and c + 1 <= n - 1) else 0.0)
    transfer = _AxisTransfer(
        n_fine=n,
        n_coarse=len(coarse) - 1,
        p_index0=tuple(i0),
        p_index1=tuple(i1),
        p_weight0=tuple(w0),
        p_weight1=tuple(w1),
        r_index=tuple(r_index),
        r_weight_left=tuple(wl),
        r_weight_right=tuple(wr),
    )
    return transfer, positions[coarse]


def _weights(values, axis, ndim, dtype):
    shape = [1] * ndim
    shape[axis] = len(values)
    return jnp.asarray(np.asarray(values).reshape(shape), dtype)


def _prolong_axis(t: _AxisTransfer, coarse, axis):
    padded = jnp.pad(coarse, [(1, 1) if i == axis else (0, 0) for i in range(coarse.ndim)])
    a = jnp.take(padded, np.asarray(t.p_index0), axis=axis)
    b = jnp.take(padded, np.asarray(t.p_index1), axis=axis)
    d, dt = coarse.ndim, coarse.dtype
    return _weights(t.p_weight0, axis, d, dt) * a + _weights(t.p_weight1, axis, d, dt) * b


def _restrict_axis(t: _AxisTransfer, fine, axis):
    padded = jnp.pad(fine, [(1, 1) if i == axis else (0, 0) for i in range(fine.ndim)])
    idx = np.asarray(t.r_index)
    d, dt = fine.ndim, fine.dtype
    return (
        jnp.take(padded, idx, axis=axis)
        + _weights(t.r_weight_left, axis, d, dt) * jnp.take(padded, idx - 1, axis=axis)
        + _weights(t.r_weight_right, axis, d, dt) * jnp.take(padded, idx + 1, axis=axis)
    )


def _prolong(transfers, coarse):
    for axis, t in enumerate(transfers):
        if t is not None:
            coarse = _prolong_axis(t, coarse, axis)
    return coarse


def _restrict(transfers, fine):
    for axis, t in enumerate(transfers):
        if t is not None:
            fine = _restrict_axis(t, fine, axis)
    return fine


# ------------------------------------------------------------------------------ Galerkin


def _galerkin(op: FluxOperator | StencilOperator, transfers, coarse_shape) -> StencilOperator:
    """$P^T A P$ as a $3^d$-point stencil, by probing with the $3^d$ colourings $j \\bmod 3$."""
    ndim = len(coarse_shape)
    offsets = tuple(itertools.product((-1, 0, 1), repeat=ndim))
    grids = np.meshgrid(*[np.arange(n) for n in coarse_shape], indexing="ij")
    colors = sum((g % 3) * 3**i for i, g in enumerate(grids))
    dtype = op.dtype
    probes = jnp.asarray(np.stack([colors == c for c in range(3**ndim)]), dtype)
    responses = jax.vmap(lambda v: _restrict(transfers, op(_prolong(transfers, v))))(probes)
    weights = []
    for offset in offsets:
        # colour of the neighbour j + offset, as seen from j
        neighbour = sum(((g + o) % 3) * 3**i for i, (g, o) in enumerate(zip(grids, offset)))
        inside = np.ones(coarse_shape, bool)
        for g, o, n in zip(grids, offset, coarse_shape):
            inside &= (g + o >= 0) & (g + o < n)
        pick = jnp.take_along_axis(responses, jnp.asarray(neighbour)[None], axis=0)[0]
        weights.append(jnp.where(jnp.asarray(inside), pick, 0.0))
    return StencilOperator(offsets, tuple(weights))


def _dense(op: StencilOperator) -> Float[Array, "M M"]:
    shape = op.shape
    size = math.prod(shape)
    index = np.arange(size).reshape(shape)
    rows, cols, vals = [], [], []
    for offset, w in zip(op.offsets, op.weights):
        sl_self = tuple(slice(max(0, -o), n - max(0, o)) for o, n in zip(offset, shape))
        sl_nb = tuple(slice(max(0, o), n - max(0, -o)) for o, n in zip(offset, shape))
        rows.append(index[sl_self].ravel())
        cols.append(index[sl_nb].ravel())
        vals.append(w[sl_self].ravel())
    matrix = jnp.zeros((size, size), op.weights[0].dtype)
    return matrix.at[np.concatenate(rows), np.concatenate(cols)].add(jnp.concatenate(vals))


# ------------------------------------------------------------------------------ hierarchy


class MultigridHierarchy(eqx.Module):
    """Levels of one operator, built by :meth:`Multigrid.setup`; calling it applies one V-cycle.

    Example (V-cycles as a stationary iteration on the 2-d Laplacian: each cuts the residual
    about tenfold):
        >>> import jax.numpy as jnp
        >>> from pdejax import VertexGrid
        >>> grid = VertexGrid((17, 17))
        >>> op = FluxOperator(grid.face_coefficients(jnp.ones(grid.shape)), grid.spacing)
        >>> mg = Multigrid().setup(op)
        >>> b, x, residuals = jnp.ones(op.shape), jnp.zeros(op.shape), []
        >>> for _ in range(3):
        ...     x = x + mg(b - op(x))
        ...     residuals.append(f"{float(jnp.linalg.norm(b - op(x)) / jnp.linalg.norm(b)):.1e}")
        >>> mg.shapes, residuals
        (((15, 15), (7, 7)), ['5.4e-02', '4.6e-03', '4.9e-04'])
    """

    operators: tuple[FluxOperator | StencilOperator, ...]
    inverse_diagonals: tuple[Float[Array, "..."], ...]
    coarsest_factor: Float[Array, "M M"]
    transfers: tuple[tuple[_AxisTransfer | None, ...], ...] = eqx.field(static=True)
    num_smooth: int = eqx.field(static=True)
    weight: float = eqx.field(static=True)

    def __call__(self, r: Float[Array, "*interior"]) -> Float[Array, "*interior"]:
        r"""One V-cycle for $A x = r$ from $x = 0$: an SPD approximation of $A^{-1} r$."""
        return self._cycle(0, r)

    def _cycle(self, level, r):
        if level == len(self.operators) - 1:
            x = jsl.cho_solve((self.coarsest_factor, True), r.ravel())
            return x.reshape(r.shape)
        op, inv_d = self.operators[level], self.inverse_diagonals[level]
        omega = jnp.asarray(self.weight, r.dtype)
        x = omega * inv_d * r
        for _ in range(self.num_smooth - 1):
            x = x + omega * inv_d * (r - op(x))
        coarse = _restrict(self.transfers[level], r - op(x))
        x = x + _prolong(self.transfers[level], self._cycle(level + 1, coarse))
        for _ in range(self.num_smooth):
            x = x + omega * inv_d * (r - op(x))
        return x

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        return tuple(op.shape for op in self.operators)


class Multigrid(eqx.Module):
    """Settings of a Galerkin geometric multigrid V-cycle (all static).

    Args:
        num_smooth: damped-Jacobi sweeps before and after each coarse correction (same number,
            so the cycle is symmetric). Default 2.
        weight: Jacobi damping $\\omega$. Default 0.8.
        coarsest_intervals: an axis is coarsened while it has more intervals than this; the
            coarsest level is solved densely. Default 8.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import VertexGrid
        >>> grid = VertexGrid((33, 33))
        >>> op = FluxOperator(grid.face_coefficients(jnp.ones(grid.shape)), grid.spacing)
        >>> mg = Multigrid().setup(op)
        >>> mg.shapes
        ((31, 31), (15, 15), (7, 7))
    """

    num_smooth: int = eqx.field(static=True, default=2)
    weight: float = eqx.field(static=True, default=0.8)
    coarsest_intervals: int = eqx.field(static=True, default=8)

    def __check_init__(self):
        if self.num_smooth < 1:
            raise ValueError(f"Multigrid: `num_smooth` must be at least 1, got {self.num_smooth}.")
        if not 0 < self.weight < 2:
            raise ValueError(f"Multigrid: `weight` must lie in (0, 2), got {self.weight}.")
        if self.coarsest_intervals < 2:
            raise ValueError(
                f"Multigrid: `coarsest_intervals` must be at least 2, got {self.coarsest_intervals}."
            )

    def setup(self, op: FluxOperator | StencilOperator) -> MultigridHierarchy:
        """Build the hierarchy of ``op`` (a symmetric positive definite stencil operator)."""
        positions = [np.arange(n + 2, dtype=float) for n in op.shape]
        operators, transfers = [op], []
        while True:
            intervals = [len(x) - 1 for x in positions]
            if all(n <= self.coarsest_intervals for n in intervals):
                break
            level, new_positions = [], []
            for x, n in zip(positions, intervals):
                if n > self.coarsest_intervals:
                    t, x = _coarsen_axis(x)
                    level.append(t)
                else:
                    level.append(None)
                new_positions.append(x)
            positions = new_positions
            coarse_shape = tuple(len(x) - 2 for x in positions)
            operators.append(_galerkin(operators[-1], tuple(level), coarse_shape))
            transfers.append(tuple(level))
        # Jacobi on max(d, |row|_1 / 2): plain Jacobi for an M-matrix (|row|_1 = 2d), and a
        # guaranteed lambda_max(D^-1 A) <= 2 (Gershgorin) where Galerkin stencils are not, so
        # the damped sweep contracts and the V-cycle stays positive definite at any contrast.
        inverse_diagonals = tuple(
            1.0 / jnp.maximum(o.diagonal(), 0.5 * o.absolute_row_sums()) for o in operators[:-1]
        )
        coarsest = operators[-1]
        if isinstance(coarsest, FluxOperator):
            coarsest = coarsest.to_stencil()
        factor = jnp.linalg.cholesky(_dense(coarsest))
        return MultigridHierarchy(
            tuple(operators),
            inverse_diagonals,
            factor,
            tuple(transfers),
            self.num_smooth,
            self.weight,
        )

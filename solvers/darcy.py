r"""Steady Darcy flow $-\nabla\cdot(a\nabla u) = f$ on a rectangle with Dirichlet boundaries."""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from pdejax.core import AbstractOperator, check_dtype, check_state_shape, error_if
from pdejax.data import Problem, register_problem
from pdejax.grids import VertexGrid, fno_darcy_threshold_field
from pdejax.linalg import (
    CGInfo,
    DomainPartition,
    FluxOperator,
    Multigrid,
    PartitionedMultigrid,
    StencilOperator,
    conjugate_gradient,
)

_WHO = "Darcy2D"


def _check_field_arg(value, grid: VertexGrid, name: str, what: str):
    shape = tuple(jnp.shape(value))
    if shape not in ((), grid.num_points):
        raise ValueError(
            f"{_WHO}: `{name}` has shape {shape}; give a scalar or a field on the grid's "
            f"vertices, shape {grid.num_points} ({what})."
        )


class Darcy2D(AbstractOperator):
    r"""The Darcy solution operator $a \mapsto u$ on a rectangle,

    $$-\nabla\cdot(a\nabla u) = f \ \text{in } \Omega, \qquad u = g \ \text{on } \partial\Omega.$$

    **Scheme.** Conservative 5-point finite differences on a :class:`pdejax.VertexGrid` with
    harmonic face averages of the vertex coefficient $a$
    (:meth:`pdejax.VertexGrid.div_a_grad`); second order for smooth data, flux-continuous across
    jumps of $a$. The linear system for the interior vertices is symmetric positive definite and
    is solved matrix-free by conjugate gradients preconditioned with one Galerkin multigrid
    V-cycle (:mod:`pdejax.linalg.multigrid`): iteration counts do not grow with resolution.

    **Convergence.** ``rtol`` is the tolerance on the true relative residual; a residual at the
    rounding floor of the working precision is also accepted (see :mod:`pdejax.linalg.krylov`). A solve
    that misses it (``max_steps`` too small, or an impossible tolerance) raises at run time
    (``eqx.error_if``) when ``throw=True``; with ``throw=False`` :meth:`solve` returns the flag
    in a :class:`pdejax.linalg.CGInfo`. Non-positive or non-finite coefficients always raise.

    **Differentiation.** ``jax.lax.custom_linear_solve``: ``jax.grad`` with respect to ``a``,
    ``source`` and ``boundary_value`` costs one adjoint solve (the same preconditioned CG on the
    symmetric system); iterations are never differentiated. The multigrid hierarchy is built once
    per forward solve and reused by the adjoint.

    Works in float32 and float64 (the dtype of ``a``) and under ``jax.vmap`` over coefficients.

    **Several devices.** A batch of coefficients is sharded like any batch (``jax.vmap`` under
    ``jit``). One large solve is spread over devices with ``partition``: vertex grids have
    $2^k + 1$ or 421 vertices, which no device count divides (JAX refuses such a placement), so
    the coefficient ``a`` and the solution stay ordinary ``(1, N_x, N_y)`` arrays, replicated,
    and what is sharded are the CG and multigrid vectors of the $(N_x - 2)(N_y - 2)$ interior
    unknowns, padded with inactive zeros to a divisible size (419 -> 448 rows on 8 devices).
    The iterations then communicate only one-row halos (collective-permute) and scalar sums
    (all-reduce); multigrid levels with fewer than 4 rows per device are replicated (one small
    gather of that coarse grid per V-cycle), the setup is computed replicated, and the solution
    is gathered once at the end. The result equals the unpartitioned solve to round-off
    (:class:`pdejax.linalg.PartitionedMultigrid`).

    Args:
        grid: a 2-d :class:`pdejax.VertexGrid` (boundary vertices included).
        source: $f$, a scalar or a vertex field ``grid.num_points`` (interior values used).
            Default 1.
        boundary_value: $g$, a scalar or a vertex field (boundary values used). Default 0.
        rtol: residual tolerance; ``None`` picks $10^{-10}$ in float64, $10^{-6}$ in float32.
        max_steps: CG iteration limit.
        throw: raise if the solve does not converge (default); else return the flag.
        multigrid: the :class:`pdejax.linalg.Multigrid` preconditioner settings.
        partition: mesh axis names sharding the interior unknowns, one entry per axis, e.g.
            ``("x", None)`` (slabs) or ``("x", "y")`` (pencils); the mesh is the one set with
            ``jax.set_mesh`` or the one ``a`` is placed on. ``None`` (default): no partition.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import VertexGrid
        >>> grid = VertexGrid((33, 33))
        >>> darcy = Darcy2D(grid, source=1.0)
        >>> u = darcy(jnp.ones((1, 33, 33)))
        >>> u.shape, round(float(u.max()), 3)       # -Lap u = 1: max u = 0.0737 on the unit square
        ((1, 33, 33), 0.074)

    Reference: the FNO paper's Darcy data (Li et al., ICLR 2021); Trottenberg et al., *Multigrid*
    (2001) for the preconditioner.
    """

    grid: VertexGrid
    source: Float[Array, "..."] = eqx.field(converter=jnp.asarray)
    boundary_value: Float[Array, "..."] = eqx.field(converter=jnp.asarray)
    rtol: float | None = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)
    throw: bool = eqx.field(static=True)
    multigrid: Multigrid
    partition: tuple[str | tuple[str, ...] | None, ...] | None = eqx.field(static=True)

    def __init__(
        self,
        grid: VertexGrid,
        source=1.0,
        boundary_value=0.0,
        *,
        rtol: float | None = None,
        max_steps: int = 100,
        throw: bool = True,
        multigrid: Multigrid | None = None,
        partition=None,
    ):
        if not isinstance(grid, VertexGrid) or grid.ndim != 2:
            raise ValueError(f"{_WHO}: `grid` must be a 2-d pdejax.VertexGrid, got {grid!r}.")
        _check_field_arg(source, grid, "source", "interior values are used")
        _check_field_arg(boundary_value, grid, "boundary_value", "boundary values are used")
        if rtol is not None and not (math.isfinite(rtol) and 0 < rtol < 1):
            raise ValueError(f"{_WHO}: `rtol` must lie in (0, 1) or be None, got {rtol!r}.")
        if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
            raise ValueError(f"{_WHO}: `max_steps` must be a positive int, got {max_steps!r}.")
        self.grid = grid
        self.source = source
        self.boundary_value = boundary_value
        self.rtol = None if rtol is None else float(rtol)
        self.max_steps = max_steps
        self.throw = bool(throw)
        self.multigrid = Multigrid() if multigrid is None else multigrid
        self.partition = _check_partition(partition)

    @property
    def in_shape(self) -> tuple[int, ...]:
        return (1, *self.grid.num_points)

    def evaluate(self, a: Float[Array, "1 Nx Ny"]) -> Float[Array, "1 Nx Ny"]:
        return self.solve(a)[0]

    def solve(self, a: Float[Array, "1 Nx Ny"]) -> tuple[Float[Array, "1 Nx Ny"], CGInfo]:
        """``(u, info)``: the solution with boundary vertices, and the CG statistics."""
        check_state_shape(a, self.in_shape, who=_WHO, name="a")
        check_dtype(a, who=_WHO, name="a")
        coeff = a[0]
        dtype = coeff.dtype
        bad = ~(jnp.all(coeff > 0) & jnp.all(jnp.isfinite(coeff)))
        coeff = error_if(
            coeff,
            bad,
            f"{_WHO}: the coefficient `a` must be positive and finite everywhere, but is not; "
            "pass a field with a > 0 (e.g. the exp of a Gaussian field, or a thresholded one).",
        )
        grid = self.grid
        f = jnp.broadcast_to(self.source.astype(dtype), grid.num_points)
        g = self.boundary_value.astype(dtype)
        faces = grid.face_coefficients(coeff)
        lifted = grid.pad_interior(jnp.zeros(grid.interior_shape, dtype), g)
        b = grid.interior(f) + grid.div_flux(faces, lifted)

        op = FluxOperator(jax.lax.stop_gradient(faces), grid.spacing)
        hierarchy = self.multigrid.setup(op)
        if self.partition is not None:
            x, info = self._partitioned_solve(a, faces, b, hierarchy)
            return grid.pad_interior(x, g)[None], info
        stencil = op.to_stencil()
        abs_op = StencilOperator(stencil.offsets, tuple(jnp.abs(w) for w in stencil.weights))
        rtol, max_steps = self._rtol(dtype), self.max_steps

        def matvec(x):
            return FluxOperator(faces, grid.spacing)(x)

        def cg(_, rhs):
            x, info = conjugate_gradient(
                op, rhs, precondition=hierarchy, rtol=rtol, max_steps=max_steps, abs_matvec=abs_op
            )
            return self._check_converged(x, info, rtol), info

        x, info = jax.lax.custom_linear_solve(matvec, b, cg, symmetric=True, has_aux=True)
        return grid.pad_interior(x, g)[None], info

    def _rtol(self, dtype) -> float:
        if self.rtol is not None:
            return self.rtol
        return 1e-10 if dtype == jnp.float64 else 1e-6

    def _check_converged(self, x, info, rtol):
        if not self.throw:
            return x
        return error_if(  # sharding-safe: never gathers x
            x,
            ~info.converged,
            f"{_WHO}: conjugate gradients did not reach rtol={rtol:g} within "
            f"max_steps={self.max_steps}; raise `max_steps`, loosen `rtol`, or pass "
            "`throw=False` and inspect `solve(a)[1]`.",
        )

    def _partitioned_solve(self, a, faces, b, hierarchy):
        """The same solve on padded interior unknowns sharded over the mesh (see the class
        docstring); returns the interior solution, replicated, and the CG statistics."""
        mesh = jax.sharding.get_abstract_mesh()
        if mesh.empty:
            mesh = getattr(jax.typeof(a).sharding, "mesh", mesh)
        names = {
            n for e in self.partition if e is not None for n in ((e,) if isinstance(e, str) else e)
        }
        if mesh.empty or not names <= set(mesh.axis_names):
            raise ValueError(
                f"{_WHO}: `partition={self.partition}` names mesh axes {sorted(names)}, but no "
                "such mesh is in use: call the solver under `with jax.set_mesh(mesh):` or put "
                "`a` on the mesh (`jax.device_put(a, NamedSharding(mesh, P()))`)."
            )
        pm = PartitionedMultigrid(hierarchy, DomainPartition(mesh, self.partition))
        rtol, spacing = self._rtol(b.dtype), self.grid.spacing

        def cg(_, rhs):
            x, info = pm.solve(rhs, rtol=rtol, max_steps=self.max_steps)
            return self._check_converged(x, info, rtol), info

        matvec = lambda x: pm.flux_matvec(faces, spacing, x)  # noqa: E731
        x, info = jax.lax.custom_linear_solve(matvec, pm.pad(b), cg, symmetric=True, has_aux=True)
        return pm.crop(x), info


def _check_partition(partition):
    if partition is None:
        return None
    entries = tuple(partition)
    ok = len(entries) == 2 and all(
        e is None
        or isinstance(e, str)
        or (isinstance(e, tuple) and all(isinstance(n, str) for n in e))
        for e in entries
    )
    if not ok:
        raise ValueError(
            f"{_WHO}: `partition` must name the mesh axes of both grid axes, e.g. ('x', None) "
            f"or ('x', 'y'), got {partition!r}."
        )
    return entries


def subsample_vertices(field: Float[Array, "..."], factor: int) -> Float[Array, "..."]:
    """Every ``factor``-th vertex along the last two axes (421 -> 211, 141, 85 for 2, 3, 5)."""
    return field[..., ::factor, ::factor]


@register_problem("fno/darcy")
def fno_darcy(
    num_points: int = 421,
    subsample: int = 1,
    high: float = 12.0,
    low: float = 3.0,
    dtype=jnp.float32,
) -> Problem:
    r"""The FNO paper's Darcy data: $a = 12$ where a zero-Neumann Gaussian field
    $N(0, (-\Delta + 9I)^{-2})$ is positive, $3$ elsewhere; $f = 1$, $u = 0$ on the boundary of
    the unit square; solved on ``num_points``$^2$ vertices (421 in the paper).

    ``sample_input`` and ``solve`` work at ``num_points``; the paper's coarser data sets are
    every ``subsample``-th vertex of both (421 with 2, 3, 5 gives 211, 141, 85), via
    :func:`subsample_vertices`, recorded in ``parameters["subsample"]``.

    Args:
        num_points: vertices per axis of the solve (the paper's 421).
        subsample: recorded stride of the coarser data sets (it must divide ``num_points - 1``).
        high, low: the coefficient where the Gaussian field is positive / negative.
        dtype: the solve's precision.
    """
    if subsample < 1 or (num_points - 1) % subsample:
        raise ValueError(
            f"fno/darcy: `subsample`={subsample} must divide num_points - 1 = {num_points - 1}."
        )
    grid = VertexGrid((num_points, num_points))
    field = fno_darcy_threshold_field(grid)
    solver = Darcy2D(grid, source=1.0)

    def sample_input(key: PRNGKeyArray) -> Float[Array, "1 N N"]:
        z = field.sample(key, dtype)
        return jnp.where(z > 0, jnp.asarray(high, dtype), jnp.asarray(low, dtype))[None]

    return Problem(
        name="fno/darcy",
        sample_input=sample_input,
        solve=solver,
        parameters={
            "num_points": num_points,
            "subsample": subsample,
            "subsampled_points": (num_points - 1) // subsample + 1,
            "high": high,
            "low": low,
            "source": 1.0,
            "grf": {"sigma": 3.0, "tau": 3.0, "alpha": 2.0, "boundary": "neumann"},
            "scheme": "conservative 5-point FD, harmonic faces, multigrid-PCG",
        },
        reference="Li et al., Fourier Neural Operator, ICLR 2021 (Darcy flow data)",
    )

r"""The semilinear protocol: $\partial_t u = \mathcal L u + \mathcal N(u)$ with $\mathcal L$ diagonal in Fourier space.

Two halves, each a small abstract class:

- a **scheme** (:class:`AbstractSemilinearScheme`) advances
  $\dot{\hat u} = L\odot\hat u + \mathcal N(\hat u)$ for a diagonal symbol $L$: it turns
  ``(L, dt)`` into coefficient arrays once (:meth:`~AbstractSemilinearScheme.coefficients`) and
  applies one step with them (:meth:`~AbstractSemilinearScheme.step`). The exponential schemes
  (:class:`~pdejax.timestepping.ETDRK4` ...) and the IMEX Runge-Kutta/Crank-Nicolson schemes
  (:class:`~pdejax.timestepping.CrankNicolsonRK4` ...) are the two families;
- a **PDE** (:class:`AbstractSemilinearStepper`) says what $L$ and $\mathcal N$ are on a
  :class:`~pdejax.PeriodicGrid`: :meth:`~AbstractSemilinearStepper.linear_symbol` and
  :meth:`~AbstractSemilinearStepper.nonlinear_hat`. Everything else (the step with
  ``substeps``, :meth:`~pdejax.AbstractStepper.prepare` for :func:`pdejax.rollout`, the
  method-of-lines :meth:`~AbstractSemilinearStepper.dynamics` for :func:`pdejax.integrate`,
  the split ``terms`` for diffrax, precision handling, the non-finite check) is shared here.

A new PDE on a periodic box is therefore a short final class: its fields (``grid``, ``dt``,
``substeps``, ``scheme`` and its physical parameters as arrays), the two methods, and a
docstring with the equation. See ``docs/adding_a_pde.md`` and
:class:`pdejax.solvers.KuramotoSivashinsky1D`.

Example (the heat equation in a dozen lines; the linear part is integrated exactly):
    >>> import equinox as eqx, jax.numpy as jnp
    >>> from pdejax import PeriodicGrid
    >>> from pdejax.timestepping import ETDRK4, AbstractSemilinearStepper
    >>> class Heat(AbstractSemilinearStepper):
    ...     grid: PeriodicGrid
    ...     dt: jnp.ndarray = eqx.field(converter=jnp.asarray)
    ...     substeps: int = eqx.field(static=True, default=1)
    ...     scheme: ETDRK4 = ETDRK4()
    ...     def linear_symbol(self):
    ...         return self.grid.laplacian_symbol()
    ...     def nonlinear_hat(self, u_hat):
    ...         return jnp.zeros_like(u_hat)
    >>> grid = PeriodicGrid(16, 2 * jnp.pi)
    >>> x, = grid.coordinates()
    >>> u1 = Heat(grid, 0.5)(jnp.sin(2 * x)[None])
    >>> bool(jnp.allclose(u1, jnp.exp(-4 * 0.5) * jnp.sin(2 * x)[None], atol=1e-12))
    True
"""

import abc
from typing import ClassVar

import diffrax
import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float, PyTree, Shaped

from ..core.errors import check_dtype, check_positive, error_if_not_finite
from ..core.interface import AbstractDynamics, AbstractStepper
from ..core.types import ScalarLike, State, to_precision
from ..grids.periodic import PeriodicGrid
from .scheme import AbstractSemilinearScheme, Coefficients, NonlinearHat, repeat_steps


def check_periodic_grid(grid, ndim: int | tuple[int, ...], who: str) -> None:
    """Construction check: ``grid`` is a :class:`~pdejax.PeriodicGrid` of dimension ``ndim``
    (one value or a tuple of allowed values).

    Example:
        >>> from pdejax import PeriodicGrid
        >>> check_periodic_grid(PeriodicGrid((8, 8)), (2, 3), "MySolver")  # passes
        >>> check_periodic_grid(PeriodicGrid(8), 2, "MySolver")
        Traceback (most recent call last):
        ValueError: MySolver: `grid` must be a 2-d pdejax.PeriodicGrid, got PeriodicGrid(...); build one with `PeriodicGrid(num_points, domain_length)`.
    """
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if not isinstance(grid, PeriodicGrid) or grid.ndim not in allowed:
        dims = " or ".join(f"{d}-d" for d in allowed)
        raise ValueError(
            f"{who}: `grid` must be a {dims} pdejax.PeriodicGrid, got {grid!r}; build one with "
            "`PeriodicGrid(num_points, domain_length)`."
        )


def check_stepping(stepper: "AbstractSemilinearStepper") -> None:
    """The shared construction checks of a semilinear stepper's ``dt``, ``substeps`` and
    ``scheme`` (call it from ``__check_init__``).

    Example (any object with the three attributes; errors are named after its class):
        >>> import dataclasses
        >>> from pdejax.timestepping import ETDRK4
        >>> @dataclasses.dataclass
        ... class MySolver:
        ...     dt: float
        ...     substeps: int
        ...     scheme: object
        >>> check_stepping(MySolver(0.1, 2, ETDRK4()))  # passes
        >>> check_stepping(MySolver(0.1, 0, ETDRK4()))
        Traceback (most recent call last):
        ValueError: MySolver: `substeps` must be a positive int, got 0.
        >>> check_stepping(MySolver(0.1, 1, "etdrk4"))
        Traceback (most recent call last):
        ValueError: MySolver: `scheme` must be a semilinear scheme instance such as `pdejax.timestepping.ETDRK4()` or `CrankNicolsonRK4()`, got 'etdrk4'.
    """
    who = type(stepper).__name__
    check_positive(stepper.dt, name="dt", who=who)
    substeps = stepper.substeps
    if isinstance(substeps, bool) or not isinstance(substeps, int) or substeps < 1:
        raise ValueError(f"{who}: `substeps` must be a positive int, got {substeps!r}.")
    if not isinstance(stepper.scheme, AbstractSemilinearScheme):
        raise ValueError(
            f"{who}: `scheme` must be a semilinear scheme instance such as "
            f"`pdejax.timestepping.ETDRK4()` or `CrankNicolsonRK4()`, got {stepper.scheme!r}."
        )


def _real_dtype(u):
    dtype = jnp.result_type(u)
    return dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.result_type(float)


class AbstractSemilinearStepper(AbstractStepper):
    r"""A PDE $\partial_t u = \mathcal L u + \mathcal N(u)$ on a periodic grid, stepped by a
    semilinear scheme.

    A subclass declares the fields ``grid`` (a :class:`~pdejax.PeriodicGrid`), ``dt`` (an
    array), ``substeps`` (static int) and ``scheme`` (an :class:`AbstractSemilinearScheme`),
    its physical parameters as array fields, and implements

    - :meth:`linear_symbol`: $L$ on the ``rfftn`` layout, broadcastable to
      ``(C, *grid.spectral_shape)`` (one row per channel for systems);
    - :meth:`nonlinear_hat`: $\widehat{\mathcal N(u)}$ from $\hat u$, shape ``(C, *modes)``
      (de-aliasing of products is the PDE's choice, e.g. ``grid.dealias_mask()``).

    ``num_channels`` (a class variable, default 1) sets the state shape
    ``(num_channels, *grid.num_points)``. One call advances by ``dt`` in ``substeps`` scheme
    steps of ``dt / substeps``, staying in Fourier space in between (one transform pair per
    call); a non-finite result raises at run time (also under ``jit``). :meth:`check_state` is
    the one hook a subclass may override, to add run-time checks of the incoming state (a CFL
    bound, say). Differentiable in the state and in every array field; new parameter values
    do not recompile. The step (and ``prepare``'s coefficients) is one compiled program
    (``eqx.filter_jit``), so an eager call costs one compilation, not one per operation.

    Example (damped diffusion $u_t = \nu u_{xx} - u$, the damping as $\mathcal N$; the mode
    $\sin 2x$ decays like $e^{-(4\nu + 1)t}$):
        >>> import equinox as eqx, jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.timestepping import ETDRK4, AbstractSemilinearStepper
        >>> class DampedHeat(AbstractSemilinearStepper):
        ...     grid: PeriodicGrid
        ...     dt: jnp.ndarray = eqx.field(converter=jnp.asarray)
        ...     nu: jnp.ndarray = eqx.field(converter=jnp.asarray)
        ...     substeps: int = eqx.field(static=True, default=4)
        ...     scheme: ETDRK4 = ETDRK4()
        ...     def linear_symbol(self):
        ...         return self.nu * self.grid.laplacian_symbol()
        ...     def nonlinear_hat(self, u_hat):
        ...         return -u_hat
        >>> grid = PeriodicGrid(16, 2 * jnp.pi)
        >>> x, = grid.coordinates()
        >>> stepper = DampedHeat(grid, 0.5, 0.1)
        >>> u1 = stepper(jnp.sin(2 * x)[None])
        >>> stepper.state_shape, bool(jnp.allclose(u1, jnp.exp(-0.7) * jnp.sin(2 * x), atol=1e-6))
        ((1, 16), True)
    """

    grid: eqx.AbstractVar[PeriodicGrid]
    dt: eqx.AbstractVar[Float[Array, ""]]
    substeps: eqx.AbstractVar[int]
    scheme: eqx.AbstractVar[AbstractSemilinearScheme]
    num_channels: ClassVar[int] = 1

    @abc.abstractmethod
    def linear_symbol(self) -> Shaped[Array, "..."]:
        """$L$ on the ``rfftn`` layout, in the parameters' precision (cast by the caller)."""

    @abc.abstractmethod
    def nonlinear_hat(self, u_hat: Complex[Array, "C *modes"]) -> Complex[Array, "C *modes"]:
        r"""$\widehat{\mathcal N(u)}$ from the state's spectrum $\hat u$."""

    def check_state(self, u: State) -> State:
        """Run-time checks of the incoming state; returns it (use the result). None by default."""
        return u

    # ------------------------------------------------------------------------- shared, final
    @property
    def state_shape(self) -> tuple[int, ...]:
        return (self.num_channels, *self.grid.num_points)

    def _nonlinear(self, dtype) -> NonlinearHat:
        cdtype = jnp.result_type(dtype, jnp.complex64)
        return lambda theta, u_hat: self.nonlinear_hat(u_hat).astype(cdtype)

    def _coefficients(self, dtype) -> Coefficients:
        linear = to_precision(jnp.asarray(self.linear_symbol()), dtype)
        h = jnp.asarray(self.dt, dtype) / self.substeps
        return self.scheme.coefficients(linear, h)

    def _advance(self, u: State, coefficients: Coefficients) -> State:
        check_dtype(u, who=type(self).__name__)
        dtype = _real_dtype(u)
        u = self.check_state(u)
        u_hat = repeat_steps(
            self.scheme, coefficients, self._nonlinear(dtype), self.grid.fft(u), self.substeps
        )
        out = self.grid.ifft(u_hat).astype(dtype)
        return error_if_not_finite(
            out,
            f"{type(self).__name__}: the state became non-finite (NaN or inf); reduce `dt`, "
            "raise `substeps`, or check the input.",
        )

    def step(self, u: State) -> State:
        return _jit_step(self, u)

    def prepare(self) -> "PreparedSemilinearStepper":
        """This stepper with the scheme's coefficients computed once (for :func:`pdejax.rollout`);
        differentiable in every parameter as before; cast to each state's precision."""
        dtype = jnp.result_type(self.dt, float)
        return PreparedSemilinearStepper(self, _jit_coefficients(self, dtype))

    def dynamics(self) -> "SemilinearDynamics":
        r"""The method-of-lines right-hand side $\mathcal F^{-1}[L\hat u + \hat{\mathcal N}]$ of
        the same discretisation, for :func:`pdejax.integrate` with any diffrax solver."""
        return SemilinearDynamics(self)

    def terms(self) -> diffrax.MultiTerm:
        """``MultiTerm(DiagonalLinearTerm(L), ODETerm(N))`` on the physical state, for
        :func:`diffrax.diffeqsolve` with :class:`~pdejax.timestepping.ETDRKSolver`."""
        from .diffrax_etdrk import DiagonalLinearTerm

        grid = self.grid

        def nonlinear(t, u, args):
            dtype = _real_dtype(u)
            return grid.ifft(self._nonlinear(dtype)(0.0, grid.fft(u))).astype(dtype)

        linear = DiagonalLinearTerm(jnp.asarray(self.linear_symbol()), grid.fft, grid.ifft)
        return diffrax.MultiTerm(linear, diffrax.ODETerm(nonlinear))


class PreparedSemilinearStepper(AbstractStepper):
    """An :class:`AbstractSemilinearStepper` with its coefficients hoisted (see ``prepare``).

    Example (the same steps as the stepper it came from, for :func:`pdejax.rollout`):
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.solvers import KuramotoSivashinsky1D
        >>> grid = PeriodicGrid(32, 22.0)
        >>> ks = KuramotoSivashinsky1D(grid, 0.1)
        >>> prepared = ks.prepare()
        >>> (x,) = grid.coordinates()
        >>> u = jnp.cos(2 * jnp.pi * x / 22.0)[None]
        >>> type(prepared).__name__, bool(jnp.allclose(prepared(u), ks(u), atol=1e-6))
        ('PreparedSemilinearStepper', True)
    """

    stepper: AbstractSemilinearStepper
    coefficients: Coefficients

    @property
    def dt(self) -> Float[Array, ""]:
        return self.stepper.dt

    @property
    def state_shape(self) -> tuple[int, ...]:
        return self.stepper.state_shape

    def step(self, u: State) -> State:
        return _jit_prepared_step(self, u)


# The step (and the coefficients of ``prepare``) as one compiled program, keyed on the
# stepper's static structure and the state's shape and dtype (new parameter values reuse it):
# an eager call, as in a notebook, compiles once instead of dispatching and compiling each
# operation (a first 1-d KS step 1.4 s instead of 3.8 s on a 2-core CPU, ``prepare`` 0.75 s
# instead of 1.9 s), and so does ``jax.grad`` of an eager call. Under an outer ``jit``,
# ``vmap`` or ``grad`` it is inlined like any nested jit.
@eqx.filter_jit
def _jit_step(stepper: AbstractSemilinearStepper, u: State) -> State:
    return stepper._advance(u, stepper._coefficients(_real_dtype(u)))


@eqx.filter_jit
def _jit_coefficients(stepper: AbstractSemilinearStepper, dtype) -> Coefficients:
    return stepper._coefficients(dtype)


@eqx.filter_jit
def _jit_prepared_step(prepared: PreparedSemilinearStepper, u: State) -> State:
    return prepared.stepper._advance(u, to_precision(prepared.coefficients, _real_dtype(u)))


class SemilinearDynamics(AbstractDynamics):
    r"""$\partial_t u = \mathcal F^{-1}[L\hat u + \widehat{\mathcal N(u)}]$ of a semilinear stepper.

    Example (linear decay $\partial_t u = -u$ through an adaptive diffrax solve):
        >>> import equinox as eqx, jax.numpy as jnp
        >>> from pdejax import PeriodicGrid, integrate
        >>> from pdejax.timestepping import ETDRK4, AbstractSemilinearStepper
        >>> class Decay(AbstractSemilinearStepper):
        ...     grid: PeriodicGrid
        ...     dt: jnp.ndarray = eqx.field(converter=jnp.asarray)
        ...     substeps: int = eqx.field(static=True, default=1)
        ...     scheme: ETDRK4 = ETDRK4()
        ...     def linear_symbol(self):
        ...         return -jnp.ones(self.grid.spectral_shape)
        ...     def nonlinear_hat(self, u_hat):
        ...         return jnp.zeros_like(u_hat)
        >>> grid = PeriodicGrid(8)
        >>> sol = integrate(Decay(grid, 0.1).dynamics(), jnp.ones((1, 8)), jnp.array([0.0, 1.0]))
        >>> round(float(sol.us[-1, 0, 0]), 5)  # exp(-1)
        0.36788
    """

    stepper: AbstractSemilinearStepper

    @property
    def state_shape(self) -> tuple[int, ...]:
        return self.stepper.state_shape

    def vector_field(self, t: ScalarLike, u: State, args: PyTree = None) -> State:
        check_dtype(u, who=type(self.stepper).__name__)
        dtype = _real_dtype(u)
        grid = self.stepper.grid
        u_hat = grid.fft(u)
        linear = to_precision(jnp.asarray(self.stepper.linear_symbol()), dtype)
        rhs = linear * u_hat + self.stepper._nonlinear(dtype)(0.0, u_hat)
        return grid.ifft(rhs).astype(dtype)


__all__ = [
    "AbstractSemilinearScheme",
    "AbstractSemilinearStepper",
    "Coefficients",
    "PreparedSemilinearStepper",
    "SemilinearDynamics",
    "check_periodic_grid",
    "check_stepping",
    "repeat_steps",
]

r"""Viscous Burgers on a periodic interval, pseudo-spectral with exponential time differencing."""

import diffrax
import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from pdejax import AbstractDynamics, AbstractStepper, PeriodicGrid
from pdejax.core import check_dtype, check_positive, error_if_not_finite
from pdejax.core.types import ScalarLike, State, to_precision
from pdejax.data import Problem, register_problem
from pdejax.grids import GaussianRandomField, fno_burgers_initial_condition
from pdejax.timestepping import ETDRK4, AbstractETDRK, DiagonalLinearTerm, etdrk_repeat

_FORCING = Float[Array, "1 N"] | None


def _check_common(who, grid, nu, forcing, dealias_fraction):
    """Check the shared arguments; return ``nu`` (with a run-time check if it is traced)."""
    if not isinstance(grid, PeriodicGrid) or grid.ndim != 1:
        raise ValueError(
            f"{who}: `grid` must be a 1-d PeriodicGrid, got {grid!r}; build one with "
            "`PeriodicGrid(num_points, domain_length)`."
        )
    nu = check_positive(nu, name="nu", who=who, allow_zero=True)
    if forcing is not None and jnp.shape(forcing) != (1, *grid.num_points):
        raise ValueError(
            f"{who}: `forcing` has shape {jnp.shape(forcing)}, expected (1, {grid.num_points[0]})"
            " (one channel on the grid), or None."
        )
    grid.dealias_mask(dealias_fraction)  # raises on a grid too coarse to dealias
    return nu


class _BurgersParts(eqx.Module):
    """The spectral pieces shared by the stepper and the dynamics, built inside the trace."""

    linear: Float[Array, " K"]
    advection: Complex[Array, " K"]
    forcing_hat: Complex[Array, "1 K"] | None

    def nonlinear(self, grid: PeriodicGrid, u_hat: Complex[Array, "1 K"]) -> Complex[Array, "1 K"]:
        r"""$-\tfrac12\partial_x P(u^2) + \hat f$, with $P$ the 2/3 filter applied to the product."""
        u = grid.ifft(u_hat)
        out = self.advection * grid.fft(u * u)
        return out if self.forcing_hat is None else out + self.forcing_hat


def _parts(grid, nu, forcing, fraction, dtype) -> _BurgersParts:
    rdtype = jnp.finfo(dtype).dtype
    linear = (jnp.asarray(nu) * grid.laplacian_symbol()).astype(rdtype)
    advection = (-0.5 * grid.derivative_symbol(0) * grid.dealias_mask(fraction)).astype(
        jnp.result_type(rdtype, jnp.complex64)
    )
    forcing_hat = None if forcing is None else grid.fft(forcing.astype(rdtype))
    return _BurgersParts(linear, advection, forcing_hat)


class Burgers1D(AbstractStepper):
    r"""Viscous Burgers on the periodic interval $[x_0, x_0 + L)$,

    $$\partial_t u + \partial_x(u^2/2) = \nu\,\partial_{xx} u + f(x),$$

    pseudo-spectral on ``grid`` (``num_points`` Fourier modes, the quadratic product dealiased
    by the 2/3 rule) with an exponential Runge-Kutta scheme (default :class:`~pdejax.timestepping.ETDRK4`,
    fourth order; :class:`~pdejax.timestepping.ETDRK1` ... ``ETDRK3`` selectable): the diffusion
    $\nu\partial_{xx}$ is integrated exactly, the advection explicitly. One call advances by
    ``dt`` in ``substeps`` equal steps; the scheme's coefficients are computed once per call.

    Spatial error decays exponentially for smooth (analytic) solutions; the step is limited by
    the advection only, about $\max|u|\,\Delta t_{\text{sub}} / \Delta x \lesssim 1$ on the modes
    that viscosity does not damp. The mean of $u$ is conserved exactly (without forcing) and the
    energy of a dealiased state decays for $\nu > 0$.

    Differentiable (``jax.grad``) in the state, ``nu``, ``dt`` and ``forcing``; none of them
    recompiles when its value changes. ``grid`` and ``substeps`` are static. A non-finite state
    raises at run time (``eqx.error_if``, also under ``jit``).

    The method-of-lines right-hand side for :func:`pdejax.integrate` is :meth:`dynamics`; the
    split form for diffrax with :class:`~pdejax.timestepping.ETDRKSolver` is :meth:`terms`.

    Args:
        grid: a 1-d :class:`~pdejax.PeriodicGrid`.
        nu: viscosity $\nu \ge 0$.
        dt: time advanced by one call, $> 0$.
        substeps: internal steps per call (static).
        scheme: the ETDRK scheme, an instance (e.g. ``ETDRK2()``).
        forcing: an optional steady forcing $f$, shape ``(1, num_points)``.
        dealias_fraction: the fraction of modes kept in the product (static), default 2/3.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid, rollout
        >>> from pdejax.solvers import Burgers1D
        >>> grid = PeriodicGrid(128)
        >>> x, = grid.coordinates()
        >>> burgers = Burgers1D(grid, nu=0.05, dt=0.01, substeps=2)
        >>> traj = rollout(burgers, jnp.sin(2 * jnp.pi * x)[None], 10)
        >>> traj.shape, abs(float(traj[-1].mean())) < 1e-6  # the mean is conserved
        ((10, 1, 128), True)

    References:
        Kassam and Trefethen, SIAM J. Sci. Comput. 26 (2005), ETDRK4 for Burgers-type PDEs;
        Orszag, J. Atmos. Sci. 28 (1971), the 2/3 rule.
    """

    grid: PeriodicGrid
    nu: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    substeps: int = eqx.field(static=True)
    scheme: AbstractETDRK
    forcing: _FORCING
    dealias_fraction: float = eqx.field(static=True)

    def __init__(
        self,
        grid: PeriodicGrid,
        nu: ScalarLike,
        dt: ScalarLike,
        *,
        substeps: int = 1,
        scheme: AbstractETDRK | None = None,
        forcing: Float[Array, "1 N"] | None = None,
        dealias_fraction: float = 2.0 / 3.0,
    ):
        nu = _check_common("Burgers1D", grid, nu, forcing, dealias_fraction)
        dt = check_positive(dt, name="dt", who="Burgers1D")
        if isinstance(substeps, bool) or not isinstance(substeps, int) or substeps < 1:
            raise ValueError(f"Burgers1D: `substeps` must be a positive int, got {substeps!r}.")
        scheme = ETDRK4() if scheme is None else scheme
        if not isinstance(scheme, AbstractETDRK):
            raise ValueError(
                f"Burgers1D: `scheme` must be an ETDRK scheme instance such as "
                f"`pdejax.timestepping.ETDRK4()`, got {scheme!r}."
            )
        self.grid = grid
        self.nu = nu
        self.dt = dt
        self.substeps = substeps
        self.scheme = scheme
        self.forcing = None if forcing is None else jnp.asarray(forcing)
        self.dealias_fraction = float(dealias_fraction)

    @property
    def state_shape(self) -> tuple[int, int]:
        return (1, *self.grid.num_points)

    def _setup(self, dtype) -> tuple["_BurgersParts", tuple]:
        parts = _parts(self.grid, self.nu, self.forcing, self.dealias_fraction, dtype)
        h = (self.dt / self.substeps).astype(parts.linear.dtype)
        return parts, self.scheme.coefficients(parts.linear, h)

    def _advance(self, u: State, parts: "_BurgersParts", coefficients: tuple) -> State:
        u = error_if_not_finite(
            u, "Burgers1D: the state is not finite (NaN or inf); check the initial data, or "
            "reduce `dt` / raise `substeps` if the solution blew up."
        )  # fmt: skip
        u_hat = etdrk_repeat(
            self.scheme,
            coefficients,
            lambda v: parts.nonlinear(self.grid, v),
            self.grid.fft(u),
            self.substeps,
        )
        return self.grid.ifft(u_hat).astype(u.dtype)

    def step(self, u: State) -> State:
        check_dtype(u, who="Burgers1D")
        return self._advance(u, *self._setup(u.dtype))

    def prepare(self) -> "_PreparedBurgers1D":
        """This stepper with its spectral operators and ETDRK coefficients computed once (for
        :func:`pdejax.rollout`); differentiable in ``nu``, ``dt`` and ``forcing`` as before.
        The coefficients are cast to each state's precision."""
        dtype = jnp.result_type(self.nu, self.dt, float)
        parts, coefficients = self._setup(dtype)
        return _PreparedBurgers1D(self, parts, coefficients)

    def dynamics(self) -> "Burgers1DDynamics":
        """The method-of-lines right-hand side of the same discretisation, for :func:`pdejax.integrate`."""
        return Burgers1DDynamics(
            self.grid, self.nu, forcing=self.forcing, dealias_fraction=self.dealias_fraction
        )

    def terms(self) -> diffrax.MultiTerm:
        r"""``MultiTerm(DiagonalLinearTerm(nu d_xx), ODETerm(advection + forcing))`` on the
        physical state, for :func:`diffrax.diffeqsolve` with :class:`~pdejax.timestepping.ETDRKSolver`."""
        grid, nu = self.grid, self.nu
        dynamics = self.dynamics()
        linear = DiagonalLinearTerm(nu * grid.laplacian_symbol(), grid.fft, grid.ifft)
        return diffrax.MultiTerm(linear, diffrax.ODETerm(dynamics.nonlinear_part))


class _PreparedBurgers1D(AbstractStepper):
    """:class:`Burgers1D` with its per-call setup hoisted (see :meth:`Burgers1D.prepare`)."""

    stepper: Burgers1D
    parts: _BurgersParts
    coefficients: tuple

    @property
    def dt(self):
        return self.stepper.dt

    @property
    def state_shape(self) -> tuple[int, int]:
        return self.stepper.state_shape

    def step(self, u: State) -> State:
        check_dtype(u, who="Burgers1D")
        parts, coefficients = to_precision((self.parts, self.coefficients), u.dtype)
        return self.stepper._advance(u, parts, coefficients)


class Burgers1DDynamics(AbstractDynamics):
    r"""The semi-discrete right-hand side of :class:`Burgers1D`,

    $\partial_t u = -\tfrac12\partial_x P(u^2) + \nu\partial_{xx}u + f$, spectral derivatives,
    $P$ the 2/3 filter: the exact method-of-lines system that :class:`Burgers1D` steps, so an
    adaptive diffrax solve converges to the same discrete solution. Stiff for large
    $\nu N^2$: explicit solvers need steps of order $1/(\nu k_{\max}^2)$.

    Differentiable in ``u``, ``nu`` and ``forcing``.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid, integrate
        >>> from pdejax.solvers import Burgers1DDynamics
        >>> grid = PeriodicGrid(32)
        >>> x, = grid.coordinates()
        >>> sol = integrate(Burgers1DDynamics(grid, 0.1), jnp.sin(2 * jnp.pi * x)[None],
        ...                 jnp.array([0.0, 0.1]))
        >>> sol.us.shape
        (2, 1, 32)
    """

    grid: PeriodicGrid
    nu: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    forcing: _FORCING
    dealias_fraction: float = eqx.field(static=True)

    def __init__(
        self,
        grid: PeriodicGrid,
        nu: ScalarLike,
        *,
        forcing: Float[Array, "1 N"] | None = None,
        dealias_fraction: float = 2.0 / 3.0,
    ):
        nu = _check_common("Burgers1DDynamics", grid, nu, forcing, dealias_fraction)
        self.grid = grid
        self.nu = nu
        self.forcing = None if forcing is None else jnp.asarray(forcing)
        self.dealias_fraction = float(dealias_fraction)

    @property
    def state_shape(self) -> tuple[int, int]:
        return (1, *self.grid.num_points)

    def nonlinear_part(self, t: ScalarLike, u: State, args=None) -> State:
        """Advection and forcing only, $-\\tfrac12\\partial_x P(u^2) + f$."""
        check_dtype(u, who="Burgers1DDynamics")
        parts = _parts(self.grid, self.nu, self.forcing, self.dealias_fraction, u.dtype)
        return self.grid.ifft(parts.nonlinear(self.grid, self.grid.fft(u))).astype(u.dtype)

    def vector_field(self, t: ScalarLike, u: State, args=None) -> State:
        check_dtype(u, who="Burgers1DDynamics")
        parts = _parts(self.grid, self.nu, self.forcing, self.dealias_fraction, u.dtype)
        u_hat = self.grid.fft(u)
        rhs = parts.linear * u_hat + parts.nonlinear(self.grid, u_hat)
        return self.grid.ifft(rhs).astype(u.dtype)


def _burgers_problem(name, field, num_points, nu, final_time, num_steps, description, reference):
    grid = PeriodicGrid(num_points)
    solver = Burgers1D(grid, nu=nu, dt=final_time, substeps=num_steps)
    return Problem(
        name=name,
        sample_input=lambda key: field(grid).sample(key)[None],
        solve=solver,
        parameters={
            "pde": "burgers_1d",
            "nu": nu,
            "final_time": final_time,
            "num_points": num_points,
            "domain_length": 1.0,
            "initial_condition": description,
            "solver": f"pseudo-spectral, 2/3 dealiasing, ETDRK4, {num_steps} steps",
        },
        reference=reference,
        coordinates=grid.coordinates(),
    )


@register_problem("fno/burgers")
def fno_burgers(
    num_points: int = 8192,
    *,
    nu: float = 0.1,
    final_time: float = 1.0,
    num_steps: int = 200,
) -> Problem:
    r"""The FNO-paper Burgers data set as the paper states it: $u_0 \sim N(0, 625(-\Delta +
    25I)^{-2})$ on the periodic unit interval, $\nu = 0.1$, learn $u_0 \mapsto u(\cdot, 1)$,
    generated at 8192 points.

    ``solve`` maps ``u0`` ``(1, N)`` to $u(\cdot, T)$ ``(1, N)`` with one :class:`Burgers1D`
    call of ``num_steps`` ETDRK4 substeps. Override ``num_points`` / ``num_steps`` for a
    reduced-scale run. With these parameters viscosity dominates: $u(\cdot, 1)$ keeps about 2%
    of the initial amplitude and no shock forms. The released generator script differs; see
    ``"fno/burgers_released"``.

    Args:
        num_points: grid points of the solve and of the stored data (the paper's 8192).
        nu: viscosity.
        final_time: the time of the output $u(\cdot, T)$.
        num_steps: ETDRK4 steps from 0 to ``final_time``.
    """
    return _burgers_problem(
        "fno/burgers", fno_burgers_initial_condition, num_points, nu, final_time, num_steps,
        "GaussianRandomField(sigma=25, tau=5, alpha=2), zero mean",
        "Li et al., Fourier Neural Operator for Parametric PDEs, ICLR 2021, section 5.1",
    )  # fmt: skip


@register_problem("fno/burgers_released")
def fno_burgers_released(
    num_points: int = 8192,
    *,
    nu: float = 1e-3,
    final_time: float = 1.0,
    num_steps: int = 10_000,
) -> Problem:
    r"""Burgers as the FNO authors' released generator ``gen_burgers1.m`` sets it up.

    That script draws $u_0$ from ``GRF1(s/2, 0, gamma=2.5, tau=7, sigma=7^2)``, whose
    Karhunen-Loeve coefficients have variance $\sigma^2(4\pi^2 k^2 + \tau^2)^{-\gamma}$, i.e.
    $N(0, 49^2(-\Delta + 49 I)^{-2.5})$ here, and uses $\nu = 10^{-3}$ (the maintainers confirm
    1/1000 for ``burgers_v1000_t200_r1024_N2048.mat``); steep fronts form, so the default
    ``num_steps`` is the script's internal step $10^{-4}$.

    Args:
        num_points: grid points of the solve and of the stored data (the script's 8192).
        nu: viscosity.
        final_time: the time of the output $u(\cdot, T)$.
        num_steps: ETDRK4 steps from 0 to ``final_time``.
    """

    def field(grid):
        return GaussianRandomField(grid, sigma=49.0, tau=7.0, alpha=2.5)

    return _burgers_problem(
        "fno/burgers_released", field, num_points, nu, final_time, num_steps,
        "GaussianRandomField(sigma=49, tau=7, alpha=2.5), zero mean (gen_burgers1.m)",
        "neuraloperator data_generation/burgers/gen_burgers1.m (released FNO generator)",
    )  # fmt: skip


__all__ = ["Burgers1D", "Burgers1DDynamics"]

r"""Viscous Burgers by conservative finite differences: periodic or Dirichlet boundaries."""

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from pdejax import AbstractStepper
from pdejax.core import check_dtype, check_positive, error_if, error_if_not_finite
from pdejax.core.types import ScalarLike, State

_WHO = "Burgers1DFD"


class AbstractBoundary(eqx.Module):
    """How the state is extended by one value on each side, and where its points sit."""

    @abc.abstractmethod
    def pad(self, u: Float[Array, " N"]) -> Float[Array, " N+2"]:
        """``u`` with one ghost (periodic) or boundary (Dirichlet) value on each side."""

    @abc.abstractmethod
    def spacing(self, num_points: int, domain_length: float) -> float:
        """The grid spacing."""

    @abc.abstractmethod
    def coordinates(self, num_points: int, domain_length: float) -> Float[Array, " N"]:
        """Positions of the state's points on $[0, L]$."""


class Periodic(AbstractBoundary):
    r"""Periodic interval $[0, L)$: points $x_i = i\,L/N$, $i = 0, \dots, N-1$.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax.solvers import Periodic
        >>> [float(x) for x in Periodic().coordinates(4, 1.0)]
        [0.0, 0.25, 0.5, 0.75]
        >>> Periodic().pad(jnp.array([1.0, 2.0, 3.0])).tolist()  # ghost values wrap around
        [3.0, 1.0, 2.0, 3.0, 1.0]
    """

    def pad(self, u):
        return jnp.concatenate([u[-1:], u, u[:1]])

    def spacing(self, num_points, domain_length):
        return domain_length / num_points

    def coordinates(self, num_points, domain_length):
        return jnp.arange(num_points) * self.spacing(num_points, domain_length)


class Dirichlet(AbstractBoundary):
    r"""$u(0) = $ ``left``, $u(L) = $ ``right`` (arrays: differentiable); the state holds the
    interior vertices $x_i = (i + 1)\,L/(N + 1)$, $i = 0, \dots, N-1$.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax.solvers import Dirichlet
        >>> [float(x) for x in Dirichlet(1.0, 0.0).coordinates(3, 1.0)]
        [0.25, 0.5, 0.75]
        >>> Dirichlet(1.0, 0.0).pad(jnp.array([0.5, 0.5])).tolist()
        [1.0, 0.5, 0.5, 0.0]
    """

    left: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.0)
    right: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=0.0)

    def pad(self, u):
        return jnp.concatenate(
            [self.left[None].astype(u.dtype), u, self.right[None].astype(u.dtype)]
        )

    def spacing(self, num_points, domain_length):
        return domain_length / (num_points + 1)

    def coordinates(self, num_points, domain_length):
        return (1 + jnp.arange(num_points)) * self.spacing(num_points, domain_length)


class Burgers1DFD(AbstractStepper):
    r"""Viscous Burgers $\partial_t u + \partial_x(u^2/2) = \nu\partial_{xx}u$ on $[0, L]$ by
    conservative finite differences, periodic or Dirichlet.

    Flux form $\dot u_i = -(F_{i+1/2} - F_{i-1/2})/\Delta x$ with
    $F_{i+1/2} = \tfrac16(u_i^2 + u_i u_{i+1} + u_{i+1}^2) - \nu(u_{i+1} - u_i)/\Delta x$: the
    skew-symmetric (energy-conserving) central advective flux and the standard viscous flux.
    Second order in space; the mean (periodic) is conserved exactly and the semi-discrete
    energy decays. Time: Shu-Osher SSP-RK3 (third order), ``substeps`` steps per call.

    Stability (explicit): the diffusive limit $\nu\,\Delta t_{\text{sub}}/\Delta x^2 \le 1/2$ is
    checked at construction (``ValueError``); the advective limit
    $\max|u|\,\Delta t_{\text{sub}}/\Delta x \le 1$ depends on the state and is checked on each
    call (``eqx.error_if``). Within both the SSP-RK3 amplification factor of every Fourier
    mode is at most 1. For oscillation-free solutions also keep the cell Peclet number
    $\max|u|\Delta x/\nu$ below 2.

    Differentiable in the state, ``nu``, ``dt`` and Dirichlet values.

    Args:
        num_points: points in the state (static).
        nu: viscosity $\ge 0$.
        dt: time advanced per call.
        domain_length: $L$ (static), default 1.
        boundary: :class:`Periodic` (default) or :class:`Dirichlet`.
        substeps: SSP-RK3 steps per call (static).

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax.solvers import Burgers1DFD, Dirichlet
        >>> fd = Burgers1DFD(63, nu=0.05, dt=0.01, boundary=Dirichlet(0.0, 0.0), substeps=8)
        >>> x = fd.coordinates()
        >>> fd(jnp.sin(2 * jnp.pi * x)[None]).shape
        (1, 63)
    """

    num_points: int = eqx.field(static=True)
    nu: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    domain_length: float = eqx.field(static=True)
    boundary: AbstractBoundary
    substeps: int = eqx.field(static=True)

    def __init__(
        self,
        num_points: int,
        nu: ScalarLike,
        dt: ScalarLike,
        *,
        domain_length: float = 1.0,
        boundary: AbstractBoundary | None = None,
        substeps: int = 1,
    ):
        if isinstance(num_points, bool) or not isinstance(num_points, int) or num_points < 3:
            raise ValueError(f"{_WHO}: `num_points` must be an int >= 3, got {num_points!r}.")
        if isinstance(substeps, bool) or not isinstance(substeps, int) or substeps < 1:
            raise ValueError(f"{_WHO}: `substeps` must be a positive int, got {substeps!r}.")
        nu = check_positive(nu, name="nu", who=_WHO, allow_zero=True)
        dt = check_positive(dt, name="dt", who=_WHO)
        check_positive(domain_length, name="domain_length", who=_WHO)
        boundary = Periodic() if boundary is None else boundary
        if not isinstance(boundary, AbstractBoundary):
            raise ValueError(f"{_WHO}: `boundary` must be Periodic() or Dirichlet(left, right).")
        self.num_points = num_points
        self.nu = nu
        self.dt = dt
        self.domain_length = float(domain_length)
        self.boundary = boundary
        self.substeps = substeps
        if not any(isinstance(v, jax.core.Tracer) for v in (self.nu, self.dt)):
            dx = self.spacing
            h = float(self.dt) / substeps
            limit = dx**2 / (2 * float(self.nu)) if float(self.nu) > 0 else float("inf")
            if h > limit:
                raise ValueError(
                    f"{_WHO}: the time step dt/substeps = {h:.3g} exceeds the diffusive "
                    f"stability limit dx^2/(2 nu) = {limit:.3g}; raise `substeps` to at least "
                    f"{int(float(self.dt) / limit) + 1} or lower `dt`."
                )

    @property
    def spacing(self) -> float:
        return self.boundary.spacing(self.num_points, self.domain_length)

    def coordinates(self) -> Float[Array, " N"]:
        """Positions of the state's points."""
        return self.boundary.coordinates(self.num_points, self.domain_length)

    @property
    def state_shape(self) -> tuple[int, int]:
        return (1, self.num_points)

    def rhs(self, u: Float[Array, " N"]) -> Float[Array, " N"]:
        """The semi-discrete right-hand side $-(F_{i+1/2} - F_{i-1/2})/\\Delta x$."""
        dx = self.spacing
        v = self.boundary.pad(u)
        a, b = v[:-1], v[1:]
        flux = (a * a + a * b + b * b) / 6 - self.nu.astype(u.dtype) * (b - a) / dx
        return -(flux[1:] - flux[:-1]) / dx

    def step(self, u: State) -> State:
        check_dtype(u, who=_WHO)
        u = error_if_not_finite(
            u, f"{_WHO}: the state is not finite (NaN or inf); check the initial data, or reduce "
            "`dt` / raise `substeps` if the solution blew up."
        )  # fmt: skip
        h = (self.dt / self.substeps).astype(u.dtype)
        cfl = jnp.max(jnp.abs(u)) * h / self.spacing
        u = error_if(
            u,
            cfl > 1,
            f"{_WHO}: advective CFL number max|u| dt/(substeps dx) exceeds 1; raise `substeps` "
            "or lower `dt`.",
        )

        def ssp_rk3(_, w):
            w1 = w + h * self.rhs(w)
            w2 = 0.75 * w + 0.25 * (w1 + h * self.rhs(w1))
            return w / 3 + (2 / 3) * (w2 + h * self.rhs(w2))

        return jax.lax.fori_loop(0, self.substeps, ssp_rk3, u[0])[None]


__all__ = ["AbstractBoundary", "Burgers1DFD", "Dirichlet", "Periodic"]

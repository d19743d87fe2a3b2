r"""Exponential time differencing Runge-Kutta (ETDRK) schemes for diagonal-linear stiff systems.

The schemes integrate

$$\frac{d\hat u}{dt} = L \odot \hat u + \mathcal N(\hat u),$$

where $L$ is a *diagonal* linear operator given by its symbol (an array, e.g.
$-\nu|k|^2$ on an ``rfftn`` layout) and $\mathcal N$ any (nonlinear) function of the state. The
linear part is integrated exactly; the nonlinear part by an exponential Runge-Kutta method of
Cox and Matthews (ETDRK1 ... ETDRK4, orders 1 ... 4). The coefficients are built from the
$\varphi$-functions

$$\varphi_0(z) = e^z, \qquad \varphi_{k+1}(z) = \frac{\varphi_k(z) - 1/k!}{z},$$

evaluated by the contour-integral method of Kassam and Trefethen (a trapezoidal mean of
$\varphi_k$ over a circle around each $z$), which avoids the cancellation of the direct formula
near $z = 0$.

Three layers, smallest first:

- :func:`phi_functions` evaluates $\varphi_1, \dots, \varphi_m$ at an array of $z$;
- a scheme (:class:`ETDRK1` ... :class:`ETDRK4`) turns ``(L, dt)`` into coefficients with
  :meth:`~AbstractETDRK.coefficients` (once) and applies one step with :meth:`~AbstractETDRK.step`;
  :func:`etdrk_advance` does both for ``num_steps`` steps of an autonomous system;
- :class:`~pdejax.timestepping.ETDRKSolver` is a :class:`diffrax.AbstractSolver` for
  ``MultiTerm(DiagonalLinearTerm(L), ODETerm(N))``, so the same schemes run under
  :func:`diffrax.diffeqsolve` with ``SaveAt`` and every adjoint (constant step sizes only: the
  schemes have no embedded error estimate).

``L`` and ``dt`` are traced arrays: a new viscosity or step size neither recompiles nor blocks
``jax.grad``; the coefficients are differentiable in both.

Example (the linear part alone is integrated exactly, whatever the step):
    >>> import jax.numpy as jnp
    >>> from pdejax.timestepping import ETDRK4, etdrk_advance
    >>> L = -jnp.arange(4.0) ** 2
    >>> u1 = etdrk_advance(ETDRK4(), L, lambda u: 0 * u, jnp.ones(4), 0.5, num_steps=2)
    >>> bool(jnp.allclose(u1, jnp.exp(L)))
    True

References:
    S. M. Cox and P. C. Matthews, "Exponential time differencing for stiff systems",
    J. Comput. Phys. 176 (2002) 430-455.
    A.-K. Kassam and L. N. Trefethen, "Fourth-order time-stepping for stiff PDEs",
    SIAM J. Sci. Comput. 26 (2005) 1214-1233.
"""

import abc
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, PyTree, Shaped

from .phi import phi_functions
from .scheme import AbstractSemilinearScheme, repeat_steps

Symbol = Shaped[Array, "*modes"]
"""The diagonal linear symbol, real or complex, broadcastable against the state."""

Coefficients = tuple[Shaped[Array, "..."], ...]


class AbstractETDRK(AbstractSemilinearScheme):
    r"""An exponential Runge-Kutta scheme for $\dot{\hat u} = L\odot\hat u + \mathcal N(\hat u)$.

    A scheme is a stateless description (its only fields are the static contour parameters of
    :func:`phi_functions`). :meth:`coefficients` maps ``(L, dt)`` to arrays once; :meth:`step`
    applies one step with them, calling ``nonlinear(theta, u_hat)`` at each stage, where
    ``theta`` (a Python float in $[0, 1]$) is the stage time as a fraction of the step; an
    autonomous $\mathcal N$ ignores it.

    Example (a subclass: exponential Euler, $\hat u_{n+1} = e^{hL}\hat u_n +
    h\varphi_1(hL)\mathcal N(\hat u_n)$, exact for a constant $\mathcal N$):
        >>> import equinox as eqx, jax.numpy as jnp
        >>> from pdejax.timestepping import AbstractETDRK, etdrk_advance, phi_functions
        >>> class ExpEuler(AbstractETDRK):
        ...     order = 1
        ...     num_contour_points: int = eqx.field(static=True, default=16)
        ...     contour_radius: float = eqx.field(static=True, default=1.0)
        ...     def coefficients(self, linear, dt):
        ...         (phi1,) = phi_functions(linear * dt, 1)
        ...         return jnp.exp(linear * dt), dt * phi1
        ...     def step(self, coefficients, nonlinear, u_hat):
        ...         e, f = coefficients
        ...         return e * u_hat + f * nonlinear(0.0, u_hat)
        >>> # u' = -u + 1, u(0) = 0: u(2) = 1 - exp(-2), in any number of steps
        >>> u = etdrk_advance(ExpEuler(), jnp.array([-1.0]), jnp.ones_like, jnp.zeros(1), 1.0, 2)
        >>> round(float(u[0]), 6)
        0.864665
    """

    order: ClassVar[int]
    num_contour_points: eqx.AbstractVar[int]
    contour_radius: eqx.AbstractVar[float]

    def _phis(self, z, max_order):
        return phi_functions(
            z, max_order, num_points=self.num_contour_points, radius=self.contour_radius
        )

    @abc.abstractmethod
    def coefficients(self, linear: Symbol, dt: ArrayLike) -> Coefficients:
        """The scheme's coefficient arrays for the symbol ``linear`` and step ``dt``."""

    @abc.abstractmethod
    def step(
        self,
        coefficients: Coefficients,
        nonlinear: Callable[[float, PyTree], PyTree],
        u_hat: Shaped[Array, "..."],
    ) -> Shaped[Array, "..."]:
        """One step from ``u_hat`` with precomputed ``coefficients``."""


def _z(linear, dt):
    linear = jnp.asarray(linear)
    dt = jnp.asarray(dt, dtype=jnp.real(linear).dtype)
    return linear * dt, dt


class ETDRK1(AbstractETDRK):
    r"""Exponential Euler: $\hat u_{n+1} = e^{hL}\hat u_n + h\varphi_1(hL)\,\mathcal N(\hat u_n)$.

    First order; one evaluation of $\mathcal N$ per step.

    Example (the measured order on $\dot u = -u + u^2$, $u(0) = \tfrac12$, whose solution is
    $u(t) = 1/(1 + e^t)$):
        >>> import math, jax.numpy as jnp
        >>> from pdejax.timestepping import ETDRK1, etdrk_advance
        >>> def error(n):  # n steps to t = 2
        ...     u = etdrk_advance(ETDRK1(), jnp.array([-1.0]), lambda u: u**2, jnp.array([0.5]), 2 / n, n)
        ...     return abs(float(u[0]) - 1 / (1 + math.e**2))
        >>> round(math.log2(error(5) / error(10)))
        1
    """

    order: ClassVar[int] = 1
    num_contour_points: int = eqx.field(static=True, default=16)
    contour_radius: float = eqx.field(static=True, default=1.0)

    def coefficients(self, linear: Symbol, dt: ArrayLike) -> Coefficients:
        z, h = _z(linear, dt)
        (phi1,) = self._phis(z, 1)
        return jnp.exp(z), h * phi1

    def step(self, coefficients, nonlinear, u_hat):
        e, f = coefficients
        return e * u_hat + f * nonlinear(0.0, u_hat)


class ETDRK2(AbstractETDRK):
    r"""Cox-Matthews ETD2RK, second order, two evaluations of $\mathcal N$ per step:

    $a = e^{hL}\hat u_n + h\varphi_1 \mathcal N(\hat u_n)$,
    $\hat u_{n+1} = a + h\varphi_2\,(\mathcal N(a) - \mathcal N(\hat u_n))$, $\varphi_k = \varphi_k(hL)$.

    Example (the measured order on $\dot u = -u + u^2$, $u(0) = \tfrac12$, whose solution is
    $u(t) = 1/(1 + e^t)$):
        >>> import math, jax.numpy as jnp
        >>> from pdejax.timestepping import ETDRK2, etdrk_advance
        >>> def error(n):  # n steps to t = 2
        ...     u = etdrk_advance(ETDRK2(), jnp.array([-1.0]), lambda u: u**2, jnp.array([0.5]), 2 / n, n)
        ...     return abs(float(u[0]) - 1 / (1 + math.e**2))
        >>> round(math.log2(error(5) / error(10)))
        2
    """

    order: ClassVar[int] = 2
    num_contour_points: int = eqx.field(static=True, default=16)
    contour_radius: float = eqx.field(static=True, default=1.0)

    def coefficients(self, linear: Symbol, dt: ArrayLike) -> Coefficients:
        z, h = _z(linear, dt)
        phi1, phi2 = self._phis(z, 2)
        return jnp.exp(z), h * phi1, h * phi2

    def step(self, coefficients, nonlinear, u_hat):
        e, f1, f2 = coefficients
        n_u = nonlinear(0.0, u_hat)
        a = e * u_hat + f1 * n_u
        return a + f2 * (nonlinear(1.0, a) - n_u)


class ETDRK3(AbstractETDRK):
    r"""Cox-Matthews ETD3RK, third order, three evaluations of $\mathcal N$ per step:

    $a = e^{hL/2}\hat u_n + \tfrac h2\varphi_1(\tfrac{hL}2)\mathcal N_u$,
    $b = e^{hL}\hat u_n + h\varphi_1(hL)(2\mathcal N_a - \mathcal N_u)$,
    $\hat u_{n+1} = e^{hL}\hat u_n + h[(\varphi_1 - 3\varphi_2 + 4\varphi_3)\mathcal N_u
    + 4(\varphi_2 - 2\varphi_3)\mathcal N_a + (4\varphi_3 - \varphi_2)\mathcal N_b]$.

    Example (the measured order on $\dot u = -u + u^2$, $u(0) = \tfrac12$, whose solution is
    $u(t) = 1/(1 + e^t)$):
        >>> import math, jax.numpy as jnp
        >>> from pdejax.timestepping import ETDRK3, etdrk_advance
        >>> def error(n):  # n steps to t = 2
        ...     u = etdrk_advance(ETDRK3(), jnp.array([-1.0]), lambda u: u**2, jnp.array([0.5]), 2 / n, n)
        ...     return abs(float(u[0]) - 1 / (1 + math.e**2))
        >>> round(math.log2(error(5) / error(10)))
        3
    """

    order: ClassVar[int] = 3
    num_contour_points: int = eqx.field(static=True, default=16)
    contour_radius: float = eqx.field(static=True, default=1.0)

    def coefficients(self, linear: Symbol, dt: ArrayLike) -> Coefficients:
        z, h = _z(linear, dt)
        (half_phi1,) = self._phis(z / 2, 1)
        phi1, phi2, phi3 = self._phis(z, 3)
        return (
            jnp.exp(z),
            jnp.exp(z / 2),
            (h / 2) * half_phi1,
            h * phi1,
            h * (phi1 - 3 * phi2 + 4 * phi3),
            4 * h * (phi2 - 2 * phi3),
            h * (4 * phi3 - phi2),
        )

    def step(self, coefficients, nonlinear, u_hat):
        e, e2, q, p1, f1, f2, f3 = coefficients
        n_u = nonlinear(0.0, u_hat)
        a = e2 * u_hat + q * n_u
        n_a = nonlinear(0.5, a)
        b = e * u_hat + p1 * (2 * n_a - n_u)
        return e * u_hat + f1 * n_u + f2 * n_a + f3 * nonlinear(1.0, b)


class ETDRK4(AbstractETDRK):
    r"""Cox-Matthews ETDRK4, fourth order, four evaluations of $\mathcal N$ per step:

    $a = E_2\hat u_n + Q\mathcal N_u$, $b = E_2\hat u_n + Q\mathcal N_a$,
    $c = E_2 a + Q(2\mathcal N_b - \mathcal N_u)$,
    $\hat u_{n+1} = E\hat u_n + f_1\mathcal N_u + 2f_2(\mathcal N_a + \mathcal N_b) + f_3\mathcal N_c$,

    with $E = e^{hL}$, $E_2 = e^{hL/2}$, $Q = \tfrac h2\varphi_1(\tfrac{hL}2)$,
    $f_1 = h(\varphi_1 - 3\varphi_2 + 4\varphi_3)$, $f_2 = h(\varphi_2 - 2\varphi_3)$,
    $f_3 = h(4\varphi_3 - \varphi_2)$ at $hL$ (Kassam-Trefethen's form). Stable for stiff
    dissipative $L$ at any step; the explicit treatment of $\mathcal N$ limits the step by its
    own time scale (for advection, about a CFL number of order one on the resolved modes that
    $L$ does not damp).

    Example (the measured order on $\dot u = -u + u^2$, $u(0) = \tfrac12$, whose solution is
    $u(t) = 1/(1 + e^t)$):
        >>> import math, jax.numpy as jnp
        >>> from pdejax.timestepping import ETDRK4, etdrk_advance
        >>> def error(n):  # n steps to t = 2
        ...     u = etdrk_advance(ETDRK4(), jnp.array([-1.0]), lambda u: u**2, jnp.array([0.5]), 2 / n, n)
        ...     return abs(float(u[0]) - 1 / (1 + math.e**2))
        >>> round(math.log2(error(5) / error(10)))
        4
    """

    order: ClassVar[int] = 4
    num_contour_points: int = eqx.field(static=True, default=16)
    contour_radius: float = eqx.field(static=True, default=1.0)

    def coefficients(self, linear: Symbol, dt: ArrayLike) -> Coefficients:
        z, h = _z(linear, dt)
        (half_phi1,) = self._phis(z / 2, 1)
        phi1, phi2, phi3 = self._phis(z, 3)
        return (
            jnp.exp(z),
            jnp.exp(z / 2),
            (h / 2) * half_phi1,
            h * (phi1 - 3 * phi2 + 4 * phi3),
            h * (phi2 - 2 * phi3),
            h * (4 * phi3 - phi2),
        )

    def step(self, coefficients, nonlinear, u_hat):
        e, e2, q, f1, f2, f3 = coefficients
        n_u = nonlinear(0.0, u_hat)
        a = e2 * u_hat + q * n_u
        n_a = nonlinear(0.5, a)
        b = e2 * u_hat + q * n_a
        n_b = nonlinear(0.5, b)
        c = e2 * a + q * (2 * n_b - n_u)
        return e * u_hat + f1 * n_u + 2 * f2 * (n_a + n_b) + f3 * nonlinear(1.0, c)


def etdrk_advance(
    scheme: AbstractETDRK,
    linear: Symbol,
    nonlinear: Callable[[Shaped[Array, "..."]], Shaped[Array, "..."]],
    u_hat: Shaped[Array, "..."],
    dt: ArrayLike,
    num_steps: int = 1,
) -> Shaped[Array, "..."]:
    r"""Advance the autonomous system $\dot{\hat u} = L\hat u + \mathcal N(\hat u)$ by ``num_steps`` steps of ``dt``.

    The coefficients are computed once and reused by every step (a ``fori_loop``).

    Args:
        scheme: an :class:`AbstractETDRK`, e.g. ``ETDRK4()``.
        linear: the diagonal symbol $L$, broadcastable against ``u_hat``.
        nonlinear: $\mathcal N$, a function of the state alone.
        u_hat: the state (usually spectral coefficients).
        dt: the step, a scalar (traced values allowed).
        num_steps: a static positive int.

    Example (the logistic-type equation $\dot u = -u + u^2$, $u(0) = \tfrac12$, to $t = 2$,
    against its solution $1/(1 + e^2)$):
        >>> import jax.numpy as jnp
        >>> from pdejax.timestepping import ETDRK4, etdrk_advance
        >>> u = etdrk_advance(ETDRK4(), jnp.array([-1.0]), lambda u: u**2, jnp.array([0.5]), 0.1, 20)
        >>> round(float(u[0]), 6), round(float(1 / (1 + jnp.exp(2.0))), 6)
        (0.119203, 0.119203)
        >>> etdrk_advance(ETDRK4(), jnp.array([-1.0]), jnp.square, jnp.ones(1), 0.1, num_steps=0)
        Traceback (most recent call last):
        ValueError: etdrk_advance: `num_steps` must be a positive int, got 0.
    """
    return etdrk_repeat(scheme, scheme.coefficients(linear, dt), nonlinear, u_hat, num_steps)


def etdrk_repeat(
    scheme: AbstractETDRK,
    coefficients: "Coefficients",
    nonlinear: Callable[[Shaped[Array, "..."]], Shaped[Array, "..."]],
    u_hat: Shaped[Array, "..."],
    num_steps: int = 1,
) -> Shaped[Array, "..."]:
    """:func:`etdrk_advance` with coefficients computed beforehand (``scheme.coefficients``),
    for callers that reuse them across many calls (a prepared stepper in a rollout).

    Example (two calls of 5 steps with the same coefficients are one call of 10):
        >>> import jax.numpy as jnp
        >>> from pdejax.timestepping import ETDRK3, etdrk_advance, etdrk_repeat
        >>> L, N, u0 = jnp.array([-1.0, -3.0]), jnp.sin, jnp.array([1.0, 2.0])
        >>> c = ETDRK3().coefficients(L, 0.1)
        >>> twice = etdrk_repeat(ETDRK3(), c, N, etdrk_repeat(ETDRK3(), c, N, u0, 5), 5)
        >>> bool(jnp.allclose(twice, etdrk_advance(ETDRK3(), L, N, u0, 0.1, 10), rtol=1e-6))
        True
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"etdrk_advance: `num_steps` must be a positive int, got {num_steps!r}.")
    return repeat_steps(scheme, coefficients, lambda theta, w: nonlinear(w), u_hat, num_steps)


__all__ = [
    "AbstractETDRK",
    "ETDRK1",
    "ETDRK2",
    "ETDRK3",
    "ETDRK4",
    "etdrk_advance",
    "etdrk_repeat",
    "phi_functions",
]

r"""IMEX Runge-Kutta / Crank-Nicolson schemes for $\dot u = Lu + \mathcal N(u)$, $L$ diagonal.

Low-storage (2N) explicit Runge-Kutta for $\mathcal N$, Crank-Nicolson on each sub-interval for
$L$: second order overall, of the explicit method's order for $\mathcal N$ alone, and stable for
any step on the dissipative linear part. Same protocol as the exponential schemes
(:class:`~pdejax.timestepping.AbstractSemilinearScheme`), so a semilinear PDE takes either.

| scheme | explicit method | stages | imaginary-axis stability |
|---|---|---|---|
| :class:`CrankNicolsonRK4` | Carpenter-Kennedy (1994), 4th order | 5 | 3.34 |
| :class:`CrankNicolsonRK3` | Williamson (1980), 3rd order | 3 | 1.73 |
"""

from collections.abc import Callable
from typing import ClassVar

import jax.numpy as jnp

from .scheme import AbstractSemilinearScheme


class AbstractIMEXScheme(AbstractSemilinearScheme):
    r"""A low-storage IMEX Runge-Kutta / Crank-Nicolson scheme for $\dot u = Lu + \mathcal N(u)$.

    Stage $k$: $h \leftarrow \mathcal N(u) + \beta_k h$, then
    $(1 - \mu_k L)u \leftarrow (1 + \mu_k L)u + \gamma_k\Delta t\,h$ with
    $\mu_k = \tfrac12(\alpha_{k+1} - \alpha_k)\Delta t$: the explicit part is a 2N-storage
    Runge-Kutta method, the implicit part Crank-Nicolson on each sub-interval, so the scheme is
    second order for $L$ and of the explicit method's order for $\mathcal N$ alone
    (Canuto et al. 2007, appendix D.3). Same protocol as :class:`~pdejax.timestepping.AbstractETDRK`:
    :meth:`coefficients` once, :meth:`step` per step.

    Example (the linear test equation $\dot u = -u$: second order, as Crank-Nicolson):
        >>> import jax.numpy as jnp
        >>> from pdejax.timestepping import CrankNicolsonRK4
        >>> scheme = CrankNicolsonRK4()
        >>> def solve(dt):
        ...     c, u = scheme.coefficients(jnp.asarray(-1.0), dt), jnp.asarray(1.0)
        ...     for _ in range(round(1 / dt)):
        ...         u = scheme.step(c, lambda theta, v: 0.0 * v, u)
        ...     return abs(float(u) - float(jnp.exp(-1.0)))
        >>> round(solve(0.1) / solve(0.05), 1)  # error ratio 2^2
        4.0
    """

    alphas: ClassVar[tuple[float, ...]]
    betas: ClassVar[tuple[float, ...]]
    gammas: ClassVar[tuple[float, ...]]
    order: ClassVar[int]
    imaginary_axis_limit: ClassVar[float]

    def coefficients(self, linear, dt):
        # nothing to precompute: the CN factors are fused into each stage's update
        return linear, jnp.asarray(dt, jnp.real(linear).dtype)

    def step(self, coefficients, nonlinear: Callable, u_hat):
        linear, dt = coefficients
        h = None
        for k, (beta, gamma) in enumerate(zip(self.betas, self.gammas)):
            n = nonlinear(self.alphas[k], u_hat)
            h = n if h is None else n + beta * h
            mu = 0.5 * (self.alphas[k + 1] - self.alphas[k]) * dt * linear
            u_hat = ((1 + mu) * u_hat + (gamma * dt) * h) / (1 - mu)
        return u_hat


class CrankNicolsonRK4(AbstractIMEXScheme):
    r"""Crank-Nicolson with the five-stage, fourth-order 2N-storage Runge-Kutta method of
    Carpenter and Kennedy (NASA TM-109112, 1994), the scheme of ``jax_cfd.spectral``'s
    ``crank_nicolson_rk4``. Five right-hand-side evaluations per step; imaginary-axis stability
    to 3.34.

    Example (explicit part fourth order: $\dot u = -u^2$, $u(0) = 1$, exact $1/(1+t)$):
        >>> import jax.numpy as jnp
        >>> from pdejax.timestepping import CrankNicolsonRK4
        >>> scheme = CrankNicolsonRK4()
        >>> def solve(dt):
        ...     c, u = scheme.coefficients(jnp.asarray(0.0), dt), jnp.asarray(1.0)
        ...     for _ in range(round(1 / dt)):
        ...         u = scheme.step(c, lambda theta, v: -v * v, u)
        ...     return abs(float(u) - 0.5)
        >>> 14.0 < solve(0.1) / solve(0.05) < 18.0  # error ratio about 2^4
        True
    """

    alphas: ClassVar = (
        0.0, 0.1496590219993, 0.3704009573644, 0.6222557631345, 0.9582821306748, 1.0,
    )  # fmt: skip
    betas: ClassVar = (0.0, -0.4178904745, -1.192151694643, -1.697784692471, -1.514183444257)
    gammas: ClassVar = (
        0.1496590219993, 0.3792103129999, 0.8229550293869, 0.6994504559488, 0.1530572479681,
    )  # fmt: skip
    order: ClassVar[int] = 2
    imaginary_axis_limit: ClassVar[float] = 3.34


class CrankNicolsonRK3(AbstractIMEXScheme):
    r"""Crank-Nicolson with Williamson's three-stage, third-order 2N-storage Runge-Kutta method
    (J. Comput. Phys. 35, 1980). Three evaluations per step; imaginary-axis stability to 1.73.

    Example (explicit part third order: $\dot u = -u^2$, $u(0) = 1$, exact $1/(1+t)$):
        >>> import jax.numpy as jnp
        >>> from pdejax.timestepping import CrankNicolsonRK3
        >>> scheme = CrankNicolsonRK3()
        >>> def solve(dt):
        ...     c, u = scheme.coefficients(jnp.asarray(0.0), dt), jnp.asarray(1.0)
        ...     for _ in range(round(1 / dt)):
        ...         u = scheme.step(c, lambda theta, v: -v * v, u)
        ...     return abs(float(u) - 0.5)
        >>> 7.0 < solve(0.1) / solve(0.05) < 9.0  # error ratio about 2^3
        True
    """

    alphas: ClassVar = (0.0, 1 / 3, 3 / 4, 1.0)
    betas: ClassVar = (0.0, -5 / 9, -153 / 128)
    gammas: ClassVar = (1 / 3, 15 / 16, 8 / 15)
    order: ClassVar[int] = 2
    imaginary_axis_limit: ClassVar[float] = 1.73


__all__ = ["AbstractIMEXScheme", "CrankNicolsonRK3", "CrankNicolsonRK4"]

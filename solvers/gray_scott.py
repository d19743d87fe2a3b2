r"""The Gray-Scott reaction-diffusion system on a periodic rectangle."""

from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from pdejax import GaussianRandomField, PeriodicGrid
from pdejax.core import check_positive
from pdejax.data import register_problem
from pdejax.timestepping import (
    ETDRK4,
    AbstractSemilinearScheme,
    AbstractSemilinearStepper,
    check_periodic_grid,
    check_stepping,
)

from .trajectory_problems import trajectory_problem


class GrayScott2D(AbstractSemilinearStepper):
    r"""Gray-Scott on a periodic rectangle, two species $(u, v)$ as channels 0 and 1,

    $$\partial_t u = \nu_u\Delta u - uv^2 + F(1 - u), \qquad
      \partial_t v = \nu_v\Delta v + uv^2 - (F + k)v.$$

    The linear part, diffusion and the linear reaction, $L = (-\nu_u|k|^2 - F,\
    -\nu_v|k|^2 - F - k)$, one row per channel, is integrated exactly; $F \mp uv^2$ explicitly,
    the cubic product dealiased on both sides (fraction 1/2: alias-free). Default scheme
    :class:`~pdejax.timestepping.ETDRK4` (fourth order). The reaction sets the step: $\Delta t
    \lesssim 1$ for $u, v \le 1$ (Pearson's patterns use $\Delta t = 1$). The homogeneous
    states $(1, 0)$ and, for $F > 4(F+k)^2$, the two with $v = \frac{F \pm \sqrt{F^2 -
    4F(F+k)^2}}{2(F+k)}$, $u = 1 - (F+k)v/F$, are fixed points. Differentiable in the state,
    ``nu_u``, ``nu_v``, ``feed_rate``, ``kill_rate`` and ``dt``.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> gs = GrayScott2D(PeriodicGrid((32, 32)), 2e-5, 1e-5, 0.04, 0.06, dt=1.0)
        >>> rest = jnp.stack([jnp.ones((32, 32)), jnp.zeros((32, 32))])
        >>> float(abs(gs(rest) - rest).max()) < 1e-14  # (1, 0) is a fixed point
        True

    References:
        Gray and Scott, Chem. Eng. Sci. 39 (1984) 1087; Pearson, Science 261 (1993) 189.
    """

    grid: PeriodicGrid
    nu_u: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    nu_v: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    feed_rate: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    kill_rate: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    substeps: int = eqx.field(static=True, default=1)
    scheme: AbstractSemilinearScheme = ETDRK4()
    dealias_fraction: float = eqx.field(static=True, default=1 / 2)
    num_channels: ClassVar[int] = 2

    def __check_init__(self):
        who = type(self).__name__
        check_periodic_grid(self.grid, 2, who)
        check_stepping(self)
        for name in ("nu_u", "nu_v", "feed_rate", "kill_rate"):
            check_positive(getattr(self, name), name=name, who=who, allow_zero=True)
        self.grid.dealias_mask(self.dealias_fraction)

    def linear_symbol(self) -> Float[Array, "2 Kx Ky"]:
        k2 = self.grid.wavenumber_norm_squared()
        f, k = self.feed_rate, self.kill_rate
        return jnp.stack([-self.nu_u * k2 - f, -self.nu_v * k2 - f - k])

    def nonlinear_hat(self, u_hat: Complex[Array, "2 Kx Ky"]) -> Complex[Array, "2 Kx Ky"]:
        mask = self.grid.dealias_mask(self.dealias_fraction)
        u, v = self.grid.ifft(mask * u_hat)
        uvv = u * v * v
        return mask * self.grid.fft(jnp.stack([self.feed_rate - uvv, uvv]))


@register_problem("gray_scott/2d")
def gray_scott_2d(
    num_points=64, *, domain_length=1.0, nu_u=2e-5, nu_v=1e-5, feed_rate=0.04, kill_rate=0.06,
    dt=1.0, output_interval=100.0, num_frames=20,
):  # fmt: skip
    r"""Gray-Scott 2-d pattern formation: $v_0 = \tfrac14\sigma(8(g - 1.5))$ (spots where a
    unit-variance random field $g \sim N(0, (-\Delta + 400 I)^{-2})$ is high, $\sigma$ the
    logistic function), $u_0 = 1 - 2v_0$; ``solve`` returns the trajectory
    ``(num_frames + 1, 2, N, N)``. Defaults: Pearson's diffusivities, $F = 0.04$, $k = 0.06$.

    Args:
        num_points: grid points per axis.
        domain_length: side of the square.
        nu_u, nu_v: diffusivities.
        feed_rate, kill_rate: $F$ and $k$.
        dt: the ETDRK4 step.
        output_interval: time between frames (a multiple of ``dt``).
        num_frames: frames after the input.
    """
    grid = PeriodicGrid((num_points, num_points), domain_length)
    steps = max(1, round(output_interval / dt))
    stepper = GrayScott2D(grid, nu_u, nu_v, feed_rate, kill_rate, output_interval, substeps=steps)
    grf = GaussianRandomField(grid, sigma=1.0, tau=20.0 / domain_length, alpha=2.0)

    def sample(key):
        g = grf.sample(key)
        v = 0.25 * jax.nn.sigmoid(8 * (g / jnp.std(g) - 1.5))
        return jnp.stack([1 - 2 * v, v])

    return trajectory_problem(
        "gray_scott/2d", stepper, sample, num_frames=num_frames,
        parameters={"equation": "Gray-Scott", "nu_u": nu_u, "nu_v": nu_v,
                    "feed_rate": feed_rate, "kill_rate": kill_rate},
        reference="Pearson, Science 261 (1993) 189",
    )  # fmt: skip


__all__ = ["GrayScott2D"]

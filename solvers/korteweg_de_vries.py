r"""The Korteweg-de Vries equation on a periodic interval, pseudo-spectral, exponential integrator."""

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Complex, Float

from pdejax import PeriodicGrid
from pdejax.data import register_problem
from pdejax.timestepping import (
    ETDRK4,
    AbstractSemilinearScheme,
    AbstractSemilinearStepper,
    check_periodic_grid,
    check_stepping,
)

from .trajectory_problems import trajectory_problem


def soliton(x: Float[Array, " N"], t, c, x0, domain_length) -> Float[Array, " N"]:
    r"""The soliton $\tfrac c2\operatorname{sech}^2(\tfrac{\sqrt c}2(x - ct - x_0))$ of
    $u_t + 6uu_x + u_{xxx} = 0$, centred in the periodic cell nearest to each $x$ (exact on
    the periodic domain when its tails are below round-off there).

    Example:
        >>> float(soliton(jnp.array([1.0]), 0.5, 4.0, -1.0, 40.0)[0])  # the crest, c/2
        2.0
    """
    s = jnp.mod(x - c * t - x0 + domain_length / 2, domain_length) - domain_length / 2
    return 0.5 * c / jnp.cosh(0.5 * jnp.sqrt(c) * s) ** 2


class KortewegDeVries1D(AbstractSemilinearStepper):
    r"""Korteweg-de Vries on a periodic interval,

    $$\partial_t u + \alpha\,u\,\partial_x u + \beta\,\partial_{xxx} u = 0,$$

    ($\alpha = 6$, $\beta = 1$ by default: solitons
    $\tfrac c2\operatorname{sech}^2(\tfrac{\sqrt c}2(x - ct))$, see :func:`soliton`).
    Pseudo-spectral: the dispersion $L = i\beta k^3$ is integrated exactly (the scheme's
    coefficients are complex), $-\tfrac\alpha2\partial_x(u^2)$ explicitly with the product
    dealiased on both sides (2/3 rule). Default scheme :class:`~pdejax.timestepping.ETDRK4`
    (fourth order; Kassam and Trefethen's choice for KdV, where the stiffness is dispersive and
    implicit schemes lose accuracy on the fast waves). The step is limited by the advection,
    about $\alpha\max|u|\,\Delta t/\Delta x \lesssim 1$; dispersion sets no limit. The mean
    $\int u$ is conserved exactly, the energy $\int u^2$ to the scheme's order. Differentiable in
    the state, ``alpha``, ``beta`` and ``dt``.

    Example:
        >>> from pdejax import PeriodicGrid, rollout
        >>> grid = PeriodicGrid(256, 40.0, origin=-20.0)
        >>> (x,) = grid.coordinates()
        >>> kdv = KortewegDeVries1D(grid, dt=0.1, substeps=50)
        >>> u1 = kdv(soliton(x, 0.0, 4.0, 0.0, 40.0)[None])
        >>> float(abs(u1[0] - soliton(x, 0.1, 4.0, 0.0, 40.0)).max()) < 1e-6
        True

    References:
        Korteweg and de Vries, Phil. Mag. 39 (1895) 422; Zabusky and Kruskal, Phys. Rev. Lett.
        15 (1965) 240; Kassam and Trefethen, SIAM J. Sci. Comput. 26 (2005) 1214.
    """

    grid: PeriodicGrid
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    alpha: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=6.0)
    beta: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)
    substeps: int = eqx.field(static=True, default=1)
    scheme: AbstractSemilinearScheme = ETDRK4()
    dealias_fraction: float = eqx.field(static=True, default=2 / 3)

    def __check_init__(self):
        check_periodic_grid(self.grid, 1, type(self).__name__)
        check_stepping(self)
        self.grid.dealias_mask(self.dealias_fraction)

    def linear_symbol(self) -> Complex[Array, " K"]:
        return -self.beta * self.grid.derivative_symbol(0, 3)

    def nonlinear_hat(self, u_hat: Complex[Array, "1 K"]) -> Complex[Array, "1 K"]:
        mask = self.grid.dealias_mask(self.dealias_fraction)
        u = self.grid.ifft(mask * u_hat)
        return -0.5 * self.alpha * self.grid.derivative_symbol(0) * mask * self.grid.fft(u * u)


@register_problem("kdv/solitons")
def kdv_solitons(
    num_points=256, *, domain_length=40.0, dt=1e-3, output_interval=0.05, num_frames=40
):
    r"""Two KdV solitons with random speeds $c \in [0.5, 4]$ and positions, overtaking and
    interacting: input the superposition, ``solve(u0)`` the trajectory ``(num_frames + 1, 1, N)``.

    Args:
        num_points: grid points.
        domain_length: the periodic interval $[-L/2, L/2)$.
        dt: the ETDRK4 step.
        output_interval: time between frames (a multiple of ``dt``).
        num_frames: frames after the input.
    """
    grid = PeriodicGrid(num_points, domain_length, origin=-domain_length / 2)
    stepper = KortewegDeVries1D(grid, output_interval, substeps=max(1, round(output_interval / dt)))
    (x,) = grid.coordinates()

    def sample(key):
        c = jr.uniform(jr.fold_in(key, 0), (2,), minval=0.5, maxval=4.0)
        x0 = jr.uniform(jr.fold_in(key, 1), (2,), minval=-0.5, maxval=0.5) * domain_length
        return sum(soliton(x, 0.0, c[i], x0[i], domain_length) for i in range(2))[None]

    return trajectory_problem(
        "kdv/solitons", stepper, sample, num_frames=num_frames,
        parameters={"equation": "u_t + 6 u u_x + u_xxx = 0, periodic"},
        reference="Zabusky and Kruskal, Phys. Rev. Lett. 15 (1965); two-soliton initial data",
    )  # fmt: skip


__all__ = ["KortewegDeVries1D", "soliton"]

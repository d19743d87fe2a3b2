r"""The Allen-Cahn phase-field equation on periodic grids (1-d, 2-d, 3-d)."""

import equinox as eqx
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


class AllenCahn(AbstractSemilinearStepper):
    r"""Allen-Cahn on a periodic box,

    $$\partial_t u = \varepsilon^2\Delta u + u - u^3,$$

    the $L^2$ gradient flow of $E(u) = \int \tfrac{\varepsilon^2}2|\nabla u|^2 +
    \tfrac14(1 - u^2)^2\,dx$: phases $u = \pm 1$ separated by interfaces
    $\tanh(x/(\sqrt2\varepsilon))$ that move by mean curvature (straight ones are stationary).
    $L = 1 - \varepsilon^2|k|^2$ is integrated exactly, $-u^3$ explicitly, dealiased on both
    sides of the product; the default fraction 1/2 makes a cubic product alias-free (as the 2/3
    rule does a quadratic one): interfaces are resolved to about $10^{-6}$ at $\varepsilon/\Delta x
    = 4$, to round-off at 10. Default scheme :class:`~pdejax.timestepping.ETDRK4` (fourth order; Kassam and
    Trefethen's example). The reaction sets the step, $\Delta t \lesssim 0.5$. Differentiable
    in the state, ``epsilon`` and ``dt``.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid(512, 2 * jnp.pi)
        >>> (x,) = grid.coordinates()
        >>> a = jnp.sqrt(2) * 0.1
        >>> u0 = (jnp.tanh((x - jnp.pi / 2) / a) * jnp.tanh((3 * jnp.pi / 2 - x) / a))[None]
        >>> u1 = AllenCahn(grid, epsilon=0.1, dt=0.5, substeps=10)(u0)
        >>> float(abs(u1 - u0).max()) < 1e-8  # two straight interfaces stay put
        True

    References:
        Allen and Cahn, Acta Metall. 27 (1979) 1085; Kassam and Trefethen, SIAM J. Sci.
        Comput. 26 (2005) 1214.
    """

    grid: PeriodicGrid
    epsilon: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    substeps: int = eqx.field(static=True, default=1)
    scheme: AbstractSemilinearScheme = ETDRK4()
    dealias_fraction: float = eqx.field(static=True, default=1 / 2)

    def __check_init__(self):
        check_periodic_grid(self.grid, (1, 2, 3), type(self).__name__)
        check_stepping(self)
        check_positive(self.epsilon, name="epsilon", who=type(self).__name__)
        self.grid.dealias_mask(self.dealias_fraction)

    def linear_symbol(self) -> Float[Array, "*modes"]:
        return 1 - self.epsilon**2 * self.grid.wavenumber_norm_squared()

    def nonlinear_hat(self, u_hat: Complex[Array, "1 *modes"]) -> Complex[Array, "1 *modes"]:
        mask = self.grid.dealias_mask(self.dealias_fraction)
        u = self.grid.ifft(mask * u_hat)
        return -mask * self.grid.fft(u**3)

    def energy(self, u: Float[Array, "1 *spatial"]) -> Float[Array, ""]:
        r"""The free energy $E(u)$ (spectral gradient), non-increasing along exact solutions.

        Example:
            >>> from pdejax import PeriodicGrid
            >>> float(AllenCahn(PeriodicGrid(8), 0.1, 0.1).energy(jnp.ones((1, 8))))
            0.0
        """
        grad2 = sum(g**2 for g in self.grid.gradient(u[0]))
        bulk = 0.5 * self.epsilon**2 * grad2 + 0.25 * (1 - u[0] ** 2) ** 2
        return jnp.sum(bulk) * self.grid.cell_volume


@register_problem("allen_cahn/2d")
def allen_cahn_2d(
    num_points=128, *, domain_length=1.0, epsilon=0.04, amplitude=0.5, dt=0.1,
    output_interval=1.0, num_frames=20,
):  # fmt: skip
    r"""Allen-Cahn 2-d coarsening from a random field: $u_0$ has standard deviation
    ``amplitude`` ($N(0, (-\Delta + 100 I)^{-2})$ rescaled), ``solve(u0)`` the trajectory
    ``(num_frames + 1, 1, N, N)``.

    Args:
        num_points: grid points per axis.
        domain_length: side of the square.
        epsilon: interface width $\varepsilon$.
        amplitude: standard deviation of $u_0$.
        dt: the ETDRK4 step.
        output_interval: time between frames (a multiple of ``dt``).
        num_frames: frames after the input.
    """
    grid = PeriodicGrid((num_points, num_points), domain_length)
    steps = max(1, round(output_interval / dt))
    stepper = AllenCahn(grid, epsilon, output_interval, substeps=steps)
    grf = GaussianRandomField(grid, sigma=1.0, tau=10.0 / domain_length, alpha=2.0)

    def sample(key):
        g = grf.sample(key)
        return (amplitude * g / jnp.std(g))[None]

    return trajectory_problem(
        "allen_cahn/2d", stepper, sample, num_frames=num_frames,
        parameters={"equation": "u_t = eps^2 Lap u + u - u^3, periodic", "epsilon": epsilon},
        reference="Allen and Cahn, Acta Metall. 27 (1979)",
    )  # fmt: skip


__all__ = ["AllenCahn"]

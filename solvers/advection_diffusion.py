r"""Linear advection-diffusion and the heat equation on periodic grids (1-d, 2-d, 3-d)."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from pdejax import GaussianRandomField, PeriodicGrid
from pdejax.core import check_positive
from pdejax.data import Problem, register_problem
from pdejax.timestepping import (
    ETDRK4,
    AbstractSemilinearScheme,
    AbstractSemilinearStepper,
    check_periodic_grid,
    check_stepping,
)

from .trajectory_problems import normalized, trajectory_problem


class AdvectionDiffusion(AbstractSemilinearStepper):
    r"""Advection-diffusion with a constant velocity $c$ on a periodic box,

    $$\partial_t u + c\cdot\nabla u = \nu\Delta u .$$

    Linear, so all of it is $L = -i\,c\cdot k - \nu|k|^2$ and the scheme's exponential
    integrates it exactly (any ETDRK; $\mathcal N = 0$): each Fourier mode is translated by
    $ct$ and damped by $e^{-\nu|k|^2t}$, exact to round-off for any ``dt``, no step limit.
    (An IMEX scheme would be second order and stable, not exact.) ``velocity`` has one entry per
    axis. Differentiable in the state, ``velocity``, ``nu`` and ``dt``.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid(32, 2 * jnp.pi)
        >>> (x,) = grid.coordinates()
        >>> u1 = AdvectionDiffusion(grid, velocity=[1.0], nu=0.1, dt=2.0)(jnp.sin(x)[None])
        >>> bool(jnp.allclose(u1[0], jnp.exp(-0.2) * jnp.sin(x - 2.0), atol=1e-12))
        True

    References:
        Trefethen, Spectral Methods in MATLAB (SIAM, 2000); Cox and Matthews, J. Comput. Phys.
        176 (2002) 430.
    """

    grid: PeriodicGrid
    velocity: Float[Array, " D"] = eqx.field(converter=jnp.asarray)
    nu: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    substeps: int = eqx.field(static=True, default=1)
    scheme: AbstractSemilinearScheme = ETDRK4()

    def __check_init__(self):
        who = type(self).__name__
        check_periodic_grid(self.grid, (1, 2, 3), who)
        check_stepping(self)
        check_positive(self.nu, name="nu", who=who, allow_zero=True)
        if jnp.shape(self.velocity) != (self.grid.ndim,):
            raise ValueError(
                f"{who}: `velocity` must have one entry per axis, shape ({self.grid.ndim},), "
                f"got shape {jnp.shape(self.velocity)}."
            )

    def linear_symbol(self) -> Complex[Array, "*modes"]:
        derivatives = [self.grid.derivative_symbol(i) for i in range(self.grid.ndim)]
        advection = sum(c * d for c, d in zip(self.velocity, derivatives))
        return -advection + self.nu * self.grid.laplacian_symbol()

    def nonlinear_hat(self, u_hat: Complex[Array, "1 *modes"]) -> Complex[Array, "1 *modes"]:
        return jnp.zeros_like(u_hat)


class Heat(AbstractSemilinearStepper):
    r"""The heat equation $\partial_t u = \nu\Delta u$ on a periodic box:
    $L = -\nu|k|^2$, integrated exactly by the scheme for any ``dt``
    (:class:`AdvectionDiffusion` with $c = 0$, without the complex arithmetic).
    Differentiable in the state, ``nu`` and ``dt``.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid((16, 16), 2 * jnp.pi)
        >>> x, y = grid.mesh()
        >>> u1 = Heat(grid, nu=0.5, dt=1.0)((jnp.sin(x) * jnp.cos(2 * y))[None])
        >>> bool(jnp.allclose(u1[0], jnp.exp(-2.5) * jnp.sin(x) * jnp.cos(2 * y), atol=1e-12))
        True
    """

    grid: PeriodicGrid
    nu: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    substeps: int = eqx.field(static=True, default=1)
    scheme: AbstractSemilinearScheme = ETDRK4()

    def __check_init__(self):
        check_periodic_grid(self.grid, (1, 2, 3), type(self).__name__)
        check_stepping(self)
        check_positive(self.nu, name="nu", who=type(self).__name__, allow_zero=True)

    def linear_symbol(self) -> Float[Array, "*modes"]:
        return self.nu * self.grid.laplacian_symbol()

    def nonlinear_hat(self, u_hat: Complex[Array, "1 *modes"]) -> Complex[Array, "1 *modes"]:
        return jnp.zeros_like(u_hat)


def _field(grid):
    return normalized(GaussianRandomField(grid, sigma=1.0, tau=3.0, alpha=2.0).sample)


@register_problem("heat/2d")
def heat_2d(num_points=64, *, domain_length=1.0, nu=0.01, final_time=1.0):
    r"""The 2-d heat equation as an operator: $u_0 \mapsto u(\cdot, T)$, $u_0$ a unit-variance
    random field $N(0, (-\Delta + 9I)^{-2})$; ``solve`` is one exact :class:`Heat` step.

    Args:
        num_points: grid points per axis.
        domain_length: side of the square.
        nu: diffusivity.
        final_time: $T$.
    """
    grid = PeriodicGrid((num_points, num_points), domain_length)
    sample = _field(grid)
    return Problem(
        "heat/2d", lambda key: sample(key)[None], Heat(grid, nu, final_time),
        parameters={"equation": "u_t = nu Lap u, periodic", "nu": nu, "final_time": final_time,
                    "num_points": num_points, "domain_length": domain_length},
        reference="exact in Fourier space", coordinates=grid.coordinates(),
    )  # fmt: skip


@register_problem("advection_diffusion/1d")
def advection_diffusion_1d(
    num_points=128, *, domain_length=1.0, velocity=1.0, nu=0.005, output_interval=0.05,
    num_frames=20,
):  # fmt: skip
    r"""1-d advection-diffusion trajectories from a unit-variance random field,
    ``solve(u0) -> (num_frames + 1, 1, N)``, each frame exact.

    Args:
        num_points: grid points.
        domain_length: $L$.
        velocity: $c$.
        nu: diffusivity.
        output_interval: time between frames (one exact step).
        num_frames: frames after the input.
    """
    grid = PeriodicGrid(num_points, domain_length)
    stepper = AdvectionDiffusion(grid, [velocity], nu, output_interval)
    sample = _field(grid)
    return trajectory_problem(
        "advection_diffusion/1d", stepper, lambda key: sample(key)[None], num_frames=num_frames,
        parameters={"equation": "u_t + c u_x = nu u_xx", "velocity": velocity, "nu": nu},
        reference="exact in Fourier space",
    )  # fmt: skip


__all__ = ["AdvectionDiffusion", "Heat"]

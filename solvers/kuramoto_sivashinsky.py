r"""The Kuramoto-Sivashinsky equation on periodic grids: 1-d convective form, 2-d gradient form."""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Complex, Float

from pdejax import GaussianRandomField, PeriodicGrid
from pdejax.data import register_problem
from pdejax.timestepping import (
    ETDRK4,
    AbstractSemilinearScheme,
    AbstractSemilinearStepper,
    check_periodic_grid,
    check_stepping,
)

from .trajectory_problems import normalized, trajectory_problem

_REFERENCES = (
    "Kuramoto and Tsuzuki, Prog. Theor. Phys. 55 (1976); Sivashinsky, Acta Astronaut. 4 (1977); "
    "Kassam and Trefethen, SIAM J. Sci. Comput. 26 (2005); Kalogirou et al., Proc. R. Soc. A 471 "
    "(2015) (2-d)"
)


class KuramotoSivashinsky1D(AbstractSemilinearStepper):
    r"""Kuramoto-Sivashinsky on a periodic interval, convective form,

    $$\partial_t u + u\,\partial_x u + \partial_{xx} u + \partial_{xxxx} u = 0.$$

    Pseudo-spectral: $L = k^2 - k^4$ (modes $|k| < 1$ grow, shorter ones decay) is integrated
    exactly, $-\tfrac12\partial_x(u^2)$ explicitly by the scheme (default
    :class:`~pdejax.timestepping.ETDRK4`, fourth order: the linear part is stiff, $k^4$, so an
    exponential integrator takes steps set by the nonlinear time scale alone, about
    ``dt`` $\le 0.5$ on the attractor). The product is dealiased on both sides (``u`` truncated
    to ``dealias_fraction`` of the modes before squaring, the square after). The mean of $u$ is
    conserved exactly; chaotic for domains $L \gtrsim 22$. Differentiable in the state and
    ``dt``; ``grid``, ``substeps``, ``scheme`` and ``dealias_fraction`` are static.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid, rollout
        >>> grid = PeriodicGrid(64, 22.0)
        >>> (x,) = grid.coordinates()
        >>> traj = rollout(KuramotoSivashinsky1D(grid, dt=0.25), jnp.cos(2 * jnp.pi * x / 22)[None], 8)
        >>> traj.shape, abs(float(traj[-1].mean())) < 1e-12
        ((8, 1, 64), True)

    References:
        Kuramoto and Tsuzuki, Prog. Theor. Phys. 55 (1976) 356; Sivashinsky, Acta Astronaut. 4
        (1977) 1177; Kassam and Trefethen, SIAM J. Sci. Comput. 26 (2005) 1214 (ETDRK4 here).
    """

    grid: PeriodicGrid
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    substeps: int = eqx.field(static=True, default=1)
    scheme: AbstractSemilinearScheme = ETDRK4()
    dealias_fraction: float = eqx.field(static=True, default=2 / 3)

    def __check_init__(self):
        check_periodic_grid(self.grid, 1, type(self).__name__)
        check_stepping(self)
        self.grid.dealias_mask(self.dealias_fraction)  # raises on a bad fraction or coarse grid

    def linear_symbol(self) -> Float[Array, " K"]:
        k2 = self.grid.wavenumber_norm_squared()
        return k2 - k2**2

    def nonlinear_hat(self, u_hat: Complex[Array, "1 K"]) -> Complex[Array, "1 K"]:
        mask = self.grid.dealias_mask(self.dealias_fraction)
        u = self.grid.ifft(mask * u_hat)
        return -0.5 * self.grid.derivative_symbol(0) * mask * self.grid.fft(u * u)


class KuramotoSivashinsky2D(AbstractSemilinearStepper):
    r"""Kuramoto-Sivashinsky on a periodic rectangle, gradient ("combustion") form,

    $$\partial_t u + \Delta u + \Delta^2 u + \tfrac12|\nabla u|^2 - \tfrac12\langle|\nabla u|^2\rangle = 0.$$

    The gradient form is the one that stays a scalar equation in 2-d (the 1-d convective form is
    its $x$-derivative, $v = u_x$) and $\Delta^2$ keeps it isotropic. The spatial mean
    $\langle\cdot\rangle$ of the nonlinear term is removed: the mean of $u$ does not feed back
    on the dynamics and would otherwise drift without bound, so the state is $u - \bar u(t)$
    (its mean stays that of $u_0$). Scheme, dealiasing (both sides of the product) and step
    limits as :class:`KuramotoSivashinsky1D`; $L = |k|^2 - |k|^4$. Differentiable in the state
    and ``dt``.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid((32, 32), 20.0)
        >>> x, y = grid.mesh()
        >>> u1 = KuramotoSivashinsky2D(grid, dt=0.1)(jnp.sin(2 * jnp.pi * (x + y) / 20)[None])
        >>> u1.shape, abs(float(u1.mean())) < 1e-12
        ((1, 32, 32), True)

    References:
        Kalogirou, Keaveny and Papageorgiou, Proc. R. Soc. A 471 (2015) 20140932 (the 2-d
        equation); Kassam and Trefethen, SIAM J. Sci. Comput. 26 (2005) 1214.
    """

    grid: PeriodicGrid
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    substeps: int = eqx.field(static=True, default=1)
    scheme: AbstractSemilinearScheme = ETDRK4()
    dealias_fraction: float = eqx.field(static=True, default=2 / 3)

    def __check_init__(self):
        check_periodic_grid(self.grid, 2, type(self).__name__)
        check_stepping(self)
        self.grid.dealias_mask(self.dealias_fraction)

    def linear_symbol(self) -> Float[Array, "Kx Ky"]:
        k2 = self.grid.wavenumber_norm_squared()
        return k2 - k2**2

    def nonlinear_hat(self, u_hat: Complex[Array, "1 Kx Ky"]) -> Complex[Array, "1 Kx Ky"]:
        grid, mask = self.grid, self.grid.dealias_mask(self.dealias_fraction)
        grad2 = sum(grid.ifft(grid.derivative_symbol(i) * mask * u_hat) ** 2 for i in range(2))
        return (-0.5 * mask * grid.fft(grad2)).at[..., 0, 0].set(0)


def _ks_problem(name, stepper_class, ndim, num_points, domain_length, dt, output_interval,
                num_frames, warmup_frames):  # fmt: skip
    grid = PeriodicGrid((num_points,) * ndim, domain_length)
    substeps = max(1, round(output_interval / dt))
    stepper = stepper_class(grid, output_interval, substeps=substeps)
    grf = GaussianRandomField(grid, sigma=1.0, tau=1.0, alpha=2.0)
    return trajectory_problem(
        name, stepper, lambda key: normalized(grf.sample)(key)[None], num_frames=num_frames,
        warmup=warmup_frames, parameters={"equation": stepper_class.__name__}, reference=_REFERENCES,
    )  # fmt: skip


@register_problem("ks/1d")
def ks_1d(num_points=128, *, domain_length=64.0, dt=0.25, output_interval=1.0, num_frames=100,
          warmup_frames=200):  # fmt: skip
    r"""Kuramoto-Sivashinsky 1-d trajectories on the chaotic attractor: a unit-variance random
    field $N(0, (-\Delta + I)^{-2})$ advanced ``warmup_frames`` intervals is the input,
    ``solve(u0)`` the trajectory ``(num_frames + 1, 1, N)``.

    Args:
        num_points: grid points (per axis).
        domain_length: $L$ (chaotic above about 22 in 1-d).
        dt: the ETDRK4 step.
        output_interval: time between frames (a multiple of ``dt``).
        num_frames: frames after the input.
        warmup_frames: intervals discarded before the input (the transient).
    """
    return _ks_problem("ks/1d", KuramotoSivashinsky1D, 1, num_points, domain_length, dt,
                       output_interval, num_frames, warmup_frames)  # fmt: skip


@register_problem("ks/2d")
def ks_2d(num_points=64, *, domain_length=30.0, dt=0.1, output_interval=0.5, num_frames=40,
          warmup_frames=40):  # fmt: skip
    """Kuramoto-Sivashinsky 2-d (gradient form) trajectories, as ``"ks/1d"`` on a square.

    Args:
        num_points, domain_length, dt, output_interval, num_frames, warmup_frames: as ``"ks/1d"``.
    """
    return _ks_problem("ks/2d", KuramotoSivashinsky2D, 2, num_points, domain_length, dt,
                       output_interval, num_frames, warmup_frames)  # fmt: skip


__all__ = ["KuramotoSivashinsky1D", "KuramotoSivashinsky2D"]

r"""Diagnostics of a 3-d velocity state ``(3, Nx, Ny, Nz)`` on a periodic box $D$.

Conventions: every quantity is a *mean over the box* (per unit volume and mass), as in the
turbulence and Taylor-Green literature, so the numbers do not depend on $|D|$:

- kinetic energy $E = \tfrac12\langle|u|^2\rangle$, enstrophy $\mathcal E = \tfrac12\langle|\omega|^2\rangle$;
- dissipation rate $\epsilon = 2\nu\langle S_{ij}S_{ij}\rangle$, $S = \tfrac12(\nabla u + \nabla u^T)$,
  which for a periodic divergence-free field equals $\nu\langle|\omega|^2\rangle = 2\nu\mathcal E$;
- forcing power $P = \langle u\cdot f(u)\rangle$;

so that $dE/dt = P - \epsilon$ for :class:`~pdejax.solvers.NavierStokes3D`. Integrals are
evaluated in Fourier space (Parseval), exact for the grid's trigonometric interpolant. Each
function takes one unbatched state; ``jax.vmap`` over a batch or a trajectory.

Example (the Taylor-Green vortex: $E = 1/8$, $\langle|\omega|^2\rangle = 3/4$):
    >>> import jax.numpy as jnp
    >>> from pdejax import PeriodicGrid
    >>> from pdejax.solvers import kinetic_energy_3d, dissipation_rate, taylor_green_velocity
    >>> grid = PeriodicGrid(16, 2 * jnp.pi, ndim=3)
    >>> u = taylor_green_velocity(grid)
    >>> round(float(kinetic_energy_3d(grid, u)), 6), round(float(dissipation_rate(grid, u, 1.0)), 6)
    (0.125, 0.75)
"""

import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from pdejax import PeriodicGrid
from pdejax.core.types import ScalarLike

Velocity = Float[Array, "3 Nx Ny Nz"]


def _dtype(u):
    return u.dtype if jnp.issubdtype(u.dtype, jnp.floating) else jnp.result_type(float)


def _k(grid: PeriodicGrid, dtype):
    """Wavenumbers of the first derivative (0 on Nyquist modes, as ``grid.derivative``)."""
    return tuple(jnp.imag(grid.derivative_symbol(i)).astype(dtype) for i in range(grid.ndim))


def _mean_weights(grid: PeriodicGrid, dtype):
    """Per-mode factor turning $\\hat a\\bar{\\hat b}$ into its share of $\\langle ab\\rangle$:
    multiplicity (2 for the rfft's conjugate pairs) over $N^2$ ($N$ the number of points)."""
    nz = grid.num_points[-1]
    m = np.arange(nz // 2 + 1)
    w = np.where((m == 0) | ((nz % 2 == 0) & (m == nz // 2)), 1.0, 2.0)
    return jnp.asarray(w / math.prod(grid.num_points) ** 2, dtype)


def _mean(grid, a_hat, b_hat, dtype):
    """$\\langle a b\\rangle$ from rfft coefficients (summed over leading channel axes)."""
    return jnp.sum(_mean_weights(grid, dtype) * jnp.real(a_hat * jnp.conj(b_hat)))


def _curl_hat(k, u_hat):
    kx, ky, kz = k
    return 1j * jnp.stack([ky * u_hat[2] - kz * u_hat[1],
                           kz * u_hat[0] - kx * u_hat[2],
                           kx * u_hat[1] - ky * u_hat[0]])  # fmt: skip


def vorticity_3d(grid: PeriodicGrid, u: Velocity) -> Velocity:
    r"""$\omega = \nabla\times u$, spectrally.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.solvers import abc_velocity
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> u = abc_velocity(grid, 1.0, 0.5, 0.25)
        >>> bool(jnp.allclose(vorticity_3d(grid, u), u, atol=1e-5))  # a Beltrami field
        True
    """
    dtype = _dtype(u)
    return grid.ifft(_curl_hat(_k(grid, dtype), grid.fft(u))).astype(dtype)


def kinetic_energy_3d(grid: PeriodicGrid, u: Velocity) -> Float[Array, ""]:
    r"""$E = \tfrac12\langle|u|^2\rangle$, the mean over the box.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> float(kinetic_energy_3d(grid, jnp.ones((3, 8, 8, 8))))
        1.5
    """
    u_hat = grid.fft(u)
    return 0.5 * _mean(grid, u_hat, u_hat, _dtype(u))


def enstrophy_3d(grid: PeriodicGrid, u: Velocity) -> Float[Array, ""]:
    r"""$\mathcal E = \tfrac12\langle|\omega|^2\rangle$ (with the 1/2, as in the Taylor-Green
    literature; $\epsilon = 2\nu\mathcal E$ for divergence-free $u$).

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.solvers import taylor_green_velocity
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> round(float(enstrophy_3d(grid, taylor_green_velocity(grid))), 6)  # 3/8
        0.375
    """
    dtype = _dtype(u)
    w_hat = _curl_hat(_k(grid, dtype), grid.fft(u))
    return 0.5 * _mean(grid, w_hat, w_hat, dtype)


def dissipation_rate(grid: PeriodicGrid, u: Velocity, nu: ScalarLike) -> Float[Array, ""]:
    r"""$\epsilon = 2\nu\langle S_{ij}S_{ij}\rangle = \nu\langle|\nabla u|^2 + (\nabla\cdot u)^2\rangle$
    (per mode $\nu(|k|^2|\hat u|^2 + |k\cdot\hat u|^2)$); equal to $\nu\langle|\omega|^2\rangle$
    when $u$ is divergence-free. The Nyquist modes of even axes (where the grid defines no first
    derivative) count with their full $|k|^2$: exactly the viscous decay the solver applies to
    them, so that $dE/dt = P - \epsilon$ holds for any state.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.solvers import taylor_green_velocity
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> round(float(dissipation_rate(grid, taylor_green_velocity(grid), 1 / 1600)), 8)  # 3 nu / 4
        0.00046875
    """
    dtype = _dtype(u)
    u_hat = grid.fft(u)
    k2 = sum(ki.astype(dtype) ** 2 for ki in grid.wavenumbers())
    div = sum(ki * ui for ki, ui in zip(_k(grid, dtype), u_hat))
    gradients = _mean(grid, k2 * u_hat, u_hat, dtype)
    return jnp.asarray(nu, dtype) * (gradients + _mean(grid, div, div, dtype))


def divergence_rms(grid: PeriodicGrid, u: Velocity) -> Float[Array, ""]:
    r"""$\langle(\nabla\cdot u)^2\rangle^{1/2}$, spectrally (round-off for a solver state).

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> x, y, z = grid.mesh()
        >>> round(float(divergence_rms(grid, jnp.stack([jnp.sin(x), 0 * y, 0 * z]))), 6)  # cos x
        0.707107
    """
    dtype = _dtype(u)
    div = sum(ki * ui for ki, ui in zip(_k(grid, dtype), grid.fft(u)))
    return jnp.sqrt(_mean(grid, div, div, dtype))


def max_cfl_3d(grid: PeriodicGrid, u: Velocity, dt: ScalarLike) -> Float[Array, ""]:
    r"""$\Delta t\,\max_x\sum_i|u_i|/\Delta x_i$, the advective CFL number.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> round(float(max_cfl_3d(grid, jnp.ones((3, 8, 8, 8)), 0.1)), 5)  # 0.1 * 3 / (2 pi / 8)
        0.38197
    """
    dtype = _dtype(u)
    speed = sum(jnp.abs(u[i]) / h for i, h in enumerate(grid.spacing))
    return jnp.asarray(dt, dtype) * jnp.max(speed)


def forcing_power_3d(grid: PeriodicGrid, u: Velocity, forcing) -> Float[Array, ""]:
    r"""$P = \langle u\cdot f(u)\rangle$ for an :class:`~pdejax.solvers.AbstractForcing3D`.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.solvers import LinearForcing, taylor_green_velocity
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> u = taylor_green_velocity(grid)
        >>> round(float(forcing_power_3d(grid, u, LinearForcing(0.2))), 6)  # 2 A E = 0.4 / 8
        0.05
    """
    dtype = _dtype(u)
    u_hat = grid.fft(u)
    f_hat = jnp.zeros_like(u_hat)
    s = forcing.linear_symbol(grid, dtype)
    if s is not None:
        f_hat = f_hat + s * u_hat
    c = forcing.constant_hat(grid, dtype)
    if c is not None:
        f_hat = f_hat + c
    return _mean(grid, u_hat, f_hat, dtype)


def energy_spectrum_3d(
    grid: PeriodicGrid, u: Velocity
) -> tuple[Float[Array, " K"], Float[Array, " K"]]:
    r"""Shell-summed energy spectrum $E(k)$ with $\sum_k E(k) = E$.

    Shell $j$ holds the modes with $\operatorname{round}(|k|/\Delta k) = j$,
    $\Delta k = 2\pi/\max_i L_i$. Returns ``(k, E)``: the shell wavenumbers $j\Delta k$ and the
    (mean) kinetic energy in each shell.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.solvers import taylor_green_velocity
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> k, e = energy_spectrum_3d(grid, taylor_green_velocity(grid))
        >>> float(k[jnp.argmax(e)]), round(float(e.sum()), 6)  # all at |k| = sqrt 3, rounded to 2
        (2.0, 0.125)
    """
    dtype = _dtype(u)
    u_hat = grid.fft(u)
    e_mode = 0.5 * _mean_weights(grid, dtype) * jnp.sum(jnp.abs(u_hat) ** 2, axis=0)
    dk = 2 * np.pi / max(grid.domain_length)
    # shell indices computed on the device from the 1-d wavenumbers (no grid-sized constant)
    k = tuple(ki.astype(dtype) for ki in grid.wavenumbers())
    shell = jnp.rint(jnp.sqrt(sum(ki**2 for ki in k)) / dk).astype(jnp.int32)
    k_max = math.sqrt(sum(float(np.max(np.abs(np.asarray(ki)))) ** 2 for ki in grid.wavenumbers()))
    num_shells = round(k_max / dk) + 1
    shell = jnp.broadcast_to(shell, e_mode.shape)
    energy = jnp.zeros(num_shells, e_mode.dtype).at[shell.ravel()].add(e_mode.ravel())
    return jnp.asarray(dk * np.arange(num_shells), dtype), energy


__all__ = [
    "dissipation_rate",
    "divergence_rms",
    "energy_spectrum_3d",
    "enstrophy_3d",
    "forcing_power_3d",
    "kinetic_energy_3d",
    "max_cfl_3d",
    "vorticity_3d",
]

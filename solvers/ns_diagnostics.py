r"""Diagnostics of a 2-d vorticity state ``(1, Nx, Ny)`` on a periodic rectangle $D$.

Conventions (so that the energy budget reads exactly as below):

- $u = (\partial_y\psi, -\partial_x\psi)$, $-\Delta\psi = \omega$ (zero-mean $\psi$);
- kinetic energy $E = \tfrac12\int_D |u|^2\,dx$;
- enstrophy $Z = \int_D \omega^2\,dx$ (*without* the customary 1/2);
- forcing power $P = \int_D u\cdot F\,dx = \int_D \psi f\,dx$ for the velocity forcing $F$ with
  $\nabla\times F = f$;

so that, for $\partial_t\omega + u\cdot\nabla\omega = \nu\Delta\omega - \alpha\omega + f$,
$\;dE/dt = P - \nu Z - 2\alpha E$. Integrals are computed in Fourier space (Parseval), exact for
the grid's trigonometric interpolant. Each function takes one unbatched state; ``jax.vmap``
over a batch or a trajectory.

Example:
    >>> import jax.numpy as jnp
    >>> from pdejax import PeriodicGrid
    >>> from pdejax.solvers import kinetic_energy, enstrophy
    >>> grid = PeriodicGrid((16, 16), 2 * jnp.pi)
    >>> x, y = grid.mesh()
    >>> w = (2 * jnp.sin(x) * jnp.sin(y))[None]   # psi = sin x sin y, |u|^2 averages to 1/2
    >>> area = (2 * jnp.pi) ** 2
    >>> round(float(kinetic_energy(grid, w) / area), 5), round(float(enstrophy(grid, w) / area), 5)
    (0.25, 1.0)
"""

import math

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from pdejax import PeriodicGrid
from pdejax.core.types import ScalarLike

from ._packed_fft import hermitian_extension, velocity_packed

VorticityState = Float[Array, "1 Nx Ny"]


def _rfft_weights(grid: PeriodicGrid) -> np.ndarray:
    """Multiplicity of each rfft mode in the full spectrum (2 for the conjugate pairs)."""
    ny = grid.num_points[-1]
    my = np.arange(ny // 2 + 1)
    w = np.where((my == 0) | ((ny % 2 == 0) & (my == ny // 2)), 1.0, 2.0)
    return w[None, :]


def _parseval(grid: PeriodicGrid, a_hat, b_hat) -> Float[Array, "Nx Nyh"]:
    r"""Per-mode contributions to $\int_D a b\,dx$ from rfft coefficients."""
    n = math.prod(grid.num_points)
    scale = grid.volume / n**2
    return scale * _rfft_weights(grid) * jnp.real(a_hat * jnp.conj(b_hat))


def _inverse_k2(grid: PeriodicGrid, dtype):
    k2 = grid.wavenumber_norm_squared().astype(dtype)
    return jnp.where(k2 == 0, 0, 1 / jnp.where(k2 == 0, 1, k2))


def _dtype(w):
    return jnp.result_type(w, float) if not jnp.issubdtype(w.dtype, jnp.floating) else w.dtype


def streamfunction(grid: PeriodicGrid, w: VorticityState) -> VorticityState:
    r"""The zero-mean $\psi$ with $-\Delta\psi = \omega$ (the mean of $\omega$ is ignored).

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid((16, 16), 2 * jnp.pi)
        >>> x, y = grid.mesh()
        >>> w = (2 * jnp.sin(x) * jnp.sin(y))[None]  # Taylor-Green: psi = sin x sin y
        >>> bool(jnp.allclose(streamfunction(grid, w)[0], jnp.sin(x) * jnp.sin(y), atol=1e-6))
        True
    """
    return grid.ifft(_inverse_k2(grid, _dtype(w)) * grid.fft(w)).astype(_dtype(w))


def velocity(grid: PeriodicGrid, w: VorticityState) -> Float[Array, "2 Nx Ny"]:
    r"""$u = (\partial_y\psi, -\partial_x\psi)$, divergence-free by construction.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid((16, 16), 2 * jnp.pi)
        >>> x, y = grid.mesh()
        >>> w = (2 * jnp.sin(x) * jnp.sin(y))[None]  # Taylor-Green: psi = sin x sin y
        >>> u, v = velocity(grid, w)
        >>> bool(jnp.allclose(u, jnp.sin(x) * jnp.cos(y), atol=1e-6))
        True
    """
    dtype = _dtype(w)
    z = _velocity_complex(grid, w, dtype)
    return jnp.stack([jnp.real(z), jnp.imag(z)]).astype(dtype)


def _velocity_complex(grid: PeriodicGrid, w: VorticityState, dtype):
    """$u + i v$: both components from one complex inverse transform."""
    w_full = hermitian_extension(grid.fft(w[0]), grid.num_points[1])
    return velocity_packed(grid, w_full, dtype)


def kinetic_energy(grid: PeriodicGrid, w: VorticityState) -> Float[Array, ""]:
    r"""$E = \tfrac12\int_D|u|^2\,dx = \tfrac12\int_D \psi\omega\,dx$.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid((16, 16), 2 * jnp.pi)
        >>> x, y = grid.mesh()
        >>> w = (2 * jnp.sin(x) * jnp.sin(y))[None]  # Taylor-Green: psi = sin x sin y
        >>> round(float(kinetic_energy(grid, w) / (2 * jnp.pi) ** 2), 6)  # mean |u|^2 / 2
        0.25
    """
    w_hat = grid.fft(w[0])
    psi_hat = _inverse_k2(grid, _dtype(w)) * w_hat
    return 0.5 * jnp.sum(_parseval(grid, psi_hat, w_hat))


def enstrophy(grid: PeriodicGrid, w: VorticityState) -> Float[Array, ""]:
    r"""$Z = \int_D\omega^2\,dx$ (no factor 1/2, see the module docstring).

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid((16, 16), 2 * jnp.pi)
        >>> x, y = grid.mesh()
        >>> w = (2 * jnp.sin(x) * jnp.sin(y))[None]  # Taylor-Green: psi = sin x sin y
        >>> round(float(enstrophy(grid, w) / (2 * jnp.pi) ** 2), 6)  # mean of w^2
        1.0
    """
    w_hat = grid.fft(w[0])
    return jnp.sum(_parseval(grid, w_hat, w_hat))


def forcing_power(
    grid: PeriodicGrid, w: VorticityState, forcing: Float[Array, "Nx Ny"]
) -> Float[Array, ""]:
    r"""$P = \int_D u\cdot F\,dx = \int_D\psi f\,dx$: the rate at which the forcing adds energy.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid((16, 16), 2 * jnp.pi)
        >>> x, y = grid.mesh()
        >>> w = (2 * jnp.sin(x) * jnp.sin(y))[None]  # Taylor-Green: psi = sin x sin y
        >>> round(float(forcing_power(grid, w, w[0]) / (2 * jnp.pi) ** 2), 6)  # f = w
        0.5
    """
    psi_hat = _inverse_k2(grid, _dtype(w)) * grid.fft(w[0])
    return jnp.sum(_parseval(grid, psi_hat, grid.fft(forcing)))


def max_cfl(grid: PeriodicGrid, w: VorticityState, dt: ScalarLike) -> Float[Array, ""]:
    r"""$\Delta t\,\max_x(|u|/\Delta x + |v|/\Delta y)$, the advective CFL number.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid((16, 16), 2 * jnp.pi)
        >>> x, y = grid.mesh()
        >>> w = (2 * jnp.sin(x) * jnp.sin(y))[None]  # Taylor-Green: psi = sin x sin y
        >>> round(float(max_cfl(grid, w, 0.1)), 5)  # 0.1 * max(|u| + |v|) / (2 pi / 16)
        0.25465
    """
    dtype = _dtype(w)
    z = _velocity_complex(grid, w, dtype)  # u + i v
    dx, dy = grid.spacing
    return jnp.asarray(dt, dtype) * jnp.max(jnp.abs(jnp.real(z)) / dx + jnp.abs(jnp.imag(z)) / dy)


def energy_spectrum(
    grid: PeriodicGrid, w: VorticityState
) -> tuple[Float[Array, " K"], Float[Array, " K"]]:
    r"""Shell-summed kinetic energy spectrum $E(k)$, with $\sum_k E(k) = E$.

    Shell $j$ collects the modes with $\operatorname{round}(|k|/\Delta k) = j$,
    $\Delta k = 2\pi/\max_i L_i$. Returns ``(k, E)``: the shell wavenumbers $j\Delta k$ and the
    energy in each shell.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid((16, 16), 2 * jnp.pi)
        >>> x, y = grid.mesh()
        >>> w = (2 * jnp.sin(x) * jnp.sin(y))[None]  # Taylor-Green: psi = sin x sin y
        >>> k, e = energy_spectrum(grid, w)
        >>> float(k[jnp.argmax(e)]), bool(jnp.isclose(e.sum(), kinetic_energy(grid, w)))
        (1.0, True)
    """
    dtype = _dtype(w)
    w_hat = grid.fft(w[0])
    e_mode = 0.5 * _parseval(grid, _inverse_k2(grid, dtype) * w_hat, w_hat)
    kx, ky = (np.asarray(k) for k in grid.wavenumbers())
    dk = 2 * np.pi / max(grid.domain_length)
    shell = np.rint(np.sqrt(kx**2 + ky**2) / dk).astype(int)
    num_shells = int(shell.max()) + 1
    energy = jnp.zeros(num_shells, e_mode.dtype).at[jnp.asarray(shell.ravel())].add(e_mode.ravel())
    return jnp.asarray(dk * np.arange(num_shells), dtype), energy


__all__ = [
    "energy_spectrum",
    "enstrophy",
    "forcing_power",
    "kinetic_energy",
    "max_cfl",
    "streamfunction",
    "velocity",
]

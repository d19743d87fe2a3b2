r"""Error metrics and spectra on single samples (``vmap`` over a batch, then average).

The FNO paper's metric is the per-sample relative $L^2$ error
$\|\hat u - u\|_2 / \|u\|_2$, averaged over the test set: :func:`relative_l2`.
"""

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from .periodic import PeriodicGrid


def relative_l2(
    prediction: Float[Array, "..."], target: Float[Array, "..."], *, eps: float = 0.0
) -> Float[Array, ""]:
    r"""$\|\hat u - u\|_2 / \|u\|_2$ over all axes of one sample (Li et al., ICLR 2021).

    ``eps`` is added to the denominator (use a small value as a loss on data that can vanish).

    Example:
        >>> import jax.numpy as jnp
        >>> round(float(relative_l2(jnp.array([1.0, 1.0]), jnp.array([1.0, 0.0]))), 6)
        1.0
    """
    if jnp.shape(prediction) != jnp.shape(target):
        raise ValueError(
            f"relative_l2: `prediction` {jnp.shape(prediction)} and `target` "
            f"{jnp.shape(target)} must have the same shape (one sample; vmap for a batch)."
        )
    diff = jnp.sqrt(jnp.sum((prediction - target) ** 2))
    return diff / (jnp.sqrt(jnp.sum(target**2)) + eps)


def h1_seminorm(u: Float[Array, "C *spatial"], grid: PeriodicGrid) -> Float[Array, ""]:
    r"""$|u|_{H^1} = \|\nabla u\|_{L^2(D)}$, spectrally: $(\,|D| \sum_m |k_m|^2 |\hat u_m|^2)^{1/2}$.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> g = PeriodicGrid(32, 2 * jnp.pi)
        >>> x, = g.coordinates()
        >>> round(float(h1_seminorm(jnp.sin(3 * x)[None], g) ** 2 / jnp.pi), 6)  # 9 pi
        9.0
    """
    u_hat = grid.fft(u)
    weight = _rfft_weights(grid)
    n = np.prod(grid.num_points)
    energy = jnp.sum(weight * grid.wavenumber_norm_squared() * jnp.abs(u_hat) ** 2)
    return jnp.sqrt(energy * grid.volume) / n


def h1_error(
    prediction: Float[Array, "C *spatial"], target: Float[Array, "C *spatial"], grid: PeriodicGrid
) -> Float[Array, ""]:
    r"""Relative $H^1$-seminorm error $|\hat u - u|_{H^1} / |u|_{H^1}$ on a periodic grid.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> g = PeriodicGrid(32, 2 * jnp.pi)
        >>> x, = g.coordinates()
        >>> u = jnp.sin(x)[None]
        >>> round(float(h1_error(u + 0.1 * jnp.sin(2 * x), u, g)), 6)  # |0.1 sin 2x| / |sin x|
        0.2
    """
    return h1_seminorm(prediction - target, grid) / h1_seminorm(target, grid)


def _rfft_weights(grid: PeriodicGrid) -> Float[Array, "*modes"]:
    """Multiplicity of each rfftn coefficient in the full spectrum (2, or 1 for self-conjugate)."""
    n = grid.num_points[-1]
    w = np.full(n // 2 + 1, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * (grid.ndim - 1) + [n // 2 + 1]
    return jnp.asarray(w.reshape(shape))


def energy_spectrum(
    u: Float[Array, "C *spatial"], grid: PeriodicGrid
) -> tuple[Float[Array, " K"], Float[Array, " K"]]:
    r"""Shell-summed spectral energy $E(k)$ with $\sum_k E(k) = \frac{1}{2|D|}\int_D |u|^2$.

    Shells are integer multiples of the smallest wavenumber $2\pi/\max_i L_i$; all channels
    are summed (pass a velocity field with one channel per axis to get the kinetic-energy
    spectrum). Returns the shell wavenumbers and the energy in each.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> g = PeriodicGrid(32, 2 * jnp.pi)
        >>> x, = g.coordinates()
        >>> k, e = energy_spectrum(jnp.sin(3 * x)[None], g)
        >>> int(k[jnp.argmax(e)]), round(float(e.sum()), 6)
        (3, 0.25)
    """
    n = np.prod(grid.num_points)
    u_hat = grid.fft(u)
    density = 0.5 * _rfft_weights(grid) * jnp.sum(jnp.abs(u_hat) ** 2, axis=0) / n**2
    dk = 2 * np.pi / max(grid.domain_length)
    shell = jnp.rint(jnp.sqrt(grid.wavenumber_norm_squared()) / dk).astype(jnp.int32)
    num_shells = (
        int(
            np.ceil(
                np.sqrt(
                    sum((np.pi * m / L) ** 2 for m, L in zip(grid.num_points, grid.domain_length))
                )
                / dk
            )
        )
        + 1
    )
    energy = jnp.zeros(num_shells, density.dtype).at[shell.ravel()].add(density.ravel())
    return jnp.arange(num_shells) * dk, energy

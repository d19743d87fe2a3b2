r"""The FFT layer: every spectral transform in pdejax goes through these functions.

Transforms act on the trailing ``ndim`` axes of an array ``(..., *spatial)`` with numpy's
conventions (unnormalised forward transform unless ``norm`` says otherwise; ``rfftn`` keeps the
non-negative half of the last axis). Solvers (through :class:`pdejax.PeriodicGrid`) and the
spectral convolution of the FNO call these, never ``jnp.fft`` directly, so that one place
decides how a transform runs.

Example:
    >>> import jax.numpy as jnp
    >>> from pdejax.grids import fft
    >>> u = jnp.arange(8.0).reshape(1, 2, 4)
    >>> bool(jnp.allclose(fft.irfftn(fft.rfftn(u, 2), (2, 4)), u))
    True
"""

import jax.numpy as jnp
from jaxtyping import Array, Complex, Float


def _axes(ndim: int) -> tuple[int, ...]:
    return tuple(range(-ndim, 0))


def rfftn(u: Float[Array, "..."], ndim: int, *, norm: str | None = None) -> Complex[Array, "..."]:
    """Real-to-complex transform of the trailing ``ndim`` axes (``rfftn`` layout)."""
    return jnp.fft.rfftn(u, axes=_axes(ndim), norm=norm)


def irfftn(
    u_hat: Complex[Array, "..."], shape: tuple[int, ...], *, norm: str | None = None
) -> Float[Array, "..."]:
    """Inverse of :func:`rfftn`; ``shape`` is the spatial shape of the result."""
    return jnp.fft.irfftn(u_hat, s=tuple(shape), axes=_axes(len(shape)), norm=norm)


def fftn(z: Complex[Array, "..."], ndim: int, *, norm: str | None = None) -> Complex[Array, "..."]:
    """Complex transform of the trailing ``ndim`` axes."""
    return jnp.fft.fftn(z, axes=_axes(ndim), norm=norm)


def ifftn(z: Complex[Array, "..."], ndim: int, *, norm: str | None = None) -> Complex[Array, "..."]:
    """Inverse of :func:`fftn`."""
    return jnp.fft.ifftn(z, axes=_axes(ndim), norm=norm)


__all__ = ["fftn", "ifftn", "irfftn", "rfftn"]

r"""Uniform grids on periodic boxes, with the spectral calculus of ``rfftn``."""

import math
from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float

from . import fft as _fft
from .axes import grid_axes, per_axis

_WHO = "PeriodicGrid"


def _per_axis(value, ndim: int, name: str, cast) -> tuple:
    return per_axis(value, ndim, name, cast, _WHO)


class PeriodicGrid(eqx.Module):
    r"""A uniform grid on the periodic box $\prod_i [x_{0,i}, x_{0,i} + L_i)$ in 1, 2 or 3 dimensions.

    Point $j$ along axis $i$ sits at $x_{0,i} + j L_i / N_i$ (the right end is the left end).
    Fields are arrays whose *trailing* ``ndim`` axes are spatial, so a state ``(C, *spatial)``
    and a scalar field ``(*spatial)`` are both accepted. Spectral coefficients use the
    ``jnp.fft.rfftn`` layout over those axes: full frequencies on all but the last axis, the
    non-negative half on the last.

    All fields are static metadata: a grid is a compile-time constant of the model holding it.

    Transforms go through :mod:`pdejax.grids.fft`: a field sharded over devices along its
    spatial axes (all but the last, e.g. ``P(None, "x", None)``) is transformed with
    all-to-all transposes, never gathered, and its spectrum keeps the field's sharding, so
    :meth:`derivative`, :meth:`laplacian` and the solvers built on them run sharded as written.
    :meth:`resample` transforms one axis at a time and gathers a sharded axis.

    Args:
        num_points: points per axis, an int (repeated over ``ndim`` axes) or one per axis.
        domain_length: $L_i$, positive, one value or one per axis. Default 1.
        origin: $x_{0,i}$, one value or one per axis. Default 0.
        ndim: number of axes when ``num_points`` is a single int. Default 1.

    Example:
        >>> import jax.numpy as jnp
        >>> grid = PeriodicGrid(64, domain_length=2 * jnp.pi)
        >>> x, = grid.coordinates()
        >>> u = jnp.sin(3 * x)
        >>> bool(jnp.allclose(grid.derivative(u, axis=0), 3 * jnp.cos(3 * x), atol=1e-5))
        True
    """

    num_points: tuple[int, ...] = eqx.field(static=True)
    domain_length: tuple[float, ...] = eqx.field(static=True)
    origin: tuple[float, ...] = eqx.field(static=True)

    def __init__(
        self,
        num_points: int | Sequence[int],
        domain_length: float | Sequence[float] = 1.0,
        *,
        origin: float | Sequence[float] = 0.0,
        ndim: int | None = None,
    ):
        self.num_points, self.domain_length, self.origin = grid_axes(
            _WHO, num_points, domain_length, origin, ndim, min_points=2, why=""
        )

    # ----------------------------------------------------------------- geometry
    @property
    def ndim(self) -> int:
        return len(self.num_points)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.num_points

    @property
    def spacing(self) -> tuple[float, ...]:
        """$\\Delta x_i = L_i / N_i$."""
        return tuple(length / n for length, n in zip(self.domain_length, self.num_points))

    @property
    def cell_volume(self) -> float:
        return math.prod(self.spacing)

    @property
    def volume(self) -> float:
        return math.prod(self.domain_length)

    @property
    def spectral_shape(self) -> tuple[int, ...]:
        """Shape of ``rfftn`` coefficients: ``(N_1, ..., N_{d-1}, N_d // 2 + 1)``."""
        return (*self.num_points[:-1], self.num_points[-1] // 2 + 1)

    def coordinates(self) -> tuple[Float[Array, " N"], ...]:
        """The 1-d coordinates of each axis."""
        return tuple(
            jnp.asarray(x0 + np.arange(n) * (length / n))
            for x0, length, n in zip(self.origin, self.domain_length, self.num_points)
        )

    def mesh(self) -> Float[Array, "D *spatial"]:
        """All coordinates as a field with one channel per axis, ``(ndim, *spatial)``."""
        return jnp.stack(jnp.meshgrid(*self.coordinates(), indexing="ij"))

    # -------------------------------------------------------------- wavenumbers
    def wavenumbers(self) -> tuple[Float[Array, "..."], ...]:
        r"""Angular wavenumbers $k_i = 2\pi m_i / L_i$, each broadcastable to the rfftn shape."""
        ks = []
        for axis, (n, length) in enumerate(zip(self.num_points, self.domain_length)):
            last = axis == self.ndim - 1
            m = np.fft.rfftfreq(n, 1.0 / n) if last else np.fft.fftfreq(n, 1.0 / n)
            shape = [1] * self.ndim
            shape[axis] = m.size
            ks.append(jnp.asarray((2 * np.pi / length) * m).reshape(shape))
        return tuple(ks)

    def _integer_modes(self) -> tuple[np.ndarray, ...]:
        out = []
        for axis, n in enumerate(self.num_points):
            last = axis == self.ndim - 1
            m = np.fft.rfftfreq(n, 1.0 / n) if last else np.fft.fftfreq(n, 1.0 / n)
            shape = [1] * self.ndim
            shape[axis] = m.size
            out.append(np.abs(m).reshape(shape))
        return tuple(out)

    def wavenumber_norm_squared(self) -> Float[Array, "*modes"]:
        r"""$|k|^2$ on the rfftn layout."""
        return sum(k**2 for k in self.wavenumbers())

    def dealias_mask(self, fraction: float = 2.0 / 3.0) -> Float[Array, "*modes"]:
        r"""The Orszag 2/3 rule: 1 where $|m_i| < \tfrac{f}{2} N_i$ on every axis, 0 elsewhere.

        Multiply the spectrum of a quadratic product by this mask to remove aliasing. Raises a
        :class:`ValueError` on a grid too coarse to keep any non-constant mode.
        """
        if not 0 < fraction <= 1:
            raise ValueError(f"{_WHO}: dealiasing `fraction` must be in (0, 1], got {fraction}.")
        for n in self.num_points:
            if fraction * n / 2 <= 1:
                raise ValueError(
                    f"{_WHO}: `num_points`={self.num_points} is too small for dealiasing with "
                    f"fraction {fraction:.3g}: every axis needs more than {2 / fraction:.3g} "
                    "points so that a non-constant mode survives; refine the grid."
                )
        keep = np.ones(self.spectral_shape, dtype=bool)
        for m, n in zip(self._integer_modes(), self.num_points):
            keep = keep & (m < fraction * n / 2)
        return jnp.asarray(keep.astype(np.float64))

    def nyquist_mask(self) -> Float[Array, "*modes"]:
        """0 on the Nyquist modes of even-sized axes (no derivative is defined there), 1 elsewhere."""
        keep = np.ones(self.spectral_shape, dtype=bool)
        for m, n in zip(self._integer_modes(), self.num_points):
            if n % 2 == 0:
                keep = keep & (m != n // 2)
        return jnp.asarray(keep.astype(np.float64))

    # ------------------------------------------------------------ transforms
    @property
    def _axes(self) -> tuple[int, ...]:
        return tuple(range(-self.ndim, 0))

    def _check_field(self, u, name="u"):
        if tuple(jnp.shape(u)[-self.ndim :]) != self.num_points or jnp.ndim(u) < self.ndim:
            raise ValueError(
                f"{_WHO}: `{name}` has shape {tuple(jnp.shape(u))}, whose trailing axes should "
                f"be the grid's {self.num_points}."
            )

    def fft(self, u: Float[Array, "..."]) -> Complex[Array, "..."]:
        """``rfftn`` over the trailing spatial axes (unnormalised, as numpy)."""
        self._check_field(u)
        return _fft.rfftn(u, self.ndim)

    def ifft(self, u_hat: Complex[Array, "..."]) -> Float[Array, "..."]:
        """Inverse of :meth:`fft`."""
        if tuple(jnp.shape(u_hat)[-self.ndim :]) != self.spectral_shape:
            raise ValueError(
                f"{_WHO}: `u_hat` has shape {tuple(jnp.shape(u_hat))}, whose trailing axes "
                f"should be the rfftn shape {self.spectral_shape}."
            )
        return _fft.irfftn(u_hat, self.num_points)

    # --------------------------------------------------------------- calculus
    def derivative_symbol(self, axis: int, order: int = 1) -> Complex[Array, "..."]:
        r"""$(i k_{\text{axis}})^{\text{order}}$ on the rfftn layout.

        For odd orders the Nyquist mode of an even axis is zeroed: the derivative of the
        real mode $\cos(\pi x/\Delta x)$ is not representable on the grid.
        """
        if not -self.ndim <= axis < self.ndim:
            raise ValueError(f"{_WHO}: `axis`={axis} is out of range for a {self.ndim}-d grid.")
        if order < 0:
            raise ValueError(f"{_WHO}: derivative `order` must be non-negative, got {order}.")
        axis = axis % self.ndim
        k = self.wavenumbers()[axis]
        symbol = (1j * k) ** order
        n = self.num_points[axis]
        if order % 2 == 1 and n % 2 == 0:
            m = self._integer_modes()[axis]
            symbol = jnp.where(jnp.asarray(m == n // 2), 0, symbol)
        return symbol

    def laplacian_symbol(self) -> Float[Array, "*modes"]:
        r"""$-|k|^2$."""
        return -self.wavenumber_norm_squared()

    def derivative(self, u: Float[Array, "..."], axis: int, order: int = 1) -> Float[Array, "..."]:
        r"""$\partial^{\text{order}} u / \partial x_{\text{axis}}^{\text{order}}$, spectrally.

        Exact to round-off for fields band-limited below the Nyquist frequency.
        """
        return self.ifft(self.derivative_symbol(axis, order) * self.fft(u))

    def gradient(self, u: Float[Array, "*spatial"]) -> Float[Array, "D *spatial"]:
        r"""$\nabla u$ of a scalar field, one channel per axis."""
        u_hat = self.fft(u)
        return jnp.stack([self.ifft(self.derivative_symbol(i) * u_hat) for i in range(self.ndim)])

    def divergence(self, v: Float[Array, "D *spatial"]) -> Float[Array, "*spatial"]:
        r"""$\nabla\cdot v$ of a vector field with one channel per axis."""
        if jnp.shape(v)[0] != self.ndim:
            raise ValueError(
                f"{_WHO}: `v` must have {self.ndim} channels (one per axis), got shape "
                f"{tuple(jnp.shape(v))}."
            )
        return sum(self.derivative(v[i], axis=i) for i in range(self.ndim))

    def laplacian(self, u: Float[Array, "..."]) -> Float[Array, "..."]:
        r"""$\Delta u$, spectrally."""
        return self.ifft(self.laplacian_symbol() * self.fft(u))

    def inverse_laplacian(self, f: Float[Array, "..."]) -> Float[Array, "..."]:
        r"""The zero-mean solution $u$ of $\Delta u = f - \bar f$.

        The mean of ``f`` (the $k = 0$ mode, in the kernel of $\Delta$) is discarded.
        """
        k2 = self.wavenumber_norm_squared()
        inv = jnp.where(k2 == 0, 0.0, -1.0 / jnp.where(k2 == 0, 1.0, k2))
        return self.ifft(inv * self.fft(f))

    # -------------------------------------------------------------- resampling
    def resample(
        self, u: Float[Array, "..."], num_points: int | Sequence[int]
    ) -> Float[Array, "..."]:
        r"""``u`` on the same box at another resolution, by Fourier truncation or zero-padding.

        The trigonometric interpolant of ``u`` is evaluated on the new grid when refining, and
        projected onto the representable modes when coarsening. On an even-sized axis the
        Nyquist coefficient is split evenly between $\pm N/2$ when refining and the two merged
        (keeping the cosine part) when coarsening, so refining then coarsening back returns
        ``u`` exactly, and a field band-limited below both Nyquist frequencies is reproduced
        exactly in both directions.

        Returns an array with the same leading axes and trailing axes ``num_points``.
        """
        target = _per_axis(num_points, self.ndim, "num_points", int)
        if any(n < 2 for n in target):
            raise ValueError(f"{_WHO}.resample: `num_points` must be at least 2, got {target}.")
        self._check_field(u)
        for axis in range(self.ndim):
            u = _resample_axis(u, axis - self.ndim, self.num_points[axis], target[axis])
        return u

    def with_num_points(self, num_points: int | Sequence[int]) -> "PeriodicGrid":
        """The same box at another resolution."""
        return PeriodicGrid(
            _per_axis(num_points, self.ndim, "num_points", int),
            self.domain_length,
            origin=self.origin,
        )


def _resample_axis(u: Array, axis: int, n: int, m: int) -> Array:
    """Real-to-real spectral resampling of one axis from ``n`` to ``m`` points."""
    if n == m:
        return u
    c = _fft.rfftn(jnp.moveaxis(u, axis, -1), 1)  # the axis last, as jnp.fft.rfft does
    kmax = min(n, m) // 2 + 1
    c = c[..., :kmax]
    if m > n and n % 2 == 0:
        # the old Nyquist mode becomes a pair of ordinary modes +-n/2: give each half
        c = c.at[..., n // 2].multiply(0.5)
    if m < n and m % 2 == 0:
        # the new Nyquist mode only carries a cosine: merge +-m/2 (2 Re c) as irfft expects
        c = c.at[..., m // 2].set(2 * jnp.real(c[..., m // 2]))
    pad = m // 2 + 1 - c.shape[-1]
    if pad > 0:
        c = jnp.concatenate([c, jnp.zeros((*c.shape[:-1], pad), c.dtype)], axis=-1)
    out = _fft.irfftn(c * (m / n), (m,))
    return jnp.moveaxis(out, -1, axis)

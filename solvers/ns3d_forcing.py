r"""Forcings $f(u)$ for :class:`pdejax.solvers.NavierStokes3D`: small composable modules.

Every forcing here is *affine* in the velocity, $f(u) = S u + c$, with $S$ a Fourier multiplier
(the same on each component) and $c$ a fixed field, and says so through two methods:

- :meth:`AbstractForcing3D.linear_symbol`: $S$ on the ``rfftn`` layout (or ``None``). The
  stepper adds it to the diagonal linear symbol $-\nu|k|^2$, so a state-dependent *linear*
  forcing is integrated exactly by the exponential schemes and implicitly by Crank-Nicolson, at
  no cost per step (the decision for Lundgren's linear forcing: it is linear and diagonal in
  Fourier space, so it belongs in $L$, not in the explicit $\mathcal N$);
- :meth:`AbstractForcing3D.constant_hat`: $\hat c$, ``(3, *modes)`` (or ``None``), added to the
  nonlinear term before the Leray projection. It is built from one-dimensional spectra by
  broadcasting, so nothing of the grid's size is stored or transformed per step.

The amplitudes are array fields: differentiable and free to change without recompiling; the
wavenumbers are static. Pass one as ``NavierStokes3D(..., forcing=...)``.

Example:
    >>> import jax.numpy as jnp
    >>> from pdejax import PeriodicGrid
    >>> from pdejax.solvers import KolmogorovForcing3D
    >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
    >>> f = KolmogorovForcing3D(amplitude=0.5, wavenumber=2).field(grid, jnp.zeros((3, 8, 8, 8)))
    >>> x, y, z = grid.mesh()
    >>> bool(jnp.allclose(f[0], 0.5 * jnp.sin(2 * y))), float(abs(f[1:]).max())
    (True, 0.0)
"""

import abc

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float

from pdejax import PeriodicGrid
from pdejax.core import check_positive


def _check_wavenumber(n, who):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{who}: `wavenumber` must be a positive int, got {n!r}.")


def _axis_hat(grid: PeriodicGrid, axis: int, function, dtype) -> Complex[Array, "*modes"]:
    r"""The ``rfftn`` of the field $g(s)$, $s = (x_a - x_{0,a})/L_a$, varying along axis $a$ only:
    $\prod_{b\ne a} N_b\delta_{m_b 0}$ times the 1-d transform of $g$, as a broadcast of 1-d
    constants (computed here with numpy from the grid's static coordinates)."""
    cdtype = jnp.result_type(dtype, jnp.complex64)
    pieces = []
    for b, n in enumerate(grid.num_points):
        last = b == grid.ndim - 1
        size = n // 2 + 1 if last else n
        if b == axis:
            samples = function(np.arange(n) / n)  # (x - x0) / L at the grid points
            vec = (np.fft.rfft if last else np.fft.fft)(samples)
            # exact zeros where the transform is round-off (off the forced modes, or the real
            # part of a sine), so that no mode is forced at the 1e-17 level
            re, im = vec.real.copy(), vec.imag.copy()
            re[np.abs(re) < 1e-12 * n], im[np.abs(im) < 1e-12 * n] = 0, 0
            vec = re + 1j * im
        else:
            vec = np.zeros(size, complex)
            vec[0] = n
        shape = [1] * grid.ndim
        shape[b] = size
        pieces.append(jnp.asarray(vec.reshape(shape), cdtype))
    out = pieces[0]
    for p in pieces[1:]:
        out = out * p
    return out


class AbstractForcing3D(eqx.Module):
    r"""An affine velocity forcing $f(u) = S u + c$ on a 3-d periodic box (see the module).

    A final subclass implements :meth:`linear_symbol` and :meth:`constant_hat` (either may
    return ``None``); :meth:`field` evaluates $f(u)$ in physical space, for diagnostics such as
    :func:`~pdejax.solvers.forcing_power_3d`.

    Example (a uniform linear drag $f = -\alpha u$, written as a new forcing):
        >>> import equinox as eqx, jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> class Drag(AbstractForcing3D):
        ...     rate: jnp.ndarray = eqx.field(converter=jnp.asarray)
        ...     def linear_symbol(self, grid, dtype):
        ...         return -self.rate.astype(dtype) * jnp.ones(grid.spectral_shape, dtype)
        ...     def constant_hat(self, grid, dtype):
        ...         return None
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> u = jnp.ones((3, 8, 8, 8))
        >>> bool(jnp.allclose(Drag(0.5).field(grid, u), -0.5 * u))
        True
    """

    @abc.abstractmethod
    def linear_symbol(self, grid: PeriodicGrid, dtype) -> Float[Array, "*modes"] | None:
        """$S$ on the rfftn layout (broadcastable), or ``None`` for none."""

    @abc.abstractmethod
    def constant_hat(self, grid: PeriodicGrid, dtype) -> Complex[Array, "3 *modes"] | None:
        r"""$\hat c$ ``(3, *modes)`` (unnormalised rfftn), or ``None`` for none."""

    def field(
        self, grid: PeriodicGrid, u: Float[Array, "3 *spatial"]
    ) -> Float[Array, "3 *spatial"]:
        r"""$f(u) = Su + c$ in physical space, ``(3, *spatial)``.

        Example:
            >>> import jax.numpy as jnp
            >>> from pdejax import PeriodicGrid
            >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
            >>> u = jnp.ones((3, 8, 8, 8)).at[0].set(jnp.sin(grid.mesh()[1]))
            >>> f = LinearForcing(0.5).field(grid, u)  # the mean (k = 0) is not forced
            >>> bool(jnp.allclose(f[0], 0.5 * u[0])), float(abs(f[1]).max())
            (True, 0.0)
        """
        dtype = jnp.result_type(u, float)
        u_hat = grid.fft(u)
        out = jnp.zeros_like(u_hat)
        s = self.linear_symbol(grid, dtype)
        if s is not None:
            out = out + s * u_hat
        c = self.constant_hat(grid, dtype)
        if c is not None:
            out = out + c
        return grid.ifft(out).astype(dtype)


class KolmogorovForcing3D(AbstractForcing3D):
    r"""Kolmogorov (shear) forcing $f = A\sin(\kappa y)\,e_x$, $\kappa = 2\pi n/L_y$.

    Divergence-free; drives the laminar Kolmogorov flow $u = A\sin(\kappa y)e_x/(\nu\kappa^2)$,
    an exact steady state whose nonlinear term vanishes, which turns turbulent for large
    $A/(\nu^2\kappa^3)$ (Borue & Orszag, J. Fluid Mech. 306, 1996; the 3-d forcing of
    exponax's ``KolmogorovFlowVelocity``). ``wavenumber`` $n$ is the number of periods across $y$.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> c = KolmogorovForcing3D(1.0, wavenumber=1).constant_hat(grid, jnp.float32)
        >>> c.shape, int(jnp.count_nonzero(c))  # the modes (0, +-1, 0) of the x component
        ((3, 8, 8, 5), 2)
        >>> complex(c[0, 0, 1, 0]) / 8**3  # -i/2: sin y = (e^{iy} - e^{-iy}) / 2i
        -0.5j
    """

    amplitude: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)
    wavenumber: int = eqx.field(static=True, default=4)

    def __check_init__(self):
        _check_wavenumber(self.wavenumber, type(self).__name__)

    def linear_symbol(self, grid, dtype):
        return None

    def constant_hat(self, grid, dtype):
        n = self.wavenumber
        fx = _axis_hat(grid, 1, lambda s: np.sin(2 * np.pi * n * s), dtype)
        zero = jnp.zeros_like(fx)
        fx, zero = jnp.broadcast_arrays(fx, zero)
        return jnp.stack([self.amplitude.astype(fx.dtype) * fx, zero, zero])


class ABCForcing(AbstractForcing3D):
    r"""Arnold-Beltrami-Childress forcing at wavenumber $k = 2\pi n/L$ (a cube of side $L$):

    $$f = \big(A\sin kz + C\cos ky,\; B\sin kx + A\cos kz,\; C\sin ky + B\cos kx\big).$$

    A Beltrami field, $\nabla\times f = k f$, so the steady ABC flow $u = f/(\nu k^2)$ is an exact
    solution whose nonlinear term $u\times\omega$ vanishes (Dombre et al., J. Fluid Mech. 167,
    1986; Podvigina & Pouquet, Physica D 75, 1994, for its instabilities).

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> f = ABCForcing(1.0, 0.5, 0.25).field(grid, jnp.zeros((3, 8, 8, 8)))
        >>> x, y, z = grid.mesh()
        >>> bool(jnp.allclose(f[0], jnp.sin(z) + 0.25 * jnp.cos(y), atol=1e-6))
        True
    """

    a: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)
    b: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)
    c: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)
    wavenumber: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        _check_wavenumber(self.wavenumber, type(self).__name__)

    def linear_symbol(self, grid, dtype):
        return None

    def constant_hat(self, grid, dtype):
        n = self.wavenumber

        def hat(axis, fun):
            return _axis_hat(grid, axis, lambda s: fun(2 * np.pi * n * s), dtype)

        a, b, c = (
            p.astype(jnp.result_type(dtype, jnp.complex64)) for p in (self.a, self.b, self.c)
        )
        components = (
            a * hat(2, np.sin) + c * hat(1, np.cos),
            b * hat(0, np.sin) + a * hat(2, np.cos),
            c * hat(1, np.sin) + b * hat(0, np.cos),
        )
        return jnp.stack(jnp.broadcast_arrays(*components))


class LinearForcing(AbstractForcing3D):
    r"""Lundgren's linear forcing $f = A\,u$ for forced isotropic turbulence, or its
    band-limited variant $f = A\,P_{k_f}u$ acting only on $0 < |k| \le k_f$.

    The energy input is $P = 2A E$ ($2A E_{\le k_f}$ band-limited), so a statistically steady
    state has $\epsilon = 2AE$; the mean flow ($k = 0$) is never forced. $S = A\,1_{0<|k|\le
    k_f}$ is a Fourier multiplier, so the stepper integrates it with the viscous term (exactly
    with ETDRK, implicitly with Crank-Nicolson). Lundgren, "Linearly forced isotropic
    turbulence", CTR Annual Research Briefs 2003; Rosales & Meneveau, Phys. Fluids 17, 2005.

    Args:
        amplitude: $A$ (any sign; negative is a linear drag on the same modes).
        max_wavenumber: $k_f$ in the grid's angular wavenumbers, or ``None`` for all
            $k \ne 0$ (Lundgren's original form).

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> s = LinearForcing(0.1, max_wavenumber=1.5).linear_symbol(grid, jnp.float32)
        >>> int(jnp.count_nonzero(s)), round(float(s.max()), 6)  # |k| = 1, sqrt 2 on the half
        (13, 0.1)
    """

    amplitude: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    max_wavenumber: float | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        if self.max_wavenumber is not None:
            check_positive(self.max_wavenumber, name="max_wavenumber", who="LinearForcing")

    def linear_symbol(self, grid, dtype):
        k2 = sum(k.astype(dtype) ** 2 for k in grid.wavenumbers())
        band = k2 > 0
        if self.max_wavenumber is not None:
            band = band & (k2 <= self.max_wavenumber**2)
        return jnp.where(band, self.amplitude.astype(dtype), jnp.zeros((), dtype))

    def constant_hat(self, grid, dtype):
        return None


__all__ = ["ABCForcing", "AbstractForcing3D", "KolmogorovForcing3D", "LinearForcing"]

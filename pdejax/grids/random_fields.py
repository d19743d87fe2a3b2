r"""Gaussian random fields with covariance $\sigma^2(-\Delta + \tau^2 I)^{-\alpha}$.

A centred Gaussian measure $N(0, C)$ on the physical domain $D$, with $C$ diagonal in the
eigenfunctions $\varphi_k$ of $-\Delta$ (orthonormal in $L^2(D)$), is sampled by its
Karhunen-Loeve expansion

$$u = \sum_k \sqrt{\lambda_k}\, \xi_k\, \varphi_k, \qquad
  \lambda_k = \sigma^2 (\mu_k + \tau^2)^{-\alpha},\quad \xi_k \sim N(0, 1)\ \text{i.i.d.},$$

where $\mu_k$ are the eigenvalues of $-\Delta$: $|2\pi m / L|^2$ on a periodic box (complex
exponentials), $|\pi m / L|^2$ with zero-Neumann boundaries (cosines). The expansion is truncated
to the modes the grid resolves. The FNO-paper data sets are written in this convention:

| data | preset | paper |
|---|---|---|
| Burgers $u_0$ | ``sigma=25, tau=5, alpha=2`` | $N(0, 625(-\Delta + 25 I)^{-2})$ |
| Darcy threshold field | Neumann, ``sigma=3, tau=3, alpha=2`` | $N(0, (-\Delta + 9 I)^{-2})$ up to scale (only the sign is used) |
| Navier-Stokes $w_0$ | ``sigma=sqrt(2) 7^1.5, tau=7, alpha=2.5`` | the released code's amplitude |

(The 2020 Navier-Stokes generator that made the released data draws complex coefficients whose
real and imaginary parts both have the prescribed standard deviation and keeps the real part of
the inverse FFT, which doubles each mode's variance; hence the $\sqrt 2$. A 2022 revision of that
script, ``torch.randn(dtype=cfloat)``, halves it again: its fields correspond to
$\sigma = 7^{1.5}$.)
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from ..core.errors import check_positive
from .periodic import PeriodicGrid


class GaussianRandomField(eqx.Module):
    r"""Periodic Gaussian random field $N(0, \sigma^2(-\Delta + \tau^2 I)^{-\alpha})$.

    Sampled by filtering white noise in Fourier space: the DFT $W_m$ of i.i.d. standard normal
    grid values has $E|W_m|^2 = N$ ($N$ grid points, Hermitian symmetry automatic), so
    $U_m = W_m \sqrt{\lambda_m N / |D|}$ gives $E|U_m|^2 = N^2 \lambda_m / |D|$, the discrete
    image of the Karhunen-Loeve expansion above. Cost: one real FFT pair per sample.

    ``sigma``, ``tau`` and ``alpha`` are array fields: differentiable (reparameterisation
    gradients through ``sample``) and free to change without recompiling.

    Args:
        grid: the periodic grid to sample on.
        sigma, tau, alpha: covariance parameters, $\tau > 0$, $\alpha > 0$.
        zero_mean: drop the constant mode (as the FNO-paper generators do).

    Example:
        >>> import jax, jax.random as jr
        >>> from pdejax import PeriodicGrid
        >>> grf = GaussianRandomField(PeriodicGrid((64, 64)), sigma=7**1.5, tau=7.0, alpha=2.5)
        >>> w0 = jax.vmap(grf.sample)(jr.split(jr.key(0), 3))
        >>> w0.shape
        (3, 64, 64)
    """

    grid: PeriodicGrid
    sigma: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    tau: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    alpha: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    zero_mean: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        _check_parameters(self, "GaussianRandomField")

    def eigenvalues(self) -> Float[Array, "*modes"]:
        r"""$\lambda_m = \sigma^2(|k_m|^2 + \tau^2)^{-\alpha}$ on the rfftn layout (0 at $m=0$ if zero-mean)."""
        lam = self.sigma**2 * (self.grid.wavenumber_norm_squared() + self.tau**2) ** (-self.alpha)
        if self.zero_mean:
            lam = lam.at[(0,) * self.grid.ndim].set(0.0)
        return lam

    def sample(self, key: PRNGKeyArray, dtype=None) -> Float[Array, "*spatial"]:
        """One sample on the grid. ``dtype`` defaults to the parameters' floating dtype."""
        dtype = dtype or jnp.result_type(self.sigma, float)
        noise = jr.normal(key, self.grid.num_points, dtype)
        n = math.prod(self.grid.num_points)
        scale = jnp.sqrt(self.eigenvalues() * (n / self.grid.volume))
        return self.grid.ifft(scale * self.grid.fft(noise)).astype(dtype)


class NeumannGaussianRandomField(eqx.Module):
    r"""Gaussian random field on a box with zero-Neumann boundaries, $N(0, \sigma^2(-\Delta + \tau^2 I)^{-\alpha})$.

    The eigenfunctions of $-\Delta$ with $\partial_n u = 0$ on $[x_0, x_0 + L]$ are
    $c_m \cos(\pi m (x - x_0)/L)$ with $c_0 = L^{-1/2}$ and $c_m = (2/L)^{1/2}$ otherwise, and
    products of these across axes. The expansion keeps $m_i < N_i$ modes per axis and is
    evaluated exactly at the grid's coordinates by a separable matrix product per axis (the
    cosine basis at vertices or cell centres alike), costing $O(N^{d+1})$: a few milliseconds
    at $421^2$.

    ``grid`` is any grid with ``num_points``, ``domain_length`` and ``coordinates()`` (a
    :class:`pdejax.VertexGrid`, or a :class:`pdejax.PeriodicGrid` for cell-type points).

    Example:
        >>> import jax.random as jr
        >>> from pdejax import PeriodicGrid
        >>> grf = NeumannGaussianRandomField(PeriodicGrid((32, 32)), sigma=3.0, tau=3.0, alpha=2.0)
        >>> grf.sample(jr.key(0)).shape
        (32, 32)
    """

    grid: eqx.Module
    sigma: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    tau: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    alpha: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    zero_mean: bool = eqx.field(static=True, default=True)

    def __check_init__(self):
        _check_parameters(self, "NeumannGaussianRandomField")

    def _basis(self, dtype) -> list[Float[Array, "N M"]]:
        """Per axis, the orthonormal cosine eigenfunctions at the grid coordinates."""
        out = []
        origin = getattr(self.grid, "origin", (0.0,) * len(self.grid.num_points))
        # the coordinates are constants; without this they are tracers under jit (no np.asarray)
        with jax.ensure_compile_time_eval():
            coordinates = [np.asarray(x) for x in self.grid.coordinates()]
        for x, length, x0 in zip(coordinates, self.grid.domain_length, origin):
            m = np.arange(len(x))
            c = np.where(m == 0, 1.0 / math.sqrt(length), math.sqrt(2.0 / length))
            phi = c[None, :] * np.cos(np.pi * np.outer(np.asarray(x) - x0, m) / length)
            out.append(jnp.asarray(phi, dtype))
        return out

    def eigenvalues(self) -> Float[Array, "*modes"]:
        r"""$\lambda_m = \sigma^2(\sum_i (\pi m_i / L_i)^2 + \tau^2)^{-\alpha}$, $0 \le m_i < N_i$."""
        mu = 0.0
        ndim = len(self.grid.num_points)
        for axis, (n, length) in enumerate(zip(self.grid.num_points, self.grid.domain_length)):
            shape = [1] * ndim
            shape[axis] = n
            mu = mu + (np.pi * np.arange(n) / length).reshape(shape) ** 2
        lam = self.sigma**2 * (jnp.asarray(mu) + self.tau**2) ** (-self.alpha)
        if self.zero_mean:
            lam = lam.at[(0,) * ndim].set(0.0)
        return lam

    def sample(self, key: PRNGKeyArray, dtype=None) -> Float[Array, "*spatial"]:
        """One sample at the grid's points."""
        dtype = dtype or jnp.result_type(self.sigma, float)
        coeff = jnp.sqrt(self.eigenvalues()).astype(dtype) * jr.normal(
            key, self.grid.num_points, dtype
        )
        for axis, phi in enumerate(self._basis(dtype)):
            coeff = jnp.moveaxis(jnp.tensordot(phi, coeff, axes=([1], [axis])), 0, axis)
        return coeff


def _check_parameters(field, who):
    check_positive(field.tau, name="tau", who=who)
    check_positive(field.alpha, name="alpha", who=who)
    check_positive(field.sigma, name="sigma", who=who, allow_zero=True)


def fno_burgers_initial_condition(grid: PeriodicGrid) -> GaussianRandomField:
    r"""The FNO paper's Burgers initial field $N(0, 625(-\Delta + 25 I)^{-2})$ (Li et al. 2021).

    Example (on $[0, 1)$ the first mode's variance is $625/(4\pi^2 + 25)^2$; no mean mode):
        >>> import jax.random as jr
        >>> from pdejax import PeriodicGrid
        >>> grf = fno_burgers_initial_condition(PeriodicGrid(256))
        >>> lam = grf.eigenvalues()
        >>> float(lam[0]), round(float(lam[1]), 5), grf.sample(jr.key(0)).shape
        (0.0, 0.15033, (256,))
    """
    return GaussianRandomField(grid, sigma=25.0, tau=5.0, alpha=2.0)


def fno_navier_stokes_initial_vorticity(grid: PeriodicGrid) -> GaussianRandomField:
    r"""The FNO paper's initial vorticity at the released generator's amplitude.

    The 2020 generator that made the released data: ``GaussianRF(alpha=2.5, tau=7)``, whose
    default $\sigma = 7^{1.5}$, with each mode's variance doubled by its complex sampling (see the
    module docstring; checked by Monte Carlo against that generator's point variance): here
    $\sigma = \sqrt{2}\, 7^{1.5}$, $\tau = 7$, $\alpha = 2.5$, zero mean.

    Example:
        >>> import jax.random as jr
        >>> from pdejax import PeriodicGrid
        >>> grf = fno_navier_stokes_initial_vorticity(PeriodicGrid((64, 64)))
        >>> round(float(grf.sigma**2), 3), float(grf.tau), float(grf.alpha)  # sigma^2 = 2 * 7^3
        (686.0, 7.0, 2.5)
        >>> w0 = grf.sample(jr.key(0))
        >>> w0.shape, abs(float(w0.mean())) < 1e-4  # zero mean
        ((64, 64), True)
    """
    return GaussianRandomField(grid, sigma=math.sqrt(2.0) * 7.0**1.5, tau=7.0, alpha=2.5)


def fno_darcy_threshold_field(grid) -> NeumannGaussianRandomField:
    r"""The Gaussian field whose sign defines the FNO paper's Darcy coefficient.

    $N(0, \sigma^2(-\Delta + 9 I)^{-2})$ with zero-Neumann boundaries; the released generator
    uses $\sigma = \tau^{\alpha - 1} = 3$. Only the sign is used (12 where positive, 3 where not).

    Example (a Darcy coefficient on a 33 x 33 vertex grid):
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax import VertexGrid
        >>> field = fno_darcy_threshold_field(VertexGrid((33, 33)))
        >>> a = jnp.where(field.sample(jr.key(0)) > 0, 12.0, 3.0)
        >>> a.shape, jnp.unique(a).tolist()
        ((33, 33), [3.0, 12.0])
    """
    return NeumannGaussianRandomField(grid, sigma=3.0, tau=3.0, alpha=2.0)

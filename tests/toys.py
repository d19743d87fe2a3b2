"""Toy models defined only for the tests: the smallest members of each interface kind.

They are deliberately tiny but real PDEs, so that the contract suite exercises the interface on
models with array parameters, a grid and nonlinearity.
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float

import pdejax
from pdejax import PeriodicGrid


class HeatStepper(pdejax.AbstractStepper):
    r"""Exact step of $u_t = \nu \Delta u$ on a periodic grid: $\hat u \mapsto e^{-\nu |k|^2 dt}\hat u$."""

    grid: PeriodicGrid
    nu: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    num_channels: int = eqx.field(static=True, default=1)

    @property
    def state_shape(self):
        return (self.num_channels, *self.grid.num_points)

    def step(self, u):
        decay = jnp.exp(-self.nu * self.grid.wavenumber_norm_squared() * self.dt)
        return self.grid.ifft(decay * self.grid.fft(u)).astype(u.dtype)


class FisherKPP(pdejax.AbstractDynamics):
    r"""$u_t = \nu \Delta u + r u (1 - u)$ on a periodic grid (nonlinear, smooth)."""

    grid: PeriodicGrid
    nu: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    r: Float[Array, ""] = eqx.field(converter=jnp.asarray)

    @property
    def state_shape(self):
        return (1, *self.grid.num_points)

    def vector_field(self, t, u, args):
        return self.nu * self.grid.laplacian(u) + self.r * u * (1 - u)

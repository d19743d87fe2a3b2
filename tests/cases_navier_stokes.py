"""Contract-suite factories for the Navier-Stokes solver (see tests/contract.py)."""

import functools

import jax.numpy as jnp
import jax.random as jr

from pdejax import PeriodicGrid
from pdejax.solvers import NavierStokes2D, NavierStokesDynamics2D, kolmogorov_forcing
from pdejax.timestepping import ETDRK4


def smooth_vorticity(grid, key, amplitude=1.0, fraction=0.5):
    """A random band-limited zero-mean vorticity ``(1, Nx, Ny)``."""
    noise = jr.normal(key, grid.num_points)
    w = grid.ifft(grid.fft(noise) * grid.dealias_mask(fraction))
    w = w - w.mean()
    return (amplitude * w / jnp.std(w))[None]


def _grid():
    return PeriodicGrid((16, 12), (2 * jnp.pi, 1.5 * jnp.pi))


def make_navier_stokes(variant):
    grid = _grid()
    forcing = functools.partial(kolmogorov_forcing, wavenumber=2, amplitude=0.5 + 0.1 * variant)
    model = NavierStokes2D(
        grid, nu=0.02 + 0.01 * variant, dt=0.05 + 0.01 * variant, drag=0.1 * variant,
        forcing=forcing,
    )  # fmt: skip
    return model, smooth_vorticity(grid, jr.key(0))


def make_navier_stokes_etdrk4(variant):
    grid = _grid()
    model = NavierStokes2D(
        grid, nu=0.02 + 0.01 * variant, dt=0.05 + 0.01 * variant, scheme=ETDRK4(),
        forcing=kolmogorov_forcing(grid, 2, 0.5 + 0.1 * variant),
    )  # fmt: skip
    return model, smooth_vorticity(grid, jr.key(1))


def make_navier_stokes_dynamics(variant):
    grid = _grid()
    model = NavierStokesDynamics2D(
        grid, nu=0.02 + 0.01 * variant, drag=0.05 + 0.1 * variant,
        forcing=kolmogorov_forcing(grid, 1, 1.0 + variant),
    )  # fmt: skip
    return model, smooth_vorticity(grid, jr.key(2))

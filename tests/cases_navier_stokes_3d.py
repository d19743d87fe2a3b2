"""Contract-suite factories for the 3-d Navier-Stokes solver (see tests/contract.py): tiny grids,
variants 0 and 1 differ only in array parameters (viscosity, step, forcing amplitudes)."""

import jax.numpy as jnp
import jax.random as jr

from pdejax import PeriodicGrid
from pdejax.solvers import (
    ABCForcing,
    KolmogorovForcing3D,
    LinearForcing,
    NavierStokes3D,
    random_solenoidal_velocity,
)
from pdejax.timestepping import ETDRK4


def _state(grid, key, rms=0.5):
    return random_solenoidal_velocity(grid, key, rms=rms, tau=2.0, alpha=3.0, dtype=jnp.float64)


def make_navier_stokes_3d(variant):
    # a box that is not a cube, with shear forcing along y
    grid = PeriodicGrid((8, 8, 6), (2 * jnp.pi, 2 * jnp.pi, 1.5 * jnp.pi))
    forcing = KolmogorovForcing3D(amplitude=0.5 + 0.1 * variant, wavenumber=1)
    model = NavierStokes3D(grid, nu=0.05 + 0.01 * variant, dt=0.05 + 0.01 * variant,
                           forcing=forcing)  # fmt: skip
    return model, _state(grid, jr.key(0))


def make_navier_stokes_3d_etdrk4(variant):
    grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
    model = NavierStokes3D(grid, nu=0.03 + 0.01 * variant, dt=0.1, scheme=ETDRK4(),
                           forcing=LinearForcing(0.2 + 0.1 * variant, max_wavenumber=2.0))  # fmt: skip
    return model, _state(grid, jr.key(1))


def make_navier_stokes_3d_dynamics(variant):
    grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
    forcing = ABCForcing(1.0 + variant, 0.5, 0.25 * (1 + variant))
    model = NavierStokes3D(grid, nu=0.05 + 0.02 * variant, dt=0.1, forcing=forcing).dynamics()
    return model, _state(grid, jr.key(2))

"""Contract-suite factories for the Burgers solvers: ``make_x(variant) -> (model, input)``."""

import jax.numpy as jnp

from pdejax import PeriodicGrid
from pdejax.solvers import Burgers1D, Burgers1DDynamics, Burgers1DFD, Dirichlet


def _state(grid):
    (x,) = grid.coordinates()
    return (0.6 * jnp.sin(2 * jnp.pi * x) + 0.2 * jnp.cos(6 * jnp.pi * x) + 0.1)[None]


def make_burgers(variant):
    grid = PeriodicGrid(32)
    forcing = 0.1 * (1 + variant) * jnp.cos(2 * jnp.pi * grid.coordinates()[0])[None]
    model = Burgers1D(grid, nu=0.05 + 0.01 * variant, dt=0.02 + 0.01 * variant, substeps=2,
                      forcing=forcing)  # fmt: skip
    return model, _state(grid)


def make_burgers_dynamics(variant):
    grid = PeriodicGrid(32)
    return Burgers1DDynamics(grid, nu=0.05 + 0.02 * variant), _state(grid)


def make_burgers_fd(variant):
    model = Burgers1DFD(31, nu=0.05, dt=0.004 + 0.002 * variant, substeps=4,
                        boundary=Dirichlet(0.1 * variant, -0.2))  # fmt: skip
    x = model.coordinates()
    return model, (0.5 * jnp.sin(2 * jnp.pi * x))[None]

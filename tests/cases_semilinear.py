"""Contract-suite factories for the semilinear PDEs (see tests/contract.py): small grids, a smooth
state, variants differing in an array parameter (and ``dt``)."""

import jax.numpy as jnp
import jax.random as jr

from pdejax import PeriodicGrid
from pdejax.solvers import (
    AdvectionDiffusion,
    AllenCahn,
    FisherKPP,
    GrayScott2D,
    Heat,
    KortewegDeVries1D,
    KuramotoSivashinsky1D,
    KuramotoSivashinsky2D,
)
from pdejax.timestepping import CrankNicolsonRK3


def smooth(grid, key, channels=1):
    """A random state with only the lowest quarter of the modes."""
    noise = jr.normal(key, (channels, *grid.num_points))
    return grid.ifft(grid.fft(noise) * grid.dealias_mask(0.5))


def make_ks_1d(variant):
    grid = PeriodicGrid(32, 22.0)
    return KuramotoSivashinsky1D(grid, dt=0.2 + 0.1 * variant, substeps=2), smooth(grid, jr.key(0))


def make_ks_2d(variant):
    grid = PeriodicGrid((16, 12), (12.0, 10.0))
    return KuramotoSivashinsky2D(grid, dt=0.1 + 0.05 * variant), smooth(grid, jr.key(1))


def make_kdv(variant):
    grid = PeriodicGrid(32, 20.0)
    model = KortewegDeVries1D(grid, dt=0.01, alpha=6.0 - variant, beta=1.0 + 0.5 * variant)
    return model, 0.5 * smooth(grid, jr.key(2))


def make_fisher_kpp(variant):
    grid = PeriodicGrid((16, 16), 10.0)
    model = FisherKPP(grid, nu=0.5 + 0.1 * variant, r=1.0 + variant, dt=0.1)
    return model, 0.5 + 0.2 * smooth(grid, jr.key(3))


def make_allen_cahn(variant):
    grid = PeriodicGrid(32, 6.0)
    model = AllenCahn(grid, epsilon=0.3 + 0.1 * variant, dt=0.1, scheme=CrankNicolsonRK3())
    return model, smooth(grid, jr.key(4))


def make_gray_scott(variant):
    grid = PeriodicGrid((16, 16), 1.0)
    model = GrayScott2D(grid, 2e-3, 1e-3 * (1 + variant), 0.04, 0.06 + 0.01 * variant, dt=1.0)
    uv = 0.1 * smooth(grid, jr.key(5), channels=2)
    return model, jnp.stack([1 - uv[0] ** 2, 0.25 + uv[1]])


def make_advection_diffusion(variant):
    grid = PeriodicGrid((16, 8, 8), (2.0, 1.0, 1.0))
    model = AdvectionDiffusion(grid, [1.0, -0.5 * variant, 0.3], nu=0.01 * (1 + variant), dt=0.1)
    return model, smooth(grid, jr.key(6))


def make_heat_equation(variant):
    grid = PeriodicGrid(16)
    return Heat(grid, nu=0.01 + 0.01 * variant, dt=0.5, substeps=2), smooth(grid, jr.key(7))

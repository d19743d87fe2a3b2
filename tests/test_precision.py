"""A float32 state keeps float32 through a prepared stepper whose parameters are float64.

``rollout`` calls ``prepare()``, which computes the coefficients once in the parameters' dtype;
under ``jax_enable_x64`` (as in these tests) that is float64, and a float32 state used to change
the ``lax.scan`` carry's type and fail. The float32 result must agree with the float64 one to
float32 accuracy.
"""

import jax.numpy as jnp
import pytest

from pdejax import PeriodicGrid, rollout
from pdejax.solvers import Burgers1D, NavierStokes2D


def _ns():
    grid = PeriodicGrid((16, 16), 1.0)
    x, y = grid.mesh()
    return NavierStokes2D(grid, 1e-3, 0.01), (jnp.sin(2 * jnp.pi * x) * jnp.cos(2 * jnp.pi * y))[
        None
    ]


def _burgers():
    grid = PeriodicGrid(32)
    (x,) = grid.coordinates()
    return Burgers1D(grid, 0.05, 0.01), jnp.sin(2 * jnp.pi * x)[None]


@pytest.mark.parametrize("make", [_ns, _burgers], ids=["NavierStokes2D", "Burgers1D"])
def test_float32_state_with_float64_parameters(make):
    stepper, u0 = make()
    assert stepper.prepare() is not None
    traj32 = rollout(stepper, u0.astype(jnp.float32), 4)
    traj64 = rollout(stepper, u0.astype(jnp.float64), 4)
    assert traj32.dtype == jnp.float32
    assert traj64.dtype == jnp.float64
    err = float(jnp.max(jnp.abs(traj32 - traj64)) / jnp.max(jnp.abs(traj64)))
    assert err < 1e-5, f"float32 rollout differs from float64 by {err:.2e} (relative)"

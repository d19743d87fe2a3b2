"""Contract-suite factories for the neural-ODE vector fields (see tests/contract.py)."""

import jax.numpy as jnp
import jax.random as jr

from pdejax import MLPDynamics


def make_mlp_dynamics(variant):
    """Same structure for both variants; different weights (another key) and time input."""
    model = MLPDynamics(3, 8, 2, key=jr.key(variant), time_dependent=True)
    u = jnp.array([0.3, -0.7, 1.1], dtype=jnp.float64)
    return model, u

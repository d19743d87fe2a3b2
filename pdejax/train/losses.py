r"""Losses: ``loss(model, inputs, targets) -> scalar`` over a batch, for any pdejax model.

Each vmaps the model over the batch (models take one unbatched sample) and averages per-sample
errors, as the FNO paper does.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from ..grids.metrics import h1_seminorm, relative_l2
from ..timestepping.rollout import rollout

Loss = Callable[[eqx.Module, jax.Array, jax.Array], jax.Array]
"""``loss(model, inputs, targets) -> scalar``: inputs and targets carry the batch axis first."""


def relative_l2_loss(model, inputs, targets):
    r"""Mean over the batch of the per-sample relative $L^2$ error (the FNO paper's loss).

    Example:
        >>> import jax.numpy as jnp
        >>> float(relative_l2_loss(lambda a: 2 * a, jnp.ones((3, 1, 4)), jnp.ones((3, 1, 4))))
        1.0
    """
    preds = jax.vmap(model)(inputs)
    return jnp.mean(jax.vmap(relative_l2)(preds, targets))


def mse_loss(model, inputs, targets):
    """Mean squared error over the batch.

    Example:
        >>> import jax.numpy as jnp
        >>> float(mse_loss(lambda a: 2 * a, jnp.ones((3, 1, 4)), jnp.ones((3, 1, 4))))
        1.0
    """
    return jnp.mean((jax.vmap(model)(inputs) - targets) ** 2)


def h1_loss(grid) -> Loss:
    r"""Mean relative $H^1$ error $\|\hat u - u\|_{H^1} / \|u\|_{H^1}$ (with the $L^2$ part),
    spectral on the periodic ``grid``.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> loss = h1_loss(PeriodicGrid(8))
        >>> u = jnp.sin(2 * jnp.pi * jnp.arange(8) / 8)[None, None]
        >>> float(loss(lambda a: a, u, u))
        0.0
    """

    def loss(model, inputs, targets):
        preds = jax.vmap(model)(inputs)

        def one(p, t):
            num = jnp.sum((p - t) ** 2) * grid.cell_volume + h1_seminorm(p - t, grid) ** 2
            den = jnp.sum(t**2) * grid.cell_volume + h1_seminorm(t, grid) ** 2
            return jnp.sqrt(num / den)

        return jnp.mean(jax.vmap(one)(preds, targets))

    return loss


def rollout_loss(num_steps: int, *, base=relative_l2) -> Loss:
    """For a stepper: roll ``num_steps`` steps from ``inputs`` and compare each frame with
    ``targets`` of shape ``(B, num_steps, C, *spatial)`` (mean of ``base`` over frames).

    Example:
        >>> import jax.numpy as jnp
        >>> loss = rollout_loss(2)
        >>> targets = jnp.stack([2 * jnp.ones((1, 1, 4)), 4 * jnp.ones((1, 1, 4))], axis=1)
        >>> float(loss(lambda u: 2 * u, jnp.ones((1, 1, 4)), targets))
        0.0
    """

    def loss(model, inputs, targets):
        traj = jax.vmap(lambda u: rollout(model, u, num_steps))(inputs)
        return jnp.mean(jax.vmap(jax.vmap(base))(traj, targets))

    return loss


__all__ = ["Loss", "h1_loss", "mse_loss", "relative_l2_loss", "rollout_loss"]

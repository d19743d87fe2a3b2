r"""Flax NNX interop, both directions.

- :class:`FlaxOperator`: any ``flax.nnx.Module`` as a pdejax :class:`~pdejax.AbstractOperator`
  (so it can sit in :class:`NeuralDynamics`, :class:`Autoregressive`, :func:`pdejax.rollout`,
  :func:`pdejax.integrate`), trained with optax on its ``eqx.is_inexact_array`` leaves.
- :class:`PdejaxModule`: any pdejax operator as a ``flax.nnx.Module`` whose weights are
  ``nnx.Param`` variables, trained with ``nnx.Optimizer`` / ``nnx.grad`` like any NNX layer.

Both are exact re-packagings: the function and its gradients are the wrapped model's, to
round-off (tested against the native path).
"""

from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

import pdejax


class FlaxOperator(pdejax.AbstractOperator):
    r"""A flax NNX module used as a pdejax operator.

    The module is split once into its graph definition (static) and its state (the arrays,
    pytree leaves of this equinox module), and merged back at each call: inside ``jit`` the
    merge is free. The wrapped module must be a pure function of its input (no RNG or batch
    statistics updated in ``__call__``); state changes made in a call are discarded.

    With ``channels_last=True`` (the flax convention for ``nnx.Linear`` and ``nnx.Conv``) the
    input ``(C, *spatial)`` is given to the module as ``(*spatial, C)`` and the output moved back,
    so an ``nnx.Linear`` acts pointwise over channels.

    Args:
        module: the NNX module.
        in_shape: the pdejax input shape ``(C_in, *spatial)``, ``None`` for any size.
        channels_last: move the channel axis last for the module (default ``True``).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> from pdejax.surrogates import FlaxOperator
        >>> op = FlaxOperator(nnx.Linear(2, 3, rngs=nnx.Rngs(0)), in_shape=(2, None))
        >>> op(jnp.ones((2, 16))).shape
        (3, 16)
    """

    graphdef: nnx.GraphDef = eqx.field(static=True)
    state: nnx.State
    shape: tuple[int | None, ...] = eqx.field(static=True)
    channels_last: bool = eqx.field(static=True)

    def __init__(self, module, *, in_shape: Sequence[int | None], channels_last: bool = True):
        if not isinstance(module, nnx.Module):
            raise ValueError(
                f"FlaxOperator: `module` must be a flax.nnx.Module, got {type(module).__name__}; "
                "wrap linen modules with nnx.bridge first."
            )
        self.graphdef, self.state = nnx.split(module)
        self.shape = tuple(None if n is None else int(n) for n in in_shape)
        self.channels_last = bool(channels_last)

    @property
    def in_shape(self) -> tuple[int | None, ...]:
        return self.shape

    @property
    def module(self) -> nnx.Module:
        """A fresh NNX module holding this operator's current weights."""
        return nnx.merge(self.graphdef, self.state)

    def evaluate(self, a: Float[Array, "C_in *spatial"]) -> Float[Array, "..."]:
        module = nnx.merge(self.graphdef, self.state)
        if not self.channels_last:
            return module(a)
        y = module(jnp.moveaxis(a, 0, -1))
        return jnp.moveaxis(y, -1, 0)


class PdejaxModule(nnx.Module):
    r"""A pdejax operator (FNO, UNet, any :class:`equinox.Module`) inside a flax NNX model.

    Every inexact array of the operator becomes an ``nnx.Param``; the rest (static fields,
    activations) is kept as static structure. ``nnx.grad`` and ``nnx.Optimizer(model, tx,
    wrt=nnx.Param)`` then train it like any NNX layer; :attr:`operator` gives back the pdejax
    model with the current weights (e.g. for :func:`pdejax.rollout` after training).

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax.surrogates import FNO, PdejaxModule
        >>> layer = PdejaxModule(FNO(1, 1, (4,), 8, key=jr.key(0)))
        >>> layer(jnp.ones((1, 16))).shape
        (1, 16)
    """

    def __init__(self, operator: eqx.Module):
        params, static = eqx.partition(operator, eqx.is_inexact_array)
        leaves, treedef = jax.tree.flatten(params)
        self.treedef = nnx.static(treedef)
        self.rest = nnx.static(static)
        self.params = nnx.List([nnx.Param(x) for x in leaves])

    @property
    def operator(self) -> eqx.Module:
        leaves = [p[...] for p in self.params]
        return eqx.combine(jax.tree.unflatten(self.treedef, leaves), self.rest)

    def __call__(self, *args, **kwargs):
        return self.operator(*args, **kwargs)

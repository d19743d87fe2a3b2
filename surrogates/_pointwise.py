r"""Pointwise building blocks shared by the learned operators (private).

Everything here acts on one unbatched field ``(C, *spatial)`` and mixes channels only, point by
point, so it commutes with any change of resolution: a pointwise layer evaluated on a grid equals
the same layer evaluated on a finer grid at the shared points, exactly.
"""

import math
from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray

from pdejax.grids import per_axis as _core_per_axis


def gelu(x: Array) -> Array:
    r"""Exact GELU, $x\,\Phi(x)$ (the FNO paper's and PyTorch's default, not the tanh approximation).

    A module-level function, so models built with the default compare equal and share one
    compiled program.
    """
    return jax.nn.gelu(x, approximate=False)


def per_axis(value, ndim: int, name: str, who: str, cast=int) -> tuple:
    """One value per spatial axis from a scalar or a sequence; ValueError on a length mismatch."""
    return _core_per_axis(value, ndim, name, cast, who)


def check_count(value: int, name: str, who: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or int(value) != value or value < minimum:
        raise ValueError(f"{who}: `{name}` must be an integer >= {minimum}, got {value!r}.")
    return int(value)


class ChannelLinear(eqx.Module):
    r"""$y_o(x) = \sum_i W_{oi}\, u_i(x) + b_o$ at every point: a 1x1 convolution.

    ``in_features + 1`` fan-in uniform initialisation, as ``torch.nn.Conv1d(k=1)``.
    Parameters: ``C_out * C_in + C_out`` (``C_out * C_in`` without bias).
    """

    weight: Float[Array, "C_out C_in"]
    bias: Float[Array, " C_out"] | None

    def __init__(self, in_channels: int, out_channels: int, *, bias: bool = True, key):
        wkey, bkey = jr.split(key)
        bound = 1.0 / math.sqrt(in_channels)
        self.weight = jr.uniform(wkey, (out_channels, in_channels), minval=-bound, maxval=bound)
        self.bias = jr.uniform(bkey, (out_channels,), minval=-bound, maxval=bound) if bias else None

    def __call__(self, u: Float[Array, "C_in *spatial"]) -> Float[Array, "C_out *spatial"]:
        y = jnp.tensordot(self.weight.astype(u.dtype), u, axes=(1, 0))
        if self.bias is not None:
            y = y + self.bias.astype(u.dtype).reshape((-1,) + (1,) * (u.ndim - 1))
        return y


class ChannelMLP(eqx.Module):
    """Pointwise MLP over channels: ``ChannelLinear`` layers with ``activation`` between them.

    ``widths = (C_in, h_1, ..., C_out)``; no activation after the last layer.
    Parameters: $\\sum_l (w_l w_{l+1} + w_{l+1})$.
    """

    layers: tuple[ChannelLinear, ...]
    activation: Callable[[Array], Array]

    def __init__(self, widths: Sequence[int], activation, *, key):
        keys = jr.split(key, len(widths) - 1)
        self.layers = tuple(
            ChannelLinear(a, b, key=k) for a, b, k in zip(widths[:-1], widths[1:], keys)
        )
        self.activation = activation

    def __call__(self, u: Float[Array, "C_in *spatial"]) -> Float[Array, "C_out *spatial"]:
        for i, layer in enumerate(self.layers):
            u = layer(u)
            if i < len(self.layers) - 1:
                u = self.activation(u)
        return u


class InstanceNorm(eqx.Module):
    r"""Per-channel normalisation over the spatial axes with a learned affine map,

    $y_c = \gamma_c (u_c - \bar u_c) / \sqrt{\overline{(u_c - \bar u_c)^2} + \epsilon} + \beta_c$.

    Means are grid averages, so they converge with resolution (for smooth fields the average is
    spectrally accurate). Parameters: ``2 C``.
    """

    scale: Float[Array, " C"]
    shift: Float[Array, " C"]
    eps: float = eqx.field(static=True, default=1e-5)

    def __init__(self, channels: int, eps: float = 1e-5):
        self.scale = jnp.ones((channels,))
        self.shift = jnp.zeros((channels,))
        self.eps = eps

    def __call__(self, u: Float[Array, "C *spatial"]) -> Float[Array, "C *spatial"]:
        axes = tuple(range(1, u.ndim))
        mean = jnp.mean(u, axis=axes, keepdims=True)
        var = jnp.mean((u - mean) ** 2, axis=axes, keepdims=True)
        shape = (-1,) + (1,) * (u.ndim - 1)
        scale = self.scale.astype(u.dtype).reshape(shape)
        shift = self.shift.astype(u.dtype).reshape(shape)
        return scale * (u - mean) * jax.lax.rsqrt(var + self.eps) + shift


def coordinate_channels(spatial: Sequence[int], dtype) -> Float[Array, "D *spatial"]:
    """The grid coordinates $x_j = j / N$ on $[0, 1)^d$, one channel per axis (as neuraloperator)."""
    axes = [jnp.arange(n, dtype=dtype) / n for n in spatial]
    return jnp.stack(jnp.meshgrid(*axes, indexing="ij"))


def pad_right(u: Array, pads: Sequence[int]) -> Array:
    """Zero-pad the trailing spatial axes on the right (the FNO paper's domain padding)."""
    if not any(pads):
        return u
    widths = [(0, 0)] * (u.ndim - len(pads)) + [(0, p) for p in pads]
    return jnp.pad(u, widths)


def crop(u: Array, spatial: Sequence[int]) -> Array:
    index = (slice(None),) * (u.ndim - len(spatial)) + tuple(slice(0, n) for n in spatial)
    return u[index]


def count_params(model) -> int:
    """Number of real scalars in the inexact array leaves of ``model``."""
    leaves = jax.tree.leaves(eqx.filter(model, eqx.is_inexact_array))
    return int(sum(x.size * (2 if jnp.iscomplexobj(x) else 1) for x in leaves))


PRNGKey = PRNGKeyArray

r"""The Fourier Neural Operator (Li et al., ICLR 2021) in 1, 2 and 3 dimensions."""

import math
from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

import pdejax

from ._pointwise import (
    ChannelLinear,
    ChannelMLP,
    InstanceNorm,
    check_count,
    coordinate_channels,
    crop,
    gelu,
    pad_right,
    per_axis,
)
from .spectral_conv import (
    AbstractSpectralConv,
    SpectralConv,
    check_resolution,
    init_modes,
    spectral_shape,
)


class FNO(pdejax.AbstractOperator):
    r"""Fourier Neural Operator: lifting, Fourier layers with a pointwise skip, projection.

    $$v_0 = P_{\uparrow}([a; x]),\qquad
    v_{l+1} = \sigma\big(\mathrm{N}_l(\mathcal K_l v_l) + W_l v_l + b_l\big),\qquad
    u = Q(v_L),$$

    with $\mathcal K_l$ a :class:`SpectralConv` (kept modes $-m_i..m_i-1$ on full axes,
    $0..m_d-1$ on the last), $W_l$ a 1x1 convolution, $\sigma$ the activation (none after the last
    layer), $\mathrm N_l$ an optional instance norm, $P_\uparrow$ the lifting (linear, or a
    two-layer MLP of width ``lifting_width``) and $Q$ a two-layer pointwise MLP of width
    ``projection_width``. With ``coordinates=True`` the grid coordinates $x_j = j/N$ on $[0,1)^d$
    are appended to the input channels (as the paper and neuraloperator do). With ``padding`` the
    lifted field is zero-padded on the right of each axis by ``round(padding * N)`` points before
    the Fourier layers and cropped after them, for non-periodic data (Darcy).

    Single sample ``(C_in, *spatial)`` in, ``(C_out, *spatial)`` out, at any resolution with at
    least ``2 m_i`` points per full axis and ``2 (m_d - 1)`` on the last (a :class:`ValueError`
    otherwise). Differentiable in every weight and in the input.

    Resolution invariance: every layer but $\mathcal K_l$ is pointwise and $\mathcal K_l$ only
    reads Fourier-series coefficients, so for a band-limited periodic input the outputs at $N$
    and $2N$ agree at shared points up to the aliasing of the activations' high harmonics, which
    decays faster than any power of $N$ (round-off in float64 on moderate grids; tested). The
    coordinate channels are a non-periodic sawtooth and zero padding is a jump, so with either
    the agreement is only to the discretisation error of those features.

    Parameter count (real scalars; complex weights count twice), $d_0 = C_{in} + d\,[\text{coordinates}]$,
    $M = \prod_{i<d} 2 m_i \cdot m_d$:

    $$\underbrace{(d_0+1) W}_{\text{lifting}} \;+\; L\big(2 W^2 M + W^2 + W + 2W[\text{norm}]\big)
    \;+\; \underbrace{(W+1) P + (P+1) C_{out}}_{\text{projection}}$$

    (with ``lifting_width`` $H$ the lifting is $(d_0+1) H + (H+1) W$); see :func:`fno_num_params`.

    Args:
        in_channels, out_channels: channel counts (they may differ).
        modes: kept modes per axis; its length (1, 2, 3) is the spatial dimension.
        width: channels $W$ of the Fourier layers.
        num_layers: number $L$ of Fourier layers.
        lifting_width: hidden width of a two-layer lifting MLP; ``None`` for a linear lifting.
        projection_width: hidden width $P$ of the projection MLP.
        coordinates: append grid coordinates as input channels.
        padding: domain padding as a fraction of the points per axis (one value or per axis).
        activation: pointwise nonlinearity, default exact GELU.
        norm: instance normalisation after each spectral convolution.
        conv: factory ``conv(in_channels, out_channels, modes, key=)`` of the spectral layers
            (default :class:`SpectralConv`; :class:`TFNO` passes factorised ones).
        key: PRNG key (keyword-only).

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax.surrogates import FNO
        >>> fno = FNO(1, 2, modes=(6, 6), width=8, key=jr.key(0))
        >>> fno(jnp.ones((1, 32, 32))).shape, fno(jnp.ones((1, 64, 64))).shape
        ((2, 32, 32), (2, 64, 64))

    Reference: Z. Li, N. Kovachki, K. Azizzadenesheli, B. Liu, K. Bhattacharya, A. Stuart,
    A. Anandkumar, "Fourier Neural Operator for Parametric Partial Differential Equations",
    ICLR 2021.
    """

    lifting: ChannelMLP
    convs: tuple[AbstractSpectralConv, ...]
    skips: tuple[ChannelLinear, ...]
    norms: tuple[InstanceNorm, ...] | None
    projection: ChannelMLP
    activation: Callable[[Array], Array]
    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    modes: tuple[int, ...] = eqx.field(static=True)
    width: int = eqx.field(static=True)
    num_layers: int = eqx.field(static=True)
    coordinates: bool = eqx.field(static=True)
    padding: tuple[float, ...] = eqx.field(static=True)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        modes,
        width: int,
        *,
        num_layers: int = 4,
        lifting_width: int | None = None,
        projection_width: int = 128,
        coordinates: bool = True,
        padding=0.0,
        activation: Callable[[Array], Array] = gelu,
        norm: bool = False,
        conv: Callable[..., AbstractSpectralConv] = SpectralConv,
        key,
    ):
        who = type(self).__name__
        self.in_channels = check_count(in_channels, "in_channels", who)
        self.out_channels = check_count(out_channels, "out_channels", who)
        self.modes = init_modes(modes, who)
        self.width = check_count(width, "width", who)
        self.num_layers = check_count(num_layers, "num_layers", who)
        projection_width = check_count(projection_width, "projection_width", who)
        ndim = len(self.modes)
        self.padding = per_axis(padding, ndim, "padding", who, cast=float)
        if any(not 0.0 <= p <= 1.0 for p in self.padding):
            raise ValueError(
                f"{who}: `padding` is a fraction of the points per axis in [0, 1], "
                f"got {self.padding}; e.g. padding=0.1 pads 9 points at N=85."
            )
        self.coordinates = bool(coordinates)
        self.activation = activation
        lkey, ckey, skey, pkey = jr.split(key, 4)
        d0 = in_channels + (ndim if coordinates else 0)
        if lifting_width is None:
            lift = (d0, width)
        else:
            lift = (d0, check_count(lifting_width, "lifting_width", who), width)
        self.lifting = ChannelMLP(lift, activation, key=lkey)
        ckeys = jr.split(ckey, num_layers)
        skeys = jr.split(skey, num_layers)
        self.convs = tuple(conv(width, width, self.modes, key=k) for k in ckeys)
        self.skips = tuple(ChannelLinear(width, width, key=k) for k in skeys)
        self.norms = tuple(InstanceNorm(width) for _ in range(num_layers)) if norm else None
        self.projection = ChannelMLP((width, projection_width, out_channels), activation, key=pkey)

    @property
    def in_shape(self) -> tuple[int | None, ...]:
        return (self.in_channels, *(None,) * len(self.modes))

    def evaluate(self, a: Float[Array, "C_in *spatial"]) -> Float[Array, "C_out *spatial"]:
        spatial = a.shape[1:]
        check_resolution(spatial, self.modes, type(self).__name__)
        x = a
        if self.coordinates:
            x = jnp.concatenate([a, coordinate_channels(spatial, a.dtype)])
        x = self.lifting(x)
        x = pad_right(x, [round(p * n) for p, n in zip(self.padding, spatial)])
        for layer in range(self.num_layers):
            y = self.convs[layer](x)
            if self.norms is not None:
                y = self.norms[layer](y)
            x = y + self.skips[layer](x)
            if layer < self.num_layers - 1:
                x = self.activation(x)
        return self.projection(crop(x, spatial))


def fno_num_params(
    in_channels: int,
    out_channels: int,
    modes,
    width: int,
    *,
    num_layers: int = 4,
    lifting_width: int | None = None,
    projection_width: int = 128,
    coordinates: bool = True,
    norm: bool = False,
) -> int:
    """Parameter count of :class:`FNO` by the formula in its docstring (complex counts twice).

    Example:
        >>> import equinox as eqx, jax, jax.random as jr
        >>> from pdejax.surrogates import FNO, fno_num_params
        >>> fno = FNO(1, 1, (8,), 16, key=jr.key(0))
        >>> n = sum(x.size for x in jax.tree.leaves(eqx.filter(fno, eqx.is_array)))
        >>> fno_num_params(1, 1, (8,), 16) == n
        True
    """
    modes = init_modes(modes, "fno_num_params")
    d0 = in_channels + (len(modes) if coordinates else 0)
    if lifting_width is None:
        lifting = (d0 + 1) * width
    else:
        lifting = (d0 + 1) * lifting_width + (lifting_width + 1) * width
    spectral = 2 * width * width * math.prod(spectral_shape(modes))
    layer = spectral + width * width + width + (2 * width if norm else 0)
    projection = (width + 1) * projection_width + (projection_width + 1) * out_channels
    return lifting + num_layers * layer + projection

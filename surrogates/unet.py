r"""U-Net (Ronneberger et al. 2015) in 1D and 2D, the convolutional baseline of the FNO paper."""

from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

import pdejax

from ._pointwise import check_count, gelu


def _groups(channels: int) -> int:
    for g in (8, 4, 2):
        if channels % g == 0:
            return g
    return 1


class _DoubleConv(eqx.Module):
    """conv 3 -> group norm -> activation, twice."""

    conv1: eqx.nn.Conv
    norm1: eqx.nn.GroupNorm
    conv2: eqx.nn.Conv
    norm2: eqx.nn.GroupNorm

    def __init__(self, ndim, cin, cout, padding_mode, *, key):
        k1, k2 = jr.split(key)
        kw = dict(kernel_size=3, padding=1, padding_mode=padding_mode)
        self.conv1 = eqx.nn.Conv(ndim, cin, cout, key=k1, **kw)
        self.norm1 = eqx.nn.GroupNorm(_groups(cout), cout)
        self.conv2 = eqx.nn.Conv(ndim, cout, cout, key=k2, **kw)
        self.norm2 = eqx.nn.GroupNorm(_groups(cout), cout)

    def __call__(self, x, activation):
        x = activation(self.norm1(self.conv1(x)))
        return activation(self.norm2(self.conv2(x)))


def _pool(x: Array) -> Array:
    """2x max pooling over every spatial axis of ``(C, *spatial)``."""
    shape = [x.shape[0]]
    for n in x.shape[1:]:
        shape += [n // 2, 2]
    return jnp.max(x.reshape(shape), axis=tuple(range(2, 2 * x.ndim, 2)))


class UNet(pdejax.AbstractOperator):
    r"""U-Net on ``(C_in, *spatial)`` in 1D or 2D: an encoder of ``num_levels`` 2x max-pool
    stages and a decoder of 2x transposed convolutions, with skip connections concatenated at
    each scale.

    Each stage is two 3x3 (or 3) convolutions with group normalisation and ``activation``; the
    widths double per level from ``width``; a final 1x1 convolution maps to ``out_channels``.
    Group norm (not batch norm) keeps the model a pure function of one sample. With
    ``padding_mode="CIRCULAR"`` the convolutions wrap around (periodic data).

    Not resolution-invariant (a convolution's stencil is fixed in grid points); any size
    divisible by $2^{\text{num\_levels}}$ is accepted, others raise a :class:`ValueError`.
    Differentiable in every weight and in the input.

    Parameters: per double convolution $3^d (c_{in} + c_{out}) c_{out} + 2 c_{out} + 4 c_{out}$
    (two convolutions with bias, two affine group norms), plus $2^d c_{2w} c_w + c_w$ per
    transposed convolution and $w\,C_{out} + C_{out}$ for the output layer.

    Args:
        num_spatial_dims: 1 or 2.
        in_channels, out_channels: channel counts.
        width: channels at the finest level.
        num_levels: number of down-sampling stages.
        activation: pointwise nonlinearity (exact GELU by default).
        padding_mode: ``"ZEROS"`` or ``"CIRCULAR"``.
        key: PRNG key (keyword-only).

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax.surrogates import UNet
        >>> net = UNet(2, 3, 1, width=8, num_levels=2, key=jr.key(0))
        >>> net(jnp.ones((3, 16, 16))).shape
        (1, 16, 16)

    Reference: O. Ronneberger, P. Fischer, T. Brox, "U-Net: Convolutional Networks for
    Biomedical Image Segmentation", MICCAI 2015.
    """

    encoders: tuple[_DoubleConv, ...]
    upsamples: tuple[eqx.nn.ConvTranspose, ...]
    decoders: tuple[_DoubleConv, ...]
    head: eqx.nn.Conv
    activation: Callable[[Array], Array]
    num_spatial_dims: int = eqx.field(static=True)
    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    num_levels: int = eqx.field(static=True)

    def __init__(
        self,
        num_spatial_dims: int,
        in_channels: int,
        out_channels: int,
        *,
        width: int = 32,
        num_levels: int = 3,
        activation: Callable[[Array], Array] = gelu,
        padding_mode: str = "ZEROS",
        key,
    ):
        who = "UNet"
        if num_spatial_dims not in (1, 2):
            raise ValueError(f"{who}: `num_spatial_dims` must be 1 or 2, got {num_spatial_dims}.")
        if padding_mode not in ("ZEROS", "CIRCULAR"):
            raise ValueError(f"{who}: `padding_mode` must be 'ZEROS' or 'CIRCULAR'.")
        self.num_spatial_dims = num_spatial_dims
        self.in_channels = check_count(in_channels, "in_channels", who)
        self.out_channels = check_count(out_channels, "out_channels", who)
        self.num_levels = check_count(num_levels, "num_levels", who, minimum=0)
        width = check_count(width, "width", who)
        self.activation = activation
        widths = [width * 2**level for level in range(num_levels + 1)]
        keys = iter(jr.split(key, 3 * num_levels + 2))
        d = num_spatial_dims
        self.encoders = tuple(
            _DoubleConv(d, c_in, c_out, padding_mode, key=next(keys))
            for c_in, c_out in zip([in_channels, *widths[:-1]], widths)
        )
        self.upsamples = tuple(
            eqx.nn.ConvTranspose(d, widths[lv + 1], widths[lv], 2, stride=2, key=next(keys))
            for lv in reversed(range(num_levels))
        )
        self.decoders = tuple(
            _DoubleConv(d, 2 * widths[lv], widths[lv], padding_mode, key=next(keys))
            for lv in reversed(range(num_levels))
        )
        self.head = eqx.nn.Conv(d, width, out_channels, 1, key=next(keys))

    @property
    def in_shape(self) -> tuple[int | None, ...]:
        return (self.in_channels, *(None,) * self.num_spatial_dims)

    def evaluate(self, a: Float[Array, "C_in *spatial"]) -> Float[Array, "C_out *spatial"]:
        factor = 2**self.num_levels
        if any(n % factor for n in a.shape[1:]):
            raise ValueError(
                f"UNet: spatial size {a.shape[1:]} must be divisible by 2**num_levels = {factor} "
                f"(num_levels={self.num_levels}); pad or resample the input, or use fewer levels."
            )
        dtype = a.dtype
        x, skips = a, []
        for level, enc in enumerate(self.encoders):
            if level > 0:
                x = _pool(x)
            x = enc(x, self.activation)
            skips.append(x)
        for up, dec, skip in zip(self.upsamples, self.decoders, reversed(skips[:-1])):
            x = dec(jnp.concatenate([up(x), skip]), self.activation)
        return self.head(x).astype(dtype)

r"""Spectral convolution: the Fourier layer of the FNO, in 1, 2 and 3 dimensions.

$$(\mathcal K u)_o(x) = \mathcal F^{-1}\Big[\sum_i R_{oi}(k)\, \hat u_i(k)\Big](x),
\qquad k \in \mathcal M,$$

where $\hat u$ are the Fourier-series coefficients of $u$ on the periodic unit box (``rfftn`` with
``norm="forward"``, so they do not depend on the grid) and $\mathcal M$ is the set of kept modes:
along every axis but the last, the frequencies $-m_i, \dots, m_i - 1$ (both the positive and the
negative block, as in Li et al. 2021); along the last (half-spectrum) axis $0, \dots, m_d - 1$.
Everything outside $\mathcal M$ is set to zero.

Two consequences of the real (half-spectrum) inverse transform, shared with the paper's layer and
neuraloperator's: the imaginary part of the zero-frequency weight $R(0)$ only produces
$\mathrm{Im}\,\hat y(0)$, which is discarded, so it never receives a gradient; and on the
$k_d = 0$ plane a kept frequency whose conjugate is not kept (e.g. $(-m_1, 0)$) is halved by the
Hermitian projection.

Resolution: because $\hat u$ is grid-independent for a band-limited $u$, the layer is the same
function at every resolution that holds the kept modes, $N_i \ge 2 m_i$ on full axes and
$N_d \ge 2 (m_d - 1)$ on the last; coarser inputs raise a :class:`ValueError`.

The transforms are done one axis at a time and truncated as soon as possible (the last axis first,
then only the kept columns of the others), which is cheaper than a full ``rfftn`` for few modes;
they are :func:`pdejax.grids.fft.rfftn_modes` and :func:`~pdejax.grids.fft.irfftn_modes`, so a
layer on a field sharded along its spatial axes (all but the last) communicates only one
all-reduce of the kept-mode block, never the field.
"""

import abc
import math
from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Complex, Float

import pdejax
from pdejax.grids import fft

from ._pointwise import check_count, per_axis


def spectral_shape(modes: Sequence[int]) -> tuple[int, ...]:
    """Shape of the kept-mode block: ``2 m_i`` on full axes, ``m_d`` on the last."""
    return (*(2 * m for m in modes[:-1]), modes[-1])


def min_points(modes: Sequence[int]) -> tuple[int, ...]:
    """Fewest grid points per axis that hold the kept modes without overlap."""
    return (*(2 * m for m in modes[:-1]), max(2 * (modes[-1] - 1), 1))


def check_resolution(spatial: Sequence[int], modes: Sequence[int], who: str) -> None:
    """ValueError naming ``modes`` and the minimum resolution when the grid is too coarse."""
    need = min_points(modes)
    for axis, (n, m, k) in enumerate(zip(spatial, modes, need)):
        if n < k:
            rule = "2 * (modes - 1) on the last axis" if axis == len(modes) - 1 else "2 * modes"
            raise ValueError(
                f"{who}: the input has {n} points along spatial axis {axis}, too few for "
                f"`modes[{axis}]={m}`: at least {k} points are needed ({rule}). Evaluate on a finer "
                f"grid (>= {tuple(need)}) or build the model with fewer `modes`."
            )


def forward_modes(u: Float[Array, "C *spatial"], modes: Sequence[int]) -> Complex[Array, "..."]:
    """Fourier coefficients of the kept modes, ``(C, 2 m_1, ..., 2 m_{d-1}, m_d)``:
    :func:`pdejax.grids.fft.rfftn_modes` (replicated over spatial mesh axes when ``u`` is
    sharded: one all-reduce of this small block)."""
    return fft.rfftn_modes(u, tuple(modes), norm="forward")


def inverse_modes(
    x: Complex[Array, "..."], modes: Sequence[int], spatial: Sequence[int]
) -> Float[Array, "C *spatial"]:
    """Inverse of :func:`forward_modes`: zero-fill the other frequencies and transform back
    (:func:`pdejax.grids.fft.irfftn_modes`; each device evaluates only its own rows)."""
    return fft.irfftn_modes(x, tuple(modes), tuple(spatial), norm="forward")


class AbstractSpectralConv(pdejax.AbstractOperator):
    """A Fourier layer: truncated transform, a learned map on the kept modes, inverse transform.

    Subclasses store the weights (dense, or factorised in :mod:`pdejax.surrogates.tfno`) and
    implement :meth:`contract`, the per-mode channel map. Input ``(C_in, *spatial)`` at any
    resolution that holds the modes; output ``(C_out, *spatial)``.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax.surrogates import AbstractSpectralConv, SpectralConv
        >>> conv = SpectralConv(2, 3, (4,), key=jr.key(0))
        >>> isinstance(conv, AbstractSpectralConv), conv(jnp.ones((2, 16))).shape
        (True, (3, 16))
    """

    in_channels: eqx.AbstractVar[int]
    out_channels: eqx.AbstractVar[int]
    modes: eqx.AbstractVar[tuple[int, ...]]

    @abc.abstractmethod
    def contract(self, x: Complex[Array, "C_in *kept"]) -> Complex[Array, "C_out *kept"]:
        """$y_o(k) = \\sum_i R_{oi}(k) x_i(k)$ on the kept modes."""

    @property
    def in_shape(self) -> tuple[int | None, ...]:
        return (self.in_channels, *(None,) * len(self.modes))

    def evaluate(self, a: Float[Array, "C_in *spatial"]) -> Float[Array, "C_out *spatial"]:
        spatial = a.shape[1:]
        check_resolution(spatial, self.modes, type(self).__name__)
        y = self.contract(forward_modes(a, self.modes))
        return inverse_modes(y, self.modes, spatial).astype(a.dtype)

    def num_dense_params(self) -> int:
        """Real parameters of the dense weight: $2\\, C_{out} C_{in} \\prod_i |\\mathcal M_i|$."""
        return 2 * self.out_channels * self.in_channels * math.prod(spectral_shape(self.modes))


def init_modes(modes, who: str) -> tuple[int, ...]:
    if isinstance(modes, int):
        modes = (modes,)
    modes = tuple(modes)
    if not 1 <= len(modes) <= 3:
        raise ValueError(f"{who}: `modes` needs one entry per spatial axis (1 to 3), got {modes}.")
    return tuple(check_count(m, f"modes[{i}]", who) for i, m in enumerate(modes))


class SpectralConv(AbstractSpectralConv):
    r"""Dense spectral convolution (the Fourier layer of Li et al. 2021), 1D, 2D or 3D.

    One complex weight $R(k) \in \mathbb C^{C_{out}\times C_{in}}$ per kept mode, stored as a real
    array ``(2, C_out, C_in, *kept)`` (real and imaginary parts), so optimisers see real
    parameters. Parameters: $2\, C_{out} C_{in} \prod_{i<d} 2 m_i \cdot m_d$.

    Differentiable in the input and the weights. Exact (round-off) resolution invariance on
    band-limited inputs whose frequencies lie inside the kept set.

    Args:
        in_channels, out_channels: channel counts.
        modes: kept modes per axis, an int for 1D or a tuple (its length sets the dimension).
        key: PRNG key (keyword-only). Initialisation as the paper: uniform in
            $[0, 1/(C_{in} C_{out}))$ for both parts.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax.surrogates import SpectralConv
        >>> conv = SpectralConv(2, 3, (4, 4), key=jr.key(0))
        >>> conv(jnp.ones((2, 16, 16))).shape
        (3, 16, 16)

    Reference: Z. Li et al., "Fourier Neural Operator for Parametric Partial Differential
    Equations", ICLR 2021.
    """

    weight: Float[Array, "2 C_out C_in *kept"]
    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    modes: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, in_channels: int, out_channels: int, modes, *, key):
        who = "SpectralConv"
        self.in_channels = check_count(in_channels, "in_channels", who)
        self.out_channels = check_count(out_channels, "out_channels", who)
        self.modes = init_modes(modes, who)
        scale = 1.0 / (in_channels * out_channels)
        shape = (2, out_channels, in_channels, *spectral_shape(self.modes))
        self.weight = scale * jr.uniform(key, shape)

    def contract(self, x: Complex[Array, "C_in *kept"]) -> Complex[Array, "C_out *kept"]:
        w = (self.weight[0] + 1j * self.weight[1]).astype(x.dtype)
        return jnp.einsum("oi...,i...->o...", w, x)


def per_axis_modes(modes, ndim: int, who: str) -> tuple[int, ...]:
    return per_axis(modes, ndim, "modes", who)

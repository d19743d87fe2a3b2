r"""Tensorized FNO (Kossaifi et al., TMLR 2024): spectral weights in Tucker, CP or tensor-train form.

The dense weight of a Fourier layer is a complex tensor $R \in \mathbb C^{C_{out}\times C_{in}\times
K_1\times\cdots\times K_d}$ ($K$ the kept-mode block). Here it is never formed: the input's kept
modes are contracted with the factors directly (one ``einsum``, path chosen by ``opt_einsum``):

- Tucker: $R = G \times_1 U_o \times_2 U_i \times_3 U_1 \cdots$, core ranks $(r_o, r_i, r_1, \dots)$;
- CP: $R = \sum_{r=1}^{R} \lambda_r\, a_o^{(r)} \otimes a_i^{(r)} \otimes a_1^{(r)} \otimes \cdots$;
- tensor train: $R[o, i, k_1, \dots] = G_0[o] G_1[i] G_2[k_1] \cdots$ (matrix products of cores).

``rank`` is the fraction of the dense parameter count kept: rank 0.1 holds about 10% of the
dense spectral parameters (the ranks are solved for and rounded; ``compression`` reports the
exact fraction). Complex factors are stored as real/imaginary pairs.
"""

import math
import string

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Complex, Float

import pdejax

from ._pointwise import check_count
from .fno import FNO
from .spectral_conv import AbstractSpectralConv, init_modes, spectral_shape

_FACTORIZATIONS = ("tucker", "cp", "tt")


def _solve_scale(fn, target: float) -> float:
    """Largest s in (0, 1] with fn(s) <= target, fn increasing (bisection)."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if fn(mid) <= target else (lo, mid)
    return max(lo, 1e-12)


def tucker_ranks(shape, rank: float) -> tuple[int, ...]:
    """Ranks $r_j = \\lceil s\\, n_j \\rceil$ with core + factors about ``rank`` of the dense size."""
    target = rank * math.prod(shape)

    def size(s):
        r = [max(1, math.ceil(s * n)) for n in shape]
        return math.prod(r) + sum(n * k for n, k in zip(shape, r))

    s = _solve_scale(size, target)
    return tuple(max(1, math.ceil(s * n)) for n in shape)


def cp_rank(shape, rank: float) -> int:
    """$R$ with $R (1 + \\sum_j n_j)$ about ``rank`` of the dense size."""
    return max(1, round(rank * math.prod(shape) / (1 + sum(shape))))


def tt_rank(shape, rank: float) -> int:
    """Uniform TT rank $r$ with $r(n_0 + n_{D-1}) + r^2 \\sum_{0<j<D-1} n_j$ about ``rank`` of dense."""
    a, b, c = sum(shape[1:-1]), shape[0] + shape[-1], -rank * math.prod(shape)
    r = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a) if a else -c / b
    return max(1, round(r))


def _complex(w):
    return w[0] + 1j * w[1]


class FactorizedSpectralConv(AbstractSpectralConv):
    r"""A spectral convolution whose weight is a Tucker, CP or tensor-train tensor.

    Same map as :class:`SpectralConv` with $R$ factorised; the input is contracted with the
    factors without forming $R$. Parameters (real; complex counts twice), $n = (C_{out},
    C_{in}, K_1, \dots)$: Tucker $2(\prod_j r_j + \sum_j n_j r_j)$; CP $2R(1 + \sum_j n_j)$; TT
    $2(r n_0 + r n_{D-1} + r^2\sum_{0<j<D-1} n_j)$.

    Args:
        in_channels, out_channels, modes: as :class:`SpectralConv`.
        factorization: ``"tucker"``, ``"cp"`` or ``"tt"``.
        rank: fraction of the dense parameter count to keep, in (0, 1].
        key: PRNG key (keyword-only). Factors are normal, scaled so that the implied dense weight
            has standard deviation $\sqrt{2/(C_{in}+C_{out})}$ (neuraloperator's).

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax.surrogates import FactorizedSpectralConv
        >>> conv = FactorizedSpectralConv(8, 8, (6, 6), factorization="tucker", rank=0.1, key=jr.key(0))
        >>> round(conv.compression(), 2), conv(jnp.ones((8, 16, 16))).shape
        (0.1, (8, 16, 16))

    Reference: J. Kossaifi, N. Kovachki, K. Azizzadenesheli, A. Anandkumar, "Multi-Grid
    Tensorized Fourier Neural Operator for High-Resolution PDEs", TMLR 2024.
    """

    factors: tuple[Float[Array, "2 ..."], ...]
    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    modes: tuple[int, ...] = eqx.field(static=True)
    factorization: str = eqx.field(static=True)
    rank: float = eqx.field(static=True)

    def __init__(self, in_channels, out_channels, modes, *, factorization="tucker", rank=0.1, key):
        who = "FactorizedSpectralConv"
        self.in_channels = check_count(in_channels, "in_channels", who)
        self.out_channels = check_count(out_channels, "out_channels", who)
        self.modes = init_modes(modes, who)
        if factorization not in _FACTORIZATIONS:
            raise ValueError(
                f"{who}: `factorization` must be one of {_FACTORIZATIONS}, got {factorization!r}."
            )
        if not 0.0 < float(rank) <= 1.0:
            raise ValueError(
                f"{who}: `rank` is the fraction of dense parameters to keep, in (0, 1]; got {rank}."
            )
        self.factorization, self.rank = factorization, float(rank)
        shape = (out_channels, in_channels, *spectral_shape(self.modes))
        sigma = math.sqrt(2.0 / (in_channels + out_channels))
        # A product of complex normals with E|z|^2 = 2 s^2 each: the scales below make the
        # implied dense weight's E|R|^2 equal sigma^2.
        if factorization == "tucker":
            ranks = tucker_ranks(shape, self.rank)
            shapes = [ranks] + [(n, r) for n, r in zip(shape, ranks)]
            stds = [sigma / math.sqrt(2)] + [1.0 / math.sqrt(2 * r) for r in ranks]
        elif factorization == "cp":
            r = cp_rank(shape, self.rank)
            shapes = [(r,)] + [(n, r) for n in shape]
            per = math.sqrt((sigma**2 / r) ** (1 / len(shape)) / 2)
            stds = [1.0] + [per] * len(shape)
        else:
            r = tt_rank(shape, self.rank)
            ranks = [1] + [r] * (len(shape) - 1) + [1]
            shapes = [(ranks[j], n, ranks[j + 1]) for j, n in enumerate(shape)]
            per = math.sqrt((sigma**2 / r ** (len(shape) - 1)) ** (1 / len(shape)) / 2)
            stds = [per] * len(shape)
        keys = jr.split(key, len(shapes))
        factors = [s * jr.normal(k, (2, *sh)) for k, sh, s in zip(keys, shapes, stds)]
        if factorization == "cp":
            factors[0] = jnp.stack([jnp.ones(shapes[0]), jnp.zeros(shapes[0])])
        self.factors = tuple(factors)

    def _subscripts(self):
        """einsum subscripts of the factors over the weight's axes ``o, i, k_1..k_d``."""
        d = len(self.modes)
        kk = "xyz"[:d]
        axes = "oi" + kk
        if self.factorization == "tucker":
            ranks = "abcde"[: d + 2]
            return [ranks] + [ax + r for ax, r in zip(axes, ranks)], kk
        if self.factorization == "cp":
            return ["r"] + [ax + "r" for ax in axes], kk
        links = string.ascii_uppercase[: d + 3]
        subs = [links[j] + ax + links[j + 1] for j, ax in enumerate(axes)]
        return subs, kk

    def contract(self, x: Complex[Array, "C_in *kept"]) -> Complex[Array, "C_out *kept"]:
        subs, kk = self._subscripts()
        factors = [_complex(f).astype(x.dtype) for f in self.factors]
        if self.factorization == "tt":
            factors[0] = factors[0][0]  # drop the boundary rank-1 axes
            factors[-1] = factors[-1][..., 0]
            subs = list(subs)
            subs[0], subs[-1] = subs[0][1:], subs[-1][:-1]
        expr = ",".join(["i" + kk, *subs]) + "->o" + kk
        return jnp.einsum(expr, x, *factors, optimize="greedy")

    def dense_weight(self) -> Complex[Array, "C_out C_in *kept"]:
        """The implied dense weight (for tests and inspection; never used by the layer)."""
        subs, kk = self._subscripts()
        factors = [_complex(f) for f in self.factors]
        expr = ",".join(subs) + "->oi" + kk
        return jnp.einsum(expr, *factors)

    def num_params(self) -> int:
        return int(sum(math.prod(f.shape) for f in self.factors))

    def compression(self) -> float:
        """Parameters kept as a fraction of the dense spectral weight's."""
        return self.num_params() / self.num_dense_params()


class TFNO(pdejax.AbstractOperator):
    r"""A tensorized FNO: an :class:`FNO` whose Fourier layers are :class:`FactorizedSpectralConv`.

    Each layer's spectral weight is factorised separately (neuraloperator's default,
    ``joint_factorization=False``) with ``rank`` the fraction of its dense parameters kept.
    Everything else is the FNO's, with the same options (``**fno_kwargs``).

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax.surrogates import TFNO
        >>> net = TFNO(1, 1, (8, 8), 16, factorization="cp", rank=0.1, key=jr.key(0))
        >>> net(jnp.ones((1, 32, 32))).shape
        (1, 32, 32)

    Reference: J. Kossaifi et al., "Multi-Grid Tensorized Fourier Neural Operator for
    High-Resolution PDEs", TMLR 2024.
    """

    fno: FNO

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        modes,
        width: int,
        *,
        factorization: str = "tucker",
        rank: float = 0.1,
        key,
        **fno_kwargs,
    ):
        def conv(cin, cout, m, *, key):
            return FactorizedSpectralConv(
                cin, cout, m, factorization=factorization, rank=rank, key=key
            )

        self.fno = FNO(in_channels, out_channels, modes, width, conv=conv, key=key, **fno_kwargs)

    @property
    def in_shape(self) -> tuple[int | None, ...]:
        return self.fno.in_shape

    def evaluate(self, a: Float[Array, "C_in *spatial"]) -> Float[Array, "C_out *spatial"]:
        return self.fno.evaluate(a)

    def spectral_compression(self) -> float:
        """Spectral parameters kept, as a fraction of the dense FNO's spectral parameters."""
        kept = sum(c.num_params() for c in self.fno.convs)
        return kept / sum(c.num_dense_params() for c in self.fno.convs)

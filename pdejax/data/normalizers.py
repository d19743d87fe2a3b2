r"""Normalizers: fitted on the training split, stored with a run, applied around the model.

| kind | statistics | encode | as in |
|---|---|---|---|
| :class:`PointwiseGaussian` (``"pointwise"``) | mean and std per channel and grid point, over samples | $(x - \mu(x)) / (\sigma(x) + \epsilon)$ | the FNO paper's ``UnitGaussianNormalizer`` (Darcy, FNO-3D) |
| :class:`ChannelGaussian` (``"per_channel"``) | mean and std per channel, over samples and points | $(x - \mu_c) / (\sigma_c + \epsilon)$ | neuraloperator's per-channel normalizer |
| :class:`MinMax` (``"minmax"``) | min and max per channel | $(x - m_c) / (M_c - m_c)$, to $[0, 1]$ | neuraloperator's ``RangeNormalizer`` |

Each is an equinox module with ``encode`` and ``decode`` (its inverse) on one sample
``(C, *spatial)``. :class:`Normalized` wraps an operator so that it maps *raw* inputs to *raw*
outputs: ``decode_out(net(encode_in(a)))``; training through it computes the loss in raw units,
as the paper does. Statistics are fitted once, streaming over the training split in chunks
(:func:`fit_normalizer`, float64 accumulators), at the stored (finest) resolution; a pointwise
normalizer meets data at a coarser resolution by taking the same strided subset of its points
as the data (421 -> 85 is every 5th vertex), so every resolution uses the statistics of its own
points. Stored as HDF5 arrays (:func:`save_normalizers`), never pickled.
"""

import abc
import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import equinox as eqx
import h5py
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from ..core.interface import AbstractOperator

KINDS = ("none", "pointwise", "per_channel", "minmax")


def _stride_to(stats_shape, spatial) -> tuple:
    """Index taking stored-resolution statistics to the data's spatial shape."""
    index = []
    for n, s in zip(stats_shape, spatial):
        if n == s:
            index.append(slice(None))
        elif n % s == 0:
            index.append(slice(None, None, n // s))
        elif s > 1 and (n - 1) % (s - 1) == 0:
            index.append(slice(None, None, (n - 1) // (s - 1)))
        else:
            raise ValueError(
                f"normalizer: pointwise statistics fitted on {tuple(stats_shape)} points cannot "
                f"be matched to data on {tuple(spatial)} points (not a strided subset); "
                "evaluate at a resolution that divides the stored one, or use "
                "`per_channel` normalization."
            )
    return (slice(None), *index)


class AbstractNormalizer(eqx.Module):
    """``encode``/``decode`` of one sample ``(C, *spatial)``; ``decode(encode(x)) == x``."""

    kind: eqx.AbstractClassVar[str]

    @abc.abstractmethod
    def encode(self, x: Float[Array, "C *spatial"]) -> Float[Array, "C *spatial"]: ...

    @abc.abstractmethod
    def decode(self, y: Float[Array, "C *spatial"]) -> Float[Array, "C *spatial"]: ...

    @abc.abstractmethod
    def arrays(self) -> dict[str, np.ndarray]:
        """The statistics, for storage."""


class PointwiseGaussian(AbstractNormalizer):
    """Mean and standard deviation per channel and point (the FNO paper's normalizer).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(3.0, 2.0, (64, 1, 8))
        >>> norm = fit_normalizer("pointwise", [x])
        >>> bool(np.allclose(norm.decode(norm.encode(x[0])), x[0]))
        True
    """

    mean: Float[Array, "C *spatial"]
    std: Float[Array, "C *spatial"]
    eps: float = eqx.field(static=True, default=1e-5)
    kind = "pointwise"

    def _at(self, x):
        index = _stride_to(self.mean.shape[1:], x.shape[1:])
        return self.mean[index].astype(x.dtype), (self.std[index] + self.eps).astype(x.dtype)

    def encode(self, x):
        mean, scale = self._at(x)
        return (x - mean) / scale

    def decode(self, y):
        mean, scale = self._at(y)
        return y * scale + mean

    def arrays(self):
        return {"mean": np.asarray(self.mean), "std": np.asarray(self.std)}


class ChannelGaussian(AbstractNormalizer):
    """Mean and standard deviation per channel, over samples and points.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).normal(3.0, 2.0, (64, 2, 8))
        >>> norm = fit_normalizer("per_channel", [x])
        >>> bool(abs(float(norm.encode(x[0]).mean())) < 0.5)
        True
    """

    mean: Float[Array, " C"]
    std: Float[Array, " C"]
    eps: float = eqx.field(static=True, default=1e-5)
    kind = "per_channel"

    def _shaped(self, x):
        shape = (-1,) + (1,) * (x.ndim - 1)
        return self.mean.reshape(shape).astype(x.dtype), (self.std + self.eps).reshape(shape).astype(x.dtype)  # fmt: skip

    def encode(self, x):
        mean, scale = self._shaped(x)
        return (x - mean) / scale

    def decode(self, y):
        mean, scale = self._shaped(y)
        return y * scale + mean

    def arrays(self):
        return {"mean": np.asarray(self.mean), "std": np.asarray(self.std)}


class MinMax(AbstractNormalizer):
    """Per-channel affine map of the training range onto $[0, 1]$.

    Example:
        >>> import numpy as np
        >>> x = np.linspace(-2.0, 6.0, 40).reshape(5, 1, 8)
        >>> norm = fit_normalizer("minmax", [x])
        >>> round(float(norm.encode(x[0]).min()), 12), round(float(norm.encode(x[-1]).max()), 12)
        (0.0, 1.0)
    """

    low: Float[Array, " C"]
    high: Float[Array, " C"]
    kind = "minmax"

    def _shaped(self, x):
        shape = (-1,) + (1,) * (x.ndim - 1)
        low = self.low.reshape(shape).astype(x.dtype)
        span = jnp.where(self.high > self.low, self.high - self.low, 1.0)
        return low, span.reshape(shape).astype(x.dtype)

    def encode(self, x):
        low, span = self._shaped(x)
        return (x - low) / span

    def decode(self, y):
        low, span = self._shaped(y)
        return y * span + low

    def arrays(self):
        return {"low": np.asarray(self.low), "high": np.asarray(self.high)}


CLASSES = {c.kind: c for c in (PointwiseGaussian, ChannelGaussian, MinMax)}


def fit_normalizer(kind: str, chunks: Iterable[np.ndarray]) -> AbstractNormalizer | None:
    """Fit a normalizer of ``kind`` on the samples of ``chunks`` (arrays ``(B, C, *spatial)``,
    e.g. the training split read a few samples at a time), in float64; ``None`` for ``"none"``.

    Example:
        >>> import numpy as np
        >>> chunks = [np.full((2, 1, 4), 1.0), np.full((2, 1, 4), 3.0)]
        >>> fit_normalizer("per_channel", chunks).mean.tolist()
        [2.0]
    """
    if kind not in KINDS:
        raise ValueError(f"normalizer: unknown kind {kind!r}; use one of {', '.join(KINDS)}.")
    if kind == "none":
        return None
    count, total, squares, low, high = 0, None, None, None, None
    for chunk in chunks:
        x = np.asarray(chunk, np.float64)
        if not np.all(np.isfinite(x)):
            raise ValueError("normalizer: the training data hold NaN or inf; clean the file first.")
        if kind == "pointwise":
            s, q = x.sum(0), (x * x).sum(0)
            n = x.shape[0]
        else:
            axes = (0, *range(2, x.ndim))
            s, q = x.sum(axes), (x * x).sum(axes)
            n = x.size // x.shape[1]
        lo, hi = x.min((0, *range(2, x.ndim))), x.max((0, *range(2, x.ndim)))
        count += n
        total = s if total is None else total + s
        squares = q if squares is None else squares + q
        low = lo if low is None else np.minimum(low, lo)
        high = hi if high is None else np.maximum(high, hi)
    if count == 0:
        raise ValueError("normalizer: no training samples to fit on.")
    if kind == "minmax":
        return MinMax(jnp.asarray(low), jnp.asarray(high))
    mean = total / count
    # population std, as torch.std(unbiased=False) in the FNO paper's normalizer... of N samples
    std = np.sqrt(np.maximum(squares / count - mean * mean, 0.0))
    cls = PointwiseGaussian if kind == "pointwise" else ChannelGaussian
    return cls(jnp.asarray(mean), jnp.asarray(std))


class Normalized(AbstractOperator):
    """An operator between raw fields: ``outputs.decode(net(inputs.encode(a)))``.

    Either normalizer may be ``None`` (no normalization on that side). Only ``net`` is meant to
    be trained: build ``Normalized(net, ...)`` inside the loss from the trained ``net`` (the
    statistics are then constants), as :mod:`pdejax.experiment` does.

    Example:
        >>> import numpy as np, jax.numpy as jnp
        >>> norm = fit_normalizer("per_channel", [np.arange(8.0).reshape(2, 1, 4)])
        >>> op = Normalized(lambda a: a, norm, norm)  # identity in normalized units
        >>> np.round(op(jnp.arange(4.0)[None]), 12).tolist()
        [[0.0, 1.0, 2.0, 3.0]]
    """

    net: Callable
    inputs: AbstractNormalizer | None
    outputs: AbstractNormalizer | None

    @property
    def in_shape(self) -> tuple[int | None, ...]:
        shape = getattr(self.net, "in_shape", None)
        return tuple(shape) if shape is not None else (None,)

    def __call__(self, a):
        return self.evaluate(a)  # the net checks shapes itself

    def evaluate(self, a):
        x = a if self.inputs is None else self.inputs.encode(a)
        y = self.net(x)
        return y if self.outputs is None else self.outputs.decode(y)


def save_normalizers(
    path: str | os.PathLike, normalizers: dict[str, AbstractNormalizer | None]
) -> None:
    """Write ``{"inputs": ..., "outputs": ...}`` to an HDF5 file atomically (arrays only)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.attrs["format"] = "pdejax-normalizers"
        for side, norm in normalizers.items():
            group = f.create_group(side)
            group.attrs["kind"] = "none" if norm is None else norm.kind
            if norm is not None:
                for name, value in norm.arrays().items():
                    group.create_dataset(name, data=value)
                if hasattr(norm, "eps"):
                    group.attrs["eps"] = norm.eps
    os.replace(tmp, path)


def load_normalizers(path: str | os.PathLike) -> dict[str, AbstractNormalizer | None]:
    """Read what :func:`save_normalizers` wrote; a missing file means no normalization."""
    path = Path(path)
    if not path.exists():
        return {"inputs": None, "outputs": None}
    try:
        with h5py.File(path, "r") as f:
            out = {}
            for side in ("inputs", "outputs"):
                group = f[side]
                kind = str(group.attrs["kind"])
                if kind == "none":
                    out[side] = None
                    continue
                arrays = {k: jnp.asarray(group[k][...]) for k in group}
                extra = {"eps": float(group.attrs["eps"])} if "eps" in group.attrs else {}
                out[side] = CLASSES[kind](**arrays, **extra)
            return out
    except (OSError, KeyError) as err:
        raise ValueError(f"normalizers: {path} is damaged or incomplete ({err}).") from None


def describe(normalizers: dict) -> str:
    return json.dumps({k: "none" if v is None else v.kind for k, v in normalizers.items()})


__all__ = [
    "AbstractNormalizer",
    "ChannelGaussian",
    "KINDS",
    "MinMax",
    "Normalized",
    "PointwiseGaussian",
    "fit_normalizer",
    "load_normalizers",
    "save_normalizers",
]

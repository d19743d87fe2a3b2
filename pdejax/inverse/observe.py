r"""Observation operators $\mathcal O$: what of a forward model's output is measured.

An observation operator is a small :class:`equinox.Module` mapping the forward output (a state
``(C, *spatial)`` or a trajectory ``(T, C, *spatial)``) to the observed array. All are linear
selections, so they cost nothing in the gradient. Each checks the shape of what it is given and
raises a :class:`ValueError` naming the expected shape. Noise for synthetic data comes from
:class:`GaussianNoise` (with a key), never from inside the operator, so an objective stays
deterministic.
"""

import abc
import math
from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

__all__ = [
    "AbstractObservation",
    "Compose",
    "FullField",
    "GaussianNoise",
    "PointSensors",
    "Subsample",
    "TimeFrames",
    "random_sensors",
]


class AbstractObservation(eqx.Module):
    r"""An observation operator $y = \mathcal O(u)$; subclasses implement :meth:`__call__`.

    Contract: a pure, differentiable function of the forward model's output (one unbatched
    sample); the shape of its output is what the data must have. A user-defined observation is
    a small equinox module:

    Example:
        >>> import jax.numpy as jnp
        >>> class Mean(AbstractObservation):
        ...     def __call__(self, u):
        ...         return jnp.mean(u, axis=-1)
        >>> Mean()(jnp.arange(6.0).reshape(2, 3)).tolist()
        [1.0, 4.0]
    """

    @abc.abstractmethod
    def __call__(self, u: Float[Array, "..."]) -> Float[Array, "..."]:
        """The observed values of ``u``."""


class FullField(AbstractObservation):
    r"""The identity, $\mathcal O(u) = u$: every value of the forward output is observed.

    Example:
        >>> import jax.numpy as jnp
        >>> FullField()(jnp.ones((1, 4))).shape
        (1, 4)
    """

    def __call__(self, u: Float[Array, "..."]) -> Float[Array, "..."]:
        return u


class PointSensors(AbstractObservation):
    r"""Point values at fixed grid indices, $\mathcal O(u)_{\dots, s} = u_{\dots, i_s}$.

    ``indices`` holds one integer array per trailing spatial axis (the form ``np.nonzero``
    returns), all of the sensor count $S$; the output replaces the spatial axes by one axis of
    length $S$: a state ``(C, *spatial)`` gives ``(C, S)``, a trajectory ``(T, C, S)``.

    Args:
        indices: a sequence of ``ndim`` integer arrays of equal length, one per spatial axis.
        spatial_shape: the spatial shape the indices refer to (checked on every call).

    Example:
        >>> import jax.numpy as jnp
        >>> sensors = PointSensors(([0, 2], [1, 3]), spatial_shape=(4, 4))
        >>> sensors(jnp.arange(16.0).reshape(1, 4, 4)).tolist()
        [[1.0, 11.0]]
    """

    indices: tuple[tuple[int, ...], ...] = eqx.field(static=True)  # hashable: a static field
    spatial_shape: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, indices: Sequence, spatial_shape: Sequence[int]):
        spatial_shape = tuple(int(n) for n in spatial_shape)
        arrays = tuple(np.asarray(i) for i in indices)
        if len(arrays) != len(spatial_shape):
            raise ValueError(
                f"PointSensors: `indices` needs one integer array per spatial axis "
                f"({len(spatial_shape)} for spatial_shape={spatial_shape}), got {len(arrays)}."
            )
        for axis, (idx, n) in enumerate(zip(arrays, spatial_shape)):
            if idx.ndim != 1 or idx.shape != arrays[0].shape or idx.dtype.kind not in "iu":
                raise ValueError(
                    "PointSensors: `indices` must be 1-d integer arrays of equal length, got "
                    f"shapes {[a.shape for a in arrays]} and dtypes {[a.dtype for a in arrays]}."
                )
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                raise ValueError(
                    f"PointSensors: `indices[{axis}]` must lie in [0, {n}) for spatial_shape="
                    f"{spatial_shape}, got values in [{idx.min()}, {idx.max()}]."
                )
        self.indices = tuple(tuple(int(i) for i in idx) for idx in arrays)
        self.spatial_shape = spatial_shape

    @property
    def num_sensors(self) -> int:
        return len(self.indices[0])

    def __call__(self, u: Float[Array, "..."]) -> Float[Array, "..."]:
        d = len(self.spatial_shape)
        if tuple(jnp.shape(u)[-d:]) != self.spatial_shape or jnp.ndim(u) < d:
            raise ValueError(
                f"PointSensors: `u` has shape {tuple(jnp.shape(u))}; its trailing {d} axes must "
                f"be the sensors' spatial_shape {self.spatial_shape}."
            )
        return u[(Ellipsis, *(np.asarray(i, dtype=np.int32) for i in self.indices))]


def random_sensors(
    spatial_shape: Sequence[int],
    fraction: float,
    *,
    key: PRNGKeyArray,
    interior: bool = False,
) -> PointSensors:
    r"""``round(fraction * N)`` distinct sensor points drawn uniformly from the grid.

    Args:
        spatial_shape: the grid's spatial shape.
        fraction: the observed fraction of points, in (0, 1].
        key: PRNG key (keyword-only).
        interior: draw only from points off the boundary (for Dirichlet problems, whose
            boundary values carry no information).

    Example:
        >>> import jax.random as jr
        >>> random_sensors((8, 8), 0.25, key=jr.key(0)).num_sensors
        16
    """
    spatial_shape = tuple(int(n) for n in spatial_shape)
    if not 0 < fraction <= 1:
        raise ValueError(f"random_sensors: `fraction` must lie in (0, 1], got {fraction!r}.")
    mask = np.ones(spatial_shape, bool)
    if interior:
        mask[...] = False
        mask[tuple(slice(1, -1) for _ in spatial_shape)] = True
    candidates = np.flatnonzero(mask)
    count = max(1, round(fraction * math.prod(spatial_shape)))
    if count > candidates.size:
        raise ValueError(
            f"random_sensors: {count} sensors requested but only {candidates.size} points are "
            "available; lower `fraction`."
        )
    chosen = np.sort(np.asarray(jr.choice(key, candidates.size, (count,), replace=False)))
    return PointSensors(np.unravel_index(candidates[chosen], spatial_shape), spatial_shape)


class Subsample(AbstractObservation):
    r"""Every ``stride[i]``-th point along each trailing spatial axis, from ``offset[i]``.

    Example:
        >>> import jax.numpy as jnp
        >>> Subsample((2,))(jnp.arange(8.0)[None]).tolist()
        [[0.0, 2.0, 4.0, 6.0]]
    """

    stride: tuple[int, ...] = eqx.field(static=True)
    offset: tuple[int, ...] = eqx.field(static=True)

    def __init__(self, stride: Sequence[int], offset: Sequence[int] | None = None):
        stride = tuple(int(s) for s in stride)
        offset = (0,) * len(stride) if offset is None else tuple(int(o) for o in offset)
        if not stride or any(s < 1 for s in stride) or len(offset) != len(stride):
            raise ValueError(
                f"Subsample: `stride` must be positive ints, one per spatial axis, with an "
                f"`offset` of the same length; got stride={stride}, offset={offset}."
            )
        if any(not 0 <= o < s for o, s in zip(offset, stride)):
            raise ValueError(f"Subsample: each `offset` must lie in [0, stride), got {offset}.")
        self.stride, self.offset = stride, offset

    def __call__(self, u: Float[Array, "..."]) -> Float[Array, "..."]:
        if jnp.ndim(u) < len(self.stride):
            raise ValueError(
                f"Subsample: `u` has shape {tuple(jnp.shape(u))}, expected at least "
                f"{len(self.stride)} trailing spatial axes."
            )
        return u[(Ellipsis, *(slice(o, None, s) for o, s in zip(self.offset, self.stride)))]


class TimeFrames(AbstractObservation):
    r"""Selected frames of a trajectory ``(T, C, *spatial)``: $\mathcal O(u) = u_{t_j}$.

    Example:
        >>> import jax.numpy as jnp
        >>> TimeFrames((1, 3), num_frames=4)(jnp.arange(4.0)[:, None]).tolist()
        [[1.0], [3.0]]
    """

    frames: tuple[int, ...] = eqx.field(static=True)
    num_frames: int = eqx.field(static=True)

    def __init__(self, frames: Sequence[int], *, num_frames: int):
        frames = tuple(int(f) for f in frames)
        if not frames or any(not 0 <= f < num_frames for f in frames):
            raise ValueError(
                f"TimeFrames: `frames` must be indices in [0, {num_frames}) (num_frames), got "
                f"{frames}."
            )
        self.frames, self.num_frames = frames, int(num_frames)

    def __call__(self, u: Float[Array, "..."]) -> Float[Array, "..."]:
        if jnp.ndim(u) < 1 or jnp.shape(u)[0] != self.num_frames:
            raise ValueError(
                f"TimeFrames: `u` has shape {tuple(jnp.shape(u))}, expected a trajectory with "
                f"{self.num_frames} frames on axis 0."
            )
        return u[np.asarray(self.frames)]


class Compose(AbstractObservation):
    r"""$\mathcal O = \mathcal O_n \circ \dots \circ \mathcal O_1$: the operators applied in order.

    Example:
        >>> import jax.numpy as jnp
        >>> obs = Compose(TimeFrames((2,), num_frames=3), Subsample((2,)))
        >>> obs(jnp.ones((3, 1, 8))).shape
        (1, 1, 4)
    """

    operators: tuple[AbstractObservation, ...]

    def __init__(self, *operators: AbstractObservation):
        if not operators or not all(isinstance(o, AbstractObservation) for o in operators):
            raise ValueError("Compose: give one or more observation operators.")
        self.operators = tuple(operators)

    def __call__(self, u: Float[Array, "..."]) -> Float[Array, "..."]:
        for op in self.operators:
            u = op(u)
        return u


class GaussianNoise(eqx.Module):
    r"""Additive Gaussian noise for synthetic data, $y = y_0 + \sigma\,\xi$, $\xi \sim N(0, I)$.

    With ``relative=True`` (default) $\sigma$ = ``level`` $\cdot\,\mathrm{rms}(y_0)$, so
    ``level=0.05`` is "5% noise"; otherwise $\sigma$ = ``level``. Use :meth:`std` for the
    misfit's ``noise_std``.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> noise = GaussianNoise(0.05)
        >>> y = noise(jnp.ones(10_000), key=jr.key(0))
        >>> round(float(jnp.std(y)), 2), float(noise.std(jnp.ones(3)))
        (0.05, 0.05)
    """

    level: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    relative: bool = eqx.field(static=True, default=True)

    def std(self, y: Float[Array, "..."]) -> Float[Array, ""]:
        """The noise standard deviation $\\sigma$ for clean data ``y``."""
        if self.relative:
            return self.level * jnp.sqrt(jnp.mean(jnp.square(y)))
        return self.level.astype(jnp.result_type(y))

    def __call__(self, y: Float[Array, "..."], *, key: PRNGKeyArray) -> Float[Array, "..."]:
        return y + self.std(y) * jr.normal(key, jnp.shape(y), jnp.result_type(y))

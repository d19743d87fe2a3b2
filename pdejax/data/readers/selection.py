"""Sample selections and spatial strides, normalised for h5py.

h5py reads a hyperslab or an increasing, duplicate-free list of indices; :func:`select` turns
any index a caller may give (int, slice with any step, index array in any order with
duplicates, boolean mask) into such a key, and :meth:`Selection.finish` restores the caller's
order afterwards. Only the selected samples are read from disk.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .errors import error


@dataclasses.dataclass(frozen=True)
class Selection:
    """A normalised selection of samples: ``key`` is increasing and duplicate-free (what h5py
    accepts); ``order`` restores the caller's order (and duplicates); ``squeeze`` drops the sample
    axis (an integer index)."""

    key: slice | np.ndarray
    count: int
    order: np.ndarray | None = None
    squeeze: bool = False

    def indices(self, n: int) -> np.ndarray:
        if isinstance(self.key, slice):
            return np.arange(*self.key.indices(n))
        return self.key

    def finish(self, array: np.ndarray) -> np.ndarray:
        if self.order is not None:
            array = np.take(array, self.order, axis=0)
        if self.squeeze:
            array = array[0]
        return array


def as_slice(idx: np.ndarray) -> slice | np.ndarray:
    """An increasing index array as a slice when it is an arithmetic progression."""
    if len(idx) == 0:
        return slice(0, 0)
    if len(idx) == 1:
        return slice(int(idx[0]), int(idx[0]) + 1)
    steps = np.diff(idx)
    if np.all(steps == steps[0]):
        return slice(int(idx[0]), int(idx[-1]) + 1, int(steps[0]))
    return idx


def select(index, n: int, path) -> Selection:
    """Normalise ``index`` (int, slice, index array or boolean mask) over ``n`` samples."""
    if isinstance(index, (int, np.integer)) and not isinstance(index, bool):
        i = int(index) + (n if index < 0 else 0)
        if not 0 <= i < n:
            raise error(path, f"sample index {index} is out of range for {n} samples.")
        return Selection(slice(i, i + 1), 1, squeeze=True)
    if isinstance(index, slice):
        start, stop, step = index.indices(n)
        if step > 0:
            count = len(range(start, stop, step))
            return Selection(slice(start, stop, step) if count else slice(0, 0), count)
        idx = np.arange(start, stop, step)
    else:
        try:
            idx = np.asarray(index)
        except Exception as err:  # noqa: BLE001 - anything not array-like
            raise error(path, f"cannot use {index!r} as a sample index: {err}") from err
        if idx.dtype == bool:
            if idx.shape != (n,):
                raise error(path, f"a boolean sample mask needs shape ({n},), got {idx.shape}.")
            idx = np.flatnonzero(idx)
        if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise error(
                path,
                f"a sample index must be an int, a slice or a 1-d integer array; got {index!r}.",
            )
        idx = idx.astype(np.int64)
        idx = np.where(idx < 0, idx + n, idx)
        bad = idx[(idx < 0) | (idx >= n)]
        if bad.size:
            raise error(path, f"sample index {int(bad[0])} is out of range for {n} samples.")
    unique, inverse = np.unique(idx, return_inverse=True)
    in_order = len(unique) == len(idx) and np.array_equal(unique, idx)
    return Selection(as_slice(unique), len(unique), order=None if in_order else inverse)


def count(key, n: int) -> int:
    if isinstance(key, slice):
        return len(range(*key.indices(n)))
    return len(key)


def normalise_stride(stride, ndim: int, path) -> tuple[int, ...]:
    if isinstance(stride, (int, np.integer)):
        stride = (int(stride),) * ndim
    stride = tuple(int(s) for s in stride)
    if len(stride) != ndim or any(s < 1 for s in stride):
        raise error(path, f"`stride` must be a positive int or {ndim} positive ints; got {stride}.")
    return stride

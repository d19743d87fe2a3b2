"""Labelled on-disk arrays and the layout a format module builds from them.

Every format module describes a file as a :class:`Layout`: a list of *channels* (one scalar
quantity each, e.g. ``density`` or ``velocity_x``), each backed by a :class:`StoredArray`, an
on-disk array (h5py dataset, or a lazily loaded numpy array for MATLAB v5 files) whose axes carry
labels:

* ``S``  sample (trajectory) axis
* ``T``  time axis
* ``X0``, ``X1``, ``X2``  spatial axes, in pdejax order (``x``, ``y``, ``z``)
* ``C0``, ``C1``  component axes (vector / tensor components, or a channel axis)

A stored array lists its axes in *storage* order (``("T", "X1", "X0", "S")`` for a transposed
MATLAB v7.3 array, ``("S", "T", "X0", "X1", "C0")`` for a channels-last PDEBench array). Labels
absent from storage are broadcast (The Well stores fields that do not vary along a spatial axis,
over samples or over time without that axis). Reading a sample selection slices on disk
(h5py hyperslabs), then transposes to pdejax's canonical order: sample, time, channel, space.

A :class:`Layout` is what a format module found in a file; :class:`~.source.Source` turns it
into the reading API. Nothing here unpickles.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import H5_ERRORS, error
from .selection import as_slice, count

# --------------------------------------------------------------------------- stored arrays


class StoredArray:
    """An on-disk array with labelled axes (see the module docstring).

    Args:
        path: the file (for error messages).
        name: where it is stored (HDF5 path or MATLAB variable), for error messages.
        data: an h5py dataset, a numpy array, or a zero-argument callable returning one (loaded
            on first use: MATLAB v5 variables).
        axes: the label of each stored axis, in storage order.
        sizes: the size of every label the array covers, stored or broadcast (``S``, ``T``, the
            spatial axes); broadcast labels are filled by repetition.
        dtype: the stored dtype, when known without loading ``data``.
    """

    def __init__(
        self, path, name: str, data, axes: Sequence[str], sizes: dict[str, int], dtype=None
    ):
        self.path = path
        self.name = name
        self._data = data
        self.axes = tuple(axes)
        self.sizes = dict(sizes)
        self._dtype = np.dtype(dtype) if dtype is not None else None

    @property
    def data(self):
        if callable(self._data) and not hasattr(self._data, "shape"):
            self._data = self._data()
        return self._data

    @property
    def dtype(self) -> np.dtype:
        if self._dtype is None:
            self._dtype = np.dtype(self.data.dtype)
        return self._dtype

    def read(self, samples, frames: slice | None, stride: Sequence[int], order: Sequence[str]):
        """Read ``samples`` (slice or increasing index array; None if the caller has no ``S``),
        ``frames`` of the time axis, every ``stride``-th point along each spatial axis, and return
        the array with axes in ``order`` (labels the storage lacks are broadcast)."""
        index = []
        for label in self.axes:
            if label == "S":
                index.append(samples if samples is not None else slice(None))
            elif label == "T":
                index.append(frames if frames is not None else slice(None))
            elif label[0] == "X":
                index.append(slice(None, None, stride[int(label[1:])]))
            else:
                index.append(slice(None))
        missing = [label for label in self.axes if label not in order]
        if missing:
            raise AssertionError(f"{self.name}: axes {missing} not requested in {order}")
        n_sel = count(samples, self.sizes.get("S", 0)) if samples is not None else None
        if n_sel == 0:
            return np.empty(
                [0 if lab == "S" else self._size(lab, frames, stride) for lab in order], self.dtype
            )
        try:
            arr = np.asarray(self.data[tuple(index)])
        except MemoryError:
            raise
        except H5_ERRORS as err:
            raise error(
                self.path, f"could not read `{self.name}` (truncated or corrupt file?): {err}"
            ) from err
        present = [label for label in order if label in self.axes]
        arr = arr.transpose([self.axes.index(label) for label in present])
        if len(present) == len(order):
            return arr
        shape, target = [], []
        for label in order:
            if label in self.axes:
                shape.append(arr.shape[present.index(label)])
                target.append(shape[-1])
            else:
                shape.append(1)
                target.append(n_sel if label == "S" else self._size(label, frames, stride))
        return np.broadcast_to(arr.reshape(shape), target)

    def _size(self, label, frames, stride):
        if label not in self.sizes:  # a component or other stored axis: its stored length
            return int(self.data.shape[self.axes.index(label)])
        n = self.sizes[label]
        if label == "T" and frames is not None:
            return len(range(*frames.indices(n)))
        if label[0] == "X":
            return len(range(0, n, stride[int(label[1:])]))
        return n


class ConcatArray(StoredArray):
    """Stored arrays of several files (or HDF5 groups) joined along the sample axis."""

    def __init__(self, parts: Sequence[StoredArray], counts: Sequence[int]):
        first = parts[0]
        sizes = dict(first.sizes, S=int(sum(counts)))
        super().__init__(
            first.path,
            first.name,
            None,
            ("S",) + tuple(a for a in first.axes if a != "S"),
            sizes,
            dtype=first.dtype,
        )
        self.parts = list(parts)
        self.offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    def read(self, samples, frames, stride, order):
        if order[0] != "S":
            raise AssertionError("ConcatArray reads need the sample axis first")
        idx = (
            np.arange(*samples.indices(self.sizes["S"])) if isinstance(samples, slice) else samples
        )
        pieces = []
        part_of = np.searchsorted(self.offsets, idx, side="right") - 1  # idx is increasing
        bounds = np.flatnonzero(np.diff(part_of)) + 1
        for run in np.split(np.arange(len(idx)), bounds):
            if len(run):
                k = int(part_of[run[0]])
                local = idx[run] - self.offsets[k]
                pieces.append(self.parts[k].read(as_slice(local), frames, stride, order))
        if not pieces:
            return self.parts[0].read(slice(0, 0), frames, stride, order)
        return pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=0)


# --------------------------------------------------------------------------- layout description


@dataclasses.dataclass(frozen=True)
class Channel:
    """One selectable scalar quantity: ``array`` (component ``component`` of it)."""

    name: str
    field: str
    array: StoredArray
    spatial: tuple[int, ...]
    time_dependent: bool
    component: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class FieldInfo:
    """What a file holds under one name.

    ``shape`` is per sample, in canonical order: ``(T, *spatial, *components)`` for a
    time-dependent field, ``(*spatial, *components)`` for a static one, ``(*rest)`` for a
    per-sample value. ``kind`` is ``"time-dependent"``, ``"static"`` or ``"per-sample value"``
    (read with :meth:`Source.read_field`, not selectable as a channel). ``channels`` are the
    names ``inputs=``/``outputs=`` accept for its components (the field name selects them all).
    ``stored`` says where and how it is stored.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import h5py, numpy as np
        >>> from pdejax.data.readers import open_source
        >>> path = Path(tempfile.mkdtemp()) / "ns_incomp.h5"
        >>> with h5py.File(path, "w") as f:  # PDEBench incompressible NS: 2 samples, 3 frames
        ...     f["velocity"] = np.zeros((2, 3, 4, 4, 2))
        ...     f["particles"] = np.zeros((2, 3, 4, 4, 1))
        >>> info = open_source(path).fields["velocity"]
        >>> info.kind, info.shape, info.channels
        ('time-dependent', (3, 4, 4, 2), ('velocity_x', 'velocity_y'))
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    kind: str
    channels: tuple[str, ...]
    stored: str

    def __str__(self) -> str:
        chans = (
            ""
            if self.channels == (self.name,) or not self.channels
            else (f"  channels: {', '.join(self.channels)}")
        )
        return f"{self.name}  {self.kind}  per sample {self.shape}  {self.dtype}  [{self.stored}]{chans}"


@dataclasses.dataclass
class Layout:
    """What a format module found in a file; :class:`~.source.Source` turns it into the reading
    API."""

    format: str
    path: Path
    num_samples: int
    channels: list[Channel]
    fields: dict[str, FieldInfo]
    default_inputs: list[str]
    default_outputs: list[str]
    description: str = ""
    reference: str = ""
    num_frames: int | None = None
    trajectory_times: np.ndarray | None = None
    coordinates: tuple[np.ndarray, ...] | None = None
    coordinate_names: tuple[str, ...] | None = None
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    per_sample: dict[str, StoredArray] = dataclasses.field(default_factory=dict)
    notes: list[str] = dataclasses.field(default_factory=list)
    closers: list[Callable[[], None]] = dataclasses.field(default_factory=list)
    split: str | None = None
    files: list[Path] = dataclasses.field(default_factory=list)


def concat_layouts(layouts: Sequence[Layout], path: Path) -> Layout:
    """Join layouts of several files with the same fields along the sample axis (The Well and
    PDEArena split directories). Parameters that differ between files become per-sample values."""
    first = layouts[0]
    if len(layouts) == 1:
        return first
    sig0 = [(c.name, c.spatial, c.time_dependent, c.component) for c in first.channels]
    for lay in layouts[1:]:
        sig = [(c.name, c.spatial, c.time_dependent, c.component) for c in lay.channels]
        if sig != sig0 or lay.num_frames != first.num_frames:
            raise error(
                lay.path,
                f"its fields differ from those of {first.path.name} "
                f"({[s[:2] for s in sig]} vs {[s[:2] for s in sig0]}; frames {lay.num_frames} vs "
                f"{first.num_frames}); the files of one source must share fields and grids.",
            )
    counts = [lay.num_samples for lay in layouts]
    joined: dict[int, StoredArray] = {}
    channels = []
    for i, ch in enumerate(first.channels):
        if id(ch.array) not in joined:
            joined[id(ch.array)] = ConcatArray([lay.channels[i].array for lay in layouts], counts)
        channels.append(dataclasses.replace(ch, array=joined[id(ch.array)]))
    per_sample = {}
    for name in first.per_sample:
        if all(name in lay.per_sample for lay in layouts):
            per_sample[name] = ConcatArray([lay.per_sample[name] for lay in layouts], counts)
    parameters, notes = {}, list(first.notes)
    for key, value in first.parameters.items():
        values = [lay.parameters.get(key) for lay in layouts]
        if all(v == value for v in values):
            parameters[key] = value
        elif all(isinstance(v, (int, float, str, bool)) for v in values):
            per_sample[key] = StoredArray(
                path,
                f"attribute {key} of each file",
                np.repeat(np.asarray(values), counts),
                ("S",),
                {"S": sum(counts)},
            )
            notes.append(
                f"`{key}` differs between files: read it per sample with read_field({key!r})."
            )
        else:
            parameters[key] = value
            notes.append(
                f"`{key}` differs between files; the value shown is that of {first.path.name}."
            )
    for name in ("coordinates", "trajectory_times"):
        ref = getattr(first, name)
        others = [getattr(lay, name) for lay in layouts[1:]]
        same = all(
            (ref is None and o is None)
            or (ref is not None and o is not None and _arrays_equal(ref, o))
            for o in others
        )
        if not same:
            notes.append(
                f"{name.replace('_', ' ')} differ between files; shown: those of {first.path.name}."
            )
    fields = {
        k: dataclasses.replace(
            v, stored=f"{v.stored} in {first.path.name}, one of {len(layouts)} files"
        )
        for k, v in first.fields.items()
    }
    for name in per_sample:
        if name not in fields:
            arr = per_sample[name]
            fields[name] = FieldInfo(name, (), str(arr.dtype), "per-sample value", (), arr.name)
    return dataclasses.replace(
        first,
        path=path,
        num_samples=int(sum(counts)),
        channels=channels,
        fields=fields,
        parameters=parameters,
        per_sample=per_sample,
        notes=notes,
        closers=[c for lay in layouts for c in lay.closers],
        files=[lay.path for lay in layouts],
    )


def _arrays_equal(a, b) -> bool:
    if isinstance(a, tuple):
        return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b)

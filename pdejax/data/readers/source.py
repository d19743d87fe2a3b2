"""The lazy :class:`Source`: a data file (or split directory) read sample by sample.

A format module describes the file as a :class:`~.stored.Layout`; a :class:`Source` selects
input and output channels from it and reads only what is asked for, channels first: inputs
``(S, C, *spatial)``; outputs ``(S, C, *spatial)`` or ``(S, T, C, *spatial)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .describe import describe
from .errors import error
from .selection import Selection, normalise_stride, select
from .stored import Channel, Layout


def _names(value) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return list(value)


class Source:
    """A lazily read data file (or split directory): samples are read only when asked.

    Attributes:
        format: the format name (``"pdebench-cfd"``, ``"the-well"``, ...).
        path: the file or directory.
        num_samples: number of samples (trajectories).
        fields: name -> :class:`~.stored.FieldInfo`, everything the file holds per sample.
        inputs, outputs: the selected channel names, in channel order.
        input_shape: per sample, ``(C_in, *spatial)``.
        output_shape: per sample, ``(C_out, *spatial)`` (operator data) or
            ``(T, C_out, *spatial)`` (trajectories).
        is_trajectory: whether the outputs are time-dependent.
        output_start: for trajectories, the frame of the trajectory that is the first output frame
            (1 when the inputs are frame 0 of time-dependent fields, 0 when they are static fields
            such as the FNO Navier-Stokes initial vorticity ``a``).
        num_frames: frames in a whole trajectory (:meth:`read_trajectories`), or None.
        times: times of the output frames, or None.
        trajectory_times: times of all frames of a trajectory, or None.
        coordinates: one 1-d array per spatial axis, or None; ``coordinate_names`` their names.
        parameters: JSON-serialisable metadata (attributes, simulation parameters).
        notes: remarks on how the file was interpreted.
        dtype: dtype of what :meth:`read` returns (None: as stored).

    Built by :func:`~pdejax.data.readers.open_source`; a context manager that closes its files.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import h5py, numpy as np
        >>> from pdejax.data.readers import open_source
        >>> path = Path(tempfile.mkdtemp()) / "2D_CFD_tiny.hdf5"
        >>> with h5py.File(path, "w") as f:  # PDEBench CFD: (samples, time, x, y) per field
        ...     for name in ("density", "pressure", "Vx", "Vy"):
        ...         f[name] = np.random.default_rng(0).random((5, 4, 8, 8))
        ...     f["t-coordinate"] = np.arange(5) * 0.1  # T + 1 values, as PDEBench writes
        >>> src = open_source(path, inputs=["density", "Vx", "Vy"], outputs="pressure")
        >>> src.num_samples, src.input_shape, src.output_shape, src.output_start
        (5, (3, 8, 8), (3, 1, 8, 8), 1)
        >>> x, y = src.read([4, 0])  # only these samples are read from disk
        >>> x.shape, y.shape, x.dtype
        ((2, 3, 8, 8), (2, 3, 1, 8, 8), dtype('float32'))
        >>> [index for index, x, y in src.chunks(2)]
        [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
        >>> src.read_trajectories(0, frames=slice(0, 2)).shape  # frames 0 and 1 of sample 0
        (2, 1, 8, 8)
        >>> src.times
        array([0.1, 0.2, 0.3])
        >>> print(src.describe().splitlines()[1])
        format:      pdebench-cfd (PDEBench multi-field compressible CFD (2-d))
        >>> src.close()
    """

    def __init__(self, layout: Layout, *, inputs=None, outputs=None, dtype=np.float32):
        self._layout = layout
        self.format = layout.format
        self.path = layout.path
        self.num_samples = int(layout.num_samples)
        self.fields = dict(layout.fields)
        self.parameters = dict(layout.parameters)
        self.notes = list(layout.notes)
        self.coordinates = layout.coordinates
        self.coordinate_names = layout.coordinate_names
        self.trajectory_times = layout.trajectory_times
        self.num_frames = layout.num_frames
        self.split = layout.split
        self.dtype = None if dtype is None else np.dtype(dtype)
        self._closed = False
        try:
            self._in = self._resolve(_names(inputs) or layout.default_inputs, "inputs")
            self._out = self._resolve(_names(outputs) or layout.default_outputs, "outputs")
            self._check_selection()
        except BaseException:
            self.close()
            raise

    # -- selection

    def _resolve(self, names: list[str], role: str) -> list[Channel]:
        by_name = {c.name: c for c in self._layout.channels}
        by_field: dict[str, list[Channel]] = {}
        for c in self._layout.channels:
            by_field.setdefault(c.field, []).append(c)
        chosen: list[Channel] = []
        if not names:
            raise error(self.path, f"no {role} selected.")
        for name in names:
            if name in by_field:
                chosen.extend(by_field[name])
            elif name in by_name:
                chosen.append(by_name[name])
            else:
                hint = ""
                if name in self._layout.per_sample:
                    hint = (
                        f" `{name}` is a per-sample value (no spatial extent): read it with "
                        f"read_field({name!r})."
                    )
                raise error(
                    self.path,
                    f"no field or channel named {name!r} for {role} ({self.format}).{hint} "
                    f"Fields: {sorted(by_field)}; channels: {[c.name for c in self._layout.channels]}.",
                )
        seen = set()
        for c in chosen:
            if c.name in seen:
                raise error(self.path, f"channel {c.name!r} is selected twice for {role}.")
            seen.add(c.name)
        return chosen

    def _check_selection(self):
        for role, chans in (("inputs", self._in), ("outputs", self._out)):
            spatial = {c.spatial for c in chans}
            if len(spatial) > 1:
                raise error(
                    self.path,
                    f"the {role} {[c.name for c in chans]} have different "
                    f"spatial shapes {sorted(spatial)}; select fields on one grid.",
                )
        dependent = {c.time_dependent for c in self._out}
        if len(dependent) > 1:
            static = [c.name for c in self._out if not c.time_dependent]
            raise error(
                self.path,
                f"outputs mix time-dependent and static fields (static: {static}); "
                "select static fields as inputs only.",
            )
        self.is_trajectory = dependent == {True}
        self.output_start = (
            1 if self.is_trajectory and any(c.time_dependent for c in self._in) else 0
        )
        if (
            self.is_trajectory
            and self.num_frames is not None
            and self.num_frames <= self.output_start
        ):
            raise error(
                self.path,
                f"trajectories have {self.num_frames} frame(s): nothing is left as "
                "outputs after the input frame.",
            )
        self.inputs = tuple(c.name for c in self._in)
        self.outputs = tuple(c.name for c in self._out)
        self.input_shape = (len(self._in),) + self._in[0].spatial
        if self.is_trajectory:
            self.output_shape = (self.num_frames - self.output_start, len(self._out)) + self._out[
                0
            ].spatial
            tt = self.trajectory_times
            self.times = None if tt is None else tt[self.output_start :]
        else:
            self.output_shape = (len(self._out),) + self._out[0].spatial
            self.times = None

    # -- reading

    def _dtype_of(self, channels) -> np.dtype:
        if self.dtype is not None:
            return self.dtype
        return np.result_type(*[c.array.dtype for c in channels])

    def _fill(self, channels, sel: Selection, frames: slice | None, stride, with_time: bool):
        """Read ``channels`` for the selected samples into one array: (S, [T,] C, *spatial)."""
        self._check_open()
        spatial = channels[0].spatial
        st = normalise_stride(stride, len(spatial), self.path)
        sp_out = tuple(len(range(0, n, s)) for n, s in zip(spatial, st))
        n_t = len(range(*frames.indices(self.num_frames))) if with_time else None
        shape = (sel.count,) + ((n_t,) if with_time else ()) + (len(channels),) + sp_out
        out = np.empty(shape, self._dtype_of(channels))
        cache: dict[int, np.ndarray] = {}
        for k, ch in enumerate(channels):
            arr = ch.array
            if id(arr) not in cache:
                ncomp = sum(1 for a in arr.axes if a[0] == "C")
                labels = (
                    ("S",)
                    + (("T",) if ch.time_dependent else ())
                    + tuple(f"X{i}" for i in range(len(spatial)))
                    + tuple(f"C{i}" for i in range(ncomp))
                )
                fr = None
                if ch.time_dependent:
                    fr = frames if with_time else slice(0, 1)
                cache[id(arr)] = arr.read(sel.key, fr, st, labels)
            data = cache[id(arr)]
            if ch.component:
                data = data[(Ellipsis,) + ch.component]
            if ch.time_dependent and not with_time:
                data = data[:, 0]
            if with_time:
                out[:, :, k] = data
            else:
                out[:, k] = data
        return sel.finish(out)

    def read(self, index=slice(None), *, stride=1) -> tuple[np.ndarray, np.ndarray]:
        """``(inputs, outputs)`` of the selected samples: inputs ``(S, C_in, *spatial)``, outputs
        ``(S, C_out, *spatial)`` or ``(S, T, C_out, *spatial)``. ``index``: int, slice, index array
        (any order; read increasing from disk) or boolean mask. ``stride`` subsamples space on disk."""
        return self.read_inputs(index, stride=stride), self.read_outputs(index, stride=stride)

    def read_inputs(self, index=slice(None), *, stride=1) -> np.ndarray:
        """The inputs of :meth:`read` alone, ``(S, C_in, *spatial)``."""
        sel = select(index, self.num_samples, self.path)
        return self._fill(self._in, sel, None, stride, with_time=False)

    def read_outputs(self, index=slice(None), *, stride=1) -> np.ndarray:
        """The outputs of :meth:`read` alone, ``(S, C_out, *spatial)`` or
        ``(S, T, C_out, *spatial)``."""
        sel = select(index, self.num_samples, self.path)
        if self.is_trajectory:
            return self._fill(
                self._out, sel, slice(self.output_start, None), stride, with_time=True
            )
        return self._fill(self._out, sel, None, stride, with_time=False)

    def read_trajectories(self, index=slice(None), *, frames=slice(None), stride=1) -> np.ndarray:
        """Whole trajectories of the output channels, ``(S, T, C_out, *spatial)``, for windowing
        (``frames``: a slice of the trajectory's frames, read on disk). Frame ``output_start`` is
        the first output frame of :meth:`read`."""
        if not self.is_trajectory:
            raise error(
                self.path,
                f"the outputs {list(self.outputs)} are not time-dependent; "
                "read_trajectories needs a trajectory source.",
            )
        if not isinstance(frames, slice):
            raise error(self.path, f"`frames` must be a slice, got {frames!r}.")
        if frames.step is not None and frames.step < 1:
            raise error(self.path, "`frames` needs a positive step.")
        sel = select(index, self.num_samples, self.path)
        return self._fill(self._out, sel, frames, stride, with_time=True)

    def read_field(
        self, name: str, index=slice(None), *, frames=slice(None), stride=1
    ) -> np.ndarray:
        """One stored field (or per-sample value) as it is in the file, in canonical axis order
        ``(S, [T,] *spatial, *components)``, in its stored dtype."""
        self._check_open()
        sel = select(index, self.num_samples, self.path)
        if name in self._layout.per_sample:
            arr = self._layout.per_sample[name]
            order = ("S",) + tuple(a for a in arr.axes if a != "S")
            return sel.finish(np.array(arr.read(sel.key, None, (), order)))
        chans = [c for c in self._layout.channels if c.field == name]
        if not chans:
            raise error(self.path, f"no field named {name!r}; fields: {sorted(self.fields)}.")
        ch = chans[0]
        st = normalise_stride(stride, len(ch.spatial), self.path)
        ncomp = sum(1 for a in ch.array.axes if a[0] == "C")
        order = (
            ("S",)
            + (("T",) if ch.time_dependent else ())
            + tuple(f"X{i}" for i in range(len(ch.spatial)))
            + tuple(f"C{i}" for i in range(ncomp))
        )
        data = ch.array.read(sel.key, frames if ch.time_dependent else None, st, order)
        return sel.finish(np.array(data))

    def chunks(self, size: int, *, stride=1) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
        """Iterate over all samples, ``size`` at a time: ``(slice, inputs, outputs)``."""
        if size < 1:
            raise error(self.path, f"chunk size must be positive, got {size}.")
        for start in range(0, self.num_samples, size):
            s = slice(start, min(start + size, self.num_samples))
            x, y = self.read(s, stride=stride)
            yield s, x, y

    def dataset_kwargs(self, index=slice(None), *, stride=1) -> dict[str, Any]:
        """Keyword arguments for :class:`pdejax.data.Dataset` (reads the selected samples)."""
        x, y = self.read(index, stride=stride)
        coords = self.coordinates
        if coords is not None:
            st = normalise_stride(stride, len(coords), self.path)
            coords = tuple(np.asarray(c)[::s] for c, s in zip(coords, st))
        return dict(
            inputs=x,
            outputs=y,
            problem=f"{self.format}:{Path(self.path).name}",
            parameters=dict(self.parameters),
            generator={
                "source": str(self.path),
                "format": self.format,
                "inputs": list(self.inputs),
                "outputs": list(self.outputs),
                "split": self.split,
            },
            reference=self._layout.reference,
            coordinates=coords,
            times=None if self.times is None else np.asarray(self.times),
        )

    # -- description

    def describe(self) -> str:
        """A human-readable account of the file, for ``pdejax inspect FILE``."""
        return describe(self, self._layout)

    # -- housekeeping

    def _check_open(self):
        if self._closed:
            raise error(self.path, "the source is closed.")

    def close(self):
        """Close the source's files; reading afterwards is a :class:`~.errors.ReadError`."""
        if getattr(self, "_closed", True):
            return
        self._closed = True
        for closer in self._layout.closers:
            try:
                closer()
            except Exception:  # noqa: BLE001 - closing a broken file must not raise
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def __len__(self) -> int:
        return self.num_samples

    def __repr__(self) -> str:
        return (
            f"Source(format={self.format!r}, path={str(self.path)!r}, samples={self.num_samples}, "
            f"inputs={list(self.inputs)}, outputs={list(self.outputs)}, "
            f"input_shape={self.input_shape}, output_shape={self.output_shape})"
        )

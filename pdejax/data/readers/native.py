"""pdejax's own HDF5 data set schema (version 1), as written by
:func:`pdejax.data.save_dataset` and :func:`pdejax.data.generate`; the layout is that of
:mod:`pdejax.data.datasets` (``FORMAT``, ``SCHEMA_VERSION``)::

    /inputs              (S, *input_shape)    e.g. (S, C, *spatial)
    /outputs             (S, *output_shape)   (S, C, *spatial) or (S, T, C, *spatial)
    /coordinates/axis_i  (N_i,)               optional
    /times               (T,)                 optional, output times of a trajectory
    attrs: format = "pdejax-dataset", schema_version = 1, problem, parameters (JSON),
           generator (JSON), reference

Already channels first. Mapping: inputs ``inputs`` (channels ``inputs_0`` ... or ``inputs``
when there is one), outputs ``outputs`` (likewise); an output with one axis more than the input
is a trajectory whose frames all are outputs (``output_start`` = 0: the inputs are separate
data, e.g. an initial condition). Samples are read with h5py slicing. The JSON attributes are
parsed with ``json.loads`` (no code runs).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .errors import error
from .h5util import h5_get, jsonable, open_hdf5, read_small
from .stored import Channel, FieldInfo, Layout, StoredArray

FORMAT = "pdejax"
MAGIC = "pdejax-dataset"  # pdejax.data.datasets.FORMAT (the tests check that they agree)
SCHEMA_VERSION = 1  # the version whose layout this module reads


def sniff(probe) -> bool:
    return probe.kind == "hdf5" and probe.attrs.get("format") == MAGIC


def open_layout(path: Path, *, format: str = FORMAT, split=None) -> Layout:
    if split is not None:
        raise error(path, "pdejax data sets have no stored split; use Dataset.split after reading.")
    if path.is_dir():
        raise error(path, "is a directory; a pdejax data set is one HDF5 file.")
    f = open_hdf5(path)
    try:
        layout = _read_layout(path, f)
    except BaseException:
        f.close()
        raise
    layout.closers.append(f.close)
    return layout


def _json_attr(f, name, path):
    raw = jsonable(f.attrs.get(name, "{}"))
    try:
        return json.loads(raw)
    except (TypeError, ValueError) as err:
        raise error(path, f"attribute `{name}` is not valid JSON: {err}") from err


def _channels(path, ds, field, time_axis: bool):
    shape = tuple(ds.shape)
    lead = 3 if time_axis else 2
    if len(shape) < lead:
        raise error(
            path,
            f"`/{field}` has shape {shape}; expected (S, {'T, ' if time_axis else ''}C, *spatial).",
        )
    n, nc, spatial = shape[0], shape[lead - 1], shape[lead:]
    xs = tuple(f"X{i}" for i in range(len(spatial)))
    axes = ("S",) + (("T",) if time_axis else ()) + ("C0",) + xs
    sizes = {"S": n, **({"T": shape[1]} if time_axis else {}), **dict(zip(xs, spatial))}
    arr = StoredArray(path, f"/{field}", ds, axes, sizes)
    names = [field] if nc == 1 else [f"{field}_{i}" for i in range(nc)]
    chans = [Channel(c, field, arr, spatial, time_axis, (i,)) for i, c in enumerate(names)]
    info = FieldInfo(
        field,
        ((shape[1],) if time_axis else ()) + spatial + (nc,),
        str(ds.dtype),
        "time-dependent" if time_axis else "static",
        tuple(names),
        f"/{field} {shape} ({'S, T, C' if time_axis else 'S, C'}, *spatial)",
    )
    return chans, info


def _read_layout(path, f) -> Layout:
    fmt = jsonable(f.attrs.get("format"))
    if fmt != MAGIC:
        raise error(
            path, f"is not a pdejax data set (attribute `format` is {fmt!r}, expected {MAGIC!r})."
        )
    version = jsonable(f.attrs.get("schema_version", -1))
    if version != SCHEMA_VERSION:
        raise error(
            path, f"has pdejax schema version {version}; this reader knows {SCHEMA_VERSION}."
        )
    for name in ("inputs", "outputs"):
        if name not in f:
            raise error(path, f"is missing the dataset `/{name}` of the pdejax schema.")
    x, y = h5_get(f, "inputs", path), h5_get(f, "outputs", path)
    if x.shape[0] != y.shape[0]:
        raise error(path, f"`/inputs` has {x.shape[0]} samples but `/outputs` {y.shape[0]}.")
    if y.ndim == x.ndim + 1:
        trajectory = True
    elif y.ndim == x.ndim:
        trajectory = False
    else:
        raise error(
            path,
            f"`/inputs` {tuple(x.shape)} and `/outputs` {tuple(y.shape)}: outputs need "
            "the same rank as inputs, or one more (a time axis).",
        )
    in_ch, in_info = _channels(path, x, "inputs", False)
    out_ch, out_info = _channels(path, y, "outputs", trajectory)
    notes = []
    coords = None
    if "coordinates" in f:
        group = h5_get(f, "coordinates", path)
        coords = tuple(
            read_small(h5_get(group, f"axis_{i}", path), path).ravel()
            for i in range(len(group))
            if f"axis_{i}" in group
        )
    num_frames = y.shape[1] if trajectory else None
    times = None
    if "times" in f:
        t = read_small(h5_get(f, "times", path), path).ravel().astype(np.float64)
        if trajectory and len(t) == num_frames:
            times = t
        else:
            notes.append(f"`/times` has {len(t)} values for {num_frames} output frames; not used.")
    params = {
        "problem": jsonable(f.attrs.get("problem", "")),
        "parameters": _json_attr(f, "parameters", path),
        "generator": _json_attr(f, "generator", path),
        "reference": jsonable(f.attrs.get("reference", "")),
        "schema_version": version,
    }
    return Layout(
        format=FORMAT,
        path=path,
        num_samples=int(x.shape[0]),
        channels=in_ch + out_ch,
        fields={"inputs": in_info, "outputs": out_info},
        default_inputs=["inputs"],
        default_outputs=["outputs"],
        description=f"pdejax data set, schema {version}, problem {params['problem']!r}",
        reference=params["reference"],
        num_frames=num_frames,
        trajectory_times=times,
        coordinates=coords or None,
        coordinate_names=tuple(f"axis_{i}" for i in range(len(coords))) if coords else None,
        parameters=params,
        notes=notes,
    )

"""PDEArena HDF5 files (Gupta & Brandstetter, "Towards Multi-spatiotemporal-scale Generalized PDE
Modeling", 2022; microsoft/pdearena, mirrored as pdearena/pdearena).

Layout read from pdearena/pdearena at commit 78a8b03d50115d8bb24ce9f04efa5b920fcd4369:

* ``pdedatagen/navier_stokes.py`` (writer) and ``pdearena/data/twod/datapipes/navierstokes2d.py``
  (reader): a file ``NavierStokes2D_<mode>_<seed>_<buoyancy>[_<samples>].h5`` holds one group
  named after the split, ``train``, ``valid`` or ``test`` (the ``mode``), with ``u`` (S, T, X, Y)
  (smoke density), ``vx``, ``vy`` (S, T, X, Y), ``t`` (S, T), ``x`` (S, X), ``y`` (S, Y) and
  per-sample ``dt``, ``dx``, ``dy``, ``buo_y`` (S,), all float64. The reader yields ``u`` as one
  scalar channel and ``(vx, vy)`` as a vector.
* ``pdedatagen/maxwell.py`` (writer) and ``pdearena/data/threed/datapipes.py`` (reader):
  ``d_field``, ``h_field`` (S, T, X, Y, Z, 3) channels-last vectors, no coordinates.
* ``pdearena/data/oned/datapipes/kuramotosivashinsky1d.py`` (reader; the generator is not in
  the repository): the trajectory dataset is the key starting with ``pde_`` (e.g.
  ``pde_140-256``, (S, T, X)), with per-sample ``dt``, ``dx`` and optionally ``v``.

The datapipes' docstrings call the validation mode ``val`` while the generators and the datapipe
factories use ``valid``; a ``valid`` request falls back to a ``val`` group if that is what a file
has. Split selection: a file's group (``split=``, or its only group); a directory: the files
whose names contain the split (PDEArena's ``_train_filter``: ``"train" in fname``), each group
``split``, joined along the sample axis in sorted file order.

Mapping: trajectory channels ``u``, ``vx``, ``vy`` (Navier-Stokes), ``d_field_x`` ..
``h_field_z`` (Maxwell, components moved first), ``pde_*`` (KS); inputs frame 0, outputs frames
1.. (``output_start`` = 1). Coordinates and times are stored per sample; when every sample has
the same ones they are the source's ``coordinates``/``times``, otherwise they are per-sample
values. Per-sample scalars (``dt``, ``dx``, ``dy``, ``buo_y``, ``v``) are per-sample values
(:meth:`Source.read_field`), and parameters when equal for all samples. The shallow-water data
is NetCDF/zarr, not HDF5, and is not read here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import error
from .h5util import attrs_dict, h5_get, jsonable, open_hdf5, read_small
from .stored import Channel, FieldInfo, Layout, StoredArray, concat_layouts

FORMAT = "pdearena"
REFERENCE = "Gupta & Brandstetter, PDEArena (microsoft/pdearena)"
SPLITS = ("train", "valid", "test")
_GROUPS = set(SPLITS) | {"val"}
_SCALAR_FIELDS = ("u", "vx", "vy")
_VECTOR_FIELDS = ("d_field", "h_field")
_COORDS = ("x", "y", "z")


def sniff(probe) -> bool:
    keys = probe.keys
    return (
        probe.kind == "hdf5"
        and bool(keys)
        and set(keys) <= _GROUPS
        and all(v == "group" for v in keys.values())
    )


def find_files(path: Path, split: str | None) -> list[Path]:
    if split is not None and split not in SPLITS:
        raise error(path, f"unknown split {split!r}; PDEArena has {list(SPLITS)}.")
    if path.is_file():
        return [path]
    files = sorted(
        p for p in path.iterdir() if p.is_file() and p.suffix.lower() in (".h5", ".hdf5")
    )
    if split is not None:
        files = [p for p in files if split in p.name]
    if not files:
        raise error(
            path,
            f"has no .h5 files{f' with {split!r} in their names' if split else ''} "
            f"(PDEArena names files <PDE>_<split>_<seed>...h5).",
        )
    return files


def open_layout(path: Path, *, format: str = FORMAT, split=None) -> Layout:
    layouts = []
    try:
        for p in find_files(path, split):
            layouts.append(_file_layout(p, split))
        splits = {lay.split for lay in layouts}
        if len(splits) > 1:
            raise error(
                path, f"its files hold different splits {sorted(splits)}; choose one with `split=`."
            )
        layout = concat_layouts(layouts, path)
    except BaseException:
        for lay in layouts:
            for c in lay.closers:
                c()
        raise
    return layout


def _file_layout(path: Path, split) -> Layout:
    f = open_hdf5(path)
    try:
        layout = _read_layout(path, f, split)
    except BaseException:
        f.close()
        raise
    layout.closers.append(f.close)
    return layout


def _read_layout(path: Path, f, split) -> Layout:
    import h5py

    groups = sorted(f.keys())
    if not groups or not set(groups) <= _GROUPS:
        raise error(
            path,
            f"is not a PDEArena file: expected top-level groups among "
            f"{sorted(_GROUPS)}; found {groups}.",
        )
    if split is None:
        if len(groups) > 1:
            raise error(path, f"holds the splits {groups}; choose one with `split=`.")
        name = groups[0]
    elif split in f:
        name = split
    elif split == "valid" and "val" in f:
        name = "val"
    else:
        raise error(path, f"has no `{split}` group; it holds {groups}.")
    g = h5_get(f, name, path)
    if not isinstance(g, h5py.Group):
        raise error(path, f"`{name}` is not a group.")
    ds = {k: h5_get(g, k, path) for k in g.keys()}
    ds = {k: v for k, v in ds.items() if isinstance(v, h5py.Dataset)}
    scalar = [k for k in _SCALAR_FIELDS if k in ds] + sorted(k for k in ds if k.startswith("pde_"))
    vector = [k for k in _VECTOR_FIELDS if k in ds]
    if not scalar and not vector:
        raise error(
            path,
            f"group `{name}` has none of PDEArena's trajectory datasets "
            f"({list(_SCALAR_FIELDS)}, {list(_VECTOR_FIELDS)}, pde_*); it holds "
            f"{sorted(ds)}.",
        )
    ref = ds[scalar[0]] if scalar else ds[vector[0]]
    shape = tuple(ref.shape) if scalar else tuple(ref.shape[:-1])
    if len(shape) < 3:
        raise error(
            path, f"`{ref.name}` has shape {tuple(ref.shape)}; expected (samples, time, *grid)."
        )
    n, num_frames, spatial = shape[0], shape[1], shape[2:]
    d = len(spatial)
    xs = tuple(f"X{i}" for i in range(d))
    sizes = {"S": n, "T": num_frames, **dict(zip(xs, spatial))}
    notes = []
    channels, fields = [], {}
    for k in scalar:
        if tuple(ds[k].shape) != shape:
            raise error(
                path, f"`{ds[k].name}` has shape {tuple(ds[k].shape)}, `{ref.name}` {shape}."
            )
        arr = StoredArray(path, ds[k].name, ds[k], ("S", "T") + xs, sizes)
        channels.append(Channel(k, k, arr, spatial, True))
        fields[k] = FieldInfo(
            k,
            (num_frames,) + spatial,
            str(ds[k].dtype),
            "time-dependent",
            (k,),
            f"{ds[k].name} {tuple(ds[k].shape)} (S, T, *grid)",
        )
    comp = ("x", "y", "z")
    for k in vector:
        vshape = tuple(ds[k].shape)
        if vshape[:-1] != shape or vshape[-1] > 3:
            raise error(path, f"`{ds[k].name}` has shape {vshape}; expected {shape + (3,)}.")
        arr = StoredArray(path, ds[k].name, ds[k], ("S", "T") + xs + ("C0",), sizes)
        chans = [Channel(f"{k}_{comp[i]}", k, arr, spatial, True, (i,)) for i in range(vshape[-1])]
        channels += chans
        fields[k] = FieldInfo(
            k,
            (num_frames,) + spatial + (vshape[-1],),
            str(ds[k].dtype),
            "time-dependent",
            tuple(c.name for c in chans),
            f"{ds[k].name} {vshape} (S, T, *grid, 3)",
        )
    used = set(scalar) | set(vector)
    params = attrs_dict(f.attrs, path)
    params.update(attrs_dict(g.attrs, path))
    per_sample = {}
    coords, cnames, coords_ok = [], [], True
    for axis, k in enumerate(_COORDS[:d]):
        if k not in ds:
            coords_ok = False
            break
        used.add(k)
        c = read_small(ds[k], path)
        if c.shape != (n, spatial[axis]):
            notes.append(
                f"`{ds[k].name}` has shape {c.shape}, expected {(n, spatial[axis])}; "
                "coordinates not used."
            )
            coords_ok = False
            continue
        per_sample[k] = StoredArray(path, ds[k].name, ds[k], ("S", "N"), {"S": n})
        if n and np.all(c == c[:1]):
            coords.append(c[0].astype(np.float64))
            cnames.append(k)
        else:
            notes.append(f"coordinates `{k}` differ between samples: read_field({k!r}).")
            coords_ok = False
    if not coords_ok or len(coords) != d:
        coords = None
    times = None
    if "t" in ds:
        used.add("t")
        t = read_small(ds["t"], path)
        if t.shape == (n, num_frames):
            per_sample["t"] = StoredArray(
                path, ds["t"].name, ds["t"], ("S", "T"), {"S": n, "T": num_frames}
            )
            if n and np.all(t == t[:1]):
                times = t[0].astype(np.float64)
            else:
                notes.append("frame times differ between samples: read_field('t').")
        else:
            notes.append(f"`t` has shape {t.shape}, expected {(n, num_frames)}; times not used.")
    for k, v in ds.items():
        if k in used:
            continue
        if tuple(v.shape) == (n,):
            per_sample[k] = StoredArray(path, v.name, v, ("S",), {"S": n})
            values = read_small(v, path)
            if n and np.all(values == values[:1]):
                params[k] = jsonable(values[0])
            used.add(k)
    other = sorted(set(ds) - used)
    if other:
        notes.append(f"datasets not read: {[(k, tuple(ds[k].shape)) for k in other]}.")
    for k, arr in per_sample.items():
        fields[k] = FieldInfo(
            k,
            tuple(int(m) for m in arr.data.shape[1:]),
            str(arr.dtype),
            "per-sample value",
            (),
            f"{arr.name} {tuple(arr.data.shape)}",
        )
    default = [c.name for c in channels]
    kind = (
        "Navier-Stokes 2-d"
        if "u" in scalar
        else "Maxwell 3-d"
        if vector
        else "Kuramoto-Sivashinsky 1-d"
        if any(k.startswith("pde_") for k in scalar)
        else ""
    )
    return Layout(
        format=FORMAT,
        path=path,
        num_samples=n,
        channels=channels,
        fields=fields,
        default_inputs=default,
        default_outputs=default,
        description=f"PDEArena {kind}, group `{name}`".replace("  ", " "),
        reference=REFERENCE,
        num_frames=num_frames,
        trajectory_times=times,
        coordinates=tuple(coords) if coords else None,
        coordinate_names=tuple(cnames) if coords else None,
        parameters=params,
        per_sample=per_sample,
        notes=notes,
        split="valid" if name == "val" else name,
        files=[path],
    )

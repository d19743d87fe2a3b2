"""The Well (Ohana et al., NeurIPS 2024 Datasets and Benchmarks), PolymathicAI.

Layout read from PolymathicAI/the_well at commit 215f55d838d161964a49ce28d3dc1517c6e74b90:
``docs/data_format.md`` (the schema), ``scripts/check_thewell_formatting.py`` (the checker: shapes
and attribute types), ``the_well/data/datasets.py`` (``WellDataset``: ``_build_metadata``,
``_reconstruct_fields``, ``_pad_axes``, ``_reconstruct_grids``; the split directories
``<dataset>/data/<split>/*.hdf5``) and ``the_well/utils/dummy_data.py`` (a writer).

One HDF5 file holds ``n_trajectories`` trajectories:

* root attributes ``dataset_name``, ``grid_type``, ``n_spatial_dims``, ``n_trajectories``,
  ``simulation_parameters`` (names) and one attribute per simulation parameter;
* ``dimensions/``: attribute ``spatial_dims`` (e.g. ``["x", "y"]``), ``time`` (T,) or, if
  ``sample_varying``, (B, T) -- "number of steps is always last dim of time" -- and one coordinate
  dataset per spatial dimension, (N,) or (B, N);
* ``t0_fields/``, ``t1_fields/``, ``t2_fields/`` (scalar, vector, rank-2 tensor fields), each
  with attribute ``field_names``; every field dataset carries ``sample_varying``,
  ``time_varying`` and ``dim_varying`` (one bool per spatial dimension) and is stored with only
  the varying axes: ``[B] [T] [N_i for varying i] [D]*order``; missing axes are repeated, as
  ``WellDataset._pad_axes`` does;
* ``scalars/`` (attribute ``field_names``; datasets with ``sample_varying``/``time_varying``);
* ``boundary_conditions/<name>`` groups (attributes ``bc_type``, ``associated_dims``, ...).

The schema text (``docs/data_format.md``) and the checker disagree on one example: the text
shows a non-time-varying, sample-varying field stored as ``T x W x H``; the checker and
``WellDataset`` index such a field as ``[B] [N_i...]`` (leading axes present only when varying).
This reader follows the checker and the loader, and also tolerates ``associated_dims`` written
as a plain string (as ``dummy_data.py`` does) and upper- or lower-case ``bc_type``.

Mapping: every time-varying field is a trajectory channel, with tensor components flattened as
``WellDataset`` names them: ``pressure``; ``velocity_x``, ``velocity_y``; ``stress_xx``,
``stress_xy``, ``stress_yx``, ``stress_yy`` (all D^2 components, as The Well flattens them, even
for symmetric tensors). Defaults: inputs = frame 0 of all time-varying t0, t1 and t2 fields,
outputs = frames 1.. of the same channels (``output_start`` = 1). Constant (non-time-varying)
fields are static channels, selectable as extra inputs (``inputs=["pressure", "mask"]``).
Constant scalars become ``parameters``; varying scalars are per-sample values
(:meth:`Source.read_field`).

Splits: ``open_source(dataset_dir, split="train")`` reads ``dataset_dir/data/train/*.hdf5`` (or
``dataset_dir/train/*.hdf5``), every file joined along the sample axis in sorted file order (as
``WellDataset``); a directory of ``.hdf5`` files can also be given directly. Simulation
parameters that differ between files become per-sample values.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from .errors import error
from .h5util import as_str_list, attrs_dict, h5_get, jsonable, open_hdf5, read_small
from .stored import Channel, FieldInfo, Layout, StoredArray, concat_layouts

FORMAT = "the-well"
REFERENCE = "Ohana et al., The Well, NeurIPS 2024 Datasets and Benchmarks (PolymathicAI/the_well)"
SPLITS = ("train", "valid", "test")


def sniff(probe) -> bool:
    keys = probe.keys
    return (
        probe.kind == "hdf5"
        and keys.get("dimensions") == "group"
        and any(keys.get(f"t{i}_fields") == "group" for i in range(3))
    )


def _h5_files(directory: Path) -> list[Path]:
    return sorted(
        p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in (".h5", ".hdf5")
    )


def find_files(path: Path, split: str | None) -> list[Path]:
    if split is not None and split not in SPLITS:
        raise error(path, f"unknown split {split!r}; The Well has {list(SPLITS)}.")
    if path.is_file():
        if split is not None and path.parent.name != split:
            raise error(
                path,
                f"is a single file in `{path.parent.name}/`, not in a `{split}/` "
                "split directory; pass the dataset directory with `split=`, or the "
                "file without `split`.",
            )
        return [path]
    if split is not None:
        for directory in (path / "data" / split, path / split):
            if directory.is_dir():
                files = _h5_files(directory)
                if not files:
                    raise error(directory, "has no .hdf5/.h5 files.")
                return files
        raise error(
            path,
            f"has no `data/{split}/` or `{split}/` directory (The Well stores splits "
            f"as <dataset>/data/<split>/*.hdf5); it holds "
            f"{sorted(p.name for p in path.iterdir())}.",
        )
    files = _h5_files(path)
    if files:
        return files
    for base in (path / "data", path):
        present = [s for s in SPLITS if (base / s).is_dir()]
        if present:
            raise error(path, f"holds the splits {present}; choose one with `split=`.")
    raise error(path, "has no .hdf5/.h5 files and no train/valid/test directories.")


def open_layout(path: Path, *, format: str = FORMAT, split=None) -> Layout:
    layouts = []
    try:
        for p in find_files(path, split):
            layouts.append(_file_layout(p))
        layout = concat_layouts(layouts, path)
    except BaseException:
        for lay in layouts:
            for c in lay.closers:
                c()
        raise
    layout.split = split
    return layout


def _flag(obj, name, path) -> bool:
    if name not in obj.attrs:
        raise error(
            path, f"`{obj.name}` lacks the attribute `{name}` that The Well's schema requires."
        )
    return bool(np.asarray(obj.attrs[name]).item())


def _file_layout(path: Path) -> Layout:
    f = open_hdf5(path)
    try:
        layout = _read_layout(path, f)
    except BaseException:
        f.close()
        raise
    layout.closers.append(f.close)
    return layout


def _read_layout(path: Path, f) -> Layout:
    import h5py

    for key in ("dimensions",):
        if key not in f:
            raise error(
                path,
                f"has no `{key}` group; The Well's files have dimensions/, t0_fields/, "
                f"t1_fields/, t2_fields/, scalars/, boundary_conditions/; top-level "
                f"keys: {sorted(f.keys())}.",
            )
    root = attrs_dict(f.attrs, path)
    dims = h5_get(f, "dimensions", path)
    spatial_dims = as_str_list(dims.attrs.get("spatial_dims"))
    n_dims = int(root.get("n_spatial_dims", len(spatial_dims)))
    if len(spatial_dims) != n_dims or not spatial_dims:
        raise error(
            path,
            f"dimensions/ attribute spatial_dims = {spatial_dims} does not match "
            f"n_spatial_dims = {n_dims}.",
        )
    for name in ["time"] + spatial_dims:
        if name not in dims:
            raise error(path, f"dimensions/ has no `{name}` dataset (keys: {sorted(dims.keys())}).")
    time = h5_get(dims, "time", path)
    num_frames = int(time.shape[-1])
    spatial = tuple(int(h5_get(dims, d, path).shape[-1]) for d in spatial_dims)
    notes, per_sample = [], {}

    # sample count: from the attribute, checked against the fields
    n = root.get("n_trajectories")
    xs = tuple(f"X{i}" for i in range(n_dims))
    fields, channels = {}, []
    field_arrays = []
    for order in range(3):
        gname = f"t{order}_fields"
        if gname not in f:
            notes.append(f"no {gname}/ group.")
            continue
        group = h5_get(f, gname, path)
        if "field_names" in group.attrs:
            names = as_str_list(group.attrs["field_names"])
        else:
            names = sorted(group.keys())
            notes.append(f"{gname}/ lacks `field_names`; using its datasets {names}.")
        for name in names:
            if name not in group:
                raise error(
                    path, f"{gname}/ lists `{name}` in field_names but has no such dataset."
                )
            ds = h5_get(group, name, path)
            if not isinstance(ds, h5py.Dataset):
                raise error(path, f"{gname}/{name} is not a dataset.")
            sv, tv = _flag(ds, "sample_varying", path), _flag(ds, "time_varying", path)
            if "dim_varying" not in ds.attrs:
                raise error(path, f"`{ds.name}` lacks the attribute `dim_varying`.")
            dv = [bool(v) for v in np.asarray(ds.attrs["dim_varying"]).ravel()]
            if len(dv) != n_dims:
                raise error(path, f"`{ds.name}` has dim_varying = {dv} for {n_dims} spatial dims.")
            if sv and n is None:
                n = int(ds.shape[0])
            axes = (
                (("S",) if sv else ())
                + (("T",) if tv else ())
                + tuple(x for x, v in zip(xs, dv) if v)
                + tuple(f"C{k}" for k in range(order))
            )
            expected = (
                ((int(n),) if sv else ())
                + ((num_frames,) if tv else ())
                + tuple(s for s, v in zip(spatial, dv) if v)
                + (n_dims,) * order
            )
            if tuple(ds.shape) != expected:
                raise error(
                    path,
                    f"`{ds.name}` has shape {tuple(ds.shape)}; with sample_varying={sv}, "
                    f"time_varying={tv}, dim_varying={dv} The Well's schema gives "
                    f"{expected}.",
                )
            field_arrays.append((order, name, ds, axes, tv, sv, dv))
    if n is None:
        raise error(
            path,
            "has no attribute n_trajectories and no sample-varying field: the number "
            "of trajectories is unknown.",
        )
    n = int(n)
    sizes = {"S": n, "T": num_frames, **dict(zip(xs, spatial))}
    for order, name, ds, axes, tv, sv, dv in field_arrays:
        arr = StoredArray(path, ds.name, ds, axes, sizes)
        chans = []
        for comp in itertools.product(range(n_dims), repeat=order):
            cname = name + ("_" + "".join(spatial_dims[c] for c in comp) if comp else "")
            chans.append(Channel(cname, name, arr, spatial, tv, tuple(comp)))
        channels += chans
        if name in fields:
            raise error(path, f"field name `{name}` appears in two of t0/t1/t2_fields.")
        shape = ((num_frames,) if tv else ()) + spatial + (n_dims,) * order
        flags = [k for k, v in (("sample", sv), ("time", tv)) if not v]
        flags += [f"{d}" for d, v in zip(spatial_dims, dv) if not v]
        stored = f"{ds.name} {tuple(ds.shape)}" + (
            f" (constant in {', '.join(flags)})" if flags else ""
        )
        fields[name] = FieldInfo(
            name,
            shape,
            str(ds.dtype),
            "time-dependent" if tv else "static",
            tuple(c.name for c in chans),
            stored,
        )
    default = [c.name for c in channels if c.time_dependent]
    if not default:
        raise error(path, "has no time-varying field; The Well's fields are trajectories.")

    # grids
    coords = []
    for d in spatial_dims:
        ds = h5_get(dims, d, path)
        if bool(np.asarray(ds.attrs.get("sample_varying", False)).item()):
            per_sample[f"dimensions/{d}"] = StoredArray(path, ds.name, ds, ("S", "N"), {"S": n})
            notes.append(
                f"coordinate `{d}` varies between trajectories: read it with "
                f"read_field('dimensions/{d}')."
            )
            coords = None
            break
        coords.append(read_small(ds, path).ravel())
    times = None
    if bool(np.asarray(time.attrs.get("sample_varying", False)).item()) or time.ndim == 2:
        per_sample["dimensions/time"] = StoredArray(
            path, time.name, time, ("S", "T"), {"S": n, "T": num_frames}
        )
        t = read_small(time, path).astype(np.float64)
        if t.ndim == 2 and len(t) and np.all(t == t[:1]):
            times = t[0]
        else:
            notes.append("frame times vary between trajectories: read_field('dimensions/time').")
    else:
        times = read_small(time, path).ravel().astype(np.float64)

    # scalars and boundary conditions
    params = dict(root)
    if "scalars" in f:
        group = h5_get(f, "scalars", path)
        names = (
            as_str_list(group.attrs.get("field_names"))
            if "field_names" in group.attrs
            else sorted(group)
        )
        for name in names:
            if name not in group:
                continue
            ds = h5_get(group, name, path)
            sv = bool(np.asarray(ds.attrs.get("sample_varying", False)).item())
            tv = bool(np.asarray(ds.attrs.get("time_varying", False)).item())
            if not sv and not tv:
                value = jsonable(read_small(ds, path))
                key = name if name not in params or params[name] == value else f"scalars/{name}"
                params[key] = value
                continue
            axes = (("S",) if sv else ()) + (("T",) if tv else ())
            per_sample[f"scalars/{name}"] = StoredArray(
                path, ds.name, ds, axes, {"S": n, "T": num_frames}
            )
    bcs = {}
    if "boundary_conditions" in f:
        for name, grp in h5_get(f, "boundary_conditions", path).items():
            bcs[name] = {
                "bc_type": jsonable(grp.attrs.get("bc_type")),
                "associated_dims": as_str_list(grp.attrs.get("associated_dims")),
            }
    if bcs:
        params["boundary_conditions"] = bcs
    for name, arr in per_sample.items():
        shape = tuple(int(m) for a, m in zip(arr.axes, arr.data.shape) if a != "S")
        fields[name] = FieldInfo(name, shape, str(arr.dtype), "per-sample value", (), arr.name)
    if any(c.component and len(c.component) == 2 for c in channels):
        notes.append("t2 fields are flattened to all D*D components (as WellDataset does).")
    return Layout(
        format=FORMAT,
        path=path,
        num_samples=n,
        channels=channels,
        fields=fields,
        default_inputs=default,
        default_outputs=default,
        description=f"The Well, {root.get('dataset_name', '?')} ({n_dims}-d, grid "
        f"{root.get('grid_type', '?')})",
        reference=REFERENCE,
        num_frames=num_frames,
        trajectory_times=times,
        coordinates=tuple(coords) if coords else None,
        coordinate_names=tuple(spatial_dims) if coords else None,
        parameters=params,
        per_sample=per_sample,
        notes=notes,
        files=[path],
    )

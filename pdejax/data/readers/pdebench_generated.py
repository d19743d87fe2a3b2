"""PDEBench HDF5 files as its generators write them, one file per run, unmerged (Takamoto et
al., NeurIPS 2022 Datasets and Benchmarks); the merged files are in :mod:`.pdebench`.

Layouts read from pdebench/PDEBench at commit 9754b4c0ee2bcb967233a89d1c8a6a58bf7f7bc9:

``pdebench-samples`` -- one group per sample (``pdebench/data_gen/gen_diff_react.py``,
``gen_diff_sorp.py``, ``src/sim_radial_dam_break.py`` ``save_state_to_disk``; read by
``FNODatasetMult``): groups ``"0000"``, ``"0001"``, ... (``str(seed).zfill(4)``), each with
``data`` (T, *grid, C) channels-last, ``grid/x`` (``grid/y``, ``grid/z``), ``grid/t`` and an
attribute ``config`` (the generator's YAML). Samples are in sorted group order (as
``FNODatasetMult``); channels ``data`` (C = 1) or ``data_0``, ``data_1``, ... (moved first).

``pdebench-ns-incomp`` -- incompressible Navier-Stokes (``pdebench/data_gen/src/data_io.py``
``dims_for``/``h5_for``, filled by ``gen_ns_incomp.py``): ``velocity`` (S, T, X, Y, 2),
``particles`` (S, T, X, Y, 1), ``force`` (S, X, Y, 2), ``t`` (S, T); attributes ``config``,
``latestIndex``. Channels ``velocity_x``, ``velocity_y``, ``particles`` (time-dependent; the
default inputs and outputs) and ``force_x``, ``force_y`` (static; selectable as inputs).

Every dataset is read with h5py slicing: only the requested samples are read.
"""

from __future__ import annotations

import numpy as np

from .errors import error
from .h5util import attrs_dict, axis_names, h5_dataset, h5_get, read_small, stored_text
from .stored import Channel, ConcatArray, FieldInfo, Layout, StoredArray


def ns_incomp_layout(path, f) -> Layout:
    """The ``pdebench-ns-incomp`` layout of the open HDF5 file ``f``."""
    vel = h5_dataset(f, "velocity", path, "PDEBench incompressible NS")
    par = h5_dataset(f, "particles", path, "PDEBench incompressible NS")
    shape = tuple(vel.shape)
    if len(shape) < 4:
        raise error(path, f"`velocity` has shape {shape}; expected (samples, time, *grid, d).")
    n, num_frames, spatial, d = shape[0], shape[1], shape[2:-1], shape[-1]
    if d != len(spatial):
        raise error(
            path, f"`velocity` has shape {shape}: {d} components on a {len(spatial)}-d grid."
        )
    if tuple(par.shape) != (n, num_frames) + spatial + (1,):
        raise error(
            path,
            f"`particles` has shape {tuple(par.shape)}; expected "
            f"{(n, num_frames) + spatial + (1,)} (data_io.dims_for).",
        )
    xs = tuple(f"X{i}" for i in range(len(spatial)))
    sizes = {"S": n, "T": num_frames, **dict(zip(xs, spatial))}
    comp = axis_names(len(spatial))
    v_arr = StoredArray(path, "/velocity", vel, ("S", "T") + xs + ("C0",), sizes)
    p_arr = StoredArray(path, "/particles", par, ("S", "T") + xs + ("C0",), sizes)
    channels = [
        Channel(f"velocity_{c}", "velocity", v_arr, spatial, True, (i,)) for i, c in enumerate(comp)
    ]
    channels.append(Channel("particles", "particles", p_arr, spatial, True, (0,)))
    fields = {
        "velocity": FieldInfo(
            "velocity",
            (num_frames,) + spatial + (d,),
            str(vel.dtype),
            "time-dependent",
            tuple(f"velocity_{c}" for c in comp),
            stored_text(vel) + " (S, T, *grid, d)",
        ),
        "particles": FieldInfo(
            "particles",
            (num_frames,) + spatial + (1,),
            str(par.dtype),
            "time-dependent",
            ("particles",),
            stored_text(par) + " (S, T, *grid, 1)",
        ),
    }
    notes, per_sample = [], {}
    if "force" in f:
        force = h5_dataset(f, "force", path, "PDEBench incompressible NS")
        if tuple(force.shape) == (n,) + spatial + (d,):
            f_arr = StoredArray(path, "/force", force, ("S",) + xs + ("C0",), sizes)
            channels += [
                Channel(f"force_{c}", "force", f_arr, spatial, False, (i,))
                for i, c in enumerate(comp)
            ]
            fields["force"] = FieldInfo(
                "force",
                spatial + (d,),
                str(force.dtype),
                "static",
                tuple(f"force_{c}" for c in comp),
                stored_text(force) + " (S, *grid, d)",
            )
        else:
            notes.append(f"`force` has shape {tuple(force.shape)}, not (S, *grid, d); not read.")
    times = None
    if "t" in f:
        tds = h5_dataset(f, "t", path, "PDEBench incompressible NS")
        if tuple(tds.shape) == (n, num_frames):
            per_sample["t"] = StoredArray(path, "/t", tds, ("S", "T"), {"S": n, "T": num_frames})
            fields["t"] = FieldInfo(
                "t",
                (num_frames,),
                str(tds.dtype),
                "per-sample value",
                (),
                stored_text(tds) + " (S, T)",
            )
            t = read_small(tds, path).astype(np.float64)
            if n and np.all(t == t[:1]):
                times = t[0]
            else:
                notes.append("frame times differ between samples: read them with read_field('t').")
    params = attrs_dict(f.attrs, path)
    latest = params.get("latestIndex")
    if isinstance(latest, int) and 0 <= latest < num_frames - 1:
        notes.append(
            f"attribute latestIndex = {latest}: frames after {latest} were never written "
            "(interrupted generation)."
        )
    notes.append("the file stores no grid coordinates.")
    default = [c.name for c in channels if c.time_dependent]
    return Layout(
        "pdebench-ns-incomp",
        path,
        n,
        channels,
        fields,
        default,
        default,
        description=f"PDEBench incompressible Navier-Stokes ({len(spatial)}-d)",
        num_frames=num_frames,
        trajectory_times=times,
        parameters=params,
        per_sample=per_sample,
        notes=notes,
    )


def samples_layout(path, f) -> Layout:
    """The ``pdebench-samples`` layout of the open HDF5 file ``f``."""
    import h5py

    names = sorted(f.keys())
    if not names:
        raise error(path, "is empty: no sample groups.")
    parts, shape0, dtype0 = [], None, None
    for name in names:
        group = h5_get(f, name, path)
        if not isinstance(group, h5py.Group) or "data" not in group:
            raise error(
                path,
                f"`{name}` is not a sample group with a `data` dataset; the PDEBench "
                f"per-sample layout has groups 0000, 0001, ... each holding `data`; "
                f"top-level keys: {names[:10]}{' ...' if len(names) > 10 else ''}.",
            )
        ds = h5_get(group, "data", path)
        if shape0 is None:
            shape0, dtype0 = tuple(ds.shape), ds.dtype
            first = group
        elif tuple(ds.shape) != shape0:
            raise error(
                path,
                f"`{name}/data` has shape {tuple(ds.shape)} but `{names[0]}/data` "
                f"{shape0}; every sample must have the same shape.",
            )
        parts.append(ds)
    grid = first.get("grid") if "grid" in first else None
    gnames = [k for k in ("x", "y", "z") if grid is not None and k in grid]
    d = len(gnames) or len(shape0) - 2
    if len(shape0) != d + 2:
        raise error(
            path,
            f"`{names[0]}/data` has shape {shape0}; the PDEBench per-sample layout is "
            f"(time, *grid, channels) with {d} spatial axes (from grid/x, grid/y, ...).",
        )
    num_frames, spatial, nc = shape0[0], shape0[1:-1], shape0[-1]
    xs = tuple(f"X{i}" for i in range(d))
    sizes = {"S": 1, "T": num_frames, **dict(zip(xs, spatial))}
    arrays = [StoredArray(path, ds.name, ds, ("T",) + xs + ("C0",), sizes) for ds in parts]
    arr = ConcatArray(arrays, [1] * len(arrays))
    cnames = ["data"] if nc == 1 else [f"data_{i}" for i in range(nc)]
    channels = [Channel(c, "data", arr, spatial, True, (i,)) for i, c in enumerate(cnames)]
    fields = {
        "data": FieldInfo(
            "data",
            (num_frames,) + spatial + (nc,),
            str(dtype0),
            "time-dependent",
            tuple(cnames),
            f"/NNNN/data {shape0} per group (T, *grid, C)",
        )
    }
    notes = [
        f"samples are the groups {names[0]} .. {names[-1]} in sorted order; "
        "read_field('group') gives each sample's group name."
    ]
    coords = None
    if gnames:
        cs = [read_small(grid[k], path).ravel() for k in gnames]
        if all(len(c) == n for c, n in zip(cs, spatial)):
            coords = tuple(cs)
        else:
            notes.append(
                f"grid sizes {[len(c) for c in cs]} differ from the data grid {spatial}; "
                "coordinates not used."
            )
    times = None
    if grid is not None and "t" in grid:
        t = read_small(grid["t"], path).ravel().astype(np.float64)
        if len(t) == num_frames:
            times = t
        else:
            notes.append(f"grid/t has {len(t)} values for {num_frames} frames; times not used.")
    params = {}
    for key, value in attrs_dict(first.attrs, path).items():
        params[f"{key} (sample {names[0]})"] = value
    per_sample = {
        "group": StoredArray(path, "group names", np.array(names), ("S",), {"S": len(names)})
    }
    fields["group"] = FieldInfo("group", (), "str", "per-sample value", (), "top-level group name")
    return Layout(
        "pdebench-samples",
        path,
        len(names),
        channels,
        fields,
        ["data"],
        ["data"],
        description=f"PDEBench per-sample groups ({d}-d, {nc} channel(s))",
        num_frames=num_frames,
        trajectory_times=times,
        coordinates=coords,
        coordinate_names=tuple(f"grid/{k}" for k in gnames) if coords else None,
        parameters=params,
        per_sample=per_sample,
        notes=notes,
    )

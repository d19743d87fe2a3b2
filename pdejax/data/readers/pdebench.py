"""PDEBench HDF5 files (Takamoto et al., NeurIPS 2022 Datasets and Benchmarks): detection of
all four layouts, and the merged files of ``Data_Merge.py``; the files its generators write
directly (one group per sample, incompressible Navier-Stokes) are read by
:mod:`.pdebench_generated`.

Layouts read from pdebench/PDEBench at commit 9754b4c0ee2bcb967233a89d1c8a6a58bf7f7bc9:

``pdebench`` -- single array (``pdebench/data_gen/data_gen_NLE/Data_Merge.py`` ``transform`` and
``merge``; read by ``pdebench/models/fno/utils.py`` ``FNODatasetSingle``):
    * time-dependent (1-d advection, Burgers, reaction-diffusion, ...): ``tensor`` (S, T, *grid),
      ``x-coordinate`` (``y-``, ``z-``), ``t-coordinate``; attributes ``beta`` / ``Nu`` / ``rho``.
      Inputs: ``tensor`` frame 0, (S, 1, *grid); outputs: frames 1.., (S, T-1, 1, *grid).
    * Darcy: ``nu`` (S, X, Y), ``tensor`` (S, 1, X, Y) (``Data_Merge.py``: ``tensor`` =
      ``2D.npy[:, None]``), ``x-coordinate``, ``y-coordinate``, attribute ``beta``. Inputs
      ``nu`` -> (S, 1, X, Y); outputs ``tensor`` -> (S, 1, X, Y) (its axis 1 is a channel).
      ``FNODatasetSingle`` treats every 4-d ``tensor`` as Darcy; here a ``tensor`` is Darcy when
      ``nu`` is present, and otherwise its spatial rank is the number of ``*-coordinate``
      datasets (so a 2-d time-dependent ``tensor`` (S, T, X, Y) is read as such).
    * ``t-coordinate``: the generators write ``tc = arange(it_tot + 1) * dt_save`` for
      ``it_tot`` saved frames (``AdvectionEq/advection_multi_solution_Hydra.py``,
      ``CompressibleFluid/CFD_multi_Hydra.py``), one value more than there are frames; frame k is
      at ``tc[k]``, so the times are the first T values (a ``t-coordinate`` of exactly T values
      is used as is).

``pdebench-cfd`` -- multi-field compressible Navier-Stokes (``Data_Merge.py`` ``merge``):
    ``density``, ``pressure``, ``Vx`` (+ ``Vy`` in 2-d, + ``Vz`` in 3-d), each (S, T, *grid);
    ``t-coordinate``, ``x-coordinate`` (``y-``, ``z-``); attributes ``eta``, ``zeta`` (``M``).
    Default channels in ``FNODatasetSingle``'s order: density, pressure, Vx, Vy, Vz; inputs frame
    0, outputs frames 1... Select e.g. ``inputs=["density", "Vx", "Vy", "pressure"]``.

Every dataset is read with h5py slicing: only the requested samples are read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import error
from .h5util import attrs_dict, h5_dataset, h5_get, open_hdf5, read_small, stored_text
from .pdebench_generated import ns_incomp_layout, samples_layout
from .stored import Channel, FieldInfo, Layout, StoredArray

REFERENCE = "Takamoto et al., PDEBench, NeurIPS 2022 Datasets and Benchmarks"
FORMATS = ("pdebench", "pdebench-cfd", "pdebench-samples", "pdebench-ns-incomp")
_COORDS = ("x-coordinate", "y-coordinate", "z-coordinate")
_CFD_ORDER = ("density", "pressure", "Vx", "Vy", "Vz")


def sniff(probe) -> list[str]:
    """The PDEBench layouts this probe matches."""
    if probe.kind != "hdf5":
        return []
    keys = probe.keys
    found = []
    if keys.get("tensor") == "dataset":
        found.append("pdebench")
    if all(keys.get(k) == "dataset" for k in ("density", "pressure", "Vx")):
        found.append("pdebench-cfd")
    if keys.get("velocity") == "dataset" and keys.get("particles") == "dataset":
        found.append("pdebench-ns-incomp")
    if keys and all(v == "group" for v in keys.values()):
        first = sorted(keys)[0]
        if "data" in probe.children.get(first, ()) and first.isdigit():
            found.append("pdebench-samples")
    return found


def open_layout(path: Path, *, format: str, split=None) -> Layout:
    if split is not None:
        raise error(
            path,
            "PDEBench files have no train/valid/test split (PDEBench's loaders take a "
            "`test_ratio` of the samples); open without `split`.",
        )
    if path.is_dir():
        raise error(path, "is a directory; a PDEBench source is one HDF5 file.")
    f = open_hdf5(path)
    try:
        build = {
            "pdebench": _single,
            "pdebench-cfd": _cfd,
            "pdebench-samples": samples_layout,
            "pdebench-ns-incomp": ns_incomp_layout,
        }[format]
        layout = build(path, f)
    except BaseException:
        f.close()
        raise
    layout.closers.append(f.close)
    layout.reference = REFERENCE
    return layout


def _coordinates(f, path, spatial, notes, names=_COORDS):
    coords, cnames = [], []
    present = [n for n in names if n in f]
    if not present:
        return None, None
    for name, n in zip(present, spatial):
        c = read_small(h5_get(f, name, path), path).ravel()
        if len(c) != n:
            notes.append(
                f"`{name}` has {len(c)} values for an axis of {n} points; coordinates not used."
            )
            return None, None
        coords.append(c)
        cnames.append(name)
    if len(coords) != len(spatial):
        notes.append(f"coordinates for {len(coords)} of {len(spatial)} axes; not used.")
        return None, None
    return tuple(coords), tuple(cnames)


def _times(f, path, num_frames, notes, name="t-coordinate"):
    if name not in f:
        notes.append(f"no `{name}` in the file; times unknown.")
        return None
    t = read_small(h5_get(f, name, path), path).ravel().astype(np.float64)
    if len(t) == num_frames + 1:
        notes.append(
            f"`{name}` has {len(t)} values for {num_frames} frames (PDEBench writes "
            f"arange(it_tot + 1) * dt_save); the first {num_frames} are the frame times."
        )
        return t[:num_frames]
    if len(t) == num_frames:
        return t
    notes.append(f"`{name}` has {len(t)} values for {num_frames} frames; times not used.")
    return None


def _single(path, f) -> Layout:
    tensor = h5_dataset(f, "tensor", path, "PDEBench single-array")
    notes = []
    params = attrs_dict(f.attrs, path)
    shape = tuple(tensor.shape)
    n = shape[0] if shape else 0
    if "nu" in f:  # Darcy: nu (S, *grid) -> tensor (S, 1, *grid)
        nu = h5_dataset(f, "nu", path, "PDEBench Darcy")
        spatial = tuple(nu.shape[1:])
        xs = tuple(f"X{i}" for i in range(len(spatial)))
        sizes = {"S": nu.shape[0], **dict(zip(xs, spatial))}
        if shape == (nu.shape[0], 1) + spatial:
            t_axes, comp = ("S", "C0") + xs, (0,)
        elif shape == tuple(nu.shape):
            t_axes, comp = ("S",) + xs, ()
        else:
            raise error(
                path,
                f"`nu` has shape {tuple(nu.shape)} and `tensor` {shape}; the PDEBench "
                "Darcy layout has `tensor` = (S, 1, *grid) for `nu` = (S, *grid).",
            )
        nu_arr = StoredArray(path, "/nu", nu, ("S",) + xs, sizes)
        t_arr = StoredArray(path, "/tensor", tensor, t_axes, sizes)
        channels = [
            Channel("nu", "nu", nu_arr, spatial, False),
            Channel("tensor", "tensor", t_arr, spatial, False, comp),
        ]
        fields = {
            "nu": FieldInfo("nu", spatial, str(nu.dtype), "static", ("nu",), stored_text(nu)),
            "tensor": FieldInfo(
                "tensor",
                spatial + ((1,) if comp else ()),
                str(tensor.dtype),
                "static",
                ("tensor",),
                stored_text(tensor) + (" (S, 1, *grid)" if comp else ""),
            ),
        }
        coords, cnames = _coordinates(f, path, spatial, notes)
        return Layout(
            "pdebench",
            path,
            nu.shape[0],
            channels,
            fields,
            ["nu"],
            ["tensor"],
            description=f"PDEBench single-array, Darcy ({len(spatial)}-d): nu -> tensor",
            coordinates=coords,
            coordinate_names=cnames,
            parameters=params,
            notes=notes,
        )
    d = sum(1 for c in _COORDS if c in f) or len(shape) - 2
    if len(shape) != d + 2 or d < 1:
        raise error(
            path,
            f"`tensor` has shape {shape}; the PDEBench single-array layout is "
            f"(samples, time, *grid) with {d} spatial axes (from the *-coordinate "
            "datasets), or Darcy with a `nu` dataset.",
        )
    num_frames, spatial = shape[1], shape[2:]
    xs = tuple(f"X{i}" for i in range(d))
    arr = StoredArray(
        path,
        "/tensor",
        tensor,
        ("S", "T") + xs,
        {"S": n, "T": num_frames, **dict(zip(xs, spatial))},
    )
    channels = [Channel("tensor", "tensor", arr, spatial, True)]
    fields = {
        "tensor": FieldInfo(
            "tensor",
            (num_frames,) + spatial,
            str(tensor.dtype),
            "time-dependent",
            ("tensor",),
            stored_text(tensor) + " (S, T, *grid)",
        )
    }
    coords, cnames = _coordinates(f, path, spatial, notes)
    times = _times(f, path, num_frames, notes)
    return Layout(
        "pdebench",
        path,
        n,
        channels,
        fields,
        ["tensor"],
        ["tensor"],
        description=f"PDEBench single-array, time-dependent ({d}-d)",
        num_frames=num_frames,
        trajectory_times=times,
        coordinates=coords,
        coordinate_names=cnames,
        parameters=params,
        notes=notes,
    )


def _cfd(path, f) -> Layout:
    names = [k for k in _CFD_ORDER if k in f]
    datasets = {k: h5_dataset(f, k, path, "PDEBench CFD") for k in names}
    d = 1 + ("Vy" in datasets) + ("Vz" in datasets)
    shape = tuple(datasets["density"].shape)
    if len(shape) != d + 2:
        raise error(
            path,
            f"`density` has shape {shape}; with velocity components "
            f"{[k for k in names if k.startswith('V')]} the PDEBench CFD layout "
            f"is (samples, time, *grid) with {d} spatial axes.",
        )
    for k, ds in datasets.items():
        if tuple(ds.shape) != shape:
            raise error(
                path,
                f"`{k}` has shape {tuple(ds.shape)} but `density` {shape}; the CFD "
                "fields must share one shape.",
            )
    n, num_frames, spatial = shape[0], shape[1], shape[2:]
    xs = tuple(f"X{i}" for i in range(d))
    sizes = {"S": n, "T": num_frames, **dict(zip(xs, spatial))}
    channels, fields = [], {}
    for k, ds in datasets.items():
        arr = StoredArray(path, ds.name, ds, ("S", "T") + xs, sizes)
        channels.append(Channel(k, k, arr, spatial, True))
        fields[k] = FieldInfo(
            k,
            (num_frames,) + spatial,
            str(ds.dtype),
            "time-dependent",
            (k,),
            stored_text(ds) + " (S, T, *grid)",
        )
    notes = []
    coords, cnames = _coordinates(f, path, spatial, notes)
    times = _times(f, path, num_frames, notes)
    return Layout(
        "pdebench-cfd",
        path,
        n,
        channels,
        fields,
        list(names),
        list(names),
        description=f"PDEBench multi-field compressible CFD ({d}-d)",
        num_frames=num_frames,
        trajectory_times=times,
        coordinates=coords,
        coordinate_names=cnames,
        parameters=attrs_dict(f.attrs, path),
        notes=notes,
    )

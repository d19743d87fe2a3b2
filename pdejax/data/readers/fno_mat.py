"""The FNO paper's ``.mat`` files (Li et al., Fourier Neural Operator, ICLR 2021).

Layout read from zongyi-li/fourier_neural_operator at commit
fd1fb7a3e236ce6c6137f83598589a88855d044b (2022-08-30, the last commit with the paper's scripts;
the repository now holds the ``neuraloperator`` library, whose HEAD 00b7d86f reads ``.pt``
files instead and has no ``.mat`` loader):

* ``utilities3.py`` ``MatReader``: tries ``scipy.io.loadmat`` (MATLAB v5) and falls back to
  ``h5py`` (MATLAB v7.3) with every axis reversed (``np.transpose(x, range(ndim-1, -1, -1))``).
* ``fourier_1d.py``: ``burgers_data_R10.mat``, ``a`` and ``u`` shaped (S, N) (2048 x 8192).
* ``fourier_2d.py``: ``piececonst_r421_N1024_smooth1.mat``, ``coeff`` and ``sol`` (S, N, N).
* ``fourier_3d.py`` / ``fourier_2d_time.py``: ``ns_V1e-3_N5000_T50.mat`` (v7.3), ``u`` with time
  last, (S, N, N, T), read as ``u[..., :T_in]``; ``data_generation/navier_stokes/ns_2d.py``
  writes ``a`` (S, N, N) = the initial vorticity w0 at t = 0, ``u`` (S, N, N, T) recorded at
  ``t`` = T/record_steps, 2 T/record_steps, ... (``sol[..., c] = w``; t = 0 is not in ``u``) and
  ``t`` (1, T) (``scipy.io.savemat``). Public scripts reading the v7.3 file with h5py see
  ``u`` as (50, 64, 64, 5000), i.e. reversed, which is what this reader undoes.
* ``data_generation/burgers/gen_burgers1.m`` writes, when ``steps > 1``, an output
  ``output(j, k, :)``, i.e. (S, T, N) with time *second*, unlike Navier-Stokes (time last). The
  two sources disagree on where time goes, so both are accepted: an output shaped
  (S, *spatial, T) is time-last, (S, T, *spatial) time-second (time-last wins if both fit).

Mapping (channels first):

===============  =============================  ======================================
file             inputs                         outputs
===============  =============================  ======================================
Burgers          ``a`` -> (S, 1, N)             ``u`` -> (S, 1, N)
Darcy            ``coeff`` -> (S, 1, N, N)      ``sol`` -> (S, 1, N, N)
Navier-Stokes    ``a`` -> (S, 1, N, N)          ``u`` -> (S, T, 1, N, N), times ``t``
===============  =============================  ======================================

Other variables with the sample axis first and the same grid (e.g. Darcy's ``Kcoeff``) are
fields too and can be selected; scalar variables become parameters. The files carry no grid
(the FNO scripts use ``linspace(0, 1, s)``), so ``coordinates`` is None.

Laziness: MATLAB v7.3 files are HDF5 and are read sample by sample with h5py slicing (the sample
axis is the *last* stored axis). MATLAB v5 files cannot be read partially by scipy: each variable
is loaded whole (``scipy.io.loadmat(variable_names=[name])``) the first time it is read and then
kept in memory, so a v5 file must fit in memory. ``scipy.io.loadmat`` does not unpickle.
Before scipy sees a v5 file, the element headers are checked (:func:`.matfile.v5_check`): scipy lists
only the variables before a truncation without complaint, and segfaults on some corrupt element
types (found by fuzzing this reader with scipy 1.17).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import H5_ERRORS, error
from .h5util import jsonable, open_hdf5
from .matfile import v5_variables, v73_variables
from .stored import Channel, FieldInfo, Layout

FORMAT = "fno-mat"
REFERENCE = "Li et al., Fourier Neural Operator for Parametric PDEs, ICLR 2021"
PAIRS = (("a", "u"), ("coeff", "sol"))  # (input, output) variable pairs, tried in order


def sniff(probe) -> bool:
    if probe.kind == "mat-v5":
        return True
    if probe.kind == "hdf5":
        if probe.header.startswith(b"MATLAB"):
            return True
        keys = set(probe.keys)
        return probe.path.suffix.lower() == ".mat" and any(set(p) <= keys for p in PAIRS)
    return False


def open_layout(path: Path, *, format: str = FORMAT, split=None) -> Layout:
    if split is not None:
        raise error(
            path,
            "FNO .mat files have no train/valid/test split (the FNO scripts take the "
            "first ntrain samples for training and the last ntest for testing).",
        )
    if path.is_dir():
        raise error(path, "is a directory; an FNO .mat source is one file.")
    import h5py

    closers = []
    if h5py.is_hdf5(path):
        f = open_hdf5(path)
        closers.append(f.close)
        try:
            variables = v73_variables(path, f)
        except BaseException:
            f.close()
            raise
        version = "MATLAB v7.3 (HDF5; stored transposed, read lazily per sample)"
    else:
        variables = v5_variables(path)
        version = "MATLAB v5 (scipy; each variable loaded whole on first read)"
    try:
        return _layout(path, variables, version, closers)
    except BaseException:
        for c in closers:
            c()
        raise


def _layout(path, variables, version, closers) -> Layout:
    for in_key, out_key in PAIRS:
        if in_key in variables and out_key in variables:
            break
    else:
        found = {n: v.shape for n, v in variables.items()}
        raise error(
            path,
            f"is not an FNO-paper .mat file: expected `a`/`u` (Burgers, Navier-Stokes) or "
            f"`coeff`/`sol` (Darcy); found {found}.",
        )
    a, u = variables[in_key], variables[out_key]
    if len(a.shape) < 2:
        raise error(path, f"`{in_key}` has shape {a.shape}; expected (samples, *grid).")
    n, spatial = a.shape[0], a.shape[1:]
    d = len(spatial)
    xs = tuple(f"X{i}" for i in range(d))
    notes = []
    num_frames = None
    time_labels = None
    if u.shape == a.shape:
        time_labels = None
    elif len(u.shape) == d + 2 and u.shape[0] == n and u.shape[1 : 1 + d] == spatial:
        time_labels = ("S",) + xs + ("T",)  # ns_2d.py: time last
        num_frames = u.shape[-1]
        if u.shape[2:] == spatial:
            notes.append(
                f"`{out_key}` {u.shape} fits both time-last and time-second layouts; "
                "read as time-last (the FNO Navier-Stokes convention)."
            )
    elif len(u.shape) == d + 2 and u.shape[0] == n and u.shape[2:] == spatial:
        time_labels = ("S", "T") + xs  # gen_burgers1.m with steps > 1: output(j, k, :)
        num_frames = u.shape[1]
        notes.append(
            f"`{out_key}` is stored with time second (S, T, *grid), as gen_burgers1.m writes."
        )
    else:
        raise error(
            path,
            f"`{in_key}` has shape {a.shape} and `{out_key}` {u.shape}: expected equal "
            "shapes, or an output with one extra time axis (last: Navier-Stokes; second: "
            "time-dependent Burgers).",
        )

    static_labels = ("S",) + xs
    sizes = {"S": n, **{x: s for x, s in zip(xs, spatial)}}
    if num_frames is not None:
        sizes["T"] = num_frames
    channels, fields, parameters = [], {}, {}
    other = {}
    tname = "(S, *grid, T)" if time_labels and time_labels[-1] == "T" else "(S, T, *grid)"
    for name, var in variables.items():
        if var.shape == (n,) + spatial:
            labels, dependent = static_labels, False
        elif (
            num_frames is not None
            and time_labels is not None
            and (var.shape == tuple(sizes[lab] for lab in time_labels))
        ):
            labels, dependent = time_labels, True
        else:
            if int(np.prod(var.shape)) <= 16:
                try:
                    parameters[name] = jsonable(np.asarray(var.load(path)).squeeze())
                except H5_ERRORS:
                    other[name] = var.shape
            elif name != "t":
                other[name] = var.shape
            continue
        arr = var.array(path, labels, sizes)
        ch = Channel(name, name, arr, spatial, dependent)
        channels.append(ch)
        shape = ((num_frames,) if dependent else ()) + spatial
        layout_txt = tname if dependent else "(S, *grid)"
        stored = f"variable `{name}` MATLAB shape {var.shape} {layout_txt}"
        fields[name] = FieldInfo(
            name,
            shape,
            str(var.dtype),
            "time-dependent" if dependent else "static",
            (name,),
            stored,
        )
    times = None
    if num_frames is not None:
        if "t" in variables and int(np.prod(variables["t"].shape)) == num_frames:
            times = np.asarray(variables["t"].load(path), np.float64).ravel()
            parameters.pop("t", None)
        else:
            notes.append("no time vector `t` with one value per frame in the file; times unknown.")
    if other:
        notes.append(f"other variables (not fields on the sample grid, not read): {other}")
    notes.append("FNO files store no grid; the FNO scripts use linspace(0, 1, s) per axis.")
    if num_frames is not None and in_key == "a":
        notes.append(
            "`a` is the state at t = 0; `u` holds the later frames, so outputs are all "
            "frames of `u` (output_start = 0)."
        )
    kind = {("coeff", "sol"): "Darcy (coeff -> sol)"}.get(
        (in_key, out_key),
        "Navier-Stokes type (a -> u(t))" if num_frames else "Burgers type (a -> u)",
    )
    return Layout(
        format=FORMAT,
        path=path,
        num_samples=n,
        channels=channels,
        fields=fields,
        default_inputs=[in_key],
        default_outputs=[out_key],
        description=f"FNO paper .mat, {kind}, {version}",
        reference=REFERENCE,
        num_frames=num_frames,
        trajectory_times=times,
        parameters=parameters,
        notes=notes,
        closers=closers,
    )

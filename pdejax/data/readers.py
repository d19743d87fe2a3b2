"""Readers that map community data files onto the pdejax schema (:class:`pdejax.data.Dataset`).

| format | files | mapping |
|---|---|---|
| FNO paper ``.mat`` (MATLAB v5 via scipy, v7.3 via h5py) | ``burgers_data_R10.mat``: ``a``, ``u`` (S, N) | inputs ``a[:, None]``, outputs ``u[:, None]`` |
| | ``piececonst_r421_N1024_smooth1.mat``: ``coeff``, ``sol`` (S, N, N) | inputs ``coeff[:, None]``, outputs ``sol[:, None]`` |
| | ``NavierStokes_V1e-3_N5000_T50.mat``: ``a`` (S, N, N), ``u`` (S, N, N, T), ``t`` | inputs ``a[:, None]``, outputs ``u`` as (S, T, 1, N, N), times ``t`` |
| PDEBench HDF5 | time-dependent: ``tensor`` (S, T, *spatial), ``x-coordinate``, ``t-coordinate`` | inputs frame 0 (S, 1, *spatial), outputs frames 1.. (S, T-1, 1, *spatial) |
| | Darcy: ``nu`` (S, *spatial), ``tensor`` (S, 1, *spatial) | inputs ``nu[:, None]``, outputs ``tensor`` |

MATLAB v7.3 files are HDF5 with every array stored transposed (column-major); the reader
transposes them back, so both versions give the same arrays. Nothing here unpickles.
"""

import os
from pathlib import Path

import h5py
import numpy as np
import scipy.io

from .datasets import Dataset

# (input key, output key) pairs of the FNO paper's files, tried in order
_FNO_KEYS = (("a", "u"), ("coeff", "sol"))


def _load_mat(path: Path) -> dict[str, np.ndarray]:
    if h5py.is_hdf5(path):  # MATLAB v7.3
        out = {}
        with h5py.File(path, "r") as f:
            for name, obj in f.items():
                if isinstance(obj, h5py.Dataset):
                    out[name] = np.asarray(obj[...]).transpose()
        return out
    try:
        raw = scipy.io.loadmat(path)
    except (ValueError, OSError, TypeError) as err:
        raise ValueError(f"read_fno_mat: {path} is not a readable .mat file: {err}") from err
    return {k: v for k, v in raw.items() if not k.startswith("__")}


def read_fno_mat(path: str | os.PathLike) -> Dataset:
    """Read one of the FNO paper's ``.mat`` data files (v5 or v7.3) into the pdejax schema."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"read_fno_mat: no such file {path}.")
    arrays = _load_mat(path)
    for in_key, out_key in _FNO_KEYS:
        if in_key in arrays and out_key in arrays:
            break
    else:
        raise ValueError(
            f"read_fno_mat: {path} has fields {sorted(arrays)}; expected `a`/`u` (Burgers, "
            "Navier-Stokes) or `coeff`/`sol` (Darcy)."
        )
    a, u = np.asarray(arrays[in_key], np.float32), np.asarray(arrays[out_key], np.float32)
    if a.shape[0] != u.shape[0]:
        raise ValueError(f"read_fno_mat: `{in_key}` and `{out_key}` differ in sample count.")
    times = None
    if u.ndim == a.ndim + 1:  # Navier-Stokes: (S, N, N, T) -> (S, T, 1, N, N)
        outputs = np.moveaxis(u, -1, 1)[:, :, None]
        if "t" in arrays:
            times = np.asarray(arrays["t"], np.float64).ravel()
    elif u.ndim == a.ndim:
        outputs = u[:, None]
    else:
        raise ValueError(f"read_fno_mat: unexpected shapes {a.shape} and {u.shape} in {path}.")
    return Dataset(
        inputs=a[:, None],
        outputs=outputs,
        problem=f"fno-mat:{path.name}",
        parameters={},
        generator={"source": str(path), "format": "FNO .mat"},
        reference="Li et al., Fourier Neural Operator for Parametric PDEs, ICLR 2021",
        times=times,
    )


def read_pdebench(path: str | os.PathLike) -> Dataset:
    """Read a PDEBench HDF5 file (single-file layout) into the pdejax schema."""
    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ValueError(f"read_pdebench: {path} is not a readable HDF5 file: {err}") from err
    with f:
        if "tensor" not in f:
            raise ValueError(
                f"read_pdebench: {path} has no `tensor` dataset (fields: {sorted(f)}); only "
                "PDEBench's single-file layout is supported."
            )
        tensor = np.asarray(f["tensor"][...], np.float32)
        coords = tuple(
            np.asarray(f[name][...])
            for name in ("x-coordinate", "y-coordinate", "z-coordinate")
            if name in f
        )
        if "nu" in f:  # Darcy: coefficient -> solution
            inputs = np.asarray(f["nu"][...], np.float32)[:, None]
            outputs = tensor if tensor.ndim == inputs.ndim else tensor[:, None]
            times = None
        else:
            if tensor.ndim < 3:
                raise ValueError(
                    f"read_pdebench: `tensor` has shape {tensor.shape}; need (S, T, ...)."
                )
            inputs = tensor[:, 0][:, None]
            outputs = tensor[:, 1:][:, :, None]
            times = (
                np.asarray(f["t-coordinate"][...])[1 : tensor.shape[1]]
                if "t-coordinate" in f
                else None
            )
        return Dataset(
            inputs=inputs,
            outputs=outputs,
            problem=f"pdebench:{path.name}",
            parameters={k: _attr(v) for k, v in f.attrs.items()},
            generator={"source": str(path), "format": "PDEBench HDF5"},
            reference="Takamoto et al., PDEBench, NeurIPS 2022 Datasets and Benchmarks",
            coordinates=coords or None,
            times=times,
        )


def _attr(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, bytes):
        return value.decode()
    return value

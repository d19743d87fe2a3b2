"""Small helpers for HDF5 and MATLAB metadata: opening files, reading small datasets and
attributes as JSON-serialisable Python, with every h5py failure turned into a
:class:`~.errors.ReadError` that names the file.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import H5_ERRORS, error


def jsonable(value):
    """An HDF5/MATLAB attribute value as JSON-serialisable Python."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "SO":
            return [jsonable(v) for v in value.tolist()]
        if value.size == 1 and value.ndim <= 1:
            return jsonable(value.ravel()[0]) if value.ndim == 1 else jsonable(value.item())
        return jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def attrs_dict(attrs, path) -> dict[str, Any]:
    """HDF5 attributes as a JSON-serialisable dict (unreadable ones are reported, not raised)."""
    out = {}
    try:
        keys = list(attrs.keys())
    except H5_ERRORS as err:
        raise error(path, f"cannot read attributes (corrupt file?): {err}") from err
    for key in keys:
        try:
            out[key] = jsonable(attrs[key])
        except H5_ERRORS as err:
            out[key] = f"<unreadable: {err}>"
    return out


def as_str_list(value) -> list[str]:
    """An attribute holding a list of names (h5py gives str, bytes or numpy arrays of either)."""
    if value is None:
        return []
    if isinstance(value, (str, bytes)):
        return [jsonable(value)]
    return [str(jsonable(v)) for v in np.asarray(value).ravel().tolist()]


def open_hdf5(path):
    """Open an HDF5 file read-only; a corrupt or truncated file is a :class:`ReadError`."""
    import h5py

    try:
        return h5py.File(path, "r")
    except FileNotFoundError as err:
        raise error(path, "no such file.") from err
    except H5_ERRORS as err:
        raise error(path, f"cannot be opened as HDF5 (truncated or corrupt file?): {err}") from err


def h5_get(group, name, path):
    """``group[name]``, with a corrupt object reported as a :class:`ReadError`."""
    try:
        return group[name]
    except H5_ERRORS as err:
        raise error(path, f"cannot read `{name}` in {group.name} (corrupt file?): {err}") from err


def read_small(dataset, path) -> np.ndarray:
    """Read a small dataset (coordinates, times) whole."""
    try:
        return np.asarray(dataset[()])
    except H5_ERRORS as err:
        raise error(
            path, f"cannot read `{dataset.name}` (truncated or corrupt file?): {err}"
        ) from err


def axis_names(n: int) -> tuple[str, ...]:
    return ("x", "y", "z")[:n] if n <= 3 else tuple(f"x{i}" for i in range(n))


def h5_dataset(f, name, path, layout_name):
    """``f[name]``, which ``layout_name`` needs to be a dataset: a missing name or a group is a
    :class:`~.errors.ReadError` listing the top-level keys."""
    import h5py

    if name not in f:
        raise error(
            path,
            f"has no `{name}` dataset, which the {layout_name} layout needs; "
            f"top-level keys: {sorted(f.keys())}.",
        )
    obj = h5_get(f, name, path)
    if not isinstance(obj, h5py.Dataset):
        raise error(path, f"`{name}` is a group, expected a dataset ({layout_name} layout).")
    return obj


def stored_text(ds) -> str:
    """Where and how an HDF5 dataset is stored, for :class:`~.stored.FieldInfo`: name, shape."""
    return f"{ds.name} {tuple(ds.shape)}"

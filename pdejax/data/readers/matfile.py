"""MATLAB ``.mat`` files, variable by variable: v7.3 (HDF5, stored transposed) through h5py, v5
through scipy after a structural check of the file.

As ``utilities3.py`` ``MatReader`` of zongyi-li/fourier_neural_operator at commit
fd1fb7a3e236ce6c6137f83598589a88855d044b reads them: ``scipy.io.loadmat`` for MATLAB v5, and
for v7.3 ``h5py`` with every axis reversed (MATLAB is column-major). Each variable is a
:class:`Var`: its MATLAB shape and dtype, and an accessor to a
:class:`~.stored.StoredArray` whose axis labels are reversed for v7.3, so that a v7.3 variable is
read sample by sample with h5py slicing. scipy cannot read part of a v5 variable: each is loaded
whole (``scipy.io.loadmat(variable_names=[name])``) on first use and then kept.

The structure of a v5 file is checked before scipy parses it (:func:`v5_check`): scipy lists
only the variables before a truncation without complaint, and segfaults on some corrupt element
types (found by fuzzing the reader with scipy 1.17). ``scipy.io.loadmat`` does not unpickle.
"""

from __future__ import annotations

import numpy as np

from .errors import H5_ERRORS, error
from .h5util import read_small
from .stored import StoredArray

_MATLAB_CLASSES = {
    "double": "float64",
    "single": "float32",
    "int8": "int8",
    "uint8": "uint8",
    "int16": "int16",
    "uint16": "uint16",
    "int32": "int32",
    "uint32": "uint32",
    "int64": "int64",
    "uint64": "uint64",
    "logical": "bool",
}


class Var:
    """One MATLAB variable: its MATLAB shape, dtype, and an accessor to a StoredArray."""

    def __init__(self, name, shape, dtype, data, transposed):
        self.name, self.shape, self.dtype = name, tuple(int(n) for n in shape), np.dtype(dtype)
        self.data, self.transposed = data, transposed

    def array(self, path, labels, sizes) -> StoredArray:
        axes = tuple(reversed(labels)) if self.transposed else tuple(labels)
        return StoredArray(path, self.name, self.data, axes, sizes, dtype=self.dtype)

    def load(self, path) -> np.ndarray:
        data = self.data() if callable(self.data) and not hasattr(self.data, "shape") else self.data
        arr = read_small(data, path) if hasattr(data, "id") else np.asarray(data)
        return arr.transpose() if self.transposed else arr


def v73_variables(path, f) -> dict[str, Var]:
    """The numeric variables of the open MATLAB v7.3 (HDF5) file ``f``, read lazily."""
    import h5py

    out = {}
    for name in f:
        if name.startswith("#"):  # '#refs#', '#subsystem#': MATLAB internals
            continue
        try:
            obj = f[name]
        except H5_ERRORS as err:
            raise error(path, f"cannot read variable `{name}` (corrupt file?): {err}") from err
        if not isinstance(obj, h5py.Dataset):
            continue
        cls = obj.attrs.get("MATLAB_class", b"")
        cls = cls.decode() if isinstance(cls, bytes) else str(cls)
        if cls and cls not in _MATLAB_CLASSES:
            continue  # cell arrays, structs, strings: references, not numeric data
        out[name] = Var(name, tuple(reversed(obj.shape)), obj.dtype, obj, transposed=True)
    return out


# MATLAB v5 element types (mi*) -> item size, for the numeric ones; array classes (mx*) 6..15 are
# double, single, int8, uint8, int16, uint16, int32, uint32, int64, uint64.
_MI_NUMERIC = {1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8}
_MI_MATRIX, _MI_COMPRESSED = 14, 15
_MX_NUMERIC = range(6, 16)


def v5_check(path):
    """Check the structure of a MATLAB v5 file before scipy parses it.

    The file is a 128-byte header and data elements, each an 8-byte tag (type, byte count) and its
    bytes. scipy's ``whosmat`` silently lists only the variables before a truncation, and
    ``loadmat`` can crash the interpreter (segmentation fault, scipy 1.17) on a corrupt element
    type, so every element's extent and, for each numeric variable, the tags of its array flags,
    dimensions, name and real part are checked here (for compressed elements, from the first
    decompressed bytes). Corrupt *values* cannot be detected (the format has no checksums)."""
    import struct
    import zlib

    size = path.stat().st_size
    with open(path, "rb") as fh:
        header = fh.read(128)
        if len(header) < 128:
            raise error(path, f"is truncated: {len(header)} bytes, shorter than a MAT-file header.")
        endian = "<" if header[126:128] == b"IM" else ">"
        pos, k = 128, 0
        while pos < size:
            fh.seek(pos)
            tag = fh.read(8)
            if len(tag) < 8:
                if tag.strip(b"\x00"):
                    raise error(
                        path, f"is truncated: {len(tag)} stray bytes after data element {k}."
                    )
                break
            mdtype, nbytes = struct.unpack(endian + "II", tag)
            if pos + 8 + nbytes > size:
                raise error(
                    path,
                    f"is truncated (or corrupt): data element {k} needs "
                    f"{pos + 8 + nbytes} bytes, the file has {size}.",
                )
            if mdtype == _MI_MATRIX:
                v5_check_matrix(path, k, fh.read(min(nbytes, 4096)), nbytes, endian)
            elif mdtype == _MI_COMPRESSED:
                try:
                    inner = zlib.decompressobj().decompress(fh.read(min(nbytes, 1 << 16)), 4096)
                except zlib.error as err:
                    raise error(
                        path, f"is corrupt: data element {k} does not decompress: {err}"
                    ) from err
                if len(inner) < 8:
                    raise error(
                        path, f"is corrupt: data element {k} decompresses to {len(inner)} bytes."
                    )
                itype, inbytes = struct.unpack(endian + "II", inner[:8])
                if itype != _MI_MATRIX:
                    raise error(
                        path,
                        f"is corrupt: compressed element {k} holds type {itype}, not a matrix.",
                    )
                v5_check_matrix(path, k, inner[8:], inbytes, endian)
            else:
                raise error(
                    path,
                    f"is corrupt: top-level data element {k} has type {mdtype} "
                    "(expected a matrix, 14, or compressed data, 15).",
                )
            pos += 8 + nbytes
            k += 1


def v5_check_matrix(path, k, buf, nbytes, endian):
    """Check the sub-element tags of one miMATRIX element (``buf``: its first bytes)."""
    import struct

    def tag(off):
        if off + 8 > len(buf):
            return None
        first, second = struct.unpack(endian + "II", buf[off : off + 8])
        if first >> 16:  # small data element: type and size packed in 4 bytes, data in 4
            return first & 0xFFFF, first >> 16, off + 4, off + 8
        return first, second, off + 8, off + 8 + -(-second // 8) * 8

    def bad(what):
        return error(path, f"is corrupt: variable {k} has {what}.")

    if nbytes == 0:
        return  # an empty matrix
    flags = tag(0)
    if flags is None or flags[0] != 6 or flags[1] != 8:
        raise bad(f"array flags with tag {flags[:2] if flags else None} (expected type 6, 8 bytes)")
    word = struct.unpack(endian + "I", buf[flags[2] : flags[2] + 4])[0]
    cls = word & 0xFF
    dims = tag(flags[3])
    if dims is None or dims[0] != 5 or dims[1] < 8 or dims[1] % 4:
        raise bad(f"a dimensions tag {dims[:2] if dims else None} (expected type 5)")
    shape = struct.unpack(endian + "i" * (dims[1] // 4), buf[dims[2] : dims[2] + dims[1]])
    if any(n < 0 for n in shape):
        raise bad(f"negative dimensions {shape}")
    name = tag(dims[3])
    if name is None or name[0] != 1:
        raise bad(f"a name tag {name[:2] if name else None} (expected type 1)")
    if cls not in _MX_NUMERIC:
        return  # cells, structs, chars, sparse: not read by this reader
    real = tag(name[3])
    if real is None:
        raise bad("no data tag")
    if real[0] not in _MI_NUMERIC:
        raise bad(f"a data tag of type {real[0]}, not a numeric type")
    count = int(np.prod(shape, dtype=np.int64))
    if real[1] != count * _MI_NUMERIC[real[0]]:
        raise bad(f"{real[1]} data bytes for shape {shape} of {_MI_NUMERIC[real[0]]}-byte items")


def v5_variables(path) -> dict[str, Var]:
    """The numeric variables of a MATLAB v5 file, after :func:`v5_check`; each loaded on first use."""
    import scipy.io

    v5_check(path)
    try:
        listing = scipy.io.whosmat(str(path))
    except Exception as err:  # noqa: BLE001 - scipy raises many types on corrupt files
        raise error(
            path,
            f"is not a readable MATLAB v5 .mat file (truncated or corrupt?): "
            f"{type(err).__name__}: {err}",
        ) from err
    cache: dict[str, np.ndarray] = {}

    def loader(name):
        def load():
            if name not in cache:
                try:
                    data = scipy.io.loadmat(str(path), variable_names=[name])
                except Exception as err:  # noqa: BLE001
                    raise error(
                        path,
                        f"could not load variable `{name}` (truncated or corrupt "
                        f"file?): {type(err).__name__}: {err}",
                    ) from err
                if name not in data:
                    raise error(
                        path, f"variable `{name}` listed but not loadable (truncated file?)."
                    )
                cache[name] = np.asarray(data[name])
            return cache[name]

        return load

    out = {}
    for name, shape, cls in listing:
        if cls in _MATLAB_CLASSES:
            out[name] = Var(name, shape, _MATLAB_CLASSES[cls], loader(name), transposed=False)
    return out

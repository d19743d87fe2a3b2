"""Which format a file is (:func:`detect_format`), and :func:`open_source`, which opens it.

Detection looks at the first bytes (HDF5 or MATLAB v5), the top-level keys, the first
groups' children and the root attributes (:class:`Probe`), and asks each format module's
``sniff`` whether it fits; a file that fits none or several is a :class:`~.errors.ReadError`
naming the file, the formats and what the file holds.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np

from . import fno_mat, native, pdearena, pdebench, the_well
from .errors import H5_ERRORS, ReadError, error
from .source import Source

#: The format names :func:`open_source` accepts (``format=``), with what each file holds.
FORMATS: dict[str, str] = {
    "fno-mat": "FNO paper .mat (MATLAB v5 or v7.3): a/u, coeff/sol",
    "pdebench": "PDEBench single-array HDF5: tensor (+ nu for Darcy), x-/t-coordinate",
    "pdebench-cfd": "PDEBench multi-field CFD HDF5: density, pressure, Vx[, Vy, Vz]",
    "pdebench-samples": "PDEBench per-sample groups: 0000/data, 0000/grid/{x,y,t}",
    "pdebench-ns-incomp": "PDEBench incompressible NS: velocity, particles, force, t",
    "the-well": "The Well HDF5: dimensions/, t0_fields/, t1_fields/, t2_fields/, scalars/",
    "pdearena": "PDEArena HDF5: train/valid/test groups with u, vx, vy, ... or d_field, h_field",
    "pdejax": "pdejax's schema: inputs, outputs, attribute format='pdejax-dataset'",
}

_MODULES = {
    "fno-mat": fno_mat,
    "pdebench": pdebench,
    "pdebench-cfd": pdebench,
    "pdebench-samples": pdebench,
    "pdebench-ns-incomp": pdebench,
    "the-well": the_well,
    "pdearena": pdearena,
    "pdejax": native,
}

_ALIASES = {
    "fno": "fno-mat",
    "mat": "fno-mat",
    "fno_mat": "fno-mat",
    "well": "the-well",
    "thewell": "the-well",
    "the_well": "the-well",
    "pdebench-single": "pdebench",
    "pdebench_cfd": "pdebench-cfd",
    "pdebench_samples": "pdebench-samples",
    "pdebench-groups": "pdebench-samples",
    "pdebench_ns_incomp": "pdebench-ns-incomp",
    "pde-arena": "pdearena",
    "native": "pdejax",
}


@dataclasses.dataclass
class Probe:
    """What detection looks at: the first bytes, top-level keys and root attributes."""

    path: Path
    kind: str  # "hdf5", "mat-v5", "other"
    header: bytes = b""
    keys: dict[str, str] = dataclasses.field(
        default_factory=dict
    )  # name -> "group"/"dataset"/class
    attrs: dict[str, Any] = dataclasses.field(default_factory=dict)
    children: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def summary(self) -> str:
        keys = sorted(self.keys)
        shown = ", ".join(f"{k} ({self.keys[k]})" for k in keys[:20]) + (
            " ..." if len(keys) > 20 else ""
        )
        text = f"top-level keys: [{shown}]" if keys else "no top-level keys"
        if self.attrs:
            text += f"; root attributes: {sorted(self.attrs)[:20]}"
        return text


def _probe_file(path: Path) -> Probe:
    import h5py

    try:
        with open(path, "rb") as fh:
            header = fh.read(128)
    except OSError as err:
        raise error(path, f"cannot be read: {err}") from err
    if h5py.is_hdf5(path):
        from .h5util import attrs_dict, open_hdf5

        probe = Probe(path, "hdf5", header)
        with open_hdf5(path) as f:
            probe.attrs = attrs_dict(f.attrs, path)
            try:
                names = list(f.keys())
                for i, name in enumerate(sorted(names)):
                    obj = f.get(name, getclass=True)
                    kind = (
                        "group"
                        if obj is h5py.Group
                        else "dataset"
                        if obj is h5py.Dataset
                        else "other"
                    )
                    probe.keys[name] = kind
                    if kind == "group" and i < 3:
                        probe.children[name] = list(f[name].keys())[:50]
            except H5_ERRORS as err:
                raise error(
                    path, f"cannot list its contents (truncated or corrupt file?): {err}"
                ) from err
        return probe
    if header.startswith(b"MATLAB"):
        import scipy.io

        probe = Probe(path, "mat-v5", header)
        try:
            probe.keys = {name: cls for name, _, cls in scipy.io.whosmat(str(path))}
        except Exception as err:  # noqa: BLE001 - scipy raises many types on corrupt files
            raise error(
                path,
                f"is not a readable MATLAB .mat file (truncated or corrupt?): "
                f"{type(err).__name__}: {err}",
            ) from err
        return probe
    return Probe(path, "other", header)


def _sniff(probe: Probe) -> list[str]:
    found = []
    if fno_mat.sniff(probe):
        found.append("fno-mat")
    found += pdebench.sniff(probe)
    if the_well.sniff(probe):
        found.append("the-well")
    if pdearena.sniff(probe):
        found.append("pdearena")
    if native.sniff(probe):
        found.append("pdejax")
    return found


def _representative(path: Path) -> Path:
    """For a directory, the first HDF5 file that detection should look at."""
    candidates = []
    for base in (path, path / "data"):
        for sub in [base] + [base / s for s in ("train", "valid", "test")]:
            if sub.is_dir():
                candidates += sorted(
                    p for p in sub.iterdir() if p.is_file() and p.suffix.lower() in (".h5", ".hdf5")
                )
        if candidates:
            return candidates[0]
    raise error(
        path,
        "is a directory without .h5/.hdf5 files (looked in it, in data/ and in "
        "their train/valid/test subdirectories).",
    )


def detect_format(path: str | os.PathLike) -> str:
    """The format name of ``path`` (a file, or a The Well / PDEArena directory).

    Raises a ValueError naming the file, the formats it was compared with and its top-level keys
    when it matches none or several.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import h5py, numpy as np
        >>> from pdejax.data.readers import detect_format
        >>> path = Path(tempfile.mkdtemp()) / "1D_Advection_tiny.hdf5"
        >>> with h5py.File(path, "w") as f:
        ...     f["tensor"] = np.zeros((2, 3, 8))  # PDEBench: (samples, time, x)
        >>> detect_format(path)
        'pdebench'
    """
    path = Path(path)
    if not path.exists():
        raise error(path, "no such file or directory.")
    target = _representative(path) if path.is_dir() else path
    probe = _probe_file(target)
    found = _sniff(probe)
    where = f" (looked at {target.name})" if target != path else ""
    if len(found) == 1:
        fmt = found[0]
        if path.is_dir() and fmt not in ("the-well", "pdearena"):
            raise error(
                path,
                f"is a directory of {fmt} files{where}; open one file at a time "
                "(only The Well and PDEArena sources span several files).",
            )
        return fmt
    if not found:
        if probe.kind == "other":
            raise error(
                target,
                f"is neither HDF5 nor a MATLAB .mat file (first bytes "
                f"{probe.header[:16]!r}); expected one of: "
                + "; ".join(f"{k}: {v}" for k, v in FORMATS.items())
                + ".",
            )
        raise error(
            target,
            f"is not a recognised data file{where}: {probe.summary()}. Expected "
            "one of: "
            + "; ".join(f"{k}: {v}" for k, v in FORMATS.items())
            + ". Pass `format=` to force one.",
        )
    raise error(
        target,
        f"is ambiguous{where}: it fits the layouts {found} ({probe.summary()}); "
        "pass `format=` to choose.",
    )


def normalise_format(format: str, path) -> str:
    """The name in :data:`FORMATS` for ``format`` or one of its aliases (``"well"``, ...)."""
    key = str(format).strip().lower()
    key = _ALIASES.get(key, _ALIASES.get(key.replace("_", "-"), key.replace("_", "-")))
    if key not in FORMATS:
        raise error(path, f"unknown format {format!r}; known formats: {sorted(FORMATS)}.")
    return key


def open_source(
    path: str | os.PathLike,
    format: str | None = None,
    *,
    inputs=None,
    outputs=None,
    split: str | None = None,
    dtype=np.float32,
) -> Source:
    """Open ``path`` lazily.

    Args:
        path: a data file, or (The Well, PDEArena) a directory of files / a dataset directory.
        format: one of :data:`FORMATS`; detected when None.
        inputs, outputs: a field or channel name, or a list of them (stacked as channels in
            that order); the format's defaults when None. A field name selects all its channels
            (``"velocity"`` -> ``velocity_x``, ``velocity_y``).
        split: ``"train"``, ``"valid"`` or ``"test"`` where the layout has splits (The Well,
            PDEArena); a ValueError elsewhere.
        dtype: dtype of the arrays :meth:`Source.read` returns; None keeps the stored dtype.

    Returns a :class:`~.source.Source`, which reads nothing until asked. Every error is a
    :class:`~.errors.ReadError` (a ``ValueError``) naming the file and the problem.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np, scipy.io
        >>> from pdejax.data.readers import open_source
        >>> path = Path(tempfile.mkdtemp()) / "ns_tiny.mat"  # FNO Navier-Stokes: `u` time last
        >>> scipy.io.savemat(path, {"a": np.zeros((3, 8, 8)), "u": np.ones((3, 8, 8, 5)),
        ...                         "t": np.arange(1, 6) * 0.2})
        >>> with open_source(path) as src:
        ...     x, y = src.read(slice(0, 2))
        ...     print(src.format, x.shape, y.shape, src.times)
        fno-mat (2, 1, 8, 8) (2, 5, 1, 8, 8) [0.2 0.4 0.6 0.8 1. ]
    """
    path = Path(path)
    if not path.exists():
        raise error(path, "no such file or directory.")
    fmt = detect_format(path) if format is None else normalise_format(format, path)
    module = _MODULES[fmt]
    if format is not None and not path.is_dir():
        # a forced format is checked by its module (expected vs found); plainly foreign files here
        probe = _probe_file(path)
        if probe.kind == "other":
            raise error(
                path,
                f"is neither HDF5 nor a MATLAB .mat file, so it cannot be {fmt} ({FORMATS[fmt]}).",
            )
        if fmt != "fno-mat" and probe.kind != "hdf5":
            raise error(path, f"is a MATLAB v5 .mat file, not {fmt} ({FORMATS[fmt]}).")
    try:
        layout = module.open_layout(path, format=fmt, split=split)
    except ReadError:
        raise
    except H5_ERRORS as err:  # h5py/HDF5 failures on corrupt metadata the modules did not foresee
        raise error(
            path, f"could not be read as {fmt} (corrupt file?): {type(err).__name__}: {err}"
        ) from err
    return Source(layout, inputs=inputs, outputs=outputs, dtype=dtype)

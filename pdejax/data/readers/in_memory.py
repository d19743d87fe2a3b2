"""Whole files read into an in-memory :class:`~pdejax.data.Dataset`: :func:`read_fno_mat` and
:func:`read_pdebench`, the readers of ``pdejax.data`` before :func:`~.detect.open_source`, kept
with their signatures and results and now built on it
(``Dataset(**open_source(path, format=...).dataset_kwargs())``). For files larger than memory,
other layouts or a choice of fields, use :func:`~.detect.open_source` directly.
"""

from __future__ import annotations

import os

from ..datasets import Dataset
from .detect import open_source


def read_fno_mat(path: str | os.PathLike) -> Dataset:
    """Read one of the FNO paper's ``.mat`` data files (MATLAB v5 or v7.3) into the pdejax schema.

    Burgers (``a`` -> ``u``) and Darcy (``coeff`` -> ``sol``) give inputs and outputs
    ``(S, 1, *grid)``; Navier-Stokes (``a`` -> ``u`` stored time last, ``t``) gives outputs
    ``(S, T, 1, N, N)`` and ``times``. Arrays are float32; v5 and v7.3 files give the same
    arrays. The format is ``open_source(path, format="fno-mat")`` (:mod:`.fno_mat`).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import numpy as np, scipy.io
        >>> from pdejax.data import read_fno_mat
        >>> path = Path(tempfile.mkdtemp()) / "burgers_tiny.mat"
        >>> scipy.io.savemat(path, {"a": np.zeros((3, 16)), "u": np.ones((3, 16))})
        >>> data = read_fno_mat(path)
        >>> data.inputs.shape, data.outputs.shape, data.problem
        ((3, 1, 16), (3, 1, 16), 'fno-mat:burgers_tiny.mat')
    """
    with open_source(path, format="fno-mat") as src:
        return Dataset(**src.dataset_kwargs())


def read_pdebench(path: str | os.PathLike) -> Dataset:
    """Read a PDEBench single-array HDF5 file (``tensor``) into the pdejax schema.

    Time-dependent ``tensor`` (S, T, *grid): inputs frame 0, ``(S, 1, *grid)``, outputs frames
    1.., ``(S, T-1, 1, *grid)``, with the ``*-coordinate`` grid and the frames' times. Darcy
    (``nu`` and ``tensor``): inputs ``nu`` and outputs ``tensor``, ``(S, 1, *grid)``. The file's
    attributes become ``parameters``. The format is ``open_source(path, format="pdebench")``;
    PDEBench's other layouts (CFD, per-sample groups, incompressible Navier-Stokes) are read by
    :func:`~.detect.open_source` (:mod:`.pdebench`, :mod:`.pdebench_generated`).

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> import h5py, numpy as np
        >>> from pdejax.data import read_pdebench
        >>> path = Path(tempfile.mkdtemp()) / "1D_Burgers_tiny.hdf5"
        >>> with h5py.File(path, "w") as f:
        ...     f["tensor"] = np.zeros((4, 6, 16))  # (samples, time, x)
        ...     f["x-coordinate"] = np.linspace(0, 1, 16)
        ...     f["t-coordinate"] = np.arange(7) * 0.5  # T + 1 values, as PDEBench writes
        ...     f.attrs["Nu"] = 0.01
        >>> data = read_pdebench(path)
        >>> data.inputs.shape, data.outputs.shape, data.times, data.parameters
        ((4, 1, 16), (4, 5, 1, 16), array([0.5, 1. , 1.5, 2. , 2.5]), {'Nu': 0.01})
    """
    with open_source(path, format="pdebench") as src:
        return Dataset(**src.dataset_kwargs())

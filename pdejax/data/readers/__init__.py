"""Lazy readers of community PDE data files, mapped onto pdejax's conventions (part of the data
layer: imports numpy, scipy, h5py, the standard library and :mod:`pdejax.data.datasets`, never
JAX).

Formats (``format=``; detected from the extension, the top-level keys and the attributes when
not given); each module's docstring names the producer's files and commit its layout was read
from:

====================== ==================================================================
``fno-mat``            FNO paper ``.mat``, MATLAB v5 and v7.3 (:mod:`.fno_mat`, :mod:`.matfile`)
``pdebench``           PDEBench single ``tensor`` (time-dependent, or Darcy with ``nu``) (:mod:`.pdebench`)
``pdebench-cfd``       PDEBench multi-field CFD (``density``, ``pressure``, ``Vx`` ...) (:mod:`.pdebench`)
``pdebench-samples``   PDEBench one group per sample (``0000/data``, ``0000/grid/x`` ...) (:mod:`.pdebench_generated`)
``pdebench-ns-incomp`` PDEBench incompressible NS (``velocity``, ``particles``, ``force``) (:mod:`.pdebench_generated`)
``the-well``           The Well (file, directory of files, or dataset directory + ``split``) (:mod:`.the_well`)
``pdearena``           PDEArena (``train``/``valid``/``test`` groups; file or directory) (:mod:`.pdearena`)
``pdejax``             pdejax's own schema (:mod:`pdejax.data.datasets`) (:mod:`.native`)
====================== ==================================================================

:func:`open_source` returns a :class:`Source`, which reads nothing until asked:
:meth:`Source.read` reads the selected samples from disk (h5py slicing), so files larger than
memory work (MATLAB v5 ``.mat`` files, which scipy cannot read partially, are the exception: see
:mod:`.fno_mat`). Arrays come out channels first: inputs ``(S, C, *spatial)``; outputs
``(S, C, *spatial)`` or ``(S, T, C, *spatial)``. :meth:`Source.describe` is the text of
``pdejax inspect FILE``; :meth:`Source.dataset_kwargs` builds a :class:`pdejax.data.Dataset`, as
:func:`read_fno_mat` and :func:`read_pdebench` do for a whole file. Every error is a
``ValueError`` (:class:`ReadError`) naming the file and the problem. Nothing unpickles.

Modules: :mod:`.detect` (detection, :func:`open_source`), :mod:`.source` (:class:`Source`),
:mod:`.stored` (labelled on-disk arrays, :class:`FieldInfo`, the layout a format module builds),
:mod:`.selection` (sample selections), :mod:`.h5util` and :mod:`.errors` (helpers), one module
per format, and :mod:`.in_memory` (:func:`read_fno_mat`, :func:`read_pdebench`).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> import h5py, numpy as np
    >>> from pdejax.data.readers import open_source
    >>> path = Path(tempfile.mkdtemp()) / "2D_DarcyFlow_tiny.hdf5"
    >>> with h5py.File(path, "w") as f:  # PDEBench Darcy: coefficient `nu` -> solution `tensor`
    ...     f["nu"] = np.ones((4, 8, 8))
    ...     f["tensor"] = np.zeros((4, 1, 8, 8))
    ...     f.attrs["beta"] = 1.0
    >>> with open_source(path) as src:
    ...     print(src.describe())
    ...     for index, x, y in src.chunks(3):
    ...         print(index, x.shape, y.shape)
    file:        .../2D_DarcyFlow_tiny.hdf5
    format:      pdebench (PDEBench single-array, Darcy (2-d): nu -> tensor)
    samples:     4
    fields:
      nu      static           per sample (8, 8)             float64  /nu (4, 8, 8)
      tensor  static           per sample (8, 8, 1)          float64  /tensor (4, 1, 8, 8) (S, 1, *grid)
    inputs:      nu  -> per sample (1, 8, 8)
    outputs:     tensor  -> per sample (1, 8, 8)
    coordinates: none in the file
    attributes:
      beta = 1.0
    slice(0, 3, None) (3, 1, 8, 8) (3, 1, 8, 8)
    slice(3, 4, None) (1, 1, 8, 8) (1, 1, 8, 8)
"""

from .detect import FORMATS, detect_format, open_source
from .errors import ReadError
from .in_memory import read_fno_mat, read_pdebench
from .source import Source
from .stored import FieldInfo

__all__ = [
    "FORMATS",
    "FieldInfo",
    "ReadError",
    "Source",
    "detect_format",
    "open_source",
    "read_fno_mat",
    "read_pdebench",
]

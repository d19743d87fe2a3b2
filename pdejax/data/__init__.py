"""Data: named problems, the pdejax HDF5 schema, readers of community files, generation
(layer 5: imports core and grids; imports :mod:`pdejax.solvers` only lazily, to fill the
problem registry).

Owns :class:`Problem` and its registry (:func:`register_problem`, :func:`make_problem`), the
:class:`Dataset` schema (:func:`save_dataset`, :func:`load_dataset`), readers that map the FNO
paper's, PDEBench's, The Well's and PDEArena's files onto it, and resumable chunked generation
(:func:`generate`). Nothing here trains.
"""

from .datasets import Dataset, load_dataset, save_dataset
from .generate import generate
from .problems import Problem, available_problems, make_problem, register_problem
from .readers import (
    FORMATS,
    ReadError,
    Source,
    detect_format,
    open_source,
    read_fno_mat,
    read_pdebench,
)

__all__ = [
    "FORMATS",
    "Dataset",
    "Problem",
    "ReadError",
    "Source",
    "available_problems",
    "detect_format",
    "generate",
    "load_dataset",
    "make_problem",
    "open_source",
    "read_fno_mat",
    "read_pdebench",
    "register_problem",
    "save_dataset",
]

"""Grids, the FFT layer, random fields and field metrics (layer 2: imports :mod:`pdejax.core`).

Owns where a field lives and how it is transformed: :class:`PeriodicGrid` (spectral calculus on
the ``rfftn`` layout), :class:`VertexGrid` (finite differences on bounded boxes), the FFT layer
every spectral transform goes through (:mod:`pdejax.grids.fft`, sharding-aware; what a compiled
program communicates is read with :mod:`pdejax.grids.hlo`), Gaussian random fields for
inputs, and the metrics that compare fields (:func:`relative_l2`, :func:`h1_error`,
:func:`energy_spectrum`). Nothing here steps in time or knows a PDE.
"""

from . import fft as fft
from . import hlo as hlo
from .axes import grid_axes, per_axis
from .metrics import energy_spectrum, h1_error, h1_seminorm, relative_l2
from .periodic import PeriodicGrid
from .random_fields import (
    GaussianRandomField,
    NeumannGaussianRandomField,
    fno_burgers_initial_condition,
    fno_darcy_threshold_field,
    fno_navier_stokes_initial_vorticity,
)
from .vertex import VertexGrid

__all__ = [
    "GaussianRandomField",
    "NeumannGaussianRandomField",
    "PeriodicGrid",
    "VertexGrid",
    "energy_spectrum",
    "fft",
    "fno_burgers_initial_condition",
    "fno_darcy_threshold_field",
    "fno_navier_stokes_initial_vorticity",
    "grid_axes",
    "h1_error",
    "h1_seminorm",
    "hlo",
    "per_axis",
    "relative_l2",
]

"""Matrix-free linear algebra for elliptic solves (layer 3: imports :mod:`pdejax.core`).

Owns preconditioned conjugate gradients with an honest convergence report
(:func:`conjugate_gradient`, :class:`CGInfo` with a :class:`CGResult` status) and geometric
multigrid with Galerkin coarsening (:class:`Multigrid`) for the stencil operators that
:class:`pdejax.VertexGrid` builds, and both laid out over devices
(:class:`PartitionedMultigrid`: padded interior unknowns, halo exchanges, scalar reductions).
Differentiating a solve is the caller's business, through
``lax.custom_linear_solve`` (see :class:`pdejax.solvers.Darcy2D`), never by unrolling.
"""

from .krylov import CGInfo, CGResult, conjugate_gradient
from .multigrid import FluxOperator, Multigrid, MultigridHierarchy, StencilOperator
from .partition import DomainPartition, PartitionedMultigrid

__all__ = [
    "CGInfo",
    "CGResult",
    "DomainPartition",
    "FluxOperator",
    "Multigrid",
    "MultigridHierarchy",
    "PartitionedMultigrid",
    "StencilOperator",
    "conjugate_gradient",
]

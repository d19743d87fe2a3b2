"""Matrix-free linear algebra for elliptic solves (layer 3: imports :mod:`pdejax.core`).

Owns preconditioned conjugate gradients with an honest convergence report
(:func:`conjugate_gradient`, :class:`CGInfo` with a :class:`CGResult` status) and geometric
multigrid with Galerkin coarsening (:class:`Multigrid`) for the stencil operators that
:class:`pdejax.VertexGrid` builds. Differentiating a solve is the caller's business, through
``lax.custom_linear_solve`` (see :class:`pdejax.solvers.Darcy2D`), never by unrolling.
"""

from .krylov import CGInfo, CGResult, conjugate_gradient
from .multigrid import FluxOperator, Multigrid, MultigridHierarchy, StencilOperator

__all__ = [
    "CGInfo",
    "CGResult",
    "FluxOperator",
    "Multigrid",
    "MultigridHierarchy",
    "StencilOperator",
    "conjugate_gradient",
]

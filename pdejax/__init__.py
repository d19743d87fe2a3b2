"""pdejax: differentiable PDE solvers and learned surrogates in JAX, on one interface.

Classical solvers (:mod:`pdejax.solvers`) and learned operators (:mod:`pdejax.surrogates`) are
equinox modules of three kinds (:class:`AbstractOperator`, :class:`AbstractStepper`,
:class:`AbstractDynamics`), each a pure function of one unbatched state ``(C, *spatial)``, so
:func:`rollout`, :func:`integrate`, training and inverse problems treat them alike.
"""

from ._errors import check_state_shape, error_if_not_finite
from .integrate import Solution, function_evaluations, integrate
from .interface import AbstractDynamics, AbstractOperator, AbstractStepper
from .periodic_grid import PeriodicGrid
from .rollout import rollout

__version__ = "0.1.0"

__all__ = [
    "AbstractDynamics",
    "AbstractOperator",
    "AbstractStepper",
    "PeriodicGrid",
    "Solution",
    "__version__",
    "check_state_shape",
    "error_if_not_finite",
    "function_evaluations",
    "integrate",
    "rollout",
]

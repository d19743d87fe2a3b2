"""pdejax: differentiable PDE solvers and learned surrogates in JAX, on one interface.

Classical solvers (:mod:`pdejax.solvers`) and learned operators (:mod:`pdejax.surrogates`) are
equinox modules of three kinds (:class:`AbstractOperator`, :class:`AbstractStepper`,
:class:`AbstractDynamics`), each a pure function of one unbatched state ``(C, *spatial)``, so
:func:`rollout`, :func:`integrate`, training and inverse problems treat them alike.
"""

from . import etdrk as etdrk
from . import inverse as inverse
from ._errors import check_state_shape, error_if_not_finite
from .integrate import Solution, function_evaluations, integrate
from .interface import AbstractDynamics, AbstractOperator, AbstractStepper
from .metrics import energy_spectrum, h1_error, h1_seminorm, relative_l2
from .neural_ode import MLPDynamics, NeuralODE, NeuralODESolution
from .periodic_grid import PeriodicGrid
from .problems import Problem, available_problems, make_problem, register_problem
from .random_fields import GaussianRandomField, NeumannGaussianRandomField
from .regularization import (
    GlobalRegularization,
    LocalRegularization,
    one_step_estimates,
    regularization_schedule,
)
from .regularized_solver import RegularizedSolver, stability_boundary
from .rollout import rollout
from .vertex_grid import VertexGrid

__version__ = "0.1.0"

__all__ = [
    "GlobalRegularization",
    "LocalRegularization",
    "MLPDynamics",
    "NeuralODE",
    "NeuralODESolution",
    "RegularizedSolver",
    "one_step_estimates",
    "regularization_schedule",
    "stability_boundary",
    "AbstractDynamics",
    "AbstractOperator",
    "AbstractStepper",
    "GaussianRandomField",
    "NeumannGaussianRandomField",
    "Problem",
    "PeriodicGrid",
    "VertexGrid",
    "Solution",
    "__version__",
    "available_problems",
    "energy_spectrum",
    "h1_error",
    "h1_seminorm",
    "make_problem",
    "register_problem",
    "relative_l2",
    "check_state_shape",
    "error_if_not_finite",
    "function_evaluations",
    "integrate",
    "rollout",
]

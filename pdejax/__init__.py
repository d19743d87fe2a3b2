"""pdejax: differentiable PDE solvers and learned surrogates in JAX, on one interface.

Classical solvers (:mod:`pdejax.solvers`) and learned operators (:mod:`pdejax.surrogates`) are
equinox modules of three kinds (:class:`AbstractOperator`, :class:`AbstractStepper`,
:class:`AbstractDynamics`), each a pure function of one unbatched state ``(C, *spatial)``, so
:func:`rollout`, :func:`integrate`, training and inverse problems treat them alike.

The core is in layers; a lower one never imports a higher one:

1. :mod:`pdejax.core`: the interface, shapes, errors;
2. :mod:`pdejax.grids`: grids, the FFT layer, random fields, metrics;
3. :mod:`pdejax.timestepping` (semilinear schemes, rollout, integrate) and
   :mod:`pdejax.linalg` (Krylov, multigrid);
4. :mod:`pdejax.neural_ode` and :mod:`pdejax.inverse`;
5. :mod:`pdejax.data`: problems, datasets, readers, generation;
6. :mod:`pdejax.train`: losses, loaders, fit, checkpoints;
7. :mod:`pdejax.experiment`: configuration, tasks, runner, reports, the CLI.
"""

from . import _moved
from . import inverse as inverse
from .core import AbstractDynamics, AbstractOperator, AbstractStepper
from .core.errors import check_state_shape, error_if_not_finite
from .data.problems import Problem, available_problems, make_problem, register_problem
from .grids import (
    GaussianRandomField,
    NeumannGaussianRandomField,
    PeriodicGrid,
    VertexGrid,
    energy_spectrum,
    h1_error,
    h1_seminorm,
    relative_l2,
)
from .neural_ode import (
    GlobalRegularization,
    LocalRegularization,
    MLPDynamics,
    NeuralODE,
    NeuralODESolution,
    RegularizedSolver,
    one_step_estimates,
    regularization_schedule,
    stability_boundary,
)
from .timestepping import Solution, function_evaluations, integrate, rollout

__version__ = "0.2.0"

_moved.install()


def __getattr__(name: str):
    # `pdejax.etdrk` and the other 0.1.0 modules as attributes (with a DeprecationWarning)
    if f"pdejax.{name}" in _moved.MOVED:
        return _moved.load_moved(f"pdejax.{name}")
    raise AttributeError(f"module 'pdejax' has no attribute {name!r}")


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

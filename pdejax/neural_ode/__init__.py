"""Neural ODEs and adaptive-solver regularization (layer 4: imports core, grids, timestepping).

Owns :class:`NeuralODE` (any :class:`pdejax.AbstractDynamics` integrated by diffrax), the
regularizers of Pal et al. that turn the adaptive solver's own error and stiffness estimates
into a training cost (:class:`GlobalRegularization` over accepted steps through
:class:`RegularizedSolver`; :class:`LocalRegularization` at random times), and their schedule.
"""

from .models import MLPDynamics, NeuralODE, NeuralODESolution
from .regularization import (
    GlobalRegularization,
    LocalRegularization,
    one_step_estimates,
    regularization_schedule,
)
from .regularized_solver import RegularizedSolver, stability_boundary

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
]

"""Time stepping (layer 3: imports :mod:`pdejax.core` and :mod:`pdejax.grids`).

Owns how states advance in time, for solvers and surrogates alike: the semilinear protocol
(:class:`AbstractSemilinearScheme` for schemes, :class:`AbstractSemilinearStepper` for PDEs
$\\partial_t u = \\mathcal L u + \\mathcal N(u)$ on periodic grids), its two scheme families
(exponential :class:`ETDRK1` ... :class:`ETDRK4`; IMEX :class:`CrankNicolsonRK3`,
:class:`CrankNicolsonRK4`), the exponential schemes as a diffrax solver (:class:`ETDRKSolver`),
:func:`rollout` for any stepper and :func:`integrate` for any dynamics.
"""

from . import etdrk as etdrk
from .diffrax_etdrk import DiagonalLinearTerm, ETDRKSolver
from .etdrk import (
    ETDRK1,
    ETDRK2,
    ETDRK3,
    ETDRK4,
    AbstractETDRK,
    etdrk_advance,
    etdrk_repeat,
    phi_functions,
)
from .imex import AbstractIMEXScheme, CrankNicolsonRK3, CrankNicolsonRK4
from .integrate import Solution, function_evaluations, integrate
from .rollout import rollout
from .semilinear import (
    AbstractSemilinearScheme,
    AbstractSemilinearStepper,
    PreparedSemilinearStepper,
    SemilinearDynamics,
    check_periodic_grid,
    check_stepping,
    repeat_steps,
)

__all__ = [
    "AbstractETDRK",
    "AbstractIMEXScheme",
    "AbstractSemilinearScheme",
    "AbstractSemilinearStepper",
    "CrankNicolsonRK3",
    "CrankNicolsonRK4",
    "DiagonalLinearTerm",
    "ETDRK1",
    "ETDRK2",
    "ETDRK3",
    "ETDRK4",
    "ETDRKSolver",
    "PreparedSemilinearStepper",
    "SemilinearDynamics",
    "Solution",
    "check_periodic_grid",
    "check_stepping",
    "etdrk_advance",
    "etdrk_repeat",
    "function_evaluations",
    "integrate",
    "phi_functions",
    "repeat_steps",
    "rollout",
]

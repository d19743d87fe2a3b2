"""Classical PDE solvers, installed as ``pdejax.solvers``.

Each solver is an :class:`pdejax.AbstractStepper` or :class:`pdejax.AbstractOperator` (and can
provide an :class:`pdejax.AbstractDynamics`), so it is interchangeable with a learned surrogate.
"""

from pdejax.timestepping import AbstractIMEXScheme, CrankNicolsonRK3, CrankNicolsonRK4

from . import ns_problems as ns_problems  # registers the "fno/navier_stokes_*" problems
from .burgers import Burgers1D, Burgers1DDynamics  # registers "fno/burgers"
from .burgers_fd import Burgers1DFD, Dirichlet, Periodic
from .darcy import Darcy2D  # registers "fno/darcy"
from .navier_stokes import NavierStokes2D, NavierStokesDynamics2D
from .ns_diagnostics import (
    energy_spectrum,
    enstrophy,
    forcing_power,
    kinetic_energy,
    max_cfl,
    streamfunction,
    velocity,
)
from .ns_forcing import fno_forcing, kolmogorov_forcing

__all__: list[str] = [
    "Burgers1D",
    "Burgers1DDynamics",
    "Burgers1DFD",
    "Darcy2D",
    "Dirichlet",
    "Periodic",
    "AbstractIMEXScheme",
    "CrankNicolsonRK3",
    "CrankNicolsonRK4",
    "NavierStokes2D",
    "NavierStokesDynamics2D",
    "energy_spectrum",
    "enstrophy",
    "fno_forcing",
    "forcing_power",
    "kinetic_energy",
    "kolmogorov_forcing",
    "max_cfl",
    "streamfunction",
    "velocity",
]

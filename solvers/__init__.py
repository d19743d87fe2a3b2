"""Classical PDE solvers, installed as ``pdejax.solvers``.

Each solver is an :class:`pdejax.AbstractStepper` or :class:`pdejax.AbstractOperator` (and can
provide an :class:`pdejax.AbstractDynamics`), so it is interchangeable with a learned surrogate.
"""

from pdejax.timestepping import AbstractIMEXScheme, CrankNicolsonRK3, CrankNicolsonRK4

from . import ns3d_problems as ns3d_problems  # registers the "ns3d/*" problems
from . import ns_problems as ns_problems  # registers the "fno/navier_stokes_*" problems
from .advection_diffusion import AdvectionDiffusion, Heat  # "heat/2d", "advection_diffusion/1d"
from .allen_cahn import AllenCahn  # registers "allen_cahn/2d"
from .burgers import Burgers1D, Burgers1DDynamics  # registers "fno/burgers"
from .burgers_fd import Burgers1DFD, Dirichlet, Periodic
from .darcy import Darcy2D  # registers "fno/darcy"
from .fisher_kpp import FisherKPP  # registers "fisher_kpp/1d"
from .gray_scott import GrayScott2D  # registers "gray_scott/2d"
from .korteweg_de_vries import KortewegDeVries1D  # registers "kdv/solitons"
from .kuramoto_sivashinsky import KuramotoSivashinsky1D, KuramotoSivashinsky2D  # "ks/1d", "ks/2d"
from .navier_stokes import NavierStokes2D, NavierStokesDynamics2D
from .navier_stokes_3d import NavierStokes3D, leray_projection
from .ns3d_diagnostics import (
    dissipation_rate,
    divergence_rms,
    energy_spectrum_3d,
    enstrophy_3d,
    forcing_power_3d,
    kinetic_energy_3d,
    max_cfl_3d,
    vorticity_3d,
)
from .ns3d_forcing import ABCForcing, AbstractForcing3D, KolmogorovForcing3D, LinearForcing
from .ns3d_problems import abc_velocity, random_solenoidal_velocity, taylor_green_velocity
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
    "ABCForcing",
    "AbstractForcing3D",
    "KolmogorovForcing3D",
    "LinearForcing",
    "NavierStokes3D",
    "abc_velocity",
    "dissipation_rate",
    "divergence_rms",
    "energy_spectrum_3d",
    "enstrophy_3d",
    "forcing_power_3d",
    "kinetic_energy_3d",
    "leray_projection",
    "max_cfl_3d",
    "random_solenoidal_velocity",
    "taylor_green_velocity",
    "vorticity_3d",
    "AdvectionDiffusion",
    "AllenCahn",
    "FisherKPP",
    "GrayScott2D",
    "Heat",
    "KortewegDeVries1D",
    "KuramotoSivashinsky1D",
    "KuramotoSivashinsky2D",
]

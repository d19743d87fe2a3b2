"""Learned operators and wrappers, installed as ``pdejax.surrogates``.

Every model is an :class:`pdejax.AbstractOperator` (or, wrapped, a stepper or dynamics) taking
one unbatched state ``(C, *spatial)``, exactly like the classical solvers.
"""

from .deeponet import DeepONet
from .flax_interop import FlaxOperator, PdejaxModule
from .fno import FNO, fno_num_params
from .fno_configs import (
    fno_burgers_1d,
    fno_darcy_2d,
    fno_navier_stokes_2d,
    fno_navier_stokes_3d,
)
from .spectral_conv import AbstractSpectralConv, SpectralConv
from .tfno import TFNO, FactorizedSpectralConv
from .unet import UNet
from .wrappers import Autoregressive, CheckFinite, Corrected, Increment, NeuralDynamics

__all__: list[str] = [
    "AbstractSpectralConv",
    "Autoregressive",
    "CheckFinite",
    "Corrected",
    "DeepONet",
    "FNO",
    "FactorizedSpectralConv",
    "FlaxOperator",
    "Increment",
    "NeuralDynamics",
    "PdejaxModule",
    "SpectralConv",
    "TFNO",
    "UNet",
    "fno_burgers_1d",
    "fno_darcy_2d",
    "fno_navier_stokes_2d",
    "fno_navier_stokes_3d",
    "fno_num_params",
]

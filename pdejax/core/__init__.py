"""The one interface and the rules every model keeps (layer 1: imports nothing else of pdejax).

Owns the three kinds of model (:class:`AbstractOperator`, :class:`AbstractStepper`,
:class:`AbstractDynamics`), the shape vocabulary of every signature (:mod:`pdejax.core.types`)
and the error policy (:mod:`pdejax.core.errors`: construction checks that name the argument,
call-time shape checks that suggest ``jax.vmap``, run-time checks inside ``jit``). Solvers and
surrogates import what they need from here; nothing here knows about grids, schemes or data.
"""

from .errors import (
    check_dtype,
    check_positive,
    check_state_shape,
    error_if,
    error_if_not_finite,
    runtime_message,
)
from .interface import AbstractDynamics, AbstractOperator, AbstractStepper
from .types import to_precision

__all__ = [
    "AbstractDynamics",
    "AbstractOperator",
    "AbstractStepper",
    "check_dtype",
    "check_positive",
    "check_state_shape",
    "error_if",
    "error_if_not_finite",
    "runtime_message",
    "to_precision",
]

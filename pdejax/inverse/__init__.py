r"""End-to-end differentiable inverse problems, through solvers and surrogates alike (layer 4:
imports :mod:`pdejax.core`, :mod:`pdejax.grids` and :mod:`pdejax.timestepping`).

Recover unknown inputs of a PDE (initial states, coefficients, viscosity, forcing) from
observations by minimising

$$J(\theta) = \frac{1}{2\sigma^2}\|\mathcal O(F(\theta)) - y\|^2 + \sum_p R_p(\theta)$$

with gradients through the forward model $F$: any model on the one interface (a classical
solver, a trained surrogate, a hybrid), a stepper rollout (:class:`RolloutForward`, with
gradient checkpointing for long rollouts) or integrated dynamics (:class:`IntegrateForward`).
The pieces compose:

| piece | here |
|---|---|
| observation $\mathcal O$ | :class:`FullField`, :class:`PointSensors` (:func:`random_sensors`), :class:`Subsample`, :class:`TimeFrames`, :class:`Compose`; noise for synthetic data :class:`GaussianNoise` |
| misfit + priors $J$ | :class:`LeastSquaresObjective` with :class:`Tikhonov`, :class:`H1Smoothness`, :class:`TotalVariation` |
| reparameterisation | :class:`LogCoefficient`, :class:`SmoothedThreshold` (piecewise-constant coefficients) |
| solver | :func:`solve_inverse`: Adam (optax, with schedules), L-BFGS (optax, zoom line search), Gauss-Newton / Levenberg-Marquardt (optimistix) -> :class:`InverseResult` with an :class:`InverseStatus` |
| checks | :func:`gradient_check` (gradient vs central differences along random directions) |

Everything is an equinox module or a pure function, so ``jax.vmap`` over independent problems
(data, noise draws, regularization weights) works; see ``experiments/inverse_*.py``.

Example:
    >>> import jax.numpy as jnp
    >>> from pdejax import PeriodicGrid
    >>> from pdejax.inverse import LeastSquaresObjective, RolloutForward, solve_inverse
    >>> grid = PeriodicGrid(16)
    >>> heat = lambda u: grid.ifft(jnp.exp(-1e-3 * grid.wavenumber_norm_squared()) * grid.fft(u))
    >>> x, = grid.coordinates()
    >>> u0 = jnp.sin(2 * jnp.pi * x)[None]
    >>> forward = RolloutForward(heat, num_steps=5)
    >>> objective = LeastSquaresObjective(forward, forward(u0))
    >>> res = solve_inverse(objective, jnp.zeros_like(u0), "gauss_newton", max_steps=10)
    >>> float(jnp.max(jnp.abs(res.params - u0))) < 1e-10
    True
"""

from .objective import IntegrateForward, LeastSquaresObjective, RolloutForward, gradient_check
from .observe import (
    AbstractObservation,
    Compose,
    FullField,
    GaussianNoise,
    PointSensors,
    Subsample,
    TimeFrames,
    random_sensors,
)
from .priors import (
    AbstractPrior,
    H1Smoothness,
    LogCoefficient,
    SmoothedThreshold,
    Tikhonov,
    TotalVariation,
)
from .result import InverseError, InverseResult, InverseStatus
from .solve import solve_inverse

__all__ = [
    "AbstractObservation",
    "AbstractPrior",
    "Compose",
    "FullField",
    "GaussianNoise",
    "H1Smoothness",
    "IntegrateForward",
    "InverseError",
    "InverseResult",
    "InverseStatus",
    "LeastSquaresObjective",
    "LogCoefficient",
    "PointSensors",
    "RolloutForward",
    "SmoothedThreshold",
    "Subsample",
    "Tikhonov",
    "TimeFrames",
    "TotalVariation",
    "gradient_check",
    "random_sensors",
    "solve_inverse",
]

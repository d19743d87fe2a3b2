r"""Adaptive-solver regularization of neural differential equations: what to add to the loss.

Two ways to turn the solver's heuristics (:mod:`pdejax.neural_ode.regularized_solver`) into a cost:

- :class:`GlobalRegularization` (Pal et al., ICML 2021): during the solve itself, accumulate over
  accepted steps the error-estimate term $R_E = \sum_n E_n |h_n|$ and the stiffness term
  $R_S = \sum_n S_n$, $S_n = |h_n|\rho_n/\beta$. No extra function evaluations. Needs a
  discretise-then-optimise adjoint (``RecursiveCheckpointAdjoint``, ``DirectAdjoint``): the sums
  live in the solver state, which a continuous (backsolve) adjoint does not differentiate.
- :class:`LocalRegularization` (Pal, Edelman, Rackauckas, ICML 2023): the same estimates from one
  extra solver step at a randomly sampled time, $R_E = E(t^*)|h|$ and $R_S = S(t^*)$. *Unbiased*:
  $t^* \sim U(t_0, t_1)$, with $u(t^*)$ saved by the solve (an extra save time, so gradients
  reach it under every adjoint, backsolve included) and $h$ the solve's mean accepted step.
  *Biased*: $t^*$ one of the solver's accepted step times, drawn uniformly by reservoir sampling
  during the solve, and $h$ the solver's own step there; $u(t^*)$ comes from the solver state,
  so under ``BacksolveAdjoint`` the gradient treats it as a constant (the step's dependence on
  the parameters is still differentiated).

Both give scalars to add to a loss with a weight; :func:`regularization_schedule` provides the
weight as a function of the training step.

References: A. Pal, Y. Ma, V. Shah, C. Rackauckas, "Opening the Blackbox: Accelerating Neural
Differential Equations by Regularizing Internal Solver Heuristics", ICML 2021. A. Pal,
A. Edelman, C. Rackauckas, "Locally Regularized Neural Differential Equations: Some Black Boxes
Were Meant to Remain Closed!", ICML 2023.
"""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax.numpy as jnp
import optimistix as optx
from jaxtyping import Array, Float, PyTree

from ..core.types import Scalar, ScalarLike
from .regularized_solver import (
    StepEstimates,
    _boundary_of,
    check_embedded_erk,
    step_estimates,
)

__all__ = [
    "AbstractRegularization",
    "GlobalRegularization",
    "LocalRegularization",
    "one_step_estimates",
    "regularization_schedule",
]


class AbstractRegularization(eqx.Module):
    """Which adaptive-solver regularization a :class:`pdejax.NeuralODE` solve computes."""


class GlobalRegularization(AbstractRegularization):
    """Sum the heuristics over all accepted steps of the solve (no extra evaluations).

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax import MLPDynamics, NeuralODE, GlobalRegularization
        >>> node = NeuralODE(MLPDynamics(2, 8, 1, key=jr.key(0)))
        >>> sol = node(jnp.ones(2), jnp.linspace(0, 1, 3), regularization=GlobalRegularization())
        >>> bool(sol.error_estimate > 0), bool(sol.stiffness_estimate > 0)
        (True, True)
    """


class LocalRegularization(AbstractRegularization):
    """The heuristics of one extra solver step at a random time (needs ``key=`` at the call).

    Args:
        biased: ``False`` (default): the time is uniform on ``[ts[0], ts[-1]]``; ``True``: it is
            one of the solver's accepted step times, each equally likely.
        num_samples: sampled times (unbiased only); the estimates are averaged.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax import MLPDynamics, NeuralODE, LocalRegularization
        >>> node = NeuralODE(MLPDynamics(2, 8, 1, key=jr.key(0)))
        >>> sol = node(jnp.ones(2), jnp.linspace(0, 1, 3), regularization=LocalRegularization(),
        ...            key=jr.key(1))
        >>> bool(sol.error_estimate > 0), int(sol.regularization_fevals)  # one Tsit5 step
        (True, 7)

    Reference: Pal, Ma, Shah, Rackauckas, "Locally regularized neural differential equations",
    ICML 2023.
    """

    biased: bool = eqx.field(static=True, default=False)
    num_samples: int = eqx.field(static=True, default=1)

    def __check_init__(self):
        if self.num_samples < 1:
            raise ValueError(
                f"LocalRegularization: `num_samples` must be >= 1, got {self.num_samples}."
            )
        if self.biased and self.num_samples != 1:
            raise ValueError(
                "LocalRegularization: biased sampling draws one accepted step; use "
                "`num_samples=1` or `biased=False`."
            )


def one_step_estimates(
    solver: diffrax.AbstractSolver,
    vector_field: Callable,
    t: ScalarLike,
    y: PyTree[Array],
    dt: ScalarLike,
    args: PyTree = None,
    *,
    rtol,
    atol,
    norm=optx.rms_norm,
) -> StepEstimates:
    """Take one step of ``solver`` from ``(t, y)`` with step ``dt`` and return its heuristics.

    Costs one step of the method (``s`` evaluations of the vector field for an ``s``-stage
    method, as the step starts fresh). Differentiable in ``y`` and in the vector field's
    parameters; ``t`` and ``dt`` should be treated as data (``lax.stop_gradient``).

    Raises:
        ValueError: ``solver`` is not an adaptive explicit RK method with an error estimate.

    Example:
        >>> import diffrax, jax.numpy as jnp
        >>> est = one_step_estimates(diffrax.Tsit5(), lambda t, y, args: -2.0 * y, 0.0,
        ...                          jnp.ones(2), 0.1, rtol=1e-3, atol=1e-6)
        >>> round(float(est.eigenvalue), 2)  # the dominant |lambda| of the Jacobian
        2.0
    """
    tableau = check_embedded_erk(solver, who="one_step_estimates")
    terms = diffrax.ODETerm(vector_field)
    t1 = t + dt
    state = solver.init(terms, t, t1, y, args)
    y1, y_error, dense_info, _, _ = solver.step(terms, t, t1, y, args, state, False)
    return step_estimates(
        tableau,
        _boundary_of(type(solver)),
        y,
        y1,
        y_error,
        dense_info["k"],
        dt,
        rtol=rtol,
        atol=atol,
        norm=norm,
    )


def insert_times(
    ts: Float[Array, " T"], extra: Float[Array, " K"]
) -> tuple[Float[Array, " merged"], Callable]:
    """Merge sorted ``ts`` with ``extra`` times; returns the merged times and a function that
    splits an array saved at the merged times back into ``(at ts, at extra)``."""
    merged = jnp.concatenate([ts, extra.astype(ts.dtype)])
    order = jnp.argsort(merged, stable=True)
    where = jnp.argsort(order)  # position of each original entry in the merged order
    n = ts.shape[0]

    def split(ys):
        return ys[where[:n]], ys[where[n:]]

    return merged[order], split


def regularization_schedule(
    weight: float,
    *,
    final_weight: float | None = None,
    decay_steps: int | None = None,
    warmup_steps: int = 0,
) -> Callable[[Array], Scalar]:
    r"""A weight for the regularization term as a function of the training step.

    Linear ramp from 0 over ``warmup_steps`` (let the fit take shape before the solver cost is
    pushed down), then geometric interpolation from ``weight`` to ``final_weight`` over
    ``decay_steps`` (constant if either is ``None``), constant afterwards:

    $$w(n) = \min(1, n / n_w)\; w_0 \,(w_1/w_0)^{\min(1, \max(0, n - n_w)/n_d)}.$$

    Example:
        >>> w = regularization_schedule(1.0, final_weight=0.01, decay_steps=100)
        >>> [round(float(w(n)), 3) for n in (0, 50, 100, 1000)]
        [1.0, 0.1, 0.01, 0.01]
    """
    if weight < 0 or (final_weight is not None and final_weight < 0):
        raise ValueError("regularization_schedule: weights must be non-negative.")
    if warmup_steps < 0 or (decay_steps is not None and decay_steps <= 0):
        raise ValueError(
            "regularization_schedule: `warmup_steps` must be >= 0 and `decay_steps` > 0."
        )
    decays = final_weight is not None and decay_steps is not None and weight > 0

    def schedule(step):
        step = jnp.asarray(step, float)
        ramp = 1.0 if warmup_steps == 0 else jnp.clip(step / warmup_steps, 0.0, 1.0)
        if not decays:
            return ramp * jnp.asarray(weight, float)
        frac = jnp.clip((step - warmup_steps) / decay_steps, 0.0, 1.0)
        if final_weight == 0:
            return ramp * weight * (1.0 - frac)
        return ramp * weight * (final_weight / weight) ** frac

    return schedule

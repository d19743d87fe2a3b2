r"""Adaptive (or fixed-step) time integration of any :class:`~pdejax.AbstractDynamics` by diffrax."""

from collections.abc import Callable

import diffrax
import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int, PyTree

from ..core.types import State, Trajectory


class Solution(eqx.Module):
    """What :func:`integrate` returns: the saved states and the solver's statistics.

    Attributes:
        ts: the save times ``(T,)``.
        us: the states at ``ts``, ``(T, C, *spatial)``.
        num_steps: steps attempted (accepted plus rejected).
        num_accepted_steps: accepted steps.
        num_rejected_steps: rejected steps.
        num_fevals: evaluations of the vector field, counted from the solver's tableau (see
            :func:`function_evaluations`); ``-1`` for a solver whose cost per step pdejax does
            not know.
        result: diffrax's result code (``diffrax.RESULTS.successful`` on success).

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import integrate
        >>> sol = integrate(lambda t, u, args: -u, jnp.ones((1, 2)), jnp.array([0.0, 0.5, 1.0]))
        >>> sol.us.shape, int(sol.num_accepted_steps + sol.num_rejected_steps == sol.num_steps)
        ((3, 1, 2), 1)
    """

    ts: Float[Array, " T"]
    us: Trajectory
    num_steps: Int[Array, ""]
    num_accepted_steps: Int[Array, ""]
    num_rejected_steps: Int[Array, ""]
    num_fevals: Int[Array, ""]
    result: diffrax.RESULTS


def integrate(
    dynamics: Callable[[Array, State, PyTree], State],
    u0: State,
    ts: Float[Array, " T"],
    *,
    solver: diffrax.AbstractSolver | None = None,
    stepsize_controller: diffrax.AbstractStepSizeController | None = None,
    adjoint: diffrax.AbstractAdjoint | None = None,
    dt0: float | Float[Array, ""] | None = None,
    args: PyTree = None,
    saveat: diffrax.SaveAt | None = None,
    max_steps: int | None = 4096,
    throw: bool = True,
) -> Solution:
    r"""Integrate $\partial_t u = f(t, u, \text{args})$ from ``ts[0]`` and save at ``ts``.

    A thin, typed wrapper around :func:`diffrax.diffeqsolve`: every diffrax solver, step-size
    controller and adjoint can be passed through, and the solver statistics come back with the
    trajectory. Defaults: ``Tsit5`` with a PID controller at ``rtol=1e-6, atol=1e-8`` and the
    initial step chosen by diffrax (``dt0=None``); discretise-then-optimise gradients by
    recursive checkpointing.

    A failure inside the solve (too many steps, a non-finite state) raises at run time with
    ``throw=True`` (also under ``jit``); with ``throw=False`` the code is in ``result``.

    Args:
        dynamics: an :class:`pdejax.AbstractDynamics` or any ``f(t, u, args)``.
        u0: the initial state ``(C, *spatial)``.
        ts: increasing save times; the integration runs from ``ts[0]`` to ``ts[-1]``.
        solver, stepsize_controller, adjoint: diffrax objects, see above for the defaults.
        dt0: initial step; ``None`` lets an adaptive controller choose it. Required for a
            ``ConstantStepSize`` controller.
        args: passed to ``dynamics`` as its third argument.
        saveat: overrides the default ``diffrax.SaveAt(ts=ts)``.
        max_steps: the most steps the solver may take.
        throw: raise on failure instead of returning the result code.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import integrate
        >>> sol = integrate(lambda t, u, args: -u, jnp.ones((1, 3)), jnp.array([0.0, 1.0]))
        >>> round(float(sol.us[-1, 0, 0]), 5), int(sol.num_rejected_steps)
        (0.36788, 0)
    """
    ts = jnp.asarray(ts)
    if ts.ndim != 1 or ts.shape[0] < 2:
        raise ValueError(f"integrate: `ts` must be 1-d with at least two times, got {ts.shape}.")
    solver = diffrax.Tsit5() if solver is None else solver
    if stepsize_controller is None:
        stepsize_controller = diffrax.PIDController(rtol=1e-6, atol=1e-8)
    if isinstance(stepsize_controller, diffrax.ConstantStepSize) and dt0 is None:
        raise ValueError(
            "integrate: `dt0` is required with a constant step size; pass `dt0=` or an adaptive "
            "`stepsize_controller` such as `diffrax.PIDController(rtol=1e-6, atol=1e-8)`."
        )
    adjoint = diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint
    saveat = diffrax.SaveAt(ts=ts) if saveat is None else saveat
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(dynamics),
        solver,
        ts[0],
        ts[-1],
        dt0,
        u0,
        args=args,
        saveat=saveat,
        stepsize_controller=stepsize_controller,
        adjoint=adjoint,
        max_steps=max_steps,
        throw=throw,
    )
    num_steps = jnp.asarray(sol.stats["num_steps"])
    accepted = jnp.asarray(sol.stats["num_accepted_steps"])
    rejected = jnp.asarray(sol.stats["num_rejected_steps"])
    return Solution(
        ts=sol.ts,
        us=sol.ys,
        num_steps=num_steps,
        num_accepted_steps=accepted,
        num_rejected_steps=rejected,
        num_fevals=function_evaluations(solver, num_steps),
        result=sol.result,
    )


def function_evaluations(
    solver: diffrax.AbstractSolver, num_steps: Int[Array, ""]
) -> Int[Array, ""]:
    """Vector-field evaluations of an explicit Runge-Kutta solve of ``num_steps`` steps.

    An $s$-stage explicit method evaluates $s$ times per step, rejected steps included; with
    first-same-as-last (Tsit5, Dopri5, Dopri8, Bosh3) one evaluation per step is reused, so it
    costs $s-1$ per step plus one at the start. This is the usual "NFE" of the literature and
    matches an evaluation counter exactly, with one exception that diffrax (0.7) introduces:
    when an FSAL method rejects its very *first* step, diffrax evaluates $f(t_0, u_0)$ again,
    one extra evaluation per such rejection (tested: the true count exceeds this one by at most
    the number of rejected steps). Diffrax's own initial step guess (``dt0=None``) costs no
    evaluations: it starts from ``0.01``.

    Returns ``-1`` where the solver is not an explicit Runge-Kutta method (cost not known).

    Example:
        >>> import diffrax, jax.numpy as jnp
        >>> int(function_evaluations(diffrax.Tsit5(), jnp.asarray(10)))  # 7 stages, FSAL
        61
        >>> int(function_evaluations(diffrax.Euler(), jnp.asarray(10)))
        10
    """
    if isinstance(solver, diffrax.Euler):
        return 1 * num_steps
    tableau = getattr(solver, "tableau", None)
    if not isinstance(solver, diffrax.AbstractERK) or not isinstance(
        tableau, diffrax.ButcherTableau
    ):
        return jnp.asarray(-1)
    stages = len(tableau.c) + 1
    per_step = stages - 1 if tableau.fsal else stages
    return per_step * num_steps + (1 if tableau.fsal else 0)

r"""Neural ODEs: a learned vector field integrated by an adaptive diffrax solver.

$$\partial_t u = f_\theta(t, u), \qquad u(t_0) = u_0,$$

with $f_\theta$ any :class:`pdejax.AbstractDynamics` (an MLP, an FNO-based
``pdejax.surrogates.NeuralDynamics``, known physics plus a network), solved by any adaptive
explicit Runge-Kutta solver of diffrax under a PID step-size controller, differentiated by
recursive checkpointing (discretise-then-optimise, the default) or by the continuous backsolve
adjoint. Every solve reports its statistics (accepted and rejected steps, function evaluations)
and, when asked, the adaptive-solver regularization terms of :mod:`pdejax.neural_ode.regularization`.

References: R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary
Differential Equations", NeurIPS 2018; A. Pal et al., ICML 2021 and ICML 2023 (regularization).
"""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, Int, PyTree

from ..core.interface import AbstractDynamics
from ..core.types import Scalar, ScalarLike, State, Trajectory
from ..timestepping.integrate import function_evaluations
from .regularization import (
    AbstractRegularization,
    GlobalRegularization,
    LocalRegularization,
    insert_times,
    one_step_estimates,
)
from .regularized_solver import RegularizedSolver, check_embedded_erk

__all__ = ["MLPDynamics", "NeuralODE", "NeuralODESolution"]


class MLPDynamics(AbstractDynamics):
    r"""$\partial_t u = \mathrm{MLP}_\theta(u)$ (or of $(u, t)$) for a state of ``num_channels``.

    A fully connected network (``depth`` hidden layers of ``width``, ``activation``) on a state
    of shape ``(num_channels,)``. The last layer is scaled by ``final_scale`` at initialisation so
    that an untrained model starts close to $\partial_t u = 0$ (easy for the solver).

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> f = MLPDynamics(2, 16, 2, key=jr.key(0))
        >>> f(0.0, jnp.ones(2)).shape
        (2,)
    """

    mlp: eqx.nn.MLP
    num_channels: int = eqx.field(static=True)
    time_dependent: bool = eqx.field(static=True)

    def __init__(
        self,
        num_channels: int,
        width: int,
        depth: int,
        *,
        key: Array,
        activation=jnp.tanh,
        time_dependent: bool = False,
        final_scale: float = 1.0,
    ):
        for name, value, low in (("num_channels", num_channels, 1), ("width", width, 1)):
            if int(value) < low:
                raise ValueError(f"MLPDynamics: `{name}` must be >= {low}, got {value}.")
        if int(depth) < 0:
            raise ValueError(f"MLPDynamics: `depth` must be >= 0, got {depth}.")
        mlp = eqx.nn.MLP(
            num_channels + int(time_dependent),
            num_channels,
            width,
            depth,
            activation=activation,
            key=key,
        )
        last = mlp.layers[-1]
        mlp = eqx.tree_at(lambda m: m.layers[-1].weight, mlp, last.weight * final_scale)
        self.mlp = eqx.tree_at(lambda m: m.layers[-1].bias, mlp, last.bias * final_scale)
        self.num_channels = int(num_channels)
        self.time_dependent = bool(time_dependent)

    @property
    def state_shape(self) -> tuple[int | None, ...]:
        return (self.num_channels,)

    def vector_field(self, t: ScalarLike, u: State, args: PyTree) -> State:
        x = u
        if self.time_dependent:
            x = jnp.concatenate([u, jnp.reshape(jnp.asarray(t, u.dtype), (1,))])
        return self.mlp(x).astype(u.dtype)


class NeuralODESolution(eqx.Module):
    """A :class:`NeuralODE` solve: the trajectory, the solver's statistics, the regularizers.

    Attributes:
        ts: save times ``(T,)``; us: states there ``(T, C, *spatial)``.
        num_steps, num_accepted_steps, num_rejected_steps: the solve's step counts.
        num_fevals: vector-field evaluations of the solve (from the tableau, see
            :func:`pdejax.function_evaluations`), not counting a local regularizer's extra step.
        regularization_fevals: evaluations spent by local regularization (0 otherwise).
        error_estimate: $R_E$ (0 without regularization).
        stiffness_estimate: $R_S$ (0 without regularization).
        result: diffrax's result code.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax import MLPDynamics, NeuralODE
        >>> sol = NeuralODE(MLPDynamics(2, 8, 1, key=jr.key(0)))(jnp.ones(2), jnp.linspace(0, 1, 4))
        >>> sol.us.shape, int(sol.num_accepted_steps + sol.num_rejected_steps == sol.num_steps)
        ((4, 2), 1)
    """

    ts: Float[Array, " T"]
    us: Trajectory
    num_steps: Int[Array, ""]
    num_accepted_steps: Int[Array, ""]
    num_rejected_steps: Int[Array, ""]
    num_fevals: Int[Array, ""]
    regularization_fevals: Int[Array, ""]
    error_estimate: Scalar
    stiffness_estimate: Scalar
    result: diffrax.RESULTS


class NeuralODE(eqx.Module):
    r"""Integrate a learned vector field adaptively; optionally regularize the solver's work.

    ``node(u0, ts)`` solves $\partial_t u = f(t, u)$ from ``ts[0]``, saves at ``ts`` and returns
    a :class:`NeuralODESolution`. ``regularization=`` a :class:`pdejax.GlobalRegularization` or
    :class:`pdejax.LocalRegularization` (with ``key=``) adds the error-estimate and stiffness
    terms to the solution; add ``weight * sol.error_estimate`` (or the stiffness term) to the
    loss. Map over a batch of initial conditions with ``jax.vmap``.

    Args:
        dynamics: the vector field (any :class:`pdejax.AbstractDynamics`).
        solver: an adaptive explicit RK solver (default ``diffrax.Tsit5()``).
        rtol, atol: tolerances of the PID controller (and of the error scaling).
        adjoint: default ``RecursiveCheckpointAdjoint()``; ``BacksolveAdjoint()`` works with
            local regularization or none.
        dt0: initial step; ``None`` lets diffrax choose.
        max_steps: step budget of one solve.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> node = NeuralODE(MLPDynamics(2, 8, 1, key=jr.key(0)), rtol=1e-4, atol=1e-6)
        >>> sol = node(jnp.ones(2), jnp.linspace(0.0, 1.0, 5))
        >>> sol.us.shape, int(sol.num_fevals) == 6 * int(sol.num_steps) + 1
        ((5, 2), True)
    """

    dynamics: AbstractDynamics
    solver: diffrax.AbstractSolver
    stepsize_controller: diffrax.PIDController
    adjoint: diffrax.AbstractAdjoint
    dt0: float | None = eqx.field(static=True)
    max_steps: int = eqx.field(static=True)

    def __init__(
        self,
        dynamics: AbstractDynamics,
        *,
        solver: diffrax.AbstractSolver | None = None,
        rtol: float = 1e-3,
        atol: float = 1e-6,
        adjoint: diffrax.AbstractAdjoint | None = None,
        dt0: float | None = None,
        max_steps: int = 4096,
    ):
        if not callable(dynamics):
            raise ValueError(
                "NeuralODE: `dynamics` must be a pdejax.AbstractDynamics (or f(t, u, args)), "
                f"got {type(dynamics).__name__}."
            )
        self.dynamics = dynamics
        self.solver = diffrax.Tsit5() if solver is None else solver
        check_embedded_erk(self.solver, who="NeuralODE")
        if not (rtol > 0 and atol > 0):
            raise ValueError(f"NeuralODE: `rtol` and `atol` must be positive, got {rtol}, {atol}.")
        self.stepsize_controller = diffrax.PIDController(rtol=rtol, atol=atol)
        self.adjoint = diffrax.RecursiveCheckpointAdjoint() if adjoint is None else adjoint
        self.dt0 = dt0
        self.max_steps = int(max_steps)

    def _solve(self, solver, u0, ts, args, saveat, throw):
        return diffrax.diffeqsolve(
            diffrax.ODETerm(self.dynamics),
            solver,
            ts[0],
            ts[-1],
            self.dt0,
            u0,
            args=args,
            saveat=saveat,
            stepsize_controller=self.stepsize_controller,
            adjoint=self.adjoint,
            max_steps=self.max_steps,
            throw=throw,
        )

    def __call__(
        self,
        u0: State,
        ts: Float[Array, " T"],
        *,
        args: PyTree = None,
        regularization: AbstractRegularization | None = None,
        key: Array | None = None,
        throw: bool = True,
    ) -> NeuralODESolution:
        ts = jnp.asarray(ts)
        if ts.ndim != 1 or ts.shape[0] < 2:
            raise ValueError(
                f"NeuralODE: `ts` must be 1-d with at least two times, got {ts.shape}."
            )
        if isinstance(regularization, LocalRegularization) and key is None:
            raise ValueError("NeuralODE: local regularization samples times; pass `key=`.")
        if isinstance(regularization, GlobalRegularization) and isinstance(
            self.adjoint, diffrax.BacksolveAdjoint
        ):
            raise ValueError(
                "NeuralODE: global regularization accumulates in the solver state, which "
                "BacksolveAdjoint does not differentiate; use RecursiveCheckpointAdjoint() or "
                "LocalRegularization()."
            )
        ctrl = self.stepsize_controller
        zero = jnp.zeros((), jnp.result_type(u0.dtype, float))
        reg_fevals = jnp.zeros((), int)
        err, stiff = zero, zero

        if regularization is None:
            sol = self._solve(self.solver, u0, ts, args, diffrax.SaveAt(ts=ts), throw)
            us = sol.ys
        elif isinstance(regularization, GlobalRegularization) or (
            isinstance(regularization, LocalRegularization) and regularization.biased
        ):
            biased = isinstance(regularization, LocalRegularization)
            wrapped = RegularizedSolver.from_controller(
                self.solver, ctrl, key=key if biased else None
            )
            saveat = diffrax.SaveAt(ts=ts, solver_state=True)
            sol = self._solve(wrapped, u0, ts, args, saveat, throw)
            us, acc = sol.ys, RegularizedSolver.heuristics(sol.solver_state)
            if biased:
                h = jax.lax.stop_gradient(acc.sample_dt)
                y = acc.sample_y
                if isinstance(self.adjoint, diffrax.BacksolveAdjoint):
                    y = jax.lax.stop_gradient(y)
                est = self._probe(jax.lax.stop_gradient(acc.sample_t), y, h, args)
                err, stiff = est.error * jnp.abs(h), est.stiffness
                reg_fevals = reg_fevals + len(self.solver.tableau.b_sol)
            else:
                err, stiff = acc.error, acc.stiffness
        elif isinstance(regularization, LocalRegularization):
            k = regularization.num_samples
            t_star = ts[0] + (ts[-1] - ts[0]) * jr.uniform(key, (k,), ts.dtype)
            merged, split = insert_times(ts, t_star)
            sol = self._solve(self.solver, u0, merged, args, diffrax.SaveAt(ts=merged), throw)
            us, u_star = split(sol.ys)
            span = jnp.abs(ts[-1] - ts[0])
            h = jax.lax.stop_gradient(span / jnp.maximum(sol.stats["num_accepted_steps"], 1))
            h = h.astype(ts.dtype) * jnp.sign(ts[-1] - ts[0])
            est = jax.vmap(lambda t, y: self._probe(t, y, h, args))(t_star, u_star)
            err = jnp.mean(est.error) * jnp.abs(h)
            stiff = jnp.mean(est.stiffness)
            reg_fevals = reg_fevals + k * len(self.solver.tableau.b_sol)
        else:
            raise ValueError(
                "NeuralODE: `regularization` must be None, GlobalRegularization() or "
                f"LocalRegularization(), got {type(regularization).__name__}."
            )

        num_steps = jnp.asarray(sol.stats["num_steps"])
        return NeuralODESolution(
            ts=ts,
            us=us,
            num_steps=num_steps,
            num_accepted_steps=jnp.asarray(sol.stats["num_accepted_steps"]),
            num_rejected_steps=jnp.asarray(sol.stats["num_rejected_steps"]),
            num_fevals=function_evaluations(self.solver, num_steps),
            regularization_fevals=reg_fevals,
            error_estimate=err.astype(zero.dtype),
            stiffness_estimate=stiff.astype(zero.dtype),
            result=sol.result,
        )

    def _probe(self, t, y, h, args):
        ctrl = self.stepsize_controller
        return one_step_estimates(
            self.solver, self.dynamics, t, y, h, args, rtol=ctrl.rtol, atol=ctrl.atol
        )

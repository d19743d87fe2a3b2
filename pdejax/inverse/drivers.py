"""The optimizers behind :func:`~pdejax.inverse.solve_inverse`, one step at a time.

A driver has ``init(objective, params) -> state`` and ``step(objective, carry) -> (loss,
evaluated, params, state, (ok, converged, failed, reference))``, so one loop drives optax
transformations (:class:`OptaxDriver`: Adam, L-BFGS with its line search) and optimistix
least-squares solvers (:class:`OptimistixDriver`: Gauss-Newton, Levenberg-Marquardt).
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
import optimistix as optx
from jaxtyping import Array, Float, Int, PyTree

from .result import InverseStatus


class Carry(eqx.Module):
    """The state of the solve loop."""

    step: Int[Array, ""]
    params: PyTree
    state: PyTree
    best_params: PyTree
    best_loss: Float[Array, ""]
    history: Float[Array, " S"]
    status: InverseStatus
    failed_at: Int[Array, ""]
    reference: Float[Array, ""]  # first gradient norm (L-BFGS's relative stopping test)


def all_finite(tree) -> Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.asarray(True)


def tree_where(cond, a, b):
    return jax.tree_util.tree_map(lambda x, y: jnp.where(cond, x, y), a, b)


class OptaxDriver(eqx.Module):
    """Adam, L-BFGS or any optax transformation: one objective/gradient evaluation per step."""

    optimizer: optax.GradientTransformation = eqx.field(static=True)
    linesearch: bool = eqx.field(static=True)
    gtol: float = eqx.field(static=True)
    ftol: float = eqx.field(static=True)

    def init(self, objective, params):
        return self.optimizer.init(params)

    def step(self, objective, carry: Carry):
        params, state, k = carry.params, carry.state, carry.step
        if self.linesearch:
            # the line search caches the value in its state, in the default float dtype
            cached = optax.tree_utils.tree_get(state, "value")
            dtype = jnp.result_type(cached) if cached is not None else None

            def value_fn(p):
                value = objective(p)
                return value if dtype is None else value.astype(dtype)

            loss, grad = optax.value_and_grad_from_state(value_fn)(params, state=state)
        else:
            loss, grad = jax.value_and_grad(objective)(params)
        ok = jnp.isfinite(loss) & all_finite(grad)
        gnorm = optax.tree.norm(grad)
        reference = jnp.where(k == 0, gnorm, carry.reference)
        previous = carry.history[jnp.maximum(k - 1, 0)]
        stalled = (k > 0) & (jnp.abs(previous - loss) <= self.ftol * jnp.abs(loss))
        converged = ok & ((gnorm <= self.gtol * reference) | stalled)
        extra = {"value": loss, "grad": grad, "value_fn": value_fn} if self.linesearch else {}
        updates, new_state = self.optimizer.update(grad, state, params, **extra)
        new_params = optax.apply_updates(params, updates)
        keep = ok & ~converged
        return (
            loss,
            params,
            tree_where(keep, new_params, params),
            tree_where(keep, new_state, state),
            (
                ok,
                converged,
                jnp.asarray(False),
                reference,
            ),
        )


class _Residuals(eqx.Module):
    objective: Callable

    def __call__(self, y, args):
        return self.objective.residuals(y), None


class OptimistixDriver(eqx.Module):
    """Gauss-Newton / Levenberg-Marquardt (any optimistix least-squares solver), step by step."""

    solver: optx.AbstractLeastSquaresSolver

    def _fn(self, objective, params):
        return eqx.filter_closure_convert(_Residuals(objective), params, None)

    def _full_init(self, fn, params):
        f_struct, aux_struct = fn.out_struct
        return self.solver.init(fn, params, None, {}, f_struct, aux_struct, frozenset())

    def init(self, objective, params):
        # only the arrays travel in the loop's carry (and across jit calls); the static part
        # (jaxprs of linearised functions) is rebuilt at trace time, as optimistix does
        state = self._full_init(self._fn(objective, params), params)
        return eqx.filter(state, eqx.is_array)

    def step(self, objective, carry: Carry):
        fn = self._fn(objective, carry.params)
        static = eqx.filter(self._full_init(fn, carry.params), eqx.is_array, inverse=True)
        state = eqx.combine(carry.state, static)
        y, state, _ = self.solver.step(fn, carry.params, None, {}, state, frozenset())
        # the loss of the last accepted iterate y (the first step always accepts y0)
        loss = 0.5 * sum(jnp.sum(jnp.square(r)) for r in state.f_info.residual)
        ok = jnp.isfinite(loss) & all_finite(y)
        terminate, result = self.solver.terminate(fn, y, None, {}, state, frozenset())
        failed = result != optx.RESULTS.successful
        state = eqx.filter(state, eqx.is_array)
        return loss, y, y, state, (ok, terminate & ~failed, failed, carry.reference)


__all__ = ["Carry", "OptaxDriver", "OptimistixDriver", "all_finite", "tree_where"]

r"""``solve_inverse``: minimise an inverse problem's objective with optax or optimistix.

One loop drives every method, so all of them report the same things: the loss history, the best
iterate, the iteration count, a typed status (:class:`~pdejax.inverse.InverseStatus`), and (when
the forward model goes non-finite or raises) the iteration at which that happened. The loop is a
``lax.while_loop``; called eagerly it runs in jitted chunks of ``check_every`` iterations, so a
forward model that *raises* at run time (an ``eqx.error_if`` check of a solver) is caught, the
failing iteration located, and the best iterate so far still returned. Called under
``jax.vmap``/``jax.jit`` it is one traced loop.
"""

import functools
import math
import time
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np
import optax
import optimistix as optx
from jaxtyping import Array, PyTree

from ..core.errors import runtime_message
from .drivers import Carry, OptaxDriver, OptimistixDriver, tree_where
from .result import InverseError, InverseResult, InverseStatus

__all__ = ["solve_inverse"]


def _running(carry: Carry) -> bool:
    return bool(carry.status == InverseStatus.running)


def _body(driver, objective, carry: Carry) -> Carry:
    k = carry.step
    loss, evaluated, params, state, (ok, converged, failed, reference) = driver.step(
        objective, carry
    )
    better = ok & (loss < carry.best_loss)
    S = InverseStatus
    status = S.where(
        ~ok,
        S.nonfinite,
        S.where(failed, S.solver_failed, S.where(converged, S.converged, S.running)),
    )
    return Carry(
        step=k + jnp.where(ok, 1, 0),
        params=tree_where(ok, params, carry.params),
        state=tree_where(ok, state, carry.state),
        best_params=tree_where(better, evaluated, carry.best_params),
        best_loss=jnp.where(better, loss, carry.best_loss),
        history=carry.history.at[k].set(jnp.where(ok, loss, jnp.nan)),
        status=status,
        failed_at=jnp.where(ok & ~failed, carry.failed_at, k),
        reference=reference,
    )


def _run(driver, objective, carry: Carry, stop) -> Carry:
    def cond(c):
        return (c.step < stop) & (c.status == InverseStatus.running)

    return jax.lax.while_loop(cond, lambda c: _body(driver, objective, c), carry)


def _init(driver, objective, params, max_steps: int) -> Carry:
    dtype = jnp.result_type(*jax.tree_util.tree_leaves(params), float)
    return Carry(
        step=jnp.asarray(0),
        params=params,
        state=driver.init(objective, params),
        best_params=params,
        best_loss=jnp.asarray(jnp.inf, dtype),
        history=jnp.full((max_steps,), jnp.nan, dtype),
        status=InverseStatus.running,
        failed_at=jnp.asarray(-1),
        reference=jnp.asarray(0.0, dtype),
    )


_run_jit = eqx.filter_jit(_run)
_init_jit = eqx.filter_jit(_init, donate="none")


@functools.lru_cache(maxsize=64)
def _driver(method, learning_rate, tol):
    # cached, so that repeated solves with equal settings reuse one compiled loop
    if method == "adam":
        lr = 1e-2 if learning_rate is None else learning_rate
        return OptaxDriver(optax.adam(lr), False, 0.0 if tol is None else tol, 0.0)
    if method == "lbfgs":
        opt = optax.lbfgs(learning_rate)
        return OptaxDriver(opt, True, 1e-8 if tol is None else tol, 1e-14)
    tol = 1e-10 if tol is None else tol
    if method == "gauss_newton":
        return OptimistixDriver(optx.GaussNewton(rtol=tol, atol=tol, linear_solver=lx.QR()))
    if method == "levenberg_marquardt":
        return OptimistixDriver(optx.LevenbergMarquardt(rtol=tol, atol=tol))
    raise ValueError(
        f"solve_inverse: unknown `method` {method!r}; choose 'adam', 'lbfgs', 'gauss_newton', "
        "'levenberg_marquardt', or pass an optax.GradientTransformation or an optimistix "
        "least-squares solver."
    )


def _make_driver(method, learning_rate, tol):
    if isinstance(method, str):
        return _driver(method, learning_rate, tol)
    if isinstance(method, optx.AbstractLeastSquaresSolver):
        return OptimistixDriver(method)
    if isinstance(method, optax.GradientTransformation):
        linesearch = isinstance(method, optax.GradientTransformationExtraArgs)
        return OptaxDriver(method, linesearch, 0.0 if tol is None else tol, 0.0)
    raise ValueError(f"solve_inverse: `method` must be a name or a solver, got {method!r}.")


def _is_traced(tree) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(tree))


def solve_inverse(
    objective: Callable[[PyTree], Array],
    init: PyTree,
    method="lbfgs",
    *,
    max_steps: int = 200,
    learning_rate=None,
    tol: float | None = None,
    check_every: int = 25,
    throw: bool = True,
) -> InverseResult:
    r"""Minimise ``objective`` from ``init``: $\hat\theta = \arg\min_\theta J(\theta)$.

    Methods (``method``):

    - ``"adam"``: :func:`optax.adam` (``learning_rate``: a float or an optax schedule, default
      1e-2); runs ``max_steps`` unless the gradient norm falls to ``tol`` (default 0).
    - ``"lbfgs"``: :func:`optax.lbfgs` with its zoom line search (strong Wolfe); stops when
      $\|\nabla J\| \le$ ``tol`` $\cdot\|\nabla J(\theta_0)\|$ (default 1e-8) or the objective
      stops changing.
    - ``"gauss_newton"``, ``"levenberg_marquardt"``: :class:`optimistix.GaussNewton` (dense QR)
      and :class:`optimistix.LevenbergMarquardt` on the residual form
      ``objective.residuals(params)`` (a :class:`~pdejax.inverse.LeastSquaresObjective`);
      ``tol`` is their ``rtol = atol`` (default 1e-10). They materialise the Jacobian by
      forward mode (``jax.linearize``; a forward model with only a reverse-mode rule, such as
      diffrax's default adjoint, needs ``adjoint=diffrax.ForwardMode()`` or Adam/L-BFGS),
      one JVP per parameter: for thousands of unknowns pass a solver instance with
      a matrix-free linear solver, e.g.
      ``optx.GaussNewton(rtol, atol, linear_solver=lineax.NormalCG(rtol, atol))``.
    - any :class:`optax.GradientTransformation` or optimistix least-squares solver instance.

    **Failures.** A non-finite objective or gradient stops the loop (status 2), and so does a
    forward model that raises at run time (status 3, e.g. a solver's ``eqx.error_if`` check;
    located to the iteration by re-running the failing chunk one step at a time). In both cases
    ``params`` is the best iterate so far and ``failed_at`` the iteration. With ``throw=True``
    (default) an :class:`InverseError` is raised whose message names the iteration and whose
    ``.result`` carries that :class:`InverseResult`; with ``throw=False`` the result is returned
    and :attr:`InverseResult.message` says what happened. Under ``jax.jit``/``jax.vmap`` (one
    traced loop) pass ``throw=False``: a run-time error of the forward model then propagates.

    **Batching.** ``jax.vmap(lambda y: solve_inverse(obj(y), init, throw=False))(ys)`` solves
    independent problems at once (each stops on its own; the loop runs until all have).

    Args:
        objective: ``params -> scalar``; for Gauss-Newton/LM an object with ``residuals``.
        init: the initial parameter pytree.
        method: see above.
        max_steps: iteration limit (the length of ``loss_history``).
        learning_rate: Adam's rate or schedule; for L-BFGS a fixed scale (default: line search).
        tol: the stopping tolerance, see above.
        check_every: iterations per jitted chunk when called eagerly.
        throw: raise :class:`InverseError` on a failure instead of returning it.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax.inverse import LeastSquaresObjective, solve_inverse
        >>> obj = LeastSquaresObjective(lambda p: p**3 + p, jnp.array([2.0, 10.0]))
        >>> res = solve_inverse(obj, jnp.zeros(2), "levenberg_marquardt", max_steps=50)
        >>> res.params.round(6).tolist(), res.message
        ([1.0, 2.0], 'converged after ... iterations')
    """
    if not isinstance(max_steps, int) or isinstance(max_steps, bool) or max_steps < 1:
        raise ValueError(f"solve_inverse: `max_steps` must be a positive int, got {max_steps!r}.")
    if not isinstance(check_every, int) or check_every < 1:
        raise ValueError(f"solve_inverse: `check_every` must be a positive int, got {check_every}.")
    driver = _make_driver(method, learning_rate, tol)
    if isinstance(driver, OptimistixDriver) and not hasattr(objective, "residuals"):
        raise ValueError(
            "solve_inverse: Gauss-Newton / Levenberg-Marquardt need the residual form: pass a "
            "pdejax.inverse.LeastSquaresObjective (or an object with `.residuals(params)`)."
        )
    init = jax.tree_util.tree_map(jnp.asarray, init)
    _check_finite_inputs(objective, init)
    if _is_traced((init, objective)):
        if throw:
            raise ValueError(
                "solve_inverse: called under jax.jit/jax.vmap; pass `throw=False` and read "
                "`result.status` / `result.message` (a Python exception cannot carry traced "
                "results)."
            )
        carry = _run(driver, objective, _init(driver, objective, init, max_steps), max_steps)
        return _result(carry, math.nan, "", max_steps)

    start = time.perf_counter()
    carry = _init_jit(driver, objective, init, max_steps)
    error = ""
    while int(carry.step) < max_steps and _running(carry):
        first = int(carry.step)
        stop = min(first + check_every, max_steps)
        try:
            carry = _run_jit(driver, objective, carry, jnp.asarray(stop))
        except (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError):
            carry, error = _locate_failure(driver, objective, carry, stop)
    jax.block_until_ready(carry)
    result = _result(carry, time.perf_counter() - start, error, max_steps)
    if throw and not result.succeeded:
        raise InverseError(f"solve_inverse: {result.message}", result)
    return result


def _check_finite_inputs(objective, init) -> None:
    """Blame non-finite observations or initial parameters before the forward model is run."""
    data = getattr(objective, "data", None)
    for name, tree, fix in (
        ("the objective's `data`", data, "drop or mask them (observe only where the data are "
         "finite) before solving: the misfit would be NaN whatever the parameters"),
        ("`init`", init, "start from finite parameters"),
    ):  # fmt: skip
        leaves = [x for x in jax.tree_util.tree_leaves(tree) if eqx.is_array(x)]
        if not leaves or _is_traced(leaves):
            continue
        bad = sum(int(np.sum(~np.isfinite(np.asarray(x)))) for x in leaves)
        if bad:
            total = sum(int(np.size(x)) for x in leaves)
            raise ValueError(
                f"solve_inverse: {name} has {bad} non-finite entries (NaN or inf) of {total}; "
                f"{fix}."
            )


def _locate_failure(driver, objective, carry: Carry, stop: int) -> tuple[Carry, str]:
    """Re-run a chunk that raised one iteration at a time, to name the failing iteration."""
    for k in range(int(carry.step), stop):
        try:
            carry = _run_jit(driver, objective, carry, jnp.asarray(k + 1))
        except (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError) as err:
            text = runtime_message(err)
            carry = eqx.tree_at(
                lambda c: (c.status, c.failed_at),
                carry,
                (InverseStatus.forward_error, jnp.asarray(k)),
            )
            return carry, text
        if not _running(carry):
            break
    return carry, ""


def _result(carry: Carry, seconds: float, error: str, max_steps: int) -> InverseResult:
    failed = (
        (carry.status == InverseStatus.nonfinite)
        | (carry.status == InverseStatus.forward_error)
        | (carry.status == InverseStatus.solver_failed)
    )
    status = InverseStatus.where(
        carry.status == InverseStatus.running, InverseStatus.max_steps_reached, carry.status
    )
    return InverseResult(
        params=tree_where(failed, carry.best_params, carry.params),
        best_params=carry.best_params,
        loss=carry.best_loss,
        loss_history=carry.history,
        iterations=carry.step,
        status=status,
        failed_at=carry.failed_at,
        time=seconds,
        error=error,
        max_steps=max_steps,
    )

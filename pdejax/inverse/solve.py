r"""``solve_inverse``: minimise an inverse problem's objective with optax or optimistix.

One loop drives every method, so all of them report the same things: the loss history, the best
iterate, the iteration count, a status, and (when the forward model goes non-finite or raises)
the iteration at which that happened. The loop is a ``lax.while_loop``; called eagerly it runs in
jitted chunks of ``check_every`` iterations, so a forward model that *raises* at run time
(an ``eqx.error_if`` check of a solver) is caught, the failing iteration located, and the best
iterate so far still returned. Called under ``jax.vmap``/``jax.jit`` it is one traced loop.
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
from jaxtyping import Array, Float, Int, PyTree

__all__ = ["InverseError", "InverseResult", "solve_inverse"]

RUNNING, MAX_STEPS, CONVERGED, NONFINITE, FORWARD_ERROR, SOLVER_FAILED = -1, 0, 1, 2, 3, 4
_MESSAGES = {
    MAX_STEPS: "stopped at max_steps={max_steps}",
    CONVERGED: "converged after {iterations} iterations",
    NONFINITE: "the objective or its gradient became non-finite at iteration {failed_at}; "
    "the best iterate so far (loss {loss:.6g}) is returned. Lower the learning rate, bound the "
    "parameters by a reparameterisation, or check the forward model's stability",
    FORWARD_ERROR: "the forward model raised at iteration {failed_at}; the best iterate so far "
    "(loss {loss:.6g}) is returned. The error was: {error}",
    SOLVER_FAILED: "the optimistix solver reported a failure at iteration {failed_at}; the best "
    "iterate so far (loss {loss:.6g}) is returned",
}


class InverseResult(eqx.Module):
    r"""What :func:`solve_inverse` returns.

    Attributes:
        params: the final iterate; on a failure, the best iterate so far.
        best_params: the iterate with the lowest objective seen.
        loss: the objective at ``best_params``.
        loss_history: ``(max_steps,)``; entry $k$ is the objective at iterate $k$ (for
            Gauss-Newton/LM the last accepted iterate after $k+1$ evaluations); NaN past the end.
        iterations: iterations taken.
        status: 0 max_steps reached, 1 converged, 2 non-finite, 3 forward model raised,
            4 solver failure. :attr:`succeeded` is ``status <= 1``.
        failed_at: the iteration at which a failure happened, -1 if none.
        time: wall-clock seconds of the solve, compilation included (NaN under a trace).
        error: the text of the forward model's run-time error (status 3), else "".

    Example:
        >>> import jax.numpy as jnp
        >>> res = solve_inverse(lambda p: jnp.sum((p - 3.0) ** 2), jnp.zeros(2), "lbfgs")
        >>> res.succeeded, [round(float(v), 6) for v in res.params]
        (True, [3.0, 3.0])
    """

    params: PyTree
    best_params: PyTree
    loss: Float[Array, "..."]
    loss_history: Float[Array, "..."]
    iterations: Int[Array, "..."]
    status: Int[Array, "..."]
    failed_at: Int[Array, "..."]
    time: float = eqx.field(static=True, default=math.nan)
    error: str = eqx.field(static=True, default="")
    max_steps: int = eqx.field(static=True, default=0)

    @property
    def succeeded(self) -> bool:
        return bool(np.all(np.asarray(self.status) <= CONVERGED))

    @property
    def message(self) -> str:
        """A sentence on how the solve ended (one per problem for a vmapped result)."""
        status = np.atleast_1d(np.asarray(self.status))
        failed_at, iterations = np.broadcast_arrays(
            np.asarray(self.failed_at), np.asarray(self.iterations)
        )
        loss = np.broadcast_to(np.asarray(self.loss), np.shape(self.status))
        out = [
            _MESSAGES[int(s)].format(
                max_steps=self.max_steps,
                iterations=int(i),
                failed_at=int(f),
                loss=float(v),
                error=self.error,
            )
            for s, f, i, v in zip(
                status, np.atleast_1d(failed_at), np.atleast_1d(iterations), np.atleast_1d(loss)
            )
        ]
        return out[0] if np.ndim(self.status) == 0 else "; ".join(out)


class InverseError(FloatingPointError):
    """A failed :func:`solve_inverse`; ``.result`` holds the :class:`InverseResult` (best iterate).

    Raised (with ``throw=True``, the default) when the objective becomes non-finite or the
    forward model raises; the message names the iteration.

    Example:
        >>> import jax.numpy as jnp
        >>> def blows_up(p):  # finite for p < 1, NaN beyond: gradient descent walks into it
        ...     return jnp.where(p[0] < 1.0, -p[0], jnp.nan)
        >>> try:
        ...     solve_inverse(blows_up, jnp.zeros(1), "adam", learning_rate=0.3, max_steps=20)
        ... except InverseError as err:
        ...     best = err.result.best_params
        >>> bool(best[0] < 1.0)
        True
    """

    def __init__(self, message: str, result: InverseResult):
        super().__init__(message)
        self.result = result


class _Carry(eqx.Module):
    step: Int[Array, ""]
    params: PyTree
    state: PyTree
    best_params: PyTree
    best_loss: Float[Array, ""]
    history: Float[Array, " S"]
    status: Int[Array, ""]
    failed_at: Int[Array, ""]
    reference: Float[Array, ""]  # first gradient norm (L-BFGS's relative stopping test)


def _all_finite(tree) -> Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.asarray(True)


def _where(cond, a, b):
    return jax.tree_util.tree_map(lambda x, y: jnp.where(cond, x, y), a, b)


class _Optax(eqx.Module):
    """Adam, L-BFGS or any optax transformation: one objective/gradient evaluation per step."""

    optimizer: optax.GradientTransformation = eqx.field(static=True)
    linesearch: bool = eqx.field(static=True)
    gtol: float = eqx.field(static=True)
    ftol: float = eqx.field(static=True)

    def init(self, objective, params):
        return self.optimizer.init(params)

    def step(self, objective, carry: _Carry):
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
        ok = jnp.isfinite(loss) & _all_finite(grad)
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
            _where(keep, new_params, params),
            _where(keep, new_state, state),
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


class _Optimistix(eqx.Module):
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

    def step(self, objective, carry: _Carry):
        fn = self._fn(objective, carry.params)
        static = eqx.filter(self._full_init(fn, carry.params), eqx.is_array, inverse=True)
        state = eqx.combine(carry.state, static)
        y, state, _ = self.solver.step(fn, carry.params, None, {}, state, frozenset())
        # the loss of the last accepted iterate y (the first step always accepts y0)
        loss = 0.5 * sum(jnp.sum(jnp.square(r)) for r in state.f_info.residual)
        ok = jnp.isfinite(loss) & _all_finite(y)
        terminate, result = self.solver.terminate(fn, y, None, {}, state, frozenset())
        failed = result != optx.RESULTS.successful
        state = eqx.filter(state, eqx.is_array)
        return loss, y, y, state, (ok, terminate & ~failed, failed, carry.reference)


def _body(driver, objective, carry: _Carry) -> _Carry:
    k = carry.step
    loss, evaluated, params, state, (ok, converged, failed, reference) = driver.step(
        objective, carry
    )
    better = ok & (loss < carry.best_loss)
    status = jnp.where(
        ~ok, NONFINITE, jnp.where(failed, SOLVER_FAILED, jnp.where(converged, CONVERGED, RUNNING))
    )
    return _Carry(
        step=k + jnp.where(ok, 1, 0),
        params=_where(ok, params, carry.params),
        state=_where(ok, state, carry.state),
        best_params=_where(better, evaluated, carry.best_params),
        best_loss=jnp.where(better, loss, carry.best_loss),
        history=carry.history.at[k].set(jnp.where(ok, loss, jnp.nan)),
        status=status,
        failed_at=jnp.where(ok & ~failed, carry.failed_at, k),
        reference=reference,
    )


def _run(driver, objective, carry: _Carry, stop) -> _Carry:
    def cond(c):
        return (c.step < stop) & (c.status == RUNNING)

    return jax.lax.while_loop(cond, lambda c: _body(driver, objective, c), carry)


def _init(driver, objective, params, max_steps: int) -> _Carry:
    dtype = jnp.result_type(*jax.tree_util.tree_leaves(params), float)
    return _Carry(
        step=jnp.asarray(0),
        params=params,
        state=driver.init(objective, params),
        best_params=params,
        best_loss=jnp.asarray(jnp.inf, dtype),
        history=jnp.full((max_steps,), jnp.nan, dtype),
        status=jnp.asarray(RUNNING),
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
        return _Optax(optax.adam(lr), False, 0.0 if tol is None else tol, 0.0)
    if method == "lbfgs":
        opt = optax.lbfgs(learning_rate)
        return _Optax(opt, True, 1e-8 if tol is None else tol, 1e-14)
    tol = 1e-10 if tol is None else tol
    if method == "gauss_newton":
        return _Optimistix(optx.GaussNewton(rtol=tol, atol=tol, linear_solver=lx.QR()))
    if method == "levenberg_marquardt":
        return _Optimistix(optx.LevenbergMarquardt(rtol=tol, atol=tol))
    raise ValueError(
        f"solve_inverse: unknown `method` {method!r}; choose 'adam', 'lbfgs', 'gauss_newton', "
        "'levenberg_marquardt', or pass an optax.GradientTransformation or an optimistix "
        "least-squares solver."
    )


def _make_driver(method, learning_rate, tol):
    if isinstance(method, str):
        return _driver(method, learning_rate, tol)
    if isinstance(method, optx.AbstractLeastSquaresSolver):
        return _Optimistix(method)
    if isinstance(method, optax.GradientTransformation):
        linesearch = isinstance(method, optax.GradientTransformationExtraArgs)
        return _Optax(method, linesearch, 0.0 if tol is None else tol, 0.0)
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
    if isinstance(driver, _Optimistix) and not hasattr(objective, "residuals"):
        raise ValueError(
            "solve_inverse: Gauss-Newton / Levenberg-Marquardt need the residual form: pass a "
            "pdejax.inverse.LeastSquaresObjective (or an object with `.residuals(params)`)."
        )
    init = jax.tree_util.tree_map(jnp.asarray, init)
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
    while int(carry.step) < max_steps and int(carry.status) == RUNNING:
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


def _locate_failure(driver, objective, carry: _Carry, stop: int) -> tuple[_Carry, str]:
    """Re-run a chunk that raised one iteration at a time, to name the failing iteration."""
    for k in range(int(carry.step), stop):
        try:
            carry = _run_jit(driver, objective, carry, jnp.asarray(k + 1))
        except (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError) as err:
            lines = [s.strip() for s in str(err).splitlines() if s.strip()]
            text = next(
                (s for s in lines if "EquinoxRuntimeError:" in s), lines[-1] if lines else ""
            )
            text = text.split("EquinoxRuntimeError:", 1)[-1].strip()
            carry = eqx.tree_at(
                lambda c: (c.status, c.failed_at),
                carry,
                (jnp.asarray(FORWARD_ERROR), jnp.asarray(k)),
            )
            return carry, text
        if int(carry.status) != RUNNING:
            break
    return carry, ""


def _result(carry: _Carry, seconds: float, error: str, max_steps: int) -> InverseResult:
    failed = carry.status >= NONFINITE
    status = jnp.where(carry.status == RUNNING, MAX_STEPS, carry.status)
    return InverseResult(
        params=_where(failed, carry.best_params, carry.params),
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

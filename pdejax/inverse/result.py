"""What :func:`~pdejax.inverse.solve_inverse` returns: a typed status, the result, the error."""

import math

import equinox as eqx
import numpy as np
from jaxtyping import Array, Float, Int, PyTree


class InverseStatus(eqx.Enumeration):
    """How an inverse solve ended (an :class:`equinox.Enumeration`, like ``optimistix.RESULTS``):
    compare with ``==``; ``InverseStatus[status]`` is the message. ``running`` appears only
    inside the loop, never in a returned :class:`InverseResult`.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax.inverse import InverseStatus, solve_inverse
        >>> res = solve_inverse(lambda p: jnp.sum((p - 3.0) ** 2), jnp.zeros(2), "lbfgs")
        >>> bool(res.status == InverseStatus.converged), InverseStatus[res.status]
        (True, 'converged')
        >>> res = solve_inverse(lambda p: jnp.sum(jnp.log(p)), -jnp.ones(2), "adam", throw=False)
        >>> bool(res.status == InverseStatus.nonfinite), int(res.failed_at)
        (True, 0)
    """

    running = "still running"
    max_steps_reached = "stopped at max_steps"
    converged = "converged"
    nonfinite = (
        "the objective or its gradient became non-finite; the best iterate so far is returned. "
        "Lower the learning rate, bound the parameters by a reparameterisation, or check the "
        "forward model's stability"
    )
    forward_error = "the forward model raised; the best iterate so far is returned"
    solver_failed = "the optimistix solver reported a failure; the best iterate so far is returned"


class InverseResult(eqx.Module):
    r"""What :func:`~pdejax.inverse.solve_inverse` returns.

    Attributes:
        params: the final iterate; on a failure, the best iterate so far.
        best_params: the iterate with the lowest objective seen.
        loss: the objective at ``best_params``.
        loss_history: ``(max_steps,)``; entry $k$ is the objective at iterate $k$ (for
            Gauss-Newton/LM the last accepted iterate after $k+1$ evaluations); NaN past the end.
        iterations: iterations taken.
        status: an :class:`InverseStatus`; :attr:`succeeded` when it is ``max_steps_reached``
            or ``converged``.
        failed_at: the iteration at which a failure happened, -1 if none.
        time: wall-clock seconds of the solve, compilation included (NaN under a trace).
        error: the text of the forward model's run-time error (``forward_error``), else "".

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax.inverse import solve_inverse
        >>> res = solve_inverse(lambda p: jnp.sum((p - 3.0) ** 2), jnp.zeros(2), "lbfgs")
        >>> res.succeeded, [round(float(v), 6) for v in res.params]
        (True, [3.0, 3.0])
    """

    params: PyTree
    best_params: PyTree
    loss: Float[Array, "..."]
    loss_history: Float[Array, "..."]
    iterations: Int[Array, "..."]
    status: InverseStatus
    failed_at: Int[Array, "..."]
    time: float = eqx.field(static=True, default=math.nan)
    error: str = eqx.field(static=True, default="")
    max_steps: int = eqx.field(static=True, default=0)

    @property
    def succeeded(self) -> bool:
        ok = (self.status == InverseStatus.converged) | (
            self.status == InverseStatus.max_steps_reached
        )
        return bool(np.all(np.asarray(ok)))

    @property
    def message(self) -> str:
        """A sentence on how the solve ended (one per problem for a vmapped result)."""
        codes = np.atleast_1d(np.asarray(self.status._value))
        failed_at, iterations, loss = (
            np.broadcast_to(np.asarray(x), codes.shape).ravel()
            for x in (self.failed_at, self.iterations, self.loss)
        )
        out = [
            _sentence(int(code), int(f), int(i), float(v), self.max_steps, self.error)
            for code, f, i, v in zip(codes.ravel(), failed_at, iterations, loss)
        ]
        return out[0] if np.ndim(self.status._value) == 0 else "; ".join(out)


def _sentence(
    code: int, failed_at: int, iterations: int, loss: float, max_steps: int, error: str
) -> str:
    status = InverseStatus
    if code == status.max_steps_reached._value:
        return f"stopped at max_steps={max_steps}"
    if code == status.converged._value:
        return f"converged after {iterations} iterations"
    if code == status.nonfinite._value:
        return (
            f"the objective or its gradient became non-finite at iteration {failed_at}; the "
            f"best iterate so far (loss {loss:.6g}) is returned. Lower the learning rate, bound "
            "the parameters by a reparameterisation, or check the forward model's stability"
        )
    if code == status.forward_error._value:
        return (
            f"the forward model raised at iteration {failed_at}; the best iterate so far (loss "
            f"{loss:.6g}) is returned. The error was: {error}"
        )
    if code == status.solver_failed._value:
        return (
            f"the optimistix solver reported a failure at iteration {failed_at}; the best "
            f"iterate so far (loss {loss:.6g}) is returned"
        )
    return "still running"


class InverseError(FloatingPointError):
    """A failed :func:`~pdejax.inverse.solve_inverse`; ``.result`` holds the
    :class:`InverseResult` (best iterate).

    Raised (with ``throw=True``, the default) when the objective becomes non-finite or the
    forward model raises; the message names the iteration.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax.inverse import solve_inverse
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


__all__ = ["InverseError", "InverseResult", "InverseStatus"]

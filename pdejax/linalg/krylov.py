r"""Matrix-free preconditioned conjugate gradients with an honest convergence report.

:func:`conjugate_gradient` solves $Ax = b$ for a symmetric positive definite $A$ given as a
function, preconditioned by an SPD map $M \approx A^{-1}$ (e.g. a
:class:`pdejax.linalg.MultigridHierarchy` V-cycle). It is a ``lax.while_loop``: jittable and
vmappable (a batch runs until its slowest member has converged; finished members are frozen).

Convergence is judged on the *true* residual $\|b - Ax\|$, not the recursively updated one:
when the recursion says "converged", the true residual is computed; if it misses the tolerance,
CG restarts from the current iterate with the true residual ("residual replacement"), until
``max_steps`` or ``max_restarts`` (then ``converged = False``).

The working precision bounds what a residual can show: merely rounding the exact solution to
the working precision changes $Ax$ by about $\epsilon\,|A||x|$, which for a discretised PDE
is far above $\epsilon\|b\|$ (in float32 at $421^2$ the relative residual of the *rounded exact
solution* of Darcy's problem is about $7\cdot10^{-4}$, while its forward error is $10^{-8}$).
Given ``abs_matvec`` ($x \mapsto |A|x$), a true residual below
$\phi = \text{floor\_factor}\cdot\epsilon\,\||A||x|\|_2$ is also accepted, after the recursion
reached the tolerance: the iterate is then as accurate as the arithmetic can certify. The
returned ``relative_residual`` is always the true one.

Do not differentiate through this loop; wrap it in ``jax.lax.custom_linear_solve`` (as
:class:`pdejax.solvers.Darcy2D` does) so gradients cost one adjoint solve.

Reference: Hestenes & Stiefel (1952); Saad, *Iterative Methods for Sparse Linear Systems*, 2nd
ed. (2003), alg. 9.1; van der Vorst & Ye (2000) on residual replacement.
"""

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int


class CGResult(eqx.Enumeration):
    """How a :func:`conjugate_gradient` solve ended (an :class:`equinox.Enumeration`, like
    ``diffrax.RESULTS``): compare with ``==``; the message is ``CGResult[result]``.

    Example:
        >>> import jax.numpy as jnp
        >>> A = jnp.array([[4.0, 1.0], [1.0, 3.0]])
        >>> _, info = conjugate_gradient(lambda v: A @ v, jnp.ones(2), rtol=1e-12, max_steps=1)
        >>> bool(info.result == CGResult.max_steps_reached), CGResult[info.result]
        (True, 'conjugate gradients reached `max_steps` before the true residual met the tolerance; raise `max_steps` or loosen `rtol`.')
        >>> _, info = conjugate_gradient(lambda v: -v, jnp.ones(2), rtol=1e-6, max_steps=5)
        >>> bool(info.result == CGResult.breakdown)  # -I is not positive definite
        True
    """

    successful = ""
    max_steps_reached = (
        "conjugate gradients reached `max_steps` before the true residual met the tolerance; "
        "raise `max_steps` or loosen `rtol`."
    )
    max_restarts_reached = (
        "the recursive residual met the tolerance but the true residual did not after "
        "`max_restarts` residual replacements: the tolerance is below what the working "
        "precision can certify; loosen `rtol` or solve in float64."
    )
    breakdown = (
        "conjugate gradients broke down (p^T A p <= 0): the operator or the preconditioner is "
        "not symmetric positive definite."
    )


class CGInfo(eqx.Module):
    """What a :func:`conjugate_gradient` solve did.

    Attributes:
        num_steps: CG iterations (matrix-vector products and preconditioner applications, one
            of each per step).
        num_restarts: residual replacements after which CG restarted (the recursion claimed
            convergence, the true residual disagreed).
        relative_residual: $\\|b - Ax\\| / \\|b\\|$ of the returned $x$ (true residual).
        result: a :class:`CGResult`; :attr:`converged` is ``result == CGResult.successful``.

    Example (CG needs one step per distinct eigenvalue, here 3):
        >>> import jax.numpy as jnp
        >>> d = jnp.array([1.0, 2.0, 2.0, 5.0, 5.0, 5.0])
        >>> x, info = conjugate_gradient(lambda v: d * v, jnp.ones(6), rtol=1e-6, max_steps=20)
        >>> int(info.num_steps), int(info.num_restarts), bool(info.converged)
        (3, 0, True)
        >>> bool(info.relative_residual <= 1e-6), bool(jnp.allclose(x, 1 / d))
        (True, True)
    """

    num_steps: Int[Array, ""]
    num_restarts: Int[Array, ""]
    relative_residual: Float[Array, ""]
    result: CGResult

    @property
    def converged(self) -> Bool[Array, ""]:
        return self.result == CGResult.successful


def _sum_of_products(x, y):
    return jnp.sum(x * y)


class _State(eqx.Module):
    x: Array
    r: Array
    p: Array
    rz: Array
    k: Int[Array, ""]
    restarts: Int[Array, ""]
    result: CGResult
    done: Bool[Array, ""]


def conjugate_gradient(
    matvec: Callable[[Array], Array],
    b: Float[Array, "..."],
    *,
    precondition: Callable[[Array], Array] | None = None,
    rtol: float | Array,
    atol: float | Array = 0.0,
    max_steps: int | Array,
    max_restarts: int = 4,
    x0: Float[Array, "..."] | None = None,
    abs_matvec: Callable[[Array], Array] | None = None,
    floor_factor: float = 8.0,
    inner: Callable[[Array, Array], Array] | None = None,
) -> tuple[Float[Array, "..."], CGInfo]:
    r"""Preconditioned CG for $Ax = b$, stopping when $\|b - Ax\|_2 \le \max(\text{rtol}\,\|b\|_2, \text{atol})$.

    One ``lax.while_loop``. Each pass is a CG step; when the recursively updated residual
    meets the tolerance, it is replaced by the true residual $b - Ax$ (one extra product), and
    the solve either stops (the true residual meets the tolerance, or the rounding floor) or
    restarts CG from the current iterate with it.

    Args:
        matvec: $x \mapsto Ax$, symmetric positive definite, same shape as ``b``.
        b: right-hand side (any shape).
        precondition: $r \mapsto Mr$, symmetric positive definite; identity if ``None``.
        rtol, atol: tolerances on the true residual.
        max_steps: iteration limit (over all restarts).
        max_restarts: residual replacements allowed before giving up.
        x0: initial guess, zero by default.
        abs_matvec: $x \mapsto |A| x$ (entrywise absolute matrix), enabling the rounding-floor
            acceptance above; strict tolerance check if ``None``.
        floor_factor: the multiple of $\epsilon\,\||A||x|\|$ accepted.
        inner: the inner product $(x, y) \mapsto \sum x y$; pass one that adds a ``psum`` when
            the vectors are the local blocks of a field sharded over devices (inside
            ``shard_map``, as :mod:`pdejax.linalg.partition` does).

    Returns:
        ``(x, info)`` with ``info`` a :class:`CGInfo`. Nothing is raised here: the caller decides
        (``eqx.error_if(x, ~info.converged, CGResult[info.result])``, say).

    Example:
        >>> import jax.numpy as jnp
        >>> A = jnp.array([[4.0, 1.0], [1.0, 3.0]])
        >>> x, info = conjugate_gradient(lambda v: A @ v, jnp.array([1.0, 2.0]), rtol=1e-6, max_steps=10)
        >>> bool(info.converged), int(info.num_steps)
        (True, 2)
    """
    precondition = (lambda r: r) if precondition is None else precondition
    dot = _sum_of_products if inner is None else inner
    dtype = b.dtype
    b_norm = jnp.sqrt(dot(b, b))
    tol = jnp.maximum(jnp.asarray(rtol, dtype) * b_norm, jnp.asarray(atol, dtype))
    tol2 = tol * tol
    zero = jnp.zeros((), dtype)

    def limit(x):
        """The accepted squared residual: the tolerance, or the rounding floor of ``x``."""
        if abs_matvec is None:
            return tol2
        floor = floor_factor * jnp.finfo(dtype).eps * abs_matvec(jnp.abs(x))
        return jnp.maximum(tol2, dot(floor, floor))

    def body(s: _State) -> _State:
        q = matvec(s.p)
        pq = dot(s.p, q)
        alpha = jnp.where(pq > 0, s.rz / jnp.where(pq > 0, pq, 1), zero)
        x = s.x + alpha * s.p
        r = s.r - alpha * q
        k = s.k + 1
        # residual replacement: when the recursion claims convergence, trust only b - Ax
        claimed = dot(r, r) <= tol2
        r = jax.lax.cond(claimed, lambda: b - matvec(x), lambda: r)
        accepted = claimed & (dot(r, r) <= limit(x))
        restart = claimed & ~accepted
        z = precondition(r)
        rz = dot(r, z)
        beta = jnp.where(restart | (s.rz <= 0), zero, rz / jnp.where(s.rz > 0, s.rz, 1))
        result = CGResult.where(
            accepted,
            CGResult.successful,
            CGResult.where(
                restart & (s.restarts >= max_restarts),
                CGResult.max_restarts_reached,
                CGResult.where(
                    (pq <= 0) & ~claimed,
                    CGResult.breakdown,
                    CGResult.where(k >= max_steps, CGResult.max_steps_reached, s.result),
                ),
            ),
        )
        done = accepted | (result != CGResult.successful)
        restarts = s.restarts + jnp.where(restart & ~done, 1, 0)
        return _State(x, r, z + beta * s.p, rz, k, restarts, result, done)

    x = jnp.zeros_like(b) if x0 is None else x0
    r = b - matvec(x) if x0 is not None else b
    z = precondition(r)
    k0 = jnp.zeros((), jnp.int32)
    start = _State(
        x, r, z, dot(r, z), k0, k0, CGResult.successful,
        (dot(r, r) <= limit(x)) | (jnp.asarray(max_steps) <= 0),
    )  # fmt: skip
    end = jax.lax.while_loop(lambda s: ~s.done, body, start)
    r_true = b - matvec(end.x)
    rr = dot(r_true, r_true)
    result = CGResult.where(rr <= limit(end.x), CGResult.successful, end.result)
    # a limit that stopped the loop with a true residual still too large is the loop's verdict;
    # one that started converged (max_steps <= 0 or b = 0) is checked on its true residual
    result = CGResult.where(
        (rr > limit(end.x)) & (end.result == CGResult.successful),
        CGResult.max_steps_reached,
        result,
    )
    info = CGInfo(
        num_steps=end.k,
        num_restarts=end.restarts,
        relative_residual=jnp.sqrt(rr) / jnp.where(b_norm > 0, b_norm, 1),
        result=result,
    )
    return end.x, info

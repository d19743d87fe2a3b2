r"""Matrix-free preconditioned conjugate gradients with an honest convergence report.

:func:`conjugate_gradient` solves $Ax = b$ for a symmetric positive definite $A$ given as a
function, preconditioned by an SPD map $M \approx A^{-1}$ (e.g. a
:class:`pdejax.multigrid.MultigridHierarchy` V-cycle). It is a ``lax.while_loop``: jittable and
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


class CGInfo(eqx.Module):
    """What a :func:`conjugate_gradient` solve did.

    Attributes:
        num_steps: CG iterations (matrix-vector products and preconditioner applications, one
            of each per step).
        num_restarts: residual replacements after the recursion claimed convergence.
        relative_residual: $\\|b - Ax\\| / \\|b\\|$ of the returned $x$ (true residual).
        converged: ``relative_residual`` met the tolerance.
    """

    num_steps: Int[Array, ""]
    num_restarts: Int[Array, ""]
    relative_residual: Float[Array, ""]
    converged: Bool[Array, ""]


def _dot(x, y):
    return jnp.sum(x * y)


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
) -> tuple[Float[Array, "..."], CGInfo]:
    r"""Preconditioned CG for $Ax = b$, stopping when $\|b - Ax\|_2 \le \max(\text{rtol}\,\|b\|_2, \text{atol})$.

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

    Returns:
        ``(x, info)`` with ``info`` a :class:`CGInfo`. Nothing is raised here: the caller decides
        (``eqx.error_if(x, ~info.converged, ...)``).

    Example:
        >>> import jax.numpy as jnp
        >>> A = jnp.array([[4.0, 1.0], [1.0, 3.0]])
        >>> x, info = conjugate_gradient(lambda v: A @ v, jnp.array([1.0, 2.0]), rtol=1e-6, max_steps=10)
        >>> bool(info.converged), int(info.num_steps)
        (True, 2)
    """
    precondition = (lambda r: r) if precondition is None else precondition
    dtype = b.dtype
    b_norm = jnp.sqrt(_dot(b, b))
    tol = jnp.maximum(jnp.asarray(rtol, dtype) * b_norm, jnp.asarray(atol, dtype))
    tol2 = tol * tol
    zero = jnp.zeros((), dtype)
    x = jnp.zeros_like(b) if x0 is None else x0
    r = b - matvec(x) if x0 is not None else b

    def inner(carry):
        x, r, p, rz, k, first = carry
        q = matvec(p)
        pq = _dot(p, q)
        alpha = jnp.where(pq > 0, rz / jnp.where(pq > 0, pq, 1), zero)
        x = x + alpha * p
        r = r - alpha * q
        z = precondition(r)
        rz_new = _dot(r, z)
        beta = jnp.where(rz > 0, rz_new / jnp.where(rz > 0, rz, 1), zero)
        # a (re)start enters with p = 0: this pass only forms z = M r and p = z, uncounted
        return x, r, z + beta * p, rz_new, k + (~first).astype(k.dtype), jnp.zeros_like(first)

    def outer(carry):
        x, r, k, restarts, _, _ = carry

        def inner_cond(c):
            _, r, _, rz, k, first = c
            return first | ((_dot(r, r) > tol2) & (k < max_steps) & (rz > 0))

        # the preconditioner appears once in the traced program (compile time)
        start = (x, r, jnp.zeros_like(r), jnp.ones((), dtype), k, jnp.asarray(True))
        x, _, _, _, k, _ = jax.lax.while_loop(inner_cond, inner, start)
        r = b - matvec(x)
        return x, r, k, restarts + 1, _dot(r, r), accepted(x)

    def accepted(x):
        if abs_matvec is None:
            return tol2
        floor = floor_factor * jnp.finfo(dtype).eps * abs_matvec(jnp.abs(x))
        return jnp.maximum(tol2, _dot(floor, floor))

    def outer_cond(carry):
        _, _, k, restarts, rr, limit = carry
        return (rr > limit) & (k < max_steps) & (restarts < max_restarts)

    k0 = jnp.zeros((), jnp.int32)
    x, r, k, restarts, rr, limit = jax.lax.while_loop(
        outer_cond, outer, (x, r, k0, jnp.asarray(-1, jnp.int32), _dot(r, r), tol2)
    )
    rel = jnp.sqrt(rr) / jnp.where(b_norm > 0, b_norm, 1)
    info = CGInfo(
        num_steps=k,
        num_restarts=jnp.maximum(restarts, 0),
        relative_residual=rel,
        converged=rr <= limit,
    )
    return x, info

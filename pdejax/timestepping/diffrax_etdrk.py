r"""Exponential schemes as a :class:`diffrax.AbstractSolver`, for ``diffeqsolve`` with ``SaveAt``
and every adjoint.

:class:`ETDRKSolver` runs an :class:`~pdejax.timestepping.AbstractETDRK` scheme on
``MultiTerm(DiagonalLinearTerm(L, forward, inverse), ODETerm(N))``, i.e.
$\dot y = T^{-1}(L\odot Ty) + \mathcal N(t, y)$ with a change of basis $T$ (e.g. the FFT) in
which the linear operator is diagonal.
"""

from collections.abc import Callable
from typing import ClassVar

import diffrax
import jax
import jax.numpy as jnp

from .etdrk import AbstractETDRK, Symbol


def _unwrap(term):
    """diffrax wraps every term in ``WrapTerm(term, direction)``; return both parts."""
    # WrapTerm is not public API: recognise it by its two fields rather than import it
    if not isinstance(term, DiagonalLinearTerm) and hasattr(term, "direction"):
        return term.term, term.direction
    return term, 1


class DiagonalLinearTerm(diffrax.AbstractTerm):
    r"""The linear term $T^{-1}(L\odot T y)$ of a semilinear ODE, for :class:`ETDRKSolver`.

    $T$ is a change of basis in which the operator is diagonal (``forward``, e.g.
    ``grid.fft``; ``inverse``, e.g. ``grid.ifft``), the identity when both are ``None``. With a
    transform the diffrax state stays real (physical space) while the scheme runs on spectral
    coefficients.

    Args:
        symbol: $L$ in the diagonal basis (an array: differentiable).
        forward, inverse: the transform and its inverse, or ``None``.

    Example (the Laplacian through the FFT: $\partial_{xx}\sin 3x = -9\sin 3x$):
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.timestepping import DiagonalLinearTerm
        >>> grid = PeriodicGrid(16, 2 * jnp.pi)
        >>> (x,) = grid.coordinates()
        >>> term = DiagonalLinearTerm(grid.laplacian_symbol(), grid.fft, grid.ifft)
        >>> u = jnp.sin(3 * x)[None]
        >>> du = term.vf(0.0, u, None)
        >>> du.dtype == u.dtype, bool(jnp.allclose(du, -9 * u, atol=1e-4))
        (True, True)
    """

    symbol: Symbol
    forward: Callable | None = None
    inverse: Callable | None = None

    def to_diagonal(self, y):
        return y if self.forward is None else self.forward(y)

    def from_diagonal(self, y_hat):
        return y_hat if self.inverse is None else self.inverse(y_hat)

    def vf(self, t, y, args):
        return self.from_diagonal(self.symbol * self.to_diagonal(y))

    def contr(self, t0, t1, **kwargs):
        return t1 - t0

    def prod(self, vf, control):
        return jax.tree.map(lambda v: control * v, vf)


class ETDRKSolver(diffrax.AbstractSolver):
    r"""A Cox-Matthews ETDRK scheme as a :class:`diffrax.AbstractSolver`.

    Solves ``MultiTerm(DiagonalLinearTerm(L, forward, inverse), ODETerm(N))``, i.e.
    $\dot y = T^{-1}(L\odot Ty) + \mathcal N(t, y)$, stepping in the diagonal basis. Use with
    ``diffrax.ConstantStepSize()`` (no embedded error estimate, so no adaptive steps). The
    coefficients are computed in ``init`` and recomputed only when the step changes by more
    than a few ulps (e.g. a final clipped step).

    Example:
        >>> import diffrax, jax.numpy as jnp
        >>> from pdejax.timestepping import DiagonalLinearTerm, ETDRK4, ETDRKSolver
        >>> terms = diffrax.MultiTerm(
        ...     DiagonalLinearTerm(jnp.array([-1.0, -100.0])), diffrax.ODETerm(lambda t, y, a: 0 * y))
        >>> sol = diffrax.diffeqsolve(terms, ETDRKSolver(ETDRK4()), 0.0, 1.0, 0.1, jnp.ones(2))
        >>> bool(jnp.allclose(sol.ys[-1], jnp.exp(jnp.array([-1.0, -100.0]))))
        True
    """

    scheme: AbstractETDRK
    term_structure: ClassVar = diffrax.MultiTerm[tuple[DiagonalLinearTerm, diffrax.AbstractTerm]]
    interpolation_cls: ClassVar = diffrax.LocalLinearInterpolation

    def order(self, terms):
        return self.scheme.order

    def init(self, terms, t0, t1, y0, args):
        linear, direction = _unwrap(terms.terms[0])
        h = jnp.asarray(t1 - t0)
        return h, self.scheme.coefficients(direction * linear.symbol, h)

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del made_jump
        linear, direction = _unwrap(terms.terms[0])
        nonlinear = terms.terms[1]
        cached_h, cached = solver_state
        h = jnp.asarray(t1 - t0, cached_h.dtype)
        same = jnp.abs(h - cached_h) <= 64 * jnp.finfo(h.dtype).eps * jnp.abs(cached_h)
        coefficients = jax.lax.cond(
            same, lambda: cached, lambda: self.scheme.coefficients(direction * linear.symbol, h)
        )
        h = jnp.where(same, cached_h, h)

        def n_hat(theta, y_hat):
            y = linear.from_diagonal(y_hat)
            # diffrax runs in normalised time tau = direction * t: dy/dtau = direction * f
            f = nonlinear.vf(t0 + theta * h, y, args)
            return linear.to_diagonal(jax.tree.map(lambda v: direction * v, f))

        y_hat = self.scheme.step(coefficients, n_hat, linear.to_diagonal(y0))
        y1 = linear.from_diagonal(y_hat)
        y1 = jax.tree.map(lambda a, b: a.astype(b.dtype), y1, y0)
        return y1, None, dict(y0=y0, y1=y1), (h, coefficients), diffrax.RESULTS.successful

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)


__all__ = ["DiagonalLinearTerm", "ETDRKSolver"]

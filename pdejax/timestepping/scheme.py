r"""The scheme half of the semilinear protocol: a one-step method for
$\dot{\hat u} = L\odot\hat u + \mathcal N(\hat u)$ with a diagonal symbol $L$.

The exponential schemes (:mod:`~pdejax.timestepping.etdrk`) and the IMEX schemes
(:mod:`~pdejax.timestepping.imex`) implement :class:`AbstractSemilinearScheme`;
:mod:`~pdejax.timestepping.semilinear` pairs a scheme with a PDE.
"""

import abc
from collections.abc import Callable
from typing import ClassVar

import equinox as eqx
import jax
from jaxtyping import Array, ArrayLike, PyTree, Shaped

Coefficients = tuple[Shaped[Array, "..."], ...]
"""What :meth:`AbstractSemilinearScheme.coefficients` returns: arrays computed once per step size."""

NonlinearHat = Callable[[float, PyTree], PyTree]
r"""$\mathcal N$ as a scheme calls it: ``nonlinear(theta, u_hat)`` with ``theta`` the stage time
as a fraction of the step (an autonomous $\mathcal N$ ignores it)."""


class AbstractSemilinearScheme(eqx.Module):
    r"""A one-step scheme for $\dot{\hat u} = L\odot\hat u + \mathcal N(\hat u)$, $L$ diagonal.

    A scheme is stateless: its fields are static settings. :meth:`coefficients` maps the
    symbol and the step to arrays once (differentiable in both); :meth:`step` applies one step,
    calling ``nonlinear(theta, u_hat)`` at each stage.

    Attributes:
        order: the order of accuracy on the full problem.

    Example (integrating-factor Euler, $\hat u_{n+1} = e^{hL}(\hat u_n + h\mathcal N(\hat u_n))$:
    first order, and exact for the linear part alone):
        >>> import jax.numpy as jnp
        >>> from pdejax.timestepping import AbstractSemilinearScheme, repeat_steps
        >>> class IFEuler(AbstractSemilinearScheme):
        ...     order = 1
        ...     def coefficients(self, linear, dt):
        ...         return jnp.exp(dt * linear), dt * jnp.exp(dt * linear)
        ...     def step(self, coefficients, nonlinear, u_hat):
        ...         e, f = coefficients
        ...         return e * u_hat + f * nonlinear(0.0, u_hat)
        >>> c = IFEuler().coefficients(jnp.array([-1.0, -4.0]), 0.5)
        >>> u = repeat_steps(IFEuler(), c, lambda theta, v: 0 * v, jnp.ones(2), 2)
        >>> [round(float(v), 6) for v in u]  # exp(-1), exp(-4)
        [0.367879, 0.018316]
    """

    order: ClassVar[int]

    @abc.abstractmethod
    def coefficients(self, linear: Shaped[Array, "*modes"], dt: ArrayLike) -> Coefficients:
        """The scheme's arrays for the symbol ``linear`` and step ``dt``."""

    @abc.abstractmethod
    def step(
        self, coefficients: Coefficients, nonlinear: NonlinearHat, u_hat: Shaped[Array, "..."]
    ) -> Shaped[Array, "..."]:
        """One step from ``u_hat`` with precomputed ``coefficients``."""


def repeat_steps(
    scheme: AbstractSemilinearScheme,
    coefficients: Coefficients,
    nonlinear: NonlinearHat,
    u_hat: Shaped[Array, "..."],
    num_steps: int = 1,
) -> Shaped[Array, "..."]:
    """``num_steps`` steps of ``scheme`` with the same coefficients (a ``fori_loop`` when more
    than one, so the step is traced once).

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax.timestepping import ETDRK2, repeat_steps
        >>> c = ETDRK2().coefficients(jnp.array([-1.0]), 0.25)
        >>> u = repeat_steps(ETDRK2(), c, lambda theta, v: 0 * v, jnp.ones(1), 4)
        >>> round(float(u[0]), 6)  # exp(-1)
        0.367879
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"repeat_steps: `num_steps` must be a positive int, got {num_steps!r}.")

    def body(_, v):
        return scheme.step(coefficients, nonlinear, v)

    if num_steps == 1:
        return body(0, u_hat)
    return jax.lax.fori_loop(0, num_steps, body, u_hat)


__all__ = ["AbstractSemilinearScheme", "Coefficients", "NonlinearHat", "repeat_steps"]

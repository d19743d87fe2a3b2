r"""The least-squares objective of an inverse problem, forward-model wrappers, gradient checks.

$$J(\theta) = \underbrace{\frac{1}{2\sigma^2}\,\|\mathcal O(F(\theta)) - y\|^2}_{\text{misfit}}
\;+\; \sum_p R_p(\theta), \qquad R_p = \tfrac12\|r_p(\theta)\|^2,$$

with $F$ the forward model (any callable of the parameter pytree: an operator, a stepper
rollout, an integrated dynamics, a trained surrogate), $\mathcal O$ an observation operator,
$y$ the data and $\sigma$ the noise standard deviation. The residual form
:meth:`LeastSquaresObjective.residuals` feeds Gauss-Newton / Levenberg-Marquardt; the scalar
form ``objective(params)`` feeds Adam and L-BFGS. Gradients are reverse mode through the
forward model: through a rollout (``checkpoint=True`` for bounded memory), through diffrax's
adjoint, or through the implicit (adjoint-solve) gradient of a steady solver such as
:class:`pdejax.solvers.Darcy2D`.
"""

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray, PyTree

from ..timestepping.integrate import integrate
from ..timestepping.rollout import rollout
from .observe import AbstractObservation, FullField
from .priors import AbstractPrior

__all__ = ["IntegrateForward", "LeastSquaresObjective", "RolloutForward", "gradient_check"]


class LeastSquaresObjective(eqx.Module):
    r"""$J(\theta) = \frac{1}{2\sigma^2}\|\mathcal O(F(\theta)) - y\|^2 + \sum_p R_p(\theta)$.

    Args:
        forward: $F$, any callable ``params -> output`` (differentiable in ``params``).
        data: $y$, the observations: the shape ``observation(forward(params))`` has.
        observation: $\mathcal O$, default :class:`~pdejax.inverse.FullField`.
        noise_std: $\sigma$ (an array field: vmappable, no recompiles). Default 1.
        priors: a sequence of :class:`~pdejax.inverse.AbstractPrior`.

    The data's shape is checked against what the observation operator returns the first time
    the objective is evaluated or traced (a static check, free under ``jit``): a mismatch is a
    :class:`ValueError` naming ``data`` and the expected shape.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax.inverse import LeastSquaresObjective, Tikhonov
        >>> obj = LeastSquaresObjective(lambda p: 2 * p, jnp.array([2.0, 4.0]),
        ...                             priors=[Tikhonov(1e-2)])
        >>> round(float(obj(jnp.array([1.0, 2.0]))), 12)    # misfit 0 + 0.005 * (1 + 4)
        0.025
        >>> [r.shape for r in obj.residuals(jnp.zeros(2))]
        [(2,), (2,)]
    """

    forward: Callable
    data: Float[Array, "..."] = eqx.field(converter=jnp.asarray)
    observation: AbstractObservation
    noise_std: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    priors: tuple[AbstractPrior, ...]

    def __init__(
        self,
        forward: Callable,
        data,
        *,
        observation: AbstractObservation | None = None,
        noise_std=1.0,
        priors: Sequence[AbstractPrior] = (),
    ):
        if not callable(forward):
            raise ValueError(f"LeastSquaresObjective: `forward` must be callable, got {forward!r}.")
        observation = FullField() if observation is None else observation
        if not isinstance(observation, AbstractObservation):
            raise ValueError(
                "LeastSquaresObjective: `observation` must be a pdejax.inverse observation "
                f"operator (FullField, PointSensors, ...), got {observation!r}."
            )
        priors = tuple(priors)
        if not all(isinstance(p, AbstractPrior) for p in priors):
            raise ValueError(
                "LeastSquaresObjective: `priors` must be pdejax.inverse priors (Tikhonov, "
                f"H1Smoothness, TotalVariation), got {priors!r}."
            )
        if not isinstance(noise_std, jax.core.Tracer) and not float(noise_std) > 0:
            raise ValueError(
                f"LeastSquaresObjective: `noise_std` must be positive, got {noise_std!r}."
            )
        self.forward = forward
        self.data = data
        self.observation = observation
        self.noise_std = noise_std
        self.priors = priors

    def predict(self, params: PyTree) -> Float[Array, "..."]:
        r"""The predicted observations $\mathcal O(F(\theta))$, shape-checked against ``data``."""
        out = self.forward(params)
        pred = self.observation(out)
        if jnp.shape(pred) != jnp.shape(self.data):
            raise ValueError(
                f"LeastSquaresObjective: `data` has shape {jnp.shape(self.data)}, but the "
                f"observation operator {type(self.observation).__name__} maps the forward "
                f"output (shape {jnp.shape(out)}) to shape {jnp.shape(pred)}: expected `data` "
                f"of shape {jnp.shape(pred)}."
            )
        return pred

    def misfit_residual(self, params: PyTree) -> Float[Array, " M"]:
        r"""$(\mathcal O(F(\theta)) - y)/\sigma$, flattened."""
        return ((self.predict(params) - self.data) / self.noise_std).ravel()

    def residuals(self, params: PyTree) -> tuple[Float[Array, " R"], ...]:
        """The misfit residual followed by each prior's residual (for Gauss-Newton / LM)."""
        return (self.misfit_residual(params), *(p.residual(params) for p in self.priors))

    def __call__(self, params: PyTree) -> Float[Array, ""]:
        return sum(0.5 * jnp.sum(jnp.square(r)) for r in self.residuals(params))


class RolloutForward(eqx.Module):
    r"""$F(u_0) = \mathcal S^{s}(u_0), \mathcal S^{2s}(u_0), \dots$: a stepper's rollout.

    A thin parameter-to-trajectory wrapper of :func:`pdejax.rollout` (same arguments), so a
    stepper or an autoregressive surrogate becomes a forward model of its initial state. With
    ``checkpoint=True`` reverse-mode memory is bounded by the saved frames plus one segment of
    ``save_every`` steps. To recover model parameters too, build the stepper inside your own
    forward function (``eqx.tree_at``) and call this.

    Example:
        >>> import jax.numpy as jnp
        >>> forward = RolloutForward(lambda u: 0.5 * u, num_steps=4, save_every=2)
        >>> forward(jnp.ones((1, 3)))[:, 0, 0].tolist()
        [0.25, 0.0625]
    """

    stepper: Callable
    num_steps: int = eqx.field(static=True)
    save_every: int = eqx.field(static=True, default=1)
    include_initial: bool = eqx.field(static=True, default=False)
    checkpoint: bool = eqx.field(static=True, default=False)

    def __call__(self, u0: Float[Array, "C *spatial"]) -> Float[Array, "T C *spatial"]:
        return rollout(
            self.stepper,
            u0,
            self.num_steps,
            save_every=self.save_every,
            include_initial=self.include_initial,
            checkpoint=self.checkpoint,
        )


class IntegrateForward(eqx.Module):
    r"""$F(u_0) = (u(t_0), \dots, u(t_n))$ by :func:`pdejax.integrate` of a dynamics.

    ``kwargs`` go to :func:`pdejax.integrate` (solver, step-size controller, adjoint, ``dt0``).

    Example:
        >>> import jax.numpy as jnp
        >>> forward = IntegrateForward(lambda t, u, args: -u, jnp.array([0.0, 1.0]))
        >>> round(float(forward(jnp.ones((1, 2)))[-1, 0, 0]), 5)
        0.36788
    """

    dynamics: Callable
    ts: Float[Array, " T"] = eqx.field(converter=jnp.asarray)
    kwargs: dict

    def __init__(self, dynamics: Callable, ts, **kwargs):
        self.dynamics, self.ts, self.kwargs = dynamics, ts, kwargs

    def __call__(self, u0: Float[Array, "C *spatial"]) -> Float[Array, "T C *spatial"]:
        return integrate(self.dynamics, u0, self.ts, **self.kwargs).us


@eqx.filter_jit
def _value_and_grad(fn, params):
    return jax.value_and_grad(fn)(params)


@eqx.filter_jit
def _value(fn, params):
    return fn(params)


def gradient_check(
    fn: Callable[[PyTree], Array],
    params: PyTree,
    *,
    key: PRNGKeyArray,
    num_directions: int = 3,
    step: float = 1e-5,
) -> Float[Array, " K"]:
    r"""Relative errors of $\nabla J$ against central finite differences along random directions.

    For each random direction $d$ (standard normal, scaled to the root-mean-square size of
    ``params``, or 1 if that is zero) returns
    $|\tfrac{J(\theta + h d) - J(\theta - h d)}{2h} - \langle\nabla J(\theta), d\rangle| /
    |\langle\nabla J(\theta), d\rangle|$. The truncation error is $O(h^2)$ and rounding
    $O(\epsilon_{mach}/h)$: use float64.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> errs = gradient_check(lambda p: jnp.sum(jnp.sin(p)), jnp.arange(3.0), key=jr.key(0))
        >>> bool(jnp.all(errs < 1e-8))
        True
    """
    leaves, treedef = jax.tree_util.tree_flatten(params)
    size = sum(jnp.size(x) for x in leaves)
    rms = jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in leaves) / size)
    rms = jnp.where(rms > 0, rms, 1.0)
    _, grad = _value_and_grad(fn, params)
    errors = []
    for k in jr.split(key, num_directions):
        keys = jr.split(k, len(leaves))
        d = [rms * jr.normal(kk, jnp.shape(x), jnp.result_type(x)) for kk, x in zip(keys, leaves)]
        direction = jax.tree_util.tree_unflatten(treedef, d)
        exact = sum(jnp.vdot(g, v) for g, v in zip(jax.tree_util.tree_leaves(grad), d))
        plus = jax.tree_util.tree_map(lambda x, v: x + step * v, params, direction)
        minus = jax.tree_util.tree_map(lambda x, v: x - step * v, params, direction)
        fd = (_value(fn, plus) - _value(fn, minus)) / (2 * step)
        errors.append(jnp.abs(fd - exact) / jnp.abs(exact))
    return jnp.stack(errors)

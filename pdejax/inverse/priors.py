r"""Priors (regularizers) in residual form, and reparameterisations of unknown coefficients.

Every prior is a :class:`AbstractPrior` returning a residual vector $r_p(\theta)$ whose half
squared norm is the penalty, $R(\theta) = \tfrac12\|r_p(\theta)\|^2$, so that the whole objective
stays a sum of squares and Gauss-Newton / Levenberg-Marquardt apply to it as well as Adam and
L-BFGS. ``weight`` is an array field: differentiable, vmappable (a sweep over weights is one
``jax.vmap``) and free to change without recompiling. ``select`` picks the part of the
parameter pytree the prior acts on (default: all of it, which must then be one array).

A reparameterisation maps unconstrained parameters $\theta$ to a physical coefficient,
$a = a(\theta)$, with :meth:`inverse` for initial guesses.
"""

import abc
import math
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

__all__ = [
    "AbstractPrior",
    "H1Smoothness",
    "LogCoefficient",
    "SmoothedThreshold",
    "Tikhonov",
    "TotalVariation",
]


def _identity(params):
    return params


def _check_weight(weight, who):
    if not isinstance(weight, jax.core.Tracer) and not (
        jnp.all(jnp.isfinite(jnp.asarray(weight))) and jnp.all(jnp.asarray(weight) >= 0)
    ):
        raise ValueError(f"{who}: `weight` must be non-negative and finite, got {weight!r}.")


def _cell_volume(grid) -> float:
    return math.prod(grid.spacing)


def _select(prior, params, who) -> Array:
    x = prior.select(params)
    if not eqx.is_array(x):
        raise ValueError(
            f"{who}: `select(params)` must return one array, got {type(x).__name__}; pass "
            "`select=lambda p: p[...]` to pick the field this prior acts on."
        )
    return x


class AbstractPrior(eqx.Module):
    r"""A penalty $R(\theta) = \tfrac12\|r(\theta)\|^2$ given by its residual :meth:`residual`.

    Contract: ``weight`` scales the penalty (the residual carries $\sqrt{w}$), ``select`` picks
    the part of the parameters it acts on; the residual form serves Gauss-Newton and
    Levenberg-Marquardt, the penalty form Adam and L-BFGS.

    Example:
        >>> import jax.numpy as jnp
        >>> class Sum(AbstractPrior):  # penalise the sum: R = w/2 (sum theta)^2
        ...     weight: float
        ...     select: object
        ...     def residual(self, params):
        ...         return jnp.sqrt(self.weight) * jnp.sum(self.select(params))[None]
        >>> round(float(Sum(2.0, lambda p: p)(jnp.array([1.0, 2.0]))), 6)
        9.0
    """

    weight: eqx.AbstractVar[Float[Array, ""]]
    select: eqx.AbstractVar[Callable]

    @abc.abstractmethod
    def residual(self, params: PyTree) -> Float[Array, " R"]:
        """The flat residual $r(\\theta)$."""

    def __call__(self, params: PyTree) -> Float[Array, ""]:
        """The penalty $\\tfrac12\\|r(\\theta)\\|^2$."""
        return 0.5 * jnp.sum(jnp.square(self.residual(params)))


class Tikhonov(AbstractPrior):
    r"""$R(\theta) = \frac{w}{2}\|\theta - \theta_0\|^2$ (zeroth-order Tikhonov, ridge).

    Residual $\sqrt{w}(\theta - \theta_0)$, flattened. ``reference`` $\theta_0$ defaults to 0.

    Example:
        >>> import jax.numpy as jnp
        >>> round(float(Tikhonov(2.0)(jnp.array([1.0, 2.0]))), 12)
        5.0
    """

    weight: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    reference: Float[Array, "..."] = eqx.field(converter=jnp.asarray)
    select: Callable = eqx.field(static=True)

    def __init__(self, weight, reference=0.0, *, select: Callable = _identity):
        _check_weight(weight, "Tikhonov")
        self.weight, self.reference, self.select = weight, reference, select

    def residual(self, params: PyTree) -> Float[Array, " R"]:
        x = _select(self, params, "Tikhonov")
        return (jnp.sqrt(self.weight) * (x - self.reference)).ravel()


class H1Smoothness(AbstractPrior):
    r"""$R(\theta) = \frac{w}{2}\int|\nabla\theta|^2\,dx$, by the grid's own gradient.

    On a :class:`pdejax.VertexGrid` the residual is $\sqrt{w\,\Delta V}\,\nabla\theta$ by the
    grid's second-order differences (sum over vertices times the cell volume $\Delta V$). On a
    :class:`pdejax.PeriodicGrid` it is $\sqrt{w\,\Delta V}\,|D|\theta$ with
    $\widehat{|D|\theta}_k = |k|\hat\theta_k$: by Parseval the same $\int|\nabla\theta|^2$, but
    it also penalises the Nyquist mode, which the spectral gradient (zero symbol there) would
    leave free, an unpenalised direction an inverse solver readily fills with noise. The
    selected array is ``(C, *spatial)`` or ``(*spatial)``; channels are summed.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> grid = PeriodicGrid(64, 2 * jnp.pi)
        >>> x, = grid.coordinates()
        >>> round(float(H1Smoothness(grid, 2.0)(jnp.sin(x)[None])), 6)    # int cos^2 = pi
        3.141593
    """

    grid: eqx.Module
    weight: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    select: Callable = eqx.field(static=True)

    def __init__(self, grid, weight, *, select: Callable = _identity):
        if not hasattr(grid, "gradient") or not hasattr(grid, "spacing"):
            raise ValueError("H1Smoothness: `grid` must be a pdejax PeriodicGrid or VertexGrid.")
        _check_weight(weight, "H1Smoothness")
        self.grid, self.weight, self.select = grid, weight, select

    def residual(self, params: PyTree) -> Float[Array, " R"]:
        x = _select(self, params, "H1Smoothness")
        fields = x.reshape(-1, *self.grid.num_points)
        if hasattr(self.grid, "wavenumber_norm_squared"):  # periodic: |k| symbol, Nyquist too
            symbol = jnp.sqrt(self.grid.wavenumber_norm_squared())
            grads = self.grid.ifft(symbol * self.grid.fft(fields))
        else:
            grads = jax.vmap(self.grid.gradient)(fields)
        return (jnp.sqrt(self.weight * _cell_volume(self.grid)) * grads).ravel()


class TotalVariation(AbstractPrior):
    r"""Smoothed total variation $R(\theta) = w\int\sqrt{|\nabla\theta|^2 + \varepsilon^2}\,dx$.

    Favours piecewise-constant fields with sharp edges; $\varepsilon > 0$ makes it
    differentiable (the Huber-like corner has curvature $1/\varepsilon$). In residual form
    $r = \sqrt{2 w\,\Delta V}\,(|\nabla\theta|^2 + \varepsilon^2)^{1/4}$, so
    $\tfrac12\|r\|^2 = R$ and Gauss-Newton applies (its model of $R$ is then only a
    Gauss-Newton approximation). Gradient as in :class:`H1Smoothness`.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import VertexGrid
        >>> grid = VertexGrid(101)
        >>> x, = grid.coordinates()
        >>> step = jnp.tanh((x - 0.5) / 0.01)        # a jump of height 2
        >>> round(float(TotalVariation(grid, 1.0, epsilon=1e-6)(step)), 2)
        2.0
    """

    grid: eqx.Module
    weight: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    epsilon: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    select: Callable = eqx.field(static=True)

    def __init__(self, grid, weight, *, epsilon=1e-2, select: Callable = _identity):
        if not hasattr(grid, "gradient") or not hasattr(grid, "spacing"):
            raise ValueError("TotalVariation: `grid` must be a pdejax PeriodicGrid or VertexGrid.")
        _check_weight(weight, "TotalVariation")
        if not isinstance(epsilon, jax.core.Tracer) and not float(epsilon) > 0:
            raise ValueError(f"TotalVariation: `epsilon` must be positive, got {epsilon!r}.")
        self.grid, self.weight, self.epsilon, self.select = grid, weight, epsilon, select

    def residual(self, params: PyTree) -> Float[Array, " R"]:
        x = _select(self, params, "TotalVariation")
        fields = x.reshape(-1, *self.grid.num_points)
        grads = jax.vmap(self.grid.gradient)(fields)
        magnitude2 = jnp.sum(jnp.square(grads), axis=1) + jnp.square(self.epsilon)
        scale = jnp.sqrt(2 * self.weight * _cell_volume(self.grid))
        return (scale * magnitude2**0.25).ravel()


class LogCoefficient(eqx.Module):
    r"""$a(\theta) = e^{\theta}$: a positive coefficient (conductivity, viscosity) without bounds.

    Example:
        >>> import jax.numpy as jnp
        >>> p = LogCoefficient()
        >>> float(p(p.inverse(jnp.asarray(3.0))))
        3.0
    """

    def __call__(self, theta: Float[Array, "..."]) -> Float[Array, "..."]:
        return jnp.exp(theta)

    def inverse(self, a: Float[Array, "..."]) -> Float[Array, "..."]:
        return jnp.log(a)


class SmoothedThreshold(eqx.Module):
    r"""$a(\theta) = a_{lo} + (a_{hi} - a_{lo})\,\mathrm{sigmoid}(\theta/\varepsilon)$.

    The parameterisation of a two-valued (piecewise-constant) coefficient such as the FNO Darcy
    data's $a \in \{3, 12\}$: $a$ stays inside $(a_{lo}, a_{hi})$ and saturates to either value
    as $|\theta| \gg \varepsilon$, while the map remains smooth for gradient methods. The region
    estimate is $\{\theta > 0\}$ (:meth:`regions`). ``low``, ``high`` and ``epsilon`` are array
    fields (differentiable).

    Example:
        >>> import jax.numpy as jnp
        >>> p = SmoothedThreshold(3.0, 12.0, epsilon=0.1)
        >>> [round(float(v), 3) for v in p(jnp.array([-5.0, 0.0, 5.0]))]
        [3.0, 7.5, 12.0]
    """

    low: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    high: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    epsilon: Float[Array, ""] = eqx.field(converter=jnp.asarray, default=1.0)

    def __check_init__(self):
        concrete = not any(isinstance(x, jax.core.Tracer) for x in (self.low, self.high))
        if concrete and not float(self.high) > float(self.low):
            raise ValueError(
                f"SmoothedThreshold: `high` ({self.high}) must exceed `low` ({self.low})."
            )

    def __call__(self, theta: Float[Array, "..."]) -> Float[Array, "..."]:
        return self.low + (self.high - self.low) * jax.nn.sigmoid(theta / self.epsilon)

    def inverse(self, a: Float[Array, "..."]) -> Float[Array, "..."]:
        """$\\theta(a)$, with $a$ clipped into the open interval so the result is finite."""
        span = self.high - self.low
        s = jnp.clip((a - self.low) / span, 1e-6, 1 - 1e-6)
        return self.epsilon * jnp.log(s / (1 - s))

    def regions(self, theta: Float[Array, "..."]) -> Array:
        """Boolean mask of the high region, $\\theta > 0$."""
        return theta > 0

r"""The one interface: operators, steppers and dynamics.

Every model in pdejax, classical or learned, is one of three kinds of :class:`equinox.Module`,
each a pure function of a single unbatched state ``(C, *spatial)``:

| kind | call | meaning |
|---|---|---|
| :class:`AbstractOperator` | ``op(a) -> u`` | a map between fields (Darcy: coefficient to pressure) |
| :class:`AbstractStepper` | ``step(u) -> u(t + dt)`` | an operator that advances a state by ``dt`` |
| :class:`AbstractDynamics` | ``f(t, u, args) -> du/dt`` | a right-hand side for :func:`pdejax.integrate` |

The public ``__call__`` of each is final: it checks the input shape (a static check, free under
``jit``) and then calls the one abstract method a subclass implements. A batch is added with
:func:`jax.vmap` outside; nothing here assumes a batch axis.
"""

import abc

import equinox as eqx
from jaxtyping import Array, Float, PyTree

from .errors import check_state_shape
from .types import ScalarLike, State


def _check(module, u, shape, name):
    check_state_shape(u, shape, who=type(module).__name__, name=name)


class AbstractOperator(eqx.Module):
    """A map ``a -> u`` between fields, e.g. a Darcy coefficient to its pressure.

    Subclasses implement :meth:`evaluate` and :attr:`in_shape`; entries of ``in_shape`` that are
    ``None`` accept any size (a resolution-invariant learned operator declares its spatial sizes
    as ``None``).

    Example:
        >>> import jax.numpy as jnp
        >>> import pdejax
        >>> class Double(pdejax.AbstractOperator):
        ...     in_shape = (1, 8)
        ...     def evaluate(self, a):
        ...         return 2 * a
        >>> Double()(jnp.ones((1, 8))).sum().item()
        16.0
    """

    @property
    @abc.abstractmethod
    def in_shape(self) -> tuple[int | None, ...]:
        """Expected input shape ``(C_in, *spatial)``; ``None`` matches any size."""

    @abc.abstractmethod
    def evaluate(self, a: Float[Array, "C_in *spatial"]) -> Float[Array, "C_out *spatial_out"]:
        """The map itself, called by ``__call__`` after the shape check."""

    def __call__(self, a: Float[Array, "C_in *spatial"]) -> Float[Array, "C_out *spatial_out"]:
        _check(self, a, self.in_shape, "a")
        return self.evaluate(a)


class AbstractStepper(AbstractOperator):
    """An operator that advances a state by a fixed time ``dt``: ``u(t) -> u(t + dt)``.

    Input and output shapes are equal (:attr:`state_shape`), so a stepper can be iterated by
    :func:`pdejax.rollout`. ``dt`` is an array field: changing its value does not recompile.

    Example:
        >>> import jax.numpy as jnp
        >>> import pdejax
        >>> class Decay(pdejax.AbstractStepper):  # u(t + dt) = exp(-dt) u(t)
        ...     dt: jnp.ndarray
        ...     state_shape = (1, 4)
        ...     def step(self, u):
        ...         return jnp.exp(-self.dt) * u
        >>> traj = pdejax.rollout(Decay(jnp.asarray(0.5)), jnp.ones((1, 4)), 2)
        >>> traj.shape, round(float(traj[-1, 0, 0]), 4)
        ((2, 1, 4), 0.3679)
    """

    dt: eqx.AbstractVar[Float[Array, ""]]

    @property
    @abc.abstractmethod
    def state_shape(self) -> tuple[int | None, ...]:
        """Shape ``(C, *spatial)`` of the state; ``None`` matches any size."""

    @abc.abstractmethod
    def step(self, u: State) -> State:
        """Advance ``u`` by ``dt``; called by ``__call__`` after the shape check."""

    @property
    def in_shape(self) -> tuple[int | None, ...]:
        return self.state_shape

    def evaluate(self, a: State) -> State:
        return self.step(a)

    def prepare(self) -> "AbstractStepper":
        """An equivalent stepper whose per-call setup is done once, for repeated stepping.

        :func:`pdejax.rollout` calls this once before its loop, so work that depends only on
        the parameters (exponential-integrator coefficients computed from ``nu`` and ``dt``, say)
        is not repeated every step. The result is computed from this stepper's array fields, so
        gradients flow through it. The default returns ``self``.
        """
        return self

    def __call__(self, u: State) -> State:
        _check(self, u, self.state_shape, "u")
        return self.step(u)


class AbstractDynamics(eqx.Module):
    r"""A right-hand side $f(t, u, \text{args}) = \partial_t u$ for adaptive integration.

    Any instance can be given to :func:`pdejax.integrate` (or wrapped in
    ``diffrax.ODETerm`` directly): the signature is diffrax's.

    Example:
        >>> import jax.numpy as jnp
        >>> import pdejax
        >>> class Decay(pdejax.AbstractDynamics):  # du/dt = -u
        ...     state_shape = (1, 3)
        ...     def vector_field(self, t, u, args):
        ...         return -u
        >>> sol = pdejax.integrate(Decay(), jnp.ones((1, 3)), jnp.array([0.0, 1.0]))
        >>> round(float(sol.us[-1, 0, 0]), 5)  # exp(-1)
        0.36788
    """

    @property
    @abc.abstractmethod
    def state_shape(self) -> tuple[int | None, ...]:
        """Shape ``(C, *spatial)`` of the state; ``None`` matches any size."""

    @abc.abstractmethod
    def vector_field(self, t: ScalarLike, u: State, args: PyTree) -> State:
        """$\\partial_t u$; called by ``__call__`` after the shape check."""

    def __call__(self, t: ScalarLike, u: State, args: PyTree = None) -> State:
        _check(self, u, self.state_shape, "u")
        return self.vector_field(t, u, args)

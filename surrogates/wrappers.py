r"""Learned operators as steppers and dynamics: the wrappers that put a network in time.

| wrapper | kind | one step / right-hand side |
|---|---|---|
| :class:`Autoregressive` | stepper on a window of $k$ frames | $[u_{n-k+1..n}] \mapsto [u_{n-k+2..n}, \mathcal N(u_{n-k+1..n})]$ |
| :class:`Increment` | stepper | $u \mapsto u + \mathcal N(u)$ |
| :class:`NeuralDynamics` | dynamics | $\partial_t u = \mathcal N(u)$, integrated by diffrax |
| :class:`Corrected` | stepper | $u \mapsto \mathcal S(u) + \mathcal N(\mathcal S(u))$ |
| :class:`CheckFinite` | operator | $\mathcal N$, raising on a non-finite input or output |

All are differentiable end to end: through :func:`pdejax.rollout`, through
:func:`pdejax.integrate` (any diffrax adjoint), and through the classical solver inside
:class:`Corrected` (solver-in-the-loop training).
"""

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, PyTree

import pdejax

from ._pointwise import check_count


def _net_shape(net, who: str) -> tuple[int | None, ...]:
    if not isinstance(net, pdejax.AbstractOperator):
        raise ValueError(
            f"{who}: `net` must be a pdejax.AbstractOperator (an FNO, UNet, FlaxOperator, ...), "
            f"got {type(net).__name__}."
        )
    return tuple(net.in_shape)


class CheckFinite(pdejax.AbstractOperator):
    r"""A learned operator that raises, as the solvers do, on a non-finite input or output.

    Learned operators propagate NaN by default (a NaN input gives a NaN output, as in every
    neural-network library): a check costs a reduction over the field on every call, and the
    training loop already guards the results (:func:`pdejax.train.fit` stops on a non-finite
    loss, evaluation raises on non-finite predictions). Wrap a model where a silent NaN would
    be costly (inference in a pipeline, a long rollout: ``Increment(CheckFinite(fno))``) to get
    the solvers' behaviour: an :func:`equinox.error_if` at run time, also under ``jit``, whose
    one-line message names the network and whether its input or its output was not finite.
    Values and gradients are those of ``net``; the wrapper adds two reductions per call.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax.core import runtime_message
        >>> from pdejax.surrogates import FNO, CheckFinite
        >>> net = CheckFinite(FNO(1, 1, (4,), 8, key=jr.key(0)))
        >>> net(jnp.ones((1, 16))).shape
        (1, 16)
        >>> try:
        ...     net(jnp.full((1, 16), jnp.nan))
        ... except Exception as err:
        ...     print(runtime_message(err)[:47])
        FNO: the input `a` is not finite (NaN or inf);
    """

    net: pdejax.AbstractOperator

    def __init__(self, net):
        _net_shape(net, "CheckFinite")
        self.net = net

    @property
    def in_shape(self) -> tuple[int | None, ...]:
        return tuple(self.net.in_shape)

    def evaluate(self, a: Float[Array, "C_in *spatial"]) -> Float[Array, "C_out *spatial"]:
        who = type(self.net).__name__
        a = pdejax.error_if_not_finite(
            a, f"{who}: the input `a` is not finite (NaN or inf); a learned operator propagates "
            "it, so check the data fed to the model (or the previous step of a rollout)."
        )  # fmt: skip
        return pdejax.error_if_not_finite(
            self.net(a), f"{who}: the output is not finite (NaN or inf) for a finite input; the "
            "weights may have diverged (check the training loss) or the input lies far outside "
            "the training data."
        )  # fmt: skip


class Autoregressive(pdejax.AbstractStepper):
    r"""A stepper that keeps a window of the last ``history`` frames, as the FNO-2D for
    Navier-Stokes (10 input frames, one output frame).

    The state is the window, frames stacked along channels: ``(history * C, *spatial)``, oldest
    first. One step appends the network's prediction and drops the oldest frame,

    $$[u_{n-k+1}, \dots, u_n] \mapsto [u_{n-k+2}, \dots, u_n, \mathcal N(u_{n-k+1}, \dots, u_n)],$$

    so :func:`pdejax.rollout` of it returns windows; the newest frame of each is
    :meth:`latest`. ``net`` maps ``history * C`` channels to ``C``.

    Args:
        net: the operator, ``in_shape[0] == history * C``.
        history: $k$, frames in the window.
        dt: time between frames (an array field: no recompiles). Default 1.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax import rollout
        >>> from pdejax.surrogates import FNO, Autoregressive
        >>> step = Autoregressive(FNO(3, 1, (4,), 8, key=jr.key(0)), history=3)
        >>> rollout(step, jnp.zeros((3, 16)), 4).shape
        (4, 3, 16)
    """

    net: pdejax.AbstractOperator
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    history: int = eqx.field(static=True)
    frame_channels: int = eqx.field(static=True)

    def __init__(self, net, *, history: int, dt=1.0):
        who = "Autoregressive"
        shape = _net_shape(net, who)
        self.history = check_count(history, "history", who)
        if shape[0] is None or shape[0] % self.history:
            raise ValueError(
                f"{who}: the net takes {shape[0]} input channels, not a multiple of "
                f"`history={history}`; build it with history * C input channels."
            )
        self.net, self.dt = net, dt
        self.frame_channels = shape[0] // self.history

    @property
    def state_shape(self) -> tuple[int | None, ...]:
        return tuple(self.net.in_shape)

    def step(self, u: Float[Array, "C *spatial"]) -> Float[Array, "C *spatial"]:
        new = self.net(u)
        if new.shape[0] != self.frame_channels:
            raise ValueError(
                f"Autoregressive: the net returned {new.shape[0]} channels, expected one frame of "
                f"{self.frame_channels}."
            )
        return jnp.concatenate([u[self.frame_channels :], new.astype(u.dtype)])

    def latest(self, window: Float[Array, "..."]) -> Float[Array, "..."]:
        """The newest frame of a window (or of each window of a trajectory)."""
        c = self.frame_channels
        return window[..., -c:, *(slice(None),) * (len(self.state_shape) - 1)]


class Increment(pdejax.AbstractStepper):
    r"""Predict the change: $u_{n+1} = u_n + \mathcal N(u_n)$.

    The network learns the increment over ``dt``, which keeps the identity map easy to represent
    and is usually more stable than predicting the next state. ``net`` must keep the channel count.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax.surrogates import FNO, Increment
        >>> Increment(FNO(2, 2, (4,), 8, key=jr.key(0)), dt=0.1)(jnp.ones((2, 16))).shape
        (2, 16)
    """

    net: pdejax.AbstractOperator
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)

    def __init__(self, net, *, dt=1.0):
        _net_shape(net, "Increment")
        self.net, self.dt = net, dt

    @property
    def state_shape(self) -> tuple[int | None, ...]:
        return tuple(self.net.in_shape)

    def step(self, u: Float[Array, "C *spatial"]) -> Float[Array, "C *spatial"]:
        return u + self.net(u).astype(u.dtype)


class NeuralDynamics(pdejax.AbstractDynamics):
    r"""$\partial_t u = \mathcal N(u)$: a network as the right-hand side for :func:`pdejax.integrate`.

    Autonomous (``t`` and ``args`` are ignored). Any diffrax solver, step-size controller and
    adjoint apply; gradients flow to the network's weights through the solve.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax import integrate
        >>> from pdejax.surrogates import FNO, NeuralDynamics
        >>> f = NeuralDynamics(FNO(1, 1, (4,), 8, key=jr.key(0)))
        >>> integrate(f, jnp.zeros((1, 16)), jnp.array([0.0, 0.1])).us.shape
        (2, 1, 16)
    """

    net: pdejax.AbstractOperator

    def __init__(self, net):
        _net_shape(net, "NeuralDynamics")
        self.net = net

    @property
    def state_shape(self) -> tuple[int | None, ...]:
        return tuple(self.net.in_shape)

    def vector_field(self, t, u: Float[Array, "C *spatial"], args: PyTree) -> Float[Array, "..."]:
        return self.net(u).astype(u.dtype)


class Corrected(pdejax.AbstractStepper):
    r"""A classical stepper plus a learned correction (solver in the loop),

    $$u_{n+1} = \mathcal S(u_n) + \mathcal N(\mathcal S(u_n)),$$

    e.g. a coarse solver whose truncation error the network learns to remove. Training
    differentiates through $\mathcal S$ (any :class:`pdejax.AbstractStepper`), so a rollout loss
    sees how corrections feed back through the solver. ``dt`` is the solver's.

    Example:
        >>> import equinox as eqx, jax.numpy as jnp, jax.random as jr, pdejax
        >>> from pdejax.surrogates import FNO, Corrected
        >>> class Halve(pdejax.AbstractStepper):
        ...     dt: jnp.ndarray = eqx.field(converter=jnp.asarray, default=0.1)
        ...     state_shape = (1, None)
        ...     def step(self, u): return u / 2
        >>> Corrected(Halve(), FNO(1, 1, (4,), 8, key=jr.key(0)))(jnp.ones((1, 16))).shape
        (1, 16)

    Reference: K. Um, R. Brand, Y. Fei, P. Holl, N. Thuerey, "Solver-in-the-Loop: Learning from
    Differentiable Physics to Interact with Iterative PDE-Solvers", NeurIPS 2020.
    """

    solver: pdejax.AbstractStepper
    net: pdejax.AbstractOperator

    def __init__(self, solver, net):
        if not isinstance(solver, pdejax.AbstractStepper):
            raise ValueError(
                f"Corrected: `solver` must be a pdejax.AbstractStepper, got {type(solver).__name__}."
            )
        _net_shape(net, "Corrected")
        self.solver, self.net = solver, net

    @property
    def dt(self) -> Float[Array, ""]:
        return self.solver.dt

    @property
    def state_shape(self) -> tuple[int | None, ...]:
        return tuple(self.solver.state_shape)

    def step(self, u: Float[Array, "C *spatial"]) -> Float[Array, "C *spatial"]:
        v = self.solver(u)
        return v + self.net(v).astype(v.dtype)

r"""DeepONet (Lu et al. 2021): a branch net on sensor values times a trunk net on coordinates."""

from collections.abc import Callable, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float

import pdejax

from ._pointwise import check_count, per_axis


def _grid_points(num_points: Sequence[int], domain_length: Sequence[float]) -> Array:
    axes = [jnp.arange(n) * (length / n) for n, length in zip(num_points, domain_length)]
    mesh = jnp.stack(jnp.meshgrid(*axes, indexing="ij"), axis=-1)
    return mesh.reshape(-1, len(num_points))


class DeepONet(pdejax.AbstractOperator):
    r"""Unstacked DeepONet,

    $$G(a)_c(y) = \sum_{k=1}^{p} b_{c,k}\big(a(x_1), \dots, a(x_m)\big)\; t_{c,k}(y) + \beta_c,$$

    the branch MLP $b$ reading the input at the $m$ sensor points $x_j$ (the input grid, all
    channels flattened) and the trunk MLP $t$ reading a query coordinate $y$ (activation also on
    its last layer, as Lu et al.). ``__call__`` evaluates at the input grid's own points, so
    ``(C_in, *num_points)`` maps to ``(C_out, *num_points)``; :meth:`evaluate_at` evaluates at any
    points ``(N, d)`` (the trunk is a continuous function of $y$: query resolution is free,
    sensor resolution is fixed).

    Parameters: branch MLP $(m C_{in}) \to$ ``width`` $\times$ ``depth`` $\to p C_{out}$, trunk
    MLP $d \to$ ``width`` $\times$ ``depth`` $\to p C_{out}$, plus $C_{out}$ biases.
    Differentiable in every weight, the input, and the query points.

    Args:
        in_channels, out_channels: channel counts.
        num_points: sensor grid points per axis (the input's spatial shape).
        domain_length: the periodic box the grid spans (points at $j L / N$). Default 1.
        num_basis: $p$, basis functions per output channel.
        width, depth: hidden width and number of hidden layers of both MLPs.
        activation: nonlinearity (tanh by default).
        key: PRNG key (keyword-only).

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax.surrogates import DeepONet
        >>> net = DeepONet(1, 2, (16,), num_basis=8, key=jr.key(0))
        >>> net(jnp.ones((1, 16))).shape, net.evaluate_at(jnp.ones((1, 16)), jnp.zeros((5, 1))).shape
        ((2, 16), (2, 5))

    Reference: L. Lu, P. Jin, G. Pang, Z. Zhang, G. E. Karniadakis, "Learning nonlinear
    operators via DeepONet based on the universal approximation theorem of operators",
    Nature Machine Intelligence 3, 2021.
    """

    branch: eqx.nn.MLP
    trunk: eqx.nn.MLP
    bias: Float[Array, " C_out"]
    in_channels: int = eqx.field(static=True)
    out_channels: int = eqx.field(static=True)
    num_points: tuple[int, ...] = eqx.field(static=True)
    domain_length: tuple[float, ...] = eqx.field(static=True)
    num_basis: int = eqx.field(static=True)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_points: Sequence[int],
        *,
        domain_length=1.0,
        num_basis: int = 32,
        width: int = 64,
        depth: int = 2,
        activation: Callable[[Array], Array] = jnp.tanh,
        key,
    ):
        who = "DeepONet"
        self.in_channels = check_count(in_channels, "in_channels", who)
        self.out_channels = check_count(out_channels, "out_channels", who)
        num_points = (num_points,) if isinstance(num_points, int) else tuple(num_points)
        self.num_points = tuple(check_count(n, "num_points", who) for n in num_points)
        ndim = len(self.num_points)
        self.domain_length = per_axis(domain_length, ndim, "domain_length", who, cast=float)
        self.num_basis = check_count(num_basis, "num_basis", who)
        bkey, tkey = jr.split(key)
        sensors = in_channels * int(jnp.prod(jnp.asarray(self.num_points)))
        out = num_basis * out_channels
        self.branch = eqx.nn.MLP(sensors, out, width, depth, activation=activation, key=bkey)
        self.trunk = eqx.nn.MLP(
            ndim, out, width, depth, activation=activation, final_activation=activation, key=tkey
        )
        self.bias = jnp.zeros((out_channels,))

    @property
    def in_shape(self) -> tuple[int | None, ...]:
        return (self.in_channels, *self.num_points)

    def evaluate_at(
        self, a: Float[Array, "C_in *spatial"], y: Float[Array, "N D"]
    ) -> Float[Array, "C_out N"]:
        """$G(a)$ at arbitrary query points ``y`` ``(N, d)``."""
        pdejax.check_state_shape(a, self.in_shape, who="DeepONet", name="a")
        if y.ndim != 2 or y.shape[1] != len(self.num_points):
            raise ValueError(
                f"DeepONet: query points `y` must have shape (N, {len(self.num_points)}), "
                f"got {y.shape}."
            )
        b = self.branch(a.reshape(-1)).reshape(self.out_channels, self.num_basis)
        t = jax.vmap(self.trunk)(y.astype(a.dtype))
        t = t.reshape(-1, self.out_channels, self.num_basis)
        return (jnp.einsum("ck,nck->cn", b, t) + self.bias[:, None]).astype(a.dtype)

    def evaluate(self, a: Float[Array, "C_in *spatial"]) -> Float[Array, "C_out *spatial"]:
        y = _grid_points(self.num_points, self.domain_length).astype(a.dtype)
        return self.evaluate_at(a, y).reshape(self.out_channels, *self.num_points)

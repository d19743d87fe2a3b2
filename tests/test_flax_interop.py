"""Flax NNX interop both ways: gradients and one optax step equal to the native path."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest
from cases_surrogates import nnx_mlp
from flax import nnx

from pdejax import integrate
from pdejax.surrogates import FNO, FlaxOperator, NeuralDynamics, PdejaxModule

TS = jnp.array([0.0, 0.5])
RTOL = 1e-10


def _u0():
    x = jnp.arange(16) / 16
    return jnp.stack([jnp.sin(2 * jnp.pi * x), 0.5 * jnp.cos(4 * jnp.pi * x)])


def _solve(vector_field, u0):
    ctrl = diffrax.PIDController(rtol=1e-9, atol=1e-9)
    return diffrax.diffeqsolve(
        diffrax.ODETerm(vector_field), diffrax.Tsit5(), TS[0], TS[-1], None, u0,
        stepsize_controller=ctrl, saveat=diffrax.SaveAt(t1=True),
    ).ys[-1]  # fmt: skip


def _assert_trees_close(a, b, what):
    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    assert len(la) == len(lb) and la, what
    for x, y in zip(la, lb):
        np.testing.assert_allclose(x, y, rtol=RTOL, atol=1e-14, err_msg=what)


def test_nnx_mlp_drives_neural_dynamics_like_native_flax():
    """An NNX MLP (pointwise over channels) as the right-hand side, integrated by diffrax through
    pdejax, against nnx.grad of the same solve written with flax and diffrax only."""
    u0, target = _u0(), 0.3 * _u0()[::-1]
    mlp = nnx_mlp(2, 2, 16, seed=0)

    # pdejax path: FlaxOperator -> NeuralDynamics -> pdejax.integrate; optax on array leaves.
    dynamics = NeuralDynamics(FlaxOperator(mlp, in_shape=(2, None)))

    def loss_pdejax(f):
        sol = integrate(f, u0, TS, stepsize_controller=diffrax.PIDController(rtol=1e-9, atol=1e-9))
        return jnp.mean((sol.us[-1] - target) ** 2)

    # everything jitted: eager diffrax solves dispatch op by op (20 s for this test)
    loss_pdejax = eqx.filter_jit(loss_pdejax)
    grads = eqx.filter_jit(eqx.filter_grad(loss_pdejax))(dynamics)
    tx = optax.adam(1e-2)
    params = eqx.filter(dynamics, eqx.is_inexact_array)
    updates, _ = tx.update(grads, tx.init(params), params)
    stepped = eqx.apply_updates(dynamics, updates)

    # native path: nnx.grad and nnx.Optimizer on the module, diffrax called directly.
    native = nnx_mlp(2, 2, 16, seed=0)

    def loss_native(m):
        pred = _solve(lambda t, u, args: m(u.T).T, u0)
        return jnp.mean((pred - target) ** 2)

    native_grads = nnx.jit(nnx.grad(loss_native))(native)
    optimizer = nnx.Optimizer(native, tx, wrt=nnx.Param)
    optimizer.update(native, native_grads)

    _assert_trees_close(grads.net.state, nnx.state(native_grads), "gradients differ")
    _assert_trees_close(stepped.net.state, nnx.state(native, nnx.Param), "updated weights differ")
    assert float(loss_pdejax(stepped)) < float(loss_pdejax(dynamics))


def test_fno_inside_an_nnx_model_like_native_equinox():
    """An FNO inside an NNX model (with an NNX Param of its own), trained with nnx.Optimizer,
    against eqx.filter_grad + optax on the FNO itself."""
    fno = FNO(1, 2, (4,), 6, num_layers=2, projection_width=8, key=jr.key(0))
    a = jr.normal(jr.key(1), (3, 1, 16))
    target = jr.normal(jr.key(2), (3, 2, 16))

    class Model(nnx.Module):
        def __init__(self, operator):
            self.operator = PdejaxModule(operator)
            self.scale = nnx.Param(jnp.asarray(1.5))

        def __call__(self, x):
            return self.scale[...] * jax.vmap(self.operator)(x)

    model = Model(fno)
    tx = optax.adam(1e-2)

    def loss_nnx(m):
        return jnp.mean((m(a) - target) ** 2)

    nnx_grads = nnx.jit(nnx.grad(loss_nnx))(model)
    optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
    optimizer.update(model, nnx_grads)

    def loss_native(p):
        net, scale = p
        return jnp.mean((scale * jax.vmap(net)(a) - target) ** 2)

    params = (fno, jnp.asarray(1.5))
    native_grads = eqx.filter_jit(eqx.filter_grad(loss_native))(params)
    filtered = eqx.filter(params, eqx.is_inexact_array)
    updates, _ = tx.update(native_grads, tx.init(filtered), filtered)
    native_fno, native_scale = eqx.apply_updates(params, updates)

    grad_params = nnx_grads["operator"]["params"]
    fno_grads = [grad_params[i][...] for i in range(len(model.operator.params))]
    _assert_trees_close(fno_grads, eqx.filter(native_grads[0], eqx.is_inexact_array), "FNO grads")
    np.testing.assert_allclose(nnx_grads.scale[...], native_grads[1], rtol=RTOL)
    _assert_trees_close(
        eqx.filter(model.operator.operator, eqx.is_inexact_array),
        eqx.filter(native_fno, eqx.is_inexact_array),
        "updated FNO weights",
    )
    np.testing.assert_allclose(model.scale[...], native_scale, rtol=RTOL)
    assert float(loss_nnx(model)) < float(loss_native(params))


def test_flax_operator_round_trip_and_layouts():
    mlp = nnx_mlp(3, 2, 8, seed=1)
    op = FlaxOperator(mlp, in_shape=(3, None, None))
    u = jr.normal(jr.key(3), (3, 5, 4))
    np.testing.assert_allclose(op(u), jnp.moveaxis(mlp(jnp.moveaxis(u, 0, -1)), -1, 0))
    np.testing.assert_allclose(op.module(jnp.ones((2, 3))), mlp(jnp.ones((2, 3))))
    first = FlaxOperator(nnx.Linear(4, 2, param_dtype=jnp.float64, rngs=nnx.Rngs(0)),
                         in_shape=(3, 4), channels_last=False)  # fmt: skip
    assert first(jnp.ones((3, 4))).shape == (3, 2)
    with pytest.raises(ValueError, match=r"expected \(3, \*, \*\)"):
        op(jnp.ones((2, 5, 4)))


def test_errors():
    with pytest.raises(ValueError, match="nnx.Module"):
        FlaxOperator(lambda u: u, in_shape=(1, None))

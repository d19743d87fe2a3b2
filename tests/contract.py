"""The contract every pdejax model keeps, as reusable checks.

A model joins the suite with one :class:`Case` in the table of ``tests/test_contract.py``. The
factory ``make(variant)`` builds the model and an example input in float64; variants 0 and 1
must have the same structure and *different parameter values*, built through the constructor,
so that storing a parameter as a static Python float (which recompiles on every new value and
is invisible to ``jax.grad``) fails the compile-once check.
"""

import dataclasses
from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

import pdejax

NUM_DEVICES = 4


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[int], tuple[eqx.Module, jax.Array]]
    grad_rtol: float = 1e-6
    fd_step: float = 1e-6
    input_noise: float = 1e-2  # spread of the batch members around the example input

    def __str__(self):
        return self.name


def apply(model, u):
    """Call any interface kind on one state."""
    if isinstance(model, pdejax.AbstractDynamics):
        return model(jnp.asarray(0.0, u.dtype), u, None)
    return model(u)


def batch_of(case: Case, u, size=NUM_DEVICES, seed=0):
    noise = jr.normal(jr.key(seed), (size, *u.shape), u.dtype)
    return u[None] + case.input_noise * jnp.std(u) * noise


def scalar_loss(model, u, weights):
    return jnp.sum(weights * apply(model, u))


def check_jit(case: Case):
    model, u = case.make(0)
    eager = apply(model, u)
    jitted = eqx.filter_jit(apply)(model, u)
    assert jnp.all(jnp.isfinite(eager)), f"{case}: non-finite output"
    np.testing.assert_allclose(jitted, eager, rtol=1e-10, atol=1e-12 * jnp.abs(eager).max())


def check_vmap(case: Case):
    model, u = case.make(0)
    batch = batch_of(case, u)
    batched = eqx.filter_vmap(apply, in_axes=(None, 0))(model, batch)
    looped = jnp.stack([apply(model, b) for b in batch])
    np.testing.assert_allclose(batched, looped, rtol=1e-10, atol=1e-12 * jnp.abs(looped).max())


def check_pmap(case: Case):
    assert jax.device_count() >= NUM_DEVICES, "conftest should simulate 4 CPU devices"
    model, u = case.make(0)
    batch = batch_of(case, u)
    params, static = eqx.partition(model, eqx.is_array)
    pmapped = jax.pmap(lambda b: apply(eqx.combine(params, static), b))(batch)
    looped = jnp.stack([apply(model, b) for b in batch])
    np.testing.assert_allclose(pmapped, looped, rtol=1e-10, atol=1e-12 * jnp.abs(looped).max())


def check_sharding(case: Case):
    model, u = case.make(0)
    batch = batch_of(case, u)
    mesh = Mesh(np.array(jax.devices()[:NUM_DEVICES]), ("batch",))
    spec = NamedSharding(mesh, PartitionSpec("batch"))
    sharded = jax.device_put(batch, spec)
    out = eqx.filter_jit(eqx.filter_vmap(apply, in_axes=(None, 0)))(model, sharded)
    looped = jnp.stack([apply(model, b) for b in batch])
    np.testing.assert_allclose(out, looped, rtol=1e-10, atol=1e-12 * jnp.abs(looped).max())
    assert len(out.sharding.device_set) == NUM_DEVICES, (
        f"{case}: output on {len(out.sharding.device_set)} devices, expected the batch to stay "
        f"sharded over {NUM_DEVICES}"
    )


def _directional_fd(f, x, v, eps):
    plus = jax.tree.map(lambda a, b: a + eps * b, x, v)
    minus = jax.tree.map(lambda a, b: a - eps * b, x, v)
    return (f(plus) - f(minus)) / (2 * eps)


def _random_like(tree, key):
    leaves, treedef = jax.tree.flatten(tree)
    keys = jr.split(key, len(leaves))
    return jax.tree.unflatten(
        treedef, [jr.normal(k, jnp.shape(x), jnp.result_type(x)) for k, x in zip(keys, leaves)]
    )


def _dot(a, b):
    return sum(jnp.vdot(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def check_grad(case: Case):
    """Reverse-mode gradients (input and every inexact parameter) against central differences."""
    model, u = case.make(0)
    assert u.dtype == jnp.float64, f"{case}: the factory should build float64 inputs"
    weights = jr.normal(jr.key(1), apply(model, u).shape, u.dtype)
    params, static = eqx.partition(model, eqx.is_inexact_array)

    def loss(p, x):
        return scalar_loss(eqx.combine(p, static), x, weights)

    g_params, g_input = jax.grad(loss, argnums=(0, 1))(params, u)

    v_input = _random_like(u, jr.key(2))
    fd = _directional_fd(lambda x: loss(params, x), u, v_input, case.fd_step * jnp.std(u))
    ad = _dot(g_input, v_input) * case.fd_step * jnp.std(u)
    fd = fd * case.fd_step * jnp.std(u)
    np.testing.assert_allclose(ad, fd, rtol=case.grad_rtol, err_msg=f"{case}: d/du")

    if jax.tree.leaves(params):
        v_params = jax.tree.map(
            lambda p, r: r * (jnp.abs(p) + 1e-3), params, _random_like(params, jr.key(3))
        )
        fd = _directional_fd(lambda p: loss(p, u), params, v_params, case.fd_step)
        ad = _dot(g_params, v_params)
        np.testing.assert_allclose(ad, fd, rtol=case.grad_rtol, err_msg=f"{case}: d/dparams")


def check_compile_once(case: Case):
    """New parameter values built through the constructor must reuse the compiled program."""
    (m0, u0), (m1, u1) = case.make(0), case.make(1)
    leaves0 = jax.tree.leaves(eqx.filter(m0, eqx.is_array))
    leaves1 = jax.tree.leaves(eqx.filter(m1, eqx.is_array))
    assert any(not np.array_equal(a, b) for a, b in zip(leaves0, leaves1)), (
        f"{case}: variants 0 and 1 must differ in some array parameter"
    )

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def run(model, u):
        return apply(model, u)

    run(m0, u0)
    run(m1, u1)  # raises if the second model changed the traced program


def check_shape_error(case: Case):
    model, u = case.make(0)
    try:
        apply(model, jnp.stack([u, u]))
    except ValueError as err:
        assert "vmap" in str(err), f"{case}: shape error should suggest jax.vmap, got: {err}"
    else:
        raise AssertionError(f"{case}: a batched input should raise ValueError")

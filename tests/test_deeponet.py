"""DeepONet: the branch-trunk product, evaluation at arbitrary points, gradients, errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax.surrogates import DeepONet


def test_output_is_branch_dot_trunk_plus_bias():
    model = DeepONet(2, 3, (6, 4), num_basis=5, width=8, depth=2, key=jr.key(0))
    a = jr.normal(jr.key(1), (2, 6, 4))
    y = jnp.array([[0.1, 0.7], [0.5, 0.25]])
    b = model.branch(a.reshape(-1)).reshape(3, 5)
    t = jnp.stack([model.trunk(p).reshape(3, 5) for p in y])
    expected = jnp.einsum("ck,nck->cn", b, t) + model.bias[:, None]
    np.testing.assert_allclose(model.evaluate_at(a, y), expected, atol=1e-13)


def test_grid_evaluation_matches_query_evaluation():
    model = DeepONet(1, 2, (8,), domain_length=2.0, num_basis=4, key=jr.key(2))
    a = jr.normal(jr.key(3), (1, 8))
    points = (jnp.arange(8) * 0.25)[:, None]
    np.testing.assert_allclose(model(a), model.evaluate_at(a, points), atol=1e-13)
    # the trunk is continuous in y: any query resolution works
    assert model.evaluate_at(a, jnp.linspace(0, 2, 33)[:, None]).shape == (2, 33)


def test_in_out_channels_and_every_parameter_gets_a_gradient():
    model = DeepONet(3, 2, (5, 4), num_basis=4, width=8, depth=2, key=jr.key(4))
    a = jr.normal(jr.key(5), (3, 5, 4))
    assert model(a).shape == (2, 5, 4)
    grads = eqx.filter_jit(eqx.filter_grad(lambda m, x: jnp.sum(jnp.sin(m(x) + 1.0))))(model, a)
    for path, g in jax.tree_util.tree_leaves_with_path(eqx.filter(grads, eqx.is_array)):
        assert float(jnp.max(jnp.abs(g))) > 0, f"zero gradient at {jax.tree_util.keystr(path)}"


def test_errors():
    model = DeepONet(1, 1, (8,), key=jr.key(6))
    with pytest.raises(ValueError, match=r"expected \(1, 8\)"):
        model(jnp.ones((1, 16)))  # sensor locations are fixed
    with pytest.raises(ValueError, match=r"expected \(1, 8\)"):
        model(jnp.ones((2, 8)))
    with pytest.raises(ValueError, match=r"shape \(N, 1\)"):
        model.evaluate_at(jnp.ones((1, 8)), jnp.ones((4, 2)))
    with pytest.raises(ValueError, match="domain_length"):
        DeepONet(1, 1, (8, 8), domain_length=(1.0, 2.0, 3.0), key=jr.key(0))

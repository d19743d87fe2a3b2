"""UNet (1D and 2D): shapes, equivariance with circular padding, gradients, errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax.surrogates import UNet


@pytest.mark.parametrize("ndim,spatial,levels", [(1, (16,), 2), (2, (8, 4), 1)])
def test_in_out_channels_and_every_parameter_gets_a_gradient(ndim, spatial, levels):
    model = UNet(ndim, 3, 2, width=4, num_levels=levels, key=jr.key(0))
    u = jr.normal(jr.key(1), (3, *spatial))
    assert eqx.filter_eval_shape(model, u).shape == (2, *spatial)
    grads = eqx.filter_jit(eqx.filter_grad(lambda m, x: jnp.sum(jnp.sin(m(x)))))(model, u)
    for path, g in jax.tree_util.tree_leaves_with_path(eqx.filter(grads, eqx.is_array)):
        assert float(jnp.max(jnp.abs(g))) > 0, f"zero gradient at {jax.tree_util.keystr(path)}"


def test_circular_unet_commutes_with_coarse_shifts():
    """With circular padding, a shift by a multiple of 2**num_levels commutes with the network."""
    model = eqx.filter_jit(
        UNet(2, 1, 1, width=4, num_levels=2, padding_mode="CIRCULAR", key=jr.key(2))
    )
    u = jr.normal(jr.key(3), (1, 16, 16))
    shift = (4, -8)
    np.testing.assert_allclose(
        model(jnp.roll(u, shift, axis=(1, 2))),
        jnp.roll(model(u), shift, axis=(1, 2)),
        atol=1e-12,
    )
    # with zero padding the boundary breaks it
    zeros = eqx.filter_jit(UNet(2, 1, 1, width=4, num_levels=2, key=jr.key(2)))
    diff = zeros(jnp.roll(u, shift, axis=(1, 2))) - jnp.roll(zeros(u), shift, axis=(1, 2))
    assert float(jnp.max(jnp.abs(diff))) > 1e-6


def test_zero_levels_is_a_plain_conv_stack():
    model = UNet(1, 1, 1, width=4, num_levels=0, key=jr.key(4))
    assert eqx.filter_eval_shape(model, jnp.ones((1, 7))).shape == (
        1,
        7,
    )  # any size when there is no pooling


def test_errors():
    model = UNet(2, 2, 1, width=4, num_levels=2, key=jr.key(5))
    with pytest.raises(ValueError, match=r"divisible by 2\*\*num_levels = 4"):
        model(jnp.ones((2, 16, 10)))
    with pytest.raises(ValueError, match=r"expected \(2, \*, \*\)"):
        model(jnp.ones((1, 16, 16)))
    with pytest.raises(ValueError, match="vmap"):
        model(jnp.ones((3, 2, 16, 16)))
    with pytest.raises(ValueError, match="num_spatial_dims"):
        UNet(3, 1, 1, key=jr.key(0))
    with pytest.raises(ValueError, match="padding_mode"):
        UNet(1, 1, 1, padding_mode="REFLECT", key=jr.key(0))

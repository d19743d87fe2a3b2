"""TFNO: factorised contraction equals the dense one, compression at rank 0.1, training on Darcy."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest

from pdejax.surrogates import FNO, TFNO, FactorizedSpectralConv, SpectralConv
from pdejax.surrogates.spectral_conv import forward_modes

FACTORIZATIONS = ["tucker", "cp", "tt"]


@pytest.mark.parametrize("factorization", FACTORIZATIONS)
@pytest.mark.parametrize("modes", [(6,), (4, 3), (3, 2, 2)])
def test_factorized_contraction_equals_dense(factorization, modes):
    conv = FactorizedSpectralConv(5, 3, modes, factorization=factorization, rank=0.2, key=jr.key(0))
    u = jr.normal(jr.key(1), (5, *(12,) * len(modes)))

    @eqx.filter_jit
    def both(conv, u):
        x = forward_modes(u, modes)
        w = conv.dense_weight()
        dense_conv = eqx.tree_at(
            lambda c: c.weight,
            SpectralConv(5, 3, modes, key=jr.key(2)),
            jnp.stack([jnp.real(w), jnp.imag(w)]),
        )
        dense = jnp.einsum("oi...,i...->o...", w, x)
        return conv.contract(x), dense, conv(u), dense_conv(u)

    got, dense, layer, dense_layer = both(conv, u)
    err = float(jnp.max(jnp.abs(got - dense)) / jnp.max(jnp.abs(dense)))
    assert err < 1e-13, f"{factorization} {modes}: {err:.2e}"
    # And the layer is the dense SpectralConv with that weight.
    np.testing.assert_allclose(layer, dense_layer, atol=1e-13 * float(jnp.max(jnp.abs(u))))


@pytest.mark.parametrize("factorization", FACTORIZATIONS)
def test_rank_one_tenth_keeps_about_ten_percent(factorization):
    """The Darcy configuration (modes 12, width 32): rank 0.1 keeps ~10% of spectral params."""
    tfno = eqx.filter_eval_shape(
        TFNO, 1, 1, (12, 12), 32, factorization=factorization, rank=0.1, key=jr.key(0)
    )
    dense = eqx.filter_eval_shape(FNO, 1, 1, (12, 12), 32, key=jr.key(0))
    dense_spectral = sum(c.weight.size for c in dense.convs)
    assert dense_spectral == 4 * 2 * 32 * 32 * 24 * 12
    kept = sum(sum(f.size for f in c.factors) for c in tfno.fno.convs)
    ratio = kept / dense_spectral
    assert ratio == pytest.approx(tfno.spectral_compression())
    assert 0.085 <= ratio <= 0.105, f"{factorization}: kept {ratio:.4f} of the dense parameters"


def _darcy_like_data(key, num, n=16):
    """-div(a grad u) = 1 on the unit square, u = 0 on the boundary, 5-point FD with harmonic
    face averages; a in {3, 12} thresholded from a smooth random field. Dense solve: tiny grid."""
    h = 1.0 / (n + 1)
    kx = jnp.arange(1, 5)

    def coefficient(k):
        c = jr.normal(k, (4, 4)) / (kx[:, None] ** 2 + kx[None, :] ** 2)
        x = jnp.arange(1, n + 1) * h
        s = jnp.sin(jnp.pi * kx[:, None] * x[None, :])
        g = jnp.einsum("ij,ix,jy->xy", c, s, s) + 0.02
        return jnp.where(g > 0, 12.0, 3.0)

    def residual(u, a):
        up = jnp.pad(u, 1)
        ap = jnp.pad(a, 1, mode="edge")

        def face(a1, a2):
            return 2 * a1 * a2 / (a1 + a2)

        c = ap[1:-1, 1:-1]
        flux = (
            face(c, ap[2:, 1:-1]) * (up[2:, 1:-1] - u)
            + face(c, ap[:-2, 1:-1]) * (up[:-2, 1:-1] - u)
            + face(c, ap[1:-1, 2:]) * (up[1:-1, 2:] - u)
            + face(c, ap[1:-1, :-2]) * (up[1:-1, :-2] - u)
        )
        return -flux / h**2

    def solve(a):
        matrix = jax.jacfwd(lambda v: residual(v.reshape(n, n), a).reshape(-1))(jnp.zeros(n * n))
        return jnp.linalg.solve(matrix, jnp.ones(n * n)).reshape(n, n)

    a = jax.vmap(coefficient)(jr.split(key, num))
    u = jax.vmap(solve)(a)
    return a[:, None], u[:, None] / jnp.std(u)


@pytest.mark.parametrize("factorization", ["tucker", pytest.param("cp", marks=pytest.mark.slow)])
def test_tfno_trains_on_a_small_darcy_set(factorization):
    a, u = _darcy_like_data(jr.key(0), 24)
    a = (a - 7.5) / 4.5
    model = TFNO(
        1, 1, (4, 4), 12, factorization=factorization, rank=0.1, num_layers=2,
        projection_width=32, padding=0.25, key=jr.key(1),
    )  # fmt: skip
    assert model.spectral_compression() < 0.15
    optim = optax.adam(3e-3)
    state = optim.init(eqx.filter(model, eqx.is_inexact_array))

    def loss_fn(m):
        pred = jax.vmap(m)(a)
        return jnp.mean(jnp.sum((pred - u) ** 2, axis=(1, 2, 3)) / jnp.sum(u**2, axis=(1, 2, 3)))

    @eqx.filter_jit
    def step(m, s):
        loss, g = eqx.filter_value_and_grad(loss_fn)(m)
        updates, s = optim.update(g, s, m)
        return eqx.apply_updates(m, updates), s, loss

    losses = []
    for _ in range(80):
        model, state, loss = step(model, state)
        losses.append(float(loss))
    assert losses[-1] < 0.3 * losses[0], f"loss {losses[0]:.3f} -> {losses[-1]:.3f}"


@pytest.mark.slow
def test_in_out_channels_and_every_parameter_gets_a_gradient():
    for factorization in FACTORIZATIONS:
        model = TFNO(
            2, 3, (3, 3), 6, factorization=factorization, rank=0.3, num_layers=1, key=jr.key(2)
        )
        u = jr.normal(jr.key(3), (2, 10, 8))
        assert eqx.filter_eval_shape(model, u).shape == (3, 10, 8)
        grads = eqx.filter_jit(eqx.filter_grad(lambda m, x: jnp.sum(jnp.sin(m(x)))))(model, u)
        for path, g in jax.tree_util.tree_leaves_with_path(eqx.filter(grads, eqx.is_array)):
            assert float(jnp.max(jnp.abs(g))) > 0, f"{factorization}: zero gradient at {path}"


def test_errors():
    with pytest.raises(ValueError, match="factorization"):
        FactorizedSpectralConv(2, 2, (4,), factorization="svd", key=jr.key(0))
    with pytest.raises(ValueError, match="rank"):
        FactorizedSpectralConv(2, 2, (4,), rank=0.0, key=jr.key(0))
    with pytest.raises(ValueError, match="rank"):
        TFNO(1, 1, (4,), 4, rank=1.5, key=jr.key(0))
    model = TFNO(1, 1, (6,), 4, key=jr.key(0))
    with pytest.raises(ValueError, match=r"modes\[0\]=6"):
        model(jnp.ones((1, 8)))

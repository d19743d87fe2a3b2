"""SpectralConv: exactness on single Fourier modes, resolution invariance, truncation, errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax.surrogates import SpectralConv
from pdejax.surrogates.spectral_conv import forward_modes, inverse_modes


def _mesh(*spatial):
    axes = [jnp.arange(n) / n for n in spatial]
    return jnp.meshgrid(*axes, indexing="ij")


def _weight(conv, index):
    w = conv.weight[0] + 1j * conv.weight[1]
    return w[(slice(None), slice(None), *index)]


@pytest.mark.parametrize("k", [(3,), (2, 3), (-2, 1), (1, -3, 2)])
def test_single_mode_is_multiplied_by_its_weight(k):
    """u_i = cos(2 pi k.x + phi_i) -> y_o = Re(sum_i R_oi(k) e^{i(2 pi k.x + phi_i)}), exactly."""
    d = len(k)
    spatial = (16, 12, 10)[:d]
    modes = (4, 4, 4)[:d]
    conv = SpectralConv(2, 3, modes, key=jr.key(0))
    x = _mesh(*spatial)
    phase = 2 * jnp.pi * sum(ki * xi for ki, xi in zip(k, x))
    phi = jnp.array([0.3, -1.1])
    u = jnp.cos(phase[None] + phi.reshape(2, *(1,) * d))
    # Index of k in the kept block: negative frequencies sit after the m positive ones.
    index = tuple(ki if ki >= 0 else 2 * m + ki for ki, m in zip(k[:-1], modes[:-1])) + (k[-1],)
    r = _weight(conv, index)
    expected = jnp.real(
        jnp.einsum("oi,i...->o...", r, jnp.exp(1j * (phase[None] + phi.reshape(2, *(1,) * d))))
    )
    got = conv(u)
    err = float(jnp.max(jnp.abs(got - expected)) / jnp.max(jnp.abs(expected)))
    assert err < 1e-13, f"k={k}: relative error {err:.2e}"


def test_modes_outside_the_kept_set_are_removed():
    conv = SpectralConv(1, 1, (3, 3), key=jr.key(1))
    x, y = _mesh(16, 16)
    for k in [(4, 0), (-4, 1), (0, 3), (5, 5)]:  # kept: -3..2 x 0..2
        u = jnp.cos(2 * jnp.pi * (k[0] * x + k[1] * y))[None]
        assert float(jnp.max(jnp.abs(conv(u)))) < 1e-14, f"mode {k} leaked through"


@pytest.mark.parametrize(
    "spatial,modes", [((24,), (6,)), ((12, 10), (3, 4)), ((8, 8, 6), (2, 3, 2))]
)
def test_resolution_invariance(spatial, modes):
    """A band-limited input on N and 2N points gives the same output at shared points."""
    conv = SpectralConv(2, 3, modes, key=jr.key(2))
    d = len(spatial)

    def field(shape):
        x = _mesh(*shape)
        u = sum(jnp.sin(2 * jnp.pi * (j + 1) * x[j % d] + 0.2 * j) for j in range(d + 1))
        return jnp.stack([u, jnp.cos(2 * jnp.pi * x[-1])])

    coarse = conv(field(spatial))
    fine = conv(field(tuple(2 * n for n in spatial)))
    shared = fine[(slice(None),) + (slice(None, None, 2),) * d]
    err = float(jnp.max(jnp.abs(coarse - shared)) / jnp.max(jnp.abs(coarse)))
    assert err < 1e-13, f"relative difference N vs 2N: {err:.2e}"


def test_truncation_is_a_projection():
    """forward(inverse(forward(u))) == forward(u) on every kept mode but one: (-m_1, 0) is kept
    while its conjugate (+m_1, 0) is not, so the real inverse transform halves it (as in the
    paper's and neuraloperator's layer)."""
    modes, spatial = (4, 5), (16, 12)
    u = jr.normal(jr.key(3), (2, *spatial))
    x = forward_modes(u, modes)
    back = forward_modes(inverse_modes(x, modes, spatial), modes)
    np.testing.assert_allclose(back[:, 4, 0], x[:, 4, 0] / 2, atol=1e-14)
    np.testing.assert_allclose(back.at[:, 4, 0].set(0), x.at[:, 4, 0].set(0), atol=1e-14)


def test_in_out_channels_and_every_weight_gets_a_gradient():
    conv = SpectralConv(3, 5, (3, 2), key=jr.key(5))
    u = jr.normal(jr.key(6), (3, 10, 8))
    assert conv(u).shape == (5, 10, 8)
    g = eqx.filter_jit(eqx.filter_grad(lambda m, x: jnp.sum(jnp.sin(m(x)))))(conv, u).weight
    # The imaginary part of the zero-frequency weight only makes Im(y(0)), which the real inverse
    # transform discards: exactly zero gradient (a dead parameter in the paper's layer too).
    # Every other entry gets a gradient.
    assert float(jnp.max(jnp.abs(g[1, :, :, 0, 0]))) == 0.0
    live = g.at[1, :, :, 0, 0].set(1.0)
    assert float(jnp.min(jnp.abs(live))) > 0, "some spectral weight received a zero gradient"


def test_float32_stays_float32():
    conv = SpectralConv(1, 2, (4,), key=jr.key(7))
    y = conv(jnp.ones((1, 16), jnp.float32))
    assert y.dtype == jnp.float32


def test_jit_at_two_resolutions():
    conv = SpectralConv(1, 1, (3,), key=jr.key(8))
    f = eqx.filter_jit(conv)
    for n in (8, 12):
        u = jr.normal(jr.key(n), (1, n))
        np.testing.assert_allclose(f(u), conv(u), atol=1e-14)


def test_too_coarse_grid_is_a_clear_error():
    conv = SpectralConv(1, 1, (6, 5), key=jr.key(9))
    with pytest.raises(ValueError, match=r"modes\[0\]=6.*at least 12 points"):
        conv(jnp.ones((1, 10, 16)))
    with pytest.raises(ValueError, match=r"modes\[1\]=5.*at least 8 points"):
        conv(jnp.ones((1, 16, 6)))
    conv(jnp.ones((1, 12, 8)))  # the minimum resolution works


def test_wrong_channels_and_bad_construction():
    conv = SpectralConv(2, 1, (4,), key=jr.key(10))
    with pytest.raises(ValueError, match=r"expected \(2, \*\)"):
        conv(jnp.ones((3, 16)))
    with pytest.raises(ValueError, match="vmap"):
        conv(jnp.ones((4, 2, 16)))
    with pytest.raises(ValueError, match="modes"):
        SpectralConv(1, 1, (4, 4, 4, 4), key=jr.key(0))
    with pytest.raises(ValueError, match=r"modes\[0\]"):
        SpectralConv(1, 1, (0,), key=jr.key(0))
    with pytest.raises(ValueError, match="in_channels"):
        SpectralConv(0, 1, 4, key=jr.key(0))


def test_vmap_over_a_batch():
    conv = SpectralConv(1, 2, (3,), key=jr.key(11))
    batch = jr.normal(jr.key(12), (3, 1, 16))
    out = jax.vmap(conv)(batch)
    np.testing.assert_allclose(out[1], conv(batch[1]), atol=1e-14)

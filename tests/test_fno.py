"""FNO: parameter counts (formula and paper), resolution invariance, equivariance, options, errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax import rollout
from pdejax.surrogates import (
    FNO,
    Autoregressive,
    fno_burgers_1d,
    fno_darcy_2d,
    fno_navier_stokes_2d,
    fno_navier_stokes_3d,
    fno_num_params,
)
from pdejax.surrogates._pointwise import count_params


def _band_limited(channels, *spatial):
    axes = [jnp.arange(n) / n for n in spatial]
    x = jnp.meshgrid(*axes, indexing="ij")
    d = len(spatial)
    fields = [
        sum(0.5 * jnp.sin(2 * jnp.pi * (j + 1) * x[j % d] + c + 0.3 * j) for j in range(3))
        for c in range(channels)
    ]
    return jnp.stack(fields)


def _assert_all_params_get_gradients(model, u):
    grads = eqx.filter_jit(eqx.filter_grad(lambda m, x: jnp.sum(jnp.sin(m(x)))))(model, u)
    leaves = jax.tree_util.tree_leaves_with_path(eqx.filter(grads, eqx.is_inexact_array))
    assert leaves, "model has no parameters"
    for path, g in leaves:
        assert float(jnp.max(jnp.abs(g))) > 0, f"zero gradient for {jax.tree_util.keystr(path)}"


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(in_channels=2, out_channels=3, modes=(5,), width=6),
        dict(in_channels=1, out_channels=2, modes=(3, 4), width=5, lifting_width=7, norm=True),
        dict(in_channels=3, out_channels=1, modes=(2, 2, 3), width=4, coordinates=False),
        dict(in_channels=1, out_channels=1, modes=(4,), width=3, num_layers=2, projection_width=9),
    ],
)
def test_param_count_matches_formula(kwargs):
    model = FNO(**kwargs, key=jr.key(0))
    assert count_params(model) == fno_num_params(**kwargs)


def _abstract_count(make, **kwargs):
    """Parameter count from shapes only (no 6.5M-parameter initialisation in the test)."""
    shapes = eqx.filter_eval_shape(make, key=jr.key(0), **kwargs)
    leaves = jax.tree.leaves(shapes)
    arrays = [x for x in leaves if isinstance(x, jax.ShapeDtypeStruct)]
    return sum(x.size for x in arrays if jnp.issubdtype(x.dtype, jnp.inexact))


def test_paper_configurations_param_counts():
    """Counts next to the paper's: 414,517 (FNO-2D NS, modes 8, width 20) and 6,558,537 (FNO-3D)
    include 4 BatchNorm layers (160 parameters) that the released code builds but never uses."""
    assert _abstract_count(fno_burgers_1d) == 549_569
    assert _abstract_count(fno_darcy_2d) == 2_368_001
    assert _abstract_count(fno_navier_stokes_2d) == 926_357
    assert _abstract_count(fno_navier_stokes_2d, modes=8) == 414_517 - 160
    assert _abstract_count(fno_navier_stokes_2d, modes=8, norm=True) == 414_517
    assert _abstract_count(fno_navier_stokes_3d) == 6_558_537 - 160
    assert _abstract_count(fno_navier_stokes_3d, norm=True) == 6_558_537
    ns = fno_navier_stokes_2d(modes=8, width=4, key=jr.key(0))
    assert ns.in_channels == 10 and ns.coordinates and ns.out_channels == 1
    assert count_params(ns) == fno_num_params(10, 1, (8, 8), 4)


@pytest.mark.parametrize("spatial,modes", [((64,), (8,)), ((32, 32), (4, 4))])
def test_resolution_invariance_to_round_off(spatial, modes):
    """Band-limited input at N and 2N: the same function at shared points (float64)."""
    model = eqx.filter_jit(FNO(2, 3, modes, 8, coordinates=False, key=jr.key(1)))
    d = len(spatial)
    coarse = model(_band_limited(2, *spatial))
    fine = model(_band_limited(2, *(2 * n for n in spatial)))
    shared = fine[(slice(None),) + (slice(None, None, 2),) * d]
    err = float(jnp.max(jnp.abs(coarse - shared)) / jnp.max(jnp.abs(coarse)))
    assert err < 1e-13, f"N={spatial} vs 2N: relative difference {err:.2e}"


def test_with_coordinates_resolution_differences_shrink():
    """Coordinate channels are a non-periodic sawtooth: N vs 2N agree only to discretisation
    error, which must still shrink under refinement."""
    model = eqx.filter_jit(FNO(1, 1, (6,), 8, key=jr.key(2)))
    errs = []
    for n in (32, 64, 128):
        coarse, fine = model(_band_limited(1, n)), model(_band_limited(1, 2 * n))
        errs.append(float(jnp.max(jnp.abs(coarse - fine[:, ::2]))))
    assert errs[2] < errs[0] / 2, f"N vs 2N differences {errs} do not shrink"


def test_translation_equivariance_without_coordinates():
    model = eqx.filter_jit(FNO(1, 2, (4, 3), 6, coordinates=False, key=jr.key(3)))
    u = jr.normal(jr.key(4), (1, 16, 12))
    shifted = model(jnp.roll(u, (3, -5), axis=(1, 2)))
    np.testing.assert_allclose(shifted, jnp.roll(model(u), (3, -5), axis=(1, 2)), atol=1e-13)
    # with coordinates, or with padding, the model sees position
    for kw in (dict(coordinates=True), dict(coordinates=False, padding=0.25)):
        m = eqx.filter_jit(FNO(1, 2, (4, 3), 6, key=jr.key(3), **kw))
        diff = m(jnp.roll(u, 3, axis=1)) - jnp.roll(m(u), 3, axis=1)
        assert float(jnp.max(jnp.abs(diff))) > 1e-6, f"{kw}: unexpectedly equivariant"


@pytest.mark.parametrize(
    "cin,cout,modes,spatial,kw",
    [
        (2, 3, (4,), (16,), {}),
        (1, 4, (3, 3), (12, 10), dict(norm=True, padding=(0.25, 0.1), lifting_width=5)),
        (3, 1, (2, 2, 2), (6, 6, 4), dict(num_layers=2)),
    ],
)
def test_in_out_channels_and_every_parameter_gets_a_gradient(cin, cout, modes, spatial, kw):
    model = FNO(cin, cout, modes, 4, projection_width=8, key=jr.key(5), **kw)
    u = jr.normal(jr.key(6), (cin, *spatial))
    assert eqx.filter_eval_shape(model, u).shape == (cout, *spatial)
    _assert_all_params_get_gradients(model, u)


def test_float32_forward_stays_float32():
    model = FNO(1, 1, (4, 4), 4, key=jr.key(7))
    model32 = jax.tree.map(lambda x: x.astype(jnp.float32) if eqx.is_inexact_array(x) else x, model)
    y = eqx.filter_jit(model32)(jnp.ones((1, 16, 16), jnp.float32))
    assert y.dtype == jnp.float32


def test_errors():
    model = FNO(2, 1, (8, 6), 4, key=jr.key(8))
    with pytest.raises(ValueError, match=r"FNO: .*`modes\[0\]=8`: at least 16 points"):
        model(jnp.ones((2, 12, 16)))
    with pytest.raises(ValueError, match=r"`modes\[1\]=6`: at least 10 points"):
        model(jnp.ones((2, 16, 8)))
    with pytest.raises(ValueError, match=r"expected \(2, \*, \*\)"):
        model(jnp.ones((3, 16, 16)))
    with pytest.raises(ValueError, match="vmap"):
        model(jnp.ones((5, 2, 16, 16)))
    with pytest.raises(ValueError, match="padding"):
        FNO(1, 1, (4,), 4, padding=1.5, key=jr.key(0))
    with pytest.raises(ValueError, match="padding"):
        FNO(1, 1, (4, 4), 4, padding=(0.1, 0.1, 0.1), key=jr.key(0))
    with pytest.raises(ValueError, match="width"):
        FNO(1, 1, (4,), 0, key=jr.key(0))


def test_navier_stokes_2d_autoregressive_rollout():
    """The FNO-2D NS configuration (10 frames + 2 coordinates) rolls out as a stepper."""
    net = fno_navier_stokes_2d(modes=2, width=4, key=jr.key(9))
    step = Autoregressive(net, history=10)
    window = jr.normal(jr.key(10), (10, 8, 8))
    traj = eqx.filter_jit(lambda s, w: rollout(s, w, 3))(step, window)
    assert traj.shape == (3, 10, 8, 8)
    np.testing.assert_allclose(traj[0, -1], eqx.filter_jit(net)(window)[0], atol=1e-12)
    np.testing.assert_allclose(step.latest(traj)[:, 0], traj[:, -1], atol=0)

"""Metrics: relative L2 as in the FNO paper, H1 seminorm, energy spectrum (Parseval)."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax import PeriodicGrid
from pdejax.grids import energy_spectrum, h1_error, h1_seminorm, relative_l2


def test_relative_l2_definition_and_batch_mean():
    true = jr.normal(jr.key(0), (5, 2, 16))
    pred = true + 0.1 * jr.normal(jr.key(1), true.shape)
    per_sample = jax.vmap(relative_l2)(pred, true)
    manual = [np.linalg.norm(p - t) / np.linalg.norm(t) for p, t in zip(pred, true)]
    np.testing.assert_allclose(per_sample, manual, rtol=1e-12)
    assert float(relative_l2(true[0], true[0])) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        relative_l2(true, true[0])


def test_h1_seminorm_of_trig_field_is_exact():
    grid = PeriodicGrid((16, 8), (2 * np.pi, np.pi))
    x, y = grid.mesh()
    u = jnp.sin(2 * x) * jnp.cos(2 * y)  # |grad u|^2 integrates to (4 + 4) * |D| / 4
    exact = np.sqrt(8 * grid.volume / 4)
    np.testing.assert_allclose(h1_seminorm(u[None], grid), exact, rtol=1e-12)
    v = u + 0.1 * jnp.sin(x)
    np.testing.assert_allclose(
        h1_error(v[None], u[None], grid), np.sqrt(0.01 * grid.volume / 2) / exact, rtol=1e-12
    )


@pytest.mark.parametrize("num_points", [(32,), (15, 16), (8, 8, 10)])
def test_energy_spectrum_sums_to_energy(num_points):
    grid = PeriodicGrid(num_points, tuple(1.0 + i for i in range(len(num_points))))
    u = jr.normal(jr.key(2), (2, *num_points))
    k, e = energy_spectrum(u, grid)
    np.testing.assert_allclose(e.sum(), 0.5 * jnp.mean(jnp.sum(u**2, axis=0)), rtol=1e-12)
    assert k.shape == e.shape and bool(jnp.all(e >= 0))


def test_energy_spectrum_places_a_mode_in_its_shell():
    grid = PeriodicGrid((32, 32), 2 * np.pi)
    x, y = grid.mesh()
    k, e = energy_spectrum(jnp.cos(3 * x + 4 * y)[None], grid)
    assert int(jnp.argmax(e)) == 5 and float(e[5]) == pytest.approx(0.25, rel=1e-12)

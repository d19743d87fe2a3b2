"""Gaussian random fields: the empirical spectrum of many samples against the covariance formula."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax import PeriodicGrid, VertexGrid
from pdejax.grids import (
    GaussianRandomField,
    NeumannGaussianRandomField,
    fno_burgers_initial_condition,
    fno_darcy_threshold_field,
    fno_navier_stokes_initial_vorticity,
)

NUM_SAMPLES = 3000


def _shell_check(empirical, expected, shells, num_samples, who):
    """Compare shell-summed power; each coefficient's |U|^2 has relative std 1 (complex) or
    sqrt(2) (real modes), so a shell sum of n coefficients has relative std about 1/sqrt(n M)."""
    for s in np.unique(shells):
        if s == 0:
            continue
        sel = shells == s
        n = sel.sum()
        e, t = empirical[sel].sum(), expected[sel].sum()
        tol = 5 * np.sqrt(2.0 / (n * num_samples))
        assert abs(e / t - 1) < tol, (
            f"{who}: shell {s}: empirical {e:.4g} vs {t:.4g} (tol {tol:.2g})"
        )


@pytest.mark.parametrize(
    "grid, params",
    [
        (PeriodicGrid(64, 1.0), (25.0, 5.0, 2.0)),
        (PeriodicGrid((24, 32), (1.0, 2.0)), (7.0**1.5, 7.0, 2.5)),
    ],
    ids=["1d-burgers", "2d-rectangle"],
)
def test_periodic_spectrum_matches_covariance_per_shell(grid, params):
    grf = GaussianRandomField(grid, *params)
    samples = jax.jit(jax.vmap(grf.sample))(jr.split(jr.key(0), NUM_SAMPLES))
    power = np.asarray(jnp.mean(jnp.abs(grid.fft(samples)) ** 2, axis=0))
    # formula: E|U_m|^2 = N^2 lambda_m / |D| for the unnormalised DFT
    n = np.prod(grid.num_points)
    sigma, tau, alpha = params
    k2 = np.asarray(grid.wavenumber_norm_squared())
    expected = sigma**2 * (k2 + tau**2) ** (-alpha) * n**2 / grid.volume
    dk = 2 * np.pi / max(grid.domain_length)
    shells = np.rint(np.sqrt(k2) / dk).astype(int)
    _shell_check(power, expected, shells, NUM_SAMPLES, "periodic GRF")
    assert np.abs(power.flat[0]) < 1e-20 * power.max()  # zero mean: constant mode removed
    np.testing.assert_allclose(
        samples.mean(axis=(-1,) if grid.ndim == 1 else (-2, -1)), 0, atol=1e-12
    )


def test_periodic_pointwise_variance_is_the_trace():
    """Var u(x) = sum_m lambda_m / |D| (the Karhunen-Loeve trace), a second, independent check."""
    grid = PeriodicGrid((32, 32), (2.0, 1.0))
    grf = GaussianRandomField(grid, 2.0, 3.0, 1.5, zero_mean=False)
    samples = jax.vmap(grf.sample)(jr.split(jr.key(1), NUM_SAMPLES))
    k_full = np.meshgrid(
        *[
            2 * np.pi * np.fft.fftfreq(n, 1 / n) / L
            for n, L in zip(grid.num_points, grid.domain_length)
        ],
        indexing="ij",
    )
    lam = 4.0 * (k_full[0] ** 2 + k_full[1] ** 2 + 9.0) ** (-1.5)
    expected = lam.sum() / grid.volume
    empirical = float(jnp.var(samples, axis=0).mean())
    assert abs(empirical / expected - 1) < 0.02, (empirical, expected)


def test_neumann_coefficients_have_the_prescribed_variance():
    """Project samples back on the cosine basis; each coefficient's variance is lambda_m."""
    import equinox as eqx

    class EndpointGrid(eqx.Module):
        """Any grid with these attributes will do: here vertices including both ends."""

        num_points: tuple = eqx.field(static=True, default=(12, 10))
        domain_length: tuple = eqx.field(static=True, default=(1.0, 2.0))
        origin: tuple = eqx.field(static=True, default=(0.0, 0.0))

        def coordinates(self):
            return tuple(jnp.linspace(0, L, n) for n, L in zip(self.num_points, self.domain_length))

    grf = NeumannGaussianRandomField(EndpointGrid(), sigma=1.0, tau=2.0, alpha=2.0)
    px, py = grf._basis(jnp.float64)
    samples = jax.vmap(grf.sample)(jr.split(jr.key(2), NUM_SAMPLES))
    coeff = jnp.einsum("ia,jb,sab->sij", jnp.linalg.inv(px), jnp.linalg.inv(py), samples)
    var = np.asarray(jnp.mean(coeff**2, axis=0))
    lam = np.asarray(grf.eigenvalues())
    assert var[0, 0] < 1e-25
    rel = var[lam > 0] / lam[lam > 0] - 1
    # each coefficient is chi-square(1): relative std sqrt(2/M) per mode; check mean and spread
    assert abs(rel.mean()) < 5 * np.sqrt(2 / (NUM_SAMPLES * rel.size)), rel.mean()
    assert np.abs(rel).max() < 5 * np.sqrt(2 / NUM_SAMPLES), np.abs(rel).max()
    # the basis satisfies the Neumann condition: zero slope at both ends, analytically
    x = np.linspace(0, 1, 12)
    assert np.allclose(np.asarray(px)[:, 3], np.sqrt(2) * np.cos(3 * np.pi * x))


def test_presets_follow_the_fno_paper():
    g = PeriodicGrid(128)
    burgers = fno_burgers_initial_condition(g)
    assert (float(burgers.sigma) ** 2, float(burgers.tau) ** 2, float(burgers.alpha)) == (
        625,
        25,
        2,
    )
    ns = fno_navier_stokes_initial_vorticity(PeriodicGrid((64, 64)))
    np.testing.assert_allclose(float(ns.sigma) ** 2, 2 * 7.0**3)
    assert (float(ns.tau), float(ns.alpha)) == (7.0, 2.5)
    darcy = fno_darcy_threshold_field(PeriodicGrid((16, 16)))
    assert (float(darcy.tau), float(darcy.alpha)) == (3.0, 2.0)


def test_float32_sampling_and_no_recompile_on_new_parameters():
    import equinox as eqx

    grid = PeriodicGrid((16, 16))

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def draw(grf, key):
        return grf.sample(key, dtype=jnp.float32)

    a = draw(GaussianRandomField(grid, 1.0, 3.0, 2.0), jr.key(0))
    b = draw(GaussianRandomField(grid, 2.0, 4.0, 2.5), jr.key(0))
    assert a.dtype == jnp.float32 and not jnp.allclose(a, b)


def test_gradient_through_sampling_with_respect_to_sigma():
    grid = PeriodicGrid(32)
    key = jr.key(3)

    def energy(sigma):
        return jnp.mean(GaussianRandomField(grid, sigma, 3.0, 2.0).sample(key) ** 2)

    # the sample is linear in sigma, so the energy is quadratic: d/ds (c s^2) = 2 E / s
    g = jax.grad(energy)(1.5)
    np.testing.assert_allclose(g, 2 * energy(1.5) / 1.5, rtol=1e-12)


@pytest.mark.parametrize(
    "params, match",
    [((1.0, 0.0, 2.0), "tau"), ((1.0, 3.0, -1.0), "alpha"), ((-1.0, 3.0, 2.0), "sigma")],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        GaussianRandomField(PeriodicGrid(8), *params)
    with pytest.raises(ValueError, match=match):
        NeumannGaussianRandomField(PeriodicGrid(8), *params)


def test_neumann_field_samples_under_jit_as_eagerly():
    """Sampling inside ``jit`` (as data generation does) equals eager sampling: the cosine basis
    is built from the grid's coordinates as constants, not tracers."""
    grid = VertexGrid((9, 9))
    field = NeumannGaussianRandomField(grid, 1.0, 3.0, 2.0)
    key = jr.key(3)
    eager = field.sample(key)
    jitted = jax.jit(lambda k: field.sample(k))(key)
    assert eager.shape == (9, 9)
    assert float(jnp.max(jnp.abs(jitted - eager))) <= 1e-12 * float(jnp.max(jnp.abs(eager)))

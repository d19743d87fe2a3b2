"""PeriodicGrid: spectral calculus exact on band-limited fields, resampling, errors."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax import PeriodicGrid

GRIDS = [
    PeriodicGrid(17, 2.5, origin=-1.0),
    PeriodicGrid((16, 12), (1.0, 3.0)),
    PeriodicGrid((15, 16), (2 * np.pi, 0.5)),
    PeriodicGrid((8, 10, 6), (1.0, 2.0, 3.0)),
]


def _trig_field(grid):
    """A band-limited field (below every Nyquist frequency) and its exact gradient and Laplacian."""
    coords = jnp.meshgrid(*grid.coordinates(), indexing="ij")
    ks = [2 * np.pi * m / length for m, length in zip((1, 2, 1), grid.domain_length)]
    phase = sum(k * (x - 0.3) for k, x in zip(ks, coords))
    second = [2 * np.pi * 3 / length for length in grid.domain_length]
    u = jnp.sin(phase) + 0.5 * jnp.cos(second[0] * coords[0])
    grad = [ks[i] * jnp.cos(phase) for i in range(grid.ndim)]
    grad[0] = grad[0] - 0.5 * second[0] * jnp.sin(second[0] * coords[0])
    lap = -sum(k**2 for k in ks[: grid.ndim]) * jnp.sin(phase) - 0.5 * second[0] ** 2 * jnp.cos(
        second[0] * coords[0]
    )
    return u, jnp.stack(grad), lap


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: str(g.num_points))
def test_spectral_derivatives_exact_on_band_limited_fields(grid):
    u, grad, lap = _trig_field(grid)
    scale = jnp.abs(grad).max()
    np.testing.assert_allclose(grid.gradient(u), grad, atol=1e-12 * scale)
    for axis in range(grid.ndim):
        np.testing.assert_allclose(grid.derivative(u, axis), grad[axis], atol=1e-12 * scale)
    np.testing.assert_allclose(grid.laplacian(u), lap, atol=1e-12 * jnp.abs(lap).max())
    np.testing.assert_allclose(grid.divergence(grad), lap, atol=1e-12 * jnp.abs(lap).max())
    # second derivative symbol squared equals applying the first twice
    np.testing.assert_allclose(
        grid.derivative(u, 0, order=2),
        grid.derivative(grid.derivative(u, 0), 0),
        atol=1e-11 * scale,
    )


@pytest.mark.parametrize("grid", GRIDS, ids=lambda g: str(g.num_points))
def test_inverse_laplacian_inverts_on_zero_mean_fields(grid):
    f = jr.normal(jr.key(0), grid.num_points)
    u = grid.inverse_laplacian(f)
    assert abs(float(u.mean())) < 1e-13
    # the Nyquist modes are kept by Laplacian and its inverse, so this is exact for any f
    np.testing.assert_allclose(grid.laplacian(u), f - f.mean(), atol=1e-12)


def test_derivative_on_leading_channel_axes_and_fft_round_trip():
    grid = PeriodicGrid((12, 9))
    u = jr.normal(jr.key(1), (3, 12, 9))
    np.testing.assert_allclose(grid.ifft(grid.fft(u)), u, atol=1e-14)
    assert grid.fft(u).shape == (3, *grid.spectral_shape) == (3, 12, 5)
    per_channel = jnp.stack([grid.derivative(c, 1) for c in u])
    np.testing.assert_allclose(grid.derivative(u, 1), per_channel, atol=1e-14)


def test_odd_derivative_zeroes_nyquist_mode():
    grid = PeriodicGrid(8)
    (x,) = grid.coordinates()
    nyquist = jnp.cos(np.pi * x / grid.spacing[0])  # alternating +-1
    np.testing.assert_allclose(grid.derivative(nyquist, 0), 0.0, atol=1e-14)
    np.testing.assert_allclose(
        grid.derivative(nyquist, 0, order=2), -((4 * 2 * np.pi) ** 2) * nyquist
    )


def test_wavenumbers_and_coordinates():
    grid = PeriodicGrid((4, 6), (2.0, 3.0), origin=(1.0, -1.0))
    x, y = grid.coordinates()
    np.testing.assert_allclose(x, [1.0, 1.5, 2.0, 2.5])
    np.testing.assert_allclose(y, [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5])
    kx, ky = grid.wavenumbers()
    np.testing.assert_allclose(kx.ravel(), np.pi * np.array([0, 1, -2, -1]))
    np.testing.assert_allclose(ky.ravel(), 2 * np.pi / 3 * np.array([0, 1, 2, 3]))
    assert grid.mesh().shape == (2, 4, 6)
    assert grid.spacing == (0.5, 0.5) and grid.volume == 6.0


@pytest.mark.parametrize("n", [6, 7, 64, 65])
def test_dealias_mask_keeps_modes_below_two_thirds(n):
    grid = PeriodicGrid(n)
    mask = np.asarray(grid.dealias_mask())
    kept = np.flatnonzero(mask)
    assert kept.max() < n / 3 <= kept.max() + 1
    # quadratic products of kept modes alias only onto discarded modes
    assert 2 * kept.max() - n <= -kept.max() - 1 or 2 * kept.max() < n - kept.max()


def test_dealias_mask_2d_is_a_product():
    grid = PeriodicGrid((12, 18))
    m = np.asarray(grid.dealias_mask())
    assert m.shape == grid.spectral_shape
    mx = np.asarray(PeriodicGrid(12).dealias_mask())
    full_x = np.array([mx[min(i, 12 - i)] for i in range(12)])
    my = np.asarray(PeriodicGrid(18).dealias_mask())
    np.testing.assert_array_equal(m, np.outer(full_x, my))


@pytest.mark.parametrize(
    "shape, target", [((16,), (40,)), ((15, 16), (30, 22)), ((8, 10, 6), (12, 16, 9))]
)
def test_resample_band_limited_exact_both_ways(shape, target):
    grid = PeriodicGrid(shape, tuple(1.0 + i for i in range(len(shape))))
    fine = grid.with_num_points(target)
    u, _, _ = _trig_field(grid)
    u_fine, _, _ = _trig_field(fine)
    np.testing.assert_allclose(grid.resample(u, target), u_fine, atol=1e-13)
    np.testing.assert_allclose(fine.resample(u_fine, shape), u, atol=1e-13)


@pytest.mark.parametrize("n, m", [(16, 24), (15, 32), (16, 33), (9, 10)])
def test_resample_refine_then_coarsen_is_identity_for_any_field(n, m):
    grid = PeriodicGrid((n, n + 1))
    u = jr.normal(jr.key(3), (2, n, n + 1))
    fine = grid.resample(u, (m, m + 3))
    back = grid.with_num_points((m, m + 3)).resample(fine, (n, n + 1))
    np.testing.assert_allclose(back, u, atol=1e-13)


@pytest.mark.parametrize("n", [8, 9])
def test_refinement_interpolates_coarse_values(n):
    grid = PeriodicGrid((n, n + 1))
    u = jr.normal(jr.key(5), (n, n + 1))
    fine = grid.resample(u, (3 * n, 2 * (n + 1)))
    np.testing.assert_allclose(fine[::3, ::2], u, atol=1e-13)


def test_resample_preserves_mean_and_energy_when_refining():
    grid = PeriodicGrid((10, 12))
    u = jr.normal(jr.key(4), (10, 12))
    fine = grid.resample(u, (30, 36))
    assert abs(float(fine.mean() - u.mean())) < 1e-14
    # Parseval: trigonometric interpolation keeps the L2 norm (Nyquist modes split evenly lose
    # the part of their energy that was aliased, so compare on a field without them)
    v = grid.ifft(grid.fft(u) * grid.nyquist_mask())
    np.testing.assert_allclose(
        jnp.mean(grid.resample(v, (30, 36)) ** 2), jnp.mean(v**2), rtol=1e-12
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_points=1), "num_points"),
        (dict(num_points=(8, 1)), "num_points"),
        (dict(num_points=8.0), "num_points"),
        (dict(num_points=8, domain_length=0.0), "domain_length"),
        (dict(num_points=8, domain_length=-1.0), "domain_length"),
        (dict(num_points=(8, 8), domain_length=(1.0, 2.0, 3.0)), "domain_length"),
        (dict(num_points=(8, 8, 8, 8)), "ndim"),
        (dict(num_points=8, domain_length=float("nan")), "domain_length"),
    ],
)
def test_bad_construction_raises_naming_the_argument(kwargs, match):
    # (a float `num_points` is already a TypeError under runtime type checking, as in the tests)
    with pytest.raises((ValueError, TypeError), match=match):
        PeriodicGrid(**kwargs)


def test_too_coarse_for_dealiasing_raises():
    with pytest.raises(ValueError, match="num_points.*too small for dealiasing"):
        PeriodicGrid(3).dealias_mask()
    PeriodicGrid(4).dealias_mask()  # smallest grid that keeps a non-constant mode


def test_field_shape_errors():
    grid = PeriodicGrid((8, 8))
    with pytest.raises(ValueError, match="trailing axes"):
        grid.laplacian(jnp.zeros((8, 9)))
    with pytest.raises(ValueError, match="rfftn shape"):
        grid.ifft(jnp.zeros((8, 8), complex))
    with pytest.raises(ValueError, match="channels"):
        grid.divergence(jnp.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="num_points"):
        grid.resample(jnp.zeros((8, 8)), (1, 8))

"""VertexGrid: second-order finite differences (fitted slopes), exactness, errors."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np
import pytest

from pdejax import VertexGrid

RESOLUTIONS = (9, 17, 33, 65)


def _slope(hs, errors):
    return np.polyfit(np.log(hs), np.log(errors), 1)[0]


def _manufactured(grid):
    """u = prod sin(k_i x_i) + x_0^2 (non-zero on the boundary), a = 1 + 0.5 sin(sum x) cos(x_0)."""
    xs = grid.mesh()
    ks = (1.3, 2.1, 0.7)[: grid.ndim]
    sines = [jnp.sin(k * x) for k, x in zip(ks, xs)]
    u = jnp.prod(jnp.stack(sines), axis=0) + xs[0] ** 2
    grad_u = []
    for i, k in enumerate(ks):
        others = jnp.prod(jnp.stack([s for j, s in enumerate(sines) if j != i] or [1.0]), axis=0)
        g = k * jnp.cos(k * xs[i]) * others
        grad_u.append(g + (2 * xs[0] if i == 0 else 0.0))
    lap = -sum(k**2 for k in ks) * jnp.prod(jnp.stack(sines), axis=0) + 2.0
    s = sum(xs)
    a = 1 + 0.5 * jnp.sin(s) * jnp.cos(xs[0])
    grad_a = [0.5 * jnp.cos(s) * jnp.cos(xs[0]) for _ in range(grid.ndim)]
    grad_a[0] = grad_a[0] - 0.5 * jnp.sin(s) * jnp.sin(xs[0])
    div = a * lap + sum(ga * gu for ga, gu in zip(grad_a, grad_u))
    return u, jnp.stack(grad_u), lap, a, div


@eqx.filter_jit
def _errors(grid):
    u, grad, lap, a, div = _manufactured(grid)
    return (
        jnp.abs(grid.laplacian(u) - grid.interior(lap)).max(),
        jnp.abs(grid.div_a_grad(a, u) - grid.interior(div)).max(),
        jnp.abs(grid.gradient(u) - grad).max(),
    )


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_laplacian_and_div_a_grad_converge_at_second_order(ndim):
    sizes = RESOLUTIONS if ndim < 3 else RESOLUTIONS[:-1]
    hs, lap_err, div_err, grad_err = [], [], [], []
    for n in sizes:
        grid = VertexGrid(n, (1.0, 1.5, 0.8)[:ndim], origin=(0.2, -0.3, 0.1)[:ndim], ndim=ndim)
        errors = _errors(grid)
        hs.append(grid.spacing[0])
        lap_err.append(float(errors[0]))
        div_err.append(float(errors[1]))
        grad_err.append(float(errors[2]))
    for name, errors in (("laplacian", lap_err), ("div_a_grad", div_err), ("gradient", grad_err)):
        slope = _slope(hs, errors)
        assert 1.9 < slope < 2.2, f"{ndim}-d {name}: slope {slope:.3f}, errors {errors}"


def test_harmonic_faces_make_a_two_material_layer_exact():
    """-(a u')' = 0 with a jump between two vertices: the piecewise-linear exact solution
    (continuous flux) is annihilated by the scheme to round-off, thanks to harmonic faces."""
    grid = VertexGrid((12, 4))
    x, _ = grid.mesh()
    a1, a2, interface = 1.0, 50.0, 5.5 * grid.spacing[0]
    a = jnp.where(x < interface, a1, a2)
    flux = 1.0  # u' = flux / a on each side, continuous at the interface
    u = jnp.where(x < interface, x / a1, interface / a1 + (x - interface) / a2) * flux
    residual = grid.div_a_grad(a, u)
    assert float(jnp.abs(residual).max()) < 1e-11, residual
    # the arithmetic mean is not flux-continuous: the same test fails for it
    faces = [(a[:-1, 1:-1] + a[1:, 1:-1]) / 2, (a[1:-1, :-1] + a[1:-1, 1:]) / 2]
    assert float(jnp.abs(grid.div_flux(faces, u)).max()) > 1.0


def test_geometry_and_boundary_helpers():
    grid = VertexGrid((5, 4), (2.0, 3.0), origin=(1.0, -1.0))
    assert grid.spacing == (0.5, 1.0)
    assert grid.interior_shape == (3, 2)
    x, y = grid.coordinates()
    np.testing.assert_allclose(x, [1.0, 1.5, 2.0, 2.5, 3.0])
    np.testing.assert_allclose(y, [-1.0, 0.0, 1.0, 2.0])
    inner = jnp.arange(6.0).reshape(3, 2) + 1
    full = grid.pad_interior(inner, 7.0)
    assert full.shape == (5, 4)
    np.testing.assert_array_equal(grid.interior(full), inner)
    assert bool(jnp.all(jnp.where(grid.boundary_mask(), full == 7.0, True)))
    g = grid.mesh()[0]
    full = grid.pad_interior(inner, g)  # a boundary field: its boundary entries are used
    np.testing.assert_array_equal(
        jnp.where(grid.boundary_mask(), full, 0), jnp.where(grid.boundary_mask(), g, 0)
    )
    # leading channel axes pass through
    assert grid.pad_interior(jnp.stack([inner, inner])).shape == (2, 5, 4)
    assert grid.laplacian(jnp.ones((3, 5, 4))).shape == (3, 3, 2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_points=(5, 5), domain_length=(1.0, 0.0)), "domain_length"),
        (dict(num_points=(5, 5), domain_length=-1.0), "domain_length"),
        (dict(num_points=(5, 2)), "num_points"),
        (dict(num_points=2), "num_points"),
        (dict(num_points=(5, 5), domain_length=(1.0, 1.0, 1.0)), "domain_length"),
        (dict(num_points=(5, 5, 5, 5)), "ndim"),
        (dict(num_points=(5, 5), origin=(0.0, float("nan"))), "origin"),
    ],
)
def test_bad_construction_raises_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        VertexGrid(**kwargs)


def test_wrong_field_shapes_raise():
    grid = VertexGrid((6, 5))
    with pytest.raises(ValueError, match="`u`"):
        grid.laplacian(jnp.ones((5, 6)))
    with pytest.raises(ValueError, match="`a`"):
        grid.div_a_grad(jnp.ones((6, 4)), jnp.ones((6, 5)))
    with pytest.raises(ValueError, match="`interior`"):
        grid.pad_interior(jnp.ones((6, 5)))
    with pytest.raises(ValueError, match="`boundary`"):
        grid.pad_interior(jnp.ones((4, 3)), jnp.ones((3, 3)))

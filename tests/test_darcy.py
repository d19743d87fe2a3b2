"""Darcy2D: second-order convergence, agreement with a sparse direct solve, mesh-independent
multigrid-CG iterations, implicit gradients (one adjoint solve), errors, the FNO problem."""

import equinox as eqx
import jax
import jax.extend
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from cases_darcy import scipy_darcy, thresholded

from pdejax import VertexGrid, make_problem
from pdejax.solvers import Darcy2D


@eqx.filter_jit
def _solve(model, a):
    return model.solve(a)


def test_manufactured_solution_converges_at_second_order():
    """u = sin(pi x) sin(pi y) + x y on [0,1]x[0,2] (non-zero boundary data), a = 1 + x^2 + y/2."""
    errors, hs = [], []
    for n in (17, 33, 65):
        grid = VertexGrid((n, 2 * n - 1), (1.0, 2.0))
        x, y = grid.mesh()
        s = jnp.sin(jnp.pi * x) * jnp.sin(jnp.pi * y)
        u = s + x * y
        ux = jnp.pi * jnp.cos(jnp.pi * x) * jnp.sin(jnp.pi * y) + y
        uy = jnp.pi * jnp.sin(jnp.pi * x) * jnp.cos(jnp.pi * y) + x
        a = 1 + x**2 + y / 2
        f = -(a * (-2 * jnp.pi**2 * s) + 2 * x * ux + 0.5 * uy)
        model = Darcy2D(grid, source=f, boundary_value=u, rtol=1e-12)
        errors.append(float(jnp.abs(_solve(model, a[None])[0][0] - u).max()))
        hs.append(grid.spacing[0])
    slope = np.polyfit(np.log(hs), np.log(errors), 1)[0]
    assert 1.9 < slope < 2.2, f"slope {slope:.3f}, max errors {errors}"


@pytest.mark.parametrize("high", [12.0, 3000.0], ids=["contrast4", "contrast1000"])
def test_matches_scipy_direct_solve_float64_and_float32(high):
    grid, a = thresholded(85, high)
    reference, _ = scipy_darcy(a[0], grid.spacing)
    u, info = _solve(Darcy2D(grid, rtol=1e-12), a)
    rel = float(np.linalg.norm(u[0] - reference) / np.linalg.norm(reference))
    assert bool(info.converged) and rel < 1e-6, (rel, info)
    # float32: the error is that of float32 rounding (eps = 1.2e-7), not of the iteration
    u32, info32 = _solve(Darcy2D(grid), a.astype(jnp.float32))
    assert u32.dtype == jnp.float32 and bool(info32.converged)
    rel32 = float(np.linalg.norm(u32[0] - reference) / np.linalg.norm(reference))
    assert rel32 < 2e-6, (rel32, info32)
    print(
        f"contrast {high / 3:g}: float64 rel err {rel:.2e} in {int(info.num_steps)} steps; "
        f"float32 rel err {rel32:.2e} in {int(info32.num_steps)} steps"
    )


def test_a_solve_that_cannot_reach_its_tolerance_reports_it():
    grid, a = thresholded(43, 3000.0)
    u, info = _solve(Darcy2D(grid, rtol=1e-12, max_steps=3, throw=False), a)
    assert not bool(info.converged) and int(info.num_steps) == 3
    assert float(info.relative_residual) > 1e-12
    with pytest.raises(Exception, match="did not reach rtol"):
        jax.block_until_ready(_solve(Darcy2D(grid, rtol=1e-12, max_steps=3), a))


def _iteration_table(sizes, high=12.0):
    rows = []
    for s in sizes:
        grid, a = thresholded(s, high)
        _, info = _solve(Darcy2D(grid, rtol=1e-10), a)
        assert bool(info.converged)
        rows.append((s, int(info.num_steps)))
    print("\n s   | MG-PCG iterations (rtol 1e-10, contrast %g)" % (high / 3))
    for s, k in rows:
        print(f" {s:3d} | {k}")
    return [k for _, k in rows]


def test_iterations_do_not_grow_with_resolution():
    # the paper's sizes 85/141/211/421 are in the slow test below; these compile faster
    steps = _iteration_table((33, 65, 129))
    assert max(steps) <= 14 and max(steps) - min(steps) <= 3, steps


@pytest.mark.slow
@pytest.mark.parametrize("high", [12.0, 3000.0])
def test_iterations_do_not_grow_with_resolution_up_to_421(high):
    steps = _iteration_table((85, 141, 211, 421), high)
    assert max(steps) <= (14 if high == 12.0 else 40), steps
    assert max(steps) - min(steps) <= (3 if high == 12.0 else 20), steps


def _loss_setup():
    grid = VertexGrid((21, 17), (1.0, 0.9))
    x, y = grid.mesh()
    a = (2 + jnp.sin(4 * x) * jnp.cos(3 * y))[None]
    source = 1 + x
    boundary = 0.3 * jnp.sin(2 * x + y)
    weights = jr.normal(jr.key(7), (1, *grid.num_points))

    def loss(a, source, boundary):
        model = Darcy2D(grid, source=source, boundary_value=boundary, rtol=1e-13)
        return jnp.sum(weights * model(a) ** 2)

    return loss, (a, source, boundary)


def test_gradients_match_central_differences():
    loss, args = _loss_setup()
    grads = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(*args)
    jloss = jax.jit(loss)
    for i, name in enumerate(("a", "source", "boundary_value")):
        direction = jr.normal(jr.key(i), args[i].shape)
        if name == "a":
            direction = direction * args[0] * 0.1  # keep a + eps v positive, relative scale
        eps = 1e-5

        def shifted(t, i=i, direction=direction):
            moved = list(args)
            moved[i] = moved[i] + t * direction
            return jloss(*moved)

        fd = (shifted(eps) - shifted(-eps)) / (2 * eps)
        ad = jnp.vdot(grads[i], direction)
        assert abs(float(ad - fd)) <= 1e-6 * abs(float(fd)), (name, float(ad), float(fd))


def _count(jaxpr, name):
    """Occurrences of a primitive, descending into every sub-jaxpr (loops, solves, calls)."""

    def subs(value):
        if isinstance(value, jax.extend.core.ClosedJaxpr):
            yield value.jaxpr
        elif isinstance(value, jax.extend.core.Jaxpr):
            yield value
        elif isinstance(value, tuple | list):
            for v in value:
                yield from subs(v)

    n = 0
    for eqn in jaxpr.eqns:
        n += name in eqn.primitive.name
        for value in eqn.params.values():
            for sub in subs(value):
                n += _count(sub, name)
    return n


def test_gradient_costs_one_adjoint_solve_and_never_unrolls_cg():
    loss, args = _loss_setup()
    forward = jax.make_jaxpr(loss)(*args).jaxpr
    backward = jax.make_jaxpr(jax.grad(loss, argnums=(0, 1, 2)))(*args).jaxpr
    # one linear solve forward; value-and-grad adds exactly one (the transposed, adjoint) solve
    assert _count(forward, "linear_solve") == 1
    assert _count(backward, "linear_solve") == 2
    # the CG loops are inside the solves only (2 nested while loops per solve): nothing unrolled
    assert _count(backward, "while") == 2 * _count(forward, "while")
    # the multigrid hierarchy is built once and shared by the forward and adjoint solves
    assert _count(backward, "cholesky") == _count(forward, "cholesky") == 1


def test_vmap_over_coefficients_matches_a_loop():
    grid, a = thresholded(43, 12.0)
    batch = jnp.stack([a, a[:, ::-1], 2.0 * a])
    model = Darcy2D(grid, rtol=1e-12)
    u = eqx.filter_jit(jax.vmap(model))(batch)
    for b, ub in zip(batch, u):
        np.testing.assert_allclose(ub, _solve(model, b)[0], rtol=1e-9, atol=1e-14)


def test_bad_input_raises():
    grid = VertexGrid((9, 9))
    model = Darcy2D(grid)
    a = jnp.ones((1, 9, 9))
    with pytest.raises(ValueError, match="vmap"):
        model(jnp.ones((2, 1, 9, 9)))
    with pytest.raises(ValueError, match="expected"):
        model(jnp.ones((1, 9, 8)))
    for bad in (a.at[0, 3, 3].set(0.0), a.at[0, 3, 3].set(-1.0), a.at[0, 2, 5].set(jnp.nan)):
        with pytest.raises(Exception, match="positive and finite"):
            jax.block_until_ready(_solve(model, bad))
    with pytest.raises(ValueError, match="source"):
        Darcy2D(grid, source=jnp.ones((7, 7)))
    with pytest.raises(ValueError, match="boundary_value"):
        Darcy2D(grid, boundary_value=jnp.ones((9,)))
    with pytest.raises(ValueError, match="grid"):
        Darcy2D(VertexGrid((9, 9, 9)))
    with pytest.raises(ValueError, match="rtol"):
        Darcy2D(grid, rtol=0.0)
    with pytest.raises(ValueError, match="max_steps"):
        Darcy2D(grid, max_steps=0)


def test_fno_darcy_problem():
    problem = make_problem("fno/darcy", num_points=41, subsample=2, dtype=jnp.float64)
    assert problem.parameters["subsampled_points"] == 21
    a = problem.sample_input(jr.key(0))
    assert a.shape == (1, 41, 41)
    assert set(np.unique(np.asarray(a))) == {3.0, 12.0}
    u = eqx.filter_jit(problem.solve)(a)
    reference, _ = scipy_darcy(a[0], (1 / 40, 1 / 40))
    np.testing.assert_allclose(u[0], reference, rtol=1e-8, atol=1e-12)
    from pdejax.solvers.darcy import subsample_vertices

    assert subsample_vertices(u, 2).shape == (1, 21, 21)
    with pytest.raises(ValueError, match="subsample"):
        make_problem("fno/darcy", num_points=41, subsample=3)

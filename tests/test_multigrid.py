"""Multigrid and CG core: nested coarsening of any size, R = P^T, Galerkin stencils, an SPD
V-cycle, honest CG convergence reports."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax import VertexGrid
from pdejax.linalg import conjugate_gradient
from pdejax.linalg.multigrid import (
    FluxOperator,
    Multigrid,
    StencilOperator,
    _coarsen_axis,
    _prolong,
    _restrict,
)


def _operator(shape, seed=0, contrast=10.0):
    grid = VertexGrid(shape)
    a = jnp.exp(jnp.log(contrast) * jr.uniform(jr.key(seed), grid.shape))
    return FluxOperator(grid.face_coefficients(a), grid.spacing)


def _dense_of(fn, shape):
    size = int(np.prod(shape))
    return np.asarray(jax.jit(jax.vmap(lambda e: fn(e.reshape(shape)).ravel()))(jnp.eye(size)).T)


@pytest.mark.parametrize("n", [85, 141, 211, 421])
def test_any_vertex_count_coarsens_nested_and_nearly_uniform(n):
    positions = np.arange(n, dtype=float)
    sizes = [n]
    while len(positions) - 1 > 8:
        transfer, coarse = _coarsen_axis(positions)
        assert set(coarse) <= set(positions) and coarse[0] == 0 and coarse[-1] == n - 1
        steps = np.diff(coarse)
        assert steps.max() <= 2 * steps.min(), f"coarse mesh of {n} not nearly uniform: {steps}"
        positions = coarse
        sizes.append(len(coarse))
    assert len(sizes) <= int(np.log2(n)), sizes


@pytest.mark.parametrize("shape", [(12, 9), (11, 14)])
def test_restriction_is_the_transpose_of_prolongation(shape):
    level = []
    for n in shape:
        t, _ = _coarsen_axis(np.arange(n, dtype=float))
        level.append(t)
    level = tuple(level)
    fine = tuple(n - 2 for n in shape)
    coarse = tuple(t.n_coarse - 1 for t in level)
    P = _dense_of(lambda v: _prolong(level, v), coarse)
    R = _dense_of(lambda v: _restrict(level, v), fine)
    np.testing.assert_allclose(R, P.T, atol=1e-15)
    # linear interpolation reproduces linear functions away from the boundary rows
    assert np.allclose(P.sum(axis=1)[(P > 0).sum(axis=1) == 4], 1.0)


def test_galerkin_stencil_equals_dense_triple_product_and_vcycle_is_spd():
    op = _operator((12, 11), contrast=100.0)
    mg = Multigrid(coarsest_intervals=3).setup(op)
    assert len(mg.operators) >= 3, mg.shapes
    A = _dense_of(op, op.shape)
    np.testing.assert_allclose(A, A.T, rtol=1e-13)
    np.testing.assert_allclose(_dense_of(op.to_stencil(), op.shape), A, rtol=1e-13)
    t = mg.transfers[0]
    P = _dense_of(lambda v: _prolong(t, v), mg.operators[1].shape)
    Ac = _dense_of(mg.operators[1], mg.operators[1].shape)
    np.testing.assert_allclose(Ac, P.T @ A @ P, atol=1e-12 * np.abs(Ac).max())
    M = _dense_of(mg, op.shape)
    np.testing.assert_allclose(M, M.T, atol=1e-12 * np.abs(M).max())
    L = np.linalg.cholesky(A)
    eig = np.linalg.eigvalsh(L.T @ M @ L)  # the spectrum of MA, which is similar to it
    # 0 < MA <= 1: an SPD preconditioner whose error propagation I - MA is A-non-negative
    assert eig.min() > 0.1 and eig.max() < 1.0 + 1e-10, (eig.min(), eig.max())


def _mgcg(op, b, rtol, max_steps, floor=False):
    # tolerances as arrays: one compilation per dtype and floor setting
    return _mgcg_jit(op, b, jnp.asarray(rtol), jnp.asarray(max_steps), floor)


@eqx.filter_jit
def _mgcg_jit(op, b, rtol, max_steps, floor):
    mg = Multigrid().setup(op)
    abs_op = None
    if floor:
        st = op.to_stencil()
        abs_op = StencilOperator(st.offsets, tuple(jnp.abs(w) for w in st.weights))
    return conjugate_gradient(
        op, b, precondition=mg, rtol=rtol, max_steps=max_steps, abs_matvec=abs_op
    )


def test_conjugate_gradient_reports_honestly():
    op = _operator((20, 17))
    b = jr.normal(jr.key(1), op.shape)
    x, info = _mgcg(op, b, 1e-12, 50)
    assert bool(info.converged) and float(info.relative_residual) <= 1e-12
    true = float(jnp.linalg.norm(b - op(x)) / jnp.linalg.norm(b))
    np.testing.assert_allclose(true, float(info.relative_residual), rtol=1e-3)
    _, short = _mgcg(op, b, 1e-12, 2)
    assert not bool(short.converged) and int(short.num_steps) == 2
    # without a preconditioner the same tolerance takes many more steps
    _, plain = eqx.filter_jit(conjugate_gradient)(op, b, rtol=1e-12, max_steps=500)
    assert int(plain.num_steps) > 3 * int(info.num_steps), (plain.num_steps, info.num_steps)


def test_float32_stops_at_its_rounding_floor_not_at_a_false_claim():
    op64 = _operator((66, 66), contrast=4.0)
    b = jnp.ones(op64.shape)
    x64, _ = _mgcg(op64, b, 1e-13, 100)
    op = jax.tree.map(lambda v: v.astype(jnp.float32), op64)
    b32 = b.astype(jnp.float32)
    _, strict = _mgcg(op, b32, 1e-9, 60)
    assert not bool(strict.converged), "float32 cannot show a 1e-9 relative residual"
    x, info = _mgcg(op, b32, 1e-6, 60, floor=True)
    err = float(jnp.linalg.norm(x - x64) / jnp.linalg.norm(x64))
    assert bool(info.converged) and err < 1e-6, (info, err)

"""Solvers and surrogates with spatially sharded states on 8 simulated CPU devices: the same
result as on one device (1e-12 relative, float64), the input's sharding kept, a 1/8 share of
the state per device, and no all-gather of a field-sized array in the compiled program."""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from sharded_helpers import (
    RTOL,
    assert_no_field_gather,
    assert_spec,
    hlo,
    local_bytes,
    make_mesh,
    put,
    rel,
)

from pdejax import PeriodicGrid, VertexGrid, rollout
from pdejax.core import runtime_message
from pdejax.grids.hlo import (
    all_gathers,
    collective_counts,
    collectives,
    field_sized_all_gathers,
    while_bodies,
)
from pdejax.solvers import Burgers1D, Darcy2D, NavierStokes2D
from pdejax.surrogates import FNO
from pdejax.timestepping import ETDRK4, CrankNicolsonRK4

REMAT = "Involuntary full rematerialization"
SLAB = (None, "x", None)


def _vorticity(n):
    grid = PeriodicGrid((n, n), 2 * jnp.pi)
    x, y = grid.mesh()
    w0 = (2 * jnp.sin(x) * jnp.sin(y) + 0.3 * jnp.cos(3 * x + y) + 0.2 * jnp.sin(2 * y))[None]
    return grid, np.asarray(w0)


# ------------------------------------------------------------------ Navier-Stokes 2-d, slabs
@pytest.mark.parametrize("scheme", [CrankNicolsonRK4(), ETDRK4()], ids=["cnrk4", "etdrk4"])
def test_navier_stokes_rollout_sharded_equals_one_device(scheme, capfd):
    grid, w0 = _vorticity(64)
    model = NavierStokes2D(grid, 0.01, 0.02, substeps=2, scheme=scheme)
    mesh = make_mesh((8,), ("x",))
    u = put(w0, mesh, SLAB)

    def run(u):
        return rollout(model, u, 4)

    capfd.readouterr()
    text = hlo(run, u)
    assert REMAT not in capfd.readouterr().err  # the run-time checks gather nothing
    out = jax.jit(run)(u)
    expected = jax.jit(run)(jnp.asarray(w0))  # one device
    assert rel(out, expected) < RTOL
    assert_spec(out, (None, *SLAB))  # (time, C, x, y): still sharded along x
    assert local_bytes(out) * 8 == out.nbytes
    assert_no_field_gather(text, w0.nbytes)
    counts = collective_counts(text)
    assert counts.get("all-to-all", 0) > 0 and "all-gather" not in counts, counts
    print(f"{type(scheme).__name__}: rel {rel(out, expected):.1e}, collectives {counts}")


def test_navier_stokes_check_fires_on_every_device():
    """A CFL violation raises cleanly when sharded (with eqx.error_if on the field, the other
    devices waited in a collective for device 0 and the process aborted)."""
    grid, w0 = _vorticity(32)
    model = NavierStokes2D(grid, 0.01, 5.0)  # far too large a step
    u = put(w0, make_mesh((8,), ("x",)), SLAB)
    with pytest.raises(Exception) as err:
        eqx.filter_jit(model)(u).block_until_ready()
    assert "CFL" in runtime_message(err.value)


def test_navier_stokes_batch_and_space_compose():
    grid, w0 = _vorticity(32)
    model = NavierStokes2D(grid, 0.01, 0.02)
    batch = np.stack([w0, 0.5 * w0])
    mesh = make_mesh((2, 4), ("batch", "x"))
    spec = ("batch", None, "x", None)
    u = put(batch, mesh, spec)
    out = jax.jit(jax.vmap(model))(u)
    expected = jnp.stack([model(jnp.asarray(b)) for b in batch])
    assert rel(out, expected) < RTOL
    assert_spec(out, spec)
    assert local_bytes(out) * 8 == out.nbytes
    assert_no_field_gather(hlo(jax.vmap(model), u), w0.nbytes)


# ------------------------------------------------------------------ Burgers 1-d: batch only
def test_burgers_batch_sharded_equals_loop():
    """A 1-d field cannot be sharded along its one axis without a gather (the real FFT needs it
    whole), so Burgers is sharded over its batch."""
    grid = PeriodicGrid(64)
    (x,) = grid.coordinates()
    model = Burgers1D(grid, 0.05, 0.01)
    batch = np.stack([np.sin(2 * np.pi * (k + 1) * x)[None] for k in range(8)])
    mesh = make_mesh((8,), ("batch",))
    u = put(batch, mesh, ("batch",))

    def run(u):
        return jax.vmap(lambda v: rollout(model, v, 5)[-1])(u)

    out = jax.jit(run)(u)
    expected = jnp.stack([rollout(model, jnp.asarray(b), 5)[-1] for b in batch])
    assert rel(out, expected) < RTOL
    assert_spec(out, ("batch",))
    print(f"Burgers batch-sharded: rel {rel(out, expected):.1e}")
    assert not all_gathers(hlo(run, u))


@pytest.mark.slow
def test_burgers_spatially_sharded_is_gathered_but_correct():
    grid = PeriodicGrid(64)
    (x,) = grid.coordinates()
    model = Burgers1D(grid, 0.05, 0.01)
    u0 = np.sin(2 * np.pi * x)[None]
    u = put(u0, make_mesh((8,), ("x",)), (None, "x"))
    assert rel(jax.jit(lambda u: model(u))(u), model(jnp.asarray(u0))) < RTOL


# ------------------------------------------------------------------ FNO 2-d (slab), 3-d (pencil)
FNO_CASES = {
    "fno2d-slab": ((1, 64, 64), (8, 8), (8,), ("x",), SLAB),
    "fno3d-pencil": ((1, 16, 16, 16), (4, 4, 4), (2, 4), ("x", "y"), (None, "x", "y", None)),
}


@pytest.mark.parametrize("case", list(FNO_CASES))
def test_fno_sharded_equals_one_device(case):
    shape, modes, mesh_shape, names, spec = FNO_CASES[case]
    fno = FNO(1, 1, modes, 8, key=jr.key(0))
    a0 = np.asarray(jr.normal(jr.key(1), shape))
    a = put(a0, make_mesh(mesh_shape, names), spec)

    def f(a):
        return fno(a)

    out = jax.jit(f)(a)
    assert rel(out, jax.jit(f)(jnp.asarray(a0))) < RTOL
    assert_spec(out, spec)
    assert local_bytes(out) * 8 == out.nbytes
    text = hlo(f, a)
    assert not all_gathers(text), all_gathers(text)
    # one all-reduce of the kept-mode block per Fourier layer
    assert collective_counts(text) == {"all-reduce": fno.num_layers}, collective_counts(text)
    print(
        f"{case}: rel {rel(out, jax.jit(f)(jnp.asarray(a0))):.1e}, collectives {collective_counts(text)}"
    )


@pytest.mark.slow
def test_fno_gradient_sharded():
    shape, modes, mesh_shape, names, spec = FNO_CASES["fno2d-slab"]
    fno = FNO(1, 1, modes, 8, key=jr.key(0))
    a0 = np.asarray(jr.normal(jr.key(1), shape))
    a = put(a0, make_mesh(mesh_shape, names), spec)
    loss = eqx.filter_grad(lambda m, a: jnp.sum(m(a) ** 2))
    g = eqx.filter_jit(loss)(fno, a)
    g_ref = eqx.filter_jit(loss)(fno, jnp.asarray(a0))
    for x, y in zip(jax.tree.leaves(g), jax.tree.leaves(g_ref)):
        assert rel(x, y) < 1e-10


def test_fno_batch_and_space_compose():
    fno = FNO(1, 1, (4, 4), 8, key=jr.key(0))
    a0 = np.asarray(jr.normal(jr.key(1), (4, 1, 32, 32)))
    spec = ("batch", None, "x", None)
    a = put(a0, make_mesh((2, 4), ("batch", "x")), spec)
    out = jax.jit(jax.vmap(fno))(a)
    assert rel(out, jax.vmap(fno)(jnp.asarray(a0))) < RTOL
    assert_spec(out, spec)
    assert not all_gathers(hlo(jax.vmap(fno), a))


# ------------------------------------------------------------------ Darcy 2-d, padded unknowns
def _darcy_input(n):
    grid = VertexGrid((n, n))
    a = np.where(np.random.default_rng(0).standard_normal((1, n, n)) > 0, 12.0, 3.0)
    return grid, a


@pytest.mark.parametrize(
    "mesh_shape,names,partition",
    [
        ((8,), ("x",), ("x", None)),
        pytest.param((2, 4), ("x", "y"), ("x", "y"), marks=pytest.mark.slow),
    ],
    ids=["slab", "pencil"],
)
def test_darcy_partitioned_equals_unpartitioned(mesh_shape, names, partition):
    """65 x 65 vertices: 63 interior rows, padded to 64 (8 devices); the multigrid levels of
    31 and fewer rows are replicated."""
    grid, a0 = _darcy_input(65)
    mesh = make_mesh(mesh_shape, names)
    a = put(a0, mesh, ())
    model = Darcy2D(grid, partition=partition)

    def solve(a):
        return model.solve(a)

    (u, info), (u_ref, info_ref) = jax.jit(solve)(a), eqx.filter_jit(Darcy2D(grid).solve)(a0)
    assert rel(u, u_ref) < RTOL
    assert int(info.num_steps) == int(info_ref.num_steps)
    print(f"Darcy {partition}: rel {rel(u, u_ref):.1e} in {int(info.num_steps)} CG steps")
    text = hlo(solve, a)
    field = 8 * 63 * 63
    # one CG iteration (the while body): one-row halos, scalar sums, and one gather of the first
    # replicated multigrid level (31 x 31 rows padded to 32 x 31 / 32 x 32): no field
    body = max(while_bodies(text), key=lambda t: sum(collective_counts(t).values()))
    loop_gathers = [shape for arrays, _ in all_gathers(body) for _, shape in arrays]
    assert loop_gathers and all(8 * np.prod(s) <= 8 * 32 * 32 for s in loop_gathers), loop_gathers
    halos = [c for c in collectives(body) if c[0] == "collective-permute"]
    assert halos and all(8 * np.prod(c[1][0][1]) <= 8 * 64 for c in halos), halos  # one row
    reductions = [c for c in collectives(text) if c[0] == "all-reduce"]
    assert all(nbytes <= 32 for _, _, nbytes in reductions), reductions  # scalars only
    # the one field-sized gather is the solution, once, after the loop
    assert len(field_sized_all_gathers(text, field // 2)) == 1, all_gathers(text)
    print(
        f"Darcy {partition}: gathers in the loop {loop_gathers}, program {collective_counts(text)}"
    )


@pytest.mark.slow
def test_darcy_partitioned_gradient():
    grid, a0 = _darcy_input(65)
    a = put(a0, make_mesh((8,), ("x",)), ())

    def loss(model, a):
        return jnp.sum(model(a) ** 2)

    g = jax.jit(jax.grad(lambda a: loss(Darcy2D(grid, partition=("x", None)), a)))(a)
    g_ref = jax.jit(jax.grad(lambda a: loss(Darcy2D(grid), a)))(jnp.asarray(a0))
    assert rel(g, g_ref) < 1e-10


def test_darcy_partition_needs_a_mesh():
    grid, a0 = _darcy_input(17)
    with pytest.raises(ValueError, match="no such mesh"):
        jax.eval_shape(Darcy2D(grid, partition=("x", None)), jnp.asarray(a0))

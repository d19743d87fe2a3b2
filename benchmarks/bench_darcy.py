"""Darcy2D (multigrid-preconditioned CG) against scipy's sparse direct solve.

The FNO paper's Darcy data (a = 12/3 thresholded GRF, f = 1) at s = 85, 141, 211, 421: one
solve and a batch of 32 solves (``jax.vmap``), float32 and float64, against
``scipy.sparse.linalg.spsolve`` (SuperLU, the FNO generator's method) on the same matrix,
assembled here independently. scipy solves a batch one sample at a time, so its batch time is
32 times its median single solve (measured on the batch's samples). Accuracy: relative L2
difference to scipy's float64 solution.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from benchmarks.harness import Row, time_call, time_jax

TITLE = "Darcy2D multigrid-PCG vs scipy spsolve"


def _assemble(a, h):
    import scipy.sparse as sp

    n = a.shape[0]
    kx = 2 * a[:-1, :] * a[1:, :] / (a[:-1, :] + a[1:, :])
    ky = 2 * a[:, :-1] * a[:, 1:] / (a[:, :-1] + a[:, 1:])
    m = n - 2
    idx = np.arange(m * m).reshape(m, m)
    w = [kx[:-1, 1:-1], kx[1:, 1:-1], ky[1:-1, :-1], ky[1:-1, 1:]]  # W, E, S, N faces
    diag = sum(w) / h**2
    rows, cols, vals = [idx.ravel()], [idx.ravel()], [diag.ravel()]
    for (di, dj), k in zip(((-1, 0), (1, 0), (0, -1), (0, 1)), w):
        i0, i1 = max(0, -di), m - max(0, di)
        j0, j1 = max(0, -dj), m - max(0, dj)
        rows.append(idx[i0:i1, j0:j1].ravel())
        cols.append(idx[i0 + di : i1 + di, j0 + dj : j1 + dj].ravel())
        vals.append(-k[i0:i1, j0:j1].ravel() / h**2)
    return sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))))


def run(quick: bool) -> list["Row"]:
    from pdejax import VertexGrid
    from pdejax.grids import fno_darcy_threshold_field
    from pdejax.solvers import Darcy2D

    try:
        import scipy.sparse.linalg as spla
    except ImportError:  # pragma: no cover
        spla = None
    jax.config.update("jax_enable_x64", True)
    sizes = (85, 141) if quick else (85, 141, 211, 421)
    batch = 4 if quick else 32
    rows = []
    for s in sizes:
        grid = VertexGrid((s, s))
        field = fno_darcy_threshold_field(grid)
        keys = jr.split(jr.key(0), batch)
        z = jax.vmap(lambda k, f=field: f.sample(k, jnp.float64))(keys)
        a64 = jnp.where(z > 0, 12.0, 3.0)[:, None]
        h = grid.spacing[0]
        ref, peer_single = None, None
        if spla is not None:
            mats = [_assemble(np.asarray(a64[i, 0]), h) for i in range(min(batch, 3))]
            rhs = np.ones((s - 2) ** 2)
            ref = [spla.spsolve(m, rhs).reshape(s - 2, s - 2) for m in mats]
            peer_single = time_call(
                lambda m=mats[0], b=rhs: spla.spsolve(m, b), repeats=3 if s > 211 else 5
            )
            per = np.median(
                [time_call(lambda m=m, b=rhs: spla.spsolve(m, b), repeats=1).median_s for m in mats]
            )
        for dtype, name in ((jnp.float32, "float32"), (jnp.float64, "float64")):
            model = Darcy2D(grid)
            a = a64.astype(dtype)
            single = time_jax(lambda x, m=model: m(x), a[0], repeats=3 if s > 211 else 5)
            many = time_jax(jax.vmap(model), a, repeats=1 if s > 211 else 3)
            u = eqx.filter_jit(eqx.filter_vmap(model))(a[: len(ref) if ref else 1])
            _, info = eqx.filter_jit(eqx.filter_vmap(model.solve))(a[:1])
            acc = ""
            if ref is not None:
                errs = [
                    np.linalg.norm(np.asarray(u[i, 0, 1:-1, 1:-1], np.float64) - r)
                    / np.linalg.norm(r)
                    for i, r in enumerate(ref)
                ]
                acc = f"rel L2 vs scipy {max(errs):.1e}; {int(info.num_steps[0])} CG steps"
            rows.append(
                Row(
                    "darcy/solve",
                    f"s={s} {name} single",
                    "s per solve",
                    single.median_s,
                    "scipy spsolve" if peer_single else None,
                    peer_single.median_s if peer_single else None,
                    False,
                    acc,
                    single.compile_s,
                )
            )
            rows.append(
                Row(
                    "darcy/solve",
                    f"s={s} {name} batch {batch} (vmap)",
                    "s per solve",
                    many.median_s / batch,
                    "scipy spsolve x1 loop" if ref else None,
                    float(per) if ref else None,
                    False,
                    acc,
                    many.compile_s,
                    note=f"batch wall {many.median_s:.2f} s",
                )
            )
    # the cost of a gradient: forward + one adjoint solve
    s = 141 if quick else 211
    grid = VertexGrid((s, s))
    z = fno_darcy_threshold_field(grid).sample(jr.key(1), jnp.float64)
    a = jnp.where(z > 0, 12.0, 3.0)[None]
    model = Darcy2D(grid)
    fwd = time_jax(lambda x: jnp.sum(model(x) ** 2), a, repeats=5)
    grad = time_jax(jax.value_and_grad(lambda x: jnp.sum(model(x) ** 2)), a, repeats=5)
    rows.append(
        Row(
            "darcy/grad",
            f"s={s} float64",
            "value_and_grad / forward time",
            grad.median_s / fwd.median_s,
            None,
            None,
            False,
            "",
            grad.compile_s,
            note=f"forward {fwd.median_s * 1e3:.1f} ms, value_and_grad {grad.median_s * 1e3:.1f} ms",
        )
    )
    return rows

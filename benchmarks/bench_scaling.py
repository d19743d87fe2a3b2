"""Scaling curves: time and memory against resolution N and batch B, plotted to PNG.

Three workloads, each timed as one jitted call (median of repeats, compile time apart):

- ``ns_step``: one :class:`pdejax.solvers.NavierStokes2D` step (CN-RK4, dt = 1e-3, nu = 1e-3,
  FNO-paper initial vorticity), float32, over ``jax.vmap`` batches;
- ``darcy_solve``: one :class:`pdejax.solvers.Darcy2D` solve (multigrid-preconditioned CG,
  FNO-paper 12/3 threshold coefficient), float32;
- ``fno_train_step``: one Adam step of a 2-d FNO (12 modes, width 32, 4 layers) on a relative-L2
  loss, float32.

Memory is XLA's own account of the compiled executable (``compiled.memory_analysis()``):
arguments + outputs + temporaries, the peak live bytes of its buffer assignment. It is the
same figure on CPU and GPU and needs no profiler. The plots go to ``benchmarks/scaling/``,
one PNG per workload (time and memory against N for each batch, log-log, with an N^2 log N
guide through the first point); the rows go to ``RESULTS.md`` like every case.
"""

import math
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import optax

from benchmarks.harness import Row, time_jax

TITLE = "Scaling: time and memory against resolution and batch (pdejax alone)"
OUT = Path(__file__).with_name("scaling")


def _memory_bytes(fn, *args) -> int | None:
    """Peak bytes of XLA's buffer assignment for ``jax.jit(fn)(*args)`` (None if unavailable)."""
    try:
        stats = jax.jit(fn).lower(*args).compile().memory_analysis()
    except Exception:  # some backends do not report it
        return None
    if stats is None:
        return None
    return int(stats.argument_size_in_bytes + stats.output_size_in_bytes + stats.temp_size_in_bytes)


def _ns(n, batch):
    from pdejax import PeriodicGrid
    from pdejax.grids import fno_navier_stokes_initial_vorticity
    from pdejax.solvers import NavierStokes2D

    grid = PeriodicGrid((n, n), 1.0)
    grf = fno_navier_stokes_initial_vorticity(grid)
    w0 = jax.vmap(lambda k: grf.sample(k, jnp.float32))(jr.split(jr.key(0), batch))[:, None]
    model = NavierStokes2D(grid, jnp.float32(1e-3), jnp.float32(1e-3))
    return jax.vmap(model), (w0,)


def _darcy(n, batch):
    from pdejax import VertexGrid
    from pdejax.grids import fno_darcy_threshold_field
    from pdejax.solvers import Darcy2D

    grid = VertexGrid((n, n))
    field = fno_darcy_threshold_field(grid)
    z = jax.vmap(lambda k: field.sample(k, jnp.float32))(jr.split(jr.key(0), batch))
    a = jnp.where(z > 0, 12.0, 3.0).astype(jnp.float32)[:, None]
    return jax.vmap(Darcy2D(grid)), (a,)


def _fno_train(n, batch):
    from pdejax.surrogates import FNO
    from pdejax.train import relative_l2_loss

    model = FNO(1, 1, (12, 12), 32, num_layers=4, key=jr.key(0))
    params, static = eqx.partition(model, eqx.is_array)
    optimizer = optax.adam(1e-3)
    opt_state = optimizer.init(params)
    x = jr.normal(jr.key(1), (batch, 1, n, n), jnp.float32)
    y = jnp.roll(x, 1, axis=-1)

    def step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(lambda p: relative_l2_loss(eqx.combine(p, static), x, y))(
            params
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return step, (params, opt_state, x, y)


WORKLOADS = {
    # name: (builder, resolutions (full), resolutions (quick), batches (full), batches (quick))
    "ns_step": (_ns, (64, 128, 256, 512), (32, 64), (1, 8, 32), (1, 4)),
    "darcy_solve": (_darcy, (65, 129, 257, 421), (33, 65), (1, 8), (1, 2)),
    "fno_train_step": (_fno_train, (32, 64, 128, 256), (32, 64), (1, 8), (1, 4)),
}


def _plot(name, results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(10, 4))
    for batch in sorted({b for _, b in results}):
        ns = sorted(n for n, b in results if b == batch)
        ax_t.loglog(ns, [results[n, batch][0] * 1e3 for n in ns], "o-", label=f"B = {batch}")
        mem = [results[n, batch][1] for n in ns]
        if all(m is not None for m in mem):
            ax_m.loglog(ns, [m / 2**20 for m in mem], "o-", label=f"B = {batch}")
    # guide: N^2 log N through the first point of the smallest batch
    b0 = min(b for _, b in results)
    ns = sorted(n for n, b in results if b == b0)
    t0 = results[ns[0], b0][0] * 1e3
    guide = [t0 * (n / ns[0]) ** 2 * math.log(n) / math.log(ns[0]) for n in ns]
    ax_t.loglog(ns, guide, "k--", lw=0.8, label="N^2 log N")
    ax_t.set(xlabel="N (points per axis)", ylabel="time per call (ms)", title=f"{name}: time")
    ax_m.set(xlabel="N (points per axis)", ylabel="XLA peak buffers (MiB)", title=f"{name}: memory")
    for ax in (ax_t, ax_m):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(f"{name} on {jax.devices()[0].platform.upper()} ({jax.devices()[0].device_kind})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(quick: bool) -> list[Row]:
    OUT.mkdir(exist_ok=True)
    rows = []
    for name, (build, full_n, quick_n, full_b, quick_b) in WORKLOADS.items():
        results = {}
        for batch in quick_b if quick else full_b:
            for n in quick_n if quick else full_n:
                fn, args = build(n, batch)
                timing = time_jax(fn, *args, repeats=3 if quick else 5)
                mem = _memory_bytes(fn, *args)
                results[n, batch] = (timing.median_s, mem)
                mem_note = "-" if mem is None else f"{mem / 2**20:.1f} MiB"
                rows.append(
                    Row(
                        case=f"scaling/{name}",
                        config=f"N={n}, B={batch}, float32",
                        metric="s per call",
                        ours=timing.median_s,
                        higher_is_better=False,
                        compile_s=timing.compile_s,
                        note=f"XLA peak buffers {mem_note}; {batch / timing.median_s:.3g} samples/s",
                    )
                )
                print(f"  {name} N={n} B={batch}: {timing} {mem_note}", flush=True)
        suffix = "_quick" if quick else ""
        _plot(name, results, OUT / f"{name}{suffix}.png")
    return rows

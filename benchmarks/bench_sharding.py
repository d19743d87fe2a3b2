"""Communication of spatially sharded steps, read from the compiled HLO, next to the transpose model.

On 8 simulated CPU devices (a subprocess: the device count is fixed per process), float32:

- ``ns2d-slab``: one :class:`pdejax.solvers.NavierStokes2D` step (CN-RK4, its CFL and finiteness
  checks on), vorticity ``(1, N, N)`` sharded along x over 8 devices;
- ``ns3d-pencil``: one :class:`pdejax.solvers.NavierStokes3D` step (CN-RK4), velocity
  ``(3, N, N, N)`` on a 2 x 4 mesh, x and y sharded (``max_cfl=None``: its CFL check still
  uses ``eqx.error_if`` on the field, which gathers; the finiteness check is sharding-safe);
- ``fno2d-slab``: a forward pass of the FNO (modes 12 x 12, width 32, 4 layers) on ``(1, N, N)``
  sharded along x;
- ``darcy-slab``: one CG iteration (matvec + V-cycle, read from the while-loop body) of
  :class:`pdejax.solvers.Darcy2D` with ``partition=("x", None)``.

Bytes are per device and per step (or iteration), the size of each collective's result on one
device (:mod:`pdejax.grids.hlo`): an all-to-all over g devices sends (g-1)/g of it. The model
column counts the transforms of the step and charges each sharded axis of each transform two
transposes of the local spectrum (the free axis padded to the group size); for the 2-d solver's
packed transforms, the reflection k -> -k of the half spectrum is one block and one row
(collective-permute). Nothing here is timed.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

from benchmarks.harness import Row

TITLE = "Sharding: communication per step from the compiled HLO (8 simulated CPU devices)"
ROOT = Path(__file__).resolve().parents[1]


def run(quick: bool) -> list[Row]:
    cmd = [sys.executable, "-m", "benchmarks.bench_sharding", "--worker"] + (["--quick"] * quick)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ))
    if proc.returncode:
        raise RuntimeError(f"bench_sharding worker failed:\n{proc.stderr[-4000:]}")
    return [Row(**r) for r in json.loads(proc.stdout.strip().splitlines()[-1])]


# ------------------------------------------------------------------ the worker (8 devices)
def _pad(n, g):
    return -(-n // g) * g


def _rows(case, config, measured, model, note):
    """One row per collective kind present in the measurement or the model."""
    rows = []
    for op in ("all-to-all", "collective-permute", "all-reduce", "all-gather"):
        ours, peer = measured.get(op, 0), model.get(op)
        if not ours and not peer:
            continue
        rows.append(dict(case=case, config=config, metric=f"{op} bytes/device", ours=ours,
                         peer_name="model" if peer is not None else None, peer=peer,
                         higher_is_better=False, note=note))  # fmt: skip
    return rows


def _ns2d(n):
    import jax.numpy as jnp
    import numpy as np

    from pdejax import PeriodicGrid
    from pdejax.solvers import NavierStokes2D

    grid = PeriodicGrid((n, n), 2 * np.pi)
    x, y = grid.mesh()
    w0 = (2 * jnp.sin(x) * jnp.sin(y))[None].astype(jnp.float32)
    model = NavierStokes2D(grid, jnp.float32(1e-3), jnp.float32(1e-3))
    half, rows, c = n // 2 + 1, n // 8, 8  # complex64
    real = 1 + 5 + 1 + 1  # fft(u), 5 stages x fft(u . grad w), ifft, the CFL check's fft
    full = 5 * 2 + 1  # 5 stages x (u + iv, w_x + i w_y), the CFL check's u + iv
    model_bytes = {
        "all-to-all": 2 * rows * c * (real * _pad(half, 8) + full * n),
        "collective-permute": 6 * (rows + 1) * half * c,  # 6 Hermitian extensions
        "all-reduce": 4 + 1,  # CFL max (f32) and the finiteness flag (pred)
    }
    return (lambda u: model(u)), w0, (None, "x", None), (8,), ("x",), model_bytes


def _ns3d(n):
    import jax.numpy as jnp
    import numpy as np

    from pdejax import PeriodicGrid
    from pdejax.solvers import NavierStokes3D, abc_velocity

    grid = PeriodicGrid(n, 2 * np.pi, ndim=3)
    u0 = abc_velocity(grid, 1.0, 0.7, 0.4).astype(jnp.float32)
    model = NavierStokes3D(grid, jnp.float32(1e-2), jnp.float32(1e-3), max_cfl=None)
    half, c = n // 2 + 1, 8
    local = (n // 2) * (n // 4)
    channels = 3 + 5 * (6 + 3) + 3  # fft(u), 5 stages x (ifft of u and curl u, fft of u x w), ifft
    per_channel = 2 * local * c * (_pad(half, 2) + _pad(half, 4))  # x over 2, y over 4
    model_bytes = {"all-to-all": channels * per_channel, "all-reduce": 2}  # a flag, per mesh axis
    return (lambda u: model(u)), u0, (None, "x", "y", None), (2, 4), ("x", "y"), model_bytes


def _fno2d(n):
    import jax.numpy as jnp
    import jax.random as jr

    from pdejax.surrogates import FNO

    fno = FNO(1, 1, (12, 12), 32, key=jr.key(0))
    a0 = jr.normal(jr.key(1), (1, n, n), jnp.float32)
    model_bytes = {"all-reduce": 4 * 32 * 24 * 12 * 8}  # 4 layers x the kept block, complex64
    return (lambda a: fno(a)), a0, (None, "x", None), (8,), ("x",), model_bytes


def _darcy(n):
    import jax.numpy as jnp
    import numpy as np

    from pdejax import VertexGrid
    from pdejax.solvers import Darcy2D

    grid = VertexGrid((n, n))
    a0 = np.where(np.random.default_rng(0).standard_normal((1, n, n)) > 0, 12.0, 3.0)
    model = Darcy2D(grid, partition=("x", None))
    return (lambda a: model(a)), jnp.asarray(a0, jnp.float32), (), (8,), ("x",), None


def _measure(name, builder, n):
    import jax
    from jax.sharding import AxisType, NamedSharding
    from jax.sharding import PartitionSpec as P

    from pdejax.grids.hlo import collective_bytes, collective_counts, while_bodies

    fn, u0, spec, mesh_shape, names, model = builder(n)
    mesh = jax.make_mesh(mesh_shape, names, axis_types=(AxisType.Auto,) * len(names))
    u = jax.device_put(u0, NamedSharding(mesh, P(*spec)))
    text = jax.jit(fn).lower(u).compile().as_text()
    layout = "x".join(map(str, mesh_shape)) + " mesh, " + f"P{tuple(spec)}".replace("'", "")
    config = f"{tuple(u0.shape)} f32, {layout}"
    if model is None:  # Darcy: one CG iteration, the while-loop body
        config = f"{tuple(u0.shape)} f32 (replicated), 8 mesh, interior unknowns P(x, None) padded"
        body = max(while_bodies(text), key=lambda t: sum(collective_counts(t).values()))
        counts = collective_counts(body)
        note = f"per CG iteration; collectives {counts}; padded unknowns, coarse levels gathered"
        return _rows(name, config, collective_bytes(body), {}, note)
    counts = collective_counts(text)
    field = math.prod(u0.shape) * u0.dtype.itemsize
    note = f"per step; {counts}; field {field} B, {field // 8} B/device"
    return _rows(name, config, collective_bytes(text), model, note)


def _worker(quick: bool):
    import jax

    jax.config.update("jax_num_cpu_devices", 8)
    cases = [("ns2d-slab", _ns2d, 64 if quick else 256), ("ns3d-pencil", _ns3d, 16 if quick else 64),
             ("fno2d-slab", _fno2d, 64 if quick else 256), ("darcy-slab", _darcy, 65 if quick else 421)]  # fmt: skip
    rows = []
    for name, builder, n in cases:
        rows += _measure(name, builder, n)
    print(json.dumps(rows))


if __name__ == "__main__" and "--worker" in sys.argv:
    _worker("--quick" in sys.argv)

"""2-d Navier-Stokes (vorticity) throughput against jax-cfd and exponax, same configuration.

Configuration (all methods): periodic unit square, nu = 1e-3, no forcing (the peers' steppers
share no forcing), the FNO-paper initial vorticity, float32, dt = 0.02 per step, 10 steps per
jitted call, pdejax's and the peer's calls interleaved so that drift in the machine's speed
falls on both alike (each method's own way of repeating: in Fourier space for pdejax's ``substeps`` and
jax-cfd's loop, an FFT pair per step for exponax's ``RepeatedStepper``), a batch by
``jax.vmap``. Metric: sample-steps per second (batch x steps / wall time, median of repeats);
the note gives sample-RHS per second (times the scheme's right-hand-side evaluations per
step), the per-evaluation figure. Accuracy: relative L2 error after 50 steps (t = 1) against a
float64 pdejax ETDRK4 reference at dt/16 on the same grid, next to the speed. pdejax's
stepper is ``prepare()``-d once, as :func:`pdejax.rollout` does, so its ETDRK coefficients are
computed once like the peers' (which compute them at construction); its CFL check (three extra
FFTs per call) stays on.

Pairs compared: the same scheme in each (CN-RK4 with jax-cfd's ``crank_nicolson_rk4``; ETDRK4
and ETDRK2 with exponax's ``NavierStokesVorticity(order=4 / 2)``, exponax's default being 2).
exponax's vorticity has the opposite sign convention (its velocity is ``-curl psi``); it is fed
``-w0`` and its output negated, which reproduces pdejax to 1e-6.
"""

import functools

import jax
import jax.numpy as jnp
import jax.random as jr

from pdejax import PeriodicGrid
from pdejax.grids import fno_navier_stokes_initial_vorticity
from pdejax.solvers import CrankNicolsonRK4, NavierStokes2D
from pdejax.timestepping import ETDRK2, ETDRK4

from .harness import Row, time_jax, time_jax_pair

TITLE = "Navier-Stokes 2D (vorticity): pdejax vs jax-cfd and exponax"

NU, DT, INNER, ACC_STEPS = 1e-3, 0.02, 10, 50


def _initial(n, batch):
    grid = PeriodicGrid((n, n), 1.0)
    grf = fno_navier_stokes_initial_vorticity(grid)
    keys = jr.split(jr.key(0), batch)
    return jax.vmap(lambda k: grf.sample(k, jnp.float32))(keys)[:, None]


def _reference(w0, n):
    with jax.enable_x64(True):
        grid = PeriodicGrid((n, n), 1.0)
        fine = NavierStokes2D(grid, NU, DT * ACC_STEPS, substeps=16 * ACC_STEPS, scheme=ETDRK4())
        return jax.jit(jax.vmap(lambda w: fine(w)))(jnp.asarray(w0, jnp.float64))


def _rel(a, ref):
    with jax.enable_x64(True):
        a, ref = jnp.asarray(a, jnp.float64), jnp.asarray(ref, jnp.float64)
        return float(jnp.mean(jnp.linalg.norm((a - ref).reshape(len(a), -1), axis=1) /
                              jnp.linalg.norm(ref.reshape(len(a), -1), axis=1)))  # fmt: skip


# Each method: (advance k steps of a batch ``(B, 1, n, n)``, RHS evaluations per step)
def _pdejax(n, scheme, k):
    grid = PeriodicGrid((n, n), 1.0)
    model = NavierStokes2D(grid, NU, DT * k, substeps=k, scheme=scheme)
    # prepared once, as rollout does: the ETDRK coefficients are computed here, not per call
    # (the peers compute theirs at construction too); the CFL check stays on
    return jax.vmap(model.prepare())


def _jax_cfd(n, k):
    from jax_cfd.base import grids
    from jax_cfd.spectral import equations, time_stepping

    grid = grids.Grid((n, n), domain=((0, 1), (0, 1)))
    step = time_stepping.crank_nicolson_rk4(equations.NavierStokes2D(NU, grid, smooth=True), DT)

    def advance(w):
        w_hat = jnp.fft.rfft2(w[0])
        w_hat = jax.lax.fori_loop(0, k, lambda _, x: step(x), w_hat)
        return jnp.fft.irfft2(w_hat, s=(n, n))[None].astype(w.dtype)

    return jax.vmap(advance)


def _exponax(n, order, k):
    import exponax

    stepper = exponax.stepper.NavierStokesVorticity(2, 1.0, n, DT, diffusivity=NU, order=order)
    repeated = exponax.RepeatedStepper(stepper, k)
    return jax.vmap(lambda w: -repeated(-w))


def _measure(make, w0, ref, repeats):
    """Throughput (sample-steps/s), compile time and accuracy after ACC_STEPS steps."""
    fn = make(INNER)
    timing = time_jax(fn, w0, repeats=repeats)
    rate = w0.shape[0] * INNER / timing.median_s
    acc = jax.jit(make(ACC_STEPS))(w0[: ref.shape[0]])
    return rate, timing.compile_s, _rel(acc, ref)


def _measure_pair(ours, peer, w0, ref, repeats):
    """Both methods timed with interleaved calls (fair under drifting machine load):
    ((rate, compile, error) for ours, the same for the peer)."""
    t_ours, t_peer = time_jax_pair(ours(INNER), peer(INNER), w0, repeats=repeats)
    out = []
    for make, timing in ((ours, t_ours), (peer, t_peer)):
        acc = jax.jit(make(ACC_STEPS))(w0[: ref.shape[0]])
        out.append((w0.shape[0] * INNER / timing.median_s, timing.compile_s, _rel(acc, ref)))
    return out


def run(quick: bool) -> list[Row]:
    configs = [(32, 4), (64, 1)] if quick else [(64, 32), (256, 1), (256, 8)]
    repeats = 3 if quick else 9
    rows = []
    for n, batch in configs:
        w0 = _initial(n, batch)
        ref = _reference(w0[:2], n)
        config = f"{n}^2, batch {batch}, float32, dt {DT}, nu {NU}"
        pairs = [
            ("CN-RK4", 5, functools.partial(_pdejax, n, CrankNicolsonRK4()), "jax-cfd CN-RK4",
             functools.partial(_jax_cfd, n)),
            ("ETDRK4", 4, functools.partial(_pdejax, n, ETDRK4()), "exponax ETDRK4",
             functools.partial(_exponax, n, 4)),
            ("ETDRK2", 2, functools.partial(_pdejax, n, ETDRK2()), "exponax ETDRK2 (default)",
             functools.partial(_exponax, n, 2)),
        ]  # fmt: skip
        for scheme, rhs, ours, peer_name, peer in pairs:
            try:
                peer(1)  # imports the peer
            except ImportError as err:  # a peer that is not installed is a note, not a crash
                o_rate, o_compile, o_err = _measure(ours, w0, ref, repeats)
                p_rate, p_err, peer_name = None, None, f"{peer_name} (not installed: {err.name})"
            else:
                (o_rate, o_compile, o_err), (p_rate, _, p_err) = _measure_pair(
                    ours, peer, w0, ref, repeats
                )
            acc = f"rel err t=1: pdejax {o_err:.1e}" + (
                "" if p_err is None else f", peer {p_err:.1e}"
            )
            note = f"{rhs} RHS/step; pdejax {o_rate * rhs:.3g} sample-RHS/s"
            if p_rate is not None:
                note += f", peer {p_rate * rhs:.3g}"
            rows.append(
                Row(
                    case=f"NS2D {scheme}",
                    config=config,
                    metric="sample-steps/s",
                    ours=o_rate,
                    peer_name=peer_name,
                    peer=p_rate,
                    accuracy=acc,
                    compile_s=o_compile,
                    note=note,
                )
            )
    rows.append(
        Row(
            case="NS2D memory bandwidth",
            config="256^2, large batch, H100",
            metric="fraction of 136 N^2 B/RHS/sample at peak",
            ours=0.0,
            note="not measured: needs a GPU session (this machine is CPU only)",
        )
    )
    return rows

"""3-d Navier-Stokes (velocity form) throughput against exponax, identical settings.

Configuration (both methods): $[0, 2\\pi)^3$, $\\nu = 0.01$, no forcing, a random solenoidal
initial velocity (rms 1, :func:`pdejax.solvers.random_solenoidal_velocity`), float32,
$\\Delta t = 0.6/N$ (CFL about 0.5), 5 steps per jitted call, a batch by ``jax.vmap``. Both
solve the same semi-discrete system: rotational form $P(u\\times\\omega)$, Leray projection,
the 2/3 rule before and after the product (exponax's ``dealiasing_fraction`` set so that it
keeps the same modes as pdejax, ``|m| < N/3``; its default keeps one mode fewer per axis when 3
does not divide N), and the same ETDRK scheme (order 4, and order 2, exponax's default),
coefficients from the Kassam-Trefethen contour integral; in float64 the two agree to 1e-15
(``tests/test_navier_stokes_3d.py``). pdejax's stepper is ``prepare()``-d once, as
:func:`pdejax.rollout` does, and keeps its per-call CFL check (one reduction over the state);
pdejax repeats in Fourier space (``substeps``), exponax's ``RepeatedStepper`` does an FFT pair per
step. Calls interleaved (``time_jax_pair``), median of repeats, compile time apart.

Metric: sample-steps per second; the note gives the per-RHS figure (9 real 3-d FFTs per RHS).
Accuracy: relative L2 error after 20 steps against a float64 pdejax ETDRK4 solve at dt/8.
"""

import functools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from pdejax import PeriodicGrid
from pdejax.solvers import NavierStokes3D, random_solenoidal_velocity
from pdejax.timestepping import ETDRK2, ETDRK4

from .harness import Row, time_jax, time_jax_pair

TITLE = "Navier-Stokes 3D (velocity): pdejax NavierStokes3D vs exponax NavierStokesVelocity"

NU, INNER, ACC_STEPS = 0.01, 5, 20


def _dt(n):
    return 0.6 / n


def _grid(n):
    return PeriodicGrid(n, 2 * np.pi, ndim=3)


def _initial(n, batch):
    grid = _grid(n)
    keys = jr.split(jr.key(0), batch)
    return jax.vmap(lambda k: random_solenoidal_velocity(grid, k, dtype=jnp.float32))(keys)


def _reference(u0, n):
    with jax.enable_x64(True):
        fine = NavierStokes3D(_grid(n), NU, _dt(n) * ACC_STEPS, substeps=8 * ACC_STEPS,
                              scheme=ETDRK4())  # fmt: skip
        return jax.jit(jax.vmap(fine))(jnp.asarray(u0, jnp.float64))


def _rel(a, ref):
    with jax.enable_x64(True):
        a, ref = jnp.asarray(a, jnp.float64), jnp.asarray(ref, jnp.float64)
        return float(jnp.mean(jnp.linalg.norm((a - ref).reshape(len(a), -1), axis=1) /
                              jnp.linalg.norm(ref.reshape(len(a), -1), axis=1)))  # fmt: skip


def _matched_fraction(n):
    """exponax keeps |m| <= fraction * (n // 2) - 1; this keeps pdejax's |m| < n / 3."""
    return (int(np.ceil(n / 3)) - 1 + 1.5) / (n // 2)


# Each method: k -> advance k steps of a batch (B, 3, n, n, n)
def _pdejax(n, scheme, k):
    model = NavierStokes3D(_grid(n), NU, _dt(n) * k, substeps=k, scheme=scheme)
    return jax.vmap(model.prepare())


def _exponax(n, order, k):
    import exponax

    stepper = exponax.stepper.NavierStokesVelocity(
        3, 2 * np.pi, n, _dt(n), diffusivity=NU, order=order,
        dealiasing_fraction=_matched_fraction(n),
    )  # fmt: skip
    return jax.vmap(exponax.RepeatedStepper(stepper, k))


def _measure(make, u0, ref, repeats):
    timing = time_jax(make(INNER), u0, repeats=repeats)
    acc = jax.jit(make(ACC_STEPS))(u0[: ref.shape[0]])
    return u0.shape[0] * INNER / timing.median_s, timing.compile_s, _rel(acc, ref)


def _measure_pair(ours, peer, u0, ref, repeats):
    t_ours, t_peer = time_jax_pair(ours(INNER), peer(INNER), u0, repeats=repeats)
    out = []
    for make, timing in ((ours, t_ours), (peer, t_peer)):
        acc = jax.jit(make(ACC_STEPS))(u0[: ref.shape[0]])
        out.append((u0.shape[0] * INNER / timing.median_s, timing.compile_s, _rel(acc, ref)))
    return out


def run(quick: bool) -> list[Row]:
    configs = [(16, 4), (32, 1)] if quick else [(32, 8), (64, 1), (64, 4)]
    repeats = 3 if quick else 9
    rows = []
    for n, batch in configs:
        u0 = _initial(n, batch)
        ref = _reference(u0[:1], n)
        config = f"{n}^3, batch {batch}, float32, dt {_dt(n):.3g}, nu {NU}"
        pairs = [
            ("ETDRK4", 4, functools.partial(_pdejax, n, ETDRK4()),
             functools.partial(_exponax, n, 4)),
            ("ETDRK2", 2, functools.partial(_pdejax, n, ETDRK2()),
             functools.partial(_exponax, n, 2)),
        ]  # fmt: skip
        for scheme, rhs, ours, peer in pairs:
            peer_name = f"exponax {scheme} (same modes)"
            try:
                peer(1)  # imports the peer
            except ImportError as err:  # a peer that is not installed is a note, not a crash
                o_rate, o_compile, o_err = _measure(ours, u0, ref, repeats)
                p_rate, p_err, peer_name = None, None, f"exponax (not installed: {err.name})"
            else:
                (o_rate, o_compile, o_err), (p_rate, _, p_err) = _measure_pair(
                    ours, peer, u0, ref, repeats
                )
            acc = f"rel err {ACC_STEPS} steps: pdejax {o_err:.1e}" + (
                "" if p_err is None else f", peer {p_err:.1e}"
            )
            note = f"{rhs} RHS/step; pdejax {o_rate * rhs:.3g} sample-RHS/s"
            if p_rate is not None:
                note += f", peer {p_rate * rhs:.3g}"
            rows.append(
                Row(
                    case=f"NS3D {scheme}",
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
    return rows

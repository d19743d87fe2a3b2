"""Burgers 1D: pdejax ``Burgers1D`` (ETDRK4) against exponax's ``Burgers`` stepper.

Both step a batch of 64 float32 states ``(1, N)`` with the same loop (``jax.vmap`` over
:func:`pdejax.rollout` keeping only the final state), the same viscosity and the same step, so the
ratio is per-step cost. Accuracy of both is measured against the exact Cole-Hopf solution
(``tests/burgers_exact.py``, independent of both solvers) for ``u0 = a sin(2 pi (x - s))``,
four amplitudes ``a`` and grid-aligned shifts ``s``, at ``T = 0.2`` (past shock formation).
exponax is run with ``conservative=True`` (the same flux form ``(u^2/2)_x`` as pdejax) at
order 4 (same scheme) and at its default order 2.

pdejax is timed two ways: a rollout of single-step calls (each call recomputes its ETDRK
coefficients from the traced ``nu`` and ``dt``, which is what keeps them differentiable and
recompile-free), and one call with ``substeps=100`` (coefficients computed once per call, as
exponax computes them once at construction).
"""

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from pdejax import PeriodicGrid, rollout
from pdejax.solvers import Burgers1D

from .harness import Row, time_jax

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from burgers_exact import cole_hopf  # noqa: E402

TITLE = "Burgers 1D: pdejax Burgers1D (ETDRK4) vs exponax Burgers, float32, batch 64"

NU = 0.01
FINAL_TIME = 0.2
BATCH = 64
AMPLITUDES = (0.5, 0.75, 1.0, 1.25)


def _batch(num_points):
    """Initial states and exact final states for BATCH (amplitude, shift) pairs."""
    x = np.arange(num_points) / num_points
    exact = {a: cole_hopf(x, FINAL_TIME, NU, amplitude=a) for a in AMPLITUDES}
    rng = np.random.default_rng(0)
    u0, uT = [], []
    for i in range(BATCH):
        a = AMPLITUDES[i % len(AMPLITUDES)]
        shift = int(rng.integers(num_points))
        u0.append(np.roll(a * np.sin(2 * np.pi * x), shift))
        uT.append(np.roll(exact[a], shift))
    return jnp.asarray(np.array(u0)[:, None], jnp.float32), np.array(uT)[:, None]


def _error(u, exact):
    u = np.asarray(u, np.float64)
    rel = np.linalg.norm(u - exact, axis=-1) / np.linalg.norm(exact, axis=-1)
    return float(np.mean(rel))


def _measure(stepper, u0, num_steps, repeats):
    def run(u):
        return jax.vmap(lambda v: rollout(stepper, v, num_steps, save_every=num_steps)[-1])(u)

    timing = time_jax(run, u0, repeats=repeats)
    out = jax.jit(run)(u0)
    return timing, out


def run(quick: bool) -> list[Row]:
    sizes = (1024,) if quick else (1024, 8192)
    num_steps = 100
    repeats = 3 if quick else 5
    try:
        import exponax
    except ImportError:
        exponax = None
    rows = []
    for n in sizes:
        u0, exact = _batch(n)
        dt = FINAL_TIME / num_steps
        ours = Burgers1D(PeriodicGrid(n), nu=jnp.float32(NU), dt=jnp.float32(dt))
        t_ours, u_ours = _measure(ours, u0, num_steps, repeats)
        rate_ours = BATCH * num_steps / t_ours.median_s
        err_ours = _error(u_ours, exact)
        sub = Burgers1D(
            PeriodicGrid(n), jnp.float32(NU), jnp.float32(FINAL_TIME), substeps=num_steps
        )
        t_sub, u_sub = _measure(sub, u0, 1, repeats)
        rate_sub = BATCH * num_steps / t_sub.median_s
        err_sub = _error(u_sub, exact)
        config = f"N={n}, batch {BATCH}, nu={NU}, dt={dt:g}, {num_steps} steps, T={FINAL_TIME}"
        if exponax is None:
            rows.append(Row("burgers1d", config, "sample-steps/s", rate_ours,
                            accuracy=f"rel L2 vs Cole-Hopf {err_ours:.2e}",
                            compile_s=t_ours.compile_s, note="exponax not installed"))  # fmt: skip
            continue
        for order in (4, 2):
            peer = exponax.stepper.Burgers(
                1, 1.0, n, dt, diffusivity=NU, conservative=True, order=order
            )
            t_peer, u_peer = _measure(peer, u0, num_steps, repeats)
            err_peer = _error(u_peer, exact)
            for mode, rate, err, timing in (
                ("rollout of 1-step calls", rate_ours, err_ours, t_ours),
                (f"one call, substeps={num_steps}", rate_sub, err_sub, t_sub),
            ):
                rows.append(
                    Row(
                        "burgers1d",
                        f"{config}; pdejax {mode}",
                        "sample-steps/s",
                        rate,
                        peer_name=f"exponax Burgers ETDRK{order}",
                        peer=BATCH * num_steps / t_peer.median_s,
                        accuracy=f"rel L2 vs Cole-Hopf: pdejax {err:.2e}, exponax {err_peer:.2e}",
                        compile_s=timing.compile_s,
                        note=f"pdejax {timing}; exponax {t_peer}",
                    )
                )
    return rows

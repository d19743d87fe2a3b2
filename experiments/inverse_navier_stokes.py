r"""Worked inverse problem 3: recover the initial vorticity *and* the viscosity of a
2-d Navier-Stokes flow from later noisy snapshots, once through the classical solver and once
through an FNO surrogate trained here, comparing accuracy and time to solution.

Flow: $\partial_t\omega + u\cdot\nabla\omega = \nu\Delta\omega + f$ on the periodic unit
square at ``n``$^2$ points (32 by default), the FNO paper's forcing
$f = 0.1(\sin 2\pi(x+y) + \cos 2\pi(x+y))$ and initial-vorticity field
$N(0, 2\cdot 7^3(-\Delta + 49 I)^{-2.5})$, true $\nu = 10^{-3}$; :class:`NavierStokes2D` with
Crank-Nicolson/RK4, $\Delta t = 0.1$ in 10 substeps. Data: the vorticity at $t = 0.5$ and
$t = 1$ plus 1% Gaussian noise (relative to its rms).

Unknowns $\theta = (\omega_0, \phi)$ with $\log\nu$ = ``SmoothedThreshold`` $(\phi)$ bounded to
the surrogate's training range $[\log 5\cdot 10^{-4}, \log 2\cdot 10^{-3}]$ (the same map on
both paths), initial guess $\omega_0 = 0$, $\nu = 1.5\cdot 10^{-3}$. Objective:
half the squared relative misfit plus a small $H^1$ prior on $\omega_0$; L-BFGS (optax, zoom
line search).

- Solver path: $F$ = the rollout of :class:`NavierStokes2D` with $\nu = e^{\log\nu}$,
  differentiated through every step (``checkpoint=True``).
- Surrogate path: an :class:`pdejax.surrogates.FNO` trained here on a few hundred solver
  samples with $\nu$ log-uniform in $[5\cdot 10^{-4}, 2\cdot 10^{-3}]$; input channels
  $(\omega_0, \text{normalised} \log\nu)$, output the two snapshots (a residual on $\omega_0$).

Printed: gradient checks (float64, both paths), recovery errors of $\omega_0$ and $\nu$,
iterations, time to solution (and the surrogate's one-off data + training cost), and the misfit
of the surrogate's answer re-evaluated through the solver. Everything else runs in float32.

Run: ``python experiments/inverse_navier_stokes.py [--quick]`` (a few minutes on 2 cores).
"""

import argparse
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax

from pdejax import PeriodicGrid, rollout
from pdejax.grids import fno_navier_stokes_initial_vorticity
from pdejax.inverse import (
    GaussianNoise,
    H1Smoothness,
    LeastSquaresObjective,
    SmoothedThreshold,
    gradient_check,
    solve_inverse,
)
from pdejax.solvers import NavierStokes2D, fno_forcing
from pdejax.surrogates import FNO
from pdejax.train import ArrayLoader, fit

NU_TRUE = 1e-3
LOG_NU_RANGE = (np.log(5e-4), np.log(2e-3))
NOISE = 0.01
H1_WEIGHT = 1e-6
LOG_NU = SmoothedThreshold(*LOG_NU_RANGE)  # log nu = LOG_NU(phi), inside the training range


class Setup(eqx.Module):
    """The flow, its grid and the forward maps $(\\omega_0, \\log\\nu) \\mapsto$ snapshots."""

    grid: PeriodicGrid
    stepper: NavierStokes2D
    num_steps: int = eqx.field(static=True)
    save_every: int = eqx.field(static=True)

    def solver_forward(self, params):
        nu = jnp.exp(LOG_NU(params["phi"])).astype(params["w0"].dtype)
        stepper = eqx.tree_at(lambda s: s.dynamics.nu, self.stepper, nu)
        return rollout(
            stepper, params["w0"], self.num_steps, save_every=self.save_every, checkpoint=True
        )


def make_setup(n: int = 32, dtype=jnp.float32) -> Setup:
    grid = PeriodicGrid((n, n), 1.0)
    forcing = fno_forcing(grid).astype(dtype)
    stepper = NavierStokes2D(
        grid, jnp.asarray(NU_TRUE, dtype), jnp.asarray(0.1, dtype), forcing=forcing, substeps=10
    )
    return Setup(grid, stepper, num_steps=10, save_every=5)


def sample_w0(setup: Setup, key, dtype=jnp.float32):
    return fno_navier_stokes_initial_vorticity(setup.grid).sample(key, dtype)[None]


class Surrogate(eqx.Module):
    r"""$(\omega_0, \log\nu) \mapsto (\omega(0.5), \omega(1))$: $\omega_0 + s\,\mathrm{FNO}([\omega_0/s, \hat\nu])$."""

    fno: FNO
    scale: float = eqx.field(static=True)

    def __call__(self, x):  # x = (w0, nu feature): (2, n, n) -> (2, n, n)
        inputs = jnp.concatenate([x[:1] / self.scale, x[1:]])
        return x[:1] + self.scale * self.fno(inputs)

    def forward(self, params):
        w0 = params["w0"]
        return self(jnp.concatenate([w0, nu_feature(LOG_NU(params["phi"]), w0)]))[:, None]


def nu_feature(log_nu, w0):
    lo, hi = LOG_NU_RANGE
    return jnp.broadcast_to((2 * log_nu - lo - hi) / (hi - lo), w0.shape).astype(w0.dtype)


def make_training_data(setup: Setup, num: int, key):
    k1, k2 = jr.split(key)
    w0 = jax.vmap(lambda k: sample_w0(setup, k))(jr.split(k1, num))
    log_nu = jr.uniform(k2, (num,), jnp.float32, *LOG_NU_RANGE)
    phi = LOG_NU.inverse(log_nu)
    traj = jax.jit(jax.vmap(lambda w, p: setup.solver_forward({"w0": w, "phi": p})))(w0, phi)
    inputs = jnp.concatenate([w0, jax.vmap(nu_feature)(log_nu, w0)], axis=1)
    return np.asarray(inputs), np.asarray(traj[:, :, 0])


def train_surrogate(setup: Setup, *, num_train, epochs, key, modes=10, width=24):
    t0 = time.perf_counter()
    inputs, targets = make_training_data(setup, num_train + 32, key)
    t_data = time.perf_counter() - t0
    scale = float(np.sqrt(np.mean(inputs[:, 0] ** 2)))
    fno = FNO(2, 2, (modes, modes), width, num_layers=4, projection_width=64, key=jr.key(7))
    model = Surrogate(fno, scale)
    batch = 16
    steps = epochs * (num_train // batch)
    schedule = optax.cosine_decay_schedule(3e-3, steps)
    loader = ArrayLoader(inputs[:num_train], targets[:num_train], batch)
    t0 = time.perf_counter()
    out = fit(model, optax.adam(schedule), loader, num_steps=steps, devices=jax.devices()[:1],
              progress=False)  # fmt: skip
    t_train = time.perf_counter() - t0
    pred = jax.vmap(out.model)(jnp.asarray(inputs[num_train:]))
    diff = (pred - targets[num_train:]).reshape(32, -1)
    test = float(jnp.mean(jnp.linalg.norm(diff, axis=1) /
                          jnp.linalg.norm(targets[num_train:].reshape(32, -1), axis=1)))  # fmt: skip
    return out.model, {"data_s": t_data, "train_s": t_train, "test_rel_l2": test}


def make_objective(setup: Setup, forward, data):
    m = data.size
    std = jnp.sqrt(jnp.mean(data**2) * m)  # misfit = half the squared relative error
    prior = H1Smoothness(setup.grid, H1_WEIGHT, select=lambda p: p["w0"])
    return LeastSquaresObjective(forward, data, noise_std=std, priors=[prior])


def recover(setup, objective, w0_true, *, max_steps):
    phi0 = LOG_NU.inverse(jnp.log(jnp.asarray(1.5e-3, w0_true.dtype)))
    init = {"w0": jnp.zeros_like(w0_true), "phi": phi0}
    res = solve_inverse(objective, init, "lbfgs", max_steps=max_steps, throw=False)
    w0 = res.params["w0"]
    err_w = float(jnp.linalg.norm(w0 - w0_true) / jnp.linalg.norm(w0_true))
    nu = float(jnp.exp(LOG_NU(res.params["phi"])))
    return res, err_w, nu


def gradient_checks(setup64: Setup, surrogate64, w0, data, num_directions: int = 3):
    """Float64 gradient checks of both objectives at a point off the optimum."""
    params = {"w0": 0.5 * w0, "phi": LOG_NU.inverse(jnp.log(1.5e-3))}
    out = {}
    for name, forward in [("solver", setup64.solver_forward), ("fno", surrogate64.forward)]:
        obj = make_objective(setup64, forward, data)
        out[name] = float(
            jnp.max(
                gradient_check(obj, params, key=jr.key(5), step=1e-4, num_directions=num_directions)
            )
        )
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = parser.parse_args(argv)
    quick = args.quick
    jax.config.update("jax_enable_x64", True)  # float64 only where asked (gradient checks)

    n = 16 if quick else 32
    setup = make_setup(n)
    w0_true = sample_w0(setup, jr.key(0))
    phi_true = LOG_NU.inverse(jnp.log(jnp.float32(NU_TRUE)))
    clean = setup.solver_forward({"w0": w0_true, "phi": phi_true})
    data = GaussianNoise(NOISE)(clean, key=jr.key(1))
    max_steps = 20 if quick else 300
    print(f"Navier-Stokes inverse problem: {n}x{n}, nu={NU_TRUE:g}, snapshots t=0.5, 1; "
          f"{NOISE:.0%} noise; unknowns w0 ({n * n}) and nu; L-BFGS")  # fmt: skip

    surrogate, info = train_surrogate(
        setup, num_train=32 if quick else 384, epochs=2 if quick else 30, key=jr.key(3),
        modes=4 if quick else 10, width=8 if quick else 24,
    )  # fmt: skip
    print(f"  surrogate: data {info['data_s']:.1f} s, training {info['train_s']:.1f} s, "
          f"test rel L2 {info['test_rel_l2']:.3g}")  # fmt: skip

    to64 = lambda t: jax.tree_util.tree_map(  # noqa: E731
        lambda x: x.astype(jnp.float64) if eqx.is_inexact_array(x) else x, t
    )
    grads = gradient_checks(make_setup(n, jnp.float64), to64(surrogate), to64(w0_true),
                            to64(data))  # fmt: skip
    print(f"  gradient vs central differences (float64, max rel err over 3 directions): "
          f"solver {grads['solver']:.2e}, fno {grads['fno']:.2e}")  # fmt: skip

    rows = []
    for name, forward in [("solver", setup.solver_forward), ("fno", surrogate.forward)]:
        obj = make_objective(setup, forward, data)
        res, err_w, nu = recover(setup, obj, w0_true, max_steps=max_steps)
        # the answer judged by the solver: relative misfit of its prediction against the data
        pred = setup.solver_forward(res.params)
        misfit = float(jnp.linalg.norm(pred - data) / jnp.linalg.norm(data))
        rows.append((name, err_w, nu, int(res.iterations), res.time, misfit, res.message))
    print(f"  {'path':8s} {'w0 rel err':>10s} {'nu':>10s} {'nu rel err':>10s} {'iters':>6s} "
          f"{'time [s]':>9s} {'solver misfit':>13s}")  # fmt: skip
    for name, err_w, nu, its, secs, misfit, msg in rows:
        print(f"  {name:8s} {err_w:10.3g} {nu:10.3g} {abs(nu - NU_TRUE) / NU_TRUE:10.3g} {its:6d} "
              f"{secs:9.1f} {misfit:13.3g}   ({msg})")  # fmt: skip
    print(f"  (noise floor of the misfit: {NOISE:.3g}; surrogate time excludes its one-off "
          f"{info['data_s'] + info['train_s']:.0f} s of data and training)")  # fmt: skip
    return {"rows": rows, "gradients": grads, "surrogate": info}


if __name__ == "__main__":
    main()

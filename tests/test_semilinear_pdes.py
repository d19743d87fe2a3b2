"""The semilinear PDEs of pdejax.solvers (Kuramoto-Sivashinsky, KdV, Fisher-KPP, Allen-Cahn,
Gray-Scott, advection-diffusion/heat) against closed forms, invariants, asymptotics and exponax.

Families: exactness (the linear parts, a KdV soliton, Allen-Cahn's tanh interface, Gray-Scott's
homogeneous states), convergence order (ETDRK4 in time), invariants (mass, energy, free energy),
asymptotics (the Fisher-KPP front speed, the KS attractor under refinement, slow), agreement with
exponax on identical settings (skipped when exponax is not installed) and construction errors.
The contract suite (jit, vmap, pmap, sharding, grad, compile once) is tests/cases_semilinear.py.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax import PeriodicGrid, make_problem, rollout
from pdejax.solvers import (
    AdvectionDiffusion,
    AllenCahn,
    FisherKPP,
    GrayScott2D,
    Heat,
    KortewegDeVries1D,
    KuramotoSivashinsky1D,
    KuramotoSivashinsky2D,
)
from pdejax.solvers.korteweg_de_vries import soliton
from pdejax.timestepping import ETDRK1, ETDRK4


@eqx.filter_jit
def _advance(stepper, u, num_steps):
    return jax.lax.fori_loop(0, num_steps, lambda _, v: stepper(v), u)


def advance(stepper, u, num_steps):
    """``num_steps`` calls of ``stepper`` (a traced count: one program for every step count)."""
    return _advance(stepper, u, jnp.asarray(num_steps))


def exponax_fraction(fraction, num_points):
    """The pdejax ``dealias_fraction`` whose mask equals exponax's for ``fraction``: exponax keeps
    $|m| \\le f\\lfloor N/2\\rfloor - 1$, pdejax $|m| < fN/2$ (Orszag's rule, one mode more)."""
    keep = int(np.floor(fraction * (num_points // 2) - 1))
    return (2 * keep + 1) / num_points


def fitted_order(steps, errors):
    return float(np.polyfit(np.log(steps), np.log(errors), 1)[0])


# ------------------------------------------------------------------------ Kuramoto-Sivashinsky
def test_ks_linear_part_is_exact():
    """A small single mode grows or decays as $e^{(k^2 - k^4)t}$ (1-d) / $e^{(|k|^2 - |k|^4)t}$ (2-d)."""
    amplitude, t = 1e-12, 1.0
    grid = PeriodicGrid(64, 22.0)
    (x,) = grid.coordinates()
    for m in (1, 2, 3, 5):  # k = 0.29, 0.57, 0.86 grow, 1.43 decays
        k = 2 * np.pi * m / 22.0
        u1 = advance(KuramotoSivashinsky1D(grid, 0.25), amplitude * jnp.sin(k * x)[None], 4)
        exact = amplitude * np.exp((k**2 - k**4) * t) * np.sin(k * np.asarray(x))
        err = float(jnp.abs(u1[0] - exact).max()) / float(np.abs(exact).max())
        assert err < 1e-10, f"mode {m}: relative error {err:.2e}"
    grid2 = PeriodicGrid((16, 16), (20.0, 15.0))
    x, y = grid2.mesh()
    kx, ky = 2 * np.pi / 20.0, 2 * np.pi * 2 / 15.0
    u1 = advance(KuramotoSivashinsky2D(grid2, 0.25), amplitude * jnp.cos(kx * x + ky * y)[None], 4)
    k2 = kx**2 + ky**2
    exact = amplitude * np.exp((k2 - k2**2) * t) * np.cos(kx * np.asarray(x) + ky * np.asarray(y))
    err = float(jnp.abs(u1[0] - exact).max()) / float(np.abs(exact).max())
    assert err < 1e-10, f"2-d: relative error {err:.2e}"


def test_ks_fourth_order_in_time():
    """ETDRK4 over t = 10 (measured slopes 3.7, 3.9). Over the first time units the stiff initial
    layer reduces the observed order to about 3 (Hochbruck and Ostermann, SIAM J. Numer. Anal.
    43 (2005)), so the window is long."""
    grid = PeriodicGrid(64, 22.0)
    (x,) = grid.coordinates()
    u0 = (jnp.cos(2 * jnp.pi * x / 22) * (1 + jnp.sin(2 * jnp.pi * x / 22)))[None]
    ref = advance(KuramotoSivashinsky1D(grid, 1 / 512), u0, 5120)
    steps = [1 / 16, 1 / 32, 1 / 64]
    errors = [float(jnp.abs(advance(KuramotoSivashinsky1D(grid, h), u0, round(10 / h)) - ref).max())
              for h in steps]  # fmt: skip
    order = fitted_order(steps, errors)
    assert 3.5 < order < 4.3, f"fitted order {order:.2f}, errors {errors}"


def test_ks_matches_exponax():
    """1-d: exponax's conservative KS at order 4, same masks, to round-off after 40 steps. 2-d:
    exponax's fourth-order term is $\\partial_x^4 + \\partial_y^4$, not $\\Delta^2$ (they agree on
    states that vary along one axis, checked here to round-off)."""
    exponax = pytest.importorskip("exponax")
    grid = PeriodicGrid(64, 22.0)
    (x,) = grid.coordinates()
    u0 = (jnp.cos(2 * jnp.pi * x / 22) * (1 + jnp.sin(2 * jnp.pi * x / 22)))[None]
    ours = KuramotoSivashinsky1D(grid, 0.25, dealias_fraction=exponax_fraction(2 / 3, 64))
    peer = exponax.stepper.KuramotoSivashinskyConservative(1, 22.0, 64, 0.25, order=4)
    diff = float(jnp.abs(advance(ours, u0, 40) - rollout(peer, u0, 40)[-1]).max())
    assert diff < 1e-13, f"1-d: max difference {diff:.2e} after 40 steps"
    grid2 = PeriodicGrid((32, 32), 20.0)
    x, _ = grid2.mesh()
    v0 = jnp.cos(2 * jnp.pi * x / 20)[None]
    ours = KuramotoSivashinsky2D(grid2, 0.1, dealias_fraction=exponax_fraction(2 / 3, 32))
    peer = exponax.stepper.KuramotoSivashinsky(2, 20.0, 32, 0.1, order=4)
    diff = float(jnp.abs(advance(ours, v0, 10) - rollout(peer, v0, 10)[-1]).max())
    assert diff < 1e-13, f"2-d, x-only state: max difference {diff:.2e} after 10 steps"


@pytest.mark.slow
def test_ks_attractor_energy_statistics_are_resolution_independent():
    """L = 64: mean and standard deviation of $\\langle u^2\\rangle_x(t)$ over 2e4 time units after
    500 of transient agree across N = 64, 96, 128 (measured 1.730/1.735/1.724 and
    0.262/0.262/0.258; the batch-means error of the mean is about 0.005)."""
    stats = []
    for n in (64, 96, 128):
        grid = PeriodicGrid(n, 64.0)
        u0 = 0.5 * PeriodicGrid(16, 64.0).resample(jr.normal(jr.key(0), (1, 16)), n)
        traj = rollout(KuramotoSivashinsky1D(grid, 1.0, substeps=4), u0, 20_500)
        energy = np.asarray(jnp.mean(traj[500:, 0] ** 2, axis=-1))
        stats.append((energy.mean(), energy.std()))
    means, stds = np.array(stats).T
    assert np.ptp(means) < 0.02 * means[-1], f"means {means}"
    assert np.ptp(stds) < 0.05 * stds[-1], f"standard deviations {stds}"
    assert 1.6 < means[-1] < 1.9, f"mean energy {means[-1]} off the known attractor value"


# ------------------------------------------------------------------------------ KdV
def test_kdv_soliton_is_exact():
    """$c = 4$ on $[-20, 20)$ (tails $e^{-40} \\ll$ round-off), 384 modes, dt = 5e-4, t = 1."""
    grid = PeriodicGrid(384, 40.0, origin=-20.0)
    (x,) = grid.coordinates()
    u1 = advance(KortewegDeVries1D(grid, 5e-4), soliton(x, 0.0, 4.0, -5.0, 40.0)[None], 2000)
    err = float(jnp.abs(u1[0] - soliton(x, 1.0, 4.0, -5.0, 40.0)).max())
    assert err < 1e-8, f"max error {err:.2e} after t = 1"  # measured 6.0e-10


def test_kdv_conserves_mass_exactly_and_energy_to_order():
    grid = PeriodicGrid(256, 40.0, origin=-20.0)
    (x,) = grid.coordinates()
    u0 = (soliton(x, 0.0, 4.0, -8.0, 40.0) + soliton(x, 0.0, 1.0, 2.0, 40.0))[None]  # overtaking
    steps, mass, energy = [4e-3, 2e-3, 1e-3], [], []
    for h in steps:
        u1 = advance(KortewegDeVries1D(grid, h), u0, round(1 / h))
        mass.append(abs(float(u1.sum() / u0.sum()) - 1))
        energy.append(abs(float((u1**2).sum() / (u0**2).sum()) - 1))
    assert max(mass) < 1e-13, f"mass drift {mass}"
    order = fitted_order(steps, energy)
    assert order > 3.7, f"energy drift {energy}: fitted order {order:.2f} (scheme order 4)"


def test_kdv_against_exponax():
    """exponax 0.2 keeps only the real part of its ETDRK coefficients, which is wrong for the
    complex (dispersive) KdV symbol: its soliton error is first order (2e-2 at dt = 5e-4) where
    pdejax's is 6e-10. Checked: pdejax is exact and never worse than exponax."""
    exponax = pytest.importorskip("exponax")
    grid = PeriodicGrid(384, 40.0)
    (x,) = grid.coordinates()
    u0 = soliton(x, 0.0, 4.0, 15.0, 40.0)[None]
    exact = soliton(x, 0.5, 4.0, 15.0, 40.0)
    ours = KortewegDeVries1D(grid, 5e-4, dealias_fraction=exponax_fraction(2 / 3, 384))
    peer = exponax.stepper.KortewegDeVries(1, 40.0, 384, 5e-4, convection_scale=6.0,
                                           hyper_diffusivity=0.0, order=4)  # fmt: skip
    err_ours = float(jnp.abs(advance(ours, u0, 1000)[0] - exact).max())
    err_peer = float(jnp.abs(rollout(peer, u0, 1000)[-1, 0] - exact).max())
    assert err_ours < 1e-8 and err_ours <= err_peer, (err_ours, err_peer)


# ------------------------------------------------------------------------------ Fisher-KPP
def test_fisher_kpp_front_speed_approaches_the_kpp_value_from_below():
    """The $u = 1/2$ level of a steep front ($e^{-4x}$ tail, steeper than the critical $e^{-x/\\ell}$,
    $\\ell = \\sqrt{\\nu/r}$) moves at $v(t) \\approx 2\\sqrt{\\nu r} - \\tfrac{3}{2t}\\ell$ (Bramson
    1983; van Saarloos, Phys. Rep. 386 (2003) 29, eq. 1.3). Measured with $\\nu = 0.5$, $r = 2$
    ($v^* = 2$, $\\ell = 1/2$) up to $rt = 22$."""
    nu, r = 0.5, 2.0
    v_star, ell = 2 * np.sqrt(nu * r), np.sqrt(nu / r)
    grid = PeriodicGrid(2048, 128.0)
    (x,) = grid.coordinates()
    u0 = 0.5 * (1 - jnp.tanh((jnp.abs(x - 64.0) - 4.0) / 0.5))[None]
    traj = np.asarray(rollout(FisherKPP(grid, nu, r, 0.5, substeps=20), u0, 24))[:, 0]
    xs, dx = np.asarray(x), 128.0 / 2048

    def level(u):  # rightmost crossing of 1/2, linear interpolation
        i = np.nonzero((u[:-1] >= 0.5) & (u[1:] < 0.5))[0][-1]
        return xs[i] + (u[i] - 0.5) / (u[i] - u[i + 1]) * dx

    times = 0.5 * np.arange(1, 25)
    pos = np.array([level(u) for u in traj])
    v = (pos[4::2] - pos[2:-2:2]) / 1.0  # over [t - 1/2, t + 1/2], t = 2, 3, ..., 11
    t_mid = (times[4::2] + times[2:-2:2]) / 2
    assert np.all(v < v_star) and np.all(np.diff(v) > 0), f"v(t) = {v}"
    assert v[-1] > 0.96 * v_star, f"v({t_mid[-1]}) = {v[-1]:.4f}, v* = {v_star}"
    bramson = (v_star - v) * t_mid / ell
    assert abs(bramson[-1] - 1.5) < 0.05, f"(v* - v) t / l = {bramson} (Bramson: 3/2)"
    assert traj.min() > -1e-6, f"undershoot {traj.min():.1e}"


def test_fisher_kpp_matches_exponax():
    exponax = pytest.importorskip("exponax")
    grid = PeriodicGrid(64, 20.0)
    (x,) = grid.coordinates()
    u0 = (0.5 + 0.4 * jnp.sin(2 * jnp.pi * x / 20) * jnp.cos(6 * jnp.pi * x / 20))[None]
    ours = FisherKPP(grid, 0.3, 1.5, 0.1, dealias_fraction=exponax_fraction(2 / 3, 64))
    peer = exponax.stepper.reaction.FisherKPP(1, 20.0, 64, 0.1, diffusivity=0.3,
                                              reactivity=1.5, order=4)  # fmt: skip
    diff = float(jnp.abs(advance(ours, u0, 20) - rollout(peer, u0, 20)[-1]).max())
    assert diff < 1e-13, f"max difference {diff:.2e} after 20 steps"


# ------------------------------------------------------------------------------ Allen-Cahn
def test_allen_cahn_keeps_two_straight_interfaces():
    """$\\tanh((x - L/4)/(\\sqrt2\\varepsilon))\\tanh((3L/4 - x)/(\\sqrt2\\varepsilon))$ is stationary
    up to $e^{-L/(2\\sqrt2\\varepsilon)} \\approx 10^{-19}$: kept to round-off over t = 1."""
    eps, length = 0.05, 2 * np.pi
    grid = PeriodicGrid(1024, length)
    (x,) = grid.coordinates()
    a = np.sqrt(2) * eps
    u0 = (jnp.tanh((x - length / 4) / a) * jnp.tanh((3 * length / 4 - x) / a))[None]
    u1 = AllenCahn(grid, eps, 1.0, substeps=10)(u0)
    err = float(jnp.abs(u1 - u0).max())
    assert err < 1e-11, f"max change {err:.2e}"  # measured 5.7e-13


def test_allen_cahn_free_energy_decreases():
    grid = PeriodicGrid((32, 32), 2 * np.pi)
    ac = AllenCahn(grid, 0.3, 0.1)
    u0 = 0.3 * grid.ifft(grid.fft(jr.normal(jr.key(0), (1, 32, 32))) * grid.dealias_mask(0.3))
    u0 = u0 / jnp.std(u0) * 0.3
    energies = eqx.filter_jit(
        lambda m, u: jax.vmap(m.energy)(rollout(m, u, 30, include_initial=True))
    )(ac, u0)
    assert np.all(np.diff(np.asarray(energies)) < 0), f"E(t) = {energies}"
    assert float(energies[-1]) < 0.8 * float(energies[0])


def test_allen_cahn_matches_exponax():
    exponax = pytest.importorskip("exponax")
    grid = PeriodicGrid((32, 32), 6.0)
    x, y = grid.mesh()
    u0 = (0.8 * jnp.sin(2 * jnp.pi * x / 6) * jnp.cos(2 * jnp.pi * y / 6))[None]
    ours = AllenCahn(grid, 0.2, 0.1, dealias_fraction=exponax_fraction(1 / 2, 32))
    peer = exponax.stepper.reaction.AllenCahn(2, 6.0, 32, 0.1, diffusivity=0.04, order=4)
    diff = float(jnp.abs(advance(ours, u0, 20) - rollout(peer, u0, 20)[-1]).max())
    assert diff < 1e-13, f"max difference {diff:.2e} after 20 steps"


# ------------------------------------------------------------------------------ Gray-Scott
def test_gray_scott_homogeneous_states_are_fixed_points():
    f, k = 0.05, 0.05  # F > 4(F + k)^2: two more homogeneous states
    root = np.sqrt(f**2 - 4 * f * (f + k) ** 2)
    grid = PeriodicGrid((32, 32))
    gs = GrayScott2D(grid, 2e-5, 1e-5, f, k, 1.0)
    for v in (0.0, (f + root) / (2 * (f + k)), (f - root) / (2 * (f + k))):
        state = jnp.stack([jnp.full((32, 32), 1 - (f + k) * v / f), jnp.full((32, 32), v)])
        err = float(jnp.abs(advance(gs, state, 100) - state).max())
        saddle = v == (f - root) / (2 * (f + k))  # its round-off grows: 2e-12 at t = 100
        assert err < (1e-10 if saddle else 1e-13), f"v = {v}: drift {err:.2e} after t = 100"


def test_gray_scott_total_mean_relaxes_exactly_without_kill():
    """With $k = 0$, $\\bar u + \\bar v$ obeys $m' = F(1 - m)$ whatever the pattern."""
    grid = PeriodicGrid((32, 32))
    x, y = grid.mesh()
    v0 = 0.25 * jnp.exp(-((x - 0.5) ** 2 + (y - 0.4) ** 2) / 0.01)
    state = jnp.stack([1 - 2 * v0, v0])
    gs = GrayScott2D(grid, 2e-5, 1e-5, 0.04, 0.0, 1.0)
    m0 = float(state.sum(0).mean())
    for n in (10, 50):
        end = advance(gs, state, n)
        err = abs(float(end.sum(0).mean()) - (1 + (m0 - 1) * np.exp(-0.04 * n)))
        assert err < 1e-13, f"t = {n}: mean of u + v off by {err:.1e}"
    assert float(jnp.abs(end - state).max()) > 1e-2  # the pattern did evolve


def test_gray_scott_converges_to_exponax_at_fourth_order():
    """exponax steps the linear reaction terms explicitly (in $\\mathcal N$), pdejax exactly (in
    $L$): the same semi-discrete system, split differently, so the difference is the two schemes'
    time errors and shrinks at order 4 (a band-limited state: same masks, same modes)."""
    exponax = pytest.importorskip("exponax")
    grid = PeriodicGrid((32, 32))
    x, y = grid.mesh()
    v0 = 0.125 * (1 + jnp.cos(2 * jnp.pi * x) * jnp.sin(4 * jnp.pi * y))
    state = jnp.stack([1 - 2 * v0, v0])
    steps, diffs = [4.0, 2.0, 1.0], []
    for h in steps:
        ours = GrayScott2D(grid, 2e-5, 1e-5, 0.04, 0.06, h,
                           dealias_fraction=exponax_fraction(1 / 2, 32))  # fmt: skip
        peer = exponax.stepper.reaction.GrayScott(2, 1.0, 32, h, diffusivity_1=2e-5,
                                                  diffusivity_2=1e-5, feed_rate=0.04,
                                                  kill_rate=0.06, order=4)  # fmt: skip
        n = round(20 / h)
        diffs.append(float(jnp.abs(advance(ours, state, n) - rollout(peer, state, n)[-1]).max()))
    order = fitted_order(steps, diffs)
    assert order > 3.5, f"differences {diffs}: fitted order {order:.2f}"


# ------------------------------------------------------------------ advection-diffusion, heat
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_fourier_mode_translates_and_decays_exactly(ndim):
    lengths = (2.0, 1.0, 1.5)[:ndim]
    grid = PeriodicGrid((16, 12, 8)[:ndim], lengths)
    velocity, nu, t = np.array([0.7, -1.3, 0.4])[:ndim], 0.02, 0.9
    k = np.array([2 * np.pi * m / length for m, length in zip((2, 1, 3), lengths)])
    coords = np.asarray(grid.mesh())

    def mode(shift):
        return np.sin(np.tensordot(k, coords - shift.reshape(-1, *[1] * ndim), axes=1))

    decay = np.exp(-nu * np.sum(k**2) * t)
    schemes = [ETDRK4(), ETDRK1()] if ndim == 1 else [ETDRK4()]
    for scheme in schemes:  # exact whatever the scheme and the number of substeps
        model = AdvectionDiffusion(grid, velocity, nu, t, substeps=3, scheme=scheme)
        u1 = model(jnp.asarray(mode(np.zeros(ndim)))[None])
        err = float(jnp.abs(u1[0] - decay * mode(velocity * t)).max())
        assert err < 1e-13, f"{type(scheme).__name__}: error {err:.2e}"
    u1 = Heat(grid, nu, t)(jnp.asarray(mode(np.zeros(ndim)))[None])
    assert float(jnp.abs(u1[0] - decay * mode(np.zeros(ndim))).max()) < 1e-13


def test_advection_diffusion_and_heat_match_exponax():
    exponax = pytest.importorskip("exponax")
    grid = PeriodicGrid((16, 16), 1.0)
    u0 = grid.ifft(grid.fft(jr.normal(jr.key(0), (1, 16, 16))) * grid.dealias_mask(0.5))
    ours = AdvectionDiffusion(grid, [0.5, -0.2], 0.01, 0.05)
    peer = exponax.stepper.AdvectionDiffusion(2, 1.0, 16, 0.05, velocity=jnp.array([0.5, -0.2]),
                                              diffusivity=0.01)  # fmt: skip
    diff = float(jnp.abs(advance(ours, u0, 10) - rollout(peer, u0, 10)[-1]).max())
    assert diff < 1e-13, f"advection-diffusion: max difference {diff:.2e}"
    peer = exponax.stepper.Diffusion(2, 1.0, 16, 0.05, diffusivity=0.01)
    diff = float(jnp.abs(advance(Heat(grid, 0.01, 0.05), u0, 10) - rollout(peer, u0, 10)[-1]).max())
    assert diff < 1e-13, f"heat: max difference {diff:.2e}"


# ------------------------------------------------------------------------------ problems
@pytest.mark.parametrize(
    "name,overrides",
    [
        ("ks/1d", dict(num_points=32, num_frames=2, warmup_frames=2)),
        pytest.param(
            "ks/2d", dict(num_points=16, num_frames=2, warmup_frames=1), marks=pytest.mark.slow
        ),
        ("kdv/solitons", dict(num_points=64, dt=0.01, num_frames=2)),
        pytest.param("fisher_kpp/1d", dict(num_points=64, num_frames=2), marks=pytest.mark.slow),
        pytest.param(
            "allen_cahn/2d", dict(num_points=16, epsilon=0.2, num_frames=2), marks=pytest.mark.slow
        ),
        ("gray_scott/2d", dict(num_points=16, output_interval=5.0, num_frames=2)),
        ("heat/2d", dict(num_points=16)),
        pytest.param(
            "advection_diffusion/1d", dict(num_points=32, num_frames=2), marks=pytest.mark.slow
        ),
    ],
)
def test_registered_problem_solves_a_random_input(name, overrides):
    problem = make_problem(name, **overrides)
    a = problem.sample_input(jr.key(0))
    out = problem.solve(a)
    assert jnp.all(jnp.isfinite(out)) and out.shape[-a.ndim :] == a.shape, out.shape
    if problem.times is not None:
        assert out.shape[0] == len(problem.times) and jnp.array_equal(out[0], a)


# ------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    "build,match",
    [
        (lambda: KuramotoSivashinsky1D(PeriodicGrid((8, 8)), 0.1), "`grid` must be a 1-d"),
        (lambda: KuramotoSivashinsky2D(PeriodicGrid(16), 0.1), "`grid` must be a 2-d"),
        (
            lambda: GrayScott2D(PeriodicGrid(16), 1e-5, 1e-5, 0.04, 0.06, 1.0),
            "`grid` must be a 2-d",
        ),
        (lambda: Heat(PeriodicGrid(16), -0.1, 0.1), "`nu` must be non-negative"),
        (lambda: FisherKPP(PeriodicGrid(16), -1.0, 1.0, 0.1), "`nu` must be non-negative"),
        (lambda: FisherKPP(PeriodicGrid(16), 1.0, -1.0, 0.1), "`r` must be non-negative"),
        (lambda: AllenCahn(PeriodicGrid(16), 0.0, 0.1), "`epsilon` must be positive"),
        (lambda: GrayScott2D(PeriodicGrid((8, 8)), 1e-5, -1e-5, 0.04, 0.06, 1.0), "`nu_v`"),
        (lambda: KortewegDeVries1D(PeriodicGrid(16), 0.0), "`dt` must be positive"),
        (lambda: AdvectionDiffusion(PeriodicGrid(16), [1.0], 0.1, -0.1), "`dt` must be positive"),
        (lambda: KuramotoSivashinsky1D(PeriodicGrid(16), 0.1, substeps=0), "`substeps`"),
        (lambda: AdvectionDiffusion(PeriodicGrid((8, 8)), [1.0], 0.1, 0.1), "`velocity`"),
        (lambda: AllenCahn(PeriodicGrid(4), 0.1, 0.1), "too small for dealiasing"),
    ],
)
def test_construction_errors_name_the_argument(build, match):
    with pytest.raises(ValueError, match=match):
        build()

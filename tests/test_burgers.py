"""Burgers 1D: the spectral ETDRK stepper and the finite-difference variant against the exact
Cole-Hopf solution (tests/burgers_exact.py), convergence orders, invariants, the diffrax paths,
gradients, checkpointed rollouts, the FNO problem and the error paths."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from burgers_exact import cole_hopf, cole_hopf_series

import pdejax
from pdejax import PeriodicGrid, integrate, rollout
from pdejax.data import make_problem
from pdejax.solvers import Burgers1D, Burgers1DDynamics, Burgers1DFD, Dirichlet
from pdejax.timestepping import ETDRK1, ETDRK2, ETDRK3, ETDRK4, ETDRKSolver

T = 0.2  # past the inviscid shock time 1/(2 pi) of u0 = sin(2 pi x): steep fronts for small nu


def _rel(a, b):
    return float(np.linalg.norm(np.asarray(a) - b) / np.linalg.norm(b))


def _sine_state(grid, amplitude=1.0):
    (x,) = grid.coordinates()
    return amplitude * jnp.sin(2 * jnp.pi * x)[None], np.asarray(x)


def _spectral_error(nu, num_points, steps, scheme=None, t=T):
    grid = PeriodicGrid(num_points)
    u0, x = _sine_state(grid)
    solver = Burgers1D(grid, nu, t, substeps=steps, scheme=scheme)
    return _rel(eqx.filter_jit(solver)(u0)[0], cole_hopf(x, t, nu))


def _smooth_random(grid, key, mean=0.0, std=0.5):
    """A band-limited (dealiased) random state with the given mean and standard deviation."""
    noise = grid.ifft(grid.fft(jr.normal(key, (1, *grid.num_points))) * grid.dealias_mask(0.25))
    return mean + std * noise / jnp.std(noise)


# ------------------------------------------------------------------ the exact reference itself


def test_cole_hopf_reference_is_converged_and_agrees_with_series():
    x = np.linspace(0, 1, 97, endpoint=False)
    for nu in (0.1, 0.02):
        quad = cole_hopf(x, T, nu)
        assert _rel(cole_hopf(x, T, nu, num_nodes=601), quad) < 1e-14
        assert _rel(cole_hopf_series(x, T, nu), quad) < 1e-13, nu
    assert _rel(cole_hopf(x, 1e-12, 0.01), np.sin(2 * np.pi * x)) < 1e-10  # t -> 0


# ------------------------------------------------------------------------- spectral accuracy


@pytest.mark.parametrize(
    "nu, num_points, steps", [(0.1, 64, 400), (0.02, 256, 400), (0.01, 512, 800)]
)
def test_matches_cole_hopf(nu, num_points, steps):
    err = _spectral_error(nu, num_points, steps)
    assert err < 1e-10, f"nu={nu}, N={num_points}, {steps} steps: relative L2 error {err:.2e}"


def test_spatial_error_decays_exponentially():
    """Local algebraic order -dlog(e)/dlog(N) grows with N: faster than any power."""
    sizes = [24, 32, 48, 64]
    errors = [_spectral_error(0.02, n, 400) for n in sizes]
    orders = -np.diff(np.log(errors)) / np.diff(np.log(sizes))
    rate = -np.polyfit(sizes, np.log(errors), 1)[0]
    assert np.all(np.diff(orders) > 0) and orders[-1] > 10, f"errors {errors}, orders {orders}"
    assert rate > 0.15, f"exponential rate {rate:.3f} per point; errors {errors}"


@pytest.mark.parametrize(
    "scheme",
    [*(pytest.param(s, marks=pytest.mark.slow) for s in (ETDRK1(), ETDRK2(), ETDRK3())), ETDRK4()],
    ids=lambda s: type(s).__name__,
)
def test_temporal_order(scheme):
    steps = [10, 20, 40, 80] if scheme.order > 1 else [40, 80, 160, 320]
    errors = [_spectral_error(0.1, 64, n, scheme) for n in steps]
    slope = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - scheme.order) < 0.2, f"fitted order {slope:.3f}, errors {errors}"


# ------------------------------------------------------------------------------- invariants


def test_mean_is_conserved_and_energy_decays():
    grid = PeriodicGrid(128)
    u0 = _smooth_random(grid, jr.key(0), mean=0.3)
    traj = rollout(Burgers1D(grid, 0.02, 0.01, substeps=2), u0, 40, include_initial=True)
    means = traj[:, 0].mean(-1)
    energy = (traj[:, 0] ** 2).mean(-1)
    assert float(jnp.max(jnp.abs(means - means[0]))) < 1e-14, means
    assert bool(jnp.all(jnp.diff(energy) < 0)), f"energy not decreasing: {energy}"
    assert float(energy[-1]) < 0.9 * float(energy[0])


def test_float32_state_stays_float32():
    grid = PeriodicGrid(128)
    u0, x = _sine_state(grid)
    u = Burgers1D(grid, 0.1, T, substeps=100)(u0.astype(jnp.float32))
    assert u.dtype == jnp.float32
    assert _rel(u[0], cole_hopf(x, T, 0.1)) < 1e-5


# --------------------------------------------------------------------- diffrax integration


def test_etdrk4_agrees_with_tsit5_on_the_dynamics():
    grid = PeriodicGrid(64)
    u0, _ = _sine_state(grid, 0.5)
    stepper = Burgers1D(grid, 0.05, T, substeps=200)
    sol = integrate(
        stepper.dynamics(),
        u0,
        jnp.array([0.0, T]),
        stepsize_controller=diffrax.PIDController(rtol=1e-12, atol=1e-12),
        max_steps=100_000,
    )
    err = _rel(sol.us[-1], np.asarray(stepper(u0)))
    assert err < 1e-8, f"ETDRK4 vs Tsit5 relative difference {err:.2e}"


def test_etdrk_solver_in_diffrax_matches_the_stepper():
    grid = PeriodicGrid(64)
    u0, _ = _sine_state(grid)
    forcing = 0.3 * jnp.cos(4 * jnp.pi * jnp.asarray(grid.coordinates()[0]))[None]
    stepper = Burgers1D(grid, 0.05, T, substeps=40, forcing=forcing)
    sol = diffrax.diffeqsolve(
        stepper.terms(), ETDRKSolver(ETDRK4()), 0.0, T, T / 40, u0, max_steps=64
    )
    np.testing.assert_allclose(sol.ys[-1], stepper(u0), rtol=1e-12, atol=1e-13)


# -------------------------------------------------------------------------------- gradients


def _fd_check(loss, x, direction, eps=1e-6, rtol=1e-6):
    ad = jnp.vdot(jax.grad(loss)(x), direction)
    fd = (loss(x + eps * direction) - loss(x - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(ad, fd, rtol=rtol)


def test_gradients_through_rollout_match_central_differences():
    grid = PeriodicGrid(32)
    u0, _ = _sine_state(grid, 0.8)
    w = jr.normal(jr.key(1), (1, 32))
    forcing = _smooth_random(grid, jr.key(3), std=0.1)

    def loss(u, nu, f):
        traj = rollout(Burgers1D(grid, nu, 0.05, substeps=4, forcing=f), u, 3)
        return jnp.sum(w * traj[-1])

    loss = jax.jit(loss)
    _fd_check(lambda u: loss(u, 0.05, forcing), u0, jr.normal(jr.key(2), u0.shape))
    _fd_check(lambda nu: loss(u0, nu, forcing), jnp.asarray(0.05), jnp.asarray(1.0))
    _fd_check(lambda f: loss(u0, 0.05, f), forcing, jr.normal(jr.key(4), forcing.shape))


@pytest.mark.slow
def test_gradient_through_integrate_matches_central_differences():
    grid = PeriodicGrid(16)
    u0, _ = _sine_state(grid, 0.5)

    @jax.jit
    def loss(nu):
        sol = integrate(
            Burgers1DDynamics(grid, nu), u0, jnp.array([0.0, 0.1]),
            stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-10),
        )  # fmt: skip
        return jnp.sum(sol.us[-1] ** 2)

    _fd_check(loss, jnp.asarray(0.1), jnp.asarray(1.0), eps=1e-5, rtol=1e-5)


def test_checkpointed_rollout_gives_the_same_gradient():
    grid = PeriodicGrid(32)
    u0, _ = _sine_state(grid, 0.8)
    stepper = Burgers1D(grid, 0.05, 0.01)

    def loss(u, checkpoint):
        return jnp.sum(rollout(stepper, u, 16, save_every=4, checkpoint=checkpoint)[-1] ** 2)

    g_plain = jax.jit(jax.grad(lambda u: loss(u, False)))(u0)
    grad_ckpt = jax.grad(lambda u: loss(u, True))
    assert "checkpoint" in str(jax.make_jaxpr(grad_ckpt)(u0)) or "remat" in str(
        jax.make_jaxpr(grad_ckpt)(u0)
    )
    np.testing.assert_allclose(jax.jit(grad_ckpt)(u0), g_plain, rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------ FNO problem


def test_fno_burgers_problem_reduced_scale():
    problem = make_problem("fno/burgers", num_points=256, num_steps=100)
    assert problem.parameters["nu"] == 0.1 and problem.parameters["final_time"] == 1.0
    a = jax.vmap(problem.sample_input)(jr.split(jr.key(0), 2))
    u = jax.jit(jax.vmap(problem.solve))(a)
    assert a.shape == u.shape == (2, 1, 256)
    assert bool(jnp.all(jnp.isfinite(u)))
    finer = jax.jit(jax.vmap(make_problem("fno/burgers", num_points=256, num_steps=400).solve))(a)
    err = float(jnp.max(jnp.linalg.norm(u - finer, axis=-1) / jnp.linalg.norm(finer, axis=-1)))
    assert err < 1e-6, f"100-step solve differs from 400 steps by {err:.2e}"
    np.testing.assert_allclose(u.mean(-1), a.mean(-1), atol=1e-12)  # zero-mean field, conserved


# ----------------------------------------------------------------------- finite differences


@pytest.mark.parametrize(
    "boundary",
    [None, pytest.param(Dirichlet(0.0, 0.0), marks=pytest.mark.slow)],
    ids=["periodic", "dirichlet"],
)
def test_fd_second_order_in_space(boundary):
    nu, errors, sizes = 0.05, [], [32, 64, 128, 256]
    for n in sizes:
        points = n if boundary is None else n - 1
        fd = Burgers1DFD(points, nu, T, boundary=boundary, substeps=max(n, n * n // 32))
        x = np.asarray(fd.coordinates())
        u = eqx.filter_jit(fd)(jnp.sin(2 * jnp.pi * jnp.asarray(x))[None])
        errors.append(_rel(u[0], cole_hopf(x, T, nu)))
    slope = -np.polyfit(np.log(sizes), np.log(errors), 1)[0]
    assert abs(slope - 2) < 0.15, f"fitted order {slope:.3f}, errors {errors}"


def test_fd_nonzero_dirichlet_keeps_the_viscous_shock():
    """u = -U tanh(U x / (2 nu)) is a steady solution on [-1, 1] with u(-1) = U, u(1) = -U."""
    nu, big_u, errors = 0.1, 1.0, []
    edge = big_u * np.tanh(big_u / (2 * nu))  # the profile at x = -1, +1
    for n in (31, 63, 127):
        fd = Burgers1DFD(
            n,
            nu,
            0.5,
            domain_length=2.0,
            boundary=Dirichlet(edge, -edge),
            substeps=(n + 1) ** 2 // 8,
        )
        x = fd.coordinates() - 1.0
        exact = -big_u * jnp.tanh(big_u * x / (2 * nu))
        errors.append(_rel(eqx.filter_jit(fd)(exact[None])[0], np.asarray(exact)))
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all(np.abs(ratios - 4) < 0.5), f"errors {errors}: not second order"


def test_fd_conserves_mean_and_decays_energy():
    fd = Burgers1DFD(128, 0.02, 0.01, substeps=8)
    u0 = _smooth_random(PeriodicGrid(128), jr.key(0), mean=0.3)
    traj = rollout(fd, u0, 30, include_initial=True)
    means, energy = traj[:, 0].mean(-1), (traj[:, 0] ** 2).mean(-1)
    assert float(jnp.max(jnp.abs(means - means[0]))) < 1e-14
    assert bool(jnp.all(jnp.diff(energy) < 0)), energy


def test_fd_stability_region_covers_the_documented_limits():
    """SSP-RK3 amplification of every Fourier mode of the linearised scheme is <= 1 when
    nu h/dx^2 <= 1/2 and |u| h/dx <= 1, and exceeds 1 just beyond the diffusive limit."""
    theta = np.linspace(0, np.pi, 401)

    def worst(alpha, cfl):
        z = -4 * alpha * np.sin(theta / 2) ** 2 - 1j * cfl * np.sin(theta)
        return np.abs(1 + z + z**2 / 2 + z**3 / 6).max()

    inside = max(worst(a, c) for a in np.linspace(0, 0.5, 21) for c in np.linspace(0, 1, 21))
    assert inside <= 1 + 1e-12, inside
    assert worst(0.65, 0.0) > 1


# ----------------------------------------------------------------------------------- errors


def test_construction_errors():
    grid = PeriodicGrid(32)
    with pytest.raises(ValueError, match="`nu`"):
        Burgers1D(grid, -0.1, 0.01)
    with pytest.raises(ValueError, match="`dt`"):
        Burgers1D(grid, 0.1, 0.0)
    with pytest.raises(ValueError, match="1-d PeriodicGrid"):
        Burgers1D(PeriodicGrid((8, 8)), 0.1, 0.01)
    with pytest.raises(ValueError, match="`substeps`"):
        Burgers1D(grid, 0.1, 0.01, substeps=0)
    with pytest.raises((ValueError, TypeError)):  # TypeError: the test-time annotation check
        Burgers1D(grid, 0.1, 0.01, scheme="etdrk4")
    with pytest.raises(ValueError, match="`forcing`"):
        Burgers1D(grid, 0.1, 0.01, forcing=jnp.zeros((1, 16)))
    with pytest.raises(ValueError, match="`nu`"):
        Burgers1DDynamics(grid, -1.0)
    with pytest.raises(ValueError, match="`nu`"):
        Burgers1DFD(32, -0.1, 0.001)
    with pytest.raises(ValueError, match="diffusive stability limit"):
        Burgers1DFD(64, 0.1, 0.01)  # dx^2 / (2 nu) = 1.2e-3


def test_non_finite_state_raises_inside_jit():
    grid = PeriodicGrid(32)
    bad = jnp.zeros((1, 32)).at[0, 3].set(jnp.nan)
    for model in (Burgers1D(grid, 0.1, 0.01), Burgers1DFD(32, 0.1, 1e-4)):
        with pytest.raises(Exception, match="not finite"):
            jax.block_until_ready(eqx.filter_jit(lambda m, u: m(u))(model, bad))


def test_fd_advective_cfl_violation_raises_inside_jit():
    fd = Burgers1DFD(32, 0.0, 0.05)  # inviscid: only the CFL limit applies
    u0 = jnp.ones((1, 32))
    with pytest.raises(Exception, match="CFL"):
        jax.block_until_ready(eqx.filter_jit(lambda m, u: m(u))(fd, u0))


def test_shape_error_suggests_vmap():
    with pytest.raises(ValueError, match="vmap"):
        Burgers1D(PeriodicGrid(16), 0.1, 0.01)(jnp.zeros((3, 1, 16)))
    assert isinstance(Burgers1D(PeriodicGrid(16), 0.1, 0.01).dynamics(), pdejax.AbstractDynamics)


def test_prepared_stepper_in_rollout_matches_repeated_calls_and_gradients():
    """rollout hoists the ETDRK coefficients (Burgers1D.prepare); results and gradients agree."""
    grid = PeriodicGrid(64)
    (x,) = grid.coordinates()
    u0 = (jnp.sin(2 * jnp.pi * x) + 0.3 * jnp.cos(6 * jnp.pi * x))[None]

    def by_calls(nu):
        b, u = Burgers1D(grid, nu, 0.01, substeps=2), u0
        for _ in range(6):
            u = b(u)
        return u

    def by_rollout(nu):
        return rollout(Burgers1D(grid, nu, 0.01, substeps=2), u0, 6)[-1]

    np.testing.assert_allclose(
        jax.jit(by_rollout)(0.05), jax.jit(by_calls)(0.05), rtol=1e-13, atol=1e-15
    )
    g1 = jax.jit(jax.grad(lambda nu: jnp.sum(by_rollout(nu) ** 2)))(0.05)
    g2 = jax.jit(jax.grad(lambda nu: jnp.sum(by_calls(nu) ** 2)))(0.05)
    np.testing.assert_allclose(g1, g2, rtol=1e-12)


def test_released_generator_problem_forms_fronts_and_converges_in_time():
    """fno/burgers_released (nu = 1e-3, sigma 49, tau 7, alpha 2.5): steep but resolved fronts."""
    coarse = make_problem("fno/burgers_released", num_points=512, num_steps=500)
    fine = make_problem("fno/burgers_released", num_points=512, num_steps=1000)
    a = coarse.sample_input(jr.key(0))
    u1, u2 = coarse.solve(a), fine.solve(a)
    assert coarse.parameters["nu"] == 1e-3
    err = float(jnp.linalg.norm(u1 - u2) / jnp.linalg.norm(u2))
    assert err < 1e-4, f"ETDRK4 500 vs 1000 steps differ by {err:.2e}"
    # unlike the paper's nu = 0.1 setting, most of the amplitude survives to t = 1
    assert float(jnp.abs(u2).max()) > 0.3 * float(jnp.abs(a).max())
    grid = PeriodicGrid(512)
    slope = jnp.abs(grid.derivative(u2[0], 0)).max() / jnp.abs(grid.derivative(a[0], 0)).max()
    assert float(slope) > 2, f"fronts should steepen, max slope grew only {float(slope):.2f}x"

"""rollout and integrate: exact solutions, statistics, gradients, errors."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from toys import FisherKPP, HeatStepper

from pdejax import PeriodicGrid, integrate, rollout


def _heat_problem():
    grid = PeriodicGrid(16, 2 * np.pi)
    (x,) = grid.coordinates()
    u0 = (jnp.sin(x) + 0.5 * jnp.cos(3 * x))[None]
    return grid, u0, x


def test_rollout_matches_exact_heat_solution_and_frame_layout():
    grid, u0, x = _heat_problem()
    nu, dt = 0.1, 0.05
    stepper = HeatStepper(grid, nu=nu, dt=dt)
    traj = rollout(stepper, u0, 12, save_every=3, include_initial=True)
    assert traj.shape == (5, 1, 16)
    for j, t in enumerate(dt * np.arange(0, 13, 3)):
        exact = np.exp(-nu * t) * np.sin(x) + 0.5 * np.exp(-9 * nu * t) * np.cos(3 * x)
        np.testing.assert_allclose(traj[j, 0], exact, atol=1e-14)
    np.testing.assert_allclose(rollout(stepper, u0, 12, save_every=3), traj[1:])


def test_rollout_checkpointed_gradient_equals_plain_gradient():
    grid = PeriodicGrid(32)
    model = FisherKPP(grid, nu=0.01, r=1.0)
    u0 = 0.5 + 0.1 * jnp.sin(2 * np.pi * grid.coordinates()[0])[None]

    def step(u):  # a nonlinear explicit stepper, so the backward pass needs the forward states
        return u + 1e-3 * model(0.0, u, None)

    def loss(u, checkpoint):
        return jnp.sum(rollout(step, u, 40, save_every=8, checkpoint=checkpoint) ** 2)

    g_plain = jax.grad(loss)(u0, False)
    g_ckpt = jax.grad(loss)(u0, True)
    np.testing.assert_allclose(g_ckpt, g_plain, rtol=1e-12)


def test_rollout_compiles_the_step_once():
    grid, u0, _ = _heat_problem()
    traces = []

    def step(u):
        traces.append(1)
        return 0.5 * u

    jax.jit(lambda u: rollout(step, u, 1000, save_every=10))(u0)
    assert len(traces) == 1, "the step should be traced once inside lax.scan"


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(num_steps=0), "num_steps"),
        (dict(num_steps=10, save_every=3), "multiple of `save_every`"),
        (dict(num_steps=10, save_every=0), "save_every"),
        (dict(num_steps=2.0), "num_steps"),
    ],
)
def test_rollout_bad_counts(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        rollout(lambda u: u, jnp.ones((1, 4)), **kwargs)


def _oscillator(t, y, args):
    omega = args
    return jnp.stack([y[1], -(omega**2) * y[0]])


def test_integrate_matches_harmonic_oscillator():
    omega = 2.0
    ts = jnp.linspace(0.0, 3.0, 7)
    y0 = jnp.array([[1.0], [0.0]])
    sol = integrate(
        _oscillator,
        y0,
        ts,
        args=omega,
        stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-12),
        max_steps=100_000,
    )
    exact = jnp.stack([jnp.cos(omega * ts), -omega * jnp.sin(omega * ts)], axis=1)[..., None]
    np.testing.assert_allclose(sol.us, exact, atol=1e-8)
    np.testing.assert_allclose(sol.ts, ts)
    assert int(sol.num_steps) == int(sol.num_accepted_steps) + int(sol.num_rejected_steps)
    assert sol.result == diffrax.RESULTS.successful


def test_integrate_constant_steps_counts_and_order():
    ts = jnp.array([0.0, 1.0])
    y0 = jnp.ones((1, 1))
    errors = []
    for n in (10, 20, 40):
        sol = integrate(
            lambda t, y, a: -y,
            y0,
            ts,
            solver=diffrax.Heun(),
            stepsize_controller=diffrax.ConstantStepSize(),
            dt0=1.0 / n,
        )
        assert int(sol.num_accepted_steps) == n and int(sol.num_rejected_steps) == 0
        assert int(sol.num_fevals) == 2 * n  # Heun: two stages, no reuse
        errors.append(abs(float(sol.us[-1, 0, 0]) - np.exp(-1.0)))
    slope = np.polyfit(np.log([10, 20, 40]), np.log(errors), 1)[0]
    assert abs(slope + 2) < 0.1, f"Heun should be second order: errors {errors}, slope {slope:.3f}"


def _counted(f):
    """Wrap a vector field so every evaluation increments a host-side counter."""
    count = [0]

    def bump():
        count[0] += 1

    def g(t, y, args):
        jax.debug.callback(bump, ordered=True)
        return f(t, y, args)

    return g, count


@pytest.mark.parametrize(
    "solver, dt0",
    [
        (diffrax.Tsit5(), None),
        (diffrax.Tsit5(), 0.05),
        (diffrax.Dopri5(), None),
        (diffrax.Bosh3(), 0.05),
        (diffrax.Dopri8(), None),
        (diffrax.Heun(), 0.05),
    ],
    ids=["tsit5", "tsit5-dt0", "dopri5", "bosh3-dt0", "dopri8", "heun-dt0"],
)
def test_num_fevals_equals_actual_evaluations(solver, dt0):
    """The reported count equals a count taken inside the vector field, rejected steps included."""
    f, count = _counted(lambda t, y, a: jnp.stack([y[1], -y[0] + 3.0 * (1 - y[0] ** 2) * y[1]]))
    sol = integrate(
        f,
        jnp.array([[2.0], [0.0]]),
        jnp.array([0.0, 4.0]),
        solver=solver,
        dt0=dt0,
        stepsize_controller=diffrax.PIDController(rtol=1e-4, atol=1e-6),
    )
    rejected = int(sol.num_rejected_steps)
    assert rejected > 0 or isinstance(solver, diffrax.Heun), "the problem should reject steps"
    info = (int(sol.num_fevals), count[0], int(sol.num_steps), rejected)
    if dt0 is None or not solver.tableau.fsal:
        # no rejected first step here: the count is exact
        assert int(sol.num_fevals) == count[0], info
    else:
        # dt0 = 0.05 is too long: diffrax re-evaluates f(t0, u0) after each rejected first step
        assert int(sol.num_fevals) <= count[0] <= int(sol.num_fevals) + rejected, info


def test_integrate_gradient_through_dynamics_parameters():
    grid = PeriodicGrid(16)
    u0 = 0.5 + 0.2 * jnp.cos(2 * np.pi * grid.coordinates()[0])[None]
    ts = jnp.array([0.0, 0.5])

    def loss(nu):
        sol = integrate(
            FisherKPP(grid, nu=nu, r=1.0),
            u0,
            ts,
            stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-12),
        )
        return jnp.sum(sol.us[-1] ** 2)

    g = jax.grad(loss)(0.01)
    eps = 1e-5
    fd = (loss(0.01 + eps) - loss(0.01 - eps)) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-6)


def test_integrate_vmaps_over_initial_states():
    ts = jnp.array([0.0, 1.0])
    y0s = jr.normal(jr.key(0), (3, 1, 2))
    out = eqx.filter_vmap(lambda y: integrate(lambda t, y, a: -2 * y, y, ts).us[-1])(y0s)
    np.testing.assert_allclose(out, y0s * np.exp(-2.0), rtol=1e-6)


def test_integrate_errors():
    with pytest.raises(ValueError, match="dt0"):
        integrate(
            lambda t, y, a: y,
            jnp.ones((1, 2)),
            jnp.array([0.0, 1.0]),
            stepsize_controller=diffrax.ConstantStepSize(),
        )
    with pytest.raises(ValueError, match="ts"):
        integrate(lambda t, y, a: y, jnp.ones((1, 2)), jnp.array([0.0]))
    # a failure inside the solve is raised, never returned as a silent label
    with pytest.raises(Exception, match="max_steps|maximum number of solver steps"):
        integrate(lambda t, y, a: -1e4 * y, jnp.ones((1, 2)), jnp.array([0.0, 10.0]), max_steps=8)
    sol = integrate(
        lambda t, y, a: -1e4 * y, jnp.ones((1, 2)), jnp.array([0.0, 10.0]), max_steps=8, throw=False
    )
    assert sol.result != diffrax.RESULTS.successful


def test_dynamics_shape_check_suggests_vmap():
    grid = PeriodicGrid(8)
    with pytest.raises(ValueError, match=r"expected \(1, 8\).*vmap"):
        FisherKPP(grid, nu=0.1, r=1.0)(0.0, jnp.ones((5, 1, 8)), None)
    with pytest.raises(ValueError, match=r"channel axis is missing"):
        HeatStepper(grid, nu=0.1, dt=0.1)(jnp.ones((8,)))

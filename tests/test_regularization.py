"""Adaptive-solver heuristics as regularizers: exactness against independent recomputations,
linear test problems with known spectra, gradients against finite differences, and errors."""

import diffrax
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax import (
    RegularizedSolver,
    function_evaluations,
    one_step_estimates,
    regularization_schedule,
    stability_boundary,
)
from pdejax.neural_ode.regularization import insert_times

SOLVERS = [diffrax.Tsit5, diffrax.Dopri5, diffrax.Dopri8, diffrax.Bosh3]
RTOL, ATOL = 1e-5, 1e-7


def pendulum(t, y, args):
    """A damped pendulum, nonlinear; strong enough to make the controller reject steps."""
    return jnp.stack([y[1], -args * jnp.sin(y[0]) - 0.1 * y[1]])


Y0 = jnp.array([2.5, 0.0])


def solve(solver, args=3.0, controller=None, dt0=0.5, t1=10.0, saveat=None):
    controller = controller or diffrax.PIDController(rtol=RTOL, atol=ATOL)
    saveat = saveat or diffrax.SaveAt(t1=True, solver_state=True)
    return diffrax.diffeqsolve(
        diffrax.ODETerm(pendulum),
        solver,
        0.0,
        t1,
        dt0,
        Y0,
        args=args,
        stepsize_controller=controller,
        saveat=saveat,
        max_steps=4096,
    )


def _recompute(solver_cls, ts, ys, args):
    """Sum of the heuristics over the given steps, from each step's outputs, in NumPy."""
    solver, tab = solver_cls(), solver_cls.tableau
    terms = diffrax.ODETerm(pendulum)
    s = tab.num_stages
    w = np.zeros(s)
    w[: s - 1] += tab.a_lower[-1]
    w[: s - 2] -= tab.a_lower[-2] if s > 2 else 0.0
    err_sum, stiff_sum = 0.0, 0.0
    beta = stability_boundary(tab)

    @jax.jit
    def one_step(t0, t1, y0):
        state = solver.init(terms, t0, t1, y0, args)
        return solver.step(terms, t0, t1, y0, args, state, False)

    for t0, t1, y0 in zip(ts[:-1], ts[1:], ys[:-1]):
        y1, y_err, dense, _, _ = one_step(t0, t1, y0)
        y0n, y1n, en, k = (np.asarray(a) for a in (y0, y1, y_err, dense["k"]))
        scale = ATOL + RTOL * np.maximum(np.abs(y0n), np.abs(y1n))
        err_sum += np.sqrt(np.mean((en / scale) ** 2)) * abs(t1 - t0)
        rho = np.linalg.norm(k[-1] - k[-2]) / np.linalg.norm(w @ k) / abs(t1 - t0)
        stiff_sum += abs(t1 - t0) * rho / beta
    return err_sum, stiff_sum


@pytest.mark.parametrize("solver_cls", SOLVERS, ids=lambda c: c.__name__)
def test_accumulated_estimates_equal_recomputation_over_accepted_steps(solver_cls):
    ctrl = diffrax.PIDController(rtol=RTOL, atol=ATOL)
    wrapped = RegularizedSolver.from_controller(solver_cls(), ctrl)
    sol = solve(wrapped, controller=ctrl)
    acc = RegularizedSolver.heuristics(sol.solver_state)
    # The accepted step grid of the unwrapped solver: the wrapper must not change it.
    steps = solve(solver_cls(), controller=ctrl, saveat=diffrax.SaveAt(steps=True, t0=True))
    n = int(steps.stats["num_accepted_steps"])
    assert int(steps.stats["num_rejected_steps"]) > 0, "the test needs rejected steps"
    assert int(acc.num_accepted) == n == int(sol.stats["num_accepted_steps"])
    ts, ys = np.asarray(steps.ts[: n + 1]), steps.ys[: n + 1]
    err, stiff = _recompute(solver_cls, ts, ys, 3.0)
    np.testing.assert_allclose(float(acc.error), err, rtol=1e-10)
    np.testing.assert_allclose(float(acc.stiffness), stiff, rtol=1e-10)


def test_wrapper_changes_nothing_and_adds_no_function_evaluations():
    count = {"n": 0}

    def counted(t, y, args):
        jax.debug.callback(lambda: count.__setitem__("n", count["n"] + 1))
        return pendulum(t, y, args)

    def run(solver):
        count["n"] = 0
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(counted),
            solver,
            0.0,
            10.0,
            0.5,
            Y0,
            args=3.0,
            stepsize_controller=diffrax.PIDController(rtol=RTOL, atol=ATOL),
            saveat=diffrax.SaveAt(ts=jnp.linspace(0, 10, 5)),
        )
        jax.block_until_ready(sol.ys)
        return sol, count["n"]

    plain, n_plain = run(diffrax.Tsit5())
    wrapped, n_wrapped = run(RegularizedSolver(diffrax.Tsit5(), rtol=RTOL, atol=ATOL))
    assert n_wrapped == n_plain, (n_wrapped, n_plain)
    for key in ("num_steps", "num_accepted_steps", "num_rejected_steps"):
        assert int(plain.stats[key]) == int(wrapped.stats[key])
    np.testing.assert_array_equal(plain.ys, wrapped.ys)
    # The tableau count of pdejax.function_evaluations; diffrax re-evaluates f(t0, y0) once per
    # rejection of the very first step (see its docstring), hence the inequality bound.
    nfe = int(function_evaluations(diffrax.Tsit5(), plain.stats["num_steps"]))
    assert nfe <= n_plain <= nfe + int(plain.stats["num_rejected_steps"])


def test_gradient_matches_central_differences():
    """On a fixed step grid the accumulated sums are smooth in the parameter."""
    ctrl = diffrax.ConstantStepSize()
    wrapped = RegularizedSolver(diffrax.Tsit5(), rtol=RTOL, atol=ATOL)

    def sums(a):
        acc = RegularizedSolver.heuristics(solve(wrapped, a, ctrl, dt0=0.25).solver_state)
        return jnp.stack([acc.error, acc.stiffness])

    a, eps = 3.0, 1e-5
    ad = jax.jit(jax.jacrev(sums))(a)
    fd = (sums(a + eps) - sums(a - eps)) / (2 * eps)
    np.testing.assert_allclose(ad, fd, rtol=1e-6, err_msg=f"reverse {ad}, fd {fd}")


def test_gradient_with_adaptive_steps_under_jit_and_vmap():
    ctrl = diffrax.PIDController(rtol=RTOL, atol=ATOL)
    wrapped = RegularizedSolver.from_controller(diffrax.Tsit5(), ctrl)

    def err(a):
        return RegularizedSolver.heuristics(solve(wrapped, a, ctrl).solver_state).error

    a = jnp.array([2.0, 3.0])
    batched = jax.jit(jax.vmap(jax.value_and_grad(err)))(a)
    single = jax.jit(jax.value_and_grad(err))
    looped = [single(x) for x in a]
    # Batched and single programs sum ~60 steps in differently fused orders: rounding only.
    np.testing.assert_allclose(batched[0], [v for v, _ in looped], rtol=1e-10)
    np.testing.assert_allclose(batched[1], [g for _, g in looped], rtol=1e-10)
    assert np.all(np.isfinite(batched[1]))


@pytest.mark.parametrize("solver_cls", SOLVERS, ids=lambda c: c.__name__)
def test_eigenvalue_estimate_is_exact_for_a_normal_2x2_block(solver_cls):
    # A = a I + w J: |A v| = sqrt(a^2 + w^2) |v| for every v, so the secant estimate is exact.
    # The step is half the stability limit (h rho / beta = 1/2): at much smaller h the
    # last two stages agree to O((h rho)^p) and rounding in their difference dominates.
    a_, w_ = -3.0, 4.0
    mat = jnp.array([[a_, -w_], [w_, a_]])
    beta = stability_boundary(solver_cls.tableau)
    h = 0.5 * beta / 5.0
    est = one_step_estimates(
        solver_cls(), lambda t, y, args: mat @ y, 0.0, jnp.array([1.0, 0.3]), h, rtol=1, atol=1
    )
    np.testing.assert_allclose(float(est.eigenvalue), 5.0, rtol=1e-12)
    np.testing.assert_allclose(float(est.stiffness), 0.5, rtol=1e-12)


@pytest.mark.parametrize(
    "solver_cls, rtol", [(diffrax.Tsit5, 1e-4), (diffrax.Dopri5, 1e-4), (diffrax.Dopri8, 1e-6),
                         (diffrax.Bosh3, 1e-2), (diffrax.Heun, 1e-2)],
    ids=lambda x: getattr(x, "__name__", str(x)),
)  # fmt: skip
def test_eigenvalue_estimate_finds_the_dominant_eigenvalue(solver_cls, rtol):
    """Spectrum {-1, -10, -100}: the last-stage difference is a high power of hA applied to
    u0, so the slower modes are suppressed by (10/100)^p; higher order, sharper estimate."""
    lam = jnp.array([-1.0, -10.0, -100.0])
    f = lambda t, y, args: lam * y  # noqa: E731
    for h in (1e-3, 1e-2):
        est = one_step_estimates(solver_cls(), f, 0.0, jnp.ones(3), h, rtol=1, atol=1)
        np.testing.assert_allclose(float(est.eigenvalue), 100.0, rtol=rtol, err_msg=f"h={h}")
    # Heun: Y2 - Y1 = h A u0, so the estimate is |A^2 u0| / |A u0| exactly.
    if solver_cls is diffrax.Heun:
        exact = float(jnp.linalg.norm(lam**2) / jnp.linalg.norm(lam))
        np.testing.assert_allclose(float(est.eigenvalue), exact, rtol=1e-12)


def test_max_eigenvalue_over_an_adaptive_solve():
    lam = jnp.array([-1.0, -10.0, -100.0])
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(lambda t, y, args: lam * y),
        RegularizedSolver(diffrax.Tsit5(), rtol=1e-6, atol=1e-9),
        0.0,
        0.05,
        None,
        jnp.ones(3),
        stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-9),
        saveat=diffrax.SaveAt(t1=True, solver_state=True),
    )
    acc = RegularizedSolver.heuristics(sol.solver_state)
    np.testing.assert_allclose(float(acc.max_eigenvalue), 100.0, rtol=1e-3)


@pytest.mark.parametrize(
    "solver_cls, expected",
    [(diffrax.Tsit5, 3.5068), (diffrax.Dopri5, 3.3066), (diffrax.Heun, 2.0)],
    ids=lambda x: getattr(x, "__name__", str(x)),
)
def test_stability_boundary_matches_known_values(solver_cls, expected):
    # Tsit5 and Dopri5: the constants of DifferentialEquations.jl's stiffness detection;
    # Heun: R(z) = 1 + z + z^2/2, |R(-2)| = 1.
    assert round(stability_boundary(solver_cls.tableau), 4) == expected


@pytest.mark.parametrize("solver_cls", [*SOLVERS, diffrax.Heun], ids=lambda c: c.__name__)
def test_stability_boundary_is_where_the_amplification_leaves_the_unit_disc(solver_cls):
    from pdejax.neural_ode.regularized_solver import _stability_polynomial

    c = _stability_polynomial(solver_cls.tableau)
    beta = stability_boundary(solver_cls.tableau)
    r = lambda x: np.polyval(c[::-1], -x)  # noqa: E731
    inside = np.abs(r(np.linspace(0, beta, 2001)))
    assert inside.max() <= 1 + 1e-9, inside.max()
    assert abs(r(beta * 1.001)) > 1
    # the stability polynomial is exp(z) to the method's order
    order = solver_cls().order(None)
    fact = np.cumprod([1.0, *range(1, order + 1)])
    np.testing.assert_allclose(c[: order + 1], 1 / fact, rtol=1e-12)


def test_reservoir_sample_is_uniform_over_accepted_steps():
    ctrl = diffrax.PIDController(rtol=RTOL, atol=ATOL)
    steps = solve(diffrax.Tsit5(), controller=ctrl, saveat=diffrax.SaveAt(steps=True, t0=True))
    n = int(steps.stats["num_accepted_steps"])
    starts = np.asarray(steps.ts[:n])

    def sample(key):
        solver = RegularizedSolver.from_controller(diffrax.Tsit5(), ctrl, key=key)
        acc = RegularizedSolver.heuristics(solve(solver, controller=ctrl).solver_state)
        return acc.sample_t, acc.sample_dt, acc.sample_y

    draws = 1500
    t, dt, y = jax.jit(jax.vmap(sample))(jr.split(jr.key(0), draws))
    idx = np.searchsorted(starts, np.asarray(t))
    np.testing.assert_allclose(starts[idx], t, rtol=0, atol=1e-12)  # always a step start
    np.testing.assert_allclose(np.diff(np.asarray(steps.ts[: n + 1]))[idx], dt, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(steps.ys[:n])[idx], y, rtol=1e-12)
    counts = np.bincount(idx, minlength=n)
    expected = draws / n
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    # chi-square with n-1 dof: mean n-1, sd sqrt(2(n-1)); 5 sd is a loose, still failing bound
    assert chi2 < (n - 1) + 5 * np.sqrt(2 * (n - 1)), (chi2, n, counts)


def test_insert_times_round_trip():
    ts = jnp.linspace(0.0, 1.0, 6)
    extra = jnp.array([0.55, 0.05, 0.95])
    merged, split = insert_times(ts, extra)
    assert np.all(np.diff(np.asarray(merged)) >= 0)
    a, b = split(merged)
    np.testing.assert_array_equal(a, ts)
    np.testing.assert_array_equal(b, extra)


def test_schedule():
    w = regularization_schedule(1.0, final_weight=1e-2, decay_steps=100, warmup_steps=10)
    np.testing.assert_allclose([float(w(n)) for n in (0, 5, 10, 60, 110, 500)],
                               [0.0, 0.5, 1.0, 0.1, 0.01, 0.01], rtol=1e-12)  # fmt: skip
    assert float(regularization_schedule(0.3)(1000)) == 0.3
    lin = regularization_schedule(2.0, final_weight=0.0, decay_steps=4)
    assert [float(lin(n)) for n in range(6)] == [2.0, 1.5, 1.0, 0.5, 0.0, 0.0]
    with pytest.raises(ValueError, match="non-negative"):
        regularization_schedule(-1.0)
    with pytest.raises(ValueError, match="decay_steps"):
        regularization_schedule(1.0, final_weight=0.1, decay_steps=0)


@pytest.mark.parametrize(
    "solver, name",
    [
        (diffrax.Euler(), "Euler"),
        (diffrax.Kvaerno5(), "Kvaerno5"),
        (diffrax.HalfSolver(diffrax.Euler()), "HalfSolver"),
        (diffrax.KenCarp4(), "KenCarp4"),
    ],
    ids=["non-adaptive", "implicit", "wrapped", "imex"],
)
def test_solvers_without_an_embedded_explicit_estimate_are_rejected(solver, name):
    with pytest.raises(ValueError, match=name):
        RegularizedSolver(solver, rtol=1e-3, atol=1e-6)
    with pytest.raises(ValueError, match=name):
        one_step_estimates(solver, pendulum, 0.0, Y0, 0.1, 3.0, rtol=1e-3, atol=1e-6)


def test_from_controller_needs_a_pid_controller():
    with pytest.raises(ValueError, match="PIDController"):
        RegularizedSolver.from_controller(diffrax.Tsit5(), diffrax.ConstantStepSize())


def test_a_two_tuple_state_gives_the_same_heuristics_as_the_stacked_array():
    """A state ``(x, v)`` is a 2-tuple like the (value, error) pairs the estimates once found
    with an ``is_leaf`` test; the heuristics must equal those of the stacked array state."""

    def split(t, y, args):
        x, v = y
        return v, -args * jnp.sin(x) - 0.1 * v

    ctrl = diffrax.PIDController(rtol=RTOL, atol=ATOL)
    solver = RegularizedSolver.from_controller(diffrax.Tsit5(), ctrl)
    sols = [
        diffrax.diffeqsolve(
            diffrax.ODETerm(f),
            solver,
            0.0,
            10.0,
            0.5,
            y0,
            args=3.0,
            stepsize_controller=ctrl,
            max_steps=4096,
            saveat=diffrax.SaveAt(t1=True, solver_state=True),
        )  # fmt: skip
        for f, y0 in ((pendulum, Y0), (split, (Y0[0], Y0[1])))
    ]
    stacked, pair = (RegularizedSolver.heuristics(s.solver_state) for s in sols)
    assert int(pair.num_accepted) == int(stacked.num_accepted) > 10
    for name in ("error", "stiffness", "max_eigenvalue"):
        a, b = float(getattr(stacked, name)), float(getattr(pair, name))
        assert a > 0 and abs(a - b) <= 1e-9 * a, (name, a, b)  # rounding of the two fields

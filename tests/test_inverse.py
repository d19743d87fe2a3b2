"""pdejax.inverse: observations, priors, objectives, solvers, and the worked problems."""

import pathlib
import sys

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax import PeriodicGrid, VertexGrid
from pdejax.inverse import (
    Compose,
    FullField,
    GaussianNoise,
    H1Smoothness,
    IntegrateForward,
    InverseError,
    InverseStatus,
    LeastSquaresObjective,
    LogCoefficient,
    PointSensors,
    RolloutForward,
    SmoothedThreshold,
    Subsample,
    Tikhonov,
    TimeFrames,
    TotalVariation,
    gradient_check,
    random_sensors,
    solve_inverse,
)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "experiments"))
import inverse_burgers  # noqa: E402
import inverse_darcy  # noqa: E402
import inverse_navier_stokes  # noqa: E402

GRAD_TOL = 1e-6


def _cubic(y):
    return LeastSquaresObjective(lambda p: p**3 + p, y)


# ------------------------------------------------------------------------- observations
def test_observation_operators_select_the_right_values():
    u = jnp.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5)  # (T, C, X, Y)
    sensors = PointSensors(([0, 3], [4, 1]), spatial_shape=(4, 5))
    np.testing.assert_array_equal(sensors(u), u[:, :, [0, 3], [4, 1]])
    np.testing.assert_array_equal(Subsample((2, 3), offset=(1, 0))(u), u[..., 1::2, ::3])
    np.testing.assert_array_equal(TimeFrames((1,), num_frames=2)(u), u[1:])
    both = Compose(TimeFrames((0,), num_frames=2), sensors)
    np.testing.assert_array_equal(both(u), u[:1, :, [0, 3], [4, 1]])
    assert FullField()(u) is u
    chosen = random_sensors((6, 7), 0.25, key=jr.key(0), interior=True)
    assert chosen.num_sensors == round(0.25 * 42)
    idx = np.stack(chosen.indices)
    assert idx[0].min() >= 1 and idx[0].max() <= 4 and idx[1].min() >= 1 and idx[1].max() <= 5
    assert len(set(zip(*chosen.indices))) == chosen.num_sensors  # distinct


def test_gaussian_noise_level_is_relative_to_the_rms():
    y = 3.0 * jnp.ones(40_000)
    noisy = GaussianNoise(0.05)(y, key=jr.key(0))
    assert abs(float(jnp.std(noisy - y)) / 0.15 - 1) < 0.02
    assert float(GaussianNoise(0.1, relative=False).std(y)) == pytest.approx(0.1)


def test_observation_shape_errors_name_the_argument_and_expected_shape():
    sensors = PointSensors(([0], [1]), spatial_shape=(4, 4))
    with pytest.raises(ValueError, match=r"`u` has shape \(1, 4, 5\).*spatial_shape \(4, 4\)"):
        sensors(jnp.ones((1, 4, 5)))
    with pytest.raises(ValueError, match=r"indices\[1\]` must lie in \[0, 4\)"):
        PointSensors(([0], [4]), spatial_shape=(4, 4))
    with pytest.raises(ValueError, match="expected a trajectory with 3 frames"):
        TimeFrames((0,), num_frames=3)(jnp.ones((4, 1, 8)))
    objective = LeastSquaresObjective(
        lambda u: u, jnp.ones(3), observation=PointSensors(([0, 1],), spatial_shape=(8,))
    )
    with pytest.raises(ValueError, match=r"`data` has shape \(3,\).*expected `data` of shape"):
        objective(jnp.ones((1, 8)))
    with pytest.raises(ValueError, match=r"expected `data` of shape \(1, 2\)"):
        solve_inverse(objective, jnp.ones((1, 8)))


# ---------------------------------------------------------------------------------- priors
def test_priors_match_their_integrals():
    grid = PeriodicGrid(32, 2 * np.pi)
    (x,) = grid.coordinates()
    u = jnp.sin(3 * x)[None]
    # (w/2) int |u'|^2 = (w/2) * 9 * pi
    assert float(H1Smoothness(grid, 2.0)(u)) == pytest.approx(9 * np.pi, rel=1e-12)
    # the Nyquist mode, invisible to the spectral gradient, is penalised: |k| = 16
    nyquist = jnp.cos(16 * x)[None]
    assert float(H1Smoothness(grid, 2.0)(nyquist)) == pytest.approx(256 * 2 * np.pi, rel=1e-12)
    vgrid = VertexGrid((21, 21))
    xx, yy = vgrid.mesh()
    plane = 2 * xx + yy  # |grad| = sqrt(5) exactly with second-order differences
    assert float(H1Smoothness(vgrid, 1.0)(plane)) == pytest.approx(0.5 * 5 * 21**2 / 20**2)
    tv = TotalVariation(vgrid, 1.0, epsilon=1e-8)(plane)
    assert float(tv) == pytest.approx(np.sqrt(5) * 21**2 / 20**2, rel=1e-10)
    assert float(Tikhonov(4.0, reference=1.0)(jnp.array([3.0, 1.0]))) == 8.0
    tik = Tikhonov(1.0, select=lambda p: p["a"])
    assert float(tik({"a": jnp.ones(2), "b": jnp.ones(5)})) == 1.0
    with pytest.raises(ValueError, match="weight"):
        Tikhonov(-1.0)


def test_reparameterisations_round_trip_and_bound():
    theta = jnp.linspace(-3, 3, 7)
    log = LogCoefficient()
    np.testing.assert_allclose(log.inverse(log(theta)), theta, rtol=1e-12)
    step = SmoothedThreshold(3.0, 12.0, epsilon=0.5)
    a = step(theta)
    assert float(a.min()) > 3 and float(a.max()) < 12
    np.testing.assert_allclose(step.inverse(a), theta, atol=1e-9)
    np.testing.assert_array_equal(step.regions(theta), theta > 0)
    with pytest.raises(ValueError, match="high"):
        SmoothedThreshold(2.0, 1.0)


# ------------------------------------------------------------------------------ solvers
@pytest.mark.parametrize("method", ["adam", "lbfgs", "gauss_newton", "levenberg_marquardt"])
def test_every_method_solves_a_small_nonlinear_least_squares(method):
    lr = 0.05 if method == "adam" else None
    res = solve_inverse(_cubic(jnp.array([2.0, 10.0])), jnp.zeros(2), method, max_steps=600,
                        learning_rate=lr)  # fmt: skip
    np.testing.assert_allclose(res.params, [1.0, 2.0], atol=1e-6 if method == "adam" else 1e-9)
    assert res.succeeded and res.time > 0
    history = np.asarray(res.loss_history)[: int(res.iterations)]
    assert np.all(np.isfinite(history)) and history[-1] < 1e-10 * history[0]


def test_adam_accepts_a_schedule():
    import optax

    schedule = optax.exponential_decay(0.1, 100, 0.5)
    res = solve_inverse(_cubic(jnp.array([2.0, 10.0])), jnp.zeros(2), "adam", max_steps=500,
                        learning_rate=schedule)  # fmt: skip
    np.testing.assert_allclose(res.params, [1.0, 2.0], atol=1e-5)


@pytest.mark.parametrize(
    "method", [pytest.param("lbfgs", marks=pytest.mark.slow), "levenberg_marquardt"]
)
def test_vmap_over_independent_problems_matches_separate_solves(method):
    ys = jnp.array([[2.0, 10.0], [0.0, 2.0], [10.0, 68.0]])

    def solve(y):
        return solve_inverse(_cubic(y), jnp.zeros(2), method, max_steps=100, throw=False)

    batched = jax.vmap(solve)(ys)
    np.testing.assert_allclose(batched.params, [[1, 2], [0, 1], [2, 4]], atol=1e-8)
    for i, y in enumerate(ys):
        single = solve(y)
        np.testing.assert_allclose(batched.params[i], single.params, atol=1e-10)
        assert int(batched.iterations[i]) == int(single.iterations)
    assert np.all(np.asarray(batched.status == InverseStatus.converged))


def test_vmap_over_regularization_weights():
    grid = PeriodicGrid(16)
    (x,) = grid.coordinates()
    data = jnp.sin(2 * np.pi * x)[None]

    def solve(w):
        obj = LeastSquaresObjective(lambda u: u, data, priors=[H1Smoothness(grid, w)])
        return solve_inverse(obj, jnp.zeros_like(data), "gauss_newton", max_steps=5, throw=False)

    weights = jnp.array([0.0, 1e-3, 1e-1])
    res = jax.vmap(solve)(weights)
    # closed form: mode k shrinks by 1 / (1 + w k^2 dx)
    dx = 1 / 16
    expected = data[None] / (1 + weights[:, None, None] * (2 * np.pi) ** 2 * dx)
    np.testing.assert_allclose(res.params, expected, atol=1e-12)


def test_solver_under_jit_requires_throw_false():
    with pytest.raises(ValueError, match="throw=False"):
        jax.jit(lambda y: solve_inverse(_cubic(y), jnp.zeros(2)).params)(jnp.ones(2))


def _exploding(p):
    # non-finite once p[0] exceeds 1.5: the optimiser heads there (the solution is p = 3)
    return jnp.where(p[0] > 1.5, jnp.nan, p**3 + p)


def test_non_finite_forward_stops_with_the_iteration_and_the_best_iterate():
    objective = LeastSquaresObjective(_exploding, jnp.array([30.0, 10.0]))
    with pytest.raises(InverseError, match=r"non-finite at iteration (\d+)") as info:
        solve_inverse(objective, jnp.zeros(2), "adam", max_steps=300, learning_rate=0.1)
    res = info.value.result
    k = int(res.failed_at)
    assert res.status == InverseStatus.nonfinite and k > 0 and int(res.iterations) == k
    assert f"iteration {k}" in str(info.value)
    history = np.asarray(res.loss_history)
    assert np.all(np.isfinite(history[:k])) and np.all(np.isnan(history[k:]))
    assert float(res.loss) == pytest.approx(history[:k].min())
    assert np.all(np.isfinite(res.params)) and float(res.params[0]) <= 1.5
    np.testing.assert_array_equal(res.params, res.best_params)
    # the same without raising
    quiet = solve_inverse(objective, jnp.zeros(2), "adam", max_steps=300, learning_rate=0.1,
                          throw=False)  # fmt: skip
    assert int(quiet.failed_at) == k and "non-finite at iteration" in quiet.message


def test_forward_that_raises_is_located_and_best_iterate_returned():
    def forward(p):
        out = p**3 + p
        return eqx.error_if(out, out[0] > 9, "forward blew up")

    objective = LeastSquaresObjective(forward, jnp.array([30.0, 10.0]))
    res = solve_inverse(objective, jnp.zeros(2), "adam", max_steps=300, learning_rate=0.1,
                        check_every=7, throw=False)  # fmt: skip
    k = int(res.failed_at)
    assert res.status == InverseStatus.forward_error and "forward blew up" in res.error
    assert f"raised at iteration {k}" in res.message
    # iteration k is the first whose iterate trips the check: rerun exactly k steps, then one more
    before = solve_inverse(objective, jnp.zeros(2), "adam", max_steps=k, learning_rate=0.1)
    np.testing.assert_array_equal(before.best_params, res.best_params)
    np.testing.assert_array_equal(before.params, before.params)
    assert float(before.params[0] ** 3 + before.params[0]) > 9  # the next step raises


# ------------------------------------------------------------- forward-model wrappers
@pytest.mark.slow  # 20-30 s; RolloutForward is covered by default through the Burgers gradient tests
def test_rollout_and_integrate_forwards_differentiate_with_checkpointing():
    grid = PeriodicGrid(16)
    decay = jnp.exp(-0.01 * grid.wavenumber_norm_squared())

    def heat(u):
        return grid.ifft(decay * grid.fft(u))

    (x,) = grid.coordinates()
    u0 = jnp.sin(2 * np.pi * x)[None] + 0.3 * jnp.cos(6 * np.pi * x)[None]
    plain = RolloutForward(heat, num_steps=12, save_every=4)
    ckpt = RolloutForward(heat, num_steps=12, save_every=4, checkpoint=True)
    np.testing.assert_allclose(jax.grad(lambda u: jnp.sum(plain(u) ** 3))(u0),
                               jax.grad(lambda u: jnp.sum(ckpt(u) ** 3))(u0), atol=1e-12)  # fmt: skip
    ode = IntegrateForward(lambda t, u, args: -u, jnp.array([0.0, 0.5, 1.0]))
    last = TimeFrames((2,), num_frames=3)
    obj = LeastSquaresObjective(ode, last(ode(u0)), observation=last)
    # diffrax's default adjoint is reverse-mode only, so L-BFGS (GN/LM linearise forward)
    res = solve_inverse(obj, jnp.zeros_like(u0), "lbfgs", max_steps=50)
    np.testing.assert_allclose(res.params, u0, atol=1e-6)
    assert float(jnp.max(gradient_check(obj, 0.5 * u0, key=jr.key(0)))) < GRAD_TOL


# ------------------------------------------------------------------- worked problems
def test_burgers_gradients_match_finite_differences():
    grid, forward, u0 = inverse_burgers.make_problem(32)
    data = Subsample((4,))(forward(u0))
    sparse = inverse_burgers.sparse_objective(grid, forward, data, Subsample((4,)), 1e-4)
    full = LeastSquaresObjective(forward, forward(u0))
    for obj in (sparse, full):
        errs = gradient_check(obj, 0.5 * u0, key=jr.key(1), num_directions=2)
        assert float(jnp.max(errs)) < GRAD_TOL, errs


def test_burgers_noise_free_recovery_below_1e_3():
    res, err, _, _ = inverse_burgers.noise_free_recovery(32)
    assert res.succeeded and err < 1e-3, (err, res.message)


@pytest.mark.slow
def test_burgers_noise_free_recovery_at_64_points_and_noisy_table():
    res, err, _, _ = inverse_burgers.noise_free_recovery(64)
    assert err < 1e-3, (err, res.message)
    table, _ = inverse_burgers.sparse_table([0.0, 0.05], [1e-5, 1e-2], max_steps=60)
    (e0_weak, *_), (e0_strong, *_) = table[0.0]
    (e5_weak, *_), _ = table[0.05]
    # sparse data: a few percent; noise and over-regularization both cost accuracy
    assert e0_weak < 0.05 and e0_weak < e5_weak < 0.2 and e0_weak < e0_strong, table


def test_darcy_gradient_through_the_implicit_solve_matches_finite_differences():
    objective, a_true, _ = inverse_darcy.make_problem(17, rtol=1e-13)
    theta = inverse_darcy.PARAM.inverse(0.5 * (a_true + 7.5))
    errs = gradient_check(objective, theta, key=jr.key(3), step=1e-4, num_directions=2)
    assert float(jnp.max(errs)) < GRAD_TOL, errs


@pytest.mark.slow
def test_darcy_recovers_90_percent_of_pixels_at_s64():
    objective, a_true, regions = inverse_darcy.make_problem(64)
    res, right, err = inverse_darcy.recover(objective, a_true, regions, max_steps=500)
    assert right >= 0.9, (right, err, res.message)


def _navier_stokes_64(n=12):
    setup = inverse_navier_stokes.make_setup(n, jnp.float64)
    w0 = inverse_navier_stokes.sample_w0(setup, jr.key(0), jnp.float64)
    phi = inverse_navier_stokes.LOG_NU.inverse(jnp.log(1e-3))
    data = setup.solver_forward({"w0": w0, "phi": phi})
    return setup, w0, data


def test_navier_stokes_gradients_solver_and_fno_paths():
    from pdejax.surrogates import FNO

    setup, w0, data = _navier_stokes_64()
    fno = FNO(2, 2, (4, 4), 8, num_layers=2, projection_width=16, key=jr.key(1))
    fno = jax.tree_util.tree_map(lambda x: x.astype(jnp.float64) if eqx.is_inexact_array(x)
                                 else x, fno)  # fmt: skip
    surrogate = inverse_navier_stokes.Surrogate(fno, 5.0)
    errs = inverse_navier_stokes.gradient_checks(setup, surrogate, w0, data, num_directions=1)
    assert errs["solver"] < GRAD_TOL and errs["fno"] < GRAD_TOL, errs


@pytest.mark.slow
def test_navier_stokes_solver_path_recovers_vorticity_and_viscosity():
    setup, w0, data = _navier_stokes_64()
    noisy = GaussianNoise(0.01)(data, key=jr.key(2))
    objective = inverse_navier_stokes.make_objective(setup, setup.solver_forward, noisy)
    res, err_w, nu = inverse_navier_stokes.recover(setup, objective, w0, max_steps=60)
    assert err_w < 0.1 and abs(nu / 1e-3 - 1) < 0.1, (err_w, nu, res.message)


@pytest.mark.slow
@pytest.mark.parametrize("script", [inverse_burgers, inverse_darcy, inverse_navier_stokes])
def test_experiment_scripts_run_quick(script, capsys):
    script.main(["--quick"])
    out = capsys.readouterr().out
    assert "gradient" in out and "rel" in out

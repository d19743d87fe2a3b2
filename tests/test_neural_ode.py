"""NeuralODE: agreement with pdejax.integrate, statistics, regularization modes under jit, vmap,
grad and every adjoint, and errors."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax import (
    GlobalRegularization,
    LocalRegularization,
    MLPDynamics,
    NeuralODE,
    RegularizedSolver,
    integrate,
)

TS = jnp.linspace(0.0, 2.0, 5)
U0 = jnp.array([1.0, -0.5])


def make(adjoint=None, **kw):
    f = MLPDynamics(2, 16, 2, key=jr.key(0))
    return NeuralODE(f, rtol=1e-6, atol=1e-8, adjoint=adjoint, **kw)


def test_matches_integrate_and_reports_statistics():
    node = make()
    sol = node(U0, TS)
    ref = integrate(
        node.dynamics,
        U0,
        TS,
        solver=diffrax.Tsit5(),
        stepsize_controller=diffrax.PIDController(rtol=1e-6, atol=1e-8),
    )
    np.testing.assert_allclose(sol.us, ref.us, rtol=1e-13, atol=1e-13)
    assert int(sol.num_steps) == int(ref.num_steps)
    assert int(sol.num_fevals) == 6 * int(sol.num_steps) + 1  # Tsit5: 7 stages, FSAL
    assert int(sol.num_accepted_steps) + int(sol.num_rejected_steps) == int(sol.num_steps)
    assert float(sol.error_estimate) == 0.0 and int(sol.regularization_fevals) == 0


def test_global_regularization_changes_nothing_but_adds_the_terms():
    node = make()
    plain = node(U0, TS)
    reg = node(U0, TS, regularization=GlobalRegularization())
    np.testing.assert_array_equal(plain.us, reg.us)
    assert int(plain.num_fevals) == int(reg.num_fevals)
    assert int(reg.regularization_fevals) == 0
    assert float(reg.error_estimate) > 0 and float(reg.stiffness_estimate) > 0


def test_local_unbiased_saves_the_sample_without_changing_the_solve():
    node = make()
    key = jr.key(3)
    plain = node(U0, TS)
    local = node(U0, TS, regularization=LocalRegularization(), key=key)
    np.testing.assert_allclose(local.us, plain.us, rtol=1e-13, atol=1e-14)
    assert int(local.num_steps) == int(plain.num_steps)
    assert int(local.regularization_fevals) == 7  # one fresh Tsit5 step
    # the estimate is one step of size (mean accepted step) from u(t*), recomputed by hand
    t_star = TS[0] + (TS[-1] - TS[0]) * jr.uniform(key, (1,), TS.dtype)[0]
    u_star = node(U0, jnp.array([0.0, t_star, 2.0])).us[1]
    h = 2.0 / int(plain.num_accepted_steps)
    from pdejax import one_step_estimates

    est = one_step_estimates(node.solver, node.dynamics, t_star, u_star, h, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(local.error_estimate, est.error * h, rtol=1e-8)
    np.testing.assert_allclose(local.stiffness_estimate, est.stiffness, rtol=1e-8)


CK, BS = diffrax.RecursiveCheckpointAdjoint(), diffrax.BacksolveAdjoint()
slow = pytest.mark.slow


@pytest.mark.parametrize(
    "adjoint, reg",
    [
        pytest.param(CK, GlobalRegularization(), id="global-checkpoint"),
        pytest.param(BS, LocalRegularization(), id="local-backsolve"),
        pytest.param(CK, None, id="none-checkpoint", marks=slow),
        pytest.param(BS, None, id="none-backsolve", marks=slow),
        pytest.param(CK, LocalRegularization(), id="local-checkpoint", marks=slow),
        pytest.param(CK, LocalRegularization(biased=True), id="biased-checkpoint", marks=slow),
        pytest.param(BS, LocalRegularization(biased=True), id="biased-backsolve", marks=slow),
    ],
)
def test_jit_vmap_grad(adjoint, reg):
    node = make(adjoint)
    batch = U0 + 0.1 * jr.normal(jr.key(1), (3, 2))
    key = jr.key(2)

    @eqx.filter_jit
    def loss(node, batch):
        sols = jax.vmap(lambda u: node(u, TS, regularization=reg, key=key))(batch)
        return jnp.mean(sols.us[:, -1] ** 2) + 0.1 * jnp.mean(
            sols.error_estimate + sols.stiffness_estimate
        )

    value, grads = eqx.filter_value_and_grad(loss)(node, batch)
    looped = np.mean(
        [
            jnp.mean(s.us[-1] ** 2) + 0.1 * (s.error_estimate + s.stiffness_estimate)
            for s in (node(u, TS, regularization=reg, key=key) for u in batch)
        ]
    )
    np.testing.assert_allclose(value, looped, rtol=1e-10)
    leaves = jax.tree.leaves(eqx.filter(grads, eqx.is_inexact_array))
    assert all(np.all(np.isfinite(g)) for g in leaves)
    assert any(np.any(g != 0) for g in leaves)


@pytest.mark.slow
def test_regularized_gradient_agrees_between_adjoints_for_local():
    """Local regularization differentiates u(t*) through the adjoint: backsolve and
    checkpointing must agree (to the backsolve's own solve tolerance)."""
    reg = LocalRegularization()

    def grad_of(adjoint):
        node = make(adjoint)

        def loss(node):
            sol = node(U0, TS, regularization=reg, key=jr.key(5))
            return sol.error_estimate * 1e6 + jnp.sum(sol.us**2)

        g = eqx.filter_grad(loss)(node)
        return jnp.concatenate([x.ravel() for x in jax.tree.leaves(eqx.filter(g, eqx.is_array))])

    g_ck = grad_of(diffrax.RecursiveCheckpointAdjoint())
    g_bs = grad_of(diffrax.BacksolveAdjoint())
    rel = float(jnp.linalg.norm(g_ck - g_bs) / jnp.linalg.norm(g_ck))
    assert rel < 1e-4, rel


def test_global_error_gradient_matches_finite_differences_on_fixed_steps():
    """An MLP vector field on a fixed step grid (diffeqsolve's default constant step size)."""
    f = MLPDynamics(2, 8, 1, key=jr.key(7), final_scale=3.0)
    params, static = eqx.partition(f, eqx.is_inexact_array)
    solver = RegularizedSolver(diffrax.Tsit5(), rtol=1e-6, atol=1e-6)

    def err(p):
        sol = diffrax.diffeqsolve(
            diffrax.ODETerm(eqx.combine(p, static)),
            solver,
            0.0,
            2.0,
            0.25,
            U0,
            saveat=diffrax.SaveAt(t1=True, solver_state=True),
        )
        return RegularizedSolver.heuristics(sol.solver_state).error

    g = jax.grad(err)(params)
    v = jax.tree.map(lambda x: jr.normal(jr.key(8), x.shape), params)
    eps = 1e-4  # central differences: O(eps^2) truncation, rounding O(1e-16 / eps)
    plus = jax.tree.map(lambda a, b: a + eps * b, params, v)
    minus = jax.tree.map(lambda a, b: a - eps * b, params, v)
    fd = (err(plus) - err(minus)) / (2 * eps)
    ad = sum(jnp.vdot(a, b) for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(v)))
    assert float(err(params)) > 0
    np.testing.assert_allclose(ad, fd, rtol=1e-6)


def test_float32():
    f = MLPDynamics(2, 8, 1, key=jr.key(0))
    f = jax.tree.map(lambda x: x.astype(jnp.float32) if eqx.is_inexact_array(x) else x, f)
    node = NeuralODE(f, rtol=1e-3, atol=1e-5)
    sol = node(
        U0.astype(jnp.float32), TS.astype(jnp.float32), regularization=GlobalRegularization()
    )
    assert sol.us.dtype == jnp.float32
    assert np.isfinite(float(sol.error_estimate))


def test_errors():
    f = MLPDynamics(2, 8, 1, key=jr.key(0))
    with pytest.raises(ValueError, match="Euler"):
        NeuralODE(f, solver=diffrax.Euler())
    with pytest.raises(ValueError, match="Kvaerno5"):
        NeuralODE(f, solver=diffrax.Kvaerno5())
    with pytest.raises(ValueError, match="rtol"):
        NeuralODE(f, rtol=0.0)
    node = NeuralODE(f, adjoint=diffrax.BacksolveAdjoint())
    with pytest.raises(ValueError, match="BacksolveAdjoint"):
        node(U0, TS, regularization=GlobalRegularization())
    with pytest.raises(ValueError, match="key"):
        NeuralODE(f)(U0, TS, regularization=LocalRegularization())
    with pytest.raises(ValueError, match="ts"):
        NeuralODE(f)(U0, jnp.array([0.0]))
    with pytest.raises(ValueError, match="num_samples"):
        LocalRegularization(biased=True, num_samples=2)
    with pytest.raises(ValueError, match="vmap"):
        NeuralODE(f)(jnp.ones((4, 2)), TS)
    with pytest.raises(ValueError, match="depth"):
        MLPDynamics(2, 8, -1, key=jr.key(0))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["neural_ode_spiral", "neural_ode_classifier", "neural_ode_pde"])
def test_experiment_quick_path_runs(name):
    import importlib
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "experiments"))
    module = importlib.import_module(name)
    results = module.main(["--quick", "--no-write"])
    assert {r.name for r in results} == {"none", "global error", "global stiffness", "local error"}
    assert all(np.isfinite(r.test_error) and r.mean_nfe > 0 for r in results)

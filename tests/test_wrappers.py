"""Wrappers: Autoregressive windows, Increment, NeuralDynamics under diffrax, Corrected training."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest
from toys import HeatStepper

from pdejax import PeriodicGrid, integrate, rollout
from pdejax.surrogates import (
    FNO,
    Autoregressive,
    Corrected,
    Increment,
    NeuralDynamics,
    SpectralConv,
)


def test_autoregressive_shifts_the_window_and_appends_the_prediction():
    net = FNO(6, 2, (3,), 4, key=jr.key(0))
    step = Autoregressive(net, history=3, dt=0.5)
    u = jr.normal(jr.key(1), (6, 12))
    out = step(u)
    np.testing.assert_array_equal(out[:4], u[2:])
    np.testing.assert_allclose(out[4:], net(u), atol=0)
    traj = rollout(step, u, 4)
    manual = u
    for j in range(4):
        manual = step(manual)
        np.testing.assert_allclose(traj[j], manual, atol=1e-13)
    assert step.latest(traj).shape == (4, 2, 12)


def test_increment_adds_the_prediction():
    net = FNO(2, 2, (3,), 4, key=jr.key(2))
    u = jr.normal(jr.key(3), (2, 12))
    np.testing.assert_allclose(Increment(net, dt=0.1)(u), u + net(u), atol=0)


def test_neural_dynamics_of_a_linear_layer_matches_the_exponential():
    """du/dt = K u with K a spectral convolution: each kept Fourier mode grows by exp(R(k) t)."""
    conv = SpectralConv(1, 1, (4,), key=jr.key(4))
    conv = eqx.tree_at(lambda c: c.weight, conv, conv.weight.at[0].add(-1.0))  # damped
    n, k, t1 = 32, 3, 0.7
    x = jnp.arange(n) / n
    u0 = jnp.cos(2 * jnp.pi * k * x)[None]
    r = conv.weight[0, 0, 0, k] + 1j * conv.weight[1, 0, 0, k]
    exact = jnp.real(jnp.exp(r * t1) * jnp.exp(2j * jnp.pi * k * x))[None]
    sol = integrate(
        NeuralDynamics(conv),
        u0,
        jnp.array([0.0, t1]),
        stepsize_controller=diffrax.PIDController(rtol=1e-11, atol=1e-12),
    )
    err = float(jnp.max(jnp.abs(sol.us[-1] - exact)))
    assert err < 1e-9, f"error against exp(R t): {err:.2e}"


@pytest.mark.slow
def test_gradient_through_integrate_matches_finite_differences():
    net = FNO(1, 1, (3,), 4, num_layers=1, projection_width=4, key=jr.key(5))
    u0 = jnp.sin(2 * jnp.pi * jnp.arange(12) / 12)[None]
    ts = jnp.array([0.0, 0.3])
    ctrl = diffrax.PIDController(rtol=1e-10, atol=1e-10)
    params, static = eqx.partition(NeuralDynamics(net), eqx.is_inexact_array)

    def loss(p):
        sol = integrate(eqx.combine(p, static), u0, ts, stepsize_controller=ctrl)
        return jnp.sum(sol.us[-1] ** 2)

    grads = jax.grad(loss)(params)
    direction = jax.tree.map(lambda x: jr.normal(jr.key(6), x.shape), params)
    eps = 1e-5
    plus = jax.tree.map(lambda p, d: p + eps * d, params, direction)
    minus = jax.tree.map(lambda p, d: p - eps * d, params, direction)
    fd = (loss(plus) - loss(minus)) / (2 * eps)
    ad = sum(jnp.vdot(g, d) for g, d in zip(jax.tree.leaves(grads), jax.tree.leaves(direction)))
    np.testing.assert_allclose(ad, fd, rtol=1e-5)


def test_corrected_learns_through_the_solver():
    """A coarse heat solver (nu=0.01) plus a linear spectral correction learns the nu=0.02 step,
    trained on two-step rollouts through the solver; the solver's nu gets a gradient too."""
    grid = PeriodicGrid(16)
    coarse = HeatStepper(grid, nu=0.01, dt=0.5)
    truth = HeatStepper(grid, nu=0.02, dt=0.5)
    x = jnp.arange(16) / 16
    u0 = jnp.stack([jnp.sin(2 * jnp.pi * k * x + k) for k in (1, 2, 3)])[:, None]
    targets = jax.vmap(lambda u: rollout(truth, u, 2))(u0)
    net = SpectralConv(1, 1, (5,), key=jr.key(7))
    net = eqx.tree_at(lambda c: c.weight, net, 0.0 * net.weight)
    model = Corrected(coarse, net)

    def loss_fn(m):
        pred = jax.vmap(lambda u: rollout(m, u, 2))(u0)
        return jnp.mean((pred - targets) ** 2)

    g = eqx.filter_grad(loss_fn)(model)
    assert abs(float(g.solver.nu)) > 0, "no gradient through the solver's nu"
    # train the correction only, through the (fixed) solver
    optim = optax.adam(0.01)
    state = optim.init(net)

    def net_loss(n):
        return loss_fn(Corrected(coarse, n))

    @eqx.filter_jit
    def step(n, s):
        loss, grads = eqx.filter_value_and_grad(net_loss)(n)
        updates, s = optim.update(grads, s)
        return eqx.apply_updates(n, updates), s, loss

    first = float(net_loss(net))
    for _ in range(150):
        net, state, _ = step(net, state)
    last = float(net_loss(net))
    assert last < 1e-2 * first, f"loss {first:.3e} -> {last:.3e}"


def test_errors():
    net = FNO(5, 1, (3,), 4, key=jr.key(8))
    with pytest.raises(ValueError, match="history"):
        Autoregressive(net, history=2)
    with pytest.raises(ValueError, match="AbstractOperator"):
        Increment(lambda u: u)
    with pytest.raises(ValueError, match="AbstractStepper"):
        Corrected(net, net)
    step = Autoregressive(FNO(4, 1, (3,), 4, key=jr.key(9)), history=2)
    with pytest.raises(ValueError, match="one frame of 2"):
        step(jnp.ones((4, 12)))

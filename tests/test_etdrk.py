"""ETDRK core: phi-functions against 40-digit references, exactness on the linear part, fitted
orders 1-4 on a stiff nonlinear ODE with a closed-form solution, the diffrax solver, gradients in
``L`` and ``dt``, compile-once, errors."""

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

from pdejax.timestepping import (
    ETDRK1,
    ETDRK2,
    ETDRK3,
    ETDRK4,
    DiagonalLinearTerm,
    ETDRKSolver,
    etdrk_advance,
    phi_functions,
)

SCHEMES = [ETDRK1(), ETDRK2(), ETDRK3(), ETDRK4()]

mpmath.mp.dps = 40


def _phi_reference(z, k):
    z = mpmath.mpc(z)
    if abs(z) < 1:  # the series: the closed form cancels catastrophically near 0 even at 40 digits
        return sum(z**n / mpmath.factorial(n + k) for n in range(60))
    taylor = sum(z**j / mpmath.factorial(j) for j in range(k))
    return (mpmath.exp(z) - taylor) / z**k


REAL_Z = [-1e4, -300.0, -40.0, -5.0, -2.0, -1.0, -0.999, -0.5, -1e-3, 0.0, 1e-9, 0.3, 1.0, 2.5]
COMPLEX_Z = [1j, -1 + 1j, -0.01j, -30 + 5j, 2 - 3j, 1e-6 + 1e-6j]


@pytest.mark.parametrize("points", [REAL_Z, COMPLEX_Z], ids=["real", "complex"])
def test_phi_functions_match_high_precision(points):
    z = jnp.asarray(points)
    phis = phi_functions(z, 4)
    worst = 0.0
    for k, phi in enumerate(phis, start=1):
        ref = np.array([complex(_phi_reference(p, k)) for p in points])
        rel = np.abs(np.asarray(phi) - ref) / np.abs(ref)
        worst = max(worst, rel.max())
    # 16 nodes of radius 1: ~1e-16 except for |z| near 1, where one node w = z + e^{i theta}
    # lies ~0.2 from 0 and the closed form there loses ~3 digits in phi_4
    assert worst < 5e-13, f"worst relative error of phi_1..4: {worst:.2e}"
    assert phis[0].dtype == (jnp.float64 if not jnp.iscomplexobj(z) else jnp.complex128)


def test_phi_functions_float32():
    z = jnp.asarray(REAL_Z, jnp.float32)
    phis = phi_functions(z, 3)
    worst = max(
        np.max(
            np.abs(np.asarray(phi, np.float64) - [float(_phi_reference(p, k).real) for p in REAL_Z])
            / np.abs([float(_phi_reference(p, k).real) for p in REAL_Z])
        )
        for k, phi in enumerate(phis, start=1)
    )
    assert phis[0].dtype == jnp.float32
    assert worst < 1e-4, f"float32 phi relative error {worst:.2e}"


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: type(s).__name__)
def test_linear_part_is_exact(scheme):
    """With N = 0 every scheme reproduces exp(tL) for any step, stiff or not, real or complex."""
    L = jnp.array([0.0, -1.0, -1e3, -1e6, 0.5, -2.0 + 30j])
    u0 = jnp.array([1.0, 2.0, 1.0, 1.0, -1.0, 1.0 + 1j])
    u = etdrk_advance(scheme, L, lambda v: 0 * v, u0, 0.37, num_steps=3)
    np.testing.assert_allclose(u, u0 * jnp.exp(L * 1.11), rtol=1e-13, atol=1e-300)


def _bernoulli_exact(a, u0, t):
    """u' = a u - u^2 (logistic): u = a u0 e^{at} / (a + u0 (e^{at} - 1))."""
    e = np.exp(a * t)
    return a * u0 * e / (a + u0 * (e - 1))


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: type(s).__name__)
def test_fitted_order_on_stiff_logistic(scheme):
    a = jnp.array([-20.0, -1.0, 1.5])
    u0 = jnp.array([0.8, 0.5, 0.3])
    exact = _bernoulli_exact(np.asarray(a), np.asarray(u0), 1.0)
    steps = [16, 32, 64, 128]
    errors = []
    for n in steps:
        u = etdrk_advance(scheme, a, lambda v: -(v**2), u0, 1.0 / n, num_steps=n)
        errors.append(float(np.max(np.abs(u - exact))))
    slope = -np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - scheme.order) < 0.15, (
        f"{type(scheme).__name__}: fitted order {slope:.3f}, errors {errors}"
    )


def _terms(L):
    return diffrax.MultiTerm(
        DiagonalLinearTerm(L), diffrax.ODETerm(lambda t, y, args: -(y**2) + jnp.sin(t))
    )


def test_diffrax_solver_matches_manual_steps():
    """Non-autonomous N: stage times are passed through; the final step is the same scheme."""
    L = jnp.array([-20.0, -1.0, 1.5])
    u0 = jnp.array([0.8, 0.5, 0.3])
    h, n = 0.05, 20
    sol = diffrax.diffeqsolve(
        _terms(L), ETDRKSolver(ETDRK4()), 0.0, h * n, h, u0, max_steps=64,
        saveat=diffrax.SaveAt(t1=True),
    )  # fmt: skip
    coefficients = ETDRK4().coefficients(L, h)

    def body(i, u):
        return ETDRK4().step(coefficients, lambda th, v: -(v**2) + jnp.sin((i + th) * h), u)

    u = jax.jit(lambda u: jax.lax.fori_loop(0, n, body, u))(u0)
    np.testing.assert_allclose(sol.ys[-1], u, rtol=1e-12)
    assert ETDRKSolver(ETDRK4()).order(None) == 4


def test_diffrax_solver_with_transform_and_clipped_last_step():
    """A basis change (FFT) keeps the diffrax state real; a last step of another size still
    converges to the exact solution of the linear problem."""
    n = 16
    x = jnp.arange(n) / n
    k = 2 * jnp.pi * jnp.fft.rfftfreq(n, 1.0 / n)
    term = DiagonalLinearTerm(-0.1 * k**2, jnp.fft.rfft, lambda c: jnp.fft.irfft(c, n=n))
    terms = diffrax.MultiTerm(term, diffrax.ODETerm(lambda t, y, args: jnp.zeros_like(y)))
    u0 = jnp.sin(2 * jnp.pi * x) + 0.5 * jnp.cos(6 * jnp.pi * x)
    sol = diffrax.diffeqsolve(terms, ETDRKSolver(ETDRK2()), 0.0, 0.25, 0.07, u0)
    exact = jnp.exp(-0.1 * (2 * jnp.pi) ** 2 * 0.25) * jnp.sin(2 * jnp.pi * x) + 0.5 * jnp.exp(
        -0.1 * (6 * jnp.pi) ** 2 * 0.25
    ) * jnp.cos(6 * jnp.pi * x)
    assert sol.ys.dtype == jnp.float64
    np.testing.assert_allclose(sol.ys[-1], exact, atol=1e-13)


def test_gradients_in_L_and_dt_match_central_differences():
    u0 = jnp.array([0.8, 0.5, 0.3])

    def loss(L, dt):
        return jnp.sum(etdrk_advance(ETDRK4(), L, lambda v: -(v**2), u0, dt, num_steps=5) ** 2)

    loss = jax.jit(loss)
    L, dt = jnp.array([-20.0, -1.0, 1.5]), jnp.asarray(0.1)
    gL, gdt = jax.jit(jax.grad(loss, argnums=(0, 1)))(L, dt)
    eps = 1e-6
    v = jnp.array([0.3, -1.0, 0.7])
    fd_L = (loss(L + eps * v, dt) - loss(L - eps * v, dt)) / (2 * eps)
    fd_dt = (loss(L, dt + eps) - loss(L, dt - eps)) / (2 * eps)
    np.testing.assert_allclose(jnp.vdot(gL, v), fd_L, rtol=1e-7)
    np.testing.assert_allclose(gdt, fd_dt, rtol=1e-7)


def test_new_L_and_dt_do_not_recompile():
    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def run(L, dt, u):
        return etdrk_advance(ETDRK3(), L, lambda v: -(v**2), u, dt, num_steps=4)

    u = jnp.ones(3)
    run(jnp.array([-1.0, -2.0, -3.0]), jnp.asarray(0.1), u)
    run(jnp.array([-4.0, -5.0, -6.0]), jnp.asarray(0.2), u)


def test_errors():
    with pytest.raises(ValueError, match="max_order"):
        phi_functions(jnp.zeros(2), 0)
    with pytest.raises(ValueError, match="num_points"):
        phi_functions(jnp.zeros(2), 1, num_points=7)
    with pytest.raises(ValueError, match="num_steps"):
        etdrk_advance(ETDRK4(), jnp.zeros(2), lambda v: v, jnp.zeros(2), 0.1, num_steps=0)

r"""The adaptive solver's own heuristics as differentiable quantities (Pal et al., ICML 2021).

An embedded explicit Runge-Kutta step from $t_n$ to $t_n + h$ computes, at no extra cost,

- the local error estimate $\tilde e = h\sum_i \tilde b_i f(Y_i)$, which a PID controller scales
  by the tolerances, $E = \operatorname{rms}\big(\tilde e / (\mathrm{atol} + \mathrm{rtol}
  \max(|u_n|, |u_{n+1}|))\big)$, and accepts the step when $E < 1$;
- an estimate of the dominant eigenvalue of the Jacobian from the last two stages,
  $\rho = \|f(Y_s) - f(Y_{s-1})\| / \|Y_s - Y_{s-1}\|$ (a secant, i.e. one power-iteration-like
  Rayleigh quotient; this is how DifferentialEquations.jl's Tsit5/DP5 detect stiffness), and the
  stiffness ratio $S = h\rho/\beta$, where $\beta$ is the length of the method's stability interval
  on the negative real axis (:func:`stability_boundary`): $S > 1$ means the step is limited by
  stability rather than accuracy.

:class:`RegularizedSolver` wraps any diffrax adaptive explicit RK solver and accumulates
$\sum_n E_n |h_n|$ and $\sum_n S_n$ over *accepted* steps in its solver state: diffrax keeps a
step's new solver state only when the controller accepts it (``keep(new_state, old_state)`` in
``diffeqsolve``'s loop), so rejected steps never reach the accumulator. The stages are the ones
the solver computed anyway: no extra evaluations of the vector field.

Reference: A. Pal, Y. Ma, V. Shah, C. Rackauckas, "Opening the Blackbox: Accelerating Neural
Differential Equations by Regularizing Internal Solver Heuristics", ICML 2021.
"""

import functools

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optimistix as optx
from jaxtyping import Array, Float, Int, PyTree

from ..core.types import Scalar, ScalarLike

__all__ = [
    "HeuristicsState",
    "RegularizedSolver",
    "StepEstimates",
    "check_embedded_erk",
    "stability_boundary",
    "step_estimates",
]


def check_embedded_erk(solver, *, who: str) -> diffrax.ButcherTableau:
    """The solver's Butcher tableau, or a :class:`ValueError` naming the solver and the fix.

    Accepted: explicit Runge-Kutta solvers with an embedded error estimate (``Tsit5``, ``Dopri5``,
    ``Dopri8``, ``Bosh3``, ``Heun``, ``Midpoint``, ``Ralston``, ...).
    """
    name = type(solver).__name__
    fix = "use an adaptive explicit Runge-Kutta solver such as diffrax.Tsit5() or diffrax.Dopri5()"
    if isinstance(solver, RegularizedSolver):
        raise ValueError(f"{who}: `solver` is already a RegularizedSolver; pass the inner solver.")
    if not isinstance(solver, diffrax.AbstractAdaptiveSolver):
        raise ValueError(
            f"{who}: solver {name} is not adaptive: it has no embedded error estimate to "
            f"regularize; {fix}."
        )
    tableau = getattr(solver, "tableau", None)
    if not isinstance(solver, diffrax.AbstractERK) or not isinstance(
        tableau, diffrax.ButcherTableau
    ):
        raise ValueError(
            f"{who}: solver {name} is not an explicit Runge-Kutta method with a Butcher tableau "
            f"(implicit, multi-tableau and wrapped solvers are not supported); {fix}."
        )
    if not np.any(tableau.b_error != 0):
        raise ValueError(f"{who}: solver {name} has no error estimate (b_error = 0); {fix}.")
    return tableau


def _stability_polynomial(tableau: diffrax.ButcherTableau) -> np.ndarray:
    """Coefficients (increasing degree) of $R(z) = 1 + \\sum_k b^T A^{k-1} \\mathbf 1\\, z^k$."""
    s = tableau.num_stages
    a = np.zeros((s, s))
    for i, row in enumerate(tableau.a_lower):
        a[i + 1, : i + 1] = row
    coeffs, v = [1.0], np.ones(s)
    for _ in range(s):
        coeffs.append(float(tableau.b_sol @ v))
        v = a @ v
    return np.trim_zeros(np.array(coeffs), "b")


def stability_boundary(tableau: diffrax.ButcherTableau) -> float:
    r"""Length $\beta$ of the stability interval $[-\beta, 0]$ of an explicit RK method.

    The stability function of an explicit method is the polynomial
    $R(z) = 1 + \sum_{k=1}^{s} (b^T A^{k-1}\mathbf 1) z^k$ (the update of $u' = \lambda u$ is
    $u_{n+1} = R(h\lambda) u_n$). $\beta$ is the first $x > 0$ past which $|R(-x)| > 1$, found
    among the real roots of $R(-x) = \pm 1$. This reproduces the constants DifferentialEquations.jl
    uses for stiffness detection: Tsit5 3.5068, Dopri5 3.3066; Bosh3 gives 2.5127, Dopri8 5.1667,
    two-stage second-order methods 2.

    Example:
        >>> import diffrax
        >>> round(stability_boundary(diffrax.Tsit5.tableau), 4)
        3.5068
    """
    c = _stability_polynomial(tableau)
    r_minus = c * (-1.0) ** np.arange(len(c))  # R(-x) as a polynomial in x
    candidates = []
    for shift in (1.0, -1.0):
        p = r_minus.copy()
        p[0] -= shift
        roots = np.roots(p[::-1])
        candidates += [r.real for r in roots if abs(r.imag) < 1e-9 and r.real > 1e-9]
    for x in sorted(candidates):
        if abs(np.polyval(r_minus[::-1], x * (1 + 1e-7))) > 1:
            return float(x)
    return float("inf")  # |R(-x)| <= 1 on the whole negative axis: not an explicit method


@functools.cache
def _boundary_of(solver_type) -> float:
    return stability_boundary(solver_type.tableau)


def _safe_norm(x: Array) -> Array:
    """Euclidean norm with a finite (zero) gradient at zero."""
    sq = jnp.sum(x * x)
    positive = sq > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1.0)), 0.0)


class StepEstimates(eqx.Module):
    """The heuristics of one step (scalars).

    Attributes:
        error: the tolerance-scaled local error estimate $E$ (the PID controller's norm).
        eigenvalue: $\\rho$, the estimate of the dominant $|\\lambda|$ of the Jacobian.
        stiffness: $S = |h|\\rho/\\beta$.
    """

    error: Scalar
    eigenvalue: Scalar
    stiffness: Scalar


def step_estimates(
    tableau: diffrax.ButcherTableau,
    beta: float,
    y0: PyTree[Array],
    y1: PyTree[Array],
    y_error: PyTree[Array],
    ks: PyTree[Array],
    dt: ScalarLike,
    *,
    rtol,
    atol,
    norm=optx.rms_norm,
) -> StepEstimates:
    """Estimates of one RK step from its outputs: ``ks`` are diffrax's stage increments $h f(Y_i)$
    (``dense_info["k"]``, stage axis first). No vector-field evaluations."""
    dt = jnp.asarray(dt)

    def scale(a, b, e):
        b = jnp.where(jnp.isnan(b).any(), a, b)
        return e / (atol + rtol * jnp.maximum(jnp.abs(a), jnp.abs(b)))

    error = norm(jax.tree.map(scale, y0, y1, y_error))

    s = tableau.num_stages
    a_last = np.zeros(s)
    a_last[: s - 1] = tableau.a_lower[-1]
    a_prev = np.zeros(s)
    if s > 2:
        a_prev[: s - 2] = tableau.a_lower[-2]

    # one leaf of the state (any pytree, tuples included) at a time: norms per leaf, then
    # the norm of those norms, so no pytree of intermediate pairs has to be told apart from y
    leaves = jax.tree.leaves(ks)
    w = a_last - a_prev
    dk = jnp.stack([_safe_norm(k[-1] - k[-2]) for k in leaves])
    dy = jnp.stack([_safe_norm(jnp.tensordot(jnp.asarray(w, k.dtype), k, axes=1)) for k in leaves])
    num, den = _safe_norm(dk), _safe_norm(dy) * jnp.abs(dt)
    ok = den > 0
    eigenvalue = jnp.where(ok, num / jnp.where(ok, den, 1.0), 0.0)
    stiffness = jnp.abs(dt) * eigenvalue / beta
    return StepEstimates(error=error, eigenvalue=eigenvalue, stiffness=stiffness)


class HeuristicsState(eqx.Module):
    """What :class:`RegularizedSolver` accumulates over accepted steps.

    Attributes:
        error: $\\sum_n E_n |h_n|$.
        stiffness: $\\sum_n S_n$.
        max_eigenvalue: $\\max_n \\rho_n$.
        num_accepted: accepted steps seen (equals diffrax's ``num_accepted_steps``).
        sample_t, sample_y, sample_dt: one accepted step $(t_n, u_n, h_n)$ drawn uniformly among
            the accepted steps by reservoir sampling (for biased local regularization; zeros
            when the solver has no ``key``).
    """

    error: Scalar
    stiffness: Scalar
    max_eigenvalue: Scalar
    num_accepted: Int[Array, ""]
    sample_t: Scalar
    sample_y: PyTree[Array]
    sample_dt: Scalar


class RegularizedSolver(diffrax.AbstractAdaptiveSolver, diffrax.AbstractWrappedSolver):
    r"""Any adaptive explicit RK solver, plus the running sums of its own heuristics.

    Steps exactly as ``solver`` (same states, same error estimates, same step sizes, same
    number of vector-field evaluations); its solver state also carries a
    :class:`HeuristicsState` with $\sum E_n|h_n|$ (global error-estimate regularization) and
    $\sum S_n$ (global stiffness regularization) over accepted steps. Read it with
    ``diffeqsolve(..., saveat=SaveAt(ts=..., solver_state=True))`` and
    :meth:`heuristics`. Differentiable with discretise-then-optimise adjoints
    (``RecursiveCheckpointAdjoint``, ``DirectAdjoint``); the step sizes themselves are chosen
    without gradient (diffrax stops it in the controller), so the gradient is that of the sum on
    the realised step grid.

    Args:
        solver: the wrapped solver (``Tsit5``, ``Dopri5``, ``Dopri8``, ``Bosh3``, ...).
        rtol, atol: the tolerances that scale the error, normally the step-size controller's
            (:meth:`from_controller`).
        norm: the controller's norm (diffrax's default RMS norm).
        key: if given, one accepted step is also sampled uniformly (reservoir sampling) and kept.

    Example:
        >>> import diffrax, jax.numpy as jnp
        >>> ctrl = diffrax.PIDController(rtol=1e-4, atol=1e-6)
        >>> solver = RegularizedSolver.from_controller(diffrax.Tsit5(), ctrl)
        >>> sol = diffrax.diffeqsolve(diffrax.ODETerm(lambda t, y, a: -y), solver, 0.0, 1.0, None,
        ...     jnp.ones(2), stepsize_controller=ctrl,
        ...     saveat=diffrax.SaveAt(t1=True, solver_state=True))
        >>> bool(RegularizedSolver.heuristics(sol.solver_state).error > 0)
        True

    Reference: Pal, Ma, Shah, Rackauckas, ICML 2021.
    """

    solver: diffrax.AbstractSolver
    rtol: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    atol: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    key: Array | None = None
    norm: object = eqx.field(static=True, default=optx.rms_norm)

    def __check_init__(self):
        check_embedded_erk(self.solver, who="RegularizedSolver")

    @property
    def beta(self) -> float:
        """The stability boundary of the wrapped method (:func:`stability_boundary`)."""
        return _boundary_of(type(self.solver))

    @classmethod
    def from_controller(cls, solver, controller, *, key=None) -> "RegularizedSolver":
        """Wrap ``solver`` with the tolerances and norm of a ``diffrax.PIDController``."""
        if not isinstance(controller, diffrax.PIDController):
            raise ValueError(
                "RegularizedSolver.from_controller: `controller` must be a diffrax.PIDController "
                f"(it supplies rtol/atol), got {type(controller).__name__}; with a constant step "
                "size pass `RegularizedSolver(solver, rtol=..., atol=...)`."
            )
        return cls(solver, controller.rtol, controller.atol, key=key, norm=controller.norm)

    @staticmethod
    def heuristics(solver_state) -> HeuristicsState:
        """The :class:`HeuristicsState` inside a (final) solver state of this solver."""
        return solver_state[1]

    @property
    def term_structure(self):
        return self.solver.term_structure

    @property
    def interpolation_cls(self):  # pyright: ignore
        return self.solver.interpolation_cls

    @property
    def term_compatible_contr_kwargs(self):
        return self.solver.term_compatible_contr_kwargs

    def order(self, terms):
        return self.solver.order(terms)

    def error_order(self, terms):
        return self.solver.error_order(terms)

    def func(self, terms, t0, y0, args):
        return self.solver.func(terms, t0, y0, args)

    def init(self, terms, t0, t1, y0, args):
        zero = jnp.zeros((), jnp.result_type(t0, *jax.tree.leaves(y0), float))
        acc = HeuristicsState(
            error=zero,
            stiffness=zero,
            max_eigenvalue=zero,
            num_accepted=jnp.zeros((), jnp.int32),
            sample_t=jnp.asarray(t0, zero.dtype),
            sample_y=jax.tree.map(jnp.zeros_like, y0),
            sample_dt=zero,
        )
        return self.solver.init(terms, t0, t1, y0, args), acc

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        inner, acc = solver_state
        y1, y_error, dense_info, inner, result = self.solver.step(
            terms, t0, t1, y0, args, inner, made_jump
        )
        dt = jnp.asarray(t1 - t0)
        est = step_estimates(
            self.solver.tableau,
            self.beta,
            y0,
            y1,
            y_error,
            dense_info["k"],
            dt,
            rtol=self.rtol,
            atol=self.atol,
            norm=self.norm,
        )
        dtype = acc.error.dtype
        n = acc.num_accepted + 1
        if self.key is None:
            take = jnp.asarray(False)
        else:  # reservoir sampling: keep step n with probability 1/n -> uniform over steps
            take = jr.uniform(jr.fold_in(self.key, n)) * n < 1
        # This new state is kept by diffrax only if the step is accepted.
        acc = HeuristicsState(
            error=acc.error + (est.error * jnp.abs(dt)).astype(dtype),
            stiffness=acc.stiffness + est.stiffness.astype(dtype),
            max_eigenvalue=jnp.maximum(acc.max_eigenvalue, est.eigenvalue.astype(dtype)),
            num_accepted=n,
            sample_t=jnp.where(take, jnp.asarray(t0, dtype), acc.sample_t),
            sample_y=jax.tree.map(lambda a, b: jnp.where(take, a, b), y0, acc.sample_y),
            sample_dt=jnp.where(take, dt.astype(dtype), acc.sample_dt),
        )
        return y1, y_error, dense_info, (inner, acc), result

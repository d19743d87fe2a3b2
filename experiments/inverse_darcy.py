r"""Worked inverse problem 2: recover a piecewise-constant Darcy coefficient from the
pressure at sparse sensor points.

Forward: $-\nabla\cdot(a\nabla u) = 1$ on the unit square, $u = 0$ on the boundary,
:class:`pdejax.solvers.Darcy2D` at $s\times s$ vertices ($s = 64$), whose gradient is the implicit
one (one adjoint multigrid-CG solve, iterations never differentiated). Truth: the FNO paper's
coefficient, $a = 12$ where a zero-Neumann Gaussian field $N(0, 9(-\Delta + 9I)^{-2})$ is positive
and $3$ elsewhere. Data: $u$ at 10% of the interior vertices, drawn at random, noise-free
(``--noise`` to add relative Gaussian noise).

Unknown: $\theta$ at every vertex with $a(\theta) = 3 + 9\,\mathrm{sigmoid}(\theta)$
(:class:`~pdejax.inverse.SmoothedThreshold`), initial guess $\theta = 0$ ($a = 7.5$). Objective:
half the squared relative misfit plus a smoothed total variation of $a(\theta)$ (weight
$10^{-6}$, $\varepsilon = 0.1$), which favours two flat regions with short edges; L-BFGS.
Reported: the fraction of vertices whose region ($\theta > 0$ against $a_{true} = 12$) is right
(target: at least 90%), the relative $L^2$ error of $a$, iterations and time.

Run: ``python experiments/inverse_darcy.py [--quick] [--s 64] [--steps 500]``.
"""

import argparse

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from pdejax import VertexGrid
from pdejax.grids import fno_darcy_threshold_field
from pdejax.inverse import (
    GaussianNoise,
    LeastSquaresObjective,
    SmoothedThreshold,
    TotalVariation,
    gradient_check,
    random_sensors,
    solve_inverse,
)
from pdejax.solvers import Darcy2D

LOW, HIGH = 3.0, 12.0
TV_WEIGHT, TV_EPSILON = 1e-6, 0.1
PARAM = SmoothedThreshold(LOW, HIGH, epsilon=1.0)


def coefficient(theta):
    """$a(\\theta)$, module level so that every objective shares one compiled solve loop."""
    return PARAM(theta)


class Forward:
    """$\\theta \\mapsto u$: Darcy pressure for the coefficient $a(\\theta)$."""

    def __init__(self, darcy):
        self.darcy = darcy

    def __call__(self, theta):
        return self.darcy(coefficient(theta))


def make_problem(s: int = 64, *, fraction: float = 0.1, noise: float = 0.0, rtol=None, key=None):
    """``(objective, a_true, regions_true)`` for an $s\\times s$ grid."""
    key = jr.key(1) if key is None else key
    k_field, k_sensors, k_noise = jr.split(key, 3)
    grid = VertexGrid((s, s))
    z = fno_darcy_threshold_field(grid).sample(k_field, jnp.float64)
    regions = z > 0
    a_true = jnp.where(regions, HIGH, LOW)[None]
    darcy = Darcy2D(grid, source=1.0, rtol=rtol)
    sensors = random_sensors((s, s), fraction, key=k_sensors, interior=True)
    data = sensors(darcy(a_true))
    if noise:
        data = GaussianNoise(noise)(data, key=k_noise)
    std = jnp.sqrt(jnp.mean(data**2) * data.size)  # misfit = half the squared relative error
    prior = TotalVariation(grid, TV_WEIGHT, epsilon=TV_EPSILON, select=coefficient)
    objective = LeastSquaresObjective(Forward(darcy), data, observation=sensors, noise_std=std,
                                      priors=[prior])  # fmt: skip
    return objective, a_true, regions


def recover(objective, a_true, regions, *, max_steps: int = 500):
    theta0 = jnp.zeros_like(a_true)
    res = solve_inverse(objective, theta0, "lbfgs", max_steps=max_steps, throw=False)
    right = float(jnp.mean(PARAM.regions(res.params[0]) == regions))
    a = coefficient(res.params)
    err = float(jnp.linalg.norm(a - a_true) / jnp.linalg.norm(a_true))
    return res, right, err


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="s = 17, few steps (smoke test)")
    parser.add_argument("--s", type=int, default=64, help="vertices per side")
    parser.add_argument("--steps", type=int, default=500, help="L-BFGS iteration limit")
    parser.add_argument("--noise", type=float, default=0.0, help="relative noise level")
    args = parser.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    s, steps = (17, 20) if args.quick else (args.s, args.steps)

    print(f"Darcy inverse problem: s={s}, 10% sensors, noise {args.noise:.0%}, "
          f"a in {{{LOW:g}, {HIGH:g}}} by a smoothed threshold, TV weight {TV_WEIGHT:g}; L-BFGS")  # fmt: skip
    tight, a_true, _ = make_problem(s, noise=args.noise, rtol=1e-13)
    theta = PARAM.inverse(0.5 * (a_true + 7.5))
    errs = gradient_check(tight, theta, key=jr.key(3), step=1e-4)
    print(f"  gradient vs central differences (float64, 3 directions, CG rtol 1e-13): "
          f"max rel err {float(jnp.max(errs)):.2e}")  # fmt: skip

    objective, a_true, regions = make_problem(s, noise=args.noise)
    res, right, err = recover(objective, a_true, regions, max_steps=steps)
    print(f"  pixels in the right region: {right:.1%} ({int(np.sum(~np.asarray(regions)))} low, "
          f"{int(np.sum(np.asarray(regions)))} high); rel L2 error of a: {err:.3g}")  # fmt: skip
    print(f"  {int(res.iterations)} iterations, {res.time:.1f} s ({res.message})")
    return {"right": right, "error": err, "gradient": float(jnp.max(errs)), "result": res}


if __name__ == "__main__":
    main()

r"""The data problem shared by the semilinear PDE modules: a stepper's trajectory from a random state."""

from collections.abc import Callable

import jax.numpy as jnp
from jaxtyping import Array, PRNGKeyArray

from pdejax import AbstractStepper, rollout
from pdejax.data import Problem


def normalized(sample: Callable[[PRNGKeyArray], Array]) -> Callable[[PRNGKeyArray], Array]:
    """``key -> sample(key) / std``: a random field with unit spatial standard deviation.

    Example:
        >>> import jax.random as jr
        >>> from pdejax import GaussianRandomField, PeriodicGrid
        >>> grf = GaussianRandomField(PeriodicGrid(32), sigma=1.0, tau=3.0, alpha=2.0)
        >>> round(float(normalized(grf.sample)(jr.key(0)).std()), 6)
        1.0
    """
    return lambda key: (u := sample(key)) / jnp.std(u)


def trajectory_problem(
    name: str,
    stepper: AbstractStepper,
    sample_input: Callable[[PRNGKeyArray], Array],
    *,
    num_frames: int,
    warmup: int = 0,
    parameters: dict,
    reference: str,
) -> Problem:
    r"""A :class:`~pdejax.Problem`: ``solve(u0)`` is the trajectory ``(num_frames + 1, C, *spatial)``
    of ``stepper`` at times $0, \Delta t, \dots$ (frame 0 is ``u0``); the input is
    ``sample_input(key)`` advanced by ``warmup`` calls first (to start a chaotic PDE on its
    attractor). ``parameters`` gain the grid, ``dt``, ``substeps``, scheme and counts.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.solvers import Heat
        >>> heat = Heat(PeriodicGrid(16), nu=0.01, dt=0.1)
        >>> p = trajectory_problem("doc/heat", heat, lambda k: jr.normal(k, (1, 16)),
        ...                        num_frames=3, parameters={}, reference="")
        >>> p.solve(p.sample_input(jr.key(0))).shape, p.times
        ((4, 1, 16), [0.0, 0.1, 0.2, 0.3])
    """
    dt, grid = float(stepper.dt), stepper.grid

    def sample(key):
        u0 = sample_input(key)
        return u0 if warmup == 0 else rollout(stepper, u0, warmup, save_every=warmup)[-1]

    def solve(u0):
        return rollout(stepper, u0, num_frames, include_initial=True)

    return Problem(
        name=name,
        sample_input=sample,
        solve=solve,
        parameters={
            **parameters,
            "num_points": list(grid.num_points),
            "domain_length": list(grid.domain_length),
            "dt": dt,
            "substeps": stepper.substeps,
            "scheme": type(stepper.scheme).__name__,
            "num_frames": num_frames,
            "warmup_steps": warmup,
        },
        reference=reference,
        coordinates=grid.coordinates(),
        times=[round(k * dt, 12) for k in range(num_frames + 1)],
    )

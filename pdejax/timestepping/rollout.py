"""Autoregressive rollout of any stepper, classical or learned, inside one ``lax.scan``."""

from collections.abc import Callable

import jax
import jax.numpy as jnp

from ..core.interface import AbstractStepper
from ..core.types import State, Trajectory


def rollout(
    stepper: Callable[[State], State],
    u0: State,
    num_steps: int,
    *,
    save_every: int = 1,
    include_initial: bool = False,
    checkpoint: bool = False,
) -> Trajectory:
    r"""Apply ``stepper`` ``num_steps`` times to ``u0`` and return the saved states.

    Frame $j$ of the result is $\mathcal{S}^{(j+1)s}(u_0)$ for $s$ = ``save_every``, so the result
    has ``num_steps // save_every`` frames (one more, $u_0$ first, with ``include_initial``).
    The loop is a nested ``lax.scan`` (outer over saved frames, inner over the ``save_every``
    steps between them): one compiled step, whatever ``num_steps``. For an
    :class:`pdejax.AbstractStepper` its :meth:`~pdejax.AbstractStepper.prepare` is called once
    first, so parameter-only setup is hoisted out of the loop.

    Differentiable with ``jax.grad`` in ``u0`` and in every array field of ``stepper``. With
    ``checkpoint=True`` the inner segment is rematerialised in the backward pass, so reverse-mode
    memory is $O(\text{frames} + s)$ states instead of $O(\text{num\_steps})$; choose
    ``save_every`` near $\sqrt{\text{num\_steps}}$ and keep every ``save_every``-th frame for
    the cheapest bounded-memory gradient of a long rollout.

    Args:
        stepper: any callable ``u -> u_next``, usually an :class:`pdejax.AbstractStepper`.
        u0: the initial state ``(C, *spatial)``.
        num_steps: total number of steps, a positive multiple of ``save_every``.
        save_every: keep one state every this many steps.
        include_initial: prepend ``u0`` to the trajectory.
        checkpoint: rematerialise between saved frames in reverse mode.

    Returns:
        The trajectory ``(T, C, *spatial)``.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import rollout
        >>> traj = rollout(lambda u: 0.5 * u, jnp.ones((1, 4)), 6, save_every=2)
        >>> traj.shape, traj[:, 0, 0].tolist()
        ((3, 1, 4), [0.25, 0.0625, 0.015625])
    """
    num_steps, save_every = _check_counts(num_steps, save_every)
    if isinstance(stepper, AbstractStepper):
        stepper = stepper.prepare()  # parameter-only setup once, not once per step

    def segment(u, _):
        u = jax.lax.fori_loop(0, save_every, lambda _, v: stepper(v), u)
        return u, u

    if checkpoint:
        segment = jax.checkpoint(segment)
    _, traj = jax.lax.scan(segment, u0, None, length=num_steps // save_every)
    if include_initial:
        traj = jnp.concatenate([jnp.asarray(u0)[None], traj], axis=0)
    return traj


def _check_counts(num_steps, save_every) -> tuple[int, int]:
    if not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"rollout: `num_steps` must be a positive int, got {num_steps!r}.")
    if not isinstance(save_every, int) or save_every < 1:
        raise ValueError(f"rollout: `save_every` must be a positive int, got {save_every!r}.")
    if num_steps % save_every:
        raise ValueError(
            f"rollout: `num_steps` ({num_steps}) must be a multiple of `save_every` "
            f"({save_every}); round `num_steps` to {num_steps - num_steps % save_every} or "
            f"{num_steps - num_steps % save_every + save_every}."
        )
    return num_steps, save_every

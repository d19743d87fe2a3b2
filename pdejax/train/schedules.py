"""Learning-rate schedules by name, as the experiment configuration names them."""

from typing import Literal

import optax

Schedule = Literal["constant", "step", "cosine"]
SCHEDULES: tuple[str, ...] = ("constant", "step", "cosine")


def lr_schedule(
    kind: Schedule,
    learning_rate: float,
    *,
    num_steps: int,
    steps_per_epoch: int,
    step_epochs: int = 50,
    gamma: float = 0.5,
) -> optax.Schedule:
    """``"constant"``, ``"step"`` (times ``gamma`` every ``step_epochs`` epochs, the FNO paper's)
    or ``"cosine"`` (to zero over ``num_steps``).

    Example:
        >>> s = lr_schedule("step", 1e-3, num_steps=100, steps_per_epoch=10, step_epochs=5)
        >>> float(s(0)), float(s(50))
        (0.001, 0.0005)
    """
    if kind == "constant":
        return optax.constant_schedule(learning_rate)
    if kind == "step":
        return optax.exponential_decay(
            learning_rate,
            transition_steps=step_epochs * steps_per_epoch,
            decay_rate=gamma,
            staircase=True,
        )
    if kind == "cosine":
        return optax.cosine_decay_schedule(learning_rate, num_steps)
    raise ValueError(f"lr_schedule: unknown schedule {kind!r}; use one of {', '.join(SCHEDULES)}.")


__all__ = ["SCHEDULES", "Schedule", "lr_schedule"]

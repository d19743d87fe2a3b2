r"""What an experiment learns: one class per task, owning its windowing, loss, predictor and plots.

| task (``data.task``) | input -> target | trained net | loss |
|---|---|---|---|
| :class:`OperatorTask` (``"operator"``) | stored input -> stored output (Burgers, Darcy) | the net itself | ``train.loss`` |
| :class:`AutoregressiveTask` (``"autoregressive"``, FNO-2D) | first ``k`` frames -> the ``n`` later ones | ``k C`` -> next frame ``C``, rolled out ``n`` steps on its own predictions | mean per-frame relative L2 over the ``n`` steps |
| :class:`SpaceTimeTask` (``"space_time"``, FNO-3D) | first ``k`` frames -> the ``n`` later ones | ``(k C, *spatial, n)`` -> ``(C, *spatial, n)`` in one call | relative L2 over all frames |

For a trajectory ``(T + 1, C, *spatial)`` the frames from ``first_frame`` on are split by
:func:`window_frames`: the first ``k = input_frames`` stacked along channels (oldest first) are
the input, the rest the target ``(n C, *spatial)``. A task's :meth:`~AbstractTask.predictor`
turns the trained net into the map input -> target used for evaluation and plots, so test errors
(``test_rel_l2@s``) are the relative L2 of each sample's predicted frames taken together,
averaged over the test set, as the FNO paper's released scripts report them.
"""

import abc
from pathlib import Path
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ..grids.metrics import relative_l2
from ..timestepping.rollout import rollout
from ..train.evaluate import batched_forward
from ..train.losses import Loss, mse_loss, relative_l2_loss, rollout_loss

LOSSES = {"relative_l2": relative_l2_loss, "mse": mse_loss}
FRAME_LOSSES = {"relative_l2": relative_l2, "mse": lambda p, t: jnp.mean((p - t) ** 2)}


def window_frames(frames, input_frames: int, first_frame: int = 0):
    """Split trajectories ``(S, T + 1, C, *spatial)`` into inputs ``(S, k C, *spatial)`` (frames
    ``first_frame .. first_frame + k - 1`` stacked along channels, oldest first) and targets
    ``(S, n C, *spatial)`` (all later frames), ``k = input_frames``.

    Example:
        >>> import numpy as np
        >>> frames = np.arange(6.0).reshape(1, 6, 1, 1)  # one trajectory, frame t holds t
        >>> a, u = window_frames(frames, input_frames=2, first_frame=1)
        >>> a[0, :, 0].tolist(), u[0, :, 0].tolist()
        ([1.0, 2.0], [3.0, 4.0, 5.0])
    """
    frames = frames[:, first_frame:]
    s, t, c, *spatial = frames.shape
    k = input_frames
    return (frames[:, :k].reshape(s, k * c, *spatial),
            frames[:, k:].reshape(s, (t - k) * c, *spatial))  # fmt: skip


class AbstractTask(abc.ABC):
    """A learning task: shapes, windowing, the predictor, the loss and the plots of a run.

    Example (a subclass that learns the increment ``u - a`` of an operator's data):
        >>> import numpy as np
        >>> from pdejax.experiment import AbstractTask
        >>> from pdejax.train import mse_loss
        >>> class IncrementTask(AbstractTask):
        ...     name = "increment"
        ...     def sample_shapes(self, input_shape, output_shape, source):
        ...         return tuple(input_shape), tuple(output_shape)
        ...     def split(self, inputs, outputs):
        ...         return inputs, outputs - inputs
        ...     def predictor(self, net, input_shape, target_shape):
        ...         return net
        ...     def loss(self, name, input_shape, target_shape):
        ...         return mse_loss
        >>> a, u = IncrementTask().split(np.ones((2, 1, 3)), np.full((2, 1, 3), 3.0))
        >>> a.shape, u[0, 0].tolist()
        ((2, 1, 3), [2.0, 2.0, 2.0])
    """

    name: ClassVar[str]

    @abc.abstractmethod
    def sample_shapes(self, input_shape, output_shape, source: str) -> tuple[tuple, tuple]:
        """One sample's (input, target) shapes, from the stored input and output shapes;
        a :class:`ValueError` naming the data setting when the data cannot serve the task."""

    @abc.abstractmethod
    def split(self, inputs: np.ndarray, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The stored arrays as (inputs, targets) of this task."""

    @abc.abstractmethod
    def predictor(self, net: eqx.Module, input_shape, target_shape) -> eqx.Module:
        """The map input -> target made from the trained ``net``."""

    @abc.abstractmethod
    def loss(self, name: str, input_shape, target_shape) -> Loss:
        """``loss(net, inputs, targets)`` of the named kind."""

    def model_hint(self, input_shape) -> str:
        """Advice appended to a model/data mismatch error."""
        return ""

    def plot(self, run_dir: Path, predict, a_test, u_test, num_samples: int) -> list[str]:
        """Write this task's figures into ``run_dir``; return their file names."""
        from .plots import plot_operator

        return plot_operator(run_dir, predict, a_test, u_test, num_samples)


class OperatorTask(AbstractTask):
    """Learn the stored input -> output map (Burgers, Darcy): the net is the predictor.

    Example:
        >>> from pdejax.train import relative_l2_loss
        >>> task, net = OperatorTask(), object()
        >>> task.sample_shapes((1, 64), (1, 64), "'fno/burgers'")
        ((1, 64), (1, 64))
        >>> task.predictor(net, (1, 64), (1, 64)) is net  # the net itself
        True
        >>> task.loss("relative_l2", (1, 64), (1, 64)) is relative_l2_loss
        True
    """

    name = "operator"

    def sample_shapes(self, input_shape, output_shape, source):
        return tuple(input_shape), tuple(output_shape)

    def split(self, inputs, outputs):
        return inputs, outputs

    def predictor(self, net, input_shape, target_shape):
        return net

    def loss(self, name, input_shape, target_shape):
        return LOSSES[name]


class _TrajectoryTask(AbstractTask):
    def __init__(self, input_frames: int, first_frame: int = 0):
        self.input_frames = input_frames
        self.first_frame = first_frame

    def sample_shapes(self, input_shape, output_shape, source):
        if len(output_shape) != len(input_shape) + 1:
            raise ValueError(
                f"data.task = {self.name!r} needs trajectories (T + 1, C, *spatial); {source} "
                f"gives {tuple(output_shape)} for an input {tuple(input_shape)}. Use data.task = "
                "'operator', or a trajectory problem such as 'fno/navier_stokes_1e-3'."
            )
        frames = output_shape[0] - self.first_frame
        if self.first_frame < 0 or frames < 2:
            raise ValueError(
                f"data.first_frame = {self.first_frame} must be in [0, {output_shape[0] - 2}]: "
                f"{source} gives {output_shape[0]} frames."
            )
        if not 1 <= self.input_frames < frames:
            raise ValueError(
                f"data.input_frames = {self.input_frames} leaves no frame to predict: {source} "
                f"gives {output_shape[0]} frames, {frames} from data.first_frame = "
                f"{self.first_frame}; set data.input_frames between 1 and {frames - 1} (the FNO "
                "paper uses 10), or make the trajectories longer."
            )
        _, c, *spatial = output_shape
        k = self.input_frames
        return (k * c, *spatial), ((frames - k) * c, *spatial)

    def split(self, inputs, outputs):
        return window_frames(outputs, self.input_frames, self.first_frame)

    def _counts(self, input_shape, target_shape) -> tuple[int, int]:
        channels = input_shape[0] // self.input_frames
        return self.input_frames, target_shape[0] // channels

    def model_hint(self, input_shape):
        return (f" For data.task = {self.name!r} use in_channels = {input_shape[0]}, "
                f"out_channels = {input_shape[0] // self.input_frames}.")  # fmt: skip

    def plot(self, run_dir, predict, a_test, u_test, num_samples):
        from .plots import plot_frames

        return plot_frames(run_dir, predict, a_test, u_test, num_samples, self.input_frames)


class AutoregressivePredictor(eqx.Module):
    """A net mapping ``k C`` channels to the next frame's ``C``, rolled out ``num_frames`` steps
    on its own predictions (no teacher forcing); returns the frames stacked along channels."""

    net: eqx.Module
    history: int = eqx.field(static=True)
    num_frames: int = eqx.field(static=True)

    def __call__(self, a):
        from ..surrogates import Autoregressive

        stepper = Autoregressive(self.net, history=self.history)
        frames = stepper.latest(rollout(stepper, a, self.num_frames))
        return frames.reshape(-1, *frames.shape[2:])


class AutoregressiveTask(_TrajectoryTask):
    """FNO-2D on Navier-Stokes: next frame from the last ``k``, trained through the rollout
    (:func:`pdejax.train.rollout_loss`: the mean over the ``n`` steps of the per-frame loss;
    the paper sums it, which with Adam differs only in the weight decay's weight).

    Example (5 frames of one channel on 16 points; 2 frames in, 3 predicted):
        >>> import numpy as np
        >>> task = AutoregressiveTask(input_frames=2)
        >>> task.sample_shapes((1, 16), (5, 1, 16), "'ns'")
        ((2, 16), (3, 16))
        >>> frames = np.arange(5.0).reshape(1, 5, 1, 1) * np.ones(16)  # frame t holds t
        >>> a, u = task.split(None, frames)
        >>> a[0, :, 0].tolist(), u[0, :, 0].tolist()
        ([0.0, 1.0], [2.0, 3.0, 4.0])
        >>> task.sample_shapes((1, 16), (2, 1, 16), "'ns'")
        Traceback (most recent call last):
        ValueError: data.input_frames = 2 leaves no frame to predict: 'ns' gives 2 frames, 2 from data.first_frame = 0; set data.input_frames between 1 and 1 (the FNO paper uses 10), or make the trajectories longer.
    """

    name = "autoregressive"

    def predictor(self, net, input_shape, target_shape):
        return AutoregressivePredictor(net, *self._counts(input_shape, target_shape))

    def loss(self, name, input_shape, target_shape):
        from ..surrogates import Autoregressive

        k, n = self._counts(input_shape, target_shape)
        per_frame = FRAME_LOSSES[name]

        def loss(net, a, u):
            stepper = Autoregressive(net, history=k)
            c = stepper.frame_channels
            inner = rollout_loss(n, base=lambda window, frame: per_frame(window[-c:], frame))
            return inner(stepper, a, u.reshape(u.shape[0], n, c, *u.shape[2:]))

        return loss


class SpaceTimePredictor(eqx.Module):
    """A net on a space-time grid: the ``k C`` input channels repeated along a new last (time)
    axis of length ``num_frames``, mapped to ``(C, *spatial, num_frames)`` in one call (with
    ``coordinates`` the net appends $x, y$ and $t_j = j/n$, as the paper's grid channels)."""

    net: eqx.Module
    num_frames: int = eqx.field(static=True)

    def __call__(self, a):
        x = jnp.broadcast_to(a[..., None], (*a.shape, self.num_frames))
        frames = jnp.moveaxis(self.net(x), -1, 0)
        return frames.reshape(-1, *frames.shape[2:])


class SpaceTimeTask(_TrajectoryTask):
    """FNO-3D on Navier-Stokes: all ``n`` later frames at once on a space-time grid.

    Example (a net that repeats the latest input frame predicts it at every later time):
        >>> import equinox as eqx, jax.numpy as jnp
        >>> task = SpaceTimeTask(input_frames=2)
        >>> shapes = task.sample_shapes((1, 16), (5, 1, 16), "'ns'")
        >>> latest = eqx.nn.Lambda(lambda x: x[-1:])  # (k C, x, n) -> (C, x, n)
        >>> predict = task.predictor(latest, *shapes)
        >>> out = predict(jnp.stack([jnp.zeros(16), jnp.ones(16)]))
        >>> shapes, out.shape, out[:, 0].tolist()
        (((2, 16), (3, 16)), (3, 16), [1.0, 1.0, 1.0])
    """

    name = "space_time"

    def predictor(self, net, input_shape, target_shape):
        return SpaceTimePredictor(net, self._counts(input_shape, target_shape)[1])

    def loss(self, name, input_shape, target_shape):
        n = self._counts(input_shape, target_shape)[1]
        return lambda net, a, u: LOSSES[name](SpaceTimePredictor(net, n), a, u)


TASKS: dict[str, type[AbstractTask]] = {
    t.name: t for t in (OperatorTask, AutoregressiveTask, SpaceTimeTask)
}


def make_task(data) -> AbstractTask:
    """The task a ``[data]`` configuration asks for.

    Example:
        >>> from pdejax.experiment import DataConfig
        >>> task = make_task(DataConfig(task="space_time", input_frames=3, first_frame=1))
        >>> type(task).__name__, task.input_frames, task.first_frame, make_task(DataConfig()).name
        ('SpaceTimeTask', 3, 1, 'operator')
    """
    if data.task == "operator":
        return OperatorTask()
    return TASKS[data.task](data.input_frames, data.first_frame)


def problem_shapes(problem) -> tuple[tuple, tuple]:
    """One stored sample's (input, output) shapes of a problem, without solving it."""
    a = jax.eval_shape(problem.sample_input, jr.key(0))
    u = jax.eval_shape(problem.solve, a)
    return a.shape, u.shape


def first_batch_predictions(predict, a_test, k: int) -> np.ndarray:
    """Predictions of the first ``k`` test samples, through the evaluation's compiled program."""
    return np.asarray(batched_forward(predict, jnp.asarray(a_test[:32])))[:k]


__all__ = [
    "AbstractTask",
    "AutoregressivePredictor",
    "AutoregressiveTask",
    "OperatorTask",
    "SpaceTimePredictor",
    "SpaceTimeTask",
    "TASKS",
    "make_task",
    "problem_shapes",
    "window_frames",
]

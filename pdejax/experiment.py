"""Run an experiment end to end: data, model, training, evaluation, report.

``pdejax train CONFIG.toml`` and ``pdejax demo`` call :func:`run_experiment`. A run directory
holds ``config.json`` (the resolved configuration), ``metrics.jsonl``, ``checkpoints/``,
``results.json``, ``report.md`` and plots. Running the same configuration again resumes from the
latest checkpoint; a run directory made with another configuration is never overwritten.

Tasks (``data.task``). ``"operator"`` learns the stored input -> output map (Burgers, Darcy).
For a problem whose ``solve`` returns a trajectory ``(T + 1, C, *spatial)`` (the Navier-Stokes
problems), the frames from ``data.first_frame`` on are split by :func:`window_frames`: the
first ``k = data.input_frames`` are the input ``(k C, *spatial)`` (frames stacked along
channels, oldest first) and the remaining ``n`` the target ``(n C, *spatial)``. The trained
network is the registry's model; :class:`FramePredictor` turns it into the map input -> all
``n`` predicted frames, used for evaluation and plots:

- ``"autoregressive"`` (FNO-2D of the FNO paper): the net maps ``k C`` channels to the next
  frame's ``C``; :class:`pdejax.surrogates.Autoregressive` rolls it out ``n`` steps, feeding
  back its own predictions (no teacher forcing). Trained with
  :func:`pdejax.training.rollout_loss`: the mean over the ``n`` steps of the per-frame
  relative L2 (the paper sums it; with Adam this differs only in the weight decay's weight).
- ``"space_time"`` (FNO-3D): the ``k C`` input channels are repeated along a new last time axis
  of length ``n`` and the net (with ``coordinates``: $x, y$ and $t_j = j / n$ appended, as the
  paper's grid channels) maps ``(k C, *spatial, n)`` to ``(C, *spatial, n)`` in one call;
  trained with the relative L2 over all predicted frames.

Test errors (``test_rel_l2@s``) are the relative L2 of each sample's predicted frames taken
together, averaged over the test set, as the FNO paper's released scripts report them.
"""

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax

from .config import ExperimentConfig, from_dict, to_dict
from .datasets import load_dataset
from .generate import generate
from .metrics import relative_l2
from .problems import make_problem
from .registry import build_model
from .rollout import rollout
from .training import (
    ArrayLoader,
    OnlineSource,
    _batched_forward,
    evaluate_resolutions,
    fit,
    lr_schedule,
    mse_loss,
    relative_l2_loss,
    rollout_loss,
)

LOSSES = {"relative_l2": relative_l2_loss, "mse": mse_loss}
FRAME_LOSSES = {"relative_l2": relative_l2, "mse": lambda p, t: jnp.mean((p - t) ** 2)}
TASKS = ("operator", "autoregressive", "space_time")


def run_directory(config: ExperimentConfig) -> Path:
    return Path(config.run_dir or f"runs/{config.name}")


def _prepare_run_dir(config: ExperimentConfig) -> Path:
    run_dir = run_directory(config)
    record = to_dict(config)
    saved = run_dir / "config.json"
    if saved.exists():
        if _normalised(json.loads(saved.read_text())) != json.loads(json.dumps(record)):
            raise ValueError(
                f"run directory {run_dir} holds a run with a different configuration; it is "
                "left untouched. Choose another `run_dir` (or `--set run_dir=...`)."
            )
    elif run_dir.exists() and any(run_dir.iterdir()):
        raise ValueError(
            f"run directory {run_dir} exists and is not a pdejax run; not touching it."
        )
    run_dir.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(record, indent=2, sort_keys=True))
    return run_dir


def _normalised(saved: dict) -> dict | None:
    # a run saved before a configuration key was added compares with that key at its default
    try:
        return json.loads(json.dumps(to_dict(from_dict(saved))))
    except ValueError:
        return None


def data_path(config: ExperimentConfig) -> Path:
    d = config.data
    settings = json.dumps(
        [d.problem, d.problem_args, d.num_train + d.num_test, d.seed, d.chunk_size], sort_keys=True
    )
    digest = hashlib.sha256(settings.encode()).hexdigest()[:10]
    return Path(d.data_dir) / f"{d.problem.replace('/', '_')}-{digest}.h5"


def _subsample(x: np.ndarray, stride: int) -> np.ndarray:
    if stride == 1:
        return x
    index = (Ellipsis,) + (slice(None, None, stride),) * (x.ndim - 2)
    return x[index]


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


def check_task(config: ExperimentConfig, problem) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Check that ``problem`` can serve ``data.task`` with this windowing, without solving;
    return the shapes of one sample's input and target (at the stored resolution)."""
    d = config.data
    if d.task not in TASKS:
        raise ValueError(f"data.task: unknown task {d.task!r}; use one of {', '.join(TASKS)}.")
    if d.task != "operator" and d.online:
        raise ValueError(
            f"data.online = true works only with data.task = 'operator', not {d.task!r}."
        )
    a = jax.eval_shape(problem.sample_input, jr.key(0))
    u = jax.eval_shape(problem.solve, a)
    if d.task == "operator":
        return a.shape, u.shape
    if len(u.shape) != len(a.shape) + 1:
        raise ValueError(
            f"data.task = {d.task!r} needs a problem whose solve returns a trajectory "
            f"(T + 1, C, *spatial); {d.problem!r} returns {u.shape} for an input {a.shape}. Use "
            "data.task = 'operator', or a trajectory problem such as 'fno/navier_stokes_1e-3'."
        )
    frames = u.shape[0] - d.first_frame
    if d.first_frame < 0 or frames < 2:
        raise ValueError(
            f"data.first_frame = {d.first_frame} must be in [0, {u.shape[0] - 2}]: {d.problem!r} "
            f"gives {u.shape[0]} frames."
        )
    if not 1 <= d.input_frames < frames:
        raise ValueError(
            f"data.input_frames = {d.input_frames} leaves no frame to predict: {d.problem!r} gives "
            f"{u.shape[0]} frames, {frames} from data.first_frame = {d.first_frame}; set "
            f"data.input_frames between 1 and {frames - 1} (the FNO paper uses 10), or make the "
            "trajectory longer through data.problem_args (e.g. final_time)."
        )
    _, c, *spatial = u.shape
    return (d.input_frames * c, *spatial), ((frames - d.input_frames) * c, *spatial)


def load_data(config: ExperimentConfig, *, progress: bool = True):
    """Generate (or reuse) the data set and return ``(train, test)`` as numpy pairs (for a
    trajectory task, windowed by :func:`window_frames`)."""
    d = config.data
    problem = make_problem(d.problem, **d.problem_args)
    check_task(config, problem)
    path = generate(
        problem, data_path(config), d.num_train + d.num_test, seed=d.seed,
        chunk_size=d.chunk_size, progress=progress,
    )  # fmt: skip
    ds = load_dataset(path)
    train, test = ds.split(d.num_train)
    if d.task == "operator":
        return (train.inputs, train.outputs), (test.inputs, test.outputs), problem
    window = lambda u: window_frames(u, d.input_frames, d.first_frame)  # noqa: E731
    return window(train.outputs), window(test.outputs), problem


class FramePredictor(eqx.Module):
    """A trained net as the map input frames ``(k C, *spatial)`` -> predicted frames
    ``(n C, *spatial)`` of a trajectory task (see the module docstring); ``"operator"``: the
    net itself."""

    net: eqx.Module
    task: str = eqx.field(static=True)
    history: int = eqx.field(static=True)
    num_frames: int = eqx.field(static=True)

    def __call__(self, a):
        if self.task == "operator":
            return self.net(a)
        if self.task == "autoregressive":
            from .surrogates import Autoregressive

            stepper = Autoregressive(self.net, history=self.history)
            frames = stepper.latest(rollout(stepper, a, self.num_frames))
        else:  # space_time: the input frames repeated along a new last (time) axis
            x = jnp.broadcast_to(a[..., None], (*a.shape, self.num_frames))
            frames = jnp.moveaxis(self.net(x), -1, 0)
        return frames.reshape(-1, *frames.shape[2:])


def _predictor(config: ExperimentConfig, net, a_shape, u_shape) -> FramePredictor:
    """``a_shape``, ``u_shape``: one sample's input and target shapes."""
    k = config.data.input_frames
    channels = a_shape[0] // k if config.data.task != "operator" else 1
    return FramePredictor(net, config.data.task, k, u_shape[0] // channels)


def _task_loss(config: ExperimentConfig, predictor: FramePredictor):
    name = config.train.loss
    if name not in LOSSES:
        raise ValueError(f"train.loss: unknown loss {name!r}; use {sorted(LOSSES)}.")
    task, k, n = predictor.task, predictor.history, predictor.num_frames
    if task == "autoregressive":
        from .surrogates import Autoregressive

        per_frame = FRAME_LOSSES[name]

        def loss(net, a, u):
            stepper = Autoregressive(net, history=k)
            c = stepper.frame_channels
            inner = rollout_loss(n, base=lambda window, frame: per_frame(window[-c:], frame))
            return inner(stepper, a, u.reshape(u.shape[0], n, c, *u.shape[2:]))

        return loss
    if task == "space_time":
        return lambda net, a, u: LOSSES[name](FramePredictor(net, task, k, n), a, u)
    return LOSSES[name]


def make_optimizer(config: ExperimentConfig, steps_per_epoch: int) -> optax.GradientTransformation:
    t = config.train
    schedule = lr_schedule(
        t.schedule, t.learning_rate, num_steps=t.num_epochs * steps_per_epoch,
        steps_per_epoch=steps_per_epoch, step_epochs=t.step_epochs, gamma=t.gamma,
    )  # fmt: skip
    return optax.chain(optax.add_decayed_weights(t.weight_decay), optax.adam(schedule))


def run_experiment(config: ExperimentConfig, *, progress: bool = True) -> dict:
    """Train and evaluate; returns the results dictionary also written to ``results.json``."""
    predict = check_config(config)  # before the run directory is made
    model = build_model(config.model.name, config.model.kwargs, seed=config.model.seed)
    predict, stride = eqx.tree_at(lambda p: p.net, predict, model), config.data.train_stride
    run_dir = _prepare_run_dir(config)
    t0 = time.perf_counter()
    (a_train, u_train), (a_test, u_test), problem = load_data(config, progress=progress)
    data_s = time.perf_counter() - t0
    train_res = a_train.shape[-1] // stride
    resolutions = config.eval.resolutions or [train_res]

    if config.data.online:
        if stride != 1:
            raise ValueError("data.train_stride must be 1 with data.online = true.")
        data = OnlineSource(problem, config.train.batch_size, seed=config.train.seed)
        steps_per_epoch = max(1, config.data.num_train // config.train.batch_size)
    else:
        data = ArrayLoader(
            _subsample(a_train, stride), _subsample(u_train, stride), config.train.batch_size,
            seed=config.train.seed,
        )  # fmt: skip
        steps_per_epoch = data.batches_per_epoch
    optimizer = make_optimizer(config, steps_per_epoch)
    loss = _task_loss(config, predict)

    def evaluate(m):
        return evaluate_resolutions(eqx.tree_at(lambda p: p.net, predict, m), a_test, u_test,
                                    [train_res])  # fmt: skip

    t1 = time.perf_counter()
    result = fit(
        model, optimizer, data, loss=loss,
        num_steps=config.train.num_epochs * steps_per_epoch,
        run_dir=run_dir,
        checkpoint_every=config.train.checkpoint_every_epochs * steps_per_epoch,
        log_every=steps_per_epoch,
        evaluate=evaluate,
        eval_every=max(1, config.train.num_epochs // 10) * steps_per_epoch,
        record={"model": dataclasses.asdict(config.model)},
        devices=_devices_for(config.train.batch_size),
        progress=progress,
    )  # fmt: skip
    train_s = time.perf_counter() - t1
    predict = eqx.tree_at(lambda p: p.net, predict, result.model)
    scores = evaluate_resolutions(predict, a_test, u_test, resolutions)
    results = {
        "name": config.name,
        "problem": config.data.problem,
        "task": config.data.task,
        **(
            {"input_frames": predict.history, "predicted_frames": predict.num_frames}
            if config.data.task != "operator"
            else {}
        ),  # fmt: skip
        "model": config.model.name,
        "num_parameters": int(sum(x.size for x in jax.tree.leaves(_arrays(result.model)))),
        "steps": result.step,
        "train_resolution": train_res,
        "data_seconds": data_s,
        "train_seconds": train_s,
        "final_train_loss": result.history[-1]["train_loss"] if result.history else None,
        **scores,
        "expected": config.expected,
        "backend": jax.default_backend(),
        "num_devices": len(_devices_for(config.train.batch_size)),
    }
    (run_dir / "results.json").write_text(json.dumps(results, indent=2))
    from .report import write_report

    write_report(run_dir, config, results, predict, a_test, u_test, resolutions)
    if config.data.task != "operator":
        _plot_frames(run_dir, config, predict, a_test, u_test)
    return results


def check_config(config: ExperimentConfig) -> FramePredictor:
    """Check everything that needs no data (problem, task, windowing, model against the data's
    shapes at the training resolution), building the model only abstractly (no weights
    computed); return it as a predictor."""
    shapes = check_task(config, make_problem(config.data.problem, **config.data.problem_args))
    c = config.model
    model = eqx.filter_eval_shape(lambda: build_model(c.name, c.kwargs, seed=c.seed))
    predict = _predictor(config, model, *shapes)
    stride = config.data.train_stride
    _check_model(config, predict, *(s[:1] + tuple(-(-n // stride) for n in s[1:]) for s in shapes))
    return predict


def _check_model(config, predict, a_shape, u_shape) -> None:
    task, hint = config.data.task, ""
    if task != "operator":
        hint = (f" For data.task = {task!r} use in_channels = {a_shape[0]}, out_channels = "
                f"{a_shape[0] // config.data.input_frames}.")  # fmt: skip
    try:
        out = eqx.filter_eval_shape(predict, jax.ShapeDtypeStruct(a_shape, jnp.float32)).shape
    except ValueError as err:
        raise ValueError(f"model.kwargs: the model cannot take this data: {err}{hint}") from err
    if out != tuple(u_shape):
        raise ValueError(
            f"model.kwargs: {config.model.name} maps an input {tuple(a_shape)} to {out}, but the "
            f"targets are {tuple(u_shape)}.{hint}"
        )


def _plot_frames(run_dir: Path, config, predict, a_test, u_test) -> None:
    """First and last predicted frame of test sample 0 (truth, prediction) and the relative L2
    per predicted frame (mean over the plotted samples); appended to the report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = max(1, min(config.eval.num_plot_samples, len(a_test)))
    # the evaluation's first batch (same shape: its compiled program is reused)
    pred = np.asarray(_batched_forward(predict, jnp.asarray(a_test[:32])))[:k]
    c, n = a_test.shape[1] // predict.history, predict.num_frames
    pred = pred.reshape(k, n, c, *pred.shape[2:])
    true = np.asarray(u_test[:k]).reshape(pred.shape)
    err = np.linalg.norm((pred - true).reshape(k, n, -1), axis=-1)
    err = (err / np.linalg.norm(true.reshape(k, n, -1), axis=-1)).mean(0)
    fig = plt.figure(figsize=(12, 5.4))
    grid = fig.add_gridspec(2, 3)
    for col, j in enumerate((0, n - 1)):
        lim = np.abs(true[0, j, 0]).max()
        for row, (what, field) in enumerate((("solver", true), ("surrogate", pred))):
            ax = fig.add_subplot(grid[row, col])
            ax.imshow(field[0, j, 0].T, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
            ax.set(title=f"{what}, predicted frame {j + 1}", xticks=[], yticks=[])
    ax = fig.add_subplot(grid[:, 2])
    ax.semilogy(np.arange(1, n + 1), err, "o-")
    ax.set(xlabel="predicted frame", ylabel="relative L2", title=f"error over time ({k} samples)")
    fig.tight_layout()
    fig.savefig(run_dir / "frames.png", dpi=100)
    plt.close(fig)
    with (run_dir / "report.md").open("a") as f:
        f.write(f"\nTask `{config.data.task}`: {predict.history} input frames, {n} predicted "
                "(relative L2 over all predicted frames).\n\n![frames](frames.png)\n")  # fmt: skip


def _arrays(model):
    return eqx.filter(model, eqx.is_inexact_array)


def _devices_for(batch_size: int):
    devices = jax.local_devices()
    while batch_size % len(devices):
        devices = devices[:-1]
    return devices


def load_run(run_dir: str | Path):
    """Rebuild ``(config, model)`` from a run directory's configuration and latest checkpoint."""
    from .checkpoint import Checkpointer

    run_dir = Path(run_dir)
    if not (run_dir / "config.json").exists():
        raise ValueError(f"load_run: {run_dir} has no config.json; is it a pdejax run directory?")
    config = from_dict(json.loads((run_dir / "config.json").read_text()))
    template = build_model(config.model.name, config.model.kwargs, seed=config.model.seed)
    optimizer = make_optimizer(config, 1)
    ckpt = Checkpointer(run_dir / "checkpoints")
    try:
        _, model, _, _, _ = ckpt.restore(
            template, optimizer.init(eqx.filter(template, eqx.is_array))
        )
    finally:
        ckpt.close()
    return config, model


def evaluate_run(run_dir: str | Path, resolutions: list[int] | None = None) -> dict:
    """``pdejax evaluate``: rebuild the model from its checkpoint and score the test set."""
    config, model = load_run(run_dir)
    _, (a_test, u_test), _ = load_data(config, progress=False)
    res = resolutions or config.eval.resolutions or [a_test.shape[-1] // config.data.train_stride]
    predict = _predictor(config, model, a_test.shape[1:], u_test.shape[1:])
    scores = evaluate_resolutions(predict, a_test, u_test, res)
    (Path(run_dir) / "evaluation.json").write_text(json.dumps(scores, indent=2))
    return scores


__all__ = [
    "FramePredictor",
    "check_config",
    "check_task",
    "evaluate_run",
    "load_run",
    "run_experiment",
    "window_frames",
]

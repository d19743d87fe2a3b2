"""Run an experiment end to end: data, model, training, evaluation, report.

``pdejax train CONFIG.toml`` and ``pdejax demo`` call :func:`run_experiment`. A run directory
holds ``config.json`` (the resolved configuration), ``metrics.jsonl``, ``checkpoints/``,
``results.json``, ``report.md`` and figures. Running the same configuration again resumes from
the latest checkpoint; a run directory made with another configuration is never overwritten.
What is learned from the data (windowing, loss, predictor, figures) is the task's business
(:mod:`pdejax.experiment.tasks`).
"""

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..data.datasets import load_dataset
from ..data.generate import generate
from ..data.problems import make_problem
from ..train.checkpoint import Checkpointer
from ..train.evaluate import evaluate_resolutions, strided_size
from ..train.fit import fit
from ..train.loaders import ArrayLoader, OnlineSource
from ..train.schedules import lr_schedule
from .config import ExperimentConfig, from_dict, to_dict
from .models import build_model
from .report import write_report
from .tasks import AbstractTask, make_task, problem_shapes


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


def subsample(x: np.ndarray, stride: int) -> np.ndarray:
    """Every ``stride``-th point along the spatial axes of ``(S, C, *spatial)`` data."""
    if stride == 1:
        return x
    index = (Ellipsis,) + (slice(None, None, stride),) * (x.ndim - 2)
    return x[index]


def check_task(config: ExperimentConfig, problem) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Check that ``problem`` can serve ``data.task`` with this windowing, without solving;
    return the shapes of one sample's input and target (at the stored resolution)."""
    d = config.data
    if d.task != "operator" and d.online:
        raise ValueError(
            f"data.online = true works only with data.task = 'operator', not {d.task!r}."
        )
    return make_task(d).sample_shapes(*problem_shapes(problem), repr(d.problem))


def load_data(config: ExperimentConfig, *, progress: bool = True):
    """Generate (or reuse) the data set and return ``(train, test, problem)``, the first two as
    numpy ``(inputs, targets)`` pairs windowed by the task."""
    d = config.data
    problem = make_problem(d.problem, **d.problem_args)
    check_task(config, problem)
    path = generate(
        problem, data_path(config), d.num_train + d.num_test, seed=d.seed,
        chunk_size=d.chunk_size, progress=progress,
    )  # fmt: skip
    ds = load_dataset(path)
    train, test = ds.split(d.num_train)
    task = make_task(d)
    return task.split(train.inputs, train.outputs), task.split(test.inputs, test.outputs), problem


def train_resolution(config: ExperimentConfig, input_shape) -> int:
    """Points per spatial axis that training sees: the stored size after ``train_stride``."""
    return strided_size(input_shape[-1], config.data.train_stride)


def make_optimizer(config: ExperimentConfig, steps_per_epoch: int) -> optax.GradientTransformation:
    t = config.train
    schedule = lr_schedule(
        t.schedule, t.learning_rate, num_steps=t.num_epochs * steps_per_epoch,
        steps_per_epoch=steps_per_epoch, step_epochs=t.step_epochs, gamma=t.gamma,
    )  # fmt: skip
    return optax.chain(optax.add_decayed_weights(t.weight_decay), optax.adam(schedule))


def check_config(config: ExperimentConfig) -> tuple[AbstractTask, tuple, tuple]:
    """Check everything that needs no data (problem, task, windowing, the model against the
    data's shapes at the training resolution), building the model only abstractly (no weights
    computed); return the task and one sample's input and target shapes."""
    task = make_task(config.data)
    shapes = check_task(config, make_problem(config.data.problem, **config.data.problem_args))
    c = config.model
    model = eqx.filter_eval_shape(lambda: build_model(c.name, c.kwargs, seed=c.seed))
    stride = config.data.train_stride
    at_train = [s[:1] + tuple(strided_size(n, stride) for n in s[1:]) for s in shapes]
    predict = task.predictor(model, *shapes)
    try:
        out = eqx.filter_eval_shape(predict, jax.ShapeDtypeStruct(at_train[0], jnp.float32)).shape
    except ValueError as err:
        raise ValueError(
            f"model.kwargs: the model cannot take this data: {err}{task.model_hint(shapes[0])}"
        ) from err
    if out != tuple(at_train[1]):
        raise ValueError(
            f"model.kwargs: {c.name} maps an input {tuple(at_train[0])} to {out}, but the "
            f"targets are {tuple(at_train[1])}.{task.model_hint(shapes[0])}"
        )
    return task, *shapes


def run_experiment(config: ExperimentConfig, *, progress: bool = True) -> dict:
    """Train and evaluate; returns the results dictionary also written to ``results.json``."""
    task, a_shape, u_shape = check_config(config)  # before the run directory is made
    model = build_model(config.model.name, config.model.kwargs, seed=config.model.seed)
    stride = config.data.train_stride
    run_dir = _prepare_run_dir(config)
    t0 = time.perf_counter()
    (a_train, u_train), (a_test, u_test), problem = load_data(config, progress=progress)
    data_s = time.perf_counter() - t0
    train_res = train_resolution(config, a_train.shape)
    resolutions = config.eval.resolutions or [train_res]

    if config.data.online:
        if stride != 1:
            raise ValueError("data.train_stride must be 1 with data.online = true.")
        data = OnlineSource(problem, config.train.batch_size, seed=config.train.seed)
        steps_per_epoch = max(1, config.data.num_train // config.train.batch_size)
    else:
        data = ArrayLoader(
            subsample(a_train, stride), subsample(u_train, stride), config.train.batch_size,
            seed=config.train.seed,
        )  # fmt: skip
        steps_per_epoch = data.batches_per_epoch
    optimizer = make_optimizer(config, steps_per_epoch)
    loss = task.loss(config.train.loss, a_shape, u_shape)

    def evaluate(net):
        predict = task.predictor(net, a_shape, u_shape)
        return evaluate_resolutions(predict, a_test, u_test, [train_res])

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
    predict = task.predictor(result.model, a_shape, u_shape)
    scores = evaluate_resolutions(predict, a_test, u_test, resolutions)
    results = {
        "name": config.name,
        "problem": config.data.problem,
        "task": config.data.task,
        **(
            {"input_frames": config.data.input_frames, "predicted_frames": predict.num_frames}
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
    plot_index = (Ellipsis,) + (slice(None, None, stride),) * (a_test.ndim - 2)
    figures = task.plot(
        run_dir, predict, a_test[plot_index], u_test[plot_index], config.eval.num_plot_samples
    )
    write_report(run_dir, config, results, figures)
    return results


def _arrays(model):
    return eqx.filter(model, eqx.is_inexact_array)


def _devices_for(batch_size: int):
    devices = jax.local_devices()
    while batch_size % len(devices):
        devices = devices[:-1]
    return devices


def load_run(run_dir: str | Path):
    """Rebuild ``(config, model)`` from a run directory's configuration and newest intact
    checkpoint."""
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
    res = resolutions or config.eval.resolutions or [train_resolution(config, a_test.shape)]
    task = make_task(config.data)
    predict = task.predictor(model, a_test.shape[1:], u_test.shape[1:])
    scores = evaluate_resolutions(predict, a_test, u_test, res)
    (Path(run_dir) / "evaluation.json").write_text(json.dumps(scores, indent=2))
    return scores


__all__ = [
    "check_config",
    "check_task",
    "data_path",
    "evaluate_run",
    "load_data",
    "load_run",
    "make_optimizer",
    "run_directory",
    "run_experiment",
    "train_resolution",
]

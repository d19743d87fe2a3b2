"""Run an experiment end to end: data, model, training, evaluation, report.

``pdejax train CONFIG.toml`` and ``pdejax demo`` call :func:`run_experiment`. A run directory
holds ``config.json`` (the resolved configuration), ``metrics.jsonl``, ``checkpoints/``,
``results.json``, ``report.md`` and plots. Running the same configuration again resumes from the
latest checkpoint; a run directory made with another configuration is never overwritten.
"""

import dataclasses
import hashlib
import json
import time
from pathlib import Path

import jax
import numpy as np
import optax

from .config import ExperimentConfig, from_dict, to_dict
from .datasets import load_dataset
from .generate import generate
from .problems import make_problem
from .registry import build_model
from .training import (
    ArrayLoader,
    OnlineSource,
    evaluate_resolutions,
    fit,
    lr_schedule,
    mse_loss,
    relative_l2_loss,
)

LOSSES = {"relative_l2": relative_l2_loss, "mse": mse_loss}


def run_directory(config: ExperimentConfig) -> Path:
    return Path(config.run_dir or f"runs/{config.name}")


def _prepare_run_dir(config: ExperimentConfig) -> Path:
    run_dir = run_directory(config)
    record = to_dict(config)
    saved = run_dir / "config.json"
    if saved.exists():
        if json.loads(saved.read_text()) != json.loads(json.dumps(record)):
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


def load_data(config: ExperimentConfig, *, progress: bool = True):
    """Generate (or reuse) the data set and return ``(train, test)`` as numpy pairs."""
    d = config.data
    problem = make_problem(d.problem, **d.problem_args)
    path = generate(
        problem, data_path(config), d.num_train + d.num_test, seed=d.seed,
        chunk_size=d.chunk_size, progress=progress,
    )  # fmt: skip
    ds = load_dataset(path)
    train, test = ds.split(d.num_train)
    return (train.inputs, train.outputs), (test.inputs, test.outputs), problem


def make_optimizer(config: ExperimentConfig, steps_per_epoch: int) -> optax.GradientTransformation:
    t = config.train
    schedule = lr_schedule(
        t.schedule, t.learning_rate, num_steps=t.num_epochs * steps_per_epoch,
        steps_per_epoch=steps_per_epoch, step_epochs=t.step_epochs, gamma=t.gamma,
    )  # fmt: skip
    return optax.chain(optax.add_decayed_weights(t.weight_decay), optax.adam(schedule))


def run_experiment(config: ExperimentConfig, *, progress: bool = True) -> dict:
    """Train and evaluate; returns the results dictionary also written to ``results.json``."""
    run_dir = _prepare_run_dir(config)
    t0 = time.perf_counter()
    (a_train, u_train), (a_test, u_test), problem = load_data(config, progress=progress)
    data_s = time.perf_counter() - t0
    stride = config.data.train_stride
    train_res = a_train.shape[-1] // stride
    resolutions = config.eval.resolutions or [train_res]

    model = build_model(config.model.name, config.model.kwargs, seed=config.model.seed)
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
    loss = LOSSES.get(config.train.loss)
    if loss is None:
        raise ValueError(f"train.loss: unknown loss {config.train.loss!r}; use {sorted(LOSSES)}.")

    def evaluate(m):
        return evaluate_resolutions(m, a_test, u_test, [train_res])

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
    scores = evaluate_resolutions(result.model, a_test, u_test, resolutions)
    results = {
        "name": config.name,
        "problem": config.data.problem,
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

    write_report(run_dir, config, results, result.model, a_test, u_test, resolutions)
    return results


def _arrays(model):
    import equinox as eqx

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
    import equinox as eqx

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
    scores = evaluate_resolutions(model, a_test, u_test, res)
    (Path(run_dir) / "evaluation.json").write_text(json.dumps(scores, indent=2))
    return scores


__all__ = ["evaluate_run", "load_run", "run_experiment"]

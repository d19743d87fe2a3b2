"""Run an experiment end to end: check, data, normalizers, training, evaluation, report.

``pdejax train CONFIG.toml`` and ``pdejax demo`` call :func:`run_experiment`. A run directory
holds ``config.json`` (the resolved configuration), ``run.json`` (shapes, provenance, the working
directory the relative paths refer to), ``normalizers.h5``, ``metrics.jsonl``, ``checkpoints/``,
``results.json``, ``report.md`` and figures.

- Everything that can be checked is checked first (:func:`~pdejax.experiment.check_config`):
  a bad setting costs one line and writes nothing.
- One process owns a run directory for the whole run (an OS-level lock); a second is refused
  with the holder's PID; a lock left by a killed process does not block.
- Running the same configuration again resumes from the newest intact checkpoint; a finished
  run is not retrained (its report stays, and the results are returned); a directory that holds
  only a failed start (no checkpoint) is reused; one with another run is never overwritten.
"""

import dataclasses
import json
import math
import os
import time
from pathlib import Path

import equinox as eqx
import jax
import numpy as np
import optax

from .. import __version__
from ..data.files import RunLock
from ..data.normalizers import Normalized, fit_normalizer, load_normalizers, save_normalizers
from ..train.evaluate import evaluate_batches, resolution_index
from ..train.fit import fit
from ..train.loaders import ArrayLoader, OnlineSource, StreamingLoader
from ..train.schedules import lr_schedule
from .checks import Plan, check_config
from .config import ExperimentConfig, from_dict, to_dict
from .models import build_model
from .report import write_report
from .rundata import RunData, in_memory, open_run_data
from .tasks import LOSSES, make_task


def run_directory(config: ExperimentConfig) -> Path:
    """Where a run writes: ``run_dir``, or ``runs/<name>`` by default (relative to the
    working directory).

    Example:
        >>> from pdejax.experiment import from_dict
        >>> run_directory(from_dict({"name": "burgers"})).as_posix()
        'runs/burgers'
        >>> run_directory(from_dict({"name": "burgers", "run_dir": "out/b1"})).as_posix()
        'out/b1'
    """
    return Path(config.run_dir or f"runs/{config.name}")


def _same_config(saved: dict, config: ExperimentConfig) -> bool:
    try:  # a run saved before a key was added compares with that key at its default
        return to_dict(from_dict(saved)) == json.loads(json.dumps(to_dict(config)))
    except ValueError:
        return False


def _has_checkpoint(run_dir: Path) -> bool:
    ckpts = run_dir / "checkpoints"
    return ckpts.is_dir() and any(p.name.isdigit() for p in ckpts.iterdir())


def _claim_run_dir(config: ExperimentConfig, run_dir: Path) -> str:
    """``"new"``, ``"resume"`` or ``"finished"``; refuses a directory holding another run."""
    saved = run_dir / "config.json"
    if saved.exists():
        try:
            same = _same_config(json.loads(saved.read_text()), config)
        except ValueError:
            same = False  # an unreadable config.json: only a failed start may be reused
        started = _has_checkpoint(run_dir) or (run_dir / "results.json").exists()
        if not same and started:
            raise ValueError(
                f"run directory {run_dir} holds a run with a different configuration; it is "
                "left untouched. Choose another `run_dir` (or `--set run_dir=...`)."
            )
        if same and (run_dir / "results.json").exists():
            return "finished"
        return "resume" if same else "new"
    if run_dir.exists() and any(p.name != "train.lock" for p in run_dir.iterdir()):
        raise ValueError(
            f"run directory {run_dir} exists and is not a pdejax run; not touching it."
        )
    return "new"


def make_optimizer(config: ExperimentConfig, steps_per_epoch: int) -> optax.GradientTransformation:
    t = config.train
    schedule = lr_schedule(
        t.schedule, t.learning_rate, num_steps=t.num_epochs * steps_per_epoch,
        steps_per_epoch=steps_per_epoch, step_epochs=t.step_epochs, gamma=t.gamma,
    )  # fmt: skip
    return optax.chain(optax.add_decayed_weights(t.weight_decay), optax.adam(schedule))


def predictor(config: ExperimentConfig, net, input_shape, target_shape, normalizers: dict):
    """The map raw task input -> raw task target made from a trained ``net``.

    Example (for an autoregressive task, the net rolled out on its own predictions):
        >>> import jax.numpy as jnp
        >>> from pdejax.experiment import build_model, from_dict
        >>> cfg = from_dict({"data": {"task": "autoregressive", "input_frames": 2}})
        >>> net = build_model("FNO", {"in_channels": 2, "out_channels": 1, "modes": [4], "width": 4})
        >>> predict = predictor(cfg, net, (2, 16), (3, 16), {})
        >>> type(predict).__name__, predict(jnp.zeros((2, 16))).shape
        ('AutoregressivePredictor', (3, 16))
        >>> predictor(from_dict({}), net, (2, 16), (1, 16), {}) is net  # an operator: the net
        True
    """
    predict = make_task(config.data).predictor(net, input_shape, target_shape)
    if normalizers.get("inputs") is None and normalizers.get("outputs") is None:
        return predict
    return Normalized(predict, normalizers["inputs"], normalizers["outputs"])


def _loss(config: ExperimentConfig, plan: Plan, normalizers: dict):
    if config.data.task == "autoregressive":  # trained through the rollout (no normalizers)
        return plan.task.loss(config.train.loss, plan.input_shape, plan.target_shape)
    base = LOSSES[config.train.loss]
    shapes = plan.input_shape, plan.target_shape
    return lambda net, a, u: base(predictor(config, net, *shapes, normalizers), a, u)


def _normalizers(config: ExperimentConfig, run_dir: Path, data: RunData) -> dict:
    path = run_dir / "normalizers.h5"
    if path.exists():  # fitted when the run started: a resumed run uses the same statistics
        return load_normalizers(path)
    d = config.data
    fitted = {
        "inputs": fit_normalizer(d.input_normalizer, (a for a, _ in data.train.batches(16))),
        "outputs": fit_normalizer(d.output_normalizer, (u for _, u in data.train.batches(16))),
    }
    save_normalizers(path, fitted)
    return fitted


def _stride_index(ndim: int, stride: int) -> tuple:
    return (Ellipsis,) + (slice(None, None, stride),) * (ndim - 2)


def _loader(config: ExperimentConfig, plan: Plan, data: RunData):
    d, t = config.data, config.train
    if d.online:
        source = OnlineSource(data.problem, t.batch_size, seed=t.seed)
        return source, max(1, d.num_train // t.batch_size)

    def read(positions):
        a, u = data.train.read(positions)
        return a[_stride_index(a.ndim, d.train_stride)], u[_stride_index(u.ndim, d.train_stride)]

    if in_memory(config, plan.input_shape, plan.target_shape):
        a, u = read(np.arange(len(data.train)))
        loader = ArrayLoader(a, u, t.batch_size, seed=t.seed)
    else:
        loader = StreamingLoader(read, len(data.train), t.batch_size, seed=t.seed)
    return loader, loader.batches_per_epoch


def _write_run_json(run_dir: Path, config, plan: Plan, data_description: str, overrides) -> None:
    meta = {
        "pdejax_version": __version__,
        "cwd": os.getcwd(),
        "input_shape": list(plan.input_shape),
        "target_shape": list(plan.target_shape),
        "train_resolution": plan.train_resolution,
        "resolutions": plan.resolutions,
        "data": data_description,
        "overrides": list(overrides),
    }
    tmp = run_dir / "run.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2))
    os.replace(tmp, run_dir / "run.json")


def run_experiment(config: ExperimentConfig, *, progress: bool = True, overrides=()) -> dict:
    """Train and evaluate; returns the results dictionary also written to ``results.json``.

    ``overrides`` (the ``--set`` strings the configuration was built with) are recorded in the
    report. A finished run is returned as it is, with ``results["finished"] = True``.

    Example (a tiny Burgers run: 4 samples at 32 points, one epoch):
        >>> import tempfile
        >>> from pdejax.experiment import from_dict
        >>> tmp = tempfile.mkdtemp()
        >>> config = from_dict({
        ...     "name": "doc", "run_dir": f"{tmp}/run", "eval": {"num_plot_samples": 0},
        ...     "data": {"problem": "fno/burgers", "problem_args": {"num_points": 32, "num_steps": 4},
        ...              "num_train": 4, "num_test": 2, "chunk_size": 6, "data_dir": f"{tmp}/data"},
        ...     "model": {"kwargs": {"in_channels": 1, "out_channels": 1, "modes": [4], "width": 4,
        ...                          "num_layers": 1, "projection_width": 4}},
        ...     "train": {"num_epochs": 1, "batch_size": 4}})
        >>> results = run_experiment(config, progress=False)
        >>> results["steps"], results["train_resolution"], [k for k in results if k.startswith("test_")]
        (1, 32, ['test_rel_l2@32'])
        >>> sorted(p.name for p in run_directory(config).iterdir() if p.suffix in (".json", ".md"))
        ['config.json', 'report.md', 'results.json', 'run.json']
        >>> run_experiment(config, progress=False)["finished"]  # done: not trained again
        True
    """
    plan = check_config(config)  # before anything is written
    run_dir = run_directory(config)
    state = _claim_run_dir(config, run_dir)  # refuses a foreign directory before touching it
    with RunLock(run_dir / "train.lock", who="train"):
        state = _claim_run_dir(config, run_dir)  # another process may have finished meanwhile
        if state == "finished":
            return dict(json.loads((run_dir / "results.json").read_text()), finished=True)
        (run_dir / "config.json").write_text(json.dumps(to_dict(config), indent=2, sort_keys=True))
        _write_run_json(run_dir, config, plan, plan.spec.description, overrides)
        return _run(config, plan, run_dir, progress, overrides)


def _run(config: ExperimentConfig, plan: Plan, run_dir: Path, progress: bool, overrides) -> dict:
    model = build_model(config.model.name, config.model.kwargs, seed=config.model.seed)
    t0 = time.perf_counter()
    data = open_run_data(config, progress=progress)
    try:
        data_s = time.perf_counter() - t0
        normalizers = _normalizers(config, run_dir, data)
        loader, steps_per_epoch = _loader(config, plan, data)
        shapes = plan.input_shape, plan.target_shape
        test_batches = list(data.test.batches(32)) if _small(config, plan) else None

        def tests():
            return test_batches if test_batches is not None else data.test.batches(32)

        def evaluate(net):
            return evaluate_batches(predictor(config, net, *shapes, normalizers), tests(), [plan.train_resolution])  # fmt: skip

        t = config.train
        t1 = time.perf_counter()
        try:
            result = fit(
                model, make_optimizer(config, steps_per_epoch), loader,
                loss=_loss(config, plan, normalizers),
                num_steps=t.num_epochs * steps_per_epoch,
                run_dir=run_dir,
                checkpoint_every=t.checkpoint_every_epochs * steps_per_epoch,
                log_every=steps_per_epoch,
                evaluate=evaluate,
                eval_every=max(1, t.num_epochs // 10) * steps_per_epoch,
                record={"model": dataclasses.asdict(config.model)},
                devices=_devices_for(t.batch_size),
                progress=progress,
                max_to_keep=t.keep_checkpoints,
            )  # fmt: skip
        finally:
            if isinstance(loader, StreamingLoader):
                loader.close()
        train_s = time.perf_counter() - t1
        predict = predictor(config, result.model, *shapes, normalizers)
        scores = evaluate_batches(predict, tests(), plan.resolutions)
        results = _results(config, plan, result, scores, data_s, train_s, predict, overrides)
        (run_dir / "results.json").write_text(json.dumps(results, indent=2))
        k = min(config.eval.num_plot_samples, len(data.test))
        figures = []
        if k:
            a, u = data.test.read(np.arange(k))
            index = resolution_index(a.shape, plan.train_resolution)
            figures = plan.task.plot(run_dir, predict, a[index], u[index], k)
        write_report(run_dir, config, results, figures)
        return results
    finally:
        data.close()


def _small(config: ExperimentConfig, plan: Plan) -> bool:
    size = 4 * config.data.num_test * (math.prod(plan.input_shape) + math.prod(plan.target_shape))
    return size < 1e9


def _results(config, plan, result, scores, data_s, train_s, predict, overrides) -> dict:
    trajectory = config.data.task != "operator"
    if trajectory:
        frames = plan.target_shape[0] // (plan.input_shape[0] // config.data.input_frames)
    return {
        "name": config.name,
        "problem": config.data.problem or None,
        "path": config.data.path or None,
        "data": plan.spec.description,
        "task": config.data.task,
        **(
            {"input_frames": config.data.input_frames, "predicted_frames": frames}
            if trajectory
            else {}
        ),  # fmt: skip
        "model": config.model.name,
        "num_parameters": int(
            sum(x.size for x in jax.tree.leaves(eqx.filter(result.model, eqx.is_inexact_array)))
        ),  # fmt: skip
        "normalizers": {
            "inputs": config.data.input_normalizer,
            "outputs": config.data.output_normalizer,
        },  # fmt: skip
        "steps": result.step,
        "train_resolution": plan.train_resolution,
        "data_seconds": data_s,
        "train_seconds": train_s,
        "final_train_loss": result.history[-1]["train_loss"] if result.history else None,
        **scores,
        "expected": config.expected,
        "overrides": list(overrides),
        "backend": jax.default_backend(),
        "num_devices": len(_devices_for(config.train.batch_size)),
    }


def _devices_for(batch_size: int):
    devices = jax.local_devices()
    while batch_size % len(devices):
        devices = devices[:-1]
    return devices


__all__ = [
    "make_optimizer",
    "predictor",
    "run_directory",
    "run_experiment",
]

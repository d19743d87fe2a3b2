"""A finished (or interrupted) run, back from its directory: :func:`load_run` rebuilds its
predictor from the newest intact checkpoint and its stored normalizers; :func:`evaluate_run`
scores it again on its test split (``pdejax evaluate``), reading the data where training read
them."""

import dataclasses
import json
from pathlib import Path

import equinox as eqx

from ..data.normalizers import load_normalizers
from ..train.checkpoint import Checkpointer
from ..train.evaluate import evaluate_batches
from .checks import check_config
from .config import ExperimentConfig, from_dict
from .models import build_model
from .rundata import open_run_data
from .runner import make_optimizer, predictor


def _meta(run_dir: Path) -> dict:
    path = run_dir / "run.json"
    try:
        return json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        raise ValueError(f"{path} is damaged (not JSON); delete the run directory and retrain.") from None  # fmt: skip


def load_run(run_dir: str | Path):
    """``(config, model)`` of a run directory: the model is the run's predictor, mapping the
    task's *raw* input to its *raw* target (normalizers included; for a trajectory task the
    rollout or space-time wrapper around the trained net), rebuilt from the newest intact
    checkpoint.

    Example (a tiny run, reloaded):
        >>> import tempfile, jax.numpy as jnp
        >>> from pdejax.experiment import from_dict, run_experiment
        >>> tmp = tempfile.mkdtemp()
        >>> config = from_dict({
        ...     "name": "doc", "run_dir": f"{tmp}/run", "eval": {"num_plot_samples": 0},
        ...     "data": {"problem": "fno/burgers", "problem_args": {"num_points": 32, "num_steps": 4},
        ...              "num_train": 4, "num_test": 2, "chunk_size": 6, "data_dir": f"{tmp}/data"},
        ...     "model": {"kwargs": {"in_channels": 1, "out_channels": 1, "modes": [4], "width": 4,
        ...                          "num_layers": 1, "projection_width": 4}},
        ...     "train": {"num_epochs": 1, "batch_size": 4}})
        >>> _ = run_experiment(config, progress=False)
        >>> config, predict = load_run(f"{tmp}/run")
        >>> config.name, type(predict).__name__, predict(jnp.ones((1, 32))).shape
        ('doc', 'FNO', (1, 32))
        >>> load_run(f"{tmp}/data")
        Traceback (most recent call last):
        ValueError: load_run: .../data has no config.json; is it a pdejax run directory?
    """
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").exists():
        raise ValueError(f"load_run: {run_dir} has no config.json; is it a pdejax run directory?")
    try:
        config = from_dict(json.loads((run_dir / "config.json").read_text()))
    except json.JSONDecodeError:
        raise ValueError(f"load_run: {run_dir / 'config.json'} is damaged (not JSON).") from None
    template = build_model(config.model.name, config.model.kwargs, seed=config.model.seed)
    optimizer = make_optimizer(config, 1)
    ckpt = Checkpointer(run_dir / "checkpoints")
    try:
        _, net, _, _, _ = ckpt.restore(template, optimizer.init(eqx.filter(template, eqx.is_array)))
    finally:
        ckpt.close()
    meta = _meta(run_dir)
    if "input_shape" in meta:
        shapes = tuple(meta["input_shape"]), tuple(meta["target_shape"])
    else:  # a run written by pdejax 0.1.0
        from .rundata import data_spec, task_shapes

        shapes = task_shapes(config, data_spec(config))
    return config, predictor(config, net, *shapes, load_normalizers(run_dir / "normalizers.h5"))


def evaluate_run(run_dir: str | Path, resolutions: list[int] | None = None) -> dict:
    """``pdejax evaluate``: rebuild the run's predictor and score its test split.

    The scores (relative L2 per resolution) are returned and written to ``evaluation.json``.

    Example (a tiny run trained at 32 points, scored at 16 and 32):
        >>> import tempfile, json, pathlib
        >>> from pdejax.experiment import from_dict, run_experiment
        >>> tmp = tempfile.mkdtemp()
        >>> config = from_dict({
        ...     "name": "doc", "run_dir": f"{tmp}/run", "eval": {"num_plot_samples": 0},
        ...     "data": {"problem": "fno/burgers", "problem_args": {"num_points": 32, "num_steps": 4},
        ...              "num_train": 4, "num_test": 2, "chunk_size": 6, "data_dir": f"{tmp}/data"},
        ...     "model": {"kwargs": {"in_channels": 1, "out_channels": 1, "modes": [4], "width": 4,
        ...                          "num_layers": 1, "projection_width": 4}},
        ...     "train": {"num_epochs": 1, "batch_size": 4}})
        >>> _ = run_experiment(config, progress=False)
        >>> scores = evaluate_run(f"{tmp}/run", resolutions=[16, 32])
        >>> sorted(scores), json.loads(pathlib.Path(tmp, "run", "evaluation.json").read_text()) == scores
        (['test_rel_l2@16', 'test_rel_l2@32'], True)
    """
    run_dir = Path(run_dir)
    config, predict = load_run(run_dir)
    meta = _meta(run_dir)
    config = _at_training_cwd(config, meta.get("cwd"))
    plan = check_config(config)
    res = resolutions or plan.resolutions
    data = open_run_data(config, progress=False)
    try:
        scores = evaluate_batches(predict, data.test.batches(32), res)
    finally:
        data.close()
    (run_dir / "evaluation.json").write_text(json.dumps(scores, indent=2))
    return scores


def _at_training_cwd(config: ExperimentConfig, cwd: str | None) -> ExperimentConfig:
    """Relative data paths of the configuration, resolved where training ran."""
    if not cwd:
        return config
    d = config.data

    def where(p: str) -> str:
        return p if not p or Path(p).is_absolute() else str(Path(cwd) / p)

    data = dataclasses.replace(
        d, data_dir=where(d.data_dir), path=where(d.path), test_path=where(d.test_path)
    )
    return dataclasses.replace(config, data=data)


__all__ = ["evaluate_run", "load_run"]

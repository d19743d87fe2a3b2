"""Everything about a run that can be checked before anything is generated or written.

:func:`check_config` validates the whole configuration (every key's range, the data source, the
task's windowing, the model against the data's shapes at the training resolution, the
evaluation resolutions, the disk space that data generation will need) and returns a
:class:`Plan`. ``pdejax train`` calls it before it creates the run directory, so a mistake costs
one line and leaves nothing behind to clean up.
"""

import dataclasses
import math
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp

from ..data.files import check_free_space
from ..data.problems import available_problems, make_problem
from ..train.evaluate import resolution_stride, strided_size
from .config import ExperimentConfig
from .models import build_model
from .rundata import DataSpec, data_path, data_spec, task_shapes
from .tasks import AbstractTask, make_task


@dataclasses.dataclass
class Plan:
    """What a checked configuration will do.

    Example (Burgers at 64 points, trained on every second point, evaluated at 32 and 64):
        >>> import tempfile
        >>> from pdejax.experiment import from_dict
        >>> cfg = from_dict({
        ...     "data": {"problem": "fno/burgers", "problem_args": {"num_points": 64},
        ...              "num_train": 8, "num_test": 2, "train_stride": 2, "data_dir": tempfile.mkdtemp()},
        ...     "model": {"kwargs": {"in_channels": 1, "out_channels": 1, "modes": [4], "width": 8}},
        ...     "train": {"batch_size": 4}, "eval": {"resolutions": [32, 64]}})
        >>> plan = check_config(cfg)
        >>> plan.task.name, plan.input_shape, plan.target_shape, plan.train_resolution, plan.resolutions
        ('operator', (1, 64), (1, 64), 32, [32, 64])
    """

    task: AbstractTask
    spec: DataSpec
    input_shape: tuple[int, ...]  # one sample's task input, at the stored resolution
    target_shape: tuple[int, ...]
    train_resolution: int
    resolutions: list[int]


def _positive(value, where: str, *, allow_zero: bool = False, integer: bool = True) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) if integer else isinstance(value, int | float) and math.isfinite(value)  # fmt: skip
    if not ok or value < 0 or (value == 0 and not allow_zero):
        kind = "integer" if integer else "number"
        sign = "non-negative" if allow_zero else "positive"
        raise ValueError(f"config: `{where}` must be a {sign} {kind}, got {value!r}.")


def _check_problem(config: ExperimentConfig) -> None:
    d = config.data
    if bool(d.problem) == bool(d.path):
        raise ValueError(
            "config: [data] needs exactly one of `problem` (a registered problem, see `pdejax "
            "problems`) and `path` (a data file, see `pdejax inspect FILE`)"
            + (f"; it has both ({d.problem!r} and {d.path!r})." if d.problem else ".")
        )
    if d.problem:
        if d.problem not in available_problems():
            raise ValueError(
                f"config: `data.problem` = {d.problem!r} is not a registered problem; "
                f"available: {', '.join(available_problems())}."
            )
        check_problem_args(d.problem, d.problem_args, "data.problem_args")
    else:
        if not Path(d.path).exists():
            raise ValueError(f"config: `data.path` = {d.path!r}: no such file or directory.")
        if d.online:
            raise ValueError("config: `data.online = true` needs a `data.problem`, not a file.")
        if d.test_path and not Path(d.test_path).exists():
            raise ValueError(f"config: `data.test_path` = {d.test_path!r}: no such file.")


def check_problem_args(name: str, args: dict, where: str) -> None:
    """Every key of ``args`` is a parameter of problem ``name``'s factory (one line otherwise)."""
    from ..data.problems import problem_parameters

    known = problem_parameters(name)
    unknown = sorted(set(args) - set(known))
    if unknown:
        raise ValueError(
            f"config: `{where}` has unknown key(s) {', '.join(unknown)} for problem {name!r}; "
            f"its arguments are: {', '.join(f'{k} (default {v!r})' for k, v in known.items())}."
        )
    try:
        make_problem(name, **args)
    except (TypeError, ValueError) as err:
        raise ValueError(f"config: `{where}` = {args!r} is rejected by {name!r}: {err}") from None


def _check_counts(config: ExperimentConfig, spec: DataSpec) -> None:
    d, t, e = config.data, config.train, config.eval
    for where, value in (
        ("data.num_train", d.num_train), ("data.num_test", d.num_test),
        ("data.train_stride", d.train_stride), ("data.input_frames", d.input_frames),
        ("train.num_epochs", t.num_epochs), ("train.batch_size", t.batch_size),
        ("train.step_epochs", t.step_epochs), ("train.checkpoint_every_epochs", t.checkpoint_every_epochs),
        ("train.keep_checkpoints", t.keep_checkpoints),
    ):  # fmt: skip
        _positive(value, where)
    _positive(d.first_frame, "data.first_frame", allow_zero=True)
    _positive(e.num_plot_samples, "eval.num_plot_samples", allow_zero=True)
    _positive(t.learning_rate, "train.learning_rate", integer=False)
    _positive(t.gamma, "train.gamma", integer=False)
    _positive(t.weight_decay, "train.weight_decay", integer=False, allow_zero=True)
    if d.chunk_size != "auto":
        _positive(d.chunk_size, "data.chunk_size")
    if t.batch_size > d.num_train:
        raise ValueError(
            f"config: `train.batch_size` = {t.batch_size} exceeds `data.num_train` = "
            f"{d.num_train}; lower the batch size or use more training samples."
        )
    if spec.num_samples is not None:
        need = d.num_train + (0 if d.test_path else d.num_test)
        if need > spec.num_samples:
            raise ValueError(
                f"config: `data.num_train` + `data.num_test` = {need} exceeds the "
                f"{spec.num_samples} samples of `{d.path}`; lower them"
                + ("." if d.test_path else ", or give the test samples in `data.test_path`.")
            )
    if spec.test_samples is not None and d.num_test > spec.test_samples:
        raise ValueError(
            f"config: `data.num_test` = {d.num_test} exceeds the {spec.test_samples} samples of "
            f"`{d.test_path}`."
        )


def _check_normalizers(config: ExperimentConfig) -> None:
    d = config.data
    if d.task == "autoregressive" and (d.input_normalizer, d.output_normalizer) != ("none", "none"):
        raise ValueError(
            "config: `data.input_normalizer` / `data.output_normalizer` must be 'none' with "
            "data.task = 'autoregressive' (the rollout feeds predictions back as inputs)."
        )
    if d.online and (d.input_normalizer, d.output_normalizer) != ("none", "none"):
        raise ValueError("config: normalizers need a stored training split, not data.online.")
    if d.online and (d.task != "operator" or d.train_stride != 1):
        raise ValueError(
            "config: `data.online = true` works only with data.task = 'operator' and "
            "data.train_stride = 1."
        )


def _check_resolutions(config: ExperimentConfig, stored: tuple[int, ...]) -> tuple[int, list[int]]:
    n = stored[-1]
    if config.data.train_stride >= n:
        raise ValueError(
            f"config: `data.train_stride` = {config.data.train_stride} leaves fewer than 2 of "
            f"the {n} stored points per axis."
        )
    train = strided_size(n, config.data.train_stride)
    resolutions = list(config.eval.resolutions) or [train]
    for s in resolutions:
        try:
            resolution_stride(n, s)
        except ValueError as err:
            raise ValueError(f"config: `eval.resolutions` entry {s!r}: {err}") from None
    return train, resolutions


def _check_model(config: ExperimentConfig, task, input_shape, target_shape) -> None:
    c = config.model
    try:
        net = eqx.filter_eval_shape(lambda: build_model(c.name, c.kwargs, seed=c.seed))
    except ValueError as err:
        raise ValueError(f"config: [model]: {err}") from None
    stride = config.data.train_stride
    at_train = [s[:1] + tuple(strided_size(n, stride) for n in s[1:]) for s in (input_shape, target_shape)]  # fmt: skip
    predict = task.predictor(net, input_shape, target_shape)
    try:
        out = eqx.filter_eval_shape(predict, jax.ShapeDtypeStruct(at_train[0], jnp.float32)).shape
    except ValueError as err:
        raise ValueError(
            f"model.kwargs: the model cannot take this data: {err}{task.model_hint(input_shape)}"
        ) from None
    if out != tuple(at_train[1]):
        raise ValueError(
            f"model.kwargs: {c.name} maps an input {tuple(at_train[0])} to {out}, but the "
            f"targets are {tuple(at_train[1])}.{task.model_hint(input_shape)}"
        )


def _check_disk(config: ExperimentConfig, spec: DataSpec) -> None:
    d = config.data
    if not d.problem or d.online or data_path(config).exists():
        return
    per_sample = 4 * (math.prod(spec.stored_input) + math.prod(spec.stored_output))
    # the chunk parts and the assembled file exist side by side for a moment
    check_free_space(d.data_dir, 2 * per_sample * (d.num_train + d.num_test), who="config",
                     what=f"the generated data of {d.problem!r}")  # fmt: skip


def check_config(config: ExperimentConfig) -> Plan:
    """Check everything that needs no solve and no training; return the :class:`Plan`.

    Builds the model only abstractly (no weights computed) and opens a data file only to read
    its layout.

    Example (a model that does not fit the data is one line, before anything is written):
        >>> import tempfile
        >>> from pdejax.experiment import from_dict
        >>> cfg = from_dict({
        ...     "data": {"problem": "fno/burgers", "problem_args": {"num_points": 32},
        ...              "num_train": 8, "num_test": 2, "data_dir": tempfile.mkdtemp()},
        ...     "model": {"kwargs": {"in_channels": 1, "out_channels": 1, "modes": [4], "width": 8}},
        ...     "train": {"batch_size": 4}})
        >>> check_config(cfg).input_shape
        (1, 32)
        >>> cfg.model.kwargs["in_channels"] = 2
        >>> check_config(cfg)
        Traceback (most recent call last):
        ValueError: model.kwargs: the model cannot take this data: ...
        >>> cfg.train.batch_size = 16
        >>> check_config(cfg)
        Traceback (most recent call last):
        ValueError: config: `train.batch_size` = 16 exceeds `data.num_train` = 8; lower the batch size or use more training samples.
    """
    _check_problem(config)
    spec = data_spec(config)
    _check_counts(config, spec)
    _check_normalizers(config)
    task = make_task(config.data)
    input_shape, target_shape = task_shapes(config, spec)
    train_res, resolutions = _check_resolutions(config, input_shape)
    _check_model(config, task, input_shape, target_shape)
    _check_disk(config, spec)
    return Plan(task, spec, input_shape, target_shape, train_res, resolutions)


__all__ = ["Plan", "check_config", "check_problem_args"]

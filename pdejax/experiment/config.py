"""Experiment configuration: TOML files mapped onto typed dataclasses.

Unknown keys and wrong types are errors that name the key; ``--set section.key=value`` style
overrides are parsed as TOML values. A run stores its resolved configuration as JSON, and the
configuration is what rebuilds the model from a checkpoint.

Example:
    >>> cfg = from_dict({"name": "doc", "train": {"num_epochs": 3}}, overrides=["train.batch_size=4"])
    >>> cfg.train.num_epochs, cfg.train.batch_size, cfg.model.name
    (3, 4, 'FNO')
"""

import dataclasses
import os
import tomllib
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

Normalizer = Literal["none", "pointwise", "per_channel", "minmax"]


@dataclasses.dataclass
class DataConfig:
    """Where training data comes from: a registered problem (generated and cached) or a file.

    Example (the defaults, and a setting outside its allowed values):
        >>> data = DataConfig(problem="fno/burgers", num_train=8)
        >>> data.task, data.num_test, data.input_normalizer
        ('operator', 100, 'none')
        >>> from_dict({"data": {"task": "rollout"}})
        Traceback (most recent call last):
        ValueError: config: `data.task` = 'rollout' is not one of the allowed values: 'operator', 'autoregressive', 'space_time'.
    """

    # --- one of the two sources
    problem: str = ""  # a registered problem name (`pdejax problems` lists them)
    path: str = ""  # or a data file: FNO .mat, PDEBench, The Well, PDEArena, pdejax HDF5
    # --- a generated problem
    problem_args: dict[str, Any] = dataclasses.field(default_factory=dict)  # make_problem kwargs
    seed: int = 0
    chunk_size: int | Literal["auto"] = (
        "auto"  # samples per generation batch; auto: fill the device
    )
    data_dir: str = "data"  # generated files are cached here, named by problem and settings
    online: bool = False  # generate every batch on device inside the training step
    # --- a file
    format: str = "auto"  # the file's layout; auto-detected where unambiguous
    inputs: list[str] = dataclasses.field(default_factory=list)  # fields as input channels
    outputs: list[str] = dataclasses.field(default_factory=list)  # fields as output channels
    split: str = ""  # the file's split to train on, where the layout has them (The Well, PDEArena)
    test_path: str = ""  # test samples from another file (default: the last num_test of `path`)
    test_split: str = ""  # the split of the test samples (The Well, PDEArena)
    # --- both
    num_train: int = 1000  # the first num_train samples
    num_test: int = 100  # the last num_test samples (or the first of test_path)
    train_stride: int = 1  # subsample the spatial axes for training (e.g. 8192 -> 1024 with 8)
    input_normalizer: Normalizer = "none"  # fitted on the training split, stored with the run
    output_normalizer: Normalizer = "none"
    stream: Literal["auto", "memory", "disk"] = "auto"  # training data in memory or read by batch
    # what is learned: "operator" (input -> output, as stored), or, for trajectories
    # (T+1, C, *spatial), "autoregressive" (the first `input_frames` frames -> the next frame,
    # rolled out over the rest) or "space_time" (those frames -> all the rest at once, on a
    # space-time grid). See pdejax.experiment.tasks.
    task: Literal["operator", "autoregressive", "space_time"] = "operator"
    input_frames: int = 10  # trajectory tasks: frames given as input; the later ones are predicted
    first_frame: int = 0  # trajectory tasks: frames before this one are dropped
    last_frame: int = -1  # trajectory tasks: frames after this one are dropped (-1: none)


@dataclasses.dataclass
class ModelConfig:
    """A model from the registry (:func:`pdejax.experiment.available_models`) and its keyword
    arguments.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax.experiment import build_model
        >>> model = ModelConfig("FNO", {"in_channels": 1, "out_channels": 1, "modes": [4], "width": 8})
        >>> net = build_model(model.name, model.kwargs, seed=model.seed)
        >>> net(jnp.ones((1, 16))).shape
        (1, 16)
    """

    name: str = "FNO"
    kwargs: dict[str, Any] = dataclasses.field(default_factory=dict)
    seed: int = 0


@dataclasses.dataclass
class TrainConfig:
    """How the model is trained: epochs and batch size, Adam with ``weight_decay`` added to the
    gradients (as ``torch.optim.Adam``) under a learning-rate ``schedule``, the loss, and how
    often checkpoints are written (in epochs).

    Example (an integer where a float is expected is accepted; the reverse is an error):
        >>> train = from_dict({"train": {"learning_rate": 1, "schedule": "cosine"}}).train
        >>> train.learning_rate, train.schedule, train.num_epochs
        (1.0, 'cosine', 100)
        >>> from_dict({"train": {"batch_size": 2.5}})
        Traceback (most recent call last):
        ValueError: config: `train.batch_size` = 2.5 is a float, expected int.
    """

    num_epochs: int = 100
    batch_size: int = 20
    learning_rate: float = 1e-3
    schedule: Literal["constant", "step", "cosine"] = "step"
    step_epochs: int = 50  # "step": multiply by gamma every step_epochs epochs
    gamma: float = 0.5
    weight_decay: float = 1e-4  # L2 on the gradients before Adam, as torch.optim.Adam
    loss: Literal["relative_l2", "mse"] = "relative_l2"
    checkpoint_every_epochs: int = 10
    keep_checkpoints: int = 3  # the newest checkpoints kept (a damaged one falls back to these)
    seed: int = 0


@dataclasses.dataclass
class EvalConfig:
    """What is evaluated after training: the test error at each of ``resolutions`` (points per
    axis, from the stored resolution by striding; empty: the training resolution) and figures
    of the first ``num_plot_samples`` test samples.

    Example:
        >>> from_dict({"eval": {"resolutions": [64, 256]}}).eval
        EvalConfig(resolutions=[64, 256], num_plot_samples=3)
        >>> from_dict({"eval": {"resolutions": 64}})
        Traceback (most recent call last):
        ValueError: config: `eval.resolutions` must be a list, got 64.
    """

    resolutions: list[int] = dataclasses.field(default_factory=list)  # empty: training resolution
    num_plot_samples: int = 3


@dataclasses.dataclass
class SmokeConfig:
    """What ``pdejax train CONFIG --smoke`` changes beyond the sample and epoch counts: only
    *time* (a shorter final time, a shorter output interval), never space, so that a smoke run
    exercises the configuration at its real resolution.

    Example:
        >>> cfg = from_dict({"name": "x", "data": {"problem": "fno/burgers"},
        ...                  "smoke": {"set": ["data.problem_args.num_steps=10"]}})
        >>> smoke = smoke_config(cfg)
        >>> smoke.data.problem_args, smoke.train.num_epochs, cfg.data.problem_args
        ({'num_steps': 10}, 1, {})
    """

    set: list[str] = dataclasses.field(default_factory=list)  # "section.key=value" overrides


@dataclasses.dataclass
class ExperimentConfig:
    """A whole experiment, as one TOML file holds it: a ``name``, the ``run_dir`` (default
    ``runs/<name>``), the ``[data]``, ``[model]``, ``[train]``, ``[eval]`` and ``[smoke]``
    sections and the published figures to compare with (``[expected]``). Build it with
    :func:`load_config` or :func:`from_dict`, which check every key.

    Example:
        >>> cfg = ExperimentConfig(name="demo")
        >>> cfg.data.num_train, cfg.model.name, cfg.train.batch_size, cfg.eval.resolutions
        (1000, 'FNO', 20, [])
    """

    name: str = "experiment"
    description: str = ""
    run_dir: str = ""  # default runs/<name>
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    eval: EvalConfig = dataclasses.field(default_factory=EvalConfig)
    # published figures: `paper_rel_l2_s<N>` per resolution (or `paper_rel_l2`), strings as notes
    expected: dict[str, Any] = dataclasses.field(default_factory=dict)
    smoke: SmokeConfig = dataclasses.field(default_factory=SmokeConfig)


def _check_type(value, annotation, where: str):
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return value
    if origin is Literal:
        allowed = typing.get_args(annotation)
        if value not in allowed or isinstance(value, bool):
            raise ValueError(
                f"config: `{where}` = {value!r} is not one of the allowed values: "
                f"{', '.join(repr(a) for a in allowed)}."
            )
        return value
    if origin in (types.UnionType, typing.Union):
        for arg in typing.get_args(annotation):
            try:
                return _check_type(value, arg, where)
            except ValueError:
                pass
        raise ValueError(
            f"config: `{where}` = {value!r} has the wrong type, expected {annotation}."
        )
    if origin is list:
        (item,) = typing.get_args(annotation)
        if not isinstance(value, list):
            raise ValueError(f"config: `{where}` must be a list, got {value!r}.")
        return [_check_type(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ValueError(f"config: `{where}` must be a table, got {value!r}.")
        return dict(value)
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation is type(None) and value is None:
        return None
    if isinstance(annotation, type) and (
        not isinstance(value, annotation) or (annotation is int and isinstance(value, bool))
    ):
        raise ValueError(
            f"config: `{where}` = {value!r} is a {type(value).__name__}, expected "
            f"{annotation.__name__}."
        )
    return value


def _build(cls, table: dict, prefix: str):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ValueError(
            f"config: unknown key(s) {', '.join(prefix + k for k in unknown)}; known keys in "
            f"[{prefix.rstrip('.') or 'top level'}]: {', '.join(sorted(fields))}."
        )
    kwargs = {}
    for name, value in table.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            if not isinstance(value, dict):
                raise ValueError(f"config: `{prefix}{name}` must be a table.")
            kwargs[name] = _build(hint, value, f"{prefix}{name}.")
        else:
            kwargs[name] = _check_type(value, hint, prefix + name)
    return cls(**kwargs)


def _apply_override(table: dict, override: str):
    if "=" not in override:
        raise ValueError(f"config: override {override!r} must look like `section.key=value`.")
    path, raw = override.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare string
    *parents, leaf = path.strip().split(".")
    node = table
    for i, p in enumerate(parents):
        node = node.setdefault(p, {})
        if not isinstance(node, dict):
            where = ".".join(parents[: i + 1])
            raise ValueError(
                f"config: override {override!r}: `{where}` is a value, not a table; set "
                f"`{where}=...` itself."
            )
    node[leaf] = value


def from_dict(table: dict, *, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Build a validated :class:`ExperimentConfig` from a (TOML-like) dictionary.

    ``overrides`` are ``"section.key=value"`` strings, the value parsed as TOML (a bare word
    is a string); they are applied before the checks.

    Example:
        >>> cfg = from_dict({"name": "doc"}, overrides=["data.problem=fno/burgers", "train.gamma=0.1"])
        >>> cfg.data.problem, cfg.train.gamma
        ('fno/burgers', 0.1)
        >>> from_dict({"trian": {"num_epochs": 3}})
        Traceback (most recent call last):
        ValueError: config: unknown key(s) trian; known keys in [top level]: data, description, eval, expected, model, name, run_dir, smoke, train.
    """
    table = _deep_copy(table)
    for o in overrides:
        _apply_override(table, o)
    return _build(ExperimentConfig, table, "")


def load_config(path: str | os.PathLike, *, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Read a TOML experiment file; errors name the file and the key.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "exp.toml"
        >>> _ = path.write_text('name = "doc"\\n[train]\\nnum_epochs = 5\\n')
        >>> cfg = load_config(path, overrides=["train.batch_size=8"])
        >>> cfg.name, cfg.train.num_epochs, cfg.train.batch_size
        ('doc', 5, 8)
        >>> _ = path.write_text('[train]\\nbatch_sise = 8\\n')
        >>> load_config(path)
        Traceback (most recent call last):
        ValueError: .../exp.toml: config: unknown key(s) train.batch_sise; known keys in [train]: ...
    """
    path = Path(path)
    try:
        table = tomllib.loads(path.read_text())
    except FileNotFoundError as err:
        raise ValueError(f"config: no such file {path}.") from err
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"config: {path} is not valid TOML: {err}") from err
    try:
        return from_dict(table, overrides=overrides)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from err


def to_dict(config: ExperimentConfig) -> dict:
    """The configuration as nested dictionaries (JSON-serialisable), the inverse of
    :func:`from_dict`; a run stores it as ``config.json``.

    Example:
        >>> cfg = from_dict({"name": "doc", "train": {"batch_size": 4}})
        >>> table = to_dict(cfg)
        >>> table["name"], table["train"]["batch_size"], from_dict(table) == cfg
        ('doc', 4, True)
    """
    return dataclasses.asdict(config)


def _deep_copy(table):
    if isinstance(table, dict):
        return {k: _deep_copy(v) for k, v in table.items()}
    if isinstance(table, list):
        return [_deep_copy(v) for v in table]
    return table


def smoke_config(config: ExperimentConfig) -> ExperimentConfig:
    """The smoke version of a configuration (``pdejax train CONFIG --smoke``): the same
    resolution, stride, model and evaluation resolutions, with a handful of samples, one epoch,
    its own run directory (``<run_dir>-smoke``), and the configuration's ``[smoke] set``
    overrides (which shorten time, never space, where a full solve is too slow).

    Example:
        >>> cfg = smoke_config(from_dict({"name": "x", "data": {"problem": "fno/burgers"}}))
        >>> cfg.data.num_train, cfg.data.num_test, cfg.train.num_epochs, cfg.run_dir
        (2, 2, 1, 'runs/x-smoke')
    """
    table = to_dict(config)
    d, t = table["data"], table["train"]
    batch = min(t["batch_size"], 2)
    d["num_train"], d["num_test"] = batch, min(d["num_test"], 2)
    t["batch_size"], t["num_epochs"], t["checkpoint_every_epochs"] = batch, 1, 1
    table["eval"]["num_plot_samples"] = min(table["eval"]["num_plot_samples"], 2)
    table["run_dir"] = (config.run_dir or f"runs/{config.name}").rstrip("/") + "-smoke"
    try:
        return from_dict(table, overrides=config.smoke.set)
    except ValueError as err:
        raise ValueError(f"[smoke] set: {err}") from None

"""Experiments: TOML configurations, tasks, the runner, reports and the command line
(layer 7, the top: imports every other layer, and :mod:`pdejax.surrogates` through the model
registry).

Owns what a run is: the typed configuration (:mod:`~pdejax.experiment.config`), what is learned
from the data (:mod:`~pdejax.experiment.tasks`, one class per task), the runner that generates
data, trains, evaluates and reports (:func:`run_experiment`, :func:`load_run`,
:func:`evaluate_run`), the model registry and the ``pdejax`` command.
"""

from .checks import Plan, check_config
from .config import (
    DataConfig,
    EvalConfig,
    ExperimentConfig,
    ModelConfig,
    SmokeConfig,
    TrainConfig,
    from_dict,
    load_config,
    smoke_config,
    to_dict,
)
from .models import available_models, build_model
from .reload import evaluate_run, load_run
from .rundata import RunData, Split, data_spec, open_run_data
from .runner import predictor, run_directory, run_experiment
from .tasks import (
    AbstractTask,
    AutoregressiveTask,
    OperatorTask,
    SpaceTimeTask,
    make_task,
    window_frames,
)

__all__ = [
    "AbstractTask",
    "AutoregressiveTask",
    "DataConfig",
    "EvalConfig",
    "ExperimentConfig",
    "ModelConfig",
    "OperatorTask",
    "Plan",
    "RunData",
    "SmokeConfig",
    "SpaceTimeTask",
    "Split",
    "TrainConfig",
    "available_models",
    "build_model",
    "check_config",
    "data_spec",
    "evaluate_run",
    "from_dict",
    "load_config",
    "load_run",
    "make_task",
    "open_run_data",
    "predictor",
    "run_directory",
    "run_experiment",
    "smoke_config",
    "to_dict",
    "window_frames",
]

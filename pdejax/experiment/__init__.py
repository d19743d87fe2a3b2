"""Experiments: TOML configurations, tasks, the runner, reports and the command line
(layer 7, the top: imports every other layer, and :mod:`pdejax.surrogates` through the model
registry).

Owns what a run is: the typed configuration (:mod:`~pdejax.experiment.config`), what is learned
from the data (:mod:`~pdejax.experiment.tasks`, one class per task), the runner that generates
data, trains, evaluates and reports (:func:`run_experiment`, :func:`load_run`,
:func:`evaluate_run`), the model registry and the ``pdejax`` command.
"""

from .config import (
    DataConfig,
    EvalConfig,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
    from_dict,
    load_config,
    to_dict,
)
from .models import available_models, build_model
from .runner import (
    check_config,
    check_task,
    evaluate_run,
    load_data,
    load_run,
    run_directory,
    run_experiment,
)
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
    "SpaceTimeTask",
    "TrainConfig",
    "available_models",
    "build_model",
    "check_config",
    "check_task",
    "evaluate_run",
    "from_dict",
    "load_config",
    "load_data",
    "load_run",
    "make_task",
    "run_directory",
    "run_experiment",
    "to_dict",
    "window_frames",
]

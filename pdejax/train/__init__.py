"""Training (layer 6: imports core, grids, timestepping and data).

Owns the optax loop :func:`fit` (data-parallel over a device mesh, multi-process through
:func:`initialize_distributed`), its data sources (:class:`ArrayLoader`,
:class:`OnlineSource`), losses, learning-rate schedules, verified orbax checkpoints
(:class:`Checkpointer`), the ``metrics.jsonl`` log and evaluation at several resolutions.
Nothing here knows about configuration files or reports; that is :mod:`pdejax.experiment`.
"""

from .checkpoint import Checkpointer, CheckpointError, CheckpointWarning, named_arrays
from .distributed import batch_mesh, initialize_distributed, place
from .evaluate import (
    batched_forward,
    evaluate_batches,
    evaluate_resolutions,
    resolution_stride,
    strided_size,
)
from .fit import FitResult, fit, make_train_step
from .loaders import ArrayLoader, OnlineSource, StreamingLoader
from .losses import Loss, h1_loss, mse_loss, relative_l2_loss, rollout_loss
from .metrics_log import MetricsLog, MetricsWarning, read_metrics
from .schedules import SCHEDULES, lr_schedule

__all__ = [
    "ArrayLoader",
    "CheckpointError",
    "CheckpointWarning",
    "Checkpointer",
    "FitResult",
    "Loss",
    "MetricsLog",
    "MetricsWarning",
    "OnlineSource",
    "SCHEDULES",
    "StreamingLoader",
    "batch_mesh",
    "batched_forward",
    "evaluate_batches",
    "evaluate_resolutions",
    "fit",
    "h1_loss",
    "initialize_distributed",
    "lr_schedule",
    "make_train_step",
    "mse_loss",
    "named_arrays",
    "place",
    "read_metrics",
    "relative_l2_loss",
    "resolution_stride",
    "rollout_loss",
    "strided_size",
]

r"""Training: one optax loop for any pdejax model, from a notebook or the CLI.

:func:`fit` takes a model, a loss, data (an in-memory :class:`~pdejax.train.ArrayLoader` or an
on-device :class:`~pdejax.train.OnlineSource`) and an optax optimizer, and returns the trained
model. With ``run_dir`` it writes ``metrics.jsonl`` and orbax checkpoints and resumes from the
latest intact checkpoint: the data order is a pure function of ``(seed, step)`` and the PRNG
key is saved, so an interrupted run continues bitwise as if it had never stopped (on CPU, for
the same device count).

Data parallelism: with ``devices`` (default: all devices) the batch is sharded over a
one-axis mesh ``("batch",)`` and the model replicated; ``jax.jit`` inserts the gradient
all-reduce. The batch size must be divisible by the number of devices.

Several hosts (processes): call :func:`~pdejax.train.initialize_distributed` first, then run
the same program on every process. Every process holds the same data and builds the same global
batch; each places only its own devices' rows, and only process 0 writes the metrics (orbax
coordinates the checkpoint writes).
"""

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jax.sharding import NamedSharding, PartitionSpec

from .checkpoint import Checkpointer
from .distributed import batch_mesh, place
from .loaders import ArrayLoader, OnlineSource
from .losses import Loss, relative_l2_loss
from .metrics_log import MetricsLog


@dataclasses.dataclass
class FitResult:
    """What :func:`fit` returns: the trained model, its optimizer state, the step reached and
    the logged records (one dict per log or evaluation boundary).

    Example (8 samples in batches of 4: one record per epoch, with the evaluation):
        >>> import jax, jax.numpy as jnp, equinox as eqx, optax
        >>> from pdejax.train import ArrayLoader, fit, mse_loss
        >>> x = jnp.linspace(-1.0, 1.0, 32).reshape(8, 1, 4)
        >>> class Scale(eqx.Module):
        ...     w: jnp.ndarray
        ...     def __call__(self, u):
        ...         return self.w * u
        >>> result = fit(Scale(jnp.array(1.0)), optax.sgd(0.1), ArrayLoader(x, 2 * x, 4),
        ...              num_steps=4, loss=mse_loss, evaluate=lambda m: {"w": m.w},
        ...              devices=jax.devices()[:1], progress=False)
        >>> result.step, [r["step"] for r in result.history], sorted(result.history[-1])
        (4, [2, 4], ['epoch', 'step', 'time_s', 'train_loss', 'w'])
    """

    model: eqx.Module
    opt_state: Any
    step: int
    history: list[dict]


def make_train_step(loss: Loss, optimizer: optax.GradientTransformation, data):
    """The jitted ``(model, opt_state, batch) -> (model, opt_state, loss)`` update. For an
    :class:`~pdejax.train.OnlineSource` the batch is a key array and the samples are
    generated inside the step.

    Example (one gradient step on $(w - 3)^2$: the gradient $-4$ moves $w$ from 1 to 1.4):
        >>> import jax.numpy as jnp, equinox as eqx, optax
        >>> from pdejax.train import ArrayLoader, mse_loss
        >>> class Scale(eqx.Module):
        ...     w: jnp.ndarray
        ...     def __call__(self, u):
        ...         return self.w * u
        >>> model, optimizer = Scale(jnp.array(1.0)), optax.sgd(0.1)
        >>> loader = ArrayLoader(jnp.ones((4, 1, 2)), 3 * jnp.ones((4, 1, 2)), 4)
        >>> step = make_train_step(mse_loss, optimizer, loader)
        >>> model, opt_state, loss = step(model, optimizer.init(model), loader.batch(0))
        >>> round(float(loss), 6), round(float(model.w), 6)
        (4.0, 1.4)
    """
    online = isinstance(data, OnlineSource)

    @eqx.filter_jit
    def step(model, opt_state, batch):
        if online:
            batch = data.generate(batch)
        inputs, targets = batch
        value, grads = eqx.filter_value_and_grad(loss)(model, inputs, targets)
        updates, opt_state = optimizer.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        model = eqx.apply_updates(model, updates)
        return model, opt_state, value

    return step


@dataclasses.dataclass(frozen=True)
class _Schedule:
    """When the loop logs, checkpoints and evaluates (all in optimizer steps)."""

    num_steps: int
    log_every: int
    checkpoint_every: int
    eval_every: int | None

    def at(self, step: int) -> tuple[bool, bool, bool]:
        end = step == self.num_steps
        log = end or step % self.log_every == 0
        ckpt = end or step % self.checkpoint_every == 0
        ev = self.eval_every is not None and (end or step % self.eval_every == 0)
        return log, ckpt, ev


def _check_devices(data, devices) -> list:
    devices = list(jax.devices() if devices is None else devices)
    if data.batch_size % len(devices):
        raise ValueError(
            f"fit: the batch size {data.batch_size} does not divide among {len(devices)} "
            "devices; choose a multiple of the device count or pass `devices=`."
        )
    return devices


def _check_finite(values: np.ndarray, step: int, last_good: int, ckpt) -> None:
    if np.all(np.isfinite(values)):
        return
    bad = step - len(values) + int(np.argmin(np.isfinite(values))) + 1
    where = f" in {ckpt.directory}" if ckpt is not None else ""
    raise FloatingPointError(
        f"fit: the loss became non-finite at step {bad}; training stopped. The last good "
        f"checkpoint (step {last_good}) is kept{where}. Lower the learning rate or check the "
        "data for NaNs."
    )


def fit(
    model: eqx.Module,
    optimizer: optax.GradientTransformation,
    data: ArrayLoader | OnlineSource,
    *,
    loss: Loss = relative_l2_loss,
    num_steps: int,
    key: jax.Array | None = None,
    run_dir: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    log_every: int | None = None,
    evaluate: Callable[[eqx.Module], dict[str, float]] | None = None,
    eval_every: int | None = None,
    record: dict[str, Any] | None = None,
    devices: Sequence[jax.Device] | None = None,
    progress: bool = True,
    max_to_keep: int = 3,
) -> FitResult:
    r"""Train ``model`` for ``num_steps`` optimizer steps.

    Args:
        model: any equinox module; its inexact arrays are trained.
        optimizer: an optax transformation (schedules inside it).
        data: :class:`~pdejax.train.ArrayLoader` (host arrays) or
            :class:`~pdejax.train.OnlineSource` (generated on device).
        loss: ``loss(model, inputs, targets) -> scalar``; default
            :func:`~pdejax.train.relative_l2_loss`.
        num_steps: total steps (a resumed run continues up to this number).
        key: PRNG key carried (and checkpointed) for stochastic models; default ``key(0)``.
        run_dir: if given, write ``metrics.jsonl`` and checkpoints there and resume from the
            latest intact checkpoint.
        checkpoint_every: steps between checkpoints (default: every epoch and at the end).
        log_every: steps between metric records (default: every epoch).
        evaluate: ``model -> {name: value}``, run every ``eval_every`` steps and at the end.
        eval_every: steps between evaluations (default: ``checkpoint_every``).
        record: JSON-serialisable information stored in every checkpoint (e.g. the model
            configuration needed to rebuild it).
        devices: devices for data parallelism (default all devices, of every process in a
            multi-process run; the batch size must divide among them).
        progress: show a progress bar.
        max_to_keep: checkpoints kept in ``run_dir`` (the newest ones).

    A non-finite loss stops training with a :class:`FloatingPointError` naming the step; the
    last checkpoint (written only from finite states) is kept.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr, equinox as eqx, optax
        >>> from pdejax.train import ArrayLoader, fit, mse_loss
        >>> x = jr.normal(jr.key(0), (64, 1, 8)); y = 3 * x
        >>> class Scale(eqx.Module):
        ...     w: jnp.ndarray
        ...     def __call__(self, u):
        ...         return self.w * u
        >>> out = fit(Scale(jnp.array(1.0)), optax.adam(0.1), ArrayLoader(x, y, 16),
        ...           num_steps=200, loss=mse_loss, devices=jax.devices()[:1], progress=False)
        >>> round(float(out.model.w), 3)
        3.0
    """
    from tqdm.auto import tqdm

    multiprocess = jax.process_count() > 1
    mesh = batch_mesh(_check_devices(data, devices))
    replicated = NamedSharding(mesh, PartitionSpec())
    sharded = NamedSharding(mesh, PartitionSpec("batch"))
    per_epoch = data.batches_per_epoch
    checkpoint_every = checkpoint_every or per_epoch
    when = _Schedule(
        num_steps,
        log_every or per_epoch,
        checkpoint_every,
        None if evaluate is None else (eval_every or checkpoint_every),
    )
    key = jr.key(0) if key is None else key
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    writer = jax.process_index() == 0  # one process writes the metrics

    # ---- resume: the newest intact checkpoint, and the metrics recorded up to it
    step, history, ckpt, log = 0, [], None, None
    if run_dir is not None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        ckpt = Checkpointer(run_dir / "checkpoints", max_to_keep=max_to_keep)
        restored = ckpt.restore_latest(model, opt_state)
        if restored is not None:
            step, model, opt_state, key, _ = restored
        log = MetricsLog(run_dir / "metrics.jsonl", writer=writer)
        history = log.resume(step)

    # ---- place the state on the mesh, compile the step
    arrays, static = eqx.partition((model, opt_state), eqx.is_array)
    model, opt_state = eqx.combine(place(arrays, replicated, multiprocess), static)
    train_step = make_train_step(loss, optimizer, data)
    online = isinstance(data, OnlineSource)

    # ---- the loop: one host sync per boundary, not per step
    pending: list[jax.Array] = []
    bar = tqdm(
        total=num_steps, initial=step, unit="step", desc="train", disable=not (progress and writer)
    )
    start, last_good = time.perf_counter(), step
    try:
        while step < num_steps:
            batch = data.keys(step) if online else data.batch(step)
            model, opt_state, value = train_step(
                model, opt_state, place(batch, sharded, multiprocess)
            )
            pending.append(value)
            step += 1
            bar.update(1)
            at_log, at_ckpt, at_eval = when.at(step)
            if not (at_log or at_ckpt or at_eval):
                continue
            values = np.asarray(jax.device_get(jnp.stack(pending)))
            pending = []
            _check_finite(values, step, last_good, ckpt)
            entry = {
                "step": step,
                "epoch": step / per_epoch,
                "train_loss": float(values.mean()),
                "time_s": time.perf_counter() - start,
            }
            if at_eval:
                entry.update({k: float(v) for k, v in evaluate(model).items()})
            bar.set_postfix(loss=f"{entry['train_loss']:.4g}")
            if at_log or at_eval:
                history.append(entry)
                if log is not None:
                    log.append(entry)
            if at_ckpt and ckpt is not None:
                rec = dict(record or {}, step=step, epoch=step / per_epoch)
                ckpt.save(step, model, opt_state, key, rec)
                last_good = step
    finally:
        bar.close()
        if ckpt is not None:
            ckpt.close()
    return FitResult(model=model, opt_state=opt_state, step=step, history=history)


__all__ = ["FitResult", "fit", "make_train_step"]

r"""Training: one optax loop for any pdejax model, from a notebook or the CLI.

:func:`fit` takes a model, a loss, data (an in-memory :class:`ArrayLoader` or an on-device
:class:`OnlineSource`) and an optax optimizer, and returns the trained model. With ``run_dir`` it
writes ``metrics.jsonl`` and orbax checkpoints and resumes from the latest checkpoint: the data
order is a pure function of ``(seed, epoch)`` and the PRNG key is saved, so an interrupted run
continues bitwise as if it had never stopped (on CPU, for the same device count).

Data parallelism: with ``devices`` (default: all devices) the batch is sharded over a
one-axis mesh ``("batch",)`` and the model replicated; ``jax.jit`` inserts the gradient
all-reduce. The batch size must be divisible by the number of devices.

Several hosts (processes): call :func:`initialize_distributed` first, then run the same
program on every process. Every process holds the same data and builds the same global batch;
each places only its own devices' rows, and only process 0 writes the metrics (orbax
coordinates the checkpoint writes). The experiment runner and ``pdejax train`` are single-process
(their data generation and reports are not yet coordinated across processes).
"""

import dataclasses
import json
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
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from .checkpoint import Checkpointer
from .metrics import relative_l2
from .problems import Problem

Loss = Callable[[eqx.Module, jax.Array, jax.Array], jax.Array]


# ------------------------------------------------------------------------------------- losses
def relative_l2_loss(model, inputs, targets):
    r"""Mean over the batch of the per-sample relative $L^2$ error (the FNO paper's loss)."""
    preds = jax.vmap(model)(inputs)
    return jnp.mean(jax.vmap(relative_l2)(preds, targets))


def mse_loss(model, inputs, targets):
    """Mean squared error over the batch."""
    return jnp.mean((jax.vmap(model)(inputs) - targets) ** 2)


def h1_loss(grid) -> Loss:
    r"""Mean relative $H^1$ error $\|\hat u - u\|_{H^1} / \|u\|_{H^1}$ (with the $L^2$ part),
    spectral on the periodic ``grid``."""
    from .metrics import h1_seminorm

    def loss(model, inputs, targets):
        preds = jax.vmap(model)(inputs)

        def one(p, t):
            num = jnp.sum((p - t) ** 2) * grid.cell_volume + h1_seminorm(p - t, grid) ** 2
            den = jnp.sum(t**2) * grid.cell_volume + h1_seminorm(t, grid) ** 2
            return jnp.sqrt(num / den)

        return jnp.mean(jax.vmap(one)(preds, targets))

    return loss


def rollout_loss(num_steps: int, *, base=relative_l2) -> Loss:
    """For a stepper: roll ``num_steps`` steps from ``inputs`` and compare each frame with
    ``targets`` of shape ``(B, num_steps, C, *spatial)`` (mean of ``base`` over frames)."""
    from .rollout import rollout

    def loss(model, inputs, targets):
        traj = jax.vmap(lambda u: rollout(model, u, num_steps))(inputs)
        return jnp.mean(jax.vmap(jax.vmap(base))(traj, targets))

    return loss


# --------------------------------------------------------------------------------------- data
class ArrayLoader:
    """Mini-batches of in-memory arrays, reshuffled every epoch.

    The order of epoch ``e`` is ``numpy.random.default_rng([seed, e]).permutation``: a pure
    function of the seed and the epoch, so a resumed run sees the same batches. Incomplete
    last batches are dropped.
    """

    def __init__(self, inputs, targets, batch_size: int, *, seed: int = 0, shuffle: bool = True):
        if len(inputs) != len(targets):
            raise ValueError("ArrayLoader: `inputs` and `targets` need the same number of samples.")
        if not 0 < batch_size <= len(inputs):
            raise ValueError(
                f"ArrayLoader: `batch_size` must be in [1, {len(inputs)}] (the number of "
                f"samples), got {batch_size}."
            )
        self.inputs, self.targets = np.asarray(inputs), np.asarray(targets)
        self.batch_size, self.seed, self.shuffle = batch_size, seed, shuffle

    @property
    def batches_per_epoch(self) -> int:
        return len(self.inputs) // self.batch_size

    def _order(self, epoch: int) -> np.ndarray:
        if getattr(self, "_cached_epoch", None) != epoch:  # one permutation per epoch, not step
            n = len(self.inputs)
            rng = np.random.default_rng([self.seed, epoch])
            self._cached_order = rng.permutation(n) if self.shuffle else np.arange(n)
            self._cached_epoch = epoch
        return self._cached_order

    def batch(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        epoch, index = divmod(step, self.batches_per_epoch)
        order = self._order(epoch)
        sel = np.sort(order[index * self.batch_size : (index + 1) * self.batch_size])
        return self.inputs[sel], self.targets[sel]


class OnlineSource:
    """Training data generated on device inside the jitted step: no disk involved.

    Batch ``s`` is ``vmap(problem.solve)(vmap(problem.sample_input)(keys))`` with keys folded
    from ``(seed, s)``, so it is reproducible and resumable like an :class:`ArrayLoader`.
    """

    def __init__(self, problem: Problem, batch_size: int, *, seed: int = 0, dtype=jnp.float32):
        self.problem, self.batch_size, self.seed, self.dtype = problem, batch_size, seed, dtype
        self.batches_per_epoch = 1  # an "epoch" is one batch of fresh samples

    def keys(self, step: int) -> jax.Array:
        base = jr.fold_in(jr.key(self.seed), step)
        return jr.split(base, self.batch_size)

    def generate(self, keys):
        def one(key):
            a = self.problem.sample_input(key).astype(self.dtype)
            return a, self.problem.solve(a).astype(self.dtype)

        return jax.vmap(one)(keys)


# ---------------------------------------------------------------------------------- fitting
@dataclasses.dataclass
class FitResult:
    model: eqx.Module
    opt_state: Any
    step: int
    history: list[dict]


def _mesh(devices) -> Mesh:
    return Mesh(np.asarray(devices), ("batch",))


_DISTRIBUTED_ENV = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


def initialize_distributed(environ=None) -> bool:
    """Join a multi-process (multi-host) run when the environment describes one.

    Explicitly, with ``JAX_COORDINATOR_ADDRESS`` (``host:port`` of process 0),
    ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID`` set; or through JAX's own cluster detection
    when a launcher with several tasks is found (Slurm ``SLURM_NTASKS > 1``, Open MPI
    ``OMPI_COMM_WORLD_SIZE > 1``). Otherwise it does nothing, so it is safe to call always. It
    must run before anything else touches JAX. Returns whether a distributed run was started.

    Example:
        >>> initialize_distributed({})  # a single process: nothing to do
        False
    """
    env = os.environ if environ is None else environ
    given = [k for k in _DISTRIBUTED_ENV if env.get(k)]
    if given and len(given) != len(_DISTRIBUTED_ENV):
        missing = sorted(set(_DISTRIBUTED_ENV) - set(given))
        raise ValueError(
            f"initialize_distributed: {', '.join(given)} set but {', '.join(missing)} not; set "
            "all three (coordinator host:port, process count, this process's id) or none."
        )
    if given:
        jax.distributed.initialize(
            env["JAX_COORDINATOR_ADDRESS"],
            num_processes=int(env["JAX_NUM_PROCESSES"]),
            process_id=int(env["JAX_PROCESS_ID"]),
        )
        return True
    if int(env.get("SLURM_NTASKS", "1")) > 1 or int(env.get("OMPI_COMM_WORLD_SIZE", "1")) > 1:
        jax.distributed.initialize()  # JAX reads the cluster's own variables
        return True
    return False


def _place(tree, sharding, multiprocess: bool):
    """Put host values on ``sharding``; with several processes from host numpy copies (each
    process holds the same values and places its own devices' part)."""
    if not multiprocess:
        return jax.device_put(tree, sharding)

    def one(x):
        if isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            impl = jax.random.key_impl(x)
            data = jax.device_put(np.asarray(jax.random.key_data(x)), sharding)
            return jax.random.wrap_key_data(data, impl=impl)
        return jax.device_put(np.asarray(x), sharding)

    return jax.tree.map(one, tree)


def make_train_step(loss: Loss, optimizer: optax.GradientTransformation, data):
    """The jitted ``(model, opt_state, batch) -> (model, opt_state, loss)`` update."""
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
) -> FitResult:
    r"""Train ``model`` for ``num_steps`` optimizer steps.

    Args:
        model: any equinox module; its inexact arrays are trained.
        optimizer: an optax transformation (schedules inside it).
        data: :class:`ArrayLoader` (host arrays) or :class:`OnlineSource` (generated on device).
        loss: ``loss(model, inputs, targets) -> scalar``; default :func:`relative_l2_loss`.
        num_steps: total steps (a resumed run continues up to this number).
        key: PRNG key carried (and checkpointed) for stochastic models; default ``key(0)``.
        run_dir: if given, write ``metrics.jsonl`` and checkpoints there and resume from the
            latest checkpoint.
        checkpoint_every: steps between checkpoints (default: every epoch and at the end).
        log_every: steps between metric records (default: every epoch).
        evaluate: ``model -> {name: value}``, run every ``eval_every`` steps and at the end.
        record: JSON-serialisable information stored in every checkpoint (e.g. the model
            configuration needed to rebuild it).
        devices: devices for data parallelism (default all devices, of every process in a
            multi-process run; the batch size must divide among them).
        progress: show a progress bar.

    A non-finite loss stops training with a :class:`FloatingPointError` naming the step; the
    last checkpoint (written only from finite states) is kept.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr, equinox as eqx, optax
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
    devices = list(jax.devices() if devices is None else devices)
    if data.batch_size % len(devices):
        raise ValueError(
            f"fit: the batch size {data.batch_size} does not divide among {len(devices)} "
            "devices; choose a multiple of the device count or pass `devices=`."
        )
    mesh = _mesh(devices)
    replicated = NamedSharding(mesh, PartitionSpec())
    sharded = NamedSharding(mesh, PartitionSpec("batch"))
    per_epoch = data.batches_per_epoch
    checkpoint_every = checkpoint_every or per_epoch
    log_every = log_every or per_epoch
    eval_every = eval_every or checkpoint_every
    key = jr.key(0) if key is None else key
    opt_state = optimizer.init(eqx.filter(model, eqx.is_array))
    step = 0
    history: list[dict] = []
    ckpt = metrics_file = None
    if run_dir is not None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        ckpt = Checkpointer(run_dir / "checkpoints")
        if ckpt.latest_step() is not None:
            step, model, opt_state, key, _ = ckpt.restore(model, opt_state)
        metrics_file = run_dir / "metrics.jsonl"
        if metrics_file.exists():  # keep records up to the checkpoint we resume from
            lines = [json.loads(x) for x in metrics_file.read_text().splitlines() if x.strip()]
            history = [r for r in lines if r["step"] <= step]
            if jax.process_index() == 0:
                metrics_file.write_text("".join(json.dumps(r) + "\n" for r in history))

    arrays, static = eqx.partition((model, opt_state), eqx.is_array)
    model, opt_state = eqx.combine(_place(arrays, replicated, multiprocess), static)
    writer = jax.process_index() == 0  # one process writes the metrics
    train_step = make_train_step(loss, optimizer, data)
    online = isinstance(data, OnlineSource)
    pending: list[jax.Array] = []
    bar = tqdm(
        total=num_steps, initial=step, unit="step", desc="train", disable=not (progress and writer)
    )
    start = time.perf_counter()
    last_good = step
    try:
        while step < num_steps:
            batch = data.keys(step) if online else data.batch(step)
            batch = _place(batch, sharded, multiprocess)
            model, opt_state, value = train_step(model, opt_state, batch)
            pending.append(value)
            step += 1
            bar.update(1)
            boundary_log = step % log_every == 0 or step == num_steps
            boundary_ckpt = step % checkpoint_every == 0 or step == num_steps
            boundary_eval = evaluate is not None and (step % eval_every == 0 or step == num_steps)
            if not (boundary_log or boundary_ckpt or boundary_eval):
                continue
            # one host sync per log interval, not per step
            values = np.asarray(jax.device_get(jnp.stack(pending)))
            pending = []
            if not np.all(np.isfinite(values)):
                bad = step - len(values) + int(np.argmin(np.isfinite(values))) + 1
                raise FloatingPointError(
                    f"fit: the loss became non-finite at step {bad}; training stopped. The last "
                    f"good checkpoint (step {last_good}) is kept"
                    + (f" in {ckpt.directory}" if ckpt else "")
                    + ". Lower the learning rate or check the data for NaNs."
                )
            entry = {
                "step": step,
                "epoch": step / per_epoch,
                "train_loss": float(values.mean()),
                "time_s": time.perf_counter() - start,
            }
            if boundary_eval:
                entry.update({k: float(v) for k, v in evaluate(model).items()})
            bar.set_postfix(loss=f"{entry['train_loss']:.4g}")
            if boundary_log or boundary_eval:
                history.append(entry)
                if metrics_file is not None and writer:
                    with metrics_file.open("a") as f:
                        f.write(json.dumps(entry) + "\n")
            if boundary_ckpt and ckpt is not None:
                rec = dict(record or {}, step=step, epoch=step / per_epoch)
                ckpt.save(step, model, opt_state, key, rec)
                last_good = step
    finally:
        bar.close()
        if ckpt is not None:
            ckpt.close()
    return FitResult(model=model, opt_state=opt_state, step=step, history=history)


@eqx.filter_jit
def _batched_forward(model, inputs):
    # module level, so one compiled program serves every evaluation of a model structure
    return jax.vmap(model)(inputs)


def evaluate_resolutions(
    model, inputs, targets, resolutions: Sequence[int], *, batch_size: int = 32
) -> dict[str, float]:
    r"""Mean relative $L^2$ error at each resolution, subsampling high-resolution data.

    ``inputs``/``targets`` are ``(S, C, *spatial)`` at the finest resolution; resolution ``s``
    takes every ``N // s``-th point along every spatial axis (as the FNO paper evaluates), so
    ``N`` must be a multiple of ``s`` (or ``N - 1`` of ``s - 1`` for vertex grids that include
    both ends).
    """
    out = {}
    n = inputs.shape[-1]
    for s in resolutions:
        if n % s == 0:
            stride, stop = n // s, None
        elif (n - 1) % (s - 1) == 0:
            stride, stop = (n - 1) // (s - 1), None
        else:
            raise ValueError(f"evaluate_resolutions: cannot subsample {n} points to {s}.")
        index = (Ellipsis,) + (slice(None, stop, stride),) * (inputs.ndim - 2)
        a, u = inputs[index], targets[index]
        errs = []
        for lo in range(0, len(a), batch_size):
            pred = _batched_forward(model, jnp.asarray(a[lo : lo + batch_size]))
            errs.append(jax.vmap(relative_l2)(pred, jnp.asarray(u[lo : lo + batch_size])))
        out[f"test_rel_l2@{s}"] = float(jnp.mean(jnp.concatenate(errs)))
    return out


def lr_schedule(
    kind: str,
    learning_rate: float,
    *,
    num_steps: int,
    steps_per_epoch: int,
    step_epochs: int = 50,
    gamma: float = 0.5,
) -> optax.Schedule:
    """``"constant"``, ``"step"`` (times ``gamma`` every ``step_epochs`` epochs, the FNO paper's)
    or ``"cosine"`` (to zero over ``num_steps``)."""
    if kind == "constant":
        return optax.constant_schedule(learning_rate)
    if kind == "step":
        return optax.exponential_decay(
            learning_rate,
            transition_steps=step_epochs * steps_per_epoch,
            decay_rate=gamma,
            staircase=True,
        )
    if kind == "cosine":
        return optax.cosine_decay_schedule(learning_rate, num_steps)
    raise ValueError(f"lr_schedule: unknown schedule {kind!r}; use constant, step or cosine.")


__all__ = [
    "ArrayLoader",
    "FitResult",
    "OnlineSource",
    "evaluate_resolutions",
    "fit",
    "h1_loss",
    "lr_schedule",
    "make_train_step",
    "mse_loss",
    "relative_l2_loss",
    "rollout_loss",
]

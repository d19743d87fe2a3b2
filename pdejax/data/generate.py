"""Data generation: run a named problem under ``vmap`` in chunks, resumably, into HDF5.

Sample ``i`` is drawn from ``jax.random.fold_in(jax.random.key(seed), i)``, so the data do not
depend on interruptions or on the device. Before any work :func:`generate` estimates the file's
size (``jax.eval_shape`` of one sample) and checks the free disk space, then takes a lock on
``<path>.lock`` (one process per output). Each finished chunk is written atomically, with a
checksum, to ``<path>.parts/`` (see :mod:`pdejax.data.parts`), so a crash (even ``SIGKILL``)
loses at most the chunk in flight; rerunning the same call verifies the parts on disk,
regenerates damaged ones, computes the rest, and assembles ``<path>`` atomically, one bounded
block at a time. The result is identical to an uninterrupted run.
"""

import json
import math
import os
import shutil
from pathlib import Path
from typing import Literal

import equinox as eqx
import h5py
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from ..core import runtime_message
from .datasets import Dataset
from .files import (
    RunLock,
    available_host_memory,
    check_free_space,
    format_bytes,
)
from .parts import (
    DEFINING,
    SampleSpec,
    assemble,
    defining,
    listed_ranges,
    open_parts,
    plan_blocks,
    record_chunk_size,
    verify_parts,
    write_part,
)
from .problems import Problem

__all__ = ["auto_chunk_size", "generate"]

_WHO = "generate"
MAX_AUTO_CHUNK = 4096
_PROBE_BATCH = 8


def _one_sample(problem: Problem, dtype):
    def one(key):
        a = problem.sample_input(key).astype(dtype)
        return a, problem.solve(a).astype(dtype)

    return one


def _keys(base, start: int, count: int):
    return jax.vmap(lambda i: jr.fold_in(base, i))(jnp.arange(start, start + count))


def _settings(problem: Problem, num_samples, seed, dtype) -> dict:
    return {
        "problem": problem.name,
        "parameters": problem.parameters,
        "num_samples": int(num_samples),
        "seed": int(seed),
        "dtype": np.dtype(dtype).name,
    }


def generate(
    problem: Problem,
    path: str | os.PathLike,
    num_samples: int,
    *,
    seed: int = 0,
    chunk_size: int | Literal["auto"] = "auto",
    dtype=jnp.float32,
    progress: bool = True,
) -> Path:
    """Generate ``num_samples`` input/output pairs of ``problem`` and write them to ``path``.

    Args:
        problem: a :class:`pdejax.Problem` (e.g. ``pdejax.make_problem("fno/burgers")``).
        path: the HDF5 file to write (schema in :mod:`pdejax.data.datasets`).
        num_samples: how many samples.
        seed: the data set's seed; sample ``i`` uses ``fold_in(key(seed), i)``.
        chunk_size: samples per vmapped, jitted call (one compilation for all chunks), or
            ``"auto"`` (default) to size it from the device's free memory
            (:func:`auto_chunk_size`). Recorded in the file's ``generator`` settings.
        dtype: storage and compute dtype of the samples.
        progress: show a progress bar with samples/s.

    Returns the path. If ``path`` already holds a data set with the same problem, parameters,
    number of samples, seed and dtype it is returned as is (whatever chunk size or pdejax
    version made it); with other settings a :class:`ValueError` is raised and nothing is
    overwritten. Resuming with the chunk size of the interrupted run gives a file bitwise
    equal to an uninterrupted run (``"auto"`` reuses that size when it still fits); with
    another chunk size solvers whose floating-point reductions XLA vectorises by batch size
    (Darcy's conjugate gradients) may differ in the last bits.

    Errors, each one line: ``ValueError`` for bad arguments, too little disk space (before
    any work), or an existing file or interrupted run with other settings;
    :class:`pdejax.data.files.LockedError` (a ``ValueError``) when another process is
    generating the same ``path``; ``RuntimeError`` when the solver raises (naming the
    samples); ``FloatingPointError`` when a sample is not finite. A damaged chunk of an
    interrupted run is named in a warning and regenerated.

    Example:
        >>> import tempfile, pathlib
        >>> from pdejax.data import generate, load_dataset, make_problem
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "burgers.h5"
        >>> ds = load_dataset(generate(make_problem("fno/burgers", num_points=32, num_steps=4),
        ...                            out, 3, progress=False))
        >>> ds.inputs.shape, ds.generator["chunk_size"]
        ((3, 1, 32), 3)
    """
    from tqdm.auto import tqdm

    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"{_WHO}: `num_samples` must be a positive int, got {num_samples!r}.")
    auto = isinstance(chunk_size, str) and chunk_size == "auto"
    if not auto and (
        isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1
    ):
        raise ValueError(
            f"{_WHO}: `chunk_size` must be a positive int or 'auto', got {chunk_size!r}."
        )
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"{_WHO}: `dtype` must be float32 or float64, got {dtype}.")
    path = Path(path)
    settings = _settings(problem, num_samples, seed, dtype)
    if path.exists():
        return _reuse(path, settings)

    one = _one_sample(problem, dtype)
    spec = _sample_spec(problem, one)
    parts_dir = path.with_name(path.name + ".parts")
    _check_disk(path, parts_dir, spec, num_samples)

    with RunLock(path.with_name(path.name + ".lock"), who=_WHO):
        if path.exists():  # another process finished it while we checked
            return _reuse(path, settings)
        created = not parts_dir.exists()
        manifest = open_parts(parts_dir, settings, who=_WHO)
        try:
            done = verify_parts(parts_dir, spec, num_samples, who=_WHO)
            batched = jax.jit(jax.vmap(one))
            base = jr.key(seed)
            if auto:
                chunk_size = auto_chunk_size(
                    batched, base, num_samples, sample_bytes=spec.bytes_per_sample,
                    previous=manifest.get("chunk_size"),
                )  # fmt: skip
            record_chunk_size(parts_dir, manifest, chunk_size)
            bar = tqdm(
                total=num_samples,
                initial=sum(hi - lo for lo, hi in done),
                unit="sample",
                desc=f"generate {problem.name} (chunk {chunk_size})",
                disable=not progress,
            )
            with bar:
                for start, runs in plan_blocks(done, num_samples, chunk_size):
                    a, u = _run_block(batched, base, start, chunk_size, num_samples, problem)
                    for lo, hi in runs:
                        write_part(parts_dir, lo, hi, a[lo - start : hi - start],
                                   u[lo - start : hi - start])  # fmt: skip
                        bar.update(hi - lo)
        except BaseException:
            if created and not listed_ranges(parts_dir):
                shutil.rmtree(parts_dir, ignore_errors=True)  # nothing worth resuming
            raise
        metadata = _metadata(problem, settings, chunk_size)
        assemble(parts_dir, listed_ranges(parts_dir), path, metadata, spec)
        shutil.rmtree(parts_dir)
    return path


def _metadata(problem: Problem, settings: dict, chunk_size: int) -> Dataset:
    """The file's attributes, coordinates and times (the arrays are streamed in)."""
    from .. import __version__

    generator = {**settings, "chunk_size": int(chunk_size), "pdejax_version": __version__}
    coordinates = problem.coordinates
    return Dataset(
        inputs=np.empty(0),
        outputs=np.empty(0),
        problem=problem.name,
        parameters=problem.parameters,
        generator=json.loads(json.dumps(generator, sort_keys=True)),
        reference=problem.reference,
        coordinates=None if coordinates is None else tuple(np.asarray(x) for x in coordinates),
        times=None if problem.times is None else np.asarray(problem.times),
    )


def _reuse(path: Path, settings: dict) -> Path:
    """``path`` if it holds the data ``settings`` define; a one-line ValueError otherwise."""
    try:
        with h5py.File(path, "r") as f:
            found = json.loads(f.attrs.get("generator", "{}"))
    except (OSError, ValueError) as err:
        raise ValueError(
            f"{_WHO}: {path} exists but is not a readable pdejax data set "
            f"({str(err).splitlines()[0]}); delete it or choose another path."
        ) from None
    found, wanted = defining(found), defining(settings)
    if found != wanted:
        changed = ", ".join(f"{k}={found.get(k)!r}" for k in DEFINING if found[k] != wanted[k])
        raise ValueError(
            f"{_WHO}: {path} exists with other settings ({changed}); choose another path or "
            "delete the file."
        )
    return path


def _sample_spec(problem: Problem, one) -> SampleSpec:
    a, u = jax.eval_shape(one, jr.key(0))
    if a.dtype != u.dtype:  # both are cast to the same dtype above
        raise AssertionError((a.dtype, u.dtype))
    return SampleSpec(tuple(a.shape), tuple(u.shape), np.dtype(a.dtype))


def _check_disk(path: Path, parts_dir: Path, spec: SampleSpec, num_samples: int) -> None:
    """Room for the final file and the parts still to write (both exist until the rename)."""
    per = spec.bytes_per_sample
    on_disk = sum(hi - lo for lo, hi in listed_ranges(parts_dir))
    data = num_samples * per
    needed = int(1.01 * (data + max(0, num_samples - on_disk) * per)) + (1 << 20)
    check_free_space(
        path,
        needed,
        who=_WHO,
        what=f"{num_samples} samples x {format_bytes(per)} = {format_bytes(data)}, for the "
        "file and its parts",
    )


def _run_block(batched, base, start: int, chunk: int, num_samples: int, problem: Problem):
    """Samples ``start <= i < start + chunk`` (always a full chunk: one compilation)."""
    last = min(start + chunk, num_samples) - 1
    try:
        a, u = jax.block_until_ready(batched(_keys(base, start, chunk)))
    except (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError) as err:
        raise RuntimeError(
            f"{_WHO}: {problem.name} failed on samples {start}-{last}: {runtime_message(err)}"
        ) from err
    count = last + 1 - start
    a, u = np.asarray(a)[:count], np.asarray(u)[:count]
    for name, x in (("inputs", a), ("outputs", u)):
        finite = np.isfinite(x.reshape(count, -1)).all(axis=1)
        if not finite.all():
            raise FloatingPointError(
                f"{_WHO}: {problem.name} gave non-finite {name} for {int((~finite).sum())} of "
                f"samples {start}-{last} (first: sample {start + int(np.argmin(finite))}); the "
                "data set would hold NaN/inf: check the problem's parameters and solver."
            )
    return a, u


def _compiled_bytes(batched, keys) -> int | None:
    try:
        stats = batched.lower(keys).compile().memory_analysis()
    except Exception:  # not every backend reports it
        return None
    if stats is None:
        return None
    total = (
        stats.temp_size_in_bytes
        + stats.argument_size_in_bytes
        + stats.output_size_in_bytes
        - stats.alias_size_in_bytes
    )
    return total if total > 0 else None


def _free_device_memory(device) -> int | None:
    try:
        stats = device.memory_stats()
    except Exception:
        stats = None
    if stats and "bytes_limit" in stats:
        return int(stats["bytes_limit"]) - int(stats.get("bytes_in_use", 0))
    return None


def auto_chunk_size(
    batched,
    base_key,
    num_samples: int,
    *,
    sample_bytes: int,
    previous: int | None = None,
    cap: int = MAX_AUTO_CHUNK,
    device_fraction: float = 0.8,
    host_fraction: float = 0.5,
) -> int:
    """A generation batch that fills the device's free memory, within bounds.

    The memory of one sample is the compiled memory (``memory_analysis()``: temporaries,
    arguments and outputs) of ``batched`` at a small batch, divided by that batch (an
    overestimate: fixed costs are spread over few samples). Free memory is the device's
    ``bytes_limit - bytes_in_use`` (GPU/TPU), else the host's available memory
    (:func:`pdejax.data.files.available_host_memory`, which honours cgroup limits). The batch is
    ``device_fraction`` (accelerators) or ``host_fraction`` (CPU) of the free memory over the
    per-sample memory, also limited so that a chunk's samples fit in ``host_fraction`` of the
    host memory, and at most ``cap`` and ``num_samples``; then evened out, so that the last
    chunk is not mostly padding (5000 samples at a limit of 4096 run as two chunks of 2500).
    ``previous`` (the chunk size of an interrupted run) is kept if it fits, so that a resumed
    run repeats the same batches.

    Args:
        batched: ``jax.jit(jax.vmap(one_sample))``, a function of a batch of keys.
        base_key: the data set's key; the probe uses samples ``0..7``.
        num_samples: samples to generate.
        sample_bytes: bytes of one sample's input and output (for the host-side limit).
        previous: an interrupted run's chunk size, or ``None``.

    Example:
        >>> import jax, jax.numpy as jnp, jax.random as jr
        >>> batched = jax.jit(jax.vmap(lambda k: jr.normal(k, (1, 64))))
        >>> auto_chunk_size(batched, jr.key(0), 100, sample_bytes=256)
        100
    """
    probe = min(_PROBE_BATCH, num_samples)
    compiled = _compiled_bytes(batched, _keys(base_key, 0, probe))
    per_sample = compiled / probe if compiled else 32 * sample_bytes
    device = jax.local_devices()[0]
    host = available_host_memory()
    free = _free_device_memory(device)
    limits = [cap, num_samples]
    if free is not None and device.platform != "cpu":
        limits.append(int(device_fraction * free // per_sample))
        if host is not None:  # each chunk also comes back to the host
            limits.append(int(host_fraction * host // max(sample_bytes, 1)))
    elif host is not None:
        limits.append(int(host_fraction * host // per_sample))
    limit = max(1, min(limits))
    if previous is not None and 1 <= previous <= limit:
        return int(previous)
    return math.ceil(num_samples / math.ceil(num_samples / limit))

"""Data generation: run a named problem under ``vmap`` in chunks, resumably, into HDF5.

Sample ``i`` is drawn from ``jax.random.fold_in(jax.random.key(seed), i)``, so the data do not
depend on the chunk size, the device or on interruptions. Each finished chunk is written
atomically to ``<path>.parts/`` (a temporary file renamed into place), so a crash (even
``SIGKILL``) loses at most the chunk in flight; rerunning the same call skips the chunks on disk
and finally assembles ``<path>`` atomically. The result is identical to an uninterrupted run.
"""

import json
import math
import os
import shutil
import time
from pathlib import Path

import equinox as eqx
import h5py
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from .datasets import Dataset, load_dataset, save_dataset
from .problems import Problem


def _sample_fn(problem: Problem, dtype):
    def one(key):
        a = problem.sample_input(key).astype(dtype)
        return a, problem.solve(a).astype(dtype)

    return eqx.filter_jit(jax.vmap(one))


def _settings(problem: Problem, num_samples, seed, chunk_size, dtype) -> dict:
    from .. import __version__

    return {
        "problem": problem.name,
        "parameters": problem.parameters,
        "num_samples": int(num_samples),
        "seed": int(seed),
        "chunk_size": int(chunk_size),
        "dtype": np.dtype(dtype).name,
        "pdejax_version": __version__,
    }


def generate(
    problem: Problem,
    path: str | os.PathLike,
    num_samples: int,
    *,
    seed: int = 0,
    chunk_size: int = 32,
    dtype=jnp.float32,
    progress: bool = True,
) -> Path:
    """Generate ``num_samples`` input/output pairs of ``problem`` and write them to ``path``.

    Args:
        problem: a :class:`pdejax.Problem` (e.g. ``pdejax.make_problem("fno/burgers")``).
        path: the HDF5 file to write (schema in :mod:`pdejax.data.datasets`).
        num_samples: how many samples.
        seed: the data set's seed; sample ``i`` uses ``fold_in(key(seed), i)``.
        chunk_size: samples per vmapped, jitted call (one compilation for all chunks).
        dtype: storage and compute dtype of the samples.
        progress: show a progress bar with samples/s.

    Returns the path. If ``path`` already holds a complete data set made with the same settings
    it is returned as is; with different settings a :class:`ValueError` is raised and nothing
    is overwritten.
    """
    from tqdm.auto import tqdm

    if num_samples < 1 or chunk_size < 1:
        raise ValueError("generate: `num_samples` and `chunk_size` must be positive.")
    path = Path(path)
    settings = _settings(problem, num_samples, seed, chunk_size, dtype)
    if path.exists():
        existing = load_dataset(path)
        if {k: existing.generator.get(k) for k in settings} != _jsonable(settings):
            raise ValueError(
                f"generate: {path} exists with other settings ({existing.generator}); choose "
                "another path or delete the file."
            )
        return path

    parts = path.with_name(path.name + ".parts")
    parts.mkdir(parents=True, exist_ok=True)
    manifest = parts / "manifest.json"
    if manifest.exists():
        previous = json.loads(manifest.read_text())
        if previous != _jsonable(settings):
            raise ValueError(
                f"generate: {parts} holds an interrupted run with other settings ({previous}); "
                "rerun with the same settings to resume, or delete that directory."
            )
    else:
        _atomic_write_text(manifest, json.dumps(_jsonable(settings), sort_keys=True))

    run = _sample_fn(problem, dtype)
    base = jr.key(seed)
    num_chunks = math.ceil(num_samples / chunk_size)
    done = {c for c in range(num_chunks) if (parts / _chunk_name(c)).exists()}
    bar = tqdm(
        total=num_samples,
        initial=sum(min(chunk_size, num_samples - c * chunk_size) for c in done),
        unit="sample",
        desc=f"generate {problem.name}",
        disable=not progress,
    )
    start = time.perf_counter()
    for c in range(num_chunks):
        if c in done:
            continue
        lo = c * chunk_size
        count = min(chunk_size, num_samples - lo)
        # always a full chunk (one compilation); the tail beyond num_samples is dropped
        keys = jax.vmap(lambda i: jr.fold_in(base, i))(jnp.arange(lo, lo + chunk_size))
        a, u = jax.block_until_ready(run(keys))
        _write_chunk(parts / _chunk_name(c), np.asarray(a)[:count], np.asarray(u)[:count])
        bar.update(count)
        bar.set_postfix(samples_per_s=f"{bar.n / (time.perf_counter() - start):.1f}")
    bar.close()

    inputs, outputs = [], []
    for c in range(num_chunks):
        with h5py.File(parts / _chunk_name(c), "r") as f:
            inputs.append(f["inputs"][...])
            outputs.append(f["outputs"][...])
    dataset = Dataset(
        inputs=np.concatenate(inputs),
        outputs=np.concatenate(outputs),
        problem=problem.name,
        parameters=problem.parameters,
        generator=_jsonable(settings),
        reference=problem.reference,
        coordinates=None
        if problem.coordinates is None
        else tuple(np.asarray(x) for x in problem.coordinates),
        times=None if problem.times is None else np.asarray(problem.times),
    )
    save_dataset(dataset, path)
    shutil.rmtree(parts)
    return path


def _chunk_name(c: int) -> str:
    return f"chunk_{c:06d}.h5"


def _write_chunk(target: Path, inputs, outputs):
    tmp = target.with_name(target.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.create_dataset("inputs", data=inputs)
        f.create_dataset("outputs", data=outputs)
    os.replace(tmp, target)


def _atomic_write_text(target: Path, text: str):
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, target)


def _jsonable(obj):
    return json.loads(json.dumps(obj, sort_keys=True))

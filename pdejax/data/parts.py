"""The parts directory of a generation run: finished samples on disk, verified, then assembled.

``<path>.parts/`` holds

- ``manifest.json``: the settings that define the data (problem, parameters, number of samples,
  seed, dtype) and the chunk size last used;
- ``chunk_<lo>_<hi>.h5``: samples ``lo <= i < hi`` (``/inputs``, ``/outputs``), written to a
  temporary file and renamed into place, with ``chunk_<lo>_<hi>.h5.sha256`` beside it (written
  first, so every part on disk has its checksum).

Parts are keyed by sample range, not by chunk number, so a run resumed with another chunk size
(another machine's automatic size, say) reuses every intact sample. On resume each part is
verified (checksum, then shapes and dtypes); a damaged one is named in a one-line warning,
deleted and regenerated. Assembly copies one bounded block at a time into the final file, so
memory never holds the whole data set.
"""

import dataclasses
import json
import math
import os
import re
import warnings
from pathlib import Path

import h5py
import numpy as np

from .datasets import Dataset, write_attributes, write_axes
from .files import atomic_write_text, file_sha256

__all__ = [
    "DEFINING",
    "SampleSpec",
    "assemble",
    "open_parts",
    "plan_blocks",
    "verify_parts",
    "write_part",
]

# the generator settings that define the data; anything else (chunk size, version) does not
DEFINING = ("problem", "parameters", "num_samples", "seed", "dtype")
_FORMAT = "pdejax-parts"
_VERSION = 2
_PART = re.compile(r"chunk_(\d{9})_(\d{9})\.h5")


@dataclasses.dataclass(frozen=True)
class SampleSpec:
    """Shape and dtype of one sample's input and output (from :func:`jax.eval_shape`)."""

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    dtype: np.dtype

    @property
    def bytes_per_sample(self) -> int:
        size = math.prod(self.input_shape) + math.prod(self.output_shape)
        return size * np.dtype(self.dtype).itemsize


def part_name(lo: int, hi: int) -> str:
    return f"chunk_{lo:09d}_{hi:09d}.h5"


def _checksum_path(part: Path) -> Path:
    return part.with_name(part.name + ".sha256")


def defining(settings: dict) -> dict:
    return json.loads(json.dumps({k: settings.get(k) for k in DEFINING}, sort_keys=True))


def open_parts(directory: Path, settings: dict, *, who: str) -> dict:
    """Create ``directory`` with its manifest, or check that an existing one holds a run with
    the same defining settings (a :class:`ValueError` otherwise). Returns the manifest."""
    manifest = directory / "manifest.json"
    wanted = defining(settings)
    if manifest.exists():
        try:
            previous = json.loads(manifest.read_text())
        except (OSError, ValueError):
            previous = None  # a damaged manifest: the parts' checksums still guard the data
        if isinstance(previous, dict):
            # version 1 stored the settings flat, with chunk size and pdejax version: neither
            # defines the data, so those runs resume too
            found = defining(previous.get("settings", previous))
            if found != wanted:
                changed = [k for k in DEFINING if found.get(k) != wanted.get(k)]
                raise ValueError(
                    f"{who}: {directory} holds an interrupted run with other settings "
                    f"({', '.join(f'{k}={found.get(k)!r}' for k in changed)}); rerun with the "
                    "same settings to resume, or delete that directory."
                )
            return {"format": _FORMAT, "version": _VERSION, "settings": wanted,
                    "chunk_size": previous.get("chunk_size")}  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    record = {"format": _FORMAT, "version": _VERSION, "settings": wanted, "chunk_size": None}
    atomic_write_text(manifest, json.dumps(record, sort_keys=True))
    return record


def record_chunk_size(directory: Path, manifest: dict, chunk_size: int) -> None:
    atomic_write_text(
        directory / "manifest.json", json.dumps({**manifest, "chunk_size": chunk_size})
    )


def listed_ranges(directory: Path) -> list[tuple[int, int]]:
    """Sample ranges of the part files present, by name only (not verified)."""
    if not directory.is_dir():
        return []
    found = (_PART.fullmatch(p.name) for p in directory.iterdir())
    return sorted((int(m[1]), int(m[2])) for m in found if m)


def _damage(part: Path, lo: int, hi: int, spec: SampleSpec, num_samples: int) -> str | None:
    """Why ``part`` cannot be used, or ``None`` if it is intact."""
    if not lo < hi <= num_samples:
        return f"its range {lo}-{hi} is not within the {num_samples} samples"
    checksum = _checksum_path(part)
    if not checksum.exists():
        return "its checksum file is missing"
    if file_sha256(part) != checksum.read_text().strip():
        return "checksum mismatch (truncated or modified)"
    try:
        with h5py.File(part, "r") as f:
            for name, shape in (("inputs", spec.input_shape), ("outputs", spec.output_shape)):
                if name not in f:
                    return f"no /{name}"
                data = f[name]
                if data.shape != (hi - lo, *shape) or data.dtype != spec.dtype:
                    return (
                        f"/{name} is {data.dtype}{list(data.shape)}, expected "
                        f"{np.dtype(spec.dtype)}{[hi - lo, *shape]}"
                    )
    except OSError as err:
        return f"not readable as HDF5 ({str(err).splitlines()[0]})"
    return None


def verify_parts(
    directory: Path, spec: SampleSpec, num_samples: int, *, who: str
) -> list[tuple[int, int]]:
    """The sample ranges of the intact parts, disjoint and sorted. Each damaged part is named in
    a one-line warning and deleted (so it is regenerated); leftover temporary files are
    deleted."""
    for tmp in directory.glob("*.tmp"):
        tmp.unlink(missing_ok=True)
    intact, end = [], 0
    for lo, hi in listed_ranges(directory):
        part = directory / part_name(lo, hi)
        reason = _damage(part, lo, hi, spec, num_samples)
        if reason is not None:
            warnings.warn(f"{who}: chunk {part} is damaged ({reason}); regenerating it.",
                          stacklevel=3)  # fmt: skip
            part.unlink(missing_ok=True)
            _checksum_path(part).unlink(missing_ok=True)
        elif lo >= end:  # overlapping parts cannot come from one run; the first one wins
            intact.append((lo, hi))
            end = hi
    return intact


def plan_blocks(
    done: list[tuple[int, int]], num_samples: int, chunk_size: int
) -> list[tuple[int, list[tuple[int, int]]]]:
    """``[(block_start, [(lo, hi), ...]), ...]``: the chunk-aligned blocks that still miss
    samples, and the missing ranges in each.

    Blocks start at multiples of ``chunk_size``, so with the chunk size of an interrupted run
    every sample is computed at the same position of the same batch size as in an
    uninterrupted run (bitwise equal even where XLA's reductions depend on the batch)."""
    covered = np.zeros(num_samples, bool)
    for lo, hi in done:
        covered[lo:hi] = True
    plan = []
    for start in range(0, num_samples, chunk_size):
        stop = min(start + chunk_size, num_samples)
        missing = ~covered[start:stop]
        if not missing.any():
            continue
        edges = np.flatnonzero(np.diff(np.concatenate([[0], missing.view(np.int8), [0]])))
        runs = [(start + int(a), start + int(b)) for a, b in zip(edges[::2], edges[1::2])]
        plan.append((start, runs))
    return plan


def write_part(directory: Path, lo: int, hi: int, inputs, outputs) -> Path:
    """Write samples ``lo <= i < hi`` atomically, checksum first."""
    part = directory / part_name(lo, hi)
    tmp = part.with_name(part.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        f.create_dataset("inputs", data=inputs)
        f.create_dataset("outputs", data=outputs)
    atomic_write_text(_checksum_path(part), file_sha256(tmp))
    os.replace(tmp, part)
    return part


def assemble(
    directory: Path,
    ranges: list[tuple[int, int]],
    target: Path,
    metadata: Dataset,
    spec: SampleSpec,
    *,
    block_bytes: int = 64 << 20,
) -> Path:
    """Copy the parts (which tile ``[0, num_samples)``) into ``target``, written atomically in
    the schema of :func:`pdejax.data.save_dataset` with ``metadata``'s attributes, coordinates
    and times. At most ``block_bytes`` of samples are in memory at once.

    The datasets are created and first written in the order :func:`save_dataset` uses, so the
    file is byte for byte the one it would write from the whole data set in memory."""
    num = ranges[-1][1]
    tmp = target.with_name(target.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        write_attributes(f, metadata)
        names = (("inputs", spec.input_shape), ("outputs", spec.output_shape))
        for name, shape in names:
            f.create_dataset(name, shape=(num, *shape), dtype=spec.dtype)
            _copy(directory, ranges[:1], name, f[name], block_bytes)
        write_axes(f, metadata)
        for name, _ in names:
            _copy(directory, ranges[1:], name, f[name], block_bytes)
    os.replace(tmp, target)
    return target


def _copy(directory: Path, ranges, name: str, out: h5py.Dataset, block_bytes: int) -> None:
    row = max(1, math.prod(out.shape[1:]) * out.dtype.itemsize)
    step = max(1, block_bytes // row)
    for lo, hi in ranges:
        with h5py.File(directory / part_name(lo, hi), "r") as f:
            src = f[name]
            for s in range(0, hi - lo, step):
                e = min(s + step, hi - lo)
                out[lo + s : lo + e] = src[s:e]

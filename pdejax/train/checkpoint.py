"""Checkpoints with orbax: everything needed to resume a training run exactly, verified, no pickle.

A checkpoint (format version 2) holds

- ``state``: the model's arrays and the optimizer state, each a flat dictionary keyed by the
  array's path in the pytree (``net.layers.0.weight``, ``1.0.mu.net.layers.0.weight``), and the
  PRNG key data;
- ``record``: JSON, the caller's record (model configuration, data position) plus an
  ``integrity`` entry: a BLAKE2b checksum of every array and of the record itself.

Restoring needs a *template* with the same structure (the model rebuilt from its configuration
and a fresh optimizer state); arrays are matched by path and checked for shape and kind, so a
checkpoint from another model is an error that names the first mismatched array, not a silent
mismatch. Arrays keep the precision they were saved in.

Every restore verifies the checksums. :meth:`Checkpointer.restore_latest` walks from the newest
checkpoint back and uses the first intact one, warning in one line about each damaged one it
skips (a flipped bit, a truncated or missing file); if none is intact it raises one
:class:`CheckpointError` that lists them. Orbax writes each checkpoint to a temporary directory
and renames it when complete, so a crash while saving leaves the previous checkpoint intact.

Checkpoints written by pdejax 0.1.0 (arrays named ``leaf_00000`` ... in flattening order, no
checksums) still load: their arrays are matched to the template in order.
"""

import hashlib
import json
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

FORMAT_VERSION = 2


class CheckpointError(ValueError):
    """No checkpoint could be restored (all damaged), or one does not fit the model.

    Example (a checkpoint of another model names the first array that does not fit):
        >>> import tempfile, jax.numpy as jnp, jax.random as jr
        >>> ckpt = Checkpointer(tempfile.mkdtemp())
        >>> ckpt.save(1, {"w": jnp.ones(2)}, (), jr.key(0), {})
        >>> try:
        ...     ckpt.restore({"w": jnp.ones(3)}, ())
        ... except CheckpointError as err:
        ...     print(err)
        checkpoint: model array `w` has shape (2,) float..., expected (3,) float...; was it written by a different model configuration?
        >>> ckpt.close()
    """


class CheckpointWarning(UserWarning):
    """A damaged checkpoint was skipped in favour of an older intact one.

    Example (the record of step 2 is edited, so it fails its checksum; step 1 is restored):
        >>> import pathlib, tempfile, warnings, jax.numpy as jnp, jax.random as jr
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> ckpt = Checkpointer(folder)
        >>> for step in (1, 2):
        ...     ckpt.save(step, {"w": step * jnp.ones(2)}, (), jr.key(0), {"epoch": step})
        >>> record = folder / "2" / "record" / "metadata"
        >>> _ = record.write_text(record.read_text().replace('"epoch": 2', '"epoch": 3'))
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     step, model, *_ = ckpt.restore_latest({"w": jnp.zeros(2)}, ())
        >>> step, model["w"].tolist(), caught[0].category.__name__
        (1, [1.0, 1.0], 'CheckpointWarning')
        >>> print(caught[0].message)
        checkpoint step 2: its record fails its checksum; skipped it and resumed from step 1.
        >>> ckpt.close()
    """


def _path_name(path) -> str:
    return jax.tree_util.keystr(path, simple=True, separator=".")


def named_arrays(tree) -> dict[str, np.ndarray]:
    """The arrays of ``tree`` as ``{path: numpy array}``, paths like ``net.layers.0.weight``.

    Example:
        >>> import jax.numpy as jnp
        >>> sorted(named_arrays({"w": jnp.ones(2), "layers": [jnp.zeros(1)]}))
        ['layers.0', 'w']
    """
    leaves = jax.tree_util.tree_flatten_with_path(eqx.filter(tree, eqx.is_array))[0]
    return {_path_name(p) or "value": np.asarray(x) for p, x in leaves}


def _digest(x: np.ndarray) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{x.dtype.str}{x.shape}".encode())
    h.update(np.ascontiguousarray(x).tobytes())
    return h.hexdigest()


def _record_digest(record: dict) -> str:
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _fill(template, arrays: dict[str, np.ndarray], what: str):
    """The template with its arrays replaced by ``arrays`` (matched by path)."""
    leaves, treedef = jax.tree_util.tree_flatten_with_path(eqx.filter(template, eqx.is_array))
    names = [_path_name(p) or "value" for p, _ in leaves]
    missing = [n for n in names if n not in arrays]
    extra = sorted(set(arrays) - set(names))
    if missing or extra:
        raise CheckpointError(
            f"checkpoint: the {what} does not match the model: "
            + (f"missing {missing[:3]}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unexpected {extra[:3]}" if extra else "")
            + "; was it written by a different model configuration?"
        )
    restored = [_checked(arrays[n], ref, n, what) for n, (_, ref) in zip(names, leaves)]
    _, static = eqx.partition(template, eqx.is_array)
    return eqx.combine(jax.tree_util.tree_unflatten(treedef, restored), static)


def _fill_legacy(template, flat: dict[str, np.ndarray], what: str):
    """0.1.0 layout: ``leaf_00000`` ... in flattening order."""
    arrays, static = eqx.partition(template, eqx.is_array)
    leaves, treedef = jax.tree.flatten(arrays)
    if len(flat) != len(leaves):
        raise CheckpointError(
            f"checkpoint: the {what} holds {len(flat)} arrays but the model needs "
            f"{len(leaves)}; was it written by a different model configuration?"
        )
    restored = [_checked(flat[f"leaf_{i:05d}"], ref, f"leaf_{i:05d}", what) for i, ref in enumerate(leaves)]  # fmt: skip
    return eqx.combine(jax.tree.unflatten(treedef, restored), static)


def _checked(value, ref, name: str, what: str):
    value = np.asarray(value)
    # the saved precision wins (a float32 run restored in a float64 session stays float32)
    same_kind = value.dtype == ref.dtype or (
        jnp.issubdtype(value.dtype, jnp.floating) and jnp.issubdtype(ref.dtype, jnp.floating)
    )
    if value.shape != ref.shape or not same_kind:
        raise CheckpointError(
            f"checkpoint: {what} array `{name}` has shape {value.shape} {value.dtype}, expected "
            f"{ref.shape} {ref.dtype}; was it written by a different model configuration?"
        )
    return jnp.asarray(value)


def _first_line(err: BaseException) -> str:
    lines = [s.strip() for s in str(err).splitlines() if s.strip()]
    return f"{type(err).__name__}: {lines[0][:160]}" if lines else type(err).__name__


class _Damaged(Exception):
    """A checkpoint that cannot be trusted (internal: triggers the fallback)."""


class Checkpointer:
    """Save and restore ``(model, opt_state, step, key, record)`` under ``directory``.

    Args:
        directory: where the checkpoints live (one sub-directory per step).
        max_to_keep: how many of the newest checkpoints to keep.

    Example:
        >>> import tempfile, jax.numpy as jnp, jax.random as jr
        >>> ckpt = Checkpointer(tempfile.mkdtemp())
        >>> ckpt.save(3, {"w": jnp.ones(2)}, (), jr.key(0), {"epoch": 1})
        >>> step, model, opt_state, key, record = ckpt.restore({"w": jnp.zeros(2)}, ())
        >>> step, model["w"].tolist(), record["epoch"]
        (3, [1.0, 1.0], 1)
        >>> ckpt.close()
    """

    def __init__(self, directory: str | os.PathLike, *, max_to_keep: int = 3):
        if isinstance(max_to_keep, bool) or not isinstance(max_to_keep, int) or max_to_keep < 1:
            raise ValueError(f"Checkpointer: `max_to_keep` must be a positive int, got {max_to_keep!r}.")  # fmt: skip
        self.directory = Path(directory).absolute()
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True),
        )

    def all_steps(self) -> list[int]:
        return sorted(self._manager.all_steps())

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def save(self, step: int, model, opt_state, key, record: dict[str, Any]) -> None:
        state = {
            "model": named_arrays(model),
            "opt_state": named_arrays(opt_state),
            "key": np.asarray(jax.random.key_data(key)),
        }
        checksums = {
            "key": _digest(state["key"]),
            **{f"model/{k}": _digest(v) for k, v in state["model"].items()},
            **{f"opt_state/{k}": _digest(v) for k, v in state["opt_state"].items()},
        }
        record = dict(record)
        record["integrity"] = {
            "format_version": FORMAT_VERSION,
            "arrays": checksums,
            "record": _record_digest(record),
        }
        self._manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), record=ocp.args.JsonSave(record)
            ),
        )
        self._manager.wait_until_finished()

    def restore(self, model_template, opt_state_template, step: int | None = None):
        """Return ``(step, model, opt_state, key, record)`` from the given step (default the
        newest intact one), verified against its checksums."""
        if step is None:
            out = self.restore_latest(model_template, opt_state_template)
            if out is None:
                raise CheckpointError(f"checkpoint: no checkpoint in {self.directory}.")
            return out
        try:
            return self._restore(model_template, opt_state_template, step)
        except _Damaged as err:
            raise CheckpointError(
                f"checkpoint: step {step} in {self.directory} is damaged ({err})."
            ) from None

    def restore_latest(self, model_template, opt_state_template):
        """The newest intact checkpoint as ``(step, model, opt_state, key, record)``, skipping
        damaged ones with a one-line :class:`CheckpointWarning` each; ``None`` when there is
        no checkpoint at all; :class:`CheckpointError` when every one is damaged."""
        damaged = []
        for step in reversed(self.all_steps()):
            try:
                out = self._restore(model_template, opt_state_template, step)
            except _Damaged as err:
                damaged.append(f"step {step}: {err}")
                continue
            for note in damaged:
                warnings.warn(
                    f"checkpoint {note}; skipped it and resumed from step {step}.",
                    CheckpointWarning,
                    stacklevel=2,
                )
            return out
        if damaged:
            raise CheckpointError(
                f"checkpoint: no intact checkpoint in {self.directory} ({'; '.join(damaged)}). "
                "Delete the directory to start over."
            )
        return None

    def _restore(self, model_template, opt_state_template, step: int):
        restored = self._read(step)
        state, record = restored["state"], dict(restored["record"])
        if not isinstance(state, dict) or not {"model", "opt_state", "key"} <= set(state):
            raise _Damaged("its arrays are incomplete")
        integrity = record.pop("integrity", None)
        legacy = integrity is None and all(k.startswith("leaf_") for k in state["model"])
        if not legacy:
            self._verify(state, record, integrity)
        fill = _fill_legacy if legacy else _fill
        model = fill(model_template, state["model"], "model")
        opt_state = fill(opt_state_template, state["opt_state"], "optimizer state")
        key = jax.random.wrap_key_data(jnp.asarray(state["key"]))
        return step, model, opt_state, key, record

    def _read(self, step: int):
        # orbax logs its own tracebacks for a damaged checkpoint before raising; the one-line
        # warning of restore_latest says everything a user needs
        logger = logging.getLogger("absl")
        level = logger.level
        logger.setLevel(logging.CRITICAL)
        try:
            return self._manager.restore(
                step,
                args=ocp.args.Composite(
                    state=ocp.args.StandardRestore(), record=ocp.args.JsonRestore()
                ),
            )
        except Exception as err:  # noqa: BLE001 - any failure to read means "damaged"
            raise _Damaged(f"unreadable ({_first_line(err)})") from None
        finally:
            logger.setLevel(level)

    @staticmethod
    def _verify(state: dict, record: dict, integrity) -> None:
        if not isinstance(integrity, dict) or "arrays" not in integrity:
            raise _Damaged("its checksums are missing")
        if _record_digest(record) != integrity.get("record"):
            raise _Damaged("its record fails its checksum")
        arrays = {"key": np.asarray(state["key"])}
        arrays.update({f"model/{k}": v for k, v in state["model"].items()})
        arrays.update({f"opt_state/{k}": v for k, v in state["opt_state"].items()})
        expected = integrity["arrays"]
        if set(arrays) != set(expected):
            raise _Damaged("its set of arrays differs from the one saved")
        for name, value in arrays.items():
            if _digest(np.asarray(value)) != expected[name]:
                raise _Damaged(f"array `{name}` fails its checksum")

    def close(self):
        self._manager.close()


__all__ = ["CheckpointError", "CheckpointWarning", "Checkpointer", "named_arrays"]

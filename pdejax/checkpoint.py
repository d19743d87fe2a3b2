"""Checkpoints with orbax: everything needed to resume a training run exactly, no pickle.

A checkpoint holds the model's arrays and the optimizer state as a flat dictionary of arrays
(``leaf_00000`` ...), the step, the PRNG key data and a JSON record (the model configuration and
the data position). Restoring needs a *template* with the same structure (the model rebuilt from
its configuration and a fresh optimizer state); leaves are checked against it one by one, so a
checkpoint from another model is an error, not a silent mismatch. Arrays keep the precision they
were saved in. Orbax writes each checkpoint
to a temporary directory and renames it when complete: a crash while saving leaves the previous
checkpoint intact.
"""

import os
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp


def _flat(tree) -> dict[str, np.ndarray]:
    leaves = jax.tree.leaves(eqx.filter(tree, eqx.is_array))
    return {f"leaf_{i:05d}": np.asarray(x) for i, x in enumerate(leaves)}


def _unflat(template, flat: dict[str, np.ndarray]):
    arrays, static = eqx.partition(template, eqx.is_array)
    leaves, treedef = jax.tree.flatten(arrays)
    if len(flat) != len(leaves):
        raise ValueError(
            f"checkpoint: it holds {len(flat)} arrays but the model and optimizer need "
            f"{len(leaves)}; was it written by a different model configuration?"
        )
    restored = []
    for i, ref in enumerate(leaves):
        value = np.asarray(flat[f"leaf_{i:05d}"])
        # the saved precision wins (a float32 run restored in a float64 session stays float32)
        same_kind = value.dtype == ref.dtype or (
            jnp.issubdtype(value.dtype, jnp.floating) and jnp.issubdtype(ref.dtype, jnp.floating)
        )
        if value.shape != ref.shape or not same_kind:
            raise ValueError(
                f"checkpoint: array {i} has shape {value.shape} {value.dtype}, expected "
                f"{ref.shape} {ref.dtype}; was it written by a different model configuration?"
            )
        restored.append(jnp.asarray(value))
    return eqx.combine(jax.tree.unflatten(treedef, restored), static)


class Checkpointer:
    """Save and restore ``(model, opt_state, step, key, record)`` under ``directory``.

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
        self.directory = Path(directory).absolute()
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True),
        )

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def save(self, step: int, model, opt_state, key, record: dict[str, Any]) -> None:
        state = {
            "model": _flat(model),
            "opt_state": _flat(opt_state),
            "key": np.asarray(jax.random.key_data(key)),
        }
        self._manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), record=ocp.args.JsonSave(record)
            ),
        )
        self._manager.wait_until_finished()

    def restore(self, model_template, opt_state_template, step: int | None = None):
        """Return ``(step, model, opt_state, key, record)`` from the latest (or given) step."""
        step = self.latest_step() if step is None else step
        if step is None:
            raise ValueError(f"checkpoint: no checkpoint in {self.directory}.")
        restored = self._manager.restore(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(), record=ocp.args.JsonRestore()
            ),
        )
        state = restored["state"]
        model = _unflat(model_template, state["model"])
        opt_state = _unflat(opt_state_template, state["opt_state"])
        key = jax.random.wrap_key_data(jnp.asarray(state["key"]))
        return step, model, opt_state, key, dict(restored["record"])

    def close(self):
        self._manager.close()

"""Worker for tests/test_training.py::test_two_processes_match_one: one process of a
2-process CPU run (2 devices each), or the 1-process 4-device reference. Writes the trained
parameters to ``out`` (.npz)."""

import os
import sys

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=" + sys.argv[3]

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
if sys.argv[1] != "single":
    jax.config.update("jax_cpu_collectives_implementation", "gloo")

from pdejax.train import initialize_distributed  # noqa: E402

initialize_distributed()

import equinox as eqx  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from pdejax.surrogates import FNO  # noqa: E402
from pdejax.train import ArrayLoader, fit  # noqa: E402

x = np.asarray(jr.normal(jr.key(0), (16, 1, 16)))
y = np.roll(x, 1, axis=-1) + 0.1 * x**2
model = FNO(1, 1, (4,), 8, num_layers=2, key=jr.key(1))
run_dir = sys.argv[4] if len(sys.argv) > 4 else None
out = fit(model, optax.adam(1e-2), ArrayLoader(x, y, 8, seed=0), num_steps=6, progress=False,
          run_dir=run_dir)  # fmt: skip
leaves = jax.tree.leaves(eqx.filter(out.model, eqx.is_array))
if jax.process_index() == 0:
    np.savez(sys.argv[2], *[np.asarray(v) for v in leaves])
print("process", jax.process_index(), "of", jax.process_count(), "devices", jax.device_count())

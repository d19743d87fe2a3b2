"""Test-wide JAX setup: 4 simulated CPU devices (for pmap and sharding) and float64.

Both must be configured before any computation, hence here, at import. Tests that check float32
behaviour ask for float32 arrays explicitly.
"""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402

jax.config.update("jax_num_cpu_devices", 4)
jax.config.update("jax_enable_x64", True)

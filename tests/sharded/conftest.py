"""The 8-device suite: run by ``tests/test_sharded.py`` in a subprocess (``PDEJAX_SHARDED=1``).

The main test session fixes 4 CPU devices for its whole process (``tests/conftest.py``), and the
device count cannot change once set, so these tests run in their own process with 8 simulated
CPU devices and float64. Collected by the main session, this folder is ignored.

    PDEJAX_SHARDED=1 python -m pytest tests/sharded -m "not slow"
"""

import os

import jax

SHARDED = os.environ.get("PDEJAX_SHARDED") == "1"

if SHARDED:
    jax.config.update("jax_num_cpu_devices", 8)
    jax.config.update("jax_enable_x64", True)
else:
    collect_ignore_glob = ["test_*.py"]

"""The 8-device suite (``tests/sharded/``), run in a subprocess.

This session has 4 simulated CPU devices (``tests/conftest.py``) and JAX cannot change the
device count of a running process, so the spatial-sharding tests (slabs of 8, pencils of 2 x 4,
batch x space meshes) run in a fresh process with 8 devices. The fast part runs by default, the
rest with the slow set; to run them directly:

    PDEJAX_SHARDED=1 python -m pytest tests/sharded            # all
    PDEJAX_SHARDED=1 python -m pytest tests/sharded -m "not slow"
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent


def _run_suite(marker: str):
    env = dict(os.environ, PDEJAX_SHARDED="1")
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
           str(TESTS / "sharded"), "-m", marker]  # fmt: skip
    proc = subprocess.run(cmd, cwd=TESTS.parent, env=env, capture_output=True, text=True,
                          timeout=3600)  # fmt: skip
    tail = proc.stdout[-8000:] + "\n" + proc.stderr[-4000:]
    assert proc.returncode == 0, f"8-device suite ({marker}) failed:\n{tail}"
    print(proc.stdout.strip().splitlines()[-1])


def test_eight_device_suite():
    _run_suite("not slow")


@pytest.mark.slow
def test_eight_device_suite_slow_part():
    _run_suite("slow")

"""Reading a file larger than the memory a process may use: chunk by chunk works, all at once
does not. The capped process sets RLIMIT_AS to its own address-space size + CAP_MB.

The subprocess imports ``pdejax.data.readers`` the ordinary way, so ``pdejax/__init__.py`` runs
and imports JAX; the readers never use it, and no JAX backend is started (starting one under an
address-space cap aborts the process with ``std::bad_alloc``). The cap is set after the imports
and a one-sample warm-up read, relative to the address space they leave, so it bounds the reads
alone, whatever the imports reserve.
"""

from __future__ import annotations

import os
import subprocess
import sys

import readers_writers as w

CAP_MB = 100
CHUNK = 4

SCRIPT = r"""
import resource, sys
import numpy as np
from pdejax.data.readers import open_source


def address_space():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024


src = open_source({path!r})
src.read(slice(0, 1))  # warm-up: imports and HDF5 caches are in place before the cap
cap = address_space() + {cap_mb} * 2**20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
total, count, chunks = 0.0, 0, 0
for _, x, y in src.chunks({chunk}):
    total += float(y.sum(dtype=np.float64))
    count += y.size
    chunks += 1
print("CHUNKS", chunks, "BYTES", count * 4, flush=True)
print("MEAN", repr(total / count), flush=True)
try:
    src.read(slice(None))
    print("FULL loaded", flush=True)
except MemoryError:
    print("FULL MemoryError", flush=True)
"""


def test_chunked_reads_under_a_memory_cap(tmp_path):
    path = tmp_path / "large.hdf5"
    S, T, X, Y = w.write_large_pdebench(path)
    size = path.stat().st_size
    assert size > 2 * CAP_MB * 2**20  # the file is larger than twice the headroom
    script = SCRIPT.format(path=str(path), cap_mb=CAP_MB, chunk=CHUNK)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    try:
        run = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
        )
        assert run.returncode == 0, run.stderr[-3000:]
        out = dict(line.split(" ", 1) for line in run.stdout.splitlines())
        # outputs are frames 1..T-1 with value 1000 s + t
        expected = 1000 * (S - 1) / 2 + (T) / 2
        assert float(out["MEAN"]) == expected, run.stdout
        assert int(out["CHUNKS"].split()[0]) == -(-S // CHUNK)
        assert out["FULL"] == "MemoryError", run.stdout
    finally:
        path.unlink()  # do not leave 220 MB behind in pytest's temporary directories

"""Minimal reproductions: XLA's SPMD partitioner on a complex FFT along a sharded axis.

    python repro_xla_fft.py complex128 [N]   # N=64: HLO verifier rejects multiply(c64[], c128[])
    python repro_xla_fft.py complex64  [N]   # N=64: compiles (all-to-all + collective-permute loop)
    python repro_xla_fft.py complex64  16    # aborts the process: CHECK size_per_partition % P == 0

One op, nothing of ours: ``jnp.fft.fft`` (a single ``lax.fft`` FFT) of a rank-3 complex array whose
transformed (last) axis is sharded over all 8 devices. No ``astype``, no ``norm``, no ``1j *``.
XLA's ``SpmdPartitioningVisitor::HandleFft`` (xla/service/spmd/fft_handler.cc) takes this case
(rank >= 3, forward complex FFT, last axis sharded over every partition, N % P == 0) and builds a
distributed FFT whose twiddle constants are ``LiteralUtil::CreateR0(complex64(...))`` whatever the
operand type: in complex128 ``multiply(c64[] constant, c128[] partition id)`` fails the verifier.
Its data shuffle also CHECKs ``(N / P) % P == 0``, so N = 16 on 8 devices kills the process.
"""

import sys

import jax

jax.config.update("jax_num_cpu_devices", 8)
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import AxisType, NamedSharding  # noqa: E402
from jax.sharding import PartitionSpec as P  # noqa: E402

dtype = np.dtype(sys.argv[1] if len(sys.argv) > 1 else "complex128")
n = int(sys.argv[2]) if len(sys.argv) > 2 else 64
mesh = jax.make_mesh((8,), ("x",), axis_types=(AxisType.Auto,))
z = jax.device_put(np.ones((2, 2, n), dtype), NamedSharding(mesh, P(None, None, "x")))
f = jax.jit(jnp.fft.fft)
try:
    text = f.lower(z).compile().as_text()
except Exception as e:  # noqa: BLE001
    print(f"{dtype.name} N={n}: FAILS: {str(e).splitlines()[0]}")
    print("   ", [line.strip()[:120] for line in str(e).splitlines() if "%multiply" in line][:1])
    sys.exit(1)
ops = {k: text.count(f" {k}(") for k in ("all-gather", "all-to-all", "collective-permute", "while")}
err = float(jnp.max(jnp.abs(f(z) - np.fft.fft(np.asarray(z)))))
print(f"{dtype.name} N={n}: compiles, {ops}, max error {err:.1e}")

"""The ``distributed_fft`` primitive: shapes, autodiff, vmap (private to :mod:`pdejax.grids.fft`).

One primitive for all six transforms (its static parameter is an
:class:`pdejax.grids._fft_local.Op`). It is linear, so ``jvp`` transforms the tangent, and its
transposes are the same primitive (``jnp.fft``'s rules), so gradients are distributed too;
``vmap`` moves the batched axis in front and binds again. Lowering goes through
:mod:`pdejax.grids._fft_partition`.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax._src import dispatch as _dispatch  # the one private registry we use, see below
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir
from jax.sharding import PartitionSpec as P

from ._fft_local import DUAL, FLIP, Op
from ._fft_partition import explicit_out, explicit_spec, full_spec, partitioned


def _abstract_eval(x, *, op: Op):
    d = len(op.shape)
    shape = x.shape[: x.ndim - d] + op.shape
    if op.kind == "rfft":
        shape = shape[:-1] + (op.shape[-1] // 2 + 1,)
    elif op.kind == "rfft_modes":
        shape = x.shape[: x.ndim - d] + tuple(2 * m for m in op.modes[:-1]) + op.modes[-1:]
    real = jnp.finfo(x.dtype).dtype
    dtype = real if op.kind.startswith("irfft") else jnp.result_type(real, jnp.complex64)
    spec, sharding = explicit_spec(x, op), x.sharding
    if spec is not None:
        sharding = sharding.update(spec=P(*explicit_out(op, spec, sharding)))
    return x.update(shape=shape, dtype=dtype, sharding=sharding, weak_type=False)


def _transpose_rule(ct, x, *, op: Op):
    """jnp.fft's linear transposes: DFT matrices are symmetric; a real transform's transpose is
    the other real transform (dual norm) of the conjugate, with the interior half-spectrum
    columns (counted twice by Hermitian symmetry) weighted by 2."""
    if op.kind in ("fft", "ifft"):
        return [fft_p.bind(ct, op=op)]
    n, kept = op.shape[-1], op.modes[-1] if op.modes else op.shape[-1] // 2 + 1
    mask = np.where((np.arange(kept) == 0) | (2 * np.arange(kept) == n), 1.0, 2.0)
    mask = mask.astype(jnp.finfo(ct.dtype).dtype)
    other = op._replace(kind=FLIP[op.kind], norm=DUAL[op.norm], out_spec=())
    if op.kind.startswith("irfft"):
        return [jnp.conj(mask * fft_p.bind(ct, op=other))]
    if op.kind == "rfft_modes" and explicit_spec(x.aval, op) is not None:  # back to x's layout
        other = other._replace(out_spec=full_spec(x.aval.sharding, x.aval.ndim)[-len(op.shape) :])
    return [fft_p.bind(jnp.conj(ct) / mask, op=other)]


def _batch_rule(args, dims, *, op: Op):
    return fft_p.bind(jnp.moveaxis(args[0], dims[0], 0), op=op), 0


fft_p = Primitive("distributed_fft")
# custom_partitioning needs the device assignment while lowering, also for uncommitted inputs.
# JAX has no public hook for this; its own cuDNN primitives and jaxDecomp use this registry.
_dispatch.prim_requires_devices_during_lowering.add(fft_p)
fft_p.def_abstract_eval(_abstract_eval)
fft_p.def_impl(lambda x, *, op: _bind_jit(x, op))
mlir.register_lowering(fft_p, mlir.lower_fun(lambda x, *, op: [partitioned(x, op)], True))
ad.deflinear2(fft_p, _transpose_rule)
batching.primitive_batchers[fft_p] = _batch_rule
_bind_jit = jax.jit(lambda x, op: fft_p.bind(x, op=op), static_argnums=1)

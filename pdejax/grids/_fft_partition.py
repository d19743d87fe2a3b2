"""How jit partitions the distributed FFT (private to :mod:`pdejax.grids.fft`).

The transform is lowered through ``jax.experimental.custom_partitioning``: after jit's sharding
propagation (Shardy, or GSPMD when Shardy is off) has chosen the operand's layout, :func:`_partition`
picks the per-device program of :mod:`pdejax.grids._fft_local` for it. The layout rules:

* a spatial axis may be sharded by one mesh axis or a tuple of them, if its size is divisible by
  their product; for real transforms the last spatial axis must be unsharded, for complex ones at
  least one spatial axis must be. Shardings outside these rules are dropped for the transform
  (jit gathers that axis first: correct, not communication-free);
* the output has the operand's PartitionSpec (full transforms), or the mode block is replicated
  over the spatial mesh axes (``rfft_modes``), or the output follows what jit propagates back
  from its consumers (``irfft_modes``).
"""

import math
from functools import partial

import jax
from jax.experimental.custom_partitioning import custom_partitioning
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from ._fft_local import Op, local_full, local_modes, reference


def groups(entry):
    """A PartitionSpec entry as a tuple of mesh axis names, or None when unsharded."""
    if entry is None or entry == ():
        return None
    return (entry,) if isinstance(entry, str) else tuple(entry)


def full_spec(sharding, rank):
    """The PartitionSpec of ``sharding`` padded with None to ``rank`` entries."""
    spec = tuple(sharding.spec) if isinstance(sharding, NamedSharding) else ()
    return spec + (None,) * (rank - len(spec))


def _size(group, mesh_shape):
    return math.prod(mesh_shape[a] for a in group) if group else 1


def layouts(op: Op, in_spec, out_spec, mesh_shape):
    """(input spec, output spec, spatial groups) we compute with, from the propagated specs.
    Unsupported spatial shardings are dropped: the partitioner then gathers those axes."""
    d = len(op.shape)
    source = out_spec if op.kind == "irfft_modes" else in_spec  # irfft_modes: block replicated
    lead, spatial = source[:-d], [groups(e) for e in source[-d:]]
    spatial = [g if n % _size(g, mesh_shape) == 0 else None for g, n in zip(spatial, op.shape)]
    if op.kind not in ("fft", "ifft") or all(g is not None for g in spatial):
        spatial[-1] = None
    full, bare = lead + tuple(spatial), lead + (None,) * d
    if op.kind == "irfft_modes":
        return bare, full, spatial
    return full, bare if op.kind == "rfft_modes" else full, spatial


def _partition(op, mesh, arg_shapes, result_shape):
    rank = len(arg_shapes[0].shape)
    in_spec, out_spec, spatial = layouts(
        op, full_spec(arg_shapes[0].sharding, rank), full_spec(result_shape.sharding, rank),
        mesh.shape,
    )  # fmt: skip
    if any(spatial):
        sizes = [_size(g, mesh.shape) for g in spatial]
        program = local_modes if op.kind.endswith("modes") else local_full
        fn = partial(program, op=op, groups=spatial, sizes=sizes)
    else:
        fn = partial(reference, op=op)
    return mesh, fn, NamedSharding(mesh, P(*out_spec)), (NamedSharding(mesh, P(*in_spec)),)


def _infer_sharding(op, mesh, arg_shapes, result_shape):  # GSPMD (Shardy disabled)
    spec = full_spec(arg_shapes[0].sharding, len(arg_shapes[0].shape))
    return NamedSharding(mesh, P(*layouts(op, spec, spec, mesh.shape)[1]))


def _sharding_rule(op, mesh, operand_types, result_types):
    """Shardy factors: batch and equal-size spatial dims pass through; dims that change size (the
    half axis, the mode block) are separate factors, i.e. their sharding is not propagated."""
    rank, d = len(operand_types[0].shape), len(op.shape)
    ins = [f"b{i}" for i in range(rank - d)] + [f"i{i}" for i in range(d)]
    outs = list(ins)
    changed = {"rfft": [d - 1], "irfft": [d - 1]}.get(op.kind, range(d) if op.modes else [])
    for i in changed:
        outs[rank - d + i] = f"o{i}"
    return f"{' '.join(ins)} -> {' '.join(outs)}"


def explicit_spec(aval, op):
    """The full input spec when explicit mesh axes shard the input or the output, else None."""
    spec = tuple(getattr(getattr(aval, "sharding", None), "spec", ())) + op.out_spec
    return full_spec(aval.sharding, len(aval.shape)) if any(groups(e) for e in spec) else None


def explicit_out(op, spec, sharding):
    """The output spec under explicit mesh axes (part of the output type)."""
    if op.kind == "irfft_modes":
        spec = spec[: -len(op.shape)] + (op.out_spec or (None,) * len(op.shape))
    return layouts(op, spec, spec, sharding.mesh.shape)[1]


def _traced(x, op):
    """What custom_partitioning traces: the output type and the one-device program. The reference
    sits in an inner jit (XLA inlines it) since custom_partitioning rejects the constant that
    jnp.fft's normalisation captures; under explicit mesh axes it is traced on replicated spatial
    axes (jnp's slicing rules reject sharded mode slices) and resharded to our output layout."""
    sharding, spec = jax.typeof(x).sharding, explicit_spec(jax.typeof(x), op)
    if spec is None:
        return _reference_jit(x, op)
    bare = P(*spec[: -len(op.shape)], *(None,) * len(op.shape))
    y = _reference_jit(jax.sharding.reshard(x, sharding.update(spec=bare)), op)
    return jax.sharding.reshard(y, sharding.update(spec=P(*explicit_out(op, spec, sharding))))


_reference_jit = jax.jit(reference, static_argnums=1)
partitioned = custom_partitioning(_traced, static_argnums=(1,))
partitioned.def_partition(
    partition=_partition, infer_sharding_from_operands=_infer_sharding,
    sharding_rule=_sharding_rule,
)  # fmt: skip

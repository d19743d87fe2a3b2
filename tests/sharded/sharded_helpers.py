"""Shared helpers of the 8-device suite."""

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import AxisType, NamedSharding
from jax.sharding import PartitionSpec as P

from pdejax.grids.hlo import collective_counts, field_sized_all_gathers

RTOL = 1e-12


def make_mesh(shape, names, explicit=False):
    kind = AxisType.Explicit if explicit else AxisType.Auto
    return jax.make_mesh(shape, names, axis_types=(kind,) * len(names))


def put(a, mesh, spec):
    return jax.device_put(a, NamedSharding(mesh, P(*spec)))


def rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def hlo(f, *args):
    return jax.jit(f).lower(*args).compile().as_text()


def norm_spec(spec, rank):
    spec = tuple(spec) + (None,) * (rank - len(spec))
    return tuple(
        None if e in (None, ()) else (e,) if isinstance(e, str) else tuple(e) for e in spec
    )


def assert_spec(x, spec):
    got, want = norm_spec(x.sharding.spec, x.ndim), norm_spec(spec, x.ndim)
    assert got == want, f"output sharded {got}, expected {want}"


def assert_no_field_gather(text, field_bytes):
    big = field_sized_all_gathers(text, field_bytes)
    assert not big, f"field-sized all-gathers {big}; collectives {collective_counts(text)}"


def local_bytes(x):
    """Bytes of the first device's shard."""
    return x.addressable_shards[0].data.nbytes


# ------------------------------------------------ the FNO's truncated transforms in plain jnp.fft
def ref_forward_modes(u, modes):
    """The kept modes, written with ``jnp.fft`` one axis at a time (the historical program)."""
    d = len(modes)
    x = jnp.fft.rfft(u, axis=-1, norm="forward")[..., : modes[-1]]
    for axis in range(-2, -d - 1, -1):
        m = modes[axis]
        x = jnp.fft.fft(x, axis=axis, norm="forward")
        ax = x.ndim + axis
        n = x.shape[ax]
        lo = jax.lax.slice_in_dim(x, 0, m, axis=ax)
        hi = jax.lax.slice_in_dim(x, n - m, n, axis=ax)
        x = jnp.concatenate([lo, hi], axis=ax)
    return x


def ref_inverse_modes(x, modes, spatial):
    """Inverse of :func:`ref_forward_modes` in plain ``jnp.fft``."""
    d = len(modes)
    for axis in range(-d, -1):
        m, n, ax = modes[axis], spatial[axis], x.ndim + axis
        lo = jax.lax.slice_in_dim(x, 0, m, axis=ax)
        hi = jax.lax.slice_in_dim(x, m, 2 * m, axis=ax)
        zshape = list(x.shape)
        zshape[ax] = n - 2 * m
        x = jnp.concatenate([lo, jnp.zeros(zshape, x.dtype), hi], axis=ax)
        x = jnp.fft.ifft(x, axis=ax, norm="forward")
    n = spatial[-1]
    x = x[..., : modes[-1]]
    x = jnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n // 2 + 1 - modes[-1])])
    return jnp.fft.irfft(x, n=n, axis=-1, norm="forward")

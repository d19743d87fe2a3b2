"""What one device computes for the distributed FFT (private to :mod:`pdejax.grids.fft`).

:func:`reference` is the single-device program: exactly ``jnp.fft`` (and, for the truncated
transforms, the FNO's historical per-axis program), so that an unsharded call is bit-identical
to ``jnp.fft``. :func:`local_full` and :func:`local_modes` are the per-device programs of a
sharded call, written with ``all_to_all`` / ``psum`` over named mesh axes; they run inside the
partition that :mod:`pdejax.grids._fft_partition` hands to ``custom_partitioning``.
"""

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

NORMS = {None: "backward", "backward": "backward", "ortho": "ortho", "forward": "forward"}
DUAL = {"backward": "forward", "ortho": "ortho", "forward": "backward"}
FLIP = {"rfft": "irfft", "irfft": "rfft", "rfft_modes": "irfft_modes", "irfft_modes": "rfft_modes"}


class Op(NamedTuple):
    """Static description of one transform (a hashable primitive parameter)."""

    kind: str  # fft | ifft | rfft | irfft | rfft_modes | irfft_modes
    shape: tuple[int, ...]  # global spatial sizes of the physical (or complex) array
    norm: str  # backward | ortho | forward
    modes: tuple[int, ...] = ()
    out_spec: tuple = ()  # irfft_modes under explicit mesh axes: the spatial output spec


# ------------------------------------------------------------------ the jnp.fft (unsharded) program
def _keep(x, axis, m):
    """Frequencies 0..m-1 and -m..-1 along ``axis``."""
    n = x.shape[axis]
    lo = jax.lax.slice_in_dim(x, 0, m, axis=axis)
    return jnp.concatenate([lo, jax.lax.slice_in_dim(x, n - m, n, axis=axis)], axis=axis)


def _zero_fill(x, axis, m, n):
    """Inverse of :func:`_keep`: the ``2m`` kept rows among ``n`` rows of zeros."""
    zeros = jnp.zeros(x.shape[:axis] + (n - 2 * m,) + x.shape[axis + 1 :], x.dtype)
    lo, hi = jax.lax.slice_in_dim(x, 0, m, axis=axis), jax.lax.slice_in_dim(x, m, 2 * m, axis=axis)
    return jnp.concatenate([lo, zeros, hi], axis=axis)


def resize(x, axis, n):
    """Crop or zero-pad ``axis`` to length ``n``."""
    if x.shape[axis] >= n:
        return jax.lax.slice_in_dim(x, 0, n, axis=axis)
    return jnp.pad(x, [(0, n - x.shape[axis]) if a == axis else (0, 0) for a in range(x.ndim)])


def reference(x, op: Op):
    """``jnp.fft`` over the trailing ``len(op.shape)`` axes (and the truncated transforms)."""
    d, norm = len(op.shape), op.norm
    axes = tuple(range(x.ndim - d, x.ndim))
    if op.kind in ("fft", "ifft", "rfft"):
        return getattr(jnp.fft, op.kind + "n")(x, axes=axes, norm=norm)
    if op.kind == "irfft":
        return jnp.fft.irfftn(x, s=op.shape, axes=axes, norm=norm)
    if op.kind == "rfft_modes":  # the last axis first, then only the kept columns of the others
        x = jnp.fft.rfft(x, axis=-1, norm=norm)[..., : op.modes[-1]]
        for ax in range(x.ndim - 2, x.ndim - d - 1, -1):
            x = _keep(jnp.fft.fft(x, axis=ax, norm=norm), ax, op.modes[ax - x.ndim])
        return x
    for i, ax in enumerate(axes[:-1]):  # irfft_modes
        x = jnp.fft.ifft(_zero_fill(x, ax, op.modes[i], op.shape[i]), axis=ax, norm=norm)
    x = resize(x, x.ndim - 1, op.shape[-1] // 2 + 1)
    return jnp.fft.irfft(x, n=op.shape[-1], axis=-1, norm=norm)


# ------------------------------------------------------------------ per-device programs
def _transpose(x, group, size, split, concat, n_concat):
    """``all_to_all`` over the mesh axes ``group`` (``size`` devices): axis ``split`` becomes
    sharded (zero-padded to a multiple of ``size`` first), axis ``concat`` whole (cropped to
    ``n_concat``, which removes the padding when it is the free axis coming back)."""
    x = resize(x, split, -(-x.shape[split] // size) * size)
    x = jax.lax.all_to_all(x, group, split, concat, tiled=True)
    return resize(x, concat, n_concat)


def local_full(x, op: Op, groups, sizes):
    """fft/ifft/rfft/irfft on one device: local FFTs on the unsharded axes; each sharded axis
    lends its mesh axes to the free axis (one transpose), is transformed, takes them back."""
    d, norm = len(op.shape), op.norm
    ax0 = x.ndim - d
    local = [ax0 + i for i in range(d) if groups[i] is None]
    free, inverse = local[-1], op.kind in ("ifft", "irfft")

    def sharded_axes(x):
        for i in (i for i in range(d) if groups[i] is not None):
            n_free = x.shape[free]
            x = _transpose(x, groups[i], sizes[i], free, ax0 + i, op.shape[i])
            x = (jnp.fft.ifft if inverse else jnp.fft.fft)(x, axis=ax0 + i, norm=norm)
            x = _transpose(x, groups[i], sizes[i], ax0 + i, free, n_free)
        return x

    if op.kind == "irfft":  # the half axis last
        s = [op.shape[a - ax0] for a in local]
        return jnp.fft.irfftn(sharded_axes(x), s=s, axes=local, norm=norm)
    return sharded_axes(getattr(jnp.fft, op.kind + "n")(x, axes=local, norm=norm))


def _fourier_rows(n, m, size, norm, inverse):
    """``(size, n // size, 2m)``: the kept Fourier vectors on each device's rows, normalised per
    axis as numpy (the integer phase is reduced mod ``n`` before the float conversion)."""
    r = np.arange(n).reshape(size, n // size, 1)
    k = np.concatenate([np.arange(m), np.arange(n - m, n)])
    scale = 1 / math.sqrt(n) if norm == "ortho" else 1 / n if (norm == "forward") != inverse else 1
    return np.exp((2j if inverse else -2j) * np.pi * ((r * k) % n) / n) * scale


def local_modes(x, op: Op, groups, sizes):
    """rfft_modes (own rows -> partial block, one psum) or irfft_modes (replicated block -> own
    rows, no communication) on one device; unsharded axes as in :func:`reference`."""
    d, norm = len(op.shape), op.norm
    ax0 = x.ndim - d
    inverse = op.kind == "irfft_modes"
    dtype = jnp.result_type(jnp.finfo(x.dtype).dtype, jnp.complex64)
    if not inverse:
        x = jnp.fft.rfft(x, axis=-1, norm=norm)[..., : op.modes[-1]]
    summed = []
    for i in range(d - 1) if inverse else range(d - 2, -1, -1):
        ax, n, m = ax0 + i, op.shape[i], op.modes[i]
        if groups[i] is None and inverse:
            x = jnp.fft.ifft(_zero_fill(x, ax, m, n), axis=ax, norm=norm)
        elif groups[i] is None:
            x = _keep(jnp.fft.fft(x, axis=ax, norm=norm), ax, m)
        else:  # a small DFT matrix on this device's rows
            table = jnp.asarray(_fourier_rows(n, m, sizes[i], norm, inverse).astype(dtype))
            table = table[jax.lax.axis_index(groups[i])]  # (own rows, 2m)
            rule = "...k,rk->...r" if inverse else "...r,rk->...k"
            x = jnp.einsum(rule, jnp.moveaxis(x, ax, -1), table, precision="highest")
            x = jnp.moveaxis(x, -1, ax)
            summed.extend(groups[i])
    if inverse:
        x = resize(x, x.ndim - 1, op.shape[-1] // 2 + 1)
        return jnp.fft.irfft(x, n=op.shape[-1], axis=-1, norm=norm)
    return jax.lax.psum(x, tuple(summed)) if summed else x

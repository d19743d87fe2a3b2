"""Per-device pieces of :mod:`pdejax.linalg.partition` (private): halos, local stencils,
pairwise transfers, and moving blocks between the sharded and the replicated levels.

Every function here runs inside ``shard_map`` on one device's block of a padded, sharded array
(see :mod:`pdejax.linalg.partition` for the layout)."""

import jax
import jax.numpy as jnp
import numpy as np

from .multigrid import _prolong_axis, _restrict_axis


def pad_to(x, shape):
    return jnp.pad(x, [(0, p - n) for n, p in zip(x.shape, shape)])


# ------------------------------------------------------------------------------ local pieces
def _block(table: np.ndarray, axis: int, ndim: int, group, size: int):
    """This device's rows of a 1-d constant along ``axis``, shaped to broadcast."""
    t = jnp.asarray(table)
    if group is not None:
        n = table.shape[0] // size
        t = jax.lax.dynamic_slice_in_dim(t, jax.lax.axis_index(group) * n, n)
    shape = [1] * ndim
    shape[axis] = t.shape[0]
    return t.reshape(shape)


def _shift(x, axis: int, offset: int, group, size: int):
    """``y[j] = x[j + offset]`` along ``axis`` of the global array (zero outside), ``offset`` in
    -1, 0, 1; across devices by a one-row ``ppermute`` when ``axis`` is sharded over ``group``."""
    if offset == 0:
        return x
    n = x.shape[axis]
    keep = (1, n) if offset == 1 else (0, n - 1)
    body = jax.lax.slice_in_dim(x, *keep, axis=axis)
    edge = (
        jax.lax.slice_in_dim(x, 0, 1, axis=axis)
        if offset == 1
        else jax.lax.slice_in_dim(x, n - 1, n, axis=axis)
    )
    if group is None or size == 1:
        halo = jnp.zeros_like(edge)
    elif offset == 1:  # the first row of the next device
        halo = jax.lax.ppermute(edge, group, [(d, d - 1) for d in range(1, size)])
    else:  # the last row of the previous device
        halo = jax.lax.ppermute(edge, group, [(d, d + 1) for d in range(size - 1)])
    parts = [body, halo] if offset == 1 else [halo, body]
    return jnp.concatenate(parts, axis=axis)


class Local:
    """The per-device operations of one partition (static data only, closures over tables)."""

    def __init__(self, part, layout, hierarchy):
        """``part``: a DomainPartition, ``layout``: its padded shapes, ``hierarchy``: the levels."""
        self.groups, self.sizes = part.groups, part.sizes
        self.layout, self.hierarchy = layout, hierarchy
        self.tables = [
            tuple(None if t is None or g is None else _pair_tables(t, padded[i])
                  for i, (t, g) in enumerate(zip(hierarchy.transfers[lvl], part.groups)))
            for lvl, padded in enumerate(layout.padded)
        ]  # fmt: skip

    def block(self, tree, padded):
        """This device's block of every (replicated, true-shape) array in ``tree``, padded
        with zeros to the global shape ``padded``."""
        local = tuple(p // s if g is not None else p
                      for p, g, s in zip(padded, self.groups, self.sizes))  # fmt: skip
        return jax.tree_util.tree_map(lambda x: scatter(self, x, local), tree)

    def shift(self, x, axis, offset):
        return _shift(x, axis, offset, self.groups[axis], self.sizes[axis])

    def stencil(self, offsets, weights, u):
        """:class:`StencilOperator` on local blocks: the same terms in the same order."""
        shifted, out = {(): u}, None
        for offset, w in zip(offsets, weights):
            for d in range(1, len(offset) + 1):
                if offset[:d] not in shifted:
                    shifted[offset[:d]] = self.shift(shifted[offset[: d - 1]], d - 1, offset[d - 1])
            term = w * shifted[offset]
            out = term if out is None else out + term
        return out

    def flux(self, lower, upper, spacing, u):
        """:class:`FluxOperator` on local blocks; ``lower``/``upper``: the faces below/above."""
        out = None
        for axis, (kl, ku, h) in enumerate(zip(lower, upper, spacing)):
            left, right = self.shift(u, axis, -1), self.shift(u, axis, 1)
            term = (kl * (u - left) - ku * (right - u)) / jnp.asarray(h * h, u.dtype)
            out = term if out is None else out + term
        return out

    def restrict(self, level, fine):
        for axis, t in enumerate(self.hierarchy.transfers[level]):
            if t is None:
                continue
            tab = self.tables[level][axis]
            if tab is None:
                fine = _restrict_axis(t, fine, axis)
                continue
            g, s, nd = self.groups[axis], self.sizes[axis], fine.ndim
            p0, p1 = _pairs(fine, axis)
            after, wl, wr, valid = (
                _block(tab[k], axis, nd, g, s) for k in ("B", "WL", "WR", "valid")
            )
            center = jnp.where(after, p0, p1)
            left = jnp.where(after, self.shift(p1, axis, -1), p0)
            right = jnp.where(after, p1, self.shift(p0, axis, 1))
            fine = jnp.where(valid, center + wl * left + wr * right, 0)
        return fine

    def prolong(self, level, coarse):
        for axis, t in enumerate(self.hierarchy.transfers[level]):
            if t is None:
                continue
            tab = self.tables[level][axis]
            if tab is None:
                coarse = _prolong_axis(t, coarse, axis)
                continue
            g, s, nd = self.groups[axis], self.sizes[axis], coarse.ndim
            left, right = self.shift(coarse, axis, -1), self.shift(coarse, axis, 1)
            even, odd = [], []
            for e, out in ((0, even), (1, odd)):
                w0, w1, use_left, use_right = (
                    _block(tab[f"{k}{e}"], axis, nd, g, s) for k in ("W0_", "W1_", "L_", "R_")
                )
                a, b = jnp.where(use_left, left, coarse), jnp.where(use_right, right, coarse)
                out.append(w0 * a + w1 * b)
            coarse = _unpairs(even[0], odd[0], axis)
        return coarse


def _pairs(x, axis):
    n = x.shape[axis]
    x = x.reshape(x.shape[:axis] + (n // 2, 2) + x.shape[axis + 1 :])
    return (jax.lax.index_in_dim(x, e, axis + 1, keepdims=False) for e in (0, 1))


def _unpairs(even, odd, axis):
    x = jnp.stack([even, odd], axis=axis + 1)
    return x.reshape(even.shape[:axis] + (2 * even.shape[axis],) + even.shape[axis + 1 :])


def _pair_tables(t, padded_fine: int) -> dict[str, np.ndarray]:
    """Prolongation and restriction of one :class:`_AxisTransfer` on pairs of fine rows:
    fine row ``2k + e`` reads coarse rows ``k - 1 .. k + 1``, coarse row ``k`` fine pairs
    ``k - 1 .. k + 1``; padded rows get zero weights."""
    nf, nc, pc = t.n_fine - 1, t.n_coarse - 1, padded_fine // 2
    tab = {f"{k}{e}": np.zeros(pc, bool if k[0] in "LR" else float)
           for k in ("W0_", "W1_", "L_", "R_") for e in (0, 1)}  # fmt: skip
    for i in range(nf):
        k, e = divmod(i, 2)
        d0, d1 = t.p_index0[i] - 1 - k, t.p_index1[i] - 1 - k
        assert d0 in (-1, 0) and d1 in (0, 1), "multigrid transfer is not pairwise"
        tab[f"W0_{e}"][k], tab[f"W1_{e}"][k] = t.p_weight0[i], t.p_weight1[i]
        tab[f"L_{e}"][k], tab[f"R_{e}"][k] = d0 == -1, d1 == 1
    tab.update(B=np.zeros(pc, bool), WL=np.zeros(pc), WR=np.zeros(pc), valid=np.zeros(pc, bool))
    for k in range(nc):
        r = t.r_index[k] - 1  # fine interior row of coarse row k
        assert r // 2 == k, "multigrid transfer is not pairwise"
        tab["B"][k], tab["valid"][k] = r % 2 == 0, True
        tab["WL"][k], tab["WR"][k] = t.r_weight_left[k], t.r_weight_right[k]
    return tab


def gather(local: Local, x, shape):
    """The whole (replicated) coarse grid from the local blocks, cropped to ``shape``."""
    for axis, g in enumerate(local.groups):
        if g is not None:
            x = jax.lax.all_gather(x, g, axis=axis, tiled=True)
    return x[tuple(slice(0, n) for n in shape)]


def scatter(local: Local, x, block):
    """This device's block (shape ``block``) of the padded replicated ``x``."""
    full = [n * s if g is not None else n for n, g, s in zip(block, local.groups, local.sizes)]
    x = pad_to(x, full)
    for axis, g in enumerate(local.groups):
        if g is not None:
            start = jax.lax.axis_index(g) * block[axis]
            x = jax.lax.dynamic_slice_in_dim(x, start, block[axis], axis=axis)
    return x

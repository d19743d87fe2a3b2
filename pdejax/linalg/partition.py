r"""Conjugate gradients and multigrid on interior unknowns sharded over devices (slabs, pencils).

A Dirichlet problem on a :class:`pdejax.VertexGrid` has $N_i - 2$ interior unknowns per axis, and
vertex grids have $2^k + 1$ or $421 = 4 \cdot 105 + 1$ vertices: no device count divides the
unknowns, and JAX refuses such a placement. So the *unknowns* are padded with inactive entries
to a divisible size and sharded; the operators, smoother weights and transfer weights are zero
there, so the padding stays zero and the problem solved is the original one. The input and
output fields keep their shapes; only the iteration vectors are laid out over the devices.

Inside one ``shard_map``, each device holds one block of every vector, and

- stencils (the flux operator, the Galerkin $3^d$-point stencils) read a one-row halo from each
  neighbour (``ppermute``, a collective-permute);
- the inner products of CG are local sums and one ``psum`` (an all-reduce of a scalar);
- prolongation and restriction work on pairs of fine rows (fine row $2k$, $2k + 1$ next to coarse
  row $k$, also across the odd-interval jump of :mod:`pdejax.linalg.multigrid`), with the same
  one-row halos, which needs every sharded level to be exactly twice the next one: the padded
  sizes are chosen from the coarsest sharded level upwards, and the number of sharded levels
  is the one with the least work per device (421 on 8 devices: 419, 209, 104 interior rows
  padded to 448, 224, 112);
- levels whose blocks would hold fewer than ``min_rows`` rows per device are *replicated*: the
  residual restricted onto the first such level is gathered (a small all-gather of a coarse
  grid), the rest of the V-cycle and the dense coarsest solve run on every device with the
  ordinary code, and each device takes its block of the correction back.

The arithmetic of every level is that of :class:`pdejax.linalg.MultigridHierarchy` (the same
products in the same order); only CG's sums are taken in another order, so a partitioned solve
matches an unpartitioned one to round-off.
"""

import math
from collections.abc import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding
from jax.sharding import PartitionSpec as P

from ._partition_local import Local, gather, scatter
from .krylov import conjugate_gradient
from .multigrid import FluxOperator, MultigridHierarchy, StencilOperator


class DomainPartition(eqx.Module):
    """Which mesh axes shard which spatial axes of the interior unknowns.

    Args:
        mesh: a :class:`jax.sharding.Mesh` or ``AbstractMesh`` (inside ``jit``:
            ``jax.sharding.get_abstract_mesh()`` or ``jax.typeof(a).sharding.mesh``).
        spec: one entry per spatial axis: a mesh axis name, a tuple of names, or ``None``.
        min_rows: a level is sharded only while every sharded axis keeps at least this many
            rows per device; coarser levels are replicated.

    Example:
        >>> import jax
        >>> mesh = jax.make_mesh((len(jax.devices()),), ("x",))
        >>> part = DomainPartition(mesh, ("x", None))
        >>> part.groups, part.sizes[1]
        ((('x',), None), 1)
    """

    mesh: object = eqx.field(static=True)
    groups: tuple[tuple[str, ...] | None, ...] = eqx.field(static=True)
    min_rows: int = eqx.field(static=True)

    def __init__(self, mesh, spec: Sequence, *, min_rows: int = 4):
        groups = tuple(
            None if e is None else (e,) if isinstance(e, str) else tuple(e) for e in spec
        )
        names = set(mesh.axis_names)
        for g in groups:
            if g is not None and not set(g) <= names:
                raise ValueError(
                    f"DomainPartition: `spec` {tuple(spec)} names mesh axes {g} that the mesh "
                    f"{dict(mesh.shape)} does not have."
                )
        if min_rows < 2:
            raise ValueError(f"DomainPartition: `min_rows` must be at least 2, got {min_rows}.")
        self.mesh, self.groups, self.min_rows = mesh, groups, int(min_rows)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Devices along each spatial axis."""
        return tuple(
            1 if g is None else math.prod(self.mesh.shape[a] for a in g) for g in self.groups
        )


# ------------------------------------------------------------------------------ layout
class _Layout(eqx.Module):
    """Static: how many leading levels are sharded and their padded shapes."""

    num_sharded: int = eqx.field(static=True)
    padded: tuple[tuple[int, ...], ...] = eqx.field(static=True)


def _layout(part: DomainPartition, hierarchy: MultigridHierarchy) -> _Layout:
    """The number of sharded levels with the least work per device (padding included)."""
    shapes, sizes = hierarchy.shapes, part.sizes
    most = 0
    for shape in shapes[:-1]:  # the coarsest level is solved densely: always replicated
        if any(
            g is not None and n < part.min_rows * s for g, n, s in zip(part.groups, shape, sizes)
        ):
            break
        most += 1
    devices = math.prod(sizes)

    def work(layout):
        sharded = sum(math.prod(p) for p in layout.padded) / devices
        return sharded + sum(math.prod(s) for s in shapes[layout.num_sharded :])

    return min((_layout_for(part, hierarchy, k) for k in range(most + 1)), key=work)


def _layout_for(part: DomainPartition, hierarchy: MultigridHierarchy, sharded: int) -> _Layout:
    """Padded shapes when the first ``sharded`` levels are sharded: every sharded axis a
    multiple of its device count, halving exactly from level to level (pairs of rows), and
    even per device at the last sharded level when it is coarsened there."""
    shapes, sizes = hierarchy.shapes, part.sizes
    padded = [list(s) for s in shapes[:sharded]]
    for i, (g, s) in enumerate(zip(part.groups, sizes)):
        if g is None or sharded == 0:
            continue
        halvings = [sum(t[i] is not None for t in hierarchy.transfers[lvl : sharded - 1])
                    for lvl in range(sharded)]  # fmt: skip
        step = 2 * s if hierarchy.transfers[sharded - 1][i] is not None else s
        need = max(-(-shapes[lvl][i] // 2 ** halvings[lvl]) for lvl in range(sharded))
        base = -(-need // step) * step
        for lvl in range(sharded):
            padded[lvl][i] = base * 2 ** halvings[lvl]
    return _Layout(sharded, tuple(tuple(p) for p in padded))


# ------------------------------------------------------------------------------ the solve
class PartitionedMultigrid(eqx.Module):
    """A :class:`MultigridHierarchy` and its CG solve laid out over the devices of a partition.

    Vectors are the padded interior unknowns, shape :attr:`shape` (:meth:`pad`, :meth:`crop`),
    sharded as the partition says; :meth:`flux_matvec` and :meth:`solve` run in ``shard_map``
    and communicate only one-row halos (collective-permute), scalar sums (all-reduce) and, at
    the first replicated level, a gather of that coarse grid (see the module docstring). With
    no level large enough to shard, both run replicated.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> from pdejax import VertexGrid
        >>> from pdejax.linalg import FluxOperator, Multigrid
        >>> grid = VertexGrid((65, 65))
        >>> op = FluxOperator(grid.face_coefficients(jnp.ones(grid.shape)), grid.spacing)
        >>> mesh = jax.make_mesh((len(jax.devices()),), ("x",))
        >>> pm = PartitionedMultigrid(Multigrid().setup(op), DomainPartition(mesh, ("x", None)))
        >>> x, info = pm.solve(pm.pad(jnp.ones(op.shape)), rtol=1e-8, max_steps=50)
        >>> bool(info.converged), pm.crop(x).shape
        (True, (63, 63))
    """

    partition: DomainPartition
    hierarchy: MultigridHierarchy
    layout: _Layout

    def __init__(self, hierarchy: MultigridHierarchy, partition: DomainPartition):
        if len(partition.groups) != len(hierarchy.shapes[0]):
            raise ValueError(
                f"PartitionedMultigrid: the partition has {len(partition.groups)} axes, the "
                f"operator {len(hierarchy.shapes[0])}."
            )
        self.partition, self.hierarchy = partition, hierarchy
        self.layout = _layout(partition, hierarchy)

    @property
    def shape(self) -> tuple[int, ...]:
        """The padded shape of the unknowns (the true shape when nothing is sharded)."""
        return self.layout.padded[0] if self.layout.num_sharded else self.hierarchy.shapes[0]

    @property
    def spec(self) -> P:
        """PartitionSpec of the padded unknowns (replicated when nothing is sharded)."""
        return P(*self.partition.groups) if self.layout.num_sharded else P()

    def pad(self, x):
        """The unknowns ``x`` (true shape) padded with zeros to :attr:`shape`."""
        if not self.layout.num_sharded:
            return x
        local = Local(self.partition, self.layout, self.hierarchy)
        fn = lambda x: local.block(x, self.shape)  # noqa: E731
        return self._map(fn, P(), self.spec, self._replicated(x))

    def _replicated(self, tree):
        # arrays of the true shape cannot be split evenly: they stay whole on every device and
        # each device pads and slices out its own block, which needs no communication
        return jax.lax.with_sharding_constraint(tree, NamedSharding(self.partition.mesh, P()))

    def crop(self, x):
        """The true unknowns of padded ``x``, whole on every device (one all-gather)."""
        if not self.layout.num_sharded:
            return x
        local = Local(self.partition, self.layout, self.hierarchy)
        fn = lambda x: gather(local, x, self.hierarchy.shapes[0])  # noqa: E731
        return self._map(fn, self.spec, P(), x)

    def _map(self, fn, in_specs, out_specs, *args):
        return jax.shard_map(fn, mesh=self.partition.mesh, in_specs=in_specs,
                             out_specs=out_specs, check_vma=False)(*args)  # fmt: skip

    def flux_matvec(self, faces: Sequence, spacing: Sequence[float], x):
        """:class:`FluxOperator` ``(faces, spacing)`` applied to padded unknowns ``x``."""
        if not self.layout.num_sharded:
            return FluxOperator(tuple(faces), tuple(spacing))(x)
        local = Local(self.partition, self.layout, self.hierarchy)

        def fn(faces, x):
            lower, upper = local.block(_face_slices(faces), self.shape)
            return local.flux(lower, upper, spacing, x)

        return self._map(fn, (P(), self.spec), self.spec, self._replicated(tuple(faces)), x)

    def solve(self, b, *, rtol, max_steps: int, floor: bool = True) -> tuple:
        """:func:`conjugate_gradient` on the level-0 operator, preconditioned by one V-cycle;
        ``floor`` accepts the rounding floor of the working precision (``abs_matvec``)."""
        h, layout = self.hierarchy, self.layout
        if layout.num_sharded:
            h = self._replicated(h)  # the setup (Galerkin products) stays replicated too
        stencil = (
            h.operators[0]
            if isinstance(h.operators[0], StencilOperator)
            else h.operators[0].to_stencil()
        )
        absolute = StencilOperator(stencil.offsets, tuple(jnp.abs(w) for w in stencil.weights))
        if not layout.num_sharded:
            return conjugate_gradient(
                h.operators[0],
                b,
                precondition=h,
                rtol=rtol,
                max_steps=max_steps,
                abs_matvec=absolute if floor else None,
            )
        ls = layout.num_sharded
        arrays = {
            "ops": tuple(_operator_arrays(h.operators[lvl]) for lvl in range(ls)),
            "inv_d": h.inverse_diagonals[:ls],
            "abs": absolute.weights,
        }
        tail = MultigridHierarchy(h.operators[ls:], h.inverse_diagonals[ls:], h.coarsest_factor,
                                  h.transfers[ls:], h.num_smooth, h.weight)  # fmt: skip
        local = Local(self.partition, layout, h)
        groups = tuple(g for g in self.partition.groups if g is not None)
        names = tuple(a for g in groups for a in g)

        def run(arrays, tail, b):
            blocks = [local.block(arrays["ops"][lvl], layout.padded[lvl]) for lvl in range(ls)]
            ops = [_local_operator(local, h.operators[lvl], blocks[lvl]) for lvl in range(ls)]
            inv_ds = [local.block(arrays["inv_d"][lvl], layout.padded[lvl]) for lvl in range(ls)]
            cycle = _vcycle(local, ops, inv_ds, tail)
            abs_blocks = local.block(arrays["abs"], self.shape)
            abs_op = lambda x: local.stencil(absolute.offsets, abs_blocks, x)  # noqa: E731
            inner = lambda x, y: jax.lax.psum(jnp.sum(x * y), names)  # noqa: E731
            return conjugate_gradient(ops[0], b, precondition=cycle, rtol=rtol, max_steps=max_steps,
                                      abs_matvec=abs_op if floor else None, inner=inner)  # fmt: skip

        return self._map(run, (P(), P(), self.spec), (self.spec, P()), arrays, tail, b)


def _face_slices(faces):
    """Faces below and above every unknown, per axis (the unknowns' shape)."""
    lower, upper = [], []
    for axis, k in enumerate(faces):
        n = k.shape[axis] - 1
        lower.append(jax.lax.slice_in_dim(k, 0, n, axis=axis))
        upper.append(jax.lax.slice_in_dim(k, 1, n + 1, axis=axis))
    return tuple(lower), tuple(upper)


def _operator_arrays(op):
    return _face_slices(op.faces) if isinstance(op, FluxOperator) else op.weights


def _local_operator(local: Local, op, blocks):
    if isinstance(op, FluxOperator):
        return lambda u: local.flux(blocks[0], blocks[1], op.spacing, u)
    return lambda u: local.stencil(op.offsets, blocks, u)


def _vcycle(local: Local, ops, inv_ds, tail: MultigridHierarchy):
    """:meth:`MultigridHierarchy._cycle` on local blocks (the same updates in the same order),
    handing the restricted residual to the replicated ``tail`` after the last sharded level."""
    h, ls = local.hierarchy, local.layout.num_sharded

    def cycle(level, r):
        op, inv_d = ops[level], inv_ds[level]
        omega = jnp.asarray(h.weight, r.dtype)
        x = omega * inv_d * r
        for _ in range(h.num_smooth - 1):
            x = x + omega * inv_d * (r - op(x))
        coarse = local.restrict(level, r - op(x))
        if level + 1 < ls:
            correction = cycle(level + 1, coarse)
        else:
            full = gather(local, coarse, tail.shapes[0])
            correction = scatter(local, tail._cycle(0, full), coarse.shape)
        x = x + local.prolong(level, correction)
        for _ in range(h.num_smooth):
            x = x + omega * inv_d * (r - op(x))
        return x

    return lambda r: cycle(0, r)


__all__ = ["DomainPartition", "PartitionedMultigrid"]

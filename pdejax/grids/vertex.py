r"""Uniform vertex grids on bounded boxes, with second-order finite differences.

A :class:`VertexGrid` holds the vertices of a uniform tensor-product mesh of a box, boundary
vertices included: the natural home of Dirichlet problems. Fields are arrays whose *trailing*
``ndim`` axes are spatial (a state ``(C, *spatial)`` and a scalar field ``(*spatial)`` are both
accepted). Operators that need a neighbour on every side (Laplacian, $\nabla\cdot(a\nabla u)$)
return values at the *interior* vertices, shape :attr:`VertexGrid.interior_shape`; the boundary
entries of their input are the Dirichlet data.
"""

import math
from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float

from .axes import grid_axes, per_axis

_WHO = "VertexGrid"


def _per_axis(value, ndim: int, name: str, cast) -> tuple:
    return per_axis(value, ndim, name, cast, _WHO)


def _slice(ndim: int, axis: int, sl: slice, others: slice = slice(None)) -> tuple:
    """Index tuple over the trailing ``ndim`` axes: ``sl`` on ``axis``, ``others`` elsewhere."""
    return (Ellipsis, *(sl if i == axis else others for i in range(ndim)))


class VertexGrid(eqx.Module):
    r"""A uniform vertex grid on the box $\prod_i [x_{0,i}, x_{0,i} + L_i]$ in 1, 2 or 3 dimensions.

    Vertex $j$ along axis $i$ sits at $x_{0,i} + j h_i$, $h_i = L_i / (N_i - 1)$, $0 \le j < N_i$:
    both ends of every axis are vertices (the boundary). All fields are static metadata.

    Finite differences (all second order in $h$ for smooth data):

    - :meth:`gradient`: central differences inside, one-sided three-point formulas on the
      boundary;
    - :meth:`laplacian`: the $(2d+1)$-point stencil at interior vertices;
    - :meth:`div_a_grad`: the conservative form
      $\sum_i h_i^{-2}\,[a_{j+1/2}(u_{j+1} - u_j) - a_{j-1/2}(u_j - u_{j-1})]$ with harmonic face
      averages $a_{j+1/2} = 2 a_j a_{j+1} / (a_j + a_{j+1})$, the flux-continuous choice for
      discontinuous coefficients (a series of two conductors).

    All of them are linear in ``u`` and differentiable in ``a`` and ``u``.

    Args:
        num_points: vertices per axis including both boundary vertices (at least 3, so that
            there is an interior), an int (repeated over ``ndim`` axes) or one per axis.
        domain_length: $L_i > 0$, one value or one per axis. Default 1.
        origin: $x_{0,i}$, one value or one per axis. Default 0.
        ndim: number of axes when ``num_points`` is a single int. Default 1.

    Example:
        >>> import jax.numpy as jnp
        >>> grid = VertexGrid((33, 33))
        >>> x, y = grid.mesh()
        >>> u = x * (1 - x) * y * (1 - y)
        >>> lap = grid.laplacian(u)            # interior vertices, shape (31, 31)
        >>> exact = grid.interior(-2 * (x * (1 - x) + y * (1 - y)))
        >>> bool(jnp.allclose(lap, exact, atol=1e-10))
        True
    """

    num_points: tuple[int, ...] = eqx.field(static=True)
    domain_length: tuple[float, ...] = eqx.field(static=True)
    origin: tuple[float, ...] = eqx.field(static=True)

    def __init__(
        self,
        num_points: int | Sequence[int],
        domain_length: float | Sequence[float] = 1.0,
        *,
        origin: float | Sequence[float] = 0.0,
        ndim: int | None = None,
    ):
        self.num_points, self.domain_length, self.origin = grid_axes(
            _WHO,
            num_points,
            domain_length,
            origin,
            ndim,
            min_points=3,
            why=" (two boundary vertices and one interior vertex per axis)",
        )

    # ----------------------------------------------------------------- geometry
    @property
    def ndim(self) -> int:
        return len(self.num_points)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.num_points

    @property
    def interior_shape(self) -> tuple[int, ...]:
        """``(N_1 - 2, ..., N_d - 2)``: the unknowns of a Dirichlet problem."""
        return tuple(n - 2 for n in self.num_points)

    @property
    def spacing(self) -> tuple[float, ...]:
        r"""$h_i = L_i / (N_i - 1)$."""
        return tuple(length / (n - 1) for length, n in zip(self.domain_length, self.num_points))

    @property
    def volume(self) -> float:
        return math.prod(self.domain_length)

    def coordinates(self) -> tuple[Float[Array, " N"], ...]:
        """The 1-d vertex coordinates of each axis, both ends included."""
        return tuple(
            jnp.asarray(x0 + np.arange(n) * h)
            for x0, n, h in zip(self.origin, self.num_points, self.spacing)
        )

    def mesh(self) -> Float[Array, "D *spatial"]:
        """All coordinates as a field with one channel per axis, ``(ndim, *spatial)``."""
        return jnp.stack(jnp.meshgrid(*self.coordinates(), indexing="ij"))

    def with_num_points(self, num_points: int | Sequence[int]) -> "VertexGrid":
        """The same box at another resolution."""
        return VertexGrid(
            _per_axis(num_points, self.ndim, "num_points", int),
            self.domain_length,
            origin=self.origin,
        )

    # ----------------------------------------------------- interior / boundary
    def _check_field(self, u, name="u", shape=None):
        shape = self.num_points if shape is None else shape
        if jnp.ndim(u) < self.ndim or tuple(jnp.shape(u)[-self.ndim :]) != tuple(shape):
            raise ValueError(
                f"{_WHO}: `{name}` has shape {tuple(jnp.shape(u))}, whose trailing axes should "
                f"be {tuple(shape)}."
            )

    def boundary_mask(self) -> Bool[Array, "*spatial"]:
        """True at boundary vertices."""
        inside = np.zeros(self.num_points, dtype=bool)
        inside[(slice(1, -1),) * self.ndim] = True
        return jnp.asarray(~inside)

    def interior(self, u: Float[Array, "..."]) -> Float[Array, "..."]:
        """The values of ``u`` at interior vertices (trailing axes ``interior_shape``)."""
        self._check_field(u)
        return u[(Ellipsis, *(slice(1, -1),) * self.ndim)]

    def pad_interior(
        self, interior: Float[Array, "..."], boundary: Float[Array, "..."] | float = 0.0
    ) -> Float[Array, "..."]:
        r"""A full field equal to ``interior`` inside and to the Dirichlet data on the boundary.

        ``boundary`` is a scalar or a field broadcastable to the full shape whose boundary
        entries are used (its interior entries are ignored). Linear in both arguments.
        """
        self._check_field(interior, "interior", self.interior_shape)
        lead = jnp.shape(interior)[: -self.ndim]
        pad = [(0, 0)] * len(lead) + [(1, 1)] * self.ndim
        full = jnp.pad(interior, pad)
        boundary = jnp.asarray(boundary)
        if jnp.ndim(boundary) == 0:
            return full + jnp.where(self.boundary_mask(), boundary, 0.0).astype(full.dtype)
        self._check_field(boundary, "boundary")
        return jnp.where(self.boundary_mask(), boundary, full)

    # --------------------------------------------------------- finite differences
    def gradient(self, u: Float[Array, "*spatial"]) -> Float[Array, "D *spatial"]:
        r"""$\nabla u$ at every vertex: central differences inside, one-sided
        $(-3u_0 + 4u_1 - u_2)/(2h)$ on the boundary. Second order everywhere."""
        self._check_field(u)
        if jnp.ndim(u) != self.ndim:
            raise ValueError(f"{_WHO}.gradient: `u` must be a scalar field {self.num_points}.")
        out = []
        for axis, h in enumerate(self.spacing):
            d = self.ndim

            def s(sl, axis=axis, d=d):
                return u[_slice(d, axis, sl)]

            inner = (s(slice(2, None)) - s(slice(None, -2))) / (2 * h)
            first = (-3 * s(slice(0, 1)) + 4 * s(slice(1, 2)) - s(slice(2, 3))) / (2 * h)
            last = (3 * s(slice(-1, None)) - 4 * s(slice(-2, -1)) + s(slice(-3, -2))) / (2 * h)
            out.append(jnp.concatenate([first, inner, last], axis=axis))
        return jnp.stack(out)

    def laplacian(self, u: Float[Array, "..."]) -> Float[Array, "..."]:
        r"""$\Delta u$ at interior vertices by the $(2d+1)$-point stencil; the boundary entries
        of ``u`` are the Dirichlet values. Second order."""
        self._check_field(u)
        inner = (Ellipsis, *(slice(1, -1),) * self.ndim)
        out = 0.0
        for axis, h in enumerate(self.spacing):
            sl = [slice(1, -1)] * self.ndim
            sl[axis] = slice(2, None)
            plus = u[(Ellipsis, *sl)]
            sl[axis] = slice(None, -2)
            minus = u[(Ellipsis, *sl)]
            out = out + (plus - 2 * u[inner] + minus) / h**2
        return out

    def face_coefficients(self, a: Float[Array, "*spatial"]) -> tuple[Float[Array, "..."], ...]:
        r"""Harmonic face averages $a_{j+1/2} = 2 a_j a_{j+1} / (a_j + a_{j+1})$, one array per axis.

        Entry ``axis`` has shape ``N_axis - 1`` along ``axis`` (the faces between consecutive
        vertices) and ``N_i - 2`` along every other axis (faces seen by interior vertices only).
        ``a`` must be positive.
        """
        self._check_field(a, "a")
        faces = []
        for axis in range(self.ndim):
            lo = a[_slice(self.ndim, axis, slice(None, -1), slice(1, -1))]
            hi = a[_slice(self.ndim, axis, slice(1, None), slice(1, -1))]
            faces.append(2 * lo * hi / (lo + hi))
        return tuple(faces)

    def div_flux(
        self, faces: Sequence[Float[Array, "..."]], u: Float[Array, "..."]
    ) -> Float[Array, "..."]:
        r"""$\nabla\cdot(a\nabla u)$ at interior vertices from face coefficients
        (:meth:`face_coefficients`): the conservative $(2d+1)$-point stencil."""
        self._check_field(u)
        out = 0.0
        for axis, (k, h) in enumerate(zip(faces, self.spacing)):
            v = u[_slice(self.ndim, axis, slice(None), slice(1, -1))]
            flux = k * (
                v[_slice(self.ndim, axis, slice(1, None))]
                - v[_slice(self.ndim, axis, slice(None, -1))]
            )
            out = out + (
                flux[_slice(self.ndim, axis, slice(1, None))]
                - flux[_slice(self.ndim, axis, slice(None, -1))]
            ) / (h * h)
        return out

    def div_a_grad(
        self, a: Float[Array, "*spatial"], u: Float[Array, "..."]
    ) -> Float[Array, "..."]:
        r"""$\nabla\cdot(a\nabla u)$ at interior vertices, conservative with harmonic face
        averages of the vertex coefficient ``a`` (positive). The boundary entries of ``u`` are the
        Dirichlet values. Second order for smooth ``a`` and ``u``; flux-continuous across jumps
        of ``a``. Differentiable in ``a`` and ``u``."""
        return self.div_flux(self.face_coefficients(a), u)

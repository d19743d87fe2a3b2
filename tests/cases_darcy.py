"""Contract-suite factories and shared helpers for the Darcy solver tests."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from pdejax import VertexGrid
from pdejax.grids import fno_darcy_threshold_field
from pdejax.solvers import Darcy2D


def make_darcy(variant):
    """A non-square grid, smooth positive coefficient, variant-dependent source and boundary."""
    grid = VertexGrid((13, 10), (1.0, 0.8))
    x, y = grid.mesh()
    source = (1.0 + variant) * (1 + x * y)
    boundary = 0.1 * (1 + variant) * jnp.cos(x + y)
    model = Darcy2D(grid, source=source, boundary_value=boundary, rtol=1e-13)
    a = (1.5 + jnp.sin(3 * x) * jnp.cos(2 * y))[None]
    return model, a


def thresholded(num_points, high, low=3.0, seed=0, dtype=jnp.float64):
    """The FNO-paper coefficient: ``high`` where a Neumann GRF is positive, ``low`` elsewhere."""
    grid = VertexGrid((num_points, num_points))
    z = fno_darcy_threshold_field(grid).sample(jr.key(seed), jnp.float64)
    return grid, jnp.where(z > 0, high, low).astype(dtype)[None]


def scipy_darcy(a, spacing, source=1.0, boundary=0.0):
    """Reference: the same conservative 5-point scheme assembled with scipy.sparse, solved
    directly (``spsolve``, SuperLU) in float64. Built independently of pdejax."""
    a = np.asarray(a, np.float64)
    nx, ny = a.shape
    hx, hy = spacing
    f = np.broadcast_to(np.asarray(source, np.float64), a.shape)
    g = np.broadcast_to(np.asarray(boundary, np.float64), a.shape)
    kx = 2 * a[:-1, :] * a[1:, :] / (a[:-1, :] + a[1:, :])  # faces (i+1/2, j)
    ky = 2 * a[:, :-1] * a[:, 1:] / (a[:, :-1] + a[:, 1:])  # faces (i, j+1/2)
    index = -np.ones((nx, ny), int)
    index[1:-1, 1:-1] = np.arange((nx - 2) * (ny - 2)).reshape(nx - 2, ny - 2)
    rows, cols, vals = [], [], []
    rhs = f[1:-1, 1:-1].copy().ravel()
    i, j = np.meshgrid(np.arange(1, nx - 1), np.arange(1, ny - 1), indexing="ij")
    me = index[i, j].ravel()
    diag = np.zeros(me.size)
    for di, dj, k, h in (
        (-1, 0, kx[i - 1, j], hx),
        (1, 0, kx[i, j], hx),
        (0, -1, ky[i, j - 1], hy),
        (0, 1, ky[i, j], hy),
    ):
        w = (k / h**2).ravel()
        diag += w
        nb = index[i + di, j + dj].ravel()
        inside = nb >= 0
        rows.append(me[inside]), cols.append(nb[inside]), vals.append(-w[inside])
        rhs[~inside] += w[~inside] * g[i + di, j + dj].ravel()[~inside]
    rows.append(me), cols.append(me), vals.append(diag)
    n = me.size
    matrix = sp.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
    )
    u = g.copy()
    u[1:-1, 1:-1] = spla.spsolve(matrix, rhs).reshape(nx - 2, ny - 2)
    return u, matrix

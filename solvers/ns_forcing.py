r"""Ready-made vorticity forcings $f$ for :class:`pdejax.solvers.NavierStokes2D`.

Each is a function of the grid (pass it, or ``functools.partial`` of it, as ``forcing=``) and
returns an array ``(Nx, Ny)``; the amplitude enters linearly, so it is differentiable: build the
stepper inside the function you differentiate.

Example:
    >>> import functools, jax.numpy as jnp
    >>> from pdejax import PeriodicGrid
    >>> from pdejax.solvers import NavierStokes2D, kolmogorov_forcing
    >>> grid = PeriodicGrid((32, 32), 2 * jnp.pi)
    >>> step = NavierStokes2D(grid, nu=0.01, dt=0.01,
    ...                       forcing=functools.partial(kolmogorov_forcing, wavenumber=4))
    >>> step.forcing.shape
    (32, 32)
"""

import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from pdejax import PeriodicGrid
from pdejax.core.types import ScalarLike


def _unit_coordinates(grid: PeriodicGrid):
    """$x/L_x$ and $y/L_y$ on the mesh (periodic with period 1)."""
    x, y = grid.mesh()
    (x0, y0), (lx, ly) = grid.origin, grid.domain_length
    return (x - x0) / lx, (y - y0) / ly


def fno_forcing(grid: PeriodicGrid, amplitude: ScalarLike = 0.1) -> Float[Array, "Nx Ny"]:
    r"""The FNO paper's forcing $f = a(\sin 2\pi(x + y) + \cos 2\pi(x + y))$, $a = 0.1$.

    On a box other than the unit square, $x$ and $y$ are scaled by the box lengths, so the
    forcing is always the $(1, 1)$ mode. Li et al., "Fourier neural operator for parametric
    partial differential equations", ICLR 2021, section 5.3.

    Example:
        >>> from pdejax import PeriodicGrid
        >>> f = fno_forcing(PeriodicGrid((8, 8)))
        >>> f.shape, round(float(f.max()), 4)  # 0.1 * sqrt(2)
        ((8, 8), 0.1414)
    """
    x, y = _unit_coordinates(grid)
    phase = 2 * np.pi * (x + y)
    return jnp.asarray(amplitude) * (jnp.sin(phase) + jnp.cos(phase))


def kolmogorov_forcing(
    grid: PeriodicGrid, wavenumber: int = 4, amplitude: ScalarLike = 1.0
) -> Float[Array, "Nx Ny"]:
    r"""Kolmogorov forcing in vorticity form, $f = a\sin(\kappa y)$, $\kappa = 2\pi n/L_y$.

    The curl of the shear velocity forcing $F = ((a/\kappa)\cos\kappa y, 0)$. The laminar
    Kolmogorov flow $\omega = a\sin(\kappa y)/(\nu\kappa^2 + \alpha)$ is an exact steady state
    (its advection vanishes). ``wavenumber`` $n$ is the integer number of periods across $y$.
    (Chandler & Kerswell, J. Fluid Mech. 722, 2013, write the velocity forcing $\sin(ny)$ on
    $[0, 2\pi]^2$; its vorticity is $-n\cos(ny)$, this forcing shifted by a quarter period.)

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> f = kolmogorov_forcing(PeriodicGrid((8, 8)), wavenumber=2)
        >>> f.shape, bool(jnp.all(f == f[:1]))  # a function of y only
        ((8, 8), True)
    """
    if isinstance(wavenumber, bool) or not isinstance(wavenumber, int) or wavenumber < 1:
        raise ValueError(
            f"kolmogorov_forcing: `wavenumber` must be a positive int, got {wavenumber!r}."
        )
    _, y = _unit_coordinates(grid)
    return jnp.asarray(amplitude) * jnp.sin(2 * np.pi * wavenumber * y)


__all__ = ["fno_forcing", "kolmogorov_forcing"]

r"""The FNO paper's configurations (Li et al., ICLR 2021), one call each.

| call | problem | input channels | modes | width | parameters |
|---|---|---|---|---|---|
| :func:`fno_burgers_1d` | Burgers, $u_0 \mapsto u(\cdot, 1)$ | $u_0$ + $x$ | 16 | 64 | 549,569 |
| :func:`fno_darcy_2d` | Darcy, $a \mapsto u$ | $a$ + $(x, y)$ | 12, 12 | 32 | 2,368,001 |
| :func:`fno_navier_stokes_2d` | NS, 10 frames $\mapsto$ next frame | 10 + $(x, y)$ | 12, 12 | 20 | 926,357 |
| ``fno_navier_stokes_2d(modes=8, norm=True)`` | (the paper's count) | 10 + $(x, y)$ | 8, 8 | 20 | 414,517 |
| :func:`fno_navier_stokes_3d` | NS space-time, 10 frames $\mapsto$ T frames | 10 + $(x, y, t)$ | 8, 8, 8 | 20 | 6,558,377 |
| ``fno_navier_stokes_3d(norm=True)`` | (the paper's count) | | | | 6,558,537 |

All use 4 Fourier layers, a linear lifting, a projection MLP of width 128 and exact GELU, as the
released scripts. Counts treat a complex weight as two real parameters, as the paper's
``count_params`` does.

On the difference: the paper's 414,517 (FNO-2D) and 6,558,537 (FNO-3D) include four
``BatchNorm`` layers of ``2 * width = 40`` parameters each that the released scripts construct
but never apply in ``forward`` (160 parameters). pdejax counts only parameters the model uses, so
the default configurations have 160 fewer; with ``norm=True`` the FNO applies an affine instance
norm of exactly ``2 * width`` parameters per layer and the count equals the paper's.
"""

from .fno import FNO


def fno_burgers_1d(*, modes: int = 16, width: int = 64, key, **kwargs) -> FNO:
    """FNO-1D for Burgers ($u_0 \\to u(\\cdot, 1)$): 1 channel plus the coordinate, 1 out.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> fno_burgers_1d(modes=8, width=16, key=jr.key(0))(jnp.ones((1, 64))).shape
        (1, 64)
    """
    return FNO(1, 1, (modes,), width, key=key, **kwargs)


def fno_darcy_2d(*, modes: int = 12, width: int = 32, padding: float = 0.0, key, **kwargs) -> FNO:
    """FNO-2D for Darcy ($a \\to u$), non-periodic; the released script later added 9 points
    of padding at $s = 85$, i.e. ``padding=9/85``. Default: none (the ICLR version).

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> fno_darcy_2d(modes=4, width=8, padding=9 / 85, key=jr.key(0))(jnp.ones((1, 17, 17))).shape
        (1, 17, 17)
    """
    return FNO(1, 1, (modes, modes), width, padding=padding, key=key, **kwargs)


def fno_navier_stokes_2d(
    *, modes: int = 12, width: int = 20, history: int = 10, key, **kwargs
) -> FNO:
    """FNO-2D for Navier-Stokes: ``history`` frames as channels (+ 2 coordinates) to the next
    frame; wrap it in :class:`Autoregressive` (``history=10``) to roll out. Modes 12 as the
    released script; the paper's parameter count corresponds to ``modes=8``.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> fno = fno_navier_stokes_2d(modes=4, width=8, key=jr.key(0))
        >>> fno(jnp.ones((10, 16, 16))).shape  # 10 past frames -> the next one
        (1, 16, 16)
    """
    return FNO(history, 1, (modes, modes), width, key=key, **kwargs)


def fno_navier_stokes_3d(
    *, modes: int = 8, width: int = 20, history: int = 10, key, **kwargs
) -> FNO:
    """FNO-3D for Navier-Stokes in space-time: input ``(history, Nx, Ny, Nt)``, the
    ``history`` frames repeated along $t$, plus 3 coordinates; output ``(1, Nx, Ny, Nt)``.

    Example:
        >>> import jax.random as jr
        >>> fno = fno_navier_stokes_3d(modes=2, width=4, key=jr.key(0))
        >>> fno.in_shape  # 10 frames (repeated along t) on any (Nx, Ny, Nt) grid
        (10, None, None, None)
    """
    return FNO(history, 1, (modes, modes, modes), width, key=key, **kwargs)

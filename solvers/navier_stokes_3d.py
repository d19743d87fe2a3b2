r"""Incompressible Navier-Stokes on a periodic box in 3-d, velocity form, pseudo-spectral.

$$\partial_t u + P\big[(u\cdot\nabla)u\big] = \nu\Delta u + P f,\qquad \nabla\cdot u = 0,
\qquad \hat P_{ij}(k) = \delta_{ij} - \frac{k_ik_j}{|k|^2},$$

on $\prod_i [x_{0,i}, x_{0,i} + L_i)$, state $u$ ``(3, Nx, Ny, Nz)`` (real velocity, channel $i$
the component along axis $i$). The pressure never appears: $P$ removes every gradient.

**Rotational form.** With $(u\cdot\nabla)u = \nabla\tfrac12|u|^2 - u\times\omega$,
$\omega = \nabla\times u$, and $P\nabla = 0$, the nonlinear term is
$\mathcal N(u) = P(u\times\omega) + Pc$. It is chosen over the convective form because it costs
9 real 3-d FFTs per evaluation (3 inverse for $u$, 3 for $\omega = ik\times\hat u$, 3 forward
for the product) against 15 (the 9 velocity gradients), and over the skew-symmetric form (twice
the convective cost) because the one drawback of the rotational form, its larger aliasing
error (Zang, Appl. Numer. Math. 7, 1991), is removed entirely by the 2/3 rule: $u$ and $\omega$
are truncated to $|m_i| < N_i/3$ before the product and the product after it, so the
semi-discrete system is the exact Galerkin truncation, which conserves energy and helicity
without viscosity ($u\cdot(u\times\omega) = 0$ pointwise). This is also what exponax's
``NavierStokesVelocity`` solves.

**Time.** $\partial_t\hat u = L\hat u + \hat{\mathcal N}(\hat u)$ with the diagonal
$L = -\nu|k|^2 + S$ ($S$ the multiplier of a linear forcing, see
:mod:`pdejax.solvers.ns3d_forcing`), stepped by any
:class:`~pdejax.timestepping.AbstractSemilinearScheme` (the protocol of
:mod:`pdejax.timestepping.semilinear`):

| scheme | kind | order | RHS per step | advective CFL limit |
|---|---|---|---|---|
| :class:`~pdejax.timestepping.CrankNicolsonRK4` (default) | IMEX, low-storage | 4 explicit, 2 overall | 5 | 1.59 |
| :class:`~pdejax.timestepping.CrankNicolsonRK3` | IMEX, low-storage | 3 explicit, 2 overall | 3 | 0.83 |
| :class:`~pdejax.timestepping.ETDRK4` | exponential | 4 | 4 | 1.35 |

with CFL $= \Delta t_{\text{sub}}\max_x\sum_i |u_i|/\Delta x_i$ and the limit the scheme's
imaginary-axis interval over $k_{\max}\Delta x = 2\pi/3$ (since $|k\cdot u| \le k_{\max}\sum_i|u_i|$).
Diagnostics are in :mod:`pdejax.solvers.ns3d_diagnostics`, initial fields and named problems in
:mod:`pdejax.solvers.ns3d_problems`.
"""

import math
from typing import ClassVar

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float

from pdejax import PeriodicGrid
from pdejax.core import check_positive, error_if
from pdejax.core.types import ScalarLike, State
from pdejax.timestepping import (
    AbstractSemilinearScheme,
    AbstractSemilinearStepper,
    CrankNicolsonRK4,
    check_periodic_grid,
    check_stepping,
)

from .ns3d_diagnostics import max_cfl_3d
from .ns3d_forcing import AbstractForcing3D

DEALIAS = 2.0 / 3.0
Velocity = Float[Array, "3 Nx Ny Nz"]
VelocityHat = Complex[Array, "3 Nx Ny Nzh"]


# ------------------------------------------------------------------------------ spectral parts
def _wavenumbers(grid: PeriodicGrid, dtype):
    """$k_x, k_y, k_z$ of the first derivative (0 on the Nyquist modes of even axes, as
    :meth:`pdejax.PeriodicGrid.derivative_symbol`, so that the curl and the projection keep real
    fields real) as broadcastable 1-d constants ``(N,1,1), (1,N,1), (1,1,N//2+1)``: the 3-d
    symbols built from them fuse into the elementwise kernels instead of being stored."""
    return tuple(jnp.imag(grid.derivative_symbol(i)).astype(dtype) for i in range(grid.ndim))


def _dealias(grid: PeriodicGrid, dtype):
    """The 2/3 rule ($|m_i| < N_i/3$ on every axis) as a product of 1-d masks (never stored)."""
    mask = None
    for axis, n in enumerate(grid.num_points):
        last = axis == grid.ndim - 1
        m = np.abs(np.fft.rfftfreq(n, 1.0 / n) if last else np.fft.fftfreq(n, 1.0 / n))
        shape = [1] * grid.ndim
        shape[axis] = m.size
        keep = jnp.asarray((m < DEALIAS * n / 2).reshape(shape), dtype)
        mask = keep if mask is None else mask * keep
    return mask


def _curl_hat(k, u_hat):
    kx, ky, kz = k
    return 1j * jnp.stack([ky * u_hat[2] - kz * u_hat[1],
                           kz * u_hat[0] - kx * u_hat[2],
                           kx * u_hat[1] - ky * u_hat[0]])  # fmt: skip


def _leray_hat(k, v_hat):
    r"""$\hat P\hat v = \hat v - k(k\cdot\hat v)/|k|^2$ (the identity on the mean, $k = 0$)."""
    kx, ky, kz = k
    k2 = kx**2 + ky**2 + kz**2
    inv = jnp.where(k2 > 0, 1 / jnp.where(k2 > 0, k2, 1), 0)
    s = (kx * v_hat[0] + ky * v_hat[1] + kz * v_hat[2]) * inv
    return jnp.stack([v_hat[0] - kx * s, v_hat[1] - ky * s, v_hat[2] - kz * s])


def _cross(a, b):
    return jnp.stack([a[1] * b[2] - a[2] * b[1],
                      a[2] * b[0] - a[0] * b[2],
                      a[0] * b[1] - a[1] * b[0]])  # fmt: skip


def leray_projection(grid: PeriodicGrid, u: Velocity) -> Velocity:
    r"""The divergence-free part $Pu$ of a velocity field (its mean kept), spectrally.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.solvers import divergence_rms
        >>> grid = PeriodicGrid(8, 2 * jnp.pi, ndim=3)
        >>> x, y, z = grid.mesh()
        >>> u = jnp.stack([jnp.sin(x), jnp.sin(y) * jnp.cos(x), jnp.zeros_like(z)])
        >>> float(divergence_rms(grid, u)) > 0.5, float(divergence_rms(grid, leray_projection(grid, u))) < 1e-6
        (True, True)
    """
    dtype = jnp.result_type(u, float)
    k = _wavenumbers(grid, dtype)
    return grid.ifft(_leray_hat(k, grid.fft(u))).astype(dtype)


def _cfl_limit(scheme: AbstractSemilinearScheme) -> float:
    limit = getattr(scheme, "imaginary_axis_limit", None)
    if limit is None:
        # ETDRK3/4 reduce to RK3/RK4 on undamped modes; lower orders have no imaginary-axis
        # interval and rely on viscosity, so they get a nominal limit (CFL 1)
        limit = {4: 2 * math.sqrt(2), 3: math.sqrt(3)}.get(scheme.order, 2 * math.pi / 3)
    return limit / (2 * math.pi / 3)


# ---------------------------------------------------------------------------------- stepper
class NavierStokes3D(AbstractSemilinearStepper):
    r"""Stepper of the 3-d incompressible Navier-Stokes equations in velocity form,

    $$\partial_t u = \nu\Delta u + P(u\times\omega) + P f(u),\qquad \omega = \nabla\times u,$$

    on a periodic box (``grid`` 3-d, any lengths), state ``(3, Nx, Ny, Nz)``; pseudo-spectral,
    rotational form with 2/3 dealiasing (see the module docstring for why). One call advances
    by ``dt`` in ``substeps`` steps of the scheme (default
    :class:`~pdejax.timestepping.CrankNicolsonRK4`, second order overall; ETDRK4 fourth order),
    staying in Fourier space between them. Viscosity and a linear forcing are integrated
    exactly (ETDRK) or implicitly (Crank-Nicolson); the advective CFL number
    $\Delta t_{\text{sub}}\max\sum_i|u_i|/\Delta x_i$ must stay below the scheme's limit (module
    table), and is checked on every call (``max_cfl``), also under ``jit``; a non-finite state
    raises. The input must be divergence-free (project it with :func:`leray_projection`); every
    step then keeps it so to round-off.

    Differentiable in the state, ``nu``, ``dt`` and the forcing's amplitudes; none recompiles.
    ``grid``, ``substeps`` and ``max_cfl`` are static.

    Args:
        grid: a 3-d :class:`pdejax.PeriodicGrid`, at least 4 points per axis.
        nu: kinematic viscosity $\nu \ge 0$.
        dt: time advanced per call, $> 0$.
        forcing: an :class:`~pdejax.solvers.AbstractForcing3D`
            (:class:`~pdejax.solvers.KolmogorovForcing3D`, :class:`~pdejax.solvers.ABCForcing`,
            :class:`~pdejax.solvers.LinearForcing`) or ``None``.
        substeps: scheme steps per call (static).
        scheme: any semilinear scheme instance (``CrankNicolsonRK4()``, ``ETDRK4()`` ...).
        max_cfl: the CFL bound enforced per call; ``"scheme"`` (default) for the scheme's
            limit, a number, or ``None`` to switch the check off.

    Example (the ABC flow is a Beltrami field, $u\times\omega = 0$: it decays like
    $e^{-\nu t}$):
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.solvers import NavierStokes3D, abc_velocity
        >>> grid = PeriodicGrid(16, 2 * jnp.pi, ndim=3)
        >>> u0 = abc_velocity(grid, 1.0, 0.7, 0.4)
        >>> step = NavierStokes3D(grid, nu=0.1, dt=0.2, substeps=4)
        >>> bool(jnp.allclose(step(u0), u0 * jnp.exp(-0.1 * 0.2), atol=1e-5))
        True

    References: Canuto, Hussaini, Quarteroni & Zang, *Spectral Methods: Evolution to Complex
    Geometries and Applications to Fluid Dynamics*, Springer (2007), ch. 3-4; Orszag, J. Atmos.
    Sci. 28 (1971) for the 2/3 rule; Rogallo, NASA TM-81315 (1981).
    """

    grid: PeriodicGrid
    nu: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    forcing: AbstractForcing3D | None
    substeps: int = eqx.field(static=True)
    scheme: AbstractSemilinearScheme
    max_cfl: float | None = eqx.field(static=True)
    num_channels: ClassVar[int] = 3

    def __init__(
        self,
        grid: PeriodicGrid,
        nu: ScalarLike,
        dt: ScalarLike,
        *,
        forcing=None,  # unannotated: a wrong type gets the ValueError below, naming the fix
        substeps: int = 1,
        scheme=None,
        max_cfl: float | str | None = "scheme",
    ):
        who = type(self).__name__
        check_periodic_grid(grid, 3, who)
        if min(grid.num_points) < 4:
            raise ValueError(
                f"{who}: `grid` has {grid.num_points} points; the 2/3 rule needs at least 4 per "
                "axis to keep a non-constant mode. Refine the grid."
            )
        if forcing is not None and not isinstance(forcing, AbstractForcing3D):
            raise ValueError(
                f"{who}: `forcing` must be a pdejax.solvers.AbstractForcing3D such as "
                f"KolmogorovForcing3D(...), ABCForcing(...) or LinearForcing(...), or None; got "
                f"{forcing!r}."
            )
        self.grid = grid
        self.nu = check_positive(nu, name="nu", who=who, allow_zero=True)
        self.dt = dt
        self.forcing = forcing
        self.substeps = substeps
        self.scheme = CrankNicolsonRK4() if scheme is None else scheme
        if not isinstance(self.scheme, AbstractSemilinearScheme):
            check_stepping(self)  # raises the shared message naming the schemes
        if isinstance(max_cfl, str):
            if max_cfl != "scheme":
                raise ValueError(
                    f"{who}: `max_cfl` must be a positive number, 'scheme' or None, got {max_cfl!r}."
                )
            max_cfl = _cfl_limit(self.scheme)
        elif max_cfl is not None:
            max_cfl = float(check_positive(max_cfl, name="max_cfl", who=who))
        self.max_cfl = max_cfl

    def __check_init__(self):
        check_stepping(self)

    # ------------------------------------------------------------------- the PDE's two parts
    def linear_symbol(self) -> Float[Array, "Nx Ny Nzh"]:
        r"""$L = -\nu|k|^2 + S$ on the rfftn layout ($S$ from a linear forcing)."""
        dtype = jnp.result_type(self.nu, float)
        kx, ky, kz = (k.astype(dtype) for k in self.grid.wavenumbers())
        linear = -self.nu * (kx**2 + ky**2 + kz**2)
        if self.forcing is not None:
            s = self.forcing.linear_symbol(self.grid, dtype)
            if s is not None:
                linear = linear + s
        return linear

    def nonlinear_hat(self, u_hat: VelocityHat) -> VelocityHat:
        r"""$\hat{\mathcal N} = \hat P\big[D\,\mathcal F(D u\times D\omega) + \hat c\big]$, $D$ the
        2/3-rule truncation: 9 real FFTs (6 inverse in one batched call, 3 forward)."""
        grid = self.grid
        dtype = jnp.finfo(u_hat.dtype).dtype
        k = _wavenumbers(grid, dtype)
        mask = _dealias(grid, dtype)
        u_hat = mask * u_hat
        fields = grid.ifft(jnp.concatenate([u_hat, _curl_hat(k, u_hat)]))
        n_hat = mask * grid.fft(_cross(fields[:3], fields[3:]))
        if self.forcing is not None:
            c = self.forcing.constant_hat(grid, dtype)
            if c is not None:
                n_hat = n_hat + c
        return _leray_hat(k, n_hat)

    # ----------------------------------------------------------------------------- checks
    def cfl(self, u: State) -> Float[Array, ""]:
        r"""$\frac{\Delta t}{\text{substeps}}\max_x\sum_i|u_i|/\Delta x_i$ of state ``u``."""
        return max_cfl_3d(self.grid, u, self.dt / self.substeps)

    def check_state(self, u: State) -> State:
        if self.max_cfl is None:
            return u
        return error_if(
            u,
            self.cfl(u) > self.max_cfl,
            f"NavierStokes3D: the CFL number dt/substeps * max(|u|/dx + |v|/dy + |w|/dz) exceeds "
            f"{self.max_cfl:.3g}, the stability limit of {type(self.scheme).__name__}; increase "
            "`substeps` or reduce `dt`.",
        )


__all__ = ["NavierStokes3D", "leray_projection"]

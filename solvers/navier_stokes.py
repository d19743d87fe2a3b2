r"""Incompressible Navier-Stokes on a periodic rectangle, vorticity-streamfunction form.

$$\partial_t\omega + u\cdot\nabla\omega = \nu\Delta\omega - \alpha\,\omega + f,
\qquad u = \nabla^\perp\psi = (\partial_y\psi, -\partial_x\psi),\qquad -\Delta\psi = \omega.$$

Pseudo-spectral in space (the state on the real-FFT layout, the advection term de-aliased by the 2/3 rule, which makes
the semi-discrete system an exact Galerkin truncation for band-limited states), and one of
several time-stepping schemes in time, all written as $\dot{\hat\omega} = L\hat\omega +
\mathcal N(\hat\omega)$ with the diagonal symbol $L = -\nu|k|^2 - \alpha$ and
$\mathcal N = \hat f - \widehat{u\cdot\nabla\omega}$:

| scheme | kind | order | RHS per step | advective CFL limit |
|---|---|---|---|---|
| :class:`CrankNicolsonRK4` (default) | IMEX, low-storage | 4 explicit, 2 overall | 5 | 1.59 |
| :class:`CrankNicolsonRK3` | IMEX, low-storage | 3 explicit, 2 overall | 3 | 0.83 |
| :class:`pdejax.timestepping.ETDRK4` | exponential | 4 | 4 | 1.35 |

(CFL here is $\Delta t\max(|u|/\Delta x + |v|/\Delta y)$; the limit is the scheme's
imaginary-axis stability interval divided by the largest de-aliased wavenumber times
$\Delta x$, $2\pi/3$.)

:class:`NavierStokes2D` is the stepper, :class:`NavierStokesDynamics2D` the right-hand side for
:func:`pdejax.integrate`. Diagnostics are in :mod:`pdejax.solvers.ns_diagnostics`, ready-made
forcings in :mod:`pdejax.solvers.ns_forcing`.
"""

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Complex, Float

import pdejax
from pdejax import PeriodicGrid
from pdejax.core import check_dtype, check_positive, error_if, error_if_not_finite
from pdejax.core.types import ScalarLike, State, to_precision
from pdejax.timestepping import AbstractETDRK, AbstractIMEXScheme, CrankNicolsonRK4

from ._packed_fft import gradient_packed, hermitian_extension, velocity_packed

_DEALIAS = 2.0 / 3.0


# ------------------------------------------------------------------------------ spectral parts
def _check_grid(grid, who):
    if not isinstance(grid, PeriodicGrid) or grid.ndim != 2:
        raise ValueError(f"{who}: `grid` must be a 2-d pdejax.PeriodicGrid, got {grid!r}.")
    grid.dealias_mask(_DEALIAS)  # raises a clear error on a grid too coarse to de-alias


def _wavenumbers(grid: PeriodicGrid, dtype):
    """``k_x`` ``(Nx, 1)`` and ``k_y`` ``(1, Ny//2+1)`` as small 1-d constants: the 2-d symbols
    built from them are fused into the elementwise kernels instead of read from memory."""
    kx, ky = grid.wavenumbers()
    return kx.astype(dtype), ky.astype(dtype)


def _dealias(grid: PeriodicGrid, dtype):
    """The 2/3-rule mask as an outer product of two 1-d masks (fused, never materialised)."""
    nx, ny = grid.num_points
    mx = np.abs(np.fft.fftfreq(nx, 1.0 / nx))[:, None]
    my = np.fft.rfftfreq(ny, 1.0 / ny)[None, :]
    return jnp.asarray(mx < _DEALIAS * nx / 2, dtype) * jnp.asarray(my < _DEALIAS * ny / 2, dtype)


def _real_dtype(w):
    dtype = jnp.result_type(w)
    return dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.result_type(float)


class NavierStokesDynamics2D(pdejax.AbstractDynamics):
    r"""$\partial_t\omega = -u\cdot\nabla\omega + \nu\Delta\omega - \alpha\omega + f$, pseudo-spectral.

    The right-hand side of the 2-d vorticity equation (see the module docstring) on a state
    ``(1, Nx, Ny)``, for :func:`pdejax.integrate` (any diffrax solver) or for a stepper. Three
    FFTs per advection term (two complex inverse transforms, each giving two real fields, and one
    real forward transform; see :meth:`advection_hat`), de-aliased by the 2/3 rule. ``nu``, ``drag`` and ``forcing`` are arrays: differentiable, no recompiles. An explicit
    adaptive solver is limited by advection (:meth:`initial_step`) and, for large
    $\nu k_{\max}^2$, by viscosity: the stiff regime is what :class:`NavierStokes2D` is for.

    Args:
        grid: a 2-d :class:`pdejax.PeriodicGrid`; $x$ is axis 0, $y$ axis 1.
        nu: kinematic viscosity $\nu \ge 0$.
        drag: linear drag $\alpha \ge 0$. Default 0.
        forcing: vorticity forcing $f$: an array ``(Nx, Ny)``, a function ``grid -> array``
            (evaluated here), or ``None`` for none.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.solvers import NavierStokesDynamics2D
        >>> grid = PeriodicGrid((16, 16), 2 * jnp.pi)
        >>> x, y = grid.mesh()
        >>> f = NavierStokesDynamics2D(grid, nu=0.1)
        >>> w = (jnp.sin(x) * jnp.sin(y))[None]  # Taylor-Green: advection vanishes
        >>> bool(jnp.allclose(f(0.0, w), -0.2 * w, atol=1e-5))
        True

    Reference: C. Canuto, M. Y. Hussaini, A. Quarteroni, T. A. Zang, *Spectral Methods:
    Evolution to Complex Geometries and Applications to Fluid Dynamics*, Springer (2007).
    """

    grid: PeriodicGrid
    nu: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    drag: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    forcing: Float[Array, "Nx Ny"] | None

    def __init__(self, grid: PeriodicGrid, nu: ScalarLike, *, drag: ScalarLike = 0.0, forcing=None):
        who = type(self).__name__
        _check_grid(grid, who)
        self.grid = grid
        self.nu = check_positive(nu, name="nu", who=who, allow_zero=True)
        self.drag = check_positive(drag, name="drag", who=who, allow_zero=True)
        if callable(forcing):
            forcing = forcing(grid)
        if forcing is not None:
            forcing = jnp.asarray(forcing)
            if forcing.shape != grid.num_points:
                raise ValueError(
                    f"{who}: `forcing` has shape {forcing.shape}, expected the grid's "
                    f"{grid.num_points}; evaluate it on this grid (pass a function of the grid)."
                )
        self.forcing = forcing

    @property
    def state_shape(self) -> tuple[int, ...]:
        return (1, *self.grid.num_points)

    # -------------------------------------------------------------------------- spectral form
    def linear_symbol(self, dtype) -> Float[Array, "Nx Nyh"]:
        r"""$L = -\nu|k|^2 - \alpha$ on the rfftn layout."""
        kx, ky = _wavenumbers(self.grid, dtype)
        return -self.nu.astype(dtype) * (kx**2 + ky**2) - self.drag.astype(dtype)

    def forcing_hat(self, dtype) -> Complex[Array, "Nx Nyh"] | None:
        """$\\hat f$ (``None`` without forcing)."""
        if self.forcing is None:
            return None
        return self.grid.fft(self.forcing.astype(dtype))

    def advection_hat(
        self, w_hat: Complex[Array, "*batch Nx Nyh"]
    ) -> Complex[Array, "*batch Nx Nyh"]:
        r"""$-P\,\widehat{u\cdot\nabla\omega}$, $P$ the 2/3-rule projection: three FFTs.

        The four real fields $u, v, \partial_x\omega, \partial_y\omega$ come from two complex
        inverse transforms of the full spectrum ($u + iv$ and $\partial_x\omega +
        i\partial_y\omega$, see ``solvers/_packed_fft.py``), the product from one real forward
        transform. Identical to four real inverse transforms up to round-off, and 1.06-1.28x
        faster on CPU (``benchmarks/RESULTS.md``)."""
        dtype = jnp.real(w_hat).dtype
        w_full = hermitian_extension(w_hat, self.grid.num_points[1])
        z_vel = velocity_packed(self.grid, w_full, dtype)  # u + i v
        z_grad = gradient_packed(self.grid, w_full, dtype)  # w_x + i w_y
        advection = jnp.real(z_vel) * jnp.real(z_grad) + jnp.imag(z_vel) * jnp.imag(z_grad)
        return -_dealias(self.grid, dtype) * self.grid.fft(advection)

    def nonlinear_hat(self, w_hat, f_hat):
        r"""$\mathcal N(\hat\omega) = \hat f - P\widehat{u\cdot\nabla\omega}$."""
        n = self.advection_hat(w_hat)
        return n if f_hat is None else n + f_hat

    # --------------------------------------------------------------------------- interface
    def vector_field(self, t: ScalarLike, u: State, args) -> State:
        check_dtype(u, who=type(self).__name__)
        dtype = _real_dtype(u)
        w_hat = self.grid.fft(u)
        rhs = self.linear_symbol(dtype) * w_hat + self.nonlinear_hat(w_hat, self.forcing_hat(dtype))
        return self.grid.ifft(rhs).astype(dtype)

    def initial_step(
        self, u: State, *, cfl: float = 0.5, stability_radius: float = 2.0
    ) -> Float[Array, ""]:
        r"""A safe first step for an explicit (adaptive) solver from state ``u``.

        The smaller of the advective step, ``cfl`` $\cdot\min(\Delta x/|u|, \Delta y/|v|)$ in the
        form $\text{cfl}/\max(|u|/\Delta x + |v|/\Delta y)$, and the viscous step
        ``stability_radius`` $/(\nu k_{\max}^2 + \alpha)$ (2.0 suits most explicit RK methods
        on the negative real axis). Pass it as ``dt0`` to :func:`pdejax.integrate`.
        """
        from .ns_diagnostics import max_cfl  # the diagnostics module imports this one

        dtype = _real_dtype(u)
        speed = max_cfl(self.grid, u, 1.0)
        k2_max = sum((math.pi / h) ** 2 for h in self.grid.spacing)
        stiff = self.nu.astype(dtype) * k2_max + self.drag.astype(dtype)
        tiny = jnp.finfo(dtype).tiny
        dt_adv = cfl / jnp.maximum(speed, tiny)
        dt_visc = stability_radius / jnp.maximum(stiff, tiny)
        return jnp.minimum(dt_adv, dt_visc).astype(dtype)


def _imaginary_axis_limit(scheme) -> float:
    if isinstance(scheme, AbstractIMEXScheme):
        return scheme.imaginary_axis_limit
    # ETDRK3/4 reduce to RK3/RK4 on undamped modes; orders 1-2 have no imaginary-axis interval
    # and rely on viscosity, so they get a nominal limit.
    return {4: 2 * math.sqrt(2), 3: math.sqrt(3)}.get(scheme.order, 2 * math.pi / 3)


# ---------------------------------------------------------------------------------- stepper
class NavierStokes2D(pdejax.AbstractStepper):
    r"""Stepper of the 2-d incompressible Navier-Stokes equations in vorticity form,

    $$\partial_t\omega + u\cdot\nabla\omega = \nu\Delta\omega - \alpha\omega + f,\qquad
    u = (\partial_y\psi, -\partial_x\psi),\ -\Delta\psi = \omega,$$

    on a periodic rectangle; state ``(1, Nx, Ny)``. One call advances by ``dt`` in
    ``substeps`` steps of ``dt / substeps``, staying in Fourier space between them (one FFT pair
    per call). Schemes (see the module table): ``CrankNicolsonRK4()`` (default; 2nd order
    overall, 4th for the explicit part, 5 RHS/step), ``CrankNicolsonRK3()`` or
    ``pdejax.timestepping.ETDRK4()`` (4th order, 4 RHS/step; its $\varphi$-coefficients are computed
    once per call, so use ``substeps`` to amortise them). Stable for CFL =
    $\Delta t\max(|u|/\Delta x + |v|/\Delta y)$ below the scheme's limit; viscosity and drag
    are treated implicitly or exactly, so they impose no limit.

    Differentiable (``jax.grad``) in the initial vorticity, ``nu``, ``drag``, ``dt`` and the
    forcing field; long rollouts with bounded memory via ``pdejax.rollout(..., checkpoint=True)``.

    Checks (static switches): ``max_cfl`` (default: the scheme's limit; ``None`` disables)
    raises at run time, also under ``jit``, when the CFL number of the incoming state exceeds
    it; ``check_finite`` raises when a step produces a non-finite state.

    Args:
        grid: a 2-d :class:`pdejax.PeriodicGrid`.
        nu: viscosity $\nu \ge 0$.
        dt: time advanced per call, $> 0$.
        drag: linear drag $\alpha \ge 0$.
        forcing: vorticity forcing: an array ``(Nx, Ny)``, a function of the grid (e.g.
            :func:`pdejax.solvers.fno_forcing`), or ``None``.
        substeps: internal steps per call (static).
        scheme: the time stepper.
        max_cfl: the CFL bound enforced per call; ``"scheme"`` for the scheme's own limit.
        check_finite: raise on a non-finite state.

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.solvers import NavierStokes2D
        >>> grid = PeriodicGrid((32, 32), 2 * jnp.pi)
        >>> x, y = grid.mesh()
        >>> w0 = (2 * jnp.sin(x) * jnp.sin(y))[None]   # Taylor-Green vortex
        >>> step = NavierStokes2D(grid, nu=0.05, dt=0.1, substeps=4)
        >>> w1 = step(w0)
        >>> bool(jnp.allclose(w1, w0 * jnp.exp(-2 * 0.05 * 0.1), atol=1e-5))
        True

    References: Carpenter & Kennedy (1994) for the low-storage RK4; Cox & Matthews (2002) and
    Kassam & Trefethen (2005) for ETDRK4; Li et al., "Fourier neural operator for parametric
    PDEs" (ICLR 2021) for the benchmark configurations.
    """

    dynamics: NavierStokesDynamics2D
    dt: Float[Array, ""] = eqx.field(converter=jnp.asarray)
    substeps: int = eqx.field(static=True)
    scheme: AbstractIMEXScheme | AbstractETDRK
    max_cfl: float | None = eqx.field(static=True)
    check_finite: bool = eqx.field(static=True)

    def __init__(
        self,
        grid: PeriodicGrid,
        nu: ScalarLike,
        dt: ScalarLike,
        *,
        drag: ScalarLike = 0.0,
        forcing=None,
        substeps: int = 1,
        scheme=None,
        max_cfl: float | str | None = "scheme",
        check_finite: bool = True,
    ):
        who = type(self).__name__
        nu, drag = (check_positive(x, name=n, who=who, allow_zero=True) for x, n in
                    ((nu, "nu"), (drag, "drag")))  # named here under jit/vmap  # fmt: skip
        self.dynamics = NavierStokesDynamics2D(grid, nu, drag=drag, forcing=forcing)
        dt = check_positive(dt, name="dt", who=who)
        if isinstance(substeps, bool) or not isinstance(substeps, int) or substeps < 1:
            raise ValueError(f"{who}: `substeps` must be a positive int, got {substeps!r}.")
        scheme = CrankNicolsonRK4() if scheme is None else scheme
        if not isinstance(scheme, AbstractIMEXScheme | AbstractETDRK):
            raise ValueError(
                f"{who}: `scheme` must be CrankNicolsonRK4(), CrankNicolsonRK3() or a "
                f"pdejax.timestepping scheme such as ETDRK4(), got {scheme!r}."
            )
        if max_cfl == "scheme":
            max_cfl = _imaginary_axis_limit(scheme) / (math.pi * _DEALIAS)
        elif max_cfl is not None:
            check_positive(max_cfl, name="max_cfl", who=who)
            max_cfl = float(max_cfl)
        self.dt = dt
        self.substeps = substeps
        self.scheme = scheme
        self.max_cfl = max_cfl
        self.check_finite = bool(check_finite)

    @property
    def grid(self) -> PeriodicGrid:
        return self.dynamics.grid

    @property
    def nu(self) -> Float[Array, ""]:
        return self.dynamics.nu

    @property
    def drag(self) -> Float[Array, ""]:
        return self.dynamics.drag

    @property
    def forcing(self) -> Float[Array, "Nx Ny"] | None:
        return self.dynamics.forcing

    @property
    def state_shape(self) -> tuple[int, ...]:
        return self.dynamics.state_shape

    def cfl(self, u: State) -> Float[Array, ""]:
        r"""The CFL number $\frac{\Delta t}{\text{substeps}}\max(|u|/\Delta x + |v|/\Delta y)$ of state ``u``."""
        from .ns_diagnostics import max_cfl

        return max_cfl(self.grid, u, self.dt / self.substeps)

    def step(self, u: State) -> State:
        # jitted so that eager calls compile once (an eager fori_loop would retrace every call);
        # inside an outer jit this is inlined
        return _advance(self, u)

    def prepare(self) -> "_PreparedNavierStokes2D":
        """This stepper with its scheme coefficients and forcing spectrum computed once, for
        :func:`pdejax.rollout`; differentiable in ``nu``, ``drag``, ``dt`` and the forcing."""
        dtype = jnp.result_type(self.dt, self.dynamics.nu, float)
        return _PreparedNavierStokes2D(self, *self._setup(dtype))

    def _setup(self, dtype):
        h = self.dt.astype(dtype) / self.substeps
        coefficients = self.scheme.coefficients(self.dynamics.linear_symbol(dtype), h)
        return coefficients, self.dynamics.forcing_hat(dtype)

    def _advance(self, u, setup=None):
        check_dtype(u, who="NavierStokes2D")
        dtype = _real_dtype(u)
        dyn = self.dynamics
        if self.max_cfl is not None:
            cfl = self.cfl(u)
            u = error_if(  # sharding-safe: the conditional carries a scalar, never the field
                u,
                cfl > self.max_cfl,
                f"NavierStokes2D: the CFL number dt/substeps * max(|u|/dx + |v|/dy) exceeds "
                f"{self.max_cfl:.3g}, the stability limit of {type(self.scheme).__name__}; "
                "increase `substeps` or reduce `dt`.",
            )
        coefficients, f_hat = self._setup(dtype) if setup is None else setup

        def nonlinear(theta, w_hat):
            return dyn.nonlinear_hat(w_hat, f_hat)

        def body(_, w_hat):
            return self.scheme.step(coefficients, nonlinear, w_hat)

        w_hat = self.grid.fft(u)
        if self.substeps == 1:
            w_hat = body(0, w_hat)
        else:
            w_hat = jax.lax.fori_loop(0, self.substeps, body, w_hat)
        out = self.grid.ifft(w_hat).astype(dtype)
        if self.check_finite:
            out = error_if_not_finite(
                out,
                "NavierStokes2D: the state became non-finite (NaN or inf); the step is unstable "
                "for this flow: reduce `dt`, increase `substeps`, or check the input.",
            )
        return out


class _PreparedNavierStokes2D(pdejax.AbstractStepper):
    """:class:`NavierStokes2D` with its per-call setup hoisted (see its ``prepare``)."""

    stepper: NavierStokes2D
    coefficients: tuple
    forcing_hat: Array | None

    @property
    def dt(self):
        return self.stepper.dt

    @property
    def state_shape(self):
        return self.stepper.state_shape

    def step(self, u: State) -> State:
        setup = to_precision((self.coefficients, self.forcing_hat), _real_dtype(u))
        return self.stepper._advance(u, setup)


@eqx.filter_jit
def _advance(stepper: NavierStokes2D, u):
    return stepper._advance(u)

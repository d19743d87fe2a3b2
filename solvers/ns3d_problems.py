r"""Initial velocity fields and named data problems for :class:`~pdejax.solvers.NavierStokes3D`.

Fields (each ``(3, Nx, Ny, Nz)``, divergence-free; $s_i = 2\pi(x_i - x_{0,i})/L_i$):

- :func:`taylor_green_velocity`: $u = V_0(\sin s_1\cos s_2\cos s_3, -\cos s_1\sin s_2\cos s_3, 0)$;
- :func:`abc_velocity`: the Arnold-Beltrami-Childress flow, $\nabla\times u = k u$;
- :func:`random_solenoidal_velocity`: a Gaussian random field
  $N(0, (-\Delta + \tau^2)^{-\alpha})$ per component (:class:`pdejax.grids.GaussianRandomField`),
  Leray-projected and scaled to a given rms velocity; its energy spectrum is
  $E(k) \propto k^2(k^2 + \tau^2)^{-\alpha}$, peaked at $k = \tau/\sqrt{\alpha - 1}$.

Problems (``pdejax.data.make_problem(name, **overrides)``), all on $[0, 2\pi)^3$:

- ``"ns3d/taylor_green"``: the Taylor-Green vortex at Reynolds number $Re = 1/\nu$ (the
  van Rees et al. 2011 convention, $V_0 = 1$, $L = 2\pi$), randomly translated per sample
  (``random_shift``); ``solve`` returns the trajectory every ``output_interval`` up to
  ``final_time`` (frame 0 the input), ``(T + 1, 3, N, N, N)``;
- ``"ns3d/decaying_turbulence"``: random solenoidal $u_0$ (rms 1) mapped to $u(T)$, an operator
  problem $(3, N^3) \to (3, N^3)$ for an FNO in space;
- ``"ns3d/forced_turbulence"``: the same with Lundgren's linear forcing on $|k| \le 2$.

The time step defaults to $1/N$: with rms velocity 1 the CFL number stays near 1 (the check
raises otherwise, and data generation reports the sample).
"""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

import pdejax
from pdejax import PeriodicGrid
from pdejax.core.types import ScalarLike
from pdejax.data import Problem, register_problem
from pdejax.grids import GaussianRandomField

from .navier_stokes_3d import NavierStokes3D, leray_projection
from .ns3d_forcing import LinearForcing

Velocity = Float[Array, "3 Nx Ny Nz"]


def _phases(grid: PeriodicGrid, shift=(0.0, 0.0, 0.0)):
    x = grid.mesh()
    return tuple(
        (2 * np.pi / length) * (x[i] - x0) - s
        for i, (length, x0, s) in enumerate(zip(grid.domain_length, grid.origin, shift))
    )


def taylor_green_velocity(
    grid: PeriodicGrid, amplitude: ScalarLike = 1.0, *, shift=(0.0, 0.0, 0.0)
) -> Velocity:
    r"""The Taylor-Green vortex $V_0(\sin s_1\cos s_2\cos s_3,\,-\cos s_1\sin s_2\cos s_3,\,0)$,
    translated by the phases ``shift``. $E = V_0^2/8$, $\langle|\omega|^2\rangle = 3V_0^2/4$
    on a $2\pi$ cube (Taylor & Green, Proc. R. Soc. A 158, 1937; Brachet et al., J. Fluid
    Mech. 130, 1983).

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> u = taylor_green_velocity(PeriodicGrid(8, 2 * jnp.pi, ndim=3))
        >>> u.shape, float(u[2].max())
        ((3, 8, 8, 8), 0.0)
    """
    s1, s2, s3 = _phases(grid, shift)
    a = jnp.asarray(amplitude)
    u = a * jnp.sin(s1) * jnp.cos(s2) * jnp.cos(s3)
    v = -a * jnp.cos(s1) * jnp.sin(s2) * jnp.cos(s3)
    return jnp.stack([u, v, jnp.zeros_like(u)])


def abc_velocity(
    grid: PeriodicGrid, a: ScalarLike, b: ScalarLike, c: ScalarLike, wavenumber: int = 1
) -> Velocity:
    r"""The ABC flow $(a\sin ns_3 + c\cos ns_2,\; b\sin ns_1 + a\cos ns_3,\; c\sin ns_2 + b\cos ns_1)$,
    a Beltrami field ($\nabla\times u = ku$, $k = 2\pi n/L$, on a cube): $u\times\omega = 0$,
    so it decays exactly as $e^{-\nu k^2 t}$ (Dombre et al., J. Fluid Mech. 167, 1986).

    Example:
        >>> import jax.numpy as jnp
        >>> from pdejax import PeriodicGrid
        >>> u = abc_velocity(PeriodicGrid(8, 2 * jnp.pi, ndim=3), 1.0, 1.0, 1.0)
        >>> u.shape
        (3, 8, 8, 8)
    """
    s1, s2, s3 = (wavenumber * s for s in _phases(grid))
    a, b, c = (jnp.asarray(p) for p in (a, b, c))
    return jnp.stack([
        a * jnp.sin(s3) + c * jnp.cos(s2),
        b * jnp.sin(s1) + a * jnp.cos(s3),
        c * jnp.sin(s2) + b * jnp.cos(s1),
    ])  # fmt: skip


def random_solenoidal_velocity(
    grid: PeriodicGrid,
    key: PRNGKeyArray,
    *,
    rms: ScalarLike = 1.0,
    tau: ScalarLike = 3.0,
    alpha: ScalarLike = 3.0,
    dtype=None,
) -> Velocity:
    r"""A random divergence-free velocity: three independent Gaussian random fields
    $N(0, (-\Delta + \tau^2)^{-\alpha})$ without their Nyquist modes, Leray-projected, mean
    removed, scaled so that
    $\langle|u|^2\rangle/3 = $ ``rms``$^2$ exactly.

    Example:
        >>> import jax.numpy as jnp, jax.random as jr
        >>> from pdejax import PeriodicGrid
        >>> from pdejax.solvers import divergence_rms
        >>> grid = PeriodicGrid(16, 2 * jnp.pi, ndim=3)
        >>> u = random_solenoidal_velocity(grid, jr.key(0))
        >>> round(float(jnp.sqrt(jnp.mean(u**2))), 5), float(divergence_rms(grid, u)) < 1e-5
        (1.0, True)
    """
    grf = GaussianRandomField(grid, sigma=1.0, tau=tau, alpha=alpha)
    u = jnp.stack([grf.sample(k, dtype) for k in jr.split(key, 3)])
    # no Nyquist modes (the grid defines no first derivative there), a product of 1-d masks
    keep = 1.0
    for axis, n in enumerate(grid.num_points):
        last = axis == grid.ndim - 1
        m = np.abs(np.fft.rfftfreq(n, 1.0 / n) if last else np.fft.fftfreq(n, 1.0 / n))
        shape = [1] * grid.ndim
        shape[axis] = m.size
        keep = keep * jnp.asarray((m < n / 2).reshape(shape), u.dtype)
    u = leray_projection(grid, grid.ifft(keep * grid.fft(u)).astype(u.dtype))
    u = u - jnp.mean(u, axis=(1, 2, 3), keepdims=True)
    return (jnp.asarray(rms, u.dtype) * u / jnp.sqrt(jnp.mean(u**2))).astype(u.dtype)


def _cube(num_points: int, who: str) -> PeriodicGrid:
    if isinstance(num_points, bool) or not isinstance(num_points, int) or num_points < 8:
        raise ValueError(f"{who}: `num_points` must be an int >= 8, got {num_points!r}.")
    return PeriodicGrid(num_points, 2 * np.pi, ndim=3)


def _steps(interval: float, dt: float, who: str, name: str) -> int:
    steps = round(interval / dt)
    if dt <= 0 or steps < 1 or abs(steps * dt - interval) > 1e-9 * max(1.0, interval):
        raise ValueError(
            f"{who}: `dt` = {dt!r} must divide `{name}` = {interval!r}; use e.g. "
            f"dt = {interval / max(1, round(interval / max(dt, 1e-12)) + 1):.4g}."
        )
    return steps


@register_problem("ns3d/taylor_green")
def taylor_green_problem(
    *,
    reynolds: float = 1600.0,
    num_points: int = 64,
    dt: float | None = None,
    final_time: float = 10.0,
    output_interval: float = 1.0,
    random_shift: bool = True,
    scheme=None,
) -> Problem:
    r"""The Taylor-Green vortex at $Re = 1/\nu$ on $[0, 2\pi)^3$, a trajectory problem (see the
    module docstring). ``dt`` defaults to ``output_interval`` divided into steps of at most
    $1/N$ (CFL about 0.3 for the vortex's speeds).

    Example:
        >>> from pdejax.data import make_problem
        >>> p = make_problem("ns3d/taylor_green", num_points=8, final_time=0.2, output_interval=0.1)
        >>> p.solve(p.sample_input(None)).shape
        (3, 3, 8, 8, 8)
    """
    who = "make_problem('ns3d/taylor_green')"
    grid = _cube(num_points, who)
    if dt is None:
        dt = output_interval / max(1, int(np.ceil(output_interval * num_points)))
    per_frame = _steps(output_interval, dt, who, "output_interval")
    frames = _steps(final_time, output_interval, who, "final_time")
    stepper = NavierStokes3D(
        grid, 1.0 / reynolds, output_interval, substeps=per_frame, scheme=scheme
    )

    def sample_input(key):
        if not random_shift or key is None:
            return taylor_green_velocity(grid)
        return taylor_green_velocity(grid, shift=tuple(jr.uniform(key, (3,), maxval=2 * np.pi)))

    def solve(u0):
        return pdejax.rollout(stepper, u0, frames, include_initial=True)

    return Problem(
        name="ns3d/taylor_green",
        sample_input=sample_input,
        solve=solve,
        parameters={
            "equation": "u_t + P[(u.grad)u] = nu Lap u, div u = 0, periodic [0, 2pi)^3",
            "reynolds": reynolds,
            "nu": 1.0 / reynolds,
            "num_points": num_points,
            "dt": dt,
            "final_time": final_time,
            "output_interval": output_interval,
            "initial_condition": "Taylor-Green, V0 = 1"
            + (", random shift" if random_shift else ""),
            "scheme": type(stepper.scheme).__name__,
        },
        reference="Brachet et al., J. Fluid Mech. 130 (1983); van Rees et al., J. Comput. Phys. "
        "230 (2011), Re = 1600",
        times=np.arange(frames + 1) * output_interval,
    )


def _turbulence(name, forcing_amplitude, num_points, nu, final_time, dt, rms, tau, alpha, scheme):
    who = f"make_problem({name!r})"
    grid = _cube(num_points, who)
    dt = 1.0 / num_points if dt is None else dt
    steps = _steps(final_time, dt, who, "final_time")
    forcing = None if forcing_amplitude is None else LinearForcing(forcing_amplitude, 2.0)
    stepper = NavierStokes3D(grid, nu, dt, forcing=forcing, scheme=scheme)

    def sample_input(key):
        return random_solenoidal_velocity(grid, key, rms=rms, tau=tau, alpha=alpha)

    def solve(u0):
        return pdejax.rollout(stepper, u0, steps, save_every=steps)[-1]

    parameters = {
        "equation": "u_t + P[(u.grad)u] = nu Lap u + P f, div u = 0, periodic [0, 2pi)^3",
        "nu": nu,
        "num_points": num_points,
        "dt": dt,
        "final_time": final_time,
        "initial_condition": f"Leray-projected GRF per component, tau={tau}, alpha={alpha}, "
        f"rms velocity {rms}",
        "forcing": "none"
        if forcing is None
        else f"linear (Lundgren), A={forcing_amplitude}, |k|<=2",
        "scheme": type(stepper.scheme).__name__,
    }
    return Problem(name, sample_input, solve, parameters, "Rogallo, NASA TM-81315 (1981); "
                   "Lundgren, CTR Annual Research Briefs (2003)")  # fmt: skip


@register_problem("ns3d/decaying_turbulence")
def decaying_turbulence_problem(
    *,
    num_points: int = 64,
    nu: float = 0.02,
    final_time: float = 1.0,
    dt: float | None = None,
    rms: float = 1.0,
    tau: float = 3.0,
    alpha: float = 3.0,
    scheme=None,
) -> Problem:
    r"""Random solenoidal $u_0$ (rms ``rms``) $\mapsto u(T)$, unforced (see the module docstring).

    Example:
        >>> import jax.random as jr
        >>> from pdejax.data import make_problem
        >>> p = make_problem("ns3d/decaying_turbulence", num_points=8, final_time=0.25)
        >>> p.solve(p.sample_input(jr.key(0))).shape
        (3, 8, 8, 8)
    """
    return _turbulence("ns3d/decaying_turbulence", None, num_points, nu, final_time, dt, rms,
                       tau, alpha, scheme)  # fmt: skip


@register_problem("ns3d/forced_turbulence")
def forced_turbulence_problem(
    *,
    num_points: int = 64,
    nu: float = 0.02,
    final_time: float = 1.0,
    forcing_amplitude: float = 0.5,
    dt: float | None = None,
    rms: float = 1.0,
    tau: float = 3.0,
    alpha: float = 3.0,
    scheme=None,
) -> Problem:
    r"""As ``"ns3d/decaying_turbulence"`` with :class:`~pdejax.solvers.LinearForcing`
    $f = A P_{|k|\le 2}u$, $A$ = ``forcing_amplitude``.

    Example:
        >>> import jax.random as jr
        >>> from pdejax.data import make_problem
        >>> p = make_problem("ns3d/forced_turbulence", num_points=8, final_time=0.25)
        >>> p.parameters["forcing"]
        'linear (Lundgren), A=0.5, |k|<=2'
    """
    return _turbulence("ns3d/forced_turbulence", forcing_amplitude, num_points, nu, final_time,
                       dt, rms, tau, alpha, scheme)  # fmt: skip


__all__ = [
    "abc_velocity",
    "random_solenoidal_velocity",
    "taylor_green_velocity",
]

r"""The FNO paper's Navier-Stokes data sets as named :class:`pdejax.Problem` s.

``"fno/navier_stokes_1e-3"``, ``"..._1e-4"``, ``"..._1e-5"``: vorticity on the periodic unit
square, $\nu$ = 1e-3 / 1e-4 / 1e-5 with final time $T$ = 50 / 30 / 20, forcing
$0.1(\sin 2\pi(x+y) + \cos 2\pi(x+y))$, initial vorticity
$N(0, 2\cdot 7^3(-\Delta + 49 I)^{-2.5})$ (the released generator's amplitude, see
:func:`pdejax.grids.fno_navier_stokes_initial_vorticity`), solved at $256^2$ with
$\Delta t = 10^{-4}$ and stored at $64^2$ once per time unit (Li et al., ICLR 2021).

``sample_input(key)`` returns $\omega_0$ ``(1, n, n)`` at the solve resolution; ``solve(w0)``
returns the trajectory ``(T + 1, 1, m, m)`` at times $0, 1, \dots, T$ at the output resolution
(frame 0 is the stored input). The output is the solution's point values (every
$n/m$-th point, as the released data), or its spectral resampling when $m$ does not divide $n$.
Every setting can be overridden for a reduced-scale run, e.g.
``make_problem("fno/navier_stokes_1e-3", num_points=64, dt=1e-3, final_time=5)``.

The released solver uses forward Euler for advection and Crank-Nicolson for viscosity; this
one defaults to :class:`~pdejax.solvers.CrankNicolsonRK4` (``scheme=`` to change), which at
$\Delta t = 10^{-4}$ agrees with it to within the released solver's own time-stepping error.
"""

import math

import pdejax
from pdejax import PeriodicGrid
from pdejax.data import Problem, register_problem
from pdejax.grids import fno_navier_stokes_initial_vorticity

from .navier_stokes import NavierStokes2D
from .ns_forcing import fno_forcing

FNO_NAVIER_STOKES = {"1e-3": (1e-3, 50), "1e-4": (1e-4, 30), "1e-5": (1e-5, 20)}
_REFERENCE = (
    "Li, Kovachki, Azizzadenesheli, Liu, Bhattacharya, Stuart, Anandkumar, 'Fourier neural "
    "operator for parametric partial differential equations', ICLR 2021; released generator "
    "data_generation/navier_stokes/ns_2d.py"
)


def _fno_navier_stokes(label: str, nu_default: float, final_time_default: int):
    name = f"fno/navier_stokes_{label}"

    def factory(
        *,
        nu: float | int = nu_default,
        num_points: int = 256,
        output_points: int = 64,
        dt: float | int = 1e-4,
        final_time: float | int = final_time_default,
        output_interval: float | int = 1.0,
        scheme=None,
        checkpoint: bool = False,
    ) -> Problem:
        """The FNO-paper Navier-Stokes problem (see the module docstring).

        Args:
            nu: viscosity.
            num_points: grid points per axis of the solve (the paper's 256).
            output_points: grid points per axis of the stored frames (the paper's 64).
            dt: the solver's time step; it must divide ``output_interval``.
            final_time: the time of the last frame (frames at ``0, output_interval, ...``).
            output_interval: time between stored frames (the paper's 1).
            scheme: the time-stepping scheme (default Crank-Nicolson RK4).
            checkpoint: rematerialise between frames in reverse mode (for gradients).
        """
        who = f"make_problem({name!r})"
        if not (isinstance(output_interval, int | float) and output_interval > 0):
            raise ValueError(f"{who}: `output_interval` must be positive, got {output_interval!r}.")
        steps = round(output_interval / dt) if dt > 0 else 0
        if dt <= 0 or steps < 1 or abs(steps * dt - output_interval) > 1e-9 * output_interval:
            raise ValueError(
                f"{who}: `dt` must divide `output_interval` = {output_interval!r} (the time "
                f"between frames), got {dt!r}; use e.g. dt={output_interval / max(1, math.ceil(output_interval / max(dt, 1e-12))):.3g}."
            )
        frames = round(final_time / output_interval) if final_time > 0 else 0
        if frames < 1 or abs(frames * output_interval - final_time) > 1e-9 * final_time:
            raise ValueError(
                f"{who}: `final_time` must be a positive multiple of `output_interval` = "
                f"{output_interval!r}, got {final_time!r}."
            )
        grid = PeriodicGrid((num_points, num_points), 1.0)
        grf = fno_navier_stokes_initial_vorticity(grid)
        stepper = NavierStokes2D(
            grid, nu, dt=output_interval, forcing=fno_forcing, substeps=steps, scheme=scheme
        )

        def sample_input(key):
            return grf.sample(key)[None]

        def downsample(traj):
            if num_points % output_points == 0:
                r = num_points // output_points
                return traj[..., ::r, ::r]
            return grid.resample(traj, output_points)

        def solve(w0):
            traj = pdejax.rollout(stepper, w0, frames, include_initial=True, checkpoint=checkpoint)
            return downsample(traj)

        return Problem(
            name=name,
            sample_input=sample_input,
            solve=solve,
            parameters={
                "equation": "w_t + u.grad w = nu Lap w + f, periodic unit square",
                "nu": nu,
                "num_points": num_points,
                "output_points": output_points,
                "dt": dt,
                "final_time": final_time,
                "output_interval": output_interval,
                "output_times": [k * output_interval for k in range(frames + 1)],
                "forcing": "0.1*(sin(2pi(x+y)) + cos(2pi(x+y)))",
                "initial_condition": "GRF sigma=sqrt(2)*7^1.5, tau=7, alpha=2.5, zero mean",
                "scheme": type(stepper.scheme).__name__,
            },
            reference=_REFERENCE,
        )

    factory.__doc__ = factory.__doc__.replace("problem (", f"problem at nu={label} (", 1)
    register_problem(name)(factory)
    return factory


for _label, (_nu, _t) in FNO_NAVIER_STOKES.items():
    _fno_navier_stokes(_label, _nu, _t)

"""The contract suite: every model in the table passes every check in ``contract.py``.

To add a model, add a :class:`contract.Case` to ``CASES`` with a factory ``make(variant)``.
"""

import jax.numpy as jnp
import jax.random as jr
import pytest
from cases_burgers import (
    make_burgers,
    make_burgers_dynamics,
    make_burgers_fd,
)
from cases_darcy import make_darcy
from cases_navier_stokes import (
    make_navier_stokes,
    make_navier_stokes_dynamics,
    make_navier_stokes_etdrk4,
)
from cases_navier_stokes_3d import (
    make_navier_stokes_3d,
    make_navier_stokes_3d_dynamics,
    make_navier_stokes_3d_etdrk4,
)
from cases_neural_ode import make_mlp_dynamics
from cases_semilinear import (
    make_advection_diffusion,
    make_allen_cahn,
    make_fisher_kpp,
    make_gray_scott,
    make_heat_equation,
    make_kdv,
    make_ks_1d,
    make_ks_2d,
)
from cases_surrogates import SURROGATE_CASES
from contract import (
    Case,
    check_compile_once,
    check_grad,
    check_jit,
    check_pmap,
    check_shape_error,
    check_sharding,
    check_vmap,
)
from toys import FisherKPP, HeatStepper

from pdejax import PeriodicGrid


def _smooth_field(grid, key, channels=1):
    noise = jr.normal(key, (channels, *grid.num_points))
    return grid.ifft(grid.fft(noise) * grid.dealias_mask(0.5))


def make_heat(variant):
    grid = PeriodicGrid((16, 12), (1.0, 2.0))
    model = HeatStepper(grid, nu=0.01 * (1 + variant), dt=0.1, num_channels=2)
    return model, _smooth_field(grid, jr.key(0), channels=2)


def make_fisher(variant):
    grid = PeriodicGrid(32)
    model = FisherKPP(grid, nu=0.02 + 0.01 * variant, r=1.0)
    return model, 0.5 + 0.3 * _smooth_field(grid, jr.key(1))


# the semilinear PDEs share one base class: four of them (ETDRK4 1-d, complex symbol, two
# channels, an IMEX scheme) run by default, the other four in `make test-slow`
SLOW = pytest.mark.slow

CASES = [
    Case("toy/HeatStepper", make_heat),
    Case("toy/FisherKPP", make_fisher),
    Case("solvers/Darcy2D", make_darcy),
    *(Case(name, make) for name, make in SURROGATE_CASES),
    Case("solvers/Burgers1D", make_burgers),
    Case("solvers/Burgers1DDynamics", make_burgers_dynamics),
    Case("solvers/Burgers1DFD", make_burgers_fd),
    Case("solvers/NavierStokes2D", make_navier_stokes),
    Case("solvers/NavierStokes2D-ETDRK4", make_navier_stokes_etdrk4),
    Case("solvers/NavierStokesDynamics2D", make_navier_stokes_dynamics),
    Case("solvers/NavierStokes3D", make_navier_stokes_3d),
    Case("solvers/NavierStokes3D-ETDRK4", make_navier_stokes_3d_etdrk4),
    Case("solvers/NavierStokes3D-dynamics", make_navier_stokes_3d_dynamics),
    Case("neural_ode/MLPDynamics", make_mlp_dynamics),
    Case("solvers/KuramotoSivashinsky1D", make_ks_1d),
    pytest.param(Case("solvers/KuramotoSivashinsky2D", make_ks_2d), marks=SLOW),
    Case("solvers/KortewegDeVries1D", make_kdv),
    pytest.param(Case("solvers/FisherKPP", make_fisher_kpp), marks=SLOW),
    Case("solvers/AllenCahn-CNRK3", make_allen_cahn),
    Case("solvers/GrayScott2D", make_gray_scott),
    pytest.param(Case("solvers/AdvectionDiffusion", make_advection_diffusion), marks=SLOW),
    pytest.param(Case("solvers/Heat", make_heat_equation), marks=SLOW),
]

CHECKS = [
    check_jit,
    check_vmap,
    check_pmap,
    check_sharding,
    check_grad,
    check_compile_once,
    check_shape_error,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", CASES, ids=str)
def test_contract(case, check):
    check(case)


def test_contract_catches_a_static_parameter():
    """The compile-once check fails a model whose parameter is a static float: it can fail."""
    import equinox as eqx

    import pdejax

    class Leaky(pdejax.AbstractStepper):
        grid: PeriodicGrid
        scale: jnp.ndarray = eqx.field(converter=jnp.asarray)
        dt: float = eqx.field(static=True)  # wrong on purpose

        @property
        def state_shape(self):
            return (1, *self.grid.num_points)

        def step(self, u):
            return self.scale * u * jnp.exp(-self.dt)

    grid = PeriodicGrid(8)
    case = Case("leaky", lambda v: (Leaky(grid, 1.0 + v, 0.1 * (1 + v)), jnp.ones((1, 8))))
    with pytest.raises(Exception, match="traced|trace"):
        check_compile_once(case)

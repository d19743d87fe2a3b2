"""The package layout: layers import only downwards, no private names cross packages, modules stay
short, old module paths and every public name still import, a 0.1.0 checkpoint still loads."""

import ast
import importlib
import json
import shutil
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "pdejax"

# the core's layers, lowest first; a module may import its own layer and lower ones only
LAYERS = {
    "core": 1,
    "grids": 2,
    "timestepping": 3,
    "linalg": 3,
    "neural_ode": 4,
    "inverse": 4,
    "data": 5,
    "train": 6,
    "experiment": 7,
}
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[0] == "solvers":
        parts = ("pdejax", "solvers", *parts[1:])
    elif parts[0] == "surrogates":
        parts = ("pdejax", "surrogates", *parts[1:])
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path):
    """``(imported module, imported names)`` of every import in ``path``, relative ones resolved."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            yield module, [a.name for a in node.names]


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "pdejax" or len(parts) < 2:
        return None
    if parts[1] in ("solvers", "surrogates"):
        return 8  # above the core: only the experiment layer may reach them
    return LAYERS.get(parts[1])


def _core_files():
    return sorted(p for p in CORE.rglob("*.py"))


def _package(module: str) -> str:
    return ".".join(module.split(".")[:2])


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_layers_import_only_downwards(path):
    own = _layer(_module_name(path))
    if own is None:  # pdejax/__init__.py, __main__.py, _moved.py: the package face
        return
    for module, _ in _imports(path):
        target = _layer(module)
        if target is None:
            continue
        allowed = own >= target or (own == 7 and target == 8)
        assert allowed, f"{path.relative_to(ROOT)} (layer {own}) imports {module} (layer {target})"


ALL_FILES = sorted(
    [*CORE.rglob("*.py"), *(ROOT / "solvers").glob("*.py"), *(ROOT / "surrogates").glob("*.py")]
)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_name_crosses_a_package(path):
    own = _package(_module_name(path))
    for module, names in _imports(path):
        if not module.startswith("pdejax") or _package(module) == own:
            continue
        private_module = [
            p for p in module.split(".") if p.startswith("_") and not p.endswith("__")
        ]
        private_names = [n for n in names if n.startswith("_") and not n.endswith("__")]
        assert not private_module and not private_names, (
            f"{path.relative_to(ROOT)} imports private {module} {private_names or ''} from "
            "another package; make what it needs public"
        )


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_stay_short(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines (> {MAX_LINES})"


def test_every_layer_says_what_it_owns_and_may_import():
    for name in LAYERS:
        doc = importlib.import_module(f"pdejax.{name}").__doc__ or ""
        assert "layer" in doc and len(doc) > 200, f"pdejax.{name} needs its layer docstring"


# the public names of 0.1.0, which must keep importing from the same places
PUBLIC_0_1_0 = {
    "pdejax": "AbstractDynamics AbstractOperator AbstractStepper GaussianRandomField "
    "GlobalRegularization LocalRegularization MLPDynamics NeumannGaussianRandomField NeuralODE "
    "NeuralODESolution PeriodicGrid Problem RegularizedSolver Solution VertexGrid __version__ "
    "available_problems check_state_shape energy_spectrum error_if_not_finite "
    "function_evaluations h1_error h1_seminorm integrate make_problem one_step_estimates "
    "register_problem regularization_schedule relative_l2 rollout stability_boundary",
    "pdejax.solvers": "AbstractIMEXScheme Burgers1D Burgers1DDynamics Burgers1DFD "
    "CrankNicolsonRK3 CrankNicolsonRK4 Darcy2D Dirichlet NavierStokes2D NavierStokesDynamics2D "
    "Periodic energy_spectrum enstrophy fno_forcing forcing_power kinetic_energy "
    "kolmogorov_forcing max_cfl streamfunction velocity",
    "pdejax.surrogates": "AbstractSpectralConv Autoregressive Corrected DeepONet FNO "
    "FactorizedSpectralConv FlaxOperator Increment NeuralDynamics PdejaxModule SpectralConv "
    "TFNO UNet fno_burgers_1d fno_darcy_2d fno_navier_stokes_2d fno_navier_stokes_3d "
    "fno_num_params",
    "pdejax.inverse": "AbstractObservation AbstractPrior Compose FullField GaussianNoise "
    "H1Smoothness IntegrateForward InverseError InverseResult LeastSquaresObjective "
    "LogCoefficient PointSensors RolloutForward SmoothedThreshold Subsample Tikhonov "
    "TimeFrames TotalVariation gradient_check random_sensors solve_inverse",
}


@pytest.mark.parametrize("package", sorted(PUBLIC_0_1_0))
def test_public_names_of_0_1_0_still_import(package):
    module = importlib.import_module(package)
    missing = [n for n in PUBLIC_0_1_0[package].split() if not hasattr(module, n)]
    assert not missing, f"{package} lost {missing}"
    assert set(PUBLIC_0_1_0[package].split()) - {"__version__"} <= set(module.__all__)


def test_old_module_paths_import_with_a_deprecation_warning():
    from pdejax._moved import MOVED

    for old, new in MOVED.items():
        with pytest.warns(DeprecationWarning, match=f"`{old}` moved to `{new}`"):
            module = importlib.import_module(old)
        assert module is importlib.import_module(new)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from pdejax.etdrk import ETDRK4
        from pdejax.timestepping import ETDRK4 as new

    assert ETDRK4 is new


FIXTURE = Path(__file__).parent / "fixtures" / "checkpoint_v0.1.0"


def test_a_0_1_0_checkpoint_loads_and_predicts_the_same(tmp_path):
    """A run directory written by pdejax 0.1.0 (arrays named leaf_00000 ..., no checksums)."""
    from pdejax.experiment import load_run

    run = shutil.copytree(FIXTURE, tmp_path / "run")
    expected = json.loads((run / "predictions.json").read_text())
    _, model = load_run(run)
    inputs = jnp.asarray(expected["inputs"], jnp.float32)
    pred = np.asarray(jax.vmap(model)(inputs))
    np.testing.assert_allclose(pred, np.asarray(expected["predictions"]), rtol=1e-6, atol=1e-7)


def test_new_checkpoints_name_arrays_by_their_path(tmp_path):
    import jax.random as jr
    import orbax.checkpoint as ocp

    from pdejax.surrogates import FNO
    from pdejax.train import Checkpointer

    model = FNO(1, 1, (4,), 4, num_layers=1, key=jr.key(0))
    ckpt = Checkpointer(tmp_path)
    ckpt.save(1, model, (), jr.key(0), {})
    ckpt.close()
    state = ocp.StandardCheckpointer().restore(tmp_path / "1" / "state")
    names = set(state["model"])
    assert any(n.startswith("layers.0.") or "layers.0" in n for n in names), sorted(names)
    assert not any(n.startswith("leaf_") for n in names)

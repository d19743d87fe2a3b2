"""Every experiment configuration parses, names a registered problem and model, and builds."""

from pathlib import Path

import pytest

from pdejax import available_problems
from pdejax.experiment import available_models, check_config, load_config

ROOT = Path(__file__).parents[1]
CONFIGS = sorted((ROOT / "experiments").glob("*.toml")) + [
    ROOT / "pdejax" / "experiment" / "demo.toml"
]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_is_valid(path):
    config = load_config(path)
    assert config.data.problem in available_problems(), config.data.problem
    assert config.model.name in available_models(), config.model.name
    assert config.expected, f"{path.name} should state the published or target error"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_builds_and_fits_its_data(path):
    # the problem serves the task, the model builds and maps one sample's input (abstract, at
    # the training resolution) to the target's shape; nothing is solved or trained
    predict = check_config(load_config(path))
    if predict.task != "operator":
        assert predict.history == 10, "the FNO paper's Navier-Stokes runs take 10 input frames"

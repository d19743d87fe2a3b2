"""Every experiment configuration parses, names a registered problem and model, and builds."""

from pathlib import Path

import numpy as np
import pytest

from pdejax import available_problems
from pdejax.experiment import (
    available_models,
    check_config,
    load_config,
    run_experiment,
    smoke_config,
)

ROOT = Path(__file__).parents[1]
CONFIGS = sorted((ROOT / "experiments").glob("*.toml")) + [
    ROOT / "pdejax" / "experiment" / "demo.toml"
]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_is_valid(path):
    config = load_config(path)
    assert config.data.problem in available_problems() or config.data.path, config.data
    assert config.model.name in available_models(), config.model.name
    assert config.expected, f"{path.name} should state the published or target error"


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_builds_and_fits_its_data(path):
    # the problem serves the task, the model builds and maps one sample's input (abstract, at
    # the training resolution) to the target's shape; nothing is solved or trained
    plan = check_config(load_config(path))
    if plan.task.name != "operator":
        assert plan.task.input_frames == 10, "the FNO paper's Navier-Stokes runs take 10 frames"


SPACE_KEYS = ("num_points", "output_points")


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_smoke_run_at_the_real_resolution(path, tmp_path):
    """`pdejax train CONFIG --smoke`: the shipped configuration at its real resolution, stride
    and evaluation resolutions, with a handful of samples and one epoch, end to end (data,
    normalizers, training, evaluation at every resolution, report), so that a full-scale path
    never fails for the first time on a GPU."""
    where = [f'run_dir="{tmp_path / "run"}"', f'data.data_dir="{tmp_path / "data"}"']
    full = load_config(path)
    smoke = smoke_config(load_config(path, overrides=where))
    for key in SPACE_KEYS:  # smoke mode may shorten time, never space
        assert smoke.data.problem_args.get(key) == full.data.problem_args.get(key), key
    assert smoke.data.train_stride == full.data.train_stride
    assert smoke.eval.resolutions == full.eval.resolutions
    assert smoke.model == full.model
    results = run_experiment(smoke, progress=False)
    plan = check_config(smoke)
    for s in plan.resolutions:
        assert np.isfinite(results[f"test_rel_l2@{s}"]), (s, results)
    assert (tmp_path / "run-smoke" / "report.md").exists()

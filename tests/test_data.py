"""Data: HDF5 schema round trip, resumable generation (SIGKILL), community readers, bad files."""

import json
import os
import signal
import subprocess
import sys
import time

import h5py
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import scipy.io

from pdejax import Problem, make_problem, register_problem
from pdejax.data import Dataset, generate, load_dataset, read_fno_mat, read_pdebench, save_dataset


@register_problem("test/cumsum")
def _cumsum_problem(num_points: int = 16, slow: float = 0.0):
    """A tiny deterministic problem; `slow` adds host-side delay per chunk for the kill test."""

    def solve(a):
        return jnp.cumsum(a, axis=-1) / num_points

    return Problem(
        name="test/cumsum",
        sample_input=lambda key: jr.normal(key, (1, num_points)),
        solve=solve,
        parameters={"num_points": num_points},
        coordinates=(np.arange(num_points) / num_points,),
    )


def test_generate_writes_schema_and_is_chunk_independent(tmp_path):
    problem = make_problem("test/cumsum")
    a = load_dataset(generate(problem, tmp_path / "a.h5", 10, chunk_size=4, progress=False))
    b = load_dataset(generate(problem, tmp_path / "b.h5", 10, chunk_size=3, progress=False))
    assert a.inputs.shape == (10, 1, 16) and a.outputs.shape == (10, 1, 16)
    np.testing.assert_array_equal(a.inputs, b.inputs)  # sample i depends only on (seed, i)
    np.testing.assert_allclose(a.outputs, np.cumsum(a.inputs, -1) / 16, rtol=1e-6)
    assert a.problem == "test/cumsum" and a.generator["seed"] == 0
    assert a.generator["pdejax_version"] and a.parameters == {"num_points": 16}
    np.testing.assert_allclose(a.coordinates[0], np.arange(16) / 16)
    with h5py.File(tmp_path / "a.h5") as f:
        assert f.attrs["format"] == "pdejax-dataset" and f.attrs["schema_version"] == 1
    assert not (tmp_path / "a.h5.parts").exists()


def test_generate_refuses_to_overwrite_other_settings(tmp_path):
    problem = make_problem("test/cumsum")
    path = generate(problem, tmp_path / "d.h5", 4, progress=False)
    before = path.read_bytes()
    assert generate(problem, path, 4, progress=False) == path  # same settings: reused
    with pytest.raises(ValueError, match="other settings"):
        generate(problem, path, 5, progress=False)
    assert path.read_bytes() == before


GEN_SCRIPT = """
import sys, time, jax
jax.config.update("jax_enable_x64", True)
from pdejax import make_problem
from pdejax.data import generate
sys.path.insert(0, {tests!r})
import test_data  # registers test/cumsum
problem = make_problem("test/cumsum", num_points=64)
solve = problem.solve
def slow_solve(a):
    jax.debug.callback(lambda: time.sleep(0.02))
    return solve(a)
problem = problem.__class__(**dict(problem.__dict__, solve=slow_solve))
generate(problem, {path!r}, 400, chunk_size=8, progress=False)
"""


def test_generation_killed_mid_run_resumes_to_the_same_file(tmp_path):
    target = tmp_path / "killed.h5"
    script = GEN_SCRIPT.format(tests=os.path.dirname(__file__), path=str(target))
    env = dict(os.environ, XLA_FLAGS="--xla_cpu_multi_thread_eigen=false")
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
    parts = tmp_path / "killed.h5.parts"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(parts.glob("chunk_*.h5"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list(parts.glob("chunk_*.h5")))
    assert 3 <= done_before < 50, f"kill should land mid-run ({done_before} of 50 chunks done)"
    assert not target.exists()
    subprocess.run([sys.executable, "-c", script], env=env, check=True)
    resumed = load_dataset(target)

    reference = load_dataset(
        generate(
            make_problem("test/cumsum", num_points=64),
            tmp_path / "ref.h5",
            400,
            chunk_size=8,
            progress=False,
        )  # fmt: skip
    )
    np.testing.assert_array_equal(resumed.inputs, reference.inputs)
    np.testing.assert_array_equal(resumed.outputs, reference.outputs)
    assert resumed.generator == reference.generator


def test_dataset_round_trip_and_split(tmp_path):
    rng = np.random.default_rng(2)
    ds = Dataset(rng.random((6, 2, 4, 4)), rng.random((6, 3, 1, 4, 4)), problem="x",
                 parameters={"nu": 0.1}, times=np.array([1.0, 2.0, 3.0]))  # fmt: skip
    back = load_dataset(save_dataset(ds, tmp_path / "ds.h5"))
    np.testing.assert_array_equal(back.outputs, ds.outputs)
    np.testing.assert_array_equal(back.times, ds.times)
    assert back.parameters == {"nu": 0.1}
    train, test = back.split(4)
    assert len(train) == 4 and len(test) == 2
    with pytest.raises(ValueError, match="exists"):
        save_dataset(ds, tmp_path / "ds.h5")


def test_bad_files_give_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="no such file"):
        load_dataset(tmp_path / "missing.h5")
    good = save_dataset(Dataset(np.zeros((4, 1, 8)), np.zeros((4, 1, 8))), tmp_path / "good.h5")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_dataset(truncated)
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not an hdf5 file at all" * 10)
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_dataset(garbage)
    with h5py.File(tmp_path / "nooutputs.h5", "w") as f:
        f.attrs["format"] = "pdejax-dataset"
        f.attrs["schema_version"] = 1
        f.create_dataset("inputs", data=np.zeros((2, 1, 4)))
    with pytest.raises(ValueError, match="missing the dataset `/outputs`"):
        load_dataset(tmp_path / "nooutputs.h5")
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f.create_dataset("inputs", data=np.zeros(3))
    with pytest.raises(ValueError, match="not a pdejax data set"):
        load_dataset(tmp_path / "foreign.h5")


def _write_v73(path, arrays):
    """A MATLAB v7.3 file as MATLAB writes it: HDF5 with every array transposed."""
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in arrays.items():
            f.create_dataset(name, data=np.asarray(value).transpose())


@pytest.mark.parametrize("version", ["v5", "v7.3"])
def test_fno_mat_burgers_darcy_and_navier_stokes(tmp_path, version):
    rng = np.random.default_rng(0)
    cases = {
        "burgers": {"a": rng.random((3, 32)), "u": rng.random((3, 32))},
        "darcy": {"coeff": rng.random((3, 9, 9)), "sol": rng.random((3, 9, 9))},
        "ns": {"a": rng.random((2, 8, 8)), "u": rng.random((2, 8, 8, 5)), "t": np.arange(1.0, 6.0)},
    }
    for name, arrays in cases.items():
        path = tmp_path / f"{name}.mat"
        if version == "v5":
            scipy.io.savemat(path, arrays)
        else:
            _write_v73(path, arrays)
        ds = read_fno_mat(path)
        first = arrays.get("a", arrays.get("coeff"))
        np.testing.assert_allclose(ds.inputs[:, 0], first, rtol=1e-6)
        if name == "ns":
            assert ds.outputs.shape == (2, 5, 1, 8, 8)
            np.testing.assert_allclose(ds.outputs[:, 2, 0], arrays["u"][..., 2], rtol=1e-6)
            np.testing.assert_allclose(ds.times, arrays["t"])
        else:
            second = arrays.get("u", arrays.get("sol"))
            np.testing.assert_allclose(ds.outputs[:, 0], second, rtol=1e-6)
    scipy.io.savemat(tmp_path / "wrong.mat", {"x": np.zeros(3)})
    with pytest.raises(ValueError, match="expected `a`/`u`"):
        read_fno_mat(tmp_path / "wrong.mat")


def test_pdebench_time_dependent_and_darcy(tmp_path):
    rng = np.random.default_rng(1)
    with h5py.File(tmp_path / "burgers.hdf5", "w") as f:
        f.create_dataset("tensor", data=rng.random((4, 6, 16)))
        f.create_dataset("x-coordinate", data=np.linspace(0, 1, 16))
        f.create_dataset("t-coordinate", data=np.linspace(0, 2, 7))
    ds = read_pdebench(tmp_path / "burgers.hdf5")
    assert ds.inputs.shape == (4, 1, 16) and ds.outputs.shape == (4, 5, 1, 16)
    assert ds.times.shape == (5,) and ds.coordinates[0].shape == (16,)
    with h5py.File(tmp_path / "darcy.hdf5", "w") as f:
        f.create_dataset("nu", data=rng.random((3, 8, 8)))
        f.create_dataset("tensor", data=rng.random((3, 1, 8, 8)))
        f.attrs["beta"] = 1.0
    ds = read_pdebench(tmp_path / "darcy.hdf5")
    assert ds.inputs.shape == (3, 1, 8, 8) and ds.outputs.shape == (3, 1, 8, 8)
    assert ds.parameters == {"beta": 1.0}
    with h5py.File(tmp_path / "other.hdf5", "w") as f:
        f.create_dataset("data", data=np.zeros(2))
    with pytest.raises(ValueError, match="no `tensor`"):
        read_pdebench(tmp_path / "other.hdf5")
    assert json.dumps(ds.parameters)

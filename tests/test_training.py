"""Training: the loop, checkpoints and exact resume after SIGKILL, 1 vs 4 devices, configs."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest
from test_data import _cumsum_problem  # noqa: F401  (registers test/cumsum)

from pdejax import make_problem
from pdejax.experiment import evaluate_run, from_dict, load_config, load_run, run_experiment
from pdejax.train import ArrayLoader, Checkpointer, OnlineSource, fit, mse_loss, relative_l2_loss


class Linear1D(eqx.Module):
    """A small trainable operator: a dense map on 1-d fields (enough to test the loop)."""

    weight: jax.Array
    bias: jax.Array

    def __init__(self, n, *, key):
        self.weight = 0.1 * jr.normal(key, (n, n))
        self.bias = jnp.zeros(n)

    def __call__(self, u):
        return (self.weight @ u[0] + self.bias)[None]


def _data(n=16, samples=64, seed=0):
    x = jr.normal(jr.key(seed), (samples, 1, n))
    return x, jnp.cumsum(x, axis=-1) / n


def _params(model):
    return jax.tree.leaves(eqx.filter(model, eqx.is_array))


def test_fit_learns_and_logs(tmp_path):
    x, y = _data()
    out = fit(
        Linear1D(16, key=jr.key(1)), optax.adam(1e-2), ArrayLoader(x, y, 16), loss=mse_loss,
        num_steps=300, run_dir=tmp_path, devices=jax.devices()[:1], progress=False,
    )  # fmt: skip
    records = [json.loads(s) for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == list(range(4, 301, 4))
    assert records[-1]["train_loss"] < 1e-3 * records[0]["train_loss"]
    assert out.step == 300 and Checkpointer(tmp_path / "checkpoints").latest_step() == 300


def test_one_and_four_devices_give_the_same_parameters():
    x, y = _data(samples=32)
    kwargs = dict(loss=relative_l2_loss, num_steps=6, progress=False)
    one = fit(Linear1D(16, key=jr.key(2)), optax.adam(1e-2), ArrayLoader(x, y, 8),
              devices=jax.devices()[:1], **kwargs)  # fmt: skip
    four = fit(Linear1D(16, key=jr.key(2)), optax.adam(1e-2), ArrayLoader(x, y, 8),
               devices=jax.devices()[:4], **kwargs)  # fmt: skip
    assert len(jax.devices()) >= 4
    for a, b in zip(_params(one.model), _params(four.model)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)
    moved = max(float(jnp.abs(a - b).max()) for a, b in
                zip(_params(one.model), _params(Linear1D(16, key=jr.key(2)))))  # fmt: skip
    assert moved > 1e-3, "training should have changed the parameters"
    with pytest.raises(ValueError, match="does not divide among 3 devices"):
        fit(Linear1D(16, key=jr.key(2)), optax.adam(1e-2), ArrayLoader(x, y, 8),
            devices=jax.devices()[:3], **kwargs)  # fmt: skip


def test_in_process_resume_is_bitwise(tmp_path):
    x, y = _data()
    make = lambda: Linear1D(16, key=jr.key(3))  # noqa: E731
    full = fit(make(), optax.adam(1e-2), ArrayLoader(x, y, 16), num_steps=40,
               devices=jax.devices()[:1], progress=False)  # fmt: skip
    fit(make(), optax.adam(1e-2), ArrayLoader(x, y, 16), num_steps=20, run_dir=tmp_path,
        checkpoint_every=4, devices=jax.devices()[:1], progress=False)  # fmt: skip
    resumed = fit(make(), optax.adam(1e-2), ArrayLoader(x, y, 16), num_steps=40,
                  run_dir=tmp_path, checkpoint_every=4, devices=jax.devices()[:1],
                  progress=False)  # fmt: skip
    for a, b in zip(_params(full.model), _params(resumed.model)):
        np.testing.assert_array_equal(a, b)
    steps = [json.loads(s)["step"] for s in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert steps == list(range(4, 41, 4)), "records must not repeat after a resume"


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    x, y = _data()
    y = y.at[40:].set(jnp.nan)  # batches of later epochs hit NaN targets
    loader = ArrayLoader(x, y, 16, shuffle=False)
    with pytest.raises(FloatingPointError, match="non-finite at step 3.*step 2"):
        fit(Linear1D(16, key=jr.key(4)), optax.adam(1e-2), loader, loss=mse_loss,
            num_steps=40, run_dir=tmp_path, checkpoint_every=1, log_every=1,
            devices=jax.devices()[:1], progress=False)  # fmt: skip
    assert Checkpointer(tmp_path / "checkpoints").latest_step() == 2


def test_online_source_trains_without_disk_and_is_reproducible():
    problem = make_problem("test/cumsum")
    source = OnlineSource(problem, 8, dtype=jnp.float64)
    a, u = source.generate(source.keys(5))
    b, v = source.generate(source.keys(5))
    np.testing.assert_array_equal(a, b)
    assert a.shape == (8, 1, 16)
    out = fit(Linear1D(16, key=jr.key(5)), optax.adam(1e-2), source, loss=mse_loss,
              num_steps=200, log_every=50, devices=jax.devices()[:1], progress=False)  # fmt: skip
    assert out.history[-1]["train_loss"] < 0.05 * out.history[0]["train_loss"]


def _tiny_config(tmp_path, name="tiny", epochs=3, **data):
    return {
        "name": name,
        "run_dir": str(tmp_path / name),
        "data": {"problem": "fno/burgers", "problem_args": {"num_points": 64, "num_steps": 20},
                 "num_train": 32, "num_test": 8, "chunk_size": 8,
                 "data_dir": str(tmp_path / "data"), **data},
        "model": {"name": "FNO",
                  "kwargs": {"in_channels": 1, "out_channels": 1, "modes": [4], "width": 8}},
        "train": {"num_epochs": epochs, "batch_size": 8, "checkpoint_every_epochs": 1},
        "eval": {"resolutions": [32, 64]},
    }  # fmt: skip


def test_experiment_runs_reports_and_rebuilds_from_checkpoint(tmp_path):
    config = from_dict(_tiny_config(tmp_path))
    results = run_experiment(config, progress=False)
    run = tmp_path / "tiny"
    for name in ("config.json", "metrics.jsonl", "results.json", "report.md",
                 "training_curve.png", "predictions.png"):  # fmt: skip
        assert (run / name).stat().st_size > 0, name
    assert {"test_rel_l2@32", "test_rel_l2@64"} <= set(results)
    _, model = load_run(run)
    assert evaluate_run(run, [64])["test_rel_l2@64"] == pytest.approx(results["test_rel_l2@64"])
    # a different configuration never overwrites the run directory
    other = from_dict(dict(_tiny_config(tmp_path), train={"num_epochs": 9, "batch_size": 8}))
    with pytest.raises(ValueError, match="different configuration"):
        run_experiment(other, progress=False)


CLI = [sys.executable, "-m", "pdejax"]


def _final_params(run_dir):
    _, model = load_run(run_dir)
    return _params(model)


def test_sigkill_mid_training_then_rerun_matches_uninterrupted(tmp_path):
    def write(name):
        cfg = _tiny_config(tmp_path, name=name, epochs=12)
        lines = [f'name = "{name}"', f'run_dir = "{cfg["run_dir"]}"']
        d = cfg["data"]
        lines += ["[data]", 'problem = "fno/burgers"', "problem_args = { num_points = 64, num_steps = 20 }",
                  "num_train = 32", "num_test = 8", "chunk_size = 8", f'data_dir = "{d["data_dir"]}"',
                  "[model]", 'name = "FNO"',
                  "kwargs = { in_channels = 1, out_channels = 1, modes = [4], width = 8 }",
                  "[train]", "num_epochs = 12", "batch_size = 8", "checkpoint_every_epochs = 1",
                  "[eval]", "resolutions = [64]"]  # fmt: skip
        path = tmp_path / f"{name}.toml"
        path.write_text("\n".join(lines) + "\n")
        return path

    env = dict(os.environ, XLA_FLAGS="--xla_cpu_multi_thread_eigen=false")
    reference = write("reference")
    subprocess.run([*CLI, "train", str(reference)], env=env, check=True, capture_output=True)

    killed = write("killed")
    proc = subprocess.Popen([*CLI, "train", str(killed)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    ckpts = tmp_path / "killed" / "checkpoints"
    deadline = time.time() + 300
    while time.time() < deadline:
        steps = [int(p.name) for p in ckpts.glob("*") if p.name.isdigit()] if ckpts.exists() else []
        if steps and max(steps) >= 8:  # two epochs in, out of twelve
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / "results.json").exists(), "the kill should land mid-run"
    subprocess.run([*CLI, "train", str(killed)], env=env, check=True, capture_output=True)

    for a, b in zip(_final_params(tmp_path / "reference"), _final_params(tmp_path / "killed")):
        np.testing.assert_array_equal(a, b)
    ref = json.loads((tmp_path / "reference" / "results.json").read_text())
    res = json.loads((tmp_path / "killed" / "results.json").read_text())
    assert ref["test_rel_l2@64"] == res["test_rel_l2@64"]


def test_bad_configs_are_rejected_with_the_key_named(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[train]\nnum_epoch = 3\n')
    with pytest.raises(ValueError, match="unknown key.*train.num_epoch"):
        load_config(bad)
    bad.write_text('name = "x"\n[train]\nlearning_rate = "fast"\n')
    with pytest.raises(ValueError, match="train.learning_rate.*expected float"):
        load_config(bad)
    result = subprocess.run([*CLI, "train", str(bad)], capture_output=True, text=True)
    assert result.returncode == 2 and "learning_rate" in result.stderr
    with pytest.raises(ValueError, match="train.num_epochs"):
        from_dict({}, overrides=["train.num_epochs=x"])
    with pytest.raises(ValueError, match="no such file"):
        load_config(tmp_path / "missing.toml")


@pytest.mark.slow
def test_two_processes_match_one(tmp_path):
    """A 2-process run (jax.distributed over gloo, 2 CPU devices each) trains to the same
    parameters as 1 process with 4 devices, and writes its metrics once."""
    import socket

    worker = str(Path(__file__).with_name("_multiprocess_fit.py"))
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    single = subprocess.run(
        [sys.executable, worker, "single", str(tmp_path / "one.npz"), "4"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert single.returncode == 0, single.stderr[-2000:]
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                worker,
                "multi",
                str(tmp_path / "two.npz"),
                "2",
                str(tmp_path / "run"),
            ],
            env=dict(
                env,
                JAX_COORDINATOR_ADDRESS=f"localhost:{port}",
                JAX_NUM_PROCESSES="2",
                JAX_PROCESS_ID=str(i),
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for i in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, e) in zip(procs, outs):
        assert p.returncode == 0, e[-2000:]
    assert "process 1 of 2 devices 4" in "".join(o for o, _ in outs)
    one, two = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")
    assert len(one.files) == len(two.files) > 0
    for name in one.files:
        np.testing.assert_allclose(two[name], one[name], rtol=1e-9, atol=1e-12, err_msg=name)
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == [2, 4, 6], lines

"""Trajectory tasks of the experiment runner (FNO paper, Navier-Stokes): windowing, the
autoregressive (FNO-2D) and space-time (FNO-3D) predictors and losses, tiny end-to-end runs,
and the errors for configurations a problem cannot serve."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pdejax
from pdejax.experiment import (
    evaluate_run,
    from_dict,
    load_run,
    make_task,
    run_experiment,
    window_frames,
)


class LastPlus(pdejax.AbstractOperator):
    """Toy net: the newest frame of a window plus ``offset`` (times the 1-based time index along
    a trailing time axis when ``space_time``)."""

    in_channels: int
    channels: int
    offset: float
    space_time: bool = False

    @property
    def in_shape(self):
        return (self.in_channels, None, None) + ((None,) if self.space_time else ())

    def evaluate(self, a):
        last = a[-self.channels :]
        if self.space_time:
            return last + self.offset * jnp.arange(1, a.shape[-1] + 1, dtype=a.dtype)
        return last + self.offset


def _ramp(samples=3, frames=8, channels=2, n=4):
    """Frame t of sample s, channel c, is the constant 100 s + t + c / 10."""
    s, t, c = np.meshgrid(np.arange(samples), np.arange(frames), np.arange(channels), indexing="ij")
    value = 100.0 * s + t + c / 10
    return np.broadcast_to(value[..., None, None], (samples, frames, channels, n, n)).copy()


def test_window_frames_takes_the_right_frames():
    frames = _ramp()
    a, u = window_frames(frames, input_frames=3, first_frame=1)
    assert a.shape == (3, 6, 4, 4) and u.shape == (3, 8, 4, 4)
    # inputs: frames 1, 2, 3 stacked along channels oldest first; targets: frames 4..7
    np.testing.assert_array_equal(a[1, :, 0, 0], [101.0, 101.1, 102.0, 102.1, 103.0, 103.1])
    np.testing.assert_array_equal(u[2, :, 0, 0], [204.0, 204.1, 205.0, 205.1, 206.0, 206.1,
                                                  207.0, 207.1])  # fmt: skip
    a0, u0 = window_frames(frames, input_frames=1)
    np.testing.assert_array_equal(a0[0, :, 0, 0], [0.0, 0.1])
    assert u0.shape == (3, 14, 4, 4)


@pytest.mark.parametrize("task", ["autoregressive", "space_time"])
def test_predictors_feed_their_own_predictions(task):
    # frames t = 0..7 (one channel): 3 input frames (0, 1, 2) and 5 targets (3..7)
    a, u = window_frames(_ramp(channels=1), input_frames=3)
    st = task == "space_time"
    runner = make_task(from_dict({"data": {"task": task, "input_frames": 3}}).data)
    exact = runner.predictor(LastPlus(3, 1, 1.0, st), a.shape[1:], u.shape[1:])
    np.testing.assert_array_equal(jax.vmap(exact)(jnp.asarray(a)), u)
    loss = runner.loss("relative_l2", a.shape[1:], u.shape[1:])
    assert float(loss(exact.net, jnp.asarray(a), jnp.asarray(u))) == 0.0
    # offset 2: predictions 2 + 2j against the truth 2 + j (j = 1..5) for sample 0: the rollout
    # uses its own (wrong) frames, so the error grows as j / (2 + j)
    wrong = runner.predictor(LastPlus(3, 1, 2.0, st), a.shape[1:], u.shape[1:])
    pred = jax.vmap(wrong)(jnp.asarray(a[:1]))
    np.testing.assert_array_equal(pred[0, :, 0, 0], [4.0, 6.0, 8.0, 10.0, 12.0])
    j = np.arange(1, 6)
    got = float(loss(wrong.net, jnp.asarray(a[:1]), jnp.asarray(u[:1])))
    if task == "autoregressive":  # the mean of the per-frame errors
        want = np.mean(j / (2 + j))
    else:  # one error over all predicted frames
        want = np.linalg.norm(j) / np.linalg.norm(2 + j)
    assert got == pytest.approx(want, rel=1e-12)


def test_two_channel_frames_roll_out_per_frame():
    a, u = window_frames(_ramp(channels=2), input_frames=3)
    runner = make_task(from_dict({"data": {"task": "autoregressive", "input_frames": 3}}).data)
    exact = runner.predictor(LastPlus(6, 2, 1.0), a.shape[1:], u.shape[1:])
    np.testing.assert_array_equal(jax.vmap(exact)(jnp.asarray(a)), u)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("ns_data")  # one data set for all tiny runs


def _tiny(tmp_path, task, name, data_dir=None, **data):
    k3 = task == "space_time"
    return from_dict({
        "name": name,
        "run_dir": str(tmp_path / name),
        "data": {"problem": "fno/navier_stokes_1e-3",
                 "problem_args": {"num_points": 16, "output_points": 16, "dt": 0.1,
                                  "final_time": 5},
                 "num_train": 10, "num_test": 4, "chunk_size": 14,
                 "data_dir": str(data_dir or tmp_path / "data"),
                 "task": task, "input_frames": 2, "first_frame": 1, **data},
        "model": {"name": "FNO",
                  "kwargs": {"in_channels": 2, "out_channels": 1, "width": 6,
                             "modes": [4, 4, 2] if k3 else [4, 4], "projection_width": 8}},
        "train": {"num_epochs": 2, "batch_size": 5, "learning_rate": 3e-3,  # 1 device
                  "checkpoint_every_epochs": 1},
        "eval": {"num_plot_samples": 2},
    })  # fmt: skip


@pytest.fixture
def float32_runs():
    # The CLI runs without x64 (float32 data and training); under the tests' x64 the
    # Navier-Stokes solver's prepare() mixes float64 coefficients into float32 states.
    with jax.enable_x64(False):
        yield


@pytest.mark.parametrize(
    "task", ["autoregressive", pytest.param("space_time", marks=pytest.mark.slow)]
)
def test_tiny_navier_stokes_run_end_to_end(tmp_path, task, float32_runs, data_dir):
    config = _tiny(tmp_path, task, task, data_dir)
    results = run_experiment(config, progress=False)
    run = tmp_path / task
    for f in ("metrics.jsonl", "results.json", "report.md", "training_curve.png", "frames.png"):
        assert (run / f).stat().st_size > 0, f
    assert "frames.png" in (run / "report.md").read_text()
    assert results["task"] == task
    assert (results["input_frames"], results["predicted_frames"]) == (2, 3)
    history = [json.loads(s) for s in (run / "metrics.jsonl").read_text().splitlines()]
    losses = [h["train_loss"] for h in history]
    assert len(losses) == 2 and np.all(np.isfinite(losses)), losses
    assert losses[-1] < losses[0], f"the loss should go down: {losses}"
    err = results["test_rel_l2@16"]
    assert 0 < err < 1.5, err  # two epochs of a tiny net: finite, not yet good
    # the checkpoint rebuilds the model; evaluation repeats the run's figure
    _, predict = load_run(run)  # raw input frames -> raw predicted frames
    assert type(predict.net).__name__ == "FNO"
    if task == "space_time":
        return  # the rest is the same for both tasks
    assert evaluate_run(run)["test_rel_l2@16"] == pytest.approx(err, rel=1e-5)
    # running again resumes from the final checkpoint: nothing left to train, same result
    again = run_experiment(config, progress=False)
    assert again["steps"] == results["steps"]
    assert again["test_rel_l2@16"] == pytest.approx(err, rel=1e-6)


def test_configs_a_problem_cannot_serve_are_rejected(tmp_path):
    with pytest.raises(ValueError, match=r"data.input_frames = 5 leaves no frame.*between 1 and 4"):
        run_experiment(_tiny(tmp_path, "autoregressive", "a", input_frames=5), progress=False)
    with pytest.raises(ValueError, match=r"`data.task` = 'rollout' is not one of the allowed "
                                         r"values: 'operator', 'autoregressive', 'space_time'"):  # fmt: skip
        run_experiment(_tiny(tmp_path, "rollout", "b"), progress=False)
    darcy = _tiny(tmp_path, "autoregressive", "c")
    darcy.data.problem, darcy.data.problem_args = "fno/darcy", {"num_points": 9}
    with pytest.raises(ValueError, match=r"data.task = 'autoregressive' needs trajectories "
                                         r"\(T \+ 1, C, \*spatial\); 'fno/darcy' gives"):  # fmt: skip
        run_experiment(darcy, progress=False)
    online = _tiny(tmp_path, "space_time", "d", online=True)
    with pytest.raises(ValueError, match="`data.online = true` works only with"):
        run_experiment(online, progress=False)
    # a 2-d net for 3 input frames: the shapes are named, with the fix
    wrong = _tiny(tmp_path, "autoregressive", "e", input_frames=3)
    with pytest.raises(ValueError, match=r"in_channels = 3, out_channels = 1"):
        run_experiment(wrong, progress=False)


def test_run_directories_from_before_the_task_keys_still_resume(tmp_path):
    from pdejax.experiment import to_dict
    from pdejax.experiment.runner import _claim_run_dir

    run = tmp_path / "old"
    config = from_dict({"name": "old", "run_dir": str(run), "data": {"problem": "fno/burgers"}})
    saved = to_dict(config)
    for key in ("task", "input_frames", "first_frame"):
        del saved["data"][key]  # as written before these keys existed
    (run / "checkpoints" / "10").mkdir(parents=True)  # a run that has started
    (run / "config.json").write_text(json.dumps(saved))
    assert _claim_run_dir(config, run) == "resume"
    other = from_dict(dict(to_dict(config), data=dict(to_dict(config)["data"], seed=1)))
    with pytest.raises(ValueError, match="different configuration"):
        _claim_run_dir(other, run)
    # a failed start (no checkpoint) is reused by another configuration without complaint
    (run / "checkpoints" / "10").rmdir()
    assert _claim_run_dir(other, run) == "new"

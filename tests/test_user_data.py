"""Users' own data files through the CLI: for each format a tiny file written in its producer's
documented layout (tests/readers_writers.py) is trained on through `pdejax train` with a TOML
`[data] path = ...`, evaluated through `pdejax evaluate`, and reloaded with `load_run`, whose
predictions must come out in the data's raw units."""

import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import readers_writers as w

from pdejax.data import open_source
from pdejax.experiment import load_run
from pdejax.experiment.cli import main

# (id, writer, file name, [data] extra keys, model in/out channels, modes)
OPERATOR = [
    ("fno-mat-v5-burgers", lambda p: w.write_fno_burgers(p, "v5", S=8, N=8), "burgers.mat", {}, 1, (2,)),
    ("fno-mat-v73-darcy", lambda p: w.write_fno_darcy(p, "v7.3", S=8, X=6, Y=5), "darcy.mat", {}, 1, (2, 2)),
    ("pdebench-darcy", lambda p: w.write_pdebench_darcy(p, S=8, X=6, Y=5), "2D_DarcyFlow_beta1.0_Train.hdf5", {}, 1, (2, 2)),
]  # fmt: skip
TRAJECTORY = [
    ("fno-mat-ns", lambda p: w.write_fno_ns(p, "v5", S=6, X=6, Y=5, T=4), "ns.mat", {}, 1, (2, 2)),
    ("pdebench-1d", lambda p: w.write_pdebench_1d(p, S=6, T=4, X=7), "1D_Advection_Sols_beta0.1.hdf5", {}, 1, (2,)),
    ("pdebench-cfd", lambda p: w.write_pdebench_cfd(p, S=6, T=5, X=6, Y=4), "2D_CFD_tiny.hdf5",
     {"outputs": ["density", "Vx"]}, 2, (2, 2)),
    ("pdebench-samples", lambda p: w.write_pdebench_samples(p, S=6, T=4, X=6, Y=5, C=2), "2D_diff-react_NA_NA.h5", {}, 2, (2, 2)),
    ("the-well", lambda p: w.write_the_well(p, S=6, T=5, X=6, Y=4), "tiny_well.hdf5",
     {"outputs": ["pressure"]}, 1, (2, 2)),
    ("pdearena", lambda p: w.write_pdearena_ns(p, S=6, T=4, X=6, Y=5), "NavierStokes2D_train_1_0.5.h5",
     {"split": "train", "outputs": ["u"]}, 1, (2, 2)),
    ("pdejax", lambda p: w.write_pdejax(p, S=6, C=2, T=3, X=7), "own.h5", {}, 2, (2,)),
]  # fmt: skip


def _toml(path: Path, data: dict, model: dict, *, num_train: int, num_test: int) -> Path:
    def value(v):
        return json.dumps(v) if not isinstance(v, bool) else str(v).lower()

    lines = ['name = "user-data"', f'run_dir = "{path.parent / "run"}"', "[data]"]
    lines += [f"{k} = {value(v)}" for k, v in data.items()]
    lines += [f"num_train = {num_train}", f"num_test = {num_test}", "[model]", 'name = "FNO"']
    kwargs = ", ".join(f"{k} = {value(v)}" for k, v in model.items())
    lines += [f"kwargs = {{ {kwargs} }}", "[train]", "num_epochs = 2", "batch_size = 2"]
    lines += ["[eval]", "num_plot_samples = 1", "[expected]", 'note = "a test"']
    path.write_text("\n".join(lines) + "\n")
    return path


def _train_and_evaluate(tmp_path, capsys, toml) -> dict:
    assert main(["train", str(toml)]) == 0, capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "run")]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    scores = json.loads(out[out.rindex("{") :])
    assert all(np.isfinite(v) for v in scores.values()), scores
    return scores


@pytest.mark.parametrize(
    "fmt,write,name,extra,channels,modes", OPERATOR, ids=[c[0] for c in OPERATOR]
)
def test_operator_file_trains_and_reloads_in_raw_units(tmp_path, capsys, fmt, write, name, extra, channels, modes):  # fmt: skip
    path = tmp_path / name
    write(path)
    data = {"path": str(path), "input_normalizer": "pointwise", "output_normalizer": "pointwise", **extra}  # fmt: skip
    model = {"in_channels": channels, "out_channels": channels, "modes": list(modes), "width": 4, "num_layers": 1}  # fmt: skip
    _train_and_evaluate(tmp_path, capsys, _toml(tmp_path / "run.toml", data, model, num_train=6, num_test=2))  # fmt: skip
    _, predict = load_run(tmp_path / "run")
    with open_source(path) as source:
        a, _ = source.read(slice(6, 8))  # the test split: the last samples of the file
        _, u_train = source.read(slice(0, 6))
    pred = np.asarray(jax.vmap(predict)(jnp.asarray(a)))
    # the pattern data have values in the hundreds to thousands; the output normalizer fitted
    # on the training split maps the barely trained net's O(1) outputs back to the training
    # targets' level: raw units, not normalized ones (the test samples lie outside that range,
    # so the comparison is with the training targets)
    scale = np.abs(u_train).mean()
    assert scale > 100, scale
    assert abs(pred.mean() - u_train.mean()) < 0.3 * scale, (pred.mean(), u_train.mean())
    assert 0.1 * scale < np.abs(pred).mean() < 10 * scale
    report = (tmp_path / "run" / "report.md").read_text()
    assert f"read from `{path}`" in report, report


@pytest.mark.parametrize(
    "fmt,write,name,extra,channels,modes", TRAJECTORY, ids=[c[0] for c in TRAJECTORY]
)
def test_trajectory_file_trains_autoregressively(tmp_path, capsys, fmt, write, name, extra, channels, modes):  # fmt: skip
    path = tmp_path / name
    write(path)
    data = {"path": str(path), "task": "autoregressive", "input_frames": 1, **extra}
    model = {"in_channels": channels, "out_channels": channels, "modes": list(modes), "width": 4, "num_layers": 1}  # fmt: skip
    scores = _train_and_evaluate(tmp_path, capsys, _toml(tmp_path / "run.toml", data, model, num_train=4, num_test=2))  # fmt: skip
    config, predict = load_run(tmp_path / "run")
    run = json.loads((tmp_path / "run" / "results.json").read_text())
    assert run["task"] == "autoregressive" and run["predicted_frames"] >= 1
    with open_source(path, **({"split": extra["split"]} if "split" in extra else {}),
                     outputs=extra.get("outputs")) as source:  # fmt: skip
        traj = source.read_trajectories(slice(source.num_samples - 2, None))
    a = traj[:, :1].reshape(2, -1, *traj.shape[3:])
    pred = np.asarray(jax.vmap(predict)(jnp.asarray(a)))
    assert pred.shape == (2, (traj.shape[1] - 1) * traj.shape[2], *traj.shape[3:])
    assert np.isfinite(pred).all() and scores


def test_inspect_prints_what_pdejax_sees(tmp_path, capsys):
    path = tmp_path / "2D_CFD_tiny.hdf5"
    w.write_pdebench_cfd(path, S=3, T=5, X=6, Y=4)
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    for word in ("pdebench-cfd", "density", "pressure", "Vx", "samples"):
        assert word in out, (word, out)
    assert main(["inspect", str(tmp_path / "missing.h5")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("pdejax inspect: error:") and "missing.h5" in err and "\n" not in err


def test_bad_data_settings_are_one_line_before_anything_is_written(tmp_path, capsys):
    path = tmp_path / "burgers.mat"
    w.write_fno_burgers(path, "v5", S=8, N=8)
    model = {"in_channels": 1, "out_channels": 1, "modes": [2], "width": 4}
    cases = [
        ({"path": str(path), "inputs": ["nope"]}, "nope"),
        ({"path": str(path), "format": "the-well"}, "the-well"),
        ({"path": str(tmp_path / "missing.mat")}, "no such file"),
        ({"path": str(path), "problem": "fno/burgers"}, "exactly one of"),
    ]
    for data, expected in cases:
        toml = _toml(tmp_path / "bad.toml", data, model, num_train=6, num_test=2)
        assert main(["train", str(toml)]) == 2
        err = capsys.readouterr().err.strip()
        assert expected in err and "\n" not in err, err
        assert not (tmp_path / "run").exists(), "a failed check must not create the run directory"
    toml = _toml(tmp_path / "big.toml", {"path": str(path)}, model, num_train=7, num_test=2)
    assert main(["train", str(toml)]) == 2
    assert "exceeds the 8 samples" in capsys.readouterr().err

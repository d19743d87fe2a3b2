"""Faults and bad inputs at the command line, as a new user meets them: each case runs `pdejax
...` (in process, through `pdejax.experiment.cli.main`) and checks the exit status, that stderr
is one line per message (`pdejax CMD: error: ...` naming the key, value or file), and that no
file is left behind where none should be. The run faults (a damaged checkpoint, a partial
metrics line, two trains on one directory, a finished run rerun) start from copies of one tiny
finished run."""

import dataclasses
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pdejax.data.files import RunLock
from pdejax.experiment.cli import main

TINY = """name = "tiny"
run_dir = "run"
[data]
problem = "fno/burgers"
problem_args = { num_points = 32, num_steps = 10 }
num_train = 8
num_test = 4
data_dir = "data"
[model]
name = "FNO"
kwargs = { in_channels = 1, out_channels = 1, modes = [4], width = 4, num_layers = 1 }
[train]
num_epochs = 3
batch_size = 4
checkpoint_every_epochs = 1
[eval]
resolutions = [32, 16]
num_plot_samples = 1
[expected]
note = "a test"
"""


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    kind: str  # config | generate | evaluate | run
    argv: Callable[[Path], list[str]]
    status: int
    match: str  # in stderr (errors) or in stderr warnings (status 0)
    setup: Callable[[Path], object] | None = None
    writes: bool = False  # the command is meant to write files (a run or an evaluation)


def _train(*sets):
    return lambda t: ["train", str(t / "tiny.toml"), *[a for s in sets for a in ("--set", s)]]


def _write_toml(text):
    return lambda t: (t / "tiny.toml").write_text(text)


def _steps(t) -> list[Path]:
    """The run's checkpoint directories, oldest first (2 steps per epoch: 2, 4, 6)."""
    return sorted((p for p in (t / "run" / "checkpoints").iterdir() if p.name.isdigit()), key=lambda p: int(p.name))  # fmt: skip


def _flip(t):
    """Flip bytes in the largest data file of the latest checkpoint."""
    files = sorted((p for p in (_steps(t)[-1] / "state").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)  # fmt: skip
    data = bytearray(files[-1].read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 64):
        data[i] ^= 0xFF
    files[-1].write_bytes(bytes(data))


def _truncate(t):
    files = sorted((p for p in (_steps(t)[-1] / "state").rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)  # fmt: skip
    files[-1].write_bytes(files[-1].read_bytes()[:40])


def _all_damaged(t):
    for step in _steps(t):
        shutil.rmtree(step / "state")


def _unfinished_with_partial_metrics(t):
    (t / "run" / "results.json").unlink()
    with (t / "run" / "metrics.jsonl").open("a") as f:
        f.write('{"step": 99, "tra')


CONFIG = [
    Case("epochs-zero", "config", _train("train.num_epochs=0"), 2, r"`train.num_epochs` must be a positive"),
    Case("batch-over-train", "config", _train("train.batch_size=99"), 2, r"`train.batch_size` = 99 exceeds `data.num_train` = 8"),
    Case("learning-rate-negative", "config", _train("train.learning_rate=-1.0"), 2, r"`train.learning_rate` must be a positive number"),
    Case("schedule-unknown", "config", _train('train.schedule="weekly"'), 2, r"`train.schedule` = 'weekly' is not one of the allowed values: 'constant', 'step', 'cosine'"),
    Case("loss-unknown", "config", _train('train.loss="l1"'), 2, r"`train.loss` = 'l1' is not one of"),
    Case("num-test-zero", "config", _train("data.num_test=0"), 2, r"`data.num_test` must be a positive"),
    Case("stride-zero", "config", _train("data.train_stride=0"), 2, r"`data.train_stride` must be a positive"),
    Case("stride-too-large", "config", _train("data.train_stride=40"), 2, r"`data.train_stride` = 40 leaves fewer than 2"),
    Case("resolution-not-a-subset", "config", _train("eval.resolutions=[33]"), 2, r"`eval.resolutions` entry 33"),
    Case("resolution-negative", "config", _train("eval.resolutions=[-64]"), 2, r"`eval.resolutions` entry -64"),
    Case("unknown-key", "config", _train("bogus=3"), 2, r"unknown key\(s\) bogus; known keys in \[top level\]"),
    Case("unknown-problem-arg", "config", _train("data.problem_args.bogus=1"), 2, r"`data.problem_args` has unknown key\(s\) bogus for problem 'fno/burgers'; its arguments are: num_points"),
    Case("bad-problem-arg-value", "config", _train('data.problem_args.num_points="abc"'), 2, r"`data.problem_args`.*rejected by 'fno/burgers'"),
    Case("unknown-problem", "config", _train('data.problem="fno/nope"'), 2, r"`data.problem` = 'fno/nope' is not a registered problem"),
    Case("wrong-type", "config", _train("train.num_epochs=abc"), 2, r"`train.num_epochs` = 'abc' is a str, expected int"),
    Case("override-without-equals", "config", _train("train.num_epochs"), 2, r"override 'train.num_epochs' must look like `section.key=value`"),
    Case("override-into-a-value", "config", _train("train.num_epochs.x=3"), 2, r"train.num_epochs"),
    Case("normalizer-unknown", "config", _train('data.input_normalizer="zscore"'), 2, r"`data.input_normalizer` = 'zscore' is not one of"),
    Case("task-without-trajectories", "config", _train('data.task="autoregressive"', "data.input_frames=1"), 2, r"data.task = 'autoregressive' needs trajectories"),
    Case("chunk-size-zero", "config", _train("data.chunk_size=0"), 2, r"`data.chunk_size` must be a positive"),
    Case("gamma-zero", "config", _train("train.gamma=0.0"), 2, r"`train.gamma` must be a positive"),
    Case("model-unknown", "config", _train('model.name="ResNet"'), 2, r"unknown model 'ResNet'"),
    Case("model-does-not-fit", "config", _train("model.kwargs.out_channels=2"), 2, r"maps an input \(1, 32\) to \(2, 32\), but the targets are \(1, 32\)"),
    Case("problem-and-path", "config", _train('data.path="x.h5"'), 2, r"exactly one of `problem`"),
    Case("missing-config", "config", lambda t: ["train", str(t / "nope.toml")], 2, r"no such file .*nope.toml"),
    Case("invalid-toml", "config", lambda t: ["train", str(t / "tiny.toml")], 2, r"tiny.toml is not valid TOML", setup=_write_toml("name = [unclosed\n")),
    Case("smoke-set-bad", "config", lambda t: ["train", str(t / "tiny.toml"), "--smoke"], 2, r"\[smoke\] set: .*unknown key", setup=_write_toml(TINY + '[smoke]\nset = ["data.bogus=1"]\n')),
]  # fmt: skip

GENERATE = [
    Case("value-not-a-number", "generate", lambda t: ["generate", "fno/burgers", str(t / "o.h5"), "--num-samples", "2", "--set", "num_points=abc"], 2, r"--set num_points=abc: 'abc' is not a value"),
    Case("unknown-argument", "generate", lambda t: ["generate", "fno/burgers", str(t / "o.h5"), "--num-samples", "2", "--set", "bogus=3"], 2, r"--set bogus: 'fno/burgers' has no argument 'bogus'; its arguments are num_points"),
    Case("zero-samples", "generate", lambda t: ["generate", "fno/burgers", str(t / "o.h5"), "--num-samples", "0"], 2, r"--num-samples must be positive"),
    Case("chunk-size-zero", "generate", lambda t: ["generate", "fno/burgers", str(t / "o.h5"), "--num-samples", "2", "--chunk-size", "0"], 2, r"--chunk-size must be a positive integer or auto"),
    Case("unknown-problem", "generate", lambda t: ["generate", "fno/nope", str(t / "o.h5"), "--num-samples", "2"], 2, r"unknown problem 'fno/nope'"),
    Case("cfl-violated-in-a-solve", "generate", lambda t: ["generate", "fno/navier_stokes_1e-3", str(t / "o.h5"), "--num-samples", "1", "--set", "num_points=32", "--set", "output_points=32", "--set", "dt=2.0", "--set", "output_interval=2.0", "--set", "final_time=2.0"], 1, r"failed on samples 0-0: NavierStokes2D: the CFL number .* exceeds 1.59"),
]  # fmt: skip

EVALUATE = [
    Case("resolution-negative", "evaluate", lambda t: ["evaluate", str(t / "run"), "--resolutions", "-64"], 2, r"--resolutions: -64 is not a resolution"),
    Case("resolution-zero", "evaluate", lambda t: ["evaluate", str(t / "run"), "--resolutions", "0"], 2, r"--resolutions: 0 is not a resolution"),
    Case("resolution-not-a-subset", "evaluate", lambda t: ["evaluate", str(t / "run"), "--resolutions", "24"], 2, r"cannot subsample 32 points to 24"),
    Case("not-a-run", "evaluate", lambda t: ["evaluate", str(t / "elsewhere")], 2, r"has no config.json; is it a pdejax run directory"),
    Case("config-truncated", "evaluate", lambda t: ["evaluate", str(t / "run")], 2, r"config.json is damaged \(not JSON\)", setup=lambda t: (t / "run" / "config.json").write_text('{"name": "ti')),
    Case("every-checkpoint-damaged", "evaluate", lambda t: ["evaluate", str(t / "run")], 2, r"no intact checkpoint in .*step 6: .*step 4: .*step 2", setup=_all_damaged),
]  # fmt: skip

RUN = [
    Case("bit-flip-falls-back", "run", lambda t: ["evaluate", str(t / "run")], 0, r"warning: checkpoint step 6: .*; skipped it and resumed from step 4", setup=_flip, writes=True),
    Case("truncation-falls-back", "run", lambda t: ["evaluate", str(t / "run")], 0, r"warning: checkpoint step 6: .*skipped it and resumed from step 4", setup=_truncate, writes=True),
    Case("missing-part-falls-back", "run", lambda t: ["evaluate", str(t / "run")], 0, r"warning: checkpoint step 6: .*skipped it and resumed from step 4", setup=lambda t: shutil.rmtree(_steps(t)[-1] / "state"), writes=True),
    Case("partial-metrics-line-is-cut", "run", _train(), 0, r"warning: .*metrics.jsonl: cut a partial last line", setup=_unfinished_with_partial_metrics, writes=True),
    Case("second-train-refused", "run", _train(), 2, r"held by process \d+", setup=lambda t: RunLock(t / "run" / "train.lock", who="train").acquire()),
    Case("other-config-refused", "run", _train("train.num_epochs=5"), 2, r"holds a run with a different configuration"),
]  # fmt: skip

CASES = CONFIG + GENERATE + EVALUATE + RUN


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A tiny finished run (3 checkpoints), made once and copied by the run cases."""
    root = tmp_path_factory.mktemp("finished")
    (root / "tiny.toml").write_text(TINY)
    cwd = os.getcwd()
    os.chdir(root)
    try:
        assert main(["train", "tiny.toml"]) == 0
    finally:
        os.chdir(cwd)
    return root


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.kind}-{c.id}" for c in CASES])
def test_cli_fault(case: Case, tmp_path, monkeypatch, capsys, finished_run):
    if case.kind in ("evaluate", "run"):
        shutil.copytree(finished_run, tmp_path, dirs_exist_ok=True)
    else:
        (tmp_path / "tiny.toml").write_text(TINY)
    monkeypatch.chdir(tmp_path)
    held = case.setup(tmp_path) if case.setup else None
    before = _files(tmp_path)
    try:
        status = main(case.argv(tmp_path))
    finally:
        if isinstance(held, RunLock):
            held.release()
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("pdejax ")]
    assert status == case.status, err
    assert "Traceback" not in err, err
    assert re.search(case.match, err), err
    for line in err.splitlines():  # progress bars aside, every message is one pdejax line
        if "error" in line or "warning" in line:
            assert line.startswith("pdejax "), err
    if status:
        assert len(lines) == 1, err
    if not case.writes:
        after = _files(tmp_path) - {"run/train.lock"}
        assert after == before - {"run/train.lock"}, sorted(after ^ before)


def test_a_failed_start_is_reused_once_fixed(tmp_path, monkeypatch, capsys):
    """A run directory that holds only a failed start (config.json, no checkpoint) is reused
    by the corrected command without complaint."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny.toml").write_text(TINY)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps({"name": "tiny", "train": {"num_epochs": 7}}))  # fmt: skip
    assert main(["train", "tiny.toml", "--set", "train.num_epochs=1"]) == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["num_epochs"] == 1


def test_a_finished_run_keeps_its_report(finished_run, tmp_path, monkeypatch, capsys):
    shutil.copytree(finished_run, tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    report = (tmp_path / "run" / "report.md").read_text()
    stamp = (tmp_path / "run" / "results.json").stat().st_mtime_ns
    assert main(["train", "tiny.toml"]) == 0
    assert "holds a finished run of this configuration" in capsys.readouterr().out
    assert (tmp_path / "run" / "report.md").read_text() == report
    assert (tmp_path / "run" / "results.json").stat().st_mtime_ns == stamp


def test_evaluate_from_another_directory_reads_the_runs_data(finished_run, tmp_path, monkeypatch, capsys):  # fmt: skip
    shutil.copytree(finished_run, tmp_path / "project")
    run = tmp_path / "project" / "run"
    meta = json.loads((run / "run.json").read_text())
    meta["cwd"] = str(tmp_path / "project")  # where training ran (the copy)
    (run / "run.json").write_text(json.dumps(meta))
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["evaluate", str(run)]) == 0, capsys.readouterr().err
    scores = json.loads(capsys.readouterr().out)
    results = json.loads((run / "results.json").read_text())
    assert scores["test_rel_l2@32"] == pytest.approx(results["test_rel_l2@32"], rel=1e-6)
    assert not any((tmp_path / "elsewhere").iterdir()), "no data regenerated into the cwd"


def test_the_table_covers_every_kind():
    assert {c.kind for c in CASES} == {"config", "generate", "evaluate", "run"}
    assert len(CASES) >= 40

"""Faults and bad inputs, as a table: each case names its culprit (argument, file, chunk) in one
line, raises the documented exception, and leaves no file behind that should not be there.

A :class:`Case` is ``(id, kind, action, expected, match)``: ``action(tmp_path)`` must raise
``expected`` (or warn, for a ``Warning``) with a message that ``re.search``-es ``match``.
``setup(tmp_path)`` prepares files first; afterwards the files under ``tmp_path`` must be exactly
those after ``setup`` (or ``leaves``, when the action is meant to produce some). Kinds:

- ``library``: checks at construction or call time (``ValueError``);
- ``runtime``: checks inside ``jit``/``vmap`` (``eqx.error_if``), whose message is
  :func:`pdejax.core.runtime_message` of the error;
- ``file``: reading and writing files (data sets, locks, disk space);
- ``generate``: :func:`pdejax.data.generate` on bad arguments, bad files and failing problems.

Add a case by appending to ``CASES`` (the CLI and configuration cases belong here too).
"""

import dataclasses
import importlib
import os
import re
from collections import namedtuple
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import h5py
import jax
import jax.numpy as jnp
import jax.random as jr
import jaxtyping
import numpy as np
import pytest

from pdejax import PeriodicGrid, VertexGrid, rollout
from pdejax.core import runtime_message
from pdejax.data import Dataset, Problem, generate, load_dataset, save_dataset
from pdejax.data.files import LockedError, RunLock, check_free_space, file_sha256
from pdejax.data.parts import open_parts, part_name, write_part
from pdejax.inverse import LeastSquaresObjective, solve_inverse
from pdejax.solvers import (
    Burgers1D,
    Burgers1DDynamics,
    Burgers1DFD,
    Darcy2D,
    NavierStokes2D,
    NavierStokesDynamics2D,
)
from pdejax.surrogates import FNO, CheckFinite

gen = importlib.import_module("pdejax.data.generate")
files = importlib.import_module("pdejax.data.files")
JIT_ERRORS = (eqx.EquinoxRuntimeError, jax.errors.JaxRuntimeError)


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    kind: str
    action: Callable[[Path], object]
    expected: type[BaseException] | type[Warning] | tuple
    match: str
    setup: Callable[[Path], object] | None = None
    leaves: frozenset[str] | None = None  # files expected afterwards (default: as after setup)
    ours: bool = True  # the message is pdejax's: exactly one line
    # False where the bad input is outside the annotations, which the test-time jaxtyping
    # hook would reject first: the action then runs as users run it, without that hook
    typecheck: bool = True


# ------------------------------------------------------------------------------- fixtures
G1, G2 = PeriodicGrid(32), PeriodicGrid((16, 16))
X1 = jnp.sin(2 * jnp.pi * G1.coordinates()[0])[None]


def _burgers(**kw):
    return Burgers1D(G1, kw.pop("nu", 0.05), kw.pop("dt", 0.01), **kw)


def _ns(**kw):
    return NavierStokes2D(G2, kw.pop("nu", 0.01), kw.pop("dt", 0.01), **kw)


def _vortex(amplitude=1.0):
    x, y = G2.mesh()
    return (amplitude * jnp.sin(x) * jnp.sin(y))[None]


def _toy(name, solve, num_points=32):
    return Problem(name, lambda key: jr.normal(key, (1, num_points)), solve,
                   parameters={"num_points": num_points})  # fmt: skip


SCALE = _toy("faults/scale", lambda a: 2 * a)
FAILING = _toy("faults/failing", lambda a: eqx.error_if(
    a, jnp.any(a > -1e9), "Toy: the solver rejected the sample; lower its amplitude."))  # fmt: skip
NAN = _toy("faults/nan", lambda a: jnp.where(a[0, 0] > 0, jnp.nan, 1.0) * a)


def _gen(tmp, problem=SCALE, num_samples=8, **kw):
    return generate(problem, tmp / "out.h5", num_samples, progress=False, **kw)


def _interrupted(damage):
    """Setup: the parts of an interrupted 8-sample run (chunk 4), one part damaged."""

    def setup(tmp):
        parts = tmp / "out.h5.parts"
        open_parts(parts, gen._settings(SCALE, 8, 0, np.float32), who="test")
        zeros = np.zeros((4, 1, 32), np.float32)
        write_part(parts, 4, 8, zeros, zeros)
        damage(parts)

    return setup


def _part_with_checksum(lo, hi, content: Callable[[Path], None]):
    def damage(parts):
        part = parts / part_name(lo, hi)
        content(part)
        (parts / (part.name + ".sha256")).write_text(file_sha256(part))

    return damage


def _write_h5(shape):
    def content(path):
        with h5py.File(path, "w") as f:
            f.create_dataset("inputs", data=np.zeros(shape, np.float32))
            f.create_dataset("outputs", data=np.zeros(shape, np.float32))

    return content


def _truncate(parts):
    part = parts / part_name(4, 8)
    part.write_bytes(part.read_bytes()[:700])


def _small_disk(monkeypatch_free):
    usage = namedtuple("usage", "total used free")
    files.shutil.disk_usage = lambda path: usage(10**9, 10**9 - monkeypatch_free, monkeypatch_free)


def _saved(tmp, name="data.h5"):
    return save_dataset(Dataset(np.zeros((4, 1, 8)), np.zeros((4, 1, 8))), tmp / name)


def _locked(tmp, name="out.h5.lock"):
    lock = RunLock(tmp / name, who="other")
    _HELD.append(lock)
    return lock.acquire()


_HELD: list[RunLock] = []
NAN_WEIGHTS = eqx.tree_at(lambda m: m.projection, FNO(1, 1, (4,), 8, key=jr.key(0)),
                          replace_fn=lambda p: jax.tree.map(
                              lambda w: w * jnp.nan if eqx.is_array(w) else w, p))  # fmt: skip


def _lsq(data):
    return LeastSquaresObjective(lambda p: 2 * p, data)


# ---------------------------------------------------------------------------------- cases
V = ValueError
CASES = [
    # library: static checks at construction or call time
    Case("burgers-int-state", "library", lambda t: _burgers()(jnp.ones((1, 32), jnp.int32)), V,
         r"^Burgers1D: `u` has dtype int32; .*astype\(jnp\.float32\)", typecheck=False),
    Case("burgers-float16-state", "library", lambda t: _burgers()(X1.astype(jnp.float16)), V,
         r"^Burgers1D: `u` has dtype float16"),
    Case("burgers-complex-state", "library", lambda t: _burgers()(X1.astype(jnp.complex64)), V,
         r"^Burgers1D: `u` has dtype complex64", typecheck=False),
    Case("burgers-rollout-int-state", "library",
         lambda t: rollout(_burgers(), jnp.ones((1, 32), jnp.int32), 2), V,
         r"^Burgers1D: `u` has dtype int32", typecheck=False),
    Case("burgers-dynamics-int-state", "library",
         lambda t: Burgers1DDynamics(G1, 0.1)(0.0, jnp.ones((1, 32), jnp.int32)), V,
         r"^Burgers1DDynamics: `u` has dtype int32", typecheck=False),
    Case("ns-float16-state", "library", lambda t: _ns()(_vortex().astype(jnp.float16)), V,
         r"^NavierStokes2D: `u` has dtype float16"),
    Case("ns-dynamics-complex-state", "library",
         lambda t: NavierStokesDynamics2D(G2, 0.1)(0.0, _vortex().astype(jnp.complex64)), V,
         r"^NavierStokesDynamics2D: `u` has dtype complex64", typecheck=False),
    Case("burgers-fd-int-state", "library",
         lambda t: Burgers1DFD(32, 0.01, 1e-3)(jnp.ones((1, 32), jnp.int32)), V,
         r"^Burgers1DFD: `u` has dtype int32", typecheck=False),
    Case("darcy-int-coefficient", "library",
         lambda t: Darcy2D(VertexGrid((9, 9)))(jnp.ones((1, 9, 9), jnp.int32)), V,
         r"^Darcy2D: `a` has dtype int32", typecheck=False),
    Case("burgers-negative-nu", "library", lambda t: _burgers(nu=-0.1), V,
         r"^Burgers1D: `nu` must be non-negative and finite, got -0\.1\.$"),
    Case("ns-zero-dt", "library", lambda t: _ns(dt=0.0), V,
         r"^NavierStokes2D: `dt` must be positive and finite, got 0\.0\.$"),
    Case("burgers-batch-for-state", "library", lambda t: _burgers()(jnp.ones((4, 1, 32))), V,
         r"^Burgers1D: `u` has shape \(4, 1, 32\), expected \(1, 32\)\. .*jax\.vmap"),
    Case("inverse-nan-data", "library",
         lambda t: solve_inverse(_lsq(jnp.array([1.0, jnp.nan, jnp.inf])), jnp.zeros(3)), V,
         r"^solve_inverse: the objective's `data` has 2 non-finite entries \(NaN or inf\) of 3;"),
    Case("inverse-nan-init", "library",
         lambda t: solve_inverse(_lsq(jnp.ones(3)), jnp.array([0.0, jnp.nan, 0.0])), V,
         r"^solve_inverse: `init` has 1 non-finite entries .* of 3; start from finite"),
    Case("inverse-inf-init-pytree", "library",
         lambda t: solve_inverse(lambda p: p["a"] ** 2 + jnp.sum(p["b"]),
                                 {"a": jnp.array(jnp.inf), "b": jnp.ones(2)}, "adam"), V,
         r"^solve_inverse: `init` has 1 non-finite entries \(NaN or inf\) of 3;"),
    # runtime: checks inside jit / vmap, reduced to their message
    Case("burgers-vmapped-negative-nu", "runtime",
         lambda t: jax.vmap(lambda nu: _burgers(nu=nu)(X1))(jnp.array([0.1, -0.1])),
         JIT_ERRORS, r"^Burgers1D: `nu` must be non-negative and finite, but a traced value"),
    Case("ns-vmapped-negative-nu", "runtime",
         lambda t: jax.vmap(lambda nu: _ns(nu=nu)(_vortex()))(jnp.array([0.01, -0.5])),
         JIT_ERRORS, r"^NavierStokes2D: `nu` must be non-negative and finite, but a traced"),
    Case("burgers-jitted-negative-dt", "runtime",
         lambda t: eqx.filter_jit(lambda dt: _burgers(dt=dt)(X1))(jnp.asarray(-0.01)),
         JIT_ERRORS, r"^Burgers1D: `dt` must be positive and finite, but a traced value"),
    Case("burgers-nan-state", "runtime",
         lambda t: eqx.filter_jit(_burgers())(X1.at[0, 3].set(jnp.nan)), JIT_ERRORS,
         r"^Burgers1D: the state is not finite \(NaN or inf\); check the initial data"),
    Case("ns-cfl", "runtime", lambda t: eqx.filter_jit(_ns(dt=1.0))(_vortex(50.0)), JIT_ERRORS,
         r"^NavierStokes2D: the CFL number .* exceeds 1\.59, the stability limit of "
         r"CrankNicolsonRK4; increase `substeps` or reduce `dt`\.$"),
    Case("ns-nan-state", "runtime",
         lambda t: eqx.filter_jit(_ns())(_vortex().at[0, 2, 2].set(jnp.inf)), JIT_ERRORS,
         r"^NavierStokes2D: the state became non-finite \(NaN or inf\);.*check the input\.$"),
    Case("burgers-fd-nan-state", "runtime",
         lambda t: eqx.filter_jit(Burgers1DFD(32, 0.01, 1e-3))(X1.at[0, 0].set(jnp.nan)),
         JIT_ERRORS, r"^Burgers1DFD: the state is not finite \(NaN or inf\); .*`substeps`"),
    Case("burgers-fd-cfl", "runtime",
         lambda t: eqx.filter_jit(Burgers1DFD(32, 0.0, 0.5))(50 * X1), JIT_ERRORS,
         r"^Burgers1DFD: advective CFL number .* exceeds 1; raise `substeps` or lower `dt`\.$"),
    Case("darcy-negative-coefficient", "runtime",
         lambda t: eqx.filter_jit(Darcy2D(VertexGrid((9, 9))))(-jnp.ones((1, 9, 9))), JIT_ERRORS,
         r"^Darcy2D: the coefficient `a` must be positive and finite everywhere, but is not; "),
    Case("darcy-not-converged", "runtime",
         lambda t: eqx.filter_jit(Darcy2D(VertexGrid((17, 17)), rtol=1e-12, max_steps=1))(
             jnp.exp(4 * jr.normal(jr.key(0), (1, 17, 17)))), JIT_ERRORS,
         r"^Darcy2D: conjugate gradients did not reach rtol=1e-12 within max_steps=1; "),
    Case("fno-nan-input", "runtime",
         lambda t: eqx.filter_jit(CheckFinite(NAN_WEIGHTS))(X1 * jnp.nan), JIT_ERRORS,
         r"^FNO: the input `a` is not finite \(NaN or inf\); .*previous step of a rollout\)\.$"),
    Case("fno-nan-output", "runtime",
         lambda t: eqx.filter_jit(CheckFinite(NAN_WEIGHTS))(X1), JIT_ERRORS,
         r"^FNO: the output is not finite \(NaN or inf\) for a finite input; the weights"),
    # file: data sets, locks, disk space
    Case("load-missing", "file", lambda t: load_dataset(t / "missing.h5"), V,
         r"^load_dataset: no such file .*missing\.h5\.$"),
    Case("load-truncated", "file", lambda t: load_dataset(t / "data.h5"), V,
         r"^load_dataset: .*data\.h5 is not a readable HDF5 file \(corrupt or truncated\?\)",
         setup=lambda t: (_saved(t), (t / "data.h5").write_bytes(
             (t / "data.h5").read_bytes()[:1000]))),  # fmt: skip
    Case("load-foreign", "file", lambda t: load_dataset(t / "data.h5"), V,
         r"^load_dataset: .*data\.h5 is not a pdejax data set",
         setup=lambda t: h5py.File(t / "data.h5", "w").close()),
    Case("save-exists", "file", lambda t: _saved(t), V,
         r"^save_dataset: .*data\.h5 exists; pass `overwrite=True`", setup=_saved),
    Case("lock-held", "file", lambda t: RunLock(t / "out.h5.lock", who="train").acquire(),
         LockedError, rf"^train: .*out\.h5\.lock is held by process {os.getpid()}; ",
         setup=_locked),
    Case("lock-acquired-twice", "file", lambda t: _locked(t, "x.lock").acquire(), RuntimeError,
         r"^RunLock: .*x\.lock is already held by this object\.$",
         leaves=frozenset({"x.lock"})),  # the first acquisition stands until released
    Case("disk-full", "file", lambda t: check_free_space(t / "big.h5", 2**50, who="save"), V,
         r"^save: .*big\.h5 needs about 1024\.0 TiB of disk \(the output\) but only"),
    # generate: arguments, existing files, interrupted runs, failing problems
    Case("generate-zero-samples", "generate", lambda t: _gen(t, num_samples=0), V,
         r"^generate: `num_samples` must be a positive int, got 0\.$"),
    Case("generate-bad-chunk-size", "generate", lambda t: _gen(t, chunk_size="big"), V,
         r"^generate: `chunk_size` must be a positive int or 'auto', got 'big'\.$", typecheck=False),
    Case("generate-int-dtype", "generate", lambda t: _gen(t, dtype=jnp.int32), V,
         r"^generate: `dtype` must be float32 or float64, got int32\.$"),
    Case("generate-other-settings", "generate", lambda t: _gen(t, seed=3), V,
         r"^generate: .*out\.h5 exists with other settings \(seed=0\); choose another path",
         setup=lambda t: _gen(t)),
    Case("generate-unreadable-existing", "generate", lambda t: _gen(t), V,
         r"^generate: .*out\.h5 exists but is not a readable pdejax data set",
         setup=lambda t: (t / "out.h5").write_bytes(b"garbage" * 100)),
    Case("generate-parts-of-another-run", "generate", lambda t: _gen(t, num_samples=9), V,
         r"^generate: .*out\.h5\.parts holds an interrupted run with other settings "
         r"\(num_samples=8\); rerun with the same settings",
         setup=_interrupted(lambda parts: None)),
    Case("generate-no-disk", "generate",
         lambda t: (_small_disk(10_000), _gen(t, num_samples=100)), V,
         r"^generate: .*out\.h5 needs about 1\.0 MiB of disk \(100 samples x 256 B = 25\.0 KiB"),
    Case("generate-locked", "generate", lambda t: _gen(t), LockedError,
         rf"^generate: .*out\.h5\.lock is held by process {os.getpid()}; another job",
         setup=_locked),
    Case("generate-solver-fails", "generate", lambda t: _gen(t, FAILING, chunk_size=4),
         RuntimeError, r"^generate: faults/failing failed on samples 0-3: Toy: the solver "
         r"rejected the sample; lower its amplitude\.$"),
    Case("generate-nan-samples", "generate", lambda t: _gen(t, NAN, chunk_size=4),
         FloatingPointError, r"^generate: faults/nan gave non-finite outputs for \d of samples "
         r"0-3 \(first: sample \d\); the data set would hold NaN/inf"),
    Case("generate-truncated-chunk", "generate", lambda t: _gen(t, chunk_size=4), UserWarning,
         r"^generate: chunk .*chunk_000000004_000000008\.h5 is damaged \(checksum mismatch "
         r"\(truncated or modified\)\); regenerating it\.$",
         setup=_interrupted(_truncate), leaves=frozenset({"out.h5"})),
    Case("generate-chunk-without-checksum", "generate", lambda t: _gen(t, chunk_size=4),
         UserWarning, r"chunk_000000004_000000008\.h5 is damaged \(its checksum file is missing",
         setup=_interrupted(lambda p: (p / (part_name(4, 8) + ".sha256")).unlink()),
         leaves=frozenset({"out.h5"})),
    Case("generate-chunk-of-wrong-shape", "generate", lambda t: _gen(t, chunk_size=4),
         UserWarning, r"chunk_000000000_000000004\.h5 is damaged \(/inputs is "
         r"float32\[3, 1, 32\], expected float32\[4, 1, 32\]\)",
         setup=_interrupted(_part_with_checksum(0, 4, _write_h5((3, 1, 32)))),
         leaves=frozenset({"out.h5"})),
    Case("generate-chunk-not-hdf5", "generate", lambda t: _gen(t, chunk_size=4), UserWarning,
         r"chunk_000000000_000000004\.h5 is damaged \(not readable as HDF5",
         setup=_interrupted(_part_with_checksum(0, 4, lambda p: p.write_bytes(b"x" * 64))),
         leaves=frozenset({"out.h5"})),
    Case("generate-chunk-out-of-range", "generate", lambda t: _gen(t, chunk_size=4),
         UserWarning, r"chunk_000000008_000000012\.h5 is damaged \(its range 8-12 is not "
         r"within the 8 samples\)",
         setup=_interrupted(_part_with_checksum(8, 12, _write_h5((4, 1, 32)))),
         leaves=frozenset({"out.h5"})),
]  # fmt: skip


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture
def clean_state():
    disk_usage, typecheck = files.shutil.disk_usage, jaxtyping.config.jaxtyping_disable
    yield
    files.shutil.disk_usage = disk_usage
    jaxtyping.config.update("jaxtyping_disable", typecheck)
    while _HELD:
        _HELD.pop().release()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.kind}-{c.id}" for c in CASES])
def test_fault(case: Case, tmp_path, clean_state):
    if case.setup is not None:
        case.setup(tmp_path)
    before = _files(tmp_path)
    if not case.typecheck:
        jaxtyping.config.update("jaxtyping_disable", True)
    if isinstance(case.expected, type) and issubclass(case.expected, Warning):
        with pytest.warns(case.expected) as record:
            case.action(tmp_path)
        messages = [str(w.message) for w in record if re.search(case.match, str(w.message))]
        assert len(messages) == 1, [str(w.message) for w in record]
        message = messages[0]
    else:
        with pytest.raises(case.expected) as info:
            case.action(tmp_path)
        err = info.value
        message = runtime_message(err) if case.kind == "runtime" else str(err)
    assert re.search(case.match, message), message
    if case.ours:
        assert len(message.splitlines()) == 1, message
    expected = before if case.leaves is None else set(case.leaves)
    assert _files(tmp_path) == expected


def test_the_table_covers_every_kind():
    kinds = {c.kind for c in CASES}
    assert {"library", "runtime", "file", "generate"} <= kinds
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
    assert len(CASES) >= 30

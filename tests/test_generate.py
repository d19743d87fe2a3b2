"""Data generation under faults: resume after a crash and after a damaged chunk is bitwise equal
to an uninterrupted run; the disk is checked before any work; assembly holds one block, not the
data set; one process owns an output; the automatic chunk size is sane and does not change the
data."""

import importlib
import json
import os
import signal
import subprocess
import sys
from collections import namedtuple

import h5py
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

from pdejax.data import Problem, generate, load_dataset, make_problem, register_problem
from pdejax.data.files import LockedError, RunLock

# the modules (the package exports a function named generate)
gen = importlib.import_module("pdejax.data.generate")
files = importlib.import_module("pdejax.data.files")
N = 14


def _toy(name, solve, num_points):
    return Problem(
        name=name,
        sample_input=lambda key: jr.normal(key, (1, num_points)),
        solve=solve,
        parameters={"num_points": num_points},
        coordinates=(np.arange(num_points) / num_points,),
    )


@register_problem("test/gen_norm")
def _norm_problem(num_points: int = 32):
    """A global reduction per sample: XLA may round it differently for other batch sizes."""
    return _toy("test/gen_norm", lambda a: a / jnp.sqrt(jnp.sum(a * a)), num_points)


@register_problem("test/gen_scale")
def _scale_problem(num_points: int = 32):
    """Elementwise only: the same bits at any batch size."""
    return _toy("test/gen_scale", lambda a: 3 * a - 1, num_points)


class Crash(Exception):
    pass


def _crash_after(monkeypatch, num_parts):
    """Make generate die (like a killed process) after writing ``num_parts`` chunks."""
    real, count = gen.write_part, [0]

    def write_part(*args):
        if count[0] == num_parts:
            raise Crash
        count[0] += 1
        return real(*args)

    monkeypatch.setattr(gen, "write_part", write_part)


def _counting(monkeypatch):
    """Count the samples written (to see what a resumed run recomputes)."""
    real, written = gen.write_part, []

    def write_part(directory, lo, hi, *arrays):
        written.append((lo, hi))
        return real(directory, lo, hi, *arrays)

    monkeypatch.setattr(gen, "write_part", write_part)
    return written


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run at chunk size 4."""
    path = tmp_path_factory.mktemp("ref") / "ref.h5"
    return generate(make_problem("test/gen_norm"), path, N, chunk_size=4, progress=False)


def test_crash_then_resume_is_bitwise_equal(tmp_path, monkeypatch, reference):
    out = tmp_path / "d.h5"
    _crash_after(monkeypatch, 2)
    with pytest.raises(Crash):
        generate(make_problem("test/gen_norm"), out, N, chunk_size=4, progress=False)
    monkeypatch.undo()
    assert not out.exists() and not (tmp_path / "d.h5.lock").exists()
    written = _counting(monkeypatch)
    generate(make_problem("test/gen_norm"), out, N, chunk_size=4, progress=False)
    assert written == [(8, 12), (12, 14)]  # the two finished chunks were reused
    assert out.read_bytes() == reference.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.h5"]


def test_damaged_chunk_is_named_and_regenerated(tmp_path, monkeypatch, reference):
    out = tmp_path / "d.h5"
    _crash_after(monkeypatch, 3)
    with pytest.raises(Crash):
        generate(make_problem("test/gen_norm"), out, N, chunk_size=4, progress=False)
    monkeypatch.undo()
    part = tmp_path / "d.h5.parts" / "chunk_000000004_000000008.h5"
    part.write_bytes(part.read_bytes()[: part.stat().st_size // 2])  # truncated, as by a crash
    with pytest.warns(UserWarning) as record:
        generate(make_problem("test/gen_norm"), out, N, chunk_size=4, progress=False)
    (warning,) = [str(w.message) for w in record if "damaged" in str(w.message)]
    assert str(part) in warning and "checksum mismatch" in warning
    assert len(warning.splitlines()) == 1
    assert out.read_bytes() == reference.read_bytes()


def test_resume_with_another_chunk_size_reuses_the_samples_on_disk(tmp_path, monkeypatch):
    problem = make_problem("test/gen_scale")
    out = tmp_path / "d.h5"
    _crash_after(monkeypatch, 2)
    with pytest.raises(Crash):
        generate(problem, out, N, chunk_size=4, progress=False)
    monkeypatch.undo()
    written = _counting(monkeypatch)
    generate(problem, out, N, chunk_size=3, progress=False)
    assert sum(hi - lo for lo, hi in written) == N - 8
    once = generate(problem, tmp_path / "once.h5", N, chunk_size=5, progress=False)
    a, b = load_dataset(out), load_dataset(once)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.outputs, b.outputs)
    assert a.generator["chunk_size"] == 3


def test_a_run_interrupted_by_pdejax_0_2_resumes(tmp_path, reference):
    """Version-1 parts directory: flat manifest with chunk size and version, chunk_000000.h5."""
    parts = tmp_path / "d.h5.parts"
    parts.mkdir()
    old = dict(load_dataset(reference).generator, pdejax_version="0.2.0", chunk_size=4)
    (parts / "manifest.json").write_text(json.dumps(old))
    with h5py.File(parts / "chunk_000000.h5", "w") as f:
        f.create_dataset("inputs", data=np.zeros((4, 1, 32), np.float32))
        f.create_dataset("outputs", data=np.zeros((4, 1, 32), np.float32))
    out = generate(
        make_problem("test/gen_norm"), tmp_path / "d.h5", N, chunk_size=4, progress=False
    )
    assert out.read_bytes() == reference.read_bytes()
    assert not parts.exists()


def test_an_existing_file_is_reused_whatever_chunk_size_or_version_made_it(tmp_path, reference):
    copy = tmp_path / "copy.h5"
    copy.write_bytes(reference.read_bytes())
    with h5py.File(copy, "r+") as f:
        settings = json.loads(f.attrs["generator"])
        f.attrs["generator"] = json.dumps(dict(settings, pdejax_version="0.0.1", chunk_size=999))
    before = copy.read_bytes()
    assert generate(make_problem("test/gen_norm"), copy, N, progress=False) == copy
    assert copy.read_bytes() == before
    with pytest.raises(ValueError, match=r"other settings \(seed=0\)") as err:
        generate(make_problem("test/gen_norm"), copy, N, seed=1, progress=False)
    assert len(str(err.value).splitlines()) == 1


def test_too_little_disk_fails_before_any_work(tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(files.shutil, "disk_usage", lambda p: usage(10**6, 10**6 - 1000, 1000))
    out = tmp_path / "sub" / "d.h5"
    # 3000 samples x (2 x 32 x 4 B): 750 KiB of data, 1.5 MiB with the parts
    with pytest.raises(ValueError, match=r"needs about 2\.5 MiB .* only 1000 B is free") as err:
        generate(make_problem("test/gen_scale"), out, 3000, chunk_size=8, progress=False)
    assert str(out) in str(err.value) and len(str(err.value).splitlines()) == 1
    assert list(tmp_path.iterdir()) == []  # not even the directory


MEMORY_SCRIPT = """
import resource, sys
import jax.random as jr
from pdejax.data import Problem, generate
n = 1 << 16  # 256 KiB per field, 512 KiB per sample
p = Problem("test/big", lambda key: jr.normal(key, (1, n)), lambda a: 2 * a)
generate(p, sys.argv[1] + "/warm.h5", 16, chunk_size=16, progress=False)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
generate(p, sys.argv[1] + "/big.h5", 640, chunk_size=16, progress=False)  # 320 MiB
print(base, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def test_assembly_never_holds_the_data_set_in_memory(tmp_path):
    """Peak RSS grows by far less than the 320 MiB of data (the old np.concatenate assembly
    held all chunks and their concatenation: at least 640 MiB)."""
    env = dict(os.environ, XLA_FLAGS="--xla_cpu_multi_thread_eigen=false", JAX_ENABLE_X64="0")
    result = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(tmp_path)], env=env,
                            capture_output=True, text=True, check=True)  # fmt: skip
    base, peak = (int(x) for x in result.stdout.split())  # KiB on Linux
    growth_mib = (peak - base) / 1024
    assert growth_mib < 96, f"peak RSS grew by {growth_mib:.0f} MiB for 320 MiB of data"
    assert load_dataset(tmp_path / "warm.h5").inputs.shape == (16, 1, 1 << 16)
    assert (tmp_path / "big.h5").stat().st_size > 320 << 20


HOLDER = """
import sys, time
from pdejax.data.files import RunLock
RunLock(sys.argv[1], who="holder").acquire()
print("locked", flush=True)
time.sleep(120)
"""


def test_a_second_process_is_refused_and_a_killed_holder_does_not_block(tmp_path):
    out = tmp_path / "d.h5"
    lock = tmp_path / "d.h5.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(LockedError, match=rf"d\.h5\.lock is held by process {holder.pid};"):
            generate(make_problem("test/gen_scale"), out, 4, progress=False)
        assert not out.exists() and not (tmp_path / "d.h5.parts").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert lock.read_text() == str(holder.pid)  # the dead holder's file and PID remain ...
    generate(make_problem("test/gen_scale"), out, 4, progress=False)  # ... and do not block
    assert out.exists() and not lock.exists()


def test_run_lock_excludes_other_holders_in_the_same_process(tmp_path):
    path = tmp_path / "run" / "x.lock"
    path.parent.mkdir()
    path.write_text("999999999")  # a stale file naming some dead process
    with RunLock(path, who="train") as lock:
        assert lock.held and path.read_text() == str(os.getpid())
        with pytest.raises(LockedError, match=rf"^train: .*held by process {os.getpid()}"):
            RunLock(path, who="train").acquire()
        with pytest.raises(RuntimeError, match="already held"):
            lock.acquire()
    assert not lock.held and not path.exists()
    lock.release()  # idempotent
    with RunLock(path):
        pass


def test_auto_chunk_size_is_sane_on_cpu_and_does_not_change_the_data(tmp_path):
    problem = make_problem("test/gen_scale")
    auto = load_dataset(generate(problem, tmp_path / "a.h5", 40, progress=False))
    fixed = load_dataset(generate(problem, tmp_path / "f.h5", 40, chunk_size=7, progress=False))
    assert auto.generator["chunk_size"] == 40  # plenty of memory: one chunk
    np.testing.assert_array_equal(auto.inputs, fixed.inputs)
    np.testing.assert_array_equal(auto.outputs, fixed.outputs)
    assert {k: v for k, v in auto.generator.items() if k != "chunk_size"} == {
        k: v for k, v in fixed.generator.items() if k != "chunk_size"
    }


def test_auto_chunk_size_follows_free_memory(monkeypatch):
    import jax

    batched = jax.jit(jax.vmap(lambda k: jnp.cumsum(jr.normal(k, (1, 1024)), -1)))
    per_sample = gen._compiled_bytes(batched, gen._keys(jr.key(0), 0, 8)) / 8
    assert 8 * 1024 <= per_sample < 64 * 1024, per_sample

    def chunk(memory, num_samples=10_000, **kw):
        monkeypatch.setattr(gen, "available_host_memory", lambda: memory)
        return gen.auto_chunk_size(batched, jr.key(0), num_samples, sample_bytes=8192, **kw)

    assert chunk(None) == 3334  # the cap 4096: 10000 samples in three even chunks
    assert chunk(int(100 * per_sample / 0.5)) == 100
    assert chunk(int(100 * per_sample / 0.5), num_samples=150) == 75  # two even chunks
    assert chunk(0) == 1
    assert chunk(int(100 * per_sample / 0.5), previous=64) == 64  # an interrupted run's size
    assert chunk(int(100 * per_sample / 0.5), previous=500) == 100  # ... unless it no longer fits

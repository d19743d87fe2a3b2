"""Training on a file several times larger than a memory cap: batches are read from disk (and
the normalizers fitted) a few samples at a time, so host memory is bounded by a few batches."""

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import resource, sys
    from pathlib import Path
    import h5py, numpy as np
    import jax
    jax.config.update("jax_platforms", "cpu")
    from pdejax.experiment import from_dict, run_experiment

    root = Path(sys.argv[1])
    N, S_BIG = 128, 8192  # 2 x 128^2 float32 = 128 KiB per sample: the big file is 1 GiB

    def write(path, samples):  # PDEBench Darcy layout: nu (S, X, Y), tensor (S, 1, X, Y)
        rng = np.random.default_rng(0)
        with h5py.File(path, "w") as f:
            nu = f.create_dataset("nu", (samples, N, N), np.float32)
            u = f.create_dataset("tensor", (samples, 1, N, N), np.float32)
            for lo in range(0, samples, 64):
                a = rng.random((min(64, samples - lo), N, N), dtype=np.float32)
                nu[lo : lo + len(a)] = a
                u[lo : lo + len(a), 0] = 2 * a + 1
            f["x-coordinate"] = np.linspace(0, 1, N)
            f["y-coordinate"] = np.linspace(0, 1, N)

    def config(name, path):
        return from_dict({
            "name": name, "run_dir": str(root / name),
            "data": {"path": str(path), "num_train": 16 if name == "warm" else S_BIG - 4,
                     "num_test": 4, "stream": "disk", "input_normalizer": "pointwise",
                     "output_normalizer": "pointwise"},
            "model": {"name": "FNO", "kwargs": {"in_channels": 1, "out_channels": 1,
                      "modes": [2, 2], "width": 2, "num_layers": 1, "projection_width": 4}},
            "train": {"num_epochs": 1, "batch_size": 4, "checkpoint_every_epochs": 1},
            "eval": {"num_plot_samples": 0},
        })

    write(root / "small.hdf5", 20)
    write(root / "big.hdf5", S_BIG)
    size = (root / "big.hdf5").stat().st_size
    run_experiment(config("warm", root / "small.hdf5"), progress=False)  # compiles every program

    def address_space():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))

    HEADROOM = 256 * 2**20  # for the data, the prefetched batches and recompiling the step
    cap = address_space() + HEADROOM
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    results = run_experiment(config("big", root / "big.hdf5"), progress=False)
    assert results["steps"] == (S_BIG - 4) // 4, results
    assert np.isfinite(results["test_rel_l2@128"]), results
    print(f"OK file {size / 2**20:.0f} MiB, cap {HEADROOM / 2**20:.0f} MiB above the start")
    try:  # and the same file cannot be read whole under that cap
        with h5py.File(root / "big.hdf5") as f:
            f["nu"][...], f["tensor"][...]
        print("READ WHOLE")
    except MemoryError:
        print("WHOLE FILE REFUSED")
    """
)


@pytest.mark.slow
def test_training_streams_a_file_larger_than_the_memory_cap(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "OK file 1024 MiB, cap 256 MiB" in proc.stdout, proc.stdout
    assert "WHOLE FILE REFUSED" in proc.stdout, proc.stdout

"""Writers of tiny files in each producer's documented layout (see the reader modules'
docstrings for the source of each layout), with recognisable values.

Every writer starts from the *expected* arrays in pdejax's canonical order -- trajectories
``(S, T, C, *spatial)``, static fields ``(S, C, *spatial)`` -- filled by :func:`pattern`, whose
value spells the index: ``pattern((S, T, C, X, Y))[s, t, c, i, j] == 10000 s + 1000 t + 100 c +
10 i + j`` (every axis shorter than 10). Static companions use ``-pattern`` so they cannot be
confused with the trajectories. The writer then moves the axes into the producer's layout
(channels last, time last, MATLAB transposition, one group per sample, ...), and returns the
expected arrays so that tests can compare exactly.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import scipy.io


def pattern(shape, dtype=np.float32, offset=0) -> np.ndarray:
    """Array whose decimal digits are its indices (axis 0 -> most significant digit);
    ``offset`` is added to the index along axis 0 (for files holding later samples)."""
    assert all(n <= 10 for n in shape[1:]), shape
    idx = np.indices(shape).astype(np.float64)
    idx[0] += offset
    weights = 10.0 ** np.arange(len(shape) - 1, -1, -1)
    return np.tensordot(weights, idx, axes=1).astype(dtype)


# --------------------------------------------------------------------------- FNO .mat

_MATLAB_HEADER = (
    (
        b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 2021 "
        b"HDF5 schema 1.00 ."
    ).ljust(116)
    + b"\x00" * 8
    + b"\x00\x02IM"
)


def _save_mat(path: Path, variables: dict, version: str):
    if version == "v5":
        scipy.io.savemat(path, variables)
        return
    # MATLAB v7.3: HDF5 with a 512-byte user block holding the MAT header, each variable stored
    # with its axes reversed (column-major) and a MATLAB_class attribute.
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, value in variables.items():
            value = np.atleast_2d(np.asarray(value))
            ds = f.create_dataset(name, data=value.transpose())
            ds.attrs["MATLAB_class"] = np.bytes_(
                "single" if value.dtype == np.float32 else "double"
            )
    with open(path, "r+b") as fh:
        fh.write(_MATLAB_HEADER)


def write_fno_burgers(path, version="v5", S=4, N=8):
    """burgers_data_R10.mat: a (S, N), u (S, N)."""
    a = pattern((S, 1, N))
    u = -pattern((S, 1, N)) - 0.5
    _save_mat(Path(path), {"a": a[:, 0], "u": u[:, 0], "visc": np.array([[0.1]])}, version)
    return {"inputs": a, "outputs": u}


def write_fno_darcy(path, version="v5", S=3, X=6, Y=5):
    """piececonst_r421_N1024_smooth1.mat: coeff, sol (S, X, Y) (+ Kcoeff, and two unrelated
    matrices: a small one, `info`, and a larger one, `mesh`)."""
    coeff = pattern((S, 1, X, Y))
    sol = -pattern((S, 1, X, Y))
    kcoeff = coeff + 0.25
    _save_mat(
        Path(path),
        {
            "coeff": coeff[:, 0],
            "sol": sol[:, 0],
            "Kcoeff": kcoeff[:, 0],
            "info": np.ones((2, 3)),
            "mesh": np.ones((5, 7)),
        },
        version,
    )
    return {"inputs": coeff, "outputs": sol, "Kcoeff": kcoeff}


def write_fno_ns(path, version="v5", S=3, X=6, Y=5, T=4):
    """ns_V1e-3_N5000_T50.mat: a (S, X, Y), u (S, X, Y, T) time last, t (1, T)."""
    traj = pattern((S, T, 1, X, Y))
    a = -pattern((S, 1, X, Y))
    u = np.moveaxis(traj[:, :, 0], 1, -1)  # (S, X, Y, T)
    t = (np.arange(1, T + 1) * 0.5)[None, :]
    _save_mat(Path(path), {"a": a[:, 0], "u": u, "t": t}, version)
    return {"inputs": a, "outputs": traj, "times": t.ravel()}


# --------------------------------------------------------------------------- PDEBench


def write_pdebench_1d(path, S=5, T=4, X=7):
    """1D_Advection_Sols_beta0.1.hdf5: tensor (S, T, X), x-coordinate (X), t-coordinate (T+1)."""
    traj = pattern((S, T, 1, X))
    with h5py.File(path, "w") as f:
        f.create_dataset("tensor", data=traj[:, :, 0])
        f.create_dataset("x-coordinate", data=(np.arange(X) + 0.5) / X)
        f.create_dataset("t-coordinate", data=np.arange(T + 1) * 0.1)
        f.attrs["beta"] = 0.1
    return {"trajectory": traj, "x": (np.arange(X) + 0.5) / X, "times": np.arange(T) * 0.1}


def write_pdebench_2d(path, S=3, T=4, X=6, Y=5):
    """A 2-d time-dependent single-array file: tensor (S, T, X, Y) with x- and y-coordinate."""
    traj = pattern((S, T, 1, X, Y))
    with h5py.File(path, "w") as f:
        f.create_dataset("tensor", data=traj[:, :, 0])
        f.create_dataset("x-coordinate", data=np.linspace(0, 1, X))
        f.create_dataset("y-coordinate", data=np.linspace(0, 2, Y))
        f.create_dataset("t-coordinate", data=np.arange(T + 1) * 0.25)
    return {"trajectory": traj}


def write_pdebench_darcy(path, S=4, X=6, Y=5):
    """2D_DarcyFlow_beta1.0_Train.hdf5: nu (S, X, Y), tensor (S, 1, X, Y) (Data_Merge.py)."""
    nu = -pattern((S, 1, X, Y))
    sol = pattern((S, 1, X, Y))
    with h5py.File(path, "w") as f:
        f.create_dataset("tensor", data=sol)
        f.create_dataset("nu", data=nu[:, 0])
        f.create_dataset("x-coordinate", data=np.linspace(0, 1, X))
        f.create_dataset("y-coordinate", data=np.linspace(0, 1, Y))
        f.attrs["beta"] = 1.0
    return {"inputs": nu, "outputs": sol}


CFD_FIELDS = ("density", "pressure", "Vx", "Vy")


def write_pdebench_cfd(path, S=3, T=5, X=6, Y=4):
    """2D_CFD_*.hdf5: density, pressure, Vx, Vy (S, T, X, Y), t-/x-/y-coordinate, eta, zeta, M."""
    traj = pattern((S, T, len(CFD_FIELDS), X, Y))
    with h5py.File(path, "w") as f:
        for k, name in enumerate(CFD_FIELDS):
            f.create_dataset(name, data=traj[:, :, k])
        f.create_dataset("t-coordinate", data=np.arange(T + 1) * 0.05)
        f.create_dataset("x-coordinate", data=np.linspace(0, 1, X))
        f.create_dataset("y-coordinate", data=np.linspace(0, 1, Y))
        f.attrs["eta"], f.attrs["zeta"], f.attrs["M"] = 0.01, 0.01, 0.1
    return {"trajectory": traj, "times": np.arange(T) * 0.05}


def write_pdebench_samples(path, S=3, T=4, X=6, Y=5, C=2):
    """2D_diff-react_NA_NA.h5: groups 0000.. with data (T, X, Y, C), grid/x, grid/y, grid/t."""
    traj = pattern((S, T, C, X, Y))
    with h5py.File(path, "w") as f:
        for s in range(S):
            key = str(s).zfill(4)
            f.create_dataset(f"{key}/data", data=np.moveaxis(traj[s], 1, -1))  # (T, X, Y, C)
            f.create_dataset(f"{key}/grid/x", data=np.linspace(0, 1, X))
            f.create_dataset(f"{key}/grid/y", data=np.linspace(0, 1, Y))
            f.create_dataset(f"{key}/grid/t", data=np.linspace(0, 5, T))
            f[key].attrs["config"] = f"sim:\n  seed: {s}\n"
    return {"trajectory": traj, "times": np.linspace(0, 5, T)}


def write_pdebench_ns_incomp(path, S=2, T=4, X=6, Y=5):
    """ns_incomp_inhom_2d_512-0.h5 (data_io.h5_for): velocity (S,T,X,Y,2), particles (S,T,X,Y,1),
    force (S, X, Y, 2), t (S, T)."""
    traj = pattern((S, T, 3, X, Y))  # velocity_x, velocity_y, particles
    force = -pattern((S, 2, X, Y))
    with h5py.File(path, "w") as f:
        f.create_dataset("velocity", data=np.moveaxis(traj[:, :, :2], 2, -1))
        f.create_dataset("particles", data=np.moveaxis(traj[:, :, 2:], 2, -1))
        f.create_dataset("force", data=np.moveaxis(force, 1, -1))
        f.create_dataset("t", data=np.tile(np.arange(T) * 0.01, (S, 1)))
        f.attrs["config"] = "sim_name: ns_incomp\n"
        f.attrs["latestIndex"] = T - 1
    return {"trajectory": traj, "force": force}


# --------------------------------------------------------------------------- The Well

WELL_CHANNELS = (
    "pressure",
    "height",
    "velocity_x",
    "velocity_y",
    "stress_xx",
    "stress_xy",
    "stress_yx",
    "stress_yy",
)


def OBSTACLE(X, Y):
    """The Well test field stored once for all samples and times: (X, Y)."""
    return -pattern((1, X, Y))[0] - 0.5


def well_expected(S, T=5, X=6, Y=4, offset=0):
    traj = pattern((S, T, len(WELL_CHANNELS), X, Y), offset=offset)
    traj[:, :, 1] = traj[:, :, 1, :, :1]  # `height` does not vary along y (dim_varying [T, F])
    mask = -pattern((S, 1, X, Y), offset=offset)
    return traj, mask


def write_the_well(path, S=3, T=5, X=6, Y=4, offset=0, param=0.25):
    """One The Well file (docs/data_format.md; dummy_data.py)."""
    traj, mask = well_expected(S, T, X, Y, offset)

    def field(group, name, data, sample=True, time=True, dims=(True, True)):
        ds = group.create_dataset(name, data=data)
        ds.attrs["sample_varying"], ds.attrs["time_varying"] = sample, time
        ds.attrs["dim_varying"] = list(dims)

    with h5py.File(path, "w") as f:
        f.attrs["dataset_name"] = "tiny_well"
        f.attrs["grid_type"] = "cartesian"
        f.attrs["n_spatial_dims"] = 2
        f.attrs["n_trajectories"] = S
        f.attrs["simulation_parameters"] = ["a"]
        f.attrs["a"] = param
        dims = f.create_group("dimensions")
        dims.attrs["spatial_dims"] = ["x", "y"]
        for name, values in (
            ("time", np.arange(T) * 0.5),
            ("x", np.linspace(0, 1, X)),
            ("y", np.linspace(0, 1, Y)),
        ):
            ds = dims.create_dataset(name, data=values.astype(np.float32))
            ds.attrs["sample_varying"], ds.attrs["time_varying"] = False, False
        bcs = f.create_group("boundary_conditions")
        for key in ("x_periodic", "y_wall"):
            g = bcs.create_group(key)
            g.attrs["associated_dims"] = [key[0]]
            g.attrs["associated_fields"] = []
            g.attrs["bc_type"] = key[2:].upper()
            g.attrs["sample_varying"], g.attrs["time_varying"] = False, False
            g.create_dataset("mask", data=np.zeros(X if key[0] == "x" else Y, bool))
        sc = f.create_group("scalars")
        sc.attrs["field_names"] = ["a", "energy"]
        ds = sc.create_dataset("a", data=np.array(param))
        ds.attrs["sample_varying"], ds.attrs["time_varying"] = False, False
        ds = sc.create_dataset("energy", data=np.arange(T, dtype=np.float32))
        ds.attrs["sample_varying"], ds.attrs["time_varying"] = False, True
        t0 = f.create_group("t0_fields")
        t0.attrs["field_names"] = ["pressure", "height", "mask", "obstacle"]
        field(t0, "pressure", traj[:, :, 0])
        field(t0, "height", traj[:, :, 1, :, 0], dims=(True, False))  # (S, T, X)
        field(t0, "mask", mask[:, 0], time=False)  # (S, X, Y)
        field(t0, "obstacle", OBSTACLE(X, Y), sample=False, time=False)  # (X, Y), shared
        t1 = f.create_group("t1_fields")
        t1.attrs["field_names"] = ["velocity"]
        field(t1, "velocity", np.moveaxis(traj[:, :, 2:4], 2, -1))  # (S, T, X, Y, 2)
        t2 = f.create_group("t2_fields")
        t2.attrs["field_names"] = ["stress"]
        stress = np.moveaxis(traj[:, :, 4:8], 2, -1).reshape(S, T, X, Y, 2, 2)
        field(t2, "stress", stress)  # (S, T, X, Y, 2, 2): [..., i, j] = stress_{ij}
    return {"trajectory": traj, "mask": mask, "times": np.arange(T) * 0.5}


def write_the_well_dataset(root, T=5, X=6, Y=4):
    """A dataset directory root/data/{train,valid}/*.hdf5: train = 3 + 2 samples in two files
    with parameter a = 0.25 and 0.5; valid = 2 samples."""
    root = Path(root)
    (root / "data" / "train").mkdir(parents=True)
    (root / "data" / "valid").mkdir(parents=True)
    write_the_well(root / "data" / "train" / "tiny_well_a0.25.hdf5", S=3, offset=0, param=0.25)
    write_the_well(root / "data" / "train" / "tiny_well_a0.5.hdf5", S=2, offset=3, param=0.5)
    write_the_well(root / "data" / "valid" / "tiny_well_a0.25.hdf5", S=2, offset=0, param=0.25)
    traj, mask = well_expected(5, T, X, Y)
    return {"trajectory": traj, "mask": mask}


# --------------------------------------------------------------------------- PDEArena

ARENA_FIELDS = ("u", "vx", "vy")


def write_pdearena_ns(path, S=3, T=4, X=6, Y=5, groups=("train",), offset=0, buoyancy=0.5):
    """NavierStokes2D_<mode>_<seed>_<buo>.h5 (pdedatagen/navier_stokes.py), float64."""
    traj = pattern((S, T, 3, X, Y), np.float64, offset=offset)
    with h5py.File(path, "w") as f:
        for mode in groups:
            g = f.create_group(mode)
            for k, name in enumerate(ARENA_FIELDS):
                g.create_dataset(name, data=traj[:, :, k])
            g.create_dataset("t", data=np.tile(np.linspace(18, 102, T), (S, 1)))
            g.create_dataset("x", data=np.tile(np.linspace(0, 32, X), (S, 1)))
            g.create_dataset("y", data=np.tile(np.linspace(0, 32, Y), (S, 1)))
            g.create_dataset("dt", data=np.full(S, 1.5))
            g.create_dataset("dx", data=np.full(S, 0.25))
            g.create_dataset("dy", data=np.full(S, 0.25))
            g.create_dataset("buo_y", data=buoyancy + 0.1 * np.arange(S))
    return {"trajectory": traj}


def write_pdearena_dir(root, T=4, X=6, Y=5):
    """Two train files (2 + 3 samples) and one valid file (2 samples)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    write_pdearena_ns(root / "NavierStokes2D_train_1_0.50000_2.h5", S=2, offset=0)
    write_pdearena_ns(root / "NavierStokes2D_train_2_0.50000_3.h5", S=3, offset=2)
    write_pdearena_ns(root / "NavierStokes2D_valid_3_0.50000.h5", S=2, groups=("valid",))
    return {"trajectory": pattern((5, T, 3, X, Y), np.float64)}


def write_pdearena_maxwell(path, S=2, T=3, X=4, Y=3, Z=5):
    """Maxwell3D_train_<seed>_<n>.h5 (pdedatagen/maxwell.py): d_field, h_field (S,T,X,Y,Z,3)."""
    traj = pattern((S, T, 6, X, Y, Z), np.float64)
    with h5py.File(path, "w") as f:
        g = f.create_group("train")
        g.create_dataset("d_field", data=np.moveaxis(traj[:, :, :3], 2, -1))
        g.create_dataset("h_field", data=np.moveaxis(traj[:, :, 3:], 2, -1))
    return {"trajectory": traj}


def write_pdearena_ks(path, S=3, T=4, X=7):
    """KS1D (kuramotosivashinsky1d.py): pde_<T>-<X> (S, T, X), dt, dx, v (S,)."""
    traj = pattern((S, T, 1, X), np.float64)
    with h5py.File(path, "w") as f:
        g = f.create_group("test")
        g.create_dataset(f"pde_{T}-{X}", data=traj[:, :, 0])
        g.create_dataset("dt", data=0.2 + 0.01 * np.arange(S))
        g.create_dataset("dx", data=np.full(S, 0.25))
        g.create_dataset("v", data=np.full(S, 1.0))
    return {"trajectory": traj}


# --------------------------------------------------------------------------- pdejax


def write_pdejax(path, S=4, C=2, T=3, X=7):
    """pdejax schema 1 (pdejax/data/datasets.py save_dataset), a trajectory data set."""
    inputs = -pattern((S, C, X))
    outputs = pattern((S, T, C, X))
    with h5py.File(path, "w") as f:
        f.attrs["format"] = "pdejax-dataset"
        f.attrs["schema_version"] = 1
        f.attrs["problem"] = "tiny/test"
        f.attrs["parameters"] = '{"nu": 0.01}'
        f.attrs["generator"] = '{"seed": 0}'
        f.attrs["reference"] = "writers.py"
        f.create_dataset("inputs", data=inputs)
        f.create_dataset("outputs", data=outputs)
        f.create_dataset("coordinates/axis_0", data=np.linspace(0, 1, X))
        f.create_dataset("times", data=np.arange(1, T + 1) * 0.1)
    return {"inputs": inputs, "outputs": outputs}


# --------------------------------------------------------------------------- large file


def write_large_pdebench(path, S=100, T=11, X=224, Y=224):
    """A ~220 MB PDEBench single-array file, written one sample at a time; value = 1000 s + t."""
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("tensor", (S, T, X, Y), np.float32)
        f.create_dataset("x-coordinate", data=np.linspace(0, 1, X))
        f.create_dataset("y-coordinate", data=np.linspace(0, 1, Y))
        frame = np.ones((T, X, Y), np.float32) * np.arange(T, dtype=np.float32)[:, None, None]
        for s in range(S):
            ds[s] = frame + 1000 * s
    return S, T, X, Y

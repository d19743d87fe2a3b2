"""Every format on tiny files: detection, shapes, exact values, selection, partial reads,
describe(), and errors (wrong field, wrong format, truncated file)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import readers_writers as w

from pdejax.data.readers import ReadError, detect_format, open_source

# id: (file name, writer, format, fields describe() must mention)
CASES = {
    "fno-burgers-v5": (
        "burgers_data_R10.mat",
        functools.partial(w.write_fno_burgers, version="v5"),
        "fno-mat",
        ["a", "u"],
    ),
    "fno-burgers-v73": (
        "burgers_v73.mat",
        functools.partial(w.write_fno_burgers, version="v73"),
        "fno-mat",
        ["a", "u"],
    ),
    "fno-darcy-v5": (
        "piececonst_r421_N1024_smooth1.mat",
        functools.partial(w.write_fno_darcy, version="v5"),
        "fno-mat",
        ["coeff", "sol", "Kcoeff"],
    ),
    "fno-darcy-v73": (
        "darcy_v73.mat",
        functools.partial(w.write_fno_darcy, version="v73"),
        "fno-mat",
        ["coeff", "sol", "Kcoeff"],
    ),
    "fno-ns-v5": (
        "ns_v5.mat",
        functools.partial(w.write_fno_ns, version="v5"),
        "fno-mat",
        ["a", "u"],
    ),
    "fno-ns-v73": (
        "ns_V1e-3_N5000_T50.mat",
        functools.partial(w.write_fno_ns, version="v73"),
        "fno-mat",
        ["a", "u"],
    ),
    "pdebench-1d": ("1D_Advection_Sols_beta0.1.hdf5", w.write_pdebench_1d, "pdebench", ["tensor"]),
    "pdebench-2d": ("2D_time.hdf5", w.write_pdebench_2d, "pdebench", ["tensor"]),
    "pdebench-darcy": (
        "2D_DarcyFlow_beta1.0_Train.hdf5",
        w.write_pdebench_darcy,
        "pdebench",
        ["nu", "tensor"],
    ),
    "pdebench-cfd": (
        "2D_CFD_Rand_M0.1_Eta0.01_Zeta0.01_periodic_Train.hdf5",
        w.write_pdebench_cfd,
        "pdebench-cfd",
        list(w.CFD_FIELDS),
    ),
    "pdebench-samples": (
        "2D_diff-react_NA_NA.h5",
        w.write_pdebench_samples,
        "pdebench-samples",
        ["data"],
    ),
    "pdebench-ns-incomp": (
        "ns_incomp_inhom_2d_512-0.h5",
        w.write_pdebench_ns_incomp,
        "pdebench-ns-incomp",
        ["velocity", "particles", "force"],
    ),
    "the-well": (
        "tiny_well.hdf5",
        w.write_the_well,
        "the-well",
        ["pressure", "height", "mask", "velocity", "stress"],
    ),
    "pdearena-ns": (
        "NavierStokes2D_train_1_0.50000_3.h5",
        w.write_pdearena_ns,
        "pdearena",
        ["u", "vx", "vy", "buo_y"],
    ),
    "pdearena-maxwell": (
        "Maxwell3D_train_1_2.h5",
        w.write_pdearena_maxwell,
        "pdearena",
        ["d_field", "h_field"],
    ),
    "pdearena-ks": ("KS_test_1.h5", w.write_pdearena_ks, "pdearena", ["pde_4-7", "dt"]),
    "pdejax": ("tiny_pdejax.h5", w.write_pdejax, "pdejax", ["inputs", "outputs"]),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    out = {}
    for case, (name, writer, _, _) in CASES.items():
        path = root / case / name
        path.parent.mkdir()
        out[case] = (path, writer(path))
    return out


def expected(src, exp):
    """The (inputs, outputs) a source should return, from the writer's canonical arrays."""
    if "trajectory" in exp:
        traj = exp["trajectory"].astype(np.float32)
        return traj[:, 0], traj[:, src.output_start :]
    return exp["inputs"].astype(np.float32), exp["outputs"].astype(np.float32)


@pytest.mark.parametrize("case", CASES)
def test_detection_shapes_values(case, files):
    path, exp = files[case]
    fmt = CASES[case][2]
    assert detect_format(path) == fmt
    with open_source(path) as src:
        assert src.format == fmt
        x, y = src.read()
        ex, ey = expected(src, exp)
        assert x.dtype == np.float32 and y.dtype == np.float32
        assert x.shape == (src.num_samples,) + src.input_shape
        assert y.shape == (src.num_samples,) + src.output_shape
        np.testing.assert_array_equal(x, ex)
        np.testing.assert_array_equal(y, ey)
        if src.is_trajectory:
            np.testing.assert_array_equal(src.read_trajectories()[:, src.output_start :], y)
            if src.times is not None:
                assert len(src.times) == y.shape[1]


@pytest.mark.parametrize("case", CASES)
def test_partial_reads_match_full_read(case, files):
    path, _ = files[case]
    with open_source(path) as src:
        x, y = src.read()
        n = src.num_samples
        for index in (
            slice(1, n),
            slice(0, n, 2),
            [0, n - 1],
            np.array([n - 1, 0, n - 1]),
            -1,
            0,
            np.arange(n) % 2 == 0,
        ):
            xi, yi = src.read(index)
            np.testing.assert_array_equal(xi, x[index])
            np.testing.assert_array_equal(yi, y[index])
        xi, yi = src.read(slice(0, 0))
        assert xi.shape == (0,) + src.input_shape and yi.shape == (0,) + src.output_shape
        # spatial stride, sliced on disk
        xs, ys = src.read(slice(0, 2), stride=2)
        d = len(src.input_shape) - 1
        sub = (slice(None),) * (x.ndim - d) + (slice(None, None, 2),) * d
        np.testing.assert_array_equal(xs, x[:2][sub])
        np.testing.assert_array_equal(ys, y[:2][(slice(None),) * (y.ndim - d) + sub[-d:]])
        # chunks cover the file
        parts = list(src.chunks(2))
        np.testing.assert_array_equal(np.concatenate([p[2] for p in parts]), y)


@pytest.mark.parametrize("case", CASES)
def test_describe_mentions_fields(case, files):
    path, _ = files[case]
    with open_source(path) as src:
        text = src.describe()
    assert CASES[case][2] in text and str(path) in text
    for field in CASES[case][3]:
        assert field in text, (field, text)
    assert "inputs:" in text and "outputs:" in text


@pytest.mark.parametrize("case", CASES)
def test_read_field_matches_fields_description(case, files):
    path, _ = files[case]
    with open_source(path, dtype=None) as src:
        for name, info in src.fields.items():
            data = src.read_field(name, [0, src.num_samples - 1])
            assert data.shape == (2,) + info.shape, name
            if info.dtype != "str":
                assert data.dtype == np.dtype(info.dtype), name


@pytest.mark.parametrize("case", CASES)
def test_metadata_is_json_and_dataset_ready(case, files):
    import json

    path, _ = files[case]
    with open_source(path) as src:
        json.dumps(src.parameters)
        json.dumps(
            {k: [v.shape, v.dtype, v.kind, v.channels, v.stored] for k, v in src.fields.items()}
        )
        kw = src.dataset_kwargs(slice(0, 2))
    # the fields of pdejax's Dataset (pdejax/data/datasets.py)
    assert set(kw) == {
        "inputs",
        "outputs",
        "problem",
        "parameters",
        "generator",
        "reference",
        "coordinates",
        "times",
    }
    json.dumps(kw["parameters"]), json.dumps(kw["generator"])
    assert len(kw["inputs"]) == len(kw["outputs"]) == 2


@pytest.mark.parametrize("case", CASES)
def test_wrong_field_name(case, files):
    path, _ = files[case]
    with pytest.raises(ValueError) as info:
        open_source(path, outputs=["no_such_field"])
    msg = str(info.value)
    assert str(path) in msg and "no_such_field" in msg
    assert CASES[case][3][0] in msg  # lists what is there


@pytest.mark.parametrize("case", CASES)
def test_wrong_format(case, files):
    path, _ = files[case]
    wrong = "pdejax" if CASES[case][2] != "pdejax" else "the-well"
    with pytest.raises(ValueError) as info:
        open_source(path, format=wrong)
    assert str(path) in str(info.value)
    with pytest.raises(ValueError, match="unknown format"):
        open_source(path, format="no-such-format")


@pytest.mark.parametrize("case", CASES)
def test_truncated_file(case, files, tmp_path):
    src_path, _ = files[case]
    path = tmp_path / src_path.name
    data = src_path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ReadError) as info:  # a ValueError, not an h5py/scipy traceback
        with open_source(path) as src:
            src.read()
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- FNO


@pytest.mark.parametrize("kind", ["burgers", "darcy", "ns"])
def test_fno_v5_and_v73_agree(kind, files):
    a = open_source(files[f"fno-{kind}-v5"][0])
    b = open_source(files[f"fno-{kind}-v73"][0])
    for x, y in zip(a.read(), b.read()):
        np.testing.assert_array_equal(x, y)
    assert a.input_shape == b.input_shape and a.output_shape == b.output_shape
    assert "v5" in a.describe() and "v7.3" in b.describe()


def test_fno_ns_trajectory_and_times(files):
    path, exp = files["fno-ns-v73"]
    src = open_source(path)
    assert src.is_trajectory and src.output_start == 0
    assert src.output_shape == (4, 1, 6, 5)
    np.testing.assert_allclose(src.times, exp["times"])
    # a sample index reads from the last stored (MATLAB column-major) axis
    np.testing.assert_array_equal(src.read_outputs(2), exp["outputs"][2])
    np.testing.assert_array_equal(
        src.read_trajectories(1, frames=slice(1, 3)), exp["outputs"][1, 1:3]
    )


def test_fno_darcy_extra_field_and_parameters(files):
    path, exp = files["fno-darcy-v5"]
    src = open_source(path, inputs=["coeff", "Kcoeff"])
    x = src.read_inputs()
    assert x.shape == (3, 2, 6, 5)
    np.testing.assert_array_equal(x[:, 1:], exp["Kcoeff"])
    assert src.parameters["info"] == [[1.0] * 3] * 2  # small variables become parameters
    assert any("mesh" in note for note in src.notes)  # others are listed, not read
    burgers = open_source(files["fno-burgers-v73"][0])
    assert burgers.parameters["visc"] == pytest.approx(0.1)
    assert burgers.coordinates is None


# --------------------------------------------------------------------------- PDEBench


def test_pdebench_1d_times_coordinates_attributes(files):
    path, exp = files["pdebench-1d"]
    src = open_source(path)
    assert src.input_shape == (1, 7) and src.output_shape == (3, 1, 7)
    np.testing.assert_allclose(src.trajectory_times, exp["times"])  # t-coordinate has T + 1 values
    np.testing.assert_allclose(src.times, exp["times"][1:])
    np.testing.assert_allclose(src.coordinates[0], exp["x"])
    assert src.parameters == {"beta": pytest.approx(0.1)}
    assert src.read_trajectories(np.array([3, 1])).shape == (2, 4, 1, 7)


def test_pdebench_darcy_is_operator_data(files):
    src = open_source(files["pdebench-darcy"][0])
    assert not src.is_trajectory
    assert src.input_shape == (1, 6, 5) and src.output_shape == (1, 6, 5)
    with pytest.raises(ValueError, match="not time-dependent"):
        src.read_trajectories()


def test_pdebench_cfd_field_selection(files):
    path, exp = files["pdebench-cfd"]
    traj = exp["trajectory"]
    order = ["density", "Vx", "Vy", "pressure"]
    src = open_source(path, inputs=order, outputs="pressure")
    x, y = src.read(slice(1, 3))
    idx = [w.CFD_FIELDS.index(k) for k in order]
    np.testing.assert_array_equal(x, traj[1:3, 0][:, idx])
    np.testing.assert_array_equal(y, traj[1:3, 1:, 1:2])
    np.testing.assert_allclose(src.times, exp["times"][1:])
    assert src.parameters["M"] == pytest.approx(0.1)
    assert src.coordinate_names == ("x-coordinate", "y-coordinate")


def test_pdebench_samples_channels_moved_first(files):
    path, exp = files["pdebench-samples"]
    src = open_source(path, inputs="data_1", outputs="data_0")
    x, y = src.read([0, 2])
    np.testing.assert_array_equal(x, exp["trajectory"][[0, 2], 0, 1:2])
    np.testing.assert_array_equal(y, exp["trajectory"][[0, 2], 1:, 0:1])
    assert list(src.read_field("group", [2, 0])) == ["0002", "0000"]
    np.testing.assert_allclose(src.trajectory_times, exp["times"])
    assert "seed: 0" in src.parameters["config (sample 0000)"]


def test_pdebench_ns_incomp_static_force_as_input(files):
    path, exp = files["pdebench-ns-incomp"]
    src = open_source(path, inputs=["velocity", "force"], outputs="velocity_y")
    x, y = src.read()
    np.testing.assert_array_equal(x[:, :2], exp["trajectory"][:, 0, :2])
    np.testing.assert_array_equal(x[:, 2:], exp["force"])
    np.testing.assert_array_equal(y, exp["trajectory"][:, 1:, 1:2])
    with pytest.raises(ValueError, match="static"):
        open_source(path, outputs=["velocity", "force"])
    assert src.read_field("t").shape == (2, 4)


# --------------------------------------------------------------------------- The Well


def test_the_well_mapping(files):
    path, exp = files["the-well"]
    src = open_source(path, inputs=["velocity", "mask"], outputs=["stress", "height"])
    x, y = src.read()
    traj = exp["trajectory"]
    np.testing.assert_array_equal(x[:, :2], traj[:, 0, 2:4])  # t1 components as channels
    np.testing.assert_array_equal(x[:, 2:], exp["mask"])  # constant field: static input
    np.testing.assert_array_equal(y, traj[:, 1:, [4, 5, 6, 7, 1]])  # stress_xx..yy, height
    # `height` is stored without its y axis and broadcast back
    np.testing.assert_array_equal(
        src.read_field("height")[..., 0], src.read_field("height")[..., 3]
    )
    assert src.read_field("stress").shape == (3, 5, 6, 4, 2, 2)
    assert src.read_field("scalars/energy").shape == (3, 5)
    assert src.parameters["a"] == 0.25
    assert src.parameters["boundary_conditions"]["x_periodic"]["bc_type"] == "PERIODIC"
    np.testing.assert_allclose(src.times, exp["times"][1:])
    assert src.coordinate_names == ("x", "y")
    shared = open_source(path, inputs=["obstacle", "mask"]).read_inputs()
    np.testing.assert_array_equal(shared[:, 0], np.broadcast_to(w.OBSTACLE(6, 4), (3, 6, 4)))
    np.testing.assert_array_equal(shared[:, 1:], exp["mask"])
    single = open_source(path, outputs="velocity_y", inputs="velocity_y")
    np.testing.assert_array_equal(single.read_outputs(), traj[:, 1:, 3:4])


def test_the_well_splits(tmp_path):
    exp = w.write_the_well_dataset(tmp_path / "tiny_well")
    root = tmp_path / "tiny_well"
    assert detect_format(root) == "the-well"
    with pytest.raises(ValueError, match="split"):
        open_source(root)
    train = open_source(root, split="train")
    assert train.num_samples == 5 and train.split == "train"
    np.testing.assert_array_equal(train.read_trajectories(), exp["trajectory"])
    np.testing.assert_array_equal(train.read_outputs([1, 4]), exp["trajectory"][[1, 4], 1:])
    np.testing.assert_array_equal(train.read_field("a"), [0.25] * 3 + [0.5] * 2)
    assert "2 files" in train.describe()
    obstacle = open_source(root, split="train", inputs="obstacle").read_inputs([0, 4])
    np.testing.assert_array_equal(obstacle, np.broadcast_to(w.OBSTACLE(6, 4), (2, 1, 6, 4)))
    valid = open_source(root / "data" / "valid", format="the-well")
    assert valid.num_samples == 2
    with pytest.raises(ValueError, match="test"):
        open_source(root, split="test")
    with pytest.raises(ValueError, match="unknown split"):
        open_source(root, split="training")
    one = root / "data" / "train" / "tiny_well_a0.5.hdf5"
    assert open_source(one, split="train").num_samples == 2
    with pytest.raises(ValueError, match="not in a `valid/` split directory"):
        open_source(one, split="valid")


# --------------------------------------------------------------------------- PDEArena


def test_pdearena_mapping(files):
    path, exp = files["pdearena-ns"]
    src = open_source(path)
    assert src.split == "train" and src.inputs == ("u", "vx", "vy")
    np.testing.assert_allclose(src.read_field("buo_y"), [0.5, 0.6, 0.7])
    assert src.parameters["dt"] == 1.5 and "buo_y" not in src.parameters
    np.testing.assert_allclose(src.coordinates[0], np.linspace(0, 32, 6))
    np.testing.assert_allclose(src.times, np.linspace(18, 102, 4)[1:])
    raw = open_source(path, dtype=None)
    assert raw.read_outputs().dtype == np.float64
    mx = open_source(files["pdearena-maxwell"][0], inputs="h_field", outputs="d_field_z")
    traj = files["pdearena-maxwell"][1]["trajectory"].astype(np.float32)
    x, y = mx.read()
    np.testing.assert_array_equal(x, traj[:, 0, 3:])
    np.testing.assert_array_equal(y, traj[:, 1:, 2:3])
    ks = open_source(files["pdearena-ks"][0])
    assert ks.split == "test" and ks.output_shape == (3, 1, 7)


def test_pdearena_splits(tmp_path):
    exp = w.write_pdearena_dir(tmp_path / "ns")
    with pytest.raises(ValueError, match="different splits"):
        open_source(tmp_path / "ns")
    train = open_source(tmp_path / "ns", split="train")
    assert train.num_samples == 5
    np.testing.assert_array_equal(train.read_trajectories(), exp["trajectory"].astype(np.float32))
    np.testing.assert_array_equal(train.read_inputs([1, 2]), exp["trajectory"][[1, 2], 0])
    assert open_source(tmp_path / "ns", split="valid").num_samples == 2
    both = tmp_path / "both.h5"
    w.write_pdearena_ns(both, groups=("train", "valid"))
    with pytest.raises(ValueError, match="choose one with `split=`"):
        open_source(both)
    assert open_source(both, split="valid").split == "valid"
    with pytest.raises(ValueError, match="no `test` group"):
        open_source(both, split="test")
    val = tmp_path / "val.h5"  # the datapipes' docstrings call the split `val`
    w.write_pdearena_ns(val, groups=("val",))
    assert open_source(val, split="valid").split == "valid"


# --------------------------------------------------------------------------- pdejax


def test_pdejax_schema(files):
    path, exp = files["pdejax"]
    src = open_source(path)
    assert src.output_start == 0 and src.output_shape == (3, 2, 7)
    np.testing.assert_allclose(src.times, [0.1, 0.2, 0.3])
    assert src.parameters["parameters"] == {"nu": 0.01}
    kw = src.dataset_kwargs(slice(0, 2))
    np.testing.assert_array_equal(kw["outputs"], exp["outputs"][:2])
    assert kw["coordinates"][0].shape == (7,)
    one = open_source(path, inputs="inputs_1", outputs="outputs_0")
    np.testing.assert_array_equal(one.read_inputs(), exp["inputs"][:, 1:2])


def test_pdejax_schema_as_save_dataset_writes_it(tmp_path):
    from pdejax.data import Dataset, datasets, save_dataset
    from pdejax.data.readers import native

    assert (native.MAGIC, native.SCHEMA_VERSION) == (datasets.FORMAT, datasets.SCHEMA_VERSION)
    rng = np.random.default_rng(0)
    ds = Dataset(
        rng.random((3, 2, 5)).astype(np.float32),
        rng.random((3, 4, 1, 5)).astype(np.float32),
        problem="tiny/test",
        parameters={"nu": 0.1},
        coordinates=(np.linspace(0, 1, 5),),
        times=np.arange(1.0, 5.0),
    )
    path = save_dataset(ds, tmp_path / "saved.h5")
    assert detect_format(path) == "pdejax"
    with open_source(path) as src:
        x, y = src.read()
        np.testing.assert_array_equal(x, ds.inputs)
        np.testing.assert_array_equal(y, ds.outputs)
        np.testing.assert_array_equal(src.times, ds.times)
        assert src.parameters["parameters"] == {"nu": 0.1}


# --------------------------------------------------------------------------- whole-file readers


@pytest.mark.parametrize("case", ["fno-burgers-v5", "fno-darcy-v73", "fno-ns-v73", "fno-ns-v5"])
def test_read_fno_mat_is_open_source_read_whole(case, files):
    from pdejax.data import Dataset, read_fno_mat

    path, _ = files[case]
    ds = read_fno_mat(path)
    assert isinstance(ds, Dataset)
    with open_source(path, format="fno-mat") as src:
        x, y = src.read()
        times = src.times
    np.testing.assert_array_equal(ds.inputs, x)
    np.testing.assert_array_equal(ds.outputs, y)
    assert (ds.times is None) == (times is None)
    assert ds.problem == f"fno-mat:{path.name}" and ds.reference.startswith("Li et al.")


@pytest.mark.parametrize("case", ["pdebench-1d", "pdebench-2d", "pdebench-darcy"])
def test_read_pdebench_is_open_source_read_whole(case, files):
    from pdejax.data import read_pdebench

    path, exp = files[case]
    ds = read_pdebench(path)
    with open_source(path) as src:
        x, y = src.read()
        coordinates = src.coordinates
    np.testing.assert_array_equal(ds.inputs, x)
    np.testing.assert_array_equal(ds.outputs, y)
    assert len(ds.coordinates) == len(coordinates)
    if case == "pdebench-1d":
        np.testing.assert_allclose(ds.times, exp["times"][1:])
        assert ds.parameters == {"beta": pytest.approx(0.1)}
    with pytest.raises(ValueError, match="no `tensor`"):
        read_pdebench(files["pdebench-cfd"][0])

"""Detection and argument errors: one clear ValueError naming the file and the problem."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import readers_writers as w

from pdejax.data.readers import FORMATS, ReadError, detect_format, open_source


def test_unrecognised_hdf5_lists_keys_and_formats(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f["foo"] = np.zeros(3)
        f.create_group("bar")
    with pytest.raises(ValueError) as info:
        open_source(path)
    msg = str(info.value)
    assert str(path) in msg and "foo (dataset)" in msg and "bar (group)" in msg
    assert all(name in msg for name in FORMATS)


def test_ambiguous_file(tmp_path):
    path = tmp_path / "both.h5"
    with h5py.File(path, "w") as f:
        for k in ("tensor", "density", "pressure", "Vx"):
            f[k] = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="ambiguous.*pdebench.*pdebench-cfd"):
        detect_format(path)
    assert open_source(path, format="pdebench-cfd").format == "pdebench-cfd"


def test_not_a_data_file(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(ReadError, match="neither HDF5 nor a MATLAB"):
        open_source(path)
    with pytest.raises(ReadError, match="neither HDF5 nor a MATLAB"):
        open_source(path, format="pdebench")
    with pytest.raises(ReadError, match="no such file"):
        open_source(tmp_path / "missing.h5")


def test_mat_without_fno_variables(tmp_path):
    import scipy.io

    path = tmp_path / "x.mat"
    scipy.io.savemat(path, {"p": np.ones((3, 4))})
    with pytest.raises(ValueError, match=r"expected `a`/`u`.*found \{'p': \(3, 4\)\}"):
        open_source(path)


def test_mismatched_shapes(tmp_path):
    path = tmp_path / "cfd.h5"
    with h5py.File(path, "w") as f:
        f["density"] = np.zeros((2, 3, 4))
        f["pressure"] = np.zeros((2, 3, 5))
        f["Vx"] = np.zeros((2, 3, 4))
    with pytest.raises(ValueError, match="`pressure` has shape"):
        open_source(path)
    path = tmp_path / "well.hdf5"
    w.write_the_well(path)
    with h5py.File(path, "a") as f:
        f["t0_fields/pressure"].attrs["dim_varying"] = [True, False]
    with pytest.raises(ValueError, match="/t0_fields/pressure.*dim_varying"):
        open_source(path)


def test_directory_of_single_file_format(tmp_path):
    w.write_pdebench_1d(tmp_path / "a.hdf5")
    with pytest.raises(ValueError, match="open one file at a time"):
        open_source(tmp_path)
    with pytest.raises(ValueError, match="no train/valid/test split"):
        open_source(tmp_path / "a.hdf5", split="train")


def test_index_and_argument_errors(tmp_path):
    path = tmp_path / "a.hdf5"
    w.write_pdebench_1d(path)
    src = open_source(path)
    for bad, pattern in (
        (7, "out of range"),
        ([0, 9], "out of range"),
        (-8, "out of range"),
        (np.array([0.5]), "integer"),
        (np.ones((2, 2), int), "1-d"),
        (np.ones(3, bool), "boolean"),
    ):
        with pytest.raises(ValueError, match=pattern):
            src.read(bad)
    with pytest.raises(ValueError, match="stride"):
        src.read(stride=0)
    with pytest.raises(ValueError, match="selected twice"):
        open_source(path, inputs=["tensor", "tensor"])
    with pytest.raises(ValueError, match="per-sample value"):
        w.write_pdearena_ns(tmp_path / "arena.h5")
        open_source(tmp_path / "arena.h5", inputs="buo_y")
    with pytest.raises(ValueError, match="frame"):
        w.write_pdebench_1d(tmp_path / "one.hdf5", T=1)
        open_source(tmp_path / "one.hdf5")
    src.close()
    with pytest.raises(ValueError, match="closed"):
        src.read(0)


def test_frames_and_unsorted_indices(tmp_path):
    path = tmp_path / "cfd.hdf5"
    exp = w.write_pdebench_cfd(path)["trajectory"]
    src = open_source(path)
    np.testing.assert_array_equal(
        src.read_trajectories([2, 0, 2], frames=slice(1, 5, 2)), exp[[2, 0, 2], 1:5:2]
    )
    np.testing.assert_array_equal(src.read_trajectories(slice(None, None, -1)), exp[::-1])
    np.testing.assert_array_equal(src.read_field("Vx", 1, frames=slice(0, 2)), exp[1, :2, 2])


def test_corrupt_mat_v5_element_type_is_caught_before_scipy(tmp_path):
    # scipy.io.loadmat segfaults on this corruption (an invalid element type in a data tag)
    path = tmp_path / "burgers.mat"
    w.write_fno_burgers(path, version="v5")
    data = bytearray(path.read_bytes())
    # 128-byte header, matrix tag (8), flags (16), dims (16), name `a` (small element, 8)
    assert data[176:180] == (7).to_bytes(4, "little")  # miSINGLE
    data[176:180] = (198).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError, match="corrupt: variable 0 has a data tag of type 198"):
        open_source(path)


def test_corrupt_hdf5_metadata(tmp_path):
    path = tmp_path / "well.hdf5"
    w.write_the_well(path)
    data = bytearray(path.read_bytes())
    at = data.find(b"dim_varying") - 8  # inside the header of an attribute message
    data[at : at + 2] = b"\xff\xff"
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError) as info:
        open_source(path).read()
    assert str(path) in str(info.value) and "corrupt" in str(info.value)


def test_mat_v5_variables_load_only_when_read(tmp_path, monkeypatch):
    import scipy.io

    path = tmp_path / "ns.mat"
    exp = w.write_fno_ns(path, version="v5")
    loaded = []
    real = scipy.io.loadmat

    def spy(*args, variable_names=None, **kw):
        loaded.extend(variable_names or ["<all>"])
        return real(*args, variable_names=variable_names, **kw)

    monkeypatch.setattr(scipy.io, "loadmat", spy)
    src = open_source(path)
    assert "u" not in loaded and "a" not in loaded and "<all>" not in loaded
    np.testing.assert_array_equal(src.read_inputs(1), exp["inputs"][1])
    assert "a" in loaded and "u" not in loaded
    src.read_outputs(0)
    src.read_outputs(1)
    assert loaded.count("u") == 1  # loaded once, then kept


def test_describe_names_the_selection_and_reports_a_missing_file(tmp_path):
    # the text of `pdejax inspect FILE` (the CLI prints Source.describe())
    path = tmp_path / "cfd.hdf5"
    w.write_pdebench_cfd(path)
    with open_source(path, inputs=["density", "Vx"], outputs="pressure") as src:
        text = src.describe()
    assert "pdebench-cfd" in text and "density, Vx  (frame 0)" in text
    with pytest.raises(ReadError, match="no such file"):
        open_source(tmp_path / "missing.h5")

"""The pdejax HDF5 data set: one documented schema for generated and imported data.

Schema (version 1)::

    /inputs              (S, *input_shape)    float   one input per sample, e.g. (S, C, *spatial)
    /outputs             (S, *output_shape)   float   e.g. (S, C, *spatial) or (S, T, C, *spatial)
    /coordinates/axis_i  (N_i,)               float   optional, spatial coordinates per axis
    /times               (T,)                 float   optional, output times of a trajectory
    attrs:
      format           "pdejax-dataset"
      schema_version   1
      problem          problem name (e.g. "fno/burgers") or the source format of an import
      parameters       JSON: PDE parameters
      generator        JSON: seed, chunk size, dtype, number of samples, pdejax version
      reference        where the configuration comes from

Files hold arrays and JSON strings only: reading one never runs code. Every read is checked:
a missing field, a wrong format or a truncated file raises a :class:`ValueError` that names the
file and the problem.
"""

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import h5py
import numpy as np

FORMAT = "pdejax-dataset"
SCHEMA_VERSION = 1


@dataclasses.dataclass
class Dataset:
    """An in-memory data set in the pdejax schema (numpy arrays, sample axis first).

    Example:
        >>> import numpy as np
        >>> ds = Dataset(np.zeros((4, 1, 8)), np.ones((4, 1, 8)), problem="doc")
        >>> len(ds), ds.split(3)[1].inputs.shape
        (4, (1, 1, 8))
    """

    inputs: np.ndarray
    outputs: np.ndarray
    problem: str = ""
    parameters: dict[str, Any] = dataclasses.field(default_factory=dict)
    generator: dict[str, Any] = dataclasses.field(default_factory=dict)
    reference: str = ""
    coordinates: tuple[np.ndarray, ...] | None = None
    times: np.ndarray | None = None

    def __post_init__(self):
        if len(self.inputs) != len(self.outputs):
            raise ValueError(
                f"Dataset: `inputs` has {len(self.inputs)} samples but `outputs` has "
                f"{len(self.outputs)}; both need the sample axis first and equal length."
            )

    def __len__(self) -> int:
        return len(self.inputs)

    def subset(self, index) -> "Dataset":
        return dataclasses.replace(self, inputs=self.inputs[index], outputs=self.outputs[index])

    def split(self, num_first: int) -> tuple["Dataset", "Dataset"]:
        """The first ``num_first`` samples and the rest (e.g. train and test)."""
        if not 0 < num_first < len(self):
            raise ValueError(f"Dataset.split: `num_first` must be in (0, {len(self)}).")
        return self.subset(slice(0, num_first)), self.subset(slice(num_first, None))


def save_dataset(dataset: Dataset, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write ``dataset`` atomically (to a temporary file, then renamed): a crash never leaves a
    half-written file at ``path``. Refuses to replace an existing file unless ``overwrite``.

    Example:
        >>> import tempfile, pathlib, numpy as np
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "doc.h5"
        >>> ds = Dataset(np.zeros((3, 1, 8)), np.ones((3, 1, 8)), problem="doc")
        >>> save_dataset(ds, path).name, sorted(p.name for p in path.parent.iterdir())
        ('doc.h5', ['doc.h5'])
        >>> save_dataset(ds, path)
        Traceback (most recent call last):
        ValueError: save_dataset: .../doc.h5 exists; pass `overwrite=True` to replace it.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise ValueError(f"save_dataset: {path} exists; pass `overwrite=True` to replace it.")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with h5py.File(tmp, "w") as f:
        write_attributes(f, dataset)
        f.create_dataset("inputs", data=dataset.inputs)
        f.create_dataset("outputs", data=dataset.outputs)
        write_axes(f, dataset)
    os.replace(tmp, path)
    return path


def write_attributes(f: h5py.File, dataset: Dataset) -> None:
    """The schema's attributes of ``dataset`` on an open file (its arrays are not read).

    With :func:`write_axes` this lets a writer that streams ``/inputs`` and ``/outputs``
    (:func:`pdejax.data.generate`) produce exactly the file :func:`save_dataset` writes."""
    f.attrs["format"] = FORMAT
    f.attrs["schema_version"] = SCHEMA_VERSION
    f.attrs["problem"] = dataset.problem
    f.attrs["parameters"] = json.dumps(dataset.parameters, sort_keys=True)
    f.attrs["generator"] = json.dumps(dataset.generator, sort_keys=True)
    f.attrs["reference"] = dataset.reference


def write_axes(f: h5py.File, dataset: Dataset) -> None:
    """``/coordinates/axis_i`` and ``/times`` of ``dataset``, where it has them."""
    if dataset.coordinates is not None:
        group = f.create_group("coordinates")
        for i, x in enumerate(dataset.coordinates):
            group.create_dataset(f"axis_{i}", data=np.asarray(x))
    if dataset.times is not None:
        f.create_dataset("times", data=np.asarray(dataset.times))


def load_dataset(path: str | os.PathLike) -> Dataset:
    """Read a file written by :func:`save_dataset` or :func:`pdejax.data.generate`.

    Example (a round trip, and a file that is not a pdejax data set):
        >>> import tempfile, pathlib, numpy as np
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> ds = Dataset(np.arange(6.0).reshape(3, 1, 2), np.ones((3, 1, 2)), problem="doc",
        ...              parameters={"nu": 0.1}, times=np.array([1.0]))
        >>> back = load_dataset(save_dataset(ds, folder / "doc.h5"))
        >>> back.inputs[2].tolist(), back.problem, back.parameters, back.times.tolist()
        ([[4.0, 5.0]], 'doc', {'nu': 0.1}, [1.0])
        >>> _ = (folder / "notes.h5").write_text("not HDF5")
        >>> load_dataset(folder / "notes.h5")
        Traceback (most recent call last):
        ValueError: load_dataset: .../notes.h5 is not a readable HDF5 file (corrupt or truncated?): ...
    """
    path = Path(path)
    if not path.exists():
        raise ValueError(f"load_dataset: no such file {path}.")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ValueError(
            f"load_dataset: {path} is not a readable HDF5 file (corrupt or truncated?): {err}"
        ) from err
    with f:
        if f.attrs.get("format") != FORMAT:
            raise ValueError(
                f"load_dataset: {path} is not a pdejax data set (attribute `format` is "
                f"{f.attrs.get('format')!r}); import community formats with pdejax.data's readers."
            )
        version = int(f.attrs.get("schema_version", -1))
        if version != SCHEMA_VERSION:
            raise ValueError(f"load_dataset: {path} has schema version {version}, expected 1.")
        for name in ("inputs", "outputs"):
            if name not in f:
                raise ValueError(f"load_dataset: {path} is missing the dataset `/{name}`.")
        try:
            inputs = f["inputs"][...]
            outputs = f["outputs"][...]
            coords = None
            if "coordinates" in f:
                group = f["coordinates"]
                coords = tuple(group[f"axis_{i}"][...] for i in range(len(group)))
            times = f["times"][...] if "times" in f else None
        except (OSError, KeyError) as err:
            raise ValueError(f"load_dataset: {path} could not be read (truncated?): {err}") from err
        return Dataset(
            inputs=inputs,
            outputs=outputs,
            problem=str(f.attrs.get("problem", "")),
            parameters=json.loads(f.attrs.get("parameters", "{}")),
            generator=json.loads(f.attrs.get("generator", "{}")),
            reference=str(f.attrs.get("reference", "")),
            coordinates=coords,
            times=times,
        )

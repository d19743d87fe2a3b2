"""Every notebook in notebooks/ runs top to bottom (small sizes) and is stored without outputs.

The notebooks are found by globbing the directory, so a notebook added there is executed by this
test without being listed anywhere. Each must read ``PDEJAX_NOTEBOOK_SMALL`` (its parameter cell
lowers the sizes when it is ``"1"``), which the test sets; the kernel is the ``python3`` kernel
of the interpreter running pytest, on CPU, with the Agg matplotlib backend.
"""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS_DIR = Path(__file__).parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = {
    "01_quickstart",
    "02_fno_darcy",
    "03_neural_ode_regularization",
    "04_inverse_problem",
}


def test_notebooks_present():
    missing = EXPECTED - {p.stem for p in NOTEBOOKS}
    assert not missing, f"notebooks missing from {NOTEBOOKS_DIR}: {sorted(missing)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_clean(path):
    """Valid nbformat v4, outputs stripped, and a small mode for the test suite."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    dirty = [i for i, c in enumerate(code) if c.outputs or c.execution_count is not None]
    assert not dirty, f"{path.name}: code cells {dirty} have outputs; strip them before committing"
    assert any("PDEJAX_NOTEBOOK_SMALL" in c.source for c in code), (
        f"{path.name}: needs a parameter cell reading PDEJAX_NOTEBOOK_SMALL to lower sizes in CI"
    )


# Every notebook runs in the default suite (20-45 s each on 2 cores, in small mode).
EXECUTE = [pytest.param(p, id=p.stem) for p in NOTEBOOKS]


@pytest.mark.parametrize("path", EXECUTE)
def test_notebook_executes(path, tmp_path, monkeypatch):
    # The kernel inherits this environment; run it in tmp_path so nothing lands in the repo.
    monkeypatch.setenv("PDEJAX_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("JAX_PLATFORMS", "cpu")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError naming the failing cell
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"

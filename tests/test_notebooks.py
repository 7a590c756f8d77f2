"""Every notebook under ``notebooks/`` runs top to bottom without an error.

Each notebook is executed with nbclient in a fresh ``python3`` kernel, with the notebook's own
folder as working directory and ``MPLBACKEND=Agg`` so that plotting never needs a display.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(p for p in NOTEBOOK_DIR.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_there_are_notebooks() -> None:
    """The notebooks folder is not empty (so the next test checks something)."""
    assert NOTEBOOKS, f"no notebook found under {NOTEBOOK_DIR}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(NOTEBOOK_DIR)))
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The notebook runs top to bottom without an error."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=300,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{path.name}: a cell raised an error\n{err}", pytrace=False)

"""Corruption fuzzer for the files of a round beyond the batch: the assignment file that
``verify``, ``reassign``, ``reserves`` and ``update-used`` read, and ``declined.csv``; and for a
batch given as one ``.xlsx`` workbook. Whatever the damage: a clean exit status (0, 1 for
violations, 2 naming the file, 3 with a diagnosis), never a traceback, no output after a
failure, every input unchanged."""

from __future__ import annotations

import hashlib
import random
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch.cli import main

from .test_fuzz_inputs import KINDS, SELF_EVIDENT, damage


@pytest.fixture(scope="module")
def round_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A batch, its assignment, a declined.csv and the same batch as a workbook."""
    folder = tmp_path_factory.mktemp("round")
    batch = em.write_batch(em.generate(6, 24, seed=7), folder / "batch")
    assert main(["assign", str(batch), "-o", str(folder / "assignment.csv")]) == 0
    first = pd.read_csv(folder / "assignment.csv", dtype=str, encoding="utf-8-sig").iloc[0]
    (folder / "declined.csv").write_text(
        f"expert,project\n{first['expert']},{first['project']}\n", encoding="utf-8"
    )
    with pd.ExcelWriter(folder / "batch.xlsx") as writer:
        for table in sorted(batch.glob("*.csv")):
            pd.read_csv(table, dtype=str, keep_default_na=False).to_excel(
                writer, sheet_name=table.stem, index=False
            )
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    out = {}
    for entry in sorted(folder.rglob("*")):
        key = str(entry.relative_to(folder))
        if entry.is_symlink():
            out[key] = "link"
        elif entry.is_file():
            out[key] = hashlib.sha256(entry.read_bytes()).hexdigest()
    return out


COMMANDS = {
    "verify": lambda d, o: ["verify", str(d / "batch"), str(d / "assignment.csv")],
    "reassign": lambda d, o: [
        "reassign",
        str(d / "batch"),
        "--previous",
        str(d / "assignment.csv"),
        "--declined",
        str(d / "declined.csv"),
        "-o",
        str(o),
        "--time-limit",
        "20",
    ],
    "reserves": lambda d, o: [
        "reserves",
        str(d / "batch"),
        "--previous",
        str(d / "assignment.csv"),
        "-o",
        str(o),
    ],
    "update-used": lambda d, o: [
        "update-used",
        str(d / "batch"),
        str(d / "assignment.csv"),
        "-o",
        str(o),
    ],
    "workbook": lambda d, o: ["assign", str(d / "batch.xlsx"), "-o", str(o), "--time-limit", "20"],
}
TARGETS = {
    "verify": ["assignment.csv"],
    "reassign": ["assignment.csv", "declined.csv"],
    "reserves": ["assignment.csv"],
    "update-used": ["assignment.csv"],
    "workbook": ["batch.xlsx"],
}
TEXT_ONLY = {"control", "huge", "utf16", "mixed", "gb18030", "cell", "duplicate_row", "no_header"}


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=st.sampled_from(sorted(COMMANDS)), kind=st.sampled_from(KINDS), data=st.data())
def test_damaged_round_files_are_refused_or_harmless(
    round_dir: Path, command: str, kind: str, data: st.DataObject, capsys
) -> None:
    """Each command on a damaged copy of the file it reads: a clean exit, never a traceback."""
    name = data.draw(st.sampled_from(TARGETS[command]))
    if name.endswith(".xlsx") and kind in TEXT_ONLY:
        kind = "truncate"
    seed = data.draw(st.integers(0, 2**32 - 1))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "round"
        shutil.copytree(round_dir, folder, symlinks=True)
        damage(folder, name, kind, random.Random(seed))
        before = snapshot(folder)
        out = Path(tmp) / "out.csv"
        capsys.readouterr()
        code = main(COMMANDS[command](folder, out))
        err = capsys.readouterr().err
        assert snapshot(folder) == before, "an input was changed"
        assert "Traceback" not in err and "internal error" not in err, err[:500]
        assert code in (0, 1, 2, 3), err[:500]
        if code != 0:
            assert not out.exists()
        if code == 2 and kind in SELF_EVIDENT:
            assert name in " ".join(err.split()), err[:500]

"""Damaged input files the office may hand in: each is refused with exit 2 and a message that
names the file (and the row where there is one), never a traceback, no output written, the
input left as it was."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

import expertmatch as em
from expertmatch.cli import main


def demo_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    shutil.copytree(em.demo_path(), folder)
    return folder


def digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.is_symlink()
    }


def run_assign(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    out = tmp_path / "out.csv"
    report = tmp_path / "report.json"
    before = digest(folder)
    code = main(["assign", str(folder), "-o", str(out), "--report", str(report)])
    err = capsys.readouterr().err
    assert code == 0 or (not out.exists() and not report.exists())
    assert digest(folder) == before
    assert "Traceback" not in err
    return code, " ".join(err.split())


def test_a_cell_longer_than_the_csv_limit_names_file_and_row(tmp_path, capsys) -> None:
    """A 200,000-character cell (cut-and-paste accident) is an input error, not a crash."""
    folder = demo_copy(tmp_path)
    path = folder / "experts.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3] + "x" * 200_000
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, err = run_assign(folder, tmp_path, capsys)
    assert code == 2
    assert "experts.csv, row 4" in err and "longer than 131,072 characters" in err
    # verify reads the same files: the same clear error
    assignment = tmp_path / "a.csv"
    assignment.write_text("project,expert,score\n", encoding="utf-8")
    assert main(["verify", str(folder), str(assignment)]) == 2
    assert "longer than 131,072" in capsys.readouterr().err


def test_a_dangling_symlink_scores_file_is_an_error_not_absent(tmp_path, capsys) -> None:
    """scores.csv pointing nowhere must not silently fall back to the built-in scores."""
    folder = demo_copy(tmp_path)
    (folder / "scores.csv").symlink_to(tmp_path / "nowhere.csv")
    code, err = run_assign(folder, tmp_path, capsys)
    assert code == 2
    assert "scores.csv" in err and "does not exist" in err


def test_a_symlink_loop_is_named_as_such(tmp_path, capsys) -> None:
    """An experts.csv that is a link loop is reported as a loop, not as 'missing'."""
    folder = demo_copy(tmp_path)
    (folder / "experts.csv").unlink()
    os.symlink("experts.csv", folder / "experts.csv")
    code, err = run_assign(folder, tmp_path, capsys)
    assert code == 2
    assert "experts.csv" in err and "symbolic link loop" in err
    assert "required file missing" not in err


def test_a_folder_in_place_of_a_file(tmp_path, capsys) -> None:
    """A directory named scores.csv is an error naming it."""
    folder = demo_copy(tmp_path)
    (folder / "scores.csv").mkdir()
    code, err = run_assign(folder, tmp_path, capsys)
    assert code == 2
    assert "scores.csv: is a folder, not a file" in err


def test_one_gb18030_row_in_a_utf8_file_is_refused_with_its_row(tmp_path, capsys) -> None:
    """Decoding the whole file as GB18030 would garble every UTF-8 name: refuse, name the row."""
    folder = demo_copy(tmp_path)
    path = folder / "experts.csv"
    lines = path.read_bytes().split(b"\n")
    text = lines[5].decode("utf-8")
    assert not text.isascii()  # the demo's names are Chinese
    lines[5] = text.encode("gb18030")
    path.write_bytes(b"\n".join(lines))
    code, err = run_assign(folder, tmp_path, capsys)
    assert code == 2
    assert "experts.csv, row 6" in err and "mixes encodings" in err


def test_a_whole_gb18030_file_still_reads(tmp_path) -> None:
    """Excel on Chinese Windows writes GB18030: a file wholly in it is read as before."""
    folder = demo_copy(tmp_path)
    path = folder / "experts.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    problem = em.load(folder)
    assert problem.expert_names == em.load(em.demo_path()).expert_names


def test_a_nul_byte_in_an_id_names_experts_csv(tmp_path, capsys) -> None:
    """A NUL in an id is damage in experts.csv, reported there (not later in scores.csv)."""
    folder = demo_copy(tmp_path)
    path = folder / "experts.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = "E\x00" + lines[2][1:]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, err = run_assign(folder, tmp_path, capsys)
    assert code == 2
    assert "experts.csv, row 3, column id" in err and "U+0000" in err


def test_control_characters_from_python_tables_are_refused() -> None:
    """The same check holds for tables given as Python objects."""
    tables = em.generate(3, 12, seed=1)
    experts = tables["experts"].copy()
    experts.loc[1, "name"] = "bad\x07name"
    tables["experts"] = experts
    with pytest.raises(em.InputError) as info:
        em.from_tables(**tables)
    assert "experts, row 2, column name" in str(info.value)

"""A CSV folder may name its files as the office does (专家.csv, 项目.csv, ...: the workbook's
sheet names); the same table under two names is refused, naming both files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import expertmatch as em
from expertmatch.cli import main

CHINESE = {"experts": "专家", "projects": "项目", "organizations": "单位"}


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    shutil.copytree(em.demo_path(), folder)
    return folder


def test_chinese_file_names_read_as_the_tables(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    english = em.assign(em.load(folder))
    for name, zh in CHINESE.items():
        (folder / f"{name}.csv").rename(folder / f"{zh}.csv")
    chinese = em.load(folder)
    assert chinese.expert_ids == english.problem.expert_ids
    assert em.assign(chinese).assignment == english.assignment


def test_the_same_table_twice_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _copy(tmp_path)
    shutil.copy(folder / "experts.csv", folder / "专家.csv")
    with pytest.raises(em.InputError, match="keep one"):
        em.load(folder)
    out = tmp_path / "a.csv"
    assert main(["assign", str(folder), "-o", str(out)]) == 2
    assert "experts.csv and 专家.csv" in capsys.readouterr().err
    assert not out.exists()

"""What the command line writes and refuses to write: outputs that would overwrite an input or
each other are refused before any work, a report that cannot be written does not hide the
diagnosis, both files or neither, files colleagues can read, long error lists summarised, and
the time limit counting the loading of the batch."""

from __future__ import annotations

import hashlib
import shutil
import stat
import time
from pathlib import Path

import pytest

import expertmatch as em
from expertmatch import cli
from expertmatch.cli import main


@pytest.fixture
def batch(tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    shutil.copytree(em.demo_path(), folder)
    return folder


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_output_onto_an_input_file_is_refused_before_any_work(batch, capsys) -> None:
    """``-o INPUT/experts.csv`` would overwrite the experts with the assignment."""
    before = digest(batch)
    assert main(["assign", str(batch), "-o", str(batch / "experts.csv")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "experts.csv: is an input of this run" in err
    assert digest(batch) == before


def test_output_named_like_an_input_table_in_the_input_folder_is_refused(batch, capsys) -> None:
    """A new ``INPUT/scores.csv`` would be read as scores by the next run."""
    assert main(["assign", str(batch), "-o", str(batch / "scores.csv")]) == 2
    assert not (batch / "scores.csv").exists()
    assert "is an input of this run" in capsys.readouterr().err


def test_the_same_path_for_assignment_and_report_is_refused(batch, tmp_path, capsys) -> None:
    """``-o X --report X`` would keep only the report: refused, nothing written."""
    out = tmp_path / "same.csv"
    assert main(["assign", str(batch), "-o", str(out), "--report", str(out)]) == 2
    assert not out.exists()
    assert "given for two outputs" in capsys.readouterr().err


def test_rules_file_as_output_is_refused(batch, tmp_path, capsys) -> None:
    """The ``--rules`` file is an input too."""
    rules = tmp_path / "rules.toml"
    rules.write_text("panel_size = 3\n", encoding="utf-8")
    assert main(["assign", str(batch), "--rules", str(rules), "-o", str(rules)]) == 2
    assert rules.read_text(encoding="utf-8") == "panel_size = 3\n"


def test_infeasible_with_an_unwritable_report_still_shows_the_diagnosis(
    batch, tmp_path, capsys
) -> None:
    """Exit 3 and the diagnosis, whatever else fails (here: the report's folder is a file)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    rules = tmp_path / "tight.toml"
    rules.write_text("max_load = 1\n", encoding="utf-8")
    code = main(
        [
            "assign",
            str(batch),
            "--rules",
            str(rules),
            "-o",
            str(tmp_path / "a.csv"),
            "--report",
            str(blocker / "report.json"),
        ]
    )
    err = " ".join(capsys.readouterr().err.split())
    assert code == 3
    assert "could not write" in err and "cannot all hold" in err
    assert not (tmp_path / "a.csv").exists()


def test_a_report_path_that_is_a_folder_writes_neither_file(batch, tmp_path, capsys) -> None:
    """Both or neither: the assignment is not written when the report cannot be."""
    folder = tmp_path / "reports"
    folder.mkdir()
    out = tmp_path / "assignment.csv"
    assert main(["assign", str(batch), "-o", str(out), "--report", str(folder)]) == 2
    assert not out.exists()
    assert "is a folder" in capsys.readouterr().err


def test_outputs_are_readable_by_colleagues(batch, tmp_path) -> None:
    """Files are 0644 under the usual umask, not the 0600 of a temporary file."""
    out, report = tmp_path / "assignment.csv", tmp_path / "report.json"
    assert main(["assign", str(batch), "-o", str(out), "--report", str(report)]) == 0
    import os

    mask = os.umask(0o022)
    os.umask(mask)
    for path in (out, report):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_thousands_of_follow_on_issues_are_summarised(batch, capsys) -> None:
    """A truncated experts.csv: the first lines say what is wrong, the rest are counted."""
    lines = (batch / "experts.csv").read_text(encoding="utf-8").splitlines()
    (batch / "experts.csv").write_text("\n".join(lines[:4]) + "\n", encoding="utf-8")
    experts = [line.split(",")[0] for line in lines[4:]]
    rows = ["expert,project,score"] + [f"{e},P001,{i % 90 + 1}" for i, e in enumerate(experts)]
    (batch / "scores.csv").write_text("\n".join(rows * 10) + "\n", encoding="utf-8")
    assert main(["assign", str(batch), "-o", str(batch.parent / "a.csv")]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) < 40
    assert "more in scores.csv" in err


def test_the_time_limit_counts_loading(batch, tmp_path, monkeypatch) -> None:
    """The solver gets what loading left of --time-limit."""
    real_load, seen = cli.load, {}

    def slow_load(*args, **kwargs):
        problem = real_load(*args, **kwargs)
        time.sleep(0.5)
        return problem

    def spy_assign(problem, **kwargs):
        seen["time_limit"] = kwargs["time_limit"]
        return em.assign(problem, **kwargs)

    monkeypatch.setattr(cli, "load", slow_load)
    monkeypatch.setattr(cli, "assign", spy_assign)
    assert main(["assign", str(batch), "-o", str(tmp_path / "a.csv"), "--time-limit", "30"]) == 0
    assert seen["time_limit"] <= 29.5

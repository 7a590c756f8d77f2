"""``verify --declined``: the assignment is checked against the batch with the declines ruled
out, as ``why --declined`` and ``reassign`` see it: a declined pair is a violation naming the
decline (exit 1); an assignment that avoids every decline passes (exit 0)."""

from __future__ import annotations

from pathlib import Path

import pytest

from expertmatch.cli import main
from tests.batches import read_rows, two_project_tables, write_tables


@pytest.fixture
def assigned(tmp_path: Path) -> tuple[Path, Path, list[dict[str, str]]]:
    """The two-project batch, its assignment.csv and the assignment's rows."""
    folder = write_tables(tmp_path / "batch", two_project_tables())
    assignment = tmp_path / "assignment.csv"
    assert main(["assign", str(folder), "-o", str(assignment)]) == 0
    return folder, assignment, read_rows(assignment)


def declines(path: Path, *rows: tuple[str, str]) -> Path:
    path.write_text("expert,project\n" + "".join(f"{e},{p}\n" for e, p in rows), encoding="utf-8")
    return path


def test_a_declined_pair_on_a_panel_is_a_violation_naming_the_decline(
    assigned: tuple[Path, Path, list[dict[str, str]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, assignment, rows = assigned
    project, expert = rows[0]["project"], rows[0]["expert"]
    declined = declines(tmp_path / "declined.csv", (expert, project))
    assert main(["verify", str(folder), str(assignment)]) == 0
    capsys.readouterr()
    assert main(["verify", str(folder), str(assignment), "--declined", str(declined)]) == 1
    err = capsys.readouterr().err
    assert f"[conflict] {project} {expert}: declared: declined (declined.csv row 2)" in err
    assert "1 violation(s)" in err


def test_an_expert_unavailable_for_the_round_is_named_on_every_panel(
    assigned: tuple[Path, Path, list[dict[str, str]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, assignment, rows = assigned
    expert = rows[0]["expert"]
    panels = sorted(r["project"] for r in rows if r["expert"] == expert)
    declined = declines(tmp_path / "declined.csv", (expert, ""))
    assert main(["verify", str(folder), str(assignment), "--declined", str(declined)]) == 1
    err = capsys.readouterr().err
    for project in panels:
        assert f"[conflict] {project} {expert}: declared: declined: unavailable this round" in err
    assert f"{len(panels)} violation(s)" in err


def test_an_assignment_that_avoids_the_declines_passes(
    assigned: tuple[Path, Path, list[dict[str, str]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A decline of a pair not assigned changes nothing; reassign's answer passes too."""
    folder, assignment, rows = assigned
    used = {(r["project"], r["expert"]) for r in rows}
    unused = next(
        (e, p) for p in ("P1", "P2") for e in ("E1", "E2", "E3", "E4", "E5") if (p, e) not in used
    )
    declined = declines(tmp_path / "declined.csv", unused)
    assert main(["verify", str(folder), str(assignment), "--declined", str(declined)]) == 0
    assert "every rule holds" in capsys.readouterr().out
    on_panel = declines(tmp_path / "on_panel.csv", (rows[0]["expert"], rows[0]["project"]))
    new = tmp_path / "new.csv"
    argv = ["reassign", str(folder), "--previous", str(assignment), "--declined", str(on_panel)]
    assert main([*argv, "-o", str(new)]) == 0
    assert main(["verify", str(folder), str(new), "--declined", str(on_panel)]) == 0


def test_unknown_ids_in_the_declines_are_input_errors(
    assigned: tuple[Path, Path, list[dict[str, str]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder, assignment, _ = assigned
    declined = declines(tmp_path / "declined.csv", ("E1", "P1"), ("NOBODY", ""))
    assert main(["verify", str(folder), str(assignment), "--declined", str(declined)]) == 2
    assert "declined.csv, row 3, column expert: unknown expert 'NOBODY'" in capsys.readouterr().err

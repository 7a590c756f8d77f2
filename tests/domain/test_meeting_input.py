"""Meeting input (会评): the mode and group columns, the [meeting] rules, availability.csv;
each mistake named by file, row and column; a damaged availability.csv exits 2 naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch.cli import main
from expertmatch.domain.rules import MeetingRules
from tests.batches import find_issue
from tests.meeting_batches import (
    MEETING_PROJECTS,
    meeting_batch,
    meeting_folder,
)


def _error(**kwargs: object) -> em.InputError:
    with pytest.raises(em.InputError) as caught:
        meeting_batch(**kwargs)  # type: ignore[arg-type]
    return caught.value


def test_mode_from_the_column_or_the_stage() -> None:
    """mode meeting in projects.csv (also 会评), or mode = "meeting" in a [stage.NAME]."""
    projects = [{**p, "mode": "会评" if p["id"] == "P1" else p["mode"]} for p in MEETING_PROJECTS]
    assert meeting_batch(projects=projects).project_meeting.all()
    staged = [
        {**{k: v for k, v in p.items() if k not in ("mode", "group")}, "stage": "acceptance"}
        for p in MEETING_PROJECTS
    ]
    problem = meeting_batch(projects=staged, rules={"stage": {"acceptance": {"mode": "meeting"}}})
    assert problem.project_meeting.all() and problem.fixed_groups == {}


def test_defaults_and_reading_the_meeting_table() -> None:
    """The defaults are the contract's example; one number is an exact group size."""
    assert MeetingRules() == MeetingRules((6, 12), 7, 5, 1, "recuse", (), 1)
    problem = meeting_batch(rules={"meeting": {"group_size": 2, "recusal": "回避"}})
    assert problem.meeting.group_size == (2, 2) and problem.meeting.recusal == "recuse"


@pytest.mark.parametrize(
    ("meeting", "column", "message"),
    [
        ({"group_size": [5, 3]}, "meeting.group_size", "needs 1 <= least <= most"),
        ({"min_reviewers": 4}, "meeting.min_reviewers", "between 1 and panel_size"),
        ({"recusal": "maybe"}, "meeting.recusal", "must be one of recuse, exclude"),
        ({"rooms": 0}, "meeting.rooms", "must be at least 1"),
        ({"slots": ["am", "am"]}, "meeting.slots", "a slot is listed twice"),
        ({"colour": "red"}, "meeting.colour", "unknown meeting key 'colour'"),
    ],
)
def test_bad_meeting_rules_are_named(meeting: dict, column: str, message: str) -> None:
    err = _error(rules={"meeting": meeting})
    assert any(i.column == column and message in i.message for i in err.issues), err


def test_bad_mode_and_group_cells() -> None:
    """An unknown mode; a group on a panel project; a group outside group_size."""
    projects = [dict(p) for p in MEETING_PROJECTS]
    projects[0]["mode"] = "lecture"
    find_issue(_error(projects=projects), "projects", r"unknown mode 'lecture'", row=1)
    projects = [dict(p) for p in MEETING_PROJECTS]
    projects[3]["mode"] = "panel"
    find_issue(_error(projects=projects), "projects", r"group 'G2' given but the project's mode")
    projects = [{**p, "group": "G1"} for p in MEETING_PROJECTS]
    find_issue(_error(projects=projects), "projects", r"group 'G1' has 4 projects")


def test_bad_availability_rows() -> None:
    """availability.csv: an unknown expert, an unknown slot, an empty slot; row by row."""
    rows = [
        {"expert": "E9", "slot": "am"},
        {"expert": "E1", "slot": "night"},
        {"expert": "E1", "slot": ""},
    ]
    err = _error(rules={"meeting": {"slots": ["am", "pm"]}}, availability=rows)
    find_issue(err, "availability", r"unknown expert 'E9'", row=1)
    find_issue(err, "availability", r"unknown slot 'night' \(the slots of \[meeting\]: am, pm\)")
    find_issue(err, "availability", r"empty slot", row=3)


def _folder(tmp_path: Path) -> Path:
    return meeting_folder(
        tmp_path,
        "reference_year = 2026\n[meeting]\ngroup_size = [2, 2]\npanel_size = 3\n"
        'min_reviewers = 2\nslots = ["am", "pm"]\nrooms = 1\n'
        '[chair]\nattribute = "title"\nvalues = ["正高级"]\n',
        conflicts=[{"expert": "E1", "project": "P1"}],
        availability=[{"expert": "E2", "slot": "am"}],
    )


def test_cli_end_to_end(tmp_path: Path) -> None:
    """assign writes the pairs with their group and the report's groups; verify of the file
    exits 0; a broken file exits 1; the workbook has one sheet a meeting (Chinese with
    --lang zh)."""
    folder = _folder(tmp_path)
    out, rep = tmp_path / "a.csv", tmp_path / "r.json"
    assert main(["assign", str(folder), "-o", str(out), "--report", str(rep)]) == 0
    report = json.loads(rep.read_text(encoding="utf-8"))
    assert {g["slot"] for g in report["groups"]} == {"am", "pm"}
    assert main(["verify", str(folder), str(out)]) == 0
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    broken = tmp_path / "b.csv"
    broken.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    assert main(["verify", str(folder), str(broken)]) == 1
    book = tmp_path / "a.xlsx"
    assert main(["assign", str(folder), "-o", str(book), "--lang", "zh"]) == 0
    import openpyxl

    names = openpyxl.load_workbook(book).sheetnames
    assert sum(n.startswith("会评") for n in names) == 2, names


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=1, max_size=200))
def test_damaged_availability_exits_2_naming_it(tmp_path: Path, data: bytes) -> None:
    """Any damaged availability.csv (random bytes after a valid header) exits 2 or is read;
    when it fails, the message names availability.csv; never a crash (exit 70)."""
    folder = tmp_path / "batch"
    if not folder.exists():
        _folder(tmp_path)
    (folder / "availability.csv").write_bytes(b"expert,slot\n" + data)
    code = main(["assign", str(folder), "-o", str(tmp_path / "x.csv"), "--time-limit", "20"])
    assert code in (0, 2, 3)


def test_damaged_availability_message(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A NUL byte in availability.csv: exit 2, the file and row named, nothing written."""
    folder = _folder(tmp_path)
    (folder / "availability.csv").write_bytes(b"expert,slot\nE2,a\x00m\n")
    out = tmp_path / "x.csv"
    assert main(["assign", str(folder), "-o", str(out)]) == 2
    assert "availability.csv" in capsys.readouterr().err and not out.exists()


def test_cli_round_tools_on_meetings(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """why, reassign and reserves on a meeting assignment file: why says whether the expert
    sits in the project's group; reassign after a decline changes seats and verifies;
    reserves lists reserves per group."""
    import pandas as pd

    folder = _folder(tmp_path)
    out = tmp_path / "a.csv"
    assert main(["assign", str(folder), "-o", str(out)]) == 0
    frame = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    seated = frame.iloc[0]
    capsys.readouterr()
    code = main(["why", str(folder), seated["expert"], seated["project"], "--assignment", str(out)])
    assert code == 0
    assert f"seated in group {seated['group']}" in capsys.readouterr().out
    declined = tmp_path / "declined.csv"
    declined.write_text(f"expert,project\n{seated['expert']},\n", encoding="utf-8")
    new = tmp_path / "b.csv"
    args = ["reassign", str(folder), "--previous", str(out), "--declined", str(declined)]
    assert main([*args, "-o", str(new)]) in (0, 3)
    if new.exists():
        assert main(["verify", str(folder), str(new), "--declined", str(declined)]) == 0
        assert seated["expert"] not in set(pd.read_csv(new, dtype=str)["expert"])
    reserves = tmp_path / "r.csv"
    assert (
        main(["reserves", str(folder), "--previous", str(out), "-k", "2", "-o", str(reserves)]) == 0
    )
    assert set(pd.read_csv(reserves, dtype=str)["group"]) <= {"G1", "G2"}

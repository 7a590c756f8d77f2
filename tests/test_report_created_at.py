"""report.json records when it was made: ``created_at``, UTC, ISO 8601 to the second with a
``Z`` ("2026-11-27T13:55:02Z"), in a solved report and in an infeasible one."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import expertmatch as em
from expertmatch.cli import main
from expertmatch.result import utc_now

STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_utc_now_format() -> None:
    """Exactly ``YYYY-MM-DDTHH:MM:SSZ``, the current UTC time."""
    stamp = utc_now()
    assert STAMP.fullmatch(stamp), stamp
    assert abs(parse(stamp) - datetime.now(UTC)) < timedelta(seconds=5)


def test_report_json_has_created_at(tmp_path: Path) -> None:
    """The CLI's report.json: created_at within the run, and the Result keeps the same value."""
    before = datetime.now(UTC).replace(microsecond=0)
    report = tmp_path / "report.json"
    assert (
        main(
            ["assign", str(em.demo_path()), "-o", str(tmp_path / "a.csv"), "--report", str(report)]
        )
        == 0
    )
    after = datetime.now(UTC)
    stamp = json.loads(report.read_text(encoding="utf-8"))["created_at"]
    assert STAMP.fullmatch(stamp), stamp
    assert before <= parse(stamp) <= after


def test_created_at_is_fixed_when_the_result_is_made(demo_result: em.Result) -> None:
    """Writing a Result twice gives the same created_at: it is when the result was made."""
    assert demo_result.report()["created_at"] == demo_result.created_at
    assert STAMP.fullmatch(demo_result.created_at)


def test_infeasible_report_has_created_at(tmp_path: Path) -> None:
    """The report of a batch whose rules cannot all hold (exit 3) has created_at too."""
    folder = tmp_path / "batch"
    shutil.copytree(em.demo_path(), folder)
    rules = folder / "rules.toml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("panel_size = 5", "panel_size = 60"),
        encoding="utf-8",
    )
    report = tmp_path / "report.json"
    assert (
        main(["assign", str(folder), "-o", str(tmp_path / "a.csv"), "--report", str(report)]) == 3
    )
    content = json.loads(report.read_text(encoding="utf-8"))
    assert content["status"] == "infeasible"
    assert STAMP.fullmatch(content["created_at"])
    assert content["seed"] == 0

"""What the input allows but almost surely did not mean is said, not swallowed: an expert
whose ``used`` is already above ``yearly_cap`` can never be assigned."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

import expertmatch as em
from expertmatch.cli import main
from expertmatch.domain.eligibility import notices


def test_used_above_yearly_cap_is_noted_on_the_command_line_and_in_the_report(
    tmp_path: Path, capsys
) -> None:
    folder = tmp_path / "batch"
    shutil.copytree(em.demo_path(), folder)
    experts = pd.read_csv(folder / "experts.csv", dtype=str, keep_default_na=False)
    expert = experts.loc[7, "id"]
    experts.loc[7, "used"] = "12"  # yearly_cap is 10
    experts.to_csv(folder / "experts.csv", index=False)
    report = tmp_path / "report.json"
    assert (
        main(["assign", str(folder), "-o", str(tmp_path / "a.csv"), "--report", str(report)]) == 0
    )
    err = " ".join(capsys.readouterr().err.split())
    assert f"note: experts.csv: expert {expert} has used 12, above yearly_cap 10" in err
    assert json.loads(report.read_text(encoding="utf-8"))["notices"] == notices(em.load(folder))


def test_no_notice_when_used_is_within_the_cap() -> None:
    problem = em.load(em.demo_path())
    assert notices(problem) == []
    assert "notices" not in em.assign(problem).report()

"""Declines: reassignment changes the fewest earlier pairs, then scores best (checked against
brute force on small batches); declined pairs are named by verify() and why_ineligible(); bad ids
in the declines name file and row; the command line end to end."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch.cli import main
from expertmatch.rounds.history import read_declines, with_declines
from tests.batches import read_rows
from tests.strategies import all_assignments, first_assignment, score_of, tiny_batches

DEMO = str(em.demo_path())


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_batches(), st.data())
def test_reassign_changes_the_fewest_pairs_then_scores_best(
    batch: dict[str, Any], data: st.DataObject
) -> None:
    """After declines, the fewest pairs change, then the score is best (brute force)."""
    solved = first_assignment(batch)
    if solved is None:
        return
    problem, first = solved
    before = set(first.assignment)
    picked = data.draw(st.lists(st.sampled_from(sorted(before)), min_size=1, max_size=2))
    declined = [(e, p) for p, e in picked]
    if data.draw(st.booleans()):
        declined.append((data.draw(st.sampled_from(problem.expert_ids)), ""))
    declined_problem = with_declines(problem, read_declines(declined, problem))
    options = list(all_assignments(declined_problem))
    try:
        new = em.reassign(problem, first, declined, time_limit=20)
    except em.InfeasibleError:
        assert not options, "reported infeasible, but brute force found an assignment"
        return
    assert options
    fewest = min(len(before - set(o)) for o in options)
    best = max(score_of(problem, o) for o in options if len(before - set(o)) == fewest)
    assert new.status == "optimal"
    assert new.stats["changed_pairs"] == fewest
    assert new.stats["kept_pairs"] == len(before) - fewest
    assert new.objective == pytest.approx(best)
    assert em.verify(new.problem, new) == []
    used = set(new.assignment)
    for expert, project in declined:
        assert all(e != expert for p, e in used if project in ("", p))


def test_declined_pairs_are_named_by_verify_and_why(demo: em.Problem, demo_result: em.Result):
    """A declined pair is a conflict for verify() and why_ineligible(); other panels stay."""
    project, expert = demo_result.assignment[0]
    new = em.reassign(demo, demo_result, [(expert, project)])
    assert (project, expert) not in new.assignment
    violations = em.verify(new.problem, demo_result)
    assert [(v.rule, v.project, v.expert) for v in violations] == [("conflict", project, expert)]
    assert "declined" in violations[0].message
    assert em.why_ineligible(new.problem, expert, project) == [
        "declared: declined (declined row 1)"
    ]
    # the other panels stay as they were when that is possible
    assert new.stats["changed_pairs"] == 1
    assert new.stats["changes"] == [
        {"project": project, "removed": [expert], "added": new.stats["changes"][0]["added"]}
    ]


def test_reassign_moves_other_panels_when_the_declined_seat_needs_it() -> None:
    """P1's only other enterprise candidate is C, who is full on P2: keeping every other pair
    is impossible, so the full model finds the fewest changes (2)."""
    experts = [
        {"id": i, "organization": f"O{i}", "org_type": t, "fields": "1.1.1", "max_load": 1}
        for i, t in (
            ("A", "enterprise"),
            ("C", "enterprise"),
            ("D", "enterprise"),
            ("U", "university"),
        )
    ]
    projects = [{"id": p, "organization": "X", "fields": "1.1.1"} for p in ("P1", "P2")]
    organizations = [{"id": f"O{i}", "type": ""} for i in "ACDU"] + [{"id": "X", "type": ""}]
    problem = em.from_tables(
        experts=experts,
        projects=projects,
        organizations=organizations,
        conflicts=[{"expert": "D", "project": "P1"}],
        rules={"panel_size": 1, "enterprise_min_share": 1, "coverage_level": 0},
    )
    new = em.reassign(problem, [("P1", "A"), ("P2", "C")], [("A", "P1")])
    assert new.panels["P1"] == ["C"]
    assert new.stats["changed_pairs"] == 2
    assert "every eligible pair" in new.stats["method"]
    assert em.verify(new.problem, new) == []


def test_unknown_ids_in_declines_and_previous_name_file_and_row(tmp_path: Path) -> None:
    """Unknown ids in the declines or the previous assignment are named with file and row."""
    declined = tmp_path / "declined.csv"
    declined.write_text("expert,project\nE001,P001\nE999,\nE002,P999\n", encoding="utf-8")
    problem = em.load(DEMO)
    with pytest.raises(em.InputError) as err:
        em.reassign(problem, [("P001", "E003")], declined)
    issues = {(i.file, i.row, i.column) for i in err.value.issues}
    assert issues == {("declined.csv", 3, "expert"), ("declined.csv", 4, "project")}
    with pytest.raises(em.InputError, match="unknown project 'PX'"):
        em.reassign(problem, [("PX", "E003")], [])


def test_cli_reassign_end_to_end(tmp_path: Path) -> None:
    """`reassign` on the command line drops the declined pairs, keeps the rest, and reports it."""
    first = tmp_path / "assignment.csv"
    assert main(["assign", DEMO, "-o", str(first)]) == 0
    rows = read_rows(first)
    gone = rows[0]["expert"]
    declined = tmp_path / "declined.csv"
    declined.write_text(
        f"expert,project\n{rows[1]['expert']},{rows[1]['project']}\n{gone},\n", encoding="utf-8"
    )
    new, report = tmp_path / "new.csv", tmp_path / "report.json"
    argv = ["reassign", DEMO, "--previous", str(first), "--declined", str(declined)]
    assert main([*argv, "-o", str(new), "--report", str(report)]) == 0
    after = read_rows(new)
    assert all(r["expert"] != gone for r in after)
    assert (rows[1]["project"], rows[1]["expert"]) not in {
        (r["project"], r["expert"]) for r in after
    }
    kept = {(r["project"], r["expert"]) for r in rows} & {
        (r["project"], r["expert"]) for r in after
    }
    stats = json.loads(report.read_text(encoding="utf-8"))["stats"]
    assert stats["kept_pairs"] == len(kept) and stats["changed_pairs"] == len(rows) - len(kept)
    assert stats["declined"] == [
        {"expert": rows[1]["expert"], "project": rows[1]["project"]},
        {"expert": gone, "project": None},
    ]
    assert len(stats["previous_sha256"]) == 64 and len(stats["declined_sha256"]) == 64
    assert main(["verify", DEMO, str(new)]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("expert,project\nNOBODY,P001\n", encoding="utf-8")
    assert main([*argv[:-1], str(bad), "-o", str(tmp_path / "x.csv")]) == 2
    assert not (tmp_path / "x.csv").exists()

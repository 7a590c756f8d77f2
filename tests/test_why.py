"""``why INPUT EXPERT PROJECT``: for an eligible pair the score and its rank among the
project's eligible experts; with ``--assignment`` whether the expert is on that panel and what
the panel needs them for; for an ineligible pair the reasons, as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import expertmatch as em
from expertmatch.api import _ordinal, why_eligible
from expertmatch.cli import main
from expertmatch.domain.conflicts import conflict_pairs
from expertmatch.domain.eligibility import eligible_pairs, why_ineligible
from expertmatch.result import seat_roles

DEMO = str(em.demo_path())


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def assignment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's assignment as a CSV file."""
    out = tmp_path_factory.mktemp("why") / "assignment.csv"
    assert main(["assign", DEMO, "-o", str(out)]) == 0
    return out


def rank_of(problem: em.Problem, expert: str, project: str) -> tuple[float, int, int]:
    """Score, rank (1 + experts scoring strictly higher) and count of eligible experts."""
    pairs = eligible_pairs(problem)
    p, e = problem.project_index[project], problem.expert_index[expert]
    mine = pairs.project == p
    scores = pairs.score[mine]
    score = float(scores[pairs.expert[mine] == e][0])
    return score, 1 + int((scores > score).sum()), int(mine.sum())


def test_eligible_pair_gives_score_and_rank(demo_result: em.Result, capsys) -> None:
    """ "score 63.33, 1st of 46 eligible experts for P001", checked against every eligible
    pair of the project."""
    problem = demo_result.problem
    project = problem.project_ids[0]
    for expert in demo_result.panels[project]:
        assert main(["why", DEMO, expert, project]) == 0
        out = flat(capsys.readouterr().out.splitlines()[0])  # then the text evidence
        score, rank, count = rank_of(problem, expert, project)
        assert out.startswith(f"{expert} is eligible for {project}: score {score:g}, ")
        assert f"{_ordinal(rank)}" in out
        assert out.endswith(f"of {count} eligible experts for {project}")


def test_with_assignment_says_on_the_panel_and_what_for(
    demo_result: em.Result, assignment: Path, capsys
) -> None:
    """A member of the panel: 'on P's panel in assignment.csv' and the rules they help hold;
    an enterprise member of a panel at its enterprise minimum holds an enterprise seat."""
    problem = demo_result.problem
    found = False
    for project, panel in demo_result.panels.items():
        p = problem.project_index[project]
        members = [problem.expert_index[x] for x in panel]
        ent = [m for m in members if problem.expert_enterprise[m]]
        if len(ent) != problem.enterprise_required[p]:
            continue
        expert = problem.expert_ids[ent[0]]
        assert main(["why", DEMO, expert, project, "--assignment", str(assignment)]) == 0
        out = flat(capsys.readouterr().out)
        assert f"on {project}'s panel in assignment.csv ({len(panel)} members)" in out
        assert "holds an enterprise seat" in out
        found = True
        break
    assert found


def test_the_only_member_covering_a_field_is_named(demo_result: em.Result) -> None:
    """seat_roles names a field only this member covers, and says so for no other member."""
    problem = demo_result.problem
    seen = 0
    for project, panel in demo_result.panels.items():
        p = problem.project_index[project]
        members = [problem.expert_index[x] for x in panel]
        for key in problem.coverage_keys(p):
            holders = [m for m in members if problem.covers(m, key)]
            for m in members:
                roles = seat_roles(problem, p, members, m)
                only = f"the only member covering field {key}" in roles
                assert only == (holders == [m])
                seen += only
    assert seen > 0


def test_eligible_but_not_on_the_panel(demo_result: em.Result, assignment: Path, capsys) -> None:
    """An eligible expert left off the panel: 'not on P's panel' and who is on it."""
    problem = demo_result.problem
    project = problem.project_ids[0]
    pairs = eligible_pairs(problem)
    candidates = pairs.expert[pairs.project == 0]
    panel = demo_result.panels[project]
    outsider = next(problem.expert_ids[e] for e in candidates if problem.expert_ids[e] not in panel)
    assert main(["why", DEMO, outsider, project, "--assignment", str(assignment)]) == 0
    out = flat(capsys.readouterr().out)
    assert f"{outsider} is eligible for {project}" in out
    assert f"not on {project}'s panel in assignment.csv (its panel: {', '.join(panel)})" in out


def test_ineligible_pair_is_unchanged(demo_result: em.Result, assignment: Path, capsys) -> None:
    """An ineligible pair prints exactly why_ineligible's reasons, assignment or not."""
    problem = demo_result.problem
    project, expert, _ = conflict_pairs(problem)
    pid, eid = problem.project_ids[int(project[0])], problem.expert_ids[int(expert[0])]
    reasons = why_ineligible(problem, eid, pid)
    assert reasons
    for extra in ([], ["--assignment", str(assignment)]):
        assert main(["why", DEMO, eid, pid, *extra]) == 0
        assert capsys.readouterr().out.splitlines() == reasons
    assert why_eligible(problem, eid, pid) == []


def test_declined_pair_is_not_eligible(demo_result: em.Result, tmp_path: Path, capsys) -> None:
    """``--declined``: the decline is the reason (declared: declined ...)."""
    project = demo_result.problem.project_ids[0]
    expert = demo_result.panels[project][0]
    declined = tmp_path / "declined.csv"
    declined.write_text(f"expert,project\n{expert},{project}\n", encoding="utf-8")
    assert main(["why", DEMO, expert, project, "--declined", str(declined)]) == 0
    assert "declared: declined" in flat(capsys.readouterr().out)


def test_ties_are_said(demo_result: em.Result) -> None:
    """Experts with the same score share a rank and the line says how many tie."""
    problem = demo_result.problem
    pairs = eligible_pairs(problem)
    for p in range(problem.n_projects):
        scores = pairs.score[pairs.project == p]
        values, counts = np.unique(scores, return_counts=True)
        if (counts > 1).any():
            tied = values[counts > 1][0]
            mine = pairs.project == p
            e = int(pairs.expert[mine][scores == tied][0])
            line = why_eligible(problem, problem.expert_ids[e], problem.project_ids[p])[0]
            n = int(counts[values == tied][0]) - 1
            assert f"(tied with {n} other{'s' if n > 1 else ''})" in line
            return
    pytest.skip("no tie in the demo")


def test_ordinals() -> None:
    """English ordinals, 11th-13th included."""
    assert [_ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "23rd",
        "101st",
        "111th",
        "112th",
    ]

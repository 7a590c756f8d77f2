"""Reserves: exactly the experts who can replace a panel member with every rule still holding
(checked against every single swap on small batches), ranked by score, at most k per project,
declines respected; the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import expertmatch as em
from expertmatch.cli import main
from tests.batches import read_rows
from tests.strategies import first_assignment, tiny_batches

DEMO = str(em.demo_path())


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_batches())
def test_reserves_are_exactly_the_valid_single_swaps(batch: dict[str, Any]) -> None:
    """Reserves are exactly the experts who can swap in for a member (brute force)."""
    solved = first_assignment(batch)
    if solved is None:
        return
    problem, first = solved
    frame = em.reserves(problem, first, k=problem.n_experts)
    listed = {(r.project, r.expert): set(r.replaces.split(";")) for r in frame.itertuples()}
    for project, panel in first.panels.items():
        rows = frame[frame["project"] == project]
        assert list(rows["rank"]) == list(range(1, len(rows) + 1))
        assert list(rows["score"]) == sorted(rows["score"], reverse=True)
        for expert in problem.expert_ids:
            if expert in panel:
                continue
            valid = set()
            for member in panel:
                swapped = [
                    (p, expert if (p == project and e == member) else e)
                    for p, e in first.assignment
                ]
                if not em.verify(problem, swapped):
                    valid.add(member)
            assert listed.get((project, expert), set()) == valid


def test_reserves_respect_k_declines_and_reject_a_broken_assignment(
    demo: em.Problem, demo_result: em.Result
) -> None:
    """Reserves keep at most k, skip declines, and refuse a broken assignment."""
    project, expert = demo_result.assignment[0]
    assigned = {e for _, e in demo_result.assignment}
    before = em.reserves(demo, demo_result, k=2)
    # declines of experts listed without them: a reserve on no panel declines the whole round,
    # another reserve of the first project declines that project
    whole = next(e for e in before["expert"] if e not in assigned)
    one = next(e for e in before[before["project"] == project]["expert"] if e != whole)
    frame = em.reserves(demo, demo_result, k=2, declined=[(whole, ""), (one, project)])
    assert list(frame.columns[:4]) == ["project", "rank", "expert", "replaces"]
    assert frame.groupby("project").size().max() <= 2
    assert whole not in set(frame["expert"])
    assert one not in set(frame[frame["project"] == project]["expert"])
    broken = [pair for pair in demo_result.assignment if pair != (project, expert)]
    with pytest.raises(em.ExpertMatchError, match="panel_size"):
        em.reserves(demo, broken)
    with pytest.raises(ValueError, match="k must be"):
        em.reserves(demo, demo_result, k=0)


def test_cli_reserves(tmp_path: Path) -> None:
    """`reserves` writes ranked reserves from outside each panel, replacing members of it."""
    first = tmp_path / "assignment.csv"
    assert main(["assign", DEMO, "-o", str(first)]) == 0
    out = tmp_path / "reserves.csv"
    assert main(["reserves", DEMO, "--previous", str(first), "-k", "2", "-o", str(out)]) == 0
    rows = read_rows(out)
    assert list(rows[0])[:4] == ["project", "rank", "expert", "replaces"]
    panels: dict[str, set[str]] = {}
    for r in read_rows(first):
        panels.setdefault(r["project"], set()).add(r["expert"])
    for r in rows:
        assert r["rank"] in ("1", "2") and r["expert"] not in panels[r["project"]]
        assert set(r["replaces"].split(";")) <= panels[r["project"]]

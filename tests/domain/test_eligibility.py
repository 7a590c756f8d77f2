"""Eligibility: ``why_ineligible`` gives every reason a pair is excluded (conflicts, a score
not above ``min_score``), and the eligible pairs are exactly the pairs without a reason."""

from __future__ import annotations

from pathlib import Path

import expertmatch as em
from tests.batches import add_rows, build, cell


def test_why_ineligible(tmp_path: Path) -> None:
    """why_ineligible names every reason a pair is excluded; eligible pairs have none."""
    folder = build(
        tmp_path / "b",
        add_rows("conflicts", {"expert": "E5", "project": "P2", "reason": "近期合作"}),
        add_rows("relations", {"a": "E4", "b": "M001", "kind": "advisor", "year": "1999"}),
        cell("organizations", 1, "parent", "U1"),  # U2 belongs to U1's group
    )
    problem = em.load(folder)
    same = em.why_ineligible(problem, "E1", "P1")
    assert len(same) == 1 and same[0].startswith("same_org") and "U1" in same[0]
    team = " ".join(em.why_ineligible(problem, "E2", "P1"))
    assert "team" in team and "org_group" in team
    declared = em.why_ineligible(problem, "E5", "P2")
    assert declared == ["declared: listed in conflicts.csv (近期合作)"]
    collaborator = " ".join(em.why_ineligible(problem, "E4", "P1"))
    assert "collaborator" in collaborator and "M001" in collaborator
    assert em.why_ineligible(problem, "E3", "P1") == []
    assert em.why_ineligible(problem, "E4", "P2") == []
    # the eligible pairs are exactly the pairs without reasons
    eligible = set(
        zip(
            em.eligible_pairs(problem).project.tolist(),
            em.eligible_pairs(problem).expert.tolist(),
            strict=True,
        )
    )
    for p, pid in enumerate(problem.project_ids):
        for e, eid in enumerate(problem.expert_ids):
            assert ((p, e) in eligible) == (em.why_ineligible(problem, eid, pid) == [])


def test_why_ineligible_low_score(tmp_path: Path) -> None:
    """A pair whose score is too low is excluded with a score reason."""
    folder = build(tmp_path / "b", cell("experts", 3, "fields", "310.10.10"))
    problem = em.load(folder)
    reasons = em.why_ineligible(problem, "E4", "P1")
    assert len(reasons) == 1 and reasons[0].startswith("score")

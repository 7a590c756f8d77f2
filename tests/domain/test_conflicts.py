"""Each conflict kind alone excludes the pair, with its reason; the bulk computation used by
the solver agrees with the pair-by-pair explanation used by verify()."""

from __future__ import annotations

import numpy as np
import pytest

import expertmatch as em
from expertmatch.domain.conflicts import conflict_pairs, explain_conflicts, kinds_of
from tests.batches import ORGS, PROJECTS, make


def eligible_experts(problem: em.Problem, project: str = "P1") -> set[str]:
    """The experts eligible for ``project``."""
    p = problem.project_index[project]
    return {
        problem.expert_ids[e]
        for e in em.eligible_pairs(problem).expert[em.eligible_pairs(problem).project == p]
    }


def test_baseline_all_eight_experts_are_eligible() -> None:
    """With no conflict in the tiny batch, every expert is eligible."""
    assert eligible_experts(make()) == {f"E{i}" for i in range(1, 9)}


def test_same_org_applicant() -> None:
    """Experts of the applicant organization are excluded as same_org."""
    problem = make(projects=[{**PROJECTS[0], "organization": "U1"}])
    assert eligible_experts(problem) == {"E1", "E2", "E3", "E4", "E6", "E8"}
    assert any("same_org" in r and "applicant" in r for r in em.why_ineligible(problem, "E5", "P1"))


def test_same_org_partner() -> None:
    """Experts of a partner organization are excluded as same_org (partner)."""
    problem = make(projects=[{**PROJECTS[0], "partners": "I1;C2"}])
    assert eligible_experts(problem) == {"E1", "E3", "E5", "E7"}
    assert any("partner" in r for r in em.why_ineligible(problem, "E6", "P1"))


def test_org_group_via_parent_links_two_levels_up() -> None:
    """Organizations with the same root, two parent links up, are one group (org_group)."""
    orgs = [dict(o) for o in ORGS] + [
        {"id": "G", "name": "集团", "type": "enterprise", "parent": ""}
    ]
    for o in orgs:
        if o["id"] == "C1":
            o["parent"] = "G"
        if o["id"] == "A":
            o["parent"] = "C2"
    orgs[1]["parent"] = "G"  # C2 -> G, A -> C2 -> G: A's group root is G, like C1's
    problem = make(organizations=orgs)
    assert eligible_experts(problem) == {"E5", "E6", "E7", "E8"}
    reasons = em.why_ineligible(problem, "E1", "P1")
    assert reasons and reasons[0].startswith("org_group")


def test_team_member_who_is_an_expert() -> None:
    """An expert on the applicant team is excluded as team."""
    problem = make(members=[{"project": "P1", "person": "E5"}, {"project": "P1", "person": "M1"}])
    assert "E5" not in eligible_experts(problem)
    assert em.why_ineligible(problem, "E5", "P1") == ["team: the expert is on the applicant team"]


@pytest.mark.parametrize(
    ("kind", "year", "barred"),
    [
        ("coauthor", 2025, True),  # 2026 - 2025 = 1 < 3
        ("coauthor", 2024, True),  # 2 < 3
        ("coauthor", 2023, False),  # 3 is not < 3
        ("coproject", "", True),  # no year: always a conflict
        ("advisor", 1990, True),  # any year
        ("relative", "", True),
        ("other", 2026, False),  # 'other' is never a conflict
    ],
)
def test_collaborator_window(kind: str, year: object, barred: bool) -> None:
    """A relation with a team member bars the expert by kind and within the year window."""
    problem = make(
        members=[{"project": "P1", "person": "M1"}],
        relations=[{"a": "M1", "b": "E2", "kind": kind, "year": year}],
        rules={"reference_year": 2026, "collaboration_window": 3},
    )
    assert ("E2" not in eligible_experts(problem)) is barred
    if barred:
        assert em.why_ineligible(problem, "E2", "P1")[0].startswith("collaborator")


def test_relation_with_someone_not_on_the_team_is_no_conflict() -> None:
    """A relation with someone outside the team is no conflict."""
    problem = make(relations=[{"a": "M9", "b": "E2", "kind": "advisor", "year": ""}])
    assert "E2" in eligible_experts(problem)


def test_declared_conflict() -> None:
    """A conflict listed in conflicts.csv excludes the pair, with its reason."""
    problem = make(conflicts=[{"expert": "E7", "project": "P1", "reason": "近期合作"}])
    assert "E7" not in eligible_experts(problem)
    assert em.why_ineligible(problem, "E7", "P1") == [
        "declared: listed in conflicts.csv (近期合作)"
    ]


def test_several_reasons_are_all_listed() -> None:
    """Every reason that applies is listed, in the contract's order."""
    problem = make(
        projects=[{**PROJECTS[0], "organization": "U1"}],
        conflicts=[{"expert": "E5", "project": "P1", "reason": ""}],
        members=[{"project": "P1", "person": "E5"}],
    )
    kinds = [r.split(":")[0] for r in em.why_ineligible(problem, "E5", "P1")]
    assert kinds == ["same_org", "team", "declared"]


def test_bulk_conflicts_match_pairwise_explanations(demo: em.Problem) -> None:
    """The solver's vectorised conflicts equal verify()'s pair-by-pair ones on the demo."""
    project, expert, mask = conflict_pairs(demo)
    bulk = {
        (int(p), int(e)): kinds_of(int(m)) for p, e, m in zip(project, expert, mask, strict=True)
    }
    assert len(bulk) > 50  # the demo has every kind
    kinds_seen = set()
    for p in range(demo.n_projects):
        for e in range(demo.n_experts):
            words = [r.split(":")[0] for r in explain_conflicts(demo, p, e)]
            assert sorted(set(words)) == sorted(bulk.get((p, e), [])), (p, e)
            kinds_seen.update(words)
    assert kinds_seen == {"same_org", "org_group", "team", "collaborator", "declared"}


def test_conflicted_pairs_are_never_eligible(demo: em.Problem) -> None:
    """No conflicted pair is eligible, and the eligible pairs are sorted and unique."""
    n = demo.n_experts
    conflict = set((conflict_pairs(demo)[0] * n + conflict_pairs(demo)[1]).tolist())
    pairs = em.eligible_pairs(demo)
    eligible = set((pairs.project * n + pairs.expert).tolist())
    assert conflict and not conflict & eligible
    assert np.all(
        np.diff(em.eligible_pairs(demo).project * n + em.eligible_pairs(demo).expert) > 0
    )  # sorted, unique

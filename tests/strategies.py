"""Hypothesis strategies and brute force, shared by every property test.

``tiny_batches`` and ``coverage_batches`` draw batches small enough to enumerate;
``all_assignments`` enumerates every assignment ``verify()`` accepts, ``score_of`` scores one and
``brute_force`` gives the best score. ``check_against_brute_force`` is the whole exact-solver
property (used on both kinds of batch) as a plain function.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from hypothesis import strategies as st

import expertmatch as em
from expertmatch.domain.scoring import score_of as pair_score
from expertmatch.solvers.exact import solve
from expertmatch.solvers.params import SolveParams

CODES = ["1.1.1", "1.1.2", "1.2.1", "1.2", "1.3.1", "2.1.1"]
TYPES = ["enterprise", "university", "institute"]

Pairs = list[tuple[str, str]]


@st.composite
def tiny_batches(draw: st.DrawFn) -> dict[str, Any]:
    """A random batch small enough for brute force: <= 3 projects, <= 8 experts."""
    n_org = draw(st.integers(3, 5))
    orgs = []
    for i in range(n_org):
        parent = (
            f"O{draw(st.integers(0, i - 1))}"
            if i and draw(st.booleans()) and draw(st.booleans())
            else ""
        )
        orgs.append(
            {
                "id": f"O{i}",
                "type": TYPES[i % 3] if i < 3 else draw(st.sampled_from(TYPES)),
                "parent": parent,
            }
        )
    org_ids = [o["id"] for o in orgs]
    n_exp = draw(st.integers(4, 8))
    experts = []
    for i in range(n_exp):
        fields = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True))
        experts.append(
            {
                "id": f"E{i}",
                "organization": draw(st.sampled_from(org_ids)),
                "fields": ";".join(fields),
                "org_type": draw(st.sampled_from(["", "", "enterprise", "university"])),
                "max_load": draw(st.sampled_from(["", 1, 2, 3])),
                "used": draw(st.sampled_from(["", 0, 1, 2])) if draw(st.booleans()) else "",
                "keywords": draw(st.sampled_from(["", "视觉", "视觉;检测", "材料"])),
            }
        )
    n_proj = draw(st.integers(1, 3))
    projects = []
    for i in range(n_proj):
        fields = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=3, unique=True))
        partners = draw(st.lists(st.sampled_from(org_ids), max_size=1))
        projects.append(
            {
                "id": f"P{i}",
                "organization": draw(st.sampled_from(["X", "X", "X", *org_ids])),
                "partners": ";".join(partners),
                "fields": ";".join(fields),
                "panel_size": draw(st.sampled_from(["", "", 1, 3])),
                "keywords": draw(st.sampled_from(["", "视觉", "检测;材料"])),
            }
        )
    orgs.append({"id": "X", "type": "university", "parent": ""})
    expert_ids = [e["id"] for e in experts]
    members = [
        {"project": p["id"], "person": draw(st.sampled_from(["M1", "M2", *expert_ids]))}
        for p in projects
        if draw(st.booleans())
    ]
    relations = [
        {
            "a": draw(st.sampled_from(["M1", "M2"])),
            "b": draw(st.sampled_from(expert_ids)),
            "kind": draw(st.sampled_from(["coauthor", "advisor", "other"])),
            "year": draw(st.sampled_from(["", 2020, 2025])),
        }
        for _ in range(draw(st.integers(0, 2)))
    ]
    conflicts = [
        {"expert": draw(st.sampled_from(expert_ids)), "project": projects[0]["id"]}
        for _ in range(draw(st.integers(0, 1)))
    ]
    scores = None
    if draw(st.booleans()):
        scores = [
            {"expert": e, "project": p["id"], "score": draw(st.integers(1, 9)) / 2}
            for p in projects
            for e in expert_ids
            if draw(st.integers(0, 5))
        ]
    rules = {
        "panel_size": 2,
        "reference_year": 2026,
        "max_load": draw(st.integers(1, 3)),
        "yearly_cap": draw(st.integers(2, 5)),
        "enterprise_min_share": draw(st.sampled_from(["0", "1/3", "1/2"])),
        "max_per_org": draw(st.integers(1, 2)),
        "coverage_level": draw(st.integers(0, 3)),
        "min_score": draw(st.sampled_from([0, 0, 0, 1])),
    }
    if draw(st.integers(0, 3)) == 0:
        rules["enterprise_target_share"] = draw(st.sampled_from(["1/4", "1/2"]))
    return {
        "experts": experts,
        "projects": projects,
        "organizations": orgs,
        "members": members,
        "relations": relations,
        "conflicts": conflicts,
        "scores": scores,
        "rules": rules,
    }


@st.composite
def coverage_batches(draw: st.DrawFn) -> dict[str, Any]:
    """Batches where coverage and enterprise share overlap, so the LP is often fractional."""
    codes = ["1.1", "1.2", "1.3", "1.4"]
    n_exp = draw(st.integers(5, 8))
    experts = [
        {
            "id": f"E{i}",
            "organization": f"O{i % draw(st.integers(3, 8))}",
            "org_type": draw(st.sampled_from(["enterprise", "university"])),
            "fields": ";".join(
                draw(st.lists(st.sampled_from(codes), min_size=1, max_size=2, unique=True))
            ),
        }
        for i in range(n_exp)
    ]
    projects = [
        {
            "id": f"P{i}",
            "organization": "X",
            "fields": ";".join(
                draw(st.lists(st.sampled_from(codes), min_size=2, max_size=3, unique=True))
            ),
        }
        for i in range(draw(st.integers(1, 2)))
    ]
    scores = [
        {"expert": e["id"], "project": p["id"], "score": draw(st.integers(1, 12))}
        for p in projects
        for e in experts
    ]
    rules = {
        "panel_size": draw(st.integers(2, 3)),
        "max_load": draw(st.integers(1, 2)),
        "enterprise_min_share": draw(st.sampled_from(["1/3", "1/2"])),
        "max_per_org": 1,
        "coverage_level": 2,
    }
    return {"experts": experts, "projects": projects, "scores": scores, "rules": rules}


#: Rules that one panel can break on its own (checked panel by panel to prune the search).
PER_PANEL_RULES = {
    "conflict",
    "min_score",
    "enterprise_share",
    "max_per_org",
    "coverage",
    "max_load",
    "yearly_cap",
}


def _panel_alone(v: em.Violation, pid: str) -> bool:
    """Does this violation, found on one panel alone, rule that panel out?"""
    return v.rule in PER_PANEL_RULES and v.project in (pid, None)


def all_assignments(
    problem: em.Problem,
    sizes: Sequence[int] | None = None,
    drops: Callable[[em.Violation, str], bool] = _panel_alone,
) -> Iterator[Pairs]:
    """Every assignment of the batch that verify() accepts, by brute force: per project every
    combination of panel-size experts among all experts (``sizes``: from the raw tables,
    else the problem's), product over projects. A panel is dropped early when ``drops``
    says a violation verify finds on that panel alone rules it out; verify decides the rest."""
    options = []
    sizes = problem.project_panel_size.tolist() if sizes is None else sizes
    for pid, k in zip(problem.project_ids, sizes, strict=True):
        good = []
        for panel in itertools.combinations(problem.expert_ids, int(k)):
            pairs = [(pid, e) for e in panel]
            if not any(drops(v, pid) for v in em.verify(problem, pairs)):
                good.append(pairs)
        options.append(good)
    for combo in itertools.product(*options):
        pairs = [pair for panel in combo for pair in panel]
        if not em.verify(problem, pairs):
            yield pairs


def score_of(problem: em.Problem, pairs: Pairs) -> float:
    """The total score of an assignment given as (project id, expert id) pairs."""
    return sum(
        pair_score(problem, problem.project_index[p], problem.expert_index[e]) for p, e in pairs
    )


def brute_force(problem: em.Problem) -> float | None:
    """The best objective over every combination of panels, judged by verify(); None if none."""
    return max((score_of(problem, pairs) for pairs in all_assignments(problem)), default=None)


def first_assignment(batch: dict[str, Any]) -> tuple[em.Problem, em.Result] | None:
    """The batch's problem and its optimal assignment, or None when it is infeasible."""
    problem = em.from_tables(**batch)
    try:
        return problem, em.assign(problem, time_limit=20)
    except em.InfeasibleError:
        return None


def check_against_brute_force(batch: dict[str, Any]) -> None:
    """The exact solver on ``batch`` reaches the brute-force optimum (with the default candidate
    sets and with the smallest ones, which force pricing), proves it, and says "infeasible"
    only when brute force finds no assignment."""
    problem = em.from_tables(**batch)
    optimum = brute_force(problem)
    try:
        result = em.assign(problem, time_limit=20)
    except em.InfeasibleError:
        assert optimum is None, "reported infeasible, but brute force found an assignment"
        return
    assert em.verify(problem, result) == []
    assert optimum is not None
    assert result.status == "optimal"
    assert abs(result.objective - optimum) < 1e-6
    # The smallest candidate sets force pricing; the optimum must not change.
    priced = solve(problem, SolveParams(extra_candidates=0))
    assert em.verify(problem, priced) == []
    assert priced.status == "optimal" and abs(priced.objective - optimum) < 1e-6
    assert result.bound >= optimum - 1e-6
    assert abs(result.objective - float(result.to_frame()["score"].sum())) < 1e-6

"""Properties on generated batches: every returned assignment passes verify(); on tiny batches
the objective equals the brute-force optimum and "infeasible" means brute force finds nothing;
the same input and seed give the same output."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch.domain.scoring import score_of as pair_score
from expertmatch.solvers.exact import solve
from expertmatch.solvers.params import SolveParams

CODES = ["1.1.1", "1.1.2", "1.2.1", "1.2", "1.3.1", "2.1.1"]
TYPES = ["enterprise", "university", "institute"]


@st.composite
def tiny_batches(draw: st.DrawFn) -> dict[str, Any]:
    """A random batch small enough for brute force: <= 3 projects, <= 7 experts."""
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


PER_PANEL_RULES = {
    "conflict",
    "min_score",
    "enterprise_share",
    "max_per_org",
    "coverage",
    "max_load",
    "yearly_cap",
}


def all_assignments(problem: em.Problem) -> Iterator[list[tuple[str, str]]]:
    """Every assignment of the batch that verify() accepts, by brute force."""
    options = []
    for p, pid in enumerate(problem.project_ids):
        k = int(problem.project_panel_size[p])
        good = []
        for panel in itertools.combinations(problem.expert_ids, k):
            pairs = [(pid, e) for e in panel]
            broken = [
                v
                for v in em.verify(problem, pairs)
                if v.rule in PER_PANEL_RULES and v.project in (pid, None)
            ]
            if not broken:
                good.append(pairs)
        options.append(good)
    for combo in itertools.product(*options):
        pairs = [pair for panel in combo for pair in panel]
        if not em.verify(problem, pairs):
            yield pairs


def score_of(problem: em.Problem, pairs: list[tuple[str, str]]) -> float:
    return sum(
        pair_score(problem, problem.project_index[p], problem.expert_index[e]) for p, e in pairs
    )


def brute_force(problem: em.Problem) -> float | None:
    """The best objective over every combination of panels, judged by verify(); None if none."""
    return max((score_of(problem, pairs) for pairs in all_assignments(problem)), default=None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_batches())
def test_tiny_batches_match_brute_force(batch: dict[str, Any]) -> None:
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


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_projects=st.integers(5, 60),
    share=st.sampled_from([Fraction(1, 5), Fraction(1, 3), Fraction(2, 5)]),
    level=st.integers(0, 3),
)
def test_generated_batches_pass_verify(
    seed: int, n_projects: int, share: Fraction, level: int
) -> None:
    tables = em.generate(n_projects, 3 * n_projects, seed=seed)
    problem = em.from_tables(
        **tables, rules={"enterprise_min_share": share, "coverage_level": level}
    )
    try:
        result = em.assign(problem, time_limit=30)
    except em.InfeasibleError as err:  # allowed, but it must name projects and rules
        assert err.clashes and all(c.rule for c in err.clashes)
        return
    assert em.verify(problem, result) == []
    assert result.gap <= 1e-9 and result.status == "optimal"


def test_same_input_and_seed_give_identical_output() -> None:
    tables = em.generate(150, 450, seed=7)
    first = em.assign(em.from_tables(**tables), seed=3)
    second = em.assign(em.from_tables(**tables), seed=3)
    assert first.assignment == second.assignment
    assert first.to_frame().equals(second.to_frame())
    assert first.report()["input_sha256"] == second.report()["input_sha256"]


def test_demo_is_solved_to_optimal_and_verified(demo: em.Problem, demo_result: em.Result) -> None:
    assert demo_result.status == "optimal" and demo_result.gap == 0
    assert em.verify(demo, demo_result) == []
    summary = demo_result.summary()
    assert summary["fields_covered"] == summary["fields_to_cover"]
    assert summary["enterprise_share_min_panel"] >= 1 / 3 - 1e-9


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


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(coverage_batches())
def test_overlapping_rules_match_brute_force(batch: dict[str, Any]) -> None:
    """Here the LP relaxation is often fractional, so the CP-SAT finish does the work."""
    test_tiny_batches_match_brute_force.hypothesis.inner_test(batch)  # type: ignore[attr-defined]


def test_fractional_lp_is_finished_exactly_by_cp_sat() -> None:
    """Panel of 2 must cover fields A and B and hold one enterprise expert.

    a (covers A), b (covers B) and e (enterprise) score 10 each, ab (covers both, enterprise)
    scores 1. The LP takes a = b = e = ab = 1/2 for 15.5; the best panel holds ab: 11.
    """
    experts = [
        {"id": "a", "organization": "O1", "org_type": "university", "fields": "1.1.1"},
        {"id": "b", "organization": "O2", "org_type": "university", "fields": "1.2.1"},
        {"id": "e", "organization": "O3", "org_type": "enterprise", "fields": "1.3.1"},
        {"id": "ab", "organization": "O4", "org_type": "enterprise", "fields": "1.1.2;1.2.2"},
    ]
    projects = [{"id": "P", "organization": "X", "fields": "1.1;1.2"}]
    scores = [
        {"expert": e, "project": "P", "score": s}
        for e, s in (("a", 10), ("b", 10), ("e", 10), ("ab", 1))
    ]
    problem = em.from_tables(
        experts=experts,
        projects=projects,
        scores=scores,
        rules={"panel_size": 2, "enterprise_min_share": "1/2"},
    )
    result = em.assign(problem)
    assert result.stats["lp_fractional"] > 0
    assert result.status == "optimal" and result.objective == 11 and result.bound == 11
    assert "ab" in result.panels["P"]
    assert brute_force(problem) == 11

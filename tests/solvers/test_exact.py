"""The exact solver (priced LP, branch-and-cut finish): every returned assignment passes
verify(); on tiny batches the objective equals the brute-force optimum and "infeasible" means
brute force finds nothing; the same input and seed give the same output; the status says why
it stopped."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from tests.strategies import brute_force, check_against_brute_force, coverage_batches, tiny_batches


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_batches())
def test_tiny_batches_match_brute_force(batch: dict[str, Any]) -> None:
    """On random tiny batches the solver's optimum (also with pricing forced) is brute force's."""
    check_against_brute_force(batch)


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
    """Generated batches of any size are solved to proven optimality, or named infeasible."""
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
    """The same input and seed give the same assignment, table and input hash."""
    tables = em.generate(150, 450, seed=7)
    first = em.assign(em.from_tables(**tables), seed=3)
    second = em.assign(em.from_tables(**tables), seed=3)
    assert first.assignment == second.assignment
    assert first.to_frame().equals(second.to_frame())
    assert first.report()["input_sha256"] == second.report()["input_sha256"]


def test_demo_is_solved_to_optimal_and_verified(demo: em.Problem, demo_result: em.Result) -> None:
    """The demo batch is solved to proven optimality, every field covered, every share kept."""
    assert demo_result.status == "optimal" and demo_result.gap == 0
    assert em.verify(demo, demo_result) == []
    summary = demo_result.summary()
    assert summary["fields_covered"] == summary["fields_to_cover"]
    assert summary["enterprise_share_min_panel"] >= 1 / 3 - 1e-9


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(coverage_batches())
def test_overlapping_rules_match_brute_force(batch: dict[str, Any]) -> None:
    """Here the LP relaxation is often fractional, so the finish does the work."""
    check_against_brute_force(batch)


#: Project P whose LP is fractional (:func:`test_fractional_lp_is_finished_exactly`).
FRACTIONAL_EXPERTS = [
    {"id": "a", "organization": "O1", "org_type": "university", "fields": "1.1.1"},
    {"id": "b", "organization": "O2", "org_type": "university", "fields": "1.2.1"},
    {"id": "e", "organization": "O3", "org_type": "enterprise", "fields": "1.3.1"},
    {"id": "ab", "organization": "O4", "org_type": "enterprise", "fields": "1.1.2;1.2.2"},
]
FRACTIONAL_PROJECT = {"id": "P", "organization": "X", "fields": "1.1;1.2"}
FRACTIONAL_SCORES = [
    {"expert": e, "project": "P", "score": s}
    for e, s in (("a", 10), ("b", 10), ("e", 10), ("ab", 1))
]


def test_fractional_lp_is_finished_exactly() -> None:
    """Panel of 2 must cover fields A and B and hold one enterprise expert.

    a (covers A), b (covers B) and e (enterprise) score 10 each, ab (covers both, enterprise)
    scores 1. The LP takes a = b = e = ab = 1/2 for 15.5; the best panel holds ab: 11.
    """
    problem = em.from_tables(
        experts=FRACTIONAL_EXPERTS,
        projects=[FRACTIONAL_PROJECT],
        scores=FRACTIONAL_SCORES,
        rules={"panel_size": 2, "enterprise_min_share": "1/2"},
    )
    result = em.assign(problem)
    assert result.stats["lp_fractional"] > 0
    assert result.status == "optimal" and result.objective == 11 and result.bound == 11
    assert "ab" in result.panels["P"]
    assert brute_force(problem) == 11


@pytest.mark.slow
def test_status_says_why_the_search_stopped() -> None:
    """Short of a proof, the status is `feasible` at the gap limit and `timeout` on the clock;
    either way the bound holds (this batch's LP is fractional; its optimum is 49,642.33). On
    a loaded machine 0.5 s may find nothing: then the error says timeout, never a result."""
    problem = em.from_tables(**em.generate(1000, 3000, seed=3, with_scores=True))
    try:
        rushed = em.assign(problem, time_limit=0.5)
    except em.SolveError as error:
        assert error.status == "timeout" and "time limit" in str(error)
    else:
        assert em.verify(problem, rushed) == []
        assert rushed.status in ("optimal", "timeout")
        assert rushed.bound >= 49_642.33 - 1e-6 >= rushed.objective - 1e-6
    enough = em.assign(problem, gap_limit=0.001)
    assert enough.status in ("optimal", "feasible") and enough.gap <= 0.001
    full = em.assign(problem)
    assert full.status == "optimal" and full.objective == pytest.approx(49_642.33)


def _open_and_settled_batch() -> em.Problem:
    """Project P of :func:`test_fractional_lp_is_finished_exactly` (its LP is fractional) and
    project Q, whose LP panel is integral: the incumbent keeps Q's panel and searches P's."""
    experts = [
        *FRACTIONAL_EXPERTS,
        {"id": "q1", "organization": "O5", "org_type": "enterprise", "fields": "2.1.1"},
        {"id": "q2", "organization": "O6", "org_type": "university", "fields": "2.1.2"},
    ]
    projects = [FRACTIONAL_PROJECT, {"id": "Q", "organization": "Y", "fields": "2.1"}]
    scores = [
        *FRACTIONAL_SCORES,
        *({"expert": e, "project": "Q", "score": 5} for e in ("q1", "q2")),
    ]
    return em.from_tables(
        experts=experts,
        projects=projects,
        scores=scores,
        rules={"panel_size": 2, "enterprise_min_share": "1/2"},
    )


@pytest.mark.parametrize(("finish", "by"), [("highs", "HiGHS"), ("cpsat", "CP-SAT")])
def test_the_incumbent_searches_the_open_projects_with_the_finish_back_end(
    finish: str, by: str
) -> None:
    """With the LP's integral panels fixed, the open projects are searched by the finish's back
    end (HiGHS unless CP-SAT is asked for); either way the optimum of the brute force."""
    from expertmatch.solvers.exact import solve
    from expertmatch.solvers.params import SolveParams

    problem = _open_and_settled_batch()
    phases: list[str] = []
    result = solve(
        problem, SolveParams(finish=finish), progress=lambda phase, *_: phases.append(phase)
    )
    assert result.stats["open_projects"] == 1
    assert f"incumbent: LP's integral part fixed, the rest by {by}" in phases
    assert result.status == "optimal" and result.objective == brute_force(problem) == 21
    assert sorted(result.panels["Q"]) == ["q1", "q2"] and "ab" in result.panels["P"]
    assert em.verify(problem, result) == []


@pytest.mark.parametrize("finish", ["highs", "cpsat"])
def test_the_last_resort_searches_every_pair_of_the_lp(finish: str) -> None:
    """With an empty core the fixed-panel and core searches find nothing; every pair of the LP
    is then searched, by the finish's back end, and the brute-force optimum still comes out."""
    from expertmatch.solvers import exact
    from expertmatch.solvers.params import SolveParams

    problem = _open_and_settled_batch()
    phases: list[str] = []
    searched: list[int] = []
    whole_lp = exact._whole_lp

    def counted(*args: Any) -> Any:
        searched.append(1)
        return whole_lp(*args)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exact, "_core", lambda run, relax: np.zeros(len(relax.columns), bool))
        patch.setattr(exact, "_whole_lp", counted)
        result = exact.solve(
            problem, SolveParams(finish=finish), progress=lambda phase, *_: phases.append(phase)
        )
    assert searched == [1]
    assert not any(p.startswith("incumbent") for p in phases)  # neither search found one
    assert result.status == "optimal" and result.objective == brute_force(problem) == 21
    assert em.verify(problem, result) == []

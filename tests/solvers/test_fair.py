"""``objective="fair"`` by the floor search (:mod:`expertmatch.solvers.fair`): the same worst
panel and total as CP-SAT over every pair, and as brute force on tiny batches; deterministic;
out of time it returns a valid assignment marked ``timeout`` saying what was not proved."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import expertmatch as em
from expertmatch.domain.chairs import cap_can_bind
from expertmatch.domain.scoring import score_of as pair_score
from expertmatch.solvers import fair
from expertmatch.solvers.exact import solve
from expertmatch.solvers.fair import solve_fair
from expertmatch.solvers.ordered import GOALS, solve_in_order
from expertmatch.solvers.params import SolveParams
from tests.strategies import all_assignments, score_of, tiny_batches


def worst_mean(problem: em.Problem, pairs: list[tuple[str, str]]) -> float:
    """The lowest mean score of a panel."""
    panel = dict.fromkeys(problem.project_ids, 0.0)
    for p, e in pairs:
        panel[p] += pair_score(problem, problem.project_index[p], problem.expert_index[e])
    size = dict(zip(problem.project_ids, problem.project_panel_size, strict=True))
    return min(total / int(size[p]) for p, total in panel.items() if size[p] > 0)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_batches())
def test_floor_search_matches_brute_force(batch: dict[str, Any]) -> None:
    """The floor search reaches brute force's best worst panel, then its best total."""
    problem = em.from_tables(**batch)
    if cap_can_bind(problem):
        return  # such batches keep the CP-SAT path (chair variables)
    options = list(all_assignments(problem))
    try:
        result = solve_fair(problem, SolveParams(time_limit=120))
    except em.InfeasibleError:
        assert not options
        return
    assert options and em.verify(problem, result) == []
    goal = max(worst_mean(problem, o) for o in options)
    best = max(score_of(problem, o) for o in options if worst_mean(problem, o) >= goal - 1e-9)
    assert worst_mean(problem, result.assignment) == pytest.approx(goal)
    assert result.objective == pytest.approx(best)
    assert result.status == "optimal"


@pytest.mark.parametrize(("n", "m", "seed"), [(30, 90, 9), (30, 90, 10)])
def test_floor_search_equals_cpsat_over_every_pair(n: int, m: int, seed: int) -> None:
    """On batches where the best-scoring assignment does not have the best worst panel (the
    search probes floors and the total drops), the result equals CP-SAT's over every pair:
    the same worst panel, the same total, both proved."""
    problem = em.from_tables(**em.generate(n, m, seed=seed))
    params = SolveParams(time_limit=600)
    result = solve_fair(problem, params)
    reference = solve_in_order(problem, params, [GOALS["fair"]], method="reference")
    best = solve(problem, params)
    assert result.status == reference.status == "optimal"
    assert result.stats["probes"] >= 1
    held = result.stats["held"]["worst_panel_score"]
    assert held == reference.stats["held"]["worst_panel_score"]
    assert held == pytest.approx(worst_mean(problem, result.assignment))
    assert held > worst_mean(problem, best.assignment)
    assert result.objective == pytest.approx(reference.objective)
    assert result.objective < best.objective
    assert em.verify(problem, result) == []


def test_floor_search_is_deterministic() -> None:
    """Same batch, same answer: the floors probed, the assignment and the figures."""
    problem = em.from_tables(**em.generate(30, 90, seed=3))
    first = solve_fair(problem, SolveParams(time_limit=600))
    again = solve_fair(problem, SolveParams(time_limit=600))
    assert first.assignment == again.assignment
    assert (first.objective, first.bound, first.status) == (
        again.objective,
        again.bound,
        again.status,
    )
    assert first.stats["probes"] == again.stats["probes"] > 1


def test_no_floor_decided_returns_the_best_scoring_marked_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When no floor can be decided (the floor LP is made to run out of time), the result is
    the best-scoring assignment, valid, marked timeout, with a note naming what was not
    proved and the upper bound on the worst panel."""
    problem = em.from_tables(**em.generate(30, 90, seed=9))

    def out_of_time(*args: Any, **kwargs: Any) -> Any:
        raise em.SolveError("fair: out of time in the floor LP", "timeout")

    monkeypatch.setattr(fair, "_relax", out_of_time)
    result = solve_fair(problem, SolveParams(time_limit=600))
    best = solve(problem, SolveParams(time_limit=600))
    assert result.status == "timeout"
    assert "not decided" in result.stats["note"] and "at most" in result.stats["note"]
    assert result.assignment == best.assignment
    assert em.verify(problem, result) == []
    assert np.isclose(
        result.stats["held"]["worst_panel_score"], worst_mean(problem, best.assignment)
    )


def _top_floor_by_pass(problem: em.Problem, lcm: int) -> int:
    """The floor's upper bound by a pass over every eligible pair: per project the sum of its
    k best weights, times lcm / k, the least over the projects."""
    from expertmatch.domain.eligibility import eligible_blocks
    from expertmatch.domain.scoring import score_unit

    unit = score_unit(problem)
    out = None
    for block, scores in eligible_blocks(problem, with_capacity=True):
        for i, p in enumerate(block.tolist()):
            k = int(problem.project_panel_size[p])
            row = np.sort(np.rint(scores[i][np.isfinite(scores[i])] / unit))[::-1]
            if k == 0:
                continue
            value = int(row[:k].sum()) * (lcm // k)
            out = value if out is None else min(out, value)
    return 0 if out is None else out


@pytest.mark.parametrize(("n", "m", "seed", "extra"), [(30, 90, 9, 12), (60, 150, 4, 0)])
def test_top_floor_from_the_survey_equals_a_pass_over_every_pair(
    n: int, m: int, seed: int, extra: int
) -> None:
    """The floor's upper bound read from the survey's candidates (no pass over the batch) is
    the one a pass over every eligible pair gives, also with no extra candidates."""
    from expertmatch.formulation.candidates import survey

    problem = em.from_tables(**em.generate(n, m, seed=seed))
    sizes = problem.project_panel_size
    lcm = int(np.lcm.reduce(np.unique(sizes[sizes > 0])))
    surv = survey(problem, extra=extra)
    assert fair._top_floor(problem, lcm, surv) == _top_floor_by_pass(problem, lcm)


def test_solve_with_a_given_survey_equals_solve_without() -> None:
    """The best-scoring solve given the survey (as the floor search passes it) returns what
    it returns when it surveys the batch itself."""
    from expertmatch.formulation.candidates import survey

    problem = em.from_tables(**em.generate(40, 120, seed=5))
    params = SolveParams(time_limit=600)
    given_survey = solve(problem, params, surv=survey(problem, extra=params.extra_candidates))
    alone = solve(problem, params)
    assert given_survey.assignment == alone.assignment
    assert (given_survey.objective, given_survey.bound, given_survey.status) == (
        alone.objective,
        alone.bound,
        alone.status,
    )

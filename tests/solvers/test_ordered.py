"""Objectives in priority order: ``fair`` (best worst panel, then total) and ``spread``
(smallest largest load, then total) match brute force on small batches and improve the demo;
out of time, the start is returned marked ``timeout``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch.domain.scoring import score_of as pair_score
from tests.strategies import all_assignments, score_of, tiny_batches


@pytest.mark.slow
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_batches(), st.sampled_from(["fair", "spread"]))
def test_fair_and_spread_match_brute_force(batch: dict[str, Any], objective: str) -> None:
    """fair and spread reach brute force's first goal, then its best score."""
    problem = em.from_tables(**batch)
    options = list(all_assignments(problem))
    try:
        result = em.assign(problem, objective=objective, time_limit=120)
    except em.InfeasibleError:
        assert not options
        return
    assert options and em.verify(problem, result) == []

    def first_goal(pairs: list[tuple[str, str]]) -> float:
        if objective == "fair":  # the worst panel's mean score
            panel = {p: 0.0 for p in problem.project_ids}
            for p, e in pairs:
                panel[p] += pair_score(problem, problem.project_index[p], problem.expert_index[e])
            size = dict(zip(problem.project_ids, problem.project_panel_size, strict=True))
            return min(total / int(size[p]) for p, total in panel.items())
        loads: dict[str, int] = {}
        for _, e in pairs:
            loads[e] = loads.get(e, 0) + 1
        return -max(loads.values(), default=0)

    goal = max(first_goal(o) for o in options)
    best = max(score_of(problem, o) for o in options if first_goal(o) >= goal - 1e-9)
    assert first_goal(result.assignment) == pytest.approx(goal)
    assert result.objective == pytest.approx(best)
    assert result.status == "optimal"


def test_fair_objective_lifts_the_worst_panel(demo: em.Problem, demo_result: em.Result) -> None:
    """On the demo fair lifts the worst panel and spread lowers the largest load."""

    def worst(result: em.Result) -> float:  # the lowest mean score of a panel
        return float(result.to_frame().groupby("project")["score"].mean().min())

    fair = em.assign(demo, objective="fair")
    assert worst(fair) >= worst(demo_result) - 1e-9
    assert fair.stats["held"]["worst_panel_score"] == pytest.approx(worst(fair))
    assert fair.objective <= demo_result.objective + 1e-9
    spread = em.assign(demo, objective="spread")
    assert spread.loads().max() <= demo_result.loads().max()
    assert spread.stats["held"]["largest_load"] == spread.loads().max()
    with pytest.raises(ValueError, match="objective must be one of"):
        em.assign(demo, objective="fastest")
    with pytest.raises(ValueError, match="cannot be combined"):
        em.assign(demo, objective="fair", relax=True)


def test_fair_without_time_to_improve_returns_the_start_marked_timeout(
    demo: em.Problem, demo_result: em.Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without time to improve, fair returns its valid start marked timeout."""
    from expertmatch.formulation.cpsat import SatModel

    def no_time(*args: Any, **kwargs: Any) -> Any:
        raise em.SolveError("no assignment found within the time limit", "timeout")

    monkeypatch.setattr(SatModel, "stage", no_time)
    result = em.assign(demo, objective="fair")
    assert result.status == "timeout" and "note" in result.stats
    assert result.assignment == demo_result.assignment
    assert em.verify(demo, result) == []

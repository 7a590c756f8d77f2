"""``objective="enterprise"``: the most enterprise seats with a score at least
``(1 - max_score_loss) x`` the optimum, then the best score -- against brute force on tiny
batches, on the demo, and refused in combinations that make no sense."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch.cli import main
from tests.strategies import all_assignments, score_of, tiny_batches


def enterprise_seats(problem: em.Problem, pairs: list[tuple[str, str]]) -> int:
    kinds = dict(zip(problem.expert_ids, problem.expert_type, strict=True))
    return sum(kinds[e] == "enterprise" for _, e in pairs)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_batches(), st.sampled_from([0.0, 0.01, 0.05, 0.2, 0.5]))
def test_enterprise_matches_brute_force(batch: dict[str, Any], loss: float) -> None:
    """The most enterprise seats among the assignments verify accepts whose score is at
    least (1 - L) x the best, then the best score among those; proved optimal."""
    problem = em.from_tables(**batch)
    options = list(all_assignments(problem))
    try:
        result = em.assign(problem, objective="enterprise", max_score_loss=loss, time_limit=20)
    except em.InfeasibleError:
        assert not options
        return
    assert options and em.verify(problem, result) == []
    best = max(score_of(problem, o) for o in options)
    allowed = [o for o in options if score_of(problem, o) >= (1 - loss) * best - 1e-6]
    most = max(enterprise_seats(problem, o) for o in allowed)
    top = max(score_of(problem, o) for o in allowed if enterprise_seats(problem, o) == most)
    assert enterprise_seats(problem, result.assignment) == most
    assert result.stats["enterprise_seats"] == most
    assert result.stats["enterprise_bound"] == most
    assert result.objective == pytest.approx(top)
    assert result.objective >= (1 - loss) * best - 1e-6
    assert result.stats["optimum"] == pytest.approx(best)
    assert result.status == "optimal"


def test_enterprise_on_the_demo(demo: em.Problem, demo_result: em.Result) -> None:
    """L = 0 keeps the optimum's score; a larger L buys at least as many enterprise seats;
    every rule holds; the stats record the optimum, the floor and the seats."""
    seats0 = enterprise_seats(demo, demo_result.assignment)
    previous = seats0
    for loss in (0.0, 0.02):
        result = em.assign(demo, objective="enterprise", max_score_loss=loss)
        assert em.verify(demo, result) == []
        assert result.status == "optimal"
        seats = enterprise_seats(demo, result.assignment)
        assert seats == result.stats["enterprise_seats"] >= previous
        assert result.stats["enterprise_seats_optimum"] == seats0
        assert result.stats["optimum"] == pytest.approx(demo_result.objective)
        assert result.objective >= (1 - loss) * demo_result.objective - 1e-6
        assert result.stats["score_floor"] <= result.objective + 1e-6
        if loss == 0.0:
            assert result.objective == pytest.approx(demo_result.objective)
        previous = seats
    default = em.assign(demo, objective="enterprise")
    assert default.stats["max_score_loss"] == 0.01


def test_enterprise_refusals(demo: em.Problem) -> None:
    with pytest.raises(ValueError, match="max_score_loss"):
        em.assign(demo, objective="enterprise", max_score_loss=1.0)
    with pytest.raises(ValueError, match="max_score_loss"):
        em.assign(demo, objective="enterprise", max_score_loss=-0.1)
    with pytest.raises(ValueError, match="only applies"):
        em.assign(demo, max_score_loss=0.01)
    with pytest.raises(ValueError, match="cannot be combined"):
        em.assign(demo, objective="enterprise", relax=True)


def test_cli_objective_enterprise(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, report = tmp_path / "assignment.csv", tmp_path / "report.json"
    args = ["assign", str(em.demo_path()), "-o", str(out), "--report", str(report)]
    code = main([*args, "--objective", "enterprise", "--max-score-loss", "0.02"])
    assert code == 0
    stats = json.loads(report.read_text(encoding="utf-8"))["stats"]
    assert stats["max_score_loss"] == 0.02 and stats["enterprise_seats"] > 0
    assert main(["verify", str(em.demo_path()), str(out)]) == 0
    assert main([*args, "--max-score-loss", "0.02"]) == 2
    assert "only applies" in capsys.readouterr().err


def test_enterprise_is_deterministic(demo: em.Problem) -> None:
    """The same batch and loss give the same assignment, seats and bound."""
    first = em.assign(demo, objective="enterprise", max_score_loss=0.05)
    again = em.assign(demo, objective="enterprise", max_score_loss=0.05)
    assert first.assignment == again.assignment
    assert first.stats["enterprise_bound"] == again.stats["enterprise_bound"]
    assert first.stats["enterprise_seats"] == first.stats["enterprise_bound"]

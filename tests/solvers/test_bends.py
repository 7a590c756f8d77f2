"""The relaxed solve over priced columns (solvers/bends.py) against the one over every pair."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import expertmatch as em
from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.formulation.candidates import survey
from expertmatch.formulation.rows import build_model
from expertmatch.solvers import bends
from expertmatch.solvers.params import SolveParams
from expertmatch.solvers.relax import PRICED_METHOD, solve_relaxed
from tests.batches import coverage_or_enterprise
from tests.solvers.test_relax import tiny_batches


def _relaxed(problem: em.Problem, priced: bool) -> em.Result:
    """The relaxed solve itself (``assign`` only reaches it when the rules clash), over priced
    columns or over every eligible pair."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bends, "ALL_PAIRS_UP_TO", -1 if priced else 10**12)
        return solve_relaxed(problem, SolveParams(time_limit=30))


def test_priced_path_is_taken_beyond_the_threshold() -> None:
    result = _relaxed(coverage_or_enterprise(), priced=True)
    assert result.stats["method"] == PRICED_METHOD
    assert result.status == em.Status.OPTIMAL
    assert {b.rule for b in result.bends} == {"coverage"}


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_batches())
def test_priced_columns_reach_the_same_bends_and_score(batch: dict) -> None:
    """Same fewest bends rule by rule and the same score as over every pair; verify() finds
    exactly the bends listed."""
    problem = em.from_tables(**batch)
    try:
        everything = _relaxed(problem, priced=False)
    except em.InfeasibleError as err:
        with pytest.raises(em.InfeasibleError) as priced_err:
            _relaxed(problem, priced=True)
        assert {c.rule for c in priced_err.value.clashes} == {c.rule for c in err.clashes}
        return
    priced = _relaxed(problem, priced=True)
    assert priced.status == everything.status == em.Status.OPTIMAL
    assert priced.stats["bends_by_rule"] == everything.stats["bends_by_rule"]
    assert priced.objective == pytest.approx(everything.objective)
    found = {(v.rule, v.project, v.expert) for v in em.verify(problem, priced)}
    assert found == {(b.rule, b.project, b.expert) for b in priced.bends}


def test_violations_count_each_rule() -> None:
    """The count the priced stages skip by: a rule the solution so far never bends is at its
    minimum (0) without a solve."""
    problem = coverage_or_enterprise()
    result = _relaxed(problem, priced=False)
    pairs = eligible_pairs(problem)
    model = build_model(problem, pairs)
    n = problem.n_experts
    chosen = np.isin(
        pairs.project * n + pairs.expert, result.pairs.project * n + result.pairs.expert
    )
    counted = bends.violations(problem, model, chosen)
    assert {k: v for k, v in counted.items() if v} == {
        k: v for k, v in result.stats["bends_by_rule"].items() if v
    }


def _clash_batch() -> em.Problem:
    """A generated batch whose enterprise share must bend (the relax benchmark's rules)."""
    return em.from_tables(
        **em.generate(40, 120, seed=3), rules={"enterprise_min_share": "4/5", "max_load": 2}
    )


def _listed_bends_are_the_broken_rules(problem: em.Problem, result: em.Result) -> None:
    found = {(v.rule, v.project, v.expert) for v in em.verify(problem, result)}
    assert found == {(b.rule, b.project, b.expert) for b in result.bends}
    by_rule: dict[str, int] = {}
    for b in result.bends:
        by_rule[b.rule] = by_rule.get(b.rule, 0) + b.amount
    assert {k: v for k, v in result.stats["bends_by_rule"].items() if v} == by_rule


def test_timeout_before_any_integer_solution_returns_the_best_panels() -> None:
    """Out of time before any MIP answers: each project's best panel, every bend it makes
    listed, status timeout, and a bound no relaxed assignment exceeds."""
    problem = _clash_batch()
    proven = _relaxed(problem, priced=True)

    def out_of_time(*args: object, **kwargs: object) -> None:
        raise em.SolveError("relaxed stage: time limit reached", em.Status.TIMEOUT)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bends, "solve_stage_mip", out_of_time)
        result = _relaxed(problem, priced=True)
    assert result.status == em.Status.TIMEOUT
    _listed_bends_are_the_broken_rules(problem, result)
    assert result.bound >= proven.objective >= 0
    assert result.bound >= result.objective
    # the fallback bends no fewer than the proven minimum, most protected rule first
    order = list(proven.stats["bends_by_rule"])
    key = [result.stats["bends_by_rule"][r] for r in order]
    assert key >= [proven.stats["bends_by_rule"][r] for r in order]


def _first_mip_only() -> tuple[dict[str, int], Callable[..., bends.Integer]]:
    """``solve_stage_mip`` that solves the first stage MIP and is out of time from the second
    on, with the count of its calls."""
    calls = {"n": 0}
    original = bends.solve_stage_mip

    def once(*args: object, **kwargs: object) -> bends.Integer:
        calls["n"] += 1
        if calls["n"] > 1:
            raise em.SolveError("relaxed stage: time limit reached", em.Status.TIMEOUT)
        return original(*args, **kwargs)  # type: ignore[arg-type]

    return calls, once


def test_timeout_after_a_stage_returns_a_verified_assignment() -> None:
    """Out of time in the second of the stage-by-stage MIPs: the best assignment found so far
    (the first stage's, or the best panels), unproven, every bend it makes listed."""
    problem = _clash_batch()
    calls, once = _first_mip_only()

    def too_tight(*args: object, **kwargs: object) -> None:
        raise bends.TooTight("test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bends, "solve_stage_mip", once)
        patch.setattr(bends, "_tentative", too_tight)
        result = _relaxed(problem, priced=True)
    assert calls["n"] == 2
    assert result.status == em.Status.TIMEOUT
    _listed_bends_are_the_broken_rules(problem, result)
    assert result.objective <= result.bound


def test_timeout_after_the_score_stage_keeps_its_bound() -> None:
    """Out of time in the score stage's second MIP round: the first round's answer reaches the
    tentative minima (so they are the fewest), and the score stage's bound is kept rather than
    the best panels' one."""
    problem = _clash_batch()
    proven = _relaxed(problem, priced=True)
    calls, once = _first_mip_only()

    def one_more(self: bends.Columns, stage: str, value: int) -> object:
        return self.pairs.take(np.arange(1))  # a pair already in: one more round

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bends, "solve_stage_mip", once)
        patch.setattr(bends, "proven", lambda value, bound: False)
        patch.setattr(bends.Columns, "improving", one_more)
        result = _relaxed(problem, priced=True)
    assert calls["n"] == 2
    assert result.status == em.Status.TIMEOUT
    _listed_bends_are_the_broken_rules(problem, result)
    assert result.stats["bends_by_rule"] == proven.stats["bends_by_rule"]
    assert result.objective == pytest.approx(proven.objective)
    assert result.objective <= result.bound <= proven.objective * 1.01  # not the best panels'


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_batches())
def test_either_simplex_reaches_the_same_bends_and_score(batch: dict) -> None:
    """Which simplex each stage LP runs by (:func:`bends._dual_simplex`, chosen by measured
    speed) changes nothing of the answer: every LP by dual simplex, every warm LP by primal
    simplex and the chosen mix give the same fewest bends and score."""
    problem = em.from_tables(**batch)
    answers = []
    for rule in (None, lambda stage, warm, new: True, lambda stage, warm, new: not warm):
        with pytest.MonkeyPatch.context() as patch:
            if rule is not None:
                patch.setattr(bends, "_dual_simplex", rule)
            try:
                result = _relaxed(problem, priced=True)
            except em.InfeasibleError as err:
                answers.append(("infeasible", sorted({c.rule for c in err.clashes})))
                continue
        assert result.status == em.Status.OPTIMAL
        answers.append((result.stats["bends_by_rule"], round(result.objective, 6)))
    assert answers[0] == answers[1] == answers[2]


def test_the_score_stage_keeps_the_survey_candidates() -> None:
    """The score stage drops the pairs its first LP prices far below zero, but never the
    survey's candidates: pricing skips a project by its cutoff, which covers only the pairs
    scoring at most the cutoff (a dropped candidate could never price in again)."""
    problem = coverage_or_enterprise()
    found = survey(problem, with_capacity=False)
    columns = bends.Columns(problem, found, found.candidates)
    model = build_model(problem, found.candidates)
    n = model.n_pairs
    far = np.full(n, -1e12)  # every column priced far below zero, at zero
    lp = bends._Lp(0.0, None, {}, np.zeros(n), far)  # type: ignore[arg-type]  # no duals used
    columns._purge(model, lp)
    assert len(columns.pairs) == len(found.candidates)
    extra = eligible_pairs(problem)  # with pairs beyond the candidates, those go
    model = build_model(problem, extra)
    far = np.full(model.n_pairs, -1e12)
    lp = bends._Lp(0.0, None, {}, np.zeros(model.n_pairs), far)  # type: ignore[arg-type]
    columns._purge(model, lp)
    assert np.array_equal(
        columns.pairs.project * problem.n_experts + columns.pairs.expert,
        found.candidates.project * problem.n_experts + found.candidates.expert,
    )

"""The relaxed solve over priced columns (solvers/bends.py) against the one over every pair."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import expertmatch as em
from expertmatch.domain.eligibility import eligible_pairs
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

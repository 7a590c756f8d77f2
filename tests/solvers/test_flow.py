"""The min-cost flow fast path: when only panel size, loads, conflicts and the enterprise minimum
apply, it reaches the same optimum as the LP + CP-SAT path."""

from __future__ import annotations

import pytest

import expertmatch as em
from expertmatch.solvers.exact import solve
from expertmatch.solvers.params import SolveParams


@pytest.mark.parametrize("seed", [1, 2])
def test_min_cost_flow_fast_path_equals_lp_path(seed: int) -> None:
    """Without coverage or a binding organization cap, min-cost flow finds the LP path's optimum."""
    problem = em.from_tables(
        **em.generate(60, 180, seed=seed), rules={"coverage_level": 0, "max_per_org": 7}
    )
    fast = solve(problem, SolveParams(fast_path=True))
    slow = solve(problem, SolveParams(fast_path=False))
    assert fast.stats["method"] == "min-cost flow" and slow.stats["method"] == "LP + CP-SAT"
    assert em.verify(problem, fast) == []
    assert fast.status == "optimal" and fast.objective == pytest.approx(slow.objective)

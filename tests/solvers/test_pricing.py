"""Column generation keeps the bound true: with the smallest candidate sets, the priced LP
bound equals the LP over every eligible pair, and the result equals the all-pairs optimum."""

from __future__ import annotations

import numpy as np
import pytest

import expertmatch as em
from expertmatch.formulation.rows import build_model
from expertmatch.solvers.backends import solve_lp, solve_sat
from expertmatch.solvers.exact import solve
from expertmatch.solvers.params import SolveParams


def all_pairs_optimum(problem: em.Problem) -> tuple[float, float]:
    """LP bound and CP-SAT optimum over every eligible pair (no candidates, no pricing)."""
    model = build_model(problem)
    lp = solve_lp(model, 60)
    assert lp is not None
    everything = np.ones(model.n_pairs, dtype=bool)
    run = solve_sat(model, everything, lp.x > 0.5, None, SolveParams(), 60)
    assert run.status == "optimal"
    return lp.z * model.unit, run.objective * model.unit


@pytest.mark.parametrize(
    ("seed", "share", "level"), [(1, "1/3", 2), (2, "2/5", 2), (3, "1/5", 1), (4, "1/2", 1)]
)
def test_priced_bound_equals_full_lp_and_result_equals_all_pairs_optimum(
    seed: int, share: str, level: int
) -> None:
    """With the smallest candidate sets, pricing adds pairs until the bound is the full LP's."""
    tables = em.generate(40, 120, seed=seed)
    problem = em.from_tables(
        **tables, rules={"enterprise_min_share": share, "coverage_level": level}
    )
    lp_bound, optimum = all_pairs_optimum(problem)
    result = solve(problem, SolveParams(extra_candidates=0))
    assert em.verify(problem, result) == []
    assert result.stats["lp_rounds"] > 1  # pricing had to add pairs
    assert result.stats["columns"] < result.stats["eligible_pairs"]
    assert result.stats["lp_bound"] == pytest.approx(lp_bound, abs=1e-6)
    assert result.objective == pytest.approx(optimum, abs=1e-6)
    assert result.status == "optimal"


def test_reduced_costs_from_row_duals_match_the_lp() -> None:
    """rc_j = w_j + sum_r A_rj pi_r reproduces HiGHS's own reduced costs (sign convention)."""
    problem = em.from_tables(**em.generate(30, 90, seed=5))
    model = build_model(problem)
    lp = solve_lp(model, 60)
    assert lp is not None
    rc = model.weight + model.A.T @ lp.pi
    at_zero = lp.x < 1e-9
    assert np.allclose(-rc[at_zero], lp.reduced_low[at_zero], atol=1e-6)
    assert rc[at_zero].max() <= 1e-6


def test_sorted_member_equals_isin() -> None:
    """Pricing's membership test by binary search gives what ``np.isin`` gives (keys before,
    between, after and equal to the sorted keys; none at all)."""
    from expertmatch.solvers.pricing import _sorted_member

    rng = np.random.default_rng(0)
    for size in (0, 1, 5, 200):
        sorted_keys = np.sort(rng.choice(1000, size=size, replace=False))
        keys = rng.integers(-5, 1005, size=500)
        assert np.array_equal(_sorted_member(keys, sorted_keys), np.isin(keys, sorted_keys))

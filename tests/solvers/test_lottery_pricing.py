"""The column generation's pricing (:mod:`expertmatch.solvers.lottery`): smoothing towards
the capped LP's duals (Wentges) and the disjoint first columns change the path, never the
answer; the first columns keep the cap from the first master on."""

from __future__ import annotations

from typing import Any

import pytest

import expertmatch as em
from expertmatch.solvers import lottery as lottery_module
from expertmatch.solvers.lottery import COLUMNS_METHOD, lottery
from expertmatch.solvers.params import SolveParams


def coverage_batch(seed: int, cap: float) -> em.Problem:
    return em.from_tables(
        **em.generate(15, 45, seed=seed), rules={"coverage_level": 2, "max_probability": cap}
    )


@pytest.mark.parametrize(("seed", "cap"), [(1, 0.5), (1, 0.8), (4, 0.5), (7, 0.6)])
def test_smoothed_pricing_reaches_the_optimum_of_plain_pricing(
    monkeypatch: pytest.MonkeyPatch, seed: int, cap: float
) -> None:
    """Proved optimal both ways, with the same expected score: pricing smoothed towards the
    capped LP's duals (the master's duals shared out in their proportions), and plain
    pricing at the master's duals shared out equally, with no centre to start."""
    problem = coverage_batch(seed, cap)
    params = SolveParams(gap_limit=0.0, time_limit=300)
    smoothed = lottery(problem, params)
    real_run = lottery_module._ColumnGeneration.run

    def no_centre(self: Any) -> Any:
        self.cap_duals = self.master.shape = None
        return real_run(self)

    monkeypatch.setattr(lottery_module._ColumnGeneration, "run", no_centre)
    monkeypatch.setattr(lottery_module, "SMOOTHING", 0.0)
    plain = lottery(problem, params)
    assert smoothed.stats["method"] == plain.stats["method"] == COLUMNS_METHOD
    assert smoothed.status == plain.status == "optimal"
    tol = 1e-6 * max(1.0, plain.expected_objective)
    assert smoothed.expected_objective == pytest.approx(plain.expected_objective, abs=tol)
    assert smoothed.x.max() <= cap + 1e-8 and plain.x.max() <= cap + 1e-8


@pytest.mark.parametrize("seed", [1, 4])
def test_the_first_columns_keep_the_cap(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """The optimum and a column avoiding its pairs, mixed evenly, keep a cap of 0.5: the
    first master keeps it (no phase one)."""
    problem = coverage_batch(seed, 0.5)
    first: list[bool] = []
    real_solve = lottery_module._Master.solve

    def record(self: Any) -> Any:
        sol = real_solve(self)
        first.append(sol.phase_one)
        return sol

    monkeypatch.setattr(lottery_module._Master, "solve", record)
    lot = lottery(problem, SolveParams(gap_limit=0.0, time_limit=300))
    assert first and first[0] is False
    assert lot.status == "optimal" and lot.x.max() <= 0.5 + 1e-8
    for draw in range(3):
        assert em.verify(problem, lot.sample(draw)) == []

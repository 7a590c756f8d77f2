"""Which path the random draw takes, and what it returns out of time: a coverage row that
every eligible expert satisfies cannot bind, so it does not force column generation (the
AAMAS-style one-field batch); a column generation stopped by the clock returns the best
lottery that keeps the cap, with its gap and status ``timeout``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import expertmatch as em
from expertmatch.solvers import lottery as lottery_module
from expertmatch.solvers.lottery import COLUMNS_METHOD, ROUNDING_METHOD, lottery
from expertmatch.solvers.params import SolveParams


def one_field_batch(coverage_level: int, cap: float) -> em.Problem:
    """A generated batch with every project and expert in the one field ``01``."""
    tables = em.generate(20, 60, seed=2)
    tables["projects"]["fields"] = "01"
    tables["experts"]["fields"] = "01"
    return em.from_tables(
        **tables, rules={"coverage_level": coverage_level, "max_probability": cap}
    )


def test_coverage_that_cannot_bind_takes_the_rounding_path() -> None:
    """Coverage level 1 on a one-field batch holds for any panel: the lottery is the capped LP
    drawn by dependent rounding, exactly as with coverage off (same expected score, optimal),
    and every draw keeps every rule."""
    with_rows = one_field_batch(1, 0.6)
    without = one_field_batch(0, 0.6)
    lot = lottery(with_rows, SolveParams())
    reference = lottery(without, SolveParams())
    assert lot.stats["method"] == reference.stats["method"] == ROUNDING_METHOD
    assert lot.status == "optimal"
    assert lot.expected_objective == pytest.approx(reference.expected_objective)
    assert lot.bound == pytest.approx(lot.expected_objective)
    for seed in range(5):
        assert em.verify(with_rows, lot.sample(seed)) == []


def test_coverage_that_can_bind_still_takes_column_generation() -> None:
    """The same batch with two fields, so that some expert does not cover a project's field:
    the coverage rows can bind and the lottery is built by column generation."""
    tables = em.generate(20, 60, seed=2)
    tables["projects"]["fields"] = "01"
    tables["experts"]["fields"] = ["01" if i % 3 else "02" for i in range(len(tables["experts"]))]
    problem = em.from_tables(**tables, rules={"coverage_level": 1, "max_probability": 0.6})
    lot = lottery(problem, SolveParams(gap_limit=0.001))
    assert lot.stats["method"] == COLUMNS_METHOD


PRICE_WEIGHTS = lottery_module._ColumnGeneration.price_weights


def capped_batch() -> em.Problem:
    return em.from_tables(
        **em.generate(15, 45, seed=1), rules={"coverage_level": 2, "max_probability": 0.8}
    )


def run_out_of_time_after(monkeypatch: pytest.MonkeyPatch, pricings: int) -> None:
    """Make the column generation run out of time after ``pricings`` pricings."""
    real = PRICE_WEIGHTS
    calls = {"n": 0}

    def limited(self: Any, weight: np.ndarray) -> Any:
        calls["n"] += 1
        return None if calls["n"] > pricings else real(self, weight)

    monkeypatch.setattr(lottery_module._ColumnGeneration, "price_weights", limited)


def test_out_of_time_returns_the_capped_lottery_with_its_gap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stopped by the clock before the gap closes, the lottery is still returned: status
    timeout, a positive gap, every pair within the cap, every column a valid assignment."""
    problem = capped_batch()
    run_out_of_time_after(monkeypatch, 2)
    lot = lottery(problem, SolveParams(gap_limit=0.0))
    assert lot.status == "timeout"
    assert lot.bound > lot.expected_objective
    assert lot.x.max() <= 0.8 + 1e-8
    assert lot.columns is not None
    for seed in range(5):
        assert em.verify(problem, lot.sample(seed)) == []


def test_out_of_time_keeps_the_best_capped_master_of_the_rounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """If the last master solved before the clock stopped breaks the cap, the best earlier
    master that keeps it is the lottery (the last one is made to break the cap here). The
    clock stops after the first number of pricings from ten on whose last master is better
    than every earlier one (the masters' values can stay level for a few rounds)."""
    problem = capped_batch()
    real_solve = lottery_module._Master.solve
    solves: dict[str, Any] = {"values": [], "last": 0}

    def last_breaks_the_cap(self: Any) -> Any:
        sol = real_solve(self)
        solves["values"].append(sol.value)
        if len(solves["values"]) != solves["last"]:
            return sol
        return lottery_module.replace(sol, excess=0.5)

    monkeypatch.setattr(lottery_module._Master, "solve", last_breaks_the_cap)
    for pricings in range(10, 30):
        solves.update(values=[], last=0)
        run_out_of_time_after(monkeypatch, pricings)
        reference = lottery(problem, SolveParams(gap_limit=0.0))
        values = solves["values"]
        if reference.status == "timeout" and values[-1] > max(values[:-1], default=0.0) + 1e-6:
            break
    else:
        pytest.fail("no run out of time whose last master improves on the earlier ones")
    solves.update(values=[], last=reference.stats["rounds"])
    run_out_of_time_after(monkeypatch, pricings)
    lot = lottery(problem, SolveParams(gap_limit=0.0))
    assert lot.status == "timeout"
    assert lot.x.max() <= 0.8 + 1e-8
    assert lot.stats["rounds"] == reference.stats["rounds"]
    assert lot.expected_objective == pytest.approx(max(values[:-1]), abs=1e-6)
    assert 0 < lot.expected_objective < reference.expected_objective


def test_out_of_time_without_a_capped_master_is_a_timeout_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No pricing at all: the seeded master breaks the cap here, so there is no lottery to
    return and the draw is a SolveError (exit 4)."""
    problem = em.from_tables(
        **em.generate(15, 45, seed=0), rules={"coverage_level": 2, "max_probability": 0.5}
    )
    run_out_of_time_after(monkeypatch, 0)
    with pytest.raises(em.SolveError, match="no lottery keeping max_probability"):
        lottery(problem, SolveParams(gap_limit=0.0))

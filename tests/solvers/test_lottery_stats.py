"""The lottery's statistics are a frozen :class:`expertmatch.result.Stats` built once, with the
keys ``report.json`` has always had; a fault inside the lottery is an ``InternalError``, never
reported as infeasible or as a timeout."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import expertmatch as em
from expertmatch.formulation.rows import Model
from expertmatch.result import Stats
from expertmatch.solvers.lottery import COLUMNS_METHOD, ROUNDING_METHOD, ColumnStats, RoundingStats
from tests.batches import plain_rules

#: ``report.json``'s "stats" of a lottery, in order, as in 0.1.0.
COLUMN_KEYS = ["method", "columns", "assignments_in_lottery", "rounds", "lp_bound", "pairs"]
ROUNDING_KEYS = ["method", "pairs"]


def _report_stats(result: em.Result, folder: Path) -> dict[str, Any]:
    result.write(folder / "assignment.csv", folder / "report.json")
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    stats: dict[str, Any] = report["stats"]
    return stats


@pytest.mark.slow
def test_column_generation_stats_keep_the_report_keys(demo: em.Problem, tmp_path: Path) -> None:
    """The demo batch has coverage rows, so its lottery is a mixture of valid assignments."""
    lot = em.lottery(demo.with_rules({"max_probability": 0.5}), gap_limit=0.02)
    result = lot.sample(7)
    stats = _report_stats(result, tmp_path)
    assert list(stats) == COLUMN_KEYS
    assert stats["method"] == COLUMNS_METHOD
    assert stats["pairs"] == len(lot.pairs)
    assert isinstance(stats["columns"], int) and isinstance(stats["rounds"], int)
    assert stats["columns"] >= stats["assignments_in_lottery"] >= 1
    assert isinstance(result.stats, ColumnStats) and result.stats is lot.stats
    assert result.stats["rounds"] == result.stats.rounds == stats["rounds"]
    with pytest.raises(FrozenInstanceError):
        result.stats.rounds = 0  # type: ignore[misc]


def test_rounding_stats_keep_the_report_keys(demo: em.Problem, tmp_path: Path) -> None:
    """Without coverage (and without the office's quotas and chair) every rule fits the
    rounding's hierarchy."""
    problem = plain_rules(demo, max_probability=0.5, coverage_level=0)
    lot = em.lottery(problem)
    assert isinstance(lot.stats, RoundingStats) and isinstance(lot.stats, Stats)
    stats = _report_stats(lot.sample(3), tmp_path)
    assert list(stats) == ROUNDING_KEYS
    assert stats == {"method": ROUNDING_METHOD, "pairs": len(lot.pairs)}
    assert dict(em.assign(problem, seed=3).stats) == stats


def test_a_rounding_that_breaks_a_rule_is_an_internal_error(
    demo: em.Problem, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hierarchy guarantees every rule in every draw: a draw that breaks one is a fault of
    the library, not an infeasible batch nor a timeout."""
    lot = em.lottery(plain_rules(demo, max_probability=0.5, coverage_level=0))
    monkeypatch.setattr(Model, "satisfied", lambda self, x: False)
    with pytest.raises(em.InternalError, match="broke a rule") as caught:
        lot.draw(np.random.default_rng(0))
    assert not isinstance(caught.value, em.SolveError | em.InfeasibleError)

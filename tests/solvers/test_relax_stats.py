"""The relaxed solve's statistics: a frozen :class:`RelaxStats`, and ``report.json`` ``stats``
with the keys and values of 0.1.0."""

from __future__ import annotations

import dataclasses
import json

import pytest

import expertmatch as em
from expertmatch.result import Stats
from expertmatch.solvers.relax import BEND_ORDER, PRICED_METHOD, RelaxStats
from tests.batches import coverage_or_enterprise


def test_relax_stats_are_typed_and_report_as_before() -> None:
    result = em.assign(coverage_or_enterprise(), relax=True)
    stats = result.stats
    assert isinstance(stats, RelaxStats) and isinstance(stats, Stats)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.method = "changed"  # type: ignore[misc]
    report = json.loads(result.to_json())["stats"]
    assert report == {
        "method": PRICED_METHOD,
        "bend_order": list(BEND_ORDER),
        "bends_by_rule": {
            "yearly_cap": 0,
            "max_load": 0,
            "enterprise_share": 0,
            "quota": 0,
            "coverage": 1,
            "max_per_org": 0,
        },
    }
    assert list(report["bends_by_rule"]) == list(reversed(BEND_ORDER))  # most protected first
    assert stats["bends_by_rule"] == stats.bends_by_rule

"""``reassign``'s statistics are a frozen :class:`ReassignStats`, complete when the Result is
built, and ``report.json`` ``stats`` keeps the keys and values of 0.1.0 (read as a mapping)."""

from __future__ import annotations

import dataclasses
import json

import pytest

import expertmatch as em
from expertmatch.result import Stats
from expertmatch.rounds.reassign import ReassignStats

#: report.json "stats" of reassign, in order, as 0.1.0 wrote them.
KEYS = [
    "method",
    "held",
    "pairs",
    "previous_pairs",
    "kept_pairs",
    "changed_pairs",
    "declines",
    "changes",
    "declined",
    "previous_sha256",
    "declined_sha256",
]


@pytest.fixture(scope="module")
def reassigned(demo_result: em.Result) -> tuple[em.Result, list[tuple[str, str]]]:
    declined = [(e, p) for p, e in demo_result.assignment[:3]]
    return em.reassign(demo_result.problem, demo_result, declined, time_limit=60), declined


def test_report_stats_keep_their_keys_and_values(
    reassigned: tuple[em.Result, list[tuple[str, str]]], demo_result: em.Result
) -> None:
    new, declined = reassigned
    stats = json.loads(new.to_json())["stats"]
    assert list(stats) == KEYS
    before, after = set(demo_result.assignment), set(new.assignment)
    assert stats["previous_pairs"] == len(before) == 216
    assert stats["kept_pairs"] == len(before & after) == 213
    assert stats["changed_pairs"] == len(before - after) == 3
    assert stats["declines"] == 3
    assert stats["held"] == {"kept_pairs": 213}  # the fast path: every eligible pair kept
    assert stats["pairs"] > 0 and "every still-eligible earlier pair kept" in stats["method"]
    assert stats["declined"] == [{"expert": e, "project": p} for e, p in declined]
    assert stats["previous_sha256"] is None and stats["declined_sha256"] is None  # in memory
    project = declined[0][1]
    assert [c["project"] for c in stats["changes"]] == [project]
    assert stats["changes"][0]["removed"] == sorted(e for e, _ in declined)
    assert len(stats["changes"][0]["added"]) == 3


def test_stats_are_typed_frozen_and_read_as_a_mapping(
    reassigned: tuple[em.Result, list[tuple[str, str]]],
) -> None:
    new, _ = reassigned
    stats = new.stats
    assert isinstance(stats, ReassignStats) and isinstance(stats, Stats)
    assert stats["kept_pairs"] == stats.kept_pairs and list(stats) == KEYS
    assert dict(stats) == {key: getattr(stats, key) for key in KEYS}
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.kept_pairs = 0  # type: ignore[misc]
    with pytest.raises(KeyError):
        stats["nope"]


def test_the_full_model_path_has_the_same_keys() -> None:
    """Two projects share the only experts: a decline forces a move on the other panel."""
    experts = [
        {"id": x, "organization": f"O{i}", "org_type": "university", "fields": "1.1.1"}
        for i, x in enumerate(("a", "b", "c"))
    ]
    projects = [{"id": p, "organization": "X", "fields": "1.1"} for p in ("P", "Q")]
    scores = [
        {"expert": x, "project": p, "score": s}
        for p in ("P", "Q")
        for x, s in (("a", 3), ("b", 2), ("c", 1))
    ]
    scores = [s for s in scores if not (s["project"] == "Q" and s["expert"] == "c")]
    problem = em.from_tables(
        experts=experts,
        projects=projects,
        scores=scores,
        rules={
            "panel_size": 1,
            "max_load": 1,
            "enterprise_min_share": 0,
            "coverage_level": 0,
        },
    )
    new = em.reassign(problem, [("P", "a"), ("Q", "b")], [("b", "Q")])
    stats = json.loads(new.to_json())["stats"]
    assert list(stats) == KEYS
    assert "every eligible pair" in stats["method"] and stats["held"] == {"kept_pairs": 0}
    assert stats["changed_pairs"] == 2 and em.verify(new.problem, new) == []

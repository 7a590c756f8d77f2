"""``report.json``'s text (:func:`expertmatch.result.dumps_report`): the same JSON as
``json.dumps(report, indent=2)``, each record of ``pairs`` and ``conflicts`` on its own line."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch.result import dumps_report

SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
#: Any JSON value (dicts with text keys), a few levels deep.
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(deadline=None)  # a shared machine: time is no part of this property
@given(st.dictionaries(st.sampled_from(["pairs", "conflicts", "status", "rules"]), VALUES))
def test_the_same_json_as_the_indented_dump(report: dict[str, Any]) -> None:
    """Whatever the values (strings holding ``}, {``, NUL, quotes, nested lists and dicts
    under the one-line keys), the text reads back as the report."""
    assert json.loads(dumps_report(report)) == report


def test_one_record_a_line_and_the_rest_indented() -> None:
    report = {
        "status": "optimal",
        "rules": {"panel_size": 5},
        "pairs": [
            {"project": "P1", "expert": "E1", "score": 9.5, "why": "a}, {b"},
            {"project": "P1", "expert": "E2", "score": 8.0, "why": "x\x00y"},
        ],
        "conflicts": [],
    }
    text = dumps_report(report)
    assert json.loads(text) == report
    assert text.splitlines() == [
        "{",
        '  "status": "optimal",',
        '  "rules": {',
        '    "panel_size": 5',
        "  },",
        '  "pairs": [',
        '    {"project": "P1", "expert": "E1", "score": 9.5, "why": "a}, {b"},',
        '    {"project": "P1", "expert": "E2", "score": 8.0, "why": "x\\u0000y"}',
        "  ],",
        '  "conflicts": []',
        "}",
    ]


@pytest.mark.parametrize("report", [{}, {"pairs": [{}]}, {"pairs": [{}, {}]}, {"pairs": [1, 2]}])
def test_edge_cases(report: dict[str, Any]) -> None:
    assert json.loads(dumps_report(report)) == report


def test_the_demo_s_report() -> None:
    """A real report (Chinese names, the conflicts record) reads back whole."""
    result = em.assign(em.load(em.demo_path()))
    report = result.report()
    assert json.loads(result.to_json()) == json.loads(json.dumps(report))
    assert len(result.to_json().splitlines()) > len(report["pairs"]) + len(report["conflicts"])

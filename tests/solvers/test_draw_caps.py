"""The random draw as an office needs it: a stage's own max_probability, a tight panel named
in the error, and --relax raising the cap only for the panels that cannot keep it."""

from __future__ import annotations

import numpy as np
import pytest

import expertmatch as em


def batch(rules: dict) -> em.Problem:
    """Two projects: P1 (approval) with many eligible experts, P2 (acceptance) with exactly
    its panel's worth (E1-E3 share its field; every other expert scores 0 for it)."""
    experts = [
        {"id": f"E{i}", "organization": f"O{i}", "org_type": "university", "fields": "1.1.1"}
        for i in range(1, 4)
    ] + [
        {"id": f"F{i}", "organization": f"Q{i}", "org_type": "university", "fields": "2.1.1"}
        for i in range(1, 7)
    ]
    projects = [
        {"id": "P1", "organization": "X", "fields": "2.1", "stage": "立项"},
        {"id": "P2", "organization": "X", "fields": "1.1", "stage": "结题验收"},
    ]
    base = {
        "panel_size": 3,
        "enterprise_min_share": 0,
        "coverage_level": 0,
        "min_score": 0,
        "max_load": 2,
    }
    return em.from_tables(experts=experts, projects=projects, rules={**base, **rules})


def test_a_tight_panel_is_named_and_relax_raises_only_its_cap() -> None:
    problem = batch({"max_probability": 0.5})
    with pytest.raises(em.InfeasibleError) as info:
        em.assign(problem, seed=1)
    named = [c for c in info.value.clashes if c.projects == ("P2",)]
    assert named and "3 eligible experts for a panel of 3" in named[0].message
    result = em.assign(problem, seed=1, relax=True)
    assert [(b.rule, b.project) for b in result.bends] == [("max_probability", "P2")]
    assert em.verify(problem, result) == []
    probs = result.probability_frame()
    p1 = probs[probs["project"] == "P1"]["probability"]
    assert p1.max() <= 0.5 + 1e-8  # only P2's cap was raised
    assert sorted(result.panels["P2"]) == ["E1", "E2", "E3"]


def test_a_stage_has_its_own_max_probability() -> None:
    problem = batch({"max_probability": 1, "stage": {"approval": {"max_probability": 0.5}}})
    assert problem.project_max_probability.tolist() == [0.5, 1.0]
    for seed in (1, 2, 3):
        result = em.assign(problem, seed=seed)
        assert em.verify(problem, result) == []
    probs = result.probability_frame()
    assert probs[probs["project"] == "P1"]["probability"].max() <= 0.5 + 1e-8
    assert np.isclose(probs[probs["project"] == "P2"]["probability"].sum(), 3)


def test_a_draw_names_its_chairs_and_the_report_records_them() -> None:
    """Under the chair rule every drawn panel has its chair, from assign and from the lottery
    itself, and report.json lists them."""
    problem = batch(
        {
            "stage": {"approval": {"max_probability": 0.8}},
            "chair": {"attribute": "org_type", "values": ["university"], "max_per_expert": 2},
        }
    )
    for seed in (1, 2):
        result = em.assign(problem, seed=seed)
        assert em.verify(problem, result) == []
        assert sorted(result.report()["chairs"]) == ["P1", "P2"]
    sampled = em.lottery(problem).sample(3)
    assert em.verify(problem, sampled) == [] and len(sampled.chairs) == 2

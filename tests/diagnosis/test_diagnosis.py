"""Infeasible batches get an exact diagnosis in office terms: the projects, rules, experts
and figures that take part in the clash, and what would relax it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import expertmatch as em
from expertmatch.cli import main
from tests.batches import (
    PROJECTS,
    combined_clash,
    make,
    short_of_reviews,
    two_project_tables,
    write_tables,
)


def clashes(problem: em.Problem) -> list[em.Clash]:
    """The clashes of the InfeasibleError that assigning ``problem`` raises."""
    with pytest.raises(em.InfeasibleError) as info:
        em.assign(problem)
    return info.value.clashes


def test_enterprise_shortage_names_the_excluded_enterprise_experts() -> None:
    """Too few enterprise experts: the clash names each excluded one and why, and a fix."""
    projects = [{**PROJECTS[0], "organization": "C1"}]  # E1 and E3 work at the applicant
    problem = make(
        projects=projects,
        relations=[{"a": "M1", "b": "E2", "kind": "coauthor", "year": 2025}],
        members=[{"project": "P1", "person": "M1"}],
        rules={
            "panel_size": 3,
            "enterprise_min_share": "2/3",
            "max_per_org": 2,
            "reference_year": 2026,
        },
    )
    [clash] = clashes(problem)
    assert clash.rule == "enterprise_share" and clash.projects == ("P1",)
    assert clash.message == (
        "P1 needs 2 enterprise experts; only 1 eligible with capacity left (not eligible: "
        "E1: same_org: the expert's organization 钱塘智能科技 (C1) is the applicant; "
        "E2: collaborator: co-author of team member M1 in 2025; "
        "E3: same_org: the expert's organization 钱塘智能科技 (C1) is the applicant)"
    )
    assert clash.suggestion == (
        "give P1 enterprise_min = 1 in projects.csv (now 2 of 3), or add enterprise experts "
        "in 520.20.10"
    )
    # the suggestion can be followed: the project's own enterprise_min
    fixed = make(
        projects=[{**projects[0], "enterprise_min": 1}],
        relations=[{"a": "M1", "b": "E2", "kind": "coauthor", "year": 2025}],
        members=[{"project": "P1", "person": "M1"}],
        rules=problem.rules,
    )
    assert em.verify(fixed, em.assign(fixed)) == []


def test_field_nobody_eligible_covers() -> None:
    """A field no eligible expert covers is named, with the expert excluded and a fix."""
    projects = [{**PROJECTS[0], "fields": "520.20.10;520.40.20"}]
    conflicts = [{"expert": "E8", "project": "P1", "reason": "本人申报"}]
    problem = make(
        projects=projects, conflicts=conflicts, rules={"panel_size": 3, "coverage_level": 3}
    )
    [clash] = clashes(problem)
    assert clash.rule == "coverage"
    assert clash.message == (
        "P1: no eligible expert with capacity left covers field 520.40.20 "
        "(not eligible: E8: declared: listed in conflicts.csv (本人申报))"
    )
    assert clash.suggestion == (
        "add an expert in field 520.40.20, lower coverage_level, or drop 520.40.20 from P1's fields"
    )


def test_loads_too_small_for_demand_names_projects_and_binding_experts() -> None:
    """Loads too small in all: the clash names the projects, the experts and the raise needed."""
    problem = short_of_reviews()
    [clash] = clashes(problem)
    assert clash.rule == "load"
    assert clash.projects == ("P1", "P2", "P3")
    assert clash.experts == tuple(f"E{i}" for i in range(1, 9))
    assert clash.message == (
        "panels need 9 reviews in all but eligible experts' capacities can "
        "give at most 8; the projects P1, P2, P3 together need more than "
        "their 8 eligible experts can give"
    )
    assert clash.suggestion == (
        "raise max_load (and yearly_cap if it binds) by 1 for these 8 "
        "experts: E1, E2, E3, E4, E5, E6, E7, E8"
    )


def test_rules_that_clash_only_together_give_a_minimal_set() -> None:
    """Two fields to cover and an enterprise seat, on a panel of two: each check passes alone,
    but no panel satisfies all three; dropping any one of them would."""
    problem = combined_clash()
    found = clashes(problem)
    assert [(c.rule, c.projects) for c in found] == [
        ("combined", ()),
        ("coverage", ("P",)),
        ("coverage", ("P",)),
        ("enterprise_share", ("P",)),
    ]
    assert [c.message for c in found[1:]] == [
        "P must have an expert covering 1.1",
        "P must have an expert covering 1.2",
        "P needs 1 enterprise experts of 2",
    ]


def test_cli_prints_the_diagnosis_and_records_it_in_the_report(tmp_path: Path) -> None:
    """`assign` on an infeasible batch exits 3, writes no assignment, records the diagnosis."""
    folder = write_tables(
        tmp_path / "batch", two_project_tables(), rules="panel_size = 5\nenterprise_min_share = 1\n"
    )
    report = tmp_path / "report.json"
    code = main(["assign", str(folder), "-o", str(tmp_path / "a.csv"), "--report", str(report)])
    assert code == 3
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["status"] == "infeasible"
    assert data["diagnosis"] and data["diagnosis"][0]["rule"] in ("enterprise_share", "panel_size")
    assert not (tmp_path / "a.csv").exists()


def test_priced_phase_one_names_the_same_clash() -> None:
    """Beyond FULL_LP_PAIRS the LP relaxation's infeasibility is shown by pricing the shortfall
    alone, never over every pair at once: the same clash, in the same words."""
    from expertmatch.solvers import exact

    over_every_pair = clashes(combined_clash())
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exact, "FULL_LP_PAIRS", 0)
        patch.setattr(exact, "eligible_pairs", None)  # the full pair set is never built
        priced = clashes(combined_clash())
    assert [(c.rule, c.message, c.projects) for c in priced] == [
        (c.rule, c.message, c.projects) for c in over_every_pair
    ]
    assert len(priced) > 1  # the minimal clash itself, not only the combined note


def test_phase_one_on_a_feasible_batch_restarts_the_scored_pricing() -> None:
    """When the shortfall priced alone vanishes (the penalty was too small to tell), the
    scored column generation from those columns, without artificial columns, reaches the
    same LP bound as from the candidates."""
    from expertmatch.formulation.candidates import survey
    from expertmatch.solvers import exact
    from expertmatch.solvers.params import SolveParams

    problem = em.from_tables(**em.generate(30, 90, seed=2))
    run = exact._Run(problem, SolveParams(time_limit=60), None)
    surv = survey(problem)
    run.stats["eligible_pairs"] = surv.total_eligible
    columns = exact._phase_one(run, surv, surv.candidates)
    restarted = exact._column_generation(run, surv, columns)
    plain = exact._column_generation(run, surv)
    assert restarted.z_lp == plain.z_lp
    assert restarted.lp.shortfall == 0.0

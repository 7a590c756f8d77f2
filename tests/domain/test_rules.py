"""Each rule of the contract, alone, changes the optimal panels exactly as it should.

Scores are supplied so that the unconstrained optimum breaks the rule under test; every result
is also checked by verify(). Then the rules themselves: the contract's defaults, exact shares,
and which value wins (a row's own value, the ``rules`` argument, rules.toml, the default).
"""

from __future__ import annotations

import datetime
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import expertmatch as em
from expertmatch import Rules
from tests.batches import (
    EXPERTS,
    PROJECTS,
    build,
    cell,
    make,
    rule,
    two_project_tables,
    write_tables,
)

# Scores that favour the university/institute experts E5-E8 over enterprise experts E1-E4.
FAVOUR_ACADEMIC = {"E1": 3, "E2": 2, "E3": 1.5, "E4": 1, "E5": 9, "E6": 8, "E7": 7, "E8": 6}


def scores(table: dict[str, float], projects: tuple[str, ...] = ("P1",)) -> list[dict[str, Any]]:
    return [{"expert": e, "project": p, "score": s} for p in projects for e, s in table.items()]


def solve(problem: em.Problem) -> em.Result:
    result = em.assign(problem, time_limit=30)
    assert em.verify(problem, result) == []
    assert result.status == "optimal"
    return result


def panel(result: em.Result, project: str = "P1") -> set[str]:
    return set(result.panels[project])


def test_panel_size_from_rules_and_from_the_project_row() -> None:
    """The panel size comes from the rules, or from the project's own row."""
    result = solve(
        make(scores=scores(FAVOUR_ACADEMIC), rules={"panel_size": 2, "enterprise_min_share": 0})
    )
    assert panel(result) == {"E5", "E6"}
    projects = [{**PROJECTS[0], "panel_size": 4}]
    result = solve(
        make(
            projects=projects,
            scores=scores(FAVOUR_ACADEMIC),
            rules={"panel_size": 2, "enterprise_min_share": 0, "max_per_org": 2},
        )
    )
    assert panel(result) == {"E5", "E6", "E7", "E8"}


def test_enterprise_min_share() -> None:
    """The panel takes ceil(share x size) enterprise experts, the best-scoring ones."""
    base = {"panel_size": 3, "max_per_org": 2}
    free = solve(make(scores=scores(FAVOUR_ACADEMIC), rules={**base, "enterprise_min_share": 0}))
    assert panel(free) == {"E5", "E6", "E7"}
    third = solve(
        make(scores=scores(FAVOUR_ACADEMIC), rules={**base, "enterprise_min_share": "1/3"})
    )
    assert panel(third) == {"E1", "E5", "E6"}  # ceil(3/3) = 1 enterprise expert, the best one
    two = solve(make(scores=scores(FAVOUR_ACADEMIC), rules={**base, "enterprise_min_share": 0.5}))
    assert panel(two) == {"E1", "E2", "E5"}  # ceil(1.5) = 2


def test_enterprise_type_from_the_expert_row_overrides_the_organization() -> None:
    """An expert's own org_type overrides the organization's type."""
    experts = [dict(e) for e in EXPERTS]
    experts[4]["org_type"] = "enterprise"  # E5 works at U1 but is registered as enterprise
    result = solve(
        make(
            experts=experts,
            scores=scores(FAVOUR_ACADEMIC),
            rules={"panel_size": 3, "max_per_org": 2},
        )
    )
    assert panel(result) == {"E5", "E6", "E7"}


def test_max_per_org() -> None:
    """max_per_org limits how many experts of one organization sit on a panel."""
    rules = {"panel_size": 2, "enterprise_min_share": 0}
    # E5 and E7 are both at U1 and score best.
    table = {**FAVOUR_ACADEMIC, "E7": 8.5}
    two = solve(make(scores=scores(table), rules={**rules, "max_per_org": 2}))
    assert panel(two) == {"E5", "E7"}
    one = solve(make(scores=scores(table), rules={**rules, "max_per_org": 1}))
    assert panel(one) == {"E5", "E6"}


def test_coverage_at_level_2() -> None:
    """Coverage at level k asks for an expert sharing k levels of each project field."""
    projects = [{**PROJECTS[0], "fields": "520.20.10;520.40.20"}]
    rules = {"panel_size": 2, "enterprise_min_share": 0, "max_per_org": 2}
    off = solve(
        make(
            projects=projects, scores=scores(FAVOUR_ACADEMIC), rules={**rules, "coverage_level": 0}
        )
    )
    assert panel(off) == {"E5", "E6"}  # E6 is 520.40.10, so 520.40 is covered anyway
    table = {**FAVOUR_ACADEMIC, "E6": 1, "E8": 0.8, "E4": 0.5}  # 520.40 experts score low
    off = solve(make(projects=projects, scores=scores(table), rules={**rules, "coverage_level": 0}))
    assert panel(off) == {"E5", "E7"}
    on = solve(make(projects=projects, scores=scores(table), rules={**rules, "coverage_level": 2}))
    assert panel(on) == {"E5", "E6"}  # E6 (520.40.10) covers 520.40.20 at level 2
    deep = solve(
        make(projects=projects, scores=scores(table), rules={**rules, "coverage_level": 3})
    )
    assert panel(deep) == {"E5", "E8"}  # only E8 has exactly 520.40.20
    assert "520.40.20" in deep.to_frame().set_index("expert").loc["E8", "covers"]


def test_coverage_of_a_coarse_project_field() -> None:
    """A project field at level 1 (``530``) is covered by any 530.* expert at any level."""
    experts = [dict(e) for e in EXPERTS]
    experts[7]["fields"] = "530.10.10"
    projects = [{**PROJECTS[0], "fields": "520.20.10;530"}]
    result = solve(
        make(
            experts=experts,
            projects=projects,
            scores=scores(FAVOUR_ACADEMIC),
            rules={"panel_size": 2, "enterprise_min_share": 0, "coverage_level": 2},
        )
    )
    assert "E8" in panel(result)


def test_max_load_across_projects() -> None:
    """max_load caps an expert's reviews across projects."""
    projects = [{**PROJECTS[0], "id": "P1"}, {**PROJECTS[0], "id": "P2"}]
    rules = {"panel_size": 1, "enterprise_min_share": 0, "max_load": 1, "coverage_level": 0}
    result = solve(
        make(projects=projects, scores=scores(FAVOUR_ACADEMIC, ("P1", "P2")), rules=rules)
    )
    assert sorted(result.panels["P1"] + result.panels["P2"]) == ["E5", "E6"]
    result = solve(
        make(
            projects=projects,
            scores=scores(FAVOUR_ACADEMIC, ("P1", "P2")),
            rules={**rules, "max_load": 2},
        )
    )
    assert result.panels == {"P1": ["E5"], "P2": ["E5"]}


def test_expert_row_max_load_overrides_the_rule() -> None:
    """An expert's own max_load overrides the rule."""
    experts = [dict(e) for e in EXPERTS]
    experts[4]["max_load"] = 1
    projects = [{**PROJECTS[0], "id": "P1"}, {**PROJECTS[0], "id": "P2"}]
    result = solve(
        make(
            experts=experts,
            projects=projects,
            scores=scores(FAVOUR_ACADEMIC, ("P1", "P2")),
            rules={"panel_size": 1, "enterprise_min_share": 0, "max_load": 5, "coverage_level": 0},
        )
    )
    assert sorted(result.panels["P1"] + result.panels["P2"]) == ["E5", "E6"]


def test_yearly_cap_counts_reviews_already_done() -> None:
    """The yearly cap counts the reviews an expert already did this year."""
    experts = [dict(e) for e in EXPERTS]
    experts[4]["used"] = 9  # E5: one review left under yearly_cap 10
    projects = [{**PROJECTS[0], "id": "P1"}, {**PROJECTS[0], "id": "P2"}]
    rules = {
        "panel_size": 1,
        "enterprise_min_share": 0,
        "max_load": 5,
        "yearly_cap": 10,
        "coverage_level": 0,
    }
    result = solve(
        make(
            experts=experts,
            projects=projects,
            scores=scores(FAVOUR_ACADEMIC, ("P1", "P2")),
            rules=rules,
        )
    )
    assert sorted(result.panels["P1"] + result.panels["P2"]) == ["E5", "E6"]
    experts[4]["used"] = 10
    result = solve(
        make(
            experts=experts,
            projects=projects,
            scores=scores(FAVOUR_ACADEMIC, ("P1", "P2")),
            rules=rules,
        )
    )
    assert result.panels == {"P1": ["E6"], "P2": ["E6"]}


def test_min_score_makes_low_pairs_ineligible() -> None:
    """Pairs scoring at or below min_score are ineligible, down to infeasibility."""
    rules = {"panel_size": 3, "enterprise_min_share": 0, "max_per_org": 2}
    problem = make(scores=scores({**FAVOUR_ACADEMIC}), rules={**rules, "min_score": 6})
    assert {problem.expert_ids[e] for e in em.eligible_pairs(problem).expert} == {"E5", "E6", "E7"}
    assert solve(problem).panels["P1"] == ["E5", "E6", "E7"]
    with pytest.raises(em.InfeasibleError, match="P1 needs 3 experts; only 2"):
        em.assign(make(scores=scores(FAVOUR_ACADEMIC), rules={**rules, "min_score": 7}))


def test_absent_supplied_score_means_ineligible() -> None:
    """With supplied scores, a pair without a score is ineligible."""
    problem = make(
        scores=scores({"E5": 1.0, "E6": 2.0}), rules={"panel_size": 2, "enterprise_min_share": 0}
    )
    assert solve(problem).panels["P1"] == ["E5", "E6"]
    assert em.why_ineligible(problem, "E1", "P1") == ["score: 0 is not above min_score 0"]


def test_enterprise_target_share_of_the_whole_round() -> None:
    """enterprise_target_share holds over the whole round."""
    projects = [{**PROJECTS[0], "id": f"P{i}"} for i in (1, 2)]
    rules = {"panel_size": 2, "enterprise_min_share": 0, "max_per_org": 2, "max_load": 2}
    table = scores(FAVOUR_ACADEMIC, ("P1", "P2"))
    free = solve(make(projects=projects, scores=table, rules=rules))
    assert free.summary()["enterprise_share"] == 0
    half = solve(
        make(projects=projects, scores=table, rules={**rules, "enterprise_target_share": 0.5})
    )
    assert half.summary()["enterprise_share"] == 0.5


def test_infeasible_enterprise_share_names_project_and_rule() -> None:
    """Too few enterprise experts: the error names the project and the rule."""
    with pytest.raises(em.InfeasibleError) as info:
        em.assign(make(rules={"panel_size": 5, "enterprise_min_share": 1, "max_per_org": 3}))
    assert [c.rule for c in info.value.clashes] == ["enterprise_share"]
    assert info.value.clashes[0].projects == ("P1",)
    assert "P1 needs 5 enterprise experts; only 4" in str(info.value)


def test_infeasible_coverage_names_the_field() -> None:
    """A field no eligible expert covers is named in the error."""
    projects = [{**PROJECTS[0], "fields": "520.20.10;610.10"}]
    with pytest.raises(em.InfeasibleError, match=r"P1: no eligible expert .* covers field 610\.10"):
        em.assign(make(projects=projects, rules={"panel_size": 3}))


def test_infeasible_global_capacity_by_max_flow() -> None:
    """Loads too small for all panels together are found by max flow and named."""
    projects = [{**PROJECTS[0], "id": f"P{i}"} for i in range(1, 5)]
    with pytest.raises(em.InfeasibleError) as info:
        em.assign(
            make(
                projects=projects,
                rules={"panel_size": 3, "max_load": 1, "enterprise_min_share": 0, "max_per_org": 2},
            )
        )
    clash = info.value.clashes[0]
    assert clash.rule == "load"
    assert "need 12 reviews" in clash.message and "at most 8" in clash.message
    assert set(clash.projects) == {"P1", "P2", "P3", "P4"}


def test_infeasible_max_per_org() -> None:
    """Too few organizations for max_per_org is named in the error."""
    with pytest.raises(em.InfeasibleError, match=r"\[max_per_org\] P1 needs 5 experts at most 1"):
        em.assign(make(rules={"panel_size": 5, "enterprise_min_share": 0}))


# -- rules: parsing, defaults, exact shares, overrides ---------------------------------------------


def test_rules_defaults_match_contract() -> None:
    """Every rule's default is the data contract's."""
    rules = Rules()
    assert rules.panel_size == 5
    assert rules.max_load == 6
    assert rules.yearly_cap == 10
    assert rules.enterprise_min_share == Fraction(1, 3)
    assert rules.max_per_org == 1
    assert rules.coverage_level == 2
    assert rules.min_score == 0
    assert rules.reference_year == datetime.date.today().year
    assert rules.collaboration_window == 3
    assert rules.enterprise_target_share is None
    assert rules.max_probability == 1
    assert Rules.from_mapping({}) == rules


def test_folder_without_rules_uses_defaults(tmp_path: Path) -> None:
    """A folder without rules.toml gets the default rules."""
    problem = em.load(write_tables(tmp_path / "b", two_project_tables(), rules=None))
    assert problem.rules == Rules()
    assert problem.project_panel_size.tolist() == [5, 5]


@pytest.mark.parametrize("share", ["1/5", 0.2, "0.2"])
def test_share_is_exact(share: Any) -> None:
    """A share given as text or float is an exact fraction, so ceil(share x n) is exact."""
    rules = Rules.from_mapping({"enterprise_min_share": share})
    assert rules.enterprise_min_share == Fraction(1, 5)
    assert rules.enterprise_required(5) == 1
    assert rules.enterprise_required(10) == 2
    assert rules.enterprise_required(15) == 3  # 0.2 * 15 == 3.0000000000000004 in floats
    assert rules.enterprise_required(6) == 2
    assert rules.as_dict()["enterprise_min_share"] == "1/5"


@given(k=st.integers(0, 100), n=st.integers(1, 60))
def test_share_from_decimal_is_exact(k: int, n: int) -> None:
    """Any two-decimal share gives the exact ceil(share x n)."""
    share = k / 100
    rules = Rules.from_mapping({"enterprise_min_share": share})
    assert rules.enterprise_required(n) == math.ceil(Fraction(k, 100) * n)


def test_rules_toml_share_float_exact(tmp_path: Path) -> None:
    """A float share in rules.toml is exact too (0.2 x 15 = 3)."""
    folder = build(tmp_path / "b", rule("enterprise_min_share = 0.2"), rule("panel_size = 15"))
    problem = em.load(folder)
    assert problem.enterprise_required.tolist() == [3, 3]


def test_rules_argument_overrides_folder_rules(tmp_path: Path) -> None:
    """The rules argument (file, path, mapping or Rules) replaces the folder's rules."""
    folder = build(tmp_path / "b")
    assert em.load(folder).rules.panel_size == 2
    other = tmp_path / "other.toml"
    other.write_text('panel_size = 3\nenterprise_min_share = "1/2"\n', encoding="utf-8")
    for rules in (other, str(other)):
        problem = em.load(folder, rules=rules)
        assert problem.rules == Rules.from_file(other)
        assert problem.project_panel_size.tolist() == [3, 3]
        assert problem.enterprise_required.tolist() == [2, 2]
    assert em.load(folder, rules={"panel_size": 4}).rules.panel_size == 4
    assert em.load(folder, rules=Rules(panel_size=1)).rules.panel_size == 1


def test_row_values_override_rules(tmp_path: Path) -> None:
    """A project's panel_size and an expert's max_load override the rules."""
    folder = build(
        tmp_path / "b",
        cell("projects", 1, "panel_size", "3"),
        cell("experts", 1, "max_load", "1"),
        cell("experts", 4, "max_load", "0"),
        rule("max_load = 4"),
    )
    problem = em.load(folder)
    assert problem.project_panel_size.tolist() == [2, 3]
    assert problem.expert_max_load.tolist() == [4, 1, 2, 4, 0]  # E3's row says 2
    assert problem.enterprise_required.tolist() == [1, 1]
    # yearly_cap - used caps the capacity too (E2 used 1 of 10 but max_load 1)
    assert problem.expert_capacity.tolist() == [4, 1, 2, 4, 0]
    assert problem.with_rules({"yearly_cap": 2}).expert_capacity.tolist() == [2, 1, 2, 2, 0]

"""Stages (``[stage.NAME]``, the projects' ``stage`` and ``enterprise_min`` columns) and quotas
(``[[quota]]``), part 2 of the data contract.

First how the rules are read (stage names and aliases, dotted keys, shares, quota errors, a
quota on a column experts.csv lacks, the chair refused at solve). Then each stage override and
each kind of quota alone, on batches small enough to check the panels by hand: scores are
supplied so that the unconstrained optimum breaks the rule under test. Every solved panel is
checked with ``em.verify``, and verify is shown to flag a hand-made assignment that breaks the
rule, by rule name and project.
"""

from __future__ import annotations

import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import expertmatch as em
from expertmatch import Rules
from expertmatch.domain.rules import Chair, Quota, StageRules, parse_share, stage_name
from tests.batches import find_issue

#: Rules that stay out of the way unless a test turns one on.
NEUTRAL = {
    "panel_size": 3,
    "enterprise_min_share": 0,
    "max_per_org": 1,
    "coverage_level": 0,
    "max_load": 6,
    "yearly_cap": 10,
}

FINANCE = {"name": "财务专家", "attribute": "roles", "values": ["finance"]}


def expert(eid: str, kind: str = "university", org: str | None = None, **extra: Any) -> dict:
    """An expert in an organization of their own (unless ``org``), fields 1.1.1."""
    return {
        "id": eid,
        "organization": org or f"O{eid}",
        "org_type": kind,
        "fields": "1.1.1",
        **extra,
    }


def project(pid: str, stage: str = "", **extra: Any) -> dict:
    return {"id": pid, "organization": "X", "fields": "1.1.1", "stage": stage, **extra}


def scored(table: dict[str, dict[str, float]]) -> list[dict]:
    """``{project: {expert: score}}`` as scores.csv rows (an absent pair scores 0)."""
    return [
        {"project": p, "expert": e, "score": s} for p, row in table.items() for e, s in row.items()
    ]


def batch(
    experts: list[dict],
    projects: list[dict],
    scores: dict[str, dict[str, float]],
    **rules: Any,
) -> em.Problem:
    return em.from_tables(
        experts=experts, projects=projects, scores=scored(scores), rules={**NEUTRAL, **rules}
    )


def solve(problem: em.Problem) -> em.Result:
    result = em.assign(problem, time_limit=30)
    assert em.verify(problem, result) == []
    assert result.status == "optimal"
    return result


def panel(result: em.Result, project: str) -> set[str]:
    return set(result.panels[project])


def flagged(problem: em.Problem, panels: dict[str, list[str]]) -> set[tuple[str, str | None]]:
    """(rule, project) of every violation verify finds in the hand-made ``panels``."""
    pairs = [(p, e) for p, members in panels.items() for e in members]
    return {(v.rule, v.project) for v in em.verify(problem, pairs)}


def same_scores(experts: list[str], projects: list[str], top: float = 20) -> dict:
    """Every project ranks the experts alike: the first listed scores ``top``, then one less."""
    return {p: {e: top - i for i, e in enumerate(experts)} for p in projects}


# -- reading the rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "stage"),
    [
        ("approval", "approval"),
        ("midterm", "midterm"),
        ("acceptance", "acceptance"),
        ("Acceptance", "acceptance"),
        ("立项", "approval"),
        ("中期", "midterm"),
        ("验收", "acceptance"),
        ("结题", "acceptance"),
        ("结题验收", "acceptance"),
        ("", "approval"),
        (" 结题 ", "acceptance"),
        ("final", None),
    ],
)
def test_stage_names_and_aliases(name: str, stage: str | None) -> None:
    assert stage_name(name) == stage


def test_stage_tables_read_aliases_and_every_key() -> None:
    """A [stage.NAME] table under an alias is the stage's; each of its keys is read."""
    rules = Rules.from_mapping(
        {
            "stage": {
                "结题验收": {
                    "panel_size": 7,
                    "enterprise_min_share": "2/5",
                    "max_per_org": 2,
                    "coverage_level": 1,
                    "min_score": -1.5,
                    "enterprise_target_share": "1/2",
                },
                "中期": {"panel_size": "4"},
            }
        }
    )
    assert rules.stage == {
        "acceptance": StageRules(
            panel_size=7,
            enterprise_min_share=Fraction(2, 5),
            max_per_org=2,
            coverage_level=1,
            min_score=-1.5,
            enterprise_target_share=Fraction(1, 2),
        ),
        "midterm": StageRules(panel_size=4),
    }
    assert rules.value("panel_size", "acceptance") == 7
    assert rules.value("panel_size", "midterm") == 4
    assert rules.value("panel_size", "approval") == 5  # the batch's rule
    assert rules.value("min_score", "acceptance") == -1.5
    assert rules.as_dict()["stage"]["acceptance"]["enterprise_min_share"] == "2/5"


def test_unknown_stage_and_unknown_stage_key_are_named() -> None:
    with pytest.raises(em.InputError) as err:
        Rules.from_mapping(
            {"stage": {"review": {"panel_size": 3}, "acceptance": {"max_load": 3}}},
            source="rules.toml",
        )
    find_issue(err.value, "rules.toml", r"unknown stage 'review'.*approval, midterm, acceptance")
    issue = find_issue(err.value, "rules.toml", r"a stage cannot set 'max_load'")
    assert issue.column == "stage.acceptance.max_load"
    assert "panel_size" in issue.message  # says what a stage may set


def test_stage_values_are_checked_like_the_batch_rules() -> None:
    with pytest.raises(em.InputError) as err:
        Rules.from_mapping(
            {"stage": {"acceptance": {"panel_size": 0, "enterprise_min_share": "3/2"}}}
        )
    find_issue(err.value, "rules.toml", "panel size must be at least 1")
    find_issue(err.value, "rules.toml", "between 0 and 1")


def test_dotted_keys_are_the_stage_tables() -> None:
    """The workbook's rules sheet writes ``stage.acceptance.panel_size``: the same rules."""
    dotted = Rules.from_mapping(
        {
            "panel_size": 5,
            "stage.acceptance.panel_size": 7,
            "stage.acceptance.enterprise_min_share": "2/5",
            "stage.立项.max_per_org": 2,
        }
    )
    nested = Rules.from_mapping(
        {
            "panel_size": 5,
            "stage": {
                "acceptance": {"panel_size": 7, "enterprise_min_share": "2/5"},
                "approval": {"max_per_org": 2},
            },
        }
    )
    assert dotted == nested
    problem = em.from_tables(
        experts=[expert("E1")],
        projects=[project("P1", "验收")],
        rules={"stage.acceptance.panel_size": 7},
    )
    assert list(problem.project_panel_size) == [7]


@pytest.mark.parametrize("share", [0.4, "0.4", "2/5", "40%", " 40 % ", Fraction(2, 5)])
def test_shares_in_every_spelling(share: Any) -> None:
    assert parse_share(share) == Fraction(2, 5)
    rules = Rules.from_mapping(
        {
            "enterprise_min_share": share,
            "stage": {"acceptance": {"enterprise_min_share": share}},
            "quota": [{**FINANCE, "min_share": share, "max_share": share}],
        }
    )
    assert rules.enterprise_min_share == Fraction(2, 5)
    assert rules.stage["acceptance"].enterprise_min_share == Fraction(2, 5)
    assert rules.quota[0].min_share == rules.quota[0].max_share == Fraction(2, 5)


@pytest.mark.parametrize("text", ["2026-01-03", "2026-01-03 00:00:00", "1月3日"])
def test_a_share_that_looks_like_a_date_gets_the_excel_hint(text: str) -> None:
    with pytest.raises(ValueError, match=r"Excel turns 1/3 into a date.*leading apostrophe"):
        parse_share(text)
    with pytest.raises(em.InputError) as err:
        Rules.from_mapping({"stage": {"acceptance": {"enterprise_min_share": text}}})
    issue = find_issue(err.value, "rules.toml", "Excel turns 1/3 into a date")
    assert issue.column == "stage.acceptance.enterprise_min_share"


def test_a_date_object_as_a_share_says_it_is_a_date() -> None:
    with pytest.raises(ValueError, match="is a date"):
        parse_share(datetime.date(2026, 1, 3))
    with pytest.raises(em.InputError) as err:
        Rules.from_mapping({"quota": [{**FINANCE, "min_share": datetime.date(2026, 1, 3)}]})
    find_issue(err.value, "rules.toml", "min_share: .* is a date")


@pytest.mark.parametrize("bad", ["four", "40%%", "1/0", True, float("nan"), [1]])
def test_a_share_that_is_not_one_says_how_to_write_it(bad: Any) -> None:
    with pytest.raises(ValueError, match=r'0\.4, "2/5" or "40%"'):
        parse_share(bad)


def test_a_quota_is_read_with_its_defaults_and_lists() -> None:
    rules = Rules.from_mapping(
        {
            "quota": [
                {**FINANCE, "min": 1},
                {
                    "attribute": "region",
                    "values": "省外；境外",  # a workbook cell: ;-separated, full-width too
                    "max": "2",
                    "stages": "acceptance;中期",
                    "scope": " Batch ",
                    "any_field": "是",
                },
            ]
        }
    )
    first, second = rules.quota
    assert first == Quota("财务专家", "roles", ("finance",), min=1)
    assert (first.stages, first.scope, first.any_field) == ((), "panel", False)
    assert second == Quota(
        "quota 2",
        "region",
        ("省外", "境外"),
        max=2,
        stages=("acceptance", "midterm"),
        scope="batch",
        any_field=True,
    )
    assert first.applies_to("approval") and not second.applies_to("approval")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"values": ["finance"], "min": 1}, "needs an attribute"),
        ({"attribute": "roles", "min": 1}, "needs values"),
        ({"attribute": "roles", "values": []}, "needs values"),
        ({"attribute": "roles", "values": ["finance"]}, "needs min, max, min_share or max_share"),
        ({**FINANCE, "min": 1, "scope": "project"}, "scope must be panel or batch, not 'project'"),
        ({**FINANCE, "min": -1}, "min must not be negative"),
        ({**FINANCE, "max_share": "150%"}, "max_share must be between 0 and 1"),
        ({**FINANCE, "min": 1.5}, "min: 1.5 is not a whole number"),
        ({**FINANCE, "min": 1, "stages": ["final"]}, "unknown stage"),
        ({**FINANCE, "min": 1, "any_field": "maybe"}, "is not true or false"),
        ({**FINANCE, "min": 1, "limit": 3}, "unknown quota key 'limit'"),
    ],
)
def test_quota_errors_are_named(entry: dict, message: str) -> None:
    with pytest.raises(em.InputError) as err:
        Rules.from_mapping({"quota": [{**FINANCE, "max": 9}, entry]})
    issue = find_issue(err.value, "rules.toml", message)
    assert issue.column == "quota 2"  # the second entry, the first is fine


def test_a_quota_on_a_column_experts_csv_lacks_is_an_input_error_naming_it() -> None:
    """A misspelt attribute must not silently count nobody (nor crash with a KeyError): an
    InputError from from_tables or at the latest from assign, naming the column."""
    quota = {"name": "财务专家", "attribute": "rolez", "values": ["finance"], "min": 1}
    experts = [expert(f"E{i}", roles="finance" if i == 1 else "") for i in range(1, 5)]
    scores = same_scores(["E1", "E2", "E3", "E4"], ["P1"])
    with pytest.raises(em.InputError, match="rolez") as err:
        em.assign(batch(experts, [project("P1")], scores, quota=[quota]))
    assert "roles" in str(err.value)  # the columns it does have


#: Quotas asking for more members than they allow: min above max, a batch minimum above the
#: seats it counts, a batch quota whose stages have no project (0 seats).
MIN_ABOVE_MAX = {"min>max": {**FINANCE, "min": 1, "max": 0}}
BATCH_MIN_ABOVE_SEATS = {
    "batch min>seats": {**FINANCE, "min": 2, "scope": "batch"},
    "no seats": {**FINANCE, "min": 1, "scope": "batch", "stages": ["midterm"]},
}
CONTRADICTORY = {**MIN_ABOVE_MAX, **BATCH_MIN_ABOVE_SEATS}
def _contradiction(quota: dict) -> em.Problem:
    """One approval panel of 1; E1 (finance) scores 2, E2 scores 1."""
    experts = [expert("E1", roles="finance"), expert("E2", roles="")]
    return batch(experts, [project("P1")], {"P1": {"E1": 2, "E2": 1}}, panel_size=1, quota=[quota])


def _fine(cases: dict[str, dict]) -> list[Any]:
    return [pytest.param(q, id=name) for name, q in cases.items()]


@pytest.mark.parametrize("quota", _fine(CONTRADICTORY))
def test_verify_flags_a_quota_whose_minimum_exceeds_its_maximum(quota: dict) -> None:
    """No panel can hold such a quota: verify flags both possible assignments."""
    problem = _contradiction(quota)
    for member in ("E1", "E2"):
        assert {v.rule for v in em.verify(problem, [("P1", member)])} == {"quota"}


@pytest.mark.parametrize("quota", _fine(CONTRADICTORY))
def test_a_quota_whose_minimum_exceeds_its_maximum_is_infeasible(quota: dict) -> None:
    with pytest.raises(em.InfeasibleError, match="quota") as err:
        em.assign(_contradiction(quota))
    assert any(c.rule == "quota" for c in err.value.clashes)


@pytest.mark.parametrize("quota", _fine(CONTRADICTORY))
def test_relax_bends_a_quota_whose_minimum_exceeds_its_maximum(quota: dict) -> None:
    problem = _contradiction(quota)
    result = em.assign(problem, relax=True)
    found = {(v.rule, v.project) for v in em.verify(problem, result)}
    assert found and found == {(b.rule, b.project) for b in result.bends}


def test_chair_is_read_and_each_panel_gets_one() -> None:
    """[chair]: one chair a panel, a member with the value, at most max_per_expert panels
    each. E3 and E4 are the only 正高级: each chairs one of the two panels."""
    rules = Rules.from_mapping(
        {"chair": {"attribute": "title", "values": ["正高级"], "stages": ["结题"]}}
    )
    assert rules.chair == Chair("title", ("正高级",), max_per_expert=1, stages=("acceptance",))
    names = ["E1", "E2", "E3", "E4", "E5"]
    experts = [expert(e, title="正高级" if e in ("E3", "E4") else "副高级") for e in names]
    problem = batch(
        experts,
        [project("P1"), project("P2")],
        same_scores(names, ["P1", "P2"]),
        chair={"attribute": "title", "values": ["正高级"]},
    )
    result = solve(problem)
    chairs = {problem.project_ids[p]: problem.expert_ids[e] for p, e in result.chairs.items()}
    assert sorted(chairs.values()) == ["E3", "E4"]
    assert all(chairs[p] in result.panels[p] for p in ("P1", "P2"))
    for p in ("P1", "P2"):  # the best panel but for its chair: E1, E2 and E3 or E4
        assert panel(result, p) == {"E1", "E2", chairs[p]}
    bad = {"P1": ["E1", "E2", "E5"], "P2": ["E1", "E2", "E3"]}
    assert flagged(problem, bad) == {("chair", "P1")}


def test_a_stage_max_probability_caps_only_its_projects() -> None:
    """Acceptance pairs at most 80% likely: PB's panel is drawn, PA keeps its best panel."""
    names = ["E1", "E2", "E3", "E4", "E5"]
    problem = batch(
        [expert(e) for e in names],
        [project("PA"), project("PB", "acceptance")],
        same_scores(names, ["PA", "PB"]),
        stage={"acceptance": {"max_probability": 0.8}},
    )
    assert list(problem.project_max_probability) == [1.0, 0.8]
    lot = em.lottery(problem)
    x = {
        (problem.project_ids[p], problem.expert_ids[e]): v
        for p, e, v in zip(lot.pairs.project, lot.pairs.expert, lot.x, strict=True)
    }
    assert max(v for (p, _), v in x.items() if p == "PB") <= 0.8 + 1e-9
    # PA: its best panel (57); PB: E1-E3 at 0.8 each and E4 at 0.6 (16 + 15.2 + 14.4 + 10.2).
    assert lot.expected_objective == pytest.approx(57 + 55.8, abs=1e-6)
    for seed in range(4):
        draw = em.assign(problem, seed=seed)
        assert em.verify(problem, draw) == []
        assert panel(draw, "PA") == {"E1", "E2", "E3"}


def test_projects_stage_and_enterprise_min_columns() -> None:
    """The stage column reads English and Chinese names (empty: approval); enterprise_min is a
    count, capped at the panel size."""
    stages = ["", "approval", "立项", "midterm", "中期", "验收", "结题", "结题验收", "acceptance"]
    projects = [project(f"P{i}", s, enterprise_min=i % 3 or "") for i, s in enumerate(stages)]
    experts = [expert(f"E{i}") for i in range(1, 4)]
    problem = em.from_tables(experts=experts, projects=projects, rules=NEUTRAL)
    assert problem.stages == ("approval",) * 3 + ("midterm",) * 2 + ("acceptance",) * 4
    assert list(problem.project_enterprise_min_given) == [-1, 1, 2, -1, 1, 2, -1, 1, 2]
    big = em.from_tables(experts=experts, projects=[project("P1", enterprise_min=9)], rules=NEUTRAL)
    assert list(big.enterprise_required) == [3]


def test_an_unknown_stage_in_projects_csv_names_row_and_column() -> None:
    experts = [expert(f"E{i}") for i in range(1, 4)]
    with pytest.raises(em.InputError) as err:
        em.from_tables(experts=experts, projects=[project("P1"), project("P2", "终审")])
    issue = find_issue(err.value, "projects", "unknown stage '终审'", column="stage")
    assert issue.row == 2  # records count from 1


def test_expert_attributes_roles_title_region_and_any_other_column() -> None:
    experts = [
        expert("E1", roles="finance;management", title="正高级", region="省内", 党员="是"),
        expert("E2", kind="enterprise", roles="", title="中级", region="省外", 党员=""),
    ]
    problem = em.from_tables(experts=experts, projects=[project("P1")], rules=NEUTRAL)
    assert problem.attribute("roles") == (("finance", "management"), ())
    assert problem.attribute("title") == (("正高级",), ("中级",))
    assert problem.attribute("党员") == (("是",), ())
    assert problem.attribute("org_type") == (("university",), ("enterprise",))
    assert list(problem.has_value("roles", ("management", "audit"))) == [True, False]
    assert list(problem.has_value("org_type", ("enterprise",))) == [False, True]


def test_rules_toml_with_stages_and_quotas(tmp_path: Path) -> None:
    """The contract's own examples, as a rules.toml."""
    path = tmp_path / "rules.toml"
    path.write_text(
        """
[stage.acceptance]
panel_size = 7
enterprise_min_share = "2/5"

[[quota]]
name = "财务专家"
attribute = "roles"
values = ["finance"]
min = 1
stages = ["acceptance"]
scope = "panel"
any_field = true
""",
        encoding="utf-8",
    )
    rules = Rules.from_file(path)
    assert rules.stage["acceptance"] == StageRules(
        panel_size=7, enterprise_min_share=Fraction(2, 5)
    )
    assert rules.quota == (
        Quota("财务专家", "roles", ("finance",), min=1, stages=("acceptance",), any_field=True),
    )


# -- each stage override alone -----------------------------------------------------------------


def test_acceptance_panel_size_7_approval_keeps_5() -> None:
    names = [f"E{i}" for i in range(1, 11)]
    problem = batch(
        [expert(e) for e in names],
        [project("PA"), project("PB", "验收")],
        same_scores(names, ["PA", "PB"]),
        panel_size=5,
        stage={"acceptance": {"panel_size": 7}},
    )
    assert list(problem.project_panel_size) == [5, 7]
    result = solve(problem)
    assert panel(result, "PA") == set(names[:5])
    assert panel(result, "PB") == set(names[:7])
    # A project's own panel_size still wins over its stage's.
    own = batch(
        [expert(e) for e in names],
        [project("PB", "acceptance", panel_size=4)],
        same_scores(names, ["PB"]),
        stage={"acceptance": {"panel_size": 7}},
    )
    assert list(own.project_panel_size) == [4]
    # verify counts 7 seats for the acceptance project.
    assert flagged(problem, {"PA": names[:5], "PB": names[:5]}) == {("panel_size", "PB")}


def test_enterprise_min_share_per_stage() -> None:
    """Batch share 0; acceptance 2/5 of 5 = 2 enterprise experts (they score lowest)."""
    names = ["U1", "U2", "U3", "U4", "U5", "C1", "C2", "C3"]
    experts = [expert(e, "enterprise" if e[0] == "C" else "university") for e in names]
    problem = batch(
        experts,
        [project("PA", "approval"), project("PB", "acceptance")],
        same_scores(names, ["PA", "PB"]),
        panel_size=5,
        stage={"acceptance": {"enterprise_min_share": "2/5"}},
    )
    assert list(problem.enterprise_required) == [0, 2]
    result = solve(problem)
    assert panel(result, "PA") == {"U1", "U2", "U3", "U4", "U5"}
    assert panel(result, "PB") == {"U1", "U2", "U3", "C1", "C2"}
    bad = {"PA": ["U1", "U2", "U3", "U4", "U5"], "PB": ["U1", "U2", "U3", "U4", "C1"]}
    assert flagged(problem, bad) == {("enterprise_share", "PB")}
    # The same share for the approval project would flag it too.
    both = problem.with_rules({"enterprise_min_share": "2/5"})
    assert flagged(both, bad) == {("enterprise_share", "PA"), ("enterprise_share", "PB")}


def test_a_projects_enterprise_min_overrides_its_share() -> None:
    """P1 asks for 3 enterprise experts, P2 for none, P3 takes the share (1/3 of 3 = 1)."""
    names = ["U1", "U2", "U3", "C1", "C2", "C3"]
    experts = [expert(e, "enterprise" if e[0] == "C" else "university") for e in names]
    problem = batch(
        experts,
        [project("P1", enterprise_min=3), project("P2", enterprise_min=0), project("P3")],
        same_scores(names, ["P1", "P2", "P3"]),
        enterprise_min_share="1/3",
    )
    assert list(problem.enterprise_required) == [3, 0, 1]
    result = solve(problem)
    assert panel(result, "P1") == {"C1", "C2", "C3"}
    assert panel(result, "P2") == {"U1", "U2", "U3"}
    assert panel(result, "P3") == {"U1", "U2", "C1"}
    bad = {"P1": ["U1", "C1", "C2"], "P2": ["U1", "U2", "U3"], "P3": ["U1", "U2", "U3"]}
    assert flagged(problem, bad) == {("enterprise_share", "P1"), ("enterprise_share", "P3")}
    assert any("enterprise_min 3" in str(v) for v in em.verify(problem, _pairs(bad)))


def test_max_per_org_per_stage() -> None:
    """Batch cap 1; midterm 2. A1-A3 (one organization) score best."""
    names = ["A1", "A2", "A3", "B", "C", "D"]
    experts = [expert(e, org="OA" if e[0] == "A" else None) for e in names]
    problem = batch(
        experts,
        [project("PA", "approval"), project("PM", "中期")],
        same_scores(names, ["PA", "PM"]),
        stage={"midterm": {"max_per_org": 2}},
    )
    assert list(problem.project_max_per_org) == [1, 2]
    result = solve(problem)
    assert panel(result, "PA") == {"A1", "B", "C"}
    assert panel(result, "PM") == {"A1", "A2", "B"}
    bad = {"PA": ["A1", "A2", "B"], "PM": ["A1", "A2", "A3"]}
    assert flagged(problem, bad) == {("max_per_org", "PA"), ("max_per_org", "PM")}
    assert flagged(problem, {"PA": ["A1", "B", "C"], "PM": ["A1", "A2", "C"]}) == set()


def test_coverage_level_per_stage() -> None:
    """Coverage off for the batch, level 1 for acceptance: its panel needs a 2.* expert."""
    experts = [
        expert("E1"),
        expert("E2"),
        expert("E3"),
        {**expert("F"), "fields": "2.5.1"},
    ]
    projects = [
        {**project("PA"), "fields": "1.1.1;2.1.1"},
        {**project("PB", "acceptance"), "fields": "1.1.1;2.1.1"},
    ]
    problem = batch(
        experts,
        projects,
        same_scores(["E1", "E2", "E3", "F"], ["PA", "PB"]),
        stage={"acceptance": {"coverage_level": 1}},
    )
    assert list(problem.project_coverage_level) == [0, 1]
    result = solve(problem)
    assert panel(result, "PA") == {"E1", "E2", "E3"}
    assert panel(result, "PB") == {"E1", "E2", "F"}
    assert flagged(problem, {"PA": ["E1", "E2", "E3"], "PB": ["E1", "E2", "E3"]}) == {
        ("coverage", "PB")
    }
    # At level 2, 2.5.1 no longer covers 2.1.1: nobody can, the batch is infeasible.
    deeper = problem.with_rules({"stage": {"acceptance": {"coverage_level": 2}}})
    with pytest.raises(em.InfeasibleError, match="PB"):
        em.assign(deeper)


def test_min_score_per_stage() -> None:
    """Acceptance min_score 5: only E1 and E2 may review PB, although E3, E4 fit it better
    for the total; each expert reviews once."""
    names = ["E1", "E2", "E3", "E4"]
    scores = {
        "PA": {"E1": 10, "E2": 9, "E3": 1, "E4": 1},
        "PB": {"E1": 6, "E2": 6, "E3": 4, "E4": 4},
    }
    base = batch(
        [expert(e) for e in names],
        [project("PA"), project("PB", "acceptance")],
        scores,
        panel_size=2,
        max_load=1,
    )
    free = solve(base)
    assert (panel(free, "PA"), panel(free, "PB")) == ({"E1", "E2"}, {"E3", "E4"})
    problem = base.with_rules({"stage": {"acceptance": {"min_score": 5}}})
    assert list(problem.project_min_score) == [0, 5]
    result = solve(problem)
    assert (panel(result, "PA"), panel(result, "PB")) == ({"E3", "E4"}, {"E1", "E2"})
    assert flagged(problem, {"PA": ["E1", "E2"], "PB": ["E3", "E4"]}) == {("min_score", "PB")}
    pairs = {(v.project, v.expert) for v in em.verify(problem, [("PB", "E3"), ("PB", "E4")])}
    assert {("PB", "E3"), ("PB", "E4")} <= pairs


def test_a_negative_min_score_admits_zero_score_pairs() -> None:
    """Absent pairs score 0: not above min_score 0, but above the approval stage's -1."""
    names = ["E1", "E2", "E3", "E4"]
    scores = {"PA": {"E1": 5}, "PB": {"E1": 5}}
    problem = batch(
        [expert(e) for e in names],
        [project("PA", "立项"), project("PB", "acceptance")],
        scores,
        panel_size=2,
        stage={"approval": {"min_score": -1}},
    )
    assert list(problem.project_min_score) == [-1, 0]
    assert em.why_ineligible(problem, "E2", "PA") == []
    assert "min_score" in " ".join(em.why_ineligible(problem, "E2", "PB"))
    with pytest.raises(em.InfeasibleError):  # PB has one eligible expert for two seats
        em.assign(problem)
    only_a = batch(
        [expert(e) for e in names],
        [project("PA", "立项")],
        {"PA": scores["PA"]},
        panel_size=2,
        stage={"approval": {"min_score": -1}},
    )
    result = solve(only_a)
    assert "E1" in panel(result, "PA") and len(panel(result, "PA")) == 2
    assert flagged(problem, {"PA": ["E1", "E2"], "PB": ["E1", "E2"]}) == {("min_score", "PB")}


def test_a_stage_enterprise_target_share() -> None:
    """Acceptance target 1/2 of its 4 seats = 2 enterprise reviews, wherever they sit."""
    names = ["U1", "U2", "U3", "C1", "C2"]
    experts = [expert(e, "enterprise" if e[0] == "C" else "university") for e in names]
    problem = batch(
        experts,
        [project("PA"), project("PB", "acceptance"), project("PC", "acceptance")],
        {
            "PA": {"U1": 9, "U2": 9, "C1": 1, "C2": 1},
            "PB": {"U1": 9, "U2": 9, "U3": 5, "C1": 4, "C2": 1},
            "PC": {"U1": 9, "U2": 9, "U3": 5, "C1": 1, "C2": 4},
        },
        panel_size=2,
        stage={"acceptance": {"enterprise_target_share": "1/2"}},
    )
    result = solve(problem)
    # PB and PC each take their better enterprise expert (9 + 4 each) rather than one panel
    # of two enterprise experts (18 + 5).
    assert panel(result, "PA") == {"U1", "U2"}
    assert panel(result, "PB") - {"U1", "U2"} == {"C1"}
    assert panel(result, "PC") - {"U1", "U2"} == {"C2"}
    assert result.objective == 18 + 13 + 13
    bad = {"PA": ["C1", "C2"], "PB": ["U1", "U2"], "PC": ["U1", "C2"]}
    assert flagged(problem, bad) == {("enterprise_target_share", None)}


# -- each quota kind alone ---------------------------------------------------------------------


def _pairs(panels: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(p, e) for p, members in panels.items() for e in members]


def test_panel_quota_min() -> None:
    """At least one finance expert per panel: F (the lowest score) joins."""
    names = ["E1", "E2", "E3", "E4", "F"]
    experts = [expert(e, roles="finance;audit" if e == "F" else "management") for e in names]
    problem = batch(
        experts, [project("P1")], same_scores(names, ["P1"]), quota=[{**FINANCE, "min": 1}]
    )
    assert panel(solve(problem), "P1") == {"E1", "E2", "F"}
    assert flagged(problem, {"P1": ["E1", "E2", "E3"]}) == {("quota", "P1")}
    message = str(em.verify(problem, _pairs({"P1": ["E1", "E2", "E3"]}))[0])
    assert "财务专家" in message and "needs 1 to 3" in message
    two = problem.with_rules({"quota": [{**FINANCE, "min": 2}]})
    with pytest.raises(em.InfeasibleError, match="财务专家"):
        em.assign(two)


def test_panel_quota_max() -> None:
    """At most one 省外 member: the best 省外 expert, then the best 省内 ones."""
    names = ["W1", "W2", "W3", "N1", "N2"]
    experts = [expert(e, region="省外" if e[0] == "W" else "省内") for e in names]
    quota = {"name": "省外", "attribute": "region", "values": ["省外"], "max": 1}
    problem = batch(experts, [project("P1")], same_scores(names, ["P1"]), quota=[quota])
    assert panel(solve(problem), "P1") == {"W1", "N1", "N2"}
    assert flagged(problem, {"P1": ["W1", "W2", "N1"]}) == {("quota", "P1")}
    assert flagged(problem, {"P1": ["N1", "N2", "W3"]}) == set()


def test_panel_quota_on_org_type() -> None:
    """org_type is an attribute: at most one enterprise member, even with a share of 1/2."""
    names = ["C1", "C2", "C3", "U1", "U2"]
    experts = [expert(e, "enterprise" if e[0] == "C" else "university") for e in names]
    quota = {"name": "企业上限", "attribute": "org_type", "values": ["enterprise"], "max": 1}
    problem = batch(
        experts, [project("P1")], same_scores(names, ["P1"]), panel_size=2, quota=[quota]
    )
    assert panel(solve(problem), "P1") == {"C1", "U1"}
    clash = problem.with_rules({"enterprise_min_share": "1"})  # 2 enterprise, at most 1
    with pytest.raises(em.InfeasibleError):
        em.assign(clash)


def test_panel_quota_min_share_and_max_share() -> None:
    """min_share 50% of 5 = ceil(2.5) = 3 正高级; max_share 2/5 of 5 = 2 from 省外."""
    names = ["A1", "A2", "A3", "A4", "A5", "S1", "S2", "S3", "S4"]
    outside = {"A1", "A2", "A3", "S1"}
    experts = [
        expert(
            e,
            title="正高级" if e[0] == "S" else "副高级",
            region="省外" if e in outside else "省内",
        )
        for e in names
    ]
    shares = [
        {"name": "正高", "attribute": "title", "values": ["正高级"], "min_share": "50%"},
        {"name": "外省", "attribute": "region", "values": ["省外"], "max_share": 0.4},
    ]
    problem = batch(
        experts, [project("P1")], same_scores(names, ["P1"]), panel_size=5, quota=shares[:1]
    )
    assert panel(solve(problem), "P1") == {"A1", "A2", "S1", "S2", "S3"}
    assert flagged(problem, {"P1": ["A1", "A2", "A3", "S1", "S2"]}) == {("quota", "P1")}
    both = problem.with_rules({"quota": shares})
    # Scores A1..A5 = 20..16, S1..S4 = 15..12. At least 3 of S1-S4 and at most 2 of the 省外
    # A1, A2, A3, S1: S1 S2 S3 + A1 A4 = 79 beats S2 S3 S4 + A1 A2 = 78 and S1-S4 + A1 = 74.
    result = solve(both)
    assert panel(result, "P1") == {"A1", "A4", "S1", "S2", "S3"}
    assert result.objective == 79
    assert flagged(both, {"P1": ["A1", "A2", "S1", "S2", "S3"]}) == {("quota", "P1")}


def test_batch_quota_min_share() -> None:
    """1/2 of all 6 seats go to 省内 experts (3), wherever they fit best; a panel quota with
    the same share would need ceil(1.5) = 2 on each panel."""
    names = ["W1", "W2", "W3", "N1", "N2", "N3"]
    experts = [expert(e, region="省外" if e[0] == "W" else "省内") for e in names]
    scores = {
        "P1": {"W1": 10, "W2": 10, "W3": 10, "N1": 5, "N2": 1, "N3": 5},
        "P2": {"W1": 10, "W2": 10, "W3": 10, "N1": 1, "N2": 5, "N3": 1},
    }
    quota = {
        "name": "省内",
        "attribute": "region",
        "values": ["省内"],
        "min_share": "1/2",
        "scope": "batch",
    }
    problem = batch(experts, [project("P1"), project("P2")], scores, quota=[quota])
    result = solve(problem)
    assert panel(result, "P1") & {"N1", "N2", "N3"} == {"N1", "N3"}
    assert panel(result, "P2") & {"N1", "N2", "N3"} == {"N2"}
    assert result.objective == 10 + 5 + 5 + 10 + 10 + 5
    bad = {"P1": ["W1", "N1", "N3"], "P2": ["W1", "W2", "W3"]}
    assert flagged(problem, bad) == {("quota", None)}  # a batch quota names no project
    assert "2 of 6 seats" in str(em.verify(problem, _pairs(bad))[0])
    per_panel = problem.with_rules({"quota": [{**quota, "scope": "panel"}]})
    assert flagged(per_panel, {"P1": ["W1", "N1", "N3"], "P2": ["W1", "W2", "N2"]}) == {
        ("quota", "P2")
    }


def test_batch_quota_counts_only_its_stages() -> None:
    """At most 1 省外 seat over the acceptance seats; approval panels are not counted."""
    names = ["W1", "W2", "N1", "N2"]
    experts = [expert(e, region="省外" if e[0] == "W" else "省内") for e in names]
    quota = {
        "attribute": "region",
        "values": ["省外"],
        "max": 1,
        "scope": "batch",
        "stages": ["acceptance"],
    }
    problem = batch(
        experts,
        [project("PA"), project("PB", "验收"), project("PC", "结题")],
        same_scores(names, ["PA", "PB", "PC"]),
        panel_size=2,
        quota=[quota],
    )
    result = solve(problem)
    assert panel(result, "PA") == {"W1", "W2"}
    on_acceptance = [e for p in ("PB", "PC") for e in result.panels[p] if e[0] == "W"]
    assert on_acceptance == ["W1"] or on_acceptance == ["W2"]
    assert flagged(problem, {"PA": ["W1", "W2"], "PB": ["W1", "N1"], "PC": ["W2", "N2"]}) == {
        ("quota", None)
    }


def test_a_quota_restricted_to_a_stage() -> None:
    """The finance quota applies to acceptance panels only (stages given as 结题)."""
    names = ["E1", "E2", "E3", "F"]
    experts = [expert(e, roles="finance" if e == "F" else "") for e in names]
    problem = batch(
        experts,
        [project("PA"), project("PM", "midterm"), project("PB", "acceptance")],
        same_scores(names, ["PA", "PM", "PB"]),
        quota=[{**FINANCE, "min": 1, "stages": ["结题"]}],
    )
    result = solve(problem)
    assert panel(result, "PA") == panel(result, "PM") == {"E1", "E2", "E3"}
    assert panel(result, "PB") == {"E1", "E2", "F"}
    bad = {"PA": ["E1", "E2", "E3"], "PM": ["E1", "E2", "E3"], "PB": ["E1", "E2", "E3"]}
    assert flagged(problem, bad) == {("quota", "PB")}


def test_any_field_makes_a_zero_score_expert_eligible_only_for_its_stages() -> None:
    """F scores 0 everywhere (absent from scores.csv). With ``any_field`` the acceptance
    quota makes F eligible for the acceptance project, not for the approval one."""
    names = ["E1", "E2", "E3", "F"]
    experts = [expert(e, roles="finance" if e == "F" else "") for e in names]
    scores = {p: {"E1": 9, "E2": 8, "E3": 7} for p in ("PA", "PB")}
    quota = {**FINANCE, "min": 1, "stages": ["acceptance"]}
    projects = [project("PA"), project("PB", "acceptance")]
    without = batch(experts, projects, scores, quota=[quota])
    with pytest.raises(em.InfeasibleError):
        em.assign(without)  # F is not eligible: a score of 0 is not above min_score 0
    assert em.why_ineligible(without, "F", "PB") != []

    problem = batch(experts, projects, scores, quota=[{**quota, "any_field": True}])
    assert em.why_ineligible(problem, "F", "PB") == []
    assert "min_score" in " ".join(em.why_ineligible(problem, "F", "PA"))
    pairs = em.eligible_pairs(problem)
    eligible = {
        (problem.project_ids[p], problem.expert_ids[e])
        for p, e in zip(pairs.project, pairs.expert, strict=True)
    }
    assert ("PB", "F") in eligible and ("PA", "F") not in eligible
    result = solve(problem)
    assert panel(result, "PA") == {"E1", "E2", "E3"}
    assert panel(result, "PB") == {"E1", "E2", "F"}
    assert result.objective == 9 + 8 + 7 + 9 + 8 + 0
    # verify accepts F on PB whatever the score, and flags F on PA by min_score.
    assert flagged(problem, {"PA": ["E1", "E2", "F"], "PB": ["E1", "E2", "F"]}) == {
        ("min_score", "PA")
    }


def test_any_field_does_not_override_conflicts() -> None:
    """A finance expert from the applicant's organization stays out."""
    names = ["E1", "E2", "E3", "F"]
    experts = [expert(e, roles="finance" if e == "F" else "") for e in names]
    experts[3]["organization"] = "X"  # the applicant
    quota = {**FINANCE, "min": 1, "any_field": True}
    problem = batch(experts, [project("P1")], {"P1": {"E1": 9, "E2": 8, "E3": 7}}, quota=[quota])
    assert any("same_org" in r for r in em.why_ineligible(problem, "F", "P1"))
    with pytest.raises(em.InfeasibleError):
        em.assign(problem)
    assert ("conflict", "P1") in flagged(problem, {"P1": ["E1", "E2", "F"]})


def test_stage_and_quota_rules_in_the_result_report() -> None:
    names = ["E1", "E2", "E3", "F"]
    experts = [expert(e, roles="finance" if e == "F" else "") for e in names]
    problem = batch(
        experts,
        [project("PB", "acceptance")],
        same_scores(names, ["PB"]),
        stage={"acceptance": {"enterprise_min_share": "0%"}},
        quota=[{**FINANCE, "min": 1}],
    )
    rules = problem.rules.as_dict()
    assert rules["stage"] == {"acceptance": {"enterprise_min_share": "0"}}
    assert rules["quota"][0]["values"] == ["finance"]
    assert panel(solve(problem), "PB") == {"E1", "E2", "F"}


def test_with_rules_keeps_stages_and_quotas_and_merges_dotted_keys() -> None:
    names = ["E1", "E2", "E3", "F"]
    experts = [expert(e, roles="finance" if e == "F" else "") for e in names]
    problem = batch(
        experts,
        [project("PB", "acceptance")],
        same_scores(names, ["PB"]),
        stage={"acceptance": {"enterprise_min_share": "2/5"}},
        quota=[{**FINANCE, "min": 1}],
    )
    more = problem.with_rules({"stage.acceptance.panel_size": 4, "max_load": 3})
    assert more.rules.stage["acceptance"] == StageRules(
        panel_size=4, enterprise_min_share=Fraction(2, 5)
    )
    assert more.rules.quota == problem.rules.quota
    assert list(more.project_panel_size) == [4]

"""Rules across the batch with meetings (会评): the round's and a stage's enterprise target,
batch quotas, and one chair rule over meeting groups and per-project panels. A meeting seat
counts one seat of its group's stage (``Problem.seats``, ``domain/meetings.py`` ``seat_list``);
each rule alone, against brute force on tiny batches, caught by ``verify`` in hand-made
assignments, named when it cannot hold (:mod:`expertmatch.solvers.meetings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch import synthetic
from expertmatch.vocabulary import Rule
from tests.meeting_batches import (
    MEETING_EXPERTS,
    MEETING_PROJECTS,
    all_mixed,
    all_seatings,
    meeting_batch,
    mixed_batch,
    seated_frame,
)

#: The four-project batch's optimal seating without rules across the batch: two enterprise
#: seats (E2, E3), three 正高级 seats (E3, E4, E7).
GOOD = {"G1": ("E2", "E4", "E5"), "G2": ("E3", "E6", "E7")}
SENIOR = {"name": "senior", "attribute": "title", "values": ["正高级"], "scope": "batch"}
CHAIR = {"attribute": "title", "values": ["正高级"]}


def _seats(result: em.Result, wanted: Any) -> int:
    """Seats held by experts for whom ``wanted(expert index)`` holds: group seats and
    per-project panel members."""
    p = result.problem
    return sum(1 for _, e in result.seat_list() if wanted(e)) if p.has_meetings else 0


def _enterprise(result: em.Result) -> int:
    return _seats(result, lambda e: result.problem.expert_enterprise[e])


def _staged() -> list[dict[str, Any]]:
    """The four projects, G1 at approval and G2 at acceptance."""
    stages = {"G1": "approval", "G2": "acceptance"}
    return [{**p, "stage": stages[p["group"]]} for p in MEETING_PROJECTS]


# -- each rule alone -----------------------------------------------------------------------------


def test_round_target_counts_meeting_seats() -> None:
    """The optimum seats two enterprise experts of six; a round target of 1/2 needs three
    seats (a seat counts one, not one per project reviewed): met, optimal, verified."""
    assert _enterprise(em.assign(meeting_batch())) == 2
    problem = meeting_batch(rules={"enterprise_target_share": "1/2"})
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    assert result.status == em.Status.OPTIMAL
    assert _enterprise(result) >= 3


def test_stage_target_counts_its_groups_seats() -> None:
    """[stage.acceptance] enterprise_target_share 2/3: G2 (acceptance) seats two enterprise
    experts of its three; G1 (approval) is not held to it."""
    rules = {"stage": {"acceptance": {"enterprise_target_share": "2/3"}}}
    problem = meeting_batch(projects=_staged(), rules=rules)
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    g2 = next(g for g in result.groups if g.id == "G2")
    assert sum(bool(problem.expert_enterprise[e]) for e in g2.panel) >= 2


@pytest.mark.parametrize(
    ("bound", "holds"),
    [
        ({"values": ["正高级"], "min": 4}, lambda n: n >= 4),
        ({"values": ["副高级"], "max": 2}, lambda n: n <= 2),
    ],
    ids=["min", "max"],
)
def test_batch_quota_counts_meeting_seats(bound: dict, holds: Any) -> None:
    """A batch quota on titles (the optimum seats three 正高级 and three 副高级 of six): at
    least four 正高级, or at most two 副高级, of all seats; report.json's quota summary
    counts the same seats."""
    problem = meeting_batch(rules={"quota": [{**SENIOR, **bound}]})
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    counted = _seats(result, lambda e: problem.has_value("title", tuple(bound["values"]))[e])
    assert holds(counted)
    (entry,) = result.report()["summary"]["quotas"]
    assert entry["seats"] == 6 and entry["count"] == counted


def test_one_chair_over_a_group_and_a_panel() -> None:
    """Only E7 may chair; G1 and the panel Q1 both need a chair: with max_per_expert 2 E7
    sits in both and chairs both (the cap counts them together), with 1 no assignment
    exists and the clash names the chair rule."""
    experts = [{**e, "title": "正高级" if e["id"] == "E7" else "副高级"} for e in MEETING_EXPERTS]
    problem = mixed_batch({"chair": {**CHAIR, "max_per_expert": 2}}, experts=experts)
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    e7 = problem.expert_index["E7"]
    assert result.groups[0].chair == e7 and result.chairs == {problem.project_index["Q1"]: e7}
    assert result.frame.query("expert == 'E7'")["role"].eq("chair").all()
    capped = mixed_batch({"chair": {**CHAIR, "max_per_expert": 1}}, experts=experts)
    with pytest.raises(em.InfeasibleError) as caught:
        em.assign(capped)
    assert [c.rule for c in caught.value.clashes] == [Rule.CHAIR]
    assert "at most 1 of them together" in caught.value.clashes[0].message


# -- brute force ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "rules",
    [
        {"enterprise_target_share": "1/2"},
        {"stage": {"acceptance": {"enterprise_target_share": "2/3"}}},
        {"quota": [{**SENIOR, "min": 4}]},
        {"quota": [{**SENIOR, "values": ["副高级"], "max": 2}]},
    ],
    ids=["round-target", "stage-target", "quota-min", "quota-max"],
)
def test_meetings_reach_the_brute_force_optimum(rules: dict) -> None:
    """Fixed groups under each rule across the batch (G1 at approval, G2 at acceptance):
    the optimum of every seating verify accepts, proven."""
    problem = meeting_batch(projects=_staged(), rules=rules)
    result = em.assign(problem)
    best = max(score for score, _ in all_seatings(problem))
    assert result.status == em.Status.OPTIMAL
    assert result.objective == pytest.approx(best) and result.bound == pytest.approx(best)


@pytest.mark.slow
@pytest.mark.parametrize(
    "rules",
    [
        {"enterprise_target_share": "3/5"},
        {"stage": {"approval": {"enterprise_target_share": "3/5"}}},
        {"quota": [{**SENIOR, "min": 4}]},
        {"quota": [{**SENIOR, "max": 1}]},
        {"chair": {**CHAIR, "max_per_expert": 1}},
        {"chair": {"attribute": "title", "values": ["副高级"], "max_per_expert": 1}},
    ],
    ids=["round-target", "stage-target", "quota-min", "quota-max", "chair", "chair-few"],
)
def test_mixed_batches_reach_the_brute_force_optimum(rules: dict) -> None:
    """A meeting group beside a per-project panel: each seating with each panel that verify
    accepts (targets and quotas over seats and panel members together, chairs of both within
    one cap) enumerated; the solver's answer is its optimum, proven."""
    problem = mixed_batch(rules)
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    best = max(score for score, _ in all_mixed(problem))
    assert result.status == em.Status.OPTIMAL
    assert result.objective == pytest.approx(best) and result.bound == pytest.approx(best)


@pytest.mark.slow
@pytest.mark.parametrize("may", [("E3", "E7"), ("E2", "E5")])
def test_a_binding_joint_chair_cap_reaches_the_brute_force_optimum(may: tuple[str, ...]) -> None:
    """Two experts may chair, each at most one of G1 and Q1: the best seating without the
    panels' chair columns admits no chairs within the cap left, so the seating is solved
    again with them; its answer is still the brute-force optimum, proven."""
    experts = [{**e, "title": "正高级" if e["id"] in may else "副高级"} for e in MEETING_EXPERTS]
    problem = mixed_batch({"chair": {**CHAIR, "max_per_expert": 1}}, experts=experts)
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    best = max(score for score, _ in all_mixed(problem))
    assert result.status == em.Status.OPTIMAL
    assert result.objective == pytest.approx(best) and result.bound == pytest.approx(best)
    chairs = {result.groups[0].chair, *result.chairs.values()}
    assert chairs == {problem.expert_index[e] for e in may}


# -- verify catches each ------------------------------------------------------------------------


def _found(problem: em.Problem, frame: pd.DataFrame) -> list[em.Violation]:
    return em.verify(problem, frame)


def test_verify_counts_meeting_seats_for_the_targets() -> None:
    """The good seating has two enterprise seats of six: a round target of 1/2 needs three,
    and so does [stage.approval]'s 2/3 of G1's three seats... of which it holds one."""
    target = meeting_batch(rules={"enterprise_target_share": "1/2"})
    found = _found(target, seated_frame(target, GOOD))
    assert [v.message for v in found if v.rule == Rule.ENTERPRISE_TARGET_SHARE] == [
        "2 of the batch's reviews are by enterprise experts, needs 3"
    ]
    rules = {"stage": {"approval": {"enterprise_target_share": "2/3"}}}
    stage = meeting_batch(projects=_staged(), rules=rules)
    found = _found(stage, seated_frame(stage, GOOD))
    assert [v.message for v in found if v.rule == Rule.ENTERPRISE_TARGET_SHARE] == [
        "1 of the approval reviews are by enterprise experts, needs 2"
    ]


def test_verify_counts_meeting_seats_for_a_batch_quota() -> None:
    """Three 正高级 seats of six in the good seating: a batch minimum of four is broken,
    with the figures."""
    problem = meeting_batch(rules={"quota": [{**SENIOR, "min": 4}]})
    found = [v for v in _found(problem, seated_frame(problem, GOOD)) if v.rule == Rule.QUOTA]
    assert len(found) == 1 and "3 of 6 seats" in found[0].message


def test_verify_one_chair_cap_over_groups_and_panels() -> None:
    """E7 chairs G1 and the panel Q1 with max_per_expert 1 (named by the role column):
    broken; without the role column, that no choice of chairs exists when E7 alone may
    chair."""
    experts = [{**e, "title": "正高级" if e["id"] == "E7" else "副高级"} for e in MEETING_EXPERTS]
    problem = mixed_batch({"chair": {**CHAIR, "max_per_expert": 1}}, experts=experts)
    frame = seated_frame(problem, {"G1": ("E2", "E4", "E7")})
    frame = pd.concat(
        [frame, pd.DataFrame([{"project": "Q1", "expert": e, "group": ""} for e in ("E3", "E7")])],
        ignore_index=True,
    )
    frame["role"] = ["chair" if e == "E7" else "member" for e in frame["expert"]]
    found = _found(problem, frame)
    assert any(v.rule == Rule.CHAIR and "chairs 2 panels and groups" in v.message for v in found)
    found = _found(problem, frame.drop(columns="role"))
    assert [v.rule for v in found] == [Rule.CHAIR]


def test_verify_a_group_mixing_stages_whose_rules_differ() -> None:
    """With a [stage] table a group holds one stage (its seats count toward that stage): a
    hand-made grouping of an approval and an acceptance project is a group violation."""
    stages = ["approval", "acceptance", "approval", "acceptance"]
    projects = [
        {**{k: v for k, v in p.items() if k != "group"}, "stage": s}
        for p, s in zip(MEETING_PROJECTS, stages, strict=True)
    ]
    problem = meeting_batch(projects=projects, rules={"stage": {"acceptance": {"max_per_org": 2}}})
    rows = [
        {"project": p, "expert": e, "group": g}
        for g, ps in (("G1", ("P1", "P2")), ("G2", ("P3", "P4")))
        for p in ps
        for e in GOOD[g]
    ]
    found = [v.message for v in _found(problem, pd.DataFrame(rows)) if v.rule == Rule.GROUP]
    assert "group G1 mixes stages acceptance, approval, whose rules differ" in found


# -- named when it cannot hold -------------------------------------------------------------------


def test_an_unreachable_round_target_is_named() -> None:
    """Three enterprise experts, one seat each: 2/3 of six seats (four) cannot be enterprise;
    the clash names the target with its figures."""
    problem = meeting_batch(rules={"enterprise_target_share": "2/3"})
    with pytest.raises(em.InfeasibleError) as caught:
        em.assign(problem)
    (clash,) = caught.value.clashes
    assert clash.rule == Rule.ENTERPRISE_TARGET_SHARE and "4 of 6 seats" in clash.message


def test_an_unreachable_batch_quota_is_named() -> None:
    """Four 正高级 experts, one seat each: five 正高级 seats of six cannot be; the clash
    names the quota."""
    problem = meeting_batch(rules={"quota": [{**SENIOR, "min": 5}]})
    with pytest.raises(em.InfeasibleError) as caught:
        em.assign(problem)
    assert [c.rule for c in caught.value.clashes] == [Rule.QUOTA]
    assert "quota senior" in caught.value.clashes[0].message


# -- outputs ------------------------------------------------------------------------------------


def test_outputs_count_seats(tmp_path: Path) -> None:
    """report.json's stage summary (the workbook's summary sheet) and the yearly report's
    targets count seats as the solver and verify do: six seats, three enterprise, the round
    target of 1/2 met; the reviews (one per project reviewed) apart."""
    from expertmatch.rounds.kpi import kpi

    problem = meeting_batch(rules={"enterprise_target_share": "1/2"})
    result = em.assign(problem)
    summary = result.stage_summary("approval")
    assert summary["seats"] == 6 and summary["enterprise seats"] == _enterprise(result)
    assert summary["reviews"] == len(result.pairs)
    path = tmp_path / "assignment.csv"
    result.write(path)
    (target,) = [t for t in kpi(problem, [path], losses=())["targets"] if t["scope"] == "batch"]
    assert target["rule"] == Rule.ENTERPRISE_TARGET_SHARE and target["met"]
    assert (target["seats"], target["required"]) == (6, 3)
    assert target["reached"] == _enterprise(result)


def test_cli_grouping_hand_is_the_office_method(tmp_path: Path) -> None:
    """``assign --grouping hand`` forms the office's groups (sorted by field, cut) and the
    report says so; the default searches from them; a batch without meetings refuses it."""
    import json

    from expertmatch.cli import main
    from expertmatch.solvers.meetings import hand_groups

    tables = synthetic.generate(16, 60, seed=2)
    tables["projects"]["stage"] = ""
    tables["projects"]["mode"] = "meeting"
    folder = synthetic.write_batch(tables, tmp_path / "batch")
    (folder / "rules.toml").write_text("[meeting]\ngroup_size = [4, 6]\npanel_size = 5\n")
    problem = em.load(folder)
    out = tmp_path / "hand"
    assert (
        main(
            [
                "assign",
                str(folder),
                "-o",
                f"{out}.csv",
                "--report",
                f"{out}.json",
                "--grouping",
                "hand",
            ]
        )
        == 0
    )
    report = json.loads(Path(f"{out}.json").read_text(encoding="utf-8"))
    assert report["stats"]["grouping"] == "hand"
    hand = {tuple(sorted(problem.project_ids[p] for p in ps)) for _, ps in hand_groups(problem)}
    assert {tuple(sorted(g["projects"])) for g in report["groups"]} == hand
    assert main(["assign", str(folder), "-o", str(tmp_path / "a.csv")]) == 0
    panels_only = em.from_tables(**synthetic.generate(6, 20, seed=1))
    with pytest.raises(ValueError, match="grouping only applies"):
        em.assign(panels_only, grouping="hand")


# -- generated mixed batches ----------------------------------------------------------------------


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 1000),
    target=st.sampled_from([None, "1/4", "2/5"]),
    staged=st.booleans(),
    quota=st.booleans(),
    chair=st.booleans(),
)
def test_generated_mixed_batches_pass_verify(
    seed: int, target: str | None, staged: bool, quota: bool, chair: bool
) -> None:
    """Random mixed batches (two meeting groups, four per-project panels) with a round
    target, a stage's own target, a batch quota and one chair rule (at most one chair an
    expert): every returned assignment passes verify, or the solver names why none exists."""
    n = 16
    tables = synthetic.generate(n, 4 * n, seed=seed)
    groups = [f"G{i // 6}" for i in range(n - 4)]
    tables["projects"]["mode"] = ["meeting"] * (n - 4) + [""] * 4
    tables["projects"]["group"] = groups + [""] * 4
    stages = ["approval" if g == "G0" else "acceptance" for g in groups]
    tables["projects"]["stage"] = stages + ["approval", "acceptance"] * 2 if staged else ""
    rules: dict[str, Any] = {
        "meeting": {"group_size": [6, 6], "panel_size": 5, "min_reviewers": 3},
        "panel_size": 3,
    }
    if target:
        rules["enterprise_target_share"] = target
    if staged:
        rules["stage"] = {"acceptance": {"enterprise_target_share": "1/3"}}
    if quota:
        share = {"max_share": "3/4", "scope": "batch"}
        rules["quota"] = [
            {"name": "uni", "attribute": "org_type", "values": ["university"], **share}
        ]
    if chair:
        may = ["university", "institute"]
        rules["chair"] = {"attribute": "org_type", "values": may, "max_per_expert": 1}
    try:
        problem = em.from_tables(**tables, rules=rules)
        result = em.assign(problem, time_limit=20)
    except (em.InfeasibleError, em.InputError):
        return
    assert em.verify(problem, result) == []

"""Meeting review (会评): exact seating against brute force, grouping never worse than the
office's hand method, recusal in both modes, slots and availability, mixed batches, clear
refusals (:mod:`expertmatch.solvers.meetings`)."""

from __future__ import annotations

import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch import synthetic
from expertmatch.solvers.meetings import hand_groups, seat, solve_meetings
from expertmatch.solvers.params import SolveParams
from expertmatch.vocabulary import Rule
from tests.meeting_batches import (
    MEETING_EXPERTS,
    MEETING_PROJECTS,
    all_seatings,
    meeting_batch,
)


def _ids(problem: em.Problem, experts: tuple[int, ...]) -> set[str]:
    return {problem.expert_ids[e] for e in experts}


@pytest.mark.slow
@pytest.mark.parametrize(
    "rules",
    [
        {},
        {"meeting": {"recusal": "exclude"}},
        {"chair": {"attribute": "title", "values": ["正高级"]}},
        {"meeting": {"min_reviewers": 3}, "max_per_org": 2},
    ],
    ids=["recuse", "exclude", "chair", "three-reviewers"],
)
def test_fixed_groups_reach_the_brute_force_optimum(rules: dict) -> None:
    """With the groups fixed, the seating is the best of every seating verify accepts, and
    proven optimal."""
    problem = meeting_batch(rules=rules)
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    best = max(score for score, _ in all_seatings(problem))
    assert result.status == em.Status.OPTIMAL
    assert result.objective == pytest.approx(best)
    assert result.bound == pytest.approx(best)


def test_recuse_steps_out_for_one_project_only() -> None:
    """Under recuse, a seated expert with a conflict with P1 reviews P2 of the same group,
    not P1; the group's report lists the recusal."""
    # E1 is the only enterprise expert covering 520.20 besides E3: make E1 worth seating in G1
    problem = meeting_batch(rules={"meeting": {"recusal": "recuse"}})
    result = em.assign(problem)
    for group in result.groups:
        for p, recused in group.recused.items():
            for e in recused:
                assert (problem.project_ids[p], problem.expert_ids[e]) not in result.assignment
        for p in group.projects:
            reviewers = {e for q, e in result.assignment if q == problem.project_ids[p]}
            assert reviewers == _ids(problem, group.panel) - _ids(problem, group.recused[p])


def test_forced_recusal_and_exclude() -> None:
    """E1 alone covers P2's field 520.40 and conflicts with P1 of the same group G1: under
    recuse E1 sits in G1 and steps out of P1 (listed in the report); under exclude E1 may
    not sit there, and the batch is infeasible."""
    fields = {
        "E1": "520.40.10",
        "E2": "520.20.10",
        "E3": "520.20.30",
        "E4": "520.20.10",
        "E5": "520.20.30",
        "E6": "520.20.30",
        "E7": "520.20.10",
    }
    experts = [{**e, "fields": fields[e["id"]]} for e in MEETING_EXPERTS]
    projects = [dict(p) for p in MEETING_PROJECTS]
    projects[3]["fields"] = "520.20.10"
    problem = meeting_batch(experts=experts, projects=projects)
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    g1 = next(g for g in result.groups if g.id == "G1")
    e1 = problem.expert_index["E1"]
    assert e1 in g1.panel and g1.recused[problem.project_index["P1"]] == (e1,)
    assert ("P2", "E1") in result.assignment and ("P1", "E1") not in result.assignment
    report = result.report()
    assert next(g for g in report["groups"] if g["id"] == "G1")["recused"] == {"P1": ["E1"]}
    excluded = meeting_batch(
        experts=experts, projects=projects, rules={"meeting": {"recusal": "exclude"}}
    )
    with pytest.raises(em.InfeasibleError):
        em.assign(excluded)


def meeting_batch_experts() -> list[dict]:
    """The four-project batch's experts with E3 made a university expert (so that the
    enterprise experts are E1 and E2 only)."""
    return [{**e, "organization": "U4"} if e["id"] == "E3" else dict(e) for e in MEETING_EXPERTS]


@pytest.mark.slow
def test_free_groups_never_worse_than_the_hand_method() -> None:
    """Without a group column the solver forms the groups: its seating is at least the hand
    method's (sorted by field, cut, seated optimally) and at most the best over every way to
    split the four projects into two groups of two."""
    projects = [{k: v for k, v in p.items() if k != "group"} for p in MEETING_PROJECTS]
    problem = meeting_batch(projects=projects)
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    hand = seat(problem, hand_groups(problem), time.perf_counter() + 30)
    unit = hand.seating.model.unit
    assert result.objective >= hand.objective * unit - 1e-6
    best = -math.inf
    ids = [p["id"] for p in projects]
    for mate in ids[1:]:
        first = ("P1", mate)
        split = [{**p, "group": "A" if p["id"] in first else "B"} for p in projects]
        best = max(best, em.assign(meeting_batch(projects=split)).objective)
    assert result.objective <= best + 1e-6
    assert result.bound >= best - 1e-6


def test_slots_rooms_and_availability_are_kept() -> None:
    """Two groups, two slots, one room: one group a slot; E2 comes only in the morning and
    E4 only in the afternoon, and verify checks every schedule rule."""
    rules = {"meeting": {"slots": ["am", "pm"], "rooms": 1}}
    availability = [{"expert": "E2", "slot": "am"}, {"expert": "E4", "slot": "pm"}]
    problem = meeting_batch(rules=rules, availability=availability)
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    slots = sorted(g.slot for g in result.groups)
    assert slots == ["am", "pm"] and all(g.room == 1 for g in result.groups)
    for g in result.groups:
        for e in g.panel:
            assert problem.available(e, g.slot)


def test_several_groups_per_expert_meet_in_different_slots() -> None:
    """With max_groups_per_expert 2 and only four experts, each sits in both groups, which
    then meet in different slots."""
    experts = [dict(e) for e in meeting_batch_experts()[:4]]
    experts[2]["organization"] = "C3"
    rules = {
        "meeting": {
            "slots": ["am", "pm"],
            "rooms": 2,
            "max_groups_per_expert": 2,
            "panel_size": 3,
            "min_reviewers": 2,
        },
        "coverage_level": 0,
        "max_per_org": 3,
    }
    problem = meeting_batch(experts=experts, rules=rules, conflicts=[])
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    seats = [e for g in result.groups for e in g.panel]
    assert len(seats) > len(set(seats))  # someone sits twice
    assert len({g.slot for g in result.groups}) == 2


def test_too_few_slots_is_named() -> None:
    """Two groups but one slot with one room: infeasible, with the figures."""
    problem = meeting_batch(rules={"meeting": {"slots": ["am"], "rooms": 1}})
    with pytest.raises(em.InfeasibleError, match=r"2 meeting groups, but 1 slot\(s\) x 1 room"):
        em.assign(problem)


def test_a_group_that_cannot_be_staffed_is_named() -> None:
    """min_reviewers 3 of panels of 3 while E1 conflicts with P1 and E3, E4, E6 with P1 too:
    the group G1 cannot be staffed, and the clash names it."""
    conflicts = [{"expert": e, "project": "P1"} for e in ("E1", "E2", "E3", "E4", "E5")]
    problem = meeting_batch(rules={"meeting": {"min_reviewers": 3}}, conflicts=conflicts)
    with pytest.raises(em.InfeasibleError, match="G1"):
        em.assign(problem)


def test_mixed_batch_shares_loads() -> None:
    """Meeting projects and per-project panels in one batch: with max_load 1 nobody seated in
    a group also reviews a panel project (a seat counts one)."""
    experts = (
        [dict(e) for e in meeting_batch_experts()]
        + [
            {"id": f"F{i}", "organization": f"U{i % 4 + 1}", "fields": "520.20.10"}
            for i in range(3)
        ]
        + [{"id": "F9", "organization": "C2", "fields": "520.20.10"}]
    )
    projects = [dict(p) for p in MEETING_PROJECTS] + [
        {"id": "Q1", "organization": "A1", "fields": "520.20.10", "panel_size": 2}
    ]
    problem = meeting_batch(experts=experts, projects=projects, rules={"max_load": 1})
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    seated = {e for g in result.groups for e in g.panel}
    panel = {problem.expert_index[e] for p, e in result.assignment if p == "Q1"}
    assert len(panel) == 2 and not panel & seated


def test_round_tools_and_unsupported_rules_are_refused_by_name() -> None:
    """Another objective on meetings, and the lottery with meetings, stop with an error
    that names the limitation (never a silent answer)."""
    problem = meeting_batch()
    with pytest.raises(ValueError, match="objective='fair' is not supported yet"):
        em.assign(problem, objective="fair")
    with pytest.raises(ValueError, match="lottery is not supported yet"):
        em.lottery(problem.with_rules({"max_probability": 0.5}))


def test_same_seed_same_groups() -> None:
    """Free grouping is deterministic for a seed."""
    tables = synthetic.generate(40, 150, seed=3)
    tables["projects"]["stage"] = ""
    tables["projects"]["mode"] = "meeting"
    rules = {"meeting": {"group_size": [6, 10]}}
    problem = em.from_tables(**tables, rules=rules)
    a = solve_meetings(problem, SolveParams(time_limit=20, seed=5))
    b = solve_meetings(problem, SolveParams(time_limit=20, seed=5))
    assert [g.projects for g in a.groups] == [g.projects for g in b.groups]
    assert a.assignment == b.assignment


@pytest.mark.slow
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(12, 40),
    seed=st.integers(0, 1000),
    fixed=st.booleans(),
    recusal=st.sampled_from(["recuse", "exclude"]),
    slots=st.booleans(),
)
def test_generated_batches_pass_verify(
    n: int, seed: int, fixed: bool, recusal: str, slots: bool
) -> None:
    """Random synthetic meeting batches: every returned assignment passes verify, or the
    solver says why none exists."""
    tables = synthetic.generate(n, 4 * n, seed=seed)
    tables["projects"]["stage"] = ""
    tables["projects"]["mode"] = ["meeting"] * (n - 3) + [""] * 3
    if fixed:
        tables["projects"]["group"] = [f"G{i // 6}" for i in range(n - 3)] + [""] * 3
    meeting = {"group_size": [4, 8], "panel_size": 5, "min_reviewers": 3, "recusal": recusal}
    if slots:
        meeting.update(slots=["am", "pm", "eve"], rooms=4, max_groups_per_expert=2)
    try:
        problem = em.from_tables(**tables, rules={"meeting": meeting})
        result = em.assign(problem, time_limit=30)
    except (em.InfeasibleError, em.InputError):
        return
    assert em.verify(problem, result) == []


def test_a_group_whose_rules_clash_together_is_named() -> None:
    """G1's two projects need four fields covered (two each) but three seats hold at most
    three of these one-field experts: each row alone can hold, the group cannot be staffed;
    the clash names G1 and its fields."""
    fields = [
        "520.20.10",
        "520.40.10",
        "520.60.10",
        "520.80.10",
        "520.20.10",
        "520.40.10",
        "520.60.10",
    ]
    experts = [{**e, "fields": f} for e, f in zip(MEETING_EXPERTS, fields, strict=True)]
    projects = [dict(p) for p in MEETING_PROJECTS]
    projects[0]["fields"] = "520.20.10;520.40.10"
    projects[1]["fields"] = "520.60.10;520.80.10"
    projects[2]["fields"] = projects[3]["fields"] = "520.20.10"
    problem = meeting_batch(experts=experts, projects=projects, conflicts=[])
    with pytest.raises(em.InfeasibleError) as caught:
        em.assign(problem)
    (clash,) = caught.value.clashes
    assert clash.rule == Rule.GROUP and "group G1 cannot be staffed" in clash.message
    assert "520.80.10" in clash.message and set(clash.projects) == {"P1", "P2"}


def test_reassign_changes_the_fewest_seats() -> None:
    """A seated university expert is unavailable for the round: exactly their seat changes
    (another university expert can take it), the groups keep their projects, and every rule
    holds with the decline."""
    problem = meeting_batch(
        experts=[
            *MEETING_EXPERTS,
            {"id": "E8", "organization": "U1", "fields": "520.40.10;520.20.30"},
        ]
    )
    result = em.assign(problem)
    gone = next(  # a university expert: one of several who could take the seat
        problem.expert_ids[e] for e in result.groups[0].panel if not problem.expert_enterprise[e]
    )
    again = em.reassign(problem, result, [(gone, "")])
    before = {g.id: _ids(problem, g.panel) for g in result.groups}
    after = {g.id: _ids(problem, g.panel) for g in again.groups}
    assert {g.id: g.projects for g in again.groups} == {g.id: g.projects for g in result.groups}
    changed = sum(len(before[g] - after[g]) for g in before)
    assert changed == 1 and all(gone not in panel for panel in after.values())
    assert again.stats["kept_pairs"] == again.stats["previous_pairs"] - 1
    from expertmatch.rounds.history import read_declines, with_declines

    assert em.verify(with_declines(problem, read_declines([(gone, "")], problem)), again) == []


def test_reserves_per_group_keep_every_rule() -> None:
    """Each reserve of a group, put in place of each expert it can replace, gives an
    assignment verify accepts (the whole batch re-checked, one swap at a time)."""
    import pandas as pd

    experts = [
        *MEETING_EXPERTS,
        {"id": "E8", "organization": "U1", "fields": "520.40.10"},
        {"id": "E9", "organization": "C1", "fields": "520.20.30"},
    ]
    problem = meeting_batch(experts=experts)
    result = em.assign(problem)
    frame = em.reserves(problem, result, k=3)
    assert len(frame) and set(frame["group"]) <= {"G1", "G2"}
    base = result.frame[["project", "expert", "group"]]
    for row in frame.itertuples():
        for out in row.replaces.split(";"):
            swapped = base.copy()
            mine = (swapped["group"] == row.group) & (swapped["expert"] == out)
            swapped = swapped[~mine]
            group = next(g for g in result.groups if g.id == row.group)
            e = problem.expert_index[row.expert]
            from expertmatch.domain.conflicts import explain_conflicts

            extra = [
                {"project": problem.project_ids[p], "expert": row.expert, "group": row.group}
                for p in group.projects
                if not explain_conflicts(problem, p, e)
            ]
            swapped = pd.concat([swapped, pd.DataFrame(extra)], ignore_index=True)
            assert em.verify(problem, swapped) == [], (row.group, row.expert, out)


def test_a_slot_with_too_few_available_experts_is_named() -> None:
    """Every expert comes in the morning only, one room: the second group must meet in the
    afternoon, where nobody is available; the clash names the group, the slot and the
    figures."""
    rules = {"meeting": {"slots": ["am", "pm"], "rooms": 1}}
    availability = [{"expert": e["id"], "slot": "am"} for e in MEETING_EXPERTS]
    problem = meeting_batch(rules=rules, availability=availability)
    with pytest.raises(em.InfeasibleError, match=r"meets in slot pm, where only 0 expert"):
        em.assign(problem)


def test_groups_keep_to_one_stage_when_stage_rules_differ() -> None:
    """With a [stage.acceptance] table the solver forms groups of one stage each (their
    seats follow that stage's rules), and every rule holds."""
    projects = [{k: v for k, v in p.items() if k != "group"} for p in MEETING_PROJECTS]
    for p, stage in zip(
        projects, ["approval", "acceptance", "approval", "acceptance"], strict=True
    ):
        p["stage"] = stage
    problem = meeting_batch(projects=projects, rules={"stage": {"acceptance": {"max_per_org": 2}}})
    result = em.assign(problem)
    assert em.verify(problem, result) == []
    for g in result.groups:
        assert len({problem.stages[p] for p in g.projects}) == 1

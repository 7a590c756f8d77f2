"""verify() on meetings (会评): each meeting rule broken alone is found and named, from a
Result or from an assignment table with its group column (:mod:`expertmatch.verify`)."""

from __future__ import annotations

from dataclasses import replace

import pytest

import expertmatch as em
from expertmatch.vocabulary import Rule
from tests.meeting_batches import MEETING_EXPERTS, meeting_batch, seated_frame

#: A valid seating of the four-project batch (found by the brute force: its optimum).
GOOD = {"G1": ("E2", "E4", "E5"), "G2": ("E3", "E6", "E7")}


def rules_of(problem: em.Problem, panels: dict, **columns: dict) -> set[str]:
    return {v.rule for v in em.verify(problem, seated_frame(problem, panels, **columns))}


def test_the_good_seating_holds() -> None:
    """The reference seating breaks no rule (the other tests change one thing)."""
    assert rules_of(meeting_batch(), GOOD) == set()


def test_seated_panel_size() -> None:
    """Two seats instead of three."""
    assert Rule.PANEL_SIZE in rules_of(meeting_batch(), {**GOOD, "G1": ("E2", "E4")})


def test_each_seat_fits_a_project() -> None:
    """A seat that fits no project of its group (score not above min_score for both)."""
    experts = [dict(e) for e in MEETING_EXPERTS] + [
        {"id": "E8", "organization": "U4", "fields": "910.10.10"}
    ]
    problem = meeting_batch(experts=experts)
    assert Rule.SEAT in rules_of(problem, {**GOOD, "G1": ("E2", "E4", "E8")})


def test_enterprise_seats() -> None:
    """No enterprise expert among G2's seats (E3 swapped for a university expert)."""
    found = rules_of(meeting_batch(), {"G1": ("E2", "E3", "E5"), "G2": ("E4", "E6", "E7")})
    assert Rule.ENTERPRISE_SHARE in found


def test_max_per_org_over_the_seats() -> None:
    """Two seats from one organization."""
    experts = [{**e, "organization": "U1"} if e["id"] == "E5" else e for e in MEETING_EXPERTS]
    assert Rule.MAX_PER_ORG in rules_of(meeting_batch(experts=experts), GOOD)


def test_panel_quota_over_the_seats() -> None:
    """A quota of two 正高级 seats a group: G1 holds one."""
    quota = {"name": "senior", "attribute": "title", "values": ["正高级"], "min": 2}
    problem = meeting_batch(rules={"quota": [quota]})
    assert Rule.QUOTA in rules_of(problem, GOOD)


def test_group_chair() -> None:
    """A chair who may not chair (副高级), named by the role column; with no 正高级 member
    seated, no chair can be chosen either."""
    problem = meeting_batch(rules={"chair": {"attribute": "title", "values": ["正高级"]}})
    frame = seated_frame(problem, GOOD)
    frame["role"] = ["chair" if e == "E2" else "member" for e in frame["expert"]]
    assert any(
        v.rule == Rule.CHAIR and "E2 may not chair" in v.message for v in em.verify(problem, frame)
    )
    assert Rule.CHAIR in rules_of(problem, {"G1": ("E2", "E5", "E6"), "G2": GOOD["G2"]})


def test_min_reviewers_after_recusal() -> None:
    """E1 seated in G1 steps out of P1, which keeps two reviewers of three; with
    min_reviewers 3 that is too few."""
    problem = meeting_batch(rules={"meeting": {"min_reviewers": 3}, "max_per_org": 3})
    found = rules_of(problem, {"G1": ("E1", "E4", "E5"), "G2": GOOD["G2"]})
    assert Rule.MIN_REVIEWERS in found


def test_recuse_lists_no_conflicted_pair_and_every_other() -> None:
    """Under recuse: E1 listed on P1 is a conflict; a seated expert without a conflict left
    off a project of the group is a recusal violation."""
    problem = meeting_batch()
    panels = {"G1": ("E1", "E4", "E5"), "G2": GOOD["G2"]}
    frame = seated_frame(problem, panels)
    extra = frame.iloc[[0]].assign(project="P1", expert="E1")
    both = em.verify(problem, __import__("pandas").concat([frame, extra]))
    assert any(v.rule == Rule.CONFLICT and v.expert == "E1" for v in both)
    short = frame[~((frame["project"] == "P2") & (frame["expert"] == "E4"))]
    assert any(
        v.rule == Rule.RECUSAL and (v.project, v.expert) == ("P2", "E4")
        for v in em.verify(problem, short)
    )


def test_exclude_forbids_the_seat() -> None:
    """Under exclude, E1 (conflict with P1) may not sit in G1 at all."""
    problem = meeting_batch(rules={"meeting": {"recusal": "exclude"}})
    found = em.verify(problem, seated_frame(problem, {"G1": ("E1", "E4", "E5"), "G2": GOOD["G2"]}))
    assert any(v.rule == Rule.RECUSAL and v.expert == "E1" for v in found)


def test_coverage_by_the_reviewers() -> None:
    """P2 (520.40.10) with no reviewer holding a 520.40 field."""
    found = rules_of(meeting_batch(), {"G1": ("E1", "E4", "E6"), "G2": ("E2", "E3", "E7")})
    assert Rule.COVERAGE in found


def test_enterprise_reviewers_per_project() -> None:
    """Seats hold an enterprise expert (E1), but E1 steps out of P1: P1 has none."""
    found = em.verify(
        meeting_batch(),
        seated_frame(meeting_batch(), {"G1": ("E1", "E4", "E5"), "G2": GOOD["G2"]}),
    )
    assert any(v.rule == Rule.ENTERPRISE_SHARE and v.project == "P1" for v in found)


def test_max_groups_and_load() -> None:
    """E7 in both groups breaks max_groups_per_expert 1; with max_load 1 also the load (a
    seat counts one: two seats are two)."""
    problem = meeting_batch(rules={"max_load": 1})
    found = rules_of(problem, {"G1": ("E2", "E4", "E7"), "G2": GOOD["G2"]})
    assert {Rule.MAX_GROUPS, Rule.MAX_LOAD} <= found
    assert Rule.MAX_LOAD not in rules_of(problem, GOOD)  # one seat, two reviews: load 1


def test_yearly_cap_counts_seats() -> None:
    """used 9 of yearly_cap 10: one seat fits, whatever the group's size."""
    experts = [{**e, "used": 9} for e in MEETING_EXPERTS]
    assert Rule.YEARLY_CAP not in rules_of(meeting_batch(experts=experts), GOOD)
    experts = [{**e, "used": 10} for e in MEETING_EXPERTS]
    assert Rule.YEARLY_CAP in rules_of(meeting_batch(experts=experts), GOOD)


def test_group_membership() -> None:
    """A meeting project in no group, and a group outside group_size."""
    problem = meeting_batch()
    frame = seated_frame(problem, GOOD)
    frame.loc[frame["project"] == "P4", "group"] = "G1"
    assert Rule.GROUP in {v.rule for v in em.verify(problem, frame)}
    pairs = [(p, e) for p, e in zip(frame["project"], frame["expert"], strict=True)]
    assert Rule.GROUP not in {v.rule for v in em.verify(problem, pairs)}  # fixed groups


def test_schedule_and_availability() -> None:
    """Slots: both groups in one room of one slot; E2 seated in the afternoon though only
    available in the morning; a slot that is not listed."""
    rules = {"meeting": {"slots": ["am", "pm"], "rooms": 1}}
    problem = meeting_batch(rules=rules, availability=[{"expert": "E2", "slot": "am"}])
    ok = {"slot": {"G1": "am", "G2": "pm"}, "room": {"G1": 1, "G2": 1}}
    assert rules_of(problem, GOOD, **ok) == set()
    same = {"slot": {"G1": "am", "G2": "am"}, "room": {"G1": 1, "G2": 1}}
    assert Rule.SCHEDULE in rules_of(problem, GOOD, **same)
    late = {"slot": {"G1": "pm", "G2": "am"}, "room": {"G1": 1, "G2": 1}}
    assert Rule.AVAILABILITY in rules_of(problem, GOOD, **late)
    unknown = {"slot": {"G1": "night", "G2": "am"}, "room": {"G1": 1, "G2": 1}}
    assert Rule.SCHEDULE in rules_of(problem, GOOD, **unknown)


def test_one_group_a_slot_per_expert() -> None:
    """max_groups_per_expert 2: E7 in both groups is fine in two slots, not in one."""
    rules = {"meeting": {"slots": ["am", "pm"], "rooms": 2, "max_groups_per_expert": 2}}
    problem = meeting_batch(rules=rules)
    panels = {"G1": ("E2", "E4", "E7"), "G2": GOOD["G2"]}
    apart = {"slot": {"G1": "am", "G2": "pm"}, "room": {"G1": 1, "G2": 1}}
    assert rules_of(problem, panels, **apart) == set()
    together = {"slot": {"G1": "am", "G2": "am"}, "room": {"G1": 1, "G2": 2}}
    assert Rule.SCHEDULE in rules_of(problem, panels, **together)


def test_result_groups_are_checked_not_trusted() -> None:
    """A Result whose group lists a panel that breaks a rule is caught."""
    problem = meeting_batch()
    result = em.assign(problem)
    bad = replace(
        result,
        groups=(replace(result.groups[0], panel=result.groups[0].panel[:2]), *result.groups[1:]),
    )
    assert Rule.PANEL_SIZE in {v.rule for v in em.verify(problem, bad)}


@pytest.mark.parametrize("where", ["assignment", "report"])
def test_outputs_carry_the_groups(where: str) -> None:
    """assignment.csv has the group column; report.json lists the groups with their panel,
    chair and recusals."""
    problem = meeting_batch(rules={"chair": {"attribute": "title", "values": ["正高级"]}})
    result = em.assign(problem)
    if where == "assignment":
        frame = result.frame
        assert {"group", "slot", "room", "role"} <= set(frame.columns)
        assert set(frame["group"]) == {"G1", "G2"}
        assert (frame["role"] == "chair").sum() == 4  # each group's chair, on both projects
        assert em.verify(problem, frame) == []
    else:
        groups = result.report()["groups"]
        assert [g["id"] for g in groups] == ["G1", "G2"]
        assert all(len(g["panel"]) == 3 and g["chair"] in g["panel"] for g in groups)

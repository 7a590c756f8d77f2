"""Check an assignment against every rule and conflict of interest, independently of the
solver: from the batch's data, one pair and one panel at a time, in office terms.

Use it on any assignment — a :class:`Result`, a DataFrame or CSV with ``project`` and
``expert`` columns, or a list of (project id, expert id) pairs, even one made by hand.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from expertmatch.domain.chairs import choose_chairs
from expertmatch.domain.conflicts import explain_conflicts
from expertmatch.domain.meetings import (
    Group,
    group_max_per_org,
    group_needs_chair,
    group_quotas,
    reviewer_enterprise_needed,
    seat_enterprise_needed,
    seat_list,
)
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.problem import Problem
from expertmatch.domain.rules import Quota
from expertmatch.domain.scoring import pair_scores
from expertmatch.result import Result
from expertmatch.vocabulary import Rule


@dataclass(frozen=True)
class Violation:
    """One broken rule: which rule, the project and expert concerned (if any), and why."""

    rule: str
    message: str
    project: str | None = None
    expert: str | None = None
    group: str | None = None
    """A meeting group's rule over its seats (会评): the group, with ``project`` None."""

    def __str__(self) -> str:
        where = " ".join(x for x in (self.project, self.expert) if x)
        return f"[{self.rule}] {where + ': ' if where else ''}{self.message}"


def _pairs(assignment: Any) -> list[tuple[str, str]]:
    """The assignment as (project id, expert id) pairs, in its own order."""
    if isinstance(assignment, Result):
        return assignment.assignment
    if isinstance(assignment, pd.DataFrame):
        return [
            (str(p), str(e))
            for p, e in zip(assignment["project"], assignment["expert"], strict=True)
        ]
    if isinstance(assignment, Iterable):
        return [(str(p), str(e)) for p, e in assignment]
    raise TypeError("assignment must be a Result, a DataFrame or (project, expert) pairs")


def verify(problem: Problem, assignment: Any) -> list[Violation]:
    """Every violation of the batch's rules by ``assignment``; an empty list means it is valid.

    The order is fixed: pair by pair (unknown ids, repeats, conflicts), then min_score, then
    expert by expert (max_load, yearly_cap), project by project (panel_size,
    enterprise_share, max_per_org, coverage), and last the batch's enterprise_target_share.
    """
    every, out = _check_pairs(problem, _pairs(assignment))
    meeting = problem.project_meeting
    panels = {p: members for p, members in every.items() if not meeting[p]}
    out += _check_min_score(problem, panels)
    seats: Counter[int] = Counter()
    found: list[Violation] = []
    groups: list[Group] = []
    chairs, twice = _given_chairs(problem, assignment)
    if problem.has_meetings:  # meeting groups: their own checks (after the pairs' own)
        groups, found = _verify_meetings(problem, assignment, every, panels, chairs)
        seats = Counter(e for g in groups for e in g.panel)
    loads: Counter[int] = Counter(e for members in panels.values() for e in members)
    loads += seats  # a seat counts one, whatever the size of its group
    for e, load in sorted(loads.items()):
        for expert_check in _EXPERT_CHECKS:
            out.extend(expert_check(problem, e, load))
    for p in range(problem.n_projects):
        if meeting[p]:
            continue
        members = panels.get(p, [])
        for panel_check in _PANEL_CHECKS:
            out.extend(panel_check(problem, p, members))
    out += found
    out.extend(_check_seat_rules(problem, panels, groups))
    out.extend(twice)
    out.extend(_check_chairs(problem, panels, chairs))
    return out


def unbent(violations: Iterable[Violation], bends: Iterable[Any]) -> list[Violation]:
    """The violations no bend of a relaxed result allows: a bend (``relax.Bend``) allows the
    violations of its rule at its place (project, expert, or meeting group)."""
    allowed = {(b.rule, b.project, b.expert, getattr(b, "group", None)) for b in bends}
    return [v for v in violations if (v.rule, v.project, v.expert, v.group) not in allowed]


#: The ``role`` values that name a panel's chair (as written, and with ``--lang zh``).
CHAIR_ROLES = ("chair", "组长")


def _given_chairs(
    problem: Problem, assignment: Any
) -> tuple[Mapping[int, int] | None, list[Violation]]:
    """The chairs an assignment names: a Result's, or a table's ``role`` column (rows whose
    role is ``chair``); None when it names none (a file without the column). A panel with two
    chairs is a violation of its own."""
    if not isinstance(assignment, pd.DataFrame) or "role" not in assignment.columns:
        return getattr(assignment, "chairs", None), []
    if "group" in assignment.columns and problem.has_meetings:
        keep = assignment["group"].astype(str).str.strip() == ""
        assignment = assignment[keep]
    chairs: dict[int, int] = {}
    out: list[Violation] = []
    for p_id, e_id, role in zip(
        assignment["project"], assignment["expert"], assignment["role"], strict=True
    ):
        p = problem.project_index.get(str(p_id))
        e = problem.expert_index.get(str(e_id))
        if p is None or e is None or str(role).strip() not in CHAIR_ROLES:
            continue
        if p in chairs:
            out.append(Violation(Rule.CHAIR, "two chairs", problem.project_ids[p]))
            continue
        chairs[p] = e
    return chairs, out


# -- pairs -----------------------------------------------------------------------------------


def _check_pairs(
    problem: Problem, pairs: list[tuple[str, str]]
) -> tuple[dict[int, list[int]], list[Violation]]:
    """Each project's panel (expert positions, as listed) and what is wrong pair by pair:
    unknown ids and repeats (such a pair is left out of the panels), conflicts of interest."""
    panels: dict[int, list[int]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    out: list[Violation] = []
    for project_id, expert_id in pairs:
        wrong = _check_ids(problem, seen, project_id, expert_id)
        if wrong is not None:
            out.append(wrong)
            continue
        seen.add((project_id, expert_id))
        p, e = problem.project_index[project_id], problem.expert_index[expert_id]
        panels[p].append(e)
        out.extend(_check_conflict(problem, p, e))
    return panels, out


def _check_ids(
    problem: Problem, seen: set[tuple[str, str]], project_id: str, expert_id: str
) -> Violation | None:
    """``unknown_id`` (project first) or ``duplicate`` (the pair is already in ``seen``)."""
    if project_id not in problem.project_index:
        return Violation(Rule.UNKNOWN_ID, f"unknown project {project_id!r}", project_id)
    if expert_id not in problem.expert_index:
        return Violation(Rule.UNKNOWN_ID, f"unknown expert {expert_id!r}", project_id, expert_id)
    if (project_id, expert_id) in seen:
        return Violation(Rule.DUPLICATE, "the pair is listed twice", project_id, expert_id)
    return None


def _check_conflict(problem: Problem, p: int, e: int) -> Iterator[Violation]:
    """``conflict``: every conflict of interest between the expert and the project."""
    for reason in explain_conflicts(problem, p, e):
        yield Violation(Rule.CONFLICT, reason, problem.project_ids[p], problem.expert_ids[e])


def _check_min_score(problem: Problem, panels: Mapping[int, list[int]]) -> list[Violation]:
    """``min_score``: every listed pair must score above it (pairs in panel order)."""
    listed = [(p, e) for p, members in panels.items() for e in members]
    if not listed:
        return []
    scores = pair_scores(
        problem, np.array([p for p, _ in listed]), np.array([e for _, e in listed])
    )
    return [
        Violation(
            Rule.MIN_SCORE,
            f"score {score:g} is not above min_score {problem.project_min_score[p]:g}",
            problem.project_ids[p],
            problem.expert_ids[e],
        )
        for (p, e), score in zip(listed, scores, strict=True)
        if not score > problem.project_min_score[p] and not _any_field(problem, p, e)
    ]


def _any_field(problem: Problem, p: int, e: int) -> bool:
    """Is the expert counted by an ``any_field`` quota of the project's stage (eligible
    whatever the score)?"""
    stage = problem.stages[p]
    return any(
        q.any_field
        and q.applies_to(stage)
        and set(q.values) & set(problem.attribute(q.attribute)[e])
        for q in problem.rules.quota
    )


# -- experts: (problem, expert, load) -> violations -----------------------------------------


def _check_max_load(problem: Problem, e: int, load: int) -> Iterator[Violation]:
    """``max_load``: the expert's own, else the rule's."""
    max_load = int(problem.expert_max_load[e])
    if load > max_load:
        yield Violation(
            Rule.MAX_LOAD, f"{load} reviews, max_load is {max_load}", expert=problem.expert_ids[e]
        )


def _check_yearly_cap(problem: Problem, e: int, load: int) -> Iterator[Violation]:
    """``yearly_cap``: reviews already done this year plus this batch's."""
    used, cap = int(problem.expert_used[e]), problem.rules.yearly_cap
    if used + load > cap:
        yield Violation(
            Rule.YEARLY_CAP,
            f"{used} used + {load} now exceeds yearly_cap {cap}",
            expert=problem.expert_ids[e],
        )


_EXPERT_CHECKS: tuple[Callable[[Problem, int, int], Iterable[Violation]], ...] = (
    _check_max_load,
    _check_yearly_cap,
)


# -- panels: (problem, project, panel) -> violations ----------------------------------------


def _check_panel_size(problem: Problem, p: int, members: list[int]) -> Iterator[Violation]:
    """``panel_size``: exactly the project's size."""
    size = int(problem.project_panel_size[p])
    if len(members) != size:
        yield Violation(
            Rule.PANEL_SIZE,
            f"panel has {len(members)} experts, needs {size}",
            problem.project_ids[p],
        )


def _check_enterprise_share(problem: Problem, p: int, members: list[int]) -> Iterator[Violation]:
    """``enterprise_share``: at least ceil(share x panel size) enterprise experts (the share
    of the project's stage), or the project's own ``enterprise_min``."""
    size, stage = int(problem.project_panel_size[p]), problem.stages[p]
    share = problem.rules.value("enterprise_min_share", stage)
    given = int(problem.project_enterprise_min_given[p])  # type: ignore[index]
    need = min(given, size) if given >= 0 else math.ceil(share * size)
    got = sum(problem.expert_type[e] == "enterprise" for e in members)
    if got < need:
        why = f"enterprise_min {given}" if given >= 0 else f"share {share} of {size}"
        yield Violation(
            Rule.ENTERPRISE_SHARE,
            f"{got} enterprise experts, needs {need} ({why})",
            problem.project_ids[p],
        )


def _check_max_per_org(problem: Problem, p: int, members: list[int]) -> Iterator[Violation]:
    """``max_per_org``: per organization, in the order of the organizations."""
    limit = problem.rules.value("max_per_org", problem.stages[p])
    per_org = Counter(int(problem.expert_org[e]) for e in members)
    for org, count in sorted(per_org.items()):
        if count > limit:
            yield Violation(
                Rule.MAX_PER_ORG,
                f"{count} experts from {problem.org_names[org]} ({problem.org_ids[org]}), at "
                f"most {limit} allowed",
                problem.project_ids[p],
            )


def _check_coverage(problem: Problem, p: int, members: list[int]) -> Iterator[Violation]:
    """``coverage``: each of the project's fields covered by a panel expert at the level."""
    level, tree = problem.rules.value("coverage_level", problem.stages[p]), problem.field_tree
    if level <= 0:
        return
    for f in problem.project_fields[p]:
        if not any(tree.covers(g, f, level) for e in members for g in problem.expert_fields[e]):
            yield Violation(
                Rule.COVERAGE,
                f"no panel expert covers field {f} at level {level}",
                problem.project_ids[p],
            )


def _check_panel_quotas(problem: Problem, p: int, members: list[int]) -> Iterator[Violation]:
    """``quota`` (scope panel): the members with the quota's attribute values, per quota of
    the project's stage, between its bounds for the panel's size."""
    stage, size = problem.stages[p], int(problem.project_panel_size[p])
    for quota in problem.rules.quota:
        if quota.scope != "panel" or not quota.applies_to(stage):
            continue
        got = _counted(problem, quota, members)
        low, high = quota.bounds(size)
        if not low <= got <= high:
            yield Violation(
                Rule.QUOTA,
                f"quota {quota.name}: {got} members with {quota.attribute} in "
                f"{', '.join(quota.values)}, needs {low} to {high}",
                problem.project_ids[p],
            )


def _counted(problem: Problem, quota: Quota, experts: Iterable[int]) -> int:
    values, wanted = problem.attribute(quota.attribute), set(quota.values)
    return sum(bool(wanted & set(values[e])) for e in experts)


_PANEL_CHECKS: tuple[Callable[[Problem, int, list[int]], Iterable[Violation]], ...] = (
    _check_panel_size,
    _check_enterprise_share,
    _check_max_per_org,
    _check_coverage,
    _check_panel_quotas,
)


# -- the batch -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeatRule:
    """A rule over all seats of some stages: the round's ``enterprise_target_share``, a
    stage's own, or a quota of scope batch. Of the ``seats`` seats of its stages (``None``:
    every stage), between ``low`` and ``high`` are held by experts it ``counts``. A seat is one
    member of one per-project panel (of its project's stage) or one expert seated in one
    meeting group (of its group's stage), whatever the number of the group's projects."""

    rule: str
    what: str
    """How its count reads: ``of the batch's reviews are by enterprise experts``, ..."""
    stages: frozenset[str] | None
    counts: np.ndarray
    seats: int
    low: int
    high: float
    quota: Quota | None = None

    def applies_to(self, stage: str) -> bool:
        return self.stages is None or stage in self.stages

    def count(self, seats: Iterable[tuple[str, int]]) -> int:
        """Of the (stage, expert) seats, those it covers and counts."""
        return sum(1 for stage, e in seats if self.applies_to(stage) and self.counts[e])

    def violation(self, got: int) -> Violation | None:
        """The violation when ``got`` is out of bounds, else None."""
        if self.low <= got <= self.high:
            return None
        if self.quota is not None:
            q = self.quota
            return Violation(
                Rule.QUOTA,
                f"quota {q.name}: {got} of {self.seats} seats with {q.attribute} in "
                f"{', '.join(q.values)}, needs {self.low} to {int(self.high)}",
            )
        return Violation(self.rule, f"{got} {self.what}, needs {self.low}")


def seat_rules(problem: Problem, groups: Sequence[Group] = ()) -> list[SeatRule]:
    """The batch's rules over all seats, their figures with these meeting ``groups``
    (``Problem.seats``: a group holds ``panel_size`` seats)."""
    members = [g.projects for g in groups]
    rules, ent = problem.rules, problem.expert_enterprise
    every = np.ones(problem.n_projects, dtype=bool)
    out = []
    if rules.enterprise_target_share is not None:
        what = "of the batch's reviews are by enterprise experts"
        need = problem.target_required(members)
        out.append(
            SeatRule(
                Rule.ENTERPRISE_TARGET_SHARE,
                what,
                None,
                ent,
                problem.seats(every, members),
                need,
                math.inf,
            )
        )
    for stage, override in rules.stage.items():
        if override.enterprise_target_share is not None:
            out.append(
                SeatRule(
                    Rule.ENTERPRISE_TARGET_SHARE,
                    f"of the {stage} reviews are by enterprise experts",
                    frozenset([stage]),
                    ent,
                    problem.seats(np.array(problem.stages) == stage, members),
                    problem.stage_target_required(stage, members),
                    math.inf,
                )
            )
    for quota in rules.quota:
        if quota.scope == "batch":
            seats = problem.seats_of(quota, members)
            low, high = quota.bounds(seats)
            counts = problem.has_value(quota.attribute, quota.values)
            stages = frozenset(quota.stages) or None
            out.append(SeatRule(Rule.QUOTA, "", stages, counts, seats, low, high, quota))
    return out


def _check_seat_rules(
    problem: Problem, panels: Mapping[int, list[int]], groups: Sequence[Group]
) -> Iterator[Violation]:
    """The round's and the stages' enterprise targets and the batch quotas, over every seat
    of per-project panels and meeting groups together."""
    seats = seat_list(problem, panels, groups)
    for rule in seat_rules(problem, groups):
        found = rule.violation(rule.count(seats))
        if found is not None:
            yield found


def _check_chairs(
    problem: Problem, panels: Mapping[int, list[int]], chairs: Mapping[int, int] | None
) -> Iterator[Violation]:
    """``chair``: each panel of the rule's stages has exactly one chair, a member who may chair
    it, and nobody chairs more than ``max_per_expert`` panels. With the chairs given (a
    Result) they are checked; without (a file of pairs), that such a choice exists."""
    chair = problem.rules.chair
    if chair is None:
        return
    wanted = set(chair.values)
    values = problem.attribute(chair.attribute)
    needing = [
        p
        for p, s in enumerate(problem.stages)
        if chair.applies_to(s) and not problem.project_meeting[p]
    ]
    if chairs is None and problem.has_meetings:
        return  # with the groups, in one flow (_chairs_can_be_chosen)
    if chairs is None:
        pairs = [(p, e) for p in needing for e in panels.get(p, [])]
        found = Pairs(
            np.array([p for p, _ in pairs], dtype=np.int64),
            np.array([e for _, e in pairs], dtype=np.int64),
            np.zeros(len(pairs)),
        )
        _, missing = choose_chairs(problem, found)
        for p in (p for p in missing if not problem.project_meeting[p]):
            yield Violation(
                Rule.CHAIR,
                f"no member with {chair.attribute} in {', '.join(chair.values)} can chair it "
                f"(each chairs at most {chair.max_per_expert} panels)",
                problem.project_ids[p],
            )
        return
    for p in needing:
        e = chairs.get(p)
        if e is None or e not in panels.get(p, []) or not wanted & set(values[e]):
            yield Violation(
                Rule.CHAIR,
                "no chair" if e is None else f"{problem.expert_ids[e]} may not chair it",
                problem.project_ids[p],
            )
    for e, n in Counter(chairs.values()).items():
        if n > chair.max_per_expert:
            yield Violation(
                Rule.CHAIR,
                f"chairs {n} panels, at most {chair.max_per_expert}",
                expert=problem.expert_ids[e],
            )


# -- meetings (会评) -----------------------------------------------------------------------------
#
# The groups come from the Result (``Result.groups``), else from the assignment's ``group``
# column (with ``role``, ``slot`` and ``room`` when present), else from the groups the office
# fixed. A group's seated panel is then every expert listed on one of its projects: each seat
# fits at least one project, so nobody seated is left out of the pairs.


def _verify_meetings(
    problem: Problem,
    assignment: Any,
    every: Mapping[int, list[int]],
    panels: Mapping[int, list[int]],
    panel_chairs: Mapping[int, int] | None,
) -> tuple[list[Group], list[Violation]]:
    """The groups and every violation of a meeting rule (the chair rule over groups and
    per-project panels together)."""
    groups, out = _read_groups(problem, assignment, every)
    seats: Counter[int] = Counter(e for g in groups for e in g.panel)
    for group in groups:
        out += _check_group_seats(problem, group)
        out += _check_group_reviewers(problem, group, every)
    out += _check_seat_counts(problem, groups, seats)
    known = bool(getattr(assignment, "groups", None)) or (
        isinstance(assignment, pd.DataFrame) and "role" in assignment.columns
    )
    out += _check_group_chairs(problem, groups, panel_chairs, known, panels)
    out += _check_schedule(problem, groups)
    return groups, out


def _read_groups(
    problem: Problem, assignment: Any, every: Mapping[int, list[int]]
) -> tuple[list[Group], list[Violation]]:
    """The groups of the assignment and what is wrong with the grouping itself: a meeting
    project in no group or two, a panel project in a group, a group's size."""
    pid = problem.project_ids
    found = getattr(assignment, "groups", None)
    out: list[Violation] = []
    if found:
        groups = list(found)
    else:
        member_of, chair_of, place = _group_columns(problem, assignment)
        if not member_of:
            member_of = {p: g for g, ps in problem.fixed_groups.items() for p in ps}
        by_group: dict[str, list[int]] = defaultdict(list)
        for p, g in member_of.items():
            by_group[g].append(p)
        groups = [
            Group(
                g,
                tuple(sorted(ps)),
                tuple(sorted({e for p in ps for e in every.get(p, [])})),
                chair_of.get(g, -1),
                *place.get(g, ("", 0)),
            )
            for g, ps in by_group.items()
        ]
    count: Counter[int] = Counter(p for g in groups for p in g.projects)
    for p in range(problem.n_projects):
        n, meeting = count.get(p, 0), bool(problem.project_meeting[p])
        if meeting and n != 1:
            out.append(Violation(Rule.GROUP, f"in {n} meeting groups, needs exactly 1", pid[p]))
        if not meeting and n:
            out.append(Violation(Rule.GROUP, "a panel project sits in a meeting group", pid[p]))
    low, high = problem.meeting.group_size
    for g in groups:
        stages = sorted({problem.stages[p] for p in g.projects})
        if len(stages) > 1 and problem.rules.stage_dependent:
            out.append(
                Violation(
                    Rule.GROUP,
                    f"group {g.id} mixes stages {', '.join(stages)}, whose rules differ",
                )
            )
        if not low <= len(g.projects) <= high:
            out.append(
                Violation(
                    Rule.GROUP,
                    f"group {g.id} has {len(g.projects)} projects, group_size is {low} to {high}",
                )
            )
    return groups, out


def _group_columns(
    problem: Problem, assignment: Any
) -> tuple[dict[int, str], dict[str, int], dict[str, tuple[str, int]]]:
    """From an assignment table with a ``group`` column: project -> group, group -> chair
    (``role`` = chair) and group -> (slot, room)."""
    if not isinstance(assignment, pd.DataFrame) or "group" not in assignment.columns:
        return {}, {}, {}
    member_of: dict[int, str] = {}
    chair_of: dict[str, int] = {}
    place: dict[str, tuple[str, int]] = {}
    frame = assignment.fillna("")
    for row in frame.to_dict("records"):
        p = problem.project_index.get(str(row["project"]))
        e = problem.expert_index.get(str(row["expert"]))
        group = str(row["group"]).strip()
        if p is None or not group:
            continue
        member_of[p] = group
        if e is not None and str(row.get("role", "")).strip() in CHAIR_ROLES:
            chair_of[group] = e
        room = str(row.get("room", "")).strip()
        place[group] = (str(row.get("slot", "")).strip(), int(float(room)) if room else 0)
    return member_of, chair_of, place


def _check_group_seats(problem: Problem, group: Group) -> list[Violation]:
    """Over the seats: the panel size, each seat fitting a project of the group (and, with
    ``exclude``, no conflict with any), the enterprise share, the organization cap, quotas."""
    out: list[Violation] = []
    rules, seats = problem.meeting, list(group.panel)
    where = f"group {group.id}: "
    if len(seats) != rules.panel_size:
        out.append(
            Violation(
                Rule.PANEL_SIZE,
                f"{where}{len(seats)} seated, needs {rules.panel_size}",
                group=group.id,
            )
        )
    for e in seats:
        conflicts = [p for p in group.projects if explain_conflicts(problem, p, e)]
        fits = [p for p in group.projects if p not in conflicts and _fits(problem, p, e)]
        who = problem.expert_ids[e]
        if not fits:
            out.append(Violation(Rule.SEAT, f"{where}fits none of its projects", expert=who))
        if conflicts and rules.recusal == "exclude":
            names = ", ".join(problem.project_ids[p] for p in conflicts)
            out.append(
                Violation(
                    Rule.RECUSAL,
                    f"{where}recusal is exclude, but a conflict with {names}",
                    expert=who,
                )
            )
    need = seat_enterprise_needed(problem, group.projects)
    got = sum(problem.expert_type[e] == "enterprise" for e in seats)
    if got < need:
        out.append(
            Violation(
                Rule.ENTERPRISE_SHARE,
                f"{where}{got} enterprise seats, needs {need}",
                group=group.id,
            )
        )
    limit = group_max_per_org(problem, group.projects)
    for org, n in sorted(Counter(int(problem.expert_org[e]) for e in seats).items()):
        if n > limit:
            out.append(
                Violation(
                    Rule.MAX_PER_ORG,
                    f"{where}{n} seats from {problem.org_names[org]} ({problem.org_ids[org]}), "
                    f"at most {limit}",
                    group=group.id,
                )
            )
    for _, quota in group_quotas(problem, group.projects):
        got = _counted(problem, quota, seats)
        low, high = quota.bounds(rules.panel_size)
        if not low <= got <= high:
            out.append(
                Violation(
                    Rule.QUOTA,
                    f"{where}quota {quota.name}: {got} seats with {quota.attribute} in "
                    f"{', '.join(quota.values)}, needs {low} to {high}",
                    group=group.id,
                )
            )
    return out


def _fits(problem: Problem, p: int, e: int) -> bool:
    """Is the (conflict-free) pair eligible: score above min_score, or an any_field quota?"""
    score = float(pair_scores(problem, np.array([p]), np.array([e]))[0])
    return score > problem.project_min_score[p] or _any_field(problem, p, e)


def _check_group_reviewers(
    problem: Problem, group: Group, every: Mapping[int, list[int]]
) -> list[Violation]:
    """Per project of the group: the listed reviewers are the seated experts without a
    conflict (recusal); at least min_reviewers; fields covered; enterprise reviewers."""
    out: list[Violation] = []
    rules, tree = problem.meeting, problem.field_tree
    for p in group.projects:
        pid = problem.project_ids[p]
        listed = set(every.get(p, []))
        for e in group.panel:
            if e not in listed and not explain_conflicts(problem, p, e):
                out.append(
                    Violation(
                        Rule.RECUSAL,
                        f"seated in group {group.id} with no conflict, but not reviewing",
                        pid,
                        problem.expert_ids[e],
                    )
                )
        for e in sorted(listed - set(group.panel)):
            out.append(
                Violation(
                    Rule.RECUSAL,
                    f"reviews it but is not seated in group {group.id}",
                    pid,
                    problem.expert_ids[e],
                )
            )
        revs = [e for e in group.panel if e in listed and not explain_conflicts(problem, p, e)]
        if len(revs) < rules.min_reviewers:
            out.append(
                Violation(
                    Rule.MIN_REVIEWERS,
                    f"{len(revs)} reviewers after recusals, needs {rules.min_reviewers}",
                    pid,
                )
            )
        level = int(problem.project_coverage_level[p])
        for f in problem.project_fields[p] if level > 0 else ():
            if not any(tree.covers(g, f, level) for e in revs for g in problem.expert_fields[e]):
                out.append(
                    Violation(Rule.COVERAGE, f"no reviewer covers field {f} at level {level}", pid)
                )
        need = reviewer_enterprise_needed(problem, p)
        got = sum(problem.expert_type[e] == "enterprise" for e in revs)
        if got < need:
            out.append(
                Violation(Rule.ENTERPRISE_SHARE, f"{got} enterprise reviewers, needs {need}", pid)
            )
    return out


def _check_seat_counts(
    problem: Problem, groups: list[Group], seats: Counter[int]
) -> Iterator[Violation]:
    """``max_groups_per_expert``."""
    limit = problem.meeting.max_groups_per_expert
    for e, n in sorted(seats.items()):
        if n > limit:
            yield Violation(
                Rule.MAX_GROUPS,
                f"seated in {n} groups, max_groups_per_expert is {limit}",
                expert=problem.expert_ids[e],
            )


def _check_group_chairs(
    problem: Problem,
    groups: list[Group],
    panel_chairs: Mapping[int, int] | None,
    known: bool = True,
    panels: Mapping[int, list[int]] | None = None,
) -> Iterator[Violation]:
    """The chair rule for groups: one seated chair with a chair value per group of its
    stages; chairs of groups and of panels together within ``max_per_expert``. Without the
    chairs (pairs without a ``role`` column): that such a choice exists, for the groups and
    the per-project ``panels`` together."""
    chair = problem.rules.chair
    if chair is None:
        return
    may = problem.has_value(chair.attribute, chair.values)
    if not known:
        yield from _chairs_can_be_chosen(problem, groups, may, chair.max_per_expert, panels)
        return
    chaired: Counter[int] = Counter((panel_chairs or {}).values())
    for g in groups:
        if not group_needs_chair(problem, g.projects):
            continue
        if g.chair < 0 or g.chair not in g.panel or not may[g.chair]:
            what = "no chair" if g.chair < 0 else f"{problem.expert_ids[g.chair]} may not chair it"
            yield Violation(Rule.CHAIR, f"group {g.id}: {what}", group=g.id)
        else:
            chaired[g.chair] += 1
    for e, n in sorted(chaired.items()):
        if n > chair.max_per_expert:
            yield Violation(
                Rule.CHAIR,
                f"chairs {n} panels and groups, at most {chair.max_per_expert}",
                expert=problem.expert_ids[e],
            )


def _chairs_can_be_chosen(
    problem: Problem,
    groups: list[Group],
    may: np.ndarray,
    cap: int,
    panels: Mapping[int, list[int]] | None = None,
) -> Iterator[Violation]:
    """A chair for every group and per-project panel that needs one, each expert chairing
    at most ``cap`` of them together: a maximum flow group or panel -> seated member who may
    chair -> sink (capacity ``cap``)."""
    import networkx as nx

    graph = nx.DiGraph()
    chair = problem.rules.chair
    assert chair is not None
    # (node, group id or "", project or -1, members): the groups, then the panels
    need = [
        (("g", g.id), g.id, -1, g.panel) for g in groups if group_needs_chair(problem, g.projects)
    ]
    need += [
        (("p", str(p)), "", p, tuple(members))
        for p, members in sorted((panels or {}).items())
        if chair.applies_to(problem.stages[p]) and not problem.project_meeting[p]
    ]
    for node, _, _, members in need:
        graph.add_edge("source", node, capacity=1)
        for e in members:
            if may[e]:
                graph.add_edge(node, ("e", e), capacity=1)
                graph.add_edge(("e", e), "sink", capacity=cap)
    flow = nx.maximum_flow(graph, "source", "sink")[1] if need and graph.has_node("sink") else {}
    for node, gid, p, _ in need:
        if sum(flow.get(node, {}).values()) >= 1:
            continue
        if p < 0:
            yield Violation(Rule.CHAIR, f"group {gid}: no seated member can chair it", group=gid)
        else:
            yield Violation(
                Rule.CHAIR,
                f"no member with {chair.attribute} in {', '.join(chair.values)} can chair "
                f"it (each chairs at most {cap} panels and groups)",
                problem.project_ids[p],
            )


def _check_schedule(problem: Problem, groups: list[Group]) -> Iterator[Violation]:
    """With slots: each group in a listed slot and a room 1..rooms, rooms not shared, an
    expert in at most one group a slot, and only in a slot the expert is available for."""
    rules = problem.meeting
    if not rules.slots:
        return
    used: dict[tuple[str, int], str] = {}
    sitting: dict[tuple[str, int], str] = {}
    for g in groups:
        if g.slot not in rules.slots or not 1 <= g.room <= rules.rooms:
            yield Violation(
                Rule.SCHEDULE,
                f"group {g.id}: slot {g.slot!r} room {g.room} is not one of the slots "
                f"({', '.join(rules.slots)}) and rooms 1 to {rules.rooms}",
            )
            continue
        if (g.slot, g.room) in used:
            yield Violation(
                Rule.SCHEDULE,
                f"groups {used[(g.slot, g.room)]} and {g.id} share room {g.room} in {g.slot}",
            )
        used[(g.slot, g.room)] = g.id
        for e in g.panel:
            who = problem.expert_ids[e]
            if (g.slot, e) in sitting:
                yield Violation(
                    Rule.SCHEDULE,
                    f"seated in groups {sitting[(g.slot, e)]} and {g.id}, both in {g.slot}",
                    expert=who,
                )
            sitting[(g.slot, e)] = g.id
            if not problem.available(e, g.slot):
                yield Violation(
                    Rule.AVAILABILITY,
                    f"group {g.id} meets in {g.slot}, which availability.csv does not list "
                    "for the expert",
                    expert=who,
                )


def check_group(problem: Problem, group: Group) -> list[Violation]:
    """Every rule of one meeting group alone, its reviewers derived (the seated experts
    without a conflict): the seats, each project's reviewers, and a chair who may chair
    among the seats when the rule asks for one. What ``reserves`` checks for each swap."""
    bad = {
        p: [e for e in group.panel if not explain_conflicts(problem, p, e)] for p in group.projects
    }
    out = _check_group_seats(problem, group) + _check_group_reviewers(problem, group, bad)
    chair = problem.rules.chair
    if chair is not None and group_needs_chair(problem, group.projects):
        may = problem.has_value(chair.attribute, chair.values)
        if not any(may[e] for e in group.panel):
            out.append(
                Violation(
                    Rule.CHAIR, f"group {group.id}: no seated member can chair it", group=group.id
                )
            )
    return out

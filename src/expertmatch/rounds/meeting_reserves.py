"""Reserves of meeting groups (会评): per group, who can take a seat in place of whom.

For each group of an earlier meeting assignment, :func:`meeting_reserves` ranks the experts not
seated there by their weight for the group (the sum of their scores over its projects without a
conflict) and keeps up to ``k`` of those who can replace at least one seated expert. A reserve
``r`` can replace ``m`` when the group with ``r`` in place of ``m`` keeps every rule of the
group (:func:`expertmatch.verify.check_group`: seats, reviewers after recusal, coverage,
enterprise shares, a chair) and ``r`` has a seat left (``max_groups_per_expert``, ``max_load``,
``yearly_cap``), is free in the group's slot and available then, and the rules over all seats
(the round's and the stages' enterprise targets, batch quotas:
:func:`expertmatch.verify.seat_rules`) still hold with the swap. One swap at a time, as for
the per-project reserves.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from expertmatch.domain.meetings import Group, group_stage, seat_list
from expertmatch.formulation.seating import seat_candidates
from expertmatch.rounds.history import (
    AssignmentLike,
    read_assignment_table,
    read_declines,
    with_declines,
)
from expertmatch.solvers.meetings import previous_groups
from expertmatch.verify import SeatRule, check_group, seat_rules, verify

if TYPE_CHECKING:
    from expertmatch.domain.problem import Problem

COLUMNS = [
    "group",
    "rank",
    "expert",
    "replaces",
    "weight",
    "expert_name",
    "organization",
    "org_type",
]


def meeting_reserves(
    problem: Problem, previous: AssignmentLike, k: int = 3, declined: AssignmentLike = None
) -> pd.DataFrame:
    """Up to ``k`` ranked reserves per meeting group: columns group, rank, expert, replaces
    (the seated experts, ``;``-separated, whom the reserve can replace with every rule
    holding), weight and who the reserve is. The earlier assignment (a file or table with its
    ``group`` column, or a Result) must itself keep every rule."""
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a whole number >= 1, not {k!r}")
    if declined is not None:
        problem = with_declines(problem, read_declines(declined, problem))
    frame = _frame(previous)
    broken = verify(problem, frame)
    if broken:
        raise ValueError(
            "the earlier assignment breaks rules, so no reserve can keep them all: "
            + "; ".join(map(str, broken[:5]))
        )
    groups, slot_room, keep = previous_groups(problem, frame)
    seats: Counter[int] = Counter(e for key, e in keep if key >= 0)
    reviews: Counter[int] = Counter(e for key, e in keep if key < 0)
    panels = {g: tuple(sorted(e for key, e in keep if key == g)) for g in range(len(groups))}
    slot_of = {g: slot for g, (slot, _) in slot_room.items()}
    busy = {(slot_of.get(g, ""), e) for g, panel in panels.items() for e in panel}
    every = [
        Group(gid, ps, panels[g], slot=slot_of.get(g, "")) for g, (gid, ps) in enumerate(groups)
    ]
    members: dict[int, list[int]] = {}
    for key, e in sorted(keep):
        if key < 0:
            members.setdefault(-1 - key, []).append(e)
    batch = [
        (rule, rule.count(seat_list(problem, members, every)))
        for rule in seat_rules(problem, every)
    ]
    rows = []
    for group in every:
        found = _group_reserves(problem, group, k, seats, reviews, busy, batch)
        rows += [
            _row(problem, group.id, rank, e, weight, out)
            for rank, (e, weight, out) in enumerate(found, 1)
        ]
    return pd.DataFrame(rows, columns=COLUMNS)


def _frame(previous: AssignmentLike) -> pd.DataFrame:
    from expertmatch.result import Result

    if isinstance(previous, Result):
        return previous.frame
    if isinstance(previous, pd.DataFrame):
        return previous
    if previous is None or (not hasattr(previous, "__fspath__") and not isinstance(previous, str)):
        raise ValueError("meeting reserves need the earlier assignment with its group column")
    return read_assignment_table(previous)


def _group_reserves(
    problem: Problem,
    group: Group,
    k: int,
    seats: Counter[int],
    reviews: Counter[int],
    busy: set[tuple[str, int]],
    batch: list[tuple[SeatRule, int]],
) -> list[tuple[int, int, list[int]]]:
    """The group's first ``k`` reserves by weight: (expert, weight, whom they can replace);
    ``batch``: the rules over all seats with their counts before any swap."""
    stage = group_stage(problem, group.projects)
    mine = [(rule, got) for rule, got in batch if rule.applies_to(stage)]
    experts, weight = seat_candidates(problem, group.projects, group.slot)
    order = np.lexsort((experts, -weight))
    rules = problem.meeting
    found = []
    for i in order.tolist():
        e = int(experts[i])
        if e in group.panel or seats[e] >= rules.max_groups_per_expert:
            continue
        if seats[e] + reviews[e] >= int(problem.expert_capacity[e]) or (group.slot, e) in busy:
            continue
        replaces = [
            m
            for m in group.panel
            if all(
                rule.violation(got - int(rule.counts[m]) + int(rule.counts[e])) is None
                for rule, got in mine
            )
            and not check_group(
                problem,
                Group(group.id, group.projects, tuple(sorted({*group.panel} - {m} | {e}))),
            )
        ]
        if replaces:
            found.append((e, int(weight[i]), replaces))
            if len(found) == k:
                break
    return found


def _row(
    problem: Problem, gid: str, rank: int, e: int, weight: int, out: list[int]
) -> dict[str, object]:
    from expertmatch.domain.scoring import score_unit

    org = int(problem.expert_org[e])
    return {
        "group": gid,
        "rank": rank,
        "expert": problem.expert_ids[e],
        "replaces": ";".join(problem.expert_ids[m] for m in out),
        "weight": round(weight * score_unit(problem), 6),
        "expert_name": problem.expert_names[e],
        "organization": problem.org_names[org],
        "org_type": problem.expert_type[e] or "unknown",
    }

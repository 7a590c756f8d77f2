"""Panel meetings (会评): what a meeting group is and what its rules mean.

A meeting project is reviewed in a group: one panel of ``panel_size`` experts is seated for the
whole group, and each seated expert reviews every project of the group they have no conflict
with. A seated expert with a conflict steps out for that project (``recusal = "recuse"``) or may
not sit in that group at all (``"exclude"``). So for a group G with seated panel S:

    reviewers(p) = { e in S : no conflict (e, p) }              for each project p of G

The rules (the contract's part 2, "Panel meetings"), written once here for the solver and for
:func:`expertmatch.verify` (which recomputes conflicts pair by pair, independently):

* over the seats: ``|S| = panel_size``; each seat fits at least one project of G (eligible: no
  conflict, score > ``min_score`` or an ``any_field`` quota); the per-panel rules over the seats
  (``enterprise_min_share`` of ``panel_size``, panel quotas, ``max_per_org``, the chair);
* per project: ``|reviewers(p)| >= min_reviewers``; its fields covered by its reviewers at its
  coverage level; at least ``ceil(share x min_reviewers)`` enterprise reviewers (or the row's
  ``enterprise_min``, at most ``min_reviewers``);
* per expert: at most ``max_groups_per_expert`` seats; a seat counts one toward ``max_load`` and
  ``yearly_cap`` (one meeting, whatever the size of its group);
* schedule (with ``slots``): each group in one slot and room, at most ``rooms`` groups a slot,
  an expert in at most one group a slot, and only in slots ``availability.csv`` allows.

The objective is the sum of scores over the reviewing pairs. A group's per-panel rules are the
rules of its projects' stage (a group holds one stage when stage rules differ).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from expertmatch.domain.conflicts import conflict_pairs
from expertmatch.domain.problem import Problem, memo
from expertmatch.domain.rules import Quota


@dataclass(frozen=True)
class Group:
    """One meeting group: its projects, the seated panel, the chair (-1: none), the slot ("":
    not scheduled) and the room (1-based; 0: not scheduled). Indices are the Problem's."""

    id: str
    projects: tuple[int, ...]
    panel: tuple[int, ...] = ()
    chair: int = -1
    slot: str = ""
    room: int = 0
    recused: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    """Per project, the seated experts who step out for it (conflict of interest)."""

    def as_json(self, problem: Problem) -> dict[str, object]:
        """The entry of ``report.json`` ``groups``: ids, not indices."""
        pid, eid = problem.project_ids, problem.expert_ids
        return {
            "id": self.id,
            "slot": self.slot or None,
            "room": self.room or None,
            "projects": [pid[p] for p in self.projects],
            "panel": [eid[e] for e in self.panel],
            "chair": eid[self.chair] if self.chair >= 0 else None,
            "recused": {pid[p]: [eid[e] for e in es] for p, es in self.recused.items() if es},
        }


def conflicted(problem: Problem) -> Mapping[int, frozenset[int]]:
    """Per project, the experts with a conflict of interest (bulk, for the solver; cached)."""

    def compute() -> dict[int, frozenset[int]]:
        c_project, c_expert, _ = conflict_pairs(problem)
        out: dict[int, set[int]] = {}
        for p, e in zip(c_project.tolist(), c_expert.tolist(), strict=True):
            out.setdefault(p, set()).add(e)
        return {p: frozenset(es) for p, es in out.items()}

    return memo(problem, "meeting conflicted", compute)


def reviewers(problem: Problem, group: Group) -> dict[int, tuple[int, ...]]:
    """Each project's reviewers: the seated experts without a conflict with it."""
    bad = conflicted(problem)
    return {
        p: tuple(e for e in group.panel if e not in bad.get(p, frozenset())) for p in group.projects
    }


def recusals(
    problem: Problem, projects: Sequence[int], panel: Sequence[int]
) -> dict[int, tuple[int, ...]]:
    """Each project's recused experts: the seated experts with a conflict with it."""
    bad = conflicted(problem)
    return {p: tuple(e for e in panel if e in bad.get(p, frozenset())) for p in projects}


def group_stage(problem: Problem, projects: Sequence[int]) -> str:
    """The stage whose per-panel rules the group's seats follow (its first project's)."""
    return problem.stages[projects[0]] if projects else "approval"


def seat_list(
    problem: Problem, panels: Mapping[int, Sequence[int]], groups: Sequence[Group]
) -> list[tuple[str, int]]:
    """Every seat of the batch as (stage, expert): each member of a per-project panel (its
    project's stage; ``panels``: project -> members) and each expert seated in a meeting
    group (its group's stage), one seat whatever the number of the group's projects. What
    the round's targets and the batch quotas count (their figures: ``Problem.seats``)."""
    stages = problem.stages
    out = [(stages[p], e) for p, members in panels.items() for e in members]
    out += [(group_stage(problem, g.projects), e) for g in groups for e in g.panel]
    return out


def seat_enterprise_needed(problem: Problem, projects: Sequence[int]) -> int:
    """Enterprise experts among the seats: ceil(share x panel_size), the stage's share."""
    share = problem.rules.value("enterprise_min_share", group_stage(problem, projects))
    return math.ceil(share * problem.meeting.panel_size)


def reviewer_enterprise_needed(problem: Problem, project: int) -> int:
    """Enterprise reviewers a meeting project needs: ceil(share x min_reviewers), or the
    row's ``enterprise_min`` (at most ``min_reviewers``)."""
    k = problem.meeting.min_reviewers
    given = int(problem.project_enterprise_min_given[project])  # type: ignore[index]
    if given >= 0:
        return min(given, k)
    share = problem.rules.value("enterprise_min_share", problem.stages[project])
    return math.ceil(share * k)


def group_max_per_org(problem: Problem, projects: Sequence[int]) -> int:
    """At most this many seated experts from one organization."""
    return int(problem.rules.value("max_per_org", group_stage(problem, projects)))


def group_quotas(problem: Problem, projects: Sequence[int]) -> list[tuple[int, Quota]]:
    """The panel-scope count rules (quotas and the chair's necessary part) over the group's
    seats: (index in ``Problem.count_rules``, rule)."""
    stage = group_stage(problem, projects)
    return [
        (q, rule)
        for q, rule in enumerate(problem.count_rules)
        if rule.scope == "panel" and rule.applies_to(stage)
    ]


def group_needs_chair(problem: Problem, projects: Sequence[int]) -> bool:
    chair = problem.rules.chair
    return chair is not None and chair.applies_to(group_stage(problem, projects))


def meeting_projects(problem: Problem) -> np.ndarray:
    """The indices of the meeting projects."""
    return np.flatnonzero(problem.project_meeting)


def stage_key(problem: Problem, project: int) -> str:
    """What projects must share to be grouped together: the stage when rules differ by
    stage, else nothing."""
    return problem.stages[project] if problem.rules.stage_dependent else ""


def unsupported(problem: Problem, drawing: bool = False) -> list[str]:
    """The rules this version does not combine with meeting review (refused with a clear
    error rather than answered wrongly). ``max_probability < 1`` is refused unless
    ``drawing`` (the random draw of :mod:`expertmatch.solvers.meeting_lottery` keeps it; the
    deterministic seating would ignore it)."""
    if not problem.has_meetings:
        return []
    out = []
    if not drawing and float(problem.project_max_probability.min(initial=1.0)) < 1:
        out.append("max_probability < 1 (the random draw) with meeting projects")
    return out

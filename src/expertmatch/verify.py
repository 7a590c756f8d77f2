"""Check an assignment against every rule and conflict of interest, independently of the
solver: from the batch's data, one pair and one panel at a time, in office terms.

Use it on any assignment — a :class:`Result`, a DataFrame or CSV with ``project`` and
``expert`` columns, or a list of (project id, expert id) pairs, even one made by hand.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from expertmatch.domain.chairs import choose_chairs
from expertmatch.domain.conflicts import explain_conflicts
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
    panels, out = _check_pairs(problem, _pairs(assignment))
    out += _check_min_score(problem, panels)
    loads: Counter[int] = Counter(e for members in panels.values() for e in members)
    for e, load in sorted(loads.items()):
        for expert_check in _EXPERT_CHECKS:
            out.extend(expert_check(problem, e, load))
    for p in range(problem.n_projects):
        members = panels.get(p, [])
        for panel_check in _PANEL_CHECKS:
            out.extend(panel_check(problem, p, members))
    out.extend(_check_enterprise_target_share(problem, loads))
    out.extend(_check_stage_targets(problem, panels))
    out.extend(_check_batch_quotas(problem, panels))
    out.extend(_check_chairs(problem, panels, getattr(assignment, "chairs", None)))
    return out


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


def _check_enterprise_target_share(problem: Problem, loads: Counter[int]) -> Iterator[Violation]:
    """``enterprise_target_share`` (if set): the batch's enterprise reviews against its target."""
    rules = problem.rules
    if rules.enterprise_target_share is None:
        return
    need = rules.enterprise_target_required(int(problem.project_panel_size.sum()))
    got = sum(problem.expert_type[e] == "enterprise" for e, n in loads.items() for _ in range(n))
    if got < need:
        yield Violation(
            Rule.ENTERPRISE_TARGET_SHARE,
            f"{got} of the batch's reviews are by enterprise experts, needs {need}",
        )


def _check_stage_targets(problem: Problem, panels: Mapping[int, list[int]]) -> Iterator[Violation]:
    """A stage's own ``enterprise_target_share``: its seats' enterprise reviews."""
    for stage, override in problem.rules.stage.items():
        if override.enterprise_target_share is None:
            continue
        projects = [p for p, s in enumerate(problem.stages) if s == stage]
        seats = int(sum(problem.project_panel_size[p] for p in projects))
        need = math.ceil(override.enterprise_target_share * seats)
        got = sum(
            problem.expert_type[e] == "enterprise" for p in projects for e in panels.get(p, [])
        )
        if got < need:
            yield Violation(
                Rule.ENTERPRISE_TARGET_SHARE,
                f"{got} of the {stage} reviews are by enterprise experts, needs {need}",
            )


def _check_batch_quotas(problem: Problem, panels: Mapping[int, list[int]]) -> Iterator[Violation]:
    """``quota`` (scope batch): over all seats of the quota's stages."""
    for quota in problem.rules.quota:
        if quota.scope != "batch":
            continue
        projects = [p for p, s in enumerate(problem.stages) if quota.applies_to(s)]
        seats = int(sum(problem.project_panel_size[p] for p in projects))
        got = _counted(problem, quota, [e for p in projects for e in panels.get(p, [])])
        low, high = quota.bounds(seats)
        if not low <= got <= high:
            yield Violation(
                Rule.QUOTA,
                f"quota {quota.name}: {got} of {seats} seats with {quota.attribute} in "
                f"{', '.join(quota.values)}, needs {low} to {high}",
            )


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
    needing = [p for p, s in enumerate(problem.stages) if chair.applies_to(s)]
    if chairs is None:
        pairs = [(p, e) for p in needing for e in panels.get(p, [])]
        found = Pairs(
            np.array([p for p, _ in pairs], dtype=np.int64),
            np.array([e for _, e in pairs], dtype=np.int64),
            np.zeros(len(pairs)),
        )
        _, missing = choose_chairs(problem, found)
        for p in missing:
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

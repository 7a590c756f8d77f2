"""Check an assignment against every rule and conflict of interest, independently of the
solver: from the batch's data, one pair and one panel at a time, in office terms.

Use it on any assignment — a :class:`Result`, a DataFrame or CSV with ``project`` and
``expert`` columns, or a list of (project id, expert id) pairs, even one made by hand.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from expertmatch.domain.conflicts import explain_conflicts
from expertmatch.domain.problem import Problem
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
    """Every violation of the batch's rules by ``assignment``; an empty list means it is valid."""
    rules = problem.rules
    out: list[Violation] = []
    panels: dict[int, list[int]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for project_id, expert_id in _pairs(assignment):
        if project_id not in problem.project_index:
            out.append(Violation(Rule.UNKNOWN_ID, f"unknown project {project_id!r}", project_id))
            continue
        if expert_id not in problem.expert_index:
            out.append(
                Violation(Rule.UNKNOWN_ID, f"unknown expert {expert_id!r}", project_id, expert_id)
            )
            continue
        if (project_id, expert_id) in seen:
            out.append(Violation(Rule.DUPLICATE, "the pair is listed twice", project_id, expert_id))
            continue
        seen.add((project_id, expert_id))
        p, e = problem.project_index[project_id], problem.expert_index[expert_id]
        panels[p].append(e)
        for reason in explain_conflicts(problem, p, e):
            out.append(Violation(Rule.CONFLICT, reason, project_id, expert_id))
    listed = [(p, e) for p, members in panels.items() for e in members]
    if listed:
        scores = pair_scores(
            problem, np.array([p for p, _ in listed]), np.array([e for _, e in listed])
        )
        for (p, e), score in zip(listed, scores, strict=True):
            if not score > rules.min_score:
                out.append(
                    Violation(
                        Rule.MIN_SCORE,
                        f"score {score:g} is not above min_score {rules.min_score:g}",
                        problem.project_ids[p],
                        problem.expert_ids[e],
                    )
                )

    loads: Counter[int] = Counter(e for members in panels.values() for e in members)
    for e, load in sorted(loads.items()):
        expert_id = problem.expert_ids[e]
        max_load = int(problem.expert_max_load[e])
        if load > max_load:
            out.append(
                Violation(
                    Rule.MAX_LOAD, f"{load} reviews, max_load is {max_load}", expert=expert_id
                )
            )
        used = int(problem.expert_used[e])
        if used + load > rules.yearly_cap:
            out.append(
                Violation(
                    Rule.YEARLY_CAP,
                    f"{used} used + {load} now exceeds yearly_cap {rules.yearly_cap}",
                    expert=expert_id,
                )
            )

    tree = problem.field_tree
    for p, project_id in enumerate(problem.project_ids):
        members = panels.get(p, [])
        size = int(problem.project_panel_size[p])
        if len(members) != size:
            out.append(
                Violation(
                    Rule.PANEL_SIZE, f"panel has {len(members)} experts, needs {size}", project_id
                )
            )
        need = rules.enterprise_required(size)
        got = sum(problem.expert_type[e] == "enterprise" for e in members)
        if got < need:
            out.append(
                Violation(
                    Rule.ENTERPRISE_SHARE,
                    f"{got} enterprise experts, needs {need} "
                    f"(share {rules.enterprise_min_share} of {size})",
                    project_id,
                )
            )
        per_org = Counter(int(problem.expert_org[e]) for e in members)
        for org, count in sorted(per_org.items()):
            if count > rules.max_per_org:
                out.append(
                    Violation(
                        Rule.MAX_PER_ORG,
                        f"{count} experts from "
                        f"{problem.org_names[org]} ({problem.org_ids[org]}), at "
                        f"most {rules.max_per_org} allowed",
                        project_id,
                    )
                )
        if rules.coverage_level > 0:
            for f in problem.project_fields[p]:
                if not any(
                    tree.covers(g, f, rules.coverage_level)
                    for e in members
                    for g in problem.expert_fields[e]
                ):
                    out.append(
                        Violation(
                            Rule.COVERAGE,
                            f"no panel expert covers field {f} at level {rules.coverage_level}",
                            project_id,
                        )
                    )

    if rules.enterprise_target_share is not None:
        total = int(problem.project_panel_size.sum())
        need_all = rules.enterprise_target_required(total)
        got_all = sum(
            problem.expert_type[e] == "enterprise" for e, n in loads.items() for _ in range(n)
        )
        if got_all < need_all:
            out.append(
                Violation(
                    Rule.ENTERPRISE_TARGET_SHARE,
                    f"{got_all} of the batch's reviews are by enterprise experts, needs {need_all}",
                )
            )
    return out

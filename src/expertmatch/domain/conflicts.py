"""Conflicts of interest: the five kinds of the data contract.

1. ``same_org``     the expert's organization is the applicant or a partner;
2. ``org_group``    the expert's organization has the same root (following ``parent`` links) as
                    the applicant's or a partner's organization;
3. ``team``         the expert is on the applicant team;
4. ``collaborator`` a ``coauthor``/``coproject`` relation with a team member within the
                    collaboration window (``reference_year - year < window``, or no year), or an
                    ``advisor``/``relative`` relation of any year (``other`` is never a conflict);
5. ``declared``     listed in ``conflicts.csv``.

:func:`find_conflicts` computes all conflicted pairs of a batch at once (a bit mask of kinds
per pair) for the solver; :func:`explain_conflicts` recomputes one pair from the raw data, in
words, for the office and for :func:`expertmatch.verify`. Tests hold the two against each other.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np

from expertmatch.domain.problem import memo

if TYPE_CHECKING:
    from expertmatch.domain.problem import Problem, Relation
    from expertmatch.domain.rules import Rules

KINDS = ("same_org", "org_group", "team", "collaborator", "declared")
BIT = {kind: 1 << i for i, kind in enumerate(KINDS)}


def relation_is_conflict(relation: Relation, rules: Rules) -> bool:
    """Does this relation, with a team member, bar the expert (the contract's rule 4)?"""
    if relation.kind in ("advisor", "relative"):
        return True
    if relation.kind in ("coauthor", "coproject"):
        if relation.year is None:
            return True
        return rules.reference_year - relation.year < rules.collaboration_window
    return False


def kinds_of(mask: int) -> list[str]:
    """The kind names set in a bit mask."""
    return [kind for kind in KINDS if mask & BIT[kind]]


def _members(
    projects: np.ndarray, groups: np.ndarray, group_of: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """For each (project, group) pair given, every expert whose group (``group_of``, one per
    expert) it is: the (project, expert) pairs, all at once."""
    order = np.argsort(group_of, kind="stable")
    sizes = np.bincount(group_of, minlength=n_groups)
    starts = np.cumsum(sizes) - sizes
    runs = sizes[groups]
    within = np.arange(int(runs.sum())) - np.repeat(np.cumsum(runs) - runs, runs)
    return np.repeat(projects, runs), order[np.repeat(starts[groups], runs) + within]


def conflict_pairs(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All conflicted (project, expert) pairs and the bit mask of their kinds (computed once
    per problem, see :func:`find_conflicts`)."""
    return memo(problem, "conflict_pairs", lambda: find_conflicts(problem))


def find_conflicts(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All conflicted (project, expert) pairs with a bit mask of their kinds.

    Returns three arrays sorted by project then expert: project index, expert index, mask.
    The organization kinds are expanded for all projects at once (an ``org_group`` pair is
    one of the same root that is not already ``same_org``); teams and relations per member.
    """
    n_exp = problem.n_experts
    n_org = len(problem.org_ids)
    root = problem.org_root
    orgs = [(p, o) for p in range(problem.n_projects) for o in _orgs_of(problem, p)]
    org_p = np.array([p for p, _ in orgs], dtype=np.int64)
    org_o = np.array([o for _, o in orgs], dtype=np.int64)
    roots = np.unique(org_p * max(n_org, 1) + root[org_o]) if orgs else org_o
    parts = [
        (*_members(org_p, org_o, problem.expert_org, n_org), BIT["same_org"]),
        (
            *_members(
                roots // max(n_org, 1), roots % max(n_org, 1), root[problem.expert_org], n_org
            ),
            BIT["org_group"],
        ),
    ]
    ties: dict[str, set[str]] = defaultdict(set)
    for rel in problem.relations:
        if relation_is_conflict(rel, problem.rules):
            ties[rel.a].add(rel.b)
            ties[rel.b].add(rel.a)
    index = problem.expert_index
    team: list[tuple[int, int]] = []
    near: list[tuple[int, int]] = []
    for p, members in enumerate(problem.members):
        team += [(p, index[m]) for m in members if m in index]
        near += [(p, index[t]) for m in members for t in ties.get(m, ()) if t in index]
    for kind, found in (
        ("team", team),
        ("collaborator", near),
        ("declared", list(problem.declared)),
    ):
        pairs = np.array(found, dtype=np.int64).reshape(-1, 2)
        parts.append((pairs[:, 0], pairs[:, 1], BIT[kind]))
    key = np.concatenate([p * max(n_exp, 1) + e for p, e, _ in parts])
    mask = np.concatenate([np.full(p.size, bit, dtype=np.int64) for p, _, bit in parts])
    if not key.size:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    order = np.argsort(key, kind="stable")
    key, mask = key[order], mask[order]
    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    merged = np.bitwise_or.reduceat(mask, first)
    merged[(merged & BIT["same_org"]) != 0] &= ~BIT["org_group"]
    key = key[first]
    return key // max(n_exp, 1), key % max(n_exp, 1), merged


def _orgs_of(problem: Problem, p: int) -> list[int]:
    """The applicant's organization and the partners' of project ``p``, each once."""
    return sorted({int(problem.project_org[p]), *problem.project_partners[p]})


def explain_conflicts(problem: Problem, project: int, expert: int) -> list[str]:
    """Every conflict of interest between one expert and one project, in words.

    Computed from the batch's raw data (organizations, parents, team, relations, declared
    list), independently of :func:`find_conflicts`.
    """
    reasons: list[str] = []
    org_ids, names = problem.org_ids, problem.org_names

    def label(o: int) -> str:
        return f"{names[o]} ({org_ids[o]})" if names[o] and names[o] != org_ids[o] else org_ids[o]

    def top(o: int) -> int:
        seen = set()
        while problem.org_parent[o] >= 0 and o not in seen:
            seen.add(o)
            o = int(problem.org_parent[o])
        return o

    e_org = int(problem.expert_org[expert])
    applicant = int(problem.project_org[project])
    roles = [(applicant, "the applicant")] + [
        (o, "a partner") for o in problem.project_partners[project]
    ]
    same = False
    for o, role in roles:
        if o == e_org:
            reasons.append(f"same_org: the expert's organization {label(o)} is {role}")
            same = True
    if not same:
        for o, role in roles:
            if top(o) == top(e_org):
                reasons.append(
                    f"org_group: the expert's organization {label(e_org)} and {role} "
                    f"{label(o)} belong to the same group {label(top(o))}"
                )
                break
    expert_id = problem.expert_ids[expert]
    team = problem.members[project]
    if expert_id in team:
        reasons.append("team: the expert is on the applicant team")
    for rel in problem.relations_of.get(expert_id, ()):
        if not relation_is_conflict(rel, problem.rules):
            continue
        other = rel.b if rel.a == expert_id else rel.a if rel.b == expert_id else None
        if other is not None and other in team:
            when = f" in {rel.year}" if rel.year is not None else " (no year given)"
            what = {"coauthor": "co-author", "coproject": "co-project partner"}.get(
                rel.kind, rel.kind
            )
            reasons.append(f"collaborator: {what} of team member {other}{when}")
    if (project, expert) in problem.declared:
        reason = problem.declared[(project, expert)]
        if reason.startswith("declined"):  # a decline of this round (history.with_declines)
            reasons.append(f"declared: {reason}")
        else:
            reasons.append("declared: listed in conflicts.csv" + (f" ({reason})" if reason else ""))
    return reasons

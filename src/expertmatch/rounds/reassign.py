"""Reassignment after declines: change as few earlier pairs as possible, then score highest.

Experts decline after an assignment is sent out. :func:`reassign` takes the earlier assignment
and the declines (expert, project; an empty project means the expert is unavailable for the
whole round), rules every declined pair out like a declared conflict of interest, and solves
lexicographically (:mod:`expertmatch.solvers.ordered`):

1. keep the most earlier pairs (equivalently, change the fewest), then
2. maximise the total score with that many kept,

with every rule holding. Earlier pairs that are no longer eligible (declined, or broken by a
changed input) count as changed. The result's ``stats`` (:class:`ReassignStats`) lists in
``changes``, per project, who left the panel and who joined it.

When the rules cannot all hold after the declines, :func:`reassign` raises the diagnosis;
with ``relax`` it returns instead the assignment that bends the fewest rules (in the bend
order, as ``assign --relax``: :mod:`expertmatch.solvers.relax`), then keeps the most earlier
pairs, then scores highest, every bend listed in ``Result.bends``
(:class:`RelaxedReassignStats`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.pairs import Pairs
from expertmatch.errors import InfeasibleError, InputError, InputIssue
from expertmatch.formulation.cpsat import SatModel
from expertmatch.result import Stats
from expertmatch.rounds.history import (
    AssignmentLike,
    read_declines,
    read_pairs,
    source_sha256,
    with_declines,
)
from expertmatch.solvers.chairs import attach_chairs, relaxed_chairs
from expertmatch.solvers.exact import solve
from expertmatch.solvers.ordered import solve_in_order
from expertmatch.solvers.relax import BEND_ORDER, check_order, solve_relaxed

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from expertmatch.domain.problem import Problem
    from expertmatch.result import Result
    from expertmatch.solvers.params import SolveParams


def previous_pairs(problem: Problem, previous: AssignmentLike) -> set[tuple[int, int]]:
    """The earlier assignment as (project index, expert index); unknown ids are input errors."""
    out: set[tuple[int, int]] = set()
    issues = []
    for r in read_pairs(previous, label="previous assignment"):
        if r.project not in problem.project_index:
            issues.append(InputIssue(r.label, f"unknown project {r.project!r}", r.row, "project"))
        elif r.expert not in problem.expert_index:
            issues.append(InputIssue(r.label, f"unknown expert {r.expert!r}", r.row, "expert"))
        else:
            key = (problem.project_index[r.project], problem.expert_index[r.expert])
            if key in out:
                issues.append(
                    InputIssue(r.label, f"pair {r.project}/{r.expert} listed twice", r.row)
                )
            out.add(key)
    if issues:
        raise InputError(issues)
    return out


class Change(TypedDict):
    """One changed panel: who left it and who joined it."""

    project: str
    removed: list[str]
    added: list[str]


class Decline(TypedDict):
    """One decline as read (``project`` None: unavailable for the whole round)."""

    expert: str
    project: str | None


@dataclass(frozen=True)
class ReassignStats(Stats):
    """``Result.stats`` of :func:`reassign` (``report.json`` ``stats``, in this order)."""

    method: str
    held: dict[str, float]
    """Values held before the score was maximised: ``kept_pairs``."""
    pairs: int
    """Columns of the CP-SAT model."""
    previous_pairs: int
    kept_pairs: int
    changed_pairs: int
    declines: int
    changes: list[Change]
    declined: list[Decline]
    previous_sha256: str | None
    declined_sha256: str | None


@dataclass(frozen=True)
class RelaxedReassignStats(ReassignStats):
    """``Result.stats`` of ``reassign(relax=True)`` when rules had to bend: the keys of
    :class:`ReassignStats`, then the bend order and the fewest bends reached for each rule."""

    bend_order: list[str]
    """The bend order used, first bends first."""
    bends_by_rule: dict[str, int]
    """The fewest bends reached for each rule (most protected first)."""


def reassign(
    problem: Problem,
    previous: AssignmentLike,
    declined: AssignmentLike,
    params: SolveParams,
    relax: bool = False,
    order: tuple[str, ...] = BEND_ORDER,
) -> Result:
    """The assignment closest to ``previous`` that avoids every decline, then best-scoring.

    ``previous``: an assignment (CSV path, DataFrame, Result or (project, expert) pairs).
    ``declined``: a ``declined.csv`` path, a DataFrame with columns expert, project, or
    (expert, project) pairs with project ``""``/None for the whole round.
    ``relax``: when the rules cannot all hold, bend the fewest (in ``order``) first instead of
    raising the diagnosis; conflicts, declines and panel sizes never bend.
    The returned Result's problem is the batch with the declines ruled out, so
    ``verify(result.problem, result)`` also checks that no declined pair is used (and finds
    exactly the bends listed in ``Result.bends``).
    """

    order = check_order(order)
    start = time.perf_counter()
    before = previous_pairs(problem, previous)
    declines = read_declines(declined, problem)
    batch = with_declines(problem, declines)
    pairs = eligible_pairs(batch)
    keys = pairs.project * problem.n_experts + pairs.expert
    earlier = np.array(sorted(p * problem.n_experts + e for p, e in before), dtype=np.int64)
    kept_cols = np.flatnonzero(np.isin(keys, earlier))
    try:
        result = _keep_every_earlier_pair(batch, pairs, kept_cols, before, params)
        result = attach_chairs(batch, result)
    except InfeasibleError:
        result = _with_moves(batch, pairs, kept_cols, params, start, relax, order)
    return replace(result, stats=_stats(problem, result, before, declines, previous, declined))


def _with_moves(
    batch: Problem,
    pairs: Pairs,
    kept_cols: np.ndarray,
    params: SolveParams,
    start: float,
    relax: bool,
    order: tuple[str, ...],
) -> Result:
    """When other panels must move too: the fewest changes over every eligible pair; if the
    rules cannot all hold, the diagnosis, or with ``relax`` the fewest bends first."""
    try:
        result = _fewest_changes(batch, pairs, kept_cols, _rest(params, start), not relax)
        return attach_chairs(batch, result)
    except InfeasibleError:
        if not relax:
            raise
    return _fewest_bends_then_changes(batch, kept_cols, _rest(params, start), order)


def _rest(params: SolveParams, start: float) -> SolveParams:
    """``params`` with what is left of the time limit since ``start``."""
    left = params.time_limit - (time.perf_counter() - start)
    return replace(params, time_limit=max(left, 0.5))


def _stats(
    problem: Problem,
    result: Result,
    before: set[tuple[int, int]],
    declines: Sequence[Any],
    previous: AssignmentLike,
    declined: AssignmentLike,
) -> ReassignStats:
    """The statistics of the reassignment ``result`` (relaxed ones add the bends)."""
    after = {
        (int(p), int(e)) for p, e in zip(result.pairs.project, result.pairs.expert, strict=True)
    }
    figures: dict[str, Any] = {
        "method": result.stats["method"],
        "held": result.stats["held"],
        "pairs": result.stats["pairs"],
        "previous_pairs": len(before),
        "kept_pairs": len(before & after),
        "changed_pairs": len(before - after),
        "declines": len(declines),
        "changes": _changes(problem, before, after),
        "declined": [{"expert": r.expert, "project": r.project or None} for r in declines],
        "previous_sha256": source_sha256(previous),
        "declined_sha256": source_sha256(declined),
    }
    if "bends_by_rule" in result.stats:
        return RelaxedReassignStats(
            **figures,
            bend_order=list(result.stats["bend_order"]),
            bends_by_rule=dict(result.stats["bends_by_rule"]),
        )
    return ReassignStats(**figures)


def _keep_every_earlier_pair(
    batch: Problem,
    pairs: Pairs,
    kept_cols: np.ndarray,
    before: set[tuple[int, int]],
    params: SolveParams,
) -> Result:
    """The fast exact path: every earlier pair that is still eligible must change if it is
    lost, so keeping all of them is the fewest changes whenever the affected panels can be
    completed. With them held, only the affected projects' pairs can join: a small model.
    Raises :class:`InfeasibleError` when the affected panels cannot be completed so."""
    kept_set = set(
        zip(pairs.project[kept_cols].tolist(), pairs.expert[kept_cols].tolist(), strict=True)
    )
    lost = {p for p, e in before if (p, e) not in kept_set}
    sub = np.zeros(len(pairs), dtype=bool)
    sub[kept_cols] = True
    sub |= np.isin(pairs.project, np.array(sorted(lost), dtype=np.int64))
    result = solve_in_order(
        batch,
        params,
        [],
        pairs=pairs.take(sub),
        fixed_one=np.flatnonzero(np.isin(np.flatnonzero(sub), kept_cols)),
        method="reassign: every still-eligible earlier pair kept, the affected panels "
        "completed for the best score (CP-SAT)",
    )
    return replace(result, stats={**result.stats, "held": {"kept_pairs": len(kept_cols)}})


def _fewest_changes(
    batch: Problem,
    pairs: Pairs,
    kept_cols: np.ndarray,
    params: SolveParams,
    diagnose: bool = True,
) -> Result:
    """Keep the most earlier pairs, then score highest, over every eligible pair (CP-SAT);
    when the rules cannot all hold, raises the exact solver's diagnosis (``diagnose``) or
    CP-SAT's bare :class:`InfeasibleError`."""

    def kept(m: SatModel) -> tuple[cp_model.LinearExprT, bool]:
        from ortools.sat.python import cp_model

        return cp_model.LinearExpr.sum([m.x[j] for j in kept_cols]), True

    hint = np.zeros(len(pairs), dtype=bool)
    hint[kept_cols] = True
    return solve_in_order(
        batch,
        params,
        [("kept_pairs", kept)],
        hint=hint,
        method="reassign (fewest changes, then score; CP-SAT over every eligible pair)",
        on_infeasible=(lambda: solve(batch, params)) if diagnose else None,
    )


def _fewest_bends_then_changes(
    batch: Problem, kept_cols: np.ndarray, params: SolveParams, order: tuple[str, ...]
) -> Result:
    """``relax``: the fewest bends (in ``order``), then the most earlier pairs kept, then the
    best score, on the relaxed model of :mod:`expertmatch.solvers.relax` (columns: every
    eligible pair of ``batch``); a panel the chair cap leaves without a chair is one more
    bend."""

    def kept(pairs: Pairs, x: Sequence[cp_model.IntVar]) -> cp_model.LinearExprT:
        from ortools.sat.python import cp_model

        return cp_model.LinearExpr.sum([x[j] for j in kept_cols])

    pairs = eligible_pairs(batch)
    hint = np.zeros(len(pairs), dtype=bool)
    hint[kept_cols] = True
    result = solve_relaxed(
        batch,
        params,
        order,
        goals=[("kept_pairs", kept)],
        hint=hint,
        method="reassign --relax (fewest bends in the bend order, then fewest changes, then "
        "score; lexicographic CP-SAT over every eligible pair)",
    )
    kept_now = int(pairs.member_of(result.pairs, batch.n_experts)[kept_cols].sum())
    stats = {
        "method": result.stats["method"],
        "held": {"kept_pairs": kept_now},
        "pairs": len(pairs),
        "bend_order": result.stats["bend_order"],
        "bends_by_rule": result.stats["bends_by_rule"],
    }
    return relaxed_chairs(batch, replace(result, stats=stats))


def _changes(
    problem: Problem, before: set[tuple[int, int]], after: set[tuple[int, int]]
) -> list[Change]:
    """Per changed project (in index order): the experts who left and who joined."""
    return [
        {
            "project": problem.project_ids[p],
            "removed": sorted(problem.expert_ids[e] for q, e in before - after if q == p),
            "added": sorted(problem.expert_ids[e] for q, e in after - before if q == p),
        }
        for p in sorted({p for p, _ in before ^ after})
    ]

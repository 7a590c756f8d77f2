"""Reserve experts: who can step in for whom, with every rule still holding.

For each project, :func:`reserves` ranks the experts who are not on its panel by score and
keeps up to ``k`` of those who can replace at least one panel member. A reserve ``r`` can
replace member ``m`` when the panel with ``r`` in place of ``m`` keeps every rule: ``r`` is
eligible (no conflict of interest, score above ``min_score``), has a review left (``max_load``
and ``yearly_cap``, counting the reviews the assignment already gives them), the panel keeps its
enterprise minimum, organization cap and field coverage, and the batch keeps
``enterprise_target_share``.

Each row is checked against the assignment as it stands: one swap at a time. After a swap,
compute the reserves again (or use ``reassign``) before the next one, since two swaps may
compete for the same expert's last review.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from expertmatch.domain.coverage import coverage_rows
from expertmatch.domain.eligibility import eligible_blocks
from expertmatch.errors import ExpertMatchError
from expertmatch.rounds.history import AssignmentLike, read_declines, with_declines
from expertmatch.rounds.reassign import previous_pairs
from expertmatch.verify import verify

if TYPE_CHECKING:
    from expertmatch.domain.problem import Problem

COLUMNS = [
    "project",
    "rank",
    "expert",
    "replaces",
    "score",
    "expert_name",
    "organization",
    "org_type",
]


def reserves(
    problem: Problem, previous: AssignmentLike, k: int = 3, declined: AssignmentLike = None
) -> pd.DataFrame:
    """Up to ``k`` ranked reserves per project: columns project, rank, expert, replaces (the
    panel members, ``;``-separated, whom the reserve can replace with every rule holding)
    and explanatory columns (score, name, organization, type).

    ``declined`` (as for :func:`expertmatch.reassign`) rules out declined pairs and experts
    unavailable for the round, so they are never proposed as reserves.
    The assignment must itself satisfy every rule; otherwise an error lists the violations.
    """
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a whole number >= 1, not {k!r}")
    if declined is not None:
        problem = with_declines(problem, read_declines(declined, problem))
    before = previous_pairs(problem, previous)
    violations = verify(
        problem, [(problem.project_ids[p], problem.expert_ids[e]) for p, e in sorted(before)]
    )
    if violations:
        raise ExpertMatchError(
            "the previous assignment breaks rules, so no swap can keep them all: "
            + "; ".join(map(str, violations[:5]))
            + (f" (and {len(violations) - 5} more)" if len(violations) > 5 else "")
        )
    panels: dict[int, list[int]] = {p: [] for p in range(problem.n_projects)}
    for p, e in sorted(before):
        panels[p].append(e)
    swaps = _Swaps.of(problem, panels)
    rows = []
    for block, scores in eligible_blocks(problem):
        for i, p in enumerate(block.tolist()):
            members = np.array(panels[p], dtype=np.int64)
            if members.size == 0:
                continue
            cand = np.flatnonzero((scores[i] > -np.inf) & swaps.free)
            cand = cand[~np.isin(cand, members)]
            if cand.size == 0:
                continue
            ok = swaps.allowed(p, cand, members)
            can = ok.any(axis=1)
            good = cand[can]
            order = np.lexsort((good, -scores[i][good]))[:k]
            for rank, c in enumerate(order, start=1):
                e = int(good[c])
                replaceable = members[ok[np.flatnonzero(can)[c]]]
                rows.append(_row(problem, p, rank, e, replaceable, float(scores[i][e])))
    return pd.DataFrame(rows, columns=COLUMNS)


def _row(
    problem: Problem, p: int, rank: int, e: int, replaceable: np.ndarray, score: float
) -> dict[str, object]:
    return {
        "project": problem.project_ids[p],
        "rank": rank,
        "expert": problem.expert_ids[e],
        "replaces": ";".join(sorted(problem.expert_ids[m] for m in replaceable)),
        "score": score,
        "expert_name": problem.expert_names[e],
        "organization": problem.org_names[int(problem.expert_org[e])],
        "org_type": problem.expert_type[e] or "unknown",
    }


@dataclass(frozen=True)
class _Swaps:
    """What a single swap must keep, counted once on the assignment as it stands."""

    problem: Problem
    panels: dict[int, list[int]]
    free: np.ndarray  # experts with a review left
    enterprise_total: int
    enterprise_need: int
    stage_enterprise: dict[str, tuple[int, int]]  # stage -> (enterprise seats now, needed)
    batch_quota: dict[int, tuple[int, int, int]]  # quota -> (counted seats now, low, high)

    @classmethod
    def of(cls, problem: Problem, panels: dict[int, list[int]]) -> _Swaps:
        seats = [(p, e) for p, members in panels.items() for e in members]
        load = np.bincount([e for _, e in seats], minlength=problem.n_experts)
        ent = problem.expert_enterprise
        stage_ent = {}
        for stage, override in problem.rules.stage.items():
            if override.enterprise_target_share is not None:
                now = sum(int(ent[e]) for p, e in seats if problem.stages[p] == stage)
                stage_ent[stage] = (now, problem.stage_target_required(stage))
        batch = {}
        for q, quota in enumerate(problem.count_rules):
            if quota.scope == "batch":
                counted = problem.has_value(quota.attribute, quota.values)
                applies = problem.covered_by(quota)
                now = sum(int(counted[e]) for p, e in seats if applies[p])
                batch[q] = (now, *quota.bounds(problem.seats_of(quota)))
        return cls(
            problem,
            panels,
            problem.expert_capacity - load >= 1,
            int(load[ent].sum()),
            problem.rules.enterprise_target_required(int(problem.project_panel_size.sum())),
            stage_ent,
            batch,
        )

    def allowed(self, p: int, cand: np.ndarray, members: np.ndarray) -> np.ndarray:
        """Candidate x member: does putting the candidate in the member's seat keep every rule
        of the panel (enterprise minimum, organization cap, coverage, quotas) and the batch
        (enterprise targets, batch quotas)?"""
        problem = self.problem
        ent = problem.expert_enterprise
        delta = ent[cand].astype(int)[:, None] - ent[members].astype(int)[None, :]
        ok = int(ent[members].sum()) + delta >= int(problem.enterprise_required[p])
        ok &= self.enterprise_total + delta >= self.enterprise_need
        if problem.stages[p] in self.stage_enterprise:
            now, need = self.stage_enterprise[problem.stages[p]]
            ok &= now + delta >= need
        org = problem.expert_org
        same_org = org[cand][:, None] == org[members][None, :]
        in_panel = same_org.sum(axis=1)
        ok &= (in_panel[:, None] - same_org + 1) <= int(problem.project_max_per_org[p])
        ok &= self._coverage(p, cand, members)
        ok &= self._quotas(p, cand, members)
        return ok

    def _coverage(self, p: int, cand: np.ndarray, members: np.ndarray) -> np.ndarray:
        """Every field node of the project keeps at least one covering panel member."""
        cov = coverage_rows(self.problem)
        nodes = cov.node[cov.project == p]
        if not nodes.size:
            return np.ones((cand.size, members.size), dtype=bool)
        held_m = cov.holds[members][:, nodes].toarray() > 0  # member x node
        held_c = cov.holds[cand][:, nodes].toarray() > 0  # candidate x node
        after = held_m.sum(axis=0)[None, None, :] - held_m[None, :, :] + held_c[:, None, :]
        return np.asarray((after >= 1).all(axis=2))

    def _quotas(self, p: int, cand: np.ndarray, members: np.ndarray) -> np.ndarray:
        """Each quota of the project's stage stays within its bounds, for the panel (scope
        panel) or over its stages' seats (scope batch)."""
        problem, ok = self.problem, np.ones((cand.size, members.size), dtype=bool)
        for q, quota in enumerate(problem.count_rules):
            if not quota.applies_to(problem.stages[p]):
                continue
            counted = problem.has_value(quota.attribute, quota.values).astype(int)
            delta = counted[cand][:, None] - counted[members][None, :]
            if quota.scope == "batch":
                now, low, high = self.batch_quota[q]
            else:
                now = int(counted[members].sum())
                low, high = quota.bounds(int(problem.project_panel_size[p]))
            ok &= (now + delta >= low) & (now + delta <= high)
        return ok

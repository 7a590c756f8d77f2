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
    rules = problem.rules
    panels: dict[int, list[int]] = {p: [] for p in range(problem.n_projects)}
    for p, e in sorted(before):
        panels[p].append(e)
    load = np.bincount([e for _, e in before], minlength=problem.n_experts)
    free = problem.expert_capacity - load >= 1
    ent = problem.expert_enterprise
    org = problem.expert_org
    cov = coverage_rows(problem)
    ent_total = int(load[ent].sum())
    ent_need_all = rules.enterprise_target_required(int(problem.project_panel_size.sum()))
    rows = []
    for block, scores in eligible_blocks(problem):
        for i, p in enumerate(block.tolist()):
            members = np.array(panels[p], dtype=np.int64)
            if members.size == 0:
                continue
            cand = np.flatnonzero((scores[i] > -np.inf) & free)
            cand = cand[~np.isin(cand, members)]
            if cand.size == 0:
                continue
            ok = np.ones((cand.size, members.size), dtype=bool)  # candidate x member
            # enterprise minimum of the panel and enterprise target of the batch
            delta = ent[cand].astype(int)[:, None] - ent[members].astype(int)[None, :]
            ok &= int(ent[members].sum()) + delta >= int(problem.enterprise_required[p])
            ok &= ent_total + delta >= ent_need_all
            # organization cap: the candidate's organization after the swap
            same_org = org[cand][:, None] == org[members][None, :]
            in_panel = same_org.sum(axis=1)
            ok &= (in_panel[:, None] - same_org + 1) <= rules.max_per_org
            # coverage: every field node keeps at least one covering panel member
            nodes = cov.node[cov.project == p]
            if nodes.size:
                held_m = cov.holds[members][:, nodes].toarray() > 0  # member x node
                held_c = cov.holds[cand][:, nodes].toarray() > 0  # candidate x node
                count = held_m.sum(axis=0)  # node
                after = count[None, None, :] - held_m[None, :, :] + held_c[:, None, :]
                ok &= (after >= 1).all(axis=2)
            can = ok.any(axis=1)
            good = cand[can]
            order = np.lexsort((good, -scores[i][good]))[:k]
            for rank, c in enumerate(order, start=1):
                e = int(good[c])
                replaceable = members[ok[np.flatnonzero(can)[c]]]
                rows.append(
                    {
                        "project": problem.project_ids[p],
                        "rank": rank,
                        "expert": problem.expert_ids[e],
                        "replaces": ";".join(sorted(problem.expert_ids[m] for m in replaceable)),
                        "score": float(scores[i][e]),
                        "expert_name": problem.expert_names[e],
                        "organization": problem.org_names[int(org[e])],
                        "org_type": problem.expert_type[e] or "unknown",
                    }
                )
    return pd.DataFrame(rows, columns=COLUMNS)

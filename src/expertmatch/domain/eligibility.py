"""Which expert may review which project: no conflict of interest and score > ``min_score``.

The solver only ever sees these pairs. :func:`explain_pair` answers the office's question
"why is expert E not eligible for project P?" in words.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from expertmatch.domain.conflicts import conflict_pairs, explain_conflicts
from expertmatch.domain.pairs import Pairs, ranges
from expertmatch.domain.problem import Problem, memo
from expertmatch.domain.scoring import block_scores, score_of

#: Project rows scored at once: keeps the dense score block near 4 million cells.
BLOCK_CELLS = 4_000_000


def eligible_blocks(
    problem: Problem, projects: np.ndarray | None = None, with_capacity: bool = False
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Scores of blocks of projects against all experts, ``-inf`` where a pair is not eligible.

    Yields ``(block, scores)`` with ``block`` the project indices (ascending) and ``scores`` of
    shape (len(block), experts). ``with_capacity`` also rules out experts with no capacity left.
    Blocks keep about ``BLOCK_CELLS`` cells, so the full pair matrix never exists at once.
    """
    c_project, c_expert, _ = conflict_pairs(problem)
    minimum = problem.project_min_score
    projects = np.arange(problem.n_projects) if projects is None else np.asarray(projects)
    step = max(1, BLOCK_CELLS // max(problem.n_experts, 1))
    no_capacity = problem.expert_capacity == 0
    for start in range(0, projects.size, step):
        block = projects[start : start + step]
        scores = block_scores(problem, block)
        low = ~(scores > minimum[block][:, None])
        for in_stage, counts in any_field(problem):
            low[np.ix_(in_stage[block], counts)] = False
        scores[low] = -np.inf
        lo = np.searchsorted(c_project, block, side="left")
        hi = np.searchsorted(c_project, block, side="right")
        rows = np.repeat(np.arange(block.size), hi - lo)
        scores[rows, c_expert[ranges(lo, hi)]] = -np.inf
        if with_capacity:
            scores[:, no_capacity] = -np.inf
        yield block, scores


def any_field(problem: Problem) -> list[tuple[np.ndarray, np.ndarray]]:
    """The quotas with ``any_field``: per quota, (projects of its stages, experts it counts).
    Those experts are eligible for those projects whatever their score (conflicts still
    apply): a finance expert reviews the budget, not the science."""
    out = []
    for quota in problem.rules.quota:
        if quota.any_field:
            out.append(
                (problem.covered_by(quota), problem.has_value(quota.attribute, quota.values))
            )
    return out


def score_counts(problem: Problem, project: int, expert: int) -> bool:
    """Must this pair's score be above ``min_score`` (False for an any_field quota's expert)?"""
    return not any(in_stage[project] and counts[expert] for in_stage, counts in any_field(problem))


def eligible_pairs(problem: Problem) -> Pairs:
    """All eligible pairs, sorted by project then expert, with their scores.

    Computed once per problem (large batches are solved without ever asking for it)."""
    return memo(problem, "eligible_pairs", lambda: _eligible_pairs(problem))


def _eligible_pairs(problem: Problem) -> Pairs:
    parts_p, parts_e, parts_s = [], [], []
    for block, scores in eligible_blocks(problem):
        rows, cols = np.nonzero(scores > -np.inf)
        parts_p.append(block[rows])
        parts_e.append(cols)
        parts_s.append(scores[rows, cols])
    if not parts_p:
        empty = np.zeros(0, dtype=np.int64)
        return Pairs(empty, empty.copy(), np.zeros(0))
    return Pairs(
        np.concatenate(parts_p).astype(np.int64),
        np.concatenate(parts_e).astype(np.int64),
        np.concatenate(parts_s),
    )


def explain_pair(problem: Problem, expert: int, project: int) -> list[str]:
    """Reasons the expert cannot review the project; empty when the pair is eligible."""
    reasons = explain_conflicts(problem, project, expert)
    score = score_of(problem, project, expert)
    minimum = float(problem.project_min_score[project])
    if not score > minimum and score_counts(problem, project, expert):
        reasons.append(f"score: {score:g} is not above min_score {minimum:g}")
        if problem.project_meeting[project] and len(reasons) == 1:
            reasons.append(
                "meeting: the score only decides who may be seated; a seated expert reviews "
                "every project of the group without a conflict, whatever its score"
            )
    if problem.expert_capacity[expert] == 0:
        reasons.append(
            f"load: no reviews left (max_load {problem.expert_max_load[expert]}, used "
            f"{problem.expert_used[expert]} of yearly_cap {problem.rules.yearly_cap})"
        )
    return reasons


def why_ineligible(problem: Problem, expert_id: str, project_id: str) -> list[str]:
    """Why this expert may not review this project, in office terms (empty if eligible)."""
    return explain_pair(problem, problem.expert_index[expert_id], problem.project_index[project_id])


def notices(problem: Problem) -> list[str]:
    """What the input allows but almost surely did not mean, said before solving (printed by
    the CLI, recorded in ``report.json``): an expert whose ``used`` is already above
    ``yearly_cap`` can never be assigned this year; papers given beside ``scores.csv`` are not
    used."""
    cap = problem.rules.yearly_cap
    over = np.flatnonzero(problem.expert_used > cap)
    notes = [
        f"experts.csv: expert {problem.expert_ids[e]} has used {int(problem.expert_used[e])}, "
        f"above yearly_cap {cap}: they can never be assigned this year (check used or yearly_cap)"
        for e in over.tolist()
    ]
    if (
        problem.papers is not None
        and len(problem.papers.title)
        and problem.supplied_scores is not None
    ):
        notes.append(
            "papers.csv is not used: scores.csv gives every pair's score (without scores.csv "
            "the built-in score blends in the text of abstracts and papers)"
        )
    return notes

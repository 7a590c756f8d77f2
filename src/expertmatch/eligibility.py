"""Which expert may review which project: no conflict of interest and score > ``min_score``.

The solver only ever sees these pairs. :func:`explain_pair` answers the office's question
"why is expert E not eligible for project P?" in words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .conflicts import explain_conflicts
from .problem import Pairs
from .scoring import block_scores

if TYPE_CHECKING:
    from .problem import Problem

#: Project rows scored at once: keeps the dense score block near 4 million cells.
BLOCK_CELLS = 4_000_000


def eligible_pairs(problem: Problem, conflicts: tuple[np.ndarray, np.ndarray, np.ndarray]) -> Pairs:
    """All eligible pairs, sorted by project then expert, with their scores."""
    n_exp = max(problem.n_experts, 1)
    c_project, c_expert, _ = conflicts
    conflict_key = c_project * n_exp + c_expert
    minimum = problem.rules.min_score
    if problem.supplied_scores is not None:
        items = sorted(problem.supplied_scores.items())
        key = np.array([p * n_exp + e for (p, e), _ in items], dtype=np.int64)
        score = np.array([s for _, s in items], dtype=np.float64)
        keep = (score > minimum) & ~np.isin(key, conflict_key)
        return Pairs(key[keep] // n_exp, key[keep] % n_exp, score[keep])
    parts_p, parts_e, parts_s = [], [], []
    step = max(1, BLOCK_CELLS // n_exp)
    for start in range(0, problem.n_projects, step):
        block = np.arange(start, min(start + step, problem.n_projects))
        scores = block_scores(problem, block)
        in_block = (c_project >= start) & (c_project < start + block.size)
        scores[c_project[in_block] - start, c_expert[in_block]] = -1.0
        rows, cols = np.nonzero(scores > minimum)
        parts_p.append(rows + start)
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
    score = problem.score_of(project, expert)
    if not score > problem.rules.min_score:
        reasons.append(f"score: {score:g} is not above min_score {problem.rules.min_score:g}")
    if problem.expert_capacity[expert] == 0:
        reasons.append(
            f"load: no reviews left (max_load {problem.expert_max_load[expert]}, used "
            f"{problem.expert_used[expert]} of yearly_cap {problem.rules.yearly_cap})"
        )
    return reasons

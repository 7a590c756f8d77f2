"""Restricted candidate sets, so that large batches never hold every pair.

``survey`` makes one pass over all projects in blocks (:func:`eligible_blocks`) and keeps, per
project, the best-scoring eligible experts plus enough to satisfy each rule (the best
enterprise experts, the best experts for each field to cover, the best experts each panel
quota with a minimum counts, the chair's included), together with the per-project
facts the first-line feasibility checks need and the highest score left out (``cutoff``).
:mod:`expertmatch.solvers.pricing` adds any other pair that can improve the LP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from expertmatch.domain.coverage import coverage_rows
from expertmatch.domain.eligibility import eligible_blocks
from expertmatch.domain.pairs import Pairs, concat

if TYPE_CHECKING:
    from expertmatch.domain.problem import Problem

#: Extra candidates per project beyond the panel size, and per rule to satisfy.
EXTRA, PER_RULE = 12, 3


@dataclass(frozen=True)
class Survey:
    """Per-project facts over all eligible pairs with capacity, and the candidate pairs."""

    candidates: Pairs
    cutoff: np.ndarray  # highest score of an eligible pair left out (-inf if none)
    eligible: np.ndarray
    enterprise: np.ndarray
    orgs: np.ndarray
    enterprise_orgs: np.ndarray
    covered: np.ndarray  # per coverage row of the problem: does an eligible expert cover it?
    total_eligible: int
    quota_eligible: np.ndarray
    """Projects x ``Problem.count_rules``: the eligible experts with capacity each counts."""


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Mask of each row's k largest finite entries."""
    mask = np.zeros(scores.shape, dtype=bool)
    if k <= 0 or scores.shape[1] == 0:
        return mask
    if k >= scores.shape[1]:
        return np.isfinite(scores)
    idx = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    rows = np.repeat(np.arange(scores.shape[0]), k)
    mask[rows, idx.ravel()] = True
    return mask & np.isfinite(scores)


def _distinct(eligible: np.ndarray, by_org: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per row, how many distinct organizations the eligible experts come from.

    ``by_org`` orders the experts by organization and ``starts`` marks where each begins.
    """
    if eligible.shape[1] == 0:
        return np.zeros(eligible.shape[0], dtype=np.int64)
    return np.logical_or.reduceat(eligible[:, by_org], starts, axis=1).sum(axis=1)


def survey(problem: Problem, extra: int = EXTRA, with_capacity: bool = True) -> Survey:
    """One pass over all projects: candidate pairs and per-project facts.

    ``with_capacity=False`` also counts experts with no capacity left (the relaxed solve, where
    loads and yearly caps may bend)."""
    ent = problem.expert_enterprise
    by_org = np.argsort(problem.expert_org, kind="stable")
    sorted_org = problem.expert_org[by_org]
    starts = (
        np.flatnonzero(np.r_[True, sorted_org[1:] != sorted_org[:-1]])
        if by_org.size
        else np.zeros(0, dtype=np.int64)
    )
    cov = coverage_rows(problem)
    n_p = problem.n_projects
    cutoff = np.full(n_p, -np.inf)
    counts = {
        name: np.zeros(n_p, dtype=np.int64)
        for name in ("eligible", "enterprise", "orgs", "enterprise_orgs")
    }
    covered = np.zeros(cov.project.size, dtype=bool)
    quotas = problem.count_rules
    counted = np.array(
        [problem.has_value(q.attribute, q.values) for q in quotas], dtype=np.int64
    ).reshape(len(quotas), problem.n_experts)
    quota_eligible = np.zeros((n_p, len(quotas)), dtype=np.int64)
    widest = int(problem.project_panel_size.max()) if n_p else 0
    wanted = [
        (counted[q].astype(bool), problem.covered_by(quota))
        for q, quota in enumerate(quotas)
        if quota.scope == "panel" and quota.bounds(widest)[0] > 0
    ]
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    total = 0
    for block, scores in eligible_blocks(problem, with_capacity=with_capacity):
        ok = np.isfinite(scores)
        total += int(ok.sum())
        counts["eligible"][block] = ok.sum(axis=1)
        counts["enterprise"][block] = (ok & ent).sum(axis=1)
        counts["orgs"][block] = _distinct(ok, by_org, starts)
        counts["enterprise_orgs"][block] = _distinct(ok & ent, by_org, starts)
        if quotas:
            quota_eligible[block] = ok.astype(np.int64) @ counted.T
        k = int(problem.project_panel_size[block].max()) + extra
        chosen = _top(scores, k)
        need = problem.enterprise_required[block] + PER_RULE
        short = np.flatnonzero((chosen & ent).sum(axis=1) < need)
        if short.size:
            top = _top(np.where(ent, scores[short], -np.inf), int(need.max()))
            chosen[short] |= top
        lo, hi = np.searchsorted(cov.project, [block[0], block[-1] + 1])
        if hi > lo:
            rows = np.searchsorted(block, cov.project[lo:hi])
            nodes, which = np.unique(cov.node[lo:hi], return_inverse=True)
            holds = (cov.holds_t[nodes].toarray() > 0)[which]  # (coverage rows, experts)
            covered[lo:hi] = (holds & ok[rows]).any(axis=1)
            few = np.flatnonzero((holds & chosen[rows]).sum(axis=1) < PER_RULE)
            if few.size:
                masked = np.where(holds[few], scores[rows[few]], -np.inf)
                r_idx, e_idx = np.nonzero(_top(masked, PER_RULE))
                chosen[rows[few][r_idx], e_idx] = True
        for counted_by_q, in_stage in wanted:  # the best experts each panel quota counts
            rows = np.flatnonzero(in_stage[block])
            if rows.size:
                masked = np.where(counted_by_q[None, :], scores[rows], -np.inf)
                r_idx, e_idx = np.nonzero(_top(masked, PER_RULE))
                chosen[rows[r_idx], e_idx] = True
        left = np.where(chosen, -np.inf, scores)
        cutoff[block] = left.max(axis=1) if left.shape[1] else -np.inf
        rows, cols = np.nonzero(chosen)
        parts.append((block[rows], cols, scores[rows, cols]))
    candidates = concat(parts)
    return Survey(
        candidates,
        cutoff,
        counts["eligible"],
        counts["enterprise"],
        counts["orgs"],
        counts["enterprise_orgs"],
        covered,
        total,
        quota_eligible,
    )

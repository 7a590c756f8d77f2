"""Restricted candidate sets and pricing, so that large batches never hold every pair.

``survey`` makes one pass over all projects in blocks (:func:`eligible_blocks`) and keeps, per
project, the best-scoring eligible experts plus enough to satisfy each rule (the best
enterprise experts, the best experts for each field to cover), together with the per-project
facts the first-line feasibility checks need and the highest score left out (``cutoff``).

``price`` then finds, from the duals of a restricted LP, every eligible pair whose reduced cost
exceeds a threshold. Rows of a rule that no candidate pair touches have zero dual, so the
reduced cost of a pair (project p, expert e) in the maximisation LP is

    rc = w_pe + pi_panel[p] + pi_load[e] + pi_org[p, org(e)] + [e enterprise] (pi_ent[p]
         + pi_target) + sum over coverage rows (p, c) that e covers of pi_cov[p, c]

with pi_load, pi_org <= 0 and pi_ent, pi_cov, pi_target >= 0. A pair left out scores at most
``cutoff[p]``, so ``cutoff[p] + pi_panel[p] + pi_ent[p] + sum_c pi_cov[p, c] + pi_target``
bounds the reduced cost of all of project p's left-out pairs: projects whose bound is below the
threshold are skipped without scoring them again. When no pair prices out, the restricted LP's
optimum is the LP optimum over all eligible pairs, and its bound holds for the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from expertmatch.domain.coverage import coverage_rows
from expertmatch.domain.eligibility import eligible_blocks
from expertmatch.domain.problem import Pairs
from expertmatch.domain.scoring import score_unit
from expertmatch.formulation.rows import Model
from expertmatch.vocabulary import Rule

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


def survey(problem: Problem, extra: int = EXTRA) -> Survey:
    """One pass over all projects: candidate pairs and per-project facts."""
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
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    total = 0
    for block, scores in eligible_blocks(problem, with_capacity=True):
        ok = np.isfinite(scores)
        total += int(ok.sum())
        counts["eligible"][block] = ok.sum(axis=1)
        counts["enterprise"][block] = (ok & ent).sum(axis=1)
        counts["orgs"][block] = _distinct(ok, by_org, starts)
        counts["enterprise_orgs"][block] = _distinct(ok & ent, by_org, starts)
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
        left = np.where(chosen, -np.inf, scores)
        cutoff[block] = left.max(axis=1) if left.shape[1] else -np.inf
        rows, cols = np.nonzero(chosen)
        parts.append((block[rows], cols, scores[rows, cols]))
    candidates = _pairs(parts)
    return Survey(
        candidates,
        cutoff,
        counts["eligible"],
        counts["enterprise"],
        counts["orgs"],
        counts["enterprise_orgs"],
        covered,
        total,
    )


def _pairs(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Pairs:
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Pairs(empty, empty.copy(), np.zeros(0))
    project = np.concatenate([p for p, _, _ in parts]).astype(np.int64)
    expert = np.concatenate([e for _, e, _ in parts]).astype(np.int64)
    score = np.concatenate([s for _, _, s in parts])
    order = np.lexsort((expert, project))
    return Pairs(project[order], expert[order], score[order])


def merge(a: Pairs, b: Pairs, n_experts: int) -> Pairs:
    """The union of two pair sets, sorted by project then expert."""
    key = np.concatenate([a.project, b.project]) * n_experts + np.concatenate([a.expert, b.expert])
    score = np.concatenate([a.score, b.score])
    key, first = np.unique(key, return_index=True)
    return Pairs(key // n_experts, key % n_experts, score[first])


@dataclass(frozen=True)
class Duals:
    """Row duals of a restricted LP, spread out by what the rows are about."""

    panel: np.ndarray  # per project
    load: np.ndarray  # per expert
    enterprise: np.ndarray  # per project
    target: float
    org: dict[tuple[int, int], float]
    cov: dict[tuple[int, int], float]  # (project, node)

    @classmethod
    def from_model(cls, problem: Problem, model: Model, pi: np.ndarray) -> Duals:
        rule = model.row_rule
        panel = np.zeros(problem.n_projects)
        load = np.zeros(problem.n_experts)
        enterprise = np.zeros(problem.n_projects)
        r = rule == Rule.PANEL_SIZE
        panel[model.row_project[r]] = pi[r]
        r = rule == Rule.LOAD
        load[model.row_expert[r]] = np.minimum(pi[r], 0.0)
        r = rule == Rule.ENTERPRISE_SHARE
        enterprise[model.row_project[r]] = np.maximum(pi[r], 0.0)
        r = rule == Rule.ENTERPRISE_TARGET_SHARE
        target = float(np.maximum(pi[r], 0.0).sum())
        r = np.flatnonzero(rule == Rule.MAX_PER_ORG)
        org = {
            (int(model.row_project[i]), int(model.row_org[i])): min(float(pi[i]), 0.0)
            for i in r
            if pi[i] != 0
        }
        r = np.flatnonzero(rule == Rule.COVERAGE)
        cov = {
            (int(model.row_project[i]), int(model.row_node[i])): max(float(pi[i]), 0.0)
            for i in r
            if pi[i] != 0
        }
        return cls(panel, load, enterprise, target, org, cov)

    def bound(self, problem: Problem, cutoff_w: np.ndarray) -> np.ndarray:
        """Per project, an upper bound on the reduced cost of its pairs scoring <= cutoff."""
        gain = self.panel + self.enterprise + self.target
        for (p, _), value in self.cov.items():
            gain[p] += value
        return cutoff_w + gain


def price(
    problem: Problem,
    duals: Duals,
    columns: Pairs,
    cutoff: np.ndarray,
    threshold: float,
    per_project: int | None,
) -> tuple[Pairs, np.ndarray]:
    """Eligible pairs outside ``columns`` with reduced cost > ``threshold`` (weight units).

    At most ``per_project`` per project (the largest reduced costs), or all when None. Also
    returns, per project, an upper bound on the largest reduced cost of any pair outside
    ``columns`` (exact for the projects scored, the cutoff bound for those skipped).
    """
    unit = score_unit(problem)
    bound = duals.bound(problem, np.where(np.isfinite(cutoff), cutoff / unit, -np.inf))
    best = bound.copy()
    todo = np.flatnonzero(bound > threshold)
    if todo.size == 0:
        return _pairs([]), best
    ent = problem.expert_enterprise
    org_of = problem.expert_org
    cov = coverage_rows(problem)
    in_columns = np.sort(columns.project * problem.n_experts + columns.expert)
    parts = []
    for block, scores in eligible_blocks(problem, todo, with_capacity=True):
        rc = np.rint(scores / unit)  # weights; -inf stays -inf
        rc += duals.panel[block][:, None] + duals.load[None, :]
        rc += (duals.enterprise[block][:, None] + duals.target) * ent[None, :]
        row_of = {int(p): i for i, p in enumerate(block)}
        org_entries = [(row_of[p], o, v) for (p, o), v in duals.org.items() if p in row_of]
        if org_entries:
            per_org = np.zeros((block.size, max(len(problem.org_ids), 1)))
            for r, o, v in org_entries:
                per_org[r, o] = v
            rc += per_org[:, org_of]
        cov_entries = [(row_of[p], node, v) for (p, node), v in duals.cov.items() if p in row_of]
        if cov_entries:
            r_idx, n_idx, vals = (np.array(x) for x in zip(*cov_entries, strict=True))
            weights = sp.csr_matrix((vals, (r_idx, n_idx)), shape=(block.size, cov.holds.shape[1]))
            rc += (weights @ cov.holds.T).toarray()
        rows, cols = np.nonzero(rc > threshold)
        inside = np.isin(block[rows] * problem.n_experts + cols, in_columns)
        rc[rows[inside], cols[inside]] = -np.inf
        best[block] = rc.max(axis=1) if rc.shape[1] else -np.inf
        rows, cols = rows[~inside], cols[~inside]
        if per_project is not None and rows.size:
            order = np.lexsort((-rc[rows, cols], rows))
            rows, cols = rows[order], cols[order]
            rank = np.arange(rows.size) - np.searchsorted(rows, rows)
            rows, cols = rows[rank < per_project], cols[rank < per_project]
        parts.append((block[rows], cols, scores[rows, cols]))
    return _pairs(parts), best

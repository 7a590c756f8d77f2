"""Pricing: from the row duals of a restricted LP, every eligible pair whose reduced cost
exceeds a threshold, found in blocks without ever holding the full pair set.

Rows of a rule that no candidate pair touches have zero dual, so the reduced cost of a pair
(project p, expert e) in the maximisation LP is

    rc = w_pe + pi_panel[p] + pi_load[e] + pi_org[p, org(e)] + [e enterprise] (pi_ent[p]
         + pi_target) + sum over coverage rows (p, c) that e covers of pi_cov[p, c]

with pi_load, pi_org <= 0 and pi_ent, pi_cov, pi_target >= 0. A pair left out of the
candidates scores at most ``cutoff[p]`` (:func:`expertmatch.formulation.candidates.survey`),
so ``cutoff[p] + pi_panel[p] + pi_ent[p] + sum_c pi_cov[p, c] + pi_target`` bounds the reduced
cost of all of project p's left-out pairs: projects whose bound is below the threshold are
skipped without scoring them again. When no pair prices out, the restricted LP's optimum is the
LP optimum over all eligible pairs, and its bound holds for the whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from expertmatch.domain.coverage import coverage_rows
from expertmatch.domain.eligibility import eligible_blocks
from expertmatch.domain.pairs import Pairs, concat
from expertmatch.domain.problem import Problem
from expertmatch.domain.scoring import score_unit
from expertmatch.formulation.rows import Model
from expertmatch.vocabulary import Rule


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
        return concat([]), best
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
    return concat(parts), best

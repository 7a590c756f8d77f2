"""Pricing: from the row duals of a restricted LP, every eligible pair whose reduced cost
exceeds a threshold, found in blocks without ever holding the full pair set.

Rows of a rule that no candidate pair touches have zero dual, so the reduced cost of a pair
(project p, expert e) in the maximisation LP is

    rc = w_pe + pi_panel[p] + pi_load[e] + pi_org[p, org(e)] + [e enterprise] (pi_ent[p]
         + pi_target) + sum over coverage rows (p, c) that e covers of pi_cov[p, c]

with pi_load, pi_org <= 0 and pi_ent, pi_cov, pi_target >= 0. With chair variables in the LP
(:mod:`expertmatch.formulation.chair_columns`), a new pair whose project needs a chair and whose
expert may chair can enter with its chair variable (``y = x``), which adds
``max(0, pi_one[p] + pi_chaircap[e])``: any LP point with new pairs splits into pairs with and
without their chair, so this is the largest reduced cost either way. A pair left out of the
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

from expertmatch.domain.chairs import may_chair, needs_chair
from expertmatch.domain.coverage import coverage_rows
from expertmatch.domain.eligibility import eligible_blocks
from expertmatch.domain.pairs import Pairs, concat
from expertmatch.domain.problem import Problem
from expertmatch.domain.rules import STAGES
from expertmatch.domain.scoring import score_unit
from expertmatch.formulation.rows import Model
from expertmatch.vocabulary import Rule


@dataclass(frozen=True)
class Duals:
    """Row duals of a restricted LP, spread out by what the rows are about."""

    panel: np.ndarray  # per project
    load: np.ndarray  # per expert
    enterprise: np.ndarray  # per project
    target: np.ndarray  # per project: the round's and its stage's enterprise targets
    org: dict[tuple[int, int], float]
    cov: dict[tuple[int, int], float]  # (project, node)
    quota: np.ndarray  # projects x quotas: the duals of the quota rows a pair of p enters
    chair_one: np.ndarray | None = None  # per project: its one-chair row (chair variables)
    chair_cap: np.ndarray | None = None  # per expert: their chair cap row (<= 0)

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
        target = _targets(problem, model, pi)
        quota = _quota_duals(problem, model, pi)
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
        return cls(panel, load, enterprise, target, org, cov, quota)

    def bound(self, problem: Problem, cutoff_w: np.ndarray) -> np.ndarray:
        """Per project, an upper bound on the reduced cost of its pairs scoring <= cutoff."""
        gain = self.panel + self.enterprise + self.target
        gain += np.maximum(self.quota, 0.0).sum(axis=1)
        if self.chair_one is not None:
            gain += np.maximum(self.chair_one, 0.0)
        for (p, _), value in self.cov.items():
            gain[p] += value
        return cutoff_w + gain


def _targets(problem: Problem, model: Model, pi: np.ndarray) -> np.ndarray:
    """Per project, the duals of the enterprise target rows its enterprise pairs enter: the
    round's (every project) and its stage's own (``row_stage``)."""
    target = np.zeros(problem.n_projects)
    rows = np.flatnonzero(model.row_rule == Rule.ENTERPRISE_TARGET_SHARE)
    stage_of = np.array([STAGES.index(s) for s in problem.stages], dtype=np.int64)
    row_stage = model.row_stage if model.row_stage is not None else np.full(model.n_rows, -1)
    for r in rows:
        value = max(float(pi[r]), 0.0)
        s = int(row_stage[r])
        target += value if s < 0 else value * (stage_of == s)
    return target


def _quota_duals(problem: Problem, model: Model, pi: np.ndarray) -> np.ndarray:
    """Projects x quotas: the dual of the quota row a pair of the project enters (its panel's
    row, or the quota's batch row for projects of its stages); either sign."""
    quotas = problem.count_rules
    out = np.zeros((problem.n_projects, len(quotas)))
    if model.row_quota is None:
        return out
    for r in np.flatnonzero(model.row_rule == Rule.QUOTA):
        q, p = int(model.row_quota[r]), int(model.row_project[r])
        if p >= 0:
            out[p, q] += float(pi[r])
        else:
            out[problem.covered_by(quotas[q]), q] += float(pi[r])
    return out


def _counted(problem: Problem) -> np.ndarray:
    """Quotas x experts: 1.0 where the quota counts the expert."""
    return np.array(
        [problem.has_value(q.attribute, q.values) for q in problem.count_rules], dtype=float
    ).reshape(len(problem.count_rules), problem.n_experts)


def _sorted_member(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """``np.isin(keys, sorted_keys)`` for a sorted ``sorted_keys``, by binary search: np.isin
    sorts or hashes both arrays on every call, which at 10k x 30k took most of a pricing
    pass (a block's millions of candidate keys against the LP's 200k pairs)."""
    if sorted_keys.size == 0:
        return np.zeros(keys.shape, dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return np.asarray(sorted_keys[at] == keys)


def price(
    problem: Problem,
    duals: Duals,
    columns: Pairs,
    cutoff: np.ndarray,
    threshold: float,
    per_project: int | None,
    weighted: bool = True,
    with_capacity: bool = True,
) -> tuple[Pairs, np.ndarray]:
    """Eligible pairs outside ``columns`` with reduced cost > ``threshold`` (weight units).

    At most ``per_project`` per project (the largest reduced costs), or all when None. Also
    returns, per project, an upper bound on the largest reduced cost of any pair outside
    ``columns`` (exact for the projects scored, the cutoff bound for those skipped).
    ``weighted=False`` prices an LP whose objective gives the pairs no weight (the relaxed
    solve's bend stages, :mod:`expertmatch.solvers.bends`): only the duals count;
    ``with_capacity=False`` also prices experts with no capacity left (loads may bend there).
    """
    unit = score_unit(problem)
    scale = 1.0 if weighted else 0.0
    finite = np.isfinite(cutoff)
    cutoff_w = np.where(finite, scale * np.where(finite, cutoff, 0.0) / unit, -np.inf)
    bound = duals.bound(problem, cutoff_w)
    best = bound.copy()
    todo = np.flatnonzero(bound > threshold)
    if todo.size == 0:
        return concat([]), best
    ent = problem.expert_enterprise
    org_of = problem.expert_org
    cov = coverage_rows(problem)
    in_columns = np.sort(columns.project * problem.n_experts + columns.expert)
    parts = []
    for block, scores in eligible_blocks(problem, todo, with_capacity=with_capacity):
        rc = np.rint(scores / unit) if weighted else np.where(np.isfinite(scores), 0.0, -np.inf)
        rc += duals.panel[block][:, None] + duals.load[None, :]
        rc += (duals.enterprise[block] + duals.target[block])[:, None] * ent[None, :]
        if duals.quota.shape[1]:
            rc += duals.quota[block] @ _counted(problem)
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
        if duals.chair_one is not None and duals.chair_cap is not None:
            # a new pair may also bring its chair variable: y = x adds these duals
            chair = duals.chair_one[block][:, None] + duals.chair_cap[None, :]
            chair *= needs_chair(problem)[block][:, None] & may_chair(problem)[None, :]
            rc += np.maximum(chair, 0.0)
        rows, cols = np.nonzero(rc > threshold)
        inside = _sorted_member(block[rows] * problem.n_experts + cols, in_columns)
        rc[rows[inside], cols[inside]] = -np.inf
        best[block] = rc.max(axis=1) if rc.shape[1] else -np.inf
        rows, cols = rows[~inside], cols[~inside]
        if per_project is not None and rows.size:
            # equal reduced costs (common unweighted: every expert with capacity left prices
            # the same) go to the better score, not the lower expert index: otherwise every
            # project adds the same few experts, which the next LP saturates at once
            ties = () if weighted else (-scores[rows, cols],)
            order = np.lexsort((*ties, -rc[rows, cols], rows))
            rows, cols = rows[order], cols[order]
            rank = np.arange(rows.size) - np.searchsorted(rows, rows)
            rows, cols = rows[rank < per_project], cols[rank < per_project]
        parts.append((block[rows], cols, scores[rows, cols]))
    return concat(parts), best

"""The assignment model, written once, over the eligible pairs only.

Variables: ``x_j`` in {0, 1} for each eligible pair j = (project p, expert e), score ``s_j``.

    maximise    sum_j s_j x_j
    subject to  sum_{j in p} x_j                       =  k_p          panel size
                sum_{j of e} x_j                       <= cap_e        load and yearly cap,
                                                                       cap_e = min(max_load_e,
                                                                       yearly_cap - used_e)
                sum_{j in p, e enterprise} x_j         >= ceil(share k_p)   enterprise share
                sum_{j in p, e in org o} x_j           <= max_per_org  organization cap
                sum_{j in p, e covers c} x_j           >= 1            coverage of each field
                                                                       prefix c of p
                sum_{j, e enterprise} x_j              >= ceil(target sum_p k_p)   round share

Rows that can never bind (an expert whose eligible pairs do not exceed the cap, an organization
with no more eligible experts than the cap) are left out. The same rows feed the LP relaxation
(HiGHS) and the exact CP-SAT model, so both solve the same problem.

Scores become integers for CP-SAT: ``weight_j = round(s_j x 10^6) / g`` with g the gcd of all
of them, so the integer objective is exact for scores with up to 6 decimals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

if TYPE_CHECKING:
    from .problem import Problem

SCORE_UNIT = 10**6


@dataclass(frozen=True)
class Model:
    """``lb <= A x <= ub``, x binary, maximise ``weight . x`` (objective = weight . x x unit)."""

    A: sp.csr_matrix
    lb: np.ndarray
    ub: np.ndarray
    row_rule: np.ndarray
    row_project: np.ndarray
    weight: np.ndarray
    unit: float

    @property
    def n_pairs(self) -> int:
        return int(self.A.shape[1])

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    def satisfied(self, x: np.ndarray) -> bool:
        """Does the 0/1 vector ``x`` satisfy every row?"""
        ax = self.A @ x.astype(np.float64)
        return bool(np.all(ax >= self.lb - 1e-9) and np.all(ax <= self.ub + 1e-9))

    def value(self, x: np.ndarray) -> int:
        """The integer objective of the 0/1 vector ``x``."""
        return int(self.weight[x.astype(bool)].sum())


def integer_weights(scores: np.ndarray) -> tuple[np.ndarray, float]:
    """Scores as exact integers and the unit that turns them back into scores."""
    raw = np.rint(scores * SCORE_UNIT).astype(np.int64)
    g = int(reduce(math.gcd, np.unique(raw).tolist(), 0)) or 1
    return raw // g, g / SCORE_UNIT


class _Rows:
    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.lb: list[np.ndarray] = []
        self.ub: list[np.ndarray] = []
        self.rule: list[np.ndarray] = []
        self.project: list[np.ndarray] = []
        self.count = 0

    def add(
        self,
        rule: str,
        row_of_entry: np.ndarray,
        cols: np.ndarray,
        lb: np.ndarray,
        ub: np.ndarray,
        project: np.ndarray,
    ) -> None:
        """Add ``len(lb)`` rows; entry i sits in new row ``row_of_entry[i]``, column cols[i]."""
        n = len(lb)
        if n == 0:
            return
        self.rows.append(row_of_entry + self.count)
        self.cols.append(cols)
        self.lb.append(np.asarray(lb, dtype=float))
        self.ub.append(np.asarray(ub, dtype=float))
        self.rule.append(np.full(n, rule, dtype=object))
        self.project.append(np.asarray(project, dtype=np.int64))
        self.count += n


def _group(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique keys, the group number of each entry, and the size of each group."""
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return uniq, inverse, counts


def build_model(problem: Problem) -> Model:
    """The rows of every rule of the batch over its eligible pairs."""
    pairs = problem.pairs
    n = len(pairs)
    pj, ej = pairs.project, pairs.expert
    j = np.arange(n)
    rules = problem.rules
    rows = _Rows()

    # panel size: one row per project (a project with no eligible pair gets an empty row)
    size = problem.project_panel_size.astype(float)
    rows.add("panel_size", pj, j, size, size, np.arange(problem.n_projects))

    # load and yearly cap
    experts, group, degree = _group(ej)
    cap = problem.expert_capacity[experts]
    binding = degree > cap
    keep = binding[group]
    renum = np.cumsum(binding) - 1
    rows.add(
        "load",
        renum[group[keep]],
        j[keep],
        np.full(binding.sum(), -np.inf),
        cap[binding],
        np.full(binding.sum(), -1),
    )

    # enterprise share per panel
    ent = problem.expert_enterprise[ej]
    need = problem.enterprise_required
    with_need = need > 0
    renum_p = np.cumsum(with_need) - 1
    mask = ent & with_need[pj]
    rows.add(
        "enterprise_share",
        renum_p[pj[mask]],
        j[mask],
        need[with_need],
        np.full(with_need.sum(), np.inf),
        np.flatnonzero(with_need),
    )

    # organization cap
    key = pj * len(problem.org_ids) + problem.expert_org[ej]
    uniq, group, count = _group(key)
    over = count > rules.max_per_org
    keep = over[group]
    renum = np.cumsum(over) - 1
    rows.add(
        "max_per_org",
        renum[group[keep]],
        j[keep],
        np.full(over.sum(), -np.inf),
        np.full(over.sum(), float(rules.max_per_org)),
        uniq[over] // len(problem.org_ids),
    )

    # field coverage: one row per (project, distinct field prefix)
    if rules.coverage_level > 0:
        cov_p, cov_key = [], []
        for p in range(problem.n_projects):
            for k in problem.coverage_keys(p):
                cov_p.append(p)
                cov_key.append(k)
        if cov_p:
            nodes = sorted({node for chain in problem.field_tree.chains.values() for node in chain})
            node_id = {node: i for i, node in enumerate(nodes)}
            holds = _expert_nodes(problem, node_id)
            cov_p_arr = np.array(cov_p)
            cov_node = np.array([node_id[k] for k in cov_key])
            start = np.searchsorted(pj, cov_p_arr, side="left")
            stop = np.searchsorted(pj, cov_p_arr, side="right")
            lengths = stop - start
            row_of = np.repeat(np.arange(len(cov_p)), lengths)
            cols = (
                np.concatenate([np.arange(a, b) for a, b in zip(start, stop, strict=True)])
                if len(cov_p)
                else np.zeros(0, dtype=np.int64)
            )
            hit = np.asarray(holds[ej[cols], cov_node[row_of]]).ravel() > 0
            rows.add(
                "coverage",
                row_of[hit],
                cols[hit].astype(np.int64),
                np.ones(len(cov_p)),
                np.full(len(cov_p), np.inf),
                cov_p_arr,
            )

    # round-level enterprise target
    if rules.enterprise_target_share is not None:
        total = int(problem.project_panel_size.sum())
        need_all = math.ceil(rules.enterprise_target_share * total)
        if need_all > 0:
            cols = j[ent]
            rows.add(
                "enterprise_target_share",
                np.zeros(cols.size, dtype=np.int64),
                cols,
                np.array([need_all]),
                np.array([np.inf]),
                np.array([-1]),
            )

    A = sp.csr_matrix(
        (
            np.ones(sum(len(c) for c in rows.cols)),
            (np.concatenate(rows.rows), np.concatenate(rows.cols)),
        ),
        shape=(rows.count, n),
    )
    weight, unit = integer_weights(pairs.score)
    return Model(
        A,
        np.concatenate(rows.lb),
        np.concatenate(rows.ub),
        np.concatenate(rows.rule),
        np.concatenate(rows.project),
        weight,
        unit,
    )


def _expert_nodes(problem: Problem, node_id: dict[str, int]) -> sp.csr_matrix:
    """Experts x field-tree nodes: 1 where one of the expert's fields lies under the node."""
    indptr, indices = [0], []
    for fields in problem.expert_fields:
        ids = sorted({node_id[n] for f in fields for n in problem.field_tree.chains[f]})
        indices.extend(ids)
        indptr.append(len(indices))
    return sp.csr_matrix(
        (np.ones(len(indices)), indices, indptr), shape=(problem.n_experts, len(node_id))
    )

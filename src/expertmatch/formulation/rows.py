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
                sum_{j in p in S, e enterprise} x_j    >= ceil(target_S sum_{p in S} k_p)
                                                                       a stage's own target
                lo_q(k_p) <= sum_{j in p, e counts for q} x_j <= hi_q(k_p)
                                                                       quota q, per panel p
                                                                       of its stages
                lo_q(K) <= sum_{j in p in S_q, e counts} x_j <= hi_q(K)   quota q over all
                                                                       K seats of its stages

Per-panel values (panel size, the enterprise minimum, the organization cap, the coverage level)
are each project's: its row's, else its stage's (``[stage.NAME]``), else the batch's.

Rows that can never bind (an expert whose eligible pairs do not exceed the cap, an organization
with no more eligible experts than the cap) are left out. The same rows feed the LP relaxation
(HiGHS) and the exact CP-SAT model, so both solve the same problem.

Scores become integers for CP-SAT: ``weight_j = s_j / unit`` with the problem's score unit
(0.01 for built-in scores; for supplied scores the gcd of all of them at 10^-6), so the
integer objective is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from expertmatch.domain.coverage import coverage_rows
from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.pairs import Pairs, ranges
from expertmatch.domain.rules import STAGES
from expertmatch.domain.scoring import score_unit
from expertmatch.vocabulary import Rule

if TYPE_CHECKING:
    from expertmatch.domain.problem import Problem


@dataclass(frozen=True)
class Model:
    """``lb <= A x <= ub``, x binary, maximise ``weight . x`` (objective = weight . x x unit).

    Columns are the given pairs; each row records its rule and what it is about (project,
    expert, organization, field node; -1 where not applicable) so duals can be priced.
    """

    pairs: Pairs
    A: sp.csr_matrix
    lb: np.ndarray
    ub: np.ndarray
    row_rule: np.ndarray
    row_project: np.ndarray
    row_expert: np.ndarray
    row_org: np.ndarray
    row_node: np.ndarray
    weight: np.ndarray
    unit: float
    row_quota: np.ndarray | None = None
    """Per row: the index of its quota in ``Problem.count_rules`` (quota rows), else -1."""
    row_stage: np.ndarray | None = None
    """Per row: the index of its stage in ``STAGES`` (a stage's own target), else -1."""

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


def integer_weights(scores: np.ndarray, unit: float) -> np.ndarray:
    """Scores as exact integer multiples of ``unit`` (the problem's score unit)."""
    return np.rint(scores / unit).astype(np.int64)


class _Rows:
    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []
        self.count = 0

    def add(
        self,
        rule: str,
        row_of_entry: np.ndarray,
        cols: np.ndarray,
        lb: np.ndarray,
        ub: np.ndarray,
        **about: np.ndarray,
    ) -> None:
        """Add ``len(lb)`` rows; entry i sits in new row ``row_of_entry[i]``, column cols[i].

        ``about`` gives per-row ``project``, ``expert``, ``org``, ``node``, ``quota`` or
        ``stage`` (default -1).
        """
        n = len(lb)
        if n == 0:
            return
        part = {
            "rows": row_of_entry + self.count,
            "cols": cols,
            "lb": np.asarray(lb, dtype=float),
            "ub": np.asarray(ub, dtype=float),
            "rule": np.full(n, rule, dtype=object),
        }
        for name in ("project", "expert", "org", "node", "quota", "stage"):
            part[name] = np.asarray(about.get(name, np.full(n, -1)), dtype=np.int64)
        self.parts.append(part)
        self.count += n

    def stack(self, name: str) -> np.ndarray:
        return np.concatenate([part[name] for part in self.parts])


def _group(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unique keys, the group number of each entry, and the size of each group."""
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    return uniq, inverse, counts


def _limit_rows(
    rows: _Rows,
    rule: str,
    keys: np.ndarray,
    j: np.ndarray,
    limit: np.ndarray,
    **about_of_key: np.ndarray,
) -> None:
    """Rows ``sum x <= limit[key]`` for each key whose pairs outnumber its limit."""
    _, group, count = _group(keys)
    over = count > limit
    keep = over[group]
    renum = np.cumsum(over) - 1
    about = {name: values[over] for name, values in about_of_key.items()}
    rows.add(
        rule,
        renum[group[keep]],
        j[keep],
        np.full(int(over.sum()), -np.inf),
        limit[over].astype(float),
        **about,
    )


def build_model(problem: Problem, pairs: Pairs | None = None) -> Model:
    """The rows of every rule of the batch over ``pairs`` (default: all eligible pairs).

    ``pairs`` must be sorted by project then expert. Rows come in the order of the module
    docstring, one rule after the other.
    """
    pairs = eligible_pairs(problem) if pairs is None else pairs
    rows = _Rows()
    for add_rows in (
        _panel_size,
        _load,
        _enterprise_share,
        _max_per_org,
        _coverage,
        _targets,
        _quotas,
    ):
        add_rows(rows, problem, pairs)
    entries = rows.stack("rows")
    A = sp.csr_matrix(
        (np.ones(entries.size), (entries, rows.stack("cols"))), shape=(rows.count, len(pairs))
    )
    unit = score_unit(problem)
    return Model(
        pairs,
        A,
        rows.stack("lb"),
        rows.stack("ub"),
        rows.stack("rule"),
        rows.stack("project"),
        rows.stack("expert"),
        rows.stack("org"),
        rows.stack("node"),
        integer_weights(pairs.score, unit),
        unit,
        rows.stack("quota"),
        rows.stack("stage"),
    )


def _panel_size(rows: _Rows, problem: Problem, pairs: Pairs) -> None:
    """``sum_{j in p} x_j = k_p``: one row per project (a project with no pair gets an empty
    row, so its infeasibility shows)."""
    size = problem.project_panel_size.astype(float)
    rows.add(
        Rule.PANEL_SIZE,
        pairs.project,
        np.arange(len(pairs)),
        size,
        size,
        project=np.arange(problem.n_projects),
    )


def _load(rows: _Rows, problem: Problem, pairs: Pairs) -> None:
    """``sum_{j of e} x_j <= cap_e`` (load and yearly cap): one row per expert with more
    pairs than capacity."""
    ej = pairs.expert
    experts, _, _ = _group(ej)
    _limit_rows(
        rows, Rule.LOAD, ej, np.arange(len(pairs)), problem.expert_capacity[experts], expert=experts
    )


def _enterprise_share(rows: _Rows, problem: Problem, pairs: Pairs) -> None:
    """``sum_{j in p, e enterprise} x_j >= ceil(share k_p)``: one row per project that needs
    an enterprise expert."""
    pj = pairs.project
    need = problem.enterprise_required
    with_need = need > 0
    renum_p = np.cumsum(with_need) - 1
    mask = problem.expert_enterprise[pairs.expert] & with_need[pj]
    rows.add(
        Rule.ENTERPRISE_SHARE,
        renum_p[pj[mask]],
        np.arange(len(pairs))[mask],
        need[with_need],
        np.full(int(with_need.sum()), np.inf),
        project=np.flatnonzero(with_need),
    )


def _max_per_org(rows: _Rows, problem: Problem, pairs: Pairs) -> None:
    """``sum_{j in p, e in org o} x_j <= max_per_org``: one row per (project, organization)
    with more pairs than the cap."""
    n_org = len(problem.org_ids)
    key = pairs.project * n_org + problem.expert_org[pairs.expert]
    uniq = np.unique(key)
    _limit_rows(
        rows,
        Rule.MAX_PER_ORG,
        key,
        np.arange(len(pairs)),
        problem.project_max_per_org[uniq // n_org],
        project=uniq // n_org,
        org=uniq % n_org,
    )


def _coverage(rows: _Rows, problem: Problem, pairs: Pairs) -> None:
    """``sum_{j in p, e covers c} x_j >= 1``: one row per (project, distinct field prefix c);
    the pairs of each project are a contiguous range since ``pairs`` is sorted."""
    cov = coverage_rows(problem)
    if not cov.project.size:
        return
    pj = pairs.project
    start = np.searchsorted(pj, cov.project, side="left")
    stop = np.searchsorted(pj, cov.project, side="right")
    row_of = np.repeat(np.arange(cov.project.size), stop - start)
    cols = ranges(start, stop)
    hit = (
        np.asarray(cov.holds[pairs.expert[cols], cov.node[row_of]]).ravel() > 0
        if cols.size
        else np.zeros(0, dtype=bool)
    )
    rows.add(
        Rule.COVERAGE,
        row_of[hit],
        cols[hit],
        np.ones(cov.project.size),
        np.full(cov.project.size, np.inf),
        project=cov.project,
        node=cov.node,
    )


@dataclass(frozen=True)
class SeatRow:
    """One row over all seats of the round or of some stages: ``lb <= sum x[cols] <= ub``;
    its quota (index in ``Problem.count_rules``) or stage (index in ``STAGES``), else -1."""

    rule: str
    cols: np.ndarray
    lb: float
    ub: float
    quota: int = -1
    stage: int = -1


def target_rows(
    problem: Problem,
    expert: np.ndarray,
    stage: np.ndarray,
    groups: Sequence[Sequence[int]] = (),
) -> list[SeatRow]:
    """The round's ``enterprise_target_share`` (at least ceil(target x all seats) enterprise
    seats) and each ``[stage.NAME]`` table's own (ceil(target_S x the stage's seats)), over
    columns that each stand for one seat: column j seats expert ``expert[j]`` in stage
    ``stage[j]`` (a per-project pair: its project's stage; a meeting seat: its group's).
    ``groups``: the meeting groups' projects, whose seats count (``Problem.seats``). A target
    that asks for no enterprise seat gives no row."""
    out = []
    ent = problem.expert_enterprise[expert]
    need_all = problem.target_required(groups)
    if problem.rules.enterprise_target_share is not None and need_all > 0:
        out.append(SeatRow(Rule.ENTERPRISE_TARGET_SHARE, np.flatnonzero(ent), need_all, np.inf))
    for s, name in enumerate(STAGES):
        need = problem.stage_target_required(name, groups)
        if need > 0:
            cols = np.flatnonzero(ent & (stage == name))
            out.append(SeatRow(Rule.ENTERPRISE_TARGET_SHARE, cols, need, np.inf, stage=s))
    return out


def batch_quota_row(
    problem: Problem,
    q: int,
    expert: np.ndarray,
    stage: np.ndarray,
    groups: Sequence[Sequence[int]] = (),
) -> SeatRow | None:
    """A quota of scope batch over all seats of its stages (columns as in
    :func:`target_rows`): ``lo_q(K) <= sum x <= hi_q(K)``, K = ``Problem.seats_of``; None
    when neither bound can bind."""
    quota = problem.count_rules[q]
    covers = {name: quota.applies_to(name) for name in set(stage.tolist())}
    in_stage = np.array([covers[name] for name in stage.tolist()], dtype=bool)
    counts = problem.has_value(quota.attribute, quota.values)[expert]
    cols = np.flatnonzero(in_stage & counts) if expert.size else np.zeros(0, np.int64)
    low, high = quota.bounds(problem.seats_of(quota, groups))
    if low > 0 or high < cols.size:
        return SeatRow(Rule.QUOTA, cols, low, high, quota=q)
    return None


def _add_seat_row(rows: _Rows, row: SeatRow | None) -> None:
    if row is not None:
        rows.add(
            row.rule,
            np.zeros(row.cols.size, dtype=np.int64),
            row.cols,
            np.array([row.lb]),
            np.array([row.ub]),
            quota=np.array([row.quota]),
            stage=np.array([row.stage]),
        )


def _targets(rows: _Rows, problem: Problem, pairs: Pairs) -> None:
    """The round's and each stage's enterprise target over the pairs (:func:`target_rows`)."""
    stages = np.array(problem.stages, dtype=object)[pairs.project]
    for row in target_rows(problem, pairs.expert, stages):
        _add_seat_row(rows, row)


def _quotas(rows: _Rows, problem: Problem, pairs: Pairs) -> None:
    """Each quota's rows: per panel of its stages (scope panel) or one over all seats of its
    stages (scope batch); a bound that cannot bind is left out."""
    for q, quota in enumerate(problem.count_rules):
        if quota.scope == "batch":
            stages = np.array(problem.stages, dtype=object)[pairs.project]
            _add_seat_row(rows, batch_quota_row(problem, q, pairs.expert, stages))
            continue
        in_stage = problem.covered_by(quota)
        counts = problem.has_value(quota.attribute, quota.values)
        cols = np.flatnonzero(in_stage[pairs.project] & counts[pairs.expert])
        projects = np.flatnonzero(in_stage)
        bounds = [quota.bounds(int(problem.project_panel_size[p])) for p in projects]
        lows = np.array([b[0] for b in bounds], dtype=float)
        highs = np.array([b[1] for b in bounds], dtype=float)
        available = np.bincount(pairs.project[cols], minlength=problem.n_projects)[projects]
        keep = (lows > 0) | (highs < available)
        renum = np.full(problem.n_projects, -1)
        renum[projects[keep]] = np.arange(int(keep.sum()))
        entries = cols[renum[pairs.project[cols]] >= 0]
        rows.add(
            Rule.QUOTA,
            renum[pairs.project[entries]],
            entries,
            lows[keep],
            np.where(highs[keep] >= available[keep], np.inf, highs[keep]),
            project=projects[keep],
            quota=np.full(int(keep.sum()), q),
        )

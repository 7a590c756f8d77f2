"""The seating model of meeting groups (会评), written once, joint with per-project panels.

Variables: ``y_eg`` in {0, 1}: expert e is seated in group g (only experts who fit at least
one project of g, with capacity left, available in g's slot; with ``recusal = "exclude"`` only
experts without a conflict with any project of g); ``c_eg``: e chairs g (with the chair rule);
``x_j``: the pairs of per-project panels in a mixed batch (their rows are
:func:`expertmatch.formulation.rows.build_model`'s, less the load rows written here jointly).
R(p) is the set of experts without a conflict with project p.

    maximise    sum_g sum_e W_eg y_eg + sum_j s_j x_j,    W_eg = sum_{p in g, e in R(p)} s_pe
    subject to  sum_e y_eg                          =  panel_size         seated panel (each g)
                sum_{e enterprise} y_eg             >= ceil(share panel_size)    enterprise seats
                sum_{e in org o} y_eg               <= max_per_org        organization cap
                lo_q <= sum_{e counts for q} y_eg   <= hi_q               panel quotas (seats)
                sum_{e in R(p)} y_eg                >= min_reviewers      reviewers (each p in g)
                sum_{e in R(p), enterprise} y_eg    >= ceil(share min_reviewers)
                sum_{e in R(p), covers c} y_eg      >= 1                  coverage (each field c)
                sum_g y_eg                          <= max_groups_per_expert
                sum_g y_eg + sum_{j of e} x_j       <= cap_e              load and yearly cap:
                                                                          a seat counts one
                sum_{g in slot s} y_eg              <= 1                  one group a slot
                sum_e c_eg = 1,  c_eg <= y_eg                     chair of each group
                sum_e c_pe = 1,  c_pe <= x_pe                     chair of each panel
                sum_g c_eg + sum_p c_pe             <= max_per_expert     one cap over both
                lo <= sum_{e counts} (y_eg + x_j)   <= hi         rules over all seats:
                                                                  the round's and each
                                                                  stage's enterprise target,
                                                                  batch quotas

A meeting seat (``y_eg``) is one seat of its group's stage, like a per-project pair ``x_j`` of
its project's stage: the rules over all seats are
:func:`expertmatch.formulation.rows.target_rows` and ``batch_quota_row`` over both kinds of
column, their figures ``Problem.seats`` with these groups (``panel_size`` seats a group). A group
holds one stage whenever some rule differs by stage (``Rules.stage_dependent``), so its stage
is well defined where it matters. Panel chair columns ``c_pe`` are written when the chair cap
can bind (:func:`expertmatch.formulation.chair_columns.chair_columns_needed`); otherwise the
panels' chairs are chosen afterwards (``domain/chairs.py``), which then always succeeds. The
solver may leave them out (``panel_chairs=False``: the cap then counts the groups' chairs
only, a relaxation) and add them only when no choice of the panels' chairs fits the cap left.

Weights are whole score units (:func:`expertmatch.formulation.rows.integer_weights`), so the
objective is exact. Rows that cannot bind (fewer columns than the limit) are left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from expertmatch.domain.chairs import may_chair, needs_chair
from expertmatch.domain.coverage import coverage_rows
from expertmatch.domain.eligibility import eligible_blocks
from expertmatch.domain.meetings import (
    conflicted,
    group_max_per_org,
    group_needs_chair,
    group_quotas,
    group_stage,
    reviewer_enterprise_needed,
    seat_enterprise_needed,
)
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.problem import Problem
from expertmatch.domain.scoring import block_scores, score_unit
from expertmatch.formulation.chair_columns import chair_columns_needed
from expertmatch.formulation.rows import (
    Model,
    SeatRow,
    batch_quota_row,
    build_model,
    integer_weights,
    target_rows,
)
from expertmatch.vocabulary import Rule

#: Column kinds of the seating model: a panel pair, a seat, a group's chair, a panel's chair.
PANEL, SEAT, CHAIR, PANEL_CHAIR = 0, 1, 2, 3


@dataclass(frozen=True)
class Seating:
    """The seating model: ``model`` over every column (panel pairs, seats, chairs), and for
    each column its kind, group (-1 for panel pairs and their chairs) and expert (a panel
    chair's project is ``model.pairs.project``)."""

    model: Model
    kind: np.ndarray
    group: np.ndarray
    expert: np.ndarray
    groups: tuple[tuple[str, tuple[int, ...]], ...]
    panel_pairs: Pairs
    row_group: np.ndarray
    """Per row: the group it is about (-1: an expert's row, or a per-project panel's)."""
    link: np.ndarray | None = None
    """Per column: for a chair, the seat or panel pair column it sits in; else -1."""


class _Builder:
    """Rows as (row, column, value) triplets with their bounds and rule names."""

    def __init__(self) -> None:
        self.r: list[np.ndarray] = []
        self.c: list[np.ndarray] = []
        self.v: list[np.ndarray] = []
        self.lb: list[float] = []
        self.ub: list[float] = []
        self.rule: list[str] = []
        self.project: list[int] = []
        self.about_group: list[int] = []
        self.about_expert: list[int] = []
        self.quota: list[int] = []
        self.stage: list[int] = []

    def row(
        self,
        rule: str,
        cols: np.ndarray,
        lb: float,
        ub: float,
        values: np.ndarray | None = None,
        project: int = -1,
        group: int = -1,
        expert: int = -1,
        quota: int = -1,
        stage: int = -1,
    ) -> None:
        n = len(self.lb)
        self.r.append(np.full(cols.size, n, dtype=np.int64))
        self.c.append(cols.astype(np.int64))
        self.v.append(np.ones(cols.size) if values is None else values.astype(float))
        self.lb.append(lb)
        self.ub.append(ub)
        self.rule.append(rule)
        self.project.append(project)
        self.about_group.append(group)
        self.about_expert.append(expert)
        self.quota.append(quota)
        self.stage.append(stage)


def seat_candidates(
    problem: Problem, projects: Sequence[int], slot: str = "", with_capacity: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The experts who may sit in a group of ``projects`` (fit one project, capacity left
    unless ``with_capacity`` is False (loads may bend), available in ``slot``; no conflict at
    all with ``exclude``) and their weights W_eg."""
    block = np.asarray(projects, dtype=np.int64)
    order = np.argsort(block)
    fits = np.zeros(problem.n_experts, dtype=bool)
    for _, scores in eligible_blocks(problem, block[order], with_capacity=with_capacity):
        fits |= np.isfinite(scores).any(axis=0)
    raw = integer_weights(block_scores(problem, block), score_unit(problem))
    bad = conflicted(problem)
    clash = np.zeros((block.size, problem.n_experts), dtype=bool)
    for i, p in enumerate(block.tolist()):
        clash[i, list(bad.get(p, ()))] = True
    if problem.meeting.recusal == "exclude":
        fits &= ~clash.any(axis=0)
    if slot:
        fits &= np.array([problem.available(e, slot) for e in range(problem.n_experts)])
    weight = np.where(clash, 0, raw).sum(axis=0)
    experts = np.flatnonzero(fits)
    return experts, weight[experts]


def build_seating(
    problem: Problem,
    groups: Sequence[tuple[str, tuple[int, ...]]],
    slot_of: Mapping[int, str] | None = None,
    panel_pairs: Pairs | None = None,
    seat_rules: bool = True,
    panel_chairs: bool = True,
    with_capacity: bool = True,
) -> Seating:
    """Every row of the module docstring over every possible seat of ``groups`` (and the
    per-project panels' ``panel_pairs``, default none); ``slot_of``: group index -> slot.
    ``seat_rules=False`` leaves out the rules over all seats (a group judged alone);
    ``panel_chairs=False`` the panels' chair columns (a relaxation of the chair cap);
    ``with_capacity=False`` (relax, where loads may bend) also seats experts with no
    capacity left."""
    slot_of = slot_of or {}
    empty = np.zeros(0, dtype=np.int64)
    panel = panel_pairs if panel_pairs is not None else Pairs(empty, empty, np.zeros(0))
    cols = _Columns()
    unit = score_unit(problem)
    cols.add(PANEL, panel.project, np.full(len(panel), -1), panel.expert)
    cols.weight[-1] = integer_weights(panel.score, unit)
    seats: list[tuple[int, np.ndarray]] = []  # (first column, experts) per group
    for g, (_, projects) in enumerate(groups):
        experts, w = seat_candidates(problem, projects, slot_of.get(g, ""), with_capacity)
        seats.append((cols.start, experts))
        cols.add(SEAT, np.full(experts.size, -1), np.full(experts.size, g), experts, w)
    chairs = _chair_columns(problem, groups, seats, panel, cols, panel_chairs)
    b = _Builder()
    for g, (_, projects) in enumerate(groups):
        _group_rows(b, problem, g, projects, *seats[g])
    kind, col_group, col_expert = cols.kind, cols.group, cols.expert
    _expert_rows(b, problem, col_expert, kind, col_group, slot_of)
    _chair_rows(b, problem, chairs)
    if seat_rules:
        _seat_rule_rows(b, problem, groups, kind, cols.project, col_group, col_expert)
    n = cols.start
    A = sp.csr_matrix(
        (
            np.concatenate(b.v) if b.v else np.zeros(0),
            (
                np.concatenate(b.r) if b.r else np.zeros(0, np.int64),
                np.concatenate(b.c) if b.c else np.zeros(0, np.int64),
            ),
        ),
        shape=(len(b.lb), n),
    )
    A, lb, ub, rules, quota, stage = _with_panel_rows(problem, panel, A, b, n)
    w = cols.weights
    minus = np.full(A.shape[0], -1)
    above = np.full(A.shape[0] - len(b.lb), -1)  # the per-project panels' rows come first
    row_project = np.concatenate([above, np.array(b.project, dtype=np.int64)])
    row_group = np.concatenate([above, np.array(b.about_group, dtype=np.int64)])
    row_expert = np.concatenate([above, np.array(b.about_expert, dtype=np.int64)])
    model = Model(
        Pairs(np.where(cols.project >= 0, cols.project, col_group), col_expert, w * unit),
        A,
        lb,
        ub,
        rules,
        row_project,
        row_expert,
        minus,
        minus,
        w,
        unit,
        quota,
        stage,
    )
    return Seating(model, kind, col_group, col_expert, tuple(groups), panel, row_group, cols.link)


class _Columns:
    """The columns of the seating model, kind by kind: kind, project (panel pairs and their
    chairs; -1 otherwise), group (-1 for panel pairs and their chairs), expert, weight."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, ...]] = []
        self.weight: list[np.ndarray] = []
        self.start = 0

    def add(
        self,
        kind: int,
        project: np.ndarray,
        group: np.ndarray,
        expert: np.ndarray,
        weight: np.ndarray | None = None,
        link: np.ndarray | None = None,
    ) -> None:
        n = expert.size
        self.parts.append(
            (np.full(n, kind), project, group, expert, np.full(n, -1) if link is None else link)
        )
        self.weight.append(np.zeros(n, dtype=np.int64) if weight is None else weight)
        self.start += n

    def _stack(self, i: int) -> np.ndarray:
        return np.concatenate([part[i] for part in self.parts]).astype(np.int64)

    @property
    def kind(self) -> np.ndarray:
        return self._stack(0)

    @property
    def project(self) -> np.ndarray:
        return self._stack(1)

    @property
    def group(self) -> np.ndarray:
        return self._stack(2)

    @property
    def expert(self) -> np.ndarray:
        return self._stack(3)

    @property
    def link(self) -> np.ndarray:
        return self._stack(4)

    @property
    def weights(self) -> np.ndarray:
        return np.concatenate(self.weight).astype(np.int64)


def _chair_columns(
    problem: Problem,
    groups: Sequence[tuple[str, tuple[int, ...]]],
    seats: list[tuple[int, np.ndarray]],
    panel: Pairs,
    cols: _Columns,
    panel_chairs: bool = True,
) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """The chair columns: per group that needs a chair, one per seat whose expert may chair;
    per panel that needs one (when the cap can bind), one per such pair. Returns per group
    or panel (first chair column, experts, the seat or pair columns they sit in)."""
    out: list[tuple[int, np.ndarray, np.ndarray]] = []
    if problem.rules.chair is None:
        return out
    may = may_chair(problem)
    for g, (_, projects) in enumerate(groups):
        if not group_needs_chair(problem, projects):
            continue
        first, experts = seats[g]
        pick = np.flatnonzero(may[experts])
        out.append((cols.start, experts[pick], first + pick))
        g_ = np.full(pick.size, g)
        cols.add(CHAIR, np.full(pick.size, -1), g_, experts[pick], link=first + pick)
    if len(panel) and panel_chairs and chair_columns_needed(problem):
        j = np.flatnonzero(needs_chair(problem)[panel.project] & may[panel.expert])
        bounds = np.flatnonzero(np.diff(panel.project[j], prepend=-1, append=-2))
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            out.append((cols.start + lo, panel.expert[j[lo:hi]], j[lo:hi]))
        cols.add(PANEL_CHAIR, panel.project[j], np.full(j.size, -1), panel.expert[j], link=j)
    return out


def _seat_rule_rows(
    b: _Builder,
    problem: Problem,
    groups: Sequence[tuple[str, tuple[int, ...]]],
    kind: np.ndarray,
    project: np.ndarray,
    group: np.ndarray,
    expert: np.ndarray,
) -> None:
    """The rules over all seats (the round's and each stage's enterprise target, batch
    quotas: ``expertmatch.formulation.rows``), over panel pairs and seats together: a seat
    counts one seat of its group's stage."""
    counted = np.flatnonzero((kind == PANEL) | (kind == SEAT))
    stage_of_group = [group_stage(problem, projects) for _, projects in groups]
    stages = np.array(problem.stages, dtype=object)
    stage = np.array(
        [
            stages[p] if k == PANEL else stage_of_group[g]
            for k, p, g in zip(
                kind[counted].tolist(),
                project[counted].tolist(),
                group[counted].tolist(),
                strict=True,
            )
        ],
        dtype=object,
    )
    members = [projects for _, projects in groups]
    rows: list[SeatRow | None] = list(target_rows(problem, expert[counted], stage, members))
    for q, quota in enumerate(problem.count_rules):
        if quota.scope == "batch":
            rows.append(batch_quota_row(problem, q, expert[counted], stage, members))
    for row in rows:
        if row is not None:
            b.row(row.rule, counted[row.cols], row.lb, row.ub, quota=row.quota, stage=row.stage)


def _group_rows(
    b: _Builder,
    problem: Problem,
    g: int,
    projects: tuple[int, ...],
    first: int,
    experts: np.ndarray,
) -> None:
    """One group's rows: over its seats, then per project over its reviewers."""
    rules = problem.meeting
    cols = first + np.arange(experts.size)
    b.row(Rule.PANEL_SIZE, cols, rules.panel_size, rules.panel_size, group=g)
    ent = problem.expert_enterprise[experts]
    need = seat_enterprise_needed(problem, projects)
    if need > 0:
        b.row(Rule.ENTERPRISE_SHARE, cols[ent], need, np.inf, group=g)
    limit = group_max_per_org(problem, projects)
    orgs = problem.expert_org[experts]
    uniq, counts = np.unique(orgs, return_counts=True)
    for o in uniq[counts > limit].tolist():
        b.row(Rule.MAX_PER_ORG, cols[orgs == o], -np.inf, limit, group=g)
    for _, quota in group_quotas(problem, projects):
        low, high = quota.bounds(rules.panel_size)
        counts_q = problem.has_value(quota.attribute, quota.values)[experts]
        if low > 0 or high < int(counts_q.sum()):
            b.row(Rule.QUOTA, cols[counts_q], low, high, group=g)
    bad = conflicted(problem)
    cov = coverage_rows(problem)
    holds = cov.holds[experts].toarray() > 0 if cov.project.size else None
    for p in projects:
        ok = ~np.isin(experts, list(bad.get(p, ())))
        b.row(Rule.MIN_REVIEWERS, cols[ok], rules.min_reviewers, np.inf, project=p, group=g)
        need_p = reviewer_enterprise_needed(problem, p)
        if need_p > 0:
            b.row(Rule.ENTERPRISE_SHARE, cols[ok & ent], need_p, np.inf, project=p, group=g)
        if holds is None:
            continue
        lo, hi = np.searchsorted(cov.project, [p, p + 1])
        for node in cov.node[lo:hi].tolist():
            b.row(Rule.COVERAGE, cols[ok & holds[:, node]], 1, np.inf, project=p, group=g)


def _expert_rows(
    b: _Builder,
    problem: Problem,
    expert: np.ndarray,
    kind: np.ndarray,
    group: np.ndarray,
    slot_of: Mapping[int, str],
) -> None:
    """Per expert: groups (max_groups_per_expert), load (seats and panel pairs), and one
    group a slot."""
    seat = kind == SEAT
    counted = seat | (kind == PANEL)
    limit = problem.meeting.max_groups_per_expert
    cols = np.flatnonzero(seat)
    order = cols[np.argsort(expert[cols], kind="stable")]
    uniq, starts, counts = np.unique(expert[order], return_index=True, return_counts=True)
    for e, s, n in zip(uniq.tolist(), starts.tolist(), counts.tolist(), strict=True):
        if n > limit:
            b.row(Rule.MAX_GROUPS, order[s : s + n], -np.inf, limit, expert=e)
    cols = np.flatnonzero(counted)
    order = cols[np.argsort(expert[cols], kind="stable")]
    uniq, starts, counts = np.unique(expert[order], return_index=True, return_counts=True)
    cap = problem.expert_capacity
    for e, s, n in zip(uniq.tolist(), starts.tolist(), counts.tolist(), strict=True):
        if n > cap[e]:
            b.row(Rule.LOAD, order[s : s + n], -np.inf, float(cap[e]), expert=e)
    if limit <= 1 or not slot_of:
        return
    slot = np.array([slot_of.get(int(g), "") for g in group], dtype=object)
    by: dict[tuple[int, str], list[int]] = {}
    for j in np.flatnonzero(seat).tolist():
        by.setdefault((int(expert[j]), str(slot[j])), []).append(j)
    for (e, _), js in by.items():
        if len(js) > 1:
            b.row(Rule.SCHEDULE, np.array(js), -np.inf, 1, expert=e)


def _chair_rows(
    b: _Builder, problem: Problem, chairs: list[tuple[int, np.ndarray, np.ndarray]]
) -> None:
    """One chair a group (and a panel, with panel chair columns), a chair sits there, each
    expert chairs at most ``max_per_expert`` groups and panels together."""
    if not chairs:
        return
    rule = problem.rules.chair
    assert rule is not None
    by_expert: dict[int, list[int]] = {}
    for first, experts, seat_cols in chairs:
        cols = first + np.arange(experts.size)
        b.row(Rule.CHAIR, cols, 1, 1)
        for c, s, e in zip(cols.tolist(), seat_cols.tolist(), experts.tolist(), strict=True):
            b.row(Rule.CHAIR, np.array([c, s]), -np.inf, 0, values=np.array([1.0, -1.0]))
            by_expert.setdefault(e, []).append(c)
    for e, cols_e in by_expert.items():
        if len(cols_e) > rule.max_per_expert:
            b.row(Rule.CHAIR, np.array(cols_e), -np.inf, rule.max_per_expert, expert=e)


def _with_panel_rows(
    problem: Problem, panel: Pairs, A: sp.csr_matrix, b: _Builder, n: int
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The per-project panels' rows stacked above ours, less those written jointly here
    (loads; the enterprise targets and batch quotas, over all seats); with each row's rule,
    quota and stage."""
    lb, ub = np.array(b.lb, dtype=float), np.array(b.ub, dtype=float)
    rules = np.array(b.rule, dtype=object)
    quota = np.array(b.quota, dtype=np.int64)
    stage = np.array(b.stage, dtype=np.int64)
    if not len(panel):
        return A, lb, ub, rules, quota, stage
    base = build_model(problem, panel)
    about = base.row_project
    joint = (base.row_rule == Rule.LOAD) | (base.row_rule == Rule.ENTERPRISE_TARGET_SHARE)
    joint |= (base.row_rule == Rule.QUOTA) & (about < 0)  # a batch quota
    keep = ~joint & ((about < 0) | ~problem.project_meeting[np.maximum(about, 0)])
    top = sp.hstack([base.A[keep], sp.csr_matrix((int(keep.sum()), n - len(panel)))]).tocsr()
    assert base.row_quota is not None and base.row_stage is not None
    return (
        sp.vstack([top, A]).tocsr(),
        np.concatenate([base.lb[keep], lb]),
        np.concatenate([base.ub[keep], ub]),
        np.concatenate([base.row_rule[keep], rules]),
        np.concatenate([base.row_quota[keep], quota]),
        np.concatenate([base.row_stage[keep], stage]),
    )

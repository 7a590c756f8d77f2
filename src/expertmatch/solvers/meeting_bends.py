"""Best effort for meeting batches (会评): the seating that bends the fewest rules.

``assign(relax=True)`` on a batch with meeting projects. When the meeting solver
(:mod:`expertmatch.solvers.meetings`, given half the time limit) finds a seating that keeps
every rule, that seating is the answer, unchanged (no bend). Otherwise the seating model
(:mod:`expertmatch.formulation.seating`, every possible seat, the batch's per-project panels
in the same model) gets a slack on each row of a bendable rule, and the same lexicographic
solve as per-project panels (:mod:`expertmatch.solvers.relax`) runs over it: the fewest bends
of the most protected rule of ``BEND_ORDER`` first, that minimum held while the next rule's
bends are minimised, and so on; last the best score with every minimum held. Each stage is a
HiGHS branch and cut over a core of the columns (seats, chairs, panel pairs) and every slack,
proven for every column by the stage's LP (its bound, then reduced-cost fixing; see
:class:`_Run`); a stage whose rule the last solution does not bend is 0 without a solve.

What bends, in units an office can read:

- ``max_per_org``: seats of a group beyond the organization cap (the group named), or panel
  members beyond it (the project named);
- ``coverage``: a project's field no reviewer covers (reviewers: the seated experts without a
  conflict with it);
- ``quota``: members a group's seats (or a panel) lack or have beyond a quota, the chair's
  necessary part (a seated member who may chair) included;
- ``enterprise_share``: enterprise seats a group lacks, and enterprise reviewers a project
  lacks (``ceil(share x min_reviewers)``);
- ``max_load`` / ``yearly_cap``: seats (one each, whatever the size of the group) and panel
  reviews beyond an expert's limits;
- ``chair`` (after every rule of the bend order, before the score): a group left without a
  chair because ``max_per_expert`` binds, or because no seated member may chair it.

Never bent: conflicts of interest and recusal, eligibility (a seat fits a project of the
group), ``panel_size`` (seats a group) and the per-project panels' sizes, ``min_reviewers``
(a project's reviewers after recusal, the meeting's panel size), ``max_groups_per_expert``,
the group sizes, the schedule (slots, rooms, one group a slot) and availability. When those
alone cannot hold, :class:`InfeasibleError` names the group and rule.

Groups fixed by the office: the lexicographic optimum is proven (status ``optimal``, or
``timeout`` when a stage stops at the time limit). Groups formed by the solver: the hand
grouping and the grouping search of the meeting solver are each seated with relax, and the
lexicographically best seating is kept (fewest bends in the order, then score). No grouping
with fewer bends is ruled out, so the status is ``feasible``, with an honest score bound (each
project's best ``panel_size`` scores among the experts without a conflict).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from expertmatch.domain.chairs import choose_chairs
from expertmatch.domain.coverage import coverage_rows
from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.meetings import (
    Group,
    conflicted,
    group_max_per_org,
    group_needs_chair,
    group_quotas,
    meeting_projects,
    reviewer_enterprise_needed,
    seat_enterprise_needed,
    seat_list,
    unsupported,
)
from expertmatch.domain.pairs import Pairs, concat
from expertmatch.domain.problem import Problem
from expertmatch.domain.scoring import block_scores, score_unit
from expertmatch.errors import (
    Clash,
    InfeasibleError,
    InputError,
    InputIssue,
    InternalError,
    SolveError,
)
from expertmatch.formulation.rows import Model, build_model, integer_weights
from expertmatch.formulation.seating import PANEL, SEAT, Seating, build_seating
from expertmatch.result import Result
from expertmatch.solvers.backends import new_highs
from expertmatch.solvers.bends import BEND_ORDER, OVER, bend_key
from expertmatch.solvers.meetings import (
    Seated,
    _groups_of,
    _initial_columns,
    _with_keep_bonus,
    chosen_keys,
    hand_groups,
    previous_groups,
    reassign_meetings,
    reviewing_pairs,
    schedule,
    schedule_binds,
    search_groups,
    seat_changes,
    solve_meetings,
)
from expertmatch.solvers.params import Progress, SolveParams
from expertmatch.solvers.relax import Bend, RelaxStats, _bends, check_order, quota_bend
from expertmatch.verify import seat_rules
from expertmatch.vocabulary import Rule, Status

if TYPE_CHECKING:
    import pandas as pd

#: The method a relaxed meeting solve reports.
METHOD = "relaxed meetings (lexicographic, HiGHS over a core of seats, proven by LP)"
#: The rules a seating row may bend (a stage or the round's enterprise target counts toward
#: ``enterprise_share``); the chair's "one a group" row bends as ``chair``.
BENDABLE = (
    Rule.MAX_PER_ORG,
    Rule.COVERAGE,
    Rule.QUOTA,
    Rule.ENTERPRISE_SHARE,
    Rule.ENTERPRISE_TARGET_SHARE,
)
#: Share of the time limit the meeting solver has to find a seating that keeps every rule.
PLAIN_SHARE = 0.5
#: Share of the time left the grouping search may take (free groups only).
SEARCH_SHARE = 0.2

Grouping = list[tuple[str, tuple[int, ...]]]


@dataclass(frozen=True)
class MeetingRelaxStats(RelaxStats):
    """``Result.stats`` of a relaxed meeting solve: the relaxed solve's figures, the grouping
    kept (``fixed``, ``hand`` or ``search``) and the number of groups."""

    grouping: str
    groups: int


def solve_meetings_relaxed(
    problem: Problem,
    params: SolveParams,
    order: tuple[str, ...] = BEND_ORDER,
    progress: Progress | None = None,
    grouping: str = "search",
) -> Result:
    """The meeting batch's seating with every rule kept when there is one (the meeting
    solver's answer, unchanged); else the seating that bends the fewest rules in ``order``
    (first bends first), then scores best. ``grouping`` (free groups): ``"search"`` seats
    both the hand grouping and the search's, ``"hand"`` the hand grouping alone. See the
    module docstring."""
    order = check_order(order)
    _refuse_unsupported(problem)
    start = time.perf_counter()
    try:
        plain = replace(params, time_limit=PLAIN_SHARE * params.time_limit)
        return solve_meetings(problem, plain, progress, grouping)
    except InfeasibleError:
        pass  # some rule must bend
    except SolveError:
        pass  # no seating in that time: the relaxed stages have the rest
    deadline = start + params.time_limit
    hand = hand_groups(problem)  # group sizes never bend: raises when they cannot hold
    free = len(hand) > len(problem.fixed_groups)
    tries: list[tuple[str, Grouping]] = [("hand" if free else "fixed", hand)]
    if free and grouping == "search":
        now = time.perf_counter()
        searched = search_groups(problem, hand, now + SEARCH_SHARE * (deadline - now), params.seed)
        if searched != hand:
            tries.append(("search", searched))
    best: tuple[tuple[int, ...], str, Grouping, dict[int, tuple[str, int]], _Relaxed] | None = None
    failed: InfeasibleError | None = None
    out_of_time: SolveError | None = None
    for i, (name, groups) in enumerate(tries):
        now = time.perf_counter()
        # the first grouping gets half the time left when another follows
        end = deadline if i == len(tries) - 1 else now + 0.5 * (deadline - now)
        try:
            slot_room = schedule(problem, groups)  # the schedule never bends
            slot_of = {g: s for g, (s, _) in slot_room.items()} if schedule_binds(problem) else None
            relaxed = seat_relaxed(problem, groups, order, end, slot_of)
        except InfeasibleError as error:
            failed = failed or error
            continue
        except SolveError as error:
            out_of_time = error  # this grouping ran out of time: another one may stand
            continue
        rank = (*(relaxed.held[k] for k in relaxed.stages), -relaxed.objective)
        if best is None or rank < best[0]:
            best = (rank, name, groups, slot_room, relaxed)
        if progress is not None:
            progress(f"seated the {name} grouping with relax", None, None)
    if best is None:
        stop = out_of_time or failed
        assert stop is not None
        raise stop
    _, name, groups, slot_room, relaxed = best
    return _result(problem, relaxed, name, slot_room, order, params, start, free)


def reassign_relaxed(
    problem: Problem,
    frame: pd.DataFrame,
    declines: int,
    params: SolveParams,
    order: tuple[str, ...] = BEND_ORDER,
) -> Result:
    """``reassign --relax`` on meeting review: the earlier groups, slots and rooms stay; with
    every rule holding, :func:`expertmatch.solvers.meetings.reassign_meetings` (most seats kept,
    then the score); else the fewest bends in ``order``, then the most earlier seats kept,
    then the score (the bends proven as in :func:`seat_relaxed`)."""
    order = check_order(order)
    _refuse_unsupported(problem)
    start = time.perf_counter()
    try:
        plain = replace(params, time_limit=PLAIN_SHARE * params.time_limit)
        return reassign_meetings(problem, frame, declines, plain)
    except (InfeasibleError, SolveError):
        pass  # some rule must bend (or no seating in that share of the time)
    groups, slot_room, keep = previous_groups(problem, frame)
    slot_of = {g: s for g, (s, _) in slot_room.items()} if schedule_binds(problem) else None
    relaxed = seat_relaxed(problem, groups, order, start + params.time_limit, slot_of, keep)
    result = _result(problem, relaxed, "fixed", slot_room, order, params, start, False)
    changed = seat_changes(problem, groups, keep, chosen_keys(relaxed.seating, relaxed.chosen))
    stats = {**result.stats, **changed, "declines": declines}
    stats["method"] = "meetings reassign relaxed: fewest bends, most earlier seats, then score"
    # the proof is of the order "bends, most kept, then score": no score bound of its own
    return replace(result, stats=stats, bound=result.objective)


def _refuse_unsupported(problem: Problem) -> None:
    refused = unsupported(problem)
    if refused:
        raise InputError(
            [
                InputIssue("rules", f"not supported yet: {what}", column="meeting")
                for what in refused
            ]
        )


# -- the relaxed seating model ----------------------------------------------------------------


@dataclass
class _Matrix:
    """The relaxed seating as ``lo <= A [x; s] <= hi``: the seating's columns, then one slack
    a bendable side of a row, each with its bend key and upper bound."""

    A: sp.csr_matrix
    lo: np.ndarray
    hi: np.ndarray
    n: int
    slack_key: np.ndarray
    slack_ub: np.ndarray


def relaxed_matrix(problem: Problem, seating: Seating) -> _Matrix:
    """Every row of ``seating`` with a slack on each side of a bendable rule (``BENDABLE``,
    and the chair's one-a-group row); loads split into ``max_load`` and ``yearly_cap`` rows,
    each with a slack; every other row hard."""
    model = seating.model
    A = model.A.tocsr()
    n = model.n_pairs
    keep = model.row_rule != Rule.LOAD
    sizes = np.diff(A.indptr)
    s_row: list[int] = []
    s_sign: list[float] = []
    s_key: list[str] = []
    s_ub: list[float] = []
    for r in np.flatnonzero(keep).tolist():
        rule = str(model.row_rule[r])
        lo, hi = float(model.lb[r]), float(model.ub[r])
        if rule in BENDABLE:
            key = bend_key(rule)
        elif rule == Rule.CHAIR and lo == 1:  # one chair a group
            key = Rule.CHAIR
        else:
            continue
        sides = []
        if math.isfinite(lo) and lo > 0:  # a minimum: members missing bend it
            sides.append((1.0, lo))
        if math.isfinite(hi) and key != Rule.CHAIR:  # a maximum: members beyond it
            sides.append((-1.0, float(sizes[r])))
        for sign, ub in sides:
            s_row.append(r)
            s_sign.append(sign)
            s_key.append(key)
            s_ub.append(ub)
    rows = [A[keep]]
    lo_all, hi_all = [model.lb[keep]], [model.ub[keep]]
    index = np.cumsum(keep) - 1  # model row -> kept row
    loads, load_lo, load_hi, load_keys = _load_rows(problem, seating)
    rows.append(loads)
    lo_all.append(load_lo)
    hi_all.append(load_hi)
    m_rows = int(keep.sum())
    entries_r = [index[np.array(s_row, dtype=np.int64)], m_rows + np.arange(len(load_keys))]
    entries_v = [np.array(s_sign), -np.ones(len(load_keys))]
    pairs_part = sp.vstack(rows).tocsr()
    m = len(s_row) + len(load_keys)
    slack_part = sp.csr_matrix(
        (
            np.concatenate(entries_v),
            (np.concatenate(entries_r).astype(np.int64), np.arange(m)),
        ),
        shape=(pairs_part.shape[0], m),
    )
    load_cap = np.diff(loads.indptr)  # a load row's slack: at most its columns
    return _Matrix(
        sp.hstack([pairs_part, slack_part]).tocsr(),
        np.concatenate(lo_all),
        np.concatenate(hi_all),
        n,
        np.array(s_key + load_keys, dtype=object),
        np.concatenate([np.array(s_ub, dtype=float), load_cap.astype(float)]),
    )


def _load_rows(
    problem: Problem, seating: Seating
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, list[str]]:
    """Per expert whose seats and panel pairs can exceed them, a ``max_load`` and a
    ``yearly_cap`` row (a seat counts one)."""
    counted = np.flatnonzero((seating.kind == SEAT) | (seating.kind == PANEL))
    experts = seating.expert[counted]
    counts = np.bincount(experts, minlength=problem.n_experts)
    cap_left = np.maximum(problem.rules.yearly_cap - problem.expert_used, 0)
    r: list[np.ndarray] = []
    c: list[np.ndarray] = []
    hi: list[float] = []
    keys: list[str] = []
    by_expert = counted[np.argsort(experts, kind="stable")]
    starts = np.r_[0, np.cumsum(counts)]
    for rule, limit in ((Rule.MAX_LOAD, problem.expert_max_load), (Rule.YEARLY_CAP, cap_left)):
        for e in np.flatnonzero(counts > limit).tolist():
            cols = by_expert[starts[e] : starts[e + 1]]
            r.append(np.full(cols.size, len(hi)))
            c.append(cols)
            hi.append(float(limit[e]))
            keys.append(rule)
    n = seating.model.n_pairs
    empty = np.zeros(0, dtype=np.int64)
    A = sp.csr_matrix(
        (
            np.ones(sum(x.size for x in c)),
            (np.concatenate([empty, *r]), np.concatenate([empty, *c])),
        ),
        shape=(len(hi), n),
    )
    return A, np.full(len(hi), -np.inf), np.array(hi, dtype=float), keys


@dataclass
class _Relaxed:
    """A relaxed seating solved: the columns chosen, each stage's minimum (``stages``: the
    bend stages in the order solved), the score (whole units) and its bound, and whether
    every stage is proven."""

    seating: Seating
    chosen: np.ndarray
    held: dict[str, int]
    stages: tuple[str, ...]
    objective: int
    bound: int
    proved: bool


def seat_relaxed(
    problem: Problem,
    groups: Sequence[tuple[str, tuple[int, ...]]],
    order: tuple[str, ...],
    deadline: float,
    slot_of: dict[int, str] | None = None,
    keep: set[tuple[int, int]] | None = None,
) -> _Relaxed:
    """Seat ``groups`` (with the batch's per-project panels) bending the fewest rules in
    ``order``, then scoring best; raises :class:`InfeasibleError` when the rules that never
    bend cannot hold. ``keep`` (reassign): earlier seats and panel pairs, each worth more than
    every score together in the last stage, so that it keeps the most of them, then scores
    best (its objective and bound then count both)."""
    panel = _panel_pairs(problem)
    seating = build_seating(problem, groups, slot_of, panel, with_capacity=False)
    if keep:
        seating = _with_keep_bonus(seating, keep)
    _hard_first_line(problem, seating)
    mat = relaxed_matrix(problem, seating)
    stages = tuple(reversed(order)) + ((Rule.CHAIR,) if (mat.slack_key == Rule.CHAIR).any() else ())
    run = _Run(problem, seating, mat, deadline, _initial_columns(seating))
    held: dict[str, int] = {}
    proved = True
    x: np.ndarray | None = None
    for i, key in enumerate(stages):
        mine = mat.slack_key == key
        if not mine.any() or (x is not None and x[mat.n :][mine].sum() < 0.5):
            held[key] = 0  # nothing to bend, or the last solution (every minimum held) bends
            continue  # it nowhere: 0 is its minimum
        x, ok = run.bend_stage(key, stages[i + 1 :], held, x)
        held[key] = round(float(x[mat.n :][mine].sum()))
        proved = proved and ok
    x, value, bound, ok = run.score_stage(held, x)
    return _Relaxed(seating, x[: mat.n] > 0.5, held, stages, value, bound, proved and ok)


#: Margin against LP round-off when fixing columns by reduced cost (whole score units).
FIX_MARGIN = 0.5


@dataclass
class _Run:
    """The stages of one relaxed seating. Each stage is solved over a core of the columns
    (the meeting solver's initial columns: each group's best seats, the best few for each
    row, every panel pair and chair column of those; every slack; the last stage's
    solution, which holds every minimum so far), then proven for all columns by the stage's
    LP over every column: done when its value reaches the LP bound (rounded); else once more
    with the LP's columns added; else reduced-cost fixing (a column whose reduced cost leaves
    no solution with it a whole unit better is left out) and a MIP over the rest. Without an
    LP bound in time, or when the core holds no solution, every column."""

    problem: Problem
    seating: Seating
    mat: _Matrix
    deadline: float
    core: np.ndarray

    def bend_stage(
        self, key: str, later: tuple[str, ...], held: dict[str, int], last: np.ndarray | None
    ) -> tuple[np.ndarray, bool]:
        """The fewest bends of ``key`` with ``held``; the later rules' bends weigh eps each,
        all together less than half of one bend of ``key``: the minimum stays exact and the
        solution bends the later rules little, so that their stages are often skipped.
        ``last``: the last stage's solution (it holds every minimum so far)."""
        mat = self.mat
        mine = np.concatenate([np.zeros(mat.n, dtype=bool), mat.slack_key == key])
        after = np.concatenate([np.zeros(mat.n, dtype=bool), np.isin(mat.slack_key, later)])
        eps = 0.5 / (1.0 + float(mat.slack_ub[after[mat.n :]].sum()))
        gain = np.where(mine, -1.0, np.where(after, -eps, 0.0))
        x, _, _, ok = self.stage(key, gain, -1.0 * mine, held, last)
        return x, ok

    def score_stage(
        self, held: dict[str, int], last: np.ndarray | None
    ) -> tuple[np.ndarray, int, int, bool]:
        """The best score with every minimum held."""
        mat = self.mat
        weight = self.seating.model.weight.astype(float)
        gain = np.concatenate([weight, np.zeros(mat.A.shape[1] - mat.n)])
        return self.stage("score", gain, gain, held, last)

    def stage(
        self,
        name: str,
        gain: np.ndarray,
        value_of: np.ndarray,
        held: dict[str, int],
        last: np.ndarray | None,
    ) -> tuple[np.ndarray, int, int, bool]:
        """Maximise ``gain`` (``value_of``: the stage's own value, whole units, ``gain`` less
        any tie-break) over the core, grown by the last solution. Proven for every column
        when it reaches the LP bound; else reduced-cost fixing: a column whose reduced cost
        leaves no solution with it a whole unit better is left out, and a MIP over the rest
        is the optimum. Returns the solution, its value, a bound and whether it is proven."""
        mat = self.mat
        if last is not None:
            self.core |= last[: mat.n] > 0.5
        found = _stage_mip(self, gain, held, name, self.core)
        value = round(float(value_of @ found[0])) if found is not None else None
        if value == 0 and name != "score":
            assert found is not None
            return found[0], 0, 0, True  # no bend: the minimum
        lp = _lp(mat, -value_of, held, self.deadline)
        if lp is None:  # no LP bound in time: every column
            full = _stage_mip(self, gain, held, name, None)
            if full is None:
                return _out_of_time(name, value_of, found or last, None)
            return full[0], round(float(value_of @ full[0])), full[2], full[3]
        z_lp = -lp[0]
        top = math.floor(z_lp + 1e-6)
        if found is not None and value is not None and value >= top:
            return found[0], value, value, True  # at the LP bound over every column
        support = lp[2][: mat.n] > 1e-6
        if (support & ~self.core).any():  # the core with the LP's columns, once more
            self.core |= support
            again = _stage_mip(self, gain, held, name, self.core)
            if again is not None and round(float(value_of @ again[0])) >= top:
                return again[0], top, top, True
            if again is not None:
                found, value = again, round(float(value_of @ again[0]))
        reach = z_lp - lp[1][: mat.n]  # the most a solution with that column is worth
        floor = value if value is not None else -math.inf
        can = self.core | (reach >= floor + 1 - FIX_MARGIN)
        final = _stage_mip(self, gain, held, name, can)
        if final is None:  # the core cannot hold the minima: every column
            final = _stage_mip(self, gain, held, name, None)
            can = np.ones(mat.n, dtype=bool)
        if final is None:
            return _out_of_time(name, value_of, found or last, top)
        x, _, bound, ok = final
        got = round(float(value_of @ x))
        out = ~can
        best_out = math.floor(float(reach[out].max()) + 1e-6) if out.any() else -(2**62)
        bound = max(min(max(bound, best_out), top), got) if name == "score" else got
        return x, got, bound, ok and (name != "score" or bound <= got)


def _out_of_time(
    name: str, value_of: np.ndarray, best: Any, top: int | None
) -> tuple[np.ndarray, int, int, bool]:
    """A stage out of time: its best solution so far (the core's, else the last stage's,
    which holds every minimum so far), unproven, with the LP bound when there is one."""
    if best is None:
        raise SolveError(f"relaxed meeting stage {name}: no seating within the time limit")
    x = best[0] if isinstance(best, tuple) else best
    got = round(float(value_of @ x))
    bound = top if top is not None else round(float(np.maximum(value_of, 0).sum()))
    return x, got, max(bound, got), False


def _with_held(mat: _Matrix, held: dict[str, int]) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The relaxed rows plus one row a held minimum: the sum of that rule's slacks."""
    if not held:
        return mat.A, mat.lo, mat.hi
    rows, cols = [], []
    for i, key in enumerate(held):
        s = mat.n + np.flatnonzero(mat.slack_key == key)
        rows.append(np.full(s.size, i))
        cols.append(s)
    extra = sp.csr_matrix(
        (np.ones(sum(c.size for c in cols)), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(held), mat.A.shape[1]),
    )
    return (
        sp.vstack([mat.A, extra]).tocsr(),
        np.concatenate([mat.lo, np.full(len(held), -np.inf)]),
        np.concatenate([mat.hi, np.array([float(v) for v in held.values()])]),
    )


def _stage_mip(
    run: _Run,
    gain: np.ndarray,
    held: dict[str, int],
    stage: str,
    cols: np.ndarray | None,
) -> tuple[np.ndarray, int, int, bool] | None:
    """One stage: maximise ``gain`` with each earlier minimum held, over the pair columns in
    ``cols`` (None: every column; the slacks always). Returns the solution, its value and
    bound (whole units) and whether HiGHS proved it over those columns; None when those
    columns hold no solution (over every column that is raised: the rules that never bend
    cannot hold, or the time ran out)."""
    mat = run.mat
    A, lo, hi = _with_held(mat, held)
    pairs_upper = np.ones(mat.n) if cols is None else cols.astype(float)
    upper = np.concatenate([pairs_upper, mat.slack_ub])
    res = milp(
        -gain,
        constraints=LinearConstraint(A, lo, hi),
        integrality=np.ones(A.shape[1]),
        bounds=Bounds(np.zeros(A.shape[1]), upper),
        options={
            "time_limit": max(run.deadline - time.perf_counter(), 1.0),
            "mip_rel_gap": 0.0,
            "presolve": True,
        },
    )
    if res.status == 2 and cols is None:
        raise InfeasibleError(_hard_clashes(run.problem, run.seating))
    if res.x is None:  # those columns hold no solution, or none was found in time
        return None
    x = np.rint(res.x)
    value = round(float(gain @ x))
    dual = getattr(res, "mip_dual_bound", None)
    proved = res.status == 0
    bound = value if proved or dual is None else max(math.floor(-dual + 1e-6), value)
    return x, value, bound, proved


def _lp(
    mat: _Matrix, cost: np.ndarray, held: dict[str, int], deadline: float
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The stage's LP over every column, minimising ``cost``: its value, each column's
    reduced cost (forcing a column at zero to one raises the value by at least that much)
    and its solution; None when HiGHS stops short of the optimum."""
    A, lo, hi = _with_held(mat, held)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.col_cost_ = cost.astype(np.float64)
    lp.col_lower_ = np.zeros(A.shape[1])
    lp.col_upper_ = np.concatenate([np.ones(mat.n), mat.slack_ub])
    lp.row_lower_ = np.where(np.isfinite(lo), lo, -highspy.kHighsInf)
    lp.row_upper_ = np.where(np.isfinite(hi), hi, highspy.kHighsInf)
    csc = A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(np.float64)
    h = new_highs()  # HiGHS prints a banner from C++ when it is created
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)  # as every HiGHS run of the package (see solvers/bends.py)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("time_limit", max(deadline - time.perf_counter(), 1.0))
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    z = float(h.getInfo().objective_function_value)
    return z, np.asarray(sol.col_dual), np.asarray(sol.col_value)


def _panel_pairs(problem: Problem) -> Pairs | None:
    """The eligible pairs of the per-project panels of a mixed batch (None: no panel)."""
    if problem.project_meeting.all():
        return None
    pairs = eligible_pairs(problem)
    return pairs.take(~problem.project_meeting[pairs.project])


# -- the rules that never bend ------------------------------------------------------------------

#: The rows that never bend and whose lower side a lack of candidates breaks.
_HARD_MINIMA = (Rule.PANEL_SIZE, Rule.MIN_REVIEWERS)


def _hard_first_line(problem: Problem, seating: Seating) -> None:
    """A group with fewer candidates than a rule that never bends needs (``panel_size``,
    ``min_reviewers``), or a per-project panel with fewer eligible experts than its size:
    named, with the figures."""
    model = seating.model
    sizes = np.diff(model.A.indptr)
    short = np.isin(model.row_rule, _HARD_MINIMA) & (model.lb > sizes + 1e-9)
    short &= seating.row_group >= 0
    clashes = []
    for r in np.flatnonzero(short)[:20].tolist():
        g, p = int(seating.row_group[r]), int(model.row_project[r])
        rule = str(model.row_rule[r])
        of = f", project {problem.project_ids[p]}" if p >= 0 else ""
        what = "experts who may sit in it" if rule == Rule.PANEL_SIZE else "candidates"
        clashes.append(
            Clash(
                rule,
                f"group {seating.groups[g][0]}{of} cannot be staffed even with rules bent: "
                f"{rule} needs {model.lb[r]:g}, only {sizes[r]} {what} without a conflict "
                f"(conflicts, eligibility and {rule} never bend)",
                tuple(problem.project_ids[q] for q in seating.groups[g][1]),
                suggestion="regroup its projects, lower min_reviewers, or widen the expert pool",
            )
        )
    panel = seating.panel_pairs
    eligible = np.bincount(panel.project, minlength=problem.n_projects)
    few = ~problem.project_meeting & (eligible < problem.project_panel_size)
    for p in np.flatnonzero(few)[: max(20 - len(clashes), 0)].tolist():
        pid, need = problem.project_ids[p], int(problem.project_panel_size[p])
        clashes.append(
            Clash(
                Rule.PANEL_SIZE,
                f"{pid} needs {need} experts; only {eligible[p]} are eligible "
                "(conflicts and eligibility never bend)",
                (pid,),
            )
        )
    if clashes:
        raise InfeasibleError(clashes)


def _hard_clashes(problem: Problem, seating: Seating) -> list[Clash]:
    """Why even the relaxed seating has no solution: the groups that cannot be seated alone
    under the rules that never bend, else the combination (``max_groups_per_expert``, the
    schedule)."""
    out: list[Clash] = []
    for gid, projects in seating.groups:
        if len(out) >= 20:
            break
        alone = build_seating(problem, [(gid, projects)], with_capacity=False)
        mat = relaxed_matrix(problem, alone)
        res = milp(
            np.zeros(mat.A.shape[1]),
            constraints=LinearConstraint(mat.A, mat.lo, mat.hi),
            integrality=np.ones(mat.A.shape[1]),
            bounds=Bounds(0, np.concatenate([np.ones(mat.n), mat.slack_ub])),
            options={"time_limit": 10.0},
        )
        if res.status == 2:
            out.append(
                Clash(
                    Rule.GROUP,
                    f"group {gid} cannot be seated even with rules bent: panel_size, "
                    "min_reviewers and the chair's cap never bend",
                    tuple(problem.project_ids[p] for p in projects),
                )
            )
    return out or [
        Clash(
            Rule.COMBINED,
            "no seating of the meeting groups keeps the rules that never bend "
            f"(max_groups_per_expert {problem.meeting.max_groups_per_expert}, panel_size, "
            "min_reviewers, the schedule), although each group can be seated alone",
        )
    ]


# -- bends and the Result ---------------------------------------------------------------------


def meeting_bends(problem: Problem, groups: Sequence[Group], panel: Pairs) -> list[Bend]:
    """Every bend of a seating, recomputed from its groups and per-project panel pairs, in
    the bend order (the chair last)."""
    out: list[Bend] = []
    for g in groups:
        out += _seat_bends(problem, g) + _reviewer_bends(problem, g)
    out += _panel_bends(problem, panel)
    out += _batch_bends(problem, groups, panel)
    out += _load_bends(problem, groups, panel)
    rank: dict[str, int] = {k: i for i, k in enumerate((*BEND_ORDER, Rule.CHAIR))}
    return sorted(out, key=lambda b: rank[bend_key(b.rule)])


def _seat_bends(problem: Problem, g: Group) -> list[Bend]:
    """The rules over a group's seats: enterprise seats, organization cap, quotas, chair."""
    out: list[Bend] = []
    seats, where = list(g.panel), f"group {g.id}:"
    short = seat_enterprise_needed(problem, g.projects) - sum(
        bool(problem.expert_enterprise[e]) for e in seats
    )
    if short > 0:
        out.append(
            Bend(
                Rule.ENTERPRISE_SHARE,
                short,
                f"{where} {short} enterprise seat(s) short of the minimum share",
                group=g.id,
            )
        )
    limit = group_max_per_org(problem, g.projects)
    for org, n in sorted(Counter(int(problem.expert_org[e]) for e in seats).items()):
        if n > limit:
            out.append(
                Bend(
                    Rule.MAX_PER_ORG,
                    n - limit,
                    f"{where} {n - limit} seat(s) beyond max_per_org from organization "
                    f"{problem.org_ids[org]}",
                    group=g.id,
                )
            )
    for _, quota in group_quotas(problem, g.projects):
        counts = problem.has_value(quota.attribute, quota.values)
        got = int(sum(bool(counts[e]) for e in seats))
        low, high = quota.bounds(problem.meeting.panel_size)
        for amount, side in (
            (low - got, "short of the minimum"),
            (got - high, "beyond the maximum"),
        ):
            if amount > 0:
                out.append(
                    Bend(
                        Rule.QUOTA,
                        amount,
                        f"{where} quota {quota.name} {amount} member(s) {side}",
                        group=g.id,
                    )
                )
    chair = problem.rules.chair
    if chair is not None and group_needs_chair(problem, g.projects) and g.chair < 0:
        out.append(
            Bend(
                Rule.CHAIR,
                1,
                f"{where} no seated member may chair it within max_per_expert "
                f"{chair.max_per_expert}",
                group=g.id,
            )
        )
    return out


def _reviewer_bends(problem: Problem, g: Group) -> list[Bend]:
    """Per project of the group, over its reviewers: enterprise reviewers and coverage."""
    out: list[Bend] = []
    bad = conflicted(problem)
    cov = coverage_rows(problem)
    for p in g.projects:
        pid = problem.project_ids[p]
        revs = [e for e in g.panel if e not in bad.get(p, frozenset())]
        short = reviewer_enterprise_needed(problem, p) - sum(
            bool(problem.expert_enterprise[e]) for e in revs
        )
        if short > 0:
            out.append(
                Bend(
                    Rule.ENTERPRISE_SHARE,
                    short,
                    f"{pid}: {short} enterprise reviewer(s) short of the minimum share",
                    project=pid,
                )
            )
        lo, hi = np.searchsorted(cov.project, [p, p + 1])
        held = cov.holds[revs].toarray().any(axis=0) if revs else np.zeros(len(cov.nodes), bool)
        for node in cov.node[lo:hi].tolist():
            if not held[node]:
                out.append(
                    Bend(
                        Rule.COVERAGE,
                        1,
                        f"{pid}: no reviewer covers field {cov.nodes[node]}",
                        project=pid,
                    )
                )
    return out


def _panel_bends(problem: Problem, panel: Pairs) -> list[Bend]:
    """The per-project panels' bends (a mixed batch), worded as :mod:`.relax` words them."""
    if not len(panel):
        return []
    model: Model = build_model(problem, panel)
    ax = model.A @ np.ones(len(panel))
    amounts = []
    for r in range(model.n_rows):
        rule = str(model.row_rule[r])
        p = int(model.row_project[r])
        if rule in (Rule.PANEL_SIZE, Rule.LOAD) or (p >= 0 and problem.project_meeting[p]):
            continue
        if p < 0 and (rule == Rule.ENTERPRISE_TARGET_SHARE or rule.startswith(Rule.QUOTA)):
            continue  # a rule over all seats: the meeting seats count too (_batch_bends)
        short = model.lb[r] - ax[r] if math.isfinite(model.lb[r]) else 0.0
        over = ax[r] - model.ub[r] if math.isfinite(model.ub[r]) else 0.0
        if short > 0.5:
            amounts.append((round(short), rule, p, r))
        if over > 0.5:
            amounts.append((round(over), rule + OVER, p, r))
    return _bends(problem, amounts, model)


def _batch_bends(problem: Problem, groups: Sequence[Group], panel: Pairs) -> list[Bend]:
    """The rules over all seats (the round's and the stages' enterprise targets, batch
    quotas), counted as :func:`expertmatch.verify.seat_rules` counts them: every per-project
    panel member and every seat of a meeting group."""
    panels: dict[int, list[int]] = {}
    for p, e in zip(panel.project.tolist(), panel.expert.tolist(), strict=True):
        panels.setdefault(p, []).append(e)
    seats = seat_list(problem, panels, groups)
    out: list[Bend] = []
    for rule in seat_rules(problem, groups):
        got = rule.count(seats)
        for amount, over in ((rule.low - got, False), (got - rule.high, True)):
            if amount <= 0:
                continue
            amount = int(amount)
            if rule.quota is not None:
                out.append(quota_bend(rule.quota.name, amount, over))
                continue
            stages = (
                "the batch is"
                if rule.stages is None
                else f"the {', '.join(sorted(rule.stages))} seats are"
            )
            message = f"{stages} {amount} enterprise seat(s) short of enterprise_target_share"
            out.append(Bend(rule.rule, amount, message))
    return out


def _load_bends(problem: Problem, groups: Sequence[Group], panel: Pairs) -> list[Bend]:
    """Seats (one each) and panel reviews beyond an expert's ``max_load`` or ``yearly_cap``."""
    load = np.bincount(panel.expert, minlength=problem.n_experts)
    for g in groups:
        load[list(g.panel)] += 1
    cap_left = np.maximum(problem.rules.yearly_cap - problem.expert_used, 0)
    out = []
    for rule, limit, said in (
        (Rule.MAX_LOAD, problem.expert_max_load, None),
        (Rule.YEARLY_CAP, cap_left, problem.rules.yearly_cap),
    ):
        for e in np.flatnonzero(load > limit).tolist():
            amount = int(load[e] - limit[e])
            eid = problem.expert_ids[e]
            shown = int(limit[e]) if said is None else said
            out.append(
                Bend(
                    rule,
                    amount,
                    f"{eid} gets {amount} review(s) beyond {rule} {shown}",
                    expert=eid,
                )
            )
    return out


def _score_bound(problem: Problem) -> int:
    """A score bound for any grouping, whatever bends (whole units): per meeting project the
    best ``panel_size`` scores among the experts without a conflict (its reviewers are among
    its group's seats), per panel project its best ``panel_size`` eligible scores."""
    unit, k = score_unit(problem), problem.meeting.panel_size
    bad = conflicted(problem)
    total = 0
    projects = meeting_projects(problem)
    for lo in range(0, projects.size, 200):
        block = projects[lo : lo + 200]
        w = integer_weights(block_scores(problem, block), unit)
        for i, p in enumerate(block.tolist()):
            w[i, list(bad.get(p, ()))] = 0
        total += int(np.sort(w, axis=1)[:, -k:].sum())
    panel = _panel_pairs(problem)
    if panel is not None:
        w = integer_weights(panel.score, unit)
        for p in np.unique(panel.project).tolist():
            mine = np.sort(w[panel.project == p])
            total += int(mine[-int(problem.project_panel_size[p]) :].sum())
    return total


def _result(
    problem: Problem,
    relaxed: _Relaxed,
    grouping: str,
    slot_room: dict[int, tuple[str, int]],
    order: tuple[str, ...],
    params: SolveParams,
    start: float,
    free: bool,
) -> Result:
    """The Result: reviewing and panel pairs, groups, chairs, every bend (each rule's bends
    checked against the minimum the stages reached)."""
    s = relaxed.seating
    seated = Seated(s, relaxed.chosen, relaxed.objective, relaxed.bound)
    groups = _groups_of(problem, seated, slot_room)
    reviewing = reviewing_pairs(problem, groups)
    panel = (
        s.panel_pairs.take(relaxed.chosen[s.kind == PANEL]) if len(s.panel_pairs) else s.panel_pairs
    )
    bends = meeting_bends(problem, groups, panel)
    found = Counter[str]()
    for b in bends:
        found[bend_key(b.rule)] += b.amount
    if relaxed.proved and any(found.get(k, 0) != v for k, v in relaxed.held.items()):
        raise InternalError(
            f"the relaxed seating's bends {dict(found)} differ from its stages' minima "
            f"{relaxed.held}"
        )
    chairs, missing = choose_chairs(problem, panel)
    limit = problem.rules.chair.max_per_expert if problem.rules.chair is not None else 0
    bends += [
        Bend(
            Rule.CHAIR,
            1,
            f"{problem.project_ids[p]}: no member may chair it within max_per_expert {limit}",
            project=problem.project_ids[p],
        )
        for p in missing
        if not problem.project_meeting[p]
    ]
    pairs = concat(
        [
            (reviewing.project, reviewing.expert, reviewing.score),
            (panel.project, panel.expert, panel.score),
        ]
    )
    unit = s.model.unit
    bound = max(_score_bound(problem), relaxed.objective) if free else relaxed.bound
    status = Status.FEASIBLE if free else Status.OPTIMAL if relaxed.proved else Status.TIMEOUT
    return Result.build(
        problem,
        pairs,
        status=status,
        objective=float(np.round(pairs.score.sum(), 6)),
        bound=bound * unit,
        time_s=time.perf_counter() - start,
        seed=params.seed,
        stats=MeetingRelaxStats(
            method=METHOD,
            bend_order=list(order),
            # proven: the stages' minima (checked equal to the bends above); out of time:
            # the bends of the seating returned
            bends_by_rule={k: found.get(k, 0) for k in relaxed.stages},
            grouping=grouping,
            groups=len(groups),
        ),
        bends=tuple(bends),
        chairs=chairs,
        groups=groups,
    )

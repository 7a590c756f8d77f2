"""The relaxed solve over priced columns: the fewest bends, rule by rule, never every pair.

:func:`expertmatch.solvers.relax.solve_relaxed` can hold one CP-SAT model over every eligible
pair, which is slow already at a few hundred thousand pairs. Unless the caller adds goals of
its own (``reassign --relax``), the same lexicographic solve runs here instead, with HiGHS,
over a column set that grows only where pricing says it must:

1. Columns: the survey's candidates (:func:`expertmatch.formulation.candidates.survey`, experts
   at their cap included, since loads may bend): each project's best experts and enough to
   satisfy each rule.
2. A stage (a bendable rule, the most protected first; last the score) is an LP over the
   columns: every row of the batch, a slack on each bendable side (panel sizes exact, loads
   split into ``max_load`` and ``yearly_cap`` rows), the minima of the earlier stages held.
   Every eligible pair whose reduced cost is positive is priced in
   (:func:`expertmatch.solvers.pricing.price`; a bend stage gives pairs no weight) until none
   is left: the LP value is then a bound for all pairs. The slacks keep every restricted LP
   feasible; HiGHS restarts each LP from the last basis (new columns at zero), by the simplex
   measured faster there (:func:`_dual_simplex`).
3. The quick way: each bend stage's bound, rounded up, is held without an integer solve (a
   stage is skipped at 0 when the last LP bends it nowhere), and one MIP (HiGHS branch and
   cut over the columns, the score stage) shows that all of them hold together: reaching
   them proves each the minimum. When the integrality gap makes that MIP infeasible, each
   stage gets its own MIP in turn.
4. An integer value is proven for the whole batch when it reaches the LP bound, or when no
   pair left out has a reduced cost within the gap (an assignment using such a pair is worse:
   the reduced-cost argument of :mod:`expertmatch.solvers.exact`). Otherwise those pairs (at
   most :data:`ADD_PER_PROJECT` a project) join the columns and the stage is solved again, up
   to :data:`ROUNDS` times; a stage still unproven makes the result's status ``timeout``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import highspy
import numpy as np
import scipy.sparse as sp

from expertmatch.domain.pairs import Pairs, merge
from expertmatch.errors import SolveError
from expertmatch.formulation.candidates import Survey
from expertmatch.formulation.rows import Model, build_model
from expertmatch.solvers.backends import new_highs, set_start
from expertmatch.solvers.exact import PRICE_PER_PROJECT, PRICE_TOL
from expertmatch.solvers.pricing import Duals, price
from expertmatch.vocabulary import Rule, Status

if TYPE_CHECKING:
    from expertmatch.domain.problem import Problem

#: Largest batch (eligible pairs) whose relaxed solve holds every pair in one CP-SAT model
#: (:mod:`expertmatch.solvers.relax`). None by default: measured on a generated 300 x 900
#: batch, that model ran past 10 minutes where the stages here take seconds; ``reassign
#: --relax`` (goals of its own and a start) still uses it.
ALL_PAIRS_UP_TO = 0
#: Pairs per project added in one round when a stage's integer value is not yet proven.
ADD_PER_PROJECT = 20
#: Integer solves per stage before the stage is left unproven.
ROUNDS = 4
#: The score stage's name among the bend stages.
SCORE = "score"
#: Marks the slack of a row's maximum (a two-sided quota row has one slack per side).
OVER = ":over"
#: Default order of bending: first listed bends first; last listed is the most protected (also
#: the order bends are listed in).
BEND_ORDER = (
    Rule.MAX_PER_ORG,
    Rule.COVERAGE,
    Rule.QUOTA,
    Rule.ENTERPRISE_SHARE,
    Rule.MAX_LOAD,
    Rule.YEARLY_CAP,
)
#: ``_Rows.origin`` of a row that holds an earlier stage's minimum.
HOLD = -(2**62)


def bend_key(rule: str) -> str:
    """The bendable rule a model row counts toward (a stage's or the round's enterprise target
    bends with the enterprise share)."""
    return Rule.ENTERPRISE_SHARE if rule == Rule.ENTERPRISE_TARGET_SHARE else rule


@dataclass
class _Lp:
    """One stage's LP over ``columns``: its value (maximisation: minus the bends of a bend
    stage, the weighted score of the last) and the duals spread out for pricing."""

    z: float
    duals: Duals
    bent: dict[str, float]
    """Per bendable rule, the sum of its slacks in the LP's solution."""
    x: np.ndarray
    """The LP's solution over the pairs, then the slacks."""
    rc: np.ndarray
    """The reduced costs of the same (maximisation: at most 0 at zero, at least 0 at one)."""


class TooTight(Exception):
    """A tentative minimum (an LP bound rounded up) that no assignment over the columns
    reaches: the stages are solved one by one instead."""


@dataclass
class _Rows:
    """The stage LP's rows as triplets: pair entries (row, column), slack entries (row,
    slack) with the slack's bend key and upper bound, the row sense and right-hand side."""

    pair_rows: list[np.ndarray]
    pair_cols: list[np.ndarray]
    slack_row: list[int]
    slack_sign: list[float]
    slack_key: list[str]
    slack_ub: list[float]
    sense: list[str]  # "eq", "le", "ge"
    rhs: list[float]
    origin: list[int]  # model row (or -1 - expert for a split load row, or HOLD)
    holds: dict[int, str] = field(default_factory=dict)  # hold row -> the rule it holds

    def new_row(self, sense: str, rhs: float, origin: int) -> int:
        self.sense.append(sense)
        self.rhs.append(rhs)
        self.origin.append(origin)
        return len(self.sense) - 1

    def slack(self, row: int, sign: float, key: str, ub: float) -> None:
        self.slack_row.append(row)
        self.slack_sign.append(sign)
        self.slack_key.append(key)
        self.slack_ub.append(ub)


def _stage_rows(problem: Problem, model: Model) -> _Rows:
    """Every row of ``model`` with a slack on each bendable side; load rows split in two."""
    rows = _Rows([], [], [], [], [], [], [], [], [])
    A = model.A.tocsr()
    for r in range(model.n_rows):
        rule = str(model.row_rule[r])
        if rule == Rule.LOAD:
            continue
        cols = A.indices[A.indptr[r] : A.indptr[r + 1]]
        lo, hi = float(model.lb[r]), float(model.ub[r])
        sides = (
            [("eq", lo)]
            if rule == Rule.PANEL_SIZE
            else [("ge", lo)] * (math.isfinite(lo) and lo > 0) + [("le", hi)] * math.isfinite(hi)
        )
        for sense, rhs in sides:
            i = rows.new_row(sense, rhs, r)
            rows.pair_rows.append(np.full(cols.size, i))
            rows.pair_cols.append(cols)
            if sense == "ge":
                rows.slack(i, 1.0, bend_key(rule), rhs)
            elif sense == "le":
                rows.slack(i, -1.0, bend_key(rule), math.inf)
    _load_rows(problem, model.pairs, rows)
    return rows


def _load_rows(problem: Problem, pairs: Pairs, rows: _Rows) -> None:
    """Each expert's ``max_load`` and ``yearly_cap`` rows, where the columns can exceed them."""
    counts = np.bincount(pairs.expert, minlength=problem.n_experts)
    cap_left = np.maximum(problem.rules.yearly_cap - problem.expert_used, 0)
    order = np.argsort(pairs.expert, kind="stable")
    starts = np.r_[0, np.cumsum(counts)]
    for rule, limit in ((Rule.MAX_LOAD, problem.expert_max_load), (Rule.YEARLY_CAP, cap_left)):
        for e in np.flatnonzero(counts > limit):
            i = rows.new_row("le", float(limit[e]), -1 - int(e))
            cols = order[starts[e] : starts[e + 1]]
            rows.pair_rows.append(np.full(cols.size, i))
            rows.pair_cols.append(cols)
            rows.slack(i, -1.0, rule, math.inf)


@dataclass
class StageMatrix:
    """One stage over the columns as ``lo <= A [x; slacks] <= hi`` (``eq``/``le``/``ge`` rows),
    maximising ``gain``; ``rows`` says what each row and slack is about."""

    rows: _Rows
    A: sp.csr_matrix
    gain: np.ndarray
    upper: np.ndarray  # variable upper bounds (lower bounds are 0)
    n_pairs: int

    def split(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Masks of the ``eq``, ``le`` and ``ge`` rows and the right-hand sides."""
        sense = np.array(self.rows.sense)
        return sense == "eq", sense == "le", sense == "ge", np.array(self.rows.rhs)


def stage_matrix(problem: Problem, model: Model, stage: str, held: dict[str, int]) -> StageMatrix:
    """The stage's rows over the model's columns (see the module docstring)."""
    rows = _stage_rows(problem, model)
    n, m = model.n_pairs, len(rows.slack_row)
    slack_key = np.array(rows.slack_key, dtype=object)
    hold_r, hold_c = [], []
    for k in sorted(held):
        i = rows.new_row("le", float(held[k]), HOLD)
        rows.holds[i] = k
        s = np.flatnonzero(slack_key == k)
        hold_r.append(np.full(s.size, i))
        hold_c.append(n + s)
    empty = np.zeros(0, dtype=np.int64)
    entries_r = np.concatenate([*rows.pair_rows, empty, np.array(rows.slack_row, dtype=np.int64)])
    entries_c = np.concatenate([*rows.pair_cols, empty, n + np.arange(m)])
    values = np.concatenate([np.ones(entries_r.size - m), np.array(rows.slack_sign)])
    if hold_r:
        entries_r = np.concatenate([entries_r, *hold_r])
        entries_c = np.concatenate([entries_c, *hold_c])
        values = np.concatenate([values, np.ones(sum(h.size for h in hold_r))])
    A = sp.csr_matrix(
        (values, (entries_r.astype(np.int64), entries_c.astype(np.int64))),
        shape=(len(rows.sense), n + m),
    )
    gain = np.zeros(n + m)  # maximised
    if stage == SCORE:
        gain[:n] = model.weight
    else:
        gain[n:][slack_key == stage] = -1.0
    upper = np.concatenate([np.ones(n), np.array(rows.slack_ub)])
    return StageMatrix(rows, A, gain, upper, n)


#: What a warm start remembers of an LP's basis: the pair keys (project x experts + expert,
#: sorted) with their statuses, and each row's and each slack's status by the row's key.
Warm = tuple[np.ndarray, np.ndarray, dict[tuple[object, ...], int], dict[tuple[object, ...], int]]

_LOWER, _BASIC = int(highspy.HighsBasisStatus.kLower), int(highspy.HighsBasisStatus.kBasic)


def _row_keys(model: Model, rows: _Rows) -> list[tuple[object, ...]]:
    """A key per stage row that names it the same way whatever the columns (model rows are
    renumbered when columns are added)."""
    slack_of = dict(zip(rows.slack_row, rows.slack_key, strict=True))
    keys: list[tuple[object, ...]] = []
    for i, (r, sense) in enumerate(zip(rows.origin, rows.sense, strict=True)):
        if r == HOLD:
            keys.append(("hold", rows.holds[i]))
        elif r < 0:
            keys.append(("load", slack_of[i], -1 - r))
        else:
            keys.append(
                (
                    str(model.row_rule[r]),
                    int(model.row_project[r]),
                    int(model.row_expert[r]),
                    int(model.row_org[r]),
                    int(model.row_node[r]),
                    -1 if model.row_quota is None else int(model.row_quota[r]),
                    -1 if model.row_stage is None else int(model.row_stage[r]),
                    sense,
                )
            )
    return keys


def _stage_model(mat: StageMatrix, lower: np.ndarray, upper: np.ndarray) -> highspy.HighsLp:
    """The stage matrix as a HiGHS model (maximised) with the variables' bounds."""
    eq, le, ge, rhs = mat.split()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = mat.A.shape[1], mat.A.shape[0]
    lp.col_cost_ = mat.gain.astype(np.float64)
    lp.col_lower_ = lower
    lp.col_upper_ = np.where(np.isfinite(upper), upper, highspy.kHighsInf)
    lp.row_lower_ = np.where(eq | ge, rhs, -highspy.kHighsInf)
    lp.row_upper_ = np.where(eq | le, rhs, highspy.kHighsInf)
    csc = mat.A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr.astype(np.int32)
    lp.a_matrix_.index_ = csc.indices.astype(np.int32)
    lp.a_matrix_.value_ = csc.data.astype(np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize
    return lp


def _highs_lp(mat: StageMatrix, time_left: float, dual: bool = False) -> highspy.Highs:
    """The stage matrix as a HiGHS LP (maximised), by dual simplex (``dual``) or primal
    simplex (see :func:`_dual_simplex` for which); presolve off, which would discard the
    warm start."""
    lp = _stage_model(mat, np.zeros(mat.upper.size), mat.upper)
    h = new_highs()
    h.setOptionValue("output_flag", False)
    # one thread, as every HiGHS run of the package: HiGHS keeps one task scheduler per
    # process, and a run with the default thread count left it at odds with the finishes'
    # single-threaded branch and cut (a later exact solve then returned a wrong optimum)
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("presolve", "off")
    h.setOptionValue("simplex_strategy", 1 if dual else 4)
    h.setOptionValue("time_limit", max(time_left, 1.0))
    h.passModel(lp)
    return h


#: Stages whose first LP runs by dual simplex from the last stage's basis (see
#: :func:`_dual_simplex`).
DUAL_FIRST = (SCORE, Rule.MAX_LOAD, Rule.YEARLY_CAP)
#: New columns from which the score stage's next LP runs by dual simplex (fewer: primal).
DUAL_FROM = 1000


def _dual_simplex(stage: str, warm: bool, new: int | None) -> bool:
    """Dual simplex for this LP, or primal? ``new``: the columns added since the last LP of
    the stage, None for its first. Measured on the generated clash batches (CPU s):

    - no basis (the first LP): dual; primal from nothing took 170 s on 10k x 30k.
    - the score stage's first LP, from the last bend stage's basis: dual (every pair's cost
      changes: on 1k x 3k primal took 24,000 iterations, 7 s, against about 1 s).
    - the score stage after :data:`DUAL_FROM` new columns or more: dual (new columns are
      boxed, so dual simplex flips those that price in to their upper bound and repairs the
      rows that breaks: 3k x 9k 0.9 against 3.0 after 15,000 new columns; 10k x 30k 3.6
      against 48 after 40,000, 2.8 against 8.7 after 3,000); after fewer, primal (10k x 30k
      1.2-1.7 against 2.3-2.6 after 500 or fewer: dual simplex pays for every column).
    - a bend stage after new columns: primal (they keep the basis primal feasible; dual took
      4.4 against 3.1 on 3k x 9k's enterprise stage).
    - a bend stage's first LP, from the last stage's basis (primal feasible: its minimum,
      rounded up, is held): primal for the rules of a project's panel, whose new objective
      moves the solution little (3k x 9k: coverage 0.6 against 2.6, the enterprise share 0.3
      against 0.7; 10k x 30k: the enterprise share 1.1 against 4.1), dual for the load rules
      (:data:`DUAL_FIRST`), whose objective moves reviews between many experts (10k x 30k:
      ``max_load`` from the ``yearly_cap`` basis 19 against 3.2).
    """
    if not warm:
        return True
    if new is None:
        return stage in DUAL_FIRST
    return stage == SCORE and new >= DUAL_FROM


def _warm_basis(
    warm: Warm, pair_keys: np.ndarray, row_keys: list[tuple[object, ...]], rows: _Rows
) -> highspy.HighsBasis:
    """The last basis mapped onto the new columns and rows: new pairs and slacks at zero, new
    rows basic (so the count of basic variables still equals the count of rows)."""
    old_keys, old_status, old_rows, old_slacks = warm
    pair_status = np.full(pair_keys.size, _LOWER, dtype=np.int64)
    if old_keys.size:
        at = np.minimum(np.searchsorted(old_keys, pair_keys), old_keys.size - 1)
        same = old_keys[at] == pair_keys
        pair_status[same] = old_status[at[same]]
    slack_status = [old_slacks.get(row_keys[i], _LOWER) for i in rows.slack_row]
    row_status = [old_rows.get(k, _BASIC) for k in row_keys]
    basis = highspy.HighsBasis()
    basis.col_status = [highspy.HighsBasisStatus(int(v)) for v in pair_status] + [
        highspy.HighsBasisStatus(v) for v in slack_status
    ]
    basis.row_status = [highspy.HighsBasisStatus(v) for v in row_status]
    basis.valid = True
    return basis


def _solve_stage_lp(
    problem: Problem,
    model: Model,
    stage: str,
    held: dict[str, int],
    time_left: float,
    warm: Warm | None = None,
    new: int | None = None,
) -> tuple[_Lp, Warm]:
    """The stage's LP over the model's columns, with its duals for pricing and its basis for
    the next warm start (``new``: columns added since the stage's last LP; None: the warm
    basis is the last stage's)."""
    mat = stage_matrix(problem, model, stage, held)
    h = _highs_lp(mat, time_left, dual=_dual_simplex(stage, warm is not None, new))
    pair_keys = model.pairs.project.astype(np.int64) * problem.n_experts + model.pairs.expert
    row_keys = _row_keys(model, mat.rows)
    if warm is not None:
        h.setBasis(_warm_basis(warm, pair_keys, row_keys, mat.rows))
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        raise TooTight(stage)
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolveError(
            f"relaxed LP ({stage}) stopped: {h.modelStatusToString(status)}", Status.TIMEOUT
        )
    sol = h.getSolution()
    x = np.asarray(sol.col_value)
    pi = -np.asarray(sol.row_dual)  # maximisation sign: rc_j = w_j + sum_r A_rj pi_r
    slack_key = np.array(mat.rows.slack_key, dtype=object)
    bent = {str(k): float(x[mat.n_pairs :][slack_key == k].sum()) for k in set(slack_key)}
    basis = h.getBasis()
    col_status = np.array([int(v) for v in basis.col_status], dtype=np.int8)
    order = np.argsort(pair_keys)
    new_warm: Warm = (
        pair_keys[order],
        col_status[: mat.n_pairs][order],
        {k: int(v) for k, v in zip(row_keys, basis.row_status, strict=True)},
        {row_keys[i]: int(col_status[mat.n_pairs + j]) for j, i in enumerate(mat.rows.slack_row)},
    )
    z = float(h.getInfo().objective_function_value)
    rc = mat.gain + mat.A.T @ pi
    return _Lp(z, _duals(problem, model, mat.rows, pi), bent, x, rc), new_warm


@dataclass
class Integer:
    """One stage's integer solution over the columns: the pairs chosen, its value
    (maximisation units), whether HiGHS proved it optimal over the columns, and each slack's
    amount with its rule (``OVER`` for a maximum), project and row or expert."""

    chosen: np.ndarray
    value: int
    proved: bool
    amounts: list[tuple[int, str, int, int]]


#: Margin (weight units) against LP round-off when fixing by reduced cost.
FIX_MARGIN = 0.5


def solve_stage_mip(
    problem: Problem,
    model: Model,
    stage: str,
    held: dict[str, int],
    time_left: float,
    lp: _Lp | None = None,
    before: Pairs | None = None,
) -> Integer:
    """The stage over the columns with 0/1 pairs and whole slacks: HiGHS branch-and-cut,
    whose LP-based search closes the small gaps these stages leave quickly (measured: CP-SAT
    ran 590 s without proving a one-bend gap that HiGHS closes in under a second). Raises
    :class:`TooTight` when the minima ``held`` cannot all hold over these columns.

    With the stage's LP over the same columns (``lp``), its rounding (:func:`_rounded`), the
    pairs of the last round's answer (``before``) or else the MIP over a core of the columns
    (:func:`_core_solution`) is the start when it keeps the minima held; then it is the
    answer at once if it reaches the LP bound, and otherwise every variable whose reduced cost
    says it cannot be part of an assignment at least as good is fixed (``z_lp + rc <
    z_start``, the argument of :mod:`expertmatch.solvers.exact`), which leaves HiGHS a small
    model."""
    mat = stage_matrix(problem, model, stage, held)
    lower, upper = np.zeros(mat.upper.size), mat.upper.copy()
    start = None
    if lp is not None and lp.x.size == mat.upper.size:  # the LP over these columns
        start = _rounded(problem, model, mat, lp)
        if before is not None:  # the last round's answer, if it is better
            start = _better(mat, start, _held_start(problem, model, mat, before))
        if start is None:
            start = _core_solution(model, mat, lp, time_left)
    if start is not None and lp is not None:
        z_start = float(mat.gain @ start)
        if proven(round(z_start), lp.z):
            return _integer(model, mat, start, proved=True)
        at_zero, at_one = lp.x < 0.5, lp.x >= 0.5
        upper[at_zero & (lp.z + lp.rc < z_start - FIX_MARGIN)] = 0.0
        lower[at_one & (lp.z - lp.rc < z_start - FIX_MARGIN) & (mat.upper == 1)] = 1.0
    h = _highs_mip(mat, lower, upper, time_left)
    set_start(h, start)
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        raise TooTight(stage)
    if h.getInfo().primal_solution_status != 2:  # no feasible solution within the time
        raise SolveError(f"relaxed stage {stage}: {h.modelStatusToString(status)}", Status.TIMEOUT)
    x = np.rint(np.asarray(h.getSolution().col_value))
    return _integer(model, mat, x, proved=status == highspy.HighsModelStatus.kOptimal)


def _integer(model: Model, mat: StageMatrix, x: np.ndarray, proved: bool) -> Integer:
    return Integer(
        x[: mat.n_pairs] > 0.5,
        round(float(mat.gain @ x)),
        proved,
        _amounts(model, mat.rows, x[mat.n_pairs :]),
    )


def _highs_mip(
    mat: StageMatrix, lower: np.ndarray, upper: np.ndarray, time_left: float
) -> highspy.Highs:
    """The stage matrix as a HiGHS MIP (maximised, every variable integer) within bounds."""
    lp = _stage_model(mat, lower, upper)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * lp.num_col_
    h = new_highs()
    for name, value in (
        ("output_flag", False),
        ("threads", 1),  # as every HiGHS run of the package (see _highs_lp)
        ("random_seed", 0),
        ("time_limit", max(time_left, 1.0)),
        ("mip_rel_gap", 0.0),
        ("mip_abs_gap", 0.5),  # integer objective: a gap below one closes it
    ):
        h.setOptionValue(name, value)
    h.passModel(lp)
    return h


#: Pairs per project beyond the LP's support in the core an incumbent is searched on.
CORE_EXTRA = 3


def _core_solution(model: Model, mat: StageMatrix, lp: _Lp, time_left: float) -> np.ndarray | None:
    """An incumbent from the MIP over a core of the columns (the LP's support and each
    project's :data:`CORE_EXTRA` pairs of reduced cost nearest zero; every slack): small, so
    fast. None when the minima held cannot all hold there."""
    n = mat.n_pairs
    project = model.pairs.project
    order = np.lexsort((-lp.rc[:n], project))
    rank = np.arange(n) - np.searchsorted(project[order], project[order])
    core = np.zeros(n, dtype=bool)
    core[order[rank < CORE_EXTRA]] = True
    core |= lp.x[:n] > 1e-9
    upper = mat.upper.copy()
    upper[:n][~core] = 0.0
    h = _highs_mip(mat, np.zeros(upper.size), upper, time_left)
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return None
    return np.rint(np.asarray(h.getSolution().col_value))


def _better(mat: StageMatrix, a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    """The start of larger stage value."""
    if a is None or b is None:
        return a if b is None else b
    return a if float(mat.gain @ a) >= float(mat.gain @ b) else b


def _held_start(
    problem: Problem, model: Model, mat: StageMatrix, chosen: Pairs
) -> np.ndarray | None:
    """A start from an assignment's pairs (all among the model's): each slack at what the rows
    need; None when that breaks a minimum held."""
    return _with_slacks(mat, model, model.pairs.member_of(chosen, problem.n_experts))


def _with_slacks(mat: StageMatrix, model: Model, chosen: np.ndarray) -> np.ndarray | None:
    """``chosen`` (a mask over the pairs) with each slack at what the rows then need; None
    when that breaks a minimum held."""
    slack = _slacks(model, mat.rows, chosen)
    key = np.array(mat.rows.slack_key, dtype=object)
    for i, rule in mat.rows.holds.items():
        if slack[key == rule].sum() > mat.rows.rhs[i] + 1e-9:
            return None
    return np.concatenate([chosen.astype(np.float64), slack])


def _rounded(problem: Problem, model: Model, mat: StageMatrix, lp: _Lp) -> np.ndarray | None:
    """The stage LP rounded: each project's ``panel_size`` pairs of largest LP value (then
    weight), each slack at what the rows then need; None when that breaks a minimum held."""
    pairs = model.pairs
    order = np.lexsort((-model.weight, -lp.x[: mat.n_pairs], pairs.project))
    project = pairs.project[order]
    rank = np.arange(project.size) - np.searchsorted(project, project)
    chosen = np.zeros(mat.n_pairs, dtype=bool)
    chosen[order[rank < problem.project_panel_size[project]]] = True
    return _with_slacks(mat, model, chosen)


def _amounts(model: Model, rows: _Rows, slack: np.ndarray) -> list[tuple[int, str, int, int]]:
    """Each slack's amount, rule, project and row (or expert for a load) in bend order."""
    out = []
    for amount, i, key in zip(slack, rows.slack_row, rows.slack_key, strict=True):
        r = rows.origin[i]
        if r < 0:  # a load row of expert -1 - r
            out.append((key, (int(amount), key, -1, -1 - r)))
            continue
        rule = str(model.row_rule[r])
        side = "" if rows.sense[i] == "ge" else OVER
        out.append((key, (int(amount), rule + side, int(model.row_project[r]), r)))
    order: dict[str, int] = {k: n for n, k in enumerate(BEND_ORDER)}
    return [a for _, a in sorted(out, key=lambda item: order[item[0]])]


def _duals(problem: Problem, model: Model, rows: _Rows, pi: np.ndarray) -> Duals:
    """The stage LP's duals as :class:`Duals` of ``model``'s rows: both sides of a two-sided
    row add up; an expert's two load rows add up into its load dual."""
    origin = np.array(rows.origin)
    on_model = origin >= 0
    pi_model = np.zeros(model.n_rows)
    np.add.at(pi_model, origin[on_model], pi[on_model])
    load = np.zeros(problem.n_experts)
    split = (origin < 0) & (origin != HOLD)
    np.add.at(load, -1 - origin[split], pi[split])
    duals = Duals.from_model(problem, model, pi_model)
    return replace(duals, load=np.minimum(load, 0.0))


@dataclass
class Columns:
    """The growing column set of the relaxed solve and what pricing needs about it."""

    problem: Problem
    survey: Survey
    pairs: Pairs
    lp_rounds: int = 0
    last: _Lp | None = None
    warm: Warm | None = None
    gain: float = 0.0
    """The last stage LP's Lagrangian gain: its bound over all pairs minus its value."""
    score_bound: tuple[dict[str, int], float] | None = None
    """The tentative minima held in the score stage and that stage's bound over all pairs: an
    assignment that reaches every one of those minima proves them the fewest, and then no
    relaxed assignment scores above the bound (:func:`_best_found`)."""
    found: list[tuple[Model, np.ndarray]] = field(default_factory=list)
    """Every integer solution so far (a stage's MIP), with the model over its columns: on a
    timeout the best of them is returned (:func:`_best_found`)."""

    def grow(self, stage: str, held: dict[str, int], left: Callable[[], float]) -> float:
        """Column generation for one stage; returns the LP bound over all eligible pairs
        (maximisation units: minus bends, or weighted score)."""
        added: int | None = None  # columns added since the stage's last LP (None: its first)
        while True:
            self.lp_rounds += 1
            model = build_model(self.problem, self.pairs)
            lp, self.warm = _solve_stage_lp(
                self.problem, model, stage, held, left(), self.warm, added
            )
            new, best = self._price(lp, stage, PRICE_TOL, PRICE_PER_PROJECT)
            gain = float(np.sum(self.problem.project_panel_size * np.maximum(best, 0)))
            bound = lp.z + gain  # Lagrangian: holds for all pairs whatever is left to price
            # done when nothing prices in, or when pricing on cannot move the whole number
            # below the bound (the rest of a score stage's pricing: rounds of a full pass
            # each that add a handful of pairs; measured on 10k x 30k, 30 s a round)
            settled = math.floor(bound + 1e-6) == math.floor(lp.z + 1e-6)
            if len(new) == 0 or settled or left() <= 0:  # out of time: the bound still holds
                self.last, self.gain = lp, gain
                return bound
            if added is None and stage == SCORE:
                self._purge(model, lp)
            added = len(new)
            self.pairs = merge(self.pairs, new, self.problem.n_experts)

    def _purge(self, model: Model, lp: _Lp) -> None:
        """Drop the pairs the bend stages brought in that the score stage's first LP prices far
        below zero (at zero, reduced cost below minus the median weight): every later LP of
        the stage is smaller, the basis stays valid (they are non-basic at zero) and pricing
        brings back any that can improve it. The survey's candidates stay: pricing skips a
        project whose duals price no pair scoring at most its cutoff, which says nothing of
        the candidates above it (they are assumed among the columns)."""
        n = model.n_pairs
        far = (lp.x[:n] <= 1e-9) & (lp.rc[:n] < -float(np.median(np.abs(model.weight))))
        far &= ~model.pairs.member_of(self.survey.candidates, self.problem.n_experts)
        if far.any():
            self.pairs = model.pairs.take(~far)

    def _price(self, lp: _Lp, stage: str, threshold: float, per: int) -> tuple[Pairs, np.ndarray]:
        return price(
            self.problem,
            lp.duals,
            self.pairs,
            self.survey.cutoff,
            threshold,
            per,
            weighted=stage == SCORE,
            with_capacity=False,
        )

    def improving(self, stage: str, value: int) -> Pairs:
        """Pairs left out that an assignment better than ``value`` could use: reduced cost
        (from the stage's last LP) above ``value + 1 - z_lp - gain``, ``gain`` what the pairs
        left to price could add at most (0 when pricing ran to the end)."""
        lp = self.last
        assert lp is not None, "grow() runs before improving()"
        # pairs still pricing in add at most ``gain`` together (the Lagrangian argument)
        threshold = value + 1 - lp.z - self.gain - PRICE_TOL
        new, _ = self._price(lp, stage, threshold, ADD_PER_PROJECT)
        return new


def proven(value: int, bound: float) -> bool:
    """Is an integer value (maximisation) at its LP bound?"""
    return value >= math.floor(bound + 1e-6)


def violations(problem: Problem, model: Model, chosen: np.ndarray) -> dict[str, int]:
    """Bends per rule of a 0/1 vector over ``model.pairs`` (a restricted model holds every row
    that its pairs can break)."""
    ax = model.A @ chosen.astype(np.float64)
    with np.errstate(invalid="ignore"):
        short = np.where(np.isfinite(model.lb), np.maximum(model.lb - ax, 0.0), 0.0)
        over = np.where(np.isfinite(model.ub), np.maximum(ax - model.ub, 0.0), 0.0)
    out: dict[str, int] = {}
    for r in np.flatnonzero((short + over) > 0.5):
        rule = str(model.row_rule[r])
        if rule in (Rule.PANEL_SIZE, Rule.LOAD):
            continue
        key = bend_key(rule)
        out[key] = out.get(key, 0) + round(short[r] + over[r])
    counts = np.bincount(model.pairs.expert[chosen], minlength=problem.n_experts)
    cap_left = np.maximum(problem.rules.yearly_cap - problem.expert_used, 0)
    for rule, limit in ((Rule.MAX_LOAD, problem.expert_max_load), (Rule.YEARLY_CAP, cap_left)):
        out[rule] = int(np.maximum(counts - limit, 0).sum())
    return out


@dataclass
class Outcome:
    """The relaxed solve's answer over the columns: the model over the final columns, the
    assignment found, each rule's fewest bends, whether every stage is proven for the whole
    batch, and the score stage's bound (maximisation units)."""

    model: Model
    found: Integer
    held: dict[str, int]
    proved: bool
    bound: float


def fewest_bends(
    problem: Problem, surv: Survey, order: tuple[str, ...], left: Callable[[], float]
) -> Outcome:
    """The fewest bends rule by rule (``order``: first bends first), then the best score.

    First the quick way: each bend stage's LP bound, rounded up, is held without an integer
    solve, and one MIP (the score stage) checks that all of them hold together; reaching them
    proves each one the minimum. When the integrality gap makes that MIP infeasible, every
    stage gets its own MIP, one after the other."""
    columns = Columns(problem, surv, surv.candidates)
    try:
        try:
            return _tentative(problem, columns, order, left)
        except TooTight:
            return _stage_by_stage(problem, columns, order, left)
    except SolveError:  # out of time (the only SolveError): the best assignment found so far
        return _best_found(problem, columns, order)


def _best_found(problem: Problem, columns: Columns, order: tuple[str, ...]) -> Outcome:
    """The time limit ended the stages: the best assignment found, unproven.

    Among the stages' integer solutions and each project's best-scoring candidates (panels of
    eligible experts, valid whatever else bends), the one with the fewest bends rule by rule
    (most protected first), then the highest score. Its bends are what it bends, not proven
    minima; the bound is the score of each project's best panel with every bendable rule
    bent, which no relaxed assignment exceeds, or the score stage's bound when the assignment
    reaches the tentative minima that stage held (they are then the fewest, so the optimum
    keeps them too). ``Outcome.proved`` is False: status timeout."""
    base = build_model(problem, columns.survey.candidates)
    options = [*columns.found, (base, _best_panels(problem, base))]

    def rank(option: tuple[Model, np.ndarray]) -> tuple[float, ...]:
        model, chosen = option
        bent = violations(problem, model, chosen)
        return (*(bent.get(r, 0) for r in reversed(order)), -float(model.weight @ chosen))

    model, chosen = min(options, key=rank)
    rows = stage_matrix(problem, model, SCORE, {}).rows
    value = round(float(model.weight @ chosen))
    found = Integer(chosen, value, False, _amounts(model, rows, _slacks(model, rows, chosen)))
    bound = float(base.weight @ _best_panels(problem, base))
    bent = violations(problem, model, chosen)
    if columns.score_bound is not None:
        minima, score_bound = columns.score_bound
        if all(bent.get(r, 0) <= k for r, k in minima.items()):  # the minima, reached
            bound = min(bound, max(score_bound, float(value)))
    held = {r: bent.get(r, 0) for r in reversed(order)}
    return Outcome(model, found, held, False, bound)


def _best_panels(problem: Problem, model: Model) -> np.ndarray:
    """Each project's ``panel_size`` highest-weighted pairs of the model (the survey's
    candidates hold every project's best eligible experts)."""
    pairs = model.pairs
    order = np.lexsort((-model.weight, pairs.project))
    project = pairs.project[order]
    rank = np.arange(project.size) - np.searchsorted(project, project)
    chosen = np.zeros(len(pairs), dtype=bool)
    chosen[order[rank < problem.project_panel_size[project]]] = True
    return chosen


def _slacks(model: Model, rows: _Rows, chosen: np.ndarray) -> np.ndarray:
    """Each slack of the stage rows at a 0/1 assignment: the members short of a minimum or
    beyond a maximum."""
    n = model.n_pairs
    A = _pair_part(rows, n)
    ax = A @ chosen.astype(np.float64)
    i = np.array(rows.slack_row, dtype=np.int64)
    rhs = np.array(rows.rhs)[i]
    ge = np.array(rows.sense)[i] == "ge"
    return np.where(ge, np.maximum(rhs - ax[i], 0.0), np.maximum(ax[i] - rhs, 0.0))


def _pair_part(rows: _Rows, n_pairs: int) -> sp.csr_matrix:
    """The pair part of the stage rows (hold rows have none)."""
    empty = np.zeros(0, dtype=np.int64)
    r = np.concatenate([*rows.pair_rows, empty]).astype(np.int64)
    c = np.concatenate([*rows.pair_cols, empty]).astype(np.int64)
    return sp.csr_matrix((np.ones(r.size), (r, c)), shape=(len(rows.sense), n_pairs))


def _tentative(
    problem: Problem, columns: Columns, order: tuple[str, ...], left: Callable[[], float]
) -> Outcome:
    held: dict[str, int] = {}
    for stage in reversed(order):
        if columns.last is not None and columns.last.bent.get(stage, 0.0) <= 1e-9:
            held[stage] = 0  # the last LP bends it nowhere and holds every earlier minimum
            continue
        held[stage] = math.ceil(-columns.grow(stage, held, left) - 1e-6)
    return _stage(problem, columns, SCORE, held, left, tentative=True)


def _stage_by_stage(
    problem: Problem, columns: Columns, order: tuple[str, ...], left: Callable[[], float]
) -> Outcome:
    held: dict[str, int] = {}
    proved = True
    last: Outcome | None = None
    for stage in reversed(order):
        if (
            last is not None
            and violations(problem, last.model, last.found.chosen).get(stage, 0) == 0
        ):
            held[stage] = 0  # the solution so far bends it nowhere: 0 is the minimum
            continue
        last = _stage(problem, columns, stage, held, left)
        held[stage] = -last.found.value
        proved = proved and last.proved
    final = _stage(problem, columns, SCORE, held, left)
    final.proved = final.proved and proved
    return final


def _stage(
    problem: Problem,
    columns: Columns,
    stage: str,
    held: dict[str, int],
    left: Callable[[], float],
    tentative: bool = False,
) -> Outcome:
    """One stage: its LP bound over all pairs, then HiGHS over the columns, more columns while
    the value found is not proven (:data:`ROUNDS` at most)."""
    bound = columns.grow(stage, held, left)
    if tentative:
        columns.score_bound = (dict(held), bound)
    proved = False
    before: Pairs | None = None  # the last round's answer
    for again in range(ROUNDS):
        if again:  # the LP over the new columns too, for the start and the fixing
            bound = min(bound, columns.grow(stage, held, left))
            if tentative:
                columns.score_bound = (dict(held), bound)
        model = build_model(problem, columns.pairs)
        found = solve_stage_mip(problem, model, stage, held, left(), columns.last, before)
        before = model.pairs.take(found.chosen)
        columns.found.append((model, found.chosen))
        if proven(found.value, bound):
            proved = True  # at the bound for all pairs
            break
        new = columns.improving(stage, found.value)
        if len(new) == 0:
            proved = found.proved
            break
        columns.pairs = merge(columns.pairs, new, problem.n_experts)
    return Outcome(model, found, dict(held), proved, bound)

"""The back ends every exact path uses: HiGHS for the LP relaxation (with duals and reduced
costs, optionally with artificial shortfall columns), HiGHS branch and cut (:func:`solve_mip`)
and CP-SAT (:func:`solve_sat`) for a 0/1 model over a subset of the pairs (hint, fixed pairs,
an objective floor)."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from expertmatch.errors import SolveError
from expertmatch.formulation.chair_columns import Extended
from expertmatch.formulation.rows import Model
from expertmatch.solvers.params import SolveParams
from expertmatch.vocabulary import Status


def new_highs() -> highspy.Highs:
    """A HiGHS instance, created with file descriptor 1 silenced: HiGHS prints its banner
    from C++ to stdout when the first instance of a process is created, which would mix into
    the command line's output (``expertmatch assign ... > out.txt``)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def set_start(h: highspy.Highs, start: np.ndarray | None) -> None:
    """Offer ``start`` (a value per column, or None: nothing) to HiGHS's branch and cut."""
    if start is None:
        return
    solution = highspy.HighsSolution()
    solution.col_value = start
    solution.value_valid = True
    h.setSolution(solution)


@dataclass
class LpSolution:
    x: np.ndarray
    z: float
    pi: np.ndarray  # row duals, maximisation sign: rc_j = w_j + sum_r A_rj pi_r
    reduced_low: np.ndarray  # -rc of pairs at zero (>= 0)
    reduced_up: np.ndarray  # -rc of pairs at one (<= 0)
    shortfall: float = 0.0  # artificial columns left in the solution (phase one)


def solve_lp(
    model: Model | Extended,
    time_left: float,
    penalty: float | None = None,
    upper: float | np.ndarray = 1.0,
) -> LpSolution | None:
    """The LP relaxation over the model's pairs; None when it is infeasible.

    With ``penalty``, every ``=`` and ``>=`` row gets an artificial shortfall column costing
    ``penalty`` per unit, so a restricted LP is always feasible (phase one and two at once).
    That LP is a relaxation of the real one, so its optimum is still an upper bound; the
    shortfall left is returned in ``LpSolution.shortfall``. ``upper`` bounds every pair's variable
    (``max_probability`` for the randomised assignment). ``model`` may carry chair variables
    (:class:`expertmatch.formulation.chair_columns.Extended`): then ``x`` and the reduced costs
    cover them too (after the pairs), and ``pi`` its chair rows (after the model's).

    HiGHS's dual simplex without presolve, through ``highspy`` directly (one thread, as every
    HiGHS run of the package): the rows go in as they are (``lb <= A x <= ub``), so the row
    duals are the maximisation's ``pi`` as they come. (It went through
    ``scipy.optimize.linprog`` before, whose import alone took 0.1-0.2 s of a CLI run.)
    Presolve finds almost nothing to remove in these assignment LPs and cost more than the
    simplex itself: off, the same optima in 0.3-0.6x the time (measured on the core, office,
    meeting, fair and lottery batches, 200 x 600 to 10,000 x 30,000; benchmarks/RESULTS.md).
    """
    A, lb, ub = model.A, model.lb, model.ub
    n, n_rows = int(A.shape[1]), int(A.shape[0])
    cost = -model.weight.astype(float)
    col_upper = np.broadcast_to(np.asarray(upper, dtype=float), n)
    if penalty is not None:
        need = np.flatnonzero((lb == ub) | np.isfinite(lb))  # the = and >= rows
        slack = sp.csc_matrix(
            (np.ones(need.size), (need, np.arange(need.size))), shape=(n_rows, need.size)
        )
        A = sp.hstack([A, slack])
        cost = np.concatenate([cost, np.full(need.size, penalty)])
        col_upper = np.concatenate([col_upper, np.full(need.size, np.inf)])
    h = _lp_highs(sp.csc_matrix(A), cost, col_upper, lb, ub, max(time_left, 1.0))
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolveError(f"LP relaxation stopped: {h.modelStatusToString(status)}", Status.TIMEOUT)
    solution = h.getSolution()
    x = np.asarray(solution.col_value)
    col_dual = np.asarray(solution.col_dual)[:n]
    # a pair's bound multiplier is its column dual when it sits at that bound (non-basic)
    at = np.fromiter((int(s) for s in h.getBasis().col_status[:n]), dtype=np.int8, count=n)
    lower = int(highspy.HighsBasisStatus.kLower)
    upper_status = int(highspy.HighsBasisStatus.kUpper)
    return LpSolution(
        x[:n],
        -float(h.getInfo().objective_function_value),
        np.asarray(solution.row_dual, dtype=float),
        np.where(at == lower, np.maximum(col_dual, 0.0), 0.0),
        np.where(at == upper_status, np.minimum(col_dual, 0.0), 0.0),
        float(x[n:].sum()),
    )


def _lp_highs(
    A: sp.csc_matrix,
    cost: np.ndarray,
    col_upper: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    time_limit: float,
) -> highspy.Highs:
    """A HiGHS instance holding ``min cost x, lb <= A x <= ub, 0 <= x <= col_upper``, set
    up as ``linprog(method="highs-ds")`` set it (dual simplex, one thread) but without
    presolve (see :func:`solve_lp`)."""
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = int(A.shape[1]), int(A.shape[0])
    lp.sense_ = highspy.ObjSense.kMinimize
    lp.col_cost_ = cost
    lp.col_lower_ = np.zeros(lp.num_col_)
    lp.col_upper_ = np.where(np.isfinite(col_upper), col_upper, inf)
    lp.row_lower_ = np.where(np.isfinite(lb), lb, -inf)
    lp.row_upper_ = np.where(np.isfinite(ub), ub, inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    h = new_highs()
    for name, value in (
        ("output_flag", False),
        ("threads", 1),  # HiGHS keeps one task scheduler per process: see solve_mip
        ("random_seed", 0),
        ("time_limit", time_limit),
        ("presolve", "off"),
        ("solver", "simplex"),
        ("simplex_strategy", 1),  # dual
    ):
        h.setOptionValue(name, value)
    h.passModel(lp)
    return h


@dataclass
class SatSolution:
    status: str  # optimal, feasible, infeasible, unknown
    x: np.ndarray | None
    objective: int
    bound: float


def solve_sat(
    model: Model,
    columns: np.ndarray,
    hint: np.ndarray,
    fixed_one: np.ndarray | None,
    params: SolveParams,
    time_left: float,
    at_least: int | None = None,
) -> SatSolution:
    """CP-SAT over the pairs in the mask ``columns`` (all other pairs at zero).

    ``hint`` and ``fixed_one`` are masks over all pairs; ``at_least`` asks only for
    assignments whose objective is at least that. Rows that cannot bind are left out.
    """
    from ortools.sat.python import cp_model

    cols = np.flatnonzero(columns)
    sat = cp_model.CpModel()
    sub = model.A[:, cols].tocsr()
    x = [sat.new_bool_var(f"x{c}") for c in cols]
    sizes = np.diff(sub.indptr)
    for r in np.flatnonzero((model.lb > 0) | (sizes > model.ub)):
        lo, hi = model.lb[r], model.ub[r]
        terms = [x[i] for i in sub.indices[sub.indptr[r] : sub.indptr[r + 1]]]
        if not terms:
            return SatSolution(Status.INFEASIBLE, None, 0, -math.inf)
        expr = cp_model.LinearExpr.sum(terms)
        if lo == hi:
            sat.add(expr == int(lo))
            continue
        if math.isfinite(lo) and lo > 0:
            sat.add(expr >= math.ceil(lo))
        if math.isfinite(hi) and sizes[r] > hi:
            sat.add(expr <= math.floor(hi))
    if fixed_one is not None:
        for i in np.flatnonzero(fixed_one[cols]):
            sat.add(x[i] == 1)
    objective = cp_model.LinearExpr.weighted_sum(x, model.weight[cols].tolist())
    if at_least is not None:
        sat.add(objective >= at_least)
    sat.maximize(objective)
    for var, value in zip(x, hint[cols], strict=True):
        sat.add_hint(var, bool(value))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_left, 0.1)
    solver.parameters.random_seed = params.seed
    solver.parameters.num_workers = params.workers
    solver.parameters.relative_gap_limit = params.gap_limit
    code = solver.solve(sat)
    if code == cp_model.INFEASIBLE:
        return SatSolution(Status.INFEASIBLE, None, 0, -math.inf)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return SatSolution("unknown", None, 0, math.inf)
    values = np.zeros(model.n_pairs, dtype=bool)
    values[cols] = [solver.boolean_value(v) for v in x]
    status = (
        Status.OPTIMAL if code == cp_model.OPTIMAL and params.gap_limit == 0 else Status.FEASIBLE
    )
    bound = float(solver.best_objective_bound)
    return SatSolution(status, values, round(solver.objective_value), bound)


def solve_mip(
    ext: Extended,
    columns: np.ndarray,
    hint: np.ndarray,
    fixed_one: np.ndarray | None,
    params: SolveParams,
    time_left: float,
    chair_hint: np.ndarray | None = None,
) -> SatSolution:
    """HiGHS branch and cut over the pairs in the mask ``columns`` (all other pairs at zero)
    of the model ``ext`` (chair variables included, if it has them).

    ``hint`` (a mask over the pairs, with ``chair_hint`` over the chair variables) is offered
    as a start when it keeps every row; ``fixed_one`` pairs are fixed at one. The answer over
    the pairs (``x``, a mask over all pairs), its integer objective and HiGHS's dual bound.
    Deterministic: one thread, the seed of ``params``; only the time limit can stop it short
    of its gap (``params.gap_limit``).
    """
    n = ext.n_pairs
    upper = np.zeros(ext.n_cols)
    upper[:n] = columns
    upper[n:] = columns[ext.chair_pair]
    lower = np.zeros(ext.n_cols)
    if fixed_one is not None:
        lower[:n] = fixed_one & columns
    keep = np.flatnonzero(upper > 0)
    sub = ext.A[:, keep].tocsc()
    rows = np.flatnonzero(np.diff(sub.tocsr().indptr) > 0)
    rows = np.union1d(rows, np.flatnonzero(ext.lb > 0))  # an empty row that must hold
    sub = sub[rows].tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = keep.size, rows.size
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = ext.weight[keep].astype(float)
    lp.col_lower_, lp.col_upper_ = lower[keep], np.ones(keep.size)
    inf = highspy.kHighsInf
    lp.row_lower_ = np.where(np.isfinite(ext.lb[rows]), ext.lb[rows], -inf)
    lp.row_upper_ = np.where(np.isfinite(ext.ub[rows]), ext.ub[rows], inf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = sub.indptr.astype(np.int32)
    lp.a_matrix_.index_ = sub.indices.astype(np.int32)
    lp.a_matrix_.value_ = sub.data.astype(float)
    lp.integrality_ = [highspy.HighsVarType.kInteger] * keep.size
    h = new_highs()
    for name, value in (
        ("output_flag", False),
        ("threads", 1),
        ("random_seed", params.seed),
        ("time_limit", max(time_left, 0.1)),
        ("mip_rel_gap", params.gap_limit),
        ("mip_abs_gap", 0.5),  # integer weights: a gap below one closes it
        ("presolve", "off"),  # measured: 3-4 times slower with it on the finishes' models
    ):
        h.setOptionValue(name, value)
    h.passModel(lp)
    set_start(h, _start(ext, keep, hint & columns, chair_hint))
    h.run()
    return _mip_answer(h, ext, keep, params.gap_limit == 0)


def _start(
    ext: Extended, keep: np.ndarray, chosen: np.ndarray, chairs: np.ndarray | None
) -> np.ndarray | None:
    """A start for :func:`solve_mip`: the pairs ``chosen`` and the chair variables ``chairs``
    over the kept columns, when they keep every row of ``ext``; else None."""
    x = np.zeros(ext.n_cols)
    x[: ext.n_pairs] = chosen
    if ext.chair_pair.size:
        if chairs is None:
            return None
        x[ext.n_pairs :] = chairs
    ax = ext.A @ x
    if np.all(ax >= ext.lb - 1e-9) and np.all(ax <= ext.ub + 1e-9):
        return x[keep]
    return None


def _mip_answer(h: highspy.Highs, ext: Extended, keep: np.ndarray, exact: bool) -> SatSolution:
    """HiGHS's status read as :func:`solve_sat` reads CP-SAT's: optimal only when asked for
    a proof (``exact``: no gap allowed)."""
    status = h.getModelStatus()
    info = h.getInfo()
    bound = float(info.mip_dual_bound)
    if status == highspy.HighsModelStatus.kInfeasible:
        return SatSolution(Status.INFEASIBLE, None, 0, -math.inf)
    if info.primal_solution_status != 2:  # no feasible solution
        return SatSolution("unknown", None, 0, bound if math.isfinite(bound) else math.inf)
    values = np.zeros(ext.n_cols)
    values[keep] = np.asarray(h.getSolution().col_value)
    x = values[: ext.n_pairs] > 0.5
    objective = int(ext.weight[: ext.n_pairs][x].sum())
    optimal = status == highspy.HighsModelStatus.kOptimal and exact
    return SatSolution(Status.OPTIMAL if optimal else Status.FEASIBLE, x, objective, bound)

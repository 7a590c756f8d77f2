"""The two back ends every exact path uses: HiGHS for the LP relaxation (with duals and reduced
costs, optionally with artificial shortfall columns) and CP-SAT for a 0/1 model over a subset
of the pairs (hint, fixed pairs, an objective floor)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model
from scipy.optimize import linprog

from expertmatch.errors import SolveError
from expertmatch.formulation.rows import Model
from expertmatch.solvers.params import SolveParams
from expertmatch.vocabulary import Status


@dataclass
class LpSolution:
    x: np.ndarray
    z: float
    pi: np.ndarray  # row duals, maximisation sign: rc_j = w_j + sum_r A_rj pi_r
    reduced_low: np.ndarray  # -rc of pairs at zero (>= 0)
    reduced_up: np.ndarray  # -rc of pairs at one (<= 0)
    shortfall: float = 0.0  # artificial columns left in the solution (phase one)


def solve_lp(
    model: Model,
    time_left: float,
    penalty: float | None = None,
    upper: float | np.ndarray = 1.0,
) -> LpSolution | None:
    """The LP relaxation over the model's pairs; None when it is infeasible.

    With ``penalty``, every ``=`` and ``>=`` row gets an artificial shortfall column costing
    ``penalty`` per unit, so a restricted LP is always feasible (phase one and two at once).
    That LP is a relaxation of the real one, so its optimum is still an upper bound; the
    shortfall left is returned in ``LpSolution.shortfall``. ``upper`` bounds every pair's variable
    (``max_probability`` for the randomised assignment).
    """
    A, lb, ub = model.A, model.lb, model.ub
    eq = lb == ub
    le = ~eq & np.isfinite(ub)
    ge = ~eq & np.isfinite(lb)
    n = model.n_pairs
    cost = -model.weight.astype(float)
    bounds = np.column_stack([np.zeros(n), np.broadcast_to(np.asarray(upper, dtype=float), n)])
    if penalty is not None:
        need = np.flatnonzero(eq | ge)
        slack = sp.csr_matrix(
            (np.ones(need.size), (need, np.arange(need.size))), shape=(model.n_rows, need.size)
        )
        A = sp.hstack([A, slack]).tocsr()
        cost = np.concatenate([cost, np.full(need.size, penalty)])
        bounds = np.vstack([bounds, np.tile([0.0, np.inf], (need.size, 1))])
    A_ub = sp.vstack([A[le], -A[ge]]).tocsr()
    b_ub = np.concatenate([ub[le], -lb[ge]])
    res = linprog(
        cost,
        A_ub=A_ub if A_ub.shape[0] else None,
        b_ub=b_ub if A_ub.shape[0] else None,
        A_eq=A[eq] if eq.any() else None,
        b_eq=lb[eq] if eq.any() else None,
        bounds=bounds,
        method="highs-ds",
        options={"time_limit": max(time_left, 1.0), "presolve": True},
    )
    if res.status == 2:
        return None
    if res.status != 0:
        raise SolveError(f"LP relaxation stopped: {res.message}", Status.TIMEOUT)
    pi = np.zeros(model.n_rows)
    if eq.any():
        pi[eq] = res.eqlin.marginals
    if A_ub.shape[0]:
        m = res.ineqlin.marginals
        pi[le] = m[: int(le.sum())]
        pi[ge] = -m[int(le.sum()) :]
    return LpSolution(
        res.x[:n],
        -res.fun,
        pi,
        np.maximum(res.lower.marginals[:n], 0.0),
        np.minimum(res.upper.marginals[:n], 0.0),
        float(res.x[n:].sum()),
    )


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

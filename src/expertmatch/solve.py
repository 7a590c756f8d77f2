"""Exact solve with a proven bound: LP relaxation (HiGHS) first, then CP-SAT on what matters.

1. Quick structural checks (:mod:`expertmatch.feasibility`); a clash stops here.
2. LP relaxation of the whole model (HiGHS dual simplex): an upper bound ``z_lp``, an
   (almost integral) start, and the reduced cost ``d_j >= 0`` of every pair at zero.
3. CP-SAT on a small *core*: the LP's support plus, per project, the few pairs with the
   smallest reduced cost; hinted with the rounded LP. This gives an incumbent ``z_inc``.
4. Reduced-cost fixing, which is exact: a pair at zero with ``z_lp - d_j < z_inc + 1`` (in
   integer weights) cannot be in any better solution, and a pair at one whose removal costs
   more than that is in all of them. CP-SAT then solves the remaining pairs, hinted with the
   incumbent. Its optimum there is the optimum of the whole batch; on a timeout the bound
   ``min(z_lp, max(z_inc, bound of that model))`` is still valid for the whole batch.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model
from scipy.optimize import linprog

from .errors import Clash, InfeasibleError, SolveError
from .feasibility import check_feasibility
from .model import Model, build_model
from .problem import Problem
from .result import Result

log = logging.getLogger("expertmatch")

#: Pairs per project added to the CP-SAT core beyond the LP's support.
CORE_EXTRA = 3
#: Safety margin (in integer weight units) against LP round-off when fixing by reduced cost.
FIX_MARGIN = 0.5

Progress = Callable[[str, float | None, float | None], None]


@dataclass(frozen=True)
class SolveParams:
    """How to solve: time limit (s, whole run), seed, CP-SAT workers, gap to stop at."""

    time_limit: float = 60.0
    seed: int = 0
    workers: int = 1
    gap_limit: float = 0.0

    def __post_init__(self) -> None:
        if not (self.time_limit > 0 and math.isfinite(self.time_limit)):
            raise ValueError(
                f"time_limit must be a positive number of seconds, not {self.time_limit!r}"
            )
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, not {self.seed!r}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers must be a whole number >= 1, not {self.workers!r}")
        if not 0 <= self.gap_limit < 1:
            raise ValueError(f"gap_limit must be in [0, 1), not {self.gap_limit!r}")


@dataclass
class _Lp:
    x: np.ndarray
    z: float
    reduced_low: np.ndarray
    reduced_up: np.ndarray


def _solve_lp(model: Model, time_left: float) -> _Lp | None:
    """The LP relaxation; None when it is infeasible (so is the batch)."""
    A, lb, ub = model.A, model.lb, model.ub
    eq = lb == ub
    le = ~eq & np.isfinite(ub)
    ge = ~eq & np.isfinite(lb)
    A_ub = sp.vstack([A[le], -A[ge]]).tocsr()
    b_ub = np.concatenate([ub[le], -lb[ge]])
    res = linprog(
        -model.weight.astype(float),
        A_ub=A_ub if A_ub.shape[0] else None,
        b_ub=b_ub if A_ub.shape[0] else None,
        A_eq=A[eq] if eq.any() else None,
        b_eq=lb[eq] if eq.any() else None,
        bounds=(0, 1),
        method="highs-ds",
        options={"time_limit": max(time_left, 1.0), "presolve": True},
    )
    if res.status == 2:
        return None
    if res.status != 0:
        raise SolveError(f"LP relaxation stopped: {res.message}", "timeout")
    return _Lp(
        res.x, -res.fun, np.maximum(res.lower.marginals, 0.0), np.minimum(res.upper.marginals, 0.0)
    )


@dataclass
class _Sat:
    status: str  # optimal, feasible, infeasible, unknown
    x: np.ndarray | None
    objective: int
    bound: float


def _solve_sat(
    model: Model,
    columns: np.ndarray,
    hint: np.ndarray,
    fixed_one: np.ndarray | None,
    params: SolveParams,
    time_left: float,
    at_least: int | None = None,
) -> _Sat:
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
            return _Sat("infeasible", None, 0, -math.inf)
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
        return _Sat("infeasible", None, 0, -math.inf)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _Sat("unknown", None, 0, math.inf)
    values = np.zeros(model.n_pairs, dtype=bool)
    values[cols] = [solver.boolean_value(v) for v in x]
    status = "optimal" if code == cp_model.OPTIMAL and params.gap_limit == 0 else "feasible"
    return _Sat(status, values, round(solver.objective_value), float(solver.best_objective_bound))


def _cheapest_per_project(project: np.ndarray, cost: np.ndarray, k: int) -> np.ndarray:
    """Mask of each project's k pairs of smallest cost (ties by pair order)."""
    n = project.size
    order = np.lexsort((np.arange(n), cost, project))
    sorted_project = project[order]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.searchsorted(sorted_project, sorted_project)
    return rank < k


def solve(
    problem: Problem, params: SolveParams | None = None, progress: Progress | None = None
) -> Result:
    """Assign every project its panel under all rules; raises on input clashes or timeout."""
    params = params or SolveParams()
    start = time.perf_counter()

    def left() -> float:
        return params.time_limit - (time.perf_counter() - start)

    def report(phase: str, incumbent: float | None = None, bound: float | None = None) -> None:
        log.info(
            "%s (%.1f s): incumbent %s, bound %s",
            phase,
            time.perf_counter() - start,
            incumbent,
            bound,
        )
        if progress is not None:
            progress(phase, incumbent, bound)

    stats: dict[str, float | int | str] = {"eligible_pairs": len(problem.pairs)}
    clashes = check_feasibility(problem)
    if clashes:
        raise InfeasibleError(clashes)
    report("checks passed")
    model = build_model(problem)
    stats.update(model_rows=model.n_rows, build_s=round(time.perf_counter() - start, 3))
    lp = _solve_lp(model, left())
    if lp is None:
        raise InfeasibleError(
            [
                Clash(
                    "combined",
                    "no assignment satisfies all rules together "
                    "(the LP relaxation is infeasible), although each project "
                    "passes the per-project checks",
                )
            ]
        )
    z_lp = math.floor(lp.z + max(1e-6, 1e-9 * abs(lp.z)))  # integer weights: bound is integral
    stats.update(
        lp_s=round(time.perf_counter() - start, 3),
        lp_fractional=int(((lp.x > 1e-6) & (lp.x < 1 - 1e-6)).sum()),
    )
    report("LP relaxation", None, z_lp * model.unit)

    n = model.n_pairs
    best: np.ndarray | None = None  # the incumbent, as a mask over all pairs
    z_inc = -1
    rounded = lp.x > 0.5
    if model.satisfied(rounded):
        best, z_inc = rounded, model.value(rounded)
        report("rounded LP is feasible", z_inc * model.unit, z_lp * model.unit)

    core = lp.x > 1e-6
    core |= _cheapest_per_project(
        problem.pairs.project, lp.reduced_low, int(problem.project_panel_size.max()) + CORE_EXTRA
    )
    stats["core_pairs"] = int(core.sum())
    core_optimal = False
    if z_inc < z_lp:
        run = _solve_sat(model, core, rounded, None, params, left() * 0.5)
        core_optimal = run.status == "optimal"
        if run.x is not None and run.objective > z_inc:
            best, z_inc = run.x, run.objective
            report("incumbent from the LP core", z_inc * model.unit, z_lp * model.unit)

    bound = z_lp
    if best is None:
        run = _solve_sat(model, np.ones(n, dtype=bool), rounded, None, params, left())
        if run.status == "infeasible":
            raise InfeasibleError(
                [Clash("combined", "no assignment satisfies all rules together (proved by CP-SAT)")]
            )
        if run.x is None:
            raise SolveError(
                f"no assignment found within the time limit of {params.time_limit:g} s", "timeout"
            )
        best, z_inc = run.x, run.objective
        bound = min(z_lp, math.floor(run.bound + 1e-9))
        stats["final_pairs"] = n
    elif z_inc < z_lp:
        # Reduced-cost fixing: only these pairs can take part in a better assignment.
        improvable = lp.z - lp.reduced_low >= z_inc + 1 - FIX_MARGIN
        must = lp.z + lp.reduced_up < z_inc + 1 - FIX_MARGIN
        keep = improvable | core | must
        stats["final_pairs"] = int(keep.sum())
        if core_optimal and not (keep & ~core).any():
            bound = z_inc
        else:
            run = _solve_sat(model, keep, best, must, params, left(), at_least=z_inc + 1)
            if run.x is not None and run.objective > z_inc:
                best, z_inc = run.x, run.objective
            if run.status in ("optimal", "infeasible"):
                bound = z_inc  # nothing better exists among the pairs that could improve
            else:
                bound = min(z_lp, max(z_inc, math.floor(run.bound + 1e-9)))
    objective = z_inc
    chosen = np.flatnonzero(best)
    timed_out = left() <= 0.05
    status = "optimal" if bound <= objective else ("timeout" if timed_out else "feasible")
    report("done", objective * model.unit, bound * model.unit)
    return Result.build(
        problem,
        chosen,
        status=status,
        objective=objective * model.unit,
        bound=bound * model.unit,
        time_s=time.perf_counter() - start,
        seed=params.seed,
        stats=stats,
    )

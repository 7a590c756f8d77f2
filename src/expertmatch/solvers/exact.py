"""Exact solve with a proven bound: LP relaxation (HiGHS) with pricing, then CP-SAT.

1. One pass over all projects in blocks (:mod:`expertmatch.formulation.candidates`):
   per-project facts for
   the first-line checks (:mod:`expertmatch.diagnosis.checks`) and a restricted candidate set.
2. Column generation: solve the LP relaxation over the candidates (HiGHS dual simplex), price
   every eligible pair from the duals, add those with positive reduced cost, repeat until none
   prices out. The LP bound ``z_lp`` then holds for the whole batch (if time runs out first,
   the Lagrangian bound ``z_rmp + sum_p k_p max(0, max reduced cost of p)`` is reported).
3. Incumbent: the rounded LP when it satisfies every row (the common case: the LP is almost
   integral), else CP-SAT on a small core (LP support plus each project's pairs of smallest
   reduced cost), hinted with the rounding.
4. Reduced-cost fixing, which is exact: a pair with ``z_lp + rc < z_inc + 1`` (integer weights)
   cannot be in any better assignment, and a pair at one whose removal costs more than that is
   in all of them. CP-SAT solves the remaining pairs (inside the candidates or found by one
   more pricing pass) for an objective >= ``z_inc + 1``: optimal or infeasible there proves the
   result optimal for the whole batch; on a timeout the bound
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

from expertmatch.diagnosis.checks import check_feasibility
from expertmatch.diagnosis.clash import minimal_clash
from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.problem import Problem
from expertmatch.domain.scoring import score_unit
from expertmatch.errors import Clash, InfeasibleError, SolveError
from expertmatch.formulation.candidates import EXTRA, Duals, merge, price, survey
from expertmatch.formulation.rows import Model, build_model
from expertmatch.result import Result
from expertmatch.solvers import flow
from expertmatch.vocabulary import Rule, Status

log = logging.getLogger("expertmatch")

#: Pairs per project added to the CP-SAT core beyond the LP's support.
CORE_EXTRA = 3
#: Safety margin (in integer weight units) against LP round-off when fixing by reduced cost.
FIX_MARGIN = 0.5
#: A pair prices in when its reduced cost exceeds this (integer weight units).
PRICE_TOL = 1e-6
#: Pairs priced in per project and round, the largest reduced costs first.
PRICE_PER_PROJECT = 10
#: Seconds kept back for building a CP-SAT model before its own time limit starts.
MIN_SAT_TIME = 1.0
#: Largest batch (eligible pairs) for which an infeasibility is shrunk to a minimal clash.
DIAGNOSE_PAIRS = 2_000_000
#: Cost of one unit of artificial shortfall, in multiples of the largest weight.
PENALTY = 100.0

Progress = Callable[[str, float | None, float | None], None]


@dataclass(frozen=True)
class SolveParams:
    """How to solve: time limit (s, whole run), seed, CP-SAT workers, gap to stop at."""

    time_limit: float = 60.0
    seed: int = 0
    workers: int = 1
    gap_limit: float = 0.0
    extra_candidates: int = EXTRA
    fast_path: bool = False
    """Use min-cost flow when only panel size, loads, conflicts and the enterprise minimum
    apply (exact, no LP). Off by default: it needs every eligible pair, and measured here the
    priced LP on candidates is faster (see benchmarks/RESULTS.md)."""
    """Candidates per project beyond the panel size in the first LP; pricing adds any other
    pair that can improve it, so this changes speed, never the result."""

    def __post_init__(self) -> None:
        if not (self.time_limit > 0 and math.isfinite(self.time_limit)):
            raise ValueError(
                f"time_limit must be a positive number of seconds, not {self.time_limit!r}"
            )
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, not {self.seed!r}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers must be a whole number >= 1, not {self.workers!r}")
        if not isinstance(self.extra_candidates, int) or self.extra_candidates < 0:
            raise ValueError(
                f"extra_candidates must be a whole number >= 0, not {self.extra_candidates!r}"
            )
        if not 0 <= self.gap_limit < 1:
            raise ValueError(f"gap_limit must be in [0, 1), not {self.gap_limit!r}")


@dataclass
class _Lp:
    x: np.ndarray
    z: float
    pi: np.ndarray  # row duals, maximisation sign: rc_j = w_j + sum_r A_rj pi_r
    reduced_low: np.ndarray  # -rc of pairs at zero (>= 0)
    reduced_up: np.ndarray  # -rc of pairs at one (<= 0)
    shortfall: float = 0.0  # artificial columns left in the solution (phase one)


def _solve_lp(
    model: Model, time_left: float, penalty: float | None = None, upper: float = 1.0
) -> _Lp | None:
    """The LP relaxation over the model's pairs; None when it is infeasible.

    With ``penalty``, every ``=`` and ``>=`` row gets an artificial shortfall column costing
    ``penalty`` per unit, so a restricted LP is always feasible (phase one and two at once).
    That LP is a relaxation of the real one, so its optimum is still an upper bound; the
    shortfall left is returned in ``_Lp.shortfall``. ``upper`` bounds every pair's variable
    (``max_probability`` for the randomised assignment).
    """
    A, lb, ub = model.A, model.lb, model.ub
    eq = lb == ub
    le = ~eq & np.isfinite(ub)
    ge = ~eq & np.isfinite(lb)
    n = model.n_pairs
    cost = -model.weight.astype(float)
    bounds = np.tile([0.0, upper], (n, 1))
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
    return _Lp(
        res.x[:n],
        -res.fun,
        pi,
        np.maximum(res.lower.marginals[:n], 0.0),
        np.minimum(res.upper.marginals[:n], 0.0),
        float(res.x[n:].sum()),
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
            return _Sat(Status.INFEASIBLE, None, 0, -math.inf)
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
        return _Sat(Status.INFEASIBLE, None, 0, -math.inf)
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _Sat("unknown", None, 0, math.inf)
    values = np.zeros(model.n_pairs, dtype=bool)
    values[cols] = [solver.boolean_value(v) for v in x]
    status = (
        Status.OPTIMAL if code == cp_model.OPTIMAL and params.gap_limit == 0 else Status.FEASIBLE
    )
    return _Sat(status, values, round(solver.objective_value), float(solver.best_objective_bound))


def _cheapest_per_project(project: np.ndarray, cost: np.ndarray, k: int) -> np.ndarray:
    """Mask of each project's k pairs of smallest cost (ties by pair order)."""
    n = project.size
    order = np.lexsort((np.arange(n), cost, project))
    sorted_project = project[order]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.searchsorted(sorted_project, sorted_project)
    return rank < k


def _combined(problem: Problem) -> list[Clash]:
    """The clash when every quick check passed: a minimal set of rule groups (CP-SAT)."""
    if len(eligible_pairs(problem)) <= DIAGNOSE_PAIRS:
        clashes = minimal_clash(problem)
        if clashes:
            return [
                Clash(
                    Rule.COMBINED,
                    "these rules cannot all hold together (a minimal set: "
                    "dropping any one of them would remove this clash):",
                ),
                *clashes,
            ]
    return [
        Clash(
            Rule.COMBINED,
            "no assignment satisfies all rules together (the LP relaxation "
            "is infeasible), although each project passes the per-project checks",
        )
    ]


def solve(
    problem: Problem, params: SolveParams | None = None, progress: Progress | None = None
) -> Result:
    """Assign every project its panel under all rules; raises on clashes or timeout."""
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

    stats: dict[str, float | int | str] = {}
    surv = survey(problem, extra=params.extra_candidates)
    stats.update(
        eligible_pairs=surv.total_eligible,
        candidates=len(surv.candidates),
        survey_s=round(time.perf_counter() - start, 3),
    )
    clashes = check_feasibility(problem, surv)
    if clashes:
        raise InfeasibleError(clashes)
    report("checks passed")
    if params.fast_path and flow.applies(problem, surv.total_eligible):
        solved = flow.solve_flow(problem)
        if solved is None:
            raise InfeasibleError(
                [
                    Clash(
                        Rule.LOAD,
                        "the panels' seats cannot all be filled from "
                        "the eligible experts' capacities (min-cost flow)",
                    )
                ]
            )
        chosen, value, unit = solved
        stats["method"] = "min-cost flow"
        report("done (min-cost flow)", value * unit, value * unit)
        return Result.build(
            problem,
            chosen,
            status=Status.OPTIMAL,
            objective=value * unit,
            bound=value * unit,
            time_s=time.perf_counter() - start,
            seed=params.seed,
            stats=stats,
        )
    stats["method"] = "LP + CP-SAT"

    # -- column generation: LP over candidates, price the rest ----------------------------
    columns, n_exp = surv.candidates, problem.n_experts
    penalty = PENALTY * float(
        max(1, np.rint(columns.score.max() / score_unit(problem)) if len(columns) else 1)
    )
    rounds = 0
    while True:
        rounds += 1
        model = build_model(problem, columns)
        lp = _solve_lp(model, left(), penalty)
        assert lp is not None  # the artificial columns keep it feasible
        duals = Duals.from_model(problem, model, lp.pi)
        new, best = price(problem, duals, columns, surv.cutoff, PRICE_TOL, PRICE_PER_PROJECT)
        gain = float(np.sum(problem.project_panel_size * np.maximum(best, 0.0)))
        z_bound = lp.z + gain  # Lagrangian bound, valid for the whole batch
        report(
            f"LP round {rounds}: {len(columns)} pairs, {len(new)} priced in",
            None,
            z_bound * model.unit,
        )
        if len(new) == 0 or left() <= 0:
            break
        columns = merge(columns, new, n_exp)
    if lp.shortfall > 1e-6:
        # Still short of some rule with every pair priced: solve the LP over all eligible
        # pairs without artificial columns to tell "infeasible" from a too small penalty.
        columns = eligible_pairs(problem)
        model = build_model(problem, columns)
        full = _solve_lp(model, left())
        if full is None:
            raise InfeasibleError(_combined(problem))
        lp, z_bound = full, full.z
    z_lp = math.floor(z_bound + max(1e-6, 1e-9 * abs(z_bound)))  # integer weights
    stats.update(
        lp_rounds=rounds,
        columns=len(columns),
        lp_bound=z_bound * model.unit,
        lp_s=round(time.perf_counter() - start, 3),
        lp_fractional=int(((lp.x > 1e-6) & (lp.x < 1 - 1e-6)).sum()),
    )

    # -- incumbent ------------------------------------------------------------------------
    best_x: np.ndarray | None = None
    z_inc = -1
    rounded = lp.x > 0.5
    if model.satisfied(rounded):
        best_x, z_inc = rounded, model.value(rounded)
        report("rounded LP is feasible", z_inc * model.unit, z_lp * model.unit)
    core = lp.x > 1e-6
    core |= _cheapest_per_project(
        columns.project, lp.reduced_low, int(problem.project_panel_size.max()) + CORE_EXTRA
    )
    stats["core_pairs"] = int(core.sum())
    core_optimal = False
    if z_inc < z_lp:
        # Fix the projects the LP already assigns integrally; CP-SAT assigns the rest.
        fractional = (lp.x > 1e-6) & (lp.x < 1 - 1e-6)
        open_project = np.zeros(problem.n_projects, dtype=bool)
        open_project[columns.project[fractional]] = True
        fixed = rounded & ~open_project[columns.project]
        if fixed.any() and open_project.any():
            run = _solve_sat(
                model,
                fixed | (core & open_project[columns.project]),
                rounded,
                fixed,
                params,
                left() * 0.25,
            )
            if run.x is not None:
                best_x, z_inc = run.x, run.objective
                report(
                    "incumbent: LP's integral part fixed, the rest by CP-SAT",
                    z_inc * model.unit,
                    z_lp * model.unit,
                )
        stats["open_projects"] = int(open_project.sum())
    if best_x is None:  # no incumbent yet: CP-SAT on the core
        run = _solve_sat(model, core, rounded, None, params, left() * 0.5)
        core_optimal = run.status == Status.OPTIMAL
        if run.x is not None and run.objective > z_inc:
            best_x, z_inc = run.x, run.objective
            report("incumbent from the LP core", z_inc * model.unit, z_lp * model.unit)

    bound = z_lp
    if best_x is None:
        run = _solve_sat(model, np.ones(model.n_pairs, dtype=bool), rounded, None, params, left())
        if run.x is None:
            if run.status == Status.INFEASIBLE and len(columns) >= surv.total_eligible:
                raise InfeasibleError(_combined(problem))
            raise SolveError(
                f"no assignment found within the time limit of {params.time_limit:g} s",
                Status.TIMEOUT,
            )
        best_x, z_inc = run.x, run.objective
        if len(columns) >= surv.total_eligible:
            bound = min(z_lp, math.floor(run.bound + 1e-9))
    chosen = columns.take(best_x)

    if z_inc < bound and (bound - z_inc) > params.gap_limit * bound:
        # Reduced-cost fixing: only these pairs can take part in a better assignment.
        need = z_inc + 1 - FIX_MARGIN - lp.z  # a pair helps only if its reduced cost >= need
        improvable = -lp.reduced_low >= need
        must = lp.z + lp.reduced_up < z_inc + 1 - FIX_MARGIN
        keep = improvable | must  # every pair that can be in a better assignment
        outside, _ = price(problem, duals, columns, surv.cutoff, need - PRICE_TOL, None)
        stats["final_pairs"] = int(keep.sum()) + len(outside)
        if core_optimal and not (keep & ~core).any() and len(outside) == 0:
            bound = z_inc
        elif left() > MIN_SAT_TIME:
            pairs = merge(columns.take(keep), outside, n_exp)
            final = build_model(problem, pairs)
            run = _solve_sat(
                final,
                np.ones(final.n_pairs, dtype=bool),
                pairs.member_of(chosen, n_exp),
                pairs.member_of(columns.take(must), n_exp),
                params,
                left(),
                at_least=z_inc + 1,
            )
            if run.x is not None and run.objective > z_inc:
                chosen, z_inc = pairs.take(run.x), run.objective
            if run.status in (Status.OPTIMAL, Status.INFEASIBLE):
                bound = z_inc  # nothing better exists among the pairs that could improve
            elif math.isfinite(run.bound):
                bound = min(bound, max(z_inc, math.floor(run.bound + 1e-9)))
    objective = z_inc
    # Short of a proof, only two things stop the search: the gap limit or the clock.
    within_gap = params.gap_limit > 0 and bound - objective <= params.gap_limit * bound
    status = (
        Status.OPTIMAL
        if bound <= objective
        else (Status.FEASIBLE if within_gap else Status.TIMEOUT)
    )
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

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

import numpy as np

from expertmatch.diagnosis.checks import check_feasibility
from expertmatch.diagnosis.clash import minimal_clash
from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.pairs import merge
from expertmatch.domain.problem import Problem
from expertmatch.domain.scoring import score_unit
from expertmatch.errors import Clash, InfeasibleError, SolveError
from expertmatch.formulation.candidates import survey
from expertmatch.formulation.rows import build_model
from expertmatch.result import Result
from expertmatch.solvers import flow
from expertmatch.solvers.backends import solve_lp, solve_sat
from expertmatch.solvers.params import Progress, SolveParams
from expertmatch.solvers.pricing import Duals, price
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
        lp = solve_lp(model, left(), penalty)
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
        full = solve_lp(model, left())
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
            run = solve_sat(
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
        run = solve_sat(model, core, rounded, None, params, left() * 0.5)
        core_optimal = run.status == Status.OPTIMAL
        if run.x is not None and run.objective > z_inc:
            best_x, z_inc = run.x, run.objective
            report("incumbent from the LP core", z_inc * model.unit, z_lp * model.unit)

    bound = z_lp
    if best_x is None:
        run = solve_sat(model, np.ones(model.n_pairs, dtype=bool), rounded, None, params, left())
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
            run = solve_sat(
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

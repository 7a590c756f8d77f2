"""Exact solve with a proven bound: LP relaxation (HiGHS) with pricing, then branch and cut.

1. One pass over all projects in blocks (:mod:`expertmatch.formulation.candidates`):
   per-project facts for the first-line checks (:mod:`expertmatch.diagnosis.checks`) and a
   restricted candidate set.
2. Column generation: solve the LP relaxation over the candidates (HiGHS dual simplex), price
   every eligible pair from the duals, add those with positive reduced cost, repeat until none
   prices out. The LP bound ``z_lp`` then holds for the whole batch. Every round's Lagrangian
   bound ``z_rmp + sum_p k_p max(0, max reduced cost of p)`` holds too: the best is kept, and
   with a gap limit pricing stops once it is within ``CG_GAP_SHARE`` of the gap.
3. When the chair rule's cap can bind (and no gap is allowed): the same column generation over
   the LP with chair variables (:mod:`expertmatch.formulation.chair_columns`), whose bound and
   reduced costs count the cap.
4. Incumbent: the rounded LP when it satisfies every row (the common case: the LP is almost
   integral), else the LP's integral panels kept and the open projects searched, else a small
   core (LP support plus each project's pairs of smallest reduced cost) searched, hinted with
   the rounding; each search by the finish's back end (HiGHS unless CP-SAT is asked for).
   With a binding chair cap, an incumbent that admits no chairs is repaired locally
   (:func:`_repair_chairs`) or searched by targets (:func:`_find_chaired`).
5. Reduced-cost fixing, which is exact: a pair with ``z_fix + rc < z_inc + 1`` (integer weights;
   ``z_fix`` the last round's Lagrangian bound, ``z_lp`` when pricing is complete) cannot be in
   any better assignment, and a pair at one whose removal costs more than that is in all of
   them. HiGHS branch and cut (``SolveParams.finish``; CP-SAT asked for ``>= z_inc + 1`` on
   request) solves the remaining pairs (inside the LP or found by one more pricing pass), with
   chair variables when the cap can bind: optimal or infeasible there proves the result optimal
   for the whole batch; on a timeout the bound ``min(z_lp, max(z_inc, bound of that model))`` is
   still valid for the whole batch. HiGHS is the default: on the benchmarks' hard batches it
   closes in seconds gaps of a few weight units that one CP-SAT worker leaves open for minutes.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

from expertmatch.diagnosis.checks import check_feasibility
from expertmatch.diagnosis.clash import minimal_clash
from expertmatch.domain.chairs import choose_chairs, may_chair
from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.pairs import Pairs, merge
from expertmatch.domain.problem import Problem
from expertmatch.domain.scoring import score_unit
from expertmatch.errors import Clash, InfeasibleError, SolveError
from expertmatch.formulation.candidates import Survey, survey
from expertmatch.formulation.chair_columns import Extended, chair_columns_needed, extend
from expertmatch.formulation.rows import Model, build_model
from expertmatch.result import Result
from expertmatch.solvers import flow
from expertmatch.solvers.backends import (
    LpSolution,
    SatSolution,
    solve_lp,
    solve_mip,
    solve_sat,
)
from expertmatch.solvers.params import Progress, SolveParams
from expertmatch.solvers.pricing import Duals, price
from expertmatch.vocabulary import Rule, Status

log = logging.getLogger("expertmatch")

#: Pairs per project added to the incumbent's core beyond the LP's support.
CORE_EXTRA = 3
#: Safety margin (in integer weight units) against LP round-off when fixing by reduced cost.
FIX_MARGIN = 0.5
#: A pair prices in when its reduced cost exceeds this (integer weight units).
PRICE_TOL = 1e-6
#: Share of the gap limit that column generation may leave open (the rest is for rounding).
CG_GAP_SHARE = 0.5
#: Pairs priced in per project and round, the largest reduced costs first.
PRICE_PER_PROJECT = 10
#: Seconds kept back for building a CP-SAT model before its own time limit starts.
MIN_SAT_TIME = 1.0
#: Largest batch (eligible pairs) for which an infeasibility is shrunk to a minimal clash.
DIAGNOSE_PAIRS = 2_000_000
#: Largest batch (eligible pairs) whose LP relaxation is solved over every pair when the
#: priced LP keeps a shortfall; beyond it the shortfall alone is priced (:func:`_phase_one`).
FULL_LP_PAIRS = DIAGNOSE_PAIRS
#: Seconds the diagnosis of a combined clash always gets, even when the solve used the limit.
MIN_DIAGNOSIS_TIME = 2.0
#: Rounds of panels freed around those the chair cap leaves without a chair (each round adds
#: the panels of every member of a freed panel who may chair).
REPAIR_DEPTH = 2
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


def _clashes(run: _Run) -> list[Clash]:
    """The clashes of a batch found infeasible past the first-line checks: the minimal clash,
    or (``diagnose=False``) one ``combined`` clash without looking further."""
    if not run.diagnose:
        return [Clash(Rule.COMBINED, "no assignment satisfies all rules together")]
    return _combined(run.problem, run.left(), int(run.stats["eligible_pairs"]))


def _combined(problem: Problem, time_left: float, n_eligible: int) -> list[Clash]:
    """The clash when every quick check passed: a deletion-minimal set of named rule groups
    (:func:`expertmatch.diagnosis.clash.minimal_clash`), within what is left of the time limit
    (at least ``MIN_DIAGNOSIS_TIME``), for batches of at most :data:`DIAGNOSE_PAIRS` eligible
    pairs (``n_eligible``, the survey's count: the pairs themselves are built only then)."""
    if n_eligible <= DIAGNOSE_PAIRS:
        clashes = minimal_clash(problem, time_limit=max(time_left, MIN_DIAGNOSIS_TIME))
        if clashes:
            minimal = clashes[-1].rule != Rule.COMBINED  # else: the note that time ran out
            head = (
                "these rules cannot all hold together (a minimal set: dropping any one of "
                "them would remove this clash):"
                if minimal
                else "these rules cannot all hold together:"
            )
            return [Clash(Rule.COMBINED, head), *clashes]
    return [
        Clash(
            Rule.COMBINED,
            "no assignment satisfies all rules together (the LP relaxation "
            "is infeasible), although each project passes the per-project checks",
        )
    ]


def solve(
    problem: Problem,
    params: SolveParams | None = None,
    progress: Progress | None = None,
    *,
    diagnose: bool = True,
    surv: Survey | None = None,
) -> Result:
    """Assign every project its panel under all rules; raises on clashes or timeout.

    The steps of the module docstring, one phase each; the objective and bound are kept in
    integer weight units (exact) until the Result is built. ``diagnose=False`` (the caller
    relaxes the rules next, :mod:`expertmatch.solvers.relax`): a clash found past the
    first-line checks is raised at once as one ``combined`` clash, without the LP over every
    pair and the minimal clash that would name its rules. ``surv``: the survey of ``problem``
    (:func:`expertmatch.formulation.candidates.survey` with ``params.extra_candidates``) when
    the caller has it already, so that a large batch is not read twice.
    """
    run = _Run(problem, params or SolveParams(), progress, diagnose=diagnose)
    surv = _survey_and_check(run, surv)  # 1
    if run.params.fast_path and flow.applies(problem, surv.total_eligible):
        return _min_cost_flow(run)
    run.stats["method"] = "LP + CP-SAT"
    relax = _column_generation(run, surv)  # 2
    if run.chairs and run.params.gap_limit == 0:  # with a gap, the chair repair comes first
        relax = _with_chair_variables(run, relax)
    inc = _incumbent(run, relax)  # 3
    chosen, objective, bound = _finish(run, relax, inc)  # 4
    unit = relax.model.unit
    status = _status(objective, bound, run.params.gap_limit)
    run.report("done", objective * unit, bound * unit)
    return run.result(chosen, status, objective * unit, bound * unit)


@dataclass
class _Run:
    """What every phase of one solve shares: the batch, how to solve it, the clock (the time
    limit covers the whole run), the progress callback and the statistics gathered so far."""

    problem: Problem
    params: SolveParams
    progress: Progress | None
    diagnose: bool = True
    start: float = field(default_factory=time.perf_counter)
    stats: dict[str, float | int | str] = field(default_factory=dict)
    chairs: bool = False
    """Does the exact model need chair variables (the chair rule's cap can bind)?"""

    def __post_init__(self) -> None:
        self.chairs = chair_columns_needed(self.problem)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def left(self) -> float:
        """Seconds left of the time limit (negative once it has passed)."""
        return self.params.time_limit - self.elapsed()

    def report(
        self, phase: str, incumbent: float | None = None, bound: float | None = None
    ) -> None:
        """Log a phase and pass it to the progress callback (scores, not weight units)."""
        log.info("%s (%.1f s): incumbent %s, bound %s", phase, self.elapsed(), incumbent, bound)
        if self.progress is not None:
            self.progress(phase, incumbent, bound)

    def result(self, chosen: Pairs, status: str, objective: float, bound: float) -> Result:
        return Result.build(
            self.problem,
            chosen,
            status=status,
            objective=objective,
            bound=bound,
            time_s=self.elapsed(),
            seed=self.params.seed,
            stats=self.stats,
        )


@dataclass(frozen=True)
class _Relaxation:
    """The LP relaxation after column generation: its model over ``columns``, its solution,
    the duals of the last priced round and its bound ``z_lp`` (integer weight units), valid
    for the whole batch."""

    survey: Survey
    columns: Pairs
    model: Model
    lp: LpSolution
    duals: Duals
    z_lp: int
    z_fix: float
    """The Lagrangian bound of the last round (``lp``, ``duals``): ``lp.z`` when pricing found
    nothing more, above it when pricing stopped early. Reduced-cost fixing counts from it, so
    it stays exact when pairs outside the LP still price out."""

    @property
    def all_pairs(self) -> bool:
        """Does the LP hold every eligible pair (so CP-SAT over it solves the whole batch)?"""
        return len(self.columns) >= self.survey.total_eligible


@dataclass(frozen=True)
class _Incumbent:
    """The best assignment found before reduced-cost fixing, its integer objective ``z`` and
    the bound proven so far; ``core`` (a mask over the LP's pairs) and whether CP-SAT solved
    that core to optimality let the finish skip a solve that cannot help."""

    chosen: Pairs
    z: int
    bound: int
    core: np.ndarray
    core_optimal: bool
    chairs: bool = False
    """Does ``chosen`` keep the chair rule's cap (so the finish may hold the chair rule: the
    reduced-cost fixing argument needs an incumbent of the model the finish solves)?"""


# -- 1. survey and first-line checks --------------------------------------------------------


def _survey_and_check(run: _Run, surv: Survey | None = None) -> Survey:
    """The candidate pairs and per-project facts (``surv`` when given); raises the first-line
    checks' clashes."""
    if surv is None:
        surv = survey(run.problem, extra=run.params.extra_candidates)
    run.stats.update(
        eligible_pairs=surv.total_eligible,
        candidates=len(surv.candidates),
        survey_s=round(run.elapsed(), 3),
    )
    clashes = check_feasibility(run.problem, surv)
    if clashes:
        raise InfeasibleError(clashes)
    run.report("checks passed")
    return surv


def _min_cost_flow(run: _Run) -> Result:
    """The fast path (``SolveParams.fast_path``): exact by min-cost flow when only the basic
    rules bind (:mod:`expertmatch.solvers.flow`)."""
    solved = flow.solve_flow(run.problem)
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
    run.stats["method"] = "min-cost flow"
    run.report("done (min-cost flow)", value * unit, value * unit)
    return run.result(chosen, Status.OPTIMAL, value * unit, value * unit)


# -- 2. column generation --------------------------------------------------------------------


def _column_generation(run: _Run, surv: Survey, start: Pairs | None = None) -> _Relaxation:
    """LP over the candidates, pricing in every pair that can improve it, until none prices
    out (or time is up: then the Lagrangian bound of the last round holds). ``start``:
    columns over which the LP is known feasible (:func:`_phase_one`): no artificial columns
    then."""
    problem = run.problem
    columns = surv.candidates if start is None else start
    penalty = _penalty(problem, columns) if start is None else None
    rounds = 0
    best_bound = math.inf
    while True:
        rounds += 1
        model = build_model(problem, columns)
        lp = solve_lp(model, run.left(), penalty)
        assert lp is not None  # the artificial columns keep it feasible
        duals = Duals.from_model(problem, model, lp.pi)
        new, best = price(problem, duals, columns, surv.cutoff, PRICE_TOL, PRICE_PER_PROJECT)
        gain = float(np.sum(problem.project_panel_size * np.maximum(best, 0.0)))
        z_bound = lp.z + gain  # Lagrangian bound, valid for the whole batch
        best_bound = min(best_bound, z_bound)
        run.report(
            f"LP round {rounds}: {len(columns)} pairs, {len(new)} priced in",
            None,
            best_bound * model.unit,
        )
        if len(new) == 0 or run.left() <= 0 or _close_enough(run, lp, gain, best_bound):
            break
        columns = merge(columns, new, problem.n_experts)
    if lp.shortfall > 1e-6:
        if run.diagnose and surv.total_eligible > FULL_LP_PAIRS:
            return _column_generation(run, surv, _phase_one(run, surv, columns))
        columns, model, lp = _full_lp(run)
        best_bound = z_bound = lp.z
    z_lp = math.floor(best_bound + max(1e-6, 1e-9 * abs(best_bound)))  # integer weights
    run.stats.update(
        lp_rounds=rounds,
        columns=len(columns),
        lp_bound=best_bound * model.unit,
        lp_s=round(run.elapsed(), 3),
        lp_fractional=int(((lp.x > 1e-6) & (lp.x < 1 - 1e-6)).sum()),
    )
    return _Relaxation(surv, columns, model, lp, duals, z_lp, z_bound)


def _close_enough(run: _Run, lp: LpSolution, gain: float, bound: float) -> bool:
    """With a gap limit, stop pricing once what pricing could still add (``gain``) is within
    ``CG_GAP_SHARE`` of the gap allowed: the bound holds, and rounding gets the rest."""
    gap = run.params.gap_limit
    return gap > 0 and lp.shortfall <= 1e-6 and gain <= CG_GAP_SHARE * gap * abs(bound)


def _with_chair_variables(run: _Run, relax: _Relaxation) -> _Relaxation:
    """The LP relaxation with the chair rule's cap (chair variables,
    :mod:`expertmatch.formulation.chair_columns`), its column generation continued from the
    plain LP's pairs (a new pair is priced with its chair variable). Its bound is tighter
    where the cap binds, and its reduced costs fix more pairs; the plain relaxation is kept
    when this one runs out of time still short of a row."""
    problem, surv = run.problem, relax.survey
    columns = relax.columns
    penalty = _penalty(problem, columns)
    rounds = 0
    while True:
        rounds += 1
        model = build_model(problem, columns)
        ext = extend(problem, model, chairs=True)
        lp = solve_lp(ext, run.left(), penalty)
        assert lp is not None  # the artificial columns keep it feasible
        one, cap = ext.chair_duals(problem, lp.pi, model.n_rows)
        duals = replace(
            Duals.from_model(problem, model, lp.pi[: model.n_rows]), chair_one=one, chair_cap=cap
        )
        new, best = price(problem, duals, columns, surv.cutoff, PRICE_TOL, PRICE_PER_PROJECT)
        z_bound = lp.z + float(np.sum(problem.project_panel_size * np.maximum(best, 0.0)))
        run.report(f"LP with chair variables, round {rounds}", None, z_bound * model.unit)
        if len(new) == 0 or run.left() <= 0:
            break
        columns = merge(columns, new, problem.n_experts)
    if lp.shortfall > 1e-6:
        return relax
    n = model.n_pairs
    lp = LpSolution(lp.x[:n], lp.z, lp.pi, lp.reduced_low[:n], lp.reduced_up[:n])
    z_lp = min(relax.z_lp, math.floor(z_bound + max(1e-6, 1e-9 * abs(z_bound))))
    run.stats["chair_lp_bound"] = z_bound * model.unit
    run.stats.update(
        chair_lp_rounds=rounds,
        columns=len(columns),
        lp_bound=z_lp * model.unit,
        lp_s=round(run.elapsed(), 3),
        lp_fractional=int(((lp.x > 1e-6) & (lp.x < 1 - 1e-6)).sum()),
    )
    return _Relaxation(surv, columns, model, lp, duals, z_lp, z_bound)


def _penalty(problem: Problem, columns: Pairs) -> float:
    """Cost of one unit of artificial shortfall: ``PENALTY`` times the largest weight."""
    largest = np.rint(columns.score.max() / score_unit(problem)) if len(columns) else 1
    return PENALTY * float(max(1, largest))


def _phase_one(run: _Run, surv: Survey, columns: Pairs) -> Pairs:
    """Still short of some rule with every pair priced, on a batch too large for the LP over
    every pair (:data:`FULL_LP_PAIRS`): the shortfall alone minimised (no score), pricing in
    every pair that can lower it. Shortfall left when none prices in: the LP relaxation over
    every pair is infeasible (raised, with the clash); none: the columns where the LP is
    feasible, from which the scored column generation starts again (the penalty was too small
    to tell)."""
    problem = run.problem
    while True:
        model = build_model(problem, columns)
        lp = solve_lp(replace(model, weight=np.zeros_like(model.weight)), run.left(), 1.0)
        assert lp is not None  # the artificial columns keep it feasible
        if lp.shortfall <= 1e-6:
            return columns
        duals = Duals.from_model(problem, model, lp.pi)
        new, _ = price(
            problem, duals, columns, surv.cutoff, PRICE_TOL, PRICE_PER_PROJECT, weighted=False
        )
        if len(new) == 0:
            raise InfeasibleError(_clashes(run))
        if run.left() <= 0:
            raise SolveError("the LP relaxation's feasibility was not settled", Status.TIMEOUT)
        columns = merge(columns, new, problem.n_experts)


def _full_lp(run: _Run) -> tuple[Pairs, Model, LpSolution]:
    """Still short of some rule with every pair priced: the LP over all eligible pairs without
    artificial columns tells "infeasible" (raised, with the clash) from a too small penalty.
    Without ``diagnose`` the shortfall is taken as a clash at once: the relaxed solve that
    follows finds no bend if there was none."""
    if not run.diagnose:
        raise InfeasibleError(_clashes(run))
    columns = eligible_pairs(run.problem)
    model = build_model(run.problem, columns)
    full = solve_lp(model, run.left())
    if full is None:
        raise InfeasibleError(_clashes(run))
    return columns, model, full


# -- 3. incumbent ------------------------------------------------------------------------------


def _incumbent(run: _Run, relax: _Relaxation) -> _Incumbent:
    """A first assignment: the rounded LP if it keeps every row; below the LP bound, the LP's
    integral part fixed and the rest searched; failing both, the core searched, and as a
    last resort every pair of the LP (each search by :func:`_solve_part`). When the chair
    cap can bind, it records whether the assignment admits its chairs (else the finish looks
    for one that does)."""
    model, lp = relax.model, relax.lp
    unit = model.unit
    best_x: np.ndarray | None = None
    z_inc = -1
    rounded = lp.x > 0.5
    if model.satisfied(rounded):
        best_x, z_inc = rounded, model.value(rounded)
        run.report("rounded LP is feasible", z_inc * unit, relax.z_lp * unit)
    core = _core(run, relax)
    core_optimal = False
    if z_inc < relax.z_lp:
        found = _fix_integral_part(run, relax, rounded, core)
        if found is not None:
            best_x, z_inc = found
    if best_x is None:  # no incumbent yet: the core alone
        sat = _solve_part(run, model, core, rounded, None, run.left() * 0.5)
        core_optimal = sat.status == Status.OPTIMAL
        if sat.x is not None and sat.objective > z_inc:
            best_x, z_inc = sat.x, sat.objective
            run.report("incumbent from the LP core", z_inc * unit, relax.z_lp * unit)
    bound = relax.z_lp
    if best_x is None:
        best_x, z_inc, bound = _whole_lp(run, relax, rounded)
    chosen = relax.columns.take(best_x)
    chaired = not run.chairs or not choose_chairs(run.problem, chosen)[1]
    return _Incumbent(chosen, z_inc, bound, core, core_optimal, chaired)


def _core(run: _Run, relax: _Relaxation) -> np.ndarray:
    """The LP's support plus each project's ``panel size + CORE_EXTRA`` pairs of smallest
    reduced cost: small, and it usually holds an optimal assignment."""
    lp, columns = relax.lp, relax.columns
    core = lp.x > 1e-6
    core |= _cheapest_per_project(
        columns.project, lp.reduced_low, int(run.problem.project_panel_size.max()) + CORE_EXTRA
    )
    run.stats["core_pairs"] = int(core.sum())
    return core


def _fix_integral_part(
    run: _Run, relax: _Relaxation, rounded: np.ndarray, core: np.ndarray
) -> tuple[np.ndarray, int] | None:
    """Fix the projects the LP already assigns integrally; :func:`_solve_part` assigns the
    rest (over their core pairs). The assignment and its objective, or None."""
    lp, columns, model = relax.lp, relax.columns, relax.model
    fractional = (lp.x > 1e-6) & (lp.x < 1 - 1e-6)
    open_project = np.zeros(run.problem.n_projects, dtype=bool)
    open_project[columns.project[fractional]] = True
    fixed = rounded & ~open_project[columns.project]
    found = None
    if fixed.any() and open_project.any():
        sat = _solve_part(
            run,
            model,
            fixed | (core & open_project[columns.project]),
            rounded,
            fixed,
            run.left() * 0.25,
        )
        if sat.x is not None:
            found = sat.x, sat.objective
            run.report(
                f"incumbent: LP's integral part fixed, the rest by {_part_solver(run)}",
                sat.objective * model.unit,
                relax.z_lp * model.unit,
            )
    run.stats["open_projects"] = int(open_project.sum())
    return found


def _part_solver(run: _Run) -> str:
    """Who solves the incumbent's searches: the finish's back end (``SolveParams.finish``)."""
    return "CP-SAT" if run.params.finish == "cpsat" else "HiGHS"


def _solve_part(
    run: _Run,
    model: Model,
    columns: np.ndarray,
    hint: np.ndarray,
    fixed: np.ndarray | None,
    time_left: float,
) -> SatSolution:
    """The model over the pairs in the mask ``columns`` (``fixed`` at one), by the finish's
    back end: HiGHS branch and cut unless ``SolveParams.finish`` asks for CP-SAT. (These
    searches are small: a few open projects, or the LP's core. With HiGHS a batch whose LP is
    fractional no longer loads CP-SAT, whose import alone takes 0.15 s.)"""
    if run.params.finish == "cpsat":
        return solve_sat(model, columns, hint, fixed, run.params, time_left)
    ext = extend(run.problem, model, chairs=False)
    return solve_mip(ext, columns, hint, fixed, run.params, time_left)


def _whole_lp(run: _Run, relax: _Relaxation, rounded: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Every pair of the LP searched (:func:`_solve_part`): the assignment, its objective and
    the bound (tighter when the LP holds every eligible pair); raises when it finds none."""
    model = relax.model
    every = np.ones(model.n_pairs, dtype=bool)
    sat = _solve_part(run, model, every, rounded, None, run.left())
    if sat.x is None:
        if sat.status == Status.INFEASIBLE and relax.all_pairs:
            raise InfeasibleError(_clashes(run))
        raise SolveError(
            f"no assignment found within the time limit of {run.params.time_limit:g} s",
            Status.TIMEOUT,
        )
    bound = relax.z_lp
    if relax.all_pairs:
        bound = min(relax.z_lp, math.floor(sat.bound + 1e-9))
    return sat.x, sat.objective, bound


# -- 4. reduced-cost fixing and the final solve -----------------------------------------------


def _finish(run: _Run, relax: _Relaxation, inc: _Incumbent) -> tuple[Pairs, int, int]:
    """Close the gap: keep only the pairs that can take part in a better assignment (exact
    reduced-cost fixing, module docstring step 4) and solve the model over them
    (:func:`_final_solve`). When the chair cap can bind and the incumbent admits no chairs,
    first :func:`_find_chaired`. The final assignment, its objective and the proven bound
    (integer weight units)."""
    chosen, z_inc, bound = inc.chosen, inc.z, inc.bound
    if not inc.chairs:
        found = _repair_chairs(run, relax, inc)
        if found is None:
            found, bound = _find_chaired(run, relax, inc)
        if found is None:
            return chosen, z_inc, bound  # with_chairs repairs the chairs
        chosen, z_inc = found
        if z_inc >= bound:
            return chosen, z_inc, bound
        inc = _Incumbent(chosen, z_inc, bound, np.zeros(0, dtype=bool), False, True)
    if not (z_inc < bound and (bound - z_inc) > run.params.gap_limit * bound):
        return chosen, z_inc, bound
    if inc.core_optimal and inc.core.size and not _improvers(run, relax, z_inc + 1, inc.core):
        return chosen, z_inc, z_inc
    if run.left() <= MIN_SAT_TIME:
        return chosen, z_inc, bound
    sat, pairs = _final_solve(run, relax, inc, z_inc + 1)
    if sat.x is not None and sat.objective > z_inc:
        chosen, z_inc = pairs.take(sat.x), sat.objective
    if sat.status in (Status.OPTIMAL, Status.INFEASIBLE):
        bound = z_inc  # nothing better exists among the pairs that could improve
    elif math.isfinite(sat.bound):
        bound = min(bound, max(z_inc, math.floor(sat.bound + 1e-9)))
    return chosen, z_inc, bound


def _repair_chairs(run: _Run, relax: _Relaxation, inc: _Incumbent) -> tuple[Pairs, int] | None:
    """The incumbent's chairs repaired locally: the panels it leaves without a chair, and the
    panels of the members who could chair them, solved again over their LP pairs with chair
    variables (HiGHS), every other panel kept. Fast, and at the LP bound on most batches
    (then optimal); None when it finds nothing."""
    problem, chosen, columns = run.problem, inc.chosen, relax.columns
    _, missing = choose_chairs(problem, chosen)
    free = np.zeros(problem.n_projects, dtype=bool)
    free[missing] = True
    for _ in range(REPAIR_DEPTH):
        helpers = chosen.expert[free[chosen.project] & may_chair(problem)[chosen.expert]]
        free[chosen.project[np.isin(chosen.expert, helpers)]] = True
    kept = chosen.take(~free[chosen.project])
    pairs = merge(kept, columns.take(free[columns.project]), problem.n_experts)
    ext = extend(problem, build_model(problem, pairs), chairs=True)
    every = np.ones(len(pairs), dtype=bool)
    fixed = pairs.member_of(kept, problem.n_experts)
    mip = solve_mip(ext, every, fixed, fixed, run.params, run.left() * 0.25)
    run.stats["chair_repair_panels"] = int(free.sum())
    if mip.x is None:
        return None
    run.report("chairs repaired", mip.objective * relax.model.unit, inc.bound * relax.model.unit)
    return pairs.take(mip.x), mip.objective


def _find_chaired(
    run: _Run, relax: _Relaxation, inc: _Incumbent
) -> tuple[tuple[Pairs, int] | None, int]:
    """An assignment that keeps the chair cap, when the incumbent does not: the model with
    chair variables over the pairs that can be in an assignment worth at least a target ``t``,
    first the incumbent's value, then ever lower (the distance to the LP bound doubles). An
    answer worth ``t`` or more is optimal (every such assignment is among those pairs);
    none proves the optimum below ``t``. The assignment found (or None) and the bound."""
    bound, target = inc.bound, min(inc.z, inc.bound)
    while run.left() > MIN_SAT_TIME:
        sat, pairs = _final_solve(run, relax, inc, target, chairs=True)
        found = (pairs.take(sat.x), sat.objective) if sat.x is not None else None
        if sat.status not in (Status.OPTIMAL, Status.INFEASIBLE):  # the clock
            if math.isfinite(sat.bound):
                bound = min(bound, max(target - 1, math.floor(sat.bound + 1e-9)))
            return found, max(bound, found[1]) if found else bound
        if found is not None and found[1] >= target:
            return found, found[1]
        bound = min(bound, max(target - 1, found[1] if found else -1))
        if found is not None:
            return found, bound
        target = relax.z_lp - 2 * (relax.z_lp - target) - 1
    return None, bound


def _improvers(run: _Run, relax: _Relaxation, target: int, core: np.ndarray) -> bool:
    """Can a pair outside ``core`` (a mask over the LP's pairs) take part in an assignment
    worth ``target`` or more?"""
    keep, _, outside = _fixing(run, relax, target)
    return bool((keep & ~core).any()) or len(outside) > 0


def _fixing(run: _Run, relax: _Relaxation, target: int) -> tuple[np.ndarray, np.ndarray, Pairs]:
    """Exact reduced-cost fixing for assignments worth at least ``target``: the LP's pairs
    that can be in one (``keep``), those in every one (``must``) and the pairs outside the
    LP that can be in one (by one more pricing pass)."""
    lp, columns = relax.lp, relax.columns
    need = target - FIX_MARGIN - relax.z_fix  # a pair helps only if its reduced cost >= need
    must = relax.z_fix + lp.reduced_up < target - FIX_MARGIN
    keep = (-lp.reduced_low >= need) | must
    outside, _ = price(
        run.problem, relax.duals, columns, relax.survey.cutoff, need - PRICE_TOL, None
    )
    return keep, must, outside


def _final_solve(
    run: _Run, relax: _Relaxation, inc: _Incumbent, target: int, chairs: bool | None = None
) -> tuple[SatSolution, Pairs]:
    """The model over the pairs that can be in an assignment worth ``target`` or more, the
    pairs in all of them fixed at one, solved by HiGHS branch and cut (``SolveParams.finish``,
    and always with chair variables: only that back end has them) or CP-SAT (asked for at
    least ``target``). The answer and the pairs it is over."""
    keep, must, outside = _fixing(run, relax, target)
    n_exp, columns = run.problem.n_experts, relax.columns
    pairs = merge(columns.take(keep), outside, n_exp)
    fixed = pairs.member_of(columns.take(must), n_exp)
    run.stats["final_pairs"] = len(pairs)
    final = build_model(run.problem, pairs)
    every = np.ones(final.n_pairs, dtype=bool)
    hint = pairs.member_of(inc.chosen, n_exp)
    chairs = run.chairs and inc.chairs if chairs is None else chairs
    if not chairs and run.params.finish == "cpsat":
        run.stats["finish"] = "CP-SAT"
        sat = solve_sat(final, every, hint, fixed, run.params, run.left(), at_least=target)
        return sat, pairs
    run.stats["finish"] = "HiGHS"
    ext = extend(run.problem, final, chairs=chairs)
    chair_hint = _chair_hint(run.problem, pairs, ext, hint) if chairs else None
    return solve_mip(ext, every, hint, fixed, run.params, run.left(), chair_hint), pairs


def _chair_hint(problem: Problem, pairs: Pairs, ext: Extended, chosen: np.ndarray) -> np.ndarray:
    """The chair variables of ``ext`` (a model over ``pairs``) set for the chairs that
    :func:`expertmatch.domain.chairs.choose_chairs` gives the pairs ``chosen``."""
    chairs, _ = choose_chairs(problem, pairs.take(chosen))
    chair_of = np.full(problem.n_projects, -1)
    for p, e in chairs.items():
        chair_of[p] = e
    j = ext.chair_pair
    return chair_of[pairs.project[j]] == pairs.expert[j]


def _status(objective: int, bound: int, gap_limit: float) -> Status:
    """Optimal when proven; short of a proof, only two things stop the search: the gap limit
    (feasible) or the clock (timeout)."""
    if bound <= objective:
        return Status.OPTIMAL
    within_gap = gap_limit > 0 and bound - objective <= gap_limit * bound
    return Status.FEASIBLE if within_gap else Status.TIMEOUT

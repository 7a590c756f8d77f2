"""``objective="fair"`` exact at any scale: a search over a floor on every panel's mean score,
each step the priced LP of the exact solver with the floor as rows, then the best total score
at the best floor.

The goal (:mod:`expertmatch.solvers.ordered`): first the largest ``t`` with every panel's mean
score >= t, then the total score. In integers, with ``L`` the least common multiple of the
panel sizes, a worst mean is ``V unit / L`` for a whole number V, and a floor V asks of each
panel p ``sum_{j in p} w_j x_j >= need_p = ceil(k_p V / L)`` (weights w in score units).

1. The best-scoring assignment (:func:`expertmatch.solvers.exact.solve`) gives a floor
   ``lo`` that holds; each panel's own best experts give an upper bound ``hi``.
2. A floor V is decided by :func:`_floor_feasible`: the LP relaxation over the candidate pairs
   with a floor row for each panel that might fall short (every eligible pair of those
   projects is a column, so their pricing is exact without the floor's dual; every other
   pair is priced from the duals as in the exact solver, and a panel whose LP value falls short
   gets its row and its pairs). When no pair prices in and the LP still leaves a shortfall at
   a penalty so high that its value is below ``sum_p need_p`` (what every assignment keeping
   the floor scores at least), the floor is **proved impossible**. Otherwise an assignment
   keeping it is looked for: the rounded LP, else CP-SAT on the pairs whose reduced cost
   leaves room (all pairs that can be in any assignment keeping the floor, when that is
   small enough, which is then also a proof either way).
3. The search probes ``lo + 1`` first (the LP is almost always tight there, so one probe
   usually proves the best-scoring worst panel optimal), then alternates a bisection of
   ``(lo, hi]`` with ``lo + 1`` again; each feasible probe raises ``lo`` to the worst panel
   it found, each impossible one lowers ``hi``.
4. At the best floor, the best total score: the LP bound ``z_lp``, and HiGHS branch and cut
   (one thread) over the pairs that reduced-cost fixing leaves (``z_lp + rc >= z_inc + 1``,
   found by one more pricing pass), started from the probe's assignment: optimal there proves
   it optimal for the whole batch.

One survey (:func:`expertmatch.formulation.candidates.survey`) serves the best-scoring solve,
the upper bound of point 1 (its candidates hold each project's best experts) and every floor
LP; each probe's LP starts from the columns the previous one priced in. ``stats`` gives the
seconds of each phase (``best_scoring_s``, ``search_s``, ``best_total_s``).

Status ``optimal`` means both goals proved; ``feasible`` that the best worst panel is proved
and the best-scoring assignment has it, but that solve stopped at the asked ``gap_limit``;
otherwise ``timeout`` with the floor reached and the bound on the total given that floor
(``stats["note"]`` says what was not proved).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

from expertmatch.domain.eligibility import eligible_blocks
from expertmatch.domain.pairs import Pairs, concat, merge
from expertmatch.domain.problem import Problem
from expertmatch.domain.scoring import score_unit
from expertmatch.errors import InfeasibleError, SolveError
from expertmatch.formulation.candidates import Survey, survey
from expertmatch.formulation.chair_columns import extend
from expertmatch.formulation.cpsat import SatModel, run_stage
from expertmatch.formulation.rows import Model, build_model
from expertmatch.result import Result
from expertmatch.solvers.backends import LpSolution, solve_lp, solve_mip
from expertmatch.solvers.exact import solve
from expertmatch.solvers.params import Progress, SolveParams
from expertmatch.solvers.pricing import Duals, price
from expertmatch.vocabulary import Rule, Status

#: A pair prices in when its reduced cost exceeds this (integer weight units).
PRICE_TOL = 1e-6
#: Pairs priced in per project and round.
PRICE_PER_PROJECT = 10
#: Cost of one weight unit of artificial shortfall, first in multiples of the largest weight;
#: multiplied by ``PENALTY_STEP`` until the LP proves the floor impossible or keeps it.
PENALTY = 100.0
PENALTY_STEP = 1000.0
PENALTY_STEPS = 4
#: Scale of the phase-one duals in pricing (see :func:`_short_for_sure`), and the least
#: proven shortfall (weight units) that counts as "the floor cannot hold".
PHASE_ONE_SCALE = 1e12
SHORT_TOL = 1e-7
#: Safety margin (weight units) against LP round-off in reduced-cost fixing.
FIX_MARGIN = 0.5
#: Pairs per project of smallest reduced cost added to the LP support for a first CP-SAT try.
CORE_EXTRA = 3
#: Largest pair set given to CP-SAT in one go.
MAX_SAT_PAIRS = 400_000
#: Largest batch (eligible pairs) for which every pair with room under a floor is listed.
ROOM_PAIRS = 5_000_000


@dataclass
class _Search:
    """What every step of one fair solve shares: the batch, the candidates, the clock, the
    projects given a floor row so far (``rows``), and what was not proved."""

    problem: Problem
    params: SolveParams
    surv: Survey
    lcm: int
    start: float = field(default_factory=time.perf_counter)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    unproved: list[str] = field(default_factory=list)
    probes: int = 0
    columns: Pairs | None = None
    """The floor LPs' columns so far: each probe starts from the last one's (pairs priced in
    at one floor tend to be wanted at the next), not from the survey's candidates again."""
    times: dict[str, float] = field(default_factory=dict)
    """Seconds per phase (best-scoring solve, floor search, best total), for ``stats``."""

    def left(self) -> float:
        return self.params.time_limit - (time.perf_counter() - self.start)

    def lap(self, name: str) -> None:
        """Record the time since the last recorded phase under ``name``."""
        self.times[name] = time.perf_counter() - self.start - sum(self.times.values())

    def need(self, floor: int) -> np.ndarray:
        """Per project, the least panel score (weight units) the floor asks."""
        k = self.problem.project_panel_size.astype(np.int64)
        return np.where(k > 0, -((-k * floor) // self.lcm), 0)

    def worst(self, chosen: Pairs) -> int:
        """The worst panel of ``chosen`` as a floor value V (whole number)."""
        k = self.problem.project_panel_size.astype(np.int64)
        w = np.rint(chosen.score / score_unit(self.problem)).astype(np.int64)
        sums = np.bincount(chosen.project, weights=w, minlength=self.problem.n_projects)
        has = k > 0
        if not has.any():
            return 0
        return int(np.min(np.floor(np.rint(sums[has]) * (self.lcm // k[has]))))


@dataclass(frozen=True)
class _Relaxation:
    """The floor LP after pricing: columns, its model with the floor rows, solution, bound."""

    columns: Pairs
    model: Model
    lp: LpSolution
    duals: Duals
    z_lp: int
    penalty: float


def solve_fair(problem: Problem, params: SolveParams, progress: Progress | None = None) -> Result:
    """``assign(objective="fair")`` by the floor search (module docstring)."""
    start = time.perf_counter()  # the time limit covers the whole run
    # one pass over the batch serves the best-scoring solve, the floor's upper bound and the
    # floor LPs (at 10k x 30k a pass over the 49 million pairs takes minutes on a busy machine)
    surv = survey(problem, extra=params.extra_candidates)
    best = solve(problem, params, progress, surv=surv)  # raises the diagnosis if rules clash
    sizes = problem.project_panel_size
    lcm = int(np.lcm.reduce(np.unique(sizes[sizes > 0]))) if (sizes > 0).any() else 1
    run = _Search(problem, params, surv, lcm, start)
    run.rows = np.zeros(problem.n_projects, dtype=bool)
    run.times["best_scoring_s"] = time.perf_counter() - start
    unit = score_unit(problem)
    lo, chosen = run.worst(best.pairs), best.pairs
    hi = _top_floor(problem, lcm, surv)
    while lo < hi and run.left() > 0:
        # every other probe just above the floor reached (the LP is almost always tight
        # there), the others bisect: few probes either way
        mid = lo + 1 if run.probes % 2 == 0 else (lo + 1 + hi) // 2
        run.probes += 1
        found = _floor_feasible(run, mid)
        if found is None:
            hi = mid - 1
        elif isinstance(found, Pairs):
            chosen, lo = found, max(mid, run.worst(found))
        else:
            run.unproved.append(f"floor {mid * unit / lcm:g} not decided ({found})")
            break
    run.lap("search_s")
    if lo < hi:
        run.unproved.append(f"the worst panel could reach at most {hi * unit / lcm:g} (not proved)")
    if lo == run.worst(best.pairs):  # the best-scoring assignment has the best worst panel
        chosen, chosen_z = best.pairs, _value(problem, best.pairs)
        bound_z, proved = math.floor(best.bound / unit + 1e-6), best.status == Status.OPTIMAL
        total_status = Status(best.status)  # feasible: stopped at the asked gap_limit
    else:
        chosen, chosen_z, bound_z, proved = _best_total(run, lo, chosen)
        total_status = Status.OPTIMAL if proved else Status.TIMEOUT
    run.lap("best_total_s")
    status = total_status if not run.unproved else Status.TIMEOUT
    if not proved:
        run.unproved.append(f"best total at that floor not proved (bound {bound_z * unit:.2f})")
    stats = {
        "method": "fair: floor on the worst panel by LP search (priced, floor rows), then the "
        "best total at that floor (LP + reduced-cost fixing + branch and cut)",
        "held": {"worst_panel_score": round(run.worst(chosen) * unit / lcm, 6)},
        "probes": run.probes,
        "floor_rows": int(run.rows.sum()),
        "pairs": int(run.surv.total_eligible),
        **{name: round(t, 3) for name, t in run.times.items()},
    }
    if run.unproved:
        stats["note"] = "; ".join(run.unproved)
    return Result.build(
        problem,
        chosen,
        status=status,
        objective=chosen_z * unit,
        bound=max(bound_z, chosen_z) * unit,
        time_s=time.perf_counter() - run.start,
        seed=params.seed,
        stats=stats,
    )


def _value(problem: Problem, chosen: Pairs) -> int:
    return int(np.rint(chosen.score / score_unit(problem)).sum())


def _top_floor(problem: Problem, lcm: int, surv: Survey) -> int:
    """An upper bound on the floor: per project its own k best eligible weights, the least.
    The survey's candidates hold each project's best ``k`` eligible pairs (and more), so no
    pass over the batch is needed; -1 when a project has fewer than ``k`` eligible experts."""
    k = problem.project_panel_size.astype(np.int64)
    has = k > 0
    if not has.any():
        return 0
    if np.any(surv.eligible[has] < k[has]):
        return -1
    cand = surv.candidates
    w = np.rint(cand.score / score_unit(problem))
    order = np.lexsort((-w, cand.project))  # by project, best weight first
    project = cand.project[order]
    rank = np.arange(project.size) - np.searchsorted(project, project)
    top = rank < k[project]
    sums = np.bincount(project[top], weights=w[order][top], minlength=problem.n_projects)
    return int(np.min(sums[has] * (lcm // k[has])))


def _all_pairs_of(problem: Problem, projects: np.ndarray) -> Pairs:
    """Every eligible pair (with capacity) of ``projects``."""
    parts = []
    for block, scores in eligible_blocks(problem, projects, with_capacity=True):
        rows, cols = np.nonzero(np.isfinite(scores))
        parts.append((block[rows], cols, scores[rows, cols]))
    return concat(parts)


def _with_floor(model: Model, rows: np.ndarray, need: np.ndarray) -> Model:
    """``model`` plus a row ``sum_{j in p} w_j x_j >= need_p`` for each project in ``rows``."""
    projects = np.flatnonzero(rows)
    if projects.size == 0:
        return model
    pj = model.pairs.project
    row_of = np.full(rows.size, -1)
    row_of[projects] = np.arange(projects.size)
    j = np.flatnonzero(rows[pj])
    F = sp.csr_matrix(
        (model.weight[j].astype(float), (row_of[pj[j]], j)),
        shape=(projects.size, model.n_pairs),
    )
    n = projects.size

    def extend(values: np.ndarray | None, new: np.ndarray) -> np.ndarray | None:
        return None if values is None else np.concatenate([values, new])

    minus = np.full(n, -1, dtype=np.int64)
    return replace(
        model,
        A=sp.vstack([model.A, F]).tocsr(),
        lb=np.concatenate([model.lb, need[projects].astype(float)]),
        ub=np.concatenate([model.ub, np.full(n, np.inf)]),
        row_rule=np.concatenate([model.row_rule, np.full(n, Rule.MIN_SCORE, dtype=object)]),
        row_project=np.concatenate([model.row_project, projects]),
        row_expert=np.concatenate([model.row_expert, minus]),
        row_org=np.concatenate([model.row_org, minus]),
        row_node=np.concatenate([model.row_node, minus]),
        row_quota=extend(model.row_quota, minus),
        row_stage=extend(model.row_stage, minus),
    )


def _short(
    run: _Search, chosen: np.ndarray, columns: Pairs, weight: np.ndarray, need: np.ndarray
) -> np.ndarray:
    """Projects without a floor row whose panel in ``chosen`` (values over ``columns``) falls
    short of the floor."""
    sums = np.bincount(columns.project, weights=chosen * weight, minlength=run.problem.n_projects)
    return ~run.rows & (sums < need - 1e-6)


def _relax(run: _Search, floor: int, extra: Pairs | None) -> _Relaxation | None:
    """The LP relaxation at ``floor`` over all eligible pairs (priced); None when the floor is
    proved impossible (module docstring, point 2). Raises SolveError when out of time."""
    problem = run.problem
    need = run.need(floor)
    columns = run.surv.candidates if run.columns is None else run.columns
    if extra is not None:
        columns = merge(columns, extra, problem.n_experts)
    if run.rows.any():
        columns = merge(
            columns, _all_pairs_of(problem, np.flatnonzero(run.rows)), problem.n_experts
        )
    largest = float(np.rint(columns.score.max() / score_unit(problem))) if len(columns) else 1.0
    penalty = PENALTY * max(1.0, largest)
    at_least = float(need.sum())  # every assignment keeping the floor scores at least this
    for _ in range(PENALTY_STEPS):
        while True:
            if run.left() <= 0:
                raise SolveError("fair: out of time in the floor LP", Status.TIMEOUT)
            base = build_model(problem, columns)
            model = _with_floor(base, run.rows, need)
            lp = solve_lp(model, run.left(), penalty)
            assert lp is not None  # the artificial columns keep it feasible
            short = _short(run, lp.x, columns, base.weight.astype(float), need)
            if short.any():
                run.rows |= short
                new = _all_pairs_of(problem, np.flatnonzero(short))
                columns = merge(columns, new, problem.n_experts)
                continue
            duals = Duals.from_model(problem, base, lp.pi[: base.n_rows])
            cutoff = np.where(run.rows, -np.inf, run.surv.cutoff)
            new, _ = price(problem, duals, columns, cutoff, PRICE_TOL, PRICE_PER_PROJECT)
            if len(new) == 0:
                break
            columns = merge(columns, new, problem.n_experts)
        run.columns = columns
        if lp.shortfall <= 1e-6:
            z_lp = math.floor(lp.z + max(1e-6, 1e-9 * abs(lp.z)))
            return _Relaxation(columns, model, lp, duals, z_lp, penalty)
        if lp.z < at_least - max(1e-6, 1e-9 * abs(at_least)) or _short_for_sure(run, columns, need):
            return None
        penalty *= PENALTY_STEP
    raise SolveError("fair: the floor LP kept a shortfall at every penalty", Status.TIMEOUT)


def _short_for_sure(run: _Search, columns: Pairs, need: np.ndarray) -> bool:
    """Phase one: is the least artificial shortfall of the floor LP over all eligible pairs
    positive (so no assignment keeps the floor)? The shortfall LP has no score, so its reduced
    costs are ``rc1 = A^T pi``; pricing scores pairs as ``w + PHASE_ONE_SCALE rc1``, so a pair
    above the largest weight has ``rc1 > 0`` and prices in, and ``best / PHASE_ONE_SCALE``
    bounds ``rc1`` of every pair left out: the least shortfall is at least
    ``s - sum_p k_p max(0, best_p / PHASE_ONE_SCALE)`` (Lagrangian bound)."""
    problem = run.problem
    cutoff = np.where(run.rows, -np.inf, run.surv.cutoff)
    largest = float(np.rint(np.max(cutoff, initial=0.0) / score_unit(problem)))
    while run.left() > 0:
        base = build_model(problem, columns)
        model = _with_floor(base, run.rows, need)
        lp = solve_lp(
            replace(model, weight=np.zeros(model.n_pairs, dtype=np.int64)), run.left(), 1.0
        )
        assert lp is not None
        duals = Duals.from_model(problem, base, lp.pi[: base.n_rows] * PHASE_ONE_SCALE)
        new, best = price(problem, duals, columns, cutoff, largest, PRICE_PER_PROJECT)
        if len(new):
            columns = merge(columns, new, problem.n_experts)
            continue
        gain = np.maximum(best, 0.0) / PHASE_ONE_SCALE
        return bool(-lp.z - float(problem.project_panel_size @ gain) > SHORT_TOL)
    return False


def _room(run: _Search, relax: _Relaxation, threshold: float) -> Pairs:
    """Every eligible pair whose reduced cost exceeds ``threshold`` (weight units, <= 0) or
    that the LP uses: the only pairs an assignment of value > z_lp + threshold can hold."""
    keep = (-relax.lp.reduced_low > threshold) | (relax.lp.x > 1e-9)
    cutoff = np.where(run.rows, -np.inf, run.surv.cutoff)
    outside, _ = price(run.problem, relax.duals, relax.columns, cutoff, threshold, None)
    return merge(relax.columns.take(keep), outside, run.problem.n_experts)


def _sat(
    run: _Search,
    pairs: Pairs,
    floor: int,
    hint: Pairs | None,
    at_least: int | None,
    share: float = 1.0,
    maximize: bool = True,
) -> tuple[str, Pairs | None, float]:
    """CP-SAT over ``pairs`` with every rule and the floor rows: the best total score (at
    least ``at_least``), or with ``maximize`` False any assignment. (status, the assignment or
    None, bound)."""
    from ortools.sat.python import cp_model

    m = SatModel.build(run.problem, pairs)
    need = run.need(floor)
    for p, cols in m.grouped(m.pairs.project):
        if run.rows[p]:
            m.sat.add(
                cp_model.LinearExpr.weighted_sum(
                    [m.x[j] for j in cols], m.model.weight[cols].tolist()
                )
                >= int(need[p])
            )
    if hint is not None:
        m.hint(pairs.member_of(hint, run.problem.n_experts))
    if at_least is not None:
        m.sat.add(m.score() >= at_least)
    if maximize:
        m.sat.maximize(m.score())
    try:
        solver, proved = run_stage(m.sat, run.params, max(run.left() * share, 0.5), "fair")
    except InfeasibleError:
        return Status.INFEASIBLE, None, -math.inf
    except SolveError:
        return Status.TIMEOUT, None, math.inf
    chosen = np.array([solver.boolean_value(v) for v in m.x], dtype=bool)
    bound = float(solver.best_objective_bound) if maximize else math.inf
    return (Status.OPTIMAL if proved else Status.TIMEOUT), pairs.take(chosen), bound


def _milp(run: _Search, pairs: Pairs, floor: int, start: Pairs) -> tuple[str, Pairs | None, float]:
    """HiGHS branch and cut (one thread, :func:`expertmatch.solvers.backends.solve_mip`) over
    ``pairs`` with every rule and the floor rows, started from ``start`` (which keeps them):
    the best total score. (status, the assignment or None, bound)."""
    model = _with_floor(build_model(run.problem, pairs), run.rows, run.need(floor))
    every = np.ones(model.n_pairs, dtype=bool)
    params = replace(run.params, gap_limit=0.0)
    sol = solve_mip(
        extend(run.problem, model, chairs=False),
        every,
        pairs.member_of(start, run.problem.n_experts),
        None,
        params,
        max(run.left(), 1.0),
    )
    if sol.status == Status.INFEASIBLE:
        return Status.INFEASIBLE, None, -math.inf
    if sol.x is None:
        return Status.TIMEOUT, None, sol.bound
    return sol.status, pairs.take(sol.x), sol.bound


def _keeps(run: _Search, chosen: Pairs, floor: int) -> bool:
    """Does ``chosen`` keep the floor on every panel? Adds the rows of those that do not."""
    w = np.rint(chosen.score / score_unit(run.problem))
    short = _short(run, np.ones(len(chosen)), chosen, w, run.need(floor))
    run.rows |= short
    return not short.any()


def _floor_feasible(run: _Search, floor: int) -> Pairs | str | None:
    """An assignment keeping ``floor`` on every panel, None when that is proved impossible,
    or why it was not decided."""
    while True:
        try:
            relax = _relax(run, floor, None)
        except SolveError as e:
            return str(e)
        if relax is None:
            return None
        x = relax.lp.x > 0.5
        if relax.model.satisfied(x) and _keeps(run, relax.columns.take(x), floor):
            return relax.columns.take(x)
        slack = float(run.need(floor).sum()) - relax.z_lp - FIX_MARGIN
        # the pairs with room, unless the batch is so large that they may not fit in memory
        room = _room(run, relax, slack) if run.surv.total_eligible <= ROOM_PAIRS else None
        if room is None or len(room) > MAX_SAT_PAIRS:
            found = _fix_integral_part(run, relax, floor)
            if found is not None and _keeps(run, found, floor):
                return found
            if found is not None:
                continue
            many = run.surv.total_eligible if room is None else len(room)
            return f"up to {many} pairs could hold an assignment keeping it"
        status, found, _ = _sat(run, room, floor, relax.columns.take(x), None, maximize=False)
        if status == Status.INFEASIBLE:
            return None  # no pair outside ``room`` can be in an assignment keeping the floor
        if found is None:
            return "CP-SAT ran out of time"
        if _keeps(run, found, floor):
            return found


def _fix_integral_part(
    run: _Search, relax: _Relaxation, floor: int, maximize: bool = False
) -> Pairs | None:
    """An assignment keeping the floor from the LP: the panels it fills integrally kept, the
    others (every eligible pair of theirs) by CP-SAT; None if that finds none."""
    x = relax.lp.x
    columns = relax.columns
    fractional = (x > 1e-6) & (x < 1 - 1e-6)
    open_project = np.zeros(run.problem.n_projects, dtype=bool)
    open_project[columns.project[fractional]] = True
    kept = columns.take((x > 0.5) & ~open_project[columns.project])
    free = _all_pairs_of(run.problem, np.flatnonzero(open_project))
    if len(free) > MAX_SAT_PAIRS:
        return None
    pairs = merge(kept, free, run.problem.n_experts)
    _, found, _ = _sat(run, pairs, floor, columns.take(x > 0.5), None, 0.25, maximize)
    return found


def _better_start(run: _Search, relax: _Relaxation, floor: int) -> Pairs | None:
    """A good assignment keeping the floor, close to the LP: the rounded LP when it keeps
    every row, else the LP's integral panels kept and the others by CP-SAT (best score)."""
    x = relax.lp.x > 0.5
    if relax.model.satisfied(x) and _keeps(run, relax.columns.take(x), floor):
        return relax.columns.take(x)
    found = _fix_integral_part(run, relax, floor, maximize=True)
    if found is not None and _keeps(run, found, floor):
        return found
    return None


def _best_total(run: _Search, floor: int, chosen: Pairs) -> tuple[Pairs, int, int, bool]:
    """The best total score keeping ``floor`` (module docstring, point 4), from ``chosen``
    (which keeps it): the assignment, its value, the bound and whether it is proved."""
    z_inc = _value(run.problem, chosen)
    while True:
        try:
            relax = _relax(run, floor, chosen)
        except SolveError:
            return chosen, z_inc, z_inc, False
        if relax is None:  # cannot happen: ``chosen`` keeps the floor
            return chosen, z_inc, z_inc, False
        if z_inc >= relax.z_lp:
            return chosen, z_inc, z_inc, True
        better = _better_start(run, relax, floor)
        if better is not None and _value(run.problem, better) > z_inc:
            chosen, z_inc = better, _value(run.problem, better)
            if z_inc >= relax.z_lp:
                return chosen, z_inc, z_inc, True
        room = merge(
            _room(run, relax, z_inc + 1 - relax.z_lp - FIX_MARGIN), chosen, run.problem.n_experts
        )
        if len(room) > MAX_SAT_PAIRS:
            return chosen, z_inc, relax.z_lp, False
        status, found, bound = _milp(run, room, floor, chosen)
        if status == Status.INFEASIBLE:  # cannot happen: ``chosen`` keeps every row
            return chosen, z_inc, z_inc, False
        if found is None:
            return chosen, z_inc, relax.z_lp, False
        if not _keeps(run, found, floor):
            continue  # a panel without a floor row fell short: it has one now
        z = _value(run.problem, found)
        if status == Status.OPTIMAL:
            return found, z, z, True
        if z < z_inc:  # stopped by the clock before reaching the start
            found, z = chosen, z_inc
        return found, z, min(relax.z_lp, max(z, math.floor(bound + 1e-9))), False

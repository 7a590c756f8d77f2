"""Objectives in priority order, solved exactly by CP-SAT over every eligible pair.

Some questions an office asks are not "the highest total score" but "first X, then the score":

- ``objective="fair"``: first the best *worst* panel (the largest t with every panel's mean
  score >= t), then the total score -- solved at any scale by :func:`solve_fair` (a search
  over a floor on every panel's mean, each step the priced LP with the floor as rows, then
  the best total at the best floor; :mod:`expertmatch.solvers.fair`), and by the CP-SAT
  stages below only when a chair's ``max_per_expert`` can bind (chair variables);
- ``objective="spread"``: first the smallest *largest load* in this batch (work spread over as
  many experts as possible), then the total score -- solved without CP-SAT by
  :func:`solve_spread` (a load cap is just a tighter ``max_load``), so at any scale;
- reassignment after declines (:mod:`expertmatch.rounds.reassign`):
  first the most earlier pairs kept,
  then the total score.

Each is solved in stages on one CP-SAT model holding every rule of :func:`model.build_model`:
the first goal is optimised, its value is held as a constraint, and the next goal is optimised
with the previous solution as a hint. Status ``optimal`` means every stage was proved optimal;
``bound`` is the proven bound on the total score *given the values held* by earlier stages.
The model holds every eligible pair (no pricing): fine for office-size batches (up to a few
million pairs), not for the largest synthetic batches.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from expertmatch.domain.chairs import cap_can_bind
from expertmatch.domain.eligibility import eligible_blocks, eligible_pairs
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.scoring import score_unit
from expertmatch.errors import InfeasibleError, SolveError
from expertmatch.formulation.cpsat import SatModel
from expertmatch.result import Result
from expertmatch.solvers.exact import solve
from expertmatch.solvers.fair import solve_fair
from expertmatch.vocabulary import Status

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from expertmatch.domain.problem import Problem
    from expertmatch.result import Result
    from expertmatch.solvers.params import SolveParams

#: The objectives ``assign(objective=...)`` accepts.
OBJECTIVES = ("total", "fair", "spread")


#: A goal: given the model, the expression to optimise and whether to maximise it.
Goal: TypeAlias = "tuple[str, Callable[[SatModel], tuple[cp_model.LinearExprT, bool]]]"


def worst_panel(m: SatModel) -> tuple[cp_model.LinearExprT, bool]:
    """Goal of ``objective="fair"``: the lowest panel score, to maximise.

    A panel's score is the *mean* score of its members, so that panels of different sizes
    compare fairly. In integers: ``t <= (L / k_p) * sum_{j in p} w_j x_j`` with ``L`` the
    least common multiple of the panel sizes, so ``t / L`` is the worst mean exactly.
    """
    from ortools.sat.python import cp_model

    weights = m.model.weight
    sizes = m.problem.project_panel_size
    lcm = int(np.lcm.reduce(np.unique(sizes[sizes > 0]))) if (sizes > 0).any() else 1
    top = int(weights.clip(min=0).sum()) * lcm
    t = m.sat.new_int_var(0, max(top, 0), "worst_panel")
    for p, cols in m.grouped(m.pairs.project):
        k = int(sizes[p])
        if k == 0:
            continue
        factor = lcm // k
        panel = cp_model.LinearExpr.weighted_sum(
            [m.x[j] for j in cols], (weights[cols] * factor).tolist()
        )
        m.sat.add(panel >= t)
    m.scale["worst_panel_score"] = score_unit(m.problem) / lcm
    return t, True


GOALS: dict[str, Goal] = {
    "fair": ("worst_panel_score", worst_panel),
}


def solve_in_order(
    problem: Problem,
    params: SolveParams,
    goals: list[Goal],
    *,
    pairs: Pairs | None = None,
    hint: np.ndarray | None = None,
    method: str,
    on_infeasible: Callable[[], Any] | None = None,
    fixed_one: np.ndarray | None = None,
) -> Result:
    """Optimise ``goals`` one after the other, then the total score; return the Result.

    ``pairs`` (default: every eligible pair) are the model's columns; ``fixed_one`` (column
    positions) must be assigned. When the rules cannot all hold, ``on_infeasible`` is called
    (it should raise the :class:`InfeasibleError` with the full diagnosis); otherwise, or if it
    returns, the stage's :class:`InfeasibleError` is raised. No assignment within the time
    limit raises :class:`SolveError`.
    """

    start = time.perf_counter()

    def left() -> float:
        return params.time_limit - (time.perf_counter() - start)

    m = SatModel.build(problem, pairs)
    for j in [] if fixed_one is None else fixed_one.tolist():
        m.sat.add(m.x[j] == 1)
    if hint is not None:
        m.hint(hint)
    try:
        for name, goal in goals:
            expr, maximize = goal(m)
            m.stage(name, expr, maximize, params, left())
        solver, value = m.stage("score", m.score(), True, params, left())
    except InfeasibleError:
        if on_infeasible is not None:
            on_infeasible()
        raise
    chosen = np.array([solver.boolean_value(v) for v in m.x], dtype=bool)
    bound = math.floor(solver.best_objective_bound + 1e-9)
    p = m.pairs
    unit = score_unit(problem)
    held = {k: round(v * m.scale.get(k, 1), 6) for k, v in m.held.items() if k != "score"}
    return Result.build(
        problem,
        p.take(chosen),
        status=Status.OPTIMAL if m.proved else Status.TIMEOUT,
        objective=value * unit,
        bound=max(bound, value) * unit,
        time_s=time.perf_counter() - start,
        seed=params.seed,
        stats={"method": method, "held": held, "pairs": len(p)},
    )


def solve_ordered(
    problem: Problem,
    params: SolveParams,
    goal: Goal,
    name: str,
    progress: Any = None,
) -> Result:
    """``assign(objective=name)``. ``fair`` goes to the floor search (:func:`solve_fair`)
    unless a chair cap can bind. Otherwise the best-scoring assignment (exact solver; it
    raises the diagnosis if the rules cannot all hold) is the CP-SAT start, then ``goal`` and
    the score are optimised in order. On a large batch the stages may time out; the start
    keeps the result valid."""

    if name == "fair" and not cap_can_bind(problem):
        return solve_fair(problem, params, progress)
    start = time.perf_counter()
    best = solve(problem, params, progress)
    if name == "fair":
        worst = float(np.min(_panel_means(problem, best), initial=np.inf))
        if worst >= _best_possible_worst_mean(problem) - 1e-9:
            # no panel can do better than its own best experts: the best-scoring assignment
            # already has the best worst panel, and no assignment scores more
            return replace(
                best,
                time_s=time.perf_counter() - start,
                stats={
                    **best.stats,
                    "method": f"{name}: the best-scoring assignment already attains the upper "
                    "bound on the worst panel (each panel's best eligible experts)",
                    "held": {goal[0]: round(worst, 6)},
                },
            )
    hint = eligible_pairs(problem).member_of(best.pairs, problem.n_experts)
    left = max(params.time_limit - (time.perf_counter() - start), 1.0)
    method = f"{name}: {goal[0]} first, then score (CP-SAT from the best-scoring assignment)"
    try:
        return solve_in_order(
            problem, replace(params, time_limit=left), [goal], hint=hint, method=method
        )
    except SolveError:
        pass
    # CP-SAT found nothing within the time limit (large batches): the start is the best known
    return replace(
        best,
        status=Status.TIMEOUT,
        time_s=time.perf_counter() - start,
        stats={
            "method": method,
            "held": {},
            "note": f"no assignment better in {goal[0]} than the best-scoring one was found "
            "within the time limit; this is the best-scoring assignment",
        },
    )


def _panel_means(problem: Problem, result: Result) -> np.ndarray:
    """Each project's mean panel score in ``result`` (projects with a panel)."""
    sizes = problem.project_panel_size
    total = np.bincount(
        result.pairs.project, weights=result.pairs.score, minlength=problem.n_projects
    )
    has = sizes > 0
    return np.asarray(total[has] / sizes[has])


def _best_possible_worst_mean(problem: Problem) -> float:
    """An upper bound on the worst panel mean of any assignment: the smallest, over projects,
    of the mean of the project's own k best eligible scores (every other rule only lowers it).
    """

    out = np.inf
    sizes = problem.project_panel_size
    for block, scores in eligible_blocks(problem):
        for i, p in enumerate(block.tolist()):
            k = int(sizes[p])
            if k == 0:
                continue
            row = scores[i][scores[i] > -np.inf]
            if row.size < k:
                return -np.inf  # the batch is infeasible anyway
            out = min(out, float(np.sort(row)[-k:].sum()) / k)
    return float(out)

"""``objective="enterprise"``: the most enterprise seats at a stated cost in score.

The office wants more enterprise experts on the panels, but not at any price: with
``max_score_loss = L`` the answer is the assignment with the most enterprise seats among those
that keep every rule and score at least ``(1 - L) x`` the optimum, then the best score among
those. Solved exactly in two steps:

1. the total-score optimum by the exact solver (:func:`expertmatch.solvers.exact.solve`;
   with the chair rule's cap, :func:`expertmatch.solvers.chairs.with_chairs`);
2. one CP-SAT model of every rule over every eligible pair
   (:class:`expertmatch.formulation.cpsat.SatModel`) with a score floor row
   ``score >= ceil((1 - L) x optimum)`` (integer weight units): first the most enterprise
   seats, then, holding that count, the highest score
   (:func:`expertmatch.solvers.ordered.solve_in_order`), started from the optimum (which
   meets the floor, so there is always an answer), with at least ``MIN_WORKERS`` workers.

Status ``optimal`` only when the optimum and both stages were proved optimal. ``stats`` record
the optimum, the floor and the enterprise seats of the optimum and of the answer.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ortools.sat.python import cp_model

from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.scoring import score_unit
from expertmatch.errors import SolveError
from expertmatch.formulation.cpsat import SatModel
from expertmatch.solvers.chairs import with_chairs
from expertmatch.solvers.exact import solve
from expertmatch.solvers.ordered import OBJECTIVES as ORDERED_OBJECTIVES
from expertmatch.solvers.ordered import solve_in_order
from expertmatch.vocabulary import Status

if TYPE_CHECKING:
    from expertmatch.domain.problem import Problem
    from expertmatch.result import Result
    from expertmatch.solvers.params import SolveParams

#: The objectives ``assign(objective=...)`` accepts (the ordered ones and ``enterprise``).
OBJECTIVES = (*ORDERED_OBJECTIVES, "enterprise")
#: CP-SAT search workers for step 2 at least: with one worker the enterprise count is seldom
#: proved (the demo batch: not in 60 s); the portfolio proves it in seconds.
MIN_WORKERS = 8
#: ``max_score_loss`` when ``objective="enterprise"`` is asked without one.
DEFAULT_MAX_SCORE_LOSS = 0.01


def check_loss(max_score_loss: float) -> float:
    """``max_score_loss`` as a float in [0, 1); anything else is refused (ValueError)."""
    try:
        loss = float(max_score_loss)
    except (TypeError, ValueError):
        raise ValueError(f"max_score_loss must be a number, not {max_score_loss!r}") from None
    if not (0.0 <= loss < 1.0):
        raise ValueError(f"max_score_loss must be at least 0 and below 1, not {max_score_loss!r}")
    return loss


def score_floor(optimum: int, loss: float) -> int:
    """The least integer total (weight units) at least ``(1 - loss) x optimum``."""
    return math.ceil(optimum * (1.0 - loss) - 1e-9 * max(1, abs(optimum)))


def solve_enterprise(
    problem: Problem,
    params: SolveParams,
    max_score_loss: float = DEFAULT_MAX_SCORE_LOSS,
    progress: Any = None,
    best: Result | None = None,
) -> Result:
    """The most enterprise seats with every rule holding and a score at least
    ``(1 - max_score_loss) x`` the optimum, then the best score (module docstring).

    ``best`` (the best-scoring assignment, e.g. from an earlier call) skips step 1. Raises the
    exact solver's diagnosis when the rules cannot all hold.
    """
    loss = check_loss(max_score_loss)
    start = time.perf_counter()
    if best is None:
        best = with_chairs(problem, solve(problem, params, progress), params)
    pairs = eligible_pairs(problem)
    hint = pairs.member_of(best.pairs, problem.n_experts)
    enterprise = problem.expert_enterprise[pairs.expert]
    figures: dict[str, Any] = {"max_score_loss": loss}

    def most_enterprise(m: SatModel) -> tuple[cp_model.LinearExprT, bool]:
        optimum = m.model.value(hint)
        floor = score_floor(optimum, loss)
        m.sat.add(m.score() >= floor)
        unit = score_unit(problem)
        figures.update(optimum=optimum * unit, score_floor=floor * unit)
        return cp_model.LinearExpr.sum([m.x[j] for j in enterprise.nonzero()[0]]), True

    optimum_seats = int(problem.expert_enterprise[best.pairs.expert].sum())
    method = (
        f"enterprise: most enterprise seats with score >= (1 - {loss:g}) x optimum, then "
        "score (CP-SAT over every eligible pair from the best-scoring assignment)"
    )
    left = max(params.time_limit - (time.perf_counter() - start), 1.0)
    try:
        result = solve_in_order(
            problem,
            replace(params, time_limit=left, workers=max(params.workers, MIN_WORKERS)),
            [("enterprise_seats", most_enterprise)],
            pairs=pairs,
            hint=hint,
            method=method,
        )
    except SolveError:  # nothing found in time: the optimum meets the floor
        return replace(
            best,
            status=Status.TIMEOUT,
            time_s=time.perf_counter() - start,
            stats={
                **figures,
                "method": method,
                "enterprise_seats_optimum": optimum_seats,
                "enterprise_seats": optimum_seats,
                "note": "no assignment was found within the time limit; this is the "
                "best-scoring assignment",
            },
        )
    proved = result.status == Status.OPTIMAL and best.status == Status.OPTIMAL
    seats = int(problem.expert_enterprise[result.pairs.expert].sum())
    return replace(
        result,
        status=Status.OPTIMAL if proved else Status.TIMEOUT,
        time_s=time.perf_counter() - start,
        stats={
            **result.stats,
            **figures,
            "optimum_status": str(best.status),
            "enterprise_seats_optimum": optimum_seats,
            "enterprise_seats": seats,
        },
    )

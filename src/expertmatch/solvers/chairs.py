"""The chairs of the panels a solver returns (the chair rule, 组长).

The model keeps the rule's necessary part (each panel of its stages has a member who may
chair it); :func:`expertmatch.domain.chairs.choose_chairs` then picks the chairs. When
``max_per_expert`` binds, the chosen panels may admit no choice; the exact answer is then one
CP-SAT model over every eligible pair with a chair variable per member who may chair
(:class:`expertmatch.formulation.cpsat.SatModel` adds them), started from the first answer.
"""

from __future__ import annotations

from dataclasses import replace

from expertmatch.domain.chairs import choose_chairs
from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.problem import Problem
from expertmatch.errors import InputError, InputIssue, InternalError
from expertmatch.result import Result
from expertmatch.solvers.ordered import solve_in_order
from expertmatch.solvers.params import SolveParams
from expertmatch.solvers.relax import Bend
from expertmatch.vocabulary import Rule


def with_chairs(problem: Problem, result: Result, params: SolveParams) -> Result:
    """``result`` with its chairs; re-solved exactly with chair variables when the cap leaves
    a panel without a chair."""
    if problem.rules.chair is None:
        return result
    chairs, missing = choose_chairs(problem, result.pairs)
    if missing:
        pairs = eligible_pairs(problem)
        result = solve_in_order(
            problem,
            params,
            [],
            hint=pairs.member_of(result.pairs, problem.n_experts),
            method="exact with a chair variable per member who may chair (CP-SAT over every "
            "eligible pair: max_per_expert binds)",
        )
        chairs, missing = choose_chairs(problem, result.pairs)
        if missing:
            raise InternalError(
                "an assignment of the chair model leaves panels without a chair: "
                + ", ".join(problem.project_ids[p] for p in missing[:5])
            )
    return replace(result, chairs=chairs)


def chaired(problem: Problem, result: Result) -> Result:
    """``result`` with its chairs, for a path that cannot re-solve for them (a random draw,
    ``spread``); a cap that leaves a panel without a chair is refused with the panels named."""
    if problem.rules.chair is None:
        return result
    chairs, missing = choose_chairs(problem, result.pairs)
    if missing:
        raise InputError(
            [
                InputIssue(
                    "rules",
                    "chair: max_per_expert leaves "
                    + ", ".join(problem.project_ids[p] for p in missing[:10])
                    + " without a chair in this assignment; this objective cannot yet keep a "
                    "binding max_per_expert (raise it, or use the default objective)",
                    column="chair",
                )
            ]
        )
    return replace(result, chairs=chairs)


def relaxed_chairs(problem: Problem, result: Result) -> Result:
    """A relaxed result's chairs; a panel the cap leaves without one is one more bend."""
    if problem.rules.chair is None:
        return result
    chairs, missing = choose_chairs(problem, result.pairs)
    limit = problem.rules.chair.max_per_expert
    bends = tuple(
        Bend(
            Rule.CHAIR,
            1,
            f"{problem.project_ids[p]}: no member may chair it within max_per_expert {limit}",
            project=problem.project_ids[p],
        )
        for p in missing
    )
    return replace(result, chairs=chairs, bends=(*result.bends, *bends))

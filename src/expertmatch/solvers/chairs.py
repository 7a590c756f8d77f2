"""The chairs of the panels a solver returns (the chair rule, 组长).

The model keeps the rule's necessary part (each panel of its stages has a member who may
chair it); :func:`expertmatch.domain.chairs.choose_chairs` then picks the chairs. When
``max_per_expert`` binds, the chosen panels may admit no choice; the exact answer is then one
CP-SAT model over every eligible pair with a chair variable per member who may chair
(:class:`expertmatch.formulation.cpsat.SatModel` adds them), started from the first answer.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from expertmatch.domain.chairs import choose_chairs, may_chair
from expertmatch.domain.eligibility import eligible_blocks, eligible_pairs
from expertmatch.domain.pairs import Pairs, concat, merge
from expertmatch.domain.problem import Problem
from expertmatch.errors import InfeasibleError, InputError, InputIssue, InternalError, SolveError
from expertmatch.result import Result
from expertmatch.solvers.params import SolveParams
from expertmatch.vocabulary import Rule, Status

#: Above this many eligible pairs the whole-batch chair model is not tried (it holds every
#: pair); the repaired answer is returned with its gap.
FULL_CHAIR_MODEL_PAIRS = 200_000


def with_chairs(problem: Problem, result: Result, params: SolveParams) -> Result:
    """``result`` with its chairs. When the cap leaves panels without a chair: first those
    panels (and the panels of the members who could chair them) are solved again with chair
    variables, every other panel kept; then, time and size allowing, the whole batch with
    chair variables, started from that repair. The bound of ``result`` stays valid (the chair
    rule only removes assignments), so a repair short of it is reported with its gap."""
    if problem.rules.chair is None:
        return result
    from expertmatch.solvers.ordered import solve_in_order  # here: CP-SAT, the chair rule only

    start = time.perf_counter()
    chairs, missing = choose_chairs(problem, result.pairs)
    if not missing:
        return replace(result, chairs=chairs)
    repaired = _repair(problem, result, missing, params)
    if repaired is not None and repaired.status in (Status.OPTIMAL, Status.FEASIBLE):
        # at the bound (nothing better exists) or within the gap limit asked for
        return attach_chairs(problem, repaired)
    left = params.time_limit - (time.perf_counter() - start)
    if _eligible_count(problem, result) <= FULL_CHAIR_MODEL_PAIRS and left > 1.0:
        pairs = eligible_pairs(problem)
        try:
            hint = repaired if repaired is not None else result
            full = solve_in_order(
                problem,
                replace(params, time_limit=left),
                [],
                hint=pairs.member_of(hint.pairs, problem.n_experts),
                method="exact with a chair variable per member who may chair (CP-SAT over "
                "every eligible pair: max_per_expert binds)",
            )
            if repaired is None or full.objective >= repaired.objective:
                return attach_chairs(problem, _tighter(full, result.bound, params.gap_limit))
        except SolveError:
            if repaired is None:
                raise
    if repaired is None:
        raise SolveError("no assignment keeping the chair rule found within the time limit")
    return attach_chairs(problem, repaired)


def _tighter(full: Result, bound: float, gap_limit: float) -> Result:
    """``full`` with the better of its own bound and ``bound`` (the first solve's, still valid:
    the chair rule only removes assignments), and the status that bound gives."""
    best = min(full.bound, bound)
    if best >= full.bound:
        return full
    gap = best - full.objective
    status = full.status
    if gap <= 1e-9 * max(1.0, abs(best)):
        status = Status.OPTIMAL
    elif gap <= gap_limit * abs(best):
        status = Status.FEASIBLE
    return replace(full, bound=best, status=status)


def _eligible_count(problem: Problem, result: Result) -> int:
    """The batch's eligible pairs, as the exact solver's survey counted them (without building
    them: tens of millions at 10,000 x 30,000), else counted now."""
    stats = result.stats
    count = stats.get("eligible_pairs") if isinstance(stats, Mapping) else None
    return int(count) if count is not None else len(eligible_pairs(problem))


def _free_pairs(problem: Problem, free: np.ndarray) -> Pairs:
    """The eligible pairs of the projects in the mask ``free`` only (by blocks)."""
    parts = []
    for block, scores in eligible_blocks(problem, np.flatnonzero(free)):
        rows, cols = np.nonzero(np.isfinite(scores))
        parts.append((block[rows], cols, scores[rows, cols]))
    return concat(parts)


def _repair(
    problem: Problem, result: Result, missing: list[int], params: SolveParams
) -> Result | None:
    """The panels left without a chair, and every panel holding a member who could chair one
    of them, solved again with chair variables; the other panels kept as they are. None if
    that finds nothing in a quarter of the time limit."""
    from expertmatch.solvers.ordered import solve_in_order

    may = may_chair(problem)
    chosen = result.pairs
    helpers = {int(e) for p, e in zip(chosen.project, chosen.expert, strict=True) if p in missing}
    helpers = {e for e in helpers if may[e]}
    free = set(missing) | {
        int(p) for p, e in zip(chosen.project, chosen.expert, strict=True) if int(e) in helpers
    }
    free_mask = np.zeros(problem.n_projects, dtype=bool)
    free_mask[list(free)] = True
    kept = chosen.take(~free_mask[chosen.project])
    pairs = merge(kept, _free_pairs(problem, free_mask), problem.n_experts)
    fixed = np.flatnonzero(pairs.member_of(kept, problem.n_experts))
    try:
        repaired = solve_in_order(
            problem,
            replace(params, time_limit=max(params.time_limit * 0.25, 1.0)),
            [],
            pairs=pairs,
            fixed_one=fixed,
            hint=pairs.member_of(chosen, problem.n_experts),
            method="repair: the panels the chair cap left without a chair solved again with "
            "chair variables, the others kept",
        )
    except (SolveError, InfeasibleError):
        return None
    gap = result.bound - repaired.objective
    status = Status.OPTIMAL if gap <= 1e-9 else Status.TIMEOUT
    if status == Status.TIMEOUT and gap <= params.gap_limit * abs(result.bound):
        status = Status.FEASIBLE  # stopped by the gap limit, not the clock
    return replace(repaired, bound=result.bound, status=status)


def attach_chairs(problem: Problem, result: Result) -> Result:
    """``result`` with its chairs, for an assignment of a model that holds the chair rule
    (so a choice exists): a panel left without one is a fault of the library."""
    if problem.rules.chair is None:
        return result
    chairs, missing = choose_chairs(problem, result.pairs)
    if missing:
        raise InternalError(
            "an assignment of a model holding the chair rule leaves panels without a chair: "
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
    from expertmatch.solvers.relax import Bend

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

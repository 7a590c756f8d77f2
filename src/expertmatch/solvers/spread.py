"""``objective="spread"``: the smallest largest load, then the best score, exact at any scale
(a binary search on a load cap, each step the exact solver)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from expertmatch.domain.problem import Problem
from expertmatch.errors import InfeasibleError
from expertmatch.result import Result
from expertmatch.solvers.exact import solve
from expertmatch.solvers.params import SolveParams


def solve_spread(problem: Problem, params: SolveParams, progress: Any = None) -> Result:
    """``assign(objective="spread")``: the smallest largest load, then the best score, exactly
    and at any scale.

    A cap L on every expert's load is just a tighter ``max_load``, which the exact solver
    handles: binary search for the smallest L that keeps every rule (an infeasible L raises
    InfeasibleError), starting from the largest load of the best-scoring assignment. The
    best-scoring assignment under the smallest L is the result; its bound is that solve's.
    """
    start = time.perf_counter()

    def left() -> SolveParams:
        return replace(
            params, time_limit=max(params.time_limit - (time.perf_counter() - start), 1.0)
        )

    def capped(limit: int) -> Problem:
        return replace(problem, expert_max_load_given=np.minimum(problem.expert_max_load, limit))

    best = solve(problem, params, progress)  # raises the diagnosis if the rules cannot hold
    hi = int(best.loads().max(initial=0))
    active = int((problem.expert_capacity > 0).sum())
    lo = max(1, -(-int(problem.project_panel_size.sum()) // max(active, 1)))
    solves = 1
    while lo < hi:
        mid = (lo + hi) // 2
        solves += 1
        try:
            best = solve(capped(mid), left())
        except InfeasibleError:
            lo = mid + 1
            continue
        hi = int(best.loads().max(initial=0))
    return Result.build(
        problem,
        best.pairs,
        status=best.status,
        objective=best.objective,
        bound=best.bound,
        time_s=time.perf_counter() - start,
        seed=params.seed,
        stats={
            "method": "spread: smallest largest load by binary search over a load cap, "
            "then the exact solver",
            "held": {"largest_load": hi},
            "solves": solves,
        },
    )

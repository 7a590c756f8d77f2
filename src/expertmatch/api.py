"""``assign()``: the thin front door — load if needed, solve, return the :class:`Result`."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from .load import RulesLike, load, resolve_rules
from .problem import Problem
from .result import Result
from .solve import Progress, SolveParams, solve


def assign(
    problem: Problem | str | os.PathLike[str],
    *,
    rules: RulesLike = None,
    time_limit: float = 60.0,
    seed: int = 0,
    workers: int = 1,
    gap_limit: float = 0.0,
    progress: Progress | None = None,
    relax: bool = False,
    bend_order: tuple[str, ...] | None = None,
    **unknown: Any,
) -> Result:
    """Assign every project its panel, optimally under all rules.

    ``problem`` is a :class:`Problem` or a path to a batch folder / workbook. ``rules``
    replaces the batch's rules. ``time_limit`` bounds the whole run in seconds; ``seed`` makes
    runs reproducible; ``gap_limit`` (e.g. 0.001) stops once the proven gap is that small.
    ``relax=True``: when the rules cannot all hold, return the assignment that bends the
    fewest rules in ``bend_order`` (see :mod:`expertmatch.relax`), every bend listed in
    ``Result.bends``; conflicts of interest and panel sizes never bend.
    Raises :class:`InfeasibleError` naming projects and rules when the rules cannot all hold.
    """
    if unknown:
        raise TypeError(f"assign() got unknown option(s): {', '.join(sorted(unknown))}")
    if not isinstance(problem, Problem):
        problem = load(problem, rules=rules)
    elif rules is not None:
        problem = problem.with_rules(resolve_rules(rules))
    if problem.rules.max_probability < 1:
        from .errors import ExpertMatchError

        raise ExpertMatchError(
            "rule max_probability < 1 (randomised assignment) is not "
            "supported by this version; remove it or set it to 1"
        )
    params = SolveParams(time_limit=time_limit, seed=seed, workers=workers, gap_limit=gap_limit)
    if bend_order is not None and not relax:
        raise TypeError("bend_order only applies with relax=True")
    if not relax:
        return solve(problem, params, progress)
    from .errors import InfeasibleError
    from .relax import BEND_ORDER, solve_relaxed

    try:
        return solve(problem, params, progress)
    except InfeasibleError:
        return solve_relaxed(problem, params, tuple(bend_order or BEND_ORDER))


def demo_path() -> Path:
    """The folder of the demo batch shipped inside the package."""
    return Path(str(resources.files("expertmatch") / "data" / "demo"))

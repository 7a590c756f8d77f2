"""``assign()``: the thin front door — load if needed, solve, return the :class:`Result`."""

from __future__ import annotations

import os
import secrets
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from expertmatch.domain.eligibility import eligible_blocks, why_ineligible
from expertmatch.domain.load import RulesLike, load, resolve_rules
from expertmatch.domain.problem import Problem
from expertmatch.domain.scoring import text_evidence
from expertmatch.errors import InfeasibleError, InputError, InputIssue
from expertmatch.result import Result, seat_roles
from expertmatch.rounds.history import (
    AssignmentLike,
    read_assignment_table,
    read_declines,
    read_pairs,
    with_declines,
)
from expertmatch.solvers.params import Progress, SolveParams

if TYPE_CHECKING:
    from expertmatch.solvers.lottery import Lottery

# The solvers are imported by the function (and the branch) that runs them: the main path
# (``assign`` with the defaults) then loads neither the other solvers' modules nor CP-SAT,
# scipy.optimize and the round tools (about 0.1-0.2 s of a command-line run).


def assign(
    problem: Problem | str | os.PathLike[str],
    *,
    rules: RulesLike = None,
    time_limit: float = 60.0,
    seed: int | None = None,
    workers: int = 1,
    gap_limit: float | None = None,
    progress: Progress | None = None,
    relax: bool = False,
    bend_order: tuple[str, ...] | None = None,
    objective: str = "total",
    max_score_loss: float | None = None,
    grouping: str | None = None,
    **unknown: Any,
) -> Result:
    """Assign every project its panel, optimally under all rules.

    ``problem`` is a :class:`Problem` or a path to a batch folder / workbook. ``rules``
    replaces the batch's rules. ``time_limit`` bounds the whole run in seconds; ``seed`` makes
    runs reproducible (default: CP-SAT's seed 0; a random draw: see below); ``gap_limit``
    (e.g. 0.001) stops once the proven gap is that small (default: 0, i.e. proven optimal,
    except for a random draw whose lottery needs column generation: ``LOTTERY_GAP``).
    ``relax=True``: when the rules cannot all hold, return the assignment that bends the
    fewest rules in ``bend_order`` (see :mod:`expertmatch.solvers.relax`), every bend listed in
    ``Result.bends``; conflicts of interest and panel sizes never bend.
    ``objective``: ``"total"`` (the highest total score), ``"fair"`` (first the best worst
    panel, then the total) or ``"spread"`` (first the smallest largest load, then the total);
    see :mod:`expertmatch.solvers.ordered`; ``"enterprise"``: the most enterprise seats with
    a total score at least ``(1 - max_score_loss) x`` the optimum (``max_score_loss`` in
    [0, 1), default 0.01), then the best score; see :mod:`expertmatch.solvers.enterprise`.
    With the rule ``max_probability < 1`` the assignment is drawn at random from the lottery
    of best expected score with every pair at most that likely (:mod:`expertmatch.solvers.lottery`);
    ``seed`` reproduces the draw; without one the seed comes from the operating system
    (:func:`draw_seed`) and ``Result.seed`` records it, so ``seed=result.seed`` replays it.
    ``grouping`` (a batch with meeting projects): how the solver forms the groups the office
    left open, ``"search"`` (default) or ``"hand"`` (:mod:`expertmatch.solvers.meetings`).
    Raises :class:`InfeasibleError` naming projects and rules when the rules cannot all hold.
    """
    if unknown:
        raise TypeError(f"assign() got unknown option(s): {', '.join(sorted(unknown))}")
    if objective != "total":
        from expertmatch.solvers.enterprise import OBJECTIVES

        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, not {objective!r}")
    if max_score_loss is not None and objective != "enterprise":
        raise ValueError("max_score_loss only applies with objective='enterprise'")
    problem = _problem(problem, rules)
    params = SolveParams(
        time_limit=time_limit, seed=seed or 0, workers=workers, gap_limit=gap_limit or 0.0
    )
    if grouping is not None and not problem.has_meetings:
        raise ValueError("grouping only applies to a batch with meeting projects (mode meeting)")
    if problem.has_meetings:  # meeting groups (会评): their own solver
        if problem.project_max_probability.min(initial=1.0) < 1 and not relax:
            if objective != "total":
                raise ValueError(
                    f"objective={objective!r} and max_probability < 1 cannot be combined"
                )
            from expertmatch.solvers.meeting_lottery import draw_meetings

            lot_params = _draw_params(time_limit, workers, gap_limit)
            drawn_seed = draw_seed() if seed is None else seed
            return draw_meetings(problem, lot_params, drawn_seed, grouping or "search")
        return _assign_meetings(problem, params, progress, relax, objective, bend_order, grouping)
    if bend_order is not None and not relax:
        raise TypeError("bend_order only applies with relax=True")
    options = (("relax=True", relax), (f"objective={objective!r}", objective != "total"))
    special = [name for name, on in options if on]
    drawn = bool(problem.project_max_probability.min(initial=1.0) < 1)
    if drawn:
        special.append("max_probability < 1")
    if len(special) > 1 and special != ["relax=True", "max_probability < 1"]:
        raise ValueError(f"{' and '.join(special)} cannot be combined")
    from expertmatch.solvers.chairs import chaired, relaxed_chairs, with_chairs

    if drawn:  # the lottery depends on the batch; seed: the draw
        from expertmatch.solvers.lottery import draw

        lot_params = _draw_params(time_limit, workers, gap_limit)
        result = draw(problem, lot_params, draw_seed() if seed is None else seed, relax)
        return chaired(problem, result)
    if objective != "total":
        return _other_objective(problem, params, progress, objective, max_score_loss)
    from expertmatch.solvers.exact import solve

    try:
        return with_chairs(problem, solve(problem, params, progress, diagnose=not relax), params)
    except InfeasibleError:
        if not relax:
            raise
        from expertmatch.solvers.relax import BEND_ORDER, solve_relaxed

        return relaxed_chairs(
            problem, solve_relaxed(problem, params, tuple(bend_order or BEND_ORDER))
        )


def _draw_params(time_limit: float, workers: int, gap_limit: float | None) -> SolveParams:
    """The random draw's parameters: its own default gap (``LOTTERY_GAP``) unless given."""
    from expertmatch.solvers.lottery import LOTTERY_GAP

    gap = LOTTERY_GAP if gap_limit is None else gap_limit
    return SolveParams(time_limit=time_limit, workers=workers, gap_limit=gap)


def _other_objective(
    problem: Problem,
    params: SolveParams,
    progress: Progress | None,
    objective: str,
    max_score_loss: float | None,
) -> Result:
    """``assign`` with an objective other than ``"total"`` (checked by the caller)."""
    from expertmatch.solvers.chairs import chaired

    if objective == "spread":
        from expertmatch.solvers.spread import solve_spread

        return chaired(problem, solve_spread(problem, params, progress))
    if objective == "enterprise":
        from expertmatch.solvers.enterprise import DEFAULT_MAX_SCORE_LOSS, solve_enterprise

        loss = DEFAULT_MAX_SCORE_LOSS if max_score_loss is None else max_score_loss
        return chaired(problem, solve_enterprise(problem, params, loss, progress))
    from expertmatch.solvers.ordered import GOALS, solve_ordered

    result = solve_ordered(problem, params, GOALS[objective], objective, progress)
    return chaired(problem, result)  # its CP-SAT model holds chair variables if needed


def _assign_meetings(
    problem: Problem,
    params: SolveParams,
    progress: Progress | None,
    relax: bool,
    objective: str,
    bend_order: tuple[str, ...] | None,
    grouping: str | None = None,
) -> Result:
    """A batch with meeting projects: grouped, scheduled and seated together with its
    per-project panels (:mod:`expertmatch.solvers.meetings`; with ``relax``,
    :mod:`expertmatch.solvers.meeting_bends`); the options this version does not combine with
    meetings are refused by name."""
    if bend_order is not None and not relax:
        raise TypeError("bend_order only applies with relax=True")
    if objective != "total":
        raise ValueError(
            f"objective={objective!r} is not supported yet for a batch with meeting projects "
            "(mode meeting); solve it with the defaults"
        )
    if relax:
        from expertmatch.solvers.meeting_bends import solve_meetings_relaxed
        from expertmatch.solvers.relax import BEND_ORDER

        order = tuple(bend_order or BEND_ORDER)
        return solve_meetings_relaxed(problem, params, order, progress, grouping or "search")
    from expertmatch.solvers.meetings import solve_meetings

    return solve_meetings(problem, params, progress, grouping or "search")


def _no_meetings(problem: Problem, tool: str) -> Problem:
    """``problem`` if it has no meeting project; else the round tool is refused by name (this
    version does not run it on meeting groups: never a silent answer that ignores them)."""
    if problem.has_meetings:
        n = int(problem.project_meeting.sum())
        raise ValueError(
            f"{tool} is not supported yet for meeting review: {n} project(s) have mode meeting; "
            "re-run assign after the change (the groups the office fixed stay fixed)"
        )
    return problem


def draw_seed() -> int:
    """A seed for a random draw from the operating system's randomness: a 63-bit whole number
    (fits a signed 64-bit integer), recorded in ``report.json`` so the draw can be replayed."""
    return secrets.randbits(63)


def _problem(problem: Problem | str | os.PathLike[str], rules: RulesLike) -> Problem:
    if not isinstance(problem, Problem):
        return load(problem, rules=rules)
    return problem if rules is None else problem.with_rules(resolve_rules(rules))


def reassign(
    problem: Problem | str | os.PathLike[str],
    previous: AssignmentLike,
    declined: AssignmentLike,
    *,
    rules: RulesLike = None,
    time_limit: float = 60.0,
    seed: int = 0,
    workers: int = 1,
    relax: bool = False,
    bend_order: tuple[str, ...] | None = None,
) -> Result:
    """After declines: the assignment that changes the fewest earlier pairs, then scores best.

    ``previous`` is the earlier assignment (``assignment.csv`` path, DataFrame, Result or
    (project, expert) pairs); ``declined`` a ``declined.csv`` path (columns expert, project;
    an empty project means unavailable for the whole round), a DataFrame or (expert, project)
    pairs. Declined pairs are never used; every rule holds. See :mod:`expertmatch.rounds.reassign`.
    ``relax=True``: when the rules cannot all hold after the declines, return the assignment
    that bends the fewest rules in ``bend_order`` (as :func:`assign` with ``relax``), then
    changes the fewest earlier pairs, then scores best; every bend listed in ``Result.bends``.
    Raises :class:`InfeasibleError` (without ``relax``) naming the rules that cannot hold.
    """

    if bend_order is not None and not relax:
        raise TypeError("bend_order only applies with relax=True")
    from expertmatch.rounds.reassign import reassign as _reassign
    from expertmatch.solvers.meetings import reassign_meetings
    from expertmatch.solvers.relax import BEND_ORDER

    params = SolveParams(time_limit=time_limit, seed=seed, workers=workers)
    order = tuple(bend_order or BEND_ORDER)
    problem = _problem(problem, rules)
    if problem.has_meetings:  # the earlier groups stay; the fewest seats change
        rows = read_declines(declined, problem)
        frame = _previous_frame(previous)
        after = with_declines(problem, rows)
        if relax:
            from expertmatch.solvers.meeting_bends import reassign_relaxed

            return reassign_relaxed(after, frame, len(rows), params, order)
        return reassign_meetings(after, frame, len(rows), params)
    return _reassign(problem, previous, declined, params, relax, order)


def _previous_frame(previous: AssignmentLike) -> pd.DataFrame:
    """An earlier meeting assignment as a table with its group, slot and room columns."""
    if isinstance(previous, Result):
        return previous.frame
    if isinstance(previous, str | os.PathLike):
        return read_assignment_table(previous)
    if isinstance(previous, pd.DataFrame):
        return previous
    raise ValueError("a meeting reassign needs the earlier assignment with its group column")


def reserves(
    problem: Problem | str | os.PathLike[str],
    previous: AssignmentLike,
    k: int = 3,
    *,
    declined: AssignmentLike = None,
    rules: RulesLike = None,
) -> pd.DataFrame:
    """Up to ``k`` ranked reserves per project and whom each can replace with every rule
    holding (columns project, rank, expert, replaces, ...); ``declined`` rules out declined
    pairs and unavailable experts. See :mod:`expertmatch.rounds.reserves`."""

    from expertmatch.rounds.meeting_reserves import meeting_reserves
    from expertmatch.rounds.reserves import reserves as _reserves

    problem = _problem(problem, rules)
    if problem.has_meetings:  # per group: who can take a seat in place of whom
        return meeting_reserves(problem, previous, k, declined)
    return _reserves(problem, previous, k, declined)


def lottery(
    problem: Problem | str | os.PathLike[str],
    *,
    rules: RulesLike = None,
    time_limit: float = 60.0,
    gap_limit: float | None = None,
    workers: int = 1,
) -> Lottery:
    """The distribution a random draw comes from (rule ``max_probability < 1``), for study:
    ``.x`` each pair's probability, ``.expected_objective``, ``.bound``, ``.sample(seed)``
    (the Result ``assign(seed=seed)`` returns) and ``.draw(rng)`` (a 0/1 vector over
    ``.pairs``). See :mod:`expertmatch.solvers.lottery`."""

    from expertmatch.solvers.lottery import LOTTERY_GAP
    from expertmatch.solvers.lottery import lottery as _lottery

    problem = _no_meetings(_problem(problem, rules), "lottery")
    if not problem.project_max_probability.min(initial=1.0) < 1:
        raise ValueError("a lottery needs the rule max_probability < 1")
    gap = LOTTERY_GAP if gap_limit is None else gap_limit
    return _lottery(problem, SolveParams(time_limit=time_limit, workers=workers, gap_limit=gap))


def why_eligible(
    problem: Problem,
    expert_id: str,
    project_id: str,
    assignment: AssignmentLike = None,
    label: str = "the assignment",
) -> list[str]:
    """Why this expert may review this project, in office terms; empty if they may not (then
    :func:`~expertmatch.domain.eligibility.why_ineligible` says why).

    The first line gives the pair's score and its rank among the project's eligible experts
    ("score 87.5, 2nd of 41 eligible experts for P001"); with an ``assignment`` (anything
    :func:`expertmatch.reassign` reads as ``previous``; ``label`` names it) the next says
    whether the expert is on that panel, and what the panel needs them for (an enterprise
    seat, a field only they cover, ...). With papers (``papers.csv``) lines in between show
    the score's text part and the expert's papers closest to the project.
    """
    if why_ineligible(problem, expert_id, project_id):
        return []
    e, p = problem.expert_index[expert_id], problem.project_index[project_id]
    _, scores = next(eligible_blocks(problem, np.array([p]), with_capacity=True))
    row = scores[0]
    eligible = row[np.isfinite(row)]
    above = int((eligible > row[e]).sum())
    ties = int((eligible == row[e]).sum()) - 1
    tied = f" (tied with {ties} other{'s' if ties > 1 else ''})" if ties else ""
    lines = [
        f"{expert_id} is eligible for {project_id}: score {row[e]:g}, {_ordinal(above + 1)}"
        f"{tied} of {eligible.size} eligible experts for {project_id}"
    ]
    lines += text_evidence(problem, p, e)
    if assignment is not None and problem.project_meeting[p]:
        lines.append(_in_group(problem, e, p, assignment, label))
    elif assignment is not None:
        lines.append(_on_panel(problem, e, p, assignment, label))
    return lines


def _in_group(problem: Problem, e: int, p: int, assignment: AssignmentLike, label: str) -> str:
    """A meeting project: the expert's seat in the project's group, and whether they review
    it or step out (a conflict), from a Result or an assignment file's group column."""
    project_id, expert_id = problem.project_ids[p], problem.expert_ids[e]
    if isinstance(assignment, Result):
        frame = assignment.frame
    elif isinstance(assignment, str | os.PathLike):
        frame = read_assignment_table(assignment)
    else:
        frame = pd.DataFrame(read_pairs(assignment, label))
    if "group" not in frame.columns:
        return f"{label} has no group column: the meeting of {project_id} is not known"
    group = {str(g) for g in frame.loc[frame["project"] == project_id, "group"]}
    if len(group) != 1:
        return f"{project_id} is in no single group in {label}"
    (gid,) = group
    rows = frame[frame["group"] == gid]
    seated = set(rows["expert"])
    if expert_id not in seated:
        return (
            f"not seated in group {gid} (the meeting of {project_id}) in {label}: "
            f"{len(seated)} seated, {rows['project'].nunique()} projects"
        )
    reviews = ((rows["project"] == project_id) & (rows["expert"] == expert_id)).any()
    if reviews:
        return f"seated in group {gid} in {label} and reviews {project_id} there"
    return f"seated in group {gid} in {label}; steps out of {project_id} (recusal)"


def _on_panel(problem: Problem, e: int, p: int, assignment: AssignmentLike, label: str) -> str:
    """Is expert ``e`` on project ``p``'s panel in ``assignment``, and what for?"""
    project_id = problem.project_ids[p]
    panel = [r.expert for r in read_pairs(assignment, label) if r.project == project_id]
    unknown = [x for x in panel if x not in problem.expert_index]
    if unknown:
        raise InputError([InputIssue(label, f"unknown expert {x!r}") for x in unknown])
    if problem.expert_ids[e] not in panel:
        return (
            f"not on {project_id}'s panel in {label} "
            f"(its panel: {', '.join(panel) if panel else 'nobody'})"
        )
    members = [problem.expert_index[x] for x in panel]
    roles = seat_roles(problem, p, members, e)
    return f"on {project_id}'s panel in {label} ({len(panel)} members): " + "; ".join(roles)


def _ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st, ..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def demo_path() -> Path:
    """The folder of the demo batch shipped inside the package."""
    return Path(str(resources.files("expertmatch") / "data" / "demo"))

"""Meeting review (会评): form the groups, seat one panel a group, schedule the meetings.

Seating (:func:`seat`) is exact, like the per-project solver (:mod:`expertmatch.solvers.exact`):

1. The seating model (:mod:`expertmatch.formulation.seating`) over every possible seat.
2. Priced LP: HiGHS over a restricted set of seats (per group the best ``CORE_PER_GROUP`` by
   weight, in a mixed batch likewise each panel's best pairs, plus for each project's reviewer
   rules the best few who count for them), artificial
   shortfall columns keeping it feasible; every other seat is priced from the duals
   (``rc = w + A^T pi``) and the improving ones added until none is left. Then
   ``z_lp + sum max(0, rc)`` over the columns left out bounds the whole batch.
3. HiGHS MIP on a core (the LP's support plus each group's best reduced costs) gives an
   incumbent ``z_inc``.
4. Reduced-cost fixing: a seat with ``z_lp + rc < z_inc + 1`` (whole score units) is in no
   better seating; a MIP over every other seat, solved to optimality, proves the optimum. On a
   timeout the bound ``max(MIP bound, max over the seats left out of z_lp + rc)`` stays valid.
5. One chair rule over groups and panels whose cap can bind: 1-4 without the panels' chair
   columns (a relaxation), the chairs of groups and panels then chosen together within the
   cap (``domain/chairs.py`` ``match_chairs``); only if none fits, 1-4 again with them.

Grouping (:func:`form_groups`), when the office leaves projects without a ``group``:

* ``hand`` — the office's method: sort the projects by primary field code and cut the list into
  consecutive groups of the target size, then seat optimally.
* ``search`` (default) — start from the hand grouping; move and swap projects between groups
  while a proxy of the seated score rises (a group's proxy: the sum of the best
  ``panel_size`` seat weights W_eg among the experts who may sit there), then seat optimally.
  The proxy ignores the experts' limits across groups, so every move is confirmed at the end
  by the exact seating: the search result is kept only when it seats at least as well as the
  hand grouping (:func:`solve_meetings` seats both and keeps the better one).

The bound of a grouped batch (``grouping_bound``) is honest but loose: each project's best
``panel_size`` eligible scores summed (no grouping can give a project more reviewers, nor better
ones); ``report.json`` ``stats`` records it with the gaps of both groupings.

Scheduling (:func:`schedule`): with ``slots``, groups go to (slot, room) with at most ``rooms``
groups a slot, chosen greedily so that each group meets when most of its best seat candidates
can come (``availability.csv``); the seating then keeps availability and "one group a slot"
exactly. When the schedule can bind (availability given, or ``max_groups_per_expert > 1``) the
bound is taken from the seating without a schedule, so it holds whatever the schedule.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.meetings import (
    Group,
    conflicted,
    group_needs_chair,
    meeting_projects,
    recusals,
    reviewer_enterprise_needed,
    stage_key,
    unsupported,
)
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.problem import Problem
from expertmatch.domain.scoring import pair_scores
from expertmatch.errors import Clash, InfeasibleError, InputError, InputIssue, SolveError
from expertmatch.formulation.chair_columns import chair_columns_needed
from expertmatch.formulation.rows import Model
from expertmatch.formulation.seating import (
    CHAIR,
    PANEL,
    PANEL_CHAIR,
    SEAT,
    Seating,
    build_seating,
)
from expertmatch.result import Result
from expertmatch.solvers.backends import solve_lp
from expertmatch.solvers.params import Progress, SolveParams
from expertmatch.vocabulary import Rule, Status

log = logging.getLogger("expertmatch")

#: Seats per group in the first LP (by weight), beyond the panel size.
CORE_PER_GROUP = 12
#: Seats priced in per group and round, the largest reduced costs first.
PRICE_PER_GROUP = 20
#: A seat prices in when its reduced cost exceeds this (whole score units).
PRICE_TOL = 1e-6
#: Margin against LP round-off when fixing by reduced cost (whole score units).
FIX_MARGIN = 0.5
#: Cost of one unit of artificial shortfall, in multiples of the largest weight.
PENALTY = 100.0
#: Groups a project's move or swap is tried with in the grouping search (nearest first).
NEAR_GROUPS = 8
#: Grouping methods.
GROUPINGS = ("search", "hand")


@dataclass(frozen=True)
class Seated:
    """The exact seating of given groups: the chosen columns, objective and proven bound
    (whole score units), and whether it is proven optimal."""

    seating: Seating
    chosen: np.ndarray
    objective: int
    bound: int
    price: np.ndarray | None = None
    """Per expert, the LP's price of one more seat (the duals of their load and seat rows,
    whole score units): what the grouping search charges for a seat."""
    panel_chairs: dict[int, int] | None = None
    """The per-project panels' chairs (project -> expert), when chosen after the seating."""
    group_chairs: dict[int, int] | None = None
    """The groups' chairs (group index -> expert), when chosen after the seating."""

    @property
    def optimal(self) -> bool:
        return self.bound <= self.objective


# -- 1-4: exact seating of given groups -------------------------------------------------------


def seat(
    problem: Problem,
    groups: Sequence[tuple[str, tuple[int, ...]]],
    deadline: float,
    slot_of: dict[int, str] | None = None,
    with_panels: bool = True,
    keep: set[tuple[int, int]] | None = None,
    panel_chairs: bool = False,
) -> Seated:
    """Seat ``groups`` optimally (with the batch's per-project panels when ``with_panels``);
    raises :class:`InfeasibleError` naming the group and rule when no seating exists.

    ``keep`` (reassign): (group, expert) seats and (-1 - project, expert) panel pairs of an
    earlier assignment; each kept one is worth more than every score together, so the
    seating keeps the most of them, then scores best (objective and bound then count both).

    One chair rule over groups and panels whose cap can bind: the seating is first solved
    without the panels' chair columns (the cap counts the groups' chairs only: a relaxation),
    then the chairs of its groups and panels are chosen again together within the cap (a
    b-matching); only when no such choice exists is it solved again with them
    (``panel_chairs``), exactly. Either way the answer keeps the whole rule and is optimal for
    it (the relaxation's optimum, when it admits chairs, is the optimum)."""
    panel = _panel_pairs(problem) if with_panels else None
    seating = build_seating(
        problem, groups, slot_of, panel, seat_rules=with_panels, panel_chairs=panel_chairs
    )
    if keep:
        seating = _with_keep_bonus(seating, keep)
    seated = seat_built(problem, seating, deadline)
    if panel is None or panel_chairs or not chair_columns_needed(problem):
        return seated
    chaired = _chairs_within_cap(problem, seated)
    if chaired is None:  # no choice of chairs fits the cap: the panels' chairs in the model
        return seat(problem, groups, deadline, slot_of, with_panels, keep, panel_chairs=True)
    return chaired


def seat_built(problem: Problem, seating: Seating, deadline: float) -> Seated:
    """The exact seating of a built model (steps 1-4; its weights may be the caller's, whole
    numbers: the random draw prices seatings with them)."""
    model = seating.model
    _first_line(problem, seating)
    active = _initial_columns(seating)
    z_lp, rc, x_lp, converged, pi = _priced_lp(problem, seating, active, deadline)
    core = active & ((x_lp > 1e-6) | _best_per_group(seating, rc, active, 3))
    found = _mip(model, core, deadline)
    if found is None:  # the core holds no seating: every active seat
        core = active
        found = _mip(model, core, deadline)
    if found is None and _proven_infeasible(model, np.ones(model.n_pairs, dtype=bool), deadline):
        raise InfeasibleError(_seat_rule_clashes(problem, seating, deadline, integral=True))
    if found is None:
        raise SolveError("no seating found within the time limit", Status.TIMEOUT)
    x, z_inc, mip_bound = found
    bound = math.floor(z_lp + 1e-6)
    if converged:
        can_improve = (z_lp + rc >= z_inc + 1 - FIX_MARGIN) | core
        if (can_improve & ~core).any() and time.perf_counter() < deadline:
            final = _mip(model, can_improve, deadline)
            if final is not None and final[1] >= z_inc:
                x, z_inc, mip_bound = final
                core = can_improve
        outside = ~core
        best_out = float((z_lp + rc[outside]).max()) if outside.any() else -math.inf
        bound = min(bound, max(mip_bound, math.floor(best_out + 1e-6)))
    return Seated(seating, x, z_inc, max(bound, z_inc), _seat_prices(problem, model, pi))


def _chairs_within_cap(problem: Problem, seated: Seated) -> Seated | None:
    """The seating (solved without the panels' chair columns) with the chairs of its groups
    and per-project panels chosen again together, each expert chairing at most
    ``max_per_expert`` of them (a maximum b-matching); None when they cannot all get one."""
    from expertmatch.domain.chairs import match_chairs, may_chair, needs_chair

    s, chosen = seated.seating, seated.chosen
    chair = problem.rules.chair
    assert chair is not None
    may = may_chair(problem)
    groups = [g for g, (_, ps) in enumerate(s.groups) if group_needs_chair(problem, ps)]
    unit: list[np.ndarray] = []
    expert: list[np.ndarray] = []
    for u, g in enumerate(groups):
        sat = s.expert[chosen & (s.kind == SEAT) & (s.group == g)]
        expert.append(sat[may[sat]])
        unit.append(np.full(expert[-1].size, u))
    projects = np.flatnonzero(needs_chair(problem) & ~problem.project_meeting)
    pairs = s.panel_pairs.take(chosen[s.kind == PANEL])
    ok = np.isin(pairs.project, projects) & may[pairs.expert]
    unit.append(len(groups) + np.searchsorted(projects, pairs.project[ok]))
    expert.append(pairs.expert[ok])
    score = np.concatenate(
        [
            np.zeros(sum(e.size for e in expert[:-1]), np.int64),
            s.model.weight[: len(s.panel_pairs)][chosen[s.kind == PANEL]][ok],
        ]
    )
    cap = np.full(problem.n_experts, chair.max_per_expert)
    picked = match_chairs(
        np.concatenate(unit), np.concatenate(expert), score, len(groups) + projects.size, cap
    )
    if (picked < 0).any():
        return None
    return replace(
        seated,
        group_chairs=dict(zip(groups, picked[: len(groups)].tolist(), strict=True)),
        panel_chairs=dict(zip(projects.tolist(), picked[len(groups) :].tolist(), strict=True)),
    )


def _with_keep_bonus(seating: Seating, keep: set[tuple[int, int]]) -> Seating:
    """The seating with a bonus on each column in ``keep`` larger than all weights together
    (lexicographic: the most kept columns first, then the score)."""
    model = seating.model
    key = np.where(
        seating.kind == PANEL,
        -1 - model.pairs.project,
        np.where(seating.kind == SEAT, seating.group, -(10**12)),
    )
    kept = np.array(
        [(int(k), int(e)) in keep for k, e in zip(key, seating.expert, strict=True)], dtype=bool
    )
    bonus = int(np.maximum(model.weight, 0).sum()) + 1
    weight = model.weight + bonus * kept
    return replace(seating, model=replace(model, weight=weight))


def _seat_prices(problem: Problem, model: Model, pi: np.ndarray) -> np.ndarray:
    """Per expert: minus the duals of their ``<=`` rows (seats, load, one group a slot)."""
    price = np.zeros(problem.n_experts)
    mine = (model.row_expert >= 0) & (pi < 0)
    np.add.at(price, model.row_expert[mine], -pi[mine])
    return price


def _panel_pairs(problem: Problem) -> Pairs | None:
    """The eligible pairs of the per-project panels of a mixed batch (None: no panel)."""
    if problem.project_meeting.all():
        return None
    pairs = eligible_pairs(problem)
    return pairs.take(~problem.project_meeting[pairs.project])


def _first_line(problem: Problem, seating: Seating) -> None:
    """A row no choice of seats can satisfy, named with its figures: a group that cannot be
    staffed (too few experts who may sit in it, too few reviewers or enterprise reviewers for
    one of its projects, nobody to cover one of its fields)."""
    model = seating.model
    sizes = np.diff(model.A.indptr)
    short = np.flatnonzero((model.lb > sizes + 1e-9) & (model.lb > 0))
    clashes = []
    seat_rule = _seat_rule_mask(seating)
    for r in short[:20].tolist():
        if seat_rule[r]:
            why = f"only {sizes[r]} possible seats and panel pairs count for it"
            clashes.append(_seat_rule_clash(problem, seating, r, why))
            continue
        g, p = int(seating.row_group[r]), int(model.row_project[r])
        rule = str(model.row_rule[r])
        where = f"group {seating.groups[g][0]}" if g >= 0 else "a panel"
        what = {
            Rule.PANEL_SIZE: "experts who may sit in it",
            Rule.MIN_REVIEWERS: "seat candidates without a conflict",
            Rule.ENTERPRISE_SHARE: "enterprise experts who may count",
            Rule.COVERAGE: "experts covering one of its fields",
        }.get(model.row_rule[r], "experts who count for it")
        about = f", project {problem.project_ids[p]}" if p >= 0 else ""
        clashes.append(
            Clash(
                rule,
                f"{where}{about} cannot be staffed: {rule} needs {model.lb[r]:g} but there "
                f"are only {sizes[r]} {what}",
                tuple(problem.project_ids[q] for q in seating.groups[g][1]) if g >= 0 else (),
                suggestion="regroup its projects, lower min_reviewers, or widen the expert pool",
            )
        )
    if clashes:
        raise InfeasibleError(clashes)


def _initial_columns(seating: Seating) -> np.ndarray:
    """Per group its ``panel_size + CORE_PER_GROUP`` best seats and every chair column of
    those; per per-project panel as many of its best pairs and, with panel chair columns,
    the chair columns of its three best active pairs who may chair; each reviewer row's best
    few. The others are priced in."""
    w, kind, group = seating.model.weight, seating.kind, seating.group
    project = seating.model.pairs.project
    k = CORE_PER_GROUP + int(
        seating.model.lb[seating.model.row_rule == Rule.PANEL_SIZE].max(initial=0)
    )
    active = _best_by(np.flatnonzero(kind == SEAT), group, w, k, kind.size)
    active |= _best_by(np.flatnonzero(kind == PANEL), project, w, k, kind.size)
    active |= _row_helpers(seating)
    chairs = np.flatnonzero(kind == PANEL_CHAIR)
    if chairs.size:
        assert seating.link is not None
        sits = chairs[active[seating.link[chairs]]]
        active |= _best_by(sits, project, w[seating.link], 3, kind.size)
    chosen = set(
        zip(
            group[active & (kind == SEAT)].tolist(),
            seating.expert[active & (kind == SEAT)].tolist(),
            strict=True,
        )
    )
    chairs = np.flatnonzero(kind == CHAIR)
    active[chairs] = [
        (int(g), int(e)) in chosen
        for g, e in zip(group[chairs], seating.expert[chairs], strict=True)
    ]
    return active


def _best_by(cols: np.ndarray, key: np.ndarray, w: np.ndarray, k: int, n: int) -> np.ndarray:
    """Among the columns ``cols``, the ``k`` of highest ``w`` for each value of ``key``
    (a mask over ``n`` columns)."""
    order = cols[np.lexsort((-w[cols], key[cols]))]
    rank = np.arange(order.size) - np.searchsorted(key[order], key[order])
    out = np.zeros(n, dtype=bool)
    out[order[rank < k]] = True
    return out


def _row_helpers(seating: Seating) -> np.ndarray:
    """For each ``>=`` row (reviewers, enterprise, coverage, quota), its three best seats or
    panel pairs: the first LP can then meet every row without the artificial columns, in most
    batches."""
    model = seating.model
    A = model.A.tocsr()
    out = np.zeros(model.n_pairs, dtype=bool)
    w = model.weight
    for r in np.flatnonzero(model.lb > 0).tolist():
        cols = A.indices[A.indptr[r] : A.indptr[r + 1]]
        if cols.size:
            out[cols[np.argsort(-w[cols], kind="stable")[:3]]] = True
    return out & ((seating.kind == SEAT) | (seating.kind == PANEL))


def _sub_model(model: Model, cols: np.ndarray) -> Model:
    """The model over the columns ``cols`` (indices)."""
    return replace(
        model, pairs=model.pairs.take(cols), A=model.A[:, cols].tocsr(), weight=model.weight[cols]
    )


def _priced_lp(
    problem: Problem, seating: Seating, active: np.ndarray, deadline: float
) -> tuple[float, np.ndarray, np.ndarray, bool, np.ndarray]:
    """The LP over ``active`` (grown in place by pricing): its value, every column's reduced
    cost, its solution over all columns, and whether pricing converged (the value is then the
    LP bound of the whole model)."""
    model = seating.model
    AT = model.A.T.tocsr()
    penalty = PENALTY * float(max(1, int(model.weight.max(initial=1))))
    while True:
        cols = np.flatnonzero(active)
        lp = solve_lp(_sub_model(model, cols), deadline - time.perf_counter(), penalty)
        assert lp is not None  # artificial columns keep it feasible
        rc = model.weight + AT @ lp.pi
        x = np.zeros(model.n_pairs)
        x[cols] = lp.x
        new = ~active & (rc > PRICE_TOL)
        panel = (seating.kind == PANEL) | (seating.kind == PANEL_CHAIR)
        new &= _best_per_group(seating, rc, new, PRICE_PER_GROUP) | panel
        if not new.any() or time.perf_counter() >= deadline:
            break
        active |= new
        chairs = np.flatnonzero(seating.kind == CHAIR)
        active[chairs] |= rc[chairs] > PRICE_TOL
    gain = float(np.maximum(rc[~active], 0).sum())
    if lp.shortfall > 1e-6 and not gain:
        full = solve_lp(model, deadline - time.perf_counter())
        if full is None:
            raise InfeasibleError(_unstaffed_groups(problem, seating, deadline))
        return full.z, model.weight + AT @ full.pi, full.x, True, full.pi
    return lp.z + gain, rc, x, gain == 0, lp.pi


def _unstaffed_groups(problem: Problem, seating: Seating, deadline: float) -> list[Clash]:
    """Why no seating exists: the groups that cannot be staffed even alone (each group's own
    LP, the others ignored), named with their projects and fields; else the combination."""
    clashes = []
    for gid, projects in seating.groups:
        alone = build_seating(problem, [(gid, projects)], seat_rules=False)
        if alone.model.n_pairs and solve_lp(alone.model, max(deadline - time.perf_counter(), 1.0)):
            continue
        fields = sorted({f for p in projects for f in problem.project_fields[p]})
        clashes.append(
            Clash(
                Rule.GROUP,
                f"group {gid} cannot be staffed: no {problem.meeting.panel_size} seats from "
                f"{alone.model.n_pairs} possible experts keep every rule of its {len(projects)} "
                f"projects together (fields {', '.join(fields)})",
                tuple(problem.project_ids[p] for p in projects),
                suggestion="regroup these projects (fewer fields a group), raise panel_size or "
                "lower min_reviewers",
            )
        )
        if len(clashes) >= 20:
            break
    return clashes or _seat_rule_clashes(problem, seating, deadline)


def _seat_rule_mask(seating: Seating) -> np.ndarray:
    """The rows of the rules over all seats (the round's and the stages' enterprise targets,
    batch quotas)."""
    model = seating.model
    quota = model.row_quota if model.row_quota is not None else np.full(model.n_rows, -1)
    batch_quota = (model.row_rule == Rule.QUOTA) & (quota >= 0) & (model.row_project < 0)
    return (model.row_rule == Rule.ENTERPRISE_TARGET_SHARE) | (
        batch_quota & (seating.row_group < 0)
    )


def _seat_rule_clash(problem: Problem, seating: Seating, r: int, why: str) -> Clash:
    """The rule over all seats of row ``r``, named with its figures (meeting seats included),
    and why it cannot hold."""
    from expertmatch.diagnosis.clash import describe_seat_rule

    model = seating.model
    quota = int(model.row_quota[r]) if model.row_quota is not None else -1
    stage = int(model.row_stage[r]) if model.row_stage is not None else -1
    groups = [projects for _, projects in seating.groups]
    base = describe_seat_rule(problem, quota, stage, groups)
    return replace(base, message=f"{base.message}: {why}")


def _seat_rule_clashes(
    problem: Problem, seating: Seating, deadline: float, integral: bool = False
) -> list[Clash]:
    """Why no seating exists when every group can be staffed alone: the rules across the
    batch (each rule over all seats; the chair cap over groups and panels together) that
    cannot hold with every other rule, each tried alone with the others (the LP, or the MIP
    when ``integral``); else the combination of loads and seats."""
    model = seating.model
    seat_rule = _seat_rule_mask(seating)
    cap = (model.row_rule == Rule.CHAIR) & (model.row_expert >= 0)
    every = np.ones(model.n_pairs, dtype=bool)

    def fails(rows: np.ndarray) -> bool:
        sub = replace(model, A=model.A[rows], lb=model.lb[rows], ub=model.ub[rows])
        if integral:
            return _proven_infeasible(sub, every, deadline)
        return solve_lp(sub, max(deadline - time.perf_counter(), 1.0)) is None

    what = "the MIP" if integral else "the LP relaxation"
    across = seat_rule | cap
    if across.any() and not fails(~across):
        why = f"no seating keeps it with the other rules ({what})"
        found = [
            _seat_rule_clash(problem, seating, r, why)
            for r in np.flatnonzero(seat_rule).tolist()
            if fails(~across | (np.arange(model.n_rows) == r))
        ]
        if cap.any() and fails(~across | cap):
            found.append(_chair_cap_clash(problem, why))
        return found or [
            _seat_rule_clash(
                problem, seating, r, "it cannot hold with the other rules across the batch"
            )
            for r in np.flatnonzero(seat_rule).tolist()
        ] + ([_chair_cap_clash(problem, why)] if cap.any() else [])
    return [
        Clash(
            Rule.COMBINED,
            f"no seating of the meeting groups keeps every rule ({what} is infeasible), "
            "although each group can be staffed alone: the experts' seats and loads are too "
            "few for all groups together",
        )
    ]


def _chair_cap_clash(problem: Problem, why: str) -> Clash:
    """The chair rule's cap over meeting groups and per-project panels together."""
    chair = problem.rules.chair
    assert chair is not None
    who = f"{chair.attribute} in {', '.join(chair.values)}"
    return Clash(
        Rule.CHAIR,
        f"each meeting group and panel of the chair's stages needs a chair with {who}, and "
        f"one expert chairs at most {chair.max_per_expert} of them together: {why}",
        suggestion="raise the chair's max_per_expert or add experts who may chair",
    )


def _proven_infeasible(model: Model, cols_mask: np.ndarray, deadline: float) -> bool:
    """Does HiGHS prove that no 0/1 point over the columns in the mask keeps every row
    (within the time left)?"""
    from scipy.optimize import LinearConstraint, milp

    cols = np.flatnonzero(cols_mask)
    left = deadline - time.perf_counter()
    if left <= 0:
        return False
    res = milp(
        -model.weight[cols].astype(float),
        integrality=np.ones(cols.size),
        bounds=(0, 1),
        constraints=LinearConstraint(model.A[:, cols].tocsr(), model.lb, model.ub),
        options={"time_limit": max(left, 1.0), "presolve": True},
    )
    return bool(res.status == 2)


def _best_per_group(seating: Seating, score: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """Among the columns in ``mask``, each group's ``k`` of highest ``score``."""
    cols = np.flatnonzero(mask)
    group = seating.group[cols]
    order = np.lexsort((-score[cols], group))
    ranked = cols[order]
    g = group[order]
    rank = np.arange(ranked.size) - np.searchsorted(g, g)
    out = np.zeros(mask.size, dtype=bool)
    out[ranked[rank < k]] = True
    return out


def _mip(
    model: Model, cols_mask: np.ndarray, deadline: float
) -> tuple[np.ndarray, int, int] | None:
    """HiGHS MIP over the columns in the mask (others at zero): the 0/1 vector over all
    columns, its objective and the MIP's proven bound (whole units); None without a solution."""
    from scipy.optimize import LinearConstraint, milp

    cols = np.flatnonzero(cols_mask)
    A = model.A[:, cols].tocsr()
    sizes = np.diff(A.indptr)
    rows = (sizes > 0) | (model.lb > 0)
    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    res = milp(
        -model.weight[cols].astype(float),
        integrality=np.ones(cols.size),
        bounds=(0, 1),
        constraints=LinearConstraint(A[rows], model.lb[rows], model.ub[rows]),
        options={"time_limit": max(left, 1.0), "mip_rel_gap": 0.0, "presolve": True},
    )
    if res.x is None:
        return None
    x = np.zeros(model.n_pairs, dtype=bool)
    x[cols] = res.x > 0.5
    z = int(model.weight[x].sum())
    dual = getattr(res, "mip_dual_bound", None)
    bound = z if res.status == 0 else math.floor(-dual + 1e-6) if dual is not None else 2**62
    return x, z, bound


# -- groups and the Result ------------------------------------------------------------------------


def _groups_of(
    problem: Problem, seated: Seated, slot_room: dict[int, tuple[str, int]]
) -> tuple[Group, ...]:
    """The Groups of a seating: panel, chair, recusals, slot and room."""
    s = seated.seating
    out = []
    for g, (gid, projects) in enumerate(s.groups):
        panel = tuple(sorted(s.expert[seated.chosen & (s.kind == SEAT) & (s.group == g)].tolist()))
        chair = s.expert[seated.chosen & (s.kind == CHAIR) & (s.group == g)]
        if seated.group_chairs is not None and g in seated.group_chairs:
            chair = np.array([seated.group_chairs[g]])
        slot, room = slot_room.get(g, ("", 0))
        out.append(
            Group(
                gid,
                tuple(projects),
                panel,
                int(chair[0]) if chair.size else -1,
                slot,
                room,
                recusals(problem, projects, panel),
            )
        )
    return tuple(out)


def reviewing_pairs(problem: Problem, groups: Sequence[Group]) -> Pairs:
    """Every reviewing pair of the groups (seated, no conflict) with its score."""
    bad = conflicted(problem)
    ps: list[int] = []
    es: list[int] = []
    for g in groups:
        for p in g.projects:
            for e in g.panel:
                if e not in bad.get(p, frozenset()):
                    ps.append(p)
                    es.append(e)
    project, expert = np.array(ps, dtype=np.int64), np.array(es, dtype=np.int64)
    score = pair_scores(problem, project, expert) if project.size else np.zeros(0)
    order = np.lexsort((expert, project))
    return Pairs(project[order], expert[order], score[order])


# -- grouping ---------------------------------------------------------------------------------


def _group_sizes(n: int, low: int, high: int) -> list[int] | None:
    """Sizes of the fewest groups of ``low`` to ``high`` projects that hold ``n``, as even as
    possible; None when no such split exists."""
    if n == 0:
        return []
    k = math.ceil(n / high)
    if k * low > n:
        return None
    base, extra = divmod(n, k)
    return [base + 1] * extra + [base] * (k - extra)


def _free_sets(problem: Problem) -> dict[str, list[int]]:
    """The meeting projects the solver groups, by what they must share (their stage when
    the rules differ by stage), each sorted by primary field code then id (the hand order)."""
    fixed = {p for ps in problem.fixed_groups.values() for p in ps}
    out: dict[str, list[int]] = {}
    for p in meeting_projects(problem).tolist():
        if p not in fixed:
            out.setdefault(stage_key(problem, p), []).append(p)
    for ps in out.values():
        ps.sort(key=lambda p: (problem.project_fields[p][:1], problem.project_ids[p]))
    return out


def hand_groups(problem: Problem) -> list[tuple[str, tuple[int, ...]]]:
    """The office's hand method: the fixed groups, then per stage the free projects sorted by
    primary field code, cut into consecutive groups of the target size."""
    low, high = problem.meeting.group_size
    groups = [(g, ps) for g, ps in problem.fixed_groups.items()]
    taken = set(problem.fixed_groups)
    n = 0
    for key, ps in _free_sets(problem).items():
        sizes = _group_sizes(len(ps), low, high)
        if sizes is None:
            raise InfeasibleError(
                [
                    Clash(
                        Rule.GROUP,
                        f"{len(ps)} meeting project(s){' of stage ' + key if key else ''} cannot "
                        f"be split into groups of {low} to {high} (meeting group_size)",
                        tuple(problem.project_ids[p] for p in ps),
                        suggestion="change group_size, or fix the groups in the group column",
                    )
                ]
            )
        at = 0
        for size in sizes:
            n += 1
            while f"M{n:03d}" in taken:
                n += 1
            groups.append((f"M{n:03d}", tuple(ps[at : at + size])))
            at += size
    return groups


def _weights(problem: Problem, projects: np.ndarray) -> np.ndarray:
    """Per project the integer weight of each expert as a reviewer (0 under a conflict or
    without capacity): W_eg of a group is the sum over its projects."""
    from expertmatch.domain.scoring import block_scores, score_unit
    from expertmatch.formulation.rows import integer_weights

    w = integer_weights(block_scores(problem, projects), score_unit(problem))
    bad = conflicted(problem)
    for i, p in enumerate(projects.tolist()):
        w[i, list(bad.get(p, ()))] = 0
    w[:, problem.expert_capacity == 0] = 0
    return w


def _proxy(w_group: np.ndarray, k: int) -> int:
    """A group's proxy value: the sum of its ``k`` best seat weights."""
    if w_group.size <= k:
        return int(w_group.sum())
    return int(np.partition(w_group, -k)[-k:].sum())


@dataclass
class _Search:
    """The state of the grouping search: each free group's projects, the sum of their weight
    rows (``sums[g]`` = W_.g over all experts), its proxy value and what its projects share."""

    members: dict[int, list[int]]
    sums: dict[int, np.ndarray]
    value: dict[int, int]
    keys: dict[int, str]
    w: np.ndarray
    row: dict[int, int]
    sizes: tuple[int, int]
    k: int
    price: np.ndarray
    """Charged per seat, per expert (zeros: the plain proxy)."""
    top: dict[int, np.ndarray] = field(default_factory=dict)
    """Each group's ``k`` best experts by weight (its proxy panel)."""

    def __post_init__(self) -> None:
        for g in self.members:
            self.value[g] = self.proxy(self.sums[g])
            self.top[g] = _top(self.sums[g] - self.price, self.k)

    def proxy(self, sums: np.ndarray) -> int:
        """A group's proxy: its best ``k`` seat weights less their price."""
        return _proxy(sums - self.price, self.k)

    def near(self, p: int, a: int) -> list[int]:
        """The ``NEAR_GROUPS`` groups whose proxy panels suit project ``p`` best (the only
        ones a move of ``p`` is tried with: a far group cannot gain from it)."""
        wp = self.w[self.row[p]]
        others = [b for b in self.members if b != a and self.keys[b] == self.keys[a]]
        others.sort(key=lambda b: (-int(wp[self.top[b]].sum()), b))
        return others[:NEAR_GROUPS]

    def gain(self, a: int, b: int, out_a: np.ndarray, in_b: np.ndarray) -> int:
        return self.proxy(out_a) + self.proxy(in_b) - self.value[a] - self.value[b]

    def best_move(self, p: int, a: int) -> bool:
        """Apply the best improving move or swap of project ``p`` out of group ``a``."""
        low, high = self.sizes
        wp = self.w[self.row[p]]
        best: tuple[int, int, int] = (0, -1, -1)
        out_a = self.sums[a] - wp
        for b in self.near(p, a):
            if len(self.members[a]) > low and len(self.members[b]) < high:
                gain = self.gain(a, b, out_a, self.sums[b] + wp)
                if gain > best[0]:
                    best = (gain, b, -1)
            for q in self.members[b]:
                wq = self.w[self.row[q]]
                gain = self.gain(a, b, out_a + wq, self.sums[b] - wq + wp)
                if gain > best[0]:
                    best = (gain, b, q)
        _, b, q = best
        if b < 0:
            return False
        self.shift(p, a, b)
        if q >= 0:
            self.shift(q, b, a)
        return True

    def shift(self, p: int, a: int, b: int) -> None:
        """Move project ``p`` from group ``a`` to group ``b``."""
        wp = self.w[self.row[p]]
        self.members[a].remove(p)
        self.members[b].append(p)
        self.sums[a] = self.sums[a] - wp
        self.sums[b] = self.sums[b] + wp
        for g in (a, b):
            self.value[g] = self.proxy(self.sums[g])
            self.top[g] = _top(self.sums[g] - self.price, self.k)


def _top(weights: np.ndarray, k: int) -> np.ndarray:
    """The indices of the ``k`` largest weights."""
    if weights.size <= k:
        return np.arange(weights.size)
    return np.argpartition(weights, -k)[-k:]


def search_groups(
    problem: Problem,
    start: list[tuple[str, tuple[int, ...]]],
    deadline: float,
    seed: int = 0,
    price: np.ndarray | None = None,
) -> list[tuple[str, tuple[int, ...]]]:
    """Local search from ``start``: move a project to another group (sizes kept within
    ``group_size``) or swap two projects, while the sum of the groups' proxies rises
    (best move of each project in turn, projects in a seeded random order, until no move
    improves or the deadline passes); fixed groups stay as they are. ``price`` (per expert,
    from a seating's LP) is charged per seat: the proxy then counts what an expert is worth
    beyond what the other groups would pay for them (a Lagrangian view of the seat limits)."""
    fixed = set(problem.fixed_groups)
    free = [i for i, (g, _) in enumerate(start) if g not in fixed]
    if len(free) < 2:
        return start
    members = {i: list(start[i][1]) for i in free}
    projects = np.array(sorted(p for i in free for p in members[i]), dtype=np.int64)
    row = {p: r for r, p in enumerate(projects.tolist())}
    w = _weights(problem, projects)
    useful = w.sum(axis=0) > 0  # only the experts who could review one of these projects
    w = w[:, useful]
    sums = {i: w[[row[p] for p in members[i]]].sum(axis=0) for i in free}
    k = problem.meeting.panel_size
    state = _Search(
        members,
        sums,
        {},
        {i: stage_key(problem, members[i][0]) for i in free},
        w,
        row,
        problem.meeting.group_size,
        k,
        np.zeros(w.shape[1]) if price is None else price[useful],
    )
    group_of = {p: i for i in free for p in members[i]}
    rng = np.random.default_rng(seed)
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for p in rng.permutation(projects).tolist():
            if time.perf_counter() >= deadline:
                break
            if state.best_move(p, group_of[p]):
                improved = True
                group_of = {q: i for i in free for q in members[i]}
    out = list(start)
    for i in free:
        out[i] = (start[i][0], tuple(sorted(members[i], key=lambda p: problem.project_ids[p])))
    return out


def grouping_bound(problem: Problem) -> int:
    """An upper bound on any grouping and seating (whole score units): per meeting project,
    the best ``panel_size`` reviewers of which at most ``panel_size - need`` are not
    enterprise experts (``need``: its enterprise reviewers), summed. Its reviewers are among
    its group's ``panel_size`` seats and at least ``need`` of them are enterprise experts, so
    no grouping gives it more; recusals, shared experts and loads only lower it."""
    projects = meeting_projects(problem)
    k = problem.meeting.panel_size
    ent = problem.expert_enterprise
    total = 0
    for lo in range(0, projects.size, 200):
        block = projects[lo : lo + 200]
        w = _weights(problem, block)
        top_ent = np.cumsum(-np.sort(-w[:, ent], axis=1)[:, :k], axis=1)
        top_non = np.cumsum(-np.sort(-w[:, ~ent], axis=1)[:, :k], axis=1)
        zero = np.zeros((block.size, 1), dtype=np.int64)
        top_ent = np.hstack([zero, _pad(top_ent, k)])
        top_non = np.hstack([zero, _pad(top_non, k)])
        for i, p in enumerate(block.tolist()):
            cap = k - reviewer_enterprise_needed(problem, p)
            total += max(int(top_non[i, t] + top_ent[i, k - t]) for t in range(cap + 1))
    return total


def _pad(cumulative: np.ndarray, k: int) -> np.ndarray:
    """Cumulative sums padded to ``k`` columns with their last value (fewer than k experts:
    the rest add nothing)."""
    if cumulative.shape[1] >= k:
        return cumulative
    last = cumulative[:, -1:] if cumulative.shape[1] else np.zeros((cumulative.shape[0], 1))
    pad = np.repeat(last, k - cumulative.shape[1], axis=1)
    return np.hstack([cumulative, pad]).astype(np.int64)


# -- reassign: a seated expert declines ------------------------------------------------------------


def previous_groups(
    problem: Problem, frame: pd.DataFrame
) -> tuple[list[tuple[str, tuple[int, ...]]], dict[int, tuple[str, int]], set[tuple[int, int]]]:
    """From an earlier assignment table (with its ``group``, ``slot`` and ``room`` columns):
    the groups, their (slot, room) and the kept-seat keys (group index, expert) and
    (-1 - project, expert) for its per-project panel pairs."""
    if "group" not in frame.columns:
        raise InputError(
            [
                InputIssue(
                    "previous", "needs the group column of a meeting assignment", column="group"
                )
            ]
        )
    frame = frame.fillna("")
    members: dict[str, list[int]] = {}
    place: dict[str, tuple[str, int]] = {}
    seats: dict[str, set[int]] = {}
    panel: set[tuple[int, int]] = set()
    for row in frame.to_dict("records"):
        p = problem.project_index.get(str(row["project"]))
        e = problem.expert_index.get(str(row["expert"]))
        if p is None or e is None:
            raise InputError(
                [InputIssue("previous", f"unknown pair {row['project']}, {row['expert']}")]
            )
        g = str(row["group"]).strip()
        if not g:
            panel.add((-1 - p, e))
            continue
        if p not in members.setdefault(g, []):
            members[g].append(p)
        seats.setdefault(g, set()).add(e)
        room = str(row.get("room", "")).strip()
        place[g] = (str(row.get("slot", "")).strip(), int(float(room)) if room else 0)
    groups = [(g, tuple(sorted(ps))) for g, ps in members.items()]
    index = {g: i for i, (g, _) in enumerate(groups)}
    keep = {(index[g], e) for g, es in seats.items() for e in es} | panel
    slot_room = {index[g]: place[g] for g in members if place[g][0]}
    return groups, slot_room, keep


def reassign_meetings(
    problem: Problem, frame: pd.DataFrame, declines: int, params: SolveParams
) -> Result:
    """After declines (already in ``problem`` as conflicts): the earlier groups keep their
    projects, slots and rooms; the seating keeps the most earlier seats (and panel pairs),
    then scores best; exact (the MIP proves both). Every rule holds."""
    start = time.perf_counter()
    groups, slot_room, keep = previous_groups(problem, frame)
    slot_of = {g: s for g, (s, _) in slot_room.items()} if schedule_binds(problem) else None
    seated = seat(problem, groups, start + params.time_limit, slot_of, keep=keep)
    stats = {
        "method": "meetings reassign: most earlier seats kept, then the score (MIP)",
        **seat_changes(problem, groups, keep, chosen_keys(seated.seating, seated.chosen)),
        "declines": declines,
    }
    result = _result(problem, seated, slot_room, 0, stats, params, start)
    # the proof is of the order "most kept, then score": a score bound of its own is not kept
    status = Status.OPTIMAL if seated.optimal else Status.TIMEOUT
    return replace(result, status=status, bound=result.objective)


def seat_changes(
    problem: Problem,
    groups: Sequence[tuple[str, tuple[int, ...]]],
    keep: set[tuple[int, int]],
    chosen_keys: set[tuple[int, int]],
) -> dict[str, object]:
    """What a reassignment changed: earlier seats (and panel pairs) kept, and per group the
    experts removed and added (the stats ``reassign`` reports)."""
    changes = []
    for g, (gid, _) in enumerate(groups):
        before = {e for k, e in keep if k == g}
        after = {e for k, e in chosen_keys if k == g}
        if before != after:
            changes.append(
                {
                    "project": f"group {gid}",
                    "removed": sorted(problem.expert_ids[e] for e in before - after),
                    "added": sorted(problem.expert_ids[e] for e in after - before),
                }
            )
    kept = chosen_keys & keep
    return {
        "previous_pairs": len(keep),
        "kept_pairs": len(kept),
        "changed_pairs": len(keep) - len(kept),
        "changes": changes,
    }


def chosen_keys(seating: Seating, chosen: np.ndarray) -> set[tuple[int, int]]:
    """The (group, expert) seats and (-1 - project, expert) panel pairs chosen."""
    out = set()
    for j in np.flatnonzero(chosen).tolist():
        if seating.kind[j] == SEAT:
            out.add((int(seating.group[j]), int(seating.expert[j])))
        elif seating.kind[j] == PANEL:
            out.add((-1 - int(seating.model.pairs.project[j]), int(seating.expert[j])))
    return out


# -- scheduling -------------------------------------------------------------------------------


def schedule_binds(problem: Problem) -> bool:
    """Can the schedule change the best seating (availability given, or an expert allowed in
    several groups, who then must meet them in different slots)?"""
    rules = problem.meeting
    return bool(rules.slots) and (
        problem.availability is not None or rules.max_groups_per_expert > 1
    )


def schedule(
    problem: Problem, groups: Sequence[tuple[str, tuple[int, ...]]]
) -> dict[int, tuple[str, int]]:
    """Each group's (slot, room): at most ``rooms`` groups a slot; each group, hardest first
    (fewest available candidates in its best slot), goes to the slot where most of its best
    seat candidates can come, ties to the emptier slot, then the earlier one. Raises
    :class:`InfeasibleError` when the slots and rooms are too few, or when a group's best slot
    has fewer available experts than ``panel_size`` (named, with the figures)."""
    from expertmatch.formulation.seating import seat_candidates

    rules = problem.meeting
    slots, rooms, k = rules.slots, rules.rooms, rules.panel_size
    if not slots:
        return {}
    if len(groups) > len(slots) * rooms:
        raise InfeasibleError(
            [
                Clash(
                    Rule.SCHEDULE,
                    f"{len(groups)} meeting groups, but {len(slots)} slot(s) x {rooms} room(s) "
                    f"hold only {len(slots) * rooms}",
                    suggestion="add slots or rooms, or make the groups larger (group_size)",
                )
            ]
        )
    counts = np.zeros((len(groups), len(slots)), dtype=np.int64)
    for g, (_, projects) in enumerate(groups):
        experts, w = seat_candidates(problem, projects)
        best = experts[np.argsort(-w, kind="stable")[: k + CORE_PER_GROUP]]
        for s, slot in enumerate(slots):
            counts[g, s] = sum(problem.available(int(e), slot) for e in best)
    used = np.zeros(len(slots), dtype=np.int64)
    out: dict[int, tuple[str, int]] = {}
    for g in np.lexsort((np.arange(len(groups)), counts.max(axis=1))).tolist():
        open_slots = [s for s in range(len(slots)) if used[s] < rooms]
        s = max(open_slots, key=lambda s: (counts[g, s], -used[s], -s))
        used[s] += 1
        out[g] = (slots[s], int(used[s]))
    for g, (slot, _) in out.items():
        experts, _ = seat_candidates(problem, groups[g][1], slot)
        if experts.size < k:
            raise InfeasibleError(
                [
                    Clash(
                        Rule.AVAILABILITY,
                        f"group {groups[g][0]} meets in slot {slot}, where only {experts.size} "
                        f"expert(s) who may sit in it are available; panel_size is {k}",
                        tuple(problem.project_ids[p] for p in groups[g][1]),
                        suggestion="add experts' slots in availability.csv, or add a slot",
                    )
                ]
            )
    return out


# -- the whole meeting solve ------------------------------------------------------------------


def solve_meetings(
    problem: Problem,
    params: SolveParams | None = None,
    progress: Progress | None = None,
    grouping: str = "search",
) -> Result:
    """Group (where the office did not), schedule and seat the meeting projects, with the
    batch's per-project panels in the same model; see the module docstring."""
    params = params or SolveParams()
    if grouping not in GROUPINGS:
        raise ValueError(f"grouping must be one of {', '.join(GROUPINGS)}, not {grouping!r}")
    refused = unsupported(problem)
    if refused:
        raise InputError(
            [
                InputIssue("rules", f"not supported yet: {what}", column="meeting")
                for what in refused
            ]
        )
    start = time.perf_counter()
    deadline = start + params.time_limit
    hand = hand_groups(problem)
    free = len(hand) > len(problem.fixed_groups)
    searching = grouping == "search" and free
    # the hand grouping gets the whole time limit unless a search follows
    first_end = start + 0.25 * params.time_limit if searching else deadline
    results, failed = _try_seat(problem, "hand", hand, first_end, [])
    if searching:
        # Search on the plain proxy, seat; search again charging the seat prices of the LP of
        # the best seating so far, seat; keep the best seating of all.
        first = search_groups(problem, hand, start + 0.3 * params.time_limit, params.seed)
        if first != hand:
            results, failed = _try_seat(
                problem, "search", first, start + 0.55 * params.time_limit, results, failed
            )
        if results:
            base = max(results, key=lambda r: r[3].objective)
            again = search_groups(
                problem, base[1], start + 0.75 * params.time_limit, params.seed, base[3].price
            )
            if all(again != r[1] for r in results):
                results, failed = _try_seat(problem, "search", again, deadline, results, failed)
    if not results:
        assert failed is not None
        raise failed
    if progress is not None:
        for name, _, _, seated in results:
            unit = seated.seating.model.unit
            progress(f"seated the {name} grouping", seated.objective * unit, None)
    name, groups, slot_room, best = max(results, key=lambda r: (r[3].objective, r[0] == "hand"))
    unit = best.seating.model.unit
    bound = best.bound
    if free:  # any grouping: each project's best possible reviewers
        bound = max(best.objective, grouping_bound(problem) + _panel_bound(problem))
    elif schedule_binds(problem):
        bound = max(best.objective, _unscheduled_bound(problem, groups, deadline))
    hand_failed = free and not any(r[0] == "hand" for r in results)
    stats = {
        "method": "meetings: priced LP + HiGHS MIP",
        "grouping": name if free else "fixed",
        "groups": len(groups),
        **{
            f"objective_{kind}": max(r[3].objective for r in results if r[0] == kind) * unit
            for kind in ("hand", "search")
            if any(r[0] == kind for r in results)
        },
        **({"grouping_bound": grouping_bound(problem) * unit} if free else {}),
        **({"hand": f"cannot be seated: {failed.clashes[0]}"} if hand_failed and failed else {}),
    }
    return _result(problem, best, slot_room, bound, stats, params, start)


Tried = tuple[str, list[tuple[str, tuple[int, ...]]], dict[int, tuple[str, int]], Seated]


def _try_seat(
    problem: Problem,
    name: str,
    groups: list[tuple[str, tuple[int, ...]]],
    deadline: float,
    results: list[Tried],
    failed: InfeasibleError | None = None,
) -> tuple[list[Tried], InfeasibleError | None]:
    """Seat one grouping and add it to ``results``; a grouping that cannot be seated is kept
    as ``failed`` (the first such error: raised if no grouping can be seated)."""
    try:
        return [*results, _seat_grouping(problem, name, groups, deadline)], failed
    except InfeasibleError as err:
        return results, failed or err


def _seat_grouping(
    problem: Problem,
    name: str,
    groups: list[tuple[str, tuple[int, ...]]],
    deadline: float,
) -> tuple[str, list[tuple[str, tuple[int, ...]]], dict[int, tuple[str, int]], Seated]:
    """Schedule and seat one grouping (by ``deadline``, at least one second)."""
    slot_room = schedule(problem, groups)
    slot_of = {g: s for g, (s, _) in slot_room.items()} if schedule_binds(problem) else None
    end = max(deadline, time.perf_counter() + 1.0)
    return name, groups, slot_room, seat(problem, groups, end, slot_of)


def _panel_bound(problem: Problem) -> int:
    """A bound on the per-project panels of a mixed batch: each panel project's best
    ``panel_size`` eligible scores (whole units)."""
    from expertmatch.domain.scoring import score_unit
    from expertmatch.formulation.rows import integer_weights

    pairs = _panel_pairs(problem)
    if pairs is None:
        return 0
    w = integer_weights(pairs.score, score_unit(problem))
    total = 0
    for p in np.unique(pairs.project).tolist():
        mine = np.sort(w[pairs.project == p])
        total += int(mine[-int(problem.project_panel_size[p]) :].sum())
    return total


def _unscheduled_bound(
    problem: Problem, groups: Sequence[tuple[str, tuple[int, ...]]], deadline: float
) -> int:
    """The LP bound of the seating without a schedule (nor the panels' chair columns, a
    relaxation too): it holds whatever the schedule."""
    seating = build_seating(problem, groups, None, _panel_pairs(problem), panel_chairs=False)
    z, _, _, _, _ = _priced_lp(problem, seating, _initial_columns(seating), deadline)
    return math.floor(z + 1e-6)


def _result(
    problem: Problem,
    seated: Seated,
    slot_room: dict[int, tuple[str, int]],
    bound: int,
    stats: dict[str, object],
    params: SolveParams,
    start: float,
) -> Result:
    """The Result: reviewing pairs and panel pairs, the groups, the panel chairs."""
    from expertmatch.domain.chairs import choose_chairs
    from expertmatch.domain.pairs import concat

    s = seated.seating
    missing: list[int]
    groups = _groups_of(problem, seated, slot_room)
    reviewing = reviewing_pairs(problem, groups)
    panel = s.panel_pairs
    chosen_panel = panel.take(seated.chosen[s.kind == PANEL]) if len(panel) else panel
    pairs = concat(
        [
            (reviewing.project, reviewing.expert, reviewing.score),
            (chosen_panel.project, chosen_panel.expert, chosen_panel.score),
        ]
    )
    if seated.panel_chairs is not None:  # chosen within the cap the groups' chairs left
        chairs, missing = dict(seated.panel_chairs), []
    elif (s.kind == PANEL_CHAIR).any():  # the chair cap can bind: the model chose the chairs
        picked = seated.chosen & (s.kind == PANEL_CHAIR)
        chairs = dict(
            zip(s.model.pairs.project[picked].tolist(), s.expert[picked].tolist(), strict=True)
        )
        missing = []
    else:  # within the cap whatever the choice: the best-scoring members who may chair
        chairs, missing = choose_chairs(problem, chosen_panel)
    missing = [p for p in missing if not problem.project_meeting[p]]
    if missing:
        raise InfeasibleError(
            [
                Clash(
                    Rule.CHAIR,
                    "no member can chair these panels",
                    tuple(problem.project_ids[p] for p in missing),
                )
            ]
        )
    unit = s.model.unit
    status = Status.OPTIMAL if seated.objective >= bound else Status.FEASIBLE
    return Result.build(
        problem,
        pairs,
        status=status,
        objective=float(np.round(pairs.score.sum(), 6)),
        bound=bound * unit,
        time_s=time.perf_counter() - start,
        seed=params.seed,
        stats={**stats, "objective_units": seated.objective},
        chairs=chairs,
        groups=groups,
    )

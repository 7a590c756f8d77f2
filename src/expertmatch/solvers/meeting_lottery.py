"""Random draw for meeting groups (会评): the ``max_probability`` rule over seats.

**What the cap means in a meeting.** A meeting project p is reviewed by the panel seated in its
group g. With ``max_probability < 1`` every expert e is **seated in g** with probability at most
``cap_g``, the least ``max_probability`` of g's projects (a group's projects share one stage,
so in practice one cap). Since e reviews p only when seated in g, no reviewing pair (e, p) is
more likely than its project's cap either. **A recused seat counts** (``recusal = "recuse"``):
an expert seated in g who steps out for one project is still seated for the group -- in the
room for its other projects and its discussion, the seat an outsider would lobby for -- so the
draw caps the seat, not only the reviews; with ``"exclude"`` nobody sits with a conflict and
the question does not arise. The chair is capped through the seat (a chair is seated). In a
mixed batch, each pair of a per-project panel is at most its project's cap, as in
:mod:`expertmatch.solvers.lottery`, and both are drawn together (one draw, the experts' loads
and yearly caps shared).

**Groups.** The draw is over seatings of groups fixed before it: the office's groups as given;
projects without a group are grouped **once**, by the deterministic solve
(:func:`expertmatch.solvers.meetings.solve_meetings`, seed 0, the cap ignored), whose groups,
slots and rooms are kept (within ``GROUPING_SHARE`` of the time limit; the grouping search
stops at its deadline, so on a batch too large for it to settle in that time the groups, and
so the lottery, can depend on the machine's speed, as any timed-out solve does). The grouping
is not random; only the seats are.

**Method** (like the per-project lottery's point 3, with whole seatings as the columns):

1. The first column is the deterministic optimal seating of the groups (its diagnosis is
   raised when the groups cannot be seated at all). The capped LP (the seating model's LP with
   each seat and panel pair at most its cap) bounds the expected score; when it is infeasible,
   an :class:`InfeasibleError` names the groups (or panel projects) with too few candidates for
   the cap (rule ``max_probability``).
2. Column generation, by the per-project lottery's machinery
   (:class:`expertmatch.solvers.lottery.CapColumnGeneration`) with whole seatings as the
   columns. The master chooses weights ``lambda_i`` on valid seatings ``S_i``, maximising
   ``sum_i lambda_i W(S_i)`` with ``sum_i lambda_i = 1`` and ``sum_i lambda_i S_ij <= cap_j``
   for every capped seat and pair j. It keeps one row per group of seats lying in the same
   seatings and runs in two phases (least excess over the caps, then the best score keeping
   them); its duals are shared over a group's seats in proportion to the capped LP's cap
   duals. The columns start from the optimal seating and ``ceil(1 / cap)`` seatings avoiding
   its seats and each other's (mixed evenly, they keep every cap, so a capped lottery exists
   from the first round), then the best seating at the capped LP's cap duals; each priced
   seating brings partners avoiding its seats. (The single master before, with a priced
   excess over each seat, never closed the excess at 1,000 x 3,000: each new seating, priced
   near the optimum, met the seats of the others; see benchmarks/RESULTS.md.) A new seating
   is priced by the exact seating solver (:func:`expertmatch.solvers.meetings.seat_built`)
   with weights ``W_j - mu_j`` (``mu`` the cap rows' duals; smoothed towards the duals of
   the best Lagrangian bound so far), scaled to whole numbers; the scaling's rounding is
   added to the pricing's bound. The Lagrangian bound ``cap . mu + max_S (W - mu).S`` and
   the capped LP's give the proven bound.
3. The draw picks ``S_i`` with probability ``lambda_i`` from ``numpy.random.default_rng(seed)``:
   the same seed gives the same seating. The lottery itself does not depend on the seed.

Every column is a valid seating (the exact solver keeps every rule), so every draw passes
``verify``. When the time limit stops the column generation, the best master of the rounds so
far that keeps the cap is the lottery (its gap reported, status ``timeout``); if no round kept
the cap, it is a :class:`SolveError` -- never an uncapped answer. If no mixture of valid
seatings keeps the cap (proved: no column can improve a master that still exceeds it), an
:class:`InfeasibleError` says so.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace

import numpy as np

from expertmatch.domain.meetings import conflicted, unsupported
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.problem import Problem
from expertmatch.errors import (
    Clash,
    InfeasibleError,
    InputError,
    InputIssue,
    InternalError,
    SolveError,
)
from expertmatch.formulation.seating import CHAIR, PANEL, SEAT, Seating, build_seating
from expertmatch.result import Result
from expertmatch.solvers.backends import solve_lp
from expertmatch.solvers.lottery import (
    CAP_TOL,
    PRICE_TOL,
    CapColumnGeneration,
    _MasterSolution,
)
from expertmatch.solvers.meetings import (
    Seated,
    _panel_pairs,
    _result,
    schedule,
    schedule_binds,
    seat_built,
    solve_meetings,
)
from expertmatch.solvers.params import SolveParams
from expertmatch.vocabulary import Rule, Status

log = logging.getLogger("expertmatch")

#: Largest pricing weight after scaling: the seating MIP stays well inside double precision.
WEIGHT_LIMIT = 1e7
#: Most score-unit subdivisions a pricing weight keeps (the scale when the duals are small).
MAX_SCALE = 1e4
#: Share of the time limit one pricing may take (at least 1 s; doubled when it finds nothing).
PRICE_SHARE = 0.1
#: Share of the time limit the deterministic solve that forms free groups may take.
GROUPING_SHARE = 0.3
#: ``stats["method"]`` of a meeting draw.
METHOD = "meeting draw: column generation over valid seatings (two-phase master, exact seating)"


@dataclass(frozen=True)
class MeetingLottery:
    """A distribution over valid seatings of fixed groups that keeps every cap.

    ``columns[i]`` (column indices of ``seating``) is drawn with probability ``weights[i]``;
    ``x`` is each column's probability (seats, chairs, panel pairs); ``bound`` a proven upper
    bound on the expected score (score units)."""

    problem: Problem
    seating: Seating
    slot_room: dict[int, tuple[str, int]]
    caps: np.ndarray
    columns: tuple[np.ndarray, ...]
    weights: np.ndarray
    x: np.ndarray
    expected_objective: float
    bound: float
    status: str
    time_s: float
    stats: dict[str, object]

    @property
    def cap(self) -> float:
        """The cap ``report.json`` records: the largest cap below 1 (the batch's rule)."""
        capped = self.caps[self.caps < 1]
        return float(capped.max()) if capped.size else self.problem.rules.max_probability

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One seating: a 0/1 vector over the seating's columns."""
        i = int(rng.choice(len(self.columns), p=self.weights))
        chosen = np.zeros(self.seating.model.n_pairs, dtype=bool)
        chosen[self.columns[i]] = True
        return chosen

    def probabilities(self) -> Pairs:
        """Each reviewing pair's probability: its seat's (for every project of the group the
        expert has no conflict with), and each panel pair's own."""
        s, bad = self.seating, conflicted(self.problem)
        ps: list[int] = []
        es: list[int] = []
        xs: list[float] = []
        for j in np.flatnonzero((self.x > 0) & (s.kind != CHAIR)).tolist():
            e = int(s.expert[j])
            if s.kind[j] == PANEL:
                ps.append(int(s.model.pairs.project[j]))
                es.append(e)
                xs.append(float(self.x[j]))
                continue
            for p in s.groups[int(s.group[j])][1]:
                if e not in bad.get(p, frozenset()):
                    ps.append(p)
                    es.append(e)
                    xs.append(float(self.x[j]))
        return Pairs(np.array(ps, np.int64), np.array(es, np.int64), np.array(xs))

    def sample(self, seed: int, params: SolveParams) -> Result:
        """Draw one seating (reproducible from ``seed``) as a Result."""
        return self.result(self.draw(np.random.default_rng(seed)), seed, params)

    def result(self, chosen: np.ndarray, seed: int, params: SolveParams) -> Result:
        """The seating ``chosen`` (0/1 over the columns) as the Result of a draw with
        ``seed``: its groups and pairs, the lottery's expected score, bound and marginals."""
        start = time.perf_counter()
        model = self.seating.model
        value = int(model.weight[chosen].sum())
        seated = Seated(self.seating, chosen, value, value)
        result = _result(
            self.problem,
            seated,
            self.slot_room,
            math.floor(self.bound / model.unit + 1e-6),
            self.stats,
            replace(params, seed=seed),
            start,
        )
        return replace(
            result,
            status=self.status,
            bound=self.bound,
            time_s=self.time_s + time.perf_counter() - start,
            expected_objective=self.expected_objective,
            max_probability=self.cap,
            probabilities=self.probabilities(),
        )


def draw_meetings(
    problem: Problem, params: SolveParams, seed: int, grouping: str = "search"
) -> Result:
    """One random draw for a batch with meeting projects (``max_probability < 1``): the
    capped lottery of best expected score (module docstring), then the seating drawn with
    ``seed``; ``grouping``: how free projects are grouped (as in ``solve_meetings``)."""
    return meeting_lottery(problem, params, grouping).sample(seed, params)


def meeting_lottery(
    problem: Problem, params: SolveParams, grouping: str = "search"
) -> MeetingLottery:
    """The lottery over seatings of the batch's groups; see the module docstring. Raises
    :class:`InfeasibleError` when no lottery of valid seatings keeps the cap, and
    :class:`SolveError` when none was found in time."""
    refused = unsupported(problem, drawing=True)
    if refused:
        raise InputError(
            [InputIssue("rules", f"not supported yet: {w}", column="meeting") for w in refused]
        )
    start = time.perf_counter()
    groups, slot_room = _groups(problem, params, start, grouping)
    slot_of = {g: s for g, (s, _) in slot_room.items()} if schedule_binds(problem) else None
    seating = build_seating(problem, groups, slot_of, _panel_pairs(problem))
    caps = _column_caps(problem, seating)
    return _ColumnGeneration(problem, seating, slot_room, caps, params, start).run()


def _groups(
    problem: Problem, params: SolveParams, start: float, grouping: str = "search"
) -> tuple[list[tuple[str, tuple[int, ...]]], dict[int, tuple[str, int]]]:
    """The groups the draw seats, with their (slot, room): the office's fixed groups; free
    projects grouped once by the deterministic solve of the uncapped batch (seed 0)."""
    fixed = {p for ps in problem.fixed_groups.values() for p in ps}
    free = any(p not in fixed for p in np.flatnonzero(problem.project_meeting).tolist())
    if not free:
        groups = list(problem.fixed_groups.items())
        return groups, schedule(problem, groups)
    rules = problem.rules
    stages = {s: replace(r, max_probability=None) for s, r in rules.stage.items()}
    uncapped = problem.with_rules(replace(rules, max_probability=1.0, stage=stages))
    limit = max(1.0, GROUPING_SHARE * params.time_limit - (time.perf_counter() - start))
    solved = solve_meetings(uncapped, replace(params, seed=0, time_limit=limit), None, grouping)
    groups = [(g.id, g.projects) for g in solved.groups]
    slot_room = {i: (g.slot, g.room) for i, g in enumerate(solved.groups) if g.slot}
    return groups, slot_room


def _column_caps(problem: Problem, seating: Seating) -> np.ndarray:
    """Each column's cap: a seat's is its group's least project cap, a panel pair's its
    project's; a chair's is 1 (capped through its seat)."""
    caps = np.ones(seating.model.n_pairs)
    project_cap = problem.project_max_probability.astype(float)
    group_cap = np.array([project_cap[list(ps)].min() for _, ps in seating.groups] or [1.0])
    seat = seating.kind == SEAT
    caps[seat] = group_cap[seating.group[seat]]
    panel = seating.kind == PANEL
    caps[panel] = project_cap[seating.model.pairs.project[panel]]
    return caps


def _capped_clashes(problem: Problem, seating: Seating, caps: np.ndarray) -> list[Clash]:
    """Groups (and panel projects) whose candidates are too few to keep each at most ``cap``
    likely: a panel of k from n candidates seats someone with probability >= k / n; likewise
    each project's reviewers, and the enterprise seats."""
    out = []
    k = problem.meeting.panel_size
    bad = conflicted(problem)
    for g, (gid, projects) in enumerate(seating.groups):
        cols = np.flatnonzero((seating.kind == SEAT) & (seating.group == g))
        if not cols.size:
            continue
        cap = float(caps[cols].min())
        experts = seating.expert[cols]
        counts = [(k, experts.size, "experts who may sit in it", "panel_size")]
        for p in projects:
            ok = int(np.sum([e not in bad.get(p, frozenset()) for e in experts.tolist()]))
            counts.append(
                (
                    problem.meeting.min_reviewers,
                    ok,
                    f"reviewers without a conflict for {problem.project_ids[p]}",
                    "min_reviewers",
                )
            )
        for need, have, what, rule in counts:
            if need > cap * have + 1e-9:
                out.append(
                    Clash(
                        Rule.MAX_PROBABILITY,
                        f"group {gid}: {rule} {need} from {have} {what} seats some of them with "
                        f"probability at least {need / max(have, 1):.2f}, above max_probability "
                        f"{cap:g}",
                        tuple(problem.project_ids[p] for p in projects),
                        f"raise max_probability to at least {need / max(have, 1):.2f}, or widen "
                        "the pool of this group",
                    )
                )
    return out or [
        Clash(
            Rule.MAX_PROBABILITY,
            "no mixture of seatings that keep every rule has every seat at most "
            f"{float(caps.min(initial=1.0)):g} likely (enterprise seats, coverage, loads or "
            "organization caps leave too few alternatives)",
            (),
            "raise max_probability",
        )
    ]


class _ColumnGeneration(CapColumnGeneration[MeetingLottery]):
    """Column generation over valid seatings (module docstring, points 1-2): the per-project
    lottery's machinery (:class:`expertmatch.solvers.lottery.CapColumnGeneration`: grouped
    two-phase master, first columns avoiding the optimum's seats, partners, smoothing, duals
    shared like the capped LP's) with whole seatings as the columns, priced by the exact
    seating solver. Scores and duals are in score units; a pricing's weights are turned into
    whole numbers for the seating solver (:meth:`price_whole`)."""

    def __init__(
        self,
        problem: Problem,
        seating: Seating,
        slot_room: dict[int, tuple[str, int]],
        caps: np.ndarray,
        params: SolveParams,
        start: float,
    ) -> None:
        self.problem, self.seating, self.slot_room = problem, seating, slot_room
        self.weight = seating.model.weight.astype(float)  # whole score units
        self.unit = float(seating.model.unit)
        self.size = -1  # columns in every seating (equal-size rows: seats, chairs, panels)
        super().__init__(self.weight * self.unit, caps, math.inf, params, start, held=caps < 1)
        self.price_share = PRICE_SHARE

    def add(self, chosen: np.ndarray) -> bool:
        """Add the seating ``chosen`` (0/1 over the columns) unless known; every seating of
        the batch has as many columns (a check of the pricing)."""
        size = int(np.count_nonzero(chosen))
        if self.size < 0:
            self.size = size
        elif size != self.size:
            raise InternalError("internal error: two seatings of one batch differ in size")
        return super().add(chosen)

    def seed_optimum(self) -> None:
        """The first column, the deterministic optimal seating (its diagnosis raised when the
        groups cannot be seated), then the capped LP (:meth:`capped_lp`). Sets ``tol``: "no
        column improves" is proved to the pricing's rounding at the finest scale."""
        first = self.price_whole(self.weight, first=True)
        assert first is not None
        self.add(first[0])
        self.update_bound(np.zeros(len(self.caps)), first[1] * self.unit)  # mu = 0
        self.tol = self.unit * max(PRICE_TOL * max(first[1], 1.0), self.size / MAX_SCALE)
        self.capped_lp()

    def capped_lp(self) -> None:
        """The capped LP's bound, and its duals of the caps: the first stability centre (near
        the best Lagrangian multipliers when the seating LP is nearly integral) and the shape
        in which the master shares its duals out; infeasible: no lottery at all keeps the cap
        (named)."""
        model = self.seating.model
        left = max(self.params.time_limit - self.elapsed(), 1.0)
        lp = solve_lp(model, left, upper=self.caps)
        if lp is None:
            raise InfeasibleError(_capped_clashes(self.problem, self.seating, self.caps))
        self.lp_bound = float(lp.z) * self.unit
        self.bound = min(self.bound, self.lp_bound)
        self.cap_duals = np.where(self.held, np.maximum(-lp.reduced_up, 0.0), 0.0) * self.unit
        self.master.shape = self.cap_duals

    def price_weights(self, weight: np.ndarray) -> tuple[np.ndarray, float] | None:
        """The best valid seating for ``weight`` (score units) and an upper bound on its
        value: :meth:`price_whole` in whole score units."""
        priced = self.price_whole(weight / self.unit)
        return None if priced is None else (priced[0], priced[1] * self.unit)

    def price_whole(
        self, weight: np.ndarray, first: bool = False
    ) -> tuple[np.ndarray, float] | None:
        """The best valid seating for the weights ``weight`` (whole score units) and an upper
        bound on its value; None when the time limit is out (``first``: the whole time
        limit, and no seating is an error). The weights are shifted to be positive (every
        seating has the same number of columns) and scaled to whole numbers (at most
        ``WEIGHT_LIMIT``); the bound adds the rounding, half a unit per column."""
        shift = 1.0 - float(weight.min(initial=0.0))
        top = float((weight + shift).max(initial=1.0))
        scale = min(MAX_SCALE, WEIGHT_LIMIT / top)
        scaled = np.rint((weight + shift) * scale).astype(np.int64)
        seating = replace(self.seating, model=replace(self.seating.model, weight=scaled))
        while True:
            left = self.params.time_limit - self.elapsed()
            if left <= 0 and not first:
                return None
            limit = max(1.0, min(left, self.price_share * self.params.time_limit))
            if first:
                limit = max(1.0, left)
            try:
                seated = seat_built(self.problem, seating, time.perf_counter() + limit)
            except SolveError:  # no seating within ``limit``
                if first:
                    raise
                if limit >= left:
                    return None  # out of time: the best capped master so far
                self.price_share *= 2
                continue
            size = int(seated.chosen.sum())
            upper = (seated.bound + 0.5 * size) / scale - shift * size
            return seated.chosen, upper

    def no_lottery(self, proved: bool) -> InfeasibleError | SolveError:
        """Proved: no mixture of valid seatings keeps the cap (named); else out of time."""
        if proved:
            return InfeasibleError(_capped_clashes(self.problem, self.seating, self.caps)[-1:])
        return SolveError(
            "no lottery of seatings keeping max_probability was found within the time limit",
            Status.TIMEOUT,
        )

    def build(self, sol: _MasterSolution) -> MeetingLottery:
        """The lottery: the columns of positive weight, their weights and marginals."""
        lam = _polish(sol.lam, self.columns, self.caps)
        keep = lam > 0
        weights = lam[keep] / lam[keep].sum()
        columns = tuple(c for c, k in zip(self.columns, keep, strict=True) if k)
        x = np.zeros(len(self.caps))
        for w, cols in zip(weights, columns, strict=True):
            x[cols] += w
        if np.any(x > self.caps + CAP_TOL):
            raise InternalError(
                f"internal error: a seat's probability {x.max():.12f} exceeds its cap"
            )
        value = float(sum(w * self.score[c].sum() for w, c in zip(weights, columns, strict=True)))
        stats: dict[str, object] = {
            "method": METHOD,
            "groups": len(self.seating.groups),
            "columns": len(self.columns),
            "seatings_in_lottery": len(columns),
            "rounds": self.rounds,
            "lp_bound": round(self.lp_bound, 6),
        }
        return MeetingLottery(
            self.problem,
            self.seating,
            self.slot_room,
            self.caps,
            columns,
            weights,
            x,
            value,
            max(self.bound, value),
            self.status(value),
            self.elapsed(),
            stats,
        )


def _polish(lam: np.ndarray, columns: list[np.ndarray], caps: np.ndarray) -> np.ndarray:
    """The master's weights solved again in double precision on its tight rows.

    HiGHS's weights are accurate to its tolerances in its own factorisation, but a cap summed
    over a hundred seatings from them came out 2e-8 above the cap. The basic solution is fixed
    by the rows at their cap and ``sum lambda = 1``; solving that system by least squares gives
    weights whose sums meet those caps to round-off. Kept only when they are non-negative and
    keep every cap; else the master's own weights (then :meth:`build` checks them)."""
    support = np.flatnonzero(lam > 1e-13)
    rows = np.unique(np.concatenate([columns[i] for i in support]))
    rows = rows[caps[rows] < 1]
    at = {int(r): k for k, r in enumerate(rows.tolist())}
    M = np.zeros((rows.size, support.size))
    for k, i in enumerate(support.tolist()):
        M[[at[int(j)] for j in columns[i].tolist() if int(j) in at], k] = 1.0
    tight = M @ lam[support] >= caps[rows] - 1e-7
    system = np.vstack([M[tight], np.ones((1, support.size))])
    target = np.concatenate([caps[rows][tight], [1.0]])
    solved, *_ = np.linalg.lstsq(system, target, rcond=None)
    solved[np.abs(solved) < 1e-14] = 0.0
    ok = (
        solved.min(initial=0.0) >= 0
        and abs(solved.sum() - 1) < 1e-12
        and (M @ solved <= caps[rows] + 1e-12).all()
    )
    if not ok:
        return lam
    out = np.zeros_like(lam)
    out[support] = solved
    return out

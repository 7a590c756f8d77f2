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
2. Column generation. The master LP (HiGHS, one thread, warm-started; the per-project lottery's)
   chooses weights ``lambda_i`` on valid seatings ``S_i``, maximising ``sum_i lambda_i W(S_i)``
   with ``sum_i lambda_i = 1`` and ``sum_i lambda_i S_ij <= cap_j`` for every capped seat and
   pair j (an artificial excess keeps it feasible; its price starts at ten times the largest
   seat weight and is raised a hundredfold while a master that no seating can improve, or
   ``EXCESS_ROUNDS`` masters in a row, still exceed a cap, so "no capped lottery" is only
   concluded at the per-project lottery's price). A new seating is priced by the exact
   seating solver (:func:`expertmatch.solvers.meetings.seat_built`) with weights
   ``W_j - mu_j`` (``mu`` the cap rows' duals), scaled to whole numbers; the scaling's
   rounding is added to the pricing's bound. The Lagrangian bound
   ``cap . mu + max_S (W - mu).S`` and
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

import highspy
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
from expertmatch.solvers.backends import new_highs, solve_lp
from expertmatch.solvers.lottery import CAP_TOL, PRICE_TOL, _MasterSolution
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
#: The master's first price of a unit of excess over a cap, in multiples of the largest
#: column weight (one seat's; raised while needed, see the module docstring). Larger prices
#: make the pricing weights ``W - mu`` span more, and their scaling to whole numbers coarser.
START_PENALTY = 10.0
#: Rounds in a row a master may exceed a cap before the excess's price is raised.
EXCESS_ROUNDS = 10
#: ``stats["method"]`` of a meeting draw.
METHOD = "meeting draw: column generation over valid seatings (HiGHS master, exact seating)"


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


class _Master:
    """The master LP of the meeting draw's column generation, kept in one HiGHS instance so
    that each new column is a warm start (primal simplex from the previous basis). (The
    per-project lottery has since moved to a grouped two-phase master, ``lottery._Master``;
    the meeting draw keeps this single LP with a priced excess, whose penalty it raises while
    a proved master still exceeds a cap.)

    Rows: the convexity row (``sum_i lambda_i = 1``) and, for each pair that some column uses,
    ``sum_i lambda_i A_ij - excess_j <= cap`` (added when the pair first appears: a pair no
    column uses is slack, its dual 0). Columns: one per assignment, and an artificial excess
    per pair row (cost ``penalty``, so the master is feasible from the start).
    """

    def __init__(self, n: int, caps: np.ndarray, penalty: float) -> None:
        self.n, self.caps, self.penalty = n, caps, penalty
        h = new_highs()  # HiGHS prints a banner from C++ when it is created
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)  # HiGHS's one scheduler per process: see backends
        h.setOptionValue("random_seed", 0)
        h.setOptionValue("presolve", "off")  # presolve would discard the warm start
        h.setOptionValue("primal_feasibility_tolerance", 1e-10)
        h.setOptionValue("dual_feasibility_tolerance", 1e-10)
        h.setOptionValue("simplex_strategy", 4)  # primal: a new column keeps the basis feasible
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        h.addRow(1.0, 1.0, 0, np.zeros(0, dtype=np.int32), np.zeros(0))
        self.h = h
        self.row_of = np.full(n, -1, dtype=np.int64)  # pair -> its row (0 is convexity)
        self.pair_of_row: list[int] = [-1]
        self.assignment_cols: list[int] = []
        self.excess_cols: list[int] = []
        self.values: list[float] = []

    def add(self, cols: np.ndarray, value: float) -> None:
        h = self.h
        new = cols[self.row_of[cols] < 0]
        if new.size:
            first = len(self.pair_of_row)
            k = int(new.size)
            h.addRows(
                k,
                np.full(k, -highspy.kHighsInf),
                self.caps[new],
                0,
                np.zeros(0, dtype=np.int32),
                np.zeros(0, dtype=np.int32),
                np.zeros(0),
            )
            rows = np.arange(first, first + k, dtype=np.int32)
            self.row_of[new] = rows
            self.pair_of_row.extend(new.tolist())
            start = h.getNumCol()
            h.addCols(
                k,
                np.full(k, -self.penalty),
                np.zeros(k),
                np.full(k, highspy.kHighsInf),
                k,
                np.arange(k, dtype=np.int32),
                rows,
                np.full(k, -1.0),
            )
            self.excess_cols.extend(range(start, start + k))
        rows = np.r_[0, self.row_of[cols]].astype(np.int32)
        self.assignment_cols.append(h.getNumCol())
        h.addCol(value, 0.0, highspy.kHighsInf, rows.size, rows, np.ones(rows.size))
        self.values.append(value)

    def solve(self) -> _MasterSolution:
        """Solve from the last basis (the master has no time limit: failing is a fault)."""
        self.h.run()
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise InternalError("internal error: the lottery's master LP was not solved")
        sol = self.h.getSolution()
        x = np.asarray(sol.col_value)
        dual = np.asarray(sol.row_dual)
        lam = x[self.assignment_cols]
        mu = np.zeros(self.n)
        mu[np.asarray(self.pair_of_row[1:], dtype=np.int64)] = np.maximum(dual[1:], 0.0)
        excess = x[self.excess_cols] if self.excess_cols else np.zeros(0)
        return _MasterSolution(
            lam,
            mu,
            float(dual[0]),
            float(np.dot(self.values, lam)),
            float(excess.max(initial=0.0)),
        )


class _ColumnGeneration:
    """Column generation over valid seatings (module docstring, points 1-2): the columns, the
    master over them, the best bound and the clock."""

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
        self.caps, self.params, self.start = caps, params, start
        self.weight = seating.model.weight.astype(float)  # whole score units
        self.capped_cols = caps < 1.0
        # the excess's price: first ten times the largest seat weight (set in run), raised
        # a hundredfold while a proved master still exceeds a cap, up to the per-project
        # lottery's (ten times all weights): a huge price from the start made the master's
        # numerics fail on 1,000 x 3,000
        self.max_penalty = 10.0 * float(np.maximum(self.weight, 0).sum()) + 1.0
        self.master = _Master(len(caps), caps, self.max_penalty)
        self.penalty = self.max_penalty
        self.over = 0  # rounds in a row whose master exceeded a cap
        self.norm = 1.0  # the master's unit, in whole score units (the first seating's value)
        self.columns: list[np.ndarray] = []
        self.keys: set[bytes] = set()
        self.bound = math.inf  # proven upper bound on the expected value (whole units)
        self.lp_bound = math.inf
        self.size = -1  # columns in every seating (equal-size rows: seats, chairs, panels)
        self.rounds = 0
        self.tol = 0.0
        self.price_share = PRICE_SHARE
        self.best: tuple[_MasterSolution, int] | None = None  # best master keeping the cap
        self.lagrangian = math.inf  # the best Lagrangian bound ...
        self.center: np.ndarray | None = None  # ... and its duals: the stability centre

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def add(self, chosen: np.ndarray) -> bool:
        """Add the seating ``chosen`` (0/1 over the columns) unless known."""
        cols = np.flatnonzero(chosen)
        if self.size < 0:
            self.size = int(cols.size)
        elif cols.size != self.size:
            raise InternalError("internal error: two seatings of one batch differ in size")
        key = cols.tobytes()
        if key in self.keys:
            return False
        self.keys.add(key)
        self.columns.append(cols)
        self.master.add(cols[self.capped_cols[cols]], float(self.weight[cols].sum()) / self.norm)
        return True

    def run(self) -> MeetingLottery:
        """First column and capped LP, then master and pricing until converged, proved, or
        out of time."""
        first = self.price(np.zeros(len(self.caps)), first=True)
        assert first is not None
        self.norm = max(float(self.weight[first[0]].sum()), 1.0)
        top = float(self.weight.max(initial=1.0))
        self.set_penalty(min(START_PENALTY * max(top, 1.0) + 1.0, self.max_penalty))
        self.add(first[0])
        self.lagrangian, self.center = first[1], np.zeros(len(self.caps))  # mu = 0
        self.bound = first[1]
        # "no column improves" is proved to the pricing's rounding at the finest scale
        self.tol = max(PRICE_TOL * max(first[1], 1.0), self.size / MAX_SCALE)
        self.capped_lp()
        outcome = "timeout"
        while True:
            self.rounds += 1
            sol = self.solve_master()
            if sol.excess <= CAP_TOL and (self.best is None or sol.value > self.best[0].value):
                self.best = (sol, len(self.columns))
            gap = max(self.params.gap_limit * self.bound, self.tol)
            if sol.excess <= CAP_TOL and self.bound - sol.value <= gap:
                outcome = "converged"
                break
            log.info(
                "meeting draw round %d: %d columns, expected %.1f, bound %.1f, excess %.2g",
                self.rounds,
                len(self.columns),
                sol.value,
                self.bound,
                sol.excess,
            )
            outcome = self.step(sol)
            self.over = self.over + 1 if sol.excess > CAP_TOL else 0
            stuck = outcome == "proved" or self.over >= EXCESS_ROUNDS
            if sol.excess > CAP_TOL and stuck and self.penalty < self.max_penalty:
                # the excess may only be too cheap: price it higher and go on
                self.set_penalty(min(100.0 * self.penalty, self.max_penalty))
                self.over = 0
                continue
            if outcome != "added":
                break
        return self.build(self.final(sol, outcome))

    def set_penalty(self, penalty: float) -> None:
        """The price of a unit of excess over a cap in the master (every excess column)."""
        self.penalty = penalty
        self.master.penalty = penalty / self.norm
        cols = np.asarray(self.master.excess_cols, dtype=np.int32)
        if cols.size:
            costs = np.full(cols.size, -self.master.penalty)
            self.master.h.changeColsCost(cols.size, cols, costs)

    def solve_master(self) -> _MasterSolution:
        """The master, solved in units of the first seating's value (so that its tolerances
        of 1e-10 stay above double round-off: in whole score units a seating of 1,000
        projects is worth 4e7, and HiGHS failed there); returned in whole score units."""
        sol = self.master.solve()
        n = self.norm
        return replace(sol, mu=sol.mu * n, nu=sol.nu * n, value=sol.value * n)

    def step(self, sol: _MasterSolution) -> str:
        """Look for a seating of positive reduced cost, with smoothing (Wentges 1997, as the
        per-project lottery): first at the point halfway between the stability centre (the
        duals of the best Lagrangian bound) and the master's duals, then, on a mispricing, at
        the master's duals. Every pricing may tighten the bound. Returns "added", "proved"
        (no seating improves the master), "stalled" or "timeout"."""
        center = self.center
        for alpha in (0.5, 0.0) if center is not None else (0.0,):
            at = sol.mu if alpha == 0 or center is None else alpha * center + (1 - alpha) * sol.mu
            priced = self.price(at)
            if priced is None:
                return "timeout"
            chosen, upper = priced
            lagrangian = float(self.caps @ at) + upper
            if lagrangian < self.lagrangian:
                self.lagrangian, self.center = lagrangian, at
            self.bound = min(self.bound, self.lagrangian)
            reduced = float(self.weight[chosen].sum() - sol.mu[chosen].sum()) - sol.nu
            if reduced > self.tol and self.add(chosen):
                return "added"
            if alpha == 0 and upper - sol.nu <= self.tol:
                return "proved"
        return "stalled"

    def final(self, sol: _MasterSolution, outcome: str) -> _MasterSolution:
        """The master the lottery comes from: the last one if it keeps the cap; else (out of
        time) the best one that did; none: a SolveError, or an InfeasibleError when proved."""
        if sol.excess <= CAP_TOL:
            if outcome == "proved":
                self.bound = min(self.bound, sol.value + self.tol)
            return sol
        if outcome == "proved":
            raise InfeasibleError(_capped_clashes(self.problem, self.seating, self.caps)[-1:])
        if self.best is None:
            raise SolveError(
                "no lottery of seatings keeping max_probability was found within the time limit",
                Status.TIMEOUT,
            )
        best, n = self.best
        return replace(best, lam=np.concatenate([best.lam, np.zeros(len(self.columns) - n)]))

    def capped_lp(self) -> None:
        """The capped LP's bound; infeasible: no lottery at all keeps the cap (named)."""
        model = self.seating.model
        left = max(self.params.time_limit - self.elapsed(), 1.0)
        lp = solve_lp(model, left, upper=self.caps)
        if lp is None:
            raise InfeasibleError(_capped_clashes(self.problem, self.seating, self.caps))
        self.lp_bound = float(lp.z)
        self.bound = min(self.bound, self.lp_bound)
        # the LP's duals of the caps: the first stability centre (near the best Lagrangian
        # multipliers when the seating LP is nearly integral), and a seating priced there
        mu = np.where(self.capped_cols, -lp.reduced_up, 0.0)
        priced = self.price(mu)
        if priced is not None:
            self.add(priced[0])
            lagrangian = float(self.caps @ mu) + priced[1]
            if lagrangian < self.lagrangian:
                self.lagrangian, self.center = lagrangian, mu
            self.bound = min(self.bound, self.lagrangian)

    def price(self, mu: np.ndarray, first: bool = False) -> tuple[np.ndarray, float] | None:
        """The best valid seating for the weights ``W - mu`` and an upper bound on its value
        (whole score units); None when the time limit is out. The weights are shifted to be
        positive (every seating has the same number of columns) and scaled to whole numbers
        (at most ``WEIGHT_LIMIT``); the bound adds the rounding, half a unit per column."""
        adjusted = self.weight - mu
        shift = 1.0 - float(adjusted.min(initial=0.0))
        top = float((adjusted + shift).max(initial=1.0))
        scale = min(MAX_SCALE, WEIGHT_LIMIT / top)
        scaled = np.rint((adjusted + shift) * scale).astype(np.int64)
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
        unit = self.seating.model.unit
        value = float(sum(w * self.weight[c].sum() for w, c in zip(weights, columns, strict=True)))
        bound = max(self.bound, value)
        if bound - value <= self.tol:
            status = Status.OPTIMAL
        elif bound - value <= self.params.gap_limit * bound:
            status = Status.FEASIBLE
        else:
            status = Status.TIMEOUT
        stats: dict[str, object] = {
            "method": METHOD,
            "groups": len(self.seating.groups),
            "columns": len(self.columns),
            "seatings_in_lottery": len(columns),
            "rounds": self.rounds,
            "lp_bound": round(self.lp_bound * unit, 6),
        }
        return MeetingLottery(
            self.problem,
            self.seating,
            self.slot_room,
            self.caps,
            columns,
            weights,
            x,
            value * unit,
            bound * unit,
            status,
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

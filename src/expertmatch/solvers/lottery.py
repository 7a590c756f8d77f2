"""Random draw with a guarantee: the ``max_probability`` rule.

So that nobody can lobby their way onto a panel, the office may draw the assignment at random.
:func:`lottery` computes a distribution over assignments and :meth:`Lottery.sample` draws one.
Guaranteed in every case: **every draw satisfies every rule** (it passes ``verify``), **no
expert-project pair is drawn with probability above ``max_probability``**, and the **expected
score** is optimal among all such lotteries or within the reported gap. ``bound`` is the LP
bound below; the seed reproduces the draw.

1. **Marginals.** The LP over every eligible pair: maximise ``sum_j s_j x_j`` subject to every
   rule of :func:`model.build_model` and ``0 <= x_j <= max_probability``. The marginals of any
   lottery that keeps the cap satisfy this LP, so its optimum bounds the expected score.
2. **When every rule fits one hierarchy** (no field coverage rows, and every organization's
   experts share one type): **bihierarchy dependent rounding** of the LP marginals (Budish,
   Che, Kojima and Milgrom, *Designing random allocation mechanisms*, AER 2013; the flow
   rounding of Gandhi et al., JACM 2006, used for peer review by Jecmen et al., NeurIPS 2020).
   The marginals are the flows of a network ``source -> project -> (project, org type) ->
   (project, org type, organization) -> expert -> org type -> sink``. While an edge is
   fractional there is a cycle of fractional edges; flow is pushed around it by +alpha with
   probability beta/(alpha+beta) or by -beta otherwise, which keeps every expected flow and
   makes one more edge integral. Each pair is drawn with probability **exactly** its LP value,
   and every edge ends at the floor or ceiling of its flow, so panel size, loads and yearly
   cap, the enterprise minimum, the organization cap and ``enterprise_target_share`` hold in
   every draw. The expected score equals the LP bound: optimal.
3. **Otherwise** (field coverage cuts across the enterprise split, so no hierarchy holds all
   rules and a rounding can leave a field uncovered): **column generation over valid
   assignments** -- the Birkhoff-von Neumann idea with whole assignments as the vertices. The
   master LP chooses weights ``lambda_i`` on assignments ``A_i`` that each satisfy every rule,
   maximising ``sum_i lambda_i score(A_i)`` with ``sum_i lambda_i A_i <= max_probability``
   pairwise and ``sum_i lambda_i = 1``. A new assignment is priced by the exact solver
   (:mod:`expertmatch.solvers.exact`) over every eligible pair
   with scores ``s_j - mu_j`` (``mu`` the
   cap rows' duals). The
   columns start from the deterministic optimum and ``ceil(1 / cap)`` assignments avoiding its
   pairs and each other's (mixed evenly, they keep every cap), then the best assignment at the
   capped LP's cap duals. The master keeps one row per group of pairs lying in the same
   columns and runs in two phases (least excess over the caps, then the best score keeping
   them); its duals are shared over a group's pairs in proportion to the capped LP's cap
   duals. Pricing is smoothed (Wentges 1997) towards the duals of the best Lagrangian bound
   so far, the first being the capped LP's (their bound is the LP bound, or close to it),
   and each priced column brings partners avoiding its pairs (at cap 1/2 a column meeting
   both columns of the lottery cannot enter the master alone).
   The Lagrangian bound ``cap * sum_j mu_j + max_A (score(A) - mu.A)`` (and the LP
   bound) give the proven gap; the pair probabilities are ``sum_i lambda_i A_i`` exactly.
   The draw picks ``A_i`` with probability ``lambda_i``. If no mixture of valid assignments
   keeps the cap, an :class:`InfeasibleError` says so. When the time limit stops the column
   generation, the best master of the rounds so far that keeps the cap is the lottery (status
   ``timeout``, with its proven gap); only if no round kept the cap is it a
   :class:`SolveError`. This machinery (:class:`CapColumnGeneration`) also runs the meeting
   draw, whose columns are whole seatings (:mod:`expertmatch.solvers.meeting_lottery`).

A coverage row that every eligible expert of its project satisfies is implied by the panel
size and cannot bind: it does not count against point 2 (e.g. every project and expert in one
field, or ``coverage_level = 1`` on a one-field batch).
"""

from __future__ import annotations

import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cached_property
from typing import Any, Generic, TypeVar

import highspy
import numpy as np

from expertmatch.domain.chairs import cap_can_bind, choose_chairs
from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.problem import Problem
from expertmatch.errors import Clash, InfeasibleError, InternalError, SolveError
from expertmatch.formulation.rows import Model, build_model
from expertmatch.result import Result, Stats
from expertmatch.solvers.backends import new_highs, solve_lp
from expertmatch.solvers.chairs import with_chairs
from expertmatch.solvers.exact import solve
from expertmatch.solvers.params import SolveParams
from expertmatch.solvers.relax import Bend
from expertmatch.vocabulary import Rule, Status

log = logging.getLogger("expertmatch")

#: What a column generation builds (:class:`CapColumnGeneration`).
T = TypeVar("T")

#: A flow this close to an integer counts as integral (LP round-off).
EPS = 1e-7
#: A pair's probability is at most the cap up to this (floating-point accuracy of the master
#: LP, whose tolerances are set to 1e-10; HiGHS's default, 1e-7, is too loose for a guarantee).
CAP_TOL = 1e-8
#: Share of the time limit one pricing solve may take (at least 1 s): a pricing stopped early
#: still gives a column and a valid bound, and short rounds converge faster.
PRICE_SHARE = 0.02
#: Default proven gap at which the column generation stops (``assign(gap_limit=None)``): it
#: tails off, and the last 0.1% can take minutes on office batches.
LOTTERY_GAP = 0.001
#: Largest change of one pair's pricing weight when it is rounded to 6 decimals.
PRICE_ROUNDING = 0.5e-6
#: A column prices in when its reduced cost exceeds this share of the best score.
PRICE_TOL = 1e-7
#: Smoothing (Wentges 1997): pricing first at ``SMOOTHING * centre + (1 - SMOOTHING) * duals``.
SMOOTHING = 0.5
#: Weight of phase one's duals in its pricing, in multiples of the largest score, and the
#: least reduced cost (in excess units) of a column that lowers the excess.
PHASE_ONE_SCALE = 1000.0
PHASE_ONE_TOL = 1e-7
#: Most columns of :meth:`_ColumnGeneration.disjoint_columns` (with the first), and
#: whether every priced column gets them too.
DISJOINT_COLUMNS = 4
PARTNERS = True


#: ``Lottery.stats["method"]`` of each way to build the lottery.
ROUNDING_METHOD = "capped LP (HiGHS) + bihierarchy dependent rounding"
COLUMNS_METHOD = (
    "column generation over valid assignments (warm-started HiGHS master, exact pricing)"
)


@dataclass(frozen=True)
class RoundingStats(Stats):
    """Figures of a lottery by bihierarchy dependent rounding (module docstring, point 2)."""

    method: str = field(default=ROUNDING_METHOD, init=False)
    pairs: int  # eligible pairs, the lottery's variables


@dataclass(frozen=True)
class ColumnStats(Stats):
    """Figures of a lottery by column generation (module docstring, point 3)."""

    method: str = field(default=COLUMNS_METHOD, init=False)
    columns: int  # valid assignments generated
    assignments_in_lottery: int  # those with a positive weight
    rounds: int  # master LP solves
    lp_bound: float  # the capped LP's bound, rounded to 6 decimals
    pairs: int  # eligible pairs, the lottery's variables


@dataclass(frozen=True)
class Lottery:
    """A distribution over assignments that keeps every rule and the probability cap.

    ``x`` is each pair's probability (over ``model.pairs``). With ``columns`` (column
    generation), the draw is ``columns[i]`` (pair indices) with probability ``weights[i]``;
    without, it is a dependent rounding of ``x`` (see the module docstring). ``stats`` is a
    :class:`RoundingStats` or a :class:`ColumnStats`, passed on to every sampled Result.
    """

    problem: Problem
    model: Model
    x: np.ndarray
    expected_objective: float
    bound: float
    cap: float
    time_s: float
    status: str = Status.OPTIMAL
    columns: tuple[np.ndarray, ...] | None = None
    weights: np.ndarray | None = None
    stats: Mapping[str, Any] = field(default_factory=dict)

    @property
    def pairs(self) -> Pairs:
        return self.model.pairs

    def round_once(self, rng: np.random.Generator) -> np.ndarray:
        """One dependent rounding of the marginals ``x``: a 0/1 vector over the pairs."""
        return _round(self.network, rng)

    @cached_property
    def network(self) -> _Network:
        """The flow network of the marginals (built once, rounded on each draw)."""
        return _Network.build(self.problem, self.pairs, self.x)

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One assignment from the lottery: a 0/1 vector over the pairs."""
        if self.columns is not None and self.weights is not None:
            i = int(rng.choice(len(self.columns), p=self.weights))
            chosen = np.zeros(len(self.pairs), dtype=bool)
            chosen[self.columns[i]] = True
            return chosen
        chosen = self.round_once(rng)
        if not self.model.satisfied(chosen):  # the hierarchy guarantees every rule
            raise InternalError("internal error: a dependent rounding broke a rule")
        return chosen

    def sample(self, seed: int) -> Result:
        """Draw one assignment (reproducible from ``seed``) as a Result."""

        start = time.perf_counter()
        chosen = self.draw(np.random.default_rng(seed))
        p = self.pairs
        objective = float(self.model.weight[chosen].sum()) * self.model.unit
        probs = Pairs(p.project.copy(), p.expert.copy(), self.x.copy())
        return Result.build(
            self.problem,
            p.take(chosen),
            status=self.status,
            objective=objective,
            bound=self.bound,
            time_s=self.time_s + time.perf_counter() - start,
            seed=seed,
            stats=self.stats,
            expected_objective=self.expected_objective,
            max_probability=self.cap,
            probabilities=probs,
            chairs=choose_chairs(self.problem, p.take(chosen))[0],
        )


def lottery(
    problem: Problem, params: SolveParams, raised: Mapping[int, float] | None = None
) -> Lottery:
    """The lottery of best expected score with every pair at most ``max_probability`` likely
    (its project's stage's, else the batch's; ``raised``: per project a higher cap, see
    :func:`raised_caps`).

    Raises :class:`InfeasibleError` when no lottery of valid assignments keeps the cap.
    """

    start = time.perf_counter()
    model = build_model(problem, eligible_pairs(problem))
    caps = pair_caps(problem, model.pairs, raised)
    cap = float(caps.max(initial=problem.rules.max_probability))
    lp = solve_lp(model, params.time_limit, upper=caps) if model.n_pairs else None
    if lp is None:
        solve(problem, params)  # raises the deterministic diagnosis if there is one
        raise InfeasibleError(_capped_clashes(problem, raised))
    x = np.clip(lp.x, 0.0, caps)
    x[x < EPS] = 0.0
    at_cap = np.abs(x - caps) < EPS
    x[at_cap] = caps[at_cap]
    bound = float(model.weight @ x) * model.unit
    if _one_hierarchy(problem, model):
        return Lottery(
            problem,
            model,
            x,
            bound,
            bound,
            cap,
            time.perf_counter() - start,
            stats=RoundingStats(len(model.pairs)),
        )
    # the capped LP's duals of the caps (``mu_j = -rc_j`` of the pairs at their cap, from
    # weight units to scores): the first stability centre of the column generation
    cap_duals = np.maximum(-lp.reduced_up, 0.0) * model.unit
    return _ColumnGeneration(problem, model, x, bound, params, start, caps, cap_duals).run()


def _one_hierarchy(problem: Problem, model: Model) -> bool:
    """Do all rules fit the rounding's hierarchy? Not with coverage rows, nor with an
    organization cap row over experts of different types."""
    if np.any(model.row_rule == Rule.QUOTA) or cap_can_bind(problem):
        return False
    if np.any(_coverage_can_bind(problem, model)):
        return False
    if model.row_stage is not None and np.any(model.row_stage >= 0):
        return False  # a stage's own enterprise target crosses the expert side
    org_rows = np.flatnonzero(model.row_rule == Rule.MAX_PER_ORG)
    if org_rows.size == 0:
        return True
    ent = problem.expert_enterprise[model.pairs.expert].astype(float)
    sub = model.A[org_rows]
    size = np.asarray(sub.sum(axis=1)).ravel()
    n_ent = sub @ ent
    return bool(np.all((n_ent == 0) | (n_ent == size)))


def _coverage_can_bind(problem: Problem, model: Model) -> np.ndarray:
    """Which coverage rows can bind (one entry per coverage row of ``model``). A row of project
    p that every eligible expert of p satisfies is ``sum_{j in p} x_j >= 1``, implied by the
    panel-size row when the panel has a seat: no constraint, so it does not force column
    generation (e.g. every paper and reviewer in one field)."""
    rows = np.flatnonzero(model.row_rule == Rule.COVERAGE)
    per_project = np.bincount(model.pairs.project, minlength=problem.n_projects)
    project = model.row_project[rows]
    held = np.diff(model.A.indptr)[rows]
    implied = (held == per_project[project]) & (problem.project_panel_size[project] >= 1)
    return np.asarray(~implied)


class _Outcome(Enum):
    """How a round of the column generation ended."""

    CONVERGED = "the master is within the gap of the bound"
    ADDED = "a column priced in"
    PROVED = "no column can improve the master"
    STALLED = "no column priced in, but that is not proved"
    TIMEOUT = "the time limit stopped the pricing"


class CapColumnGeneration(ABC, Generic[T]):
    """Column generation over whole valid answers under probability caps (module docstring,
    point 3): the machinery shared by the per-project lottery (columns: assignments, over the
    eligible pairs) and the meeting draw (columns: seatings, over seats, chairs and panel
    pairs; :mod:`expertmatch.solvers.meeting_lottery`).

    The state of the loop: the columns found (each a valid answer, as variable indices) and
    the master LP over them (:class:`_Master`: grouped rows, two phases), the best Lagrangian
    bound and the duals that gave it (the stability centre of the smoothing), the rounds so
    far and the clock. One method per step: seed the columns, test for convergence, price
    (smoothed, with partners), close the gap, build the lottery. A subclass says how to find
    the first column (:meth:`seed_optimum`), how to price (:meth:`price_weights`), what no
    capped lottery means (:meth:`no_lottery`) and what the lottery is (:meth:`build`).
    ``score`` is each variable's score (score units); ``held`` marks the variables with a cap
    row in the master (the others never bind: their cap is 1), which the first columns avoid.
    """

    def __init__(
        self,
        score: np.ndarray,
        caps: np.ndarray,
        lp_bound: float,
        params: SolveParams,
        start: float,
        cap_duals: np.ndarray | None = None,
        held: np.ndarray | None = None,
    ) -> None:
        self.score, self.caps = score, caps  # each variable's score and cap
        self.held = np.ones(len(caps), dtype=bool) if held is None else held
        self.cap_duals = cap_duals  # the capped LP's cap duals (scores), if known
        self.params, self.start = params, start
        self.lp_bound = lp_bound
        self.keys: set[bytes] = set()
        self.columns: list[np.ndarray] = []
        self.master = _Master(len(caps), self.caps, cap_duals)
        # phase one's pricing: the duals of the excess (each in [0, 1]) weigh this much per
        # variable against the scores, so that it looks for the valid answer avoiding the
        # variables over their cap first and breaks ties by score
        self.phase_one_scale = PHASE_ONE_SCALE * float(np.abs(self.score).max(initial=1.0))
        self.bound = lp_bound  # the best proven bound on the expected score
        self.lagrangian = np.inf  # the best Lagrangian bound
        self.center: np.ndarray | None = None  # its duals: the stability centre
        self.rounds = 0
        self.tol = 0.0  # a column prices in when its reduced cost exceeds this
        self.capped: _MasterSolution | None = None  # the best master that keeps the cap
        self.price_share = PRICE_SHARE  # of the time limit, for one pricing

    def run(self) -> T:
        """Seed, then solve the master and price until converged, proved or out of time.
        The capped LP's cap duals, if known, are priced first: their Lagrangian bound is the
        LP bound or close to it, so they become the stability centre (and shape how the
        master's duals are shared, :class:`_Master`). (Dependent roundings of the LP
        marginals, repaired where coverage breaks, were the first columns before: measured at
        1k x 3k and on the demo batch, the column generation reaches 0.1 % as fast or faster
        without them, and their repairs took 20-30 s at 1k x 3k.)"""
        self.seed_optimum()
        self.disjoint_columns()
        if self.cap_duals is not None:
            priced = self.price_at(self.cap_duals)
            if priced is not None:
                self.update_bound(self.cap_duals, priced[1])
                self.add(priced[0])
        while True:
            self.rounds += 1
            sol = self.master.solve()
            if sol.excess <= CAP_TOL and (self.capped is None or sol.value > self.capped.value):
                self.capped = sol
            if self.converged(sol):
                outcome = _Outcome.CONVERGED
                break
            outcome = self.price(sol)
            log.info(
                "lottery round %d: %d columns, expected %.4f, bound %.4f, shortfall %.2g",
                self.rounds,
                len(self.columns),
                sol.value,
                self.bound,
                sol.excess,
            )
            if outcome != _Outcome.ADDED:
                break
        if outcome == _Outcome.TIMEOUT and sol.excess > CAP_TOL and self.capped is not None:
            # out of time: the best master of the rounds so far that keeps the cap, with its gap
            pad = np.zeros(len(self.columns) - self.capped.lam.size)
            sol = replace(self.capped, lam=np.concatenate([self.capped.lam, pad]))
        self.close_gap(sol, outcome)
        return self.build(sol)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def add(self, chosen: np.ndarray) -> bool:
        """Add the answer ``chosen`` (0/1 over the variables) as a column, unless known."""
        cols = np.flatnonzero(chosen)
        key = cols.tobytes()
        if key in self.keys:
            return False
        self.keys.add(key)
        self.columns.append(cols)
        self.master.add(cols[self.held[cols]], float(self.score[cols].sum()))
        return True

    @abstractmethod
    def seed_optimum(self) -> None:
        """The first column: the deterministic optimum. Sets ``tol``."""

    def disjoint_columns(self, first: np.ndarray | None = None) -> None:
        """Columns that avoid the capped variables of ``first`` (a column; the optimum by
        default) and of each other (as far as the rules allow), ``ceil(1 / cap)`` with
        ``first`` (at most ``DISJOINT_COLUMNS``): mixed evenly they keep every cap. From the
        optimum, the master keeps the caps from the first round, so phase one is seldom needed
        (measured at 1k x 3k, cap 0.5: phase one took dozens of pricings to bring the excess
        from 0.5 to 0.07; the meeting draw's penalty master never closed it there); from a
        priced column, they are the partners it needs to enter the master (at cap 1/2, a
        column meeting the pairs of both columns of the lottery cannot enter it alone)."""
        wanted = min(math.ceil(1.0 / float(self.caps.min(initial=1.0)) - 1e-9), DISJOINT_COLUMNS)
        taken = np.zeros(len(self.caps), dtype=bool)
        taken[self.columns[0] if first is None else first] = True
        taken &= self.held
        for _ in range(wanted - 1):
            priced = self.price_weights(self.score - self.phase_one_scale * taken)
            if priced is None:
                return
            self.add(priced[0])
            taken |= priced[0] & self.held

    def converged(self, sol: _MasterSolution) -> bool:
        """Stop test: the master keeps the cap (no excess beyond the LP's tolerance) and its
        value is within the gap limit (or the pricing tolerance) of the bound."""
        gap = max(self.params.gap_limit * self.bound, self.tol)
        return sol.excess <= CAP_TOL and self.bound - sol.value <= gap

    def price(self, sol: _MasterSolution) -> _Outcome:
        """Look for a column of positive reduced cost, with smoothing (Wentges 1997): price at
        a point between the stability centre and the current duals first (fewer rounds); on a
        mispricing, price at the current duals. Every pricing tightens the bound."""
        if sol.phase_one:
            return self.price_phase_one(sol)
        proved = False
        for alpha in (SMOOTHING, 0.0) if self.center is not None else (0.0,):
            at = sol.mu
            if self.center is not None and alpha != 0:
                at = alpha * self.center + (1 - alpha) * sol.mu
            priced = self.price_at(at)
            if priced is None:
                return _Outcome.TIMEOUT
            chosen, upper = priced
            self.update_bound(at, upper)
            log.info(
                "lottery pricing at smoothing %.2f: Lagrangian bound %.4f (best %.4f)",
                alpha,
                float(self.caps @ at) + upper,
                self.lagrangian,
            )
            reduced = float(self.score[chosen].sum() - sol.mu[chosen].sum()) - sol.nu
            if reduced > self.tol and self.add(chosen):
                if PARTNERS:
                    self.disjoint_columns(chosen)
                return _Outcome.ADDED
            proved = alpha == 0 and upper - sol.nu <= self.tol
        return _Outcome.PROVED if proved else _Outcome.STALLED

    def price_phase_one(self, sol: _MasterSolution) -> _Outcome:
        """Phase one (the master cannot keep the caps yet): a valid answer of least
        ``mu . A`` (the excess duals), ties broken by score; if that does not price in, the
        one of least ``mu . A`` alone, whose bound proves that no mixture keeps the caps when
        nothing can lower the excess."""
        scale = self.phase_one_scale
        for weight in (self.score - scale * sol.mu, -scale * sol.mu):
            priced = self.price_weights(weight)
            if priced is None:
                return _Outcome.TIMEOUT
            chosen, upper = priced
            if -float(sol.mu[chosen].sum()) - sol.nu > PHASE_ONE_TOL and self.add(chosen):
                return _Outcome.ADDED
        return _Outcome.PROVED if upper / scale - sol.nu <= PHASE_ONE_TOL else _Outcome.STALLED

    def price_at(self, mu: np.ndarray) -> tuple[np.ndarray, float] | None:
        """The best valid answer for the scores ``s - mu`` and an upper bound on its value:
        :meth:`price_weights` of ``s - mu``."""
        return self.price_weights(self.score - mu)

    @abstractmethod
    def price_weights(self, weight: np.ndarray) -> tuple[np.ndarray, float] | None:
        """The best valid answer for the weights ``weight`` (score units, one per variable)
        as a 0/1 vector, and an upper bound on its value; None when the time limit is out."""

    def update_bound(self, mu: np.ndarray, upper: float) -> None:
        """The Lagrangian bound ``cap * sum_j mu_j + max_A (score(A) - mu.A)``, valid for any
        ``mu >= 0``; the duals of the best one become the stability centre."""
        if float(self.caps @ mu) + upper < self.lagrangian:
            self.lagrangian = float(self.caps @ mu) + upper
            self.center = mu
        self.bound = min(self.bound, self.lagrangian)

    def close_gap(self, sol: _MasterSolution, outcome: _Outcome) -> None:
        """With no column able to improve it, the master's value is the optimum (to the
        pricing tolerance). A master that still breaks the cap means no capped mixture exists
        (when proved) or none was found in time (no round's master kept the cap): both raise
        (:meth:`no_lottery`)."""
        proved = outcome == _Outcome.PROVED
        if proved and sol.excess <= CAP_TOL:
            self.bound = min(self.bound, sol.value + self.tol)
        if sol.excess > CAP_TOL:
            raise self.no_lottery(proved)

    @abstractmethod
    def no_lottery(self, proved: bool) -> InfeasibleError | SolveError:
        """The error when no master kept the cap: proved impossible (an InfeasibleError naming
        what leaves too few alternatives) or out of time (a SolveError)."""

    def status(self, value: float) -> Status:
        """Optimal within the pricing tolerance, feasible within the gap limit, else timeout."""
        if self.bound - value <= self.tol:
            return Status.OPTIMAL
        if self.bound - value <= self.params.gap_limit * self.bound:
            return Status.FEASIBLE
        return Status.TIMEOUT

    @abstractmethod
    def build(self, sol: _MasterSolution) -> T:
        """The lottery of the master ``sol``."""


class _ColumnGeneration(CapColumnGeneration[Lottery]):
    """Column generation over valid assignments (module docstring, point 3): the columns are
    assignments over the eligible pairs, priced by the exact solver."""

    def __init__(
        self,
        problem: Problem,
        model: Model,
        x: np.ndarray,
        lp_bound: float,
        params: SolveParams,
        start: float,
        caps: np.ndarray,
        cap_duals: np.ndarray | None = None,
    ) -> None:
        self.problem, self.model, self.x = problem, model, x
        self.cap = float(caps.max(initial=problem.rules.max_probability))
        score = model.weight.astype(float) * model.unit
        super().__init__(score, caps, lp_bound, params, start, cap_duals)

    def seed_optimum(self) -> None:
        """The first column: the deterministic optimum. Sets ``tol``."""
        # the lottery depends on the batch only (seed 0 throughout); the seed drives the draw
        params = replace(self.params, seed=0)
        best = with_chairs(self.problem, solve(self.problem, params), params)
        self.add(self.model.pairs.member_of(best.pairs, self.problem.n_experts))
        # a pricing's bound carries its weights' rounding (PRICE_ROUNDING per assigned pair),
        # so "no column prices out" can only be proved to that accuracy
        total = int(self.problem.project_panel_size.sum())
        self.tol = max(PRICE_TOL * max(best.objective, 1.0), 2 * PRICE_ROUNDING * total)

    def price_weights(self, weight: np.ndarray) -> tuple[np.ndarray, float] | None:
        """The best valid assignment for the pair weights ``weight`` and an upper bound on
        its value (one pricing, at most ``PRICE_SHARE`` of the time limit, doubled for this and
        later pricings each time a pricing finds nothing in it); None when the time limit is
        out."""
        while True:
            left = self.params.time_limit - self.elapsed()
            if left <= 0:
                return None
            limit = min(left, max(1.0, self.price_share * self.params.time_limit))
            priced = _price(self.problem, self.model, weight, self.params, limit)
            if priced is not None or limit >= left:
                return priced
            self.price_share *= 2  # a large batch (or a busy machine): give pricing more time

    def no_lottery(self, proved: bool) -> InfeasibleError | SolveError:
        """Out of time: a SolveError; proved: the InfeasibleError naming the projects whose
        panels are short, after what leaves too few alternatives."""
        if not proved:
            return SolveError(
                "no lottery keeping max_probability was found within the time limit", Status.TIMEOUT
            )
        tight = [c for c in _capped_clashes(self.problem, None) if c.projects]
        return InfeasibleError(
            [
                Clash(
                    Rule.MAX_PROBABILITY,
                    f"no mixture of assignments that keep every rule has every pair at most "
                    f"{self.cap:g} likely (field coverage, enterprise share and organization caps "
                    "leave too few alternatives)",
                    (),
                    "raise max_probability or relax coverage_level",
                ),
                *tight,
            ]
        )

    def build(self, sol: _MasterSolution) -> Lottery:
        """The lottery: the columns of positive weight, their weights and pair probabilities."""
        keep = sol.lam > 0
        weights = sol.lam[keep] / sol.lam[keep].sum()
        chosen_cols = tuple(c for c, k in zip(self.columns, keep, strict=True) if k)
        probs = np.zeros(len(self.model.pairs))
        for w, cols in zip(weights, chosen_cols, strict=True):
            probs[cols] += w
        if np.any(probs > self.caps + CAP_TOL):
            raise InternalError(
                f"internal error: a pair's probability {probs.max():.12f} exceeds the cap "
                f"{self.cap:g}"
            )
        expected = float(
            sum(w * self.score[c].sum() for w, c in zip(weights, chosen_cols, strict=True))
        )
        stats = ColumnStats(
            columns=len(self.columns),
            assignments_in_lottery=len(chosen_cols),
            rounds=self.rounds,
            lp_bound=round(self.lp_bound, 6),
            pairs=len(self.model.pairs),
        )
        return Lottery(
            self.problem,
            self.model,
            probs,
            expected,
            max(self.bound, expected),
            self.cap,
            self.elapsed(),
            self.status(sol.value),
            chosen_cols,
            weights,
            stats=stats,
        )


class _Master:
    """The master LP of the column generation over groups of pairs, in two phases.

    A pair's cap row is ``sum_i lambda_i A_ij - excess_j <= cap_j``. Pairs in the same columns
    (and of the same cap) have the same row, so the master keeps one row per such **group**
    (with one artificial excess column) and the convexity row ``sum_i lambda_i = 1``: a few
    hundred rows where a row per pair makes tens of thousands, so each solve is cheap (the
    master is built afresh each round).

    **Phase one** minimises the total excess over the pairs (``|g|`` per unit of a group's);
    only when it is zero does **phase two** maximise the expected score with the excess held
    at zero (at phase one's, at most ``CAP_TOL``: LP round-off). Once a master has kept the
    caps, every later one can (columns are only added, so that mixture stays feasible, and
    each group lies within a group of then, whose excess it may keep): later masters are
    phase two alone. (Measured on the demo batch at cap 0.5: phase one every round was half
    of the master's time, and the master 75 % of the run; without it, 0.07 % in 38 s where
    0.095 % took 105 s, on the same machine back to back.) (A big-M penalty in one LP
    weighed the scores against the excess at 1e8 to one and, per group, counted a group of
    2,000 pairs as one: the column generation then stalled short of the caps for dozens of
    rounds at 1k x 3k.)

    The group's dual ``d_g`` is shared by its pairs: in phase two any split summing to ``d_g``
    is an optimal dual of the master with a row per pair, so the split is free. It follows
    ``shape`` (the capped LP's cap duals: which pairs the caps hold back) where the group
    has any, else it is equal (``mu_j = d_g / |g|``). A simplex basis of the per-pair master
    puts the whole dual on one pair of the group, and an equal split spreads it thin over
    thousands: either way pricing returns near copies of the columns it has (measured at
    1k x 3k: the master stalled 0.107 % short of the bound for 70 rounds).
    """

    def __init__(self, n: int, caps: np.ndarray, shape: np.ndarray | None = None) -> None:
        self.n, self.caps, self.shape = n, caps, shape
        # pairs of different caps never share a row
        self.group_of = np.unique(caps, return_inverse=True)[1].astype(np.int64)
        self.used = np.zeros(n, dtype=bool)
        self.columns: list[np.ndarray] = []
        self.values: list[float] = []
        # each pair's excess when a master first kept the caps (None before): its group's
        # bound in phase two from then on
        self.allowance: np.ndarray | None = None

    def add(self, cols: np.ndarray, value: float) -> None:
        """A new column: every group splits into its pairs in ``cols`` and the others."""
        member = np.zeros(self.n, dtype=np.int64)
        member[cols] = 1
        self.group_of = np.unique(self.group_of * 2 + member, return_inverse=True)[1]
        self.used[cols] = True
        self.columns.append(cols)
        self.values.append(value)

    def solve(self) -> _MasterSolution:
        """Phase one, then phase two if the caps can be kept (no time limit: the master is
        small, and failing to solve it is a fault); phase two alone once a master kept them."""
        used = np.flatnonzero(self.used)
        groups, row_of_pair = np.unique(self.group_of[used], return_inverse=True)
        size = np.bincount(row_of_pair, minlength=groups.size).astype(float)
        h, n_cols = self._build(used, row_of_pair, size)
        n_rows = size.size
        if self.allowance is None:
            every = np.arange(n_cols + n_rows, dtype=np.int32)
            h.changeColsCost(n_cols + n_rows, every, np.r_[np.zeros(n_cols), -size])
            x, dual = self._run(h)
            excess = np.maximum(x[n_cols:], 0.0)
            phase_one = float(excess.max(initial=0.0)) > CAP_TOL
            if not phase_one:
                self.allowance = np.zeros(self.n)
                self.allowance[used] = excess[row_of_pair]
        else:  # each group's excess bounded by its pairs' then (a pair unused then: 0)
            excess = np.zeros(n_rows)
            np.maximum.at(excess, row_of_pair, self.allowance[used])
            phase_one = False
        if not phase_one:  # the caps can be kept: the best expected score keeping them
            # (the excess held at phase one's, at most CAP_TOL: LP round-off)
            cols = np.arange(n_cols + n_rows, dtype=np.int32)
            h.changeColsCost(n_cols + n_rows, cols, np.r_[self.values, np.zeros(n_rows)])
            h.changeColsBounds(n_rows, cols[n_cols:], np.zeros(n_rows), excess)
            x, dual = self._run(h)
            excess = np.maximum(x[n_cols:], 0.0)
        lam = x[:n_cols]
        mu = np.zeros(self.n)
        # phase one's duals are shared equally: each pair's excess costs 1, so a pair's dual
        # is at most 1 in the per-pair master
        shape = None if phase_one else self.shape
        mu[used] = _share(np.maximum(dual[1:], 0.0), shape, used, row_of_pair, size)
        return _MasterSolution(
            lam,
            mu,
            float(dual[0]),
            float(np.dot(self.values, lam)),
            float(excess.max(initial=0.0)),
            phase_one,
        )

    def _build(
        self, used: np.ndarray, row_of_pair: np.ndarray, size: np.ndarray
    ) -> tuple[highspy.Highs, int]:
        """The master in a HiGHS instance (costs set by the phase): the columns, then one
        excess column per group."""
        n_rows = size.size
        cap = np.zeros(n_rows)
        cap[row_of_pair] = self.caps[used]  # one cap per group
        row_of = np.full(self.n, -1, dtype=np.int64)
        row_of[used] = row_of_pair + 1  # row 0 is convexity
        n_cols = len(self.columns)
        index = [np.r_[0, np.unique(row_of[cols])] for cols in self.columns]
        starts = np.r_[0, np.cumsum([i.size for i in index])]
        total = int(starts[-1])
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n_cols + n_rows, n_rows + 1
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.col_cost_ = np.zeros(n_cols + n_rows)
        lp.col_lower_ = np.zeros(n_cols + n_rows)
        lp.col_upper_ = np.full(n_cols + n_rows, highspy.kHighsInf)
        lp.row_lower_ = np.r_[1.0, np.full(n_rows, -highspy.kHighsInf)]
        lp.row_upper_ = np.r_[1.0, cap]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.r_[starts, total + np.arange(1, n_rows + 1)].astype(np.int32)
        rows = np.r_[np.concatenate(index), np.arange(1, n_rows + 1)]
        lp.a_matrix_.index_ = rows.astype(np.int32)
        lp.a_matrix_.value_ = np.r_[np.ones(total), np.full(n_rows, -1.0)]
        h = new_highs()  # HiGHS prints a banner from C++ when it is created
        for name, value in (
            ("output_flag", False),
            ("threads", 1),  # HiGHS's one scheduler per process: see backends
            ("random_seed", 0),
            ("primal_feasibility_tolerance", 1e-10),
            ("dual_feasibility_tolerance", 1e-10),
        ):
            h.setOptionValue(name, value)
        h.passModel(lp)
        return h, n_cols

    @staticmethod
    def _run(h: highspy.Highs) -> tuple[np.ndarray, np.ndarray]:
        """Solve (phase two from phase one's basis); if HiGHS cannot say optimal from there
        (seen: status unknown at these tolerances), once more from scratch."""
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            h.clearSolver()
            h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise InternalError("internal error: the lottery's master LP was not solved")
        sol = h.getSolution()
        return np.asarray(sol.col_value), np.asarray(sol.row_dual)


def _share(
    dual: np.ndarray,
    shape: np.ndarray | None,
    used: np.ndarray,
    row_of_pair: np.ndarray,
    size: np.ndarray,
) -> np.ndarray:
    """Each used pair's share of its group's dual: in proportion to ``shape`` where the
    group has any, else equally."""
    if shape is None:
        return np.asarray((dual / size)[row_of_pair])
    weight = shape[used]
    total = np.bincount(row_of_pair, weights=weight, minlength=size.size)
    shaped = total[row_of_pair] > 0
    out = (dual / size)[row_of_pair]
    out[shaped] = dual[row_of_pair[shaped]] * weight[shaped] / total[row_of_pair[shaped]]
    return np.asarray(out)


@dataclass(frozen=True)
class _MasterSolution:
    """One solve of the master LP."""

    lam: np.ndarray  # weight of each column
    mu: np.ndarray  # dual of each pair's cap row (>= 0; 0 for a pair no column uses)
    nu: float  # dual of the convexity row
    value: float  # the expected score
    excess: float  # the largest excess of a pair over the cap (0 in phase two)
    phase_one: bool = False  # are ``mu`` and ``nu`` phase one's (the caps cannot be kept yet)?


def _price(
    problem: Problem, model: Model, weight: np.ndarray, params: SolveParams, time_left: float
) -> tuple[np.ndarray, float] | None:
    """A valid assignment of large ``weight``-sum and an upper bound on the largest, by the
    exact solver (optimal unless its time limit stops it); None if it found no assignment.

    Every assignment has the same number of pairs, so adding a constant to all weights does
    not change the best one: the solver gets the batch with supplied scores
    ``weight + shift > 0`` on exactly the eligible pairs (others score 0, hence ineligible).
    Weights are rounded to 6 decimals; the bound allows for that rounding.
    """

    shift = max(0.0, -float(weight.min(initial=0.0))) + 1.0
    pairs = model.pairs
    stages = {s: replace(r, min_score=None) for s, r in problem.rules.stage.items()}
    priced = replace(
        problem,
        supplied_scores=Pairs(pairs.project, pairs.expert, np.round(weight + shift, 6)),  # ±5e-7
        rules=replace(problem.rules, min_score=0.0, stage=stages),
    )
    priced_params = SolveParams(time_limit=max(time_left, 1.0), seed=0, workers=params.workers)
    try:
        result = with_chairs(priced, solve(priced, priced_params), priced_params)
    except SolveError:
        return None
    chosen = pairs.member_of(result.pairs, problem.n_experts)
    total = int(problem.project_panel_size.sum())
    return chosen, result.bound - shift * total + PRICE_ROUNDING * total


def draw(problem: Problem, params: SolveParams, seed: int, relax: bool = False) -> Result:
    """One random draw (``assign`` with ``max_probability < 1``). With ``relax``, the cap is
    raised only for the projects whose panels cannot keep it (too few eligible experts to
    spread over, :func:`raised_caps`), each raise listed as a bend."""
    raised = raised_caps(problem) if relax else {}
    lot = lottery(problem, params, {p: cap for p, (cap, _) in raised.items()})
    result = lot.sample(seed)
    if not raised:
        return result
    bends = tuple(
        Bend(
            Rule.MAX_PROBABILITY,
            1,
            f"{why}: max_probability raised to {cap:.2f} for {problem.project_ids[p]}'s pairs",
            project=problem.project_ids[p],
        )
        for p, (cap, why) in raised.items()
    )
    return replace(result, bends=bends)


def pair_caps(
    problem: Problem, pairs: Pairs, raised: Mapping[int, float] | None = None
) -> np.ndarray:
    """Each pair's cap: its project's ``max_probability`` (its stage's, else the batch's), or
    the raised cap of its project."""
    caps = problem.project_max_probability.astype(float).copy()
    for p, cap in (raised or {}).items():
        caps[p] = max(caps[p], cap)
    return np.asarray(caps[pairs.project])


def raised_caps(problem: Problem) -> dict[int, tuple[float, str]]:
    """The projects whose pairs cannot keep their cap because the panel has too few eligible
    experts (or enterprise experts) to spread over: per project the least cap that lets the
    panel fill in expectation, and why. ``--relax`` raises those caps, and only those."""
    pairs = eligible_pairs(problem)
    count = np.bincount(pairs.project, minlength=problem.n_projects)
    ent = np.bincount(
        pairs.project, weights=problem.expert_enterprise[pairs.expert], minlength=problem.n_projects
    )
    out = {}
    for p, pid in enumerate(problem.project_ids):
        cap = float(problem.project_max_probability[p])
        k, need = int(problem.project_panel_size[p]), int(problem.enterprise_required[p])
        wants = [
            (k / count[p], f"{pid} has {count[p]} eligible experts for a panel of {k}")
            if count[p]
            else (1.0, ""),
            (need / ent[p], f"{pid} has {int(ent[p])} eligible enterprise experts for {need} seats")
            if ent[p] and need
            else (0.0, ""),
        ]
        least, why = max(wants)
        if least > cap + EPS and why:
            out[p] = (min(least, 1.0), why)
    return out


def _capped_clashes(problem: Problem, raised: Mapping[int, float] | None) -> list[Clash]:
    """Projects whose eligible experts are too few for a panel with every pair <= its cap."""
    out = [
        Clash(
            Rule.MAX_PROBABILITY,
            f"{why}: with each at most {problem.project_max_probability[p]:g} likely, the panel "
            "is short in expectation",
            (problem.project_ids[p],),
            f"raise max_probability to at least {least:.2f} (or --relax: raise it for "
            f"{problem.project_ids[p]} only)",
        )
        for p, (least, why) in raised_caps(problem).items()
        if least > (raised or {}).get(p, 0.0) + EPS
    ]
    cap = float(problem.project_max_probability.min(initial=1.0))
    return out or [
        Clash(
            Rule.MAX_PROBABILITY,
            f"the rules hold for a fixed assignment but not with every pair at most {cap:g} "
            "likely (loads, organization caps or coverage leave too few alternatives)",
            (),
            "raise max_probability",
        )
    ]


@dataclass
class _Network:
    """The bihierarchy flow network: edge e goes tail[e] -> head[e] with flow[e]."""

    tail: np.ndarray
    head: np.ndarray
    flow: np.ndarray
    keep: np.ndarray  # edge j < keep.size is the pair keep[j] of the lottery's pairs
    n_all: int  # number of the lottery's pairs

    @classmethod
    def build(cls, problem: Problem, pairs: Pairs, x: np.ndarray) -> _Network:
        keep = np.flatnonzero(x > 0)
        pj, ej, xj = pairs.project[keep], pairs.expert[keep], x[keep]
        ent = problem.expert_enterprise.astype(np.int64)
        n_p, n_e, n_o = problem.n_projects, problem.n_experts, len(problem.org_ids)
        # node numbering: 0 source, 1 sink, then projects, (p, type), (p, type, org),
        # experts, expert types
        tail_parts, head_parts, flow_parts = [], [], []
        proj0 = 2
        ptype0 = proj0 + n_p
        porg_key = (pj * 2 + ent[ej]) * n_o + problem.expert_org[ej]
        porg_keys, porg_of_pair = np.unique(porg_key, return_inverse=True)
        porg0 = ptype0 + 2 * n_p
        exp0 = porg0 + porg_keys.size
        etype0 = exp0 + n_e
        # pair edges: (p, type, org) -> expert
        tail_parts.append(porg0 + porg_of_pair)
        head_parts.append(exp0 + ej)
        flow_parts.append(xj)
        # (p, type) -> (p, type, org)
        porg_flow = np.bincount(porg_of_pair, weights=xj, minlength=porg_keys.size)
        tail_parts.append(ptype0 + porg_keys // n_o)
        head_parts.append(porg0 + np.arange(porg_keys.size))
        flow_parts.append(porg_flow)
        # project -> (p, type)
        ptype = pj * 2 + ent[ej]
        ptype_flow = np.bincount(ptype, weights=xj, minlength=2 * n_p)
        tail_parts.append(proj0 + np.arange(2 * n_p) // 2)
        head_parts.append(ptype0 + np.arange(2 * n_p))
        flow_parts.append(ptype_flow)
        # source -> project
        tail_parts.append(np.zeros(n_p, dtype=np.int64))
        head_parts.append(proj0 + np.arange(n_p))
        flow_parts.append(np.bincount(pj, weights=xj, minlength=n_p))
        # expert -> expert type
        tail_parts.append(exp0 + np.arange(n_e))
        head_parts.append(etype0 + ent)
        load = np.bincount(ej, weights=xj, minlength=n_e)
        flow_parts.append(load)
        # expert type -> sink, sink -> source
        tail_parts.append(etype0 + np.arange(2))
        head_parts.append(np.ones(2, dtype=np.int64))
        flow_parts.append(np.bincount(ent, weights=load, minlength=2))
        tail_parts.append(np.array([1]))
        head_parts.append(np.array([0]))
        flow_parts.append(np.array([xj.sum()]))
        flow = np.concatenate(flow_parts).astype(float)
        near = np.rint(flow)
        snap = np.abs(flow - near) < EPS
        flow[snap] = near[snap]
        return cls(
            np.concatenate(tail_parts).astype(np.int64),
            np.concatenate(head_parts).astype(np.int64),
            flow,
            keep,
            len(pairs),
        )


def _round(net: _Network, rng: np.random.Generator) -> np.ndarray:
    """Dependent rounding on the network (see the module docstring); 0/1 over all pairs.

    A random walk along fractional edges until it closes a cycle; the flow is pushed around
    the cycle (:func:`_push`), which makes at least one edge integral, and the walk goes on
    from where the cycle began (Budish, Che, Kojima and Milgrom 2013).
    """
    flow = net.flow.copy()
    adj = _fractional_edges(net, flow)
    tail, head = net.tail, net.head

    def drop(e: int) -> None:
        adj[int(tail[e])].discard(e)
        adj[int(head[e])].discard(e)

    path_nodes: list[int] = []
    path_edges: list[int] = []
    where: dict[int, int] = {}
    while True:
        if not path_nodes:
            pending = sorted(v for v, edges in adj.items() if edges)
            if not pending:
                break
            start = pending[int(rng.integers(len(pending)))]  # random walks: no fixed blocks
            path_nodes, path_edges, where = [start], [], {start: 0}
        here = path_nodes[-1]
        last = path_edges[-1] if path_edges else -1
        options = adj[here] - {last}
        if not options:
            if last >= 0:  # else a walk cut back to its start, whose edges are now integral
                _snap_lone_edge(flow, last)
                drop(last)
            path_nodes, path_edges, where = [], [], {}
            continue
        choice = sorted(options)
        e = choice[int(rng.integers(len(choice)))] if len(choice) > 1 else choice[0]
        nxt = int(head[e]) if int(tail[e]) == here else int(tail[e])
        if nxt not in where:
            where[nxt] = len(path_nodes)
            path_nodes.append(nxt)
            path_edges.append(e)
            continue
        # a cycle: nodes path_nodes[i:] and edges path_edges[i:] + [e]
        i = where[nxt]
        cycle = [*path_edges[i:], e]
        walk = path_nodes[i:]
        forward = np.array([int(tail[c]) == walk[n] for n, c in enumerate(cycle)], dtype=bool)
        done = _push(flow, cycle, forward, rng)
        for c, d in zip(cycle, done.tolist(), strict=True):
            if d:
                drop(c)
        for v in path_nodes[i + 1 :]:
            del where[v]
        del path_nodes[i + 1 :]
        del path_edges[i:]
    chosen = np.zeros(net.n_all, dtype=bool)
    chosen[net.keep[np.rint(flow[: net.keep.size]) == 1]] = True
    return chosen


def _fractional_edges(net: _Network, flow: np.ndarray) -> dict[int, set[int]]:
    """Each node's fractional edges (the ones the rounding still has to make integral)."""
    adj: dict[int, set[int]] = {}
    for e in np.flatnonzero(np.abs(flow - np.rint(flow)) >= EPS).tolist():
        adj.setdefault(int(net.tail[e]), set()).add(e)
        adj.setdefault(int(net.head[e]), set()).add(e)
    return adj


def _snap_lone_edge(flow: np.ndarray, e: int) -> None:
    """Round a lone fractional edge at a node: only LP round-off can leave one."""
    if abs(flow[e] - np.rint(flow[e])) > 1e-5:
        raise InternalError("internal error: dependent rounding lost flow balance")
    flow[e] = np.rint(flow[e])


def _push(
    flow: np.ndarray, cycle: list[int], forward: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Push flow around ``cycle`` (edges, ``forward`` where walked tail to head): by +alpha
    with probability beta/(alpha+beta), else by -beta, so every expected flow is kept and at
    least one edge becomes integral. Updates ``flow``; returns which cycle edges are integral."""
    f = flow[cycle]
    up = np.ceil(f) - f
    down = f - np.floor(f)
    alpha = float(min(up[forward].min(initial=np.inf), down[~forward].min(initial=np.inf)))
    beta = float(min(down[forward].min(initial=np.inf), up[~forward].min(initial=np.inf)))
    step = alpha if rng.random() < beta / (alpha + beta) else -beta
    f = f + np.where(forward, step, -step)
    near = np.rint(f)
    done = np.abs(f - near) < EPS
    f[done] = near[done]
    flow[cycle] = f
    return done

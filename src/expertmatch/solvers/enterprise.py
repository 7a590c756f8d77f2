"""``objective="enterprise"``: the most enterprise seats at a stated cost in score.

The office wants more enterprise experts on the panels, but not at any price: with
``max_score_loss = L`` the answer is the assignment with the most enterprise seats among those
that keep every rule and score at least ``F = ceil((1 - L) x optimum)`` (integer weight units),
then the best score among those. Solved exactly, the way :mod:`expertmatch.solvers.exact`
solves the total score (priced LP, reduced-cost fixing, exact finish):

1. The total-score optimum ``S*`` by the exact solver (:func:`expertmatch.solvers.exact.solve`,
   with the chair rule's cap: :func:`expertmatch.solvers.chairs.with_chairs`).
2. The LP relaxation of

       maximise    sum_j (e_j + delta w_j) x_j          e_j = 1 for an enterprise expert
       subject to  every row of build_model,  sum_j w_j x_j >= F  (the score floor row)

   by column generation from the survey's candidates and the optimum's pairs (which keep every
   row, so the restricted LP is always feasible). With ``mu = delta + pi_F`` (``pi_F >= 0`` the
   floor row's dual) a pair's reduced cost is ``mu x (w_j + (e_j + duals_j) / mu)``: the
   pricing of the total score with the duals divided by ``mu`` and ``1 / mu`` more for each
   enterprise pair (:func:`expertmatch.solvers.pricing.price`). ``delta > 0`` keeps ``mu > 0``
   (pricing needs it) and prefers the better score among equal counts; it costs at most half
   a seat of the bound: any assignment keeping the floor has
   ``enterprise seats <= z_lp - delta F`` (the ``delta`` term is at least ``delta F``), and
   ``delta = 1 / (2 (B - F))`` with ``B`` the proven score bound.
3. Incumbents: the optimum itself; the LP rounded when it keeps every row, the floor and the
   chair cap; else HiGHS branch and cut over the LP's core (its support, each project's
   cheapest columns by reduced cost and the best assignment so far). Assignments found for
   one loss serve the others (the floors only differ).
4. Reduced-cost fixing: an assignment with at least ``N`` enterprise seats and score ``>= F``
   has ``sum_j (e_j + delta w_j) x_j >= N + delta F``, so it holds no pair whose reduced cost
   is below ``-(z_lp - delta F - N)`` and every pair at one whose removal costs more. HiGHS
   branch and cut (``scipy.optimize.milp``; the chair cap as variables ``y <= x``) solves
   what is left: the most enterprise seats (at most the LP bound, so it stops on reaching
   it), then (``score_stage``) the best score. Optimal or infeasible there proves the answer
   for the whole batch.

Where the chair rule's cap can bind, the LP holds it as columns (a chair variable ``y <= x``
per pair that may chair, one chair per panel, at most ``max_per_expert`` per expert:
:mod:`expertmatch.formulation.chair_columns`, priced with its duals as in the exact solver):
without them the bound on the office batch stood 834 seats above the answer and step 4 did not
finish; with them the four headroom points of the 1,000 x 3,000 office batch are proven
(benchmarks/RESULTS.md, set ``report``).

Status ``optimal`` only when the optimum and every step are proved; ``stats`` record the
optimum, the floor, the enterprise seats of the optimum and of the answer and the proven bound
on them (``enterprise_bound``). Deterministic: HiGHS runs single-threaded.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from expertmatch.domain.chairs import cap_can_bind, choose_chairs, may_chair, needs_chair
from expertmatch.domain.pairs import Pairs, merge
from expertmatch.domain.scoring import score_unit
from expertmatch.errors import InfeasibleError, InternalError, SolveError
from expertmatch.formulation.candidates import survey
from expertmatch.formulation.chair_columns import chair_columns_needed, extend
from expertmatch.formulation.rows import Model, build_model, integer_weights
from expertmatch.result import Result
from expertmatch.solvers.backends import LpSolution, solve_lp
from expertmatch.solvers.chairs import attach_chairs, with_chairs
from expertmatch.solvers.exact import _cheapest_per_project, solve
from expertmatch.solvers.ordered import OBJECTIVES as ORDERED_OBJECTIVES
from expertmatch.solvers.pricing import Duals, price
from expertmatch.vocabulary import Rule, Status

if TYPE_CHECKING:
    from expertmatch.domain.problem import Problem
    from expertmatch.solvers.params import SolveParams

#: The objectives ``assign(objective=...)`` accepts (the ordered ones and ``enterprise``).
OBJECTIVES = (*ORDERED_OBJECTIVES, "enterprise")
#: ``max_score_loss`` when ``objective="enterprise"`` is asked without one.
DEFAULT_MAX_SCORE_LOSS = 0.01
#: A pair prices in when its reduced cost exceeds this (enterprise seats).
PRICE_TOL = 1e-7
#: Pairs priced in per project and round.
PRICE_PER_PROJECT = 10
#: Safety margin (enterprise seats) against LP round-off in the bound and the fixing.
MARGIN = 1e-5
#: Share of the time left that the incumbent's search over the LP's core may take.
ROUNDING_SHARE = 0.5
#: Columns per project added to the core beyond the panel size.
CORE_EXTRA = 3


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


@dataclass
class _Found:
    """An assignment keeping every rule and the chair cap: its pairs, score (weight units)
    and enterprise seats."""

    pairs: Pairs
    score: int
    seats: int


@dataclass
class _Shared:
    """What the losses of one curve share: the batch, the optimum, the LP's columns (they only
    grow) and every assignment found (each serves every loss whose floor it keeps)."""

    problem: Problem
    params: SolveParams
    best: Result
    columns: Pairs
    cutoff: np.ndarray
    found: list[_Found] = field(default_factory=list)
    start: float = field(default_factory=time.perf_counter)

    until: float = math.inf
    """When the current loss's share of the time ends (``perf_counter`` seconds)."""

    def left(self) -> float:
        """Seconds left: of the whole time limit, and of the current loss's share."""
        now = time.perf_counter()
        return min(self.params.time_limit - (now - self.start), self.until - now)

    def add(self, pairs: Pairs) -> bool:
        """Keep ``pairs`` if its chairs can be chosen within the cap (and say so)."""
        if choose_chairs(self.problem, pairs)[1]:
            return False
        w = int(integer_weights(pairs.score, score_unit(self.problem)).sum())
        seats = int(self.problem.expert_enterprise[pairs.expert].sum())
        self.found.append(_Found(pairs, w, seats))
        return True

    def incumbent(self, floor: int) -> _Found:
        """The most enterprise seats, then the best score, among the assignments keeping
        ``floor`` (the optimum always does)."""
        return max((f for f in self.found if f.score >= floor), key=lambda f: (f.seats, f.score))


@dataclass
class _Relaxation:
    """The LP of step 2 after column generation: its model (floor row last), solution,
    multiplier ``mu``, scaled duals, value ``z`` and the bound on enterprise seats."""

    model: Model
    lp: LpSolution
    mu: float
    duals: Duals
    z: float
    converged: bool
    rounds: int

    def seat_bound(self, delta: float, floor: int) -> int:
        return math.floor(self.z - delta * floor + MARGIN)


def _with_floor(model: Model, floor: int, delta: float, enterprise: np.ndarray) -> Model:
    """``model`` with the score floor row ``sum w x >= floor`` last and the objective
    ``e + delta w`` (floats: only the LP reads it)."""
    w = model.weight.astype(float)
    row = sp.csr_matrix(w.reshape(1, -1))
    return replace(
        model,
        A=sp.vstack([model.A, row]).tocsr(),
        lb=np.append(model.lb, float(floor)),
        ub=np.append(model.ub, np.inf),
        row_rule=np.append(model.row_rule, Rule.MIN_SCORE).astype(object),
        row_project=np.append(model.row_project, -1),
        row_expert=np.append(model.row_expert, -1),
        row_org=np.append(model.row_org, -1),
        row_node=np.append(model.row_node, -1),
        row_quota=None if model.row_quota is None else np.append(model.row_quota, -1),
        row_stage=None if model.row_stage is None else np.append(model.row_stage, -1),
        weight=enterprise[model.pairs.expert].astype(float) + delta * w,
    )


def _scaled(duals: Duals, mu: float) -> Duals:
    """The duals divided by ``mu``, with ``1 / mu`` more for every enterprise pair: pricing
    the total score with these prices the enterprise objective (module docstring, step 2)."""
    return Duals(
        duals.panel / mu,
        duals.load / mu,
        duals.enterprise / mu,
        duals.target / mu + 1.0 / mu,
        {k: v / mu for k, v in duals.org.items()},
        {k: v / mu for k, v in duals.cov.items()},
        duals.quota / mu,
        None if duals.chair_one is None else duals.chair_one / mu,
        None if duals.chair_cap is None else duals.chair_cap / mu,
    )


def _relax(shared: _Shared, floor: int, delta: float) -> _Relaxation:
    """Step 2: column generation until no pair prices out (or time is up)."""
    problem = shared.problem
    enterprise = problem.expert_enterprise
    rounds = 0
    last: _Relaxation | None = None
    chairs = chair_columns_needed(problem)
    while True:
        rounds += 1
        model = _with_floor(build_model(problem, shared.columns), floor, delta, enterprise)
        ext = extend(problem, model, chairs=chairs)  # the chair cap as columns when it binds
        try:
            lp = solve_lp(ext, shared.left())
        except SolveError:  # out of time: the last round's Lagrangian bound still holds
            if last is None:
                raise
            return last
        if lp is None:
            raise InternalError("the enterprise LP holds the optimum's pairs, yet is infeasible")
        m, n = model.n_rows, model.n_pairs
        mu = delta + max(float(lp.pi[m - 1]), 0.0)  # the floor row is the model's last
        one, cap = ext.chair_duals(problem, lp.pi, m)
        plain = Duals.from_model(problem, model, lp.pi[:m])
        duals = _scaled(replace(plain, chair_one=one, chair_cap=cap) if chairs else plain, mu)
        lp = LpSolution(lp.x[:n], lp.z, lp.pi[:m], lp.reduced_low[:n], lp.reduced_up[:n])
        new, best = price(
            problem, duals, shared.columns, shared.cutoff, PRICE_TOL / mu, PRICE_PER_PROJECT
        )
        gain = mu * float(np.sum(problem.project_panel_size * np.maximum(best, 0.0)))
        last = _Relaxation(model, lp, mu, duals, lp.z + gain, len(new) == 0, rounds)
        if len(new) == 0 or shared.left() <= 0:
            return last
        shared.columns = merge(shared.columns, new, problem.n_experts)


def _round(shared: _Shared, relax: _Relaxation, floor: int, bound: int) -> None:
    """Step 3: the rounded LP if it keeps every row; else HiGHS over a core of the LP's
    columns (its support and each project's ``panel size + CORE_EXTRA`` columns of smallest
    reduced cost): the most enterprise seats with the floor, in a share of the time left."""
    model, lp = relax.model, relax.lp
    pairs = model.pairs
    rounded = lp.x > 0.5
    if model.satisfied(rounded) and shared.add(pairs.take(rounded)):
        return
    core = (lp.x > 1e-6) | pairs.member_of(shared.incumbent(floor).pairs, shared.problem.n_experts)
    extra = int(shared.problem.project_panel_size.max()) + CORE_EXTRA
    core |= _cheapest_per_project(pairs.project, lp.reduced_low, extra)
    sub = pairs.take(core)
    left = shared.left() * ROUNDING_SHARE
    try:
        found = _milp(shared, sub, floor, 0, bound, np.zeros(0, dtype=np.int64), False, left)
    except (InfeasibleError, SolveError):
        return
    shared.add(found[0])


def _milp(
    shared: _Shared,
    pairs: Pairs,
    floor: int,
    at_least: int,
    at_most: int,
    fixed: np.ndarray,
    score_stage: bool,
    time_left: float,
) -> tuple[Pairs, bool, float]:
    """HiGHS branch and cut over ``pairs``: every row of build_model, the floor, a chair
    variable ``y <= x`` per member who may chair a panel needing one (one per such panel, at
    most ``max_per_expert`` per expert) when the cap can bind, ``fixed`` positions at one;
    the most enterprise seats within [at_least, at_most], then (``score_stage``) the best
    score. The assignment, whether every stage was proved and the score bound (weight units).
    Raises InfeasibleError when nothing reaches ``at_least``, SolveError when time runs out
    with nothing found."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    start = time.perf_counter()
    problem = shared.problem
    model = build_model(problem, pairs)
    n = len(pairs)
    A, lb, ub, ny = _chair_columns(problem, model)
    ent = np.concatenate([problem.expert_enterprise[pairs.expert].astype(float), np.zeros(ny)])
    w = np.concatenate([model.weight.astype(float), np.zeros(ny)])
    rows = sp.vstack([A, sp.csr_matrix(ent), sp.csr_matrix(w)]).tocsr()
    lb = np.concatenate([lb, [at_least, floor]])
    ub = np.concatenate([ub, [at_most, np.inf]])
    low = np.zeros(n + ny)
    low[fixed] = 1.0
    proved = True
    x = None
    for objective, last in ((ent, not score_stage), (w, True)):
        res = milp(
            -objective,
            integrality=np.ones(n + ny),
            bounds=Bounds(low, np.ones(n + ny)),
            constraints=LinearConstraint(rows, lb, ub),
            options={
                "time_limit": max(time_left - (time.perf_counter() - start), 1.0),
                "mip_rel_gap": 0.0,
            },
        )
        if res.status == 2:
            raise InfeasibleError([])
        if res.x is None:
            if x is None:
                raise SolveError("no assignment within the time limit", Status.TIMEOUT)
            return pairs.take(x), False, math.inf
        proved = proved and res.status == 0
        x = res.x[:n] > 0.5
        if last:
            bound = -float(res.mip_dual_bound) if score_stage else math.inf
            return pairs.take(x), proved, bound
        lb[-2] = float(np.rint(-res.fun))  # hold the seats reached
    raise AssertionError("unreachable")


def _chair_columns(
    problem: Problem, model: Model
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, int]:
    """``model``'s rows with the chair cap's variables appended (none when it cannot bind):
    ``A, lb, ub`` over ``x`` then ``y``, and the number of ``y``."""
    chair = problem.rules.chair
    if chair is None or not cap_can_bind(problem):
        return model.A, model.lb, model.ub, 0
    pairs = model.pairs
    can = np.flatnonzero(needs_chair(problem)[pairs.project] & may_chair(problem)[pairs.expert])
    need = np.flatnonzero(needs_chair(problem))
    nx, ny = model.n_pairs, can.size
    renum = np.full(problem.n_projects, -1)
    renum[need] = np.arange(need.size)
    ones = np.ones(ny)
    y = np.arange(ny)
    blocks = [
        [model.A, sp.csr_matrix((model.n_rows, ny))],
        [-sp.csr_matrix((ones, (y, can)), shape=(ny, nx)), sp.identity(ny, format="csr")],
        [
            sp.csr_matrix((need.size, nx)),
            sp.csr_matrix((ones, (renum[pairs.project[can]], y)), shape=(need.size, ny)),
        ],
        [
            sp.csr_matrix((problem.n_experts, nx)),
            sp.csr_matrix((ones, (pairs.expert[can], y)), shape=(problem.n_experts, ny)),
        ],
    ]
    A = sp.bmat(blocks).tocsr()
    lb = np.concatenate(
        [model.lb, np.full(ny, -np.inf), np.ones(need.size), np.full(problem.n_experts, -np.inf)]
    )
    ub = np.concatenate(
        [
            model.ub,
            np.zeros(ny),
            np.ones(need.size),
            np.full(problem.n_experts, chair.max_per_expert),
        ]
    )
    return A, lb, ub, ny


def _finish(
    shared: _Shared, relax: _Relaxation, floor: int, delta: float, score_stage: bool
) -> tuple[_Found, bool, float, int]:
    """Step 4 for one floor: the answer, whether it is proved, its score bound (weight units)
    and the pairs HiGHS was given. Without ``score_stage`` an incumbent at the LP bound is
    proved as it is, and HiGHS only looks for more seats than the incumbent's."""
    inc = shared.incumbent(floor)
    bound = relax.seat_bound(delta, floor)
    if not score_stage and inc.seats >= bound:
        return inc, True, math.inf, 0
    if not relax.converged:
        return inc, False, math.inf, 0
    target = inc.seats if score_stage else inc.seats + 1
    lp, model = relax.lp, relax.model
    slack = relax.z - delta * floor - target + MARGIN
    keep = lp.reduced_low <= slack
    must = -lp.reduced_up > slack
    columns = model.pairs
    outside, _ = price(shared.problem, relax.duals, columns, shared.cutoff, -slack / relax.mu, None)
    pairs = merge(columns.take(keep), outside, shared.problem.n_experts)
    fixed = np.flatnonzero(pairs.member_of(columns.take(must), shared.problem.n_experts))
    try:
        chosen, proved, score_bound = _milp(
            shared, pairs, floor, target, bound, fixed, score_stage, shared.left()
        )
    except InfeasibleError:  # no assignment beats the incumbent: it is optimal
        return inc, True, math.inf, len(pairs)
    except SolveError:
        return inc, False, math.inf, len(pairs)
    shared.add(chosen)
    answer = shared.incumbent(floor)
    return answer, proved, score_bound, len(pairs)


def enterprise_curve(
    problem: Problem,
    params: SolveParams,
    losses: tuple[float, ...],
    best: Result,
    score_stage: bool = False,
) -> list[Result]:
    """For each loss, the assignment with the most enterprise seats keeping every rule and a
    score at least ``(1 - loss) x`` the score of ``best`` (the best-scoring assignment), then
    (with ``score_stage``) the best score; one time limit for them all, each loss getting an
    equal share of what is left when it starts. The LP columns and the assignments found serve
    every loss (module docstring)."""
    unit = score_unit(problem)
    optimum = int(integer_weights(best.pairs.score, unit).sum())
    surv = survey(problem, extra=params.extra_candidates)
    columns = merge(surv.candidates, best.pairs, problem.n_experts)
    shared = _Shared(problem, params, best, columns, surv.cutoff)
    shared.add(best.pairs)
    if not shared.found:
        raise InternalError("the best-scoring assignment leaves a panel without a chair")
    score_bound = max(math.floor(best.bound / unit + 1e-6), optimum)
    out = []
    for i, loss in enumerate(losses):  # each loss gets an equal share of the time left
        shared.until = math.inf
        shared.until = time.perf_counter() + shared.left() / (len(losses) - i)
        out.append(attach_chairs(problem, _point(shared, loss, optimum, score_bound, score_stage)))
    return out


def _point(
    shared: _Shared, loss: float, optimum: int, score_bound: int, score_stage: bool
) -> Result:
    """One loss of the curve: steps 2-4, or, when time ran out before any LP, the best
    assignment found so far with the trivial bound (every seat)."""
    problem, best = shared.problem, shared.best
    unit = score_unit(problem)
    begin = time.perf_counter()
    floor = score_floor(optimum, check_loss(loss))
    delta = 0.5 / max(score_bound - floor, 1)
    stats: dict[str, Any] = {}
    try:
        relax = _relax(shared, floor, delta)
    except SolveError:
        answer, proved, bound = shared.incumbent(floor), False, math.inf
        seat_bound = int(problem.project_panel_size.sum())
    else:
        _round(shared, relax, floor, relax.seat_bound(delta, floor))
        answer, proved, bound, finish_pairs = _finish(shared, relax, floor, delta, score_stage)
        seat_bound = answer.seats if proved else relax.seat_bound(delta, floor)
        stats = {
            "lp_rounds": relax.rounds,
            "lp_columns": len(relax.model.pairs),
            "finish_pairs": finish_pairs,
        }
    proved = proved and best.status == Status.OPTIMAL
    return Result.build(
        problem,
        answer.pairs,
        status=Status.OPTIMAL if proved else Status.TIMEOUT,
        objective=answer.score * unit,
        bound=(max(bound, answer.score) if math.isfinite(bound) else score_bound) * unit,
        time_s=time.perf_counter() - begin,
        seed=shared.params.seed,
        stats={
            "method": "enterprise: most enterprise seats with score >= (1 - L) x optimum, "
            "then score (priced LP with the score floor row, reduced-cost fixing, HiGHS "
            "branch and cut)",
            "max_score_loss": loss,
            "optimum": optimum * unit,
            "optimum_status": str(best.status),
            "score_floor": floor * unit,
            "enterprise_seats_optimum": int(problem.expert_enterprise[best.pairs.expert].sum()),
            "enterprise_seats": answer.seats,
            "enterprise_bound": max(seat_bound, answer.seats),
            **stats,
        },
    )


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
    left = max(params.time_limit - (time.perf_counter() - start), 1.0)
    result = enterprise_curve(
        problem, replace(params, time_limit=left), (loss,), best, score_stage=True
    )[0]
    return replace(result, time_s=time.perf_counter() - start)

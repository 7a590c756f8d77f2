"""Best effort when the rules cannot all hold: the assignment that bends the fewest rules.

Conflicts of interest, eligibility and panel sizes never bend. The other rules bend in an
order of priority (``BEND_ORDER``, configurable): the rule listed first bends first, the rule
listed last is the most protected. Bending is measured in units an office can read:

- ``max_per_org``: experts beyond the organization cap on a panel;
- ``coverage``: project fields no panel expert covers;
- ``quota``: members a panel (or all seats of a batch quota) lacks or has beyond a quota;
- ``enterprise_share``: enterprise experts missing from a panel (and, for the round-level
  ``enterprise_target_share`` or a stage's own, enterprise reviews missing);
- ``max_load``: reviews beyond an expert's max_load in this batch;
- ``yearly_cap``: reviews beyond an expert's yearly cap (``used`` + this batch).

The solve is lexicographic, one CP-SAT model solved in stages: first the fewest bends of the
most protected rule, that minimum is then held while the next rule's bends are minimised, and
so on; last the score is maximised with every bend count held. Every bend is listed by rule,
project and expert in the result and in ``report.json``.

A caller may put goals of its own between the bends and the score (``goals``, each maximised
and then held in turn) and start the search from a 0/1 vector over the eligible pairs
(``hint``): ``reassign --relax`` keeps the most earlier pairs that way
(:mod:`expertmatch.rounds.reassign`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import numpy as np

from expertmatch.domain.coverage import coverage_rows
from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.rules import STAGES
from expertmatch.domain.scoring import score_unit
from expertmatch.errors import Clash, InfeasibleError, InternalError
from expertmatch.formulation.candidates import Survey, survey
from expertmatch.formulation.cpsat import run_stage
from expertmatch.formulation.rows import Model, build_model, integer_weights
from expertmatch.result import Result, Stats
from expertmatch.solvers import bends
from expertmatch.solvers.bends import BEND_ORDER, OVER
from expertmatch.vocabulary import Rule, Status

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

    from expertmatch.domain.problem import Problem
    from expertmatch.result import Result
    from expertmatch.solvers.params import SolveParams


@dataclass(frozen=True)
class Bend:
    """One bent rule: which rule, where, by how much, in words."""

    rule: str
    amount: int
    message: str
    project: str | None = None
    expert: str | None = None
    group: str | None = None
    """A meeting group's seats (会评): the group bent, with ``project`` None."""

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "project": self.project,
            "expert": self.expert,
            **({"group": self.group} if self.group is not None else {}),
            "amount": self.amount,
            "message": self.message,
        }


def check_order(order: tuple[str, ...]) -> tuple[str, ...]:
    """The bend order must name each bendable rule exactly once."""
    if sorted(order) != sorted(BEND_ORDER):
        raise ValueError(
            f"bend order must list each of {', '.join(BEND_ORDER)} once, not {', '.join(order)}"
        )
    return tuple(order)


#: A goal between the fewest bends and the score: its name and, given the model's columns (the
#: batch's eligible pairs) and their 0/1 variables, the expression to maximise.
RelaxGoal: TypeAlias = (
    "tuple[str, Callable[[Pairs, Sequence[cp_model.IntVar]], cp_model.LinearExprT]]"
)

#: The method a relaxed solve reports when the caller names none.
METHOD = "relaxed (lexicographic CP-SAT)"


#: One bendable row: its slack (the amount bent), the rule, the project index (-1 for none)
#: and where it applies (the model row, or the expert index for loads).
Slack: TypeAlias = "tuple[cp_model.IntVar, str, int, int]"


@dataclass(frozen=True)
class RelaxStats(Stats):
    """``Result.stats`` of a relaxed solve."""

    method: str
    bend_order: list[str]
    """The bend order used, first bends first."""
    bends_by_rule: dict[str, int]
    """The fewest bends reached for each rule (most protected first)."""


@dataclass
class _Relaxed:
    """The CP-SAT model with a slack on every bendable rule; panel sizes held exactly."""

    sat: cp_model.CpModel
    x: list[cp_model.IntVar]
    slack: dict[str, list[Slack]]
    proved: bool = True

    def solve(self, params: SolveParams, time_left: float, name: str) -> cp_model.CpSolver:
        """One stage; a model that has no solution is a fault here (every rule can bend)."""
        try:
            solver, proved = run_stage(self.sat, params, time_left, name)
        except InfeasibleError as error:
            raise InternalError(
                f"the relaxed model has no solution, although every bendable rule has a "
                f"slack ({name})"
            ) from error
        self.proved = self.proved and proved
        return solver

    def optimise(
        self,
        expr: cp_model.LinearExprT,
        maximize: bool,
        params: SolveParams,
        time_left: float,
        name: str,
    ) -> tuple[cp_model.CpSolver, int]:
        """One stage: optimise ``expr``, hold the value reached and hint the solution to the
        next stage."""
        if maximize:
            self.sat.maximize(expr)
        else:
            self.sat.minimize(expr)
        solver = self.solve(params, time_left, name)
        value = round(solver.objective_value)
        self.sat.add(expr >= value if maximize else expr <= value)
        self.hint([solver.boolean_value(v) for v in self.x])
        return solver, value

    def hint(self, chosen: Sequence[bool]) -> None:
        """Start the next stage's search from a 0/1 vector over the pairs."""
        self.sat.clear_hints()
        for var, value in zip(self.x, chosen, strict=True):
            self.sat.add_hint(var, bool(value))


def solve_relaxed(
    problem: Problem,
    params: SolveParams,
    order: tuple[str, ...] = BEND_ORDER,
    *,
    goals: Sequence[RelaxGoal] = (),
    hint: np.ndarray | None = None,
    method: str = METHOD,
) -> Result:
    """The assignment that bends the fewest rules (by priority), then maximises each of
    ``goals`` in turn, then scores highest. ``hint``: a 0/1 vector over the eligible pairs
    (``eligible_pairs(problem)``) the search starts from."""
    from ortools.sat.python import cp_model

    order = check_order(order)
    start = time.perf_counter()

    def left() -> float:
        return params.time_limit - (time.perf_counter() - start)

    if not goals and hint is None:
        surv = survey(problem, extra=params.extra_candidates, with_capacity=False)
        if surv.total_eligible > bends.ALL_PAIRS_UP_TO:
            return _solve_priced(problem, params, order, surv, left, start)
    pairs = eligible_pairs(problem)
    model = build_model(problem, pairs)
    relaxed = _relaxed_model(problem, pairs, model)
    if hint is not None:
        relaxed.hint(hint.astype(bool).tolist())
    held = _fewest_bends(relaxed, order, params, left)
    for name, goal in goals:
        relaxed.optimise(goal(pairs, relaxed.x), True, params, left(), name)
    weights = integer_weights(pairs.score, score_unit(problem))
    objective = cp_model.LinearExpr.weighted_sum(relaxed.x, weights.tolist())
    relaxed.sat.maximize(objective)
    solver = relaxed.solve(params, left(), "score")
    chosen = np.array([solver.boolean_value(v) for v in relaxed.x], dtype=bool)
    value = round(solver.objective_value)
    bound = math.floor(solver.best_objective_bound + 1e-9)
    return Result.build(
        problem,
        pairs.take(chosen),
        status=Status.OPTIMAL if relaxed.proved else Status.TIMEOUT,
        objective=value * score_unit(problem),
        bound=max(bound, value) * score_unit(problem),
        time_s=time.perf_counter() - start,
        seed=params.seed,
        stats=RelaxStats(method=method, bend_order=list(order), bends_by_rule=held),
        bends=tuple(_bends(problem, _solved_amounts(solver, relaxed.slack), model)),
    )


def _relaxed_model(problem: Problem, pairs: Pairs, model: Model) -> _Relaxed:
    """Every row of ``model`` with a slack, except panel sizes (exact) and loads (replaced by
    separate ``max_load`` and ``yearly_cap`` rows, so that each bends on its own)."""
    from ortools.sat.python import cp_model

    sat = cp_model.CpModel()
    x = [sat.new_bool_var(f"x{j}") for j in range(len(pairs))]
    relaxed = _Relaxed(sat, x, {r: [] for r in BEND_ORDER})
    A = model.A
    for r in range(model.n_rows):
        rule = str(model.row_rule[r])
        if rule == Rule.LOAD:
            continue
        idx = A.indices[A.indptr[r] : A.indptr[r + 1]]
        expr = cp_model.LinearExpr.sum([x[i] for i in idx])
        lo, hi = model.lb[r], model.ub[r]
        if rule == Rule.PANEL_SIZE:
            if idx.size < lo:
                raise InfeasibleError([_too_few_eligible(problem, model, r, idx.size)])
            sat.add(expr == int(lo))
            continue
        key = bends.bend_key(rule)
        project = int(model.row_project[r])
        if math.isfinite(lo) and lo > 0:  # a minimum: missing members bend it
            s = sat.new_int_var(0, int(lo), f"s{r}")
            sat.add(expr + s >= int(lo))
            relaxed.slack[key].append((s, rule, project, r))
        if math.isfinite(hi):  # a maximum: members beyond it bend it
            s = sat.new_int_var(0, idx.size, f"t{r}")
            sat.add(expr - s <= int(hi))
            relaxed.slack[key].append((s, rule + OVER, project, r))
    _load_rows(problem, pairs, relaxed)
    return relaxed


def _too_few_eligible(problem: Problem, model: Model, row: int, eligible: int) -> Clash:
    return _too_few(problem, int(model.row_project[row]), eligible)


def _too_few(problem: Problem, project: int, eligible: int) -> Clash:
    pid = problem.project_ids[project]
    need = int(problem.project_panel_size[project])
    return Clash(
        Rule.PANEL_SIZE,
        f"{pid} needs {need} experts; only {eligible} are eligible (conflicts and "
        "eligibility never bend)",
        (pid,),
    )


def _load_rows(problem: Problem, pairs: Pairs, relaxed: _Relaxed) -> None:
    """Each expert's ``max_load`` and ``yearly_cap`` as separate rows, each with a slack."""
    from ortools.sat.python import cp_model

    by_expert = np.argsort(pairs.expert, kind="stable")
    experts, start_at = np.unique(pairs.expert[by_expert], return_index=True)
    ends = np.r_[start_at[1:], len(pairs)]
    for k, e in enumerate(experts):
        idx = by_expert[start_at[k] : ends[k]]
        expr = cp_model.LinearExpr.sum([relaxed.x[i] for i in idx])
        limits = (
            (Rule.MAX_LOAD, int(problem.expert_max_load[e])),
            (Rule.YEARLY_CAP, max(problem.rules.yearly_cap - int(problem.expert_used[e]), 0)),
        )
        for rule, limit in limits:
            if idx.size > limit:
                s = relaxed.sat.new_int_var(0, idx.size, f"{rule}{e}")
                relaxed.sat.add(expr - s <= limit)
                relaxed.slack[rule].append((s, rule, -1, int(e)))


def _fewest_bends(
    relaxed: _Relaxed, order: tuple[str, ...], params: SolveParams, left: Callable[[], float]
) -> dict[str, int]:
    """Minimise each rule's bends, most protected first, holding each minimum reached; the
    last solution is hinted to the next stage."""
    from ortools.sat.python import cp_model

    held: dict[str, int] = {}
    for rule in reversed(order):
        if not relaxed.slack[rule]:
            held[rule] = 0
            continue
        total = cp_model.LinearExpr.sum([s for s, *_ in relaxed.slack[rule]])
        _, held[rule] = relaxed.optimise(total, False, params, left(), rule)
    return held


#: One bent row: the amount, its rule (``OVER`` marks a maximum), the project index (-1 for
#: none) and where it applies (the model row, or the expert index for loads).
Amount = tuple[int, str, int, int]


def _solved_amounts(solver: cp_model.CpSolver, slack: dict[str, list[Slack]]) -> list[Amount]:
    """The slacks' values in a CP-SAT solution, in ``BEND_ORDER``."""
    return [
        (int(solver.value(var)), rule, project, where)
        for key in BEND_ORDER
        for var, rule, project, where in slack[key]
    ]


def _bends(problem: Problem, amounts: Sequence[Amount], model: Model) -> list[Bend]:
    out: list[Bend] = []
    for amount, rule, project, where in amounts:
        if amount == 0:
            continue
        pid = problem.project_ids[project] if project >= 0 else None
        if rule in (Rule.MAX_LOAD, Rule.YEARLY_CAP):
            eid = problem.expert_ids[where]
            limit = (
                int(problem.expert_max_load[where])
                if rule == Rule.MAX_LOAD
                else problem.rules.yearly_cap
            )
            out.append(
                Bend(
                    rule,
                    amount,
                    f"{eid} gets {amount} review(s) beyond {rule} {limit}",
                    expert=eid,
                )
            )
        elif rule.removesuffix(OVER) == Rule.MAX_PER_ORG or rule == Rule.MAX_PER_ORG:
            org = problem.org_ids[int(model.row_org[where])]
            out.append(
                Bend(
                    Rule.MAX_PER_ORG,
                    amount,
                    f"{pid}: {amount} expert(s) beyond max_per_org from organization {org}",
                    project=pid,
                )
            )
        elif rule == Rule.COVERAGE:
            node = coverage_rows(problem).nodes[int(model.row_node[where])]
            out.append(
                Bend(rule, amount, f"{pid}: no panel expert covers field {node}", project=pid)
            )
        elif rule == Rule.ENTERPRISE_SHARE:
            out.append(
                Bend(
                    rule,
                    amount,
                    f"{pid}: {amount} enterprise expert(s) short of the minimum share",
                    project=pid,
                )
            )
        elif rule == Rule.ENTERPRISE_TARGET_SHARE:
            out.append(_target_bend(problem, model, where, amount))
        elif rule.startswith(Rule.QUOTA):
            out.append(_quota_bend(problem, model, where, amount, rule.endswith(OVER), pid))
        else:
            org = problem.org_ids[int(model.row_org[where])]
            out.append(
                Bend(
                    rule,
                    amount,
                    f"{pid}: {amount} expert(s) beyond max_per_org from organization {org}",
                    project=pid,
                )
            )
    return out


def _target_bend(problem: Problem, model: Model, row: int, amount: int) -> Bend:
    """The round's (or a stage's own) enterprise target, short by ``amount`` reviews."""
    stage = int(model.row_stage[row]) if model.row_stage is not None else -1
    where = "the batch is" if stage < 0 else f"the {STAGES[stage]} seats are"
    return Bend(
        Rule.ENTERPRISE_TARGET_SHARE,
        amount,
        f"{where} {amount} enterprise review(s) short of enterprise_target_share",
    )


def _quota_bend(
    problem: Problem, model: Model, row: int, amount: int, over: bool, pid: str | None
) -> Bend:
    """A quota's minimum short by (or its maximum exceeded by) ``amount`` members."""
    quota = problem.count_rules[int(model.row_quota[row])] if model.row_quota is not None else None
    return quota_bend(quota.name if quota is not None else "?", amount, over, pid)


def quota_bend(name: str, amount: int, over: bool, pid: str | None = None) -> Bend:
    """The quota ``name`` short of its minimum (or beyond its maximum, ``over``) by ``amount``
    members, in project ``pid``'s panel or (None) over the batch's seats."""
    where = f"{pid}:" if pid else "the batch:"
    side = "beyond the maximum" if over else "short of the minimum"
    return Bend(Rule.QUOTA, amount, f"{where} quota {name} {amount} member(s) {side}", project=pid)


# -- beyond ALL_PAIRS_UP_TO eligible pairs: the same stages over priced columns ----------------

#: The method a relaxed solve over priced columns reports.
PRICED_METHOD = "relaxed (lexicographic, HiGHS over priced columns)"


def _solve_priced(
    problem: Problem,
    params: SolveParams,
    order: tuple[str, ...],
    surv: Survey,
    left: Callable[[], float],
    start: float,
) -> Result:
    """:func:`solve_relaxed` over a column set grown by pricing (:mod:`.bends`)."""
    short = np.flatnonzero(surv.eligible < problem.project_panel_size)
    if short.size:  # conflicts and eligibility never bend
        raise InfeasibleError([_too_few(problem, int(p), int(surv.eligible[p])) for p in short])
    out = bends.fewest_bends(problem, surv, order, left)
    unit = score_unit(problem)
    value = out.found.value
    bound = value if out.proved else max(math.floor(out.bound + 1e-6), value)
    return Result.build(
        problem,
        out.model.pairs.take(out.found.chosen),
        status=Status.OPTIMAL if out.proved else Status.TIMEOUT,
        objective=value * unit,
        bound=bound * unit,
        time_s=time.perf_counter() - start,
        seed=params.seed,
        stats=RelaxStats(
            method=PRICED_METHOD,
            bend_order=list(order),
            bends_by_rule={rule: out.held.get(rule, 0) for rule in reversed(order)},
        ),
        bends=tuple(_bends(problem, out.found.amounts, out.model)),
    )

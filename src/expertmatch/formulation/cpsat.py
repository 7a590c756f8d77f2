"""Every rule of :func:`expertmatch.formulation.rows.build_model` as one CP-SAT model, solved
goal by goal (:class:`SatModel`): optimise a goal, hold the value reached, hint the solution
to the next goal. Used by the ordered objectives, reassignment and the relaxed solve."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np

from expertmatch.domain.chairs import cap_can_bind, may_chair, needs_chair
from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.problem import Problem
from expertmatch.errors import Clash, InfeasibleError, InternalError, SolveError
from expertmatch.formulation.rows import Model, build_model
from expertmatch.vocabulary import Rule, Status

if TYPE_CHECKING:
    from ortools.sat.python import cp_model


class SearchSettings(Protocol):
    """What a CP-SAT stage needs of the solve parameters (``SolveParams`` has it)."""

    @property
    def seed(self) -> int: ...

    @property
    def workers(self) -> int: ...


@dataclass
class SatModel:
    """One CP-SAT model of every rule over ``pairs``: ``x[j]`` is 1 when pair j is assigned."""

    problem: Problem
    pairs: Pairs
    model: Model
    sat: cp_model.CpModel
    x: list[cp_model.IntVar]
    held: dict[str, int] = field(default_factory=dict)
    proved: bool = True
    scale: dict[str, float] = field(default_factory=dict)
    """Unit of a held goal's value where it is not a plain count (e.g. the worst mean score)."""

    @classmethod
    def build(cls, problem: Problem, pairs: Pairs | None = None) -> SatModel:
        from ortools.sat.python import cp_model

        pairs = eligible_pairs(problem) if pairs is None else pairs
        model = build_model(problem, pairs)
        sat = cp_model.CpModel()
        x = [sat.new_bool_var(f"x{j}") for j in range(len(pairs))]
        A = model.A
        for r in range(model.n_rows):
            idx = A.indices[A.indptr[r] : A.indptr[r + 1]]
            expr = cp_model.LinearExpr.sum([x[i] for i in idx])
            lo, hi = model.lb[r], model.ub[r]
            if math.isfinite(lo) and math.isfinite(hi):
                sat.add_linear_constraint(expr, int(lo), int(hi))
            elif math.isfinite(lo):
                sat.add(expr >= int(lo))
            else:
                sat.add(expr <= int(hi))
        _chair_variables(problem, pairs, sat, x)
        return cls(problem, pairs, model, sat, x)

    def score(self) -> cp_model.LinearExprT:
        """The total score in integer units (``model.weight``)."""
        from ortools.sat.python import cp_model

        return cp_model.LinearExpr.weighted_sum(self.x, self.model.weight.tolist())

    def grouped(self, keys: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Column indices of the pairs grouped by ``keys`` (one entry per distinct key)."""
        if keys.size == 0:
            return []
        order = np.argsort(keys, kind="stable")
        uniq, start = np.unique(keys[order], return_index=True)
        stop = np.r_[start[1:], order.size]
        return [(int(k), order[a:b]) for k, a, b in zip(uniq, start, stop, strict=True)]

    def stage(
        self,
        name: str,
        expr: cp_model.LinearExprT,
        maximize: bool,
        params: SearchSettings,
        time_left: float,
    ) -> tuple[cp_model.CpSolver, int]:
        """Optimise ``expr``, then hold the value reached and hint the solution to later stages.

        Raises :class:`InfeasibleError` when CP-SAT proves that the rules (and the values held
        by earlier stages) cannot all hold, and :class:`SolveError` when no solution is found
        in time.
        """
        if maximize:
            self.sat.maximize(expr)
        else:
            self.sat.minimize(expr)
        solver, proved = run_stage(self.sat, params, time_left, name)
        self.proved = self.proved and proved
        value = round(solver.objective_value)
        self.held[name] = value
        self.sat.add(expr >= value if maximize else expr <= value)
        self.hint(np.array([solver.boolean_value(v) for v in self.x], dtype=bool))
        return solver, value

    def hint(self, chosen: np.ndarray) -> None:
        """Start the search from a 0/1 vector over the pairs."""
        self.sat.clear_hints()
        for var, value in zip(self.x, chosen.tolist(), strict=True):
            self.sat.add_hint(var, bool(value))


def run_stage(
    sat: cp_model.CpModel, params: SearchSettings, time_left: float, name: str
) -> tuple[cp_model.CpSolver, bool]:
    """Solve ``sat`` once; return the solver and whether its answer is proved optimal.

    The one reading of CP-SAT's status for every staged solve: ``INFEASIBLE`` raises
    :class:`InfeasibleError` (one ``combined`` clash: CP-SAT names no rule), no solution in
    ``time_left`` raises :class:`SolveError` (a timeout) and an invalid model raises
    :class:`InternalError`.
    """
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_left, 0.5)
    solver.parameters.random_seed = params.seed
    solver.parameters.num_workers = params.workers
    # several workers, interleaved in one thread: the portfolio's strength with a
    # deterministic search (same input and seed, same answer)
    solver.parameters.interleave_search = params.workers > 1
    code = solver.solve(sat)
    if code == cp_model.INFEASIBLE:
        raise InfeasibleError(
            [
                Clash(
                    Rule.COMBINED,
                    f"no assignment satisfies all rules together (CP-SAT proved it while "
                    f"optimising {name})",
                )
            ]
        )
    if code == cp_model.MODEL_INVALID:
        raise InternalError(f"CP-SAT rejected the model ({name}): {sat.validate()}")
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise SolveError(f"no assignment found within the time limit ({name})", Status.TIMEOUT)
    return solver, code == cp_model.OPTIMAL


def _chair_variables(
    problem: Problem, pairs: Pairs, sat: cp_model.CpModel, x: list[cp_model.IntVar]
) -> None:
    """When ``max_per_expert`` of the chair rule can bind: a chair variable per member who may
    chair, exactly one per panel that needs a chair, only on the panel, at most
    ``max_per_expert`` per expert (the rule exactly, not only its necessary part)."""
    from ortools.sat.python import cp_model

    chair = problem.rules.chair
    if chair is None or not cap_can_bind(problem):
        return
    can = needs_chair(problem)[pairs.project] & may_chair(problem)[pairs.expert]
    per_project: dict[int, list[cp_model.IntVar]] = {}
    per_expert: dict[int, list[cp_model.IntVar]] = {}
    for j in np.flatnonzero(can).tolist():
        y = sat.new_bool_var(f"chair{j}")
        sat.add(y <= x[j])
        per_project.setdefault(int(pairs.project[j]), []).append(y)
        per_expert.setdefault(int(pairs.expert[j]), []).append(y)
    for p in np.flatnonzero(needs_chair(problem)).tolist():
        sat.add(cp_model.LinearExpr.sum(per_project.get(p, [])) == 1)
    for ys in per_expert.values():
        if len(ys) > chair.max_per_expert:
            sat.add(cp_model.LinearExpr.sum(ys) <= chair.max_per_expert)

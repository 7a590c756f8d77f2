"""The relaxed solve at scale: the fewest bends over priced columns, never every pair at once.

:func:`expertmatch.solvers.relax.solve_relaxed` holds one CP-SAT model over every eligible
pair, which is right for a few hundred thousand pairs and out of reach for tens of millions.
Beyond :data:`ALL_PAIRS_UP_TO` eligible pairs it runs the same lexicographic solve here, over a
column set that grows only where pricing says it must:

1. Columns: the survey's candidates (:func:`expertmatch.formulation.candidates.survey`): each
   project's best experts and enough to satisfy each rule.
2. Each stage (each bendable rule, the most protected first, then the score) starts with its
   LP over the columns: every row of the batch, a slack on each bendable row (panel sizes
   exact, loads split into ``max_load`` and ``yearly_cap`` rows as in the CP-SAT model), the
   minima of the earlier stages held. Every eligible pair whose reduced cost is positive is
   priced in (:func:`expertmatch.solvers.pricing.price`; a bend stage gives pairs no weight,
   only its slacks count) until none is left: the LP value is then a bound for all pairs. The
   slacks make every restricted LP feasible, so no artificial columns are needed.
3. CP-SAT over the columns gives the stage's integer value. It is proven for the whole batch
   when it reaches the LP bound, or when no pair left out has a reduced cost within the gap
   (an assignment using such a pair is worse than the one found: the reduced-cost argument of
   :mod:`expertmatch.solvers.exact`). Otherwise those pairs (at most :data:`ADD_PER_PROJECT`
   a project and round) join the columns and the stage is solved again, up to
   :data:`ROUNDS` times; a stage still unproven makes the result's status ``timeout``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog

from expertmatch.domain.pairs import Pairs, merge
from expertmatch.domain.scoring import score_unit
from expertmatch.errors import SolveError
from expertmatch.formulation.candidates import Survey
from expertmatch.formulation.rows import Model, build_model, integer_weights
from expertmatch.solvers.pricing import Duals, price
from expertmatch.vocabulary import Rule, Status

if TYPE_CHECKING:
    from expertmatch.domain.problem import Problem

#: Largest batch (eligible pairs) solved over every pair at once (:mod:`relax`).
ALL_PAIRS_UP_TO = 1_000_000
#: A pair prices in when its reduced cost exceeds this.
PRICE_TOL = 1e-6
#: Pairs priced in per project and LP round.
PRICE_PER_PROJECT = 10
#: Pairs per project added in one round when a stage's integer value is not yet proven.
ADD_PER_PROJECT = 20
#: Integer solves per stage before the stage is left unproven.
ROUNDS = 4
#: The score stage's name among the bend stages.
SCORE = "score"


def bend_key(rule: str) -> str:
    """The bendable rule a model row counts toward (a stage's or the round's enterprise target
    bends with the enterprise share)."""
    return Rule.ENTERPRISE_SHARE if rule == Rule.ENTERPRISE_TARGET_SHARE else rule


@dataclass
class _Lp:
    """One stage's LP over ``columns``: its value (maximisation: minus the bends of a bend
    stage, the weighted score of the last) and the duals spread out for pricing."""

    z: float
    duals: Duals


@dataclass
class _Rows:
    """The stage LP's rows as triplets: pair entries (row, column), slack entries (row,
    slack) with the slack's bend key and upper bound, the row sense and right-hand side."""

    pair_rows: list[np.ndarray]
    pair_cols: list[np.ndarray]
    slack_row: list[int]
    slack_sign: list[float]
    slack_key: list[str]
    slack_ub: list[float]
    sense: list[str]  # "eq", "le", "ge"
    rhs: list[float]
    origin: list[int]  # model row (or -1 - expert for a split load row)

    def new_row(self, sense: str, rhs: float, origin: int) -> int:
        self.sense.append(sense)
        self.rhs.append(rhs)
        self.origin.append(origin)
        return len(self.sense) - 1

    def slack(self, row: int, sign: float, key: str, ub: float) -> None:
        self.slack_row.append(row)
        self.slack_sign.append(sign)
        self.slack_key.append(key)
        self.slack_ub.append(ub)


def _stage_rows(problem: Problem, model: Model) -> _Rows:
    """Every row of ``model`` with a slack on each bendable side; load rows split in two."""
    rows = _Rows([], [], [], [], [], [], [], [], [])
    A = model.A.tocsr()
    for r in range(model.n_rows):
        rule = str(model.row_rule[r])
        if rule == Rule.LOAD:
            continue
        cols = A.indices[A.indptr[r] : A.indptr[r + 1]]
        lo, hi = float(model.lb[r]), float(model.ub[r])
        sides = (
            [("eq", lo)]
            if rule == Rule.PANEL_SIZE
            else [("ge", lo)] * (math.isfinite(lo) and lo > 0) + [("le", hi)] * math.isfinite(hi)
        )
        for sense, rhs in sides:
            i = rows.new_row(sense, rhs, r)
            rows.pair_rows.append(np.full(cols.size, i))
            rows.pair_cols.append(cols)
            if sense == "ge":
                rows.slack(i, 1.0, bend_key(rule), rhs)
            elif sense == "le":
                rows.slack(i, -1.0, bend_key(rule), math.inf)
    _load_rows(problem, model.pairs, rows)
    return rows


def _load_rows(problem: Problem, pairs: Pairs, rows: _Rows) -> None:
    """Each expert's ``max_load`` and ``yearly_cap`` rows, where the columns can exceed them."""
    counts = np.bincount(pairs.expert, minlength=problem.n_experts)
    cap_left = np.maximum(problem.rules.yearly_cap - problem.expert_used, 0)
    order = np.argsort(pairs.expert, kind="stable")
    starts = np.r_[0, np.cumsum(counts)]
    for rule, limit in ((Rule.MAX_LOAD, problem.expert_max_load), (Rule.YEARLY_CAP, cap_left)):
        for e in np.flatnonzero(counts > limit):
            i = rows.new_row("le", float(limit[e]), -1 - int(e))
            cols = order[starts[e] : starts[e + 1]]
            rows.pair_rows.append(np.full(cols.size, i))
            rows.pair_cols.append(cols)
            rows.slack(i, -1.0, rule, math.inf)


def _solve_stage_lp(
    problem: Problem,
    model: Model,
    stage: str,
    held: dict[str, int],
    time_left: float,
) -> _Lp:
    """The stage's LP over the model's columns (see the module docstring)."""
    rows = _stage_rows(problem, model)
    n, m = model.n_pairs, len(rows.slack_row)
    held_keys = sorted(held)
    hold_rows = [rows.new_row("le", float(held[k]), -2 - n) for k in held_keys]
    r_all = np.concatenate([*rows.pair_rows, np.zeros(0, dtype=np.int64)]).astype(np.int64)
    c_all = np.concatenate([*rows.pair_cols, np.zeros(0, dtype=np.int64)]).astype(np.int64)
    slack_key = np.array(rows.slack_key, dtype=object)
    hold_r, hold_c = [], []
    for k, i in zip(held_keys, hold_rows, strict=True):
        s = np.flatnonzero(slack_key == k)
        hold_r.append(np.full(s.size, i))
        hold_c.append(n + s)
    entries_r = np.concatenate([r_all, np.array(rows.slack_row, dtype=np.int64), *hold_r])
    entries_c = np.concatenate([c_all, n + np.arange(m), *hold_c]).astype(np.int64)
    values = np.concatenate(
        [np.ones(r_all.size), np.array(rows.slack_sign), *[np.ones(h.size) for h in hold_r]]
    )
    n_rows = len(rows.sense)
    A = sp.csr_matrix((values, (entries_r, entries_c)), shape=(n_rows, n + m))
    gain = np.zeros(n + m)  # maximised
    if stage == SCORE:
        gain[:n] = model.weight
    else:
        gain[n:][slack_key == stage] = -1.0
    sense = np.array(rows.sense)
    rhs = np.array(rows.rhs)
    eq, le, ge = sense == "eq", sense == "le", sense == "ge"
    A_ub = sp.vstack([A[le], -A[ge]]).tocsr()
    bounds = np.column_stack(
        [np.zeros(n + m), np.concatenate([np.ones(n), np.array(rows.slack_ub)])]
    )
    res = linprog(
        -gain,
        A_ub=A_ub if A_ub.shape[0] else None,
        b_ub=np.concatenate([rhs[le], -rhs[ge]]) if A_ub.shape[0] else None,
        A_eq=A[eq] if eq.any() else None,
        b_eq=rhs[eq] if eq.any() else None,
        bounds=bounds,
        method="highs-ds",
        options={"time_limit": max(time_left, 1.0), "presolve": True},
    )
    if res.status != 0:
        raise SolveError(f"relaxed LP ({stage}) stopped: {res.message}", Status.TIMEOUT)
    pi = np.zeros(n_rows)
    if eq.any():
        pi[eq] = res.eqlin.marginals
    if A_ub.shape[0]:
        pi[le] = res.ineqlin.marginals[: int(le.sum())]
        pi[ge] = -res.ineqlin.marginals[int(le.sum()) :]
    return _Lp(-float(res.fun), _duals(problem, model, rows, pi))


def _duals(problem: Problem, model: Model, rows: _Rows, pi: np.ndarray) -> Duals:
    """The stage LP's duals as :class:`Duals` of ``model``'s rows: both sides of a two-sided
    row add up; an expert's two load rows add up into its load dual."""
    origin = np.array(rows.origin)
    on_model = origin >= 0
    pi_model = np.zeros(model.n_rows)
    np.add.at(pi_model, origin[on_model], pi[on_model])
    load = np.zeros(problem.n_experts)
    split = (origin < 0) & (origin > -2 - model.n_pairs)
    np.add.at(load, -1 - origin[split], pi[split])
    duals = Duals.from_model(problem, model, pi_model)
    return replace(duals, load=np.minimum(load, 0.0))


@dataclass
class Columns:
    """The growing column set of the relaxed solve and what pricing needs about it."""

    problem: Problem
    survey: Survey
    pairs: Pairs
    lp_rounds: int = 0
    last: _Lp | None = None

    def grow(self, stage: str, held: dict[str, int], left: Callable[[], float]) -> float:
        """Column generation for one stage; returns the LP bound over all eligible pairs
        (maximisation units: minus bends, or weighted score)."""
        while True:
            self.lp_rounds += 1
            model = build_model(self.problem, self.pairs)
            lp = _solve_stage_lp(self.problem, model, stage, held, left())
            new, best = self._price(lp, stage, PRICE_TOL, PRICE_PER_PROJECT)
            bound = lp.z + float(np.sum(self.problem.project_panel_size * np.maximum(best, 0)))
            if len(new) == 0 or left() <= 0:
                self.last = lp
                return bound
            self.pairs = merge(self.pairs, new, self.problem.n_experts)

    def _price(self, lp: _Lp, stage: str, threshold: float, per: int) -> tuple[Pairs, np.ndarray]:
        return price(
            self.problem,
            lp.duals,
            self.pairs,
            self.survey.cutoff,
            threshold,
            per,
            weighted=stage == SCORE,
            with_capacity=False,
        )

    def improving(self, stage: str, value: int) -> Pairs:
        """Pairs left out that an assignment better than ``value`` could use: reduced cost
        (from the stage's last LP) above ``value + 1 - z_lp``."""
        lp = self.last
        assert lp is not None, "grow() runs before improving()"
        new, _ = self._price(lp, stage, value + 1 - lp.z - PRICE_TOL, ADD_PER_PROJECT)
        return new


def proven(value: int, bound: float) -> bool:
    """Is an integer value (maximisation) at its LP bound?"""
    return value >= math.floor(bound + 1e-6)


def sat_score(problem: Problem, pairs: Pairs) -> np.ndarray:
    """The integer weights of ``pairs`` for the CP-SAT score stage."""
    return integer_weights(pairs.score, score_unit(problem))


def hint_on(new: Pairs, old: Pairs, chosen: np.ndarray, n_experts: int) -> np.ndarray:
    """A 0/1 vector over ``new`` that picks the pairs chosen among ``old``."""
    picked = old.project[chosen] * n_experts + old.expert[chosen]
    return np.isin(new.project * n_experts + new.expert, picked)


def violations(problem: Problem, model: Model, chosen: np.ndarray) -> dict[str, int]:
    """Bends per rule of a 0/1 vector over ``model.pairs`` (a restricted model holds every row
    that its pairs can break)."""
    ax = model.A @ chosen.astype(np.float64)
    with np.errstate(invalid="ignore"):
        short = np.where(np.isfinite(model.lb), np.maximum(model.lb - ax, 0.0), 0.0)
        over = np.where(np.isfinite(model.ub), np.maximum(ax - model.ub, 0.0), 0.0)
    out: dict[str, int] = {}
    for r in np.flatnonzero((short + over) > 0.5):
        rule = str(model.row_rule[r])
        if rule in (Rule.PANEL_SIZE, Rule.LOAD):
            continue
        key = bend_key(rule)
        out[key] = out.get(key, 0) + round(short[r] + over[r])
    counts = np.bincount(model.pairs.expert[chosen], minlength=problem.n_experts)
    cap_left = np.maximum(problem.rules.yearly_cap - problem.expert_used, 0)
    for rule, limit in ((Rule.MAX_LOAD, problem.expert_max_load), (Rule.YEARLY_CAP, cap_left)):
        out[rule] = int(np.maximum(counts - limit, 0).sum())
    return out

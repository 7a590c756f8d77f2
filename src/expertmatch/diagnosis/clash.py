"""Why the rules cannot all hold, when every quick check passes: a deletion-minimal set of
clashing rule groups, found within the time limit.

Each rule is split into named groups: per project its enterprise share, its organization cap,
each field it must cover; per expert its load; across the batch the round's enterprise target.
Panel sizes always hold. Two ways to a small set, both followed by deletion (drop a group; if
the rest still clashes, it was not needed) until no group can be dropped or time runs out:

1. **LP (Farkas)**: when the LP relaxation is infeasible, the elastic LP (every row but the
   panel sizes may be violated at a cost of one per unit) has a positive optimum, and the rows
   with a non-zero dual form a set that is already infeasible on its own (the restricted dual
   keeps the same positive value); each deletion step is one LP. Fast at any size the LP takes.
2. **CP-SAT assumptions** when the LP relaxation is feasible (the clash is integral): one
   assumption literal per group; CP-SAT returns a sufficient subset, shrunk the same way.

On a deadline the set found so far is returned (it is sufficient: every group listed is
needed for *this* proof) with ``minimal=False``; with more time it is deletion-minimal.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from expertmatch.domain.coverage import coverage_rows
from expertmatch.domain.rules import STAGES
from expertmatch.errors import Clash
from expertmatch.formulation.rows import Model, build_model
from expertmatch.vocabulary import Rule

if TYPE_CHECKING:
    from expertmatch.domain.pairs import Pairs
    from expertmatch.domain.problem import Problem

#: Default time for the whole diagnosis (s) when the caller gives none.
TIME_LIMIT = 30.0
#: A dual counts as non-zero above this.
DUAL_TOL = 1e-9


@dataclass(frozen=True)
class ClashSet:
    """Named rule groups that cannot all hold, and whether deletion finished (minimal)."""

    groups: tuple[str, ...]
    minimal: bool


#: Separates the parts of a group's name (rule, project, field node, quota): names and field
#: codes never hold it.
SEP = "|"


def _group_name(problem: Problem, model: Model, r: int) -> str | None:
    """The rule group row ``r`` belongs to (None for panel sizes, which always hold)."""
    rule = str(model.row_rule[r])
    project, expert = int(model.row_project[r]), int(model.row_expert[r])
    if rule == Rule.PANEL_SIZE:
        return None
    if rule == Rule.LOAD:
        return SEP.join((rule, problem.expert_ids[expert]))
    if rule == Rule.QUOTA:
        quota = str(int(model.row_quota[r])) if model.row_quota is not None else "0"
        return SEP.join((rule, quota, problem.project_ids[project] if project >= 0 else ""))
    if rule == Rule.ENTERPRISE_TARGET_SHARE:
        stage = int(model.row_stage[r]) if model.row_stage is not None else -1
        return SEP.join((rule, STAGES[stage] if stage >= 0 else ""))
    pid = problem.project_ids[project]
    if rule == Rule.COVERAGE:
        return SEP.join((rule, pid, coverage_rows(problem).nodes[int(model.row_node[r])]))
    return SEP.join((rule, pid))


class _Groups:
    """The model's rows, grouped by name; panel-size rows belong to no group (always hold)."""

    def __init__(self, problem: Problem, model: Model):
        self.model = model
        self.names = [_group_name(problem, model, r) for r in range(model.n_rows)]
        self.all = tuple(sorted({n for n in self.names if n is not None}))

    def rows(self, active: set[str]) -> np.ndarray:
        """Rows held when only the ``active`` groups are (panel sizes always)."""
        return np.array([n is None or n in active for n in self.names], dtype=bool)


#: What a test of a set of groups found: a (possibly smaller) clashing set, no clash, or no
#: answer in time (``UNKNOWN``).
UNKNOWN: frozenset[str] = frozenset({"?"})


def _lp_core(groups: _Groups, active: set[str], seconds: float) -> set[str] | None:
    """Groups whose rows carry the elastic LP's non-zero duals, if the ``active`` groups clash
    in the LP relaxation; None when they do not, ``UNKNOWN`` when the LP ran out of time."""
    from scipy.optimize import linprog

    m = groups.model
    keep = groups.rows(active)
    A, lb, ub = m.A[keep], m.lb[keep], m.ub[keep]
    names = [n for n, k in zip(groups.names, keep, strict=True) if k]
    soft = np.array([n is not None for n in names])
    n_rows, n = A.shape
    # x in [0, 1]; per soft row r: lb_r <= A_r x + s_r - t_r <= ub_r, s, t >= 0, cost 1 each.
    idx = np.flatnonzero(soft)
    k = idx.size
    plus = sp.csr_matrix((np.ones(k), (idx, np.arange(k))), shape=(n_rows, k))
    full = sp.hstack([A, plus, -plus]).tocsr()
    cost = np.concatenate([np.zeros(n), np.ones(2 * k)])
    bounds = [(0.0, 1.0)] * n + [(0.0, None)] * (2 * k)
    eq = lb == ub
    le = ~eq & np.isfinite(ub)
    ge = ~eq & np.isfinite(lb)
    a_ub = sp.vstack([full[le], -full[ge]]).tocsr()
    res = linprog(
        cost,
        A_ub=a_ub if a_ub.shape[0] else None,
        b_ub=np.concatenate([ub[le], -lb[ge]]) if a_ub.shape[0] else None,
        A_eq=full[eq] if eq.any() else None,
        b_eq=lb[eq] if eq.any() else None,
        bounds=bounds,
        method="highs",
        options={"time_limit": max(seconds, 0.1)},
    )
    if res.status != 0:
        return set(UNKNOWN)
    if res.fun <= 1e-7:
        return None
    dual = np.zeros(n_rows)
    if eq.any():
        dual[eq] = res.eqlin.marginals
    if a_ub.shape[0]:
        m_ub = res.ineqlin.marginals
        dual[le] = m_ub[: int(le.sum())]
        dual[ge] = m_ub[int(le.sum()) :]
    core = {str(names[r]) for r in np.flatnonzero(np.abs(dual) > DUAL_TOL) if names[r]}
    return core or set(active)


def _sat_core(groups: _Groups, active: set[str], seconds: float) -> set[str] | None:
    """A sufficient subset of the ``active`` groups from CP-SAT assumptions, if they clash;
    None when they do not, ``UNKNOWN`` when CP-SAT could not tell in time."""
    from ortools.sat.python import cp_model

    m = groups.model
    sat = cp_model.CpModel()
    x = [sat.new_bool_var(f"x{j}") for j in range(m.n_pairs)]
    lits = {g: sat.new_bool_var(g) for g in sorted(active)}
    for r in range(m.n_rows):
        name = groups.names[r]
        if name is not None and name not in lits:
            continue
        idx = m.A.indices[m.A.indptr[r] : m.A.indptr[r + 1]]
        expr = cp_model.LinearExpr.sum([x[i] for i in idx])
        lo, hi = m.lb[r], m.ub[r]
        if lo == hi:
            ct = sat.add(expr == int(lo))
        elif math.isfinite(lo):
            ct = sat.add(expr >= math.ceil(lo))
        else:
            ct = sat.add(expr <= math.floor(hi))
        if name is not None:
            ct.only_enforce_if(lits[name])
    sat.add_assumptions(list(lits.values()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 0.1)
    solver.parameters.num_workers = 1
    code = solver.solve(sat)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    if code != cp_model.INFEASIBLE:
        return set(UNKNOWN)
    by_index = {lit.index: g for g, lit in lits.items()}
    core = {by_index[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in by_index}
    return core or set(active)


def clash_set(
    problem: Problem, pairs: Pairs | None = None, time_limit: float = TIME_LIMIT
) -> ClashSet | None:
    """A set of named rule groups that cannot hold together, deletion-minimal when time allows;
    None when no clash could be shown within ``time_limit`` seconds."""
    deadline = time.perf_counter() + time_limit
    groups = _Groups(problem, build_model(problem, pairs))

    def left() -> float:
        return deadline - time.perf_counter()

    find = _lp_core
    core = _lp_core(groups, set(groups.all), left())
    if core is None or core == UNKNOWN:
        find = _sat_core
        core = _sat_core(groups, set(groups.all), left())
    if core is None or core == UNKNOWN:
        return None
    minimal = True
    for group in sorted(core):  # deletion filter: keep only the groups the clash needs
        if group not in core:
            continue
        if left() <= 0:
            return ClashSet(tuple(sorted(core)), minimal=False)
        smaller = find(groups, core - {group}, left())
        if smaller == UNKNOWN:
            minimal = False
        elif smaller is not None:
            core = smaller
    return ClashSet(tuple(sorted(core)), minimal=minimal)


def minimal_clash(
    problem: Problem, pairs: Pairs | None = None, time_limit: float = TIME_LIMIT
) -> list[Clash]:
    """The clash in office terms: one :class:`Clash` per rule group of :func:`clash_set` (the
    experts' loads as one, naming the experts); empty if no clash was shown in time."""
    found = clash_set(problem, pairs, time_limit)
    if found is None:
        return []
    loads = [g.split(SEP)[1] for g in found.groups if g.startswith(Rule.LOAD + SEP)]
    out = [_describe(problem, g) for g in found.groups if not g.startswith(Rule.LOAD + SEP)]
    if loads:
        out.append(_describe_loads(loads))
    if not found.minimal:
        out.append(
            Clash(
                Rule.COMBINED,
                "(the time limit ended the search for a smaller set: some of these groups "
                "may not be needed; a longer --time-limit gives a minimal set)",
            )
        )
    return out


def _describe_loads(experts: list[str]) -> Clash:
    """The load groups of a clash: the experts whose capacity binds."""
    shown = ", ".join(experts[:10]) + (
        f" and {len(experts) - 10} more" if len(experts) > 10 else ""
    )
    return Clash(
        Rule.LOAD,
        f"the loads (max_load, yearly_cap - used) of {len(experts)} expert(s) cannot carry "
        f"these panels under the other rules listed: {shown}",
        experts=tuple(experts),
        suggestion="raise max_load for these experts, or add experts of these fields",
    )


def _describe(problem: Problem, group: str) -> Clash:
    """One rule group of a minimal clash, in office terms, with what would relax it."""
    rule, *parts = group.split(SEP)
    if rule == Rule.ENTERPRISE_TARGET_SHARE:
        return _describe_target(problem, parts[0])
    if rule == Rule.QUOTA:
        return _describe_quota(problem, int(parts[0]), parts[1])
    pid = parts[0]
    p = problem.project_index[pid]
    k = int(problem.project_panel_size[p])
    if rule == Rule.COVERAGE:
        key = parts[1]
        return Clash(
            Rule.COVERAGE,
            f"{pid} must have an expert covering {key}",
            (pid,),
            suggestion=f"lower coverage_level or drop {key} from {pid}'s fields",
        )
    if rule == Rule.ENTERPRISE_SHARE:
        need = int(problem.enterprise_required[p])
        return Clash(
            Rule.ENTERPRISE_SHARE,
            f"{pid} needs {need} enterprise experts of {k}",
            (pid,),
            suggestion=f"give {pid} enterprise_min = {need - 1} in projects.csv "
            "(or lower enterprise_min_share)",
        )
    limit = int(problem.project_max_per_org[p])
    return Clash(
        Rule.MAX_PER_ORG,
        f"{pid} may have at most {limit} experts per organization",
        (pid,),
        suggestion=f"raise max_per_org to {limit + 1}",
    )


def describe_seat_rule(
    problem: Problem, quota: int, stage: int, groups: Sequence[Sequence[int]] = ()
) -> Clash:
    """A rule over all seats, with its figures: a batch quota (``quota``: its index in
    ``Problem.count_rules``), else a stage's own enterprise target (``stage``: its index in
    ``STAGES``), else the round's. ``groups``: the meeting groups' projects, whose seats
    count (``Problem.seats``)."""
    if quota >= 0:
        return _describe_quota(problem, quota, "", groups)
    return _describe_target(problem, STAGES[stage] if stage >= 0 else "", groups)


def _describe_target(problem: Problem, stage: str, groups: Sequence[Sequence[int]] = ()) -> Clash:
    """The round's (or one stage's) enterprise target."""
    if not stage:
        share = problem.rules.enterprise_target_share
        seats = problem.seats(np.ones(problem.n_projects, dtype=bool), groups)
        return Clash(
            Rule.ENTERPRISE_TARGET_SHARE,
            f"at least {share} of all reviews must be by enterprise experts "
            f"({problem.target_required(groups)} of {seats} seats)",
            suggestion="lower enterprise_target_share",
        )
    share = problem.rules.stage[stage].enterprise_target_share
    seats = problem.seats(np.array(problem.stages) == stage, groups)
    return Clash(
        Rule.ENTERPRISE_TARGET_SHARE,
        f"at least {share} of the {stage} reviews must be by enterprise experts "
        f"({problem.stage_target_required(stage, groups)} of {seats} seats)",
        suggestion=f"lower enterprise_target_share in [stage.{stage}]",
    )


def _describe_quota(
    problem: Problem, q: int, pid: str, groups: Sequence[Sequence[int]] = ()
) -> Clash:
    """A quota, for one panel or over all seats of its stages, with its figures."""
    quota = problem.count_rules[q]
    counted = int(problem.has_value(quota.attribute, quota.values).sum())
    what = f"{quota.attribute} in {', '.join(quota.values)}"
    if pid:
        p = problem.project_index[pid]
        low, high = quota.bounds(int(problem.project_panel_size[p]))
        return Clash(
            Rule.QUOTA,
            f"quota {quota.name}: {pid} needs {_range(low, high)} experts with {what} "
            f"({counted} such experts in the pool)",
            (pid,),
            suggestion=f"relax quota {quota.name} or add experts with {what}",
        )
    seats = problem.seats_of(quota, groups)
    low, high = quota.bounds(seats)
    return Clash(
        Rule.QUOTA,
        f"quota {quota.name}: {_range(low, high)} of {seats} seats need experts with {what} "
        f"({counted} such experts in the pool)",
        suggestion=f"relax quota {quota.name} or add experts with {what}",
    )


def _range(low: int, high: int) -> str:
    if low and high < 10**9:
        return f"between {low} and {high}" if low != high else f"exactly {low}"
    return f"at least {low}" if low else f"at most {high}"

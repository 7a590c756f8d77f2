"""Why the rules cannot all hold, when every quick check passes: a minimal set of clashing
rule groups, found with CP-SAT assumptions.

Each rule is split into named groups — per project its enterprise share, its organization
cap, each field it must cover; across the batch the experts' loads and the round's enterprise
target. Each group is enforced only under its own assumption literal; panel sizes always hold.
CP-SAT returns a sufficient set of assumptions for infeasibility, which is then shrunk by
deletion (drop a group; if still infeasible, it was not needed) until no group can be dropped:
every group listed takes part in the clash.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from expertmatch.domain.coverage import coverage_rows
from expertmatch.errors import Clash
from expertmatch.formulation.rows import build_model
from expertmatch.vocabulary import Rule

if TYPE_CHECKING:
    from expertmatch.domain.pairs import Pairs
    from expertmatch.domain.problem import Problem

#: Seconds for each CP-SAT call of the diagnosis.
STEP_TIME = 10.0


def _group_name(problem: Problem, rule: str, project: int, node: int, org: int) -> str:
    if rule == Rule.LOAD:
        return Rule.LOAD
    if rule == Rule.ENTERPRISE_TARGET_SHARE:
        return Rule.ENTERPRISE_TARGET_SHARE
    pid = problem.project_ids[project]
    if rule == Rule.COVERAGE:
        return f"coverage {pid} {coverage_rows(problem).nodes[node]}"
    if rule == Rule.MAX_PER_ORG:
        return f"max_per_org {pid}"
    return f"{rule} {pid}"


def minimal_clash(problem: Problem, pairs: Pairs | None = None) -> list[Clash]:
    """A minimal set of rule groups that cannot hold together (empty if they can)."""
    model = build_model(problem, pairs)
    names = [
        _group_name(problem, str(rule), int(p), int(n), int(o))
        for rule, p, n, o in zip(
            model.row_rule, model.row_project, model.row_node, model.row_org, strict=True
        )
    ]
    groups = sorted(
        {n for n, rule in zip(names, model.row_rule, strict=True) if rule != Rule.PANEL_SIZE}
    )

    def infeasible(active: list[str]) -> tuple[bool, list[str]]:
        sat = cp_model.CpModel()
        x = [sat.new_bool_var(f"x{j}") for j in range(model.n_pairs)]
        lits = {g: sat.new_bool_var(g) for g in active}
        for r in range(model.n_rows):
            rule = model.row_rule[r]
            if rule != Rule.PANEL_SIZE and names[r] not in lits:
                continue
            idx = model.A.indices[model.A.indptr[r] : model.A.indptr[r + 1]]
            expr = cp_model.LinearExpr.sum([x[i] for i in idx])
            lo, hi = model.lb[r], model.ub[r]
            if lo == hi:
                ct = sat.add(expr == int(lo))
            elif math.isfinite(lo):
                ct = sat.add(expr >= math.ceil(lo))
            else:
                ct = sat.add(expr <= math.floor(hi))
            if rule != Rule.PANEL_SIZE:
                ct.only_enforce_if(lits[names[r]])
        sat.add_assumptions(list(lits.values()))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = STEP_TIME
        solver.parameters.num_workers = 1
        status = solver.solve(sat)
        if status != cp_model.INFEASIBLE:
            return False, []
        core = solver.sufficient_assumptions_for_infeasibility()
        by_index = {lit.index: g for g, lit in lits.items()}
        return True, sorted(by_index[i] for i in core if i in by_index)

    bad, core = infeasible(groups)
    if not bad:
        return []
    core = core or groups
    for group in list(core):  # deletion filter: keep only groups the clash needs
        trial = [g for g in core if g != group]
        still, smaller = infeasible(trial)
        if still:
            core = smaller or trial
    return [_describe(problem, group) for group in core]


def _describe(problem: Problem, group: str) -> Clash:
    """One rule group of a minimal clash, in office terms, with what would relax it."""
    parts = group.split(" ")
    rule = parts[0]
    if rule == Rule.LOAD:
        return Clash(
            Rule.LOAD,
            "the experts' loads (max_load, yearly_cap) cannot carry these "
            "panels under the other rules listed",
            suggestion="raise max_load for the experts of these fields",
        )
    if rule == Rule.ENTERPRISE_TARGET_SHARE:
        share = problem.rules.enterprise_target_share
        return Clash(
            rule,
            f"at least {share} of all reviews must be by enterprise experts",
            suggestion="lower enterprise_target_share",
        )
    pid = parts[1]
    p = problem.project_index[pid]
    k = int(problem.project_panel_size[p])
    if rule == Rule.COVERAGE:
        key = parts[2]
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
            suggestion=f"lower the enterprise share for {pid} to {need - 1}/{k}",
        )
    return Clash(
        Rule.MAX_PER_ORG,
        f"{pid} may have at most {problem.rules.max_per_org} experts per organization",
        (pid,),
        suggestion=f"raise max_per_org to {problem.rules.max_per_org + 1}",
    )

"""First-line infeasibility checks, run before any solver, in office terms.

Per project: enough eligible experts with capacity left, enough enterprise experts among them,
enough distinct organizations for ``max_per_org``, and someone eligible for every field to
cover. Across the batch: can the experts' remaining capacities meet all panels at once, and
all enterprise seats at once? (maximum flow: source -> project (panel size) -> eligible expert
(1) -> sink (capacity); the projects on the source side of a minimum cut form a set whose
demand exceeds what its eligible experts can give — Hall's condition.)

These checks are necessary, not sufficient: the rules can still clash in combination, which
the LP relaxation then proves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from ortools.graph.python import max_flow

from .errors import Clash

if TYPE_CHECKING:
    from .problem import Problem

LIST_AT_MOST = 10


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:LIST_AT_MOST])
    return shown + (f" and {len(ids) - LIST_AT_MOST} more" if len(ids) > LIST_AT_MOST else "")


def check_feasibility(problem: Problem) -> list[Clash]:
    """Every clash the quick checks can prove; an empty list means none was found."""
    clashes: list[Clash] = []
    pairs = problem.pairs
    cap = problem.expert_capacity
    usable = cap[pairs.expert] > 0
    pj, ej = pairs.project[usable], pairs.expert[usable]
    bounds = np.searchsorted(pj, np.arange(problem.n_projects + 1))
    ent = problem.expert_enterprise
    limit = problem.rules.max_per_org
    for p, pid in enumerate(problem.project_ids):
        experts = ej[bounds[p] : bounds[p + 1]]
        k = int(problem.project_panel_size[p])
        need = int(problem.enterprise_required[p])
        orgs = problem.expert_org[experts]
        if experts.size < k:
            clashes.append(
                Clash(
                    "panel_size",
                    f"{pid} needs {k} experts; only {experts.size} are eligible with capacity left",
                    (pid,),
                )
            )
        elif np.unique(orgs).size * limit < k:
            clashes.append(
                Clash(
                    "max_per_org",
                    f"{pid} needs {k} experts at most {limit} per "
                    f"organization; eligible experts come from only "
                    f"{np.unique(orgs).size} organizations",
                    (pid,),
                )
            )
        n_ent = int(ent[experts].sum())
        ent_orgs = np.unique(orgs[ent[experts]]).size
        if n_ent < need:
            clashes.append(
                Clash(
                    "enterprise_share",
                    f"{pid} needs {need} enterprise experts; "
                    f"only {n_ent} are eligible with capacity left",
                    (pid,),
                )
            )
        elif ent_orgs * limit < need:
            clashes.append(
                Clash(
                    "enterprise_share",
                    f"{pid} needs {need} enterprise experts; "
                    f"eligible ones come from only {ent_orgs} organizations "
                    f"(max_per_org {limit})",
                    (pid,),
                )
            )
        for key in problem.coverage_keys(p):
            if not any(problem.covers(int(e), key) for e in experts):
                clashes.append(
                    Clash(
                        "coverage",
                        f"{pid}: no eligible expert with capacity left covers field {key}",
                        (pid,),
                    )
                )
    if clashes:
        return clashes
    demand = problem.project_panel_size
    clashes += _flow_check(
        problem,
        pj,
        ej,
        demand,
        cap,
        "load",
        "panels need {need} reviews in all but eligible experts' capacities "
        "can give at most {flow}",
    )
    ent_pair = ent[ej]
    clashes += _flow_check(
        problem,
        pj[ent_pair],
        ej[ent_pair],
        problem.enterprise_required,
        cap,
        "enterprise_share",
        "panels need {need} enterprise reviews in all but eligible enterprise "
        "experts' capacities can give at most {flow}",
    )
    return clashes


def _flow_check(
    problem: Problem,
    pj: np.ndarray,
    ej: np.ndarray,
    demand: np.ndarray,
    cap: np.ndarray,
    rule: str,
    text: str,
) -> list[Clash]:
    n_p, n_e = problem.n_projects, problem.n_experts
    source, sink = n_p + n_e, n_p + n_e + 1
    flow = max_flow.SimpleMaxFlow()
    tails = np.concatenate([np.full(n_p, source), pj, n_p + np.arange(n_e)])
    heads = np.concatenate([np.arange(n_p), n_p + ej, np.full(n_e, sink)])
    caps = np.concatenate([demand, np.ones(pj.size, dtype=np.int64), cap])
    flow.add_arcs_with_capacity(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64)
    )
    if flow.solve(source, sink) != flow.OPTIMAL:
        raise RuntimeError("max flow failed on a well-formed network")
    need = int(demand.sum())
    got = int(flow.optimal_flow())
    if got >= need:
        return []
    side = np.asarray(flow.get_source_side_min_cut())
    short = sorted(int(v) for v in side if v < n_p and demand[v] > 0)
    ids = [problem.project_ids[p] for p in short]
    msg = text.format(need=need, flow=got)
    if ids:
        msg += (
            f"; the projects {_names(ids)} together need more than their eligible experts can give"
        )
    return [Clash(rule, msg, tuple(ids))]

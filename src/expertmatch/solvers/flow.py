"""Fast path: min-cost flow when only panel size, loads, conflicts and the enterprise minimum
apply (no coverage, no organization cap that can bind, no round-level target).

Network (integral, so the flow optimum is the assignment optimum)::

    source -> E_p  (capacity r_p: the enterprise seats of project p)
    source -> O_p  (capacity k_p - r_p: the open seats)
    E_p -> (p, e)  for enterprise experts e;   O_p -> (p, e) for every eligible expert e
    (p, e) -> e    capacity 1, cost -weight(p, e)   (one node per pair: an expert sits once)
    e -> sink      capacity = the expert's remaining capacity

Every seat must be filled, so the flow must reach sum_p k_p; otherwise the batch is infeasible
under these rules. No LP is solved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.scoring import score_unit
from expertmatch.formulation.rows import integer_weights

if TYPE_CHECKING:
    from expertmatch.domain.problem import Problem

#: The fast path holds every eligible pair; above this many it leaves the batch to the LP.
MAX_PAIRS = 5_000_000


def applies(problem: Problem, n_pairs: int) -> bool:
    """Only the basic rules bind, and the batch is small enough to hold every pair."""
    rules = problem.rules
    if rules.coverage_level > 0 or rules.enterprise_target_share is not None:
        return False
    if rules.stage or rules.quota or rules.chair is not None:
        return False  # per-stage values, quotas and chairs are not in the flow network
    if n_pairs > MAX_PAIRS:
        return False
    if rules.max_per_org >= int(problem.project_panel_size.max(initial=0)):
        return True
    pairs = eligible_pairs(problem)
    key = pairs.project * len(problem.org_ids) + problem.expert_org[pairs.expert]
    return bool(np.unique(key, return_counts=True)[1].max(initial=0) <= rules.max_per_org)


def solve_flow(problem: Problem) -> tuple[Pairs, int, float] | None:
    """The optimal assignment under the basic rules, its integer objective and unit; None if
    the seats cannot all be filled."""
    pairs = eligible_pairs(problem)
    cap = problem.expert_capacity
    usable = cap[pairs.expert] > 0
    pairs = pairs.take(usable)
    n_p, n_e, n = problem.n_projects, problem.n_experts, len(pairs)
    unit = score_unit(problem)
    weight = integer_weights(pairs.score, unit)
    need = problem.enterprise_required
    size = problem.project_panel_size
    # node numbering
    source = 0
    ent_seat = 1 + np.arange(n_p)
    open_seat = 1 + n_p + np.arange(n_p)
    pair_node = 1 + 2 * n_p + np.arange(n)
    expert_node = 1 + 2 * n_p + n + np.arange(n_e)
    sink = 1 + 2 * n_p + n + n_e
    ent = problem.expert_enterprise[pairs.expert]
    tails = np.concatenate(
        [
            np.full(n_p, source),
            np.full(n_p, source),
            ent_seat[pairs.project[ent]],
            open_seat[pairs.project],
            pair_node,
            expert_node,
        ]
    )
    heads = np.concatenate(
        [
            ent_seat,
            open_seat,
            pair_node[ent],
            pair_node,
            expert_node[pairs.expert],
            np.full(n_e, sink),
        ]
    )
    capacity = np.concatenate(
        [
            need,
            size - need,
            np.ones(int(ent.sum())),
            np.ones(n),
            np.ones(n),
            cap,
        ]
    ).astype(np.int64)
    cost = np.concatenate(
        [
            np.zeros(2 * n_p),
            np.zeros(int(ent.sum()) + n),
            -weight,
            np.zeros(n_e),
        ]
    ).astype(np.int64)
    from ortools.graph.python import min_cost_flow  # here: not on the main path

    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), capacity, cost
    )
    total = int(size.sum())
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[source] = total
    supplies[sink] = -total
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int32), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        return None
    pair_arcs = arcs[2 * n_p + int(ent.sum()) + n : 2 * n_p + int(ent.sum()) + 2 * n]
    used = flow.flows(pair_arcs) > 0
    chosen = pairs.take(used)
    return chosen, int(weight[used].sum()), unit

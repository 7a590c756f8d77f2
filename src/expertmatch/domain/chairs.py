"""The chair rule (组长): each panel of its stages gets exactly one chair, a member who has one
of the rule's attribute values; one expert chairs at most ``max_per_expert`` panels.

Given the panels, choosing the chairs is a bipartite b-matching — panels needing a chair on one
side, members who may chair on the other (each at most ``max_per_expert`` times) — solved as a
min-cost flow that prefers each panel's best-scoring eligible member. The model only needs the
necessary part (a member who may chair on each such panel: ``Problem.count_rules``); when
``max_per_expert`` is at least every such expert's capacity, that part is also sufficient.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from expertmatch.domain.pairs import Pairs
from expertmatch.domain.problem import Problem


def needs_chair(problem: Problem) -> np.ndarray:
    """Per project: does its panel need a chair (the chair rule covers its stage)?"""
    chair = problem.rules.chair
    if chair is None:
        return np.zeros(problem.n_projects, dtype=bool)
    return problem.covered_by(chair)


def may_chair(problem: Problem) -> np.ndarray:
    """Per expert: may they chair (one of the chair rule's values)?"""
    chair = problem.rules.chair
    if chair is None:
        return np.zeros(problem.n_experts, dtype=bool)
    return problem.has_value(chair.attribute, chair.values)


def cap_can_bind(problem: Problem) -> bool:
    """Can ``max_per_expert`` bind, i.e. is some expert who may chair able to sit on more
    panels that need a chair than they may chair?"""
    chair = problem.rules.chair
    if chair is None:
        return False
    capacity = problem.expert_capacity[may_chair(problem)]
    return bool(capacity.size and int(capacity.max()) > chair.max_per_expert)


def choose_chairs(
    problem: Problem, pairs: Pairs, cap: np.ndarray | None = None
) -> tuple[dict[int, int], list[int]]:
    """One chair per panel that needs one (project -> expert), preferring each panel's
    best-scoring members as the cap allows, and the projects left without a chair (none
    when the rule can be kept: the flow is a maximum b-matching). ``cap``: per expert, the
    panels they may still chair (default ``max_per_expert``; less what they chair elsewhere,
    e.g. meeting groups)."""
    chair = problem.rules.chair
    need = needs_chair(problem)
    if chair is None or not need.any():
        return {}, []
    ok = need[pairs.project] & may_chair(problem)[pairs.expert]
    projects, experts = pairs.project[ok], pairs.expert[ok]
    scores = np.rint(pairs.score[ok] * 100).astype(np.int64)
    chairs = np.flatnonzero(need)
    n_p, n_e = problem.n_projects, problem.n_experts
    source, sink = n_p + n_e, n_p + n_e + 1
    # a project may also send its unit straight to the sink (no chair) at a cost no choice of
    # chairs can outweigh: the flow then chairs as many panels as possible
    missing_cost = int(scores.sum()) + 1
    tails = np.concatenate([np.full(chairs.size, source), projects, n_p + np.arange(n_e), chairs])
    heads = np.concatenate([chairs, n_p + experts, np.full(n_e, sink), np.full(chairs.size, sink)])
    caps = np.concatenate(
        [
            np.ones(chairs.size + projects.size),
            np.full(n_e, chair.max_per_expert) if cap is None else np.maximum(cap, 0),
            np.ones(chairs.size),
        ]
    ).astype(np.int64)
    costs = np.concatenate(
        [np.zeros(chairs.size), -scores, np.zeros(n_e), np.full(chairs.size, missing_cost)]
    ).astype(np.int64)
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    flow.set_node_supply(source, int(chairs.size))
    flow.set_node_supply(sink, -int(chairs.size))
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("min-cost flow failed on a well-formed network")
    used = np.array([flow.flow(a) for a in arcs[chairs.size : chairs.size + projects.size]])
    chosen = used > 0
    found = {int(p): int(e) for p, e in zip(projects[chosen], experts[chosen], strict=True)}
    return found, [int(p) for p in chairs if int(p) not in found]

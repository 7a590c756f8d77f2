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
    panels they may chair (default ``max_per_expert``)."""
    chair = problem.rules.chair
    need = needs_chair(problem)
    if chair is None or not need.any():
        return {}, []
    ok = need[pairs.project] & may_chair(problem)[pairs.expert]
    chairs = np.flatnonzero(need)
    unit = np.searchsorted(chairs, pairs.project[ok])
    scores = np.rint(pairs.score[ok] * 100).astype(np.int64)
    limit = np.full(problem.n_experts, chair.max_per_expert) if cap is None else cap
    picked = match_chairs(unit, pairs.expert[ok], scores, chairs.size, limit)
    found = {int(chairs[u]): int(e) for u, e in enumerate(picked.tolist()) if e >= 0}
    return found, [int(p) for p in chairs if int(p) not in found]


def match_chairs(
    unit: np.ndarray, expert: np.ndarray, score: np.ndarray, n_units: int, cap: np.ndarray
) -> np.ndarray:
    """Per unit (a panel, or a meeting group, that needs a chair) the expert chosen to chair
    it, -1 for none: units get one chair each from their candidate (unit, expert) arcs, each
    expert chairs at most ``cap[e]`` units, as many units as possible, then the highest total
    ``score`` (whole numbers). A min-cost flow: a maximum b-matching."""
    n_e = cap.size
    units = np.arange(n_units)
    source, sink = n_units + n_e, n_units + n_e + 1
    # a unit may also send its flow straight to the sink (no chair) at a cost no choice of
    # chairs can outweigh: the flow then chairs as many units as possible
    missing_cost = int(np.abs(score).sum()) + 1
    tails = np.concatenate([np.full(n_units, source), unit, n_units + np.arange(n_e), units])
    heads = np.concatenate([units, n_units + expert, np.full(n_e, sink), np.full(n_units, sink)])
    caps = np.concatenate(
        [np.ones(n_units + unit.size), np.maximum(cap, 0), np.ones(n_units)]
    ).astype(np.int64)
    costs = np.concatenate(
        [np.zeros(n_units), -score, np.zeros(n_e), np.full(n_units, missing_cost)]
    ).astype(np.int64)
    from ortools.graph.python import min_cost_flow  # here: not on the main path

    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps, costs
    )
    flow.set_node_supply(source, int(n_units))
    flow.set_node_supply(sink, -int(n_units))
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("min-cost flow failed on a well-formed network")
    used = np.array([flow.flow(a) for a in arcs[n_units : n_units + unit.size]], dtype=np.int64)
    out = np.full(n_units, -1, dtype=np.int64)
    out[unit[used > 0]] = expert[used > 0]
    return out

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

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from expertmatch.domain.chairs import may_chair, needs_chair
from expertmatch.domain.coverage import coverage_rows
from expertmatch.domain.eligibility import eligible_blocks, eligible_pairs, why_ineligible
from expertmatch.domain.rules import Quota
from expertmatch.domain.scoring import block_scores
from expertmatch.errors import Clash
from expertmatch.formulation.candidates import survey as make_survey
from expertmatch.vocabulary import Rule

if TYPE_CHECKING:
    from expertmatch.domain.problem import Problem
    from expertmatch.formulation.candidates import Survey

LIST_AT_MOST = 10
#: Up to this many eligible pairs, the capacity checks may fall back to every pair.
FULL_FLOW = 5_000_000


def _names(ids: list[str]) -> str:
    shown = ", ".join(ids[:LIST_AT_MOST])
    return shown + (f" and {len(ids) - LIST_AT_MOST} more" if len(ids) > LIST_AT_MOST else "")


def _excluded(
    problem: Problem,
    p: int,
    enterprise: bool = False,
    node: int | None = None,
    counted: np.ndarray | None = None,
) -> str:
    """Experts who fit the project (score above min_score; for a quota, counted by it) but may
    not review it, with why."""

    scores = block_scores(problem, np.array([p]))[0]
    fits = scores > problem.project_min_score[p]
    if counted is not None:
        fits = counted.copy()
    if enterprise:
        fits &= problem.expert_enterprise
    if node is not None:
        fits &= coverage_rows(problem).holds_t[node].toarray().ravel() > 0
    shown = []
    for e in np.flatnonzero(fits)[np.argsort(-scores[fits], kind="stable")]:
        reasons = why_ineligible(problem, problem.expert_ids[e], problem.project_ids[p])
        if reasons:
            shown.append(f"{problem.expert_ids[e]}: {reasons[0]}")
        if len(shown) == 3:
            break
    return f" (not eligible: {'; '.join(shown)})" if shown else ""


def check_feasibility(problem: Problem, survey: Survey | None = None) -> list[Clash]:
    """Every clash the quick checks can prove; an empty list means none was found.

    ``survey`` (from :func:`expertmatch.formulation.candidates.survey`)
    carries the per-project counts;
    the capacity checks run max flow on its candidate pairs first and, only if that falls
    short, on every eligible pair.

    The per-project checks come first, in project order (a project's coverage clashes after
    its others); the batch-wide capacity checks run only when they found nothing.
    """

    surv = survey if survey is not None else make_survey(problem)
    clashes = [
        clash
        for p in range(problem.n_projects)
        for check in _PROJECT_CHECKS
        for clash in check(problem, surv, p)
    ]
    clashes += _check_coverage(problem, surv)
    clashes += _check_quotas(problem, surv)
    if clashes:
        return sorted(
            clashes, key=lambda c: problem.project_index[c.projects[0]] if c.projects else -1
        )
    return _check_capacity(problem, surv)


# -- per project: (problem, survey, project) -> clashes ----------------------------------------


def _check_panel_size(problem: Problem, surv: Survey, p: int) -> Iterator[Clash]:
    """``panel_size``: enough eligible experts with capacity left."""
    pid, k, n = problem.project_ids[p], int(problem.project_panel_size[p]), int(surv.eligible[p])
    if n < k:
        yield Clash(
            Rule.PANEL_SIZE,
            f"{pid} needs {k} experts; only {n} are eligible with capacity "
            f"left{_excluded(problem, p)}",
            (pid,),
            suggestion=f"lower panel_size of {pid} to {n}, or add experts in its fields",
        )


def _check_max_per_org(problem: Problem, surv: Survey, p: int) -> Iterator[Clash]:
    """``max_per_org``: enough organizations among them (checked only if there are enough)."""
    pid, k = problem.project_ids[p], int(problem.project_panel_size[p])
    limit, orgs = int(problem.project_max_per_org[p]), int(surv.orgs[p])
    if int(surv.eligible[p]) >= k and orgs * limit < k:
        yield Clash(
            Rule.MAX_PER_ORG,
            f"{pid} needs {k} experts at most {limit} per organization; "
            f"eligible experts come from only {orgs} organizations",
            (pid,),
            suggestion=f"raise max_per_org to {math.ceil(k / max(orgs, 1))}, or add "
            "experts from other organizations",
        )


def _check_enterprise_experts(problem: Problem, surv: Survey, p: int) -> Iterator[Clash]:
    """``enterprise_share``: enough eligible enterprise experts with capacity left."""
    pid, k = problem.project_ids[p], int(problem.project_panel_size[p])
    need = int(problem.enterprise_required[p])
    n_ent = int(surv.enterprise[p])
    if n_ent < need:
        yield Clash(
            Rule.ENTERPRISE_SHARE,
            f"{pid} needs {need} enterprise experts; only {n_ent} "
            f"eligible with capacity left{_excluded(problem, p, enterprise=True)}",
            (pid,),
            suggestion=f"give {pid} enterprise_min = {n_ent} in projects.csv (now {need} of "
            f"{k}), or add enterprise experts in {', '.join(problem.project_fields[p])}",
        )


def _check_enterprise_orgs(problem: Problem, surv: Survey, p: int) -> Iterator[Clash]:
    """``enterprise_share`` under ``max_per_org``: enough organizations among the enterprise
    experts (checked only if there are enough of them)."""
    pid, k = problem.project_ids[p], int(problem.project_panel_size[p])
    need = int(problem.enterprise_required[p])
    limit, ent_orgs = int(problem.project_max_per_org[p]), int(surv.enterprise_orgs[p])
    if int(surv.enterprise[p]) >= need and ent_orgs * limit < need:
        yield Clash(
            Rule.ENTERPRISE_SHARE,
            f"{pid} needs {need} enterprise experts; eligible ones "
            f"come from only {ent_orgs} organizations (max_per_org {limit})",
            (pid,),
            suggestion=f"give {pid} enterprise_min = {ent_orgs * limit} in projects.csv (now "
            f"{need} of {k}), or raise max_per_org",
        )


_PROJECT_CHECKS: tuple[Callable[[Problem, Survey, int], Iterable[Clash]], ...] = (
    _check_panel_size,
    _check_max_per_org,
    _check_enterprise_experts,
    _check_enterprise_orgs,
)


def _check_coverage(problem: Problem, surv: Survey) -> list[Clash]:
    """``coverage``: for every field to cover, an eligible expert with capacity left."""
    cov = coverage_rows(problem)
    clashes = []
    for r in np.flatnonzero(~surv.covered):
        p = int(cov.project[r])
        pid, key = problem.project_ids[p], cov.nodes[int(cov.node[r])]
        clashes.append(
            Clash(
                Rule.COVERAGE,
                f"{pid}: no eligible expert with capacity left covers field {key}"
                f"{_excluded(problem, p, node=int(cov.node[r]))}",
                (pid,),
                suggestion=f"add an expert in field {key}, lower coverage_level, or drop {key} "
                f"from {pid}'s fields",
            )
        )
    return clashes


def _check_quotas(problem: Problem, surv: Survey) -> list[Clash]:
    """Each panel quota's minimum: enough eligible experts with capacity left that it counts,
    per panel of its stages; naming those it counts who are excluded, and why."""
    clashes = _quota_bounds(problem)
    if clashes:
        return clashes
    for q, quota in enumerate(problem.count_rules):
        if quota.scope != "panel":
            continue
        counted = problem.has_value(quota.attribute, quota.values)
        for p in np.flatnonzero(problem.covered_by(quota)).tolist():
            need = quota.bounds(int(problem.project_panel_size[p]))[0]
            have = int(surv.quota_eligible[p, q])
            if have < need:
                clashes.append(_quota_clash(problem, quota, p, need, have, counted))
    return clashes


def _quota_bounds(problem: Problem) -> list[Clash]:
    """A quota whose least count exceeds its most (``min`` above ``max`` or a share's floor,
    or a batch quota's minimum above the seats of its stages): no panel can keep it."""
    out = []
    for quota in problem.count_rules:
        in_stage = problem.covered_by(quota)
        if quota.scope == "batch":
            seats = problem.seats_of(quota)
            low, high = quota.bounds(seats)
            if low > high:
                out.append(
                    Clash(
                        Rule.QUOTA,
                        f"quota {quota.name}: needs at least {low} but at most {high} of the "
                        f"{seats} seats of its stages",
                        suggestion=f"check quota {quota.name}'s bounds and stages",
                    )
                )
            continue
        for p in np.flatnonzero(in_stage).tolist():
            low, high = quota.bounds(int(problem.project_panel_size[p]))
            if low > high:
                pid = problem.project_ids[p]
                out.append(
                    Clash(
                        Rule.QUOTA,
                        f"quota {quota.name}: {pid} needs at least {low} but at most {high} "
                        f"members with {quota.attribute} in {', '.join(quota.values)}",
                        (pid,),
                        suggestion=f"check quota {quota.name}'s bounds",
                    )
                )
    return out


def _quota_clash(
    problem: Problem, quota: Quota, p: int, need: int, have: int, counted: np.ndarray
) -> Clash:
    pid = problem.project_ids[p]
    what = f"{quota.attribute} in {', '.join(quota.values)}"
    return Clash(
        Rule.QUOTA,
        f"quota {quota.name}: {pid} needs {need} experts with {what}; only {have} eligible "
        f"with capacity left{_excluded(problem, p, counted=counted)}",
        (pid,),
        suggestion=f"relax quota {quota.name} for the {problem.stages[p]} stage, or add "
        f"experts with {what}",
    )


# -- across the batch ----------------------------------------------------------------------


def _check_capacity(problem: Problem, surv: Survey) -> list[Clash]:
    """``load`` and ``enterprise_share`` across the batch, by max flow: on the candidate
    pairs first; if they fall short, on every eligible pair with capacity. Beyond
    :data:`FULL_FLOW` eligible pairs the full network is never built: the candidates' minimum
    cut is measured over every pair instead, counted block by block (a cut of the full network
    bounds its flow, so a cut below the demand proves the clash; otherwise the priced LP
    decides)."""
    clashes = _flow_clashes(problem, surv.candidates.project, surv.candidates.expert)
    if not clashes or len(surv.candidates) >= surv.total_eligible:
        return clashes  # none, or the candidates were every pair: the clashes are proven
    if surv.total_eligible > FULL_FLOW:
        pj, ej = surv.candidates.project, surv.candidates.expert
        return _flow_clashes(problem, pj, ej, over_every_pair=True)
    every = eligible_pairs(problem)
    usable = problem.expert_capacity[every.expert] > 0
    return _flow_clashes(problem, every.project[usable], every.expert[usable])


@dataclass(frozen=True)
class _Network:
    """One capacity check: source -> project (``demand``) -> expert (1 per eligible pair of
    an allowed project and expert) -> sink (``cap``), with its rule and message."""

    rule: str
    text: str
    demand: np.ndarray
    cap: np.ndarray
    projects: np.ndarray  # mask: projects whose pairs enter
    experts: np.ndarray  # mask: experts whose pairs enter


def _networks(problem: Problem) -> list[_Network]:
    """The batch-wide checks: every seat, every enterprise seat, every chair."""
    cap = problem.expert_capacity
    every_p, every_e = np.ones(problem.n_projects, bool), np.ones(problem.n_experts, bool)
    out = [
        _Network(
            Rule.LOAD,
            "panels need {need} reviews in all but eligible experts' "
            "capacities can give at most {flow}",
            problem.project_panel_size,
            cap,
            every_p,
            every_e,
        ),
        _Network(
            Rule.ENTERPRISE_SHARE,
            "panels need {need} enterprise reviews in "
            "all but eligible enterprise experts' capacities can give at "
            "most {flow}",
            problem.enterprise_required,
            cap,
            every_p,
            problem.expert_enterprise.astype(bool),
        ),
    ]
    chair = problem.rules.chair
    if chair is not None:
        out.append(
            _Network(
                Rule.CHAIR,
                "{need} panels need a chair but the experts who may chair them, each at most "
                f"max_per_expert {chair.max_per_expert} times, can chair at most {{flow}}",
                needs_chair(problem).astype(np.int64),
                np.minimum(cap, chair.max_per_expert),
                needs_chair(problem),
                may_chair(problem),
            )
        )
    return out


def _flow_clashes(
    problem: Problem, pj: np.ndarray, ej: np.ndarray, over_every_pair: bool = False
) -> list[Clash]:
    """Can the pairs (``pj``, ``ej``) fill every panel, every panel's enterprise seats and
    every chair? ``over_every_pair``: a shortfall counts only when the minimum cut found is
    also short over every eligible pair (:func:`_cut_over_every_pair`)."""
    clashes = []
    for net in _networks(problem):
        keep = net.projects[pj] & net.experts[ej]
        cut = _min_cut(problem, pj[keep], ej[keep], net)
        if cut is not None and over_every_pair:
            cut = _cut_over_every_pair(problem, net, cut, pj[keep], ej[keep])
        if cut is not None:
            clashes.append(_capacity_clash(problem, net, cut))
    return clashes


#: A cut short of the demand: the flow (or cut capacity) reached, the projects and the
#: experts on its source side.
_Cut = tuple[int, list[int], list[int]]


#: The most pairs :func:`_fills` walks (one Python step a pair) before leaving it to max flow.
GREEDY_PAIRS = 100_000


def _fills(pj: np.ndarray, ej: np.ndarray, demand: np.ndarray, cap: np.ndarray) -> bool:
    """Does one greedy pass over the pairs (each a unit arc) meet every project's demand
    within the experts' capacities? If so that assignment is a flow meeting the demand, so
    the maximum flow does too: no clash, and neither the max-flow solve nor OR-Tools' import
    (0.03 s of a CLI run) is needed. If not, nothing is proven: :func:`_min_cut` decides."""
    need, left = demand.tolist(), cap.tolist()
    total = sum(need)
    if total <= 0:
        return True
    # the projects with the fewest pairs to spare first, each taking its least sought
    # experts (most capacity per pair naming them) first: a fill that seldom gets stuck
    spare = np.bincount(pj, minlength=demand.size) - demand
    sought = np.bincount(ej, minlength=cap.size) / np.maximum(cap, 1)
    order = np.lexsort((sought[ej], pj, spare[pj]))
    for p, e in zip(pj[order].tolist(), ej[order].tolist(), strict=True):
        if total <= 0:
            break
        if need[p] > 0 and left[e] > 0:
            need[p] -= 1
            left[e] -= 1
            total -= 1
    return total <= 0


def _min_cut(problem: Problem, pj: np.ndarray, ej: np.ndarray, net: _Network) -> _Cut | None:
    """The maximum flow over these pairs and its minimum cut, if short of the demand (None
    at once when a greedy pass already meets the demand, :func:`_fills`)."""
    if pj.size <= GREEDY_PAIRS and _fills(pj, ej, net.demand, net.cap):
        return None
    from ortools.graph.python import max_flow  # here: only when the greedy pass falls short

    n_p, n_e = problem.n_projects, problem.n_experts
    source, sink = n_p + n_e, n_p + n_e + 1
    flow = max_flow.SimpleMaxFlow()
    tails = np.concatenate([np.full(n_p, source), pj, n_p + np.arange(n_e)])
    heads = np.concatenate([np.arange(n_p), n_p + ej, np.full(n_e, sink)])
    caps = np.concatenate([net.demand, np.ones(pj.size, dtype=np.int64), net.cap])
    flow.add_arcs_with_capacity(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64)
    )
    if flow.solve(source, sink) != flow.OPTIMAL:
        raise RuntimeError("max flow failed on a well-formed network")
    got = int(flow.optimal_flow())
    if got >= int(net.demand.sum()):
        return None
    side = np.asarray(flow.get_source_side_min_cut())
    short = sorted(int(v) for v in side if v < n_p and net.demand[v] > 0)
    binding = sorted(int(v) - n_p for v in side if n_p <= v < n_p + n_e)
    return got, short, binding


def _cut_over_every_pair(
    problem: Problem, net: _Network, cut: _Cut, pj: np.ndarray, ej: np.ndarray
) -> _Cut | None:
    """A cut of the network over every eligible pair with capacity that is short of the
    demand, if one of two is: with the candidates' minimum cut's projects inside, or with
    every project that needs a seat. Given the projects inside, the best cut takes in each
    expert whose capacity is below its count of eligible pairs from them (else those pairs
    cross it): its value is the demand outside plus, per expert, the smaller of the two.
    The counts come block by block, so the full pair set never exists: for the first cut over
    its projects alone (a few hundred at 10k x 30k); for the second over every project only
    when the candidate pairs (``pj``, ``ej``, eligible pairs of this network: a lower bound of
    each expert's count) leave it short, since otherwise it cannot be (on a feasible batch of
    49 M pairs that pass took 3 s a network)."""
    _, short, _ = cut
    needing = net.demand > 0
    inside = np.zeros(problem.n_projects, dtype=bool)
    inside[short] = True
    n_e = problem.n_experts
    demand = int(net.demand.sum())
    at = needing[pj]
    pairs = np.unique(pj[at].astype(np.int64) * n_e + ej[at])  # each pair once
    lower = np.bincount(pairs % n_e, minlength=n_e)
    if int(np.minimum(net.cap, lower).sum()) < demand:  # both cuts, in one pass
        every, of_inside = _degrees(problem, net, needing & net.projects, inside)
        tries = [(inside, of_inside), (needing, every)]
    else:
        tries = [(inside, _degrees(problem, net, inside & needing & net.projects, inside)[1])]
    best: _Cut | None = None
    for projects, deg in tries:
        value = int(net.demand[~projects].sum()) + int(np.minimum(net.cap, deg).sum())
        if value < demand and (best is None or value < best[0]):
            experts = np.flatnonzero((deg > 0) & (net.cap <= deg))
            best = (value, np.flatnonzero(projects).tolist(), experts.tolist())
    return best


def _degrees(
    problem: Problem, net: _Network, projects: np.ndarray, inside: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per expert of the network, its eligible pairs (with capacity) from the ``projects``,
    and from those of them ``inside`` (masks), counted block by block in one pass."""
    every = np.zeros(problem.n_experts, dtype=np.int64)
    of_inside = np.zeros(problem.n_experts, dtype=np.int64)
    for block, scores in eligible_blocks(problem, np.flatnonzero(projects), True):
        pairs = np.isfinite(scores) & net.experts[None, :]
        every += pairs.sum(axis=0)
        of_inside += pairs[inside[block]].sum(axis=0)
    return every, of_inside


def _capacity_clash(problem: Problem, net: _Network, cut: _Cut) -> Clash:
    """The shortfall in office terms: the projects that together need more than their
    experts can give, and by how much to raise those experts' loads."""
    got, short, binding = cut
    need = int(net.demand.sum())
    ids = [problem.project_ids[p] for p in short]
    experts = [problem.expert_ids[e] for e in binding]
    msg = net.text.format(need=need, flow=got)
    if ids:
        msg += (
            f"; the projects {_names(ids)} together need more than their "
            f"{len(experts)} eligible experts can give"
        )
    raise_by = math.ceil((need - got) / max(len(experts), 1))
    suggestion = (
        f"raise max_load (and yearly_cap if it binds) by {raise_by} for these "
        f"{len(experts)} experts: {_names(experts)}"
        if experts
        else "add experts eligible for these projects"
    )
    if net.rule == Rule.CHAIR:
        suggestion = (
            "raise max_per_expert in [chair], or add experts who may chair these panels"
            + (f" (binding now: {_names(experts)})" if experts else "")
        )
    return Clash(net.rule, msg, tuple(ids), suggestion=suggestion, experts=tuple(experts))

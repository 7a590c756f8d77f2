"""Random draw with a guarantee: the ``max_probability`` rule.

So that nobody can lobby their way onto a panel, the office may draw the assignment at random.
:func:`lottery` computes the distribution and :meth:`Lottery.draw` samples it:

1. **Marginals.** The LP over every eligible pair: maximise ``sum_j s_j x_j`` subject to every
   rule of :func:`model.build_model` and ``0 <= x_j <= max_probability``. Its optimum is the
   best *expected* score of any random assignment that keeps the cap (the marginals of any
   such lottery satisfy this LP), so it is also the bound.
2. **Sampling: bihierarchy dependent rounding** (Budish, Che, Kojima and Milgrom, *Designing
   random allocation mechanisms*, AER 2013; the same flow-rounding as Gandhi et al., JACM 2006,
   used for peer review by Jecmen et al., NeurIPS 2020). The marginals are the flows of a
   network ``source -> project -> (project, org type) -> (project, org type, organization) ->
   expert -> org type -> sink``. While an edge is fractional there is a cycle of fractional
   edges; flow is pushed around it by +alpha with probability beta/(alpha+beta) or by -beta
   otherwise, which keeps every expected flow unchanged and makes at least one more edge
   integral. At the end every pair is 0 or 1 with **probability exactly x_j <= max_probability**,
   and every edge of the network ends at the floor or ceiling of its fractional flow, so these
   rules hold in **every** draw: panel size (an integer), each expert's load and yearly cap,
   the panel's enterprise minimum, the organization cap (when an organization's experts share
   one type) and the batch's ``enterprise_target_share``.
3. **Field coverage is not part of the hierarchy** (a project's covering experts cut across
   the enterprise split), and neither is the organization cap for an organization whose
   experts have different types. The LP holds them in expectation; a draw that breaks one is
   rejected and drawn again (same seed, next random numbers). Then the assignment is drawn
   from the lottery *conditioned on every rule holding*: a pair's probability is at most
   ``max_probability / P(rules hold)``, where ``P(rules hold)`` is estimated by the share of
   accepted draws. ``Result.stats["rejected_draws"]`` reports how many draws were rejected;
   with none, the marginals are exact. :meth:`Lottery.acceptance` estimates ``P(rules hold)``.

The seed reproduces the draw.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from .errors import Clash, InfeasibleError, SolveError
from .model import Model, build_model
from .problem import Pairs

if TYPE_CHECKING:
    from .problem import Problem
    from .result import Result
    from .solve import SolveParams

#: Draws tried before giving up when coverage keeps failing.
MAX_DRAWS = 1000
#: A flow this close to an integer counts as integral (LP round-off).
EPS = 1e-7


@dataclass(frozen=True)
class Lottery:
    """The optimal capped marginals of a batch and the network that samples them."""

    problem: Problem
    model: Model
    x: np.ndarray  # marginal probability of each pair of model.pairs
    expected_objective: float
    cap: float
    time_s: float

    @property
    def pairs(self) -> Pairs:
        return self.model.pairs

    def probabilities(self) -> list[tuple[str, str, float]]:
        """(expert id, project id, probability) of every pair with probability > 0."""
        p = self.problem
        nz = np.flatnonzero(self.x > EPS)
        return [
            (
                p.expert_ids[int(self.pairs.expert[j])],
                p.project_ids[int(self.pairs.project[j])],
                round(float(self.x[j]), 6),
            )
            for j in nz
        ]

    def round_once(self, rng: np.random.Generator) -> np.ndarray:
        """One dependent rounding of the marginals: a 0/1 vector over the pairs."""
        return _round(self.network, rng)

    @cached_property
    def network(self) -> _Network:
        """The flow network of the marginals (built once, rounded on each draw)."""
        return _Network.build(self)

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        """A rounding that satisfies every rule, and the number of rejected draws before it."""
        for rejected in range(MAX_DRAWS):
            chosen = self.round_once(rng)
            if self.model.satisfied(chosen):
                return chosen, rejected
        raise SolveError(
            f"{MAX_DRAWS} random draws all broke a rule outside the rounding's guarantee "
            "(field coverage, or the organization cap of an organization whose experts have "
            "different types); raise max_probability or relax coverage_level",
            "infeasible",
        )

    def acceptance(self, draws: int, seed: int = 0) -> float:
        """Share of ``draws`` roundings that satisfy every rule (estimates P(rules hold))."""
        rng = np.random.default_rng(seed)
        return float(np.mean([self.model.satisfied(self.round_once(rng)) for _ in range(draws)]))

    def sample(self, seed: int) -> Result:
        """Draw one assignment (reproducible from ``seed``) as a Result."""
        from .result import Result

        start = time.perf_counter()
        chosen, rejected = self.draw(np.random.default_rng(seed))
        p = self.pairs
        objective = float(self.model.weight[chosen].sum()) * self.model.unit
        probs = Pairs(p.project.copy(), p.expert.copy(), self.x.copy())
        return Result.build(
            self.problem,
            Pairs(p.project[chosen], p.expert[chosen], p.score[chosen]),
            status="optimal",
            objective=objective,
            bound=self.expected_objective,
            time_s=self.time_s + time.perf_counter() - start,
            seed=seed,
            stats={
                "method": "capped LP (HiGHS) + bihierarchy dependent rounding",
                "rejected_draws": rejected,
                "pairs": len(p),
            },
            expected_objective=self.expected_objective,
            max_probability=self.cap,
            probabilities=probs,
        )


def lottery(problem: Problem, params: SolveParams) -> Lottery:
    """The capped LP's marginals (see the module docstring); raises InfeasibleError if the
    rules cannot hold with every pair's probability at most ``max_probability``."""
    from .solve import _solve_lp, solve

    start = time.perf_counter()
    cap = float(problem.rules.max_probability)
    model = build_model(problem, problem.pairs)
    lp = _solve_lp(model, params.time_limit, upper=cap)
    if lp is None:
        solve(problem, params)  # raises the deterministic diagnosis if there is one
        raise InfeasibleError(_capped_clashes(problem, cap))
    x = np.clip(lp.x, 0.0, cap)
    x[x < EPS] = 0.0
    x[np.abs(x - cap) < EPS] = cap
    expected = float(model.weight @ x) * model.unit
    return Lottery(problem, model, x, expected, cap, time.perf_counter() - start)


def _capped_clashes(problem: Problem, cap: float) -> list[Clash]:
    """Projects whose eligible experts are too few for a panel with every pair <= cap."""
    pairs = problem.pairs
    count = np.bincount(pairs.project, minlength=problem.n_projects)
    ent = np.bincount(
        pairs.project, weights=problem.expert_enterprise[pairs.expert], minlength=problem.n_projects
    )
    out = []
    for p, pid in enumerate(problem.project_ids):
        k, need = int(problem.project_panel_size[p]), int(problem.enterprise_required[p])
        if count[p] * cap < k - EPS:
            out.append(
                Clash(
                    "max_probability",
                    f"{pid} needs {k} experts but has {count[p]} eligible; with each at most "
                    f"{cap:g} likely, the panel is short in expectation",
                    (pid,),
                    f"raise max_probability to at least {k / max(count[p], 1):.2f}",
                )
            )
        elif ent[p] * cap < need - EPS:
            out.append(
                Clash(
                    "max_probability",
                    f"{pid} needs {need} enterprise experts but has {int(ent[p])} eligible; "
                    f"with each at most {cap:g} likely, that is short in expectation",
                    (pid,),
                    f"raise max_probability to at least {need / max(ent[p], 1):.2f}",
                )
            )
    return out or [
        Clash(
            "max_probability",
            f"the rules hold for a fixed assignment but not with every pair at most {cap:g} "
            "likely (loads, organization caps or coverage leave too few alternatives)",
            (),
            "raise max_probability",
        )
    ]


@dataclass
class _Network:
    """The bihierarchy flow network: edge e goes tail[e] -> head[e] with flow[e]."""

    tail: np.ndarray
    head: np.ndarray
    flow: np.ndarray
    keep: np.ndarray  # edge j < keep.size is the pair keep[j] of the lottery's pairs
    n_all: int  # number of the lottery's pairs

    @classmethod
    def build(cls, lot: Lottery) -> _Network:
        problem, pairs, x = lot.problem, lot.pairs, lot.x
        keep = np.flatnonzero(x > 0)
        pj, ej, xj = pairs.project[keep], pairs.expert[keep], x[keep]
        ent = problem.expert_enterprise.astype(np.int64)
        n_p, n_e, n_o = problem.n_projects, problem.n_experts, len(problem.org_ids)
        # node numbering: 0 source, 1 sink, then projects, (p, type), (p, type, org),
        # experts, expert types
        tail_parts, head_parts, flow_parts = [], [], []
        proj0 = 2
        ptype0 = proj0 + n_p
        porg_key = (pj * 2 + ent[ej]) * n_o + problem.expert_org[ej]
        porg_keys, porg_of_pair = np.unique(porg_key, return_inverse=True)
        porg0 = ptype0 + 2 * n_p
        exp0 = porg0 + porg_keys.size
        etype0 = exp0 + n_e
        # pair edges: (p, type, org) -> expert
        tail_parts.append(porg0 + porg_of_pair)
        head_parts.append(exp0 + ej)
        flow_parts.append(xj)
        # (p, type) -> (p, type, org)
        porg_flow = np.bincount(porg_of_pair, weights=xj, minlength=porg_keys.size)
        tail_parts.append(ptype0 + porg_keys // n_o)
        head_parts.append(porg0 + np.arange(porg_keys.size))
        flow_parts.append(porg_flow)
        # project -> (p, type)
        ptype = pj * 2 + ent[ej]
        ptype_flow = np.bincount(ptype, weights=xj, minlength=2 * n_p)
        tail_parts.append(proj0 + np.arange(2 * n_p) // 2)
        head_parts.append(ptype0 + np.arange(2 * n_p))
        flow_parts.append(ptype_flow)
        # source -> project
        tail_parts.append(np.zeros(n_p, dtype=np.int64))
        head_parts.append(proj0 + np.arange(n_p))
        flow_parts.append(np.bincount(pj, weights=xj, minlength=n_p))
        # expert -> expert type
        tail_parts.append(exp0 + np.arange(n_e))
        head_parts.append(etype0 + ent)
        load = np.bincount(ej, weights=xj, minlength=n_e)
        flow_parts.append(load)
        # expert type -> sink, sink -> source
        tail_parts.append(etype0 + np.arange(2))
        head_parts.append(np.ones(2, dtype=np.int64))
        flow_parts.append(np.bincount(ent, weights=load, minlength=2))
        tail_parts.append(np.array([1]))
        head_parts.append(np.array([0]))
        flow_parts.append(np.array([xj.sum()]))
        flow = np.concatenate(flow_parts).astype(float)
        near = np.rint(flow)
        snap = np.abs(flow - near) < EPS
        flow[snap] = near[snap]
        return cls(
            np.concatenate(tail_parts).astype(np.int64),
            np.concatenate(head_parts).astype(np.int64),
            flow,
            keep,
            len(pairs),
        )


def _round(net: _Network, rng: np.random.Generator) -> np.ndarray:
    """Dependent rounding on the network (see the module docstring); 0/1 over all pairs."""
    flow = net.flow.copy()
    frac = np.flatnonzero(np.abs(flow - np.rint(flow)) >= EPS)
    adj: dict[int, set[int]] = {}
    for e in frac.tolist():
        adj.setdefault(int(net.tail[e]), set()).add(e)
        adj.setdefault(int(net.head[e]), set()).add(e)
    tail, head = net.tail, net.head

    def drop(e: int) -> None:
        adj[int(tail[e])].discard(e)
        adj[int(head[e])].discard(e)

    path_nodes: list[int] = []
    path_edges: list[int] = []
    where: dict[int, int] = {}
    while True:
        if not path_nodes:
            start = next((v for v in sorted(adj) if adj[v]), None)
            if start is None:
                break
            path_nodes, path_edges, where = [start], [], {start: 0}
        here = path_nodes[-1]
        last = path_edges[-1] if path_edges else -1
        options = adj[here] - {last}
        if not options:
            if last < 0:  # a walk cut back to its start, whose edges are now all integral
                path_nodes, path_edges, where = [], [], {}
                continue
            # only LP round-off can leave a lone fractional edge at a node
            if abs(flow[last] - np.rint(flow[last])) > 1e-5:
                raise SolveError("internal error: dependent rounding lost flow balance", "timeout")
            flow[last] = np.rint(flow[last])
            drop(last)
            path_nodes, path_edges, where = [], [], {}
            continue
        e = min(options)
        nxt = int(head[e]) if int(tail[e]) == here else int(tail[e])
        if nxt not in where:
            where[nxt] = len(path_nodes)
            path_nodes.append(nxt)
            path_edges.append(e)
            continue
        # a cycle: nodes path_nodes[i:] and edges path_edges[i:] + [e]
        i = where[nxt]
        cycle = [*path_edges[i:], e]
        walk = path_nodes[i:]
        forward = np.array([int(tail[c]) == walk[n] for n, c in enumerate(cycle)], dtype=bool)
        f = flow[cycle]
        up = np.ceil(f) - f
        down = f - np.floor(f)
        alpha = float(min(up[forward].min(initial=np.inf), down[~forward].min(initial=np.inf)))
        beta = float(min(down[forward].min(initial=np.inf), up[~forward].min(initial=np.inf)))
        step = alpha if rng.random() < beta / (alpha + beta) else -beta
        f = f + np.where(forward, step, -step)
        near = np.rint(f)
        done = np.abs(f - near) < EPS
        f[done] = near[done]
        flow[cycle] = f
        for c, d in zip(cycle, done.tolist(), strict=True):
            if d:
                drop(c)
        for v in path_nodes[i + 1 :]:
            del where[v]
        del path_nodes[i + 1 :]
        del path_edges[i:]
    chosen = np.zeros(net.n_all, dtype=bool)
    chosen[net.keep[np.rint(flow[: net.keep.size]) == 1]] = True
    return chosen


def solve_random(problem: Problem, params: SolveParams) -> Result:
    """The ``max_probability`` solve: the optimal capped lottery, one draw from ``seed``."""
    return lottery(problem, params).sample(params.seed)

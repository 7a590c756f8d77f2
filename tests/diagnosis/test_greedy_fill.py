"""The capacity checks' greedy fill (``checks._fills``): when it meets the demand the maximum
flow does too, so skipping the max flow never hides a clash; the checks' answers are the same
with and without it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.graph.python import max_flow

import expertmatch as em
from expertmatch.diagnosis import checks
from expertmatch.formulation.candidates import survey


def _max_flow(pj: np.ndarray, ej: np.ndarray, demand: np.ndarray, cap: np.ndarray) -> int:
    """The maximum flow source -> project (demand) -> expert (1 a pair) -> sink (cap)."""
    n_p, n_e = demand.size, cap.size
    flow = max_flow.SimpleMaxFlow()
    source, sink = n_p + n_e, n_p + n_e + 1
    tails = np.concatenate([np.full(n_p, source), pj, n_p + np.arange(n_e)])
    heads = np.concatenate([np.arange(n_p), n_p + ej, np.full(n_e, sink)])
    caps = np.concatenate([demand, np.ones(pj.size, dtype=np.int64), cap])
    flow.add_arcs_with_capacity(tails.astype(np.int32), heads.astype(np.int32), caps)
    assert flow.solve(source, sink) == flow.OPTIMAL
    return int(flow.optimal_flow())


@st.composite
def _networks(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    """Random bipartite networks: pairs (each once), demands and capacities, some short."""
    n_p = draw(st.integers(1, 8))
    n_e = draw(st.integers(1, 8))
    every = [(p, e) for p in range(n_p) for e in range(n_e)]
    pairs = draw(st.lists(st.sampled_from(every), unique=True, max_size=len(every)))
    demand = np.array(draw(st.lists(st.integers(0, 4), min_size=n_p, max_size=n_p)))
    cap = np.array(draw(st.lists(st.integers(0, 4), min_size=n_e, max_size=n_e)))
    pj = np.array([p for p, _ in pairs], dtype=np.int64)
    ej = np.array([e for _, e in pairs], dtype=np.int64)
    return pj, ej, demand.astype(np.int64), cap.astype(np.int64)


@settings(max_examples=300, deadline=None)
@given(_networks())
def test_a_filled_greedy_pass_means_the_max_flow_meets_the_demand(
    network: tuple[np.ndarray, ...],
) -> None:
    pj, ej, demand, cap = network
    flow = _max_flow(pj, ej, demand, cap)
    if checks._fills(pj, ej, demand, cap):
        assert flow >= int(demand.sum())
    if flow < int(demand.sum()):  # a real shortfall is never hidden
        assert not checks._fills(pj, ej, demand, cap)


@pytest.mark.parametrize(
    ("rules", "seed"),
    [
        (None, 1),
        ({"max_load": 2}, 1),
        ({"enterprise_min_share": "4/5", "max_load": 2}, 1),
        ({"enterprise_min_share": "3/5", "max_load": 1}, 2),
        ({"enterprise_min_share": "3/5"}, 3),
    ],
)
def test_the_checks_say_the_same_with_and_without_the_greedy_fill(
    rules: dict[str, object] | None, seed: int
) -> None:
    """Feasible and short batches: the same clashes, word for word, either way."""
    problem = em.from_tables(**em.generate(60, 180, seed=seed), rules=rules)
    surv = survey(problem)
    with_fill = [str(c) for c in checks._check_capacity(problem, surv)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checks, "GREEDY_PAIRS", -1)  # every network to max flow
        without = [str(c) for c in checks._check_capacity(problem, surv)]
    assert with_fill == without


def test_the_greedy_fill_spares_the_max_flow_on_a_roomy_batch() -> None:
    """On a generated batch with the default rules the candidates fill every network greedily
    (so ``assign`` need not load OR-Tools' graph library for the checks)."""
    problem = em.from_tables(**em.generate(200, 600, seed=1))
    surv = survey(problem)
    pj, ej = surv.candidates.project, surv.candidates.expert
    for net in checks._networks(problem):
        keep = net.projects[pj] & net.experts[ej]
        assert checks._fills(pj[keep], ej[keep], net.demand, net.cap)

"""The batch-wide capacity checks beyond ``FULL_FLOW`` eligible pairs: a cut counted over every
pair in blocks proves the same clashes as the maximum flow over every pair, without the pairs."""

from __future__ import annotations

import re

import pytest

import expertmatch as em
from expertmatch.diagnosis import checks
from expertmatch.formulation.candidates import survey


def _figures(message: str) -> tuple[int, int]:
    """The demand and the most the capacities can give, from a capacity clash's message."""
    found = re.search(r"need (\d+) .* at most (\d+)", message)
    assert found is not None, message
    return int(found.group(1)), int(found.group(2))


#: Generated batches (enterprise share, max_load, projects, seed) whose candidate pairs fall
#: short of some capacity check, so that the counted cut runs.
SHORT_BATCHES = [
    ("4/5", 2, 60, 1),
    ("3/5", 1, 60, 2),
    ("1/5", 1, 100, 1),
    ("1/5", 1, 100, 2),
    ("2/5", 1, 40, 1),
]


def _batch(share: str, max_load: int, n: int, seed: int) -> em.Problem:
    """``n`` generated projects and ``3 n`` experts with that share and load."""
    return em.from_tables(
        **em.generate(n, 3 * n, seed=seed),
        rules={"enterprise_min_share": share, "max_load": max_load},
    )


@pytest.mark.parametrize(("share", "max_load", "n", "seed"), SHORT_BATCHES)
def test_counted_cut_finds_the_clashes_of_the_full_flow(
    share: str, max_load: int, n: int, seed: int
) -> None:
    problem = _batch(share, max_load, n, seed)
    surv = survey(problem)
    assert len(surv.candidates) < surv.total_eligible  # the fallback is reached at all
    full = checks._check_capacity(problem, surv)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checks, "FULL_FLOW", 0)
        counted = checks._check_capacity(problem, surv)
    assert [c.rule for c in counted] == [c.rule for c in full]
    for a, b in zip(counted, full, strict=True):
        # same demand; the cut's capacity bounds the maximum flow from above
        need, at_most = _figures(a.message)
        assert _figures(b.message)[0] == need
        assert _figures(b.message)[1] <= at_most < need


def test_large_batch_clash_is_found_before_any_lp() -> None:
    """The generated relax benchmark's clash (four enterprise experts per panel of five from
    two in five enterprise experts at two reviews each) is proven by the checks even when the
    full network is too large to build."""
    problem = em.from_tables(
        **em.generate(200, 600, seed=1),
        rules={"enterprise_min_share": "4/5", "max_load": 2, "max_per_org": 2},
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(checks, "FULL_FLOW", 0)
        clashes = checks.check_feasibility(problem)
    assert [c.rule for c in clashes] == [em.Rule.ENTERPRISE_SHARE]
    assert clashes[0].message.startswith("panels need ")


def _both_cuts(problem: em.Problem, net: checks._Network, inside_projects: list[int]) -> object:
    """The reference: both cuts (the candidates' cut projects inside; every project that
    needs a seat inside) from the eligible pairs themselves."""
    import numpy as np

    from expertmatch.domain.eligibility import eligible_pairs

    every = eligible_pairs(problem)
    every = every.take(problem.expert_capacity[every.expert] > 0)  # as the counted cut
    needing = net.demand > 0
    inside = np.zeros(problem.n_projects, dtype=bool)
    inside[inside_projects] = True
    ok = net.projects[every.project] & net.experts[every.expert] & needing[every.project]
    best = None
    for projects in (inside, needing):
        take = ok & projects[every.project]
        deg = np.bincount(every.expert[take], minlength=problem.n_experts)
        value = int(net.demand[~projects].sum()) + int(np.minimum(net.cap, deg).sum())
        if value < int(net.demand.sum()) and (best is None or value < best[0]):
            experts = np.flatnonzero((deg > 0) & (net.cap <= deg))
            best = (value, np.flatnonzero(projects).tolist(), experts.tolist())
    return best


@pytest.mark.parametrize(("share", "max_load", "n", "seed"), [*SHORT_BATCHES, ("1/3", 2, 100, 3)])
def test_counted_cut_equals_both_cuts_over_every_pair(
    share: str, max_load: int, n: int, seed: int
) -> None:
    """The counted cut skips the pass over every project when the candidate pairs already
    keep the every-project cut at the demand: its answer is still the better of the two cuts
    computed from every eligible pair."""
    problem = _batch(share, max_load, n, seed)
    surv = survey(problem)
    pj, ej = surv.candidates.project, surv.candidates.expert
    compared = 0
    for net in checks._networks(problem):
        keep = net.projects[pj] & net.experts[ej]
        cut = checks._min_cut(problem, pj[keep], ej[keep], net)
        if cut is None:
            continue
        counted = checks._cut_over_every_pair(problem, net, cut, pj[keep], ej[keep])
        assert counted == _both_cuts(problem, net, cut[1])
        compared += 1
    assert compared  # the candidates fell short somewhere: the counted cut ran

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


@pytest.mark.parametrize(
    ("share", "max_load", "n", "seed"),
    [
        ("4/5", 2, 60, 1),
        ("3/5", 1, 60, 2),
        ("1/5", 1, 100, 1),
        ("1/5", 1, 100, 2),
        ("2/5", 1, 40, 1),
    ],
)
def test_counted_cut_finds_the_clashes_of_the_full_flow(
    share: str, max_load: int, n: int, seed: int
) -> None:
    problem = em.from_tables(
        **em.generate(n, 3 * n, seed=seed),
        rules={"enterprise_min_share": share, "max_load": max_load},
    )
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

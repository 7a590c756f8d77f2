"""Best effort: when the rules cannot all hold, the assignment that bends the fewest rules in
the order of priority, with every bend listed; conflicts of interest never bend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import expertmatch as em
from expertmatch.cli import main
from tests.batches import (
    PROJECTS,
    coverage_or_enterprise,
    make,
    short_of_reviews,
    two_project_tables,
    write_tables,
)
from tests.strategies import tiny_batches


def hard_violations(problem: em.Problem, result: em.Result) -> list[em.Violation]:
    """verify() findings that are not listed as bends (there must be none)."""
    bent = {(b.rule, b.project, b.expert) for b in result.bends}
    return [v for v in em.verify(problem, result) if (v.rule, v.project, v.expert) not in bent]


def test_feasible_batch_is_not_bent(tiny: em.Problem) -> None:
    """A batch whose rules all hold is solved with no bend."""
    result = em.assign(tiny, relax=True)
    assert result.bends == () and em.verify(tiny, result) == []


def test_default_order_bends_coverage_before_enterprise_share() -> None:
    """By default coverage bends first: the enterprise seat is kept."""
    problem = coverage_or_enterprise()
    result = em.assign(problem, relax=True)
    assert [(b.rule, b.project, b.amount) for b in result.bends] == [("coverage", "P", 1)]
    assert sorted(result.panels["P"]) == ["a", "e"]  # keeps the enterprise seat, best score
    assert hard_violations(problem, result) == []
    assert [v.rule for v in em.verify(problem, result)] == ["coverage"]


def test_bend_order_is_configurable() -> None:
    """With enterprise share first in the order, it bends instead of coverage."""
    problem = coverage_or_enterprise()
    order = ("max_per_org", "quota", "enterprise_share", "coverage", "max_load", "yearly_cap")
    result = em.assign(problem, relax=True, bend_order=order)
    assert [(b.rule, b.project, b.amount) for b in result.bends] == [("enterprise_share", "P", 1)]
    assert sorted(result.panels["P"]) == ["a", "b"]
    assert hard_violations(problem, result) == []


def test_loads_bend_by_the_fewest_reviews() -> None:
    """Loads too small for demand bend by exactly the missing review."""
    problem = short_of_reviews()
    result = em.assign(problem, relax=True)
    assert [(b.rule, b.amount) for b in result.bends] == [("max_load", 1)]
    assert hard_violations(problem, result) == []
    assert result.loads().max() == 2


def test_conflicts_never_bend() -> None:
    """Too few experts without a conflict stays infeasible under relax."""
    problem = make(
        projects=[{**PROJECTS[0], "organization": "U1"}],
        rules={"panel_size": 7, "enterprise_min_share": 0, "max_per_org": 3},
    )
    with pytest.raises(em.InfeasibleError, match="conflicts and eligibility never bend"):
        em.assign(problem, relax=True)


def test_bad_bend_order_is_refused() -> None:
    """A bend order that does not list each bendable rule is refused."""
    with pytest.raises(ValueError, match="bend order must list each"):
        em.assign(coverage_or_enterprise(), relax=True, bend_order=("coverage",))


def test_cli_relax_exits_0_and_lists_every_bend(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """`assign --relax` exits 0 where a plain assign exits 3, and reports every bend."""
    folder = write_tables(
        tmp_path / "batch",
        two_project_tables(),
        rules="panel_size = 3\nenterprise_min_share = 1\nmax_per_org = 3\n",
    )
    out, report = tmp_path / "a.csv", tmp_path / "r.json"
    assert main(["assign", str(folder), "-o", str(out), "--report", str(report)]) == 3
    assert main(["assign", str(folder), "-o", str(out), "--report", str(report), "--relax"]) == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["bends"] and {b["rule"] for b in data["bends"]} == {"enterprise_share"}
    assert "bent [enterprise_share]" in capsys.readouterr().err


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_batches())
def test_relaxed_results_bend_only_what_they_list(batch: dict) -> None:
    """On random tiny batches verify() finds exactly the bends the result lists."""
    problem = em.from_tables(**batch)
    try:
        result = em.assign(problem, relax=True, time_limit=20)
    except em.InfeasibleError as err:  # only panel sizes and conflicts can make this happen
        assert all(c.rule == "panel_size" for c in err.clashes)
        return
    assert hard_violations(problem, result) == []
    found = {(v.rule, v.project, v.expert) for v in em.verify(problem, result)}
    assert found == {(b.rule, b.project, b.expert) for b in result.bends}

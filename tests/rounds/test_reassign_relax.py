"""``reassign --relax``: when the rules cannot all hold after the declines, the fewest bends
(in the bend order) first, then the fewest changes, then the best score; every bend listed and
found by ``verify`` on the batch with the declines ruled out. Checked by hand on a tight field,
on the command line, and against brute force on small generated batches."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch.cli import main
from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.scoring import score_unit
from expertmatch.formulation.rows import build_model, integer_weights
from expertmatch.rounds.history import read_declines, with_declines
from expertmatch.rounds.reassign import ReassignStats, RelaxedReassignStats
from expertmatch.solvers.relax import BEND_ORDER
from expertmatch.vocabulary import Rule
from tests.batches import read_rows, write_tables
from tests.strategies import tiny_batches

# -- a tight field: two enterprise experts for two panels that each need one ----------------

#: C1 and C2 are the only enterprise experts of field 1.1; everyone reviews at most once.
TIGHT = {
    "experts": [
        {"id": x, "organization": f"O{x}", "org_type": t, "fields": "1.1.1", "max_load": 1}
        for x, t in (
            ("C1", "enterprise"),
            ("C2", "enterprise"),
            ("U1", "university"),
            ("U2", "university"),
            ("U3", "university"),
            ("U4", "university"),
        )
    ],
    "projects": [{"id": p, "organization": "X", "fields": "1.1"} for p in ("P1", "P2")],
    "organizations": [
        *({"id": f"O{x}", "type": ""} for x in ("C1", "C2", "U1", "U2", "U3", "U4")),
        {"id": "X", "type": "university"},
    ],
    "scores": [
        {"expert": x, "project": p, "score": s}
        for p in ("P1", "P2")
        for x, s in (("C1", 9), ("C2", 8), ("U1", 7), ("U2", 6), ("U3", 5), ("U4", 4))
    ],
}
TIGHT_RULES = {
    "panel_size": 2,
    "enterprise_min_share": "1/2",
    "max_per_org": 1,
    "coverage_level": 2,
}
PREVIOUS = [("P1", "C1"), ("P1", "U1"), ("P2", "C2"), ("P2", "U2")]
#: C1 is unavailable for the whole round: one panel must go without an enterprise expert.
DECLINED = [("C1", "")]


def tight() -> em.Problem:
    return em.from_tables(**TIGHT, rules=TIGHT_RULES)


def places(result: em.Result) -> set[tuple[str, str | None, str | None]]:
    """The bends a result lists, by rule and place."""
    return {(b.rule, b.project, b.expert) for b in result.bends}


def found(result: em.Result) -> set[tuple[str, str | None, str | None]]:
    """What verify finds on the batch with the declines ruled out, by rule and place."""
    return {(v.rule, v.project, v.expert) for v in em.verify(result.problem, result)}


def test_without_relax_the_declines_are_infeasible() -> None:
    with pytest.raises(em.InfeasibleError, match="enterprise_share"):
        em.reassign(tight(), PREVIOUS, DECLINED)


def test_relax_bends_the_enterprise_share_once_and_keeps_every_other_pair() -> None:
    new = em.reassign(tight(), PREVIOUS, DECLINED, relax=True)
    assert [(b.rule, b.project, b.expert, b.amount) for b in new.bends] == [
        ("enterprise_share", "P1", None, 1)
    ]
    assert set(PREVIOUS) - set(new.assignment) == {("P1", "C1")}  # only the declined pair
    assert new.panels == {"P1": ["U1", "U3"], "P2": ["C2", "U2"]}  # U3 scores best of the rest
    assert found(new) == places(new) == {("enterprise_share", "P1", None)}
    assert new.status == "optimal"
    stats = new.stats
    assert isinstance(stats, RelaxedReassignStats)
    assert stats.kept_pairs == 3 and stats.changed_pairs == 1 and stats.held == {"kept_pairs": 3}
    assert stats.changes == [{"project": "P1", "removed": ["C1"], "added": ["U3"]}]
    assert stats.bend_order == list(BEND_ORDER)
    assert stats.bends_by_rule["enterprise_share"] == 1
    assert sum(stats.bends_by_rule.values()) == 1
    report = json.loads(new.to_json())
    assert [b["rule"] for b in report["bends"]] == ["enterprise_share"]
    assert list(report["stats"])[-2:] == ["bend_order", "bends_by_rule"]


def test_the_bend_order_decides_which_rule_bends() -> None:
    """With the enterprise share most protected, C2's max_load bends instead: C2 reviews
    both projects, every other earlier pair is kept."""
    order = ("max_per_org", "coverage", "quota", "max_load", "yearly_cap", "enterprise_share")
    new = em.reassign(tight(), PREVIOUS, DECLINED, relax=True, bend_order=order)
    assert [(b.rule, b.expert, b.amount) for b in new.bends] == [("max_load", "C2", 1)]
    assert new.panels == {"P1": ["C2", "U1"], "P2": ["C2", "U2"]}
    assert found(new) == places(new)
    assert new.stats["bend_order"] == list(order)


def test_relax_changes_nothing_when_the_rules_can_hold() -> None:
    """A decline whose seat can be refilled: the same answer as without relax, nothing bent."""
    plain = em.reassign(tight(), PREVIOUS, [("U1", "P1")])
    relaxed = em.reassign(tight(), PREVIOUS, [("U1", "P1")], relax=True)
    assert relaxed.bends == () and found(relaxed) == set()
    assert relaxed.assignment == plain.assignment
    assert type(relaxed.stats) is ReassignStats and dict(relaxed.stats) == dict(plain.stats)


def test_bend_order_needs_relax_and_names_every_rule() -> None:
    with pytest.raises(TypeError, match="bend_order only applies with relax=True"):
        em.reassign(tight(), PREVIOUS, DECLINED, bend_order=BEND_ORDER)
    with pytest.raises(ValueError, match="bend order must list each"):
        em.reassign(tight(), PREVIOUS, DECLINED, relax=True, bend_order=("coverage",))


def test_cli_reassign_relax(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 3 without --relax, 0 with it: the bend on standard error and in report.json, the
    changes on standard output; verify --declined then finds only the bend."""
    rules = "".join(
        f'{k} = "{v}"\n' if isinstance(v, str) else f"{k} = {v}\n" for k, v in TIGHT_RULES.items()
    )
    folder = write_tables(tmp_path / "batch", TIGHT, rules=rules)
    previous = tmp_path / "assignment.csv"
    previous.write_text(
        "project,expert\n" + "".join(f"{p},{e}\n" for p, e in PREVIOUS), encoding="utf-8"
    )
    declined = tmp_path / "declined.csv"
    declined.write_text("expert,project\nC1,\n", encoding="utf-8")
    new, report = tmp_path / "new.csv", tmp_path / "report.json"
    argv = ["reassign", str(folder), "--previous", str(previous), "--declined", str(declined)]
    argv += ["-o", str(new), "--report", str(report)]
    assert main(argv) == 3
    assert "enterprise_share" in capsys.readouterr().err and not new.exists()
    assert main([*argv, "--relax"]) == 0
    out, err = capsys.readouterr()
    assert "bent [enterprise_share] P1: 1 enterprise expert(s) short" in err
    assert "kept 3 of 4 earlier pairs" in out and "P1: out C1; in U3" in out
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [(b["rule"], b["project"]) for b in data["bends"]] == [("enterprise_share", "P1")]
    assert data["stats"]["bends_by_rule"]["enterprise_share"] == 1
    assert {(r["project"], r["expert"]) for r in read_rows(new)} == {
        ("P1", "U1"),
        ("P1", "U3"),
        ("P2", "C2"),
        ("P2", "U2"),
    }
    assert main(["verify", str(folder), str(new), "--declined", str(declined)]) == 1
    err = capsys.readouterr().err
    assert "[enterprise_share] P1" in err and "1 violation(s)" in err
    assert main([*argv, "--relax", "--bend-order", "coverage"]) == 2  # refused before any work


# -- against brute force on small generated batches ------------------------------------------

#: Most protected rule first: the order in which relax minimises the bends.
PROTECTED_FIRST = tuple(reversed(BEND_ORDER))


def bend_counts(problem: em.Problem, pairs: Pairs, X: np.ndarray) -> np.ndarray:
    """For each assignment (a 0/1 row of ``X`` over ``pairs``, panel sizes exact), how much it
    bends each rule in relax's units, most protected rule first: the shortfall below or excess
    above every rule row of the model, and each expert's reviews beyond max_load and beyond
    what yearly_cap leaves."""
    model = build_model(problem, pairs)
    column = {rule: i for i, rule in enumerate(PROTECTED_FIRST)}
    out = np.zeros((X.shape[0], len(PROTECTED_FIRST)), dtype=np.int64)
    counts = np.rint(np.asarray(model.A @ X.T.astype(np.float64))).astype(np.int64)
    for r in range(model.n_rows):
        rule = str(model.row_rule[r])
        if rule in (Rule.LOAD, Rule.PANEL_SIZE):
            continue
        key = Rule.ENTERPRISE_SHARE if rule == Rule.ENTERPRISE_TARGET_SHARE else rule
        lo, hi = model.lb[r], model.ub[r]
        if math.isfinite(lo) and lo > 0:
            out[:, column[key]] += np.maximum(int(lo) - counts[r], 0)
        if math.isfinite(hi):
            out[:, column[key]] += np.maximum(counts[r] - int(hi), 0)
    loads = X.astype(np.int64) @ np.eye(problem.n_experts, dtype=np.int64)[pairs.expert]
    left = np.maximum(problem.rules.yearly_cap - problem.expert_used, 0)
    out[:, column[Rule.MAX_LOAD]] += np.maximum(loads - problem.expert_max_load, 0).sum(1)
    out[:, column[Rule.YEARLY_CAP]] += np.maximum(loads - left, 0).sum(1)
    return out


def every_assignment(problem: em.Problem, pairs: Pairs) -> np.ndarray | None:
    """Every assignment with exact panel sizes over the eligible ``pairs`` (0/1 rows); None
    when a project has fewer eligible experts than its panel needs."""
    panels = []
    for p in range(problem.n_projects):
        cols = np.flatnonzero(pairs.project == p)
        k = int(problem.project_panel_size[p])
        if cols.size < k:
            return None
        rows = []
        for chosen in itertools.combinations(cols.tolist(), k):
            row = np.zeros(len(pairs), dtype=np.int8)
            row[list(chosen)] = 1
            rows.append(row)
        panels.append(np.array(rows, dtype=np.int8).reshape(len(rows), len(pairs)))
    index = np.array(list(itertools.product(*(range(len(c)) for c in panels))), dtype=np.int64)
    X = np.zeros((len(index), len(pairs)), dtype=np.int8)
    for p, options in enumerate(panels):
        X += options[index[:, p]]
    return X


def lexicographic_best(counts: np.ndarray) -> np.ndarray:
    """Which rows have the lexicographically smallest bend counts."""
    best = np.ones(len(counts), dtype=bool)
    for c in range(counts.shape[1]):
        best &= counts[:, c] == counts[best, c].min()
    return best


def as_row(pairs: Pairs, result: em.Result, n_experts: int) -> np.ndarray:
    return pairs.member_of(result.pairs, n_experts).astype(np.int8)[None, :]


def previous_and_declines(
    batch: dict[str, Any], data: st.DataObject
) -> tuple[em.Problem, em.Result, list[tuple[str, str]]] | None:
    """A batch, its relaxed assignment, and 1-2 of its pairs declined (maybe also one expert
    for the whole round); None when even relax cannot fill the panels."""
    problem = em.from_tables(**batch)
    try:
        first = em.assign(problem, relax=True, time_limit=20)
    except em.InfeasibleError:
        return None
    picked = data.draw(st.lists(st.sampled_from(sorted(first.assignment)), min_size=1, max_size=2))
    declined = [(e, p) for p, e in picked]
    if data.draw(st.booleans()):
        declined.append((data.draw(st.sampled_from(problem.expert_ids)), ""))
    return problem, first, declined


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_batches(), st.data())
def test_relaxed_reassign_bends_no_more_than_needed_then_keeps_the_most_pairs(
    batch: dict[str, Any], data: st.DataObject
) -> None:
    """Its bends equal relax's on the declined batch and the brute-force least (rule by rule,
    most protected first); among assignments with those bends it keeps the most earlier
    pairs, then scores best; verify finds exactly the bends it lists."""
    drawn = previous_and_declines(batch, data)
    if drawn is None:
        event("no first assignment")
        return
    problem, first, declined = drawn
    declined_problem = with_declines(problem, read_declines(declined, problem))
    pairs = eligible_pairs(declined_problem)
    X = every_assignment(declined_problem, pairs)
    try:
        new = em.reassign(problem, first, declined, relax=True, time_limit=20)
    except em.InfeasibleError as err:  # only panel sizes (conflicts, declines) never bend
        assert X is None and all(c.rule == "panel_size" for c in err.clashes)
        event("panels cannot be filled")
        return
    event("rules bent" if new.bends else "every rule holds")
    assert X is not None and new.status == "optimal"
    assert found(new) == places(new)
    counts = bend_counts(declined_problem, pairs, X)
    least = counts[lexicographic_best(counts)][0]
    n = problem.n_experts
    assert bend_counts(declined_problem, pairs, as_row(pairs, new, n))[0].tolist() == least.tolist()
    alone = em.assign(declined_problem, relax=True, time_limit=20)
    assert bend_counts(declined_problem, pairs, as_row(pairs, alone, n))[0].tolist() == (
        least.tolist()
    )
    earlier = pairs.member_of(first.pairs, n)
    kept = X[:, earlier].sum(axis=1)
    tied = lexicographic_best(counts)
    most = int(kept[tied].max())
    assert new.stats["kept_pairs"] == most
    weights = integer_weights(pairs.score, score_unit(declined_problem))
    best = int((X[tied & (kept == most)].astype(np.int64) @ weights).max())
    assert int(as_row(pairs, new, n)[0].astype(np.int64) @ weights) == best

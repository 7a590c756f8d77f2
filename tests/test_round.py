"""A whole review round: declines (reassign), reserves, objectives (fair, spread), random draw
with a probability cap, usage across the year. Small batches are checked against brute force."""

from __future__ import annotations

import csv
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
from expertmatch.domain.scoring import score_of as pair_score
from expertmatch.rounds.history import read_declines, with_declines
from expertmatch.solvers.lottery import lottery
from expertmatch.solvers.params import SolveParams

from .conftest import make
from .test_properties import all_assignments, coverage_batches, score_of, tiny_batches

DEMO = str(em.demo_path())
SLOW = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def first_assignment(batch: dict[str, Any]) -> tuple[em.Problem, em.Result] | None:
    problem = em.from_tables(**batch)
    try:
        return problem, em.assign(problem, time_limit=20)
    except em.InfeasibleError:
        return None


# -- declines --------------------------------------------------------------------------------


@SLOW
@given(tiny_batches(), st.data())
def test_reassign_changes_the_fewest_pairs_then_scores_best(
    batch: dict[str, Any], data: st.DataObject
) -> None:
    solved = first_assignment(batch)
    if solved is None:
        return
    problem, first = solved
    before = set(first.assignment)
    picked = data.draw(st.lists(st.sampled_from(sorted(before)), min_size=1, max_size=2))
    declined = [(e, p) for p, e in picked]
    if data.draw(st.booleans()):
        declined.append((data.draw(st.sampled_from(problem.expert_ids)), ""))
    declined_problem = with_declines(problem, read_declines(declined, problem))
    options = list(all_assignments(declined_problem))
    try:
        new = em.reassign(problem, first, declined, time_limit=20)
    except em.InfeasibleError:
        assert not options, "reported infeasible, but brute force found an assignment"
        return
    assert options
    fewest = min(len(before - set(o)) for o in options)
    best = max(score_of(problem, o) for o in options if len(before - set(o)) == fewest)
    assert new.status == "optimal"
    assert new.stats["changed_pairs"] == fewest
    assert new.stats["kept_pairs"] == len(before) - fewest
    assert new.objective == pytest.approx(best)
    assert em.verify(new.problem, new) == []
    used = set(new.assignment)
    for expert, project in declined:
        assert all(e != expert for p, e in used if project in ("", p))


def test_declined_pairs_are_named_by_verify_and_why(demo: em.Problem, demo_result: em.Result):
    project, expert = demo_result.assignment[0]
    new = em.reassign(demo, demo_result, [(expert, project)])
    assert (project, expert) not in new.assignment
    violations = em.verify(new.problem, demo_result)
    assert [(v.rule, v.project, v.expert) for v in violations] == [("conflict", project, expert)]
    assert "declined" in violations[0].message
    assert em.why_ineligible(new.problem, expert, project) == [
        "declared: declined (declined row 1)"
    ]
    # the other panels stay as they were when that is possible
    assert new.stats["changed_pairs"] == 1
    assert new.stats["changes"] == [
        {"project": project, "removed": [expert], "added": new.stats["changes"][0]["added"]}
    ]


def test_unknown_ids_in_declines_and_previous_name_file_and_row(tmp_path: Path) -> None:
    declined = tmp_path / "declined.csv"
    declined.write_text("expert,project\nE001,P001\nE999,\nE002,P999\n", encoding="utf-8")
    problem = em.load(DEMO)
    with pytest.raises(em.InputError) as err:
        em.reassign(problem, [("P001", "E003")], declined)
    issues = {(i.file, i.row, i.column) for i in err.value.issues}
    assert issues == {("declined.csv", 3, "expert"), ("declined.csv", 4, "project")}
    with pytest.raises(em.InputError, match="unknown project 'PX'"):
        em.reassign(problem, [("PX", "E003")], [])


def test_cli_reassign_end_to_end(tmp_path: Path) -> None:
    first = tmp_path / "assignment.csv"
    assert main(["assign", DEMO, "-o", str(first)]) == 0
    rows = read_rows(first)
    gone = rows[0]["expert"]
    declined = tmp_path / "declined.csv"
    declined.write_text(
        f"expert,project\n{rows[1]['expert']},{rows[1]['project']}\n{gone},\n", encoding="utf-8"
    )
    new, report = tmp_path / "new.csv", tmp_path / "report.json"
    argv = ["reassign", DEMO, "--previous", str(first), "--declined", str(declined)]
    assert main([*argv, "-o", str(new), "--report", str(report)]) == 0
    after = read_rows(new)
    assert all(r["expert"] != gone for r in after)
    assert (rows[1]["project"], rows[1]["expert"]) not in {
        (r["project"], r["expert"]) for r in after
    }
    kept = {(r["project"], r["expert"]) for r in rows} & {
        (r["project"], r["expert"]) for r in after
    }
    stats = json.loads(report.read_text(encoding="utf-8"))["stats"]
    assert stats["kept_pairs"] == len(kept) and stats["changed_pairs"] == len(rows) - len(kept)
    assert stats["declined"] == [
        {"expert": rows[1]["expert"], "project": rows[1]["project"]},
        {"expert": gone, "project": None},
    ]
    assert len(stats["previous_sha256"]) == 64 and len(stats["declined_sha256"]) == 64
    assert main(["verify", DEMO, str(new)]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("expert,project\nNOBODY,P001\n", encoding="utf-8")
    assert main([*argv[:-1], str(bad), "-o", str(tmp_path / "x.csv")]) == 2
    assert not (tmp_path / "x.csv").exists()


# -- reserves --------------------------------------------------------------------------------


@SLOW
@given(tiny_batches())
def test_reserves_are_exactly_the_valid_single_swaps(batch: dict[str, Any]) -> None:
    solved = first_assignment(batch)
    if solved is None:
        return
    problem, first = solved
    frame = em.reserves(problem, first, k=problem.n_experts)
    listed = {(r.project, r.expert): set(r.replaces.split(";")) for r in frame.itertuples()}
    for project, panel in first.panels.items():
        rows = frame[frame["project"] == project]
        assert list(rows["rank"]) == list(range(1, len(rows) + 1))
        assert list(rows["score"]) == sorted(rows["score"], reverse=True)
        for expert in problem.expert_ids:
            if expert in panel:
                continue
            valid = set()
            for member in panel:
                swapped = [
                    (p, expert if (p == project and e == member) else e)
                    for p, e in first.assignment
                ]
                if not em.verify(problem, swapped):
                    valid.add(member)
            assert listed.get((project, expert), set()) == valid


def test_reserves_respect_k_declines_and_reject_a_broken_assignment(
    demo: em.Problem, demo_result: em.Result
) -> None:
    project, expert = demo_result.assignment[0]
    frame = em.reserves(demo, demo_result, k=2, declined=[("E001", ""), ("E002", project)])
    assert list(frame.columns[:4]) == ["project", "rank", "expert", "replaces"]
    assert frame.groupby("project").size().max() <= 2
    assert "E001" not in set(frame["expert"])
    assert "E002" not in set(frame[frame["project"] == project]["expert"])
    broken = [pair for pair in demo_result.assignment if pair != (project, expert)]
    with pytest.raises(em.ExpertMatchError, match="panel_size"):
        em.reserves(demo, broken)
    with pytest.raises(ValueError, match="k must be"):
        em.reserves(demo, demo_result, k=0)


def test_cli_reserves(tmp_path: Path) -> None:
    first = tmp_path / "assignment.csv"
    assert main(["assign", DEMO, "-o", str(first)]) == 0
    out = tmp_path / "reserves.csv"
    assert main(["reserves", DEMO, "--previous", str(first), "-k", "2", "-o", str(out)]) == 0
    rows = read_rows(out)
    assert list(rows[0])[:4] == ["project", "rank", "expert", "replaces"]
    panels: dict[str, set[str]] = {}
    for r in read_rows(first):
        panels.setdefault(r["project"], set()).add(r["expert"])
    for r in rows:
        assert r["rank"] in ("1", "2") and r["expert"] not in panels[r["project"]]
        assert set(r["replaces"].split(";")) <= panels[r["project"]]


# -- objectives ------------------------------------------------------------------------------


@SLOW
@given(tiny_batches(), st.sampled_from(["fair", "spread"]))
def test_fair_and_spread_match_brute_force(batch: dict[str, Any], objective: str) -> None:
    problem = em.from_tables(**batch)
    options = list(all_assignments(problem))
    try:
        result = em.assign(problem, objective=objective, time_limit=20)
    except em.InfeasibleError:
        assert not options
        return
    assert options and em.verify(problem, result) == []

    def first_goal(pairs: list[tuple[str, str]]) -> float:
        if objective == "fair":  # the worst panel's mean score
            panel = {p: 0.0 for p in problem.project_ids}
            for p, e in pairs:
                panel[p] += pair_score(problem, problem.project_index[p], problem.expert_index[e])
            size = dict(zip(problem.project_ids, problem.project_panel_size, strict=True))
            return min(total / int(size[p]) for p, total in panel.items())
        loads: dict[str, int] = {}
        for _, e in pairs:
            loads[e] = loads.get(e, 0) + 1
        return -max(loads.values(), default=0)

    goal = max(first_goal(o) for o in options)
    best = max(score_of(problem, o) for o in options if first_goal(o) >= goal - 1e-9)
    assert first_goal(result.assignment) == pytest.approx(goal)
    assert result.objective == pytest.approx(best)
    assert result.status == "optimal"


def test_fair_objective_lifts_the_worst_panel(demo: em.Problem, demo_result: em.Result) -> None:
    def worst(result: em.Result) -> float:  # the lowest mean score of a panel
        return float(result.to_frame().groupby("project")["score"].mean().min())

    fair = em.assign(demo, objective="fair")
    assert worst(fair) >= worst(demo_result) - 1e-9
    assert fair.stats["held"]["worst_panel_score"] == pytest.approx(worst(fair))
    assert fair.objective <= demo_result.objective + 1e-9
    spread = em.assign(demo, objective="spread")
    assert spread.loads().max() <= demo_result.loads().max()
    assert spread.stats["held"]["largest_load"] == spread.loads().max()
    with pytest.raises(ValueError, match="objective must be one of"):
        em.assign(demo, objective="fastest")
    with pytest.raises(ValueError, match="cannot be combined"):
        em.assign(demo, objective="fair", relax=True)


# -- random draw -----------------------------------------------------------------------------


def test_sampled_frequencies_equal_the_marginals_within_sampling_error() -> None:
    """Without coverage every rule is in the rounding's hierarchy: no draw is ever rejected,
    and each pair's frequency over many draws is its LP marginal (<= the cap)."""
    tables = em.generate(15, 45, seed=4)
    cap = 0.5
    rules = {
        "coverage_level": 0,
        "max_probability": cap,
        "max_load": 3,
        "enterprise_target_share": "3/5",  # binds: the LP is at exactly the target
    }
    problem = em.from_tables(**tables, rules=rules)
    lot = lottery(problem, SolveParams())
    assert lot.x.max() <= cap
    n = 400
    counts = np.zeros(lot.x.size)
    for seed in range(n):
        chosen = lot.round_once(np.random.default_rng(seed))
        assert lot.model.satisfied(chosen)  # the hierarchy's rules hold in every draw
        counts += chosen
    freq = counts / n
    sd = np.sqrt(lot.x * (1 - lot.x) / n)
    assert np.all(np.abs(freq - lot.x) <= 4.5 * sd + 1.5 / n)
    assert freq.max() <= cap + 4.5 * math.sqrt(cap * (1 - cap) / n)
    assert (lot.x > 1e-9).sum() > 2 * int(problem.project_panel_size.sum()) - 1  # really random


def test_with_coverage_every_draw_keeps_every_rule_and_the_cap() -> None:
    """Coverage is outside the rounding's hierarchy: the lottery is then a mixture of valid
    assignments (column generation); every draw is valid and no pair exceeds the cap."""
    cap = 0.6
    problem = em.load(DEMO).with_rules({"max_probability": cap})
    lot = lottery(problem, SolveParams(gap_limit=0.01))
    assert lot.columns is not None and lot.weights is not None
    assert lot.x.max() <= cap + 1e-8  # to floating-point accuracy (randomized.CAP_TOL)
    assert lot.expected_objective <= lot.bound + 1e-6
    assert (lot.bound - lot.expected_objective) <= 0.01 * lot.bound + 1e-6
    sizes = np.bincount(lot.pairs.project, weights=lot.x, minlength=problem.n_projects)
    assert np.allclose(sizes, problem.project_panel_size)
    rng = np.random.default_rng(5)
    n = 400
    counts = np.zeros(lot.x.size)
    for _ in range(n):
        chosen = lot.draw(rng)
        assert lot.model.satisfied(chosen)
        counts += chosen
    freq = counts / n
    sd = np.sqrt(lot.x * (1 - lot.x) / n)
    assert np.all(np.abs(freq - lot.x) <= 4.5 * sd + 1.5 / n)


def test_random_draw_is_reproducible_verified_and_reported(tmp_path: Path) -> None:
    problem = em.load(DEMO).with_rules({"max_probability": 0.6})
    first = em.assign(problem, seed=11, gap_limit=0.01)
    again = em.assign(problem, seed=11, gap_limit=0.01)
    other = em.assign(problem, seed=12, gap_limit=0.01)
    assert first.assignment == again.assignment
    assert first.assignment != other.assignment
    # the lottery depends on the batch only; the seed drives the draw
    assert np.array_equal(first.probabilities.score, other.probabilities.score)
    assert em.verify(problem, first) == []
    best = em.assign(em.load(DEMO))
    assert first.expected_objective is not None
    assert first.expected_objective <= best.objective + 1e-6
    assert first.gap <= 0.01 and first.status in ("optimal", "feasible")
    probs = first.probability_frame()
    assert list(probs.columns) == ["expert", "project", "probability"]
    assert probs["probability"].max() <= 0.6 + 1e-9
    expected_size = probs.groupby("project")["probability"].sum().to_dict()
    sizes = {pid: int(problem.project_panel_size[i]) for i, pid in enumerate(problem.project_ids)}
    assert expected_size == pytest.approx(sizes, abs=1e-4)
    report = first.report()
    assert report["max_probability"] == 0.6
    assert report["expected_objective"] == pytest.approx(first.expected_objective)
    # on the command line
    rules = tmp_path / "rules.toml"
    rules.write_text("max_probability = 0.6\n", encoding="utf-8")
    out, rep, prob = tmp_path / "a.csv", tmp_path / "r.json", tmp_path / "p.csv"
    argv = ["assign", DEMO, "--rules", str(rules), "-o", str(out), "--seed", "11", "--gap", "0.01"]
    assert main([*argv, "--report", str(rep), "--probabilities", str(prob)]) == 0
    assert {(r["project"], r["expert"]) for r in read_rows(out)} == set(first.assignment)
    assert list(read_rows(prob)[0]) == ["expert", "project", "probability"]
    assert json.loads(rep.read_text(encoding="utf-8"))["max_probability"] == 0.6


def test_probabilities_need_the_cap_and_a_too_tight_cap_is_named(tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    assert main(["assign", DEMO, "-o", str(out), "--probabilities", str(tmp_path / "p.csv")]) == 2
    assert not out.exists()
    # panel of 3 from exactly 4 eligible experts: with each at most 0.5 likely, only 2 expected
    problem = make(
        rules={
            "panel_size": 3,
            "max_probability": 0.5,
            "coverage_level": 0,
            "max_per_org": 2,
            "enterprise_min_share": 0,
        },
        conflicts=[{"expert": e, "project": "P1"} for e in ("E1", "E2", "E3", "E4")],
    )
    with pytest.raises(em.InfeasibleError) as err:
        em.assign(problem)
    assert err.value.clashes[0].rule == "max_probability"
    assert "P1" in err.value.clashes[0].projects


# -- across the year -------------------------------------------------------------------------


def test_update_used_keeps_the_yearly_cap_across_rounds(
    demo: em.Problem, demo_result: em.Result
) -> None:
    later = em.update_used(demo, [demo_result, demo_result.to_frame()])
    assert np.array_equal(later.expert_used, demo.expert_used + 2 * demo_result.loads())
    assert later.input_sha256 != demo.input_sha256  # the report's hash covers the new used
    result = em.assign(later)
    assert em.verify(later, result) == []
    total = later.expert_used + result.loads()
    assert total[result.loads() > 0].max() <= later.rules.yearly_cap
    # an expert the earlier rounds filled up gets nothing now
    full = np.flatnonzero(later.expert_used >= later.rules.yearly_cap)
    assert full.size and result.loads()[full].sum() == 0


def test_update_used_rejects_unknown_experts_unless_skipped(tmp_path: Path) -> None:
    earlier = tmp_path / "round1.csv"
    earlier.write_text("project,expert\nQ1,E001\nQ2,NOBODY\n", encoding="utf-8")
    problem = em.load(DEMO)
    with pytest.raises(em.InputError) as err:
        em.update_used(problem, [earlier])
    assert [(i.file, i.row, i.column) for i in err.value.issues] == [("round1.csv", 3, "expert")]
    later = em.update_used(problem, [earlier], unknown="skip")
    assert later.expert_used[later.expert_index["E001"]] == problem.expert_used[0] + 1


def test_cli_update_used_writes_experts_for_the_next_round(tmp_path: Path) -> None:
    first = tmp_path / "round1.csv"
    assert main(["assign", DEMO, "-o", str(first)]) == 0
    out = tmp_path / "experts.csv"
    assert main(["update-used", DEMO, str(first), "-o", str(out)]) == 0
    before = {r["id"]: r for r in read_rows(Path(DEMO) / "experts.csv")}
    after = {r["id"]: r for r in read_rows(out)}
    counts: dict[str, int] = {}
    for r in read_rows(first):
        counts[r["expert"]] = counts.get(r["expert"], 0) + 1
    assert list(after) == list(before)
    for eid, row in after.items():
        assert int(row["used"]) == int(before[eid]["used"] or 0) + counts.get(eid, 0)
        assert {k: v for k, v in row.items() if k != "used"} == {
            k: v for k, v in before[eid].items() if k != "used"
        }
    bad = tmp_path / "bad.csv"
    bad.write_text("project,expert\nQ1,NOBODY\n", encoding="utf-8")
    assert main(["update-used", DEMO, str(bad), "-o", str(tmp_path / "x.csv")]) == 2
    assert (
        main(["update-used", DEMO, str(bad), "-o", str(tmp_path / "x.csv"), "--skip-unknown"]) == 0
    )


def test_fair_without_time_to_improve_returns_the_start_marked_timeout(
    demo: em.Problem, demo_result: em.Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    from expertmatch.formulation.cpsat import SatModel

    def no_time(*args: Any, **kwargs: Any) -> Any:
        raise em.SolveError("no assignment found within the time limit", "timeout")

    monkeypatch.setattr(SatModel, "stage", no_time)
    result = em.assign(demo, objective="fair")
    assert result.status == "timeout" and "note" in result.stats
    assert result.assignment == demo_result.assignment
    assert em.verify(demo, result) == []


def test_the_draw_takes_the_rounding_only_when_every_rule_fits_one_hierarchy() -> None:
    """An organization whose experts have different types breaks the hierarchy (its cap row
    crosses the enterprise split): the lottery is then a mixture of valid assignments."""
    tables = em.generate(12, 36, seed=2)
    rules = {"coverage_level": 0, "max_probability": 0.6}
    laminar = em.lottery(em.from_tables(**tables, rules=rules))
    assert laminar.columns is None and laminar.status == "optimal"
    assert laminar.expected_objective == pytest.approx(laminar.bound)
    experts = tables["experts"].copy()
    org = experts["organization"].value_counts().index[0]  # an organization of several experts
    rows = experts.index[experts["organization"] == org]
    experts["org_type"] = experts["org_type"].astype(object)
    experts.loc[rows[0], "org_type"] = "enterprise"
    experts.loc[rows[1:], "org_type"] = "university"
    mixed_problem = em.from_tables(**{**tables, "experts": experts}, rules=rules)
    mixed = em.lottery(mixed_problem, gap_limit=0.01)
    assert mixed.columns is not None
    result = mixed.sample(3)
    assert em.verify(mixed_problem, result) == []
    assert mixed.x.max() <= 0.6 + 1e-8


def test_reassign_moves_other_panels_when_the_declined_seat_needs_it() -> None:
    """P1's only other enterprise candidate is C, who is full on P2: keeping every other pair
    is impossible, so the full model finds the fewest changes (2)."""
    experts = [
        {"id": i, "organization": f"O{i}", "org_type": t, "fields": "1.1.1", "max_load": 1}
        for i, t in (
            ("A", "enterprise"),
            ("C", "enterprise"),
            ("D", "enterprise"),
            ("U", "university"),
        )
    ]
    projects = [{"id": p, "organization": "X", "fields": "1.1.1"} for p in ("P1", "P2")]
    organizations = [{"id": f"O{i}", "type": ""} for i in "ACDU"] + [{"id": "X", "type": ""}]
    problem = em.from_tables(
        experts=experts,
        projects=projects,
        organizations=organizations,
        conflicts=[{"expert": "D", "project": "P1"}],
        rules={"panel_size": 1, "enterprise_min_share": 1, "coverage_level": 0},
    )
    new = em.reassign(problem, [("P1", "A"), ("P2", "C")], [("A", "P1")])
    assert new.panels["P1"] == ["C"]
    assert new.stats["changed_pairs"] == 2
    assert "every eligible pair" in new.stats["method"]
    assert em.verify(new.problem, new) == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(tiny_batches(), coverage_batches()), st.sampled_from([0.5, 0.7]))
def test_lottery_matches_the_best_mixture_of_all_valid_assignments(
    batch: dict[str, Any], cap: float
) -> None:
    """Brute force: every valid assignment enumerated, the LP over their mixtures with every
    pair at most ``cap`` likely gives the best expected score; the library's lottery must reach
    it (within its proven gap) or say correctly that no such mixture exists."""
    from scipy.optimize import linprog

    problem = em.from_tables(**batch).with_rules({"max_probability": cap})
    options = list(all_assignments(problem))
    best_mixture = None
    if options:
        pairs = sorted({pair for o in options for pair in o})
        col = {pair: i for i, pair in enumerate(pairs)}
        A = np.zeros((len(pairs), len(options)))
        for k, o in enumerate(options):
            for pair in o:
                A[col[pair], k] = 1
        values = np.array([float(score_of(problem, o)) for o in options], dtype=float)
        res = linprog(
            -values,
            A_ub=A,
            b_ub=np.full(len(pairs), cap),
            A_eq=np.ones((1, len(options))),
            b_eq=[1.0],
            bounds=(0, None),
            method="highs",
        )
        best_mixture = -res.fun if res.status == 0 else None
    try:
        lot = em.lottery(problem, gap_limit=1e-6)
    except em.InfeasibleError:
        assert best_mixture is None, "reported infeasible, but a capped mixture exists"
        event("no capped mixture")
        return
    assert best_mixture is not None
    event("rounding" if lot.columns is None else "column generation")
    assert lot.x.max() <= cap + 1e-8
    assert lot.expected_objective <= best_mixture + 1e-6
    assert lot.expected_objective >= best_mixture - 1e-6 * max(1.0, best_mixture) - 1e-6
    for seed in range(3):
        assert em.verify(problem, lot.sample(seed)) == []


def test_a_cap_no_mixture_of_valid_assignments_can_keep_is_infeasible() -> None:
    """Only two panels cover 1.2, 1.3 and 1.4 ({E2, E3} and {E3, E4}; E0 and E4 share an
    organization), so E3 is on every valid panel: no lottery keeps a cap of 0.5. Found by the
    brute-force property above (the proof of "no column prices out" must allow for the
    pricing weights' rounding)."""
    experts = [
        {"id": "E0", "organization": "O0", "org_type": "enterprise", "fields": "1.3"},
        {"id": "E1", "organization": "O1", "org_type": "enterprise", "fields": "1.1"},
        {"id": "E2", "organization": "O2", "org_type": "enterprise", "fields": "1.2"},
        {"id": "E3", "organization": "O3", "org_type": "enterprise", "fields": "1.3;1.4"},
        {"id": "E4", "organization": "O0", "org_type": "enterprise", "fields": "1.2;1.4"},
    ]
    problem = em.from_tables(
        experts=experts,
        projects=[{"id": "P0", "organization": "X", "fields": "1.2;1.3;1.4"}],
        scores=[{"expert": e["id"], "project": "P0", "score": 1} for e in experts],
        rules={"panel_size": 2, "max_load": 1, "coverage_level": 2, "max_probability": 0.5},
    )
    with pytest.raises(em.InfeasibleError) as err:
        em.lottery(problem, gap_limit=1e-6)
    assert err.value.clashes[0].rule == "max_probability"

"""The random draw for meeting groups (会评, ``max_probability < 1``): the master's optimum is
the LP over every enumerated seating, every column and every draw is a valid seating, no seat
is more likely than its cap, the seed replays the draw (API and CLI), an impossible cap is
named (:mod:`expertmatch.solvers.meeting_lottery`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

import expertmatch as em
from expertmatch import synthetic
from expertmatch.cli import main
from expertmatch.formulation.seating import PANEL, SEAT
from expertmatch.solvers import lottery as lottery_module
from expertmatch.solvers.meeting_lottery import (
    MeetingLottery,
    _ColumnGeneration,
    meeting_lottery,
)
from expertmatch.solvers.meetings import solve_meetings
from expertmatch.solvers.params import SolveParams
from expertmatch.vocabulary import Rule
from tests.meeting_batches import (
    MEETING_EXPERTS,
    MEETING_PROJECTS,
    all_seatings,
    meeting_batch,
    meeting_folder,
)

PARAMS = SolveParams(time_limit=60, gap_limit=0.0)


def _enumerated_lp(problem: em.Problem, cap: float) -> float:
    """The best expected score of a lottery over every seating ``verify`` accepts with every
    seat at most ``cap`` likely: the LP over the enumerated seatings (scipy's HiGHS)."""
    seatings = all_seatings(problem)
    seats = sorted({(g, e) for _, panels in seatings for g, es in panels.items() for e in es})
    index = {s: i for i, s in enumerate(seats)}
    A = np.zeros((len(seats), len(seatings)))
    for i, (_, panels) in enumerate(seatings):
        for g, es in panels.items():
            for e in es:
                A[index[(g, e)], i] = 1
    res = linprog(
        -np.array([score for score, _ in seatings]),
        A_ub=A,
        b_ub=np.full(len(seats), cap),
        A_eq=np.ones((1, len(seatings))),
        b_eq=[1.0],
        bounds=(0, None),
        method="highs",
    )
    assert res.status == 0
    return float(-res.fun)


def _seat_marginals(lot: MeetingLottery) -> dict[tuple[str, str], float]:
    """Each (group id, expert id) seat's probability, summed from the columns' weights."""
    s, p = lot.seating, lot.problem
    out: dict[tuple[str, str], float] = {}
    for w, cols in zip(lot.weights, lot.columns, strict=True):
        for j in cols[s.kind[cols] == SEAT].tolist():
            key = (s.groups[int(s.group[j])][0], p.expert_ids[int(s.expert[j])])
            out[key] = out.get(key, 0.0) + float(w)
    return out


def _check_lottery(problem: em.Problem, lot: MeetingLottery, cap: float) -> None:
    """Every column is a seating ``verify`` accepts; no seat above the cap; the marginals
    and the reviewing pairs' probabilities agree with the columns' weights."""
    assert lot.weights.sum() == pytest.approx(1.0)
    for i, cols in enumerate(lot.columns):
        chosen = np.zeros(lot.seating.model.n_pairs, dtype=bool)
        chosen[cols] = True
        assert em.verify(problem, lot.result(chosen, i, PARAMS)) == [], f"column {i}"
    marginals = _seat_marginals(lot)
    assert max(marginals.values()) <= cap + 1e-8
    probs = lot.probabilities()
    assert probs.score.max() <= cap + 1e-8
    for p, e, x in zip(probs.project, probs.expert, probs.score, strict=True):
        if not problem.project_meeting[p]:
            continue  # a per-project panel's pair: its own column, at most the cap above
        group = next(gid for gid, ps in lot.seating.groups if p in ps)
        assert x == pytest.approx(marginals[(group, problem.expert_ids[e])])


@pytest.mark.parametrize(
    ("cap", "rules"),
    [
        (0.5, {}),
        (0.7, {"meeting": {"recusal": "exclude"}}),
        (0.5, {"meeting": {"min_reviewers": 3}, "max_per_org": 2}),
        (0.6, {"chair": {"attribute": "title", "values": ["正高级"]}}),
    ],
    ids=["recuse-0.5", "exclude-0.7", "three-reviewers-0.5", "chair-0.6"],
)
def test_master_optimum_is_the_lp_over_every_seating(cap: float, rules: dict) -> None:
    """On a batch small enough to enumerate every valid seating, the lottery's expected score
    equals the LP over all of them with the seat caps, and is proven (bound = value)."""
    problem = meeting_batch(rules={**rules, "max_probability": cap})
    lot = meeting_lottery(problem, PARAMS)
    best = _enumerated_lp(problem, cap)
    assert lot.expected_objective == pytest.approx(best, abs=1e-6)
    assert lot.bound == pytest.approx(best, abs=1e-4)
    assert lot.status == em.Status.OPTIMAL
    _check_lottery(problem, lot, cap)
    # the cap costs score: the deterministic optimum is above the capped lottery's
    assert max(score for score, _ in all_seatings(problem)) > best


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cap=st.sampled_from([0.45, 0.5, 0.6, 0.75, 0.9]),
    recusal=st.sampled_from(["recuse", "exclude"]),
    conflicts=st.lists(
        st.tuples(st.sampled_from(["E2", "E4", "E5", "E6", "E7"]), st.sampled_from(["P2", "P3"])),
        max_size=2,
        unique=True,
    ),
)
def test_random_tiny_batches_match_the_enumeration(
    cap: float, recusal: str, conflicts: list[tuple[str, str]]
) -> None:
    """Varied caps, recusal modes and conflicts: the lottery equals the enumerated LP, or both
    find no capped lottery (the error names max_probability or the group)."""
    problem = meeting_batch(
        rules={"max_probability": cap, "meeting": {"recusal": recusal}},
        conflicts=[{"expert": "E1", "project": "P1"}]
        + [{"expert": e, "project": p} for e, p in conflicts],
    )
    try:
        best: float | None = _enumerated_lp(problem, cap)
    except AssertionError:  # no seating, or none keeps the cap
        best = None
    if best is None:
        with pytest.raises(em.InfeasibleError):
            meeting_lottery(problem, PARAMS)
        return
    lot = meeting_lottery(problem, PARAMS)
    assert lot.expected_objective == pytest.approx(best, abs=1e-6)
    _check_lottery(problem, lot, cap)


def test_same_seed_same_draw_and_seeds_differ() -> None:
    """``assign(seed=s)`` draws the same seating for the same seed; over eight seeds the
    draws are not all one seating; each draw verifies and reports the lottery's figures."""
    problem = meeting_batch(rules={"max_probability": 0.5})
    first = em.assign(problem, seed=11)
    again = em.assign(problem, seed=11)
    assert first.assignment == again.assignment
    assert [g.panel for g in first.groups] == [g.panel for g in again.groups]
    panels = set()
    best = _enumerated_lp(problem, 0.5)
    for seed in range(8):
        drawn = em.assign(problem, seed=seed)
        assert em.verify(problem, drawn) == []
        assert drawn.seed == seed
        assert drawn.max_probability == 0.5
        assert drawn.expected_objective == pytest.approx(best)
        panels.add(tuple(g.panel for g in drawn.groups))
    assert len(panels) > 1


def test_an_impossible_cap_is_named() -> None:
    """A panel of 3 from 7 candidates seats someone with probability >= 3/7: a cap of 0.4 is
    refused naming the rule, the group and the least cap that could work."""
    problem = meeting_batch(rules={"max_probability": 0.4})
    with pytest.raises(em.InfeasibleError) as caught:
        em.assign(problem, seed=1)
    clashes = caught.value.clashes
    assert clashes and all(c.rule == Rule.MAX_PROBABILITY for c in clashes)
    assert "group G1" in str(caught.value) and "0.43" in str(caught.value)


def test_mixed_batch_one_draw_caps_panel_pairs_and_seats() -> None:
    """Meeting groups and a per-project panel drawn together: seats and panel pairs each at
    most the cap, loads shared (max_load 1), every draw verifies."""
    experts = [dict(e) for e in MEETING_EXPERTS] + [
        {"id": f"F{i}", "organization": f"U{i % 4 + 1}", "fields": "520.20.10"} for i in range(4)
    ]
    experts.append({"id": "F9", "organization": "C2", "fields": "520.20.10"})
    projects = [dict(p) for p in MEETING_PROJECTS] + [
        {"id": "Q1", "organization": "A1", "fields": "520.20.10", "panel_size": 2}
    ]
    problem = meeting_batch(
        experts=experts, projects=projects, rules={"max_load": 1, "max_probability": 0.5}
    )
    lot = meeting_lottery(problem, PARAMS)
    s = lot.seating
    assert (s.kind == PANEL).any()
    assert lot.x.max() <= 0.5 + 1e-8
    _check_lottery(problem, lot, 0.5)
    for seed in range(5):
        drawn = lot.sample(seed, PARAMS)
        seated = {e for g in drawn.groups for e in g.panel}
        panel = {problem.expert_index[e] for p, e in drawn.assignment if p == "Q1"}
        assert len(panel) == 2 and not panel & seated


def test_free_groups_are_formed_once_then_seats_drawn() -> None:
    """Projects without a group: the groups are the deterministic solve's (seed 0), the same
    in every draw; only the seats vary, each within the cap."""
    projects = [{k: v for k, v in p.items() if k != "group"} for p in MEETING_PROJECTS]
    problem = meeting_batch(projects=projects, rules={"max_probability": 0.6})
    fixed = solve_meetings(problem.with_rules({"max_probability": 1}), PARAMS)
    draws = [em.assign(problem, seed=seed) for seed in range(4)]
    for drawn in draws:
        assert em.verify(problem, drawn) == []
        assert [g.projects for g in drawn.groups] == [g.projects for g in fixed.groups]
        assert drawn.probabilities is not None
        assert drawn.probabilities.score.max() <= 0.6 + 1e-8


def test_hand_grouping_is_kept_by_the_draw() -> None:
    """``grouping="hand"`` with a cap: the draw seats the office's hand groups, as the
    deterministic solve with ``grouping="hand"`` forms them; by default the search's (which
    differ on this batch)."""
    tables = synthetic.generate(24, 120, seed=3)
    tables["projects"]["stage"] = ""
    tables["projects"]["mode"] = "meeting"
    meeting = {"group_size": [4, 8], "panel_size": 5, "min_reviewers": 3}
    problem = em.from_tables(**tables, rules={"meeting": meeting})
    capped = problem.with_rules({"max_probability": 0.5})
    for grouping in ("hand", "search"):
        want = solve_meetings(problem, PARAMS, None, grouping)
        drawn = em.assign(capped, seed=1, grouping=grouping, time_limit=60)
        assert em.verify(capped, drawn) == []
        assert [g.projects for g in drawn.groups] == [g.projects for g in want.groups]
    hand = solve_meetings(problem, PARAMS, None, "hand")
    assert [g.projects for g in hand.groups] != [g.projects for g in want.groups]


def _folder(tmp_path: Path) -> Path:
    return meeting_folder(
        tmp_path,
        'enterprise_min_share = "1/3"\ncoverage_level = 2\nreference_year = 2026\n'
        "max_probability = 0.5\n\n[meeting]\ngroup_size = [2, 2]\npanel_size = 3\n"
        "min_reviewers = 2\n",
        conflicts=[{"expert": "E1", "project": "P1"}],
    )


def test_cli_records_the_seed_and_replays_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Without --seed the draw's seed comes from the system and is recorded in report.json;
    --seed with it replays the same seating byte for byte."""
    folder = _folder(tmp_path)

    def run(name: str, *extra: str) -> tuple[bytes, dict]:
        csv, report = tmp_path / f"{name}.csv", tmp_path / f"{name}.json"
        assert main(["assign", str(folder), "-o", str(csv), "--report", str(report), *extra]) == 0
        return csv.read_bytes(), json.loads(report.read_text(encoding="utf-8"))

    drawn, report = run("a")
    assert "replays this draw" in " ".join(capsys.readouterr().err.split())
    assert isinstance(report["seed"], int) and 0 <= report["seed"] < 2**63
    assert report["max_probability"] == 0.5
    assert report["expected_objective"] == pytest.approx(report["bound"], rel=1e-6)
    assert len(report["groups"]) == 2
    replayed, again = run("b", "--seed", str(report["seed"]))
    assert again["seed"] == report["seed"]
    assert replayed == drawn
    assert again["groups"] == report["groups"]


def _stop_pricing_after(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    """Make the column generation's pricing report the time limit after ``n`` pricings
    beyond the first seating (which is the deterministic solve's, with the whole limit)."""
    monkeypatch.undo()  # an earlier stop
    real = _ColumnGeneration.price_weights
    calls = {"n": 0}

    def price_weights(self: _ColumnGeneration, weight: np.ndarray) -> object:
        calls["n"] += 1
        return real(self, weight) if calls["n"] <= n else None

    monkeypatch.setattr(_ColumnGeneration, "price_weights", price_weights)


def _generated_batch() -> em.Problem:
    """15 generated projects in 3 fixed groups of 5, 60 experts, panels of 5, cap 0.5: the
    column generation takes some 14 rounds (a second), keeping the cap from the first."""
    tables = synthetic.generate(15, 60, seed=1)
    projects = tables["projects"].copy()
    projects["stage"] = ""
    projects["mode"] = "meeting"
    order = sorted(range(15), key=lambda i: (projects["fields"][i], i))
    group = [""] * 15
    for rank, i in enumerate(order):
        group[i] = f"G{rank // 5 + 1}"
    projects["group"] = group
    rules = {
        "meeting": {"group_size": [4, 6], "panel_size": 5, "min_reviewers": 4},
        "max_probability": 0.5,
    }
    return em.from_tables(**{**tables, "projects": projects}, rules=rules)


def test_out_of_time_returns_the_best_capped_lottery_with_its_gap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stopped by the time limit, the draw comes from the best master that kept the cap, its
    proven gap reported; stopped before any master kept it, a SolveError: never an uncapped
    answer."""
    problem = _generated_batch()
    full = meeting_lottery(problem, PARAMS)
    rounds = full.stats["rounds"]
    assert full.status == em.Status.OPTIMAL and isinstance(rounds, int) and rounds > 8
    _stop_pricing_after(monkeypatch, 0)
    with pytest.raises(em.SolveError, match="max_probability"):
        meeting_lottery(problem, PARAMS)
    _stop_pricing_after(monkeypatch, 4)
    lot = meeting_lottery(problem, PARAMS)
    assert lot.status in (em.Status.FEASIBLE, em.Status.TIMEOUT)
    assert lot.expected_objective < full.expected_objective
    assert lot.bound >= full.expected_objective - 1e-6
    assert lot.x.max() <= 0.5 + 1e-8
    drawn = lot.sample(0, PARAMS)
    assert em.verify(problem, drawn) == []
    assert drawn.gap == pytest.approx((lot.bound - lot.expected_objective) / lot.bound)
    assert drawn.gap > 0


def test_the_first_columns_keep_the_cap_from_the_first_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The optimal seating and one seating avoiding its capped seats (cap 1/2: two columns)
    mixed evenly keep every cap: stopped after that one pricing, the draw is already a capped
    lottery of those two seatings, half each, with its gap (the old single master, with the
    optimum alone, had to bring every seat from 1 to the cap by pricing)."""
    problem = _generated_batch()
    _stop_pricing_after(monkeypatch, 1)
    lot = meeting_lottery(problem, PARAMS)
    assert len(lot.columns) == 2
    assert lot.weights == pytest.approx([0.5, 0.5])
    seat = lot.seating.kind == SEAT
    first, second = (set(c[seat[c]].tolist()) for c in lot.columns)
    assert first and not first & second
    assert lot.x.max() <= 0.5 + 1e-12
    assert lot.status in (em.Status.FEASIBLE, em.Status.TIMEOUT)
    assert lot.bound > lot.expected_objective
    _check_lottery(problem, lot, 0.5)


def test_phase_one_alone_brings_the_master_to_the_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the first columns avoiding the optimum and without partners, the master starts
    above the caps (the optimum alone): phase one (least excess) prices seatings until the caps
    hold, then phase two reaches the enumerated LP's optimum, never an InfeasibleError."""
    monkeypatch.setattr(lottery_module, "DISJOINT_COLUMNS", 1)
    monkeypatch.setattr(lottery_module, "PARTNERS", False)
    phases: list[bool] = []
    real = lottery_module._Master.solve

    def solve(self: lottery_module._Master) -> lottery_module._MasterSolution:
        sol = real(self)
        phases.append(sol.phase_one)
        return sol

    monkeypatch.setattr(lottery_module._Master, "solve", solve)
    problem = meeting_batch(rules={"max_probability": 0.5})
    lot = meeting_lottery(problem, PARAMS)
    assert phases[0] and not phases[-1]
    assert lot.expected_objective == pytest.approx(_enumerated_lp(problem, 0.5), abs=1e-6)
    assert lot.status == em.Status.OPTIMAL
    _check_lottery(problem, lot, 0.5)

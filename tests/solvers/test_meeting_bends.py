"""``assign(relax=True)`` on meeting batches (会评): the seating that bends the fewest rules.

The brute force enumerates every seating of a tiny batch (every panel of each fixed group, and
every panel of each per-project panel of a mixed batch) that keeps the rules that never bend
(seat fit, recusal, panel sizes, min_reviewers, max_groups_per_expert), counts each bendable
rule's bends from scratch, and takes the lexicographic optimum: the fewest bends of the most
protected rule first (``BEND_ORDER`` read from the end), then the chair, then the best score.
The solver must reach the same minima and the same score, list bends that ``verify`` finds
exactly, and pass ``verify`` once those bends are allowed.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import expertmatch as em
from expertmatch import cli
from expertmatch.domain.conflicts import explain_conflicts
from expertmatch.domain.meetings import (
    group_max_per_org,
    group_needs_chair,
    group_quotas,
    reviewer_enterprise_needed,
    seat_enterprise_needed,
)
from expertmatch.domain.scoring import pair_scores
from expertmatch.solvers.bends import bend_key
from expertmatch.solvers.relax import BEND_ORDER
from expertmatch.verify import unbent
from tests.meeting_batches import MEETING_EXPERTS, MEETING_PROJECTS, meeting_batch

Key = tuple[int, ...]


def _experts(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The batch's experts with some cells changed (expert id -> {column: value})."""
    out = copy.deepcopy(MEETING_EXPERTS)
    for row in out:
        row.update(changes.get(row["id"], {}))
    return out


class Brute:
    """Every seating of a tiny batch and its bends, counted from scratch."""

    def __init__(self, problem: em.Problem, order: tuple[str, ...] = BEND_ORDER) -> None:
        self.problem, self.order = problem, order
        n_p, n_e = problem.n_projects, problem.n_experts
        self.conflict = [
            [bool(explain_conflicts(problem, p, e)) for e in range(n_e)] for p in range(n_p)
        ]
        grid = np.array([(p, e) for p in range(n_p) for e in range(n_e)])
        self.score = pair_scores(problem, grid[:, 0], grid[:, 1]).reshape(n_p, n_e)
        self.fits = [
            [
                not self.conflict[p][e] and self.score[p, e] > problem.project_min_score[p]
                for e in range(n_e)
            ]
            for p in range(n_p)
        ]

    def group_options(self, projects: tuple[int, ...]) -> list[tuple[int, ...]]:
        """The panels of a group that keep every rule that never bends."""
        pr, k = self.problem, self.problem.meeting.panel_size
        may = [
            e
            for e in range(pr.n_experts)
            if any(self.fits[p][e] for p in projects)
            and not (pr.meeting.recusal == "exclude" and any(self.conflict[p][e] for p in projects))
        ]
        return [
            panel
            for panel in itertools.combinations(may, k)
            if all(
                sum(not self.conflict[p][e] for e in panel) >= pr.meeting.min_reviewers
                for p in projects
            )
        ]

    def panel_options(self, p: int) -> list[tuple[int, ...]]:
        size = int(self.problem.project_panel_size[p])
        may = [e for e in range(self.problem.n_experts) if self.fits[p][e]]
        return list(itertools.combinations(may, size))

    def uncovered(self, p: int, members: list[int]) -> int:
        pr = self.problem
        return sum(not any(pr.covers(e, key) for e in members) for key in pr.coverage_keys(p))

    def quota_bends(self, quotas: Any, members: list[int], seats: int) -> int:
        out = 0
        for _, quota in quotas:
            got = int(sum(self.problem.has_value(quota.attribute, quota.values)[members]))
            low, high = quota.bounds(seats)
            out += max(low - got, 0) + max(got - high, 0)
        return out

    def batch_bends(self, bends: Counter[str], seated: list[tuple[int, ...]]) -> None:
        """The round's enterprise target and the batch quotas over every seat (each member of
        a group or a panel is one seat; every stage here): counted under their bend stage."""
        pr = self.problem
        seats = [e for panel in seated for e in panel]
        share = pr.rules.enterprise_target_share
        if share is not None:
            need = math.ceil(share * len(seats) - 1e-9)
            got = sum(bool(pr.expert_enterprise[e]) for e in seats)
            bends["enterprise_share"] += max(need - got, 0)
        batch = [(q, r) for q, r in enumerate(pr.count_rules) if r.scope == "batch"]
        bends["quota"] += self.quota_bends(batch, seats, len(seats))

    def chair_bends(self, groups: list[tuple[tuple[int, ...], tuple[int, ...]]]) -> int:
        """Groups left without a chair at best (each expert chairs at most max_per_expert)."""
        chair = self.problem.rules.chair
        if chair is None:
            return 0
        may = self.problem.has_value(chair.attribute, chair.values)
        need = [panel for projects, panel in groups if group_needs_chair(self.problem, projects)]
        best = len(need)
        for pick in itertools.product(*([-1, *(e for e in panel if may[e])] for panel in need)):
            chosen = Counter(e for e in pick if e >= 0)
            if all(n <= chair.max_per_expert for n in chosen.values()):
                best = min(best, sum(e < 0 for e in pick))
        return best

    def key(
        self,
        groups: list[tuple[tuple[int, ...], tuple[int, ...]]],
        panels: list[tuple[int, tuple[int, ...]]],
    ) -> tuple[Key, float] | None:
        """(bends, most protected first, then the chair; score), or None when a rule that
        never bends breaks (max_groups_per_expert)."""
        pr = self.problem
        seats = Counter(e for _, panel in groups for e in panel)
        if any(n > pr.meeting.max_groups_per_expert for n in seats.values()):
            return None
        bends: Counter[str] = Counter()
        score = 0.0
        ent = pr.expert_enterprise
        for projects, panel in groups:
            members = list(panel)
            bends["enterprise_share"] += max(
                seat_enterprise_needed(pr, projects) - int(ent[members].sum()), 0
            )
            orgs = Counter(int(pr.expert_org[e]) for e in panel)
            limit = group_max_per_org(pr, projects)
            bends["max_per_org"] += sum(max(n - limit, 0) for n in orgs.values())
            bends["quota"] += self.quota_bends(
                group_quotas(pr, projects), members, pr.meeting.panel_size
            )
            for p in projects:
                revs = [e for e in panel if not self.conflict[p][e]]
                score += float(self.score[p, revs].sum())
                need = reviewer_enterprise_needed(pr, p)
                bends["enterprise_share"] += max(need - int(ent[revs].sum()), 0)
                bends["coverage"] += self.uncovered(p, revs)
        for p, panel in panels:
            members = list(panel)
            score += float(self.score[p, members].sum())
            bends["enterprise_share"] += max(
                int(pr.enterprise_required[p]) - int(ent[members].sum()), 0
            )
            orgs = Counter(int(pr.expert_org[e]) for e in panel)
            limit = pr.rules.value("max_per_org", pr.stages[p])
            bends["max_per_org"] += sum(max(n - limit, 0) for n in orgs.values())
            bends["coverage"] += self.uncovered(p, members)
            quotas = [
                (q, rule)
                for q, rule in enumerate(pr.count_rules)
                if rule.scope == "panel" and rule.applies_to(pr.stages[p])
            ]
            bends["quota"] += self.quota_bends(quotas, members, len(members))
        load = seats + Counter(e for _, panel in panels for e in panel)
        for e, n in load.items():
            bends["max_load"] += max(n - int(pr.expert_max_load[e]), 0)
            bends["yearly_cap"] += max(n - max(pr.rules.yearly_cap - int(pr.expert_used[e]), 0), 0)
        self.batch_bends(bends, [panel for _, panel in groups] + [panel for _, panel in panels])
        bends["chair"] = self.chair_bends(groups)
        return (*(bends[r] for r in reversed(self.order)), bends["chair"]), score

    def optimum(self, grouping: dict[str, tuple[int, ...]] | None = None) -> tuple[Key, float]:
        """The lexicographic optimum over every seating of ``grouping`` (default: the fixed
        groups)."""
        pr = self.problem
        grouping = grouping or dict(pr.fixed_groups)
        names = list(grouping)
        singles = [p for p in range(pr.n_projects) if not pr.project_meeting[p]]
        best: tuple[Key, float] | None = None
        for choice in itertools.product(
            *(self.group_options(grouping[g]) for g in names),
            *(self.panel_options(p) for p in singles),
        ):
            groups = [(grouping[g], panel) for g, panel in zip(names, choice, strict=False)]
            panels = list(zip(singles, choice[len(names) :], strict=True))
            found = self.key(groups, panels)
            if found is None:
                continue
            if best is None or (found[0], -found[1]) < (best[0], -best[1]):
                best = found
        assert best is not None, "the brute force found no seating"
        return best


def _key_of(result: em.Result, order: tuple[str, ...] = BEND_ORDER) -> Key:
    by_rule = result.stats["bends_by_rule"]
    return (*(by_rule[r] for r in reversed(order)), by_rule.get("chair", 0))


def _assert_exact_bends(problem: em.Problem, result: em.Result) -> None:
    """verify finds exactly the bends listed (by rule and place), and nothing else."""
    found = em.verify(problem, result)
    assert unbent(found, result.bends) == []
    listed = {(b.rule, b.project, b.expert, b.group) for b in result.bends}
    assert {(v.rule, v.project, v.expert, v.group) for v in found} == listed
    by_rule: Counter[str] = Counter()
    for b in result.bends:
        by_rule[bend_key(b.rule)] += b.amount
    assert {r: n for r, n in by_rule.items()} == {
        r: n for r, n in result.stats["bends_by_rule"].items() if n
    }


# -- each bendable meeting rule alone ---------------------------------------------------------

ALONE: dict[str, dict[str, Any]] = {
    "enterprise_share": {"rules": {"enterprise_min_share": "2/3"}},
    "max_per_org": {
        "experts": _experts(**{e: {"organization": "U1"} for e in ("E4", "E5", "E6", "E7")})
    },
    "coverage": {
        "projects": [
            {**p, "fields": "520.20.30;520.60.10"} if p["id"] == "P4" else p
            for p in MEETING_PROJECTS
        ]
    },
    "quota": {
        "rules": {
            "quota": [{"name": "senior", "attribute": "title", "values": ["正高级"], "min": 3}]
        }
    },
    "enterprise_target_share": {"rules": {"enterprise_target_share": "2/3"}},
    "quota_batch": {
        "rules": {
            "quota": [
                {
                    "name": "senior",
                    "attribute": "title",
                    "values": ["正高级"],
                    "min_share": "5/6",
                    "scope": "batch",
                }
            ]
        }
    },
    "max_load": {"experts": _experts(**{e: {"max_load": 0} for e in ("E4", "E5", "E6", "E7")})},
    "yearly_cap": {"experts": _experts(**{e: {"used": 10} for e in ("E4", "E5", "E6", "E7")})},
    "chair": {
        "experts": _experts(**{e: {"title": "副高级"} for e in ("E1", "E3", "E4")}),
        "rules": {
            "chair": {"attribute": "title", "values": ["正高级"], "max_per_expert": 1},
            "meeting": {"max_groups_per_expert": 2},
        },
    },
}


def _assert_brute_force_optimum(
    problem: em.Problem, result: em.Result, order: tuple[str, ...] = BEND_ORDER
) -> None:
    """The brute force's fewest bends (in ``order``) and best score, every bend exact."""
    want, score = Brute(problem, order).optimum()
    assert _key_of(result, order) == want
    assert result.objective == pytest.approx(score, abs=1e-6)
    _assert_exact_bends(problem, result)


@pytest.mark.parametrize("rule", list(ALONE))
def test_each_rule_alone_bends_as_the_brute_force(rule: str) -> None:
    """Each bendable meeting rule alone: infeasible without relax; with relax the minima and
    the score of the brute force, only that rule bent, verify passing with the bends."""
    problem = meeting_batch(**ALONE[rule])
    with pytest.raises(em.InfeasibleError):
        em.assign(problem)
    result = em.assign(problem, relax=True)
    _assert_brute_force_optimum(problem, result)
    assert {b.rule for b in result.bends} == {rule.removesuffix("_batch")}
    assert result.status == "optimal"


def test_chair_bends_alone_only_after_the_quota() -> None:
    """The single expert who may chair sits in both groups (the chair's necessary part, a
    quota, holds) and chairs one: one chair bend, named by group."""
    problem = meeting_batch(**ALONE["chair"])
    result = em.assign(problem, relax=True)
    (bend,) = result.bends
    assert (bend.rule, bend.amount, bend.project) == ("chair", 1, None)
    assert bend.group in {"G1", "G2"} and bend.group in bend.message


def test_verify_fails_without_the_bends() -> None:
    """The relaxed seating breaks the rules it reports bent: verify says so when the bends are
    not allowed, and the group named in a seat bend is the one verify names."""
    problem = meeting_batch(**ALONE["enterprise_share"])
    result = em.assign(problem, relax=True)
    found = em.verify(problem, result)
    assert found and unbent(found, ()) == found
    seat = [b for b in result.bends if b.group is not None]
    assert seat and all(any(v.group == b.group and v.rule == b.rule for v in found) for b in seat)
    assert unbent(found, [b for b in result.bends if b is not seat[0]])


def test_combined_rules_lexicographic_and_bend_order() -> None:
    """Several rules at once: the brute force's lexicographic optimum for the default order
    and for a reversed one."""
    problem = meeting_batch(
        experts=_experts(**{e: {"max_load": 0} for e in ("E5", "E6")}),
        rules={
            "enterprise_min_share": "2/3",
            "quota": [{"name": "senior", "attribute": "title", "values": ["正高级"], "min": 2}],
        },
    )
    for order in (BEND_ORDER, tuple(reversed(BEND_ORDER))):
        result = em.assign(problem, relax=True, bend_order=order)
        _assert_brute_force_optimum(problem, result, order)


def test_mixed_batch_bends_groups_and_panels_together() -> None:
    """A meeting batch plus a per-project panel sharing the experts' loads: one lexicographic
    solve over both, as the brute force over both."""
    projects = [dict(p) for p in MEETING_PROJECTS] + [
        {"id": "Q1", "organization": "A1", "fields": "520.20.10", "panel_size": 2}
    ]
    problem = meeting_batch(projects=projects, rules={"max_load": 1, "enterprise_min_share": "1/2"})
    with pytest.raises(em.InfeasibleError):
        em.assign(problem)
    result = em.assign(problem, relax=True)
    _assert_brute_force_optimum(problem, result)
    assert any(p == "Q1" for p, _ in result.assignment)


def _random_batch(seed: int) -> em.Problem:
    """A random variation of the four-project batch: organizations, titles, loads, used
    reviews, conflicts and rules drawn from a seeded generator."""
    rng = np.random.default_rng(seed)
    orgs = ["C1", "C2", "C3", "U1", "U2", "U3", "U4"]
    experts = _experts(
        **{
            e["id"]: {
                "organization": orgs[int(rng.integers(len(orgs)))],
                "title": ["正高级", "副高级"][int(rng.integers(2))],
                "max_load": int(rng.choice([0, 1, 1, 2])),
                "used": int(rng.choice([0, 0, 0, 10])),
            }
            for e in MEETING_EXPERTS
        }
    )
    conflicts = [
        {"expert": f"E{int(rng.integers(1, 8))}", "project": f"P{int(rng.integers(1, 5))}"}
        for _ in range(int(rng.integers(0, 3)))
    ]
    rules: dict[str, Any] = {
        "enterprise_min_share": str(rng.choice(["1/3", "2/3"])),
        "meeting": {"max_groups_per_expert": int(rng.choice([1, 2]))},
    }
    if rng.random() < 0.5:
        rules["quota"] = [{"name": "senior", "attribute": "title", "values": ["正高级"], "min": 2}]
    if rng.random() < 0.5:
        rules["chair"] = {"attribute": "title", "values": ["正高级"], "max_per_expert": 1}
    return meeting_batch(experts=experts, conflicts=conflicts, rules=rules)


@pytest.mark.parametrize("seed", range(8))
def test_random_tiny_batches_match_the_brute_force(seed: int) -> None:
    """Random tiny batches: the same minima and score as the brute force, bends exact; when
    the rules that never bend cannot hold, both find no seating."""
    problem = _random_batch(seed)
    brute = Brute(problem)
    try:
        result = em.assign(problem, relax=True)
    except em.InfeasibleError:
        with pytest.raises(AssertionError, match="no seating"):
            brute.optimum()
        return
    want, score = brute.optimum()
    if not result.bends:
        assert want == (0,) * len(want)
    else:
        assert _key_of(result) == want
        _assert_exact_bends(problem, result)
    assert result.objective == pytest.approx(score, abs=1e-6)
    assert unbent(em.verify(problem, result), result.bends) == []


def _narrow_core(seating: Any) -> np.ndarray:
    """A core of each group's best ``panel_size`` seats only (and every panel pair): the
    stages must then prove their values over every column, or solve again over all."""
    kind, group, weight = seating.kind, seating.group, seating.model.weight
    core = kind == 0  # panel pairs
    k = int(seating.model.lb[seating.model.row_rule == "panel_size"].max(initial=0))
    for g in np.unique(group[kind == 1]).tolist():
        cols = np.flatnonzero((kind == 1) & (group == g))
        core[cols[np.argsort(-weight[cols], kind="stable")[:k]]] = True
    return core


@pytest.mark.parametrize("seed", range(8))
def test_narrow_core_still_reaches_the_brute_force(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a core too narrow to hold the optimum, the LP proofs, the reduced-cost fixing
    and the fallback over every column still give the brute force's minima and score."""
    from expertmatch.solvers import meeting_bends

    monkeypatch.setattr(meeting_bends, "_initial_columns", _narrow_core)
    problem = _random_batch(seed)
    try:
        result = em.assign(problem, relax=True)
    except em.InfeasibleError:
        return  # the hard case is checked with the full core above
    want, score = Brute(problem).optimum()
    if result.bends:
        assert _key_of(result) == want
        _assert_exact_bends(problem, result)
    assert result.objective == pytest.approx(score, abs=1e-6)
    assert result.status in ("optimal", "feasible") and result.bound >= result.objective - 1e-6


# -- feasible batches, determinism, the rules that never bend --------------------------------


def test_feasible_batch_is_unchanged_by_relax() -> None:
    """A batch whose rules all hold: relax returns the meeting solver's seating, no bend."""
    problem = meeting_batch()
    plain = em.assign(problem)
    relaxed = em.assign(problem, relax=True)
    assert relaxed.bends == ()
    assert relaxed.assignment == plain.assignment
    assert [g.panel for g in relaxed.groups] == [g.panel for g in plain.groups]
    assert relaxed.objective == plain.objective
    assert em.verify(problem, relaxed) == []


def test_relaxed_seating_is_deterministic() -> None:
    problem = meeting_batch(**ALONE["quota"])
    a, b = (em.assign(problem, relax=True, seed=3) for _ in range(2))
    assert a.assignment == b.assignment
    assert [(g.panel, g.chair) for g in a.groups] == [(g.panel, g.chair) for g in b.groups]
    assert [x.as_dict() for x in a.bends] == [x.as_dict() for x in b.bends]


def test_min_reviewers_never_bends() -> None:
    """Too few seat candidates without a conflict for a project: no bend can help (conflicts
    and min_reviewers never bend); the error names the group, project and rule."""
    conflicts = [{"expert": e, "project": "P1"} for e in ("E1", "E2", "E3", "E4", "E5", "E6")]
    problem = meeting_batch(conflicts=conflicts)
    with pytest.raises(em.InfeasibleError) as caught:
        em.assign(problem, relax=True)
    clash = caught.value.clashes[0]
    assert clash.rule == "min_reviewers" and "group G1" in clash.message
    assert "P1" in clash.message and "never bend" in clash.message


def test_max_groups_per_expert_never_bends() -> None:
    """Five experts cannot fill two disjoint panels of three: the combination is named."""
    experts = [e for e in MEETING_EXPERTS if e["id"] not in ("E6", "E7")]
    problem = meeting_batch(experts=experts, conflicts=[])
    with pytest.raises(em.InfeasibleError) as caught:
        em.assign(problem, relax=True)
    assert caught.value.clashes[0].rule == "combined"
    assert "max_groups_per_expert" in caught.value.clashes[0].message


def test_panel_size_of_a_mixed_batch_never_bends() -> None:
    """A per-project panel larger than its eligible experts: named by project and rule."""
    projects = [dict(p) for p in MEETING_PROJECTS] + [
        {"id": "Q1", "organization": "A1", "fields": "520.20.10", "panel_size": 8}
    ]
    with pytest.raises(em.InfeasibleError) as caught:
        em.assign(meeting_batch(projects=projects), relax=True)
    (clash,) = caught.value.clashes
    assert clash.rule == "panel_size" and clash.projects == ("Q1",)
    assert "never bend" in clash.message


# -- groups formed by the solver ----------------------------------------------------------------


def test_free_grouping_seats_the_chosen_groups_with_relax() -> None:
    """Groups formed by the solver: the kept grouping is seated at its own lexicographic
    optimum, never better than the best over every grouping (the brute force over all three
    pairings of four projects), and the status says no grouping optimum is proven."""
    projects = [{k: v for k, v in p.items() if k != "group"} for p in MEETING_PROJECTS]
    problem = meeting_batch(projects=projects, rules={"enterprise_min_share": "2/3"})
    result = em.assign(problem, relax=True)
    assert result.status == "feasible" and result.bound >= result.objective
    assert result.stats["grouping"] in ("hand", "search")
    brute = Brute(problem)
    own = brute.optimum({g.id: g.projects for g in result.groups})
    assert _key_of(result) == own[0]
    assert result.objective == pytest.approx(own[1], abs=1e-6)
    p1, *rest = range(4)
    every = [brute.optimum({"A": (p1, q), "B": tuple(r for r in rest if r != q)}) for q in rest]
    best = min(every, key=lambda found: (found[0], -found[1]))
    assert (own[0], -own[1]) >= (best[0], -best[1])
    _assert_exact_bends(problem, result)


# -- the command line ---------------------------------------------------------------------------


def test_cli_relax_meetings_end_to_end(tmp_path: Path) -> None:
    """``expertmatch assign --relax`` on an infeasible meeting batch: exit 0, the bends in
    report.json (rule, group or project, amount), the groups written; without --relax exit 3."""
    problem = meeting_batch(**ALONE["enterprise_share"])
    folder = tmp_path / "batch"
    _write_batch(folder, ALONE["enterprise_share"])
    out, report = tmp_path / "a.csv", tmp_path / "r.json"
    assert cli.main(["assign", str(folder), "-o", str(out), "--report", str(report)]) == 3
    code = cli.main(["assign", str(folder), "-o", str(out), "--report", str(report), "--relax"])
    assert code == 0
    data = json.loads(report.read_text(encoding="utf-8"))
    bends = data["bends"]
    assert {b["rule"] for b in bends} == {"enterprise_share"}
    assert any(b.get("group") in ("G1", "G2") and b["project"] is None for b in bends)
    assert sum(b["amount"] for b in bends) == data["stats"]["bends_by_rule"]["enterprise_share"]
    assert len(data["groups"]) == 2
    assert math.isclose(data["objective"], em.assign(problem, relax=True).objective)


def _write_batch(folder: Path, changes: dict[str, Any]) -> None:
    """The four-project batch with ``changes`` as CSV files and rules.toml."""
    import pandas as pd

    from tests.meeting_batches import MEETING_ORGS, MEETING_RULES

    folder.mkdir()
    experts = changes.get("experts", MEETING_EXPERTS)
    projects = changes.get("projects", MEETING_PROJECTS)
    pd.DataFrame(experts).to_csv(folder / "experts.csv", index=False)
    pd.DataFrame(projects).to_csv(folder / "projects.csv", index=False)
    pd.DataFrame(MEETING_ORGS).to_csv(folder / "organizations.csv", index=False)
    pd.DataFrame([{"expert": "E1", "project": "P1"}]).to_csv(folder / "conflicts.csv", index=False)
    rules = copy.deepcopy(MEETING_RULES)
    for key, value in changes.get("rules", {}).items():
        rules[key] = {**rules[key], **value} if key == "meeting" else value
    lines = [f"{k} = {json.dumps(v)}" for k, v in rules.items() if not _table(v)]
    for key, value in rules.items():
        for table in [value] if isinstance(value, dict) else value if _table(value) else []:
            lines.append(f"[{key}]" if isinstance(value, dict) else f"[[{key}]]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in table.items()]
    (folder / "rules.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _table(value: Any) -> bool:
    """A TOML table (a dict) or array of tables (a list of dicts)?"""
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and isinstance(value[0], dict)
    )


def test_schedule_and_availability_hold_while_rules_bend() -> None:
    """With slots, one room and availability, the relaxed seating keeps the schedule (one
    group a slot, every seated expert available) and bends only bendable rules."""
    rules = {
        "enterprise_min_share": "2/3",
        "meeting": {"slots": ["am", "pm"], "rooms": 1, "max_groups_per_expert": 2},
    }
    availability = [{"expert": "E2", "slot": "am"}, {"expert": "E3", "slot": "pm"}]
    problem = meeting_batch(rules=rules, availability=availability)
    result = em.assign(problem, relax=True)
    assert sorted(g.slot for g in result.groups) == ["am", "pm"]
    for g in result.groups:
        assert all(problem.available(e, g.slot) for e in g.panel)
    assert result.bends and {b.rule for b in result.bends} <= set(BEND_ORDER)
    _assert_exact_bends(problem, result)
    unscheduled = Brute(meeting_batch(rules=rules)).optimum()
    assert _key_of(result) >= unscheduled[0]


def test_generated_batch_with_formed_groups_passes_verify_with_its_bends() -> None:
    """A generated batch (60 meeting projects, 200 experts, groups formed by the solver)
    whose seats must all be enterprise experts: relax bends, every bend listed, verify
    passes with them, and the same seed gives the same answer."""
    tables = em.generate(60, 200, seed=3)
    tables["projects"]["stage"] = ""
    tables["projects"]["mode"] = "meeting"
    rules = {
        "meeting": {"group_size": [6, 10], "panel_size": 7, "min_reviewers": 5},
        "enterprise_min_share": 1,
    }
    problem = em.from_tables(**tables, rules=rules)
    with pytest.raises(em.InfeasibleError):
        em.assign(problem)
    a, b = (em.assign(problem, relax=True, seed=2, time_limit=60) for _ in range(2))
    assert a.bends and unbent(em.verify(problem, a), a.bends) == []
    _assert_exact_bends(problem, a)
    assert a.assignment == b.assignment and a.bends == b.bends
    assert a.status == "feasible" and a.bound >= a.objective


def test_core_and_every_column_agree_on_a_generated_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fixed groups of a generated batch that must bend: the stages over a core (proven by
    LP) reach the same minima and score as the stages over every column."""
    from expertmatch.solvers import meeting_bends
    from expertmatch.solvers.meetings import hand_groups

    tables = em.generate(60, 200, seed=5)
    tables["projects"]["stage"] = ""
    tables["projects"]["mode"] = "meeting"
    rules = {
        "meeting": {"group_size": [6, 10], "panel_size": 7, "min_reviewers": 5},
        "enterprise_min_share": 1,
        "coverage_level": 3,
    }
    grouped = em.from_tables(**tables, rules=rules)
    ids = grouped.project_ids
    tables["projects"]["group"] = tables["projects"]["id"].map(
        {ids[p]: g for g, ps in hand_groups(grouped) for p in ps}
    )
    problem = em.from_tables(**tables, rules=rules)
    core = em.assign(problem, relax=True, time_limit=60)
    monkeypatch.setattr(
        meeting_bends, "_initial_columns", lambda seating: np.ones(seating.kind.size, bool)
    )
    every = em.assign(problem, relax=True, time_limit=60)
    assert core.bends and core.status == every.status == "optimal"
    assert core.stats["bends_by_rule"] == every.stats["bends_by_rule"]
    assert core.objective == pytest.approx(every.objective, abs=1e-6)
    _assert_exact_bends(problem, core)


def test_a_stage_out_of_time_keeps_the_last_solution(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the score stage finds no seating in time, the last bend stage's seating (which
    holds every minimum) is returned, status timeout, its bends listed and verify passing
    with them."""
    from expertmatch.solvers import meeting_bends

    real = meeting_bends._stage_mip

    def no_score(run: Any, gain: Any, held: Any, stage: str, cols: Any) -> Any:
        return None if stage == "score" else real(run, gain, held, stage, cols)

    monkeypatch.setattr(meeting_bends, "_stage_mip", no_score)
    problem = meeting_batch(**ALONE["enterprise_share"])
    result = em.assign(problem, relax=True)
    assert result.status == "timeout" and result.bound >= result.objective
    assert result.stats["bends_by_rule"]["enterprise_share"] == 3
    _assert_exact_bends(problem, result)


def test_reassign_relax_bends_the_fewest_and_keeps_the_most_seats() -> None:
    """Two of the three enterprise experts decline the round: without relax the reassignment
    stops naming the rule; with relax it bends as few enterprise rules as ``assign --relax``
    on the same batch, keeps the groups, keeps at least as many earlier seats as that answer
    does, and verify finds exactly the bends it lists."""
    from expertmatch.rounds.history import read_declines, with_declines

    e8 = {"id": "E8", "organization": "U1", "fields": "520.40.10;520.20.30;520.20.10"}
    problem = meeting_batch(experts=[*MEETING_EXPERTS, e8])
    first = em.assign(problem)
    gone = [("E2", ""), ("E3", "")]
    with pytest.raises(em.InfeasibleError):
        em.reassign(problem, first, gone)
    again = em.reassign(problem, first, gone, relax=True)
    after = with_declines(problem, read_declines(gone, problem))
    _assert_exact_bends(after, again)
    assert any(b.rule == "enterprise_share" for b in again.bends)
    fresh = em.assign(after, relax=True)
    assert _key_of(again) == _key_of(fresh)
    assert {g.id: g.projects for g in again.groups} == {g.id: g.projects for g in first.groups}
    earlier = {(g.id, e) for g in first.groups for e in g.panel}
    kept_by_fresh = len(earlier & {(g.id, e) for g in fresh.groups for e in g.panel})
    assert again.stats["kept_pairs"] >= kept_by_fresh
    assert again.stats["kept_pairs"] == len(
        earlier & {(g.id, e) for g in again.groups for e in g.panel}
    )

"""Every rule varied at once, against brute force (issue 10).

``every_rule_batches`` draws tiny batches (1-3 projects, 3-7 experts) where every rule of the
contract moves together: panel sizes (rule and per row), organization types and parents
(groups), partners, applicant teams (some members are experts), relations of every kind with
years around the collaboration window, declared conflicts, per-expert ``max_load`` and ``used``
against ``yearly_cap``, the enterprise share, ``max_per_org``, field coverage levels,
``min_score``, the round's enterprise target, supplied or built-in scores, the objective
(total, fair, spread) and sometimes a probability cap (a random draw).

Brute force enumerates every assignment (per project every combination of panel-size experts
among *all* experts, product over projects) and keeps those ``em.verify`` accepts: verify is
the referee, the library's model rows and eligibility are not used. A panel is dropped early
only when verify, on that panel alone, names a rule that one panel breaks on its own (a
conflict, a score, its enterprise share, organization cap or coverage, or a load already over).

The property: a Result passes verify; "total" reaches the brute-force optimum; "fair" and
"spread" reach the brute-force best first goal (worst panel mean score, largest load) and then
the best total among the assignments that reach it; InfeasibleError only when brute force finds
nothing. With a probability cap, the best capped mixture of the enumerated assignments (an LP)
is the referee: the lottery exists exactly when that mixture does, keeps the cap, reaches its
expected score within the default 0.1% gap, and several seeds' draws all pass verify.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch.domain.scoring import score_of as pair_score
from tests.strategies import all_assignments, score_of

Pairs = list[tuple[str, str]]

CODES = ["1.1.1", "1.1.1", "1.1.2", "1.2.1", "1.2.1", "1.2", "2.1.1"]  # some twice: likelier
TYPES = ["enterprise", "enterprise", "university", "institute", "hospital"]
KINDS = ["coauthor", "coproject", "advisor", "relative", "other"]
#: Enumerate at most this many assignments (product over projects of C(experts, panel size)).
MAX_COMBINATIONS = 2_000
#: Rules that verify can pin on one panel checked alone (kept when the panel joins others).
PANEL_RULES = {"conflict", "min_score", "enterprise_share", "max_per_org", "coverage"}
LOAD_RULES = {"max_load", "yearly_cap"}
TOL = 1e-6


@st.composite
def every_rule_batches(draw: st.DrawFn) -> dict[str, Any]:
    """A batch small enough to enumerate, every rule drawn at once, plus the objective.

    A third of the batches are ``tight`` (every value of every rule can come up); the others
    draw from the gentler values only, so that feasible and infeasible batches both come
    often."""
    tight = draw(st.integers(0, 2)) == 0

    def pick(gentle: list[Any], harsh: tuple[Any, ...] | list[Any] = ()) -> Any:
        return draw(st.sampled_from([*gentle, *harsh] if tight else gentle))

    reference_year = draw(st.sampled_from([2024, 2026]))
    rules: dict[str, Any] = {
        "panel_size": draw(st.sampled_from([1, 2, 2, 3])),
        "max_load": draw(st.integers(1, 3)),
        "yearly_cap": draw(st.integers(2, 5)),
        "enterprise_min_share": pick(["0", "1/3"], ["1/2", "2/3"]),
        "max_per_org": draw(st.integers(1, 2)),
        "coverage_level": pick([0, 1], [2, 2]),
        "min_score": pick([0], [0, 20]),
        "reference_year": reference_year,
        "collaboration_window": draw(st.integers(1, 4)),
    }
    target = pick([None, None, "0.3"], ["0.6"])
    if target is not None:
        rules["enterprise_target_share"] = target

    # Organizations: a few expert organizations (some in a group under an earlier one) and two
    # applicants; the applicants may also employ experts (same_org) or share their group.
    n_org = draw(st.integers(2, 5))
    orgs: list[dict[str, Any]] = []
    for i in range(n_org):
        parent = f"O{draw(st.integers(0, i - 1))}" if i and draw(st.integers(0, 3)) == 0 else ""
        kind = "enterprise" if i == 0 else draw(st.sampled_from(TYPES))
        orgs.append({"id": f"O{i}", "name": f"单位{i}", "type": kind, "parent": parent})
    for i in range(2):
        parent = pick([""], ["", *[o["id"] for o in orgs]])
        kind = draw(st.sampled_from(["university", "enterprise"]))
        orgs.append({"id": f"A{i}", "name": f"申报{i}", "type": kind, "parent": parent})
    org_ids = [o["id"] for o in orgs]
    expert_orgs = org_ids[:n_org] + ([org_ids[n_org]] if pick([False], [True]) else [])

    n_exp = pick([4, 5, 6, 6, 7, 7], [3])
    experts = []  # spread over the organizations (two neighbours may share one)
    for i in range(n_exp):
        fields = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True))
        experts.append(
            {
                "id": f"E{i}",
                "name": f"专家{i}",
                "organization": expert_orgs[(i + draw(st.integers(0, 1))) % len(expert_orgs)],
                "org_type": draw(st.sampled_from(["", "", "", "enterprise", "university"])),
                "fields": ";".join(fields),
                "max_load": pick(["", "", 1, 2, 3], [0]),
                "used": pick(["", "", 0, 1], [2, 3]),
                "keywords": draw(st.sampled_from(["", "视觉", "视觉;检测", "材料"])),
            }
        )
    expert_ids = [e["id"] for e in experts]

    n_proj = draw(st.integers(1, 3))
    projects = []
    for i in range(n_proj):
        fields = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=2, unique=True))
        partners = (
            draw(st.lists(st.sampled_from(org_ids), max_size=1)) if pick([False], [True]) else []
        )
        projects.append(
            {
                "id": f"P{i}",
                "title": f"项目{i}",
                "organization": pick(["A0", "A1", "A0", "A1", "O1"], org_ids[:n_org]),
                "partners": ";".join(partners),
                "fields": ";".join(fields),
                "panel_size": draw(st.sampled_from(["", "", "", 1, 2, 3])),
                "keywords": draw(st.sampled_from(["", "视觉", "检测;材料"])),
            }
        )
    sizes = [int(p["panel_size"] or rules["panel_size"]) for p in projects]
    assume(all(k <= n_exp for k in sizes))
    assume(math.prod(math.comb(n_exp, k) for k in sizes) <= MAX_COMBINATIONS)

    # Applicant teams (tight: some members are experts); relations of every kind, with years
    # on both sides of the window, one after the reference year, or none; a declared conflict.
    people = ["M0", "M1", "M2", *(expert_ids if tight else [])]
    members = [
        {"project": p["id"], "person": person}
        for p in projects
        for person in draw(st.lists(st.sampled_from(people), max_size=2, unique=True))
    ]
    relations = []
    for _ in range(draw(st.integers(0, 3))):
        a, b = draw(st.sampled_from(["M0", "M1", *expert_ids])), draw(st.sampled_from(expert_ids))
        if draw(st.booleans()):
            a, b = b, a  # a relation holds both ways
        year = draw(st.sampled_from(["", *range(reference_year - 5, reference_year + 2)]))
        relations.append({"a": a, "b": b, "kind": draw(st.sampled_from(KINDS)), "year": year})
    conflicts = [
        {
            "expert": draw(st.sampled_from(expert_ids)),
            "project": draw(st.sampled_from([p["id"] for p in projects])),
            "reason": "申报回避",
        }
        for _ in range(draw(st.integers(0, 1)))
    ]
    scores = None
    if draw(st.integers(0, 2)) == 0:  # supplied scores; an absent pair scores 0
        scores = [
            {"expert": e, "project": p["id"], "score": draw(st.integers(1, 80)) / 2}
            for p in projects
            for e in expert_ids
            if draw(st.integers(0, 5))
        ]
    if draw(st.integers(0, 3)) == 0:  # no organizations.csv: types from the rows, no groups
        orgs = []
        for e in experts:
            e["org_type"] = e["org_type"] or draw(st.sampled_from(["", "enterprise"]))
    objective = draw(st.sampled_from(["total", "fair", "spread"]))
    if objective == "total" and draw(st.integers(0, 2)) == 0:  # alone: it cannot be combined
        rules["max_probability"] = pick([0.8, 0.8, 0.5], [0.5])
    return {
        "tables": {
            "experts": experts,
            "projects": projects,
            "organizations": orgs or None,
            "members": members,
            "relations": relations,
            "conflicts": conflicts,
            "scores": scores,
            "rules": rules,
        },
        "sizes": sizes,
        "objective": objective,
        "tight": tight,
    }


def drops(v: em.Violation, pid: str) -> bool:
    """A panel alone rules itself out by a per-panel rule of its own project or a load."""
    return (v.rule in PANEL_RULES and v.project == pid) or v.rule in LOAD_RULES


def valid_assignments(problem: em.Problem, sizes: list[int]) -> Iterator[Pairs]:
    """Every assignment verify() accepts, panel sizes from the raw tables."""
    return all_assignments(problem, sizes, drops)


def first_goal(problem: em.Problem, pairs: Pairs, objective: str, sizes: list[int]) -> float:
    """fair: the worst panel's mean score; spread: minus the largest load (higher is better)."""
    if objective == "fair":
        panel = dict.fromkeys(problem.project_ids, 0.0)
        for p, e in pairs:
            panel[p] += pair_score(problem, problem.project_index[p], problem.expert_index[e])
        return min(panel[p] / k for p, k in zip(problem.project_ids, sizes, strict=True))
    return -max(Counter(e for _, e in pairs).values(), default=0)


def best_mixture(problem: em.Problem, options: list[Pairs], cap: float) -> float | None:
    """The best expected score of a mixture of valid assignments with no pair above ``cap``."""
    from scipy.optimize import linprog

    if not options:
        return None
    pairs = sorted({pair for o in options for pair in o})
    row = {pair: i for i, pair in enumerate(pairs)}
    a = np.zeros((len(pairs), len(options)))
    for k, o in enumerate(options):
        for pair in o:
            a[row[pair], k] = 1
    values = np.array([score_of(problem, o) for o in options])
    res = linprog(
        -values,
        A_ub=a,
        b_ub=np.full(len(pairs), cap),
        A_eq=np.ones((1, len(options))),
        b_eq=[1.0],
        bounds=(0, None),
        method="highs",
    )
    return -res.fun if res.status == 0 else None


def check(case: dict[str, Any]) -> str:
    """The property on one drawn batch; returns "feasible" or "infeasible"."""
    problem = em.from_tables(**case["tables"])
    sizes, objective = case["sizes"], case["objective"]
    assert [int(k) for k in problem.project_panel_size] == sizes
    options = list(valid_assignments(problem, sizes))
    cap = problem.rules.max_probability

    if cap < 1:
        best = best_mixture(problem, options, cap)
        try:
            lot = em.lottery(problem, time_limit=20)
        except em.InfeasibleError as err:
            assert best is None, "infeasible, yet a mixture of valid assignments keeps the cap"
            assert err.clashes, "infeasible without a diagnosis"
            return "infeasible"
        assert best is not None, "a lottery, yet no mixture of valid assignments keeps the cap"
        assert lot.x.max() <= cap + 1e-8
        assert lot.expected_objective <= best + TOL
        assert lot.bound >= best - TOL
        assert lot.status in ("optimal", "feasible")
        assert lot.expected_objective >= best - lot.bound * 1e-3 - TOL  # the default gap, 0.1%
        for seed in range(3):
            draw = lot.sample(seed)
            assert em.verify(problem, draw) == [], f"draw {seed} breaks a rule"
        first = em.assign(problem, seed=5, time_limit=20)
        assert em.verify(problem, first) == []
        return "feasible"

    try:
        result = em.assign(problem, objective=objective, time_limit=20)
    except em.InfeasibleError as err:
        assert not options, f"infeasible, yet {len(options)} assignment(s) pass verify"
        assert err.clashes, "infeasible without a diagnosis"
        return "infeasible"
    assert em.verify(problem, result) == []
    assert options, "an assignment verify accepts, yet brute force found none"
    assert result.status == "optimal"
    assert result.objective == pytest.approx(score_of(problem, result.assignment), abs=TOL)
    if objective == "total":
        assert result.objective == pytest.approx(
            max(score_of(problem, o) for o in options), abs=TOL
        )
        assert result.bound >= result.objective - TOL
        return "feasible"
    goal = max(first_goal(problem, o, objective, sizes) for o in options)
    assert first_goal(problem, result.assignment, objective, sizes) == pytest.approx(goal, abs=TOL)
    best_total = max(
        score_of(problem, o)
        for o in options
        if first_goal(problem, o, objective, sizes) >= goal - TOL
    )
    assert result.objective == pytest.approx(best_total, abs=TOL)
    held = result.stats["held"]
    if objective == "fair":
        assert held["worst_panel_score"] == pytest.approx(goal, abs=TOL)
    else:
        assert held["largest_load"] == -goal
    return "feasible"


@pytest.mark.slow
@settings(
    max_examples=400,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(every_rule_batches())
def test_every_rule_varied_matches_brute_force(case: dict[str, Any]) -> None:
    outcome = check(case)
    event(outcome)
    event(
        f"{outcome}: {case['objective']}"
        + (" draw" if "max_probability" in case["tables"]["rules"] else "")
    )

"""The clash search: on small random batches whose rules cannot all hold, the named rule groups
it returns cannot hold together (checked by enumerating every assignment), and dropping any
one of them lets the rest hold (deletion-minimal); panel sizes always hold."""

from __future__ import annotations

import itertools
import random

import numpy as np

import expertmatch as em
from expertmatch.diagnosis.clash import _Groups, clash_set, minimal_clash
from expertmatch.formulation.rows import build_model
from tests.batches import combined_clash


def random_batch(rng: random.Random) -> em.Problem:
    fields = ["1.1.1", "1.1.2", "1.2.1", "2.1.1"]
    experts = [
        {
            "id": f"E{i}",
            "organization": f"O{rng.randrange(4)}",
            "org_type": rng.choice(["enterprise", "university", "university"]),
            "fields": rng.choice(fields),
            "max_load": rng.choice([1, 1, 2]),
        }
        for i in range(rng.randint(4, 6))
    ]
    projects = [
        {
            "id": f"P{i}",
            "organization": "X",
            "fields": ";".join(rng.sample(fields, rng.randint(1, 2))),
        }
        for i in range(rng.randint(2, 3))
    ]
    rules = {
        "panel_size": 2,
        "enterprise_min_share": rng.choice(["0", "1/2"]),
        "coverage_level": rng.choice([0, 2, 3]),
        "max_per_org": rng.choice([1, 2]),
        "max_load": 2,
    }
    return em.from_tables(experts=experts, projects=projects, rules=rules)


def holding_sets(problem: em.Problem) -> list[set[str]]:
    """For every assignment that fills every panel, the set of rule groups it keeps."""
    model = build_model(problem)
    groups = _Groups(problem, model)
    per_project = [
        np.flatnonzero(model.pairs.project == p).tolist() for p in range(problem.n_projects)
    ]
    sizes = problem.project_panel_size
    out = []
    choices = [itertools.combinations(c, int(k)) for c, k in zip(per_project, sizes, strict=True)]
    for combo in itertools.product(*[list(c) for c in choices]):
        x = np.zeros(model.n_pairs)
        x[[j for panel in combo for j in panel]] = 1
        ax = model.A @ x
        ok = (ax >= model.lb - 1e-9) & (ax <= model.ub + 1e-9)
        broken = {groups.names[r] for r in np.flatnonzero(~ok)}
        if None in broken:
            continue
        out.append(set(groups.all) - broken)
    return out


def test_clash_sets_are_infeasible_and_deletion_minimal() -> None:
    rng = random.Random(20261127)
    checked = 0
    for _ in range(120):
        problem = random_batch(rng)
        keeps = holding_sets(problem)
        if not keeps or any(k == set(_Groups(problem, build_model(problem)).all) for k in keeps):
            continue  # panels cannot be filled at all, or the batch is feasible
        found = clash_set(problem, time_limit=30)
        assert found is not None and found.minimal
        clash = set(found.groups)
        assert not any(clash <= k for k in keeps), "the groups listed can all hold"
        for g in clash:
            assert any(clash - {g} <= k for k in keeps), f"{g} is not needed for the clash"
        checked += 1
    assert checked >= 20


def test_loads_are_named_by_expert() -> None:
    """A clash in which loads take part names the experts whose loads bind."""
    experts = [
        {"id": f"E{i}", "organization": f"O{i}", "org_type": "university", "fields": "1.1.1"}
        for i in range(3)
    ] + [{"id": "C", "organization": "C", "org_type": "enterprise", "fields": "1.1.1"}]
    projects = [{"id": f"P{i}", "organization": "X", "fields": "1.1"} for i in range(2)]
    problem = em.from_tables(
        experts=experts,
        projects=projects,
        rules={"panel_size": 2, "enterprise_min_share": "1/2", "max_load": 1},
    )
    found = minimal_clash(problem)
    loads = [c for c in found if c.rule == "load"]
    assert len(loads) == 1 and loads[0].experts == ("C",)


def test_the_diagnosis_works_within_the_solve_s_time_limit(monkeypatch) -> None:
    """The combined-clash search gets what the solve left of --time-limit (at least 2 s), not
    fixed 10 s steps; each LP or CP-SAT step gets at most what is left."""
    import expertmatch.diagnosis.clash as clash
    import expertmatch.solvers.exact as exact

    given: list[float] = []
    real_minimal, real_lp = clash.minimal_clash, clash._lp_core

    def spy_minimal(problem, pairs=None, time_limit=clash.TIME_LIMIT):
        given.append(time_limit)
        return real_minimal(problem, pairs, time_limit)

    steps: list[float] = []

    def spy_lp(groups, active, seconds):
        steps.append(seconds)
        return real_lp(groups, active, seconds)

    monkeypatch.setattr(exact, "minimal_clash", spy_minimal)
    monkeypatch.setattr(clash, "_lp_core", spy_lp)
    problem = combined_clash()
    try:
        em.assign(problem, time_limit=3)
    except em.InfeasibleError as error:
        assert any(c.rule == "coverage" for c in error.clashes)
    else:
        raise AssertionError("the batch is infeasible")
    assert given and 2.0 <= given[0] <= 3.0
    assert steps and max(steps) <= given[0]

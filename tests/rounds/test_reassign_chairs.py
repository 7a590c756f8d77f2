"""Under the chair rule a reassignment names each panel's chair, like ``assign``; relaxed, a
panel left without a possible chair would be listed as a bend."""

from __future__ import annotations

import expertmatch as em


def test_reassigned_panels_have_their_chairs() -> None:
    experts = [
        {
            "id": f"E{i}",
            "organization": f"O{i}",
            "org_type": "enterprise" if i < 3 else "university",
            "fields": "1.1.1",
        }
        for i in range(6)
    ]
    projects = [{"id": p, "organization": "X", "fields": "1.1"} for p in ("P", "Q")]
    problem = em.from_tables(
        experts=experts,
        projects=projects,
        rules={"panel_size": 2, "chair": {"attribute": "org_type", "values": ["enterprise"]}},
    )
    first = em.assign(problem)
    project, expert = first.assignment[0]
    for relax in (False, True):
        new = em.reassign(problem, first, [(expert, project)], relax=relax)
        assert (project, expert) not in new.assignment
        assert sorted(new.problem.project_ids[p] for p in new.chairs) == ["P", "Q"]
        assert new.bends == () and em.verify(new.problem, new) == []

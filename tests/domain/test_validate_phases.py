"""Validation runs one check per table in a fixed order: the issues of a batch come table by
table (taxonomy, organizations, experts, projects, members, relations, conflicts, scores); an
absent optional column reads as empty cells on every row and is never written to; without
organizations.csv, organizations are made up in the order experts and projects first name them."""

from __future__ import annotations

import pytest

import expertmatch as em
from expertmatch.domain.validate import build_problem
from expertmatch.io.tables import from_objects
from tests.batches import EXPERTS, ORGS, PROJECTS, make


def test_issues_come_table_by_table_in_a_fixed_order() -> None:
    """One broken row per table: the issues follow the order of the checks, not of the input."""
    with pytest.raises(em.InputError) as caught:
        make(
            scores=[{"expert": "E1", "project": "P1", "score": "high"}],
            conflicts=[{"expert": "E99", "project": "P1"}],
            relations=[{"a": "E1", "b": "X", "kind": "friend"}],
            members=[{"project": "P9", "person": "X"}],
            projects=[{**PROJECTS[0], "panel_size": "0"}],
            experts=[*EXPERTS[:-1], {**EXPERTS[-1], "max_load": "-1"}],
            organizations=[*ORGS[:-1], {**ORGS[-1], "type": "club"}],
            taxonomy=[{"code": "520", "parent": "999"}],
        )
    files = [issue.file for issue in caught.value.issues]
    assert files == [
        "taxonomy",
        "organizations",
        *["experts"] * files.count("experts"),
        *["projects"] * files.count("projects"),
        "members",
        "relations",
        "conflicts",
        "scores",
    ]
    first = {issue.file: issue for issue in reversed(caught.value.issues)}
    assert first["taxonomy"].message == "unknown parent code '999'"
    assert first["organizations"].message.startswith("unknown organization type 'club'")
    assert first["members"].message == "unknown project 'P9'"
    assert first["relations"].message.startswith("unknown relation kind 'friend'")
    assert first["conflicts"].message == "unknown expert 'E99'"
    assert first["scores"].message == "'high' is not a number"


def test_absent_optional_columns_read_as_empty_on_every_row() -> None:
    """Thousands of rows with only the required columns: every optional cell is empty (no name,
    the rule's max_load, nothing used, no keywords), and the tables are left as they were."""
    n = 3000
    tables = from_objects(
        {
            "experts": [
                {"id": f"E{i}", "organization": f"O{i % 7}", "fields": "1.2.3"} for i in range(n)
            ],
            "projects": [{"id": f"P{i}", "organization": "O1", "fields": "1.2"} for i in range(50)],
            "taxonomy": [{"code": c} for c in ("1", "1.2", "1.2.3")],
        }
    )
    problem = build_problem(tables, em.Rules())
    assert problem.expert_names == ("",) * n
    assert problem.expert_max_load_given.tolist() == [-1] * n
    assert problem.expert_used.tolist() == [0] * n
    assert problem.expert_keywords == ((),) * n
    assert problem.project_panel_size_given.tolist() == [-1] * 50
    assert problem.project_partners == ((),) * 50
    # the taxonomy has no parent column: every code is a root of its own
    assert problem.field_tree.chains["1.2.3"] == ("1.2.3",)
    assert tables["experts"].column("name") == [""] * n
    assert tables["taxonomy"].column("parent") == [""] * 3


def test_organizations_are_made_up_in_the_order_first_named() -> None:
    """Without organizations.csv: experts' organizations first, then each project's own and its
    partners, each once; they have no type and no parent."""
    problem = em.from_tables(
        experts=[
            {"id": "E1", "organization": "B", "fields": "1.1"},
            {"id": "E2", "organization": "A", "fields": "1.1"},
            {"id": "E3", "organization": "B", "fields": "1.1"},
        ],
        projects=[{"id": "P1", "organization": "C", "partners": "A;D；D", "fields": "1.1"}],
    )
    assert problem.org_ids == ("B", "A", "C", "D")
    assert problem.org_names == problem.org_ids
    assert problem.org_types == ("",) * 4
    assert problem.org_parent.tolist() == [-1] * 4
    assert problem.expert_org.tolist() == [0, 1, 0]
    assert problem.project_partners == ((1, 3),)

"""Validating a batch against DATA_CONTRACT.md. Every bad input must stop with an ``InputError``
whose issues name the file, the row (header = row 1; Python records count from 1), the column
and the problem; lenient where the office's files vary (organization types, list separators,
empty cells); extra columns kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch import InputError, InputIssue, Rules
from tests.batches import (
    EXPERTS,
    ORGS,
    PROJECTS,
    Mutation,
    add_rows,
    build,
    cell,
    drop_column,
    drop_table,
    find_issue,
    load_error,
    make,
    raw,
    rule,
    rules_text,
)


def test_two_project_batch_is_valid(tmp_path: Path) -> None:
    """The base of every broken batch below loads cleanly (so each case breaks one thing)."""
    problem = em.load(build(tmp_path / "b"))
    assert problem.expert_ids == ("E1", "E2", "E3", "E4", "E5")
    assert problem.project_ids == ("P1", "P2")
    assert len(em.eligible_pairs(problem)) > 0


# -- 1. each class of bad input --------------------------------------------------------------------


TAXONOMY_CYCLE = [
    {"code": "520", "parent": "520.20"},
    {"code": "520.20", "parent": "520"},
    {"code": "520.20.10", "parent": "520.20"},
    {"code": "520.20.20", "parent": "520.20"},
    {"code": "520.20.30", "parent": "520.20"},
]


# fmt: off
BAD = [
    # id, mutation, file, row, column, message pattern
    ("dup-expert", cell("experts", 1, "id", "E1"),
     "experts.csv", 3, "id", r"duplicate id 'E1' \(first at row 2\)"),
    ("dup-project", cell("projects", 1, "id", "P1"),
     "projects.csv", 3, "id", r"duplicate id 'P1'"),
    ("dup-organization",
     add_rows("organizations", {"id": "U1", "name": "x", "type": "other", "parent": ""}),
     "organizations.csv", 7, "id", r"duplicate id 'U1'"),
    ("missing-experts-file", drop_table("experts"),
     "experts.csv", None, None, r"required file missing"),
    ("missing-projects-file", drop_table("projects"),
     "projects.csv", None, None, r"required file missing"),
    ("missing-column-fields", drop_column("experts", "fields"),
     "experts.csv", None, "fields", r"required column 'fields' missing"),
    ("missing-column-organization", drop_column("projects", "organization"),
     "projects.csv", None, "organization", r"required column 'organization' missing"),
    ("max_load-abc", cell("experts", 0, "max_load", "abc"),
     "experts.csv", 2, "max_load", r"'abc' is not a whole number"),
    ("used-x", cell("experts", 1, "used", "x"),
     "experts.csv", 3, "used", r"'x' is not a whole number"),
    ("panel_size-five", cell("projects", 1, "panel_size", "five"),
     "projects.csv", 3, "panel_size", r"'five' is not a whole number"),
    ("year-20x5",
     add_rows("relations", {"a": "E4", "b": "M001", "kind": "coauthor", "year": "20x5"}),
     "relations.csv", 2, "year", r"'20x5' is not a year"),
    ("max_load-negative", cell("experts", 2, "max_load", "-1"),
     "experts.csv", 4, "max_load", r"negative load"),
    ("used-negative", cell("experts", 3, "used", "-2"),
     "experts.csv", 5, "used", r"negative used"),
    ("panel_size-0-row", cell("projects", 0, "panel_size", "0"),
     "projects.csv", 2, "panel_size", r"panel size must be at least 1"),
    ("panel_size-0-rules", rule("panel_size = 0"),
     "rules.toml", None, "panel_size", r"panel size must be at least 1"),
    ("empty-fields-expert", cell("experts", 4, "fields", ""),
     "experts.csv", 6, "fields", r"empty field list"),
    ("empty-fields-project", cell("projects", 0, "fields", " ; "),
     "projects.csv", 2, "fields", r"empty field list"),
    ("malformed-field", cell("experts", 1, "fields", "520..10"),
     "experts.csv", 3, "fields", r"malformed field code '520\.\.10'"),
    ("unknown-org_type-expert", cell("experts", 0, "org_type", "company"),
     "experts.csv", 2, "org_type", r"unknown organization type 'company'.*enterprise"),
    ("unknown-type-organization", cell("organizations", 2, "type", "corp"),
     "organizations.csv", 4, "type", r"unknown organization type 'corp'"),
    ("unknown-relation-kind",
     add_rows("relations", {"a": "E4", "b": "M001", "kind": "friend", "year": "2025"}),
     "relations.csv", 2, "kind", r"unknown relation kind 'friend'.*coauthor"),
    ("score-negative", add_rows("scores", {"expert": "E3", "project": "P1", "score": "-1"}),
     "scores.csv", 2, "score", r"score must be a number >= 0, not '-1'"),
    ("score-not-a-number",
     add_rows("scores", {"expert": "E3", "project": "P1", "score": "10"},
              {"expert": "E4", "project": "P1", "score": "high"}),
     "scores.csv", 3, "score", r"'high' is not a number"),
    ("score-nan", add_rows("scores", {"expert": "E3", "project": "P1", "score": "nan"}),
     "scores.csv", 2, "score", r"score must be a number >= 0, not 'nan'"),
    ("score-inf", add_rows("scores", {"expert": "E3", "project": "P1", "score": "inf"}),
     "scores.csv", 2, "score", r"score must be a number >= 0, not 'inf'"),
    ("score-minus-inf", add_rows("scores", {"expert": "E3", "project": "P1", "score": "-inf"}),
     "scores.csv", 2, "score", r"score must be a number >= 0"),
    ("org-self-parent", cell("organizations", 0, "parent", "U1"),
     "organizations.csv", None, "parent", r"cycle"),
    ("org-cycle-AB", lambda b: (cell("organizations", 0, "parent", "U2")(b),
                                cell("organizations", 1, "parent", "U1")(b)),
     "organizations.csv", None, "parent", r"cycle: U1 -> U2"),
    ("taxonomy-cycle", add_rows("taxonomy", *TAXONOMY_CYCLE),
     "taxonomy.csv", None, "parent", r"cycle"),
    ("conflict-unknown-expert", add_rows("conflicts", {"expert": "E9", "project": "P1"}),
     "conflicts.csv", 2, "expert", r"unknown expert 'E9'"),
    ("conflict-unknown-project", add_rows("conflicts", {"expert": "E1", "project": "P9"}),
     "conflicts.csv", 2, "project", r"unknown project 'P9'"),
    ("member-unknown-project", add_rows("members", {"project": "P9", "person": "M002"}),
     "members.csv", 4, "project", r"unknown project 'P9'"),
    ("score-unknown-expert", add_rows("scores", {"expert": "X7", "project": "P2", "score": "3"}),
     "scores.csv", 2, "expert", r"unknown expert 'X7'"),
    ("expert-unknown-organization", cell("experts", 0, "organization", "U9"),
     "experts.csv", 2, "organization", r"unknown organization 'U9'.*organizations\.csv"),
    ("partner-unknown-organization", cell("projects", 1, "partners", "U2;Z5"),
     "projects.csv", 3, "partners", r"unknown organization 'Z5'"),
    ("unknown-parent-organization", cell("organizations", 3, "parent", "G9"),
     "organizations.csv", 5, "parent", r"unknown parent organization 'G9'"),
    ("unknown-rule-key", rule("panel_sise = 3"),
     "rules.toml", None, "panel_sise", r"unknown rule 'panel_sise'"),
    ("enterprise_min_share-2", rule("enterprise_min_share = 2"),
     "rules.toml", None, "enterprise_min_share", r"between 0 and 1"),
    ("max_per_org-0", rule("max_per_org = 0"),
     "rules.toml", None, "max_per_org", r"at least 1"),
    ("rule-not-a-number", rule('max_load = "six"'),
     "rules.toml", None, "max_load", r"not a valid value"),
    ("malformed-rules-toml", rules_text("panel_size = = 3\n[broken\n"),
     "rules.toml", None, None, r"not a valid TOML file"),
    ("too-many-cells",
     raw("experts", "id,organization,fields,max_load\nE1,U2,520.20,3\nE2,U3,520.20,3,oops\n"),
     "experts.csv", 3, None, r"has 5 cells but the header has 4"),
    ("empty-file", raw("projects", ""),
     "projects.csv", None, None, r"empty"),
    ("empty-expert-id", cell("experts", 4, "id", ""),
     "experts.csv", 6, "id", r"empty id"),
]
# fmt: on


@pytest.mark.parametrize(
    ("mutation", "file", "row", "column", "pattern"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD],
)
def test_bad_input_names_file_row_column(
    tmp_path: Path,
    mutation: Mutation,
    file: str,
    row: int | None,
    column: str | None,
    pattern: str,
) -> None:
    """Each class of bad input raises an InputError naming file, row, column and problem."""
    folder = build(tmp_path / "batch", mutation)
    with pytest.raises(InputError) as info:
        em.load(folder)
    err = info.value
    assert err.issues, "an InputError must carry its issues"
    assert all(isinstance(i, InputIssue) for i in err.issues)
    issue = find_issue(err, file, pattern, row=row, column=column)
    # the error's text (what the CLI prints) carries the same location
    where = (
        file
        + (f", row {row}" if row is not None else "")
        + (f", column {column}" if column is not None else "")
    )
    assert where in str(issue)
    assert str(issue) in str(err)


def test_issue_text_format() -> None:
    """An issue prints as 'file, row r, column c: message'; InputError is a ValueError."""
    issue = InputIssue("experts.csv", "'abc' is not a whole number", 7, "max_load")
    assert str(issue) == "experts.csv, row 7, column max_load: 'abc' is not a whole number"
    assert str(InputIssue("rules.toml", "bad")) == "rules.toml: bad"
    err = InputError([issue, InputIssue("projects.csv", "x", 2)])
    assert str(err).startswith("2 problem(s) in the input:")
    assert isinstance(err, ValueError) and isinstance(err, em.ExpertMatchError)


def test_several_problems_are_reported_at_once(tmp_path: Path) -> None:
    """Problems in several files and rows are all reported in one InputError."""
    folder = build(
        tmp_path / "b",
        cell("experts", 0, "max_load", "abc"),  # experts.csv row 2
        cell("experts", 2, "id", "E1"),  # experts.csv row 4 (duplicate)
        cell("projects", 1, "fields", "520..10"),  # projects.csv row 3
        cell("organizations", 1, "type", "corp"),  # organizations.csv row 3
        add_rows("conflicts", {"expert": "E9", "project": "P1"}),  # conflicts.csv row 2
        add_rows("members", {"project": "P7", "person": "M9"}),  # members.csv row 4
    )
    err = load_error(folder)
    found = {(i.file, i.row, i.column) for i in err.issues}
    assert found == {
        ("experts.csv", 2, "max_load"),
        ("experts.csv", 4, "id"),
        ("projects.csv", 3, "fields"),
        ("organizations.csv", 3, "type"),
        ("conflicts.csv", 2, "expert"),
        ("members.csv", 4, "project"),
    }
    assert len(err.issues) == 6
    assert str(err).startswith("6 problem(s)")


def test_missing_required_files_both_reported(tmp_path: Path) -> None:
    """Both missing required files are reported together."""
    folder = build(tmp_path / "b", drop_table("experts"), drop_table("projects"))
    err = load_error(folder)
    assert {i.file for i in err.issues} == {"experts.csv", "projects.csv"}


def test_several_rows_too_wide_all_reported(tmp_path: Path) -> None:
    """Every row with too many cells is reported, not just the first."""
    text = "id,organization,fields\nE1,U2,520.20\nE2,U3,520.20,x\nE3,U3,520.20\nE4,U3,520,x,y\n"
    err = load_error(build(tmp_path / "b", raw("experts", text)))
    assert [(i.file, i.row) for i in err.issues] == [("experts.csv", 3), ("experts.csv", 5)]


def test_rules_and_table_problems_reported_together(tmp_path: Path) -> None:
    """Problems in rules.toml and in a table are reported together."""
    folder = build(tmp_path / "b", rule("panel_size = 0"), cell("experts", 0, "max_load", "abc"))
    err = load_error(folder)
    find_issue(err, "rules.toml", r"at least 1", column="panel_size")
    find_issue(err, "experts.csv", r"not a whole number", row=2, column="max_load")


def test_all_rule_problems_reported_together() -> None:
    """Every problem of a rules mapping is reported together."""
    with pytest.raises(InputError) as info:
        Rules.from_mapping({"panel_sise": 3, "panel_size": 0, "max_load": "six"})
    err = info.value
    find_issue(err, "rules.toml", r"unknown rule", column="panel_sise")
    find_issue(err, "rules.toml", r"not a valid value", column="max_load")
    find_issue(err, "rules.toml", r"at least 1", column="panel_size")


def test_taxonomy_cycle_reports_only_the_cycle(tmp_path: Path) -> None:
    """A cycle in the taxonomy is reported alone, without follow-on errors."""
    err = load_error(build(tmp_path / "b", add_rows("taxonomy", *TAXONOMY_CYCLE)))
    assert [i.file for i in err.issues] == ["taxonomy.csv"]


def test_field_not_in_taxonomy(tmp_path: Path) -> None:
    """A field code missing from the taxonomy is named with its row."""
    taxonomy = [
        {"code": "520", "parent": ""},
        {"code": "520.20", "parent": "520"},
        {"code": "520.20.10", "parent": "520.20"},
        {"code": "520.20.20", "parent": "520.20"},
    ]  # 520.20.30 (expert E4, row 5) is missing
    err = load_error(build(tmp_path / "b", add_rows("taxonomy", *taxonomy)))
    find_issue(err, "experts.csv", r"'520\.20\.30' is not in taxonomy", row=5, column="fields")
    assert len(err.issues) == 1


def test_huge_number_is_an_input_error(tmp_path: Path) -> None:
    """A number too large for an integer is an input error on its cell."""
    folder = build(tmp_path / "b", cell("experts", 0, "max_load", "99999999999999999999"))
    err = load_error(folder)
    find_issue(err, "experts.csv", r"max_load|too large|whole number", row=2, column="max_load")


def test_duplicate_header_column_is_reported_as_such(tmp_path: Path) -> None:
    """A column named twice in the header is reported as a header problem."""
    text = "id,id,organization,fields\nE1,E1,U2,520.20.10\n"
    err = load_error(build(tmp_path / "b", raw("experts", text)))
    issue = find_issue(err, "experts.csv", r"(?i)column|header")
    assert issue.row in (None, 1)


def test_python_rules_override_errors_name_rules() -> None:
    """Bad rules given from Python are input errors that name the rule."""
    with pytest.raises(InputError) as info:
        Rules.from_mapping({"enterprise_min_share": 2, "max_per_org": 0, "colour": "red"})
    err = info.value
    find_issue(err, "rules.toml", r"unknown rule 'colour'", column="colour")
    for bad in ({"max_per_org": 0}, {"enterprise_min_share": "3/2"}, {"panel_size": 0}):
        with pytest.raises(InputError):
            Rules.from_mapping(bad)
    with pytest.raises(InputError) as info:
        Rules(panel_size=0)
    find_issue(info.value, "rules", r"at least 1", column="panel_size")


def test_missing_folder_and_wrong_kind_of_path(tmp_path: Path) -> None:
    """A missing path, or a file that is neither folder nor .xlsx, is named."""
    err = load_error(tmp_path / "nope")
    assert "nope" in err.issues[0].file
    other = tmp_path / "batch.txt"
    other.write_text("hello")
    err = load_error(other)
    assert re.search(r"folder .* or an \.xlsx", err.issues[0].message)


def test_rules_file_override_missing(tmp_path: Path) -> None:
    """A rules file passed as argument that does not exist is an input error."""
    folder = build(tmp_path / "b")
    with pytest.raises(InputError, match="file not found"):
        em.load(folder, rules=tmp_path / "absent.toml")


@pytest.mark.parametrize("table", ["experts", "projects"])
def test_a_table_without_rows_is_an_input_error(table: str) -> None:
    """A table with a header but no rows is an input error."""
    tables = {"experts": EXPERTS, "projects": PROJECTS, "organizations": ORGS, table: []}
    with pytest.raises(em.InputError, match=f"no {table}: the table has a header but no rows"):
        em.from_tables(**tables)


# -- 2. lenient reading of values ------------------------------------------------------------------


def test_org_type_falls_back_to_organization(tmp_path: Path) -> None:
    """An expert without org_type takes the organization's type; case is ignored."""
    problem = em.load(build(tmp_path / "b", cell("experts", 4, "org_type", "Enterprise")))
    # E1..E3 give no org_type: U1, U2 are universities, C1 an enterprise
    assert problem.expert_type == (
        "university",
        "university",
        "enterprise",
        "enterprise",
        "enterprise",
    )
    assert problem.expert_enterprise.tolist() == [False, False, True, True, True]


def test_org_type_empty_without_organizations_file(tmp_path: Path) -> None:
    """Without organizations.csv only the experts' own org_type counts."""
    folder = build(tmp_path / "b", drop_table("organizations"))
    problem = em.load(folder)
    assert problem.expert_type == ("", "", "", "enterprise", "")
    assert set(problem.org_ids) == {"U1", "U2", "U3", "C1", "C2"}


def test_fullwidth_list_separator(tmp_path: Path) -> None:
    """The full-width semicolon separates list cells like ';'."""
    folder = build(
        tmp_path / "b",
        cell("experts", 1, "fields", "520.20.10；520.20.20"),
        cell("projects", 0, "partners", "U2；C2"),
        cell("experts", 0, "keywords", "深度学习；机器视觉"),
    )
    problem = em.load(folder)
    assert problem.expert_fields[1] == ("520.20.10", "520.20.20")
    partners = {problem.org_ids[o] for o in problem.project_partners[0]}
    assert partners == {"U2", "C2"}
    assert problem.expert_keywords[0] == ("深度学习", "机器视觉")
    assert "same_org" in " ".join(em.why_ineligible(problem, "E4", "P1"))


@settings(max_examples=20, deadline=None)
@given(
    codes=st.lists(
        st.tuples(st.integers(100, 999), st.integers(10, 99), st.integers(10, 99)).map(
            lambda t: f"{t[0]}.{t[1]}.{t[2]}"
        ),
        min_size=1,
        max_size=4,
        unique=True,
    ),
    seps=st.lists(st.sampled_from([";", "；", " ; ", "；  ", ";;"]), min_size=3, max_size=3),
)
def test_list_cells_any_separator(codes: list[str], seps: list[str]) -> None:
    """List cells split the same with any mix of separators and spaces."""
    cell_text = codes[0] + "".join(seps[i % 3] + c for i, c in enumerate(codes[1:]))
    experts = [{"id": "E1", "organization": "A", "fields": cell_text}]
    projects = [{"id": "P1", "organization": "B", "fields": codes[-1]}]
    problem = em.from_tables(experts, projects)
    assert problem.expert_fields[0] == tuple(codes)


def test_empty_optional_cells_mean_not_given(tmp_path: Path) -> None:
    """Empty optional cells mean 'not given' (max_load) or zero (used)."""
    problem = em.load(build(tmp_path / "b"))
    assert problem.expert_max_load_given.tolist() == [-1, -1, 2, -1, -1]
    assert problem.expert_used.tolist() == [0, 1, 0, 0, 0]


def test_unknown_columns_are_kept_as_attributes() -> None:
    """Extra columns are kept per row as attributes."""
    experts = [dict(e, 工号=f"G{i}") for i, e in enumerate(EXPERTS)]
    problem = make(experts=experts)
    assert problem.attributes["experts"][0] == {"工号": "G0"}
    assert problem.attributes["projects"][0] == {}

"""Reading and validating a batch: folders (UTF-8 / BOM / GB18030), workbooks, Python tables
and rules, against DATA_CONTRACT.md. Every bad input must stop with an ``InputError`` whose
issues name the file, the row (header = row 1; Python records count from 1), the column and
the problem."""

from __future__ import annotations

import datetime
import math
import re
import tomllib
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch import InputError, InputIssue, Rules

from .helpers import TINY_RULES, find_issue, load_error, tiny_tables, write_tables

DEMO = em.demo_path()

# -- building broken batches ---------------------------------------------------------------

Batch = dict[str, Any]  # table name -> rows (or raw CSV text, or None = no file); "rules" -> str
Mutation = Callable[[Batch], None]


def cell(table: str, index: int, column: str, value: str) -> Mutation:
    def mutate(b: Batch) -> None:
        b[table][index][column] = value

    return mutate


def add_rows(table: str, *rows: dict[str, str]) -> Mutation:
    def mutate(b: Batch) -> None:
        b.setdefault(table, [])
        b[table] = [*(b[table] or []), *rows]

    return mutate


def drop_table(table: str) -> Mutation:
    def mutate(b: Batch) -> None:
        b[table] = None

    return mutate


def drop_column(table: str, column: str) -> Mutation:
    def mutate(b: Batch) -> None:
        for row in b[table]:
            del row[column]

    return mutate


def raw(table: str, text: str) -> Mutation:
    def mutate(b: Batch) -> None:
        b[table] = text

    return mutate


def rule(line: str) -> Mutation:
    """Set one rules.toml line (``key = value``), replacing the tiny batch's own line."""
    key = line.split("=")[0].strip()

    def mutate(b: Batch) -> None:
        kept = [x for x in b["rules"].splitlines() if x.split("=")[0].strip() != key]
        b["rules"] = "\n".join([*kept, line]) + "\n"

    return mutate


def rules_text(text: str) -> Mutation:
    def mutate(b: Batch) -> None:
        b["rules"] = text

    return mutate


def build(folder: Path, *mutations: Mutation) -> Path:
    batch: Batch = {**tiny_tables(), "rules": TINY_RULES}
    for mutate in mutations:
        mutate(batch)
    rules = batch.pop("rules")
    tables = {k: v for k, v in batch.items() if v is not None}
    return write_tables(folder, tables, rules=rules)


def test_tiny_batch_is_valid(tmp_path: Path) -> None:
    """The base of every broken batch below loads cleanly (so each case breaks one thing)."""
    problem = em.load(build(tmp_path / "b"))
    assert problem.expert_ids == ("E1", "E2", "E3", "E4", "E5")
    assert problem.project_ids == ("P1", "P2")
    assert len(em.eligible_pairs(problem)) > 0


# -- 1. each class of bad input -------------------------------------------------------------

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
    issue = InputIssue("experts.csv", "'abc' is not a whole number", 7, "max_load")
    assert str(issue) == "experts.csv, row 7, column max_load: 'abc' is not a whole number"
    assert str(InputIssue("rules.toml", "bad")) == "rules.toml: bad"
    err = InputError([issue, InputIssue("projects.csv", "x", 2)])
    assert str(err).startswith("2 problem(s) in the input:")
    assert isinstance(err, ValueError) and isinstance(err, em.ExpertMatchError)


def test_several_problems_are_reported_at_once(tmp_path: Path) -> None:
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
    folder = build(tmp_path / "b", drop_table("experts"), drop_table("projects"))
    err = load_error(folder)
    assert {i.file for i in err.issues} == {"experts.csv", "projects.csv"}


def test_several_rows_too_wide_all_reported(tmp_path: Path) -> None:
    text = "id,organization,fields\nE1,U2,520.20\nE2,U3,520.20,x\nE3,U3,520.20\nE4,U3,520,x,y\n"
    err = load_error(build(tmp_path / "b", raw("experts", text)))
    assert [(i.file, i.row) for i in err.issues] == [("experts.csv", 3), ("experts.csv", 5)]


def test_rules_and_table_problems_reported_together(tmp_path: Path) -> None:
    folder = build(tmp_path / "b", rule("panel_size = 0"), cell("experts", 0, "max_load", "abc"))
    err = load_error(folder)
    find_issue(err, "rules.toml", r"at least 1", column="panel_size")
    find_issue(err, "experts.csv", r"not a whole number", row=2, column="max_load")


def test_all_rule_problems_reported_together() -> None:
    with pytest.raises(InputError) as info:
        Rules.from_mapping({"panel_sise": 3, "panel_size": 0, "max_load": "six"})
    err = info.value
    find_issue(err, "rules.toml", r"unknown rule", column="panel_sise")
    find_issue(err, "rules.toml", r"not a valid value", column="max_load")
    find_issue(err, "rules.toml", r"at least 1", column="panel_size")


def test_taxonomy_cycle_reports_only_the_cycle(tmp_path: Path) -> None:
    err = load_error(build(tmp_path / "b", add_rows("taxonomy", *TAXONOMY_CYCLE)))
    assert [i.file for i in err.issues] == ["taxonomy.csv"]


def test_field_not_in_taxonomy(tmp_path: Path) -> None:
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
    folder = build(tmp_path / "b", cell("experts", 0, "max_load", "99999999999999999999"))
    err = load_error(folder)
    find_issue(err, "experts.csv", r"max_load|too large|whole number", row=2, column="max_load")


def test_duplicate_header_column_is_reported_as_such(tmp_path: Path) -> None:
    text = "id,id,organization,fields\nE1,E1,U2,520.20.10\n"
    err = load_error(build(tmp_path / "b", raw("experts", text)))
    issue = find_issue(err, "experts.csv", r"(?i)column|header")
    assert issue.row in (None, 1)


def test_python_rules_override_errors_name_rules() -> None:
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
    err = load_error(tmp_path / "nope")
    assert "nope" in err.issues[0].file
    other = tmp_path / "batch.txt"
    other.write_text("hello")
    err = load_error(other)
    assert re.search(r"folder .* or an \.xlsx", err.issues[0].message)


def test_rules_file_override_missing(tmp_path: Path) -> None:
    folder = build(tmp_path / "b")
    with pytest.raises(InputError, match="file not found"):
        em.load(folder, rules=tmp_path / "absent.toml")


# -- 2. encodings ---------------------------------------------------------------------------


def _same_problem(a: em.Problem, b: em.Problem) -> None:
    assert a.expert_ids == b.expert_ids
    assert a.expert_names == b.expert_names
    assert a.org_ids == b.org_ids
    assert a.org_names == b.org_names
    assert a.project_ids == b.project_ids
    assert a.project_titles == b.project_titles
    assert a.project_fields == b.project_fields
    assert a.expert_keywords == b.expert_keywords
    np.testing.assert_array_equal(em.eligible_pairs(a).project, em.eligible_pairs(b).project)
    np.testing.assert_array_equal(em.eligible_pairs(a).expert, em.eligible_pairs(b).expert)
    np.testing.assert_array_equal(em.eligible_pairs(a).score, em.eligible_pairs(b).score)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_encodings_load_identically(tmp_path: Path, encoding: str) -> None:
    base = em.load(write_tables(tmp_path / "utf8", tiny_tables()))
    other_folder = write_tables(tmp_path / encoding, tiny_tables(), encoding=encoding)
    raw_bytes = (other_folder / "experts.csv").read_bytes()
    if encoding == "utf-8-sig":
        assert raw_bytes.startswith(b"\xef\xbb\xbf")
    else:  # really GB18030, not UTF-8 in disguise
        with pytest.raises(UnicodeDecodeError):
            raw_bytes.decode("utf-8")
    other = em.load(other_folder)
    _same_problem(base, other)
    assert other.expert_names[0] == "江卫东"
    assert other.org_names[other.org_ids.index("C1")] == "杭州芯源微电子有限公司"
    assert other.expert_keywords[0] == ("深度学习",)


def test_mixed_encodings_in_one_folder(tmp_path: Path) -> None:
    tables = tiny_tables()
    folder = write_tables(tmp_path / "b", {"experts": tables.pop("experts")}, encoding="gb18030")
    write_tables(folder, tables, encoding="utf-8-sig")
    _same_problem(em.load(write_tables(tmp_path / "ref", tiny_tables())), em.load(folder))


def test_undecodable_file_names_the_file(tmp_path: Path) -> None:
    data = b"id,organization,fields\nE1,\x80\xff\x80,520.20\n"
    for encoding in ("utf-8", "utf-8-sig", "gb18030"):
        with pytest.raises(UnicodeDecodeError):
            data.decode(encoding)
    folder = build(tmp_path / "b")
    (folder / "experts.csv").write_bytes(data)
    err = load_error(folder)
    issue = find_issue(err, "experts.csv", r"not UTF-8 or GB18030")
    assert issue.row is None


# -- 3. workbook ----------------------------------------------------------------------------

WHOLE_COLUMNS = {"max_load", "used", "panel_size", "year"}


def _demo_frames() -> dict[str, pd.DataFrame]:
    frames = {}
    for path in sorted(DEMO.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in WHOLE_COLUMNS & set(frame.columns):
            # numbers as a spreadsheet holds them: numeric cells, empty cells as blanks
            frame[column] = [float(v) if v else None for v in frame[column]]
        frames[path.stem] = frame
    return frames


def _demo_rules_sheet() -> pd.DataFrame:
    rules = tomllib.loads((DEMO / "rules.toml").read_text(encoding="utf-8"))
    return pd.DataFrame({"key": list(rules), "value": [str(v) for v in rules.values()]})


def _write_workbook(path: Path, frames: dict[str, pd.DataFrame], rules: pd.DataFrame | None):
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name, index=False)
        if rules is not None:
            rules.to_excel(writer, sheet_name="rules", index=False)
    return path


@pytest.fixture(scope="module")
def demo_problem() -> em.Problem:
    return em.load(DEMO)


def test_workbook_equals_folder(tmp_path: Path, demo_problem: em.Problem) -> None:
    frames = _demo_frames()
    # integer cells stored as text "6.0" (some exports do this) are whole numbers too
    experts = frames["experts"]
    experts["max_load"] = [
        f"{v:.1f}" if v == v and v is not None else None for v in experts["max_load"]
    ]
    book = _write_workbook(tmp_path / "batch.xlsx", frames, _demo_rules_sheet())
    problem = em.load(book)
    _same_problem(demo_problem, problem)
    assert problem.rules == demo_problem.rules
    np.testing.assert_array_equal(problem.expert_max_load, demo_problem.expert_max_load)
    np.testing.assert_array_equal(problem.expert_used, demo_problem.expert_used)
    np.testing.assert_array_equal(problem.project_panel_size, demo_problem.project_panel_size)
    assert problem.expert_type == demo_problem.expert_type
    assert dict(problem.declared) == dict(demo_problem.declared)
    assert problem.relations == demo_problem.relations
    assert problem.input_sha256 and problem.input_sha256 != demo_problem.input_sha256


def test_workbook_float_cells_accepted(tmp_path: Path) -> None:
    """Numbers arriving as floats (6.0) in a workbook are whole numbers."""
    tables = tiny_tables()
    frames = {name: pd.DataFrame(rows) for name, rows in tables.items()}
    frames["experts"]["max_load"] = [2.0, 1.0, 2.0, None, None]
    frames["projects"]["panel_size"] = [3.0, None]
    book = _write_workbook(tmp_path / "b.xlsx", frames, None)
    problem = em.load(book)
    assert problem.expert_max_load.tolist() == [2, 1, 2, 6, 6]  # no rules sheet: defaults
    assert problem.project_panel_size.tolist() == [3, 5]
    assert problem.rules == Rules(reference_year=problem.rules.reference_year)


def test_workbook_rules_sheet_with_share_text(tmp_path: Path) -> None:
    frames = {name: pd.DataFrame(rows) for name, rows in tiny_tables().items()}
    rules = pd.DataFrame(
        {"key": ["panel_size", "enterprise_min_share", "min_score"], "value": [3, "1/5", 0.5]}
    )
    problem = em.load(_write_workbook(tmp_path / "b.xlsx", frames, rules))
    assert problem.rules.panel_size == 3
    assert problem.rules.enterprise_min_share == Fraction(1, 5)
    assert problem.rules.min_score == 0.5


def test_workbook_errors_name_sheet_row_column(tmp_path: Path) -> None:
    tables = tiny_tables()
    tables["experts"][1]["max_load"] = "abc"
    frames = {name: pd.DataFrame(rows) for name, rows in tables.items()}
    err = load_error(_write_workbook(tmp_path / "b.xlsx", frames, None))
    find_issue(err, "b.xlsx[experts]", r"'abc' is not a whole number", row=3, column="max_load")


def test_workbook_missing_experts_sheet(tmp_path: Path) -> None:
    frames = {name: pd.DataFrame(rows) for name, rows in tiny_tables().items()}
    del frames["experts"]
    err = load_error(_write_workbook(tmp_path / "b.xlsx", frames, None))
    find_issue(err, "b.xlsx", r"required sheet 'experts' missing")


def test_workbook_bad_rules_sheet(tmp_path: Path) -> None:
    frames = {name: pd.DataFrame(rows) for name, rows in tiny_tables().items()}
    rules = pd.DataFrame({"key": ["max_per_org"], "value": [0]})
    err = load_error(_write_workbook(tmp_path / "b.xlsx", frames, rules))
    find_issue(err, "b.xlsx[rules]", r"at least 1", column="max_per_org")
    rules = pd.DataFrame({"name": ["max_per_org"], "setting": [2]})
    err = load_error(_write_workbook(tmp_path / "c.xlsx", frames, rules))
    find_issue(err, "c.xlsx[rules]", r"key and value")


def test_damaged_workbook(tmp_path: Path) -> None:
    book = tmp_path / "broken.xlsx"
    book.write_bytes(b"PK\x03\x04 this is not a zip")
    err = load_error(book)
    find_issue(err, "broken.xlsx", r"not a readable \.xlsx")


# -- 4. Python inputs -----------------------------------------------------------------------


def test_from_tables_equals_folder(demo_problem: em.Problem) -> None:
    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(DEMO / f"{name}.csv", dtype=str, keep_default_na=False)

    experts = read("experts")
    experts["max_load"] = pd.to_numeric(experts["max_load"])  # float64 with NaN: 4.0, nan
    rules = tomllib.loads((DEMO / "rules.toml").read_text(encoding="utf-8"))
    problem = em.from_tables(
        experts=experts,
        projects=read("projects").to_dict("records"),
        organizations=read("organizations"),
        members=read("members").to_dict("records"),
        relations=read("relations"),
        conflicts=read("conflicts"),
        rules=rules,
    )
    _same_problem(demo_problem, problem)
    assert problem.source == "python"
    np.testing.assert_array_equal(problem.expert_max_load, demo_problem.expert_max_load)


def test_from_tables_accepts_python_values() -> None:
    tables = tiny_tables()
    for row in tables["experts"]:
        row["max_load"] = 2 if row["id"] != "E1" else None
        row["fields"] = row["fields"].split(";")  # a list is a list cell
    problem = em.from_tables(
        tables["experts"],
        tables["projects"],
        organizations=tables["organizations"],
        members=tables["members"],
    )
    assert problem.expert_fields[1] == ("520.20.10", "520.20.20")
    assert problem.expert_max_load.tolist() == [6, 2, 2, 2, 2]


def test_from_tables_rows_numbered_from_one() -> None:
    tables = tiny_tables()
    tables["projects"][0]["panel_size"] = "five"
    tables["experts"][3]["used"] = "-2"
    with pytest.raises(InputError) as info:
        em.from_tables(
            experts=pd.DataFrame(tables["experts"]),
            projects=tables["projects"],
            organizations=tables["organizations"],
        )
    err = info.value
    find_issue(err, "projects", r"'five' is not a whole number", row=1, column="panel_size")
    find_issue(err, "experts", r"negative used", row=4, column="used")


def test_from_tables_unknown_table_and_missing_columns() -> None:
    tables = tiny_tables()
    with pytest.raises(InputError, match="must be a DataFrame or a list of dicts"):
        em.from_tables(experts=42, projects=tables["projects"])
    with pytest.raises(InputError) as info:
        em.from_tables(experts=[{"id": "E1", "organization": "U1"}], projects=tables["projects"])
    find_issue(info.value, "experts", r"required column 'fields' missing", column="fields")


def test_from_tables_nullable_dtypes() -> None:
    tables = tiny_tables()
    experts = pd.DataFrame(tables["experts"])
    experts["max_load"] = pd.array([None, 2, 2, None, 1], dtype="Int64")
    problem = em.from_tables(
        experts.convert_dtypes(), tables["projects"], organizations=tables["organizations"]
    )
    assert problem.expert_max_load.tolist() == [6, 2, 2, 6, 1]  # empty: default rule


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 12), bad=st.data())
def test_python_error_row_is_record_number(n: int, bad: st.DataObject) -> None:
    index = bad.draw(st.integers(0, n - 1))
    experts = [
        {
            "id": f"E{k}",
            "organization": f"O{k}",
            "fields": "520.20.10",
            "max_load": "oops" if k == index else "3",
        }
        for k in range(n)
    ]
    projects = [{"id": "P1", "organization": "Z", "fields": "520.20.10"}]
    with pytest.raises(InputError) as info:
        em.from_tables(experts, projects)
    assert [(i.file, i.row, i.column) for i in info.value.issues] == [
        ("experts", index + 1, "max_load")
    ]


# -- 5. rules -------------------------------------------------------------------------------


def test_rules_defaults_match_contract() -> None:
    rules = Rules()
    assert rules.panel_size == 5
    assert rules.max_load == 6
    assert rules.yearly_cap == 10
    assert rules.enterprise_min_share == Fraction(1, 3)
    assert rules.max_per_org == 1
    assert rules.coverage_level == 2
    assert rules.min_score == 0
    assert rules.reference_year == datetime.date.today().year
    assert rules.collaboration_window == 3
    assert rules.enterprise_target_share is None
    assert rules.max_probability == 1
    assert Rules.from_mapping({}) == rules


def test_folder_without_rules_uses_defaults(tmp_path: Path) -> None:
    problem = em.load(write_tables(tmp_path / "b", tiny_tables(), rules=None))
    assert problem.rules == Rules()
    assert problem.project_panel_size.tolist() == [5, 5]


@pytest.mark.parametrize("share", ["1/5", 0.2, "0.2"])
def test_share_is_exact(share: Any) -> None:
    rules = Rules.from_mapping({"enterprise_min_share": share})
    assert rules.enterprise_min_share == Fraction(1, 5)
    assert rules.enterprise_required(5) == 1
    assert rules.enterprise_required(10) == 2
    assert rules.enterprise_required(15) == 3  # 0.2 * 15 == 3.0000000000000004 in floats
    assert rules.enterprise_required(6) == 2
    assert rules.as_dict()["enterprise_min_share"] == "1/5"


@given(k=st.integers(0, 100), n=st.integers(1, 60))
def test_share_from_decimal_is_exact(k: int, n: int) -> None:
    share = k / 100
    rules = Rules.from_mapping({"enterprise_min_share": share})
    assert rules.enterprise_required(n) == math.ceil(Fraction(k, 100) * n)


def test_rules_toml_share_float_exact(tmp_path: Path) -> None:
    folder = build(tmp_path / "b", rule("enterprise_min_share = 0.2"), rule("panel_size = 15"))
    problem = em.load(folder)
    assert problem.enterprise_required.tolist() == [3, 3]


def test_rules_argument_overrides_folder_rules(tmp_path: Path) -> None:
    folder = build(tmp_path / "b")
    assert em.load(folder).rules.panel_size == 2
    other = tmp_path / "other.toml"
    other.write_text('panel_size = 3\nenterprise_min_share = "1/2"\n', encoding="utf-8")
    for rules in (other, str(other)):
        problem = em.load(folder, rules=rules)
        assert problem.rules == Rules.from_file(other)
        assert problem.project_panel_size.tolist() == [3, 3]
        assert problem.enterprise_required.tolist() == [2, 2]
    assert em.load(folder, rules={"panel_size": 4}).rules.panel_size == 4
    assert em.load(folder, rules=Rules(panel_size=1)).rules.panel_size == 1


def test_row_values_override_rules(tmp_path: Path) -> None:
    folder = build(
        tmp_path / "b",
        cell("projects", 1, "panel_size", "3"),
        cell("experts", 1, "max_load", "1"),
        cell("experts", 4, "max_load", "0"),
        rule("max_load = 4"),
    )
    problem = em.load(folder)
    assert problem.project_panel_size.tolist() == [2, 3]
    assert problem.expert_max_load.tolist() == [4, 1, 2, 4, 0]  # E3's row says 2
    assert problem.enterprise_required.tolist() == [1, 1]
    # yearly_cap - used caps the capacity too (E2 used 1 of 10 but max_load 1)
    assert problem.expert_capacity.tolist() == [4, 1, 2, 4, 0]
    assert problem.with_rules({"yearly_cap": 2}).expert_capacity.tolist() == [2, 1, 2, 2, 0]


# -- 6. lenient reading ---------------------------------------------------------------------


def test_unknown_columns_are_ignored(tmp_path: Path) -> None:
    base = em.load(build(tmp_path / "a"))
    tables = tiny_tables()
    for row in tables["experts"]:
        row["备注"] = "随便"
        row["Phone"] = "123"
    for row in tables["projects"]:
        row["budget_wan"] = "300"
    problem = em.load(write_tables(tmp_path / "b", tables, rules=TINY_RULES))
    _same_problem(base, problem)


def test_header_case_and_spaces_are_tolerated(tmp_path: Path) -> None:
    base = em.load(build(tmp_path / "a"))
    text = (tmp_path / "a" / "experts.csv").read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    header = ",".join(f" {c.upper()} " for c in header.split(","))
    folder = build(tmp_path / "b", raw("experts", header + "\n" + rest))
    _same_problem(base, em.load(folder))


def test_org_type_falls_back_to_organization(tmp_path: Path) -> None:
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
    folder = build(tmp_path / "b", drop_table("organizations"))
    problem = em.load(folder)
    assert problem.expert_type == ("", "", "", "enterprise", "")
    assert set(problem.org_ids) == {"U1", "U2", "U3", "C1", "C2"}


def test_fullwidth_list_separator(tmp_path: Path) -> None:
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
    cell_text = codes[0] + "".join(seps[i % 3] + c for i, c in enumerate(codes[1:]))
    experts = [{"id": "E1", "organization": "A", "fields": cell_text}]
    projects = [{"id": "P1", "organization": "B", "fields": codes[-1]}]
    problem = em.from_tables(experts, projects)
    assert problem.expert_fields[0] == tuple(codes)


def test_empty_optional_cells_mean_not_given(tmp_path: Path) -> None:
    problem = em.load(build(tmp_path / "b"))
    assert problem.expert_max_load_given.tolist() == [-1, -1, 2, -1, -1]
    assert problem.expert_used.tolist() == [0, 1, 0, 0, 0]


# -- 7. why_ineligible ----------------------------------------------------------------------


def test_why_ineligible(tmp_path: Path) -> None:
    folder = build(
        tmp_path / "b",
        add_rows("conflicts", {"expert": "E5", "project": "P2", "reason": "近期合作"}),
        add_rows("relations", {"a": "E4", "b": "M001", "kind": "advisor", "year": "1999"}),
        cell("organizations", 1, "parent", "U1"),  # U2 belongs to U1's group
    )
    problem = em.load(folder)
    same = em.why_ineligible(problem, "E1", "P1")
    assert len(same) == 1 and same[0].startswith("same_org") and "U1" in same[0]
    team = " ".join(em.why_ineligible(problem, "E2", "P1"))
    assert "team" in team and "org_group" in team
    declared = em.why_ineligible(problem, "E5", "P2")
    assert declared == ["declared: listed in conflicts.csv (近期合作)"]
    collaborator = " ".join(em.why_ineligible(problem, "E4", "P1"))
    assert "collaborator" in collaborator and "M001" in collaborator
    assert em.why_ineligible(problem, "E3", "P1") == []
    assert em.why_ineligible(problem, "E4", "P2") == []
    # the eligible pairs are exactly the pairs without reasons
    eligible = set(
        zip(
            em.eligible_pairs(problem).project.tolist(),
            em.eligible_pairs(problem).expert.tolist(),
            strict=True,
        )
    )
    for p, pid in enumerate(problem.project_ids):
        for e, eid in enumerate(problem.expert_ids):
            assert ((p, e) in eligible) == (em.why_ineligible(problem, eid, pid) == [])


def test_why_ineligible_low_score(tmp_path: Path) -> None:
    folder = build(tmp_path / "b", cell("experts", 3, "fields", "310.10.10"))
    problem = em.load(folder)
    reasons = em.why_ineligible(problem, "E4", "P1")
    assert len(reasons) == 1 and reasons[0].startswith("score")


def test_unknown_columns_are_kept_as_attributes() -> None:
    from .conftest import EXPERTS, make

    experts = [dict(e, 工号=f"G{i}") for i, e in enumerate(EXPERTS)]
    problem = make(experts=experts)
    assert problem.attributes["experts"][0] == {"工号": "G0"}
    assert problem.attributes["projects"][0] == {}


@pytest.mark.parametrize("table", ["experts", "projects"])
def test_a_table_without_rows_is_an_input_error(table: str) -> None:
    from .conftest import EXPERTS, ORGS, PROJECTS

    tables = {"experts": EXPERTS, "projects": PROJECTS, "organizations": ORGS, table: []}
    with pytest.raises(em.InputError, match=f"no {table}: the table has a header but no rows"):
        em.from_tables(**tables)

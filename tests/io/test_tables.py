"""Reading a batch: folders of CSV files (UTF-8 / BOM / GB18030, mixed in one folder), .xlsx
workbooks and Python tables (DataFrames or records) load to the same problem; headers are
read leniently; damaged or undecodable files are named."""

from __future__ import annotations

import tomllib
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch import InputError, Rules
from tests.batches import (
    TWO_PROJECT_RULES,
    build,
    find_issue,
    load_error,
    raw,
    same_problem,
    two_project_tables,
    write_tables,
)

DEMO = em.demo_path()


# -- encodings -------------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_encodings_load_identically(tmp_path: Path, encoding: str) -> None:
    """UTF-8 with BOM and GB18030 files load to the same problem as UTF-8."""
    base = em.load(write_tables(tmp_path / "utf8", two_project_tables()))
    other_folder = write_tables(tmp_path / encoding, two_project_tables(), encoding=encoding)
    raw_bytes = (other_folder / "experts.csv").read_bytes()
    if encoding == "utf-8-sig":
        assert raw_bytes.startswith(b"\xef\xbb\xbf")
    else:  # really GB18030, not UTF-8 in disguise
        with pytest.raises(UnicodeDecodeError):
            raw_bytes.decode("utf-8")
    other = em.load(other_folder)
    same_problem(base, other)
    assert other.expert_names[0] == "江卫东"
    assert other.org_names[other.org_ids.index("C1")] == "杭州芯源微电子有限公司"
    assert other.expert_keywords[0] == ("深度学习",)


def test_mixed_encodings_in_one_folder(tmp_path: Path) -> None:
    """Files of one folder may each have their own encoding."""
    tables = two_project_tables()
    folder = write_tables(tmp_path / "b", {"experts": tables.pop("experts")}, encoding="gb18030")
    write_tables(folder, tables, encoding="utf-8-sig")
    same_problem(em.load(write_tables(tmp_path / "ref", two_project_tables())), em.load(folder))


def test_undecodable_file_names_the_file(tmp_path: Path) -> None:
    """A file in no supported encoding is named, without a row."""
    data = b"id,organization,fields\nE1,\x80\xff\x80,520.20\n"
    for encoding in ("utf-8", "utf-8-sig", "gb18030"):
        with pytest.raises(UnicodeDecodeError):
            data.decode(encoding)
    folder = build(tmp_path / "b")
    (folder / "experts.csv").write_bytes(data)
    err = load_error(folder)
    issue = find_issue(err, "experts.csv", r"not UTF-8 or GB18030")
    assert issue.row is None


# -- headers ---------------------------------------------------------------------------------------


def test_unknown_columns_are_ignored(tmp_path: Path) -> None:
    """Extra columns do not change the problem."""
    base = em.load(build(tmp_path / "a"))
    tables = two_project_tables()
    for row in tables["experts"]:
        row["备注"] = "随便"
        row["Phone"] = "123"
    for row in tables["projects"]:
        row["budget_wan"] = "300"
    problem = em.load(write_tables(tmp_path / "b", tables, rules=TWO_PROJECT_RULES))
    same_problem(base, problem)


def test_header_case_and_spaces_are_tolerated(tmp_path: Path) -> None:
    """Header names are read regardless of case and surrounding spaces."""
    base = em.load(build(tmp_path / "a"))
    text = (tmp_path / "a" / "experts.csv").read_text(encoding="utf-8")
    header, rest = text.split("\n", 1)
    header = ",".join(f" {c.upper()} " for c in header.split(","))
    folder = build(tmp_path / "b", raw("experts", header + "\n" + rest))
    same_problem(base, em.load(folder))


# -- workbook --------------------------------------------------------------------------------------


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
    """The demo's rules.toml as an office writes a workbook's rules sheet: the stage tables
    as dotted keys (``stage.acceptance.panel_size``); quotas and chair have their own sheets
    (:func:`_demo_rule_sheets`)."""
    rules = tomllib.loads((DEMO / "rules.toml").read_text(encoding="utf-8"))
    keys, values = [], []
    for key, value in rules.items():
        if key in ("quota", "chair"):
            continue
        items = (
            [(f"stage.{s}.{k}", v) for s, table in value.items() for k, v in table.items()]
            if key == "stage"
            else [(key, value)]
        )
        for k, v in items:
            keys.append(k)
            values.append(str(v))
    return pd.DataFrame({"key": keys, "value": values})


def _list_cell(value: object) -> object:
    return ";".join(map(str, value)) if isinstance(value, list) else value


def _demo_rule_sheets() -> dict[str, pd.DataFrame]:
    """The demo's quotas (one a row, lists ``;``-separated) and chair (key/value) sheets."""
    rules = tomllib.loads((DEMO / "rules.toml").read_text(encoding="utf-8"))
    quotas = pd.DataFrame([{k: _list_cell(v) for k, v in q.items()} for q in rules["quota"]])
    chair = rules["chair"]
    return {
        "quotas": quotas,
        "chair": pd.DataFrame(
            {"key": list(chair), "value": [_list_cell(v) for v in chair.values()]}
        ),
    }


def _write_workbook(path: Path, frames: dict[str, pd.DataFrame], rules: pd.DataFrame | None):
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name, index=False)
        if rules is not None:
            rules.to_excel(writer, sheet_name="rules", index=False)
    return path


def test_workbook_equals_folder(tmp_path: Path, demo: em.Problem) -> None:
    """The demo as one .xlsx workbook (rules with dotted stage keys, quotas and chair sheets)
    loads to the same problem as the folder."""
    frames = _demo_frames()
    # integer cells stored as text "6.0" (some exports do this) are whole numbers too
    experts = frames["experts"]
    experts["max_load"] = [
        f"{v:.1f}" if v == v and v is not None else None for v in experts["max_load"]
    ]
    frames.update(_demo_rule_sheets())
    book = _write_workbook(tmp_path / "batch.xlsx", frames, _demo_rules_sheet())
    problem = em.load(book)
    same_problem(demo, problem)
    assert problem.rules == demo.rules
    np.testing.assert_array_equal(problem.expert_max_load, demo.expert_max_load)
    np.testing.assert_array_equal(problem.expert_used, demo.expert_used)
    np.testing.assert_array_equal(problem.project_panel_size, demo.project_panel_size)
    assert problem.expert_type == demo.expert_type
    assert dict(problem.declared) == dict(demo.declared)
    assert problem.relations == demo.relations
    assert problem.input_sha256 and problem.input_sha256 != demo.input_sha256


def test_workbook_float_cells_accepted(tmp_path: Path) -> None:
    """Numbers arriving as floats (6.0) in a workbook are whole numbers."""
    tables = two_project_tables()
    frames = {name: pd.DataFrame(rows) for name, rows in tables.items()}
    frames["experts"]["max_load"] = [2.0, 1.0, 2.0, None, None]
    frames["projects"]["panel_size"] = [3.0, None]
    book = _write_workbook(tmp_path / "b.xlsx", frames, None)
    problem = em.load(book)
    assert problem.expert_max_load.tolist() == [2, 1, 2, 6, 6]  # no rules sheet: defaults
    assert problem.project_panel_size.tolist() == [3, 5]
    assert problem.rules == Rules(reference_year=problem.rules.reference_year)


def test_workbook_rules_sheet_with_share_text(tmp_path: Path) -> None:
    """A workbook's rules sheet may give a share as text ('1/5')."""
    frames = {name: pd.DataFrame(rows) for name, rows in two_project_tables().items()}
    rules = pd.DataFrame(
        {"key": ["panel_size", "enterprise_min_share", "min_score"], "value": [3, "1/5", 0.5]}
    )
    problem = em.load(_write_workbook(tmp_path / "b.xlsx", frames, rules))
    assert problem.rules.panel_size == 3
    assert problem.rules.enterprise_min_share == Fraction(1, 5)
    assert problem.rules.min_score == 0.5


def test_workbook_errors_name_sheet_row_column(tmp_path: Path) -> None:
    """Errors in a workbook name the sheet, row and column."""
    tables = two_project_tables()
    tables["experts"][1]["max_load"] = "abc"
    frames = {name: pd.DataFrame(rows) for name, rows in tables.items()}
    err = load_error(_write_workbook(tmp_path / "b.xlsx", frames, None))
    find_issue(err, "b.xlsx[experts]", r"'abc' is not a whole number", row=3, column="max_load")


def test_workbook_missing_experts_sheet(tmp_path: Path) -> None:
    """A workbook without an experts sheet is named as such."""
    frames = {name: pd.DataFrame(rows) for name, rows in two_project_tables().items()}
    del frames["experts"]
    err = load_error(_write_workbook(tmp_path / "b.xlsx", frames, None))
    find_issue(err, "b.xlsx", r"required sheet 'experts' missing")


def test_workbook_bad_rules_sheet(tmp_path: Path) -> None:
    """A bad rules sheet (a value, or its columns) is named."""
    frames = {name: pd.DataFrame(rows) for name, rows in two_project_tables().items()}
    rules = pd.DataFrame({"key": ["max_per_org"], "value": [0]})
    err = load_error(_write_workbook(tmp_path / "b.xlsx", frames, rules))
    find_issue(err, "b.xlsx[rules]", r"at least 1", column="max_per_org")
    rules = pd.DataFrame({"name": ["max_per_org"], "setting": [2]})
    err = load_error(_write_workbook(tmp_path / "c.xlsx", frames, rules))
    find_issue(err, "c.xlsx[rules]", r"key and value")


def test_damaged_workbook(tmp_path: Path) -> None:
    """A file that is not a readable .xlsx is named."""
    book = tmp_path / "broken.xlsx"
    book.write_bytes(b"PK\x03\x04 this is not a zip")
    err = load_error(book)
    find_issue(err, "broken.xlsx", r"not a readable \.xlsx")


# -- Python inputs ---------------------------------------------------------------------------------


def test_from_tables_equals_folder(demo: em.Problem) -> None:
    """DataFrames and records from Python load to the same problem as the folder."""

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
        papers=read("papers"),
        rules=rules,
    )
    same_problem(demo, problem)
    assert problem.source == "python"
    np.testing.assert_array_equal(problem.expert_max_load, demo.expert_max_load)


def test_from_tables_accepts_python_values() -> None:
    """Python values (None, ints, lists) are accepted in cells."""
    tables = two_project_tables()
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
    """Errors in Python tables number records from 1 and name the table."""
    tables = two_project_tables()
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
    """A table of the wrong type, or without a required column, is named."""
    tables = two_project_tables()
    with pytest.raises(InputError, match="must be a DataFrame or a list of dicts"):
        em.from_tables(experts=42, projects=tables["projects"])
    with pytest.raises(InputError) as info:
        em.from_tables(experts=[{"id": "E1", "organization": "U1"}], projects=tables["projects"])
    find_issue(info.value, "experts", r"required column 'fields' missing", column="fields")


def test_from_tables_nullable_dtypes() -> None:
    """pandas nullable dtypes are read; missing values take the default rule."""
    tables = two_project_tables()
    experts = pd.DataFrame(tables["experts"])
    experts["max_load"] = pd.array([None, 2, 2, None, 1], dtype="Int64")
    problem = em.from_tables(
        experts.convert_dtypes(), tables["projects"], organizations=tables["organizations"]
    )
    assert problem.expert_max_load.tolist() == [6, 2, 2, 6, 1]  # empty: default rule


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 12), bad=st.data())
def test_python_error_row_is_record_number(n: int, bad: st.DataObject) -> None:
    """A bad Python record is reported at its record number."""
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

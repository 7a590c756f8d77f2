"""The office's own spreadsheets (part 2 of the data contract): Chinese headers, sheet names and
organization types, organizations named by their name, field lists with any separator, a field
code Excel stored as a number, and a workbook's rules in its sheets ``rules``, ``quotas`` and
``chair`` (``meeting`` not supported yet).

One batch, written twice: as the contract's English CSV folder with ``rules.toml``, and as the
office's workbook (:func:`office_sheets`). Both load to the same Problem; each defect of the
workbook is an issue naming the sheet, row and column.
"""

from __future__ import annotations

import datetime
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest

import expertmatch as em
from expertmatch.cli import main
from expertmatch.domain.load import _rules_place
from expertmatch.domain.validate import split_fields
from expertmatch.errors import InputIssue
from expertmatch.io.tables import read_workbook
from tests.batches import find_issue, load_error, same_problem

# -- the batch in English ------------------------------------------------------------------

ENGLISH = {
    "organizations": """\
id,name,type,parent
U1,浙江大学,university,
U2,宁波大学,university,
C1,杭州芯源微电子有限公司,enterprise,
C2,芯源（宁波）半导体有限公司,enterprise,C1
C3,宁波甬芯科技有限公司,enterprise,
H1,浙江大学医学院附属第一医院,hospital,U1
G1,浙江省科学技术厅,government,
""",
    "experts": """\
id,name,organization,org_type,fields,max_load,used,region,title,roles,keywords
E1,江卫东,U1,,520.20.10;520.20.20,,,省内,正高级,,深度学习
E2,胡泽宇,U2,,520.20.20;520.20.30,3,1,省外,副高级,finance,
E3,郑磊,C1,,520.20.10;520.30.10,,,省内,正高级,management,机器视觉
E4,卢伟民,C3,enterprise,520.20.30,,0,省内,正高级,finance;management,
E5,陆林峰,H1,,520.20.10,,,省外,副高级,,深度学习
E6,王敏,C2,,520.30.10,2,,省内,中级,,
E7,李强,G1,other,520.20.20,,,省内,正高级,finance,
""",
    "projects": """\
id,title,organization,partners,fields,panel_size,stage,keywords
P1,基于深度学习的缺陷检测,U1,C3,520.20.10;520.20.20,,approval,深度学习;机器视觉
P2,工业视觉平台,C1,,520.20.20,3,acceptance,机器视觉
""",
    "members": "project,person\nP1,M001\nP1,E2\n",
}
RULES_TOML = """\
panel_size = 3
max_load = 2
enterprise_min_share = "33%"
max_per_org = 1
coverage_level = 1
reference_year = 2026

[stage.acceptance]
enterprise_min_share = "2/5"

[[quota]]
name = "财务专家"
attribute = "roles"
values = ["finance"]
min = 1
stages = ["acceptance"]
any_field = true

[[quota]]
name = "省外专家"
attribute = "region"
values = ["省外"]
max_share = "1/2"
scope = "batch"

[chair]
attribute = "title"
values = ["正高级"]
max_per_expert = 2
"""


def english_folder(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name, text in ENGLISH.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    (folder / "rules.toml").write_text(RULES_TOML, encoding="utf-8")
    return folder


# -- the same batch as the office keeps it -------------------------------------------------

Sheets = dict[str, list[list[Any]]]


def cells(line: str) -> list[Any]:
    """A sheet row written as ``a|b|...``: an empty cell is blank, digits are a number."""
    return [None if c == "" else int(c) if c.isdigit() else c for c in line.split("|")]


def office_sheets() -> Sheets:
    """The batch as the office's workbook: Chinese sheet names, headers and types;
    organizations by name (an ASCII bracket for a full-width one); fields separated by 、 ，
    ；and spaces; numbers as number cells; the rules in sheets 规则, 配额 and 组长."""
    return {
        "说明": [["本表由评审中心导出"]],  # a sheet of notes: ignored
        "单位": [
            cells("编号|名称|单位性质|上级单位"),
            cells("U1|浙江大学|高校|"),
            cells("U2|宁波大学|高校|"),
            cells("C1|杭州芯源微电子有限公司|企业|"),
            cells("C2|芯源（宁波）半导体有限公司|企业|杭州芯源微电子有限公司"),
            cells("C3|宁波甬芯科技有限公司|企业|"),
            cells("H1|浙江大学医学院附属第一医院|医院|U1"),
            cells("G1|浙江省科学技术厅|政府机关|"),
        ],
        "专家": [
            cells(
                "专家编号|姓名|工作单位|单位性质|学科代码|本批上限|本年已评|地区|职称|专长角色|"
                "研究方向"
            ),
            cells("E1|江卫东|浙江大学||520.20.10、520.20.20|||省内|正高级||深度学习"),
            cells("E2|胡泽宇|宁波大学||520.20.20，520.20.30|3|1|省外|副高级|finance|"),
            cells("E3|郑磊|C1||520.20.10 520.30.10|||省内|正高级|management|机器视觉"),
            cells(
                "E4|卢伟民|宁波甬芯科技有限公司|企业|520.20.30||0|省内|正高级|finance；management|"
            ),
            cells("E5|陆林峰|H1||520.20.10|||省外|副高级||深度学习"),
            cells("E6|王敏|芯源(宁波)半导体有限公司||520.30.10|2||省内|中级||"),
            cells("E7|李强|浙江省科学技术厅|其他|520.20.20|||省内|正高级|finance|"),
        ],
        "项目": [
            cells("项目编号|项目名称|承担单位|合作单位|学科代码|panel_size|阶段|关键词"),
            cells(
                "P1|基于深度学习的缺陷检测|浙江大学|宁波甬芯科技有限公司|"
                "520.20.10；520.20.20||立项|深度学习;机器视觉"
            ),
            cells("P2|工业视觉平台|杭州芯源微电子有限公司||520.20.20|3|结题|机器视觉"),
        ],
        "members": [["project", "person"], ["P1", "M001"], ["P1", "E2"]],
        "规则": [
            ["key", "value"],
            ["panel_size", 3],
            ["max_load", 2],
            ["enterprise_min_share", (0.33, "0%")],  # typed 33%: a number shown as a percent
            ["max_per_org", 1],
            ["coverage_level", 1],
            ["reference_year", 2026],
            ["stage.acceptance.enterprise_min_share", "2/5"],
        ],
        "配额": [
            ["name", "attribute", "values", "min", "max_share", "stages", "scope", "any_field"],
            ["财务专家", "专长角色", "finance", 1, None, "结题", None, True],
            ["省外专家", "region", "省外", None, "1/2", None, "batch", None],
        ],
        "组长": [
            ["key", "value"],
            ["attribute", "职称"],
            ["values", "正高级"],
            ["max_per_expert", 2],
        ],
    }


def write_book(path: Path, sheets: Sheets) -> Path:
    """Write ``sheets`` with openpyxl, each cell with its own type (a ``(value, format)`` pair
    is a number with a number format)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if isinstance(value, tuple):
                    value, number_format = value
                    sheet.cell(r, c, value).number_format = number_format
                elif value is not None:
                    sheet.cell(r, c, value)
    book.save(path)
    return path


def edit(sheets: Sheets, sheet: str, row: int, column: str, value: Any) -> Sheets:
    """``sheets`` with one cell set: sheet row ``row`` (the header is row 1), by header."""
    col = sheets[sheet][0].index(column)
    sheets[sheet][row - 1][col] = value
    return sheets


@pytest.fixture
def english(tmp_path: Path) -> em.Problem:
    return em.load(english_folder(tmp_path / "english"))


def office_error(tmp_path: Path, sheets: Sheets, **kwargs: Any) -> em.InputError:
    """The InputError of the office's workbook ``sheets``; no issue names a CSV file."""
    err = load_error(write_book(tmp_path / "office.xlsx", sheets), **kwargs)
    assert not [i for i in err.issues if ".csv" in f"{i.file} {i.message}"], err
    return err


# -- the same Problem ----------------------------------------------------------------------


def same_batch(a: em.Problem, b: em.Problem) -> None:
    """Two problems with the same rules, people, organizations, attributes and pairs."""
    same_problem(a, b)
    assert a.rules == b.rules
    assert a.expert_type == b.expert_type
    assert a.org_types == b.org_types
    np.testing.assert_array_equal(a.org_parent, b.org_parent)
    np.testing.assert_array_equal(a.expert_org, b.expert_org)
    np.testing.assert_array_equal(a.project_org, b.project_org)
    assert a.project_partners == b.project_partners
    assert a.expert_fields == b.expert_fields
    assert a.project_keywords == b.project_keywords
    np.testing.assert_array_equal(a.expert_max_load_given, b.expert_max_load_given)
    np.testing.assert_array_equal(a.expert_used, b.expert_used)
    np.testing.assert_array_equal(a.project_panel_size_given, b.project_panel_size_given)
    assert a.project_stage == b.project_stage
    assert dict(a.expert_attributes) == dict(b.expert_attributes)
    assert a.members == b.members


def test_office_workbook_reads_as_the_english_folder(tmp_path: Path, english: em.Problem) -> None:
    """Chinese sheets, headers and types, organizations by name, any field separator, numbers
    as number cells, 33% as a percent cell, "2/5" as text, quotas and chair in their sheets:
    the same Problem as the contract's English CSV folder with rules.toml."""
    office = em.load(write_book(tmp_path / "office.xlsx", office_sheets()))
    same_batch(english, office)
    assert office.rules.enterprise_min_share == Fraction(33, 100)
    assert office.rules.value("enterprise_min_share", "acceptance") == Fraction(2, 5)
    finance, remote = office.rules.quota
    assert (finance.attribute, finance.values, finance.stages) == (
        "roles",
        ("finance",),
        ("acceptance",),
    )
    assert finance.min == 1 and finance.any_field
    assert (remote.max_share, remote.scope) == (Fraction(1, 2), "batch")
    assert office.rules.chair is not None and office.rules.chair.attribute == "title"
    assert office.expert_fields[0] == ("520.20.10", "520.20.20")
    assert office.expert_type[office.expert_ids.index("E7")] == "other"
    assert office.org_parent[office.org_ids.index("C2")] == office.org_ids.index("C1")
    assert office.project_partners[0] == (office.org_ids.index("C3"),)


def test_chinese_headers_in_csv_files(tmp_path: Path, english: em.Problem) -> None:
    """CSV files with the office's Chinese headers and values read as the English ones."""
    folder = english_folder(tmp_path / "zh")
    header = {
        "experts": "专家编号,姓名,单位,单位类型,领域代码,本批上限,本年已评,地区,职称,"
        "专长角色,关键词",
        "projects": "编号,项目名称,申报单位,合作单位,学科代码,panel_size,阶段,研究方向",
        "organizations": "编号,名称,单位类型,上级单位",
    }
    for name, text in header.items():
        body = ENGLISH[name].split("\n", 1)[1]
        for english_type, chinese in (("university", "高校"), ("enterprise", "企业")):
            body = body.replace(f",{english_type},", f",{chinese},")
        (folder / f"{name}.csv").write_text(f"{text}\n{body}", encoding="gb18030")
    same_batch(english, em.load(folder))


def test_chinese_columns_from_python(english: em.Problem) -> None:
    """DataFrames with Chinese columns (from_tables) read as the English ones."""
    sheets = office_sheets()

    def frame(name: str) -> pd.DataFrame:
        header, *rows = sheets[name]
        return pd.DataFrame(rows, columns=header)

    tables = {"experts": "专家", "projects": "项目", "organizations": "单位", "members": "members"}
    problem = em.from_tables(**{k: frame(v) for k, v in tables.items()}, rules=english.rules)
    same_batch(english, problem)


@pytest.mark.parametrize(
    ("cell", "codes"),
    [
        ("520.40.10、510.50", ["520.40.10", "510.50"]),
        ("520.60，520.20", ["520.60", "520.20"]),
        ("520.60,520.20;510", ["520.60", "520.20", "510"]),
        (" 520.60；520.20　510 ", ["520.60", "520.20", "510"]),  # full-width semicolon, space
        ("520.60 ; ; 520.20", ["520.60", "520.20"]),
        ("", []),
    ],
)
def test_field_separators(cell: str, codes: list[str]) -> None:
    """Field lists accept ; ； , ， 、 and spaces."""
    assert split_fields(cell) == codes


def test_keywords_and_partners_still_split_on_semicolons_only(tmp_path: Path) -> None:
    """A keyword may hold a comma: keywords keep ``;`` as their only separator."""
    sheets = edit(office_sheets(), "项目", 2, "关键词", "深度学习,机器视觉")
    problem = em.load(write_book(tmp_path / "office.xlsx", sheets))
    assert problem.project_keywords[0] == ("深度学习,机器视觉",)


# -- each defect: the sheet, row and column ------------------------------------------------


def test_number_typed_field_code(tmp_path: Path) -> None:
    """A field code stored as a number (Excel made 520.20 into 520.2) is an error saying so."""
    sheets = edit(office_sheets(), "专家", 3, "学科代码", 520.2)
    err = office_error(tmp_path, sheets)
    issue = find_issue(
        err,
        "office.xlsx[专家]",
        r"520\.2 was stored as a number: Excel drops trailing zeros \(520\.20 → 520\.2\); "
        "format the column as text",
        row=3,
        column="学科代码 (fields)",
    )
    assert len(err.issues) == 1 and issue.message.endswith("and type the code again")


def test_whole_number_field_code_is_read(tmp_path: Path) -> None:
    """A whole code stored as a number (520) loses nothing: it is read."""
    sheets = edit(office_sheets(), "专家", 8, "学科代码", 520)
    problem = em.load(write_book(tmp_path / "office.xlsx", sheets))
    assert problem.expert_fields[6] == ("520",)


def test_number_typed_code_in_the_taxonomy(tmp_path: Path) -> None:
    """The taxonomy's codes and parents are field codes too."""
    sheets = office_sheets()
    sheets["学科"] = [["学科代码", "上级代码"], ["520", None], [520.2, "520"], ["520.20.10", 520.2]]
    err = office_error(tmp_path, sheets)
    find_issue(err, "office.xlsx[学科]", r"stored as a number", row=3, column="学科代码 (code)")
    find_issue(err, "office.xlsx[学科]", r"stored as a number", row=4, column="上级代码 (parent)")


def test_missing_required_column_says_what_was_found(tmp_path: Path) -> None:
    """A missing required column lists the headers found and the other names it may have."""
    sheets = office_sheets()
    for row in sheets["专家"]:
        del row[0]
    err = office_error(tmp_path, sheets)
    issue = find_issue(err, "office.xlsx[专家]", r"required column 'id' missing", column="id")
    assert issue.message == (
        "required column 'id' missing (found: 姓名, 工作单位, 单位性质, 学科代码, 本批上限, "
        "本年已评, 地区, 职称, 专长角色, 研究方向; 'id' may also be written 编号/专家编号)"
    )


def test_missing_required_column_in_a_csv_file(tmp_path: Path) -> None:
    folder = english_folder(tmp_path / "b")
    (folder / "projects.csv").write_text("编号,项目名称,单位\nP1,视觉,U1\n", encoding="utf-8")
    err = load_error(folder)
    issue = find_issue(err, "projects.csv", r"required column 'fields' missing", column="fields")
    assert "(found: 编号, 项目名称, 单位; 'fields' may also be written 学科代码/领域代码)" in (
        issue.message
    )


def test_title_is_a_title_in_each_table(tmp_path: Path) -> None:
    """职称 is an expert's title, 项目名称 a project's; 职称 in projects is only an attribute."""
    sheets = office_sheets()
    sheets["项目"][0][1] = "职称"
    problem = em.load(write_book(tmp_path / "office.xlsx", sheets))
    assert problem.project_titles == ("", "")
    assert problem.attributes["projects"][0]["职称"] == "基于深度学习的缺陷检测"


def test_unknown_chinese_org_type(tmp_path: Path) -> None:
    sheets = edit(office_sheets(), "专家", 4, "单位性质", "国企")
    sheets = edit(sheets, "单位", 3, "单位性质", "大学")
    err = office_error(tmp_path, sheets)
    find_issue(
        err,
        "office.xlsx[专家]",
        r"unknown organization type '国企'.*企业, 高校",
        4,
        "单位性质 (org_type)",
    )
    find_issue(err, "office.xlsx[单位]", r"unknown organization type '大学'", 3, "单位性质 (type)")


def test_ambiguous_organization_name_lists_the_ids(tmp_path: Path) -> None:
    """A name two organizations share is an error listing both ids; an unknown name too."""
    sheets = office_sheets()
    sheets["单位"].append(["U9", "浙江大学", "高校", None])
    sheets = edit(sheets, "专家", 7, "工作单位", "宁波芯片研究所")
    err = office_error(tmp_path, sheets)
    find_issue(
        err,
        "office.xlsx[专家]",
        r"organization name '浙江大学' is ambiguous: it is the name of U1, U9 in "
        r"office\.xlsx\[单位\]; give the id",
        row=2,
        column="工作单位 (organization)",
    )
    find_issue(
        err,
        "office.xlsx[项目]",
        r"'浙江大学' is ambiguous",
        row=2,
        column="承担单位 (organization)",
    )
    find_issue(
        err,
        "office.xlsx[专家]",
        r"unknown organization '宁波芯片研究所' \(not in office\.xlsx\[单位\]\)",
        row=7,
    )


def test_ambiguous_parent_name(tmp_path: Path) -> None:
    sheets = office_sheets()
    sheets["单位"].append(["C9", "杭州芯源微电子有限公司", "企业", None])
    err = office_error(tmp_path, sheets)
    find_issue(
        err,
        "office.xlsx[单位]",
        r"parent organization name .* is ambiguous: .*C1, C9",
        5,
        "上级单位 (parent)",
    )


def test_an_id_wins_over_a_name(tmp_path: Path) -> None:
    """A cell that is one organization's id and another's name means the id."""
    sheets = office_sheets()
    sheets["单位"].append(["X1", "C3", "企业", None])  # X1 is named "C3"
    sheets = edit(sheets, "专家", 5, "工作单位", "C3")
    problem = em.load(write_book(tmp_path / "office.xlsx", sheets))
    assert problem.org_ids[problem.expert_org[3]] == "C3"


def test_a_column_given_twice(tmp_path: Path) -> None:
    """编号 and id in one sheet give one column twice."""
    sheets = office_sheets()
    for n, row in enumerate(sheets["项目"]):
        row.append("id" if n == 0 else f"X{n}")
    err = office_error(tmp_path, sheets)
    find_issue(
        err,
        "office.xlsx[项目]",
        r"columns '项目编号' and 'id' both give 'id'; keep one",
        row=1,
        column="id",
    )


def test_a_table_in_two_sheets(tmp_path: Path) -> None:
    sheets = office_sheets()
    sheets["experts"] = sheets["专家"]
    err = office_error(tmp_path, sheets)
    find_issue(err, "office.xlsx", r"sheets '专家' and 'experts' are both the experts sheet")


def test_missing_required_sheet_names_what_was_found(tmp_path: Path) -> None:
    sheets = office_sheets()
    del sheets["项目"]
    err = office_error(tmp_path, sheets)
    issue = find_issue(err, "office.xlsx", r"required sheet 'projects' missing")
    assert (
        "found: 说明, 单位, 专家, members, 规则, 配额, 组长; it may also be named '项目'"
        in issue.message
    )


def test_workbook_messages_name_the_sheet(tmp_path: Path) -> None:
    """Issues of a workbook name its sheets, never a CSV file, whatever the check."""
    sheets = office_sheets()
    sheets["学科"] = [["学科代码", "上级代码"], ["520", None], ["520.20", "520"]]
    sheets["回避"] = [["专家编号", "项目编号"], ["E9", "P1"]]
    sheets = edit(sheets, "专家", 2, "工作单位", "无名单位")
    err = office_error(tmp_path, sheets)
    find_issue(err, "office.xlsx[专家]", r"is not in office\.xlsx\[学科\]", row=2)
    find_issue(
        err,
        "office.xlsx[专家]",
        r"unknown organization '无名单位' \(not in office\.xlsx\[单位\]\)",
        row=2,
    )
    find_issue(err, "office.xlsx[回避]", r"unknown expert 'E9'", row=2, column="专家编号 (expert)")


# -- the rules sheets ----------------------------------------------------------------------


def test_date_share_in_the_rules_sheet(tmp_path: Path) -> None:
    """A share Excel turned into a date (2/5 -> 5 February) says so, with sheet, row and key."""
    sheets = office_sheets()
    sheets["规则"][-1][1] = datetime.datetime(2026, 2, 5)
    err = office_error(tmp_path, sheets)
    find_issue(
        err,
        "office.xlsx[规则]",
        r"'2026-02-05' is not a share.*Excel turns 1/3 into a date",
        row=8,
        column="stage.acceptance.enterprise_min_share",
    )


def test_bad_values_in_quota_and_chair_sheets(tmp_path: Path) -> None:
    """A quota's bad cell names the quotas sheet, the quota's row and the key; the chair's
    names the chair sheet and the key's row."""
    sheets = edit(office_sheets(), "配额", 3, "max_share", datetime.datetime(2026, 1, 2))
    sheets = edit(sheets, "配额", 2, "scope", "province")
    sheets["组长"][3][1] = "two"
    sheets["规则"].append(["max_per_org", 2])
    err = office_error(tmp_path, sheets)
    find_issue(
        err,
        "office.xlsx[配额]",
        r"max_share: .*Excel turns 1/3 into a date",
        row=3,
        column="max_share",
    )
    find_issue(err, "office.xlsx[配额]", r"财务专家: scope must be panel or batch", row=2)
    find_issue(err, "office.xlsx[组长]", r"max_per_expert: ", row=4, column="max_per_expert")
    find_issue(err, "office.xlsx[规则]", r"'max_per_org' given twice \(first at row 5\)", row=9)


def test_unknown_quota_column(tmp_path: Path) -> None:
    sheets = office_sheets()
    sheets["配额"][0].append("weight")
    sheets["配额"][1].append(3)
    err = office_error(tmp_path, sheets)
    find_issue(err, "office.xlsx[配额]", r"unknown quota key 'weight'", row=2, column="weight")


def test_quota_with_chinese_attribute_and_org_type_values(tmp_path: Path) -> None:
    """A quota may name an experts column by its Chinese header, and types in Chinese."""
    sheets = office_sheets()
    sheets["配额"].append(["企业专家", "单位性质", "企业；高校", 1, None, None, None, None])
    problem = em.load(write_book(tmp_path / "office.xlsx", sheets))
    quota = problem.rules.quota[2]
    assert (quota.attribute, quota.values) == ("org_type", ("enterprise", "university"))


def test_chair_given_twice(tmp_path: Path) -> None:
    sheets = office_sheets()
    sheets["规则"].append(["chair.attribute", "title"])
    err = office_error(tmp_path, sheets)
    find_issue(err, "office.xlsx[规则]", r"chair is given both here and in the sheet '组长'", row=9)


def test_meeting_sheet_gives_the_meeting_rules(tmp_path: Path) -> None:
    """The meeting sheet (key/value) is the [meeting] table; a bad value is named with its
    sheet and row; --rules replaces it."""
    sheets = office_sheets()
    sheets["会评"] = [["key", "value"]]
    assert em.load(write_book(tmp_path / "empty.xlsx", sheets)).rules.meeting is None
    sheets["会评"] += [["panel_size", 7], ["group_size", "3;4"], ["slots", "上午;下午"]]
    meeting = em.load(write_book(tmp_path / "office.xlsx", sheets)).rules.meeting
    assert meeting is not None
    assert (meeting.panel_size, meeting.group_size, meeting.slots) == (7, (3, 4), ("上午", "下午"))
    sheets["会评"].append(["recusal", "maybe"])
    err = office_error(tmp_path, sheets)
    find_issue(err, "office.xlsx[会评]", r"recusal: must be one of recuse, exclude", row=5)
    toml = tmp_path / "rules.toml"
    toml.write_text(RULES_TOML, encoding="utf-8")
    assert em.load(tmp_path / "office.xlsx", rules=toml).rules.panel_size == 3


def test_rules_toml_replaces_every_rules_sheet(tmp_path: Path, english: em.Problem) -> None:
    """--rules replaces the rules, quotas and chair sheets, even broken ones."""
    sheets = office_sheets()
    sheets["规则"] = [["setting", "value"], ["panel_size", 9]]  # no key column
    sheets["配额"][1][3] = "many"
    sheets["组长"].append(["colour", "red"])
    err = office_error(tmp_path, sheets)
    find_issue(err, "office.xlsx[规则]", r"needs columns key and value \(found: setting, value\)")
    toml = tmp_path / "rules.toml"
    toml.write_text("panel_size = 2\nreference_year = 2026\n", encoding="utf-8")
    problem = em.load(tmp_path / "office.xlsx", rules=toml)
    assert (
        problem.rules.panel_size == 2 and problem.rules.quota == () and problem.rules.chair is None
    )


def test_rules_sheet_blank_rows_and_values_keep_defaults(tmp_path: Path) -> None:
    """Blank rows, and keys with an empty value, leave the default."""
    sheets = office_sheets()
    sheets["规则"][2] = ["max_load", None]
    sheets["规则"].insert(3, [None, None])
    problem = em.load(write_book(tmp_path / "office.xlsx", sheets))
    assert problem.rules.max_load == em.Rules().max_load


def test_command_line_names_sheet_row_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`expertmatch assign` refuses the workbook (exit 2) with the sheet, row and column."""
    book = write_book(tmp_path / "office.xlsx", edit(office_sheets(), "专家", 3, "学科代码", 520.2))
    assert main(["assign", str(book), "-o", str(tmp_path / "out.csv")]) == 2
    assert (
        "office.xlsx[专家], row 3, column 学科代码 (fields): 520.2 was stored as a number"
        in capsys.readouterr().err
    )
    assert not (tmp_path / "out.csv").exists()


def test_an_unknown_quota_column_is_placed_in_its_sheet(tmp_path: Path) -> None:
    """An issue the Problem finds in the rules (file ``rules``: a quota counting a column the
    experts lack) names the quota's sheet and row, and the experts sheet."""
    book = write_book(tmp_path / "office.xlsx", office_sheets())
    raw = read_workbook(book)
    found = InputIssue(
        "rules",
        "quota 省外专家: experts.csv has no column 'regio'; known: org_type, region",
        column="quota 省外专家",
    )
    placed = _rules_place(raw, None, found)
    assert (placed.file, placed.row, placed.column) == ("office.xlsx[配额]", 3, "attribute")
    assert placed.message.startswith("quota 省外专家: office.xlsx[专家] has no column 'regio'")
    chair = _rules_place(raw, None, replace(found, column="chair"))
    assert (chair.file, chair.row, chair.column) == ("office.xlsx[组长]", 2, "attribute")
    toml = _rules_place(raw, tmp_path / "rules.toml", found)
    assert (toml.file, toml.row) == ("rules.toml", None)


def test_chair_given_by_dotted_keys_in_the_rules_sheet_alone(tmp_path) -> None:
    """chair.* keys in the rules sheet, with no chair sheet, are read (not a KeyError)."""
    tables = em.generate(5, 20, seed=1)
    path = tmp_path / "b.xlsx"
    with pd.ExcelWriter(path) as writer:
        for name, frame in tables.items():
            frame.to_excel(writer, sheet_name=name, index=False)
        pd.DataFrame(
            {
                "key": ["chair.attribute", "chair.values", "chair.max_per_expert"],
                "value": ["title", "教授;研究员", "2"],
            }
        ).to_excel(writer, sheet_name="rules", index=False)
    chair = em.load(path).rules.chair
    assert chair is not None and chair.values == ("教授", "研究员") and chair.max_per_expert == 2

"""``-o NAME.xlsx`` writes a real workbook: the pairs, one printable row a project in
``panels``, a summary per stage and the conflicts record, in English or Chinese; text stays
text, Chinese names survive, and ``report.json`` carries the same conflicts record."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

import expertmatch as em
from expertmatch.domain.conflicts import conflict_pairs, explain_conflicts
from expertmatch.domain.record import conflict_record
from expertmatch.io.lang import VALUES, reason_zh
from expertmatch.io.workbook import Sheet, text_width, write_workbook
from expertmatch.result import project_stages

PAIR_COLUMNS = [
    "project",
    "expert",
    "score",
    "role",  # the demo has a chair rule: chair or member
    "project_title",
    "expert_name",
    "organization",
    "org_type",
    "matched_field",
    "expert_field",
    "covers",
    "why",
]


@pytest.fixture(scope="module")
def book(demo_result: em.Result, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's assignment written as a workbook with its report."""
    folder = tmp_path_factory.mktemp("book")
    demo_result.write(folder / "assignment.xlsx", folder / "report.json")
    return folder


def header(ws) -> list:
    return [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]


def column(ws, letter: str) -> list:
    return [c.value for c in ws[letter][1:]]


def test_the_sheets_are_pairs_panels_a_summary_per_stage_and_conflicts(
    book: Path, demo_result: em.Result
) -> None:
    """Sheet names in order; the demo has projects of all three stages."""
    wb = openpyxl.load_workbook(book / "assignment.xlsx")
    assert demo_result.stages() == ["approval", "midterm", "acceptance"]
    assert wb.sheetnames == [
        "pairs",
        "panels",
        "summary approval",
        "summary midterm",
        "summary acceptance",
        "conflicts",
    ]


def test_pairs_sheet_is_the_assignment_csv(book: Path, demo_result: em.Result) -> None:
    """Same columns and rows as assignment.csv; Chinese names round-trip unchanged."""
    ws = openpyxl.load_workbook(book / "assignment.xlsx")["pairs"]
    assert header(ws) == PAIR_COLUMNS
    assert ws.max_row - 1 == len(demo_result.pairs)
    frame = demo_result.frame
    assert column(ws, "A") == frame["project"].tolist()
    assert column(ws, "B") == frame["expert"].tolist()
    assert column(ws, "F") == frame["expert_name"].tolist()
    assert column(ws, "D") == frame["role"].tolist()
    assert set(column(ws, "D")) == {"chair", "member"}
    name = demo_result.problem.expert_names[int(demo_result.pairs.expert[0])]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in name)  # a Chinese name
    assert ws["F2"].value == name
    assert [c.value for c in ws[2]][2] == pytest.approx(float(demo_result.pairs.score[0]))


def test_panels_one_row_a_project_members_as_columns_printable(
    book: Path, demo_result: em.Result
) -> None:
    """One row per project with its stage, its chair (the demo has a chair rule) and every
    member (name, id, organization)."""
    problem = demo_result.problem
    ws = openpyxl.load_workbook(book / "assignment.xlsx")["panels"]
    k = int(problem.project_panel_size.max())
    assert header(ws) == ["project", "project_title", "stage", "chair"] + [
        f"expert {i}" for i in range(1, k + 1)
    ]
    assert ws.max_row - 1 == problem.n_projects
    assert column(ws, "A") == list(problem.project_ids)
    assert column(ws, "C") == list(project_stages(problem))
    chairs = {
        problem.project_ids[q]: problem.expert_ids[e] for q, e in demo_result.chairs.items()
    }
    for row in ws.iter_rows(min_row=2, values_only=True):
        members = [m for m in row[4:] if m]
        panel = demo_result.panels[row[0]]
        assert len(members) == len(panel)
        assert {m.split("(")[1].split(")")[0] for m in members} == set(panel)
        if row[0] in chairs:  # the chair by name and id, one of the members
            assert row[3].split("(")[1].split(")")[0] == chairs[row[0]] in panel
        else:
            assert not row[3]
    first = demo_result.panels[problem.project_ids[0]]
    e = problem.expert_index[first[0]]
    cells = [c for c in [ws.cell(2, j).value for j in range(5, 5 + k)] if c]
    org = problem.org_names[int(problem.expert_org[e])]
    assert f"{problem.expert_names[e]} ({first[0]})\n{org}" in cells
    # printable: bold frozen header, landscape, one page wide, header on every page
    assert ws["A1"].font.b and ws.freeze_panes == "A2"
    assert ws.page_setup.orientation == "landscape"
    assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$1"
    assert ws["D2"].alignment.wrap_text
    assert ws.column_dimensions["B"].width >= 20  # the titles are long


def test_summary_sheets_add_up_to_the_batch(book: Path, demo_result: em.Result) -> None:
    """Projects and seats over the stage sheets sum to the batch; every field is covered."""
    wb = openpyxl.load_workbook(book / "assignment.xlsx")
    totals = {"projects": 0, "seats": 0, "enterprise seats": 0}
    for stage in demo_result.stages():
        ws = wb[f"summary {stage}"]
        assert header(ws) == ["figure", "value"]
        figures = dict(ws.iter_rows(min_row=2, values_only=True))
        for key in totals:
            totals[key] += figures[key]
        assert figures["fields covered"] == figures["fields to cover"]
        assert figures["lowest panel enterprise share (%)"] >= 100 / 3 - 0.1
        assert set(figures) >= {"largest load", "loads (reviews: experts)", "mean score"}
    summary = demo_result.summary()
    assert totals["projects"] == summary["projects"]
    assert totals["seats"] == summary["reviews"]
    assert totals["enterprise seats"] == round(summary["enterprise_share"] * summary["reviews"])


def test_conflicts_sheet_is_every_conflicted_pair_with_kinds_and_reasons(
    book: Path, demo_result: em.Result
) -> None:
    """One row per conflicted pair, with its kinds and explain_conflicts' words."""
    problem = demo_result.problem
    project, expert, _ = conflict_pairs(problem)
    ws = openpyxl.load_workbook(book / "assignment.xlsx")["conflicts"]
    assert header(ws) == ["project", "expert", "expert_name", "kinds", "reason"]
    assert ws.max_row - 1 == project.size > 0
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    for n in (0, len(rows) // 2, len(rows) - 1):
        p, e = int(project[n]), int(expert[n])
        assert rows[n][:2] == (problem.project_ids[p], problem.expert_ids[e])
        assert rows[n][4] == "; ".join(explain_conflicts(problem, p, e))
        assert rows[n][3].split(";") == [s.split(":")[0] for s in rows[n][4].split("; ")]
    kinds = {k for row in rows for k in row[3].split(";")}
    assert {"same_org", "declared"} <= kinds


def test_report_json_holds_the_conflicts_record(book: Path, demo_result: em.Result) -> None:
    """report.json "conflicts": {project, expert, kinds, reason} for every conflicted pair."""
    report = json.loads((book / "report.json").read_text(encoding="utf-8"))
    record = report["conflicts"]
    assert len(record) == conflict_pairs(demo_result.problem)[0].size
    assert all(set(r) == {"project", "expert", "kinds", "reason"} for r in record)
    assert all(isinstance(r["kinds"], list) and r["kinds"] and r["reason"] for r in record)
    frame = conflict_record(demo_result.problem).frame()
    assert [r["reason"] for r in record] == frame["reason"].tolist()


def test_chinese_workbook(demo_result: em.Result, tmp_path: Path) -> None:
    """``lang="zh"``: Chinese sheet names, headers and values; ids and names unchanged."""
    demo_result.write(tmp_path / "a.xlsx", lang="zh")
    wb = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert wb.sheetnames == [
        "分配结果",
        "专家组名单",
        "汇总-立项",
        "汇总-中期",
        "汇总-结题验收",
        "回避记录",
    ]
    pairs = wb["分配结果"]
    assert header(pairs)[:8] == [
        "项目编号",
        "专家编号",
        "分数",
        "角色",
        "项目名称",
        "姓名",
        "工作单位",
        "单位性质",
    ]
    assert set(column(pairs, "D")) == {"组长", "成员"}
    assert set(column(pairs, "H")) <= set(VALUES["org_type"].values())
    assert column(pairs, "F") == demo_result.frame["expert_name"].tolist()
    assert all("专家" in why for why in column(pairs, "L"))
    panels = wb["专家组名单"]
    assert header(panels)[:5] == ["项目编号", "项目名称", "阶段", "组长", "专家1"]
    assert set(column(panels, "C")) == {"立项", "中期", "结题验收"}
    summary = dict(wb["汇总-立项"].iter_rows(min_row=2, values_only=True))
    assert summary["项目数"] == project_stages(demo_result.problem).count("approval")
    conflicts = wb["回避记录"]
    assert header(conflicts) == ["项目编号", "专家编号", "姓名", "回避类型", "回避原因"]
    assert "本单位" in set(column(conflicts, "D"))
    assert not any(r.startswith(("same_org", "org_group", "team:")) for r in column(conflicts, "E"))


def test_every_conflict_reason_reads_in_chinese() -> None:
    """Every sentence explain_conflicts writes on a generated batch has a Chinese wording."""
    problem = em.from_tables(**em.generate(60, 240, seed=3))
    record = conflict_record(problem)
    kinds = set(record.kinds().tolist())
    assert len(kinds) > 2
    for reasons in record.reasons:
        for sentence in reasons:
            assert reason_zh(sentence) != sentence, sentence


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    """A cell starting with ``=`` is text, not a formula; NaN and None are empty cells."""
    frame = pd.DataFrame({"name": ['=HYPERLINK("x")', "张三", None], "score": [1.5, math.nan, 3.0]})
    write_workbook(
        [Sheet("list", frame), Sheet("print", frame, printable=True)], tmp_path / "t.xlsx"
    )
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    for ws in wb.worksheets:
        assert ws["A2"].value == '=HYPERLINK("x")' and ws["A2"].data_type == "s"
        assert ws["A3"].value == "张三" and ws["A4"].value is None
        assert ws["B3"].value is None and ws["B4"].value == 3.0
    assert wb["list"].auto_filter.ref == "A1:B4"


def test_column_widths_count_chinese_characters_twice() -> None:
    """A CJK character takes two columns; the longest line of a cell counts."""
    assert text_width("abc") == 3
    assert text_width("张三") == 4
    assert text_width("张三 (E1)\n浙江大学附属第一医院") == 20


def test_workbook_and_report_are_written_together(demo_result: em.Result, tmp_path: Path) -> None:
    """Both files or neither: a report path that is a folder stops the workbook too."""
    (tmp_path / "report.json").mkdir()
    with pytest.raises(IsADirectoryError):
        demo_result.write(tmp_path / "a.xlsx", tmp_path / "report.json")
    assert not (tmp_path / "a.xlsx").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".a.xlsx")]


def test_probabilities_as_a_workbook(tmp_path: Path) -> None:
    """``--probabilities x.xlsx`` is a one-sheet workbook of expert, project, probability."""
    problem = em.from_tables(**em.generate(8, 40, seed=2)).with_rules(
        {"max_probability": 0.5, "coverage_level": 0}
    )
    draw = em.assign(problem, seed=1)
    draw.write(tmp_path / "a.csv", probabilities=tmp_path / "p.xlsx", lang="zh")
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx")["概率"]
    assert header(ws) == ["专家编号", "项目编号", "概率"]
    probabilities = np.array(column(ws, "C"), dtype=float)
    assert len(probabilities) == len(draw.probability_frame())
    assert probabilities.max() <= 0.5 + 1e-8

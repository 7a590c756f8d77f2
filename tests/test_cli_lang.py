"""``--lang zh`` writes Chinese headers and values (assign, reassign, reserves, demo -o), in
CSV and in workbooks; without it the English output is unchanged."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import expertmatch as em
from expertmatch.cli import main
from expertmatch.domain.problem import ORG_TYPES
from expertmatch.io.lang import HEADERS, VALUES, header, translate, value

DEMO = str(em.demo_path())
ORG_TYPES_ZH = {"企业", "高校", "科研院所", "医院", "政府机关", "其他", "未知"}


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return list(rows[0]), rows


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo assigned twice, in English and in Chinese, with the reserves of each."""
    folder = tmp_path_factory.mktemp("lang")
    for lang in ("en", "zh"):
        out = folder / f"{lang}.csv"
        assert main(["assign", DEMO, "-o", str(out), "--lang", lang]) == 0
        reserves = folder / f"reserves_{lang}.csv"
        args = ["reserves", DEMO, "--previous", str(folder / "en.csv"), "-k", "2", "-o"]
        assert main([*args, str(reserves), "--lang", lang]) == 0
    return folder


def test_assign_lang_zh_headers(runs: Path) -> None:
    """assignment.csv in Chinese: the contract's headers (项目编号, 专家编号, 姓名, ...)."""
    columns, _ = read(runs / "zh.csv")
    assert columns == [
        "项目编号",
        "专家编号",
        "分数",
        "角色",  # the demo has a chair rule
        "项目名称",
        "姓名",
        "工作单位",
        "单位性质",
        "匹配学科",
        "专家学科",
        "覆盖学科",
        "匹配理由",
    ]


def test_assign_lang_zh_values_and_the_same_pairs(runs: Path) -> None:
    """Types in Chinese (企业, 高校, ...), reasons in Chinese; ids, names and scores as in
    English."""
    _, en = read(runs / "en.csv")
    _, zh = read(runs / "zh.csv")
    assert [(r["project"], r["expert"], r["score"]) for r in en] == [
        (r["项目编号"], r["专家编号"], r["分数"]) for r in zh
    ]
    assert [r["expert_name"] for r in en] == [r["姓名"] for r in zh]
    assert {r["单位性质"] for r in zh} <= ORG_TYPES_ZH and "企业" in {r["单位性质"] for r in zh}
    assert [VALUES["org_type"][r["org_type"]] for r in en] == [r["单位性质"] for r in zh]
    assert all(r["匹配理由"].endswith("专家") for r in zh)
    assert [VALUES["role"][r["role"]] for r in en] == [r["角色"] for r in zh]
    assert {r["角色"] for r in zh} == {"组长", "成员"}


def test_english_stays_the_default(runs: Path) -> None:
    """Without --lang the headers are the English ones of 0.1."""
    columns, rows = read(runs / "en.csv")
    assert columns[:3] == ["project", "expert", "score"] and "why" in columns
    assert rows[0]["why"].endswith(" expert")


def test_reserves_lang_zh(runs: Path) -> None:
    """reserves.csv in Chinese: 项目编号, 递补顺序, 专家编号, 可替换专家, ..."""
    en_columns, en = read(runs / "reserves_en.csv")
    zh_columns, zh = read(runs / "reserves_zh.csv")
    assert zh_columns == [header(c, "zh") for c in en_columns]
    assert zh_columns[:4] == ["项目编号", "递补顺序", "专家编号", "可替换专家"]
    assert [r["expert"] for r in en] == [r["专家编号"] for r in zh]


def test_demo_output_dir_lang_zh(tmp_path: Path) -> None:
    """``demo -o DIR --lang zh`` writes a Chinese assignment.csv (report.json stays English)."""
    assert main(["demo", "-o", str(tmp_path), "--lang", "zh"]) == 0
    columns, _ = read(tmp_path / "assignment.csv")
    assert columns[:2] == ["项目编号", "专家编号"]
    assert '"status"' in (tmp_path / "report.json").read_text(encoding="utf-8")


def test_reassign_lang_zh_workbook(tmp_path: Path) -> None:
    """``reassign -o new.xlsx --lang zh``: a Chinese workbook."""
    first = tmp_path / "first.csv"
    assert main(["assign", DEMO, "-o", str(first)]) == 0
    _, rows = read(first)
    declined = tmp_path / "declined.csv"
    declined.write_text(f"expert,project\n{rows[0]['expert']},{rows[0]['project']}\n")
    new = tmp_path / "new.xlsx"
    args = ["reassign", DEMO, "--previous", str(first), "--declined", str(declined)]
    assert main([*args, "-o", str(new), "--lang", "zh"]) == 0
    wb = openpyxl.load_workbook(new)
    assert wb.sheetnames[:2] == ["分配结果", "专家组名单"]
    assert [c.value for c in wb["分配结果"][1]][:2] == ["项目编号", "专家编号"]
    kinds = {c.value for c in wb["回避记录"]["D"][1:]}
    assert any("声明回避" in k for k in kinds)  # the decline is on the record


def test_unknown_language_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """``--lang fr`` is bad usage (exit 2), nothing written."""
    with pytest.raises(SystemExit) as stop:
        main(["assign", DEMO, "-o", str(tmp_path / "a.csv"), "--lang", "fr"])
    assert stop.value.code == 2
    assert not (tmp_path / "a.csv").exists()
    with pytest.raises(ValueError, match="lang must be one of en, zh"):
        header("project", "fr")


def test_the_mapping_covers_the_contract_table() -> None:
    """The contract's Chinese names and values are the ones written."""
    assert {HEADERS[c] for c in ("project", "expert", "expert_name", "organization")} == {
        "项目编号",
        "专家编号",
        "姓名",
        "工作单位",
    }
    assert HEADERS["org_type"] == "单位性质" and HEADERS["stage"] == "阶段"
    assert [value("org_type", t, "zh") for t in ORG_TYPES] == [
        "企业",
        "高校",
        "科研院所",
        "医院",
        "政府机关",
        "其他",
    ]
    assert [value("stage", s, "zh") for s in ("approval", "midterm", "acceptance")] == [
        "立项",
        "中期",
        "结题验收",
    ]
    assert value("role", "chair", "zh") == "组长" and value("role", "member", "zh") == "成员"
    assert value("kinds", "same_org;declared", "zh") == "本单位;声明回避"
    assert (
        header("expert 3", "zh") == "专家3" and header("unknown_column", "zh") == "unknown_column"
    )


def test_translate_leaves_english_frames_alone() -> None:
    """``translate(frame, "en")`` is the frame itself; a role column is translated in zh."""
    frame = pd.DataFrame({"expert": ["E1", "E2"], "role": ["chair", "member"]})
    assert translate(frame, "en") is frame
    zh = translate(frame, "zh")
    assert list(zh.columns) == ["专家编号", "角色"] and zh["角色"].tolist() == ["组长", "成员"]

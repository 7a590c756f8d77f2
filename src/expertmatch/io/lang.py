"""The words of the output files in the office's language: ``--lang zh`` (Chinese) or the
default ``en`` (English, unchanged).

One mapping for every table the package writes (``assignment.csv`` and the workbook's
sheets, ``reserves.csv``, ``probabilities.csv``); ``report.json`` stays in English, as a
record for programs. What is translated:

- **column headers** (:data:`HEADERS`): the data contract's Chinese names where it has one
  (项目编号, 专家编号, 姓名, 工作单位, 单位性质, 阶段, ...), plain office terms for the columns
  the package adds (分数, 匹配学科, 回避类型, ...); a panel's member columns ``expert 1``,
  ``expert 2``, ... become 专家1, 专家2, ...;
- **values** of the columns with a fixed vocabulary (:data:`VALUES`): ``org_type`` (企业, 高校,
  科研院所, 医院, 政府机关, 其他), ``stage`` (立项, 中期, 结题验收), ``role`` (组长, 成员), the
  conflict ``kinds`` (``;``-separated) and the labels of a summary sheet's ``figure`` column;
- **sentences** the package writes: each pair's ``why`` (:data:`WHY`) and each conflict's
  ``reason`` (:func:`reason_zh`, sentence by sentence from the English wording of
  ``expertmatch.domain.conflicts.explain_conflicts``; a sentence it does not know stays in
  English rather than being guessed);
- **sheet names** (:func:`sheet_name`): 分配结果, 专家组名单, 汇总-立项, 回避记录, ...

Identifiers, names, organizations, field codes and numbers are never changed. Knows nothing
of the package beyond these words; imports nothing of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import pandas as pd

LANGS = ("en", "zh")

#: Column headers in Chinese, by English column name.
HEADERS: Mapping[str, str] = {
    # assignment.csv / the workbook's ``pairs`` sheet
    "project": "项目编号",
    "expert": "专家编号",
    "score": "分数",
    "project_title": "项目名称",
    "expert_name": "姓名",
    "organization": "工作单位",
    "org_type": "单位性质",
    "matched_field": "匹配学科",
    "expert_field": "专家学科",
    "covers": "覆盖学科",
    "why": "匹配理由",
    "role": "角色",
    "chair": "组长",
    # panels, summary and conflicts sheets
    "stage": "阶段",
    "figure": "指标",
    "value": "数值",
    "kinds": "回避类型",
    "reason": "回避原因",
    # reserves.csv, probabilities.csv
    "rank": "递补顺序",
    "replaces": "可替换专家",
    "probability": "概率",
    # meetings (会评): the group columns and the sheet of each meeting
    "group": "分组",
    "slot": "时段",
    "room": "会议室",
    "item": "类别",
    "id": "编号",
    "name": "名称",
    "detail": "职称/项目名称",
    "steps_out": "回避",
}

_ORG_TYPES = {
    "enterprise": "企业",
    "university": "高校",
    "institute": "科研院所",
    "hospital": "医院",
    "government": "政府机关",
    "other": "其他",
    "unknown": "未知",
}

#: Values in Chinese, by English column name and value.
VALUES: Mapping[str, Mapping[str, str]] = {
    "org_type": _ORG_TYPES,
    "type": _ORG_TYPES,  # organizations.csv spells the column ``type``
    "stage": {"approval": "立项", "midterm": "中期", "acceptance": "结题验收"},
    "role": {"chair": "组长", "member": "成员"},
    "item": {
        "slot": "时段",
        "room": "会议室",
        "chair": "组长",
        "member": "成员",
        "project": "项目",
    },
    "kinds": {
        "same_org": "本单位",
        "org_group": "同一集团",
        "team": "项目组成员",
        "collaborator": "合作关系",
        "declared": "声明回避",
    },
    "figure": {
        "projects": "项目数",
        "seats": "评审席位",
        "reviews": "评审人次",
        "experts used": "参评专家人数",
        "enterprise seats": "企业专家席位",
        "enterprise share of seats (%)": "企业专家占比（%）",
        "lowest panel enterprise share (%)": "最低专家组企业专家占比（%）",
        "fields to cover": "需覆盖学科数",
        "fields covered": "已覆盖学科数",
        "largest load": "单人最多评审数",
        "mean load of used experts": "参评专家平均评审数",
        "loads (reviews: experts)": "评审数分布（评审数: 人数）",
        "mean score": "平均分数",
    },
}

#: The sheets of an output workbook, in Chinese.
SHEETS: Mapping[str, str] = {
    "pairs": "分配结果",
    "panels": "专家组名单",
    "summary": "汇总",
    "conflicts": "回避记录",
    "reserves": "递补专家",
    "probabilities": "概率",
}

#: The parts of a pair's ``why``: the field it matches, the fields it covers, its type.
WHY: Mapping[str, Mapping[str, str]] = {
    "en": {
        "field": "field {expert} matches {project}",
        "covers": "covers {keys}",
        "type": "{type} expert",
        "join": "; ",
        "list": ", ",
    },
    "zh": {
        "field": "学科 {expert} 对应 {project}",
        "covers": "覆盖 {keys}",
        "type": "{type}专家",
        "join": "；",
        "list": "、",
    },
}

_MEMBER = re.compile(r"expert (\d+)")


def check_lang(lang: str) -> str:
    """``lang`` if it is one of :data:`LANGS`; else a ValueError naming them."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return lang


def header(column: str, lang: str) -> str:
    """The header of ``column`` in ``lang`` (unknown columns keep their name)."""
    if check_lang(lang) == "en":
        return column
    if match := _MEMBER.fullmatch(column):
        return f"专家{match.group(1)}"
    return HEADERS.get(column, column)


def value(column: str, text: str, lang: str) -> str:
    """One cell of ``column`` in ``lang`` (a ``;``-separated list value by value)."""
    if check_lang(lang) == "en" or column not in VALUES:
        return text
    words = VALUES[column]
    if column == "kinds":
        return ";".join(words.get(k, k) for k in text.split(";")) if text else text
    return words.get(text, text)


def sheet_name(name: str, lang: str) -> str:
    """A sheet's name in ``lang``; ``summary <stage>`` becomes 汇总-立项 and so on."""
    if check_lang(lang) == "en":
        return name
    head, _, stage = name.partition(" ")
    if head == "summary" and stage:
        return f"{SHEETS['summary']}-{VALUES['stage'].get(stage, stage)}"
    if head == "meeting" and stage:  # one sheet a meeting group: 会评 G1
        return f"会评 {stage}"
    return SHEETS.get(name, name)


def translate(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` with headers and fixed-vocabulary values in ``lang`` (the same frame for
    ``en``). Sentences are written in ``lang`` where they are made (:data:`WHY`,
    :func:`reason_zh`), not here."""
    if check_lang(lang) == "en":
        return frame
    out = frame.copy()
    for column in out.columns:
        if column in VALUES:
            words = {
                v: value(column, v, lang) for v in pd.unique(out[column]) if isinstance(v, str)
            }
            out[column] = [words.get(v, v) for v in out[column]]
    return out.rename(columns={c: header(c, lang) for c in out.columns})


# --- conflict reasons --------------------------------------------------------------------

_RELATIONS = {
    "co-author": "合著",
    "co-project partner": "项目合作",
    "advisor": "师生",
    "relative": "亲属",
}
_ROLE = {"the applicant": "申报单位", "a partner": "合作单位"}


def _declared(m: re.Match[str]) -> str:
    note = m.group(1)
    return "声明回避：conflicts.csv 列明" + (f"（{note}）" if note else "")


def _declined(m: re.Match[str]) -> str:
    detail = m.group(1)
    if detail.startswith(": unavailable this round"):
        return f"声明回避：本轮无法参评{_where(detail.removeprefix(': unavailable this round'))}"
    return f"声明回避：谢绝评审本项目{_where(detail)}"


def _where(text: str) -> str:
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        return f"（{text[1:-1]}）"
    return f"（{text}）" if text else ""


def _collaborator(m: re.Match[str]) -> str:
    kind, member, when = m.group(1), m.group(2), m.group(3)
    year = "（未注明年份）" if when == " (no year given)" else f"（{when.removeprefix(' in ')}年）"
    return f"合作关系：与项目组成员 {member} 有{_RELATIONS.get(kind, kind)}关系{year}"


_REASONS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"same_org: the expert's organization (.+) is (the applicant|a partner)"),
        lambda m: f"本单位：专家所在单位 {m.group(1)} 是{_ROLE[m.group(2)]}",
    ),
    (
        re.compile(
            r"org_group: the expert's organization (.+) and (the applicant|a partner) (.+) "
            r"belong to the same group (.+)"
        ),
        lambda m: (
            f"同一集团：专家所在单位 {m.group(1)} 与{_ROLE[m.group(2)]} {m.group(3)} "
            f"同属 {m.group(4)}"
        ),
    ),
    (
        re.compile(r"team: the expert is on the applicant team"),
        lambda m: "项目组成员：专家是项目组成员",
    ),
    (
        re.compile(r"collaborator: (.+) of team member (.+?)( in -?\d+| \(no year given\))"),
        _collaborator,
    ),
    (re.compile(r"declared: listed in conflicts\.csv(?: \((.*)\))?"), _declared),
    (re.compile(r"declared: declined(.*)"), _declined),
)


def reason_zh(sentence: str) -> str:
    """One sentence of a conflict's reason (as :func:`explain_conflicts` words it) in
    Chinese; a sentence of unknown wording stays as it is."""
    for pattern, words in _REASONS:
        if match := pattern.fullmatch(sentence):
            return words(match)
    return sentence

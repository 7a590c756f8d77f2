"""Shared helpers for the input and CLI tests: a tiny valid batch as Python dicts, written to a
folder as CSV files (in any encoding), plus a finder for the issue an ``InputError`` names.

The tiny batch: two projects, five experts from five organizations, panels of 2 with at least
one enterprise expert (ceil(1/3 x 2) = 1). E1 is from P1's applicant U1 (``same_org``), E3 from
P2's applicant C1 (``same_org``); E2 is on P1's team (``team``). It is feasible.
"""

from __future__ import annotations

import copy
import csv
import io
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import expertmatch as em

Row = dict[str, Any]

TINY_RULES = """\
panel_size = 2
max_load = 2
yearly_cap = 10
enterprise_min_share = "1/3"
max_per_org = 1
coverage_level = 2
min_score = 0
reference_year = 2026
collaboration_window = 3
"""


def tiny_tables() -> dict[str, list[Row]]:
    """A fresh copy of the tiny valid batch, table name -> list of row dicts."""
    return copy.deepcopy(
        {
            "organizations": [
                {"id": "U1", "name": "浙江大学", "type": "university", "parent": ""},
                {"id": "U2", "name": "宁波大学", "type": "university", "parent": ""},
                {"id": "U3", "name": "温州大学", "type": "university", "parent": ""},
                {"id": "C1", "name": "杭州芯源微电子有限公司", "type": "enterprise", "parent": ""},
                {"id": "C2", "name": "宁波甬芯半导体有限公司", "type": "enterprise", "parent": ""},
            ],
            "experts": [
                {
                    "id": "E1",
                    "name": "江卫东",
                    "organization": "U1",
                    "org_type": "",
                    "fields": "520.20.10",
                    "max_load": "",
                    "used": "",
                    "keywords": "深度学习",
                },
                {
                    "id": "E2",
                    "name": "胡泽宇",
                    "organization": "U2",
                    "org_type": "",
                    "fields": "520.20.10;520.20.20",
                    "max_load": "",
                    "used": "1",
                    "keywords": "",
                },
                {
                    "id": "E3",
                    "name": "郑磊",
                    "organization": "C1",
                    "org_type": "",
                    "fields": "520.20.20",
                    "max_load": "2",
                    "used": "",
                    "keywords": "机器视觉",
                },
                {
                    "id": "E4",
                    "name": "卢伟民",
                    "organization": "C2",
                    "org_type": "enterprise",
                    "fields": "520.20.30",
                    "max_load": "",
                    "used": "0",
                    "keywords": "",
                },
                {
                    "id": "E5",
                    "name": "陆林峰",
                    "organization": "U3",
                    "org_type": "",
                    "fields": "520.20.10",
                    "max_load": "",
                    "used": "",
                    "keywords": "深度学习",
                },
            ],
            "projects": [
                {
                    "id": "P1",
                    "title": "基于深度学习的缺陷检测",
                    "organization": "U1",
                    "partners": "",
                    "fields": "520.20.10",
                    "panel_size": "",
                    "keywords": "深度学习;机器视觉",
                },
                {
                    "id": "P2",
                    "title": "工业视觉平台",
                    "organization": "C1",
                    "partners": "",
                    "fields": "520.20.20",
                    "panel_size": "",
                    "keywords": "机器视觉",
                },
            ],
            "members": [
                {"project": "P1", "person": "M001"},
                {"project": "P1", "person": "E2"},
            ],
        }
    )


def csv_text(rows: Iterable[Mapping[str, Any]], header: list[str] | None = None) -> str:
    """Rows as CSV text; the header is the union of the row keys (first-seen order)."""
    rows = list(rows)
    if header is None:
        header = list(dict.fromkeys(k for row in rows for k in row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in header])
    return buffer.getvalue()


def write_tables(
    folder: Path,
    tables: Mapping[str, Iterable[Mapping[str, Any]] | str],
    rules: str | None = TINY_RULES,
    encoding: str = "utf-8",
) -> Path:
    """Write each table as ``folder/<name>.csv`` (a ``str`` value is written verbatim) and
    ``rules.toml`` (unless ``rules`` is None). Returns ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        text = rows if isinstance(rows, str) else csv_text(rows)
        (folder / f"{name}.csv").write_bytes(text.encode(encoding))
    if rules is not None:
        (folder / "rules.toml").write_text(rules, encoding="utf-8")
    return folder


def load_error(path: Path, **kwargs: Any) -> em.InputError:
    """The InputError that loading ``path`` raises (fails the test if it loads)."""
    try:
        em.load(path, **kwargs)
    except em.InputError as err:
        return err
    raise AssertionError(f"{path} loaded without an InputError")


def find_issue(
    err: em.InputError,
    file: str,
    pattern: str,
    row: int | None = None,
    column: str | None = None,
) -> em.InputIssue:
    """The one issue of ``err`` in ``file`` (and ``row``/``column`` when given) whose message
    matches ``pattern``; fails with the full list of issues otherwise."""
    hits = [
        i
        for i in err.issues
        if i.file == file
        and (row is None or i.row == row)
        and (column is None or i.column == column)
        and re.search(pattern, i.message)
    ]
    assert hits, f"no issue ({file}, row {row}, column {column}, /{pattern}/) among:\n" + "\n".join(
        map(str, err.issues)
    )
    return hits[0]

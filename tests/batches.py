"""The hand-checkable batches every test builds on, and the helpers that write, read and break
them. Fixtures built from these live in ``conftest.py``.

Two batches, for two purposes:

- **tiny** (:func:`make`; the ``tiny`` fixture): one project and eight experts in four
  organizations, E1-E4 enterprise and E5-E8 university/institute, given as Python records. Rule
  and conflict tests change one thing in it and check the panel by hand.
- **two-project** (:func:`two_project_tables`, :data:`TWO_PROJECT_RULES`): two projects and
  five experts from five organizations with every optional column filled in, written to a
  folder as CSV files (in any encoding) by :func:`write_tables`. Panels of 2 with at least one
  enterprise expert (ceil(1/3 x 2) = 1). E1 is from P1's applicant U1 (``same_org``), E3 from
  P2's applicant C1 (``same_org``); E2 is on P1's team (``team``). It is feasible. Input and
  command-line tests break it one cell at a time (:func:`build` with :func:`cell`,
  :func:`add_rows`, ...) and find the issue the ``InputError`` names (:func:`find_issue`).
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

import expertmatch as em

# -- the tiny batch --------------------------------------------------------------------------

# Eight experts in four organizations; E1-E4 enterprise, E5-E8 university/institute.
ORGS = [
    {"id": "C1", "name": "钱塘智能科技", "type": "enterprise", "parent": ""},
    {"id": "C2", "name": "之江能源", "type": "enterprise", "parent": ""},
    {"id": "U1", "name": "浙江大学", "type": "university", "parent": ""},
    {"id": "I1", "name": "之江研究院", "type": "institute", "parent": ""},
    {"id": "A", "name": "申报单位", "type": "university", "parent": ""},
]
EXPERTS = [
    {"id": "E1", "name": "王一", "organization": "C1", "fields": "520.20.10"},
    {"id": "E2", "name": "李二", "organization": "C2", "fields": "520.20.10"},
    {"id": "E3", "name": "张三", "organization": "C1", "fields": "520.20.30"},
    {"id": "E4", "name": "赵四", "organization": "C2", "fields": "520.40.10"},
    {"id": "E5", "name": "钱五", "organization": "U1", "fields": "520.20.10"},
    {"id": "E6", "name": "孙六", "organization": "I1", "fields": "520.40.10"},
    {"id": "E7", "name": "周七", "organization": "U1", "fields": "520.20.30"},
    {"id": "E8", "name": "吴八", "organization": "I1", "fields": "520.40.20"},
]
PROJECTS = [{"id": "P1", "title": "工业视觉", "organization": "A", "fields": "520.20.10"}]


def make(
    experts: list[dict[str, Any]] | None = None,
    projects: list[dict[str, Any]] | None = None,
    organizations: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> em.Problem:
    """A batch from records (defaults: the tiny batch above) and keyword tables/rules."""
    return em.from_tables(
        experts=copy.deepcopy(EXPERTS if experts is None else experts),
        projects=copy.deepcopy(PROJECTS if projects is None else projects),
        organizations=copy.deepcopy(ORGS if organizations is None else organizations),
        **kwargs,
    )


def short_of_reviews() -> em.Problem:
    """Three panels of 3 (9 reviews) but eight experts with max_load 1: loads too small."""
    projects = [{**PROJECTS[0], "id": f"P{i}"} for i in (1, 2, 3)]
    return make(
        projects=projects,
        rules={
            "panel_size": 3,
            "max_load": 1,
            "enterprise_min_share": 0,
            "max_per_org": 3,
            "coverage_level": 0,
        },
    )


# -- the demo batch ----------------------------------------------------------------------------


def plain_rules(problem: em.Problem, **overrides: Any) -> em.Problem:
    """The batch under its part-1 rules only, with ``overrides`` (``max_probability=0.5``):
    the demo's office rules (stage tables, quotas, chair) set aside, for tests of what they do
    not concern (a random draw, the objectives, a rule of part 1 varied alone)."""
    rules = dataclasses.replace(problem.rules, stage={}, quota=(), chair=None)
    return problem.with_rules(rules.with_overrides(overrides) if overrides else rules)


# -- the two-project batch, written to files ---------------------------------------------

Row = dict[str, Any]

TWO_PROJECT_RULES = """\
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


def two_project_tables() -> dict[str, list[Row]]:
    """A fresh copy of the two-project batch, table name -> list of row dicts."""
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
    rules: str | None = TWO_PROJECT_RULES,
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


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of a CSV file the package wrote (UTF-8 with BOM) as dicts of strings."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def same_problem(a: em.Problem, b: em.Problem) -> None:
    """Assert that two problems hold the same people, projects, fields and eligible pairs."""
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


# -- breaking the two-project batch one thing at a time ---------------------------------

Batch = dict[str, Any]  # table name -> rows (or raw CSV text, or None = no file); "rules" -> str
Mutation = Callable[[Batch], None]


def cell(table: str, index: int, column: str, value: str) -> Mutation:
    """Set one cell: row ``index`` (0-based) of ``table``, ``column`` = ``value``."""

    def mutate(b: Batch) -> None:
        b[table][index][column] = value

    return mutate


def add_rows(table: str, *rows: dict[str, str]) -> Mutation:
    """Append rows to ``table`` (creating the table if the batch has none)."""

    def mutate(b: Batch) -> None:
        b.setdefault(table, [])
        b[table] = [*(b[table] or []), *rows]

    return mutate


def drop_table(table: str) -> Mutation:
    """Leave ``table``'s file out of the folder."""

    def mutate(b: Batch) -> None:
        b[table] = None

    return mutate


def drop_column(table: str, column: str) -> Mutation:
    """Remove ``column`` from every row of ``table``."""

    def mutate(b: Batch) -> None:
        for row in b[table]:
            del row[column]

    return mutate


def raw(table: str, text: str) -> Mutation:
    """Write ``table`` as this verbatim CSV text."""

    def mutate(b: Batch) -> None:
        b[table] = text

    return mutate


def rule(line: str) -> Mutation:
    """Set one rules.toml line (``key = value``), replacing the batch's own line."""
    key = line.split("=")[0].strip()

    def mutate(b: Batch) -> None:
        kept = [x for x in b["rules"].splitlines() if x.split("=")[0].strip() != key]
        b["rules"] = "\n".join([*kept, line]) + "\n"

    return mutate


def rules_text(text: str) -> Mutation:
    """Replace the whole rules.toml with ``text``."""

    def mutate(b: Batch) -> None:
        b["rules"] = text

    return mutate


def build(folder: Path, *mutations: Mutation) -> Path:
    """The two-project batch with ``mutations`` applied, written to ``folder``."""
    batch: Batch = {**two_project_tables(), "rules": TWO_PROJECT_RULES}
    for mutate in mutations:
        mutate(batch)
    rules = batch.pop("rules")
    tables = {k: v for k, v in batch.items() if v is not None}
    return write_tables(folder, tables, rules=rules)


def coverage_or_enterprise() -> em.Problem:
    """One panel of 2 from a, b (university) and e (enterprise): coverage of 1.1 and 1.2
    wants a and b, the enterprise share wants e; both cannot hold (relax tests)."""
    experts = [
        {"id": "a", "organization": "U1", "org_type": "university", "fields": "1.1.1"},
        {"id": "b", "organization": "U2", "org_type": "university", "fields": "1.2.1"},
        {"id": "e", "organization": "C1", "org_type": "enterprise", "fields": "1.3.1"},
    ]
    projects = [{"id": "P", "organization": "X", "fields": "1.1;1.2"}]
    scores = [{"expert": x, "project": "P", "score": s} for x, s in (("a", 3), ("b", 2), ("e", 1))]
    return em.from_tables(
        experts=experts,
        projects=projects,
        scores=scores,
        rules={"panel_size": 2, "enterprise_min_share": "1/2"},
    )


def combined_clash() -> em.Problem:
    """Two fields to cover and an enterprise seat on P's panel of two, and Q needing field
    1.3: each per-project check passes, but the three rules of P clash only together
    (diagnosis tests)."""
    experts = [
        {"id": "a", "organization": "U1", "org_type": "university", "fields": "1.1.1"},
        {"id": "b", "organization": "U2", "org_type": "university", "fields": "1.2.1"},
        {"id": "e", "organization": "C1", "org_type": "enterprise", "fields": "1.3.1"},
        {"id": "u", "organization": "U3", "org_type": "university", "fields": "1.3.2"},
    ]
    projects = [
        {"id": "P", "organization": "X", "fields": "1.1;1.2"},
        {"id": "Q", "organization": "X", "fields": "1.3"},
    ]
    return em.from_tables(
        experts=experts, projects=projects, rules={"panel_size": 2, "enterprise_min_share": "1/2"}
    )

"""Check every table of a batch up front and build the immutable :class:`Problem`.

This is the one place where input is judged. Every problem found is collected — file, row,
column and what is wrong — and raised together as one :class:`InputError`, so the office fixes
its export once, not one error at a time.

One check per table, run in a fixed order (taxonomy, organizations, experts, projects, members,
relations, conflicts, scores, papers), so the issues always come in the same order. Each check
reads the columns it needs once and returns what it built; the issues go to one
:class:`_Collector`.

The office's own spreadsheets (part 2 of the contract) are read as they come: organization types
in Chinese (企业, 高校, ...: :data:`ORG_TYPE_NAMES`), an organization named by its ``name`` in
``organizations.csv`` instead of its id when that name is unique, field lists separated by
``;`` ``；`` ``,`` ``，`` ``、`` or spaces (:func:`split_fields`). A field code a workbook
stored as a number is an issue that says so. Issues name a column as the office wrote it
(``学科代码 (fields)``).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from expertmatch.domain.fields import FieldTree
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.problem import ORG_TYPES, RELATION_KINDS, Papers, Problem, Relation
from expertmatch.domain.rules import MODES, STAGES, Rules, mode_name, stage_name
from expertmatch.errors import InputError, InputIssue
from expertmatch.io.tables import REQUIRED_TABLES, SCHEMA, Table, other_headers
from expertmatch.vocabulary import SCORE_DECIMALS

#: Largest whole number accepted in a table (loads, panel sizes, years).
WHOLE_MAX = 10**9
#: Organization types as the office writes them in Chinese.
ORG_TYPE_NAMES = {
    "企业": "enterprise",
    "高校": "university",
    "科研院所": "institute",
    "医院": "hospital",
    "政府机关": "government",
    "其他": "other",
}
#: What separates the codes of a field list (after NFKC: ``；`` is ``;``, ``，`` is ``,``).
FIELD_SEPARATORS = re.compile(r"[;,、\s]+")


class _Collector:
    """The issues found so far, in the order found; every check adds to the same one."""

    def __init__(self) -> None:
        self.issues: list[InputIssue] = []

    def add(
        self, table: Table, message: str, index: int | None = None, column: str | None = None
    ) -> None:
        row = table.row(index) if index is not None else None
        where = table.column_label(column) if column is not None else None
        self.issues.append(InputIssue(table.label, message, row, where))


# -- cells -----------------------------------------------------------------------------------


def split_list(cell: str) -> list[str]:
    """A ``;``-separated list cell, NFKC-normalised (full-width ；also separates)."""
    text = unicodedata.normalize("NFKC", cell)
    return [part.strip() for part in text.split(";") if part.strip()]


def split_fields(cell: str) -> list[str]:
    """A field list: codes separated by ``;`` ``；`` ``,`` ``，`` ``、`` or spaces (NFKC
    normalised)."""
    text = unicodedata.normalize("NFKC", cell)
    return [part for part in FIELD_SEPARATORS.split(text) if part]


#: Cells repeat (titles, regions, organization types, loads): the pure functions of one cell
#: below keep their last answers (immutable ones), so a large table parses each distinct
#: value once.
_CACHED = functools.lru_cache(maxsize=1 << 16)


@_CACHED
def _split_tuple(cell: str) -> tuple[str, ...]:
    """:func:`split_list` as a tuple (one parse per distinct cell)."""
    return tuple(split_list(cell))


@_CACHED
def _keywords(cell: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(k.casefold() for k in split_list(cell)))


@_CACHED
def _whole(text: str) -> int | None:
    """A whole number as written in a CSV or a workbook cell (``6`` or ``6.0``), else None.

    Numbers beyond +-10^9 are refused too: no load, panel or year is that large.
    """
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or not value.is_integer() or abs(value) > WHOLE_MAX:
        return None
    return int(value)


def _cells(table: Table, *names: str) -> list[list[str]]:
    """The named columns' cells, looked up once per table, not once per row.

    An absent optional column reads as empty cells (the table's one shared list: read it,
    never write to it).
    """
    return [table.column(name) for name in names]


def _unknown_type(kind: str) -> str:
    return (
        f"unknown organization type {kind!r}; expected one of {', '.join(ORG_TYPES)} "
        f"(or {', '.join(ORG_TYPE_NAMES)})"
    )


@_CACHED
def _org_type(cell: str) -> str:
    """An organization type as the contract spells it (企业 -> enterprise); "" if empty."""
    text = unicodedata.normalize("NFKC", cell).strip()
    return ORG_TYPE_NAMES.get(text, text.lower())


def _as_number(table: Table, i: int, column: str) -> str | None:
    """The message for a code cell a workbook stored as a number, else None."""
    if (i, column) not in table.numbers:
        return None
    code = table.column(column)[i]
    return (
        f"{code} was stored as a number: Excel drops trailing zeros ({code}0 → {code}); "
        "format the column as text and type the code again"
    )


def _whole_cell(
    out: _Collector, table: Table, at: tuple[int, str], text: str, minimum: int, what: str
) -> int:
    """An optional whole-number cell (row and column ``at``): its value, or -1 if empty or
    wrong (wrong cells are reported, ``what`` says why a too small value is wrong)."""
    if not text:
        return -1
    i, column = at
    value = _whole(text)
    if value is None:
        out.add(table, f"{text!r} is not a whole number", i, column)
        return -1
    if value < minimum:
        out.add(table, f"{what} ({value})", i, column)
        return -1
    return value


def _ref(
    out: _Collector,
    table: Table,
    at: tuple[int, str],
    value: str,
    known: Mapping[str, int],
    what: str,
) -> int:
    """The position of the expert or project a cell names, or -1 (reported) if empty or unknown."""
    i, column = at
    if not value:
        out.add(table, f"empty {what} id", i, column)
        return -1
    if value not in known:
        out.add(table, f"unknown {what} {value!r}", i, column)
        return -1
    return known[value]


def _field_list(
    out: _Collector,
    table: Table,
    i: int,
    cell: str,
    taxonomy: _Taxonomy,
    parsed: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None,
) -> tuple[str, ...]:
    """A ``fields`` cell: its distinct codes, each well formed and, with a taxonomy, listed;
    not a number that lost its trailing zeros. ``parsed`` keeps each distinct cell's codes and
    messages for the rows that repeat it (one dictionary per table)."""
    number = _as_number(table, i, "fields")
    if number is not None:
        out.add(table, number, i, "fields")
        return ()
    found = parsed.get(cell) if parsed is not None else None
    if found is None:
        found = _parse_fields(cell, taxonomy)
        if parsed is not None:
            parsed[cell] = found
    codes, messages = found
    for message in messages:
        out.add(table, message, i, "fields")
    return codes


def _parse_fields(cell: str, taxonomy: _Taxonomy) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A ``fields`` cell's distinct codes and what is wrong with it, in order."""
    codes = split_fields(cell)
    messages = [] if codes else ["empty field list"]
    for code in codes:
        if any(not part for part in code.split(".")):
            messages.append(f"malformed field code {code!r}")
        elif taxonomy.codes is not None and code not in taxonomy.codes:
            messages.append(f"field code {code!r} is not in {taxonomy.label}")
    return tuple(dict.fromkeys(codes)), tuple(messages)


def _check_ids(out: _Collector, table: Table, column: str = "id") -> dict[str, int]:
    """Each id's first row; empty and repeated ids are reported (a repeat is then ignored)."""
    seen: dict[str, int] = {}
    for i, value in enumerate(table.column(column)):
        if not value:
            out.add(table, "empty id", i, column)
        elif value in seen:
            out.add(
                table, f"duplicate id {value!r} (first at row {table.row(seen[value])})", i, column
            )
        else:
            seen[value] = i
    return seen


def _cycles(parents: Mapping[str, str]) -> list[list[str]]:
    if not _has_cycle(parents):
        return []
    import networkx as nx  # here: only a batch with a cycle of parent links needs it

    graph = nx.DiGraph([(child, parent) for child, parent in parents.items() if parent])
    return [sorted(c) for c in nx.simple_cycles(graph)]


def _has_cycle(parents: Mapping[str, str]) -> bool:
    """Do the parent links (each node at most one parent) loop anywhere? One walk per chain."""
    state: dict[str, bool] = {}  # node -> its chain is still being walked
    for start in parents:
        path, node = [], start
        while node and node not in state:
            state[node] = True
            path.append(node)
            node = parents.get(node, "")
        if node and state[node]:
            return True
        for seen in path:
            state[seen] = False
    return False


def _extra(table: Table, name: str, rows: list[int]) -> tuple[Mapping[str, str], ...]:
    """The cells of a table's columns that the contract does not name, row by row."""
    known = set(SCHEMA[name][0]) | set(SCHEMA[name][1])
    columns = {c: table.column(c) for c in table.columns if c not in known}
    return tuple(MappingProxyType({c: cells[i] for c, cells in columns.items()}) for i in rows)


# -- tables, one check each ------------------------------------------------------------------


def _check_tables(tables: Mapping[str, Table]) -> dict[str, Table]:
    """The tables whose required columns are all there; raises if a required table or any
    required column is missing (nothing else can be judged without them)."""
    out = _Collector()
    beside = next(iter(tables.values()), None)
    for name in REQUIRED_TABLES:
        if name not in tables:
            label = beside.label_for(name) if beside is not None else f"{name}.csv"
            out.issues.append(InputIssue(label, "required table missing"))
    usable: dict[str, Table] = {}
    for name, table in tables.items():
        required, _ = SCHEMA[name]
        missing = [c for c in required if c not in table.frame.columns]
        for column in missing:
            out.add(table, _missing_column(table, name, column), column=column)
        if not missing:
            usable[name] = table
    if out.issues:
        raise InputError(out.issues)
    return usable


def _missing_column(table: Table, name: str, column: str) -> str:
    """The message for a required column that is not there: what was found, and the other
    headers that would give it."""
    found = ", ".join(table.written.values()) or "no column"
    message = f"required column {column!r} missing (found: {found}"
    others = other_headers(name, column)
    if others:
        message += f"; {column!r} may also be written {'/'.join(others)}"
    return message + ")"


@dataclass(frozen=True)
class _Taxonomy:
    """``taxonomy.csv``: its codes (code -> row), None without the table; the tree if acyclic;
    its label for messages."""

    codes: dict[str, int] | None = None
    tree: FieldTree | None = None
    label: str = "taxonomy.csv"


def _check_taxonomy(out: _Collector, table: Table | None) -> _Taxonomy:
    """Unique codes, known parents, no cycle; no code stored as a number."""
    if table is None:
        return _Taxonomy()
    for i in range(len(table.frame)):
        for column in ("code", "parent"):
            number = _as_number(table, i, column)
            if number is not None:
                out.add(table, number, i, column)
    codes = _check_ids(out, table, "code")
    (parent_cells,) = _cells(table, "parent")
    parents = {}
    for code, i in codes.items():
        parent = parent_cells[i]
        if parent and parent not in codes:
            out.add(table, f"unknown parent code {parent!r}", i, "parent")
            parent = ""
        parents[code] = parent
    cycles = _cycles(parents)
    for cycle in cycles:
        out.add(table, f"parent links form a cycle: {' -> '.join(cycle)}", column="parent")
    tree = None if cycles else FieldTree.from_parents(parents)
    return _Taxonomy(codes, tree, table.label)


@dataclass
class _Orgs:
    """The organizations, by position: from ``organizations.csv`` (``listed``), else made up
    of the ids experts and projects name, in the order first named (no type, no parent)."""

    listed: bool
    ids: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    parent_ids: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    by_name: dict[str, list[str]] = field(default_factory=dict)
    """Name (as compared: :func:`_name_key`) -> the ids of the listed organizations so named."""
    label: str = "organizations.csv"

    def add(self, org: str, name: str, kind: str, parent: str) -> int:
        self.index[org] = len(self.ids)
        self.ids.append(org)
        self.names.append(name)
        self.types.append(kind)
        self.parent_ids.append(parent)
        return self.index[org]

    def resolve(self, out: _Collector, table: Table, at: tuple[int, str], value: str) -> int:
        """The position of the organization a cell names, by id or by a unique name: unknown
        or ambiguous ones are reported if the organizations are listed (-1), else added."""
        if value in self.index:
            return self.index[value]
        if not self.listed:
            return self.add(value, value, "", "")
        found, problem = self.named(value)
        if problem:
            out.add(table, problem, *at)
        return self.index[found] if found else -1

    def named(self, value: str, what: str = "organization") -> tuple[str, str]:
        """The id of the one listed organization named ``value`` and "", or "" and why not."""
        ids = self.by_name.get(_name_key(value), [])
        if len(ids) == 1:
            return ids[0], ""
        if ids:
            return "", (
                f"{what} name {value!r} is ambiguous: it is the name of "
                f"{', '.join(ids)} in {self.label}; give the id"
            )
        return "", f"unknown {what} {value!r} (not in {self.label})"

    def parents(self) -> list[int]:
        return [self.index[p] if p else -1 for p in self.parent_ids]


def _name_key(name: str) -> str:
    """An organization name as compared: NFKC (full-width brackets as ASCII), spaces collapsed,
    case folded."""
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def _check_organizations(out: _Collector, table: Table | None) -> _Orgs:
    """Unique ids, known types and parents (by id or unique name), no cycle of parent links."""
    if table is None:
        return _Orgs(listed=False)
    orgs = _Orgs(listed=True, label=table.label)
    known = _check_ids(out, table)
    types, names, parent_cells = _cells(table, "type", "name", "parent")
    for org, i in known.items():
        if names[i]:
            orgs.by_name.setdefault(_name_key(names[i]), []).append(org)
    for org, i in known.items():
        kind = _org_type(types[i])
        if kind and kind not in ORG_TYPES:
            out.add(table, _unknown_type(types[i]), i, "type")
        parent = parent_cells[i]
        if parent and parent not in known:
            parent, problem = orgs.named(parent, "parent organization")
            if problem:
                out.add(table, problem, i, "parent")
        orgs.add(org, names[i] or org, kind, parent)
    for cycle in _cycles(dict(zip(orgs.ids, orgs.parent_ids, strict=True))):
        out.add(table, f"parent links form a cycle: {' -> '.join(cycle)}", column="parent")
    return orgs


def _own_org(out: _Collector, table: Table, i: int, value: str, orgs: _Orgs) -> int:
    """An expert's or a project's ``organization`` cell: required and known."""
    if not value:
        out.add(table, "empty organization", i, "organization")
        return -1
    return orgs.resolve(out, table, (i, "organization"), value)


def _check_rows(out: _Collector, table: Table, what: str) -> dict[str, int]:
    """The ids of the experts or projects table (id -> row), which must not be empty."""
    if table.frame.empty:
        out.add(table, f"no {what}: the table has a header but no rows")
    return _check_ids(out, table)


@dataclass(frozen=True)
class _Experts:
    """The valid rows of ``experts.csv`` (first row of each id), column by column."""

    index: dict[str, int]
    org: list[int]
    org_type: list[str]
    fields: list[tuple[str, ...]]
    max_load: list[int]
    used: list[int]
    names: tuple[str, ...]
    keywords: tuple[tuple[str, ...], ...]
    extra: tuple[Mapping[str, str], ...]
    attributes: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)


#: Expert columns quotas and the chair may count besides every column the contract does not name.
ATTRIBUTE_COLUMNS = ("title", "region", "roles")


def _attributes(table: Table, rows: list[int]) -> dict[str, tuple[tuple[str, ...], ...]]:
    """Per attribute column (title, region, roles, and every unnamed column), each expert's
    ``;``-separated values."""
    known = set(SCHEMA["experts"][0]) | set(SCHEMA["experts"][1])
    names = [c for c in ATTRIBUTE_COLUMNS if c in table.columns]
    names += [str(c) for c in table.columns if c not in known]
    out = {}
    for name in names:
        cells = table.column(name)
        out[name] = tuple(_split_tuple(cells[i]) for i in rows)
    return out


def _check_experts(out: _Collector, table: Table, orgs: _Orgs, taxonomy: _Taxonomy) -> _Experts:
    """Organization, type, fields, ``max_load`` and ``used`` of each expert."""
    index = _check_rows(out, table, "experts")
    rows = list(index.values())
    org_cells, type_cells, field_cells, load_cells, used_cells, names, keywords = _cells(
        table, "organization", "org_type", "fields", "max_load", "used", "name", "keywords"
    )
    org, kinds, fields, load, used = [], [], [], [], []
    parsed: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for i in rows:
        o = _own_org(out, table, i, org_cells[i], orgs)
        org.append(o)
        given = _org_type(type_cells[i])
        if given and given not in ORG_TYPES:
            out.add(table, _unknown_type(type_cells[i]), i, "org_type")
        kinds.append(given or (orgs.types[o] if o >= 0 else ""))
        fields.append(_field_list(out, table, i, field_cells[i], taxonomy, parsed))
        load.append(_whole_cell(out, table, (i, "max_load"), load_cells[i], 0, "negative load"))
        count = _whole_cell(out, table, (i, "used"), used_cells[i], 0, "negative used count")
        used.append(max(count, 0))
    return _Experts(
        index,
        org,
        kinds,
        fields,
        load,
        used,
        names=tuple(names[i] for i in rows),
        keywords=tuple(_keywords(keywords[i]) for i in rows),
        extra=_extra(table, "experts", rows),
        attributes=_attributes(table, rows),
    )


@dataclass(frozen=True)
class _Projects:
    """The valid rows of ``projects.csv`` (first row of each id), column by column."""

    index: dict[str, int]
    org: list[int]
    partners: list[tuple[int, ...]]
    fields: list[tuple[str, ...]]
    panel_size: list[int]
    titles: tuple[str, ...]
    keywords: tuple[tuple[str, ...], ...]
    extra: tuple[Mapping[str, str], ...]
    stage: tuple[str, ...] = ()
    enterprise_min: tuple[int, ...] = ()
    mode: tuple[str, ...] = ()
    group: tuple[str, ...] = ()
    abstracts: tuple[str, ...] = ()


def _check_modes(out: _Collector, table: Table, rows: list[int]) -> tuple[str, ...]:
    """Each project's ``mode`` cell (``panel``, ``meeting`` or the office's 会评/函评; "" when
    empty); an unknown mode is an issue."""
    cells = table.column("mode")
    modes = []
    for i in rows:
        mode = mode_name(cells[i])
        if mode is None:
            out.add(
                table,
                f"unknown mode {cells[i]!r}; expected one of {', '.join(MODES)} (or 会评, 函评)",
                i,
                "mode",
            )
        modes.append(mode or "")
    return tuple(modes)


def _check_stages(out: _Collector, table: Table, rows: list[int]) -> tuple[str, ...]:
    """Each project's stage (``approval`` when empty); an unknown stage is an issue."""
    cells = table.column("stage")
    stages = []
    for i in rows:
        stage = stage_name(cells[i])
        if stage is None:
            out.add(
                table,
                f"unknown stage {cells[i]!r}; expected one of {', '.join(STAGES)} "
                "(or 立项, 中期, 结题验收)",
                i,
                "stage",
            )
        stages.append(stage or "approval")
    return tuple(stages)


def _check_projects(out: _Collector, table: Table, orgs: _Orgs, taxonomy: _Taxonomy) -> _Projects:
    """Organization, partners, fields and ``panel_size`` of each project."""
    index = _check_rows(out, table, "projects")
    rows = list(index.values())
    org_cells, partner_cells, field_cells, size_cells, titles, keywords = _cells(
        table, "organization", "partners", "fields", "panel_size", "title", "keywords"
    )
    org, partners, fields, size = [], [], [], []
    parsed: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for i in rows:
        org.append(_own_org(out, table, i, org_cells[i], orgs))
        named = [orgs.resolve(out, table, (i, "partners"), o) for o in split_list(partner_cells[i])]
        partners.append(tuple(dict.fromkeys(o for o in named if o >= 0)))
        fields.append(_field_list(out, table, i, field_cells[i], taxonomy, parsed))
        size.append(
            _whole_cell(
                out, table, (i, "panel_size"), size_cells[i], 1, "panel size must be at least 1"
            )
        )
    return _Projects(
        index,
        org,
        partners,
        fields,
        size,
        titles=tuple(titles[i] for i in rows),
        keywords=tuple(_keywords(keywords[i]) for i in rows),
        extra=_extra(table, "projects", rows),
        stage=_check_stages(out, table, rows),
        enterprise_min=tuple(
            _whole_cell(
                out, table, (i, "enterprise_min"), cell, 0, "enterprise_min must not be negative"
            )
            for i, cell in ((i, table.column("enterprise_min")[i]) for i in rows)
        ),
        mode=_check_modes(out, table, rows),
        group=tuple(table.column("group")[i] for i in rows),
        abstracts=tuple(table.column("abstract")[i] for i in rows),
    )


def _positions(index: Mapping[str, int]) -> dict[str, int]:
    """Id -> position among the valid rows (what the Problem's arrays are indexed by)."""
    return {key: k for k, key in enumerate(index)}


def _check_members(
    out: _Collector, table: Table | None, projects: Mapping[str, int]
) -> tuple[tuple[str, ...], ...]:
    """Each project's team (distinct people, in order); rows name a known project and a person."""
    team: list[list[str]] = [[] for _ in projects]
    if table is not None:
        project_cells, person_cells = _cells(table, "project", "person")
        for i, (project, person) in enumerate(zip(project_cells, person_cells, strict=True)):
            p = _ref(out, table, (i, "project"), project, projects, "project")
            if not person:
                out.add(table, "empty person", i, "person")
            elif p >= 0:
                team[p].append(person)
    return tuple(tuple(dict.fromkeys(m)) for m in team)


def _check_relations(out: _Collector, table: Table | None) -> tuple[Relation, ...]:
    """Every row as a :class:`Relation`: both people named, a known kind, a year if given."""
    if table is None:
        return ()
    relations = []
    columns = _cells(table, "a", "b", "kind", "year")
    for i, (a, b, kind_cell, text) in enumerate(zip(*columns, strict=True)):
        kind = kind_cell.lower()
        for col, value in (("a", a), ("b", b)):
            if not value:
                out.add(table, "empty person", i, col)
        if kind not in RELATION_KINDS:
            out.add(
                table,
                f"unknown relation kind {kind!r}; expected one of {', '.join(RELATION_KINDS)}",
                i,
                "kind",
            )
        year = _whole(text) if text else None
        if text and year is None:
            out.add(table, f"{text!r} is not a year", i, "year")
        relations.append(Relation(a, b, kind, year))
    return tuple(relations)


def _check_conflicts(
    out: _Collector,
    table: Table | None,
    experts: Mapping[str, int],
    projects: Mapping[str, int],
) -> dict[tuple[int, int], str]:
    """Declared conflicts, (project, expert) -> reason; both must be known."""
    declared: dict[tuple[int, int], str] = {}
    if table is None:
        return declared
    columns = _cells(table, "expert", "project", "reason")
    for i, (expert, project, reason) in enumerate(zip(*columns, strict=True)):
        e = _ref(out, table, (i, "expert"), expert, experts, "expert")
        p = _ref(out, table, (i, "project"), project, projects, "project")
        if e >= 0 and p >= 0:
            declared[(p, e)] = reason
    return declared


def _check_scores(
    out: _Collector,
    table: Table | None,
    expert_pos: Mapping[str, int],
    project_pos: Mapping[str, int],
) -> Pairs | None:
    """``scores.csv``, vectorised (it can hold millions of rows): sorted arrays of pairs."""
    if table is None:
        return None
    experts = table.frame["expert"].to_numpy(dtype=object)
    projects = table.frame["project"].to_numpy(dtype=object)
    text = table.frame["score"].to_numpy(dtype=object)
    e = _index_of(experts, expert_pos)
    p = _index_of(projects, project_pos)
    score = _numbers(text)
    for name, ids, idx in (("expert", experts, e), ("project", projects, p)):
        for i in np.flatnonzero(idx < 0):
            what = f"unknown {name} {ids[i]!r}" if ids[i] else f"empty {name} id"
            out.add(table, what, int(i), name)
    for i in np.flatnonzero(~((score >= 0) & np.isfinite(score))):
        try:
            float(text[i])  # a number, but NaN, infinite or negative
            message = f"score must be a number >= 0, not {text[i]!r}"
        except ValueError:
            message = f"{text[i]!r} is not a number"
        out.add(table, message, int(i), "score")
    ok = (e >= 0) & (p >= 0) & np.isfinite(score) & (score >= 0)
    rows = np.flatnonzero(ok)
    key = p[ok] * max(len(expert_pos), 1) + e[ok]
    if not (key[1:] > key[:-1]).all():  # a file sorted by project, then expert, stays as it is
        order = np.argsort(key, kind="stable")
        key, rows = key[order], rows[order]
    repeat = np.flatnonzero(key[1:] == key[:-1]) + 1
    for k in repeat:
        first = rows[np.searchsorted(key, key[k])]
        out.add(
            table, f"duplicate pair (first at row {table.row(int(first))})", int(rows[k]), "expert"
        )
    n = max(len(expert_pos), 1)
    return Pairs(key // n, key % n, np.round(score[rows], SCORE_DECIMALS))


# -- meetings (会评) ---------------------------------------------------------------------------


def _check_availability(
    out: _Collector, table: Table | None, experts: Mapping[str, int], rules: Rules
) -> dict[int, frozenset[str]] | None:
    """``availability.csv``: expert -> the slots they can come to. Every row names a known
    expert and one of the ``[meeting]`` slots."""
    if table is None:
        return None
    slots = set(rules.meeting.slots) if rules.meeting is not None else set()
    found: dict[int, set[str]] = {}
    for i, (expert, slot) in enumerate(zip(*_cells(table, "expert", "slot"), strict=True)):
        e = _ref(out, table, (i, "expert"), expert, experts, "expert")
        if not slot:
            out.add(table, "empty slot", i, "slot")
        elif slot not in slots:
            listed = ", ".join(sorted(slots)) if slots else "none: [meeting] gives no slots"
            out.add(table, f"unknown slot {slot!r} (the slots of [meeting]: {listed})", i, "slot")
        elif e >= 0:
            found.setdefault(e, set()).add(slot)
    return {e: frozenset(v) for e, v in found.items()}


def _check_groups(out: _Collector, table: Table, projects: _Projects, rules: Rules) -> None:
    """The ``group`` column: only on meeting projects; one stage a group; within
    ``group_size`` (a group the office fixes is closed: the solver adds nobody to it)."""
    rows = list(projects.index.values())
    meeting = _meeting_flags(projects, rules)
    members: dict[str, list[int]] = {}
    for k, (i, group) in enumerate(zip(rows, projects.group, strict=True)):
        if group and not meeting[k]:
            out.add(table, f"group {group!r} given but the project's mode is panel", i, "group")
        elif group:
            members.setdefault(group, []).append(k)
    low, high = rules.meeting.group_size if rules.meeting else (6, 12)
    for group, ks in members.items():
        stages = sorted({projects.stage[k] for k in ks})
        if len(stages) > 1 and rules.stage_dependent:
            out.add(
                table,
                f"group {group!r} mixes stages {', '.join(stages)}, whose rules differ",
                rows[ks[0]],
                "group",
            )
        if not low <= len(ks) <= high:
            out.add(
                table,
                f"group {group!r} has {len(ks)} projects; meeting group_size is {low} to {high}",
                rows[ks[0]],
                "group",
            )


def _meeting_flags(projects: _Projects, rules: Rules) -> list[bool]:
    """Per valid project row: reviewed in a meeting (its mode, else its stage's)?"""
    stages = projects.stage or ("approval",) * len(projects.index)
    modes = projects.mode or ("",) * len(projects.index)
    return [(m or rules.stage_mode(s)) == "meeting" for m, s in zip(modes, stages, strict=True)]
def _check_papers(
    out: _Collector, table: Table | None, experts: Mapping[str, int]
) -> Papers | None:
    """``papers.csv``: each row names a known expert and has a title; the abstract may be
    empty (the title is then the paper's text); a year, if given, is a whole number."""
    if table is None:
        return None
    owner, titles, abstracts, years = [], [], [], []
    columns = _cells(table, "expert", "title", "abstract", "year")
    for i, (expert, title, abstract, text) in enumerate(zip(*columns, strict=True)):
        e = _ref(out, table, (i, "expert"), expert, experts, "expert")
        if not title:
            out.add(
                table,
                "empty title (a paper needs its title; the abstract may be empty)",
                i,
                "title",
            )
        year = _whole(text) if text else -1
        if year is None:
            out.add(table, f"{text!r} is not a year", i, "year")
        if e >= 0 and title and year is not None:
            owner.append(e)
            titles.append(title)
            abstracts.append(abstract)
            years.append(year)
    return Papers(
        np.array(owner, dtype=np.int64),
        tuple(titles),
        tuple(abstracts),
        np.array(years, dtype=np.int64),
    )


def _index_of(ids: np.ndarray, positions: Mapping[str, int]) -> np.ndarray:
    """Each id's position (int64), -1 where it is unknown or empty: one hash lookup per
    distinct id (pandas' indexer), not one dictionary lookup per row."""
    index = pd.Index(list(positions), dtype=object)
    found = index.get_indexer(ids).astype(np.int64)
    if len(positions) and list(positions.values()) != list(range(len(positions))):
        found = np.where(found >= 0, np.array(list(positions.values()))[found], -1)
    return found


#: Characters of a plain decimal number (``12``, ``3.75``, ``1e-3``).
_DECIMAL = b"0123456789.eE+-"


def _numbers(text: np.ndarray) -> np.ndarray:
    """Each cell as a float, NaN where it is not a number (``pandas.to_numeric``'s rule).

    A column of plain decimals (nothing but digits, ``.``, ``e``, signs) is converted in one
    C loop with Python's ``float``; anything else (empty cells, ``nan``, ``1_000``,
    full-width digits) goes through ``pandas.to_numeric``, which refuses what is no plain
    number. Both read every plain decimal alike (``float`` rounds correctly where pandas may
    be one unit in the last place off, at exponents beyond 20).
    """
    joined = "".join(text)
    if joined.isascii() and not joined.encode("ascii").translate(None, _DECIMAL):
        try:
            return np.asarray(text, dtype=float)
        except ValueError:
            pass  # an empty cell, or ``1e``: the careful conversion names it
    series = pd.Series(text, dtype=object)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


# -- the whole batch -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Batch:
    """Everything the checks built, once every table passed them."""

    tree: FieldTree
    orgs: _Orgs
    experts: _Experts
    projects: _Projects
    members: tuple[tuple[str, ...], ...]
    relations: tuple[Relation, ...]
    declared: dict[tuple[int, int], str]
    supplied: Pairs | None
    availability: dict[int, frozenset[str]] | None = None
    papers: Papers | None = None


def _check_batch(tables: Mapping[str, Table], rules: Rules | None = None) -> _Batch:
    """Run every table's check in order; raise one :class:`InputError` with all their issues
    (missing tables and required columns first, alone: the rest cannot be checked without
    them)."""
    usable = _check_tables(tables)
    out = _Collector()
    taxonomy = _check_taxonomy(out, usable.get("taxonomy"))
    orgs = _check_organizations(out, usable.get("organizations"))
    experts = _check_experts(out, usable["experts"], orgs, taxonomy)
    projects = _check_projects(out, usable["projects"], orgs, taxonomy)
    expert_pos, project_pos = _positions(experts.index), _positions(projects.index)
    members = _check_members(out, usable.get("members"), project_pos)
    relations = _check_relations(out, usable.get("relations"))
    declared = _check_conflicts(out, usable.get("conflicts"), expert_pos, project_pos)
    supplied = _check_scores(out, usable.get("scores"), expert_pos, project_pos)
    rules = rules or Rules()
    _check_groups(out, usable["projects"], projects, rules)
    availability = _check_availability(out, usable.get("availability"), expert_pos, rules)
    papers = _check_papers(out, usable.get("papers"), expert_pos)
    if out.issues:
        raise InputError(out.issues)
    tree = taxonomy.tree
    if tree is None:  # no taxonomy: the tree of the dotted codes in use
        tree = FieldTree.from_codes({c for fs in experts.fields + projects.fields for c in fs})
    return _Batch(
        tree, orgs, experts, projects, members, relations, declared, supplied, availability, papers
    )


def build_problem(
    tables: Mapping[str, Table], rules: Rules, sha256: str = "", source: str = "python"
) -> Problem:
    """Validate raw tables against the data contract and build the :class:`Problem`.

    Raises one :class:`InputError` with every issue of every table.
    """
    batch = _check_batch(tables, rules)
    orgs, experts, projects = batch.orgs, batch.experts, batch.projects
    return Problem(
        rules=rules,
        expert_ids=tuple(experts.index),
        expert_names=experts.names,
        expert_org=np.array(experts.org),
        expert_type=tuple(experts.org_type),
        expert_fields=tuple(experts.fields),
        expert_keywords=experts.keywords,
        expert_max_load_given=np.array(experts.max_load),
        expert_used=np.array(experts.used),
        org_ids=tuple(orgs.ids),
        org_names=tuple(orgs.names),
        org_types=tuple(orgs.types),
        org_parent=np.array(orgs.parents(), dtype=np.int64),
        project_ids=tuple(projects.index),
        project_titles=projects.titles,
        project_org=np.array(projects.org),
        project_partners=tuple(projects.partners),
        project_fields=tuple(projects.fields),
        project_keywords=projects.keywords,
        project_panel_size_given=np.array(projects.panel_size),
        members=batch.members,
        relations=batch.relations,
        declared=batch.declared,
        supplied_scores=batch.supplied,
        field_tree=batch.tree,
        input_sha256=sha256,
        source=source,
        attributes={"experts": experts.extra, "projects": projects.extra},
        project_stage=projects.stage,
        project_enterprise_min_given=np.array(projects.enterprise_min, dtype=np.int64),
        expert_attributes=experts.attributes,
        project_mode_given=projects.mode,
        project_group=projects.group,
        availability=batch.availability,
        project_abstracts=projects.abstracts,
        papers=batch.papers,
    )

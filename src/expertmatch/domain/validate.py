"""Check every table of a batch up front and build the immutable :class:`Problem`.

This is the one place where input is judged. Every problem found is collected — file, row,
column and what is wrong — and raised together as one :class:`InputError`, so the office fixes
its export once, not one error at a time.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

import networkx as nx
import numpy as np
import pandas as pd

from expertmatch.domain.fields import FieldTree
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.problem import ORG_TYPES, RELATION_KINDS, Problem, Relation
from expertmatch.domain.rules import Rules
from expertmatch.errors import InputError, InputIssue
from expertmatch.io.tables import REQUIRED_TABLES, SCHEMA, Table
from expertmatch.vocabulary import SCORE_DECIMALS


class _Collector:
    def __init__(self) -> None:
        self.issues: list[InputIssue] = []

    def add(
        self, table: Table, message: str, index: int | None = None, column: str | None = None
    ) -> None:
        row = table.row(index) if index is not None else None
        self.issues.append(InputIssue(table.label, message, row, column))


def split_list(cell: str) -> list[str]:
    """A ``;``-separated list cell, NFKC-normalised (full-width ；also separates)."""
    text = unicodedata.normalize("NFKC", cell)
    return [part.strip() for part in text.split(";") if part.strip()]


def _keywords(cell: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(k.casefold() for k in split_list(cell)))


#: Largest whole number accepted in a table (loads, panel sizes, years).
WHOLE_MAX = 10**9


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


def _column(table: Table, name: str) -> list[str]:
    return table.column(name)


def _check_ids(out: _Collector, table: Table, column: str = "id") -> dict[str, int]:
    seen: dict[str, int] = {}
    for i, value in enumerate(_column(table, column)):
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
    graph = nx.DiGraph([(child, parent) for child, parent in parents.items() if parent])
    return [sorted(c) for c in nx.simple_cycles(graph)]


def _scores(
    out: _Collector, table: Table, expert_pos: Mapping[str, int], project_pos: Mapping[str, int]
) -> Pairs:
    """``scores.csv``, vectorised (it can hold millions of rows): sorted arrays of pairs."""
    experts = pd.Series(table.column("expert"), dtype=object)
    projects = pd.Series(table.column("project"), dtype=object)
    text = pd.Series(table.column("score"), dtype=object)
    e = experts.map(expert_pos).to_numpy(dtype=float)
    p = projects.map(project_pos).to_numpy(dtype=float)
    score = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    for name, ids, idx in (("expert", experts, e), ("project", projects, p)):
        for i in np.flatnonzero(np.isnan(idx)):
            what = f"unknown {name} {ids[i]!r}" if ids[i] else f"empty {name} id"
            out.add(table, what, int(i), name)
    for i in np.flatnonzero(~((score >= 0) & np.isfinite(score))):
        try:
            float(text[i])  # a number, but NaN, infinite or negative
            message = f"score must be a number >= 0, not {text[i]!r}"
        except ValueError:
            message = f"{text[i]!r} is not a number"
        out.add(table, message, int(i), "score")
    ok = ~np.isnan(e) & ~np.isnan(p) & np.isfinite(score) & (score >= 0)
    rows = np.flatnonzero(ok)
    key = p[ok].astype(np.int64) * max(len(expert_pos), 1) + e[ok].astype(np.int64)
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


def build_problem(
    tables: Mapping[str, Table], rules: Rules, sha256: str = "", source: str = "python"
) -> Problem:
    """Validate raw tables against the data contract and build the :class:`Problem`."""
    out = _Collector()
    for name in REQUIRED_TABLES:
        if name not in tables:
            out.issues.append(InputIssue(f"{name}.csv", "required table missing"))
    usable: dict[str, Table] = {}
    for name, table in tables.items():
        required, _ = SCHEMA[name]
        missing = [c for c in required if c not in table.frame.columns]
        for column in missing:
            out.add(table, f"required column {column!r} missing", column=column)
        if not missing:
            usable[name] = table
    if out.issues:
        raise InputError(out.issues)

    # -- field taxonomy ---------------------------------------------------------------
    taxonomy = usable.get("taxonomy")
    tree: FieldTree | None = None
    taxonomy_codes: dict[str, int] = {}
    if taxonomy is not None:
        codes = taxonomy_codes = _check_ids(out, taxonomy, "code")
        parents = {}
        for code, i in codes.items():
            parent = _column(taxonomy, "parent")[i]
            if parent and parent not in codes:
                out.add(taxonomy, f"unknown parent code {parent!r}", i, "parent")
                parent = ""
            parents[code] = parent
        cycles = _cycles(parents)
        for cycle in cycles:
            out.add(taxonomy, f"parent links form a cycle: {' -> '.join(cycle)}", column="parent")
        if not cycles:
            tree = FieldTree.from_parents(parents)

    def field_list(table: Table, i: int) -> tuple[str, ...]:
        codes = split_list(_column(table, "fields")[i])
        if not codes:
            out.add(table, "empty field list", i, "fields")
        for code in codes:
            if any(not part for part in code.split(".")) or " " in code:
                out.add(table, f"malformed field code {code!r}", i, "fields")
            elif taxonomy is not None and code not in taxonomy_codes:
                out.add(table, f"field code {code!r} is not in taxonomy.csv", i, "fields")
        return tuple(dict.fromkeys(codes))

    # -- organizations ----------------------------------------------------------------
    org_table = usable.get("organizations")
    org_ids: list[str] = []
    org_names: list[str] = []
    org_types: list[str] = []
    org_parent_id: list[str] = []
    if org_table is not None:
        known = _check_ids(out, org_table)
        types, names = _column(org_table, "type"), _column(org_table, "name")
        parent_col = _column(org_table, "parent")
        parent_links: dict[str, str] = {}
        for org, i in known.items():
            kind = types[i].lower()
            if kind and kind not in ORG_TYPES:
                out.add(
                    org_table,
                    f"unknown organization type {types[i]!r}; expected one of "
                    f"{', '.join(ORG_TYPES)}",
                    i,
                    "type",
                )
            parent = parent_col[i]
            if parent and parent not in known:
                out.add(org_table, f"unknown parent organization {parent!r}", i, "parent")
                parent = ""
            org_ids.append(org)
            org_names.append(names[i] or org)
            org_types.append(kind)
            org_parent_id.append(parent)
            parent_links[org] = parent
        for cycle in _cycles(parent_links):
            out.add(org_table, f"parent links form a cycle: {' -> '.join(cycle)}", column="parent")
    org_index = {o: i for i, o in enumerate(org_ids)}

    def org_of(table: Table, i: int, column: str, value: str) -> int:
        if value in org_index:
            return org_index[value]
        if org_table is not None:
            out.add(table, f"unknown organization {value!r} (not in organizations.csv)", i, column)
            return -1
        org_index[value] = len(org_ids)
        org_ids.append(value)
        org_names.append(value)
        org_types.append("")
        org_parent_id.append("")
        return org_index[value]

    def whole(table: Table, i: int, column: str, minimum: int, what: str) -> int:
        text = _column(table, column)[i]
        if not text:
            return -1
        value = _whole(text)
        if value is None:
            out.add(table, f"{text!r} is not a whole number", i, column)
            return -1
        if value < minimum:
            out.add(table, f"{what} ({value})", i, column)
            return -1
        return value

    # -- experts ----------------------------------------------------------------------
    experts = usable["experts"]
    if experts.frame.empty:
        out.add(experts, "no experts: the table has a header but no rows")
    expert_index = _check_ids(out, experts)
    e_rows = list(expert_index.values())
    e_org, e_type, e_fields, e_load, e_used = [], [], [], [], []
    for i in e_rows:
        organization = _column(experts, "organization")[i]
        if not organization:
            out.add(experts, "empty organization", i, "organization")
        o = org_of(experts, i, "organization", organization) if organization else -1
        e_org.append(o)
        given = _column(experts, "org_type")[i].lower()
        if given and given not in ORG_TYPES:
            out.add(
                experts,
                f"unknown organization type {given!r}; expected one of {', '.join(ORG_TYPES)}",
                i,
                "org_type",
            )
        e_type.append(given or (org_types[o] if o >= 0 else ""))
        e_fields.append(field_list(experts, i))
        e_load.append(whole(experts, i, "max_load", 0, "negative load"))
        used = whole(experts, i, "used", 0, "negative used count")
        e_used.append(max(used, 0))

    # -- projects ---------------------------------------------------------------------
    projects = usable["projects"]
    if projects.frame.empty:
        out.add(projects, "no projects: the table has a header but no rows")
    project_index = _check_ids(out, projects)
    p_rows = list(project_index.values())
    p_org, p_partners, p_fields, p_size = [], [], [], []
    for i in p_rows:
        organization = _column(projects, "organization")[i]
        if not organization:
            out.add(projects, "empty organization", i, "organization")
        p_org.append(org_of(projects, i, "organization", organization) if organization else -1)
        partners = [
            org_of(projects, i, "partners", o) for o in split_list(_column(projects, "partners")[i])
        ]
        p_partners.append(tuple(dict.fromkeys(o for o in partners if o >= 0)))
        p_fields.append(field_list(projects, i))
        p_size.append(whole(projects, i, "panel_size", 1, "panel size must be at least 1"))

    # -- people, conflicts, scores ----------------------------------------------------
    members: list[list[str]] = [[] for _ in p_rows]
    project_pos = {p: k for k, p in enumerate(project_index)}
    expert_pos = {e: k for k, e in enumerate(expert_index)}

    def ref(table: Table, i: int, column: str, known: Mapping[str, int], what: str) -> int:
        value = _column(table, column)[i]
        if not value:
            out.add(table, f"empty {what} id", i, column)
            return -1
        if value not in known:
            out.add(table, f"unknown {what} {value!r}", i, column)
            return -1
        return known[value]

    if "members" in usable:
        table = usable["members"]
        for i in range(len(table.frame)):
            p = ref(table, i, "project", project_pos, "project")
            person = _column(table, "person")[i]
            if not person:
                out.add(table, "empty person", i, "person")
            elif p >= 0:
                members[p].append(person)

    relations: list[Relation] = []
    if "relations" in usable:
        table = usable["relations"]
        for i in range(len(table.frame)):
            a, b = _column(table, "a")[i], _column(table, "b")[i]
            kind = _column(table, "kind")[i].lower()
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
            text = _column(table, "year")[i]
            year = _whole(text) if text else None
            if text and year is None:
                out.add(table, f"{text!r} is not a year", i, "year")
            relations.append(Relation(a, b, kind, year))

    declared: dict[tuple[int, int], str] = {}
    if "conflicts" in usable:
        table = usable["conflicts"]
        for i in range(len(table.frame)):
            e = ref(table, i, "expert", expert_pos, "expert")
            p = ref(table, i, "project", project_pos, "project")
            if e >= 0 and p >= 0:
                declared[(p, e)] = _column(table, "reason")[i]

    supplied: Pairs | None = None
    if "scores" in usable:
        supplied = _scores(out, usable["scores"], expert_pos, project_pos)

    if out.issues:
        raise InputError(out.issues)

    if tree is None:
        tree = FieldTree.from_codes({c for fs in e_fields + p_fields for c in fs})
    parent_index = [org_index[p] if p else -1 for p in org_parent_id]
    return Problem(
        rules=rules,
        expert_ids=tuple(expert_index),
        expert_names=tuple(_column(experts, "name")[i] for i in e_rows),
        expert_org=np.array(e_org),
        expert_type=tuple(e_type),
        expert_fields=tuple(e_fields),
        expert_keywords=tuple(_keywords(_column(experts, "keywords")[i]) for i in e_rows),
        expert_max_load_given=np.array(e_load),
        expert_used=np.array(e_used),
        org_ids=tuple(org_ids),
        org_names=tuple(org_names),
        org_types=tuple(org_types),
        org_parent=np.array(parent_index, dtype=np.int64),
        project_ids=tuple(project_index),
        project_titles=tuple(_column(projects, "title")[i] for i in p_rows),
        project_org=np.array(p_org),
        project_partners=tuple(p_partners),
        project_fields=tuple(p_fields),
        project_keywords=tuple(_keywords(_column(projects, "keywords")[i]) for i in p_rows),
        project_panel_size_given=np.array(p_size),
        members=tuple(tuple(dict.fromkeys(m)) for m in members),
        relations=tuple(relations),
        declared=declared,
        supplied_scores=supplied,
        field_tree=tree,
        input_sha256=sha256,
        source=source,
        attributes={
            "experts": _extra(experts, "experts", e_rows),
            "projects": _extra(projects, "projects", p_rows),
        },
    )


def _extra(table: Table, name: str, rows: list[int]) -> tuple[Mapping[str, str], ...]:
    """The cells of a table's columns that the contract does not name, row by row."""
    known = set(SCHEMA[name][0]) | set(SCHEMA[name][1])
    names = [c for c in table.columns if c not in known]
    return tuple(MappingProxyType({c: table.column(c)[i] for c in names}) for i in rows)

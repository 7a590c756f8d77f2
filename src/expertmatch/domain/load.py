"""Entry points from the office's data to a validated :class:`Problem`.

The rules of a batch: the ``rules`` argument (``--rules``) if given, replacing every rules file
and sheet of the batch; else a folder's ``rules.toml``, or a workbook's sheets ``rules``,
``quotas`` and ``chair`` (each checked on its own, so that an issue names its sheet, row and
key); else the defaults. A quota or the chair may name an experts column by its Chinese header
(职称 for ``title``) and organization types in Chinese (企业).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from expertmatch.domain.problem import Problem
from expertmatch.domain.rules import Rules
from expertmatch.domain.validate import ORG_TYPE_NAMES, build_problem
from expertmatch.errors import InputError, InputIssue
from expertmatch.io.tables import (
    HEADER_NAMES,
    RawBatch,
    RuleSheet,
    Table,
    from_objects,
    hash_tables,
    header_key,
    read_folder,
    read_toml,
    read_workbook,
)

RulesLike = Rules | Mapping[str, Any] | str | os.PathLike[str] | None


def resolve_rules(
    rules: RulesLike, found: Mapping[str, Any] | None = None, label: str = "rules"
) -> Rules:
    """The effective rules: ``rules`` if given (Rules, mapping or TOML path), else the batch's
    own (``found``), else the defaults."""
    if isinstance(rules, Rules):
        return rules
    if isinstance(rules, str | os.PathLike):
        return Rules.from_mapping(_english_attributes(read_toml(Path(rules))), Path(rules).name)
    if rules is not None:
        return Rules.from_mapping(_english_attributes(rules), source="rules")
    if found is not None:
        return Rules.from_mapping(_english_attributes(found), source=label)
    return Rules()


def _batch_rules(raw: RawBatch, rules: RulesLike) -> Rules:
    """``rules`` if given, else the batch's own; a workbook's rules sheets are checked one by
    one first, so that each issue names its sheet and the row of its key."""
    if rules is not None or not (raw.sheets or raw.rules_issues):
        return resolve_rules(rules, raw.rules, raw.rules_label)
    issues = list(raw.rules_issues)
    for sheet in raw.sheets:
        try:
            Rules.from_mapping(_english_attributes(sheet.values), source=sheet.label)
        except InputError as err:
            issues += [_locate(issue, sheet) for issue in err.issues]
    if issues:
        raise InputError(issues)
    return resolve_rules(None, raw.rules, raw.rules_label)


def _locate(issue: InputIssue, sheet: RuleSheet) -> InputIssue:
    """An issue about one rules sheet with the sheet row and the key it is about: the rules
    name a key (``max_per_org``, ``stage.acceptance``), a quota (``quota 2``: the message
    starts with its key) or the chair (the message starts with its key)."""
    named = issue.column or ""
    key = next(
        (
            k
            for k in sheet.keys
            if issue.message.startswith(f"{k}: ") or f"key {k!r}" in issue.message
        ),
        None,
    )
    row = sheet.rows.get(named)
    if row is None:
        row = next((r for k, r in sheet.rows.items() if k.startswith(f"{named}.")), None)
    if named.startswith("quota ") and named in sheet.rows:
        named = key or ""  # the quota is the row, the key its column
    elif row is None and key is not None:
        row, named = sheet.rows.get(key), key
    return replace(issue, row=row, column=named or None)


def _english_attributes(values: Mapping[str, Any]) -> Mapping[str, Any]:
    """The rules with each quota's and the chair's attribute as the experts column it names
    (职称 -> title, 单位性质 -> org_type) and org_type values as the contract spells them
    (企业 -> enterprise)."""
    out = dict(values)
    quotas = out.get("quota")
    if isinstance(quotas, Mapping):
        out["quota"] = _english_entry(quotas)
    elif isinstance(quotas, list | tuple):
        out["quota"] = [_english_entry(q) if isinstance(q, Mapping) else q for q in quotas]
    if isinstance(out.get("chair"), Mapping):
        out["chair"] = _english_entry(out["chair"])
    if isinstance(out.get("chair.attribute"), str):
        out["chair.attribute"] = _english_attribute(out["chair.attribute"])
    return out


def _english_attribute(name: str) -> str:
    key = header_key(name)
    return HEADER_NAMES["experts"].get(key, name)


def _english_entry(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """One quota or the chair with its attribute (and org_type values) in English."""
    out = dict(entry)
    if isinstance(out.get("attribute"), str):
        out["attribute"] = _english_attribute(out["attribute"])
    values = out.get("values")
    if out.get("attribute") == "org_type" and isinstance(values, str | list | tuple):
        items = values.replace("；", ";").split(";") if isinstance(values, str) else values
        out["values"] = [ORG_TYPE_NAMES.get(str(v).strip(), v) for v in items]
    return out


def load(path: str | os.PathLike[str], rules: RulesLike = None) -> Problem:
    """Read a batch: a folder of CSV files or one ``.xlsx`` workbook (one sheet per table).

    ``rules`` (a :class:`Rules`, a mapping, or a path to a TOML file) replaces the batch's own
    ``rules.toml``. Raises :class:`InputError` listing every problem found in the input.
    """
    path = Path(path)
    if path.is_dir():
        raw = read_folder(path)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        raw = read_workbook(path)
    elif not path.exists():
        raise InputError([InputIssue(str(path), "no such folder or workbook")])
    else:
        raise InputError([InputIssue(str(path), "expected a folder of CSV files or an .xlsx file")])
    return _build(
        raw.tables,
        lambda: _batch_rules(raw, rules),
        raw.sha256,
        raw.source,
        lambda issue: _rules_place(raw, rules, issue),
    )


def _rules_place(raw: RawBatch, rules: RulesLike, issue: InputIssue) -> InputIssue:
    """An issue the Problem found in the rules (a quota or the chair counting a column the
    experts table lacks: file ``rules``) named where the rules came from: the TOML file, or
    the workbook sheet and row of that quota or chair; the experts table by its own label."""
    if issue.file != "rules":
        return issue
    experts = raw.tables.get("experts")
    if experts is not None:
        issue = replace(issue, message=issue.message.replace("experts.csv", experts.label))
    if isinstance(rules, str | os.PathLike):
        return replace(issue, file=Path(rules).name)
    if rules is not None:
        return issue
    who = issue.column or ""
    for sheet in raw.sheets:
        quotas = sheet.values.get("quota")
        if who.startswith("quota ") and isinstance(quotas, list):
            for n, entry in enumerate(quotas, start=1):
                if str(entry.get("name", f"quota {n}")) == who.removeprefix("quota "):
                    row = sheet.rows[f"quota {n}"]
                    return replace(issue, file=sheet.label, row=row, column="attribute")
        if who == "chair" and ("chair" in sheet.values or "chair.attribute" in sheet.values):
            key = "attribute" if "chair" in sheet.values else "chair.attribute"
            return replace(issue, file=sheet.label, row=sheet.rows.get(key), column=key)
    return replace(issue, file=raw.rules_label)


def _build(
    tables: Mapping[str, Table],
    make_rules: Callable[[], Rules],
    sha256: str,
    source: str,
    place: Callable[[InputIssue], InputIssue] | None = None,
) -> Problem:
    """Validate rules and tables together, so that one run reports every problem (``place``
    names where the rules came from in an issue the Problem finds in them)."""
    issues: list[InputIssue] = []
    try:
        rules = make_rules()
    except InputError as err:
        issues += err.issues
        rules = Rules()
    try:
        problem = build_problem(tables, rules, sha256, source)
    except InputError as err:
        found = err.issues if place is None else [place(i) for i in err.issues]
        raise InputError(issues + found) from None
    if issues:
        raise InputError(issues)
    return problem


def from_tables(
    experts: Any,
    projects: Any,
    *,
    organizations: Any = None,
    members: Any = None,
    relations: Any = None,
    conflicts: Any = None,
    scores: Any = None,
    taxonomy: Any = None,
    availability: Any = None,
    papers: Any = None,
    rules: RulesLike = None,
) -> Problem:
    """Build a batch from pandas DataFrames or lists of dicts with the contract's columns.

    Rows are numbered from 1 in error messages (record 1 is the first element).
    """
    tables = from_objects(
        {
            "experts": experts,
            "projects": projects,
            "organizations": organizations,
            "members": members,
            "relations": relations,
            "conflicts": conflicts,
            "scores": scores,
            "taxonomy": taxonomy,
            "availability": availability,
            "papers": papers,
        }
    )
    return _build(tables, lambda: resolve_rules(rules), hash_tables(tables), "python")

"""Entry points from the office's data to a validated :class:`Problem`."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from expertmatch.domain.problem import Problem
from expertmatch.domain.rules import Rules
from expertmatch.domain.validate import build_problem
from expertmatch.errors import InputError, InputIssue
from expertmatch.io.tables import Table, from_objects, hash_tables, read_folder, read_workbook

RulesLike = Rules | Mapping[str, Any] | str | os.PathLike[str] | None


def resolve_rules(
    rules: RulesLike, found: Mapping[str, Any] | None = None, label: str = "rules"
) -> Rules:
    """The effective rules: ``rules`` if given (Rules, mapping or TOML path), else the batch's
    own (``found``), else the defaults."""
    if isinstance(rules, Rules):
        return rules
    if isinstance(rules, str | os.PathLike):
        return Rules.from_file(rules)
    if rules is not None:
        return Rules.from_mapping(rules, source="rules")
    if found is not None:
        return Rules.from_mapping(found, source=label)
    return Rules()


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
        raw.tables, lambda: resolve_rules(rules, raw.rules, raw.rules_label), raw.sha256, raw.source
    )


def _build(
    tables: Mapping[str, Table], make_rules: Callable[[], Rules], sha256: str, source: str
) -> Problem:
    """Validate rules and tables together, so that one run reports every problem."""
    issues: list[InputIssue] = []
    try:
        rules = make_rules()
    except InputError as err:
        issues += err.issues
        rules = Rules()
    try:
        problem = build_problem(tables, rules, sha256, source)
    except InputError as err:
        raise InputError(issues + err.issues) from None
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
        }
    )
    return _build(tables, lambda: resolve_rules(rules), hash_tables(tables), "python")

"""Read the office's tables — a folder of CSV files, one .xlsx workbook, or Python objects —
into raw string tables, without judging their content (that is :mod:`expertmatch.domain.validate`).

CSV files may be UTF-8 (with or without BOM) or GB18030, as Excel on Chinese Windows writes them.
Every cell comes back as a stripped string; an empty cell is ``""``.

What is refused here, each with the file and row: a file that mixes encodings (UTF-8 rows and
rows in another encoding: decoding it whole either way would garble names), a cell with a
control character (NUL, ...: a damaged or binary file), a cell longer than ``MAX_CELL``
characters, and a path that is a directory, a dangling symbolic link or a link loop.

The office's own spreadsheets (part 2 of the contract): headers may be the Chinese names of
:data:`HEADER_NAMES` (per table: 职称 is an expert's ``title``, 项目名称 a project's), a workbook's
sheets may carry the Chinese names of :data:`SHEET_NAMES`, and each table remembers the headers
as written (for messages). A field code a workbook stored as a number (``520.2``: Excel drops the
trailing zero of ``520.20``) is noted in :attr:`Table.numbers` for the validation to report. A
workbook's rules come from its sheets ``rules``, ``quotas``, ``chair`` and ``meeting``
(:class:`RuleSheet`); what is wrong with them is kept, not raised, since ``--rules`` replaces
them all.
"""

from __future__ import annotations

import csv
import datetime
import errno
import hashlib
import io
import math
import os
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from expertmatch.errors import InputError, InputIssue

#: Table name -> (required columns, optional columns). Order is the contract's.
SCHEMA: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "experts": (
        ("id", "organization", "fields"),
        ("name", "org_type", "max_load", "used", "region", "title", "roles", "keywords"),
    ),
    "projects": (
        ("id", "organization", "fields"),
        (
            "title",
            "partners",
            "panel_size",
            "stage",
            "enterprise_min",
            "keywords",
            "mode",
            "group",
            "abstract",
        ),
    ),
    "organizations": (("id",), ("name", "type", "parent")),
    "members": (("project", "person"), ()),
    "relations": (("a", "b", "kind"), ("year",)),
    "conflicts": (("expert", "project"), ("reason",)),
    "scores": (("expert", "project", "score"), ()),
    "taxonomy": (("code",), ("parent", "name")),
    "availability": (("expert", "slot"), ()),
    "papers": (("expert", "title"), ("abstract", "year")),
}
REQUIRED_TABLES = ("experts", "projects")
_ORGANIZATION = {
    "工作单位": "organization",
    "单位": "organization",
    "申报单位": "organization",
    "承担单位": "organization",
}
_FIELDS = {"学科代码": "fields", "领域代码": "fields"}
_KEYWORDS = {"关键词": "keywords", "研究方向": "keywords"}
#: The office's Chinese headers, per table: header -> the contract's column. The contract's
#: table (part 2), plus 合作单位 (partners) and the headers of the smaller tables.
HEADER_NAMES: dict[str, dict[str, str]] = {
    "experts": {
        "编号": "id",
        "专家编号": "id",
        "姓名": "name",
        "名称": "name",
        **_ORGANIZATION,
        "单位性质": "org_type",
        "单位类型": "org_type",
        **_FIELDS,
        "职称": "title",
        "地区": "region",
        "专长角色": "roles",
        "本批上限": "max_load",
        "本年已评": "used",
        **_KEYWORDS,
    },
    "projects": {
        "编号": "id",
        "项目编号": "id",
        "项目名称": "title",
        **_ORGANIZATION,
        "合作单位": "partners",
        **_FIELDS,
        "阶段": "stage",
        **_KEYWORDS,
        "评审方式": "mode",
        "分组": "group",
        "组别": "group",
        "摘要": "abstract",
        "项目摘要": "abstract",
        "申报书摘要": "abstract",
    },
    "organizations": {
        "编号": "id",
        "单位编号": "id",
        "名称": "name",
        "单位名称": "name",
        "单位性质": "type",
        "单位类型": "type",
        "上级单位": "parent",
    },
    "members": {"项目编号": "project", "成员": "person"},
    "conflicts": {"专家编号": "expert", "项目编号": "project", "回避原因": "reason"},
    "scores": {"专家编号": "expert", "项目编号": "project", "分数": "score"},
    "taxonomy": {"学科代码": "code", "上级代码": "parent", "名称": "name", "学科名称": "name"},
    "availability": {"专家编号": "expert", "时段": "slot", "场次": "slot"},
    "papers": {
        "专家编号": "expert",
        "题目": "title",
        "论文题目": "title",
        "成果名称": "title",
        "摘要": "abstract",
        "年份": "year",
        "发表年份": "year",
    },
}
#: The Chinese names of a workbook's sheets: sheet -> table (or rules sheet).
SHEET_NAMES: dict[str, str] = {
    "专家": "experts",
    "专家库": "experts",
    "项目": "projects",
    "单位": "organizations",
    "项目组成员": "members",
    "成员": "members",
    "关系": "relations",
    "回避": "conflicts",
    "评分": "scores",
    "学科": "taxonomy",
    "论文": "papers",
    "代表性成果": "papers",
    "规则": "rules",
    "配额": "quotas",
    "quota": "quotas",
    "组长": "chair",
    "会评": "meeting",
    "可参会时段": "availability",
    "时段": "availability",
}
#: The sheets of a workbook's rules, besides the tables.
RULE_SHEETS = ("rules", "quotas", "chair", "meeting")
#: Columns of field codes: a number there lost its trailing zeros in a workbook.
CODE_COLUMNS: dict[str, tuple[str, ...]] = {
    "experts": ("fields",),
    "projects": ("fields",),
    "taxonomy": ("code", "parent"),
}
#: Longest cell accepted, in characters (the CSV reader's own limit).
MAX_CELL = 131_072
#: Control characters no cell of a text table holds (tab, CR and LF are allowed in a cell).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Table:
    """One raw table: its label for messages (``experts.csv``), the data and the row offset.

    ``row_offset`` turns a 0-based data index into the row number the user sees: 2 for files
    (the header is row 1), 1 for Python records (the first record is record 1).
    """

    label: str
    frame: pd.DataFrame
    row_offset: int = 2
    row_numbers: tuple[int, ...] | None = None
    written: Mapping[str, str] = field(default_factory=dict, compare=False)
    """Column -> its header as written (``学科代码`` for ``fields``); the found headers in order."""
    numbers: frozenset[tuple[int, str]] = field(default_factory=frozenset, compare=False)
    """(data index, column) of the code cells a workbook stored as numbers (see CODE_COLUMNS)."""
    origin: str = "csv"
    """Where the table came from: ``csv``, ``python`` or the workbook's file name."""

    def row(self, index: int) -> int:
        """The row number the user sees for data row ``index`` (blank rows are skipped)."""
        if self.row_numbers is not None:
            return self.row_numbers[index]
        return index + self.row_offset

    @cached_property
    def columns(self) -> dict[str, list[str]]:
        """Each column as a list of strings (an absent column is not listed)."""
        return {str(c): self.frame[c].tolist() for c in self.frame.columns}

    @cached_property
    def _empty(self) -> list[str]:
        return [""] * len(self.frame)

    def column(self, name: str) -> list[str]:
        """A column's cells; an absent (optional) column reads as empty cells (one shared
        list, built once: do not change it)."""
        found = self.columns.get(name)
        return self._empty if found is None else found

    def column_label(self, name: str) -> str:
        """A column as messages name it: ``fields``, or ``学科代码 (fields)`` when the office
        wrote another header for it."""
        written = self.written.get(name, name)
        return name if written.lower() == name else f"{written} ({name})"

    def label_for(self, name: str) -> str:
        """The label table ``name`` has (or would have) beside this one: ``organizations.csv``,
        ``batch.xlsx[organizations]`` or ``organizations``."""
        if self.origin == "csv":
            return f"{name}.csv"
        if self.origin == "python":
            return name
        return f"{self.origin}[{name}]"


@dataclass(frozen=True)
class RuleSheet:
    """One sheet of a workbook's rules: its label, what it gives :meth:`Rules.from_mapping`
    (``{"quota": [...]}`` for the quotas sheet, ``{"chair": {...}}`` for the chair sheet), the
    sheet row of each key (``quota N`` for the N-th quota) and the keys an issue may name."""

    label: str
    values: Mapping[str, Any]
    rows: Mapping[str, int]
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawBatch:
    """All tables of one batch, the rules found with them and a hash of the input bytes."""

    tables: Mapping[str, Table]
    rules: Mapping[str, Any] | None
    rules_label: str
    sha256: str
    source: str
    sheets: tuple[RuleSheet, ...] = ()
    """A workbook's rules sheets, one by one (for messages naming the sheet and row)."""
    rules_issues: tuple[InputIssue, ...] = ()
    """What is wrong with a workbook's rules sheets (raised only if no other rules are given)."""


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    for column in frame.columns:
        values = frame[column]
        kind = pd.api.types.infer_dtype(values, skipna=False)
        if kind == "string":  # may hold None (pandas infers "string" past it): empty
            frame[column] = values.str.strip().fillna("")
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            missing = values.isna().to_numpy()
            number = values.to_numpy(dtype=float, na_value=np.nan)
            text = values.astype(object).astype(str).to_numpy(dtype=object)
            whole = (
                ~missing & np.isfinite(number) & (np.mod(number, 1) == 0) & (np.abs(number) < 2**53)
            )
            text[whole] = number[whole].astype(np.int64).astype(str)
            text[missing] = ""
            frame[column] = text
        else:
            frame[column] = [_cell(v) for v in values]
    return frame.reset_index(drop=True)


def _cell(value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        return ";".join(_cell(v) for v in value)
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""  # None, NaN, pd.NA, NaT
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def decode_csv(data: bytes, label: str) -> str:
    """Decode CSV bytes as UTF-8 (BOM or not), else GB18030; anything else is an input error.

    A file whose rows are partly UTF-8 (with non-ASCII text) and partly not is refused, naming
    the first row that is not UTF-8: read whole as GB18030 it would decode "successfully" with
    every Chinese name of the UTF-8 rows garbled.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    bad_row = _mixed_encoding_row(data)
    if bad_row is not None:
        raise InputError(
            [
                InputIssue(
                    label,
                    "mixes encodings: other rows are UTF-8 but this one is not (save the "
                    "whole file in one encoding, UTF-8 or GB18030)",
                    row=bad_row,
                )
            ]
        )
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise InputError([InputIssue(label, "not UTF-8 or GB18030 text")]) from None


def _mixed_encoding_row(data: bytes) -> int | None:
    """The first line that is not UTF-8 when another line holds non-ASCII UTF-8, else None."""
    first_bad, utf8_text = None, False
    for number, line in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_text = True
        except UnicodeDecodeError:
            first_bad = first_bad or number
        if utf8_text and first_bad is not None:
            return first_bad
    return None


def header_key(header: Any) -> str:
    """A header or sheet name as compared: NFKC (full-width letters as ASCII), trimmed, lower
    case."""
    return unicodedata.normalize("NFKC", str(header)).strip().lower()


def english_headers(
    headers: Iterable[Any], table: str | None, label: str, row: int | None = 1
) -> tuple[list[str], dict[str, str]]:
    """Each header as the contract's column (a Chinese header of ``table`` translated, see
    :data:`HEADER_NAMES`) and column -> header as written. A column given twice, in one
    language or two (``id`` and ``编号``), is an input error."""
    aliases = HEADER_NAMES.get(table or "", {})
    names: list[str] = []
    written: dict[str, str] = {}
    issues: dict[str, InputIssue] = {}
    for header in headers:
        as_written, key = str(header).strip(), header_key(header)
        name = aliases.get(key, key)
        names.append(name)
        if name not in written:
            written[name] = as_written
        elif name not in issues:
            first = written[name]
            message = (
                f"column {name!r} appears more than once"
                if header_key(first) == key
                else f"columns {first!r} and {as_written!r} both give {name!r}; keep one"
            )
            issues[name] = InputIssue(label, message, row=row, column=name)
    if issues:
        raise InputError(list(issues.values()))
    return names, written


def other_headers(table: str, column: str) -> list[str]:
    """The Chinese headers that also give ``column`` of ``table``."""
    return [h for h, name in HEADER_NAMES.get(table, {}).items() if name == column]


def parse_csv(text: str, label: str, table: str | None = None) -> Table:
    """Parse CSV text into a string table, checking the header and each row's width.

    Blank rows are skipped; rows keep the number a spreadsheet shows (the header is row 1).
    ``table`` (a contract table's name) lets the office's Chinese headers be read.

    A well-formed file is read by pandas' C parser (:func:`_parse_fast`); a file it cannot
    vouch for (a control character, a cell over ``MAX_CELL``, a row wider than the header, a
    blank first row, an unterminated quote, ...) is read again by Python's ``csv`` module
    (:func:`_parse_rows`), which names the file, row and column of each problem. Both read
    every well-formed file to the same table (tests/io/test_csv_reader.py checks it).
    """
    return _parse_fast(text, label, table) or _parse_rows(text, label, table)


#: Bytes kept by :func:`_control_count` (every byte but the control characters of CONTROL).
_NOT_CONTROL = bytes(b for b in range(256) if not CONTROL.match(chr(b)))


def _control_count(text: str) -> int:
    """How many control characters (CONTROL) ``text`` holds: one C pass over its bytes (a
    control character is one ASCII byte in UTF-8, which encodes nothing else with it)."""
    return len(text.encode("utf-8", "surrogatepass").translate(None, _NOT_CONTROL))


def _parse_fast(text: str, label: str, table: str | None) -> Table | None:
    """The table of a well-formed CSV text, read by pandas' C parser; None when the text needs
    the careful reader (anything :func:`_parse_rows` may refuse or read differently)."""
    if not text or text[0] in "\r\n\ufeff" or _control_count(text):
        return None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=object,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None  # a row wider than the header, an open quote, ...: the careful reader
    cells = [frame[c].to_numpy(dtype=object) for c in frame.columns]
    if (
        len(text) >= MAX_CELL
        and not _short_lines(text)
        and any(max(map(len, c), default=0) >= MAX_CELL for c in cells)
    ):
        return None  # the careful reader names the row of the long cell
    if _may_need_strip(text):
        cells = [np.array([v.strip() for v in c], dtype=object) for c in cells]
    blank = cells[0] == ""
    for column in cells[1:]:
        if not blank.any():
            break
        blank &= column == ""
    if blank[0]:
        return None  # a blank first row: the header is further down
    keep = np.flatnonzero(~blank[1:]) + 1
    names, written = english_headers([c[0] for c in cells], table, label, 1)
    columns = [str(c).strip().lower() for c in names]
    body = {i: (c[keep] if keep.size < len(c) - 1 else c[1:]) for i, c in enumerate(cells)}
    data = pd.DataFrame(body, dtype=object, copy=False)
    data.columns = pd.Index(columns, dtype=object)
    numbers = None if keep.size == len(cells[0]) - 1 else tuple((keep + 1).tolist())
    return Table(label, data, row_numbers=numbers, written=written)


def _short_lines(text: str) -> bool:
    """Is every cell of ``text`` shorter than ``MAX_CELL`` for sure? Yes when it holds no
    quote (so no cell spans lines) and no line is that long (lines measured in UTF-8 bytes,
    at least their characters), found in one NumPy pass instead of one ``len`` a cell."""
    if '"' in text:
        return False
    data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    ends = np.flatnonzero(data == ord("\n"))
    starts = np.r_[0, ends + 1]
    return bool((np.r_[ends, data.size] - starts).max() < MAX_CELL)


def _may_need_strip(text: str) -> bool:
    """Can a cell of ``text`` start or end with white space? Not if it holds no space, tab or
    quote (a quoted cell may hold a line break) and no character beyond ASCII."""
    return not text.isascii() or any(c in text for c in ' \t"')


def _parse_rows(text: str, label: str, table: str | None = None) -> Table:
    """The careful reader: Python's ``csv`` module, row by row, naming each problem's row."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        numbered = [
            (n, row) for n, row in enumerate(reader, start=1) if any(cell.strip() for cell in row)
        ]
    except csv.Error as err:
        message = str(err)
        if "field larger than field limit" in message:
            message = f"a cell is longer than {MAX_CELL:,} characters (a damaged file?)"
        raise InputError([InputIssue(label, message, row=reader.line_num)]) from None
    if CONTROL.search(text):
        raise InputError(_control_issues(label, numbered))
    if not numbered:
        raise InputError([InputIssue(label, "the file is empty (no header row)")])
    (header_row, header), body = numbered[0], numbered[1:]
    issues = []
    names: list[str] = []
    written: dict[str, str] = {}
    try:
        names, written = english_headers(header, table, label, header_row)
    except InputError as err:
        issues += err.issues
    issues += [
        InputIssue(label, f"has {len(row)} cells but the header has {len(header)}", row=n)
        for n, row in body
        if len(row) > len(header)
    ]
    if issues:
        raise InputError(issues)
    cells = [row + [""] * (len(header) - len(row)) for _, row in body]
    frame = _clean(pd.DataFrame(cells, columns=names, dtype=object))
    return Table(label, frame, row_numbers=tuple(n for n, _ in body), written=written)


def _control_issues(label: str, numbered: list[tuple[int, list[str]]]) -> list[InputIssue]:
    """One issue per cell holding a control character, naming its row and column."""
    header = numbered[0][1] if numbered else []
    issues = []
    for n, row in numbered:
        for i, cell in enumerate(row):
            found = CONTROL.search(cell)
            if found:
                column = (
                    header[i].strip().lower() if i < len(header) and n != numbered[0][0] else None
                )
                issues.append(
                    InputIssue(
                        label,
                        f"holds the control character U+{ord(found.group()):04X} "
                        "(a damaged or binary file?)",
                        row=n,
                        column=column,
                    )
                )
    return issues


def check_cells(table: Table) -> Table:
    """``table`` if no cell holds a control character or is longer than ``MAX_CELL``; else an
    input error naming each such cell (workbooks and Python tables; CSV is checked as read)."""
    issues = []
    for name in table.frame.columns:
        cells = table.frame[name].astype(str)
        values = cells.tolist()
        if not _control_count("".join(values)) and max(map(len, values), default=0) <= MAX_CELL:
            continue  # the whole column checked in two C passes; cell by cell only if needed
        bad = cells.str.contains(CONTROL) | (cells.str.len() > MAX_CELL)
        for index in bad.to_numpy().nonzero()[0].tolist():
            cell = cells.iloc[index]
            what = (
                f"is longer than {MAX_CELL:,} characters"
                if len(cell) > MAX_CELL
                else f"holds the control character U+{ord(CONTROL.search(cell).group()):04X}"  # type: ignore[union-attr]
            )
            issues.append(InputIssue(table.label, what, row=table.row(index), column=str(name)))
    if issues:
        raise InputError(issues)
    return table


def read_bytes(path: Path, label: str) -> bytes:
    """A file's bytes; a directory, a dangling link, a link loop or an unreadable file is an
    input error naming it (never read as "absent")."""
    try:
        return path.read_bytes()
    except IsADirectoryError:
        reason = "is a folder, not a file"
    except FileNotFoundError:
        reason = f"is a symbolic link to {os.readlink(path)!r}, which does not exist"
    except OSError as err:
        reason = (
            "is a symbolic link loop"
            if err.errno == errno.ELOOP
            else f"cannot be read ({err.strerror or err})"
        )
    raise InputError([InputIssue(label, reason)])


def present(path: Path) -> bool:
    """Is there anything at ``path`` (a file, a folder, or a link, even a broken one)?"""
    return os.path.lexists(path)


def _table_files(folder: Path, name: str) -> list[Path]:
    """The files of a folder that hold table ``name``: ``NAME.csv`` or a Chinese name of it
    (the workbook's sheet names: 专家.csv, 项目.csv, ...)."""
    stems = [name] + [zh for zh, en in SHEET_NAMES.items() if en == name]
    return [folder / f"{stem}.csv" for stem in stems if present(folder / f"{stem}.csv")]


def read_folder(folder: Path) -> RawBatch:
    """Read every contract table found in ``folder`` plus ``rules.toml`` if present."""
    if not folder.is_dir():
        raise InputError([InputIssue(str(folder), "folder not found")])
    tables: dict[str, Table] = {}
    digest = hashlib.sha256()
    issues: list[InputIssue] = []
    found = {name: _table_files(folder, name) for name in SCHEMA}
    for name, paths in found.items():
        if len(paths) > 1:
            issues.append(
                InputIssue(
                    paths[1].name,
                    f"{' and '.join(p.name for p in paths)} both give the {name} table; "
                    "keep one",
                )
            )
            continue
        if not paths:
            continue
        path = paths[0]
        try:
            data = read_bytes(path, path.name)
            digest.update(f"{name}.csv\0".encode())
            digest.update(data)
            tables[name] = parse_csv(decode_csv(data, path.name), path.name, name)
        except InputError as err:
            issues.extend(err.issues)
    for name in REQUIRED_TABLES:
        if not found[name]:
            issues.append(InputIssue(f"{name}.csv", f"required file missing in {folder}"))
    rules = None
    rules_path = folder / "rules.toml"
    if present(rules_path):
        try:
            digest.update(b"rules.toml\0")
            digest.update(read_bytes(rules_path, rules_path.name))
            rules = read_toml(rules_path)
        except InputError as err:
            issues.extend(err.issues)
    if issues:
        raise InputError(issues)
    return RawBatch(tables, rules, "rules.toml", digest.hexdigest(), str(folder))


def read_workbook(path: Path) -> RawBatch:
    """Read a workbook with one sheet per table (sheet names as the file stems, or the Chinese
    names of :data:`SHEET_NAMES`) and the sheets of its rules (``rules``, ``quotas``, ``chair``,
    ``meeting``)."""
    if not present(path):
        raise InputError([InputIssue(str(path), "file not found")])
    data = read_bytes(path, path.name)
    try:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object, header=0)
    except Exception as err:  # openpyxl raises many types for a damaged workbook
        raise InputError(
            [InputIssue(path.name, f"not a readable .xlsx workbook ({err})")]
        ) from None
    found, issues = _name_sheets(sheets, path.name)
    tables: dict[str, Table] = {}
    for name in SCHEMA:
        if name in found:
            sheet, frame = found[name]
            try:
                tables[name] = _sheet_table(frame, name, f"{path.name}[{sheet}]", path.name)
            except InputError as err:
                issues += err.issues
    issues += [
        InputIssue(path.name, _missing_sheet(name, list(sheets)))
        for name in REQUIRED_TABLES
        if name not in found
    ]
    if issues:
        raise InputError(issues)
    rule_sheets, rules_issues = _rule_sheets(found, path.name)
    rules: dict[str, Any] | None = None
    if rule_sheets or rules_issues:
        rules = {k: v for sheet in rule_sheets for k, v in sheet.values.items()}
    label = rule_sheets[0].label if rule_sheets else "rules"
    if "rules" in found:
        label = f"{path.name}[{found['rules'][0]}]"
    return RawBatch(
        tables,
        rules,
        label,
        hashlib.sha256(data).hexdigest(),
        str(path),
        sheets=tuple(rule_sheets),
        rules_issues=tuple(rules_issues),
    )


def _name_sheets(
    sheets: Mapping[Any, pd.DataFrame], book: str
) -> tuple[dict[str, tuple[str, pd.DataFrame]], list[InputIssue]]:
    """The sheets that are tables or rules, by name (``experts``, ``experts.csv`` or ``专家``):
    (the sheet's name as written, its content). Other sheets (notes, ...) are ignored; two
    sheets of one table are an issue."""
    found: dict[str, tuple[str, pd.DataFrame]] = {}
    issues = []
    for sheet, frame in sheets.items():
        key = header_key(sheet).removesuffix(".csv")
        name = SHEET_NAMES.get(key, key)
        if name not in SCHEMA and name not in RULE_SHEETS:
            continue
        if name in found:
            issues.append(
                InputIssue(
                    book,
                    f"sheets {found[name][0]!r} and {str(sheet)!r} are both the {name} sheet; "
                    "keep one",
                )
            )
            continue
        found[name] = (str(sheet), frame)
    return found, issues


def _missing_sheet(name: str, sheets: list[Any]) -> str:
    """The message for a required sheet that is not there, with the sheets found."""
    others = "/".join(repr(k) for k, v in SHEET_NAMES.items() if v == name)
    found = ", ".join(str(s) for s in sheets) or "no sheet"
    return f"required sheet {name!r} missing (found: {found}; it may also be named {others})"


def _sheet_table(frame: pd.DataFrame, name: str, label: str, book: str) -> Table:
    """One table's sheet: headers in English, the code cells stored as numbers noted."""
    names, written = english_headers(frame.columns, name, label)
    frame = frame.set_axis(names, axis=1)
    numbers = frozenset(
        (i, column)
        for column in CODE_COLUMNS.get(name, ())
        if column in written
        for i, value in enumerate(frame[column].tolist())
        if _lost_zeros(value)
    )
    table = Table(label, _clean(frame), written=written, numbers=numbers, origin=book)
    return check_cells(table)


def _lost_zeros(value: Any) -> bool:
    """Is a cell a number with a fraction (``520.2``): a code whose trailing zeros are lost?"""
    return isinstance(value, float) and math.isfinite(value) and not float(value).is_integer()


def _rule_sheets(
    found: Mapping[str, tuple[str, pd.DataFrame]], book: str
) -> tuple[list[RuleSheet], list[InputIssue]]:
    """The sheets of a workbook's rules, each read on its own, and what is wrong with them."""
    sheets: list[RuleSheet] = []
    issues: list[InputIssue] = []

    def label(name: str) -> str:
        return f"{book}[{found[name][0]}]"

    if "rules" in found:
        read = _key_values(found["rules"][1], label("rules"), issues)
        if read is not None:
            sheets.append(RuleSheet(label("rules"), read[0], read[1], tuple(read[1])))
    if "quotas" in found:
        quotas, rows, columns = _quota_rows(found["quotas"][1])
        if quotas:
            sheets.append(RuleSheet(label("quotas"), {"quota": quotas}, rows, columns))
    if "chair" in found:
        read = _key_values(found["chair"][1], label("chair"), issues)
        if read is not None and read[0]:
            sheets.append(RuleSheet(label("chair"), {"chair": read[0]}, read[1], tuple(read[1])))
    if "meeting" in found:  # key/value like the chair sheet: the [meeting] table
        read = _key_values(found["meeting"][1], label("meeting"), issues)
        if read is not None and read[0]:
            sheets.append(
                RuleSheet(label("meeting"), {"meeting": read[0]}, read[1], tuple(read[1]))
            )
    if sheets and "rules" in found:
        given = sheets[0].values if sheets[0].label == label("rules") else {}
        for part, sheet in (("quota", "quotas"), ("chair", "chair"), ("meeting", "meeting")):
            twice = [k for k in given if k.split(".")[0] == part]
            if twice and sheet in found and any(s.label == label(sheet) for s in sheets):
                issues.append(
                    InputIssue(
                        label("rules"),
                        f"{part} is given both here and in the sheet {found[sheet][0]!r}; keep one",
                        row=sheets[0].rows[twice[0]],
                        column=twice[0],
                    )
                )
    return sheets, issues


def _key_values(
    frame: pd.DataFrame, label: str, issues: list[InputIssue]
) -> tuple[dict[str, Any], dict[str, int]] | None:
    """A key/value sheet (``rules``, ``chair``): key -> value and key -> sheet row; rows with
    an empty value are left out (the default applies)."""
    columns = [header_key(c) for c in frame.columns]
    if not {"key", "value"} <= set(columns):
        found = ", ".join(str(c) for c in frame.columns) or "none"
        issues.append(InputIssue(label, f"needs columns key and value (found: {found})"))
        return None
    keys = frame.iloc[:, columns.index("key")].tolist()
    cells = frame.iloc[:, columns.index("value")].tolist()
    values: dict[str, Any] = {}
    rows: dict[str, int] = {}
    for i, (cell, raw) in enumerate(zip(keys, cells, strict=True)):
        key, value, row = _cell(cell), _rule_value(raw), i + 2
        if not key:
            if value is not None:
                issues.append(InputIssue(label, "a value without a key", row=row, column="key"))
        elif key in rows:
            issues.append(
                InputIssue(
                    label, f"{key!r} given twice (first at row {rows[key]})", row=row, column=key
                )
            )
        else:
            rows[key] = row
            if value is not None:
                values[key] = value
    return values, rows


#: Quota keys read as text (a number there is a value, not a count).
_QUOTA_TEXT = ("name", "attribute", "values", "stages", "scope")


def _quota_rows(
    frame: pd.DataFrame,
) -> tuple[list[dict[str, Any]], dict[str, int], tuple[str, ...]]:
    """The ``quotas`` sheet: one quota a row (blank rows skipped), ``quota N`` -> sheet row, and
    the sheet's columns."""
    columns = tuple(header_key(c) for c in frame.columns)
    quotas: list[dict[str, Any]] = []
    rows: dict[str, int] = {}
    for i, record in enumerate(frame.itertuples(index=False, name=None)):
        entry = {}
        for column, raw in zip(columns, record, strict=True):
            value = _cell(raw) if column in _QUOTA_TEXT else _rule_value(raw)
            if value is not None and value != "":
                entry[column] = value
        if entry:
            quotas.append(entry)
            rows[f"quota {len(quotas)}"] = i + 2
    return quotas, rows, columns


def _rule_value(value: Any) -> Any:
    """A rules cell of a workbook: None when empty; a whole number, number, flag or text
    (``"2/5"``, ``"40%"``); a date as its ISO text (Excel turned ``2/5`` into a date: the
    rules say so)."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, datetime.datetime):
        midnight = value.time() == datetime.time()
        return value.date().isoformat() if midnight else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return int(value) if float(value).is_integer() else float(value)
    text = str(value).strip()
    return _literal(text) if text else None


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file is an input error naming it."""
    if not present(path):
        raise InputError([InputIssue(str(path), "file not found")])
    data = read_bytes(path, path.name)
    try:
        return tomllib.loads(data.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise InputError([InputIssue(path.name, f"not a valid TOML file ({err})")]) from None


def _literal(text: str) -> Any:
    """A workbook cell of the rules sheet: whole number, number, or text (``"1/3"``)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def from_objects(tables: Mapping[str, Any]) -> dict[str, Table]:
    """Raw tables from pandas DataFrames or lists of dicts, keyed by table name."""
    out: dict[str, Table] = {}
    for name, value in tables.items():
        if value is None:
            continue
        if name not in SCHEMA:
            raise InputError([InputIssue(name, f"unknown table {name!r}; known: {list(SCHEMA)}")])
        if isinstance(value, pd.DataFrame):
            frame = value
        elif isinstance(value, Iterable):
            records = list(value)
            columns = None if records else list(SCHEMA[name][0] + SCHEMA[name][1])
            frame = pd.DataFrame(records, columns=columns, dtype=object)
        else:
            raise InputError([InputIssue(name, "must be a DataFrame or a list of dicts")])
        names, written = english_headers(frame.columns, name, name, row=None)
        frame = frame.set_axis(names, axis=1)
        table = Table(name, _clean(frame), row_offset=1, written=written, origin="python")
        out[name] = check_cells(table)
    return out


def hash_tables(tables: Mapping[str, Table]) -> str:
    """A stable hash of tables built in Python (their CSV text, in schema order)."""
    digest = hashlib.sha256()
    for name in SCHEMA:
        if name in tables:
            frame = tables[name].frame
            digest.update(f"{name}\0{list(frame.columns)}\0".encode())
            digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()

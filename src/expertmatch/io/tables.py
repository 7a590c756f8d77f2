"""Read the office's tables — a folder of CSV files, one .xlsx workbook, or Python objects —
into raw string tables, without judging their content (that is :mod:`expertmatch.domain.validate`).

CSV files may be UTF-8 (with or without BOM) or GB18030, as Excel on Chinese Windows writes them.
Every cell comes back as a stripped string; an empty cell is ``""``.

What is refused here, each with the file and row: a file that mixes encodings (UTF-8 rows and
rows in another encoding: decoding it whole either way would garble names), a cell with a
control character (NUL, ...: a damaged or binary file), a cell longer than ``MAX_CELL``
characters, and a path that is a directory, a dangling symbolic link or a link loop.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
        ("title", "partners", "panel_size", "stage", "enterprise_min", "keywords"),
    ),
    "organizations": (("id",), ("name", "type", "parent")),
    "members": (("project", "person"), ()),
    "relations": (("a", "b", "kind"), ("year",)),
    "conflicts": (("expert", "project"), ("reason",)),
    "scores": (("expert", "project", "score"), ()),
    "taxonomy": (("code",), ("parent", "name")),
}
REQUIRED_TABLES = ("experts", "projects")
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


@dataclass(frozen=True)
class RawBatch:
    """All tables of one batch, the rules found with them and a hash of the input bytes."""

    tables: Mapping[str, Table]
    rules: Mapping[str, Any] | None
    rules_label: str
    sha256: str
    source: str


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    for column in frame.columns:
        values = frame[column]
        kind = pd.api.types.infer_dtype(values, skipna=False)
        if kind == "string":
            frame[column] = values.str.strip()
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


def parse_csv(text: str, label: str) -> Table:
    """Parse CSV text into a string table, checking the header and each row's width.

    Blank rows are skipped; rows keep the number a spreadsheet shows (the header is row 1).
    """
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
    names = [h.strip().lower() for h in header]
    issues = [
        InputIssue(label, f"column {name!r} appears more than once", row=header_row, column=name)
        for name in sorted({n for n in names if names.count(n) > 1})
    ]
    issues += [
        InputIssue(label, f"has {len(row)} cells but the header has {len(header)}", row=n)
        for n, row in body
        if len(row) > len(header)
    ]
    if issues:
        raise InputError(issues)
    cells = [row + [""] * (len(header) - len(row)) for _, row in body]
    frame = _clean(pd.DataFrame(cells, columns=header, dtype=object))
    return Table(label, frame, row_numbers=tuple(n for n, _ in body))


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


def read_folder(folder: Path) -> RawBatch:
    """Read every contract table found in ``folder`` plus ``rules.toml`` if present."""
    if not folder.is_dir():
        raise InputError([InputIssue(str(folder), "folder not found")])
    tables: dict[str, Table] = {}
    digest = hashlib.sha256()
    issues: list[InputIssue] = []
    for name in SCHEMA:
        path = folder / f"{name}.csv"
        if not present(path):
            continue
        try:
            data = read_bytes(path, path.name)
            digest.update(f"{name}.csv\0".encode())
            digest.update(data)
            tables[name] = parse_csv(decode_csv(data, path.name), path.name)
        except InputError as err:
            issues.extend(err.issues)
    for name in REQUIRED_TABLES:
        if not present(folder / f"{name}.csv"):
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
    """Read a workbook with one sheet per table (sheet names as the file stems)."""
    if not present(path):
        raise InputError([InputIssue(str(path), "file not found")])
    data = read_bytes(path, path.name)
    try:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object, header=0)
    except Exception as err:  # openpyxl raises many types for a damaged workbook
        raise InputError(
            [InputIssue(path.name, f"not a readable .xlsx workbook ({err})")]
        ) from None
    by_name = {str(k).strip().lower().removesuffix(".csv"): v for k, v in sheets.items()}
    tables: dict[str, Table] = {}
    for name in SCHEMA:
        if name in by_name:
            tables[name] = check_cells(Table(f"{path.name}[{name}]", _clean(by_name[name])))
    missing = [n for n in REQUIRED_TABLES if n not in tables]
    if missing:
        raise InputError([InputIssue(path.name, f"required sheet {n!r} missing") for n in missing])
    rules = None
    if "rules" in by_name:
        frame = _clean(by_name["rules"])
        label = f"{path.name}[rules]"
        if not {"key", "value"} <= set(frame.columns):
            raise InputError([InputIssue(label, "needs columns key and value")])
        rules = {str(k): _literal(v) for k, v in zip(frame["key"], frame["value"], strict=True)}
        return RawBatch(tables, rules, label, hashlib.sha256(data).hexdigest(), str(path))
    return RawBatch(tables, rules, "rules", hashlib.sha256(data).hexdigest(), str(path))


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
        out[name] = check_cells(Table(name, _clean(frame), row_offset=1))
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

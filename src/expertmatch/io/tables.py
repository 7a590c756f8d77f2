"""Read the office's tables — a folder of CSV files, one .xlsx workbook, or Python objects —
into raw string tables, without judging their content (that is :mod:`expertmatch.domain.validate`).

CSV files may be UTF-8 (with or without BOM) or GB18030, as Excel on Chinese Windows writes them.
Every cell comes back as a stripped string; an empty cell is ``""``.
"""

from __future__ import annotations

import csv
import hashlib
import io
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
        ("name", "org_type", "max_load", "used", "region", "title", "keywords"),
    ),
    "projects": (
        ("id", "organization", "fields"),
        ("title", "partners", "panel_size", "stage", "keywords"),
    ),
    "organizations": (("id",), ("name", "type", "parent")),
    "members": (("project", "person"), ()),
    "relations": (("a", "b", "kind"), ("year",)),
    "conflicts": (("expert", "project"), ("reason",)),
    "scores": (("expert", "project", "score"), ()),
    "taxonomy": (("code",), ("parent", "name")),
}
REQUIRED_TABLES = ("experts", "projects")


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

    def column(self, name: str) -> list[str]:
        """A column's cells; an absent (optional) column reads as empty cells."""
        return self.columns.get(name) or [""] * len(self.frame)


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
    """Decode CSV bytes as UTF-8 (BOM or not), else GB18030; anything else is an input error."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError([InputIssue(label, "not UTF-8 or GB18030 text")])


def parse_csv(text: str, label: str) -> Table:
    """Parse CSV text into a string table, checking the header and each row's width.

    Blank rows are skipped; rows keep the number a spreadsheet shows (the header is row 1).
    """
    reader = csv.reader(io.StringIO(text, newline=""))
    numbered = [
        (n, row) for n, row in enumerate(reader, start=1) if any(cell.strip() for cell in row)
    ]
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


def read_folder(folder: Path) -> RawBatch:
    """Read every contract table found in ``folder`` plus ``rules.toml`` if present."""
    if not folder.is_dir():
        raise InputError([InputIssue(str(folder), "folder not found")])
    tables: dict[str, Table] = {}
    digest = hashlib.sha256()
    issues: list[InputIssue] = []
    for name in SCHEMA:
        path = folder / f"{name}.csv"
        if not path.exists():
            continue
        data = path.read_bytes()
        digest.update(f"{name}.csv\0".encode())
        digest.update(data)
        try:
            tables[name] = parse_csv(decode_csv(data, path.name), path.name)
        except InputError as err:
            issues.extend(err.issues)
    for name in REQUIRED_TABLES:
        if not (folder / f"{name}.csv").exists():
            issues.append(InputIssue(f"{name}.csv", f"required file missing in {folder}"))
    rules = None
    rules_path = folder / "rules.toml"
    if rules_path.exists():
        digest.update(b"rules.toml\0")
        digest.update(rules_path.read_bytes())
        try:
            rules = read_toml(rules_path)
        except InputError as err:
            issues.extend(err.issues)
    if issues:
        raise InputError(issues)
    return RawBatch(tables, rules, "rules.toml", digest.hexdigest(), str(folder))


def read_workbook(path: Path) -> RawBatch:
    """Read a workbook with one sheet per table (sheet names as the file stems)."""
    if not path.is_file():
        raise InputError([InputIssue(str(path), "file not found")])
    data = path.read_bytes()
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
            tables[name] = Table(f"{path.name}[{name}]", _clean(by_name[name]))
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
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError([InputIssue(str(path), "file not found")]) from None
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
        out[name] = Table(name, _clean(frame), row_offset=1)
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

"""Writing an ``.xlsx`` workbook (openpyxl) from named tables, laid out for the office: bold
frozen header row, columns as wide as their text, a filter on list sheets, and printable
sheets landscape, one page wide, the header repeated on every printed page.

The workbook is streamed (openpyxl's write-only mode: each row is written as it comes, so a
100,000-row sheet never sits in memory as cell objects; about 35 % faster than through
``DataFrame.to_excel``). A text cell is always written as text: a value starting with ``=``
would otherwise become a formula (CSV output escapes it with an apostrophe instead,
:mod:`expertmatch.io.output`). Empty cells (None, NaN) stay empty. Knows nothing of what the
tables mean.
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from expertmatch.io.output import staged, write_frame

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# openpyxl is imported where a workbook is written (0.05-0.07 s): a run writing CSV only
# does not load it (tests/test_startup.py).

#: Column widths in characters (a CJK character counts two): at least, at most.
MIN_WIDTH, MAX_WIDTH = 6, 60
#: Rows looked at to size the columns (the header and the first rows: a long sheet's width
#: does not need every row).
WIDTH_ROWS = 2_000
#: Longest sheet name Excel accepts.
SHEET_NAME_MAX = 31
#: openpyxl's code of A4 paper.
PAPER_A4 = 9
_NOT_IN_SHEET_NAMES = str.maketrans({c: "_" for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Sheet:
    """One sheet: its name, its table, and how it is laid out.

    ``printable``: landscape, fitted to one page wide, the header row on every printed page,
    cells wrapped (a panel's member cells hold a name and an organization on two lines).
    Otherwise a list: an autofilter over the header.
    """

    name: str
    frame: pd.DataFrame
    printable: bool = False


def write_workbook(sheets: Sequence[Sheet], path: str | os.PathLike[str]) -> None:
    """Write ``sheets`` as one workbook at ``path`` (not atomic: see :func:`save_workbook`)."""
    names = [sheet_title(s.name) for s in sheets]
    if len(set(names)) != len(names):
        raise ValueError(f"two sheets share a name: {names}")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    for sheet, name in zip(sheets, names, strict=True):
        ws = book.create_sheet(name)
        _lay_out(ws, sheet)
        bold = Font(bold=True)
        ws.append([_cell(ws, str(c), font=bold) for c in sheet.frame.columns])
        for row in _rows(ws, sheet):
            ws.append(row)
    book.save(path)


def save_workbook(sheets: Sequence[Sheet], path: str | os.PathLike[str]) -> None:
    """:func:`write_workbook`, atomically: a failed run leaves no partial file."""
    with staged([path]) as (temp,):
        write_workbook(sheets, temp)


def write_table(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    sheet: str,
    named: str | os.PathLike[str] | None = None,
) -> None:
    """One table at ``path``: a one-sheet workbook if the file is ``named`` ``.xlsx``
    (``named`` defaults to ``path``; it differs when ``path`` is a temporary file), else CSV."""
    if is_workbook(path if named is None else named):
        write_workbook([Sheet(sheet, frame)], path)
    else:
        write_frame(frame, path)


def save_table(frame: pd.DataFrame, path: str | os.PathLike[str], sheet: str) -> None:
    """:func:`write_table`, atomically."""
    with staged([path]) as (temp,):
        write_table(frame, temp, sheet, path)


def is_workbook(path: str | os.PathLike[str]) -> bool:
    """Is ``path`` named as a workbook (``.xlsx``, any case)?"""
    return Path(path).suffix.lower() == ".xlsx"


def sheet_title(name: str) -> str:
    """A name Excel accepts: no ``[]:*?/\\``, at most 31 characters."""
    return name.translate(_NOT_IN_SHEET_NAMES)[:SHEET_NAME_MAX] or "sheet"


def text_width(text: str) -> int:
    """Columns ``text`` takes on screen: wide (CJK) characters count two; the longest line."""
    return max(
        (
            sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
            for line in text.split("\n")
        ),
        default=0,
    )


def _cell(ws: WriteOnlyWorksheet, value: Any, **style: Any) -> WriteOnlyCell:
    """A styled cell; text stays text even when it starts with ``=``."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    for key, setting in style.items():
        setattr(cell, key, setting)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"
    return cell


def _rows(ws: WriteOnlyWorksheet, sheet: Sheet) -> Iterator[tuple[Any, ...]]:
    """The frame's rows as cell values, column by column made safe: NaN and None empty, text
    starting with ``=`` a text cell, every cell of a printable sheet wrapped."""
    from openpyxl.styles import Alignment

    wrap = Alignment(wrap_text=True, vertical="top")
    columns = []
    for name in sheet.frame.columns:
        values = sheet.frame[name].tolist()  # Python scalars, not numpy ones
        if sheet.printable:
            values = [_cell(ws, _plain(v), alignment=wrap) for v in values]
        else:
            values = [_plain(v) for v in values]
            for i in np.flatnonzero([isinstance(v, str) and v.startswith("=") for v in values]):
                values[i] = _cell(ws, values[i])
        columns.append(values)
    return zip(*columns, strict=True)


def _plain(value: Any) -> Any:
    """None for a missing value (NaN, NaT, None), else the value."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return None if value is pd.NaT else value


def _lay_out(ws: WriteOnlyWorksheet, sheet: Sheet) -> None:
    """Column widths, frozen header, and either a filter (lists) or the print set-up."""
    from openpyxl.utils import get_column_letter

    frame = sheet.frame
    for j, column in enumerate(frame.columns, start=1):
        head = frame[column].head(WIDTH_ROWS)
        width = max([text_width(str(column)), *(text_width(str(v)) for v in head)], default=0)
        ws.column_dimensions[get_column_letter(j)].width = min(max(width + 2, MIN_WIDTH), MAX_WIDTH)
    ws.freeze_panes = "A2"
    if not sheet.printable:
        if len(frame.columns):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(frame.columns))}{len(frame) + 1}"
        return
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

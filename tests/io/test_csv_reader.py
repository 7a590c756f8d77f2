"""The fast CSV reader (pandas' C parser) against the careful one (Python's ``csv`` module):
every text the fast reader accepts it reads to the very table the careful reader gives (cells,
columns, headers as written, row numbers); every text it declines goes to the careful reader,
so messages for bad input do not change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expertmatch.errors import InputError
from expertmatch.io import tables
from expertmatch.io.tables import MAX_CELL, Table, parse_csv

#: Pieces of CSV text, the awkward ones over-represented: quotes, line breaks of every kind,
#: white space (ASCII, full-width, no-break), commas, Chinese text, control characters.
PIECES = ["a", "b", "E1", "中文", ",", ",", ",", '"', '""', "\n", "\n", "\r", "\r\n", " ", "\t"]
PIECES += ["\u3000", "\xa0", "\x85", "\u2028", "5.5", "编号", "id", "ID ", "a,b,c\n"]
#: Rarer pieces, each of which the fast reader declines (the careful reader names them).
RARE = ["\x00", "\x07", "\x1f", "\ufeff"]


def _same(fast: Table, slow: Table) -> None:
    assert list(fast.frame.columns) == list(slow.frame.columns)
    assert fast.frame.shape == slow.frame.shape
    for column in slow.frame.columns:
        assert fast.frame[column].tolist() == slow.frame[column].tolist()
        assert fast.frame[column].dtype == object  # the careful reader: float64 when empty
        assert slow.frame[column].dtype == object or slow.frame.empty
    assert dict(fast.written) == dict(slow.written)
    assert [fast.row(i) for i in range(len(fast.frame))] == [
        slow.row(i) for i in range(len(slow.frame))
    ]
    assert fast.label == slow.label and fast.origin == slow.origin == "csv"


def _careful(text: str, table: str | None) -> Table | InputError:
    try:
        return tables._parse_rows(text, "t.csv", table)
    except InputError as err:
        return err


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pieces=st.lists(st.sampled_from(PIECES * 8 + RARE), max_size=40),
    table=st.sampled_from([None, "experts", "scores"]),
)
def test_fast_reader_reads_what_the_careful_one_reads(pieces: list[str], table: str | None) -> None:
    """Random texts: the fast reader gives the careful reader's table, or declines; when the
    careful reader refuses a text, so does the fast one (it declines, never reads it)."""
    text = "".join(pieces)
    careful = _careful(text, table)
    try:
        fast = tables._parse_fast(text, "t.csv", table)
    except InputError as err:  # only the header's own issues are raised by the fast reader
        assert isinstance(careful, InputError)
        assert err.issues == careful.issues
        return
    if fast is None:
        return
    assert isinstance(careful, Table), careful
    _same(fast, careful)


@pytest.mark.parametrize(
    "text",
    [
        "id,organization,fields\nE1,O1,520.20\n",
        'id,organization,fields\r\nE1,O1,520.20\r\n\r\n  ,\t, \r\nE2, O2 ,"520.20; 520.30"\r\n',
        'id,name\nE1,"王,小明"\nE2,"多\n行"\nE3,\n',
        "编号,工作单位,学科代码\nE1,O1,520.20\n",
        "id,organization,fields\nE1,O1\n\n\nE2,O2,520\n",
        "id,organization,fields\n",
    ],
)
def test_well_formed_files_take_the_fast_path(text: str) -> None:
    """Files as an office writes them (CRLF, quotes, blank rows, short rows, Chinese headers)
    are read by the C parser, to the careful reader's table."""
    fast = tables._parse_fast(text, "t.csv", "experts")
    assert fast is not None
    _same(fast, tables._parse_rows(text, "t.csv", "experts"))


@pytest.mark.parametrize(
    ("text", "message", "row"),
    [
        ("id,organization,fields\nE1,O1,5,extra\n", "has 4 cells but the header has 3", 2),
        ("id,organization,fields\nE1,O\x00,5\n", "U+0000", 2),
        ("\n\nid,organization,fields\nE1,O1,5,6\n", "has 4 cells but the header has 3", 4),
        ("id,organization,fields\nE1,O1," + "x" * (MAX_CELL + 5) + "\n", "longer than", 2),
        ("id,id,fields\nE1,O1,5\n", "appears more than once", 1),
        ("", "the file is empty", None),
    ],
)
def test_bad_files_keep_their_messages(text: str, message: str, row: int | None) -> None:
    """Damaged files are declined by the fast reader and named by the careful one."""
    with pytest.raises(InputError) as info:
        parse_csv(text, "experts.csv", "experts")
    issue = info.value.issues[0]
    assert message in issue.message and issue.row == row and issue.file == "experts.csv"


def test_a_large_file_reads_in_columns() -> None:
    """A 200,000-row scores file: the C parser's table, every cell a stripped string, rows
    numbered from 2, blank rows skipped with the numbers kept."""
    n = 200_000
    rng = np.random.default_rng(1)
    experts = [f"E{i:06d}" for i in rng.integers(0, 3000, n)]
    lines = ["expert,project,score"] + [
        f"{e},P{i % 1000:06d},{i % 97 / 10}" for i, e in enumerate(experts)
    ]
    lines[1000] = ",,"
    text = "\n".join(lines) + "\n"
    table = tables._parse_fast(text, "scores.csv", "scores")
    assert table is not None
    assert len(table.frame) == n - 1
    assert table.frame["expert"].iloc[0] == experts[0]
    assert table.row(998) == 1000 and table.row(999) == 1002
    assert table.frame["score"].iloc[-1] == f"{(n - 1) % 97 / 10}"
    assert isinstance(table.frame, pd.DataFrame)

"""Writing files safely: atomically (a failed run leaves no partial file) and with text cells
that a spreadsheet will not run as formulas."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell made spreadsheet-safe.

    A column is rebuilt only when one of its cells needs the apostrophe (rare), and is read
    as a NumPy object array, not cell by cell through pandas (ten times faster)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            values = out[column].to_numpy(dtype=object)
            if any(isinstance(v, str) and v.startswith(FORMULA_START) for v in values):
                out[column] = [spreadsheet_safe(v) for v in values]
    return out


def write_frame(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """A table as spreadsheet-safe CSV, UTF-8 with BOM (so Excel opens it); no index."""
    safe_frame(frame).to_csv(path, index=False, encoding="utf-8-sig")


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """:func:`write_frame`, atomically: a failed run leaves no partial file."""
    with staged([path]) as (temp,):
        write_frame(frame, temp)


@contextmanager
def staged(paths: Iterable[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """Yield temporary paths beside the targets; move them all in place only on success.

    Either every target is replaced, or (on any error) none is touched and the temporary files
    are removed.
    """
    targets = [Path(p) for p in paths]
    for target in targets:  # checked before anything is written: all or none
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(target))
    temps: list[Path] = []
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
            os.close(fd)
            os.chmod(name, _READABLE)
            temps.append(Path(name))
        yield temps
        for temp, target in zip(temps, targets, strict=True):
            os.replace(temp, target)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: Mode of the files written: readable by colleagues (0644 under the usual umask 022), not the
#: 0600 of a temporary file.
_READABLE = 0o666 & ~_umask()

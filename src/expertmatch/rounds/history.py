"""What happened before this solve: earlier assignment files, declines, yearly usage.

- :func:`read_pairs` reads an assignment (a CSV file, a DataFrame, a :class:`Result` or a list
  of pairs) into (project id, expert id) rows that keep their file and row for messages;
- :func:`read_declines` reads ``declined.csv`` (expert, project; an empty project means the
  expert is unavailable for the whole round);
- :func:`update_used` adds the reviews of earlier rounds' assignment files to each expert's
  ``used``, so ``yearly_cap`` holds across the year; :func:`write_experts` writes the updated
  ``experts.csv`` for the office's next round.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from expertmatch.domain.problem import Problem
from expertmatch.errors import InputError, InputIssue
from expertmatch.io.output import write_csv
from expertmatch.io.tables import (
    decode_csv,
    parse_csv,
    present,
    read_bytes,
    read_folder,
    read_workbook,
)
from expertmatch.result import Result

#: Prefix of the ``declared`` reason that marks a decline (see :func:`with_declines`).
DECLINED = "declined"


@dataclass(frozen=True)
class Row:
    """One (project, expert) row of an input file, with where it came from."""

    project: str
    expert: str
    label: str
    row: int | None


#: An assignment: CSV path, DataFrame (project, expert columns), Result or pairs.
AssignmentLike: TypeAlias = Any


def _table(
    path: str | os.PathLike[str], required: Sequence[str]
) -> tuple[str, pd.DataFrame, list[int]]:
    file = Path(path)
    if not present(file):
        raise InputError([InputIssue(str(path), "file not found")])
    table = parse_csv(decode_csv(read_bytes(file, file.name), file.name), file.name)
    missing = [c for c in required if c not in table.frame.columns]
    if missing:
        raise InputError(
            [InputIssue(file.name, f"required column {c!r} missing", column=c) for c in missing]
        )
    frame = table.frame.copy()
    for column in ("project", "expert", "group", "slot"):
        if column in frame.columns:  # undo the spreadsheet-safe apostrophe of our own output
            frame[column] = [v[1:] if v.startswith("'") else v for v in frame[column]]
    return file.name, frame, [table.row(i) for i in range(len(frame))]


def read_assignment_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """An assignment file as a table: project, expert and every other column (a meeting's
    ``group``, ``slot``, ``room`` and ``role``, which :func:`expertmatch.verify` reads)."""
    return _table(path, ("project", "expert"))[1]


def read_pairs(source: AssignmentLike, label: str = "assignment") -> list[Row]:
    """The (project, expert) rows of an assignment: a CSV path, DataFrame, Result or pairs."""

    if isinstance(source, str | os.PathLike):
        name, frame, rows = _table(source, ("project", "expert"))
        return [
            Row(str(p), str(e), name, n)
            for p, e, n in zip(frame["project"], frame["expert"], rows, strict=True)
        ]
    if isinstance(source, Result):
        return [Row(p, e, label, None) for p, e in source.assignment]
    if isinstance(source, pd.DataFrame):
        return [
            Row(str(p), str(e), label, i + 1)
            for i, (p, e) in enumerate(zip(source["project"], source["expert"], strict=True))
        ]
    return [Row(str(p), str(e), label, i + 1) for i, (p, e) in enumerate(source)]


def source_sha256(source: AssignmentLike) -> str | None:
    """SHA-256 of a file given by path (for the audit trail); None for in-memory sources."""
    if isinstance(source, str | os.PathLike) and Path(source).is_file():
        return hashlib.sha256(Path(source).read_bytes()).hexdigest()
    return None


def read_declines(source: AssignmentLike, problem: Problem) -> list[Row]:
    """Declines: (project, expert) rows; an empty project means the whole round.

    Unknown experts or projects are input errors naming the file and row.
    """
    if isinstance(source, str | os.PathLike):
        name, frame, numbers = _table(source, ("expert",))
        projects = frame["project"] if "project" in frame.columns else [""] * len(frame)
        rows = [
            Row(str(p), str(e), name, n)
            for p, e, n in zip(projects, frame["expert"], numbers, strict=True)
        ]
    elif isinstance(source, pd.DataFrame):
        projects = source["project"] if "project" in source.columns else [""] * len(source)
        rows = [
            Row("" if pd.isna(p) else str(p), str(e), "declined", i + 1)
            for i, (p, e) in enumerate(zip(projects, source["expert"], strict=True))
        ]
    else:
        rows = [
            Row("" if p is None else str(p), str(e), "declined", i + 1)
            for i, (e, p) in enumerate(source)
        ]
    issues = []
    for r in rows:
        if r.expert not in problem.expert_index:
            issues.append(InputIssue(r.label, f"unknown expert {r.expert!r}", r.row, "expert"))
        if r.project and r.project not in problem.project_index:
            issues.append(InputIssue(r.label, f"unknown project {r.project!r}", r.row, "project"))
    if issues:
        raise InputError(issues)
    return rows


def with_declines(problem: Problem, declines: list[Row]) -> Problem:
    """The batch with every declined pair ruled out, like a declared conflict of interest.

    ``verify`` and ``why`` then name the decline (``declared: declined ...``).
    """
    declared = dict(problem.declared)
    for r in declines:
        e = problem.expert_index[r.expert]
        where = f"{r.label} row {r.row}" if r.row is not None else r.label
        if r.project:
            declared[(problem.project_index[r.project], e)] = f"{DECLINED} ({where})"
        else:
            for p in range(problem.n_projects):
                declared[(p, e)] = f"{DECLINED}: unavailable this round ({where})"
    return replace(problem, declared=declared)


def count_reviews(
    assignments: Iterable[AssignmentLike], problem: Problem, unknown: str = "error"
) -> tuple[np.ndarray, list[Row]]:
    """Reviews per expert (by index) in earlier rounds' assignments, and rows whose expert is
    not in this batch. ``unknown="error"`` makes such rows an input error; ``"skip"`` returns
    them (they cannot affect this batch)."""
    if unknown not in ("error", "skip"):
        raise ValueError(f"unknown must be 'error' or 'skip', not {unknown!r}")
    counts: Counter[int] = Counter()
    skipped: list[Row] = []
    seen: set[tuple[str, str, str]] = set()
    issues = []
    for k, source in enumerate(assignments):
        for r in read_pairs(source, label=f"assignment {k + 1}"):
            if (r.label, r.project, r.expert) in seen:
                issues.append(
                    InputIssue(r.label, f"pair {r.project}/{r.expert} listed twice", r.row)
                )
                continue
            seen.add((r.label, r.project, r.expert))
            if r.expert in problem.expert_index:
                counts[problem.expert_index[r.expert]] += 1
            elif unknown == "error":
                issues.append(
                    InputIssue(
                        r.label, f"expert {r.expert!r} is not in this batch", r.row, "expert"
                    )
                )
            else:
                skipped.append(r)
    if issues:
        raise InputError(issues)
    out = np.zeros(problem.n_experts, dtype=np.int64)
    for e, n in counts.items():
        out[e] = n
    return out, skipped


def update_used(
    problem: Problem, assignments: Iterable[AssignmentLike], unknown: str = "error"
) -> Problem:
    """The batch with ``used`` raised by the reviews in earlier rounds' assignment files.

    Each file (``assignment.csv`` of an earlier round, or a Result / DataFrame / pairs) counts
    one review per row for its expert. ``yearly_cap`` then holds across the year:
    ``used + reviews in this batch <= yearly_cap``. Experts of a file who are not in this batch
    are an input error unless ``unknown="skip"``. ``input_sha256`` of the result covers the
    new ``used`` values.
    """
    added, _ = count_reviews(assignments, problem, unknown)
    return with_used(problem, problem.expert_used + added)


def with_used(problem: Problem, used: np.ndarray) -> Problem:
    """The batch with other ``used`` values; ``input_sha256`` then also covers them, so a
    report never claims the original input's hash for changed data."""
    digest = hashlib.sha256(problem.input_sha256.encode())
    digest.update(np.asarray(used, dtype=np.int64).tobytes())
    return replace(problem, expert_used=used, input_sha256=digest.hexdigest())


def write_experts(
    problem: Problem, source: str | os.PathLike[str], output: str | os.PathLike[str]
) -> None:
    """Write ``experts.csv`` of the batch at ``source`` with the ``used`` column of ``problem``.

    Every other column and row is kept as read; only ``used`` changes.
    """
    path = Path(source)
    raw = read_folder(path) if path.is_dir() else read_workbook(path)
    frame = raw.tables["experts"].frame.copy()
    ids = [str(i).strip() for i in frame["id"]]
    frame["used"] = [int(problem.expert_used[problem.expert_index[i]]) for i in ids]
    write_csv(frame, output)

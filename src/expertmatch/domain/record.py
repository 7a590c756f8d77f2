"""The conflicts record (回避记录): every expert-project pair a conflict of interest excludes,
with its kinds and the reasons in words, for the office to file with the assignment.

The pairs and their kinds come from :func:`expertmatch.domain.conflicts.conflict_pairs` (all
at once, the set the solver excluded); the words from
:func:`expertmatch.domain.conflicts.explain_conflicts`, pair by pair from the raw data (about
3 µs a pair: 0.12 s for the 41,000 pairs of a generated 1,000 x 3,000 batch). Ids, names and
kinds are gathered with array indexing. Computed once per Problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from expertmatch.domain.conflicts import conflict_pairs, explain_conflicts, kinds_of
from expertmatch.domain.problem import Problem, memo
from expertmatch.io.lang import check_lang, reason_zh, translate

#: The record's columns (``expert_name`` helps the reader; ids are what identify).
COLUMNS = ["project", "expert", "expert_name", "kinds", "reason"]


@dataclass(frozen=True)
class ConflictRecord:
    """Every conflicted pair, sorted by project then expert: indices, kind masks, reasons."""

    problem: Problem
    project: np.ndarray
    expert: np.ndarray
    mask: np.ndarray
    reasons: tuple[tuple[str, ...], ...]

    def __len__(self) -> int:
        return int(self.project.size)

    def kinds(self) -> np.ndarray:
        """Each pair's kinds, ``;``-separated (one string built per distinct mask)."""
        masks, inverse = np.unique(self.mask, return_inverse=True)
        names = np.array([";".join(kinds_of(int(m))) for m in masks], dtype=object)
        return names[inverse] if len(self) else np.zeros(0, dtype=object)

    def frame(self, lang: str = "en") -> pd.DataFrame:
        """The record as a table: project, expert, expert_name, kinds, reason; headers, kinds
        and reasons in ``lang``."""
        p = self.problem
        if check_lang(lang) == "zh":
            reasons = ["；".join(reason_zh(s) for s in r) for r in self.reasons]
        else:
            reasons = ["; ".join(r) for r in self.reasons]
        frame = pd.DataFrame(
            {
                "project": _pick(p.project_ids, self.project),
                "expert": _pick(p.expert_ids, self.expert),
                "expert_name": _pick(p.expert_names, self.expert),
                "kinds": self.kinds(),
                "reason": reasons,
            },
            columns=COLUMNS,
        )
        return translate(frame, lang)

    def as_json(self) -> list[dict[str, Any]]:
        """For ``report.json``: one ``{project, expert, kinds: [...], reason}`` a pair."""
        p = self.problem
        kinds = {int(m): kinds_of(int(m)) for m in np.unique(self.mask)}
        return [
            {
                "project": p.project_ids[i],
                "expert": p.expert_ids[e],
                "kinds": kinds[m],
                "reason": "; ".join(r),
            }
            for i, e, m, r in zip(
                self.project.tolist(),
                self.expert.tolist(),
                self.mask.tolist(),
                self.reasons,
                strict=True,
            )
        ]


def conflict_record(problem: Problem) -> ConflictRecord:
    """The conflicts record of ``problem`` (computed once per Problem)."""
    return memo(problem, "conflict_record", lambda: _build(problem))


def _build(problem: Problem) -> ConflictRecord:
    project, expert, mask = conflict_pairs(problem)
    reasons = tuple(
        tuple(explain_conflicts(problem, i, e))
        for i, e in zip(project.tolist(), expert.tolist(), strict=True)
    )
    return ConflictRecord(problem, project, expert, mask, reasons)


def _pick(labels: tuple[str, ...], index: np.ndarray) -> np.ndarray:
    return np.asarray(labels, dtype=object)[index] if index.size else np.zeros(0, dtype=object)

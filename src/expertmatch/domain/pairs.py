"""Pair arrays: the one data shape every layer passes around (a leaf module).

A set of expert-project pairs is three aligned numpy arrays sorted by project then expert.
Nothing here knows of problems, rules or models, so anything may import it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pairs:
    """The eligible expert-project pairs, sorted by project then expert.

    A pair is eligible when it has no conflict of interest and its score is above
    ``min_score``. ``score`` is the pair's score (already rounded to 6 decimals).
    """

    project: np.ndarray
    expert: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return int(self.project.size)

    def take(self, mask: np.ndarray) -> Pairs:
        """The pairs where ``mask`` (booleans or indices) selects them, in order."""
        return Pairs(self.project[mask], self.expert[mask], self.score[mask])

    def member_of(self, other: Pairs, n_experts: int) -> np.ndarray:
        """For each of these pairs, is the same (project, expert) among ``other``?"""
        return np.isin(
            self.project * n_experts + self.expert, other.project * n_experts + other.expert
        )


def merge(a: Pairs, b: Pairs, n_experts: int) -> Pairs:
    """The union of two pair sets, sorted by project then expert."""
    key = np.concatenate([a.project, b.project]) * n_experts + np.concatenate([a.expert, b.expert])
    score = np.concatenate([a.score, b.score])
    key, first = np.unique(key, return_index=True)
    return Pairs(key // n_experts, key % n_experts, score[first])


def ranges(start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(start[i], stop[i])`` for all i, vectorised."""
    lengths = stop - start
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(start - np.cumsum(lengths) + lengths, lengths)
    return np.arange(total, dtype=np.int64) + offsets


def concat(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Pairs:
    """Pairs from (project, expert, score) array triples, sorted by project then expert."""
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Pairs(empty, empty.copy(), np.zeros(0))
    project = np.concatenate([p for p, _, _ in parts]).astype(np.int64)
    expert = np.concatenate([e for _, e, _ in parts]).astype(np.int64)
    score = np.concatenate([s for _, _, s in parts])
    order = np.lexsort((expert, project))
    return Pairs(project[order], expert[order], score[order])

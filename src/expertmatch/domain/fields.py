"""Hierarchical field codes (GB/T 13745, NSFC, ...): each code's chain of ancestors.

By default a code's hierarchy is its dot-separated prefixes (``520.20.10`` -> ``520.20`` ->
``520``); a ``taxonomy.csv`` may define it with parent links instead. Two codes *share k levels*
when the first k entries of their chains are equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np


def dotted_chain(code: str) -> tuple[str, ...]:
    """``"520.20.10"`` -> ``("520", "520.20", "520.20.10")``."""
    parts = code.split(".")
    return tuple(".".join(parts[: i + 1]) for i in range(len(parts)))


@dataclass(frozen=True)
class FieldTree:
    """The ancestor chain (root first, the code itself last) of every code in a batch."""

    chains: Mapping[str, tuple[str, ...]]

    @classmethod
    def from_codes(cls, codes: Iterable[str]) -> FieldTree:
        """Dotted codes: every code and each of its prefixes gets its chain."""
        chains = {}
        for code in set(codes):
            chain = dotted_chain(code)
            for i in range(len(chain)):
                chains[chain[i]] = chain[: i + 1]
        return cls(MappingProxyType(dict(sorted(chains.items()))))

    @classmethod
    def from_parents(cls, parents: Mapping[str, str]) -> FieldTree:
        """From ``code -> parent`` links (``""`` for a root); the links must be acyclic."""
        chains: dict[str, tuple[str, ...]] = {}

        def chain(code: str) -> tuple[str, ...]:
            if code not in chains:
                parent = parents[code]
                chains[code] = (*chain(parent), code) if parent else (code,)
            return chains[code]

        for code in parents:
            chain(code)
        return cls(MappingProxyType(chains))

    def depth(self, code: str) -> int:
        return len(self.chains[code])

    def prefix(self, code: str, level: int) -> str:
        """The ancestor of ``code`` at ``level`` (1 = root), or the code itself if shallower."""
        chain = self.chains[code]
        return chain[min(level, len(chain)) - 1]

    def shared_levels(self, a: str, b: str) -> int:
        """How many leading levels the two codes share."""
        n = 0
        for x, y in zip(self.chains[a], self.chains[b], strict=False):
            if x != y:
                break
            n += 1
        return n

    def covers(self, expert_field: str, project_field: str, level: int) -> bool:
        """Does an expert field cover a project field at ``coverage_level``?

        It does when the expert's code shares the project code's first ``level`` levels (all of
        them, if the project code is shallower): ``520.20.30`` covers ``520.20.10`` at level 2,
        and any ``520.*`` code covers the coarse project field ``520``.
        """
        need = min(level, self.depth(project_field))
        return self.shared_levels(expert_field, project_field) >= need

    def level_matrix(self, rows: Iterable[Iterable[str]], pad: int) -> np.ndarray:
        """Integer ids of each row's codes at each level: shape (rows, codes per row, depth).

        Missing entries are ``pad`` so that rows padded with different values never match.
        """
        table = [tuple(r) for r in rows]
        width = max((len(r) for r in table), default=0) or 1
        depth = max((len(c) for c in self.chains.values()), default=1)
        nodes = sorted({n for chain in self.chains.values() for n in chain})
        ids = {n: i for i, n in enumerate(nodes)}
        out = np.full((len(table), width, depth + 1), pad, dtype=np.int64)
        for i, row in enumerate(table):
            for j, code in enumerate(row):
                chain = self.chains[code]
                for level, node in enumerate(chain):
                    out[i, j, level] = ids[node]
                out[i, j, depth] = ids[code]  # the code itself, for exact matches
        return out

"""The validated, immutable batch: experts, projects, organizations, people and rules as
numpy arrays and tuples, plus the eligible expert-project pairs derived from them.

A :class:`Problem` is built by :func:`expertmatch.load` / :func:`expertmatch.from_tables` (which
validate the tables first) and never changes afterwards; :meth:`Problem.with_rules` gives a new
one. Everything the solver and :func:`expertmatch.verify` need is here, by integer index.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
import scipy.sparse as sp

from .fields import FieldTree
from .rules import Rules

ORG_TYPES = ("enterprise", "university", "institute", "hospital", "government", "other")
RELATION_KINDS = ("coauthor", "coproject", "advisor", "relative", "other")


@dataclass(frozen=True)
class Relation:
    """A tie between two people (expert ids or team-member ids) from ``relations.csv``."""

    a: str
    b: str
    kind: str
    year: int | None = None


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


@dataclass(frozen=True)
class Coverage:
    """One entry per (project, distinct field prefix to cover); ``holds[e, node]`` is 1 when
    one of expert e's fields lies under that node of the field tree."""

    project: np.ndarray
    node: np.ndarray
    nodes: tuple[str, ...]
    holds: sp.csr_matrix
    holds_t: sp.csr_matrix  # nodes x experts

    @classmethod
    def build(cls, problem: Problem) -> Coverage:
        tree = problem.field_tree
        nodes = tuple(sorted({n for chain in tree.chains.values() for n in chain}))
        node_id = {n: i for i, n in enumerate(nodes)}
        indptr, indices = [0], []
        for fields in problem.expert_fields:
            indices.extend(sorted({node_id[n] for f in fields for n in tree.chains[f]}))
            indptr.append(len(indices))
        holds = sp.csr_matrix(
            (np.ones(len(indices)), indices, indptr), shape=(problem.n_experts, len(nodes))
        )
        project = [p for p in range(problem.n_projects) for _ in problem.coverage_keys(p)]
        node = [node_id[k] for p in range(problem.n_projects) for k in problem.coverage_keys(p)]
        return cls(
            np.array(project, dtype=np.int64),
            np.array(node, dtype=np.int64),
            nodes,
            holds,
            holds.T.tocsr(),
        )


def _frozen(array: Any, dtype: Any) -> np.ndarray:
    out = np.array(array, dtype=dtype)
    out.flags.writeable = False
    return out


@dataclass(frozen=True, eq=False)
class Problem:
    """One batch, validated. Build it with ``load()`` or ``from_tables()``, not by hand."""

    rules: Rules
    expert_ids: tuple[str, ...]
    expert_names: tuple[str, ...]
    expert_org: np.ndarray
    expert_type: tuple[str, ...]
    expert_fields: tuple[tuple[str, ...], ...]
    expert_keywords: tuple[tuple[str, ...], ...]
    expert_max_load_given: np.ndarray
    expert_used: np.ndarray
    org_ids: tuple[str, ...]
    org_names: tuple[str, ...]
    org_types: tuple[str, ...]
    org_parent: np.ndarray
    project_ids: tuple[str, ...]
    project_titles: tuple[str, ...]
    project_org: np.ndarray
    project_partners: tuple[tuple[int, ...], ...]
    project_fields: tuple[tuple[str, ...], ...]
    project_keywords: tuple[tuple[str, ...], ...]
    project_panel_size_given: np.ndarray
    members: tuple[tuple[str, ...], ...]
    relations: tuple[Relation, ...]
    declared: Mapping[tuple[int, int], str]
    supplied_scores: Pairs | None
    field_tree: FieldTree
    input_sha256: str = ""
    source: str = "python"
    attributes: Mapping[str, tuple[Mapping[str, str], ...]] = field(default_factory=dict)
    """Unknown columns, kept per table (``"experts"``, ``"projects"``) and row, in order."""

    def __post_init__(self) -> None:
        for name in (
            "expert_org",
            "expert_max_load_given",
            "expert_used",
            "org_parent",
            "project_org",
            "project_panel_size_given",
        ):
            object.__setattr__(self, name, _frozen(getattr(self, name), np.int64))
        object.__setattr__(self, "declared", MappingProxyType(dict(self.declared)))
        if self.supplied_scores is not None:
            for a in (
                self.supplied_scores.project,
                self.supplied_scores.expert,
                self.supplied_scores.score,
            ):
                a.flags.writeable = False

    @cached_property
    def conflict_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All conflicted (project, expert) pairs and the bit mask of their kinds."""
        from .conflicts import find_conflicts

        return find_conflicts(self)

    @cached_property
    def pairs(self) -> Pairs:
        """Every eligible pair (computed on first use; large batches are solved without it)."""
        from .eligibility import eligible_pairs

        return eligible_pairs(self)

    @cached_property
    def score_unit(self) -> float:
        """The unit that makes every score an exact integer multiple (for CP-SAT)."""
        from .scoring import DECIMALS, SCORE_UNIT

        if self.supplied_scores is None:
            return 10.0**-DECIMALS
        raw = np.unique(
            np.rint(np.append(self.supplied_scores.score, 0.0) * SCORE_UNIT).astype(np.int64)
        )
        g = int(np.gcd.reduce(raw)) if raw.size else 0
        return (g or 1) / SCORE_UNIT

    @cached_property
    def coverage(self) -> Coverage:
        """The coverage rows: (project, field node) pairs and which experts hold each node."""
        return Coverage.build(self)

    # -- sizes and lookups -------------------------------------------------------------
    @property
    def n_experts(self) -> int:
        return len(self.expert_ids)

    @property
    def n_projects(self) -> int:
        return len(self.project_ids)

    @cached_property
    def expert_index(self) -> Mapping[str, int]:
        return MappingProxyType({e: i for i, e in enumerate(self.expert_ids)})

    @cached_property
    def project_index(self) -> Mapping[str, int]:
        return MappingProxyType({p: i for i, p in enumerate(self.project_ids)})

    @cached_property
    def expert_max_load(self) -> np.ndarray:
        """Each expert's ``max_load``: the row's value, else the rule's."""
        given = self.expert_max_load_given
        return _frozen(np.where(given >= 0, given, self.rules.max_load), np.int64)

    @cached_property
    def project_panel_size(self) -> np.ndarray:
        """Each project's panel size: the row's value, else the rule's."""
        given = self.project_panel_size_given
        return _frozen(np.where(given >= 0, given, self.rules.panel_size), np.int64)

    @cached_property
    def expert_enterprise(self) -> np.ndarray:
        """True for experts whose type is ``enterprise``."""
        return _frozen([t == "enterprise" for t in self.expert_type], bool)

    @cached_property
    def expert_capacity(self) -> np.ndarray:
        """Reviews each expert can still take: min(max_load, yearly_cap - used), at least 0."""
        cap = np.minimum(self.expert_max_load, self.rules.yearly_cap - self.expert_used)
        return _frozen(np.maximum(cap, 0), np.int64)

    @cached_property
    def enterprise_required(self) -> np.ndarray:
        """Enterprise experts each panel needs: ceil(enterprise_min_share x panel size)."""
        need = [self.rules.enterprise_required(int(k)) for k in self.project_panel_size]
        return _frozen(need, np.int64)

    @cached_property
    def org_root(self) -> np.ndarray:
        """Each organization's group: the root reached by following ``parent`` links."""
        root = np.arange(len(self.org_ids))
        parent = self.org_parent
        for _ in range(len(self.org_ids)):
            nxt = np.where(parent[root] >= 0, parent[root], root)
            if np.array_equal(nxt, root):
                break
            root = nxt
        return _frozen(root, np.int64)

    @cached_property
    def relations_of(self) -> Mapping[str, tuple[Relation, ...]]:
        """Each person's relations (both directions), for pair-by-pair conflict checks."""
        index: dict[str, list[Relation]] = {}
        for rel in self.relations:
            index.setdefault(rel.a, []).append(rel)
            if rel.b != rel.a:
                index.setdefault(rel.b, []).append(rel)
        return MappingProxyType({k: tuple(v) for k, v in index.items()})

    def coverage_keys(self, project: int) -> tuple[str, ...]:
        """The distinct field prefixes a project's panel must cover (empty if coverage is off)."""
        level = self.rules.coverage_level
        if level == 0:
            return ()
        keys = (self.field_tree.prefix(f, level) for f in self.project_fields[project])
        return tuple(dict.fromkeys(keys))

    def covers(self, expert: int, key: str) -> bool:
        """Does the expert have a field under the coverage prefix ``key``?"""
        chain = self.field_tree.chains[key]
        depth = len(chain)
        return any(self.field_tree.chains[f][:depth] == chain for f in self.expert_fields[expert])

    def with_rules(self, rules: Rules | Mapping[str, Any]) -> Problem:
        """The same batch under other rules (eligibility and conflicts are recomputed)."""
        if not isinstance(rules, Rules):
            rules = self.rules.with_overrides(rules)
        return replace(self, rules=rules)

    def score_of(self, project: int, expert: int) -> float:
        """The score of one pair, whether eligible or not."""
        from .scoring import pair_scores

        return float(pair_scores(self, np.array([project]), np.array([expert]))[0])

    def why_ineligible(self, expert_id: str, project_id: str) -> list[str]:
        """Why this expert may not review this project, in office terms (empty if eligible)."""
        from .eligibility import explain_pair

        return explain_pair(self, self.expert_index[expert_id], self.project_index[project_id])

    def __repr__(self) -> str:
        return (
            f"Problem({self.n_projects} projects, {self.n_experts} experts, source={self.source!r})"
        )

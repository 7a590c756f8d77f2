"""The validated, immutable batch: experts, projects, organizations, people and rules as
numpy arrays and tuples, plus the eligible expert-project pairs derived from them.

A :class:`Problem` is built by :func:`expertmatch.load` / :func:`expertmatch.from_tables` (which
validate the tables first) and never changes afterwards; :meth:`Problem.with_rules` gives a new
one. Everything the solver and :func:`expertmatch.verify` need is here, by integer index.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any, TypeVar

import numpy as np

from expertmatch.domain.fields import FieldTree
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.rules import Chair, MeetingRules, Quota, Rules
from expertmatch.errors import InputError, InputIssue

ORG_TYPES = ("enterprise", "university", "institute", "hospital", "government", "other")
RELATION_KINDS = ("coauthor", "coproject", "advisor", "relative", "other")
T = TypeVar("T")
#: The name of the chair rule's quota (a member who may chair each panel of its stages).
CHAIR_QUOTA = "组长 (chair)"


@dataclass(frozen=True)
class Relation:
    """A tie between two people (expert ids or team-member ids) from ``relations.csv``."""

    a: str
    b: str
    kind: str
    year: int | None = None


@dataclass(frozen=True, eq=False)
class Papers:
    """``papers.csv``: the experts' publications or research statements, one a row, in the
    file's order (an expert may have several, or none)."""

    expert: np.ndarray
    """Each paper's expert, by position in the Problem's experts."""
    title: tuple[str, ...]
    abstract: tuple[str, ...]
    year: np.ndarray
    """Each paper's year, -1 where not given."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "expert", _frozen(self.expert, np.int64))
        object.__setattr__(self, "year", _frozen(self.year, np.int64))


def memo(problem: Problem, key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per problem and key: how derived data (eligible pairs, conflicts,
    coverage rows) is cached without the Problem knowing the modules that derive it."""
    store = problem._memo
    if key not in store:
        store[key] = compute()
    return store[key]


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
    project_stage: tuple[str, ...] = ()
    """Each project's stage (``approval``, ``midterm``, ``acceptance``); empty: all approval."""
    project_enterprise_min_given: np.ndarray | None = None
    """Each project's ``enterprise_min`` column (a count), -1 where not given."""
    expert_attributes: Mapping[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    """Expert attributes quotas and the chair can count (``title``, ``region``, ``roles`` and
    every other column of experts.csv), per expert the ``;``-separated values."""
    project_mode_given: tuple[str, ...] = ()
    """Each project's ``mode`` column (``panel``, ``meeting``; "" where not given); empty:
    none given."""
    project_group: tuple[str, ...] = ()
    """Each meeting project's ``group`` column (the office fixes its group; "" where the
    solver forms it); empty: none given."""
    availability: Mapping[int, frozenset[str]] | None = None
    """``availability.csv``: expert index -> the slots the expert can come to; an expert not
    listed can come to every slot; None without the file."""
    project_abstracts: tuple[str, ...] = ()
    """Each project's ``abstract`` (empty: none given)."""
    papers: Papers | None = None
    """``papers.csv``, if given: the text the built-in score blends in (domain/text.py)."""
    _memo: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    """Values derived from this batch by other modules (eligible pairs, conflicts, ...),
    computed once each through :func:`memo`; a new Problem (``with_rules``) starts empty."""

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
        if self.availability is not None:
            object.__setattr__(self, "availability", MappingProxyType(dict(self.availability)))
        given = self.project_enterprise_min_given
        if given is None or len(given) == 0:
            given = np.full(self.n_projects, -1)
        object.__setattr__(self, "project_enterprise_min_given", _frozen(given, np.int64))
        object.__setattr__(
            self, "expert_attributes", MappingProxyType(dict(self.expert_attributes))
        )
        self._check_attributes()
        if self.supplied_scores is not None:
            for a in (
                self.supplied_scores.project,
                self.supplied_scores.expert,
                self.supplied_scores.score,
            ):
                a.flags.writeable = False

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
    def stages(self) -> tuple[str, ...]:
        """Each project's stage (approval where none was given)."""
        return self.project_stage or ("approval",) * self.n_projects

    def _per_project(self, key: str, dtype: Any) -> np.ndarray:
        """The rule ``key`` for each project: its stage's override, else the batch's."""
        by_stage = {s: self.rules.value(key, s) for s in set(self.stages)}
        return _frozen([by_stage[s] for s in self.stages], dtype)

    @cached_property
    def project_panel_size(self) -> np.ndarray:
        """Each project's panel size: the row's value, else its stage's, else the rule's."""
        given = self.project_panel_size_given
        rule = self._per_project("panel_size", np.int64)
        return _frozen(np.where(given >= 0, given, rule), np.int64)

    @cached_property
    def project_max_per_org(self) -> np.ndarray:
        """Each project's organization cap (its stage's, else the rule's)."""
        return self._per_project("max_per_org", np.int64)

    @cached_property
    def project_coverage_level(self) -> np.ndarray:
        """Each project's coverage level (its stage's, else the rule's; 0 = off)."""
        return self._per_project("coverage_level", np.int64)

    @cached_property
    def project_min_score(self) -> np.ndarray:
        """Each project's ``min_score`` (its stage's, else the rule's)."""
        return self._per_project("min_score", np.float64)

    @cached_property
    def project_max_probability(self) -> np.ndarray:
        """Each project's ``max_probability`` (its stage's, else the rule's)."""
        return self._per_project("max_probability", np.float64)

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
        """Enterprise experts each panel needs: the project's ``enterprise_min`` where given
        (at most its panel size), else ceil(enterprise_min_share x panel size) with its
        stage's share."""
        need = [
            math.ceil(self.rules.value("enterprise_min_share", s) * int(k))
            for s, k in zip(self.stages, self.project_panel_size, strict=True)
        ]
        given = self.project_enterprise_min_given
        if given is not None and given.size:
            need = np.where(given >= 0, np.minimum(given, self.project_panel_size), need).tolist()
        return _frozen(need, np.int64)

    @cached_property
    def count_rules(self) -> tuple[Quota, ...]:
        """The rules that count panel members with an attribute value: every ``[[quota]]``,
        then the chair rule's necessary part (each panel of its stages has at least one member
        who may chair it) as one more panel quota. The model, pricing, the checks, relax and
        reserves handle them alike; choosing the chairs themselves is
        :mod:`expertmatch.domain.chairs`."""
        chair = self.rules.chair
        if chair is None:
            return self.rules.quota
        return (
            *self.rules.quota,
            Quota(
                name=CHAIR_QUOTA,
                attribute=chair.attribute,
                values=chair.values,
                min=1,
                stages=chair.stages,
            ),
        )

    def _check_attributes(self) -> None:
        """Every attribute a quota or the chair counts is a column of experts.csv (or
        org_type): a misspelt column must not silently count nobody."""
        wanted = [(f"quota {q.name}", q.attribute) for q in self.rules.quota]
        if self.rules.chair is not None:
            wanted.append(("chair", self.rules.chair.attribute))
        known = sorted({"org_type", *self.expert_attributes})
        issues = [
            InputIssue(
                "rules",
                f"{who}: experts.csv has no column {name!r}; known: {', '.join(known)}",
                column=who,
            )
            for who, name in wanted
            if name != "org_type" and name not in self.expert_attributes
        ]
        if issues:
            raise InputError(issues)

    # -- meetings (会评) ---------------------------------------------------------------------
    @cached_property
    def project_meeting(self) -> np.ndarray:
        """Per project: is it reviewed in a meeting group? Its ``mode`` cell, else its stage's
        ``mode``, else ``panel``."""
        given = self.project_mode_given or ("",) * self.n_projects
        modes = [g or self.rules.stage_mode(s) for g, s in zip(given, self.stages, strict=True)]
        return _frozen([m == "meeting" for m in modes], bool)

    @property
    def meeting(self) -> MeetingRules:
        """The ``[meeting]`` rules (the defaults when the batch gives none)."""
        return self.rules.meeting or MeetingRules()

    @property
    def has_meetings(self) -> bool:
        """Does any project of the batch go to a meeting group?"""
        return bool(self.project_meeting.any())

    @cached_property
    def fixed_groups(self) -> Mapping[str, tuple[int, ...]]:
        """The groups the office fixed (``group`` column): group id -> its projects, in
        order of first appearance."""
        out: dict[str, list[int]] = {}
        for p, g in enumerate(self.project_group or ()):
            if g and self.project_meeting[p]:
                out.setdefault(g, []).append(p)
        return MappingProxyType({g: tuple(ps) for g, ps in out.items()})

    def available(self, expert: int, slot: str) -> bool:
        """May the expert sit in a group meeting in ``slot`` (``availability.csv``)?"""
        if self.availability is None or expert not in self.availability:
            return True
        return slot in self.availability[expert]

    def covered_by(self, rule: Quota | Chair) -> np.ndarray:
        """Per project: does the quota (or the chair rule) cover its stage? (cached)"""
        return memo(
            self,
            f"covered_by {rule!r}",
            lambda: _frozen([rule.applies_to(s) for s in self.stages], bool),
        )

    def seats(self, covered: np.ndarray, groups: Sequence[Sequence[int]] = ()) -> int:
        """The seats of the ``covered`` projects (a per-project flag): each per-project panel
        holds its panel size, each meeting group ``[meeting] panel_size`` seats of its stage
        (its projects' stage: a seat is one expert seated in one group, whatever the group's
        size). ``groups``: each meeting group's projects (a meeting project outside them
        holds no seat). What a round target's and a batch quota's shares count."""
        panels = covered & ~self.project_meeting
        in_groups = sum(1 for g in groups if len(g) and covered[g[0]])
        return int(self.project_panel_size[panels].sum()) + self.meeting.panel_size * in_groups

    def seats_of(self, rule: Quota | Chair, groups: Sequence[Sequence[int]] = ()) -> int:
        """The seats of the projects the rule covers (what a batch quota's shares count)."""
        return self.seats(self.covered_by(rule), groups)

    def target_required(self, groups: Sequence[Sequence[int]] = ()) -> int:
        """Enterprise seats the round's ``enterprise_target_share`` needs: ceil(share x all
        seats), 0 when it is not set."""
        every = np.ones(self.n_projects, dtype=bool)
        return self.rules.enterprise_target_required(self.seats(every, groups))

    def stage_target_required(self, stage: str, groups: Sequence[Sequence[int]] = ()) -> int:
        """Enterprise reviews a stage's own ``enterprise_target_share`` needs among its seats:
        ceil(share x seats), 0 when the stage sets none."""
        override = self.rules.stage.get(stage)
        if override is None or override.enterprise_target_share is None:
            return 0
        seats = self.seats(np.array(self.stages) == stage, groups)
        return math.ceil(override.enterprise_target_share * seats)

    def attribute(self, name: str) -> tuple[tuple[str, ...], ...]:
        """An expert attribute's values, per expert (``org_type`` is the expert's type)."""
        if name == "org_type":
            return tuple((t,) if t else () for t in self.expert_type)
        if name not in self.expert_attributes:
            raise KeyError(name)
        return self.expert_attributes[name]

    def has_value(self, name: str, values: tuple[str, ...]) -> np.ndarray:
        """Per expert: does the attribute ``name`` hold one of ``values``? (cached)"""
        wanted = set(values)
        return memo(
            self,
            f"has_value {name} {sorted(wanted)}",
            lambda: _frozen([bool(wanted.intersection(v)) for v in self.attribute(name)], bool),
        )

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
        level = int(self.project_coverage_level[project])
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

    def __repr__(self) -> str:
        return (
            f"Problem({self.n_projects} projects, {self.n_experts} experts, source={self.source!r})"
        )

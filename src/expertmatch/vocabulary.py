"""The package's one vocabulary: statuses, rule names and the score unit.

Every module spells a status or a rule through these enums, so a name is defined once and a
typo is an ``AttributeError`` rather than a silent mismatch. They are ``StrEnum``: each member
*is* its string (``Status.OPTIMAL == "optimal"``), so files, JSON and messages are unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """How a solve ended (``Result.status``, ``report.json`` ``"status"``)."""

    OPTIMAL = "optimal"
    """Proven optimal: the bound equals the objective."""
    FEASIBLE = "feasible"
    """Every rule holds; stopped within the requested gap (``gap_limit``)."""
    TIMEOUT = "timeout"
    """Every rule holds; the time limit stopped the search (the gap says how far it may be)."""
    INFEASIBLE = "infeasible"
    """The rules cannot all hold (only in reports: the library raises ``InfeasibleError``)."""


class Rule(StrEnum):
    """The names of the rules, as used by model rows, clashes, bends and violations."""

    PANEL_SIZE = "panel_size"
    LOAD = "load"
    """Loads as one row type: ``max_load`` and ``yearly_cap - used`` together (capacity)."""
    MAX_LOAD = "max_load"
    YEARLY_CAP = "yearly_cap"
    ENTERPRISE_SHARE = "enterprise_share"
    MAX_PER_ORG = "max_per_org"
    COVERAGE = "coverage"
    MIN_SCORE = "min_score"
    ENTERPRISE_TARGET_SHARE = "enterprise_target_share"
    QUOTA = "quota"
    """A ``[[quota]]`` of the rules (its name says which)."""
    CHAIR = "chair"
    MAX_PROBABILITY = "max_probability"
    CONFLICT = "conflict"
    COMBINED = "combined"
    """Each rule holds alone, the combination does not (see the clashes that follow)."""
    DUPLICATE = "duplicate"
    UNKNOWN_ID = "unknown_id"
    GROUP = "group"
    """Meetings: each meeting project in exactly one group, of ``group_size`` projects."""
    SEAT = "seat"
    """Meetings: each seated expert fits at least one project of the group."""
    RECUSAL = "recusal"
    """Meetings: a seated expert reviews every project of the group without a conflict
    (``recuse``), or sits in no group with a conflict (``exclude``)."""
    MIN_REVIEWERS = "min_reviewers"
    MAX_GROUPS = "max_groups_per_expert"
    SCHEDULE = "schedule"
    """Meetings: slots and rooms, an expert in at most one group a slot."""
    AVAILABILITY = "availability"


#: Scores are exact to this many decimals (supplied scores are rounded to it on input).
SCORE_DECIMALS = 6
#: One score unit: ``SCORE_SCALE`` units make 1.0 (scores become exact integers for CP-SAT).
SCORE_SCALE = 10**SCORE_DECIMALS

"""Hand-checkable meeting batches (会评) for the meeting tests.

**four projects** (:func:`meeting_batch`): P1-P4 in two fixed groups G1 = {P1, P2},
G2 = {P3, P4}; seven experts, E1-E3 enterprise (C1, C2, C3), E4-E7 university (U1, U2, U3,
U4); panels of 3 seated per group, at least 2 reviewers per project after recusals. E1 has a
declared conflict with P1. Every expert's fields lie under 520.20 or 520.40, so each may sit
in any group and coverage (level 2) decides who must be seated.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import pandas as pd

import expertmatch as em

MEETING_ORGS = [
    {"id": "C1", "type": "enterprise"},
    {"id": "C2", "type": "enterprise"},
    {"id": "C3", "type": "enterprise"},
    {"id": "U1", "type": "university"},
    {"id": "U2", "type": "university"},
    {"id": "U3", "type": "university"},
    {"id": "U4", "type": "university"},
    {"id": "A1", "type": "university"},
    {"id": "A2", "type": "institute"},
]
MEETING_EXPERTS = [
    {"id": "E1", "organization": "C1", "fields": "520.20.10", "title": "正高级"},
    {"id": "E2", "organization": "C2", "fields": "520.40.10", "title": "副高级"},
    {"id": "E3", "organization": "C3", "fields": "520.20.30;520.40.20", "title": "正高级"},
    {"id": "E4", "organization": "U1", "fields": "520.20.10", "title": "正高级"},
    {"id": "E5", "organization": "U2", "fields": "520.40.10", "title": "副高级"},
    {"id": "E6", "organization": "U3", "fields": "520.20.30", "title": "副高级"},
    {"id": "E7", "organization": "U4", "fields": "520.40.20;520.20.10", "title": "正高级"},
]
MEETING_PROJECTS = [
    {"id": "P1", "organization": "A1", "fields": "520.20.10", "mode": "meeting", "group": "G1"},
    {"id": "P2", "organization": "A2", "fields": "520.40.10", "mode": "meeting", "group": "G1"},
    {"id": "P3", "organization": "A1", "fields": "520.20.30", "mode": "meeting", "group": "G2"},
    {"id": "P4", "organization": "A2", "fields": "520.40.20", "mode": "meeting", "group": "G2"},
]
MEETING_RULES: dict[str, Any] = {
    "meeting": {"group_size": [2, 2], "panel_size": 3, "min_reviewers": 2},
    "enterprise_min_share": "1/3",
    "coverage_level": 2,
    "reference_year": 2026,
}


def meeting_folder(tmp_path: Path, rules_toml: str, **tables: list[dict[str, Any]]) -> Path:
    """The four-project batch as a folder ``tmp_path / "batch"``: its experts, projects and
    organizations, the other ``tables`` given (name -> rows) and ``rules.toml``."""
    folder = tmp_path / "batch"
    folder.mkdir()
    every = {
        "experts": MEETING_EXPERTS,
        "projects": MEETING_PROJECTS,
        "organizations": MEETING_ORGS,
        **tables,
    }
    for name, rows in every.items():
        pd.DataFrame(rows).to_csv(folder / f"{name}.csv", index=False)
    (folder / "rules.toml").write_text(rules_toml, encoding="utf-8")
    return folder


def meeting_batch(
    experts: list[dict[str, Any]] | None = None,
    projects: list[dict[str, Any]] | None = None,
    rules: dict[str, Any] | None = None,
    conflicts: list[dict[str, Any]] | None = None,
    **tables: Any,
) -> em.Problem:
    """The four-project batch, with any table or rule replaced."""
    merged = copy.deepcopy(MEETING_RULES)
    for key, value in (rules or {}).items():
        if key == "meeting":
            merged["meeting"] = {**merged["meeting"], **value}
        else:
            merged[key] = value
    return em.from_tables(
        experts=copy.deepcopy(MEETING_EXPERTS if experts is None else experts),
        projects=copy.deepcopy(MEETING_PROJECTS if projects is None else projects),
        organizations=copy.deepcopy(MEETING_ORGS),
        conflicts=[{"expert": "E1", "project": "P1"}] if conflicts is None else conflicts,
        rules=merged,
        **tables,
    )


def seated_frame(
    problem: em.Problem, panels: dict[str, tuple[str, ...]], **columns: dict[str, Any]
) -> pd.DataFrame:
    """The assignment table of seated panels (group -> experts): every seated expert reviews
    every project of the group they have no conflict with (conflicts recomputed pair by
    pair); ``columns`` adds per-group cells (``slot={"G1": "am"}``, ``role``)."""
    from expertmatch.domain.conflicts import explain_conflicts

    groups: dict[str, list[str]] = {}
    for g, ps in problem.fixed_groups.items():
        groups[g] = [problem.project_ids[p] for p in ps]
    rows = []
    for g, experts in panels.items():
        for pid in groups[g]:
            p = problem.project_index[pid]
            for eid in experts:
                e = problem.expert_index[eid]
                if explain_conflicts(problem, p, e):
                    continue
                row = {"project": pid, "expert": eid, "group": g}
                row.update({name: cells[g] for name, cells in columns.items() if g in cells})
                rows.append(row)
    return pd.DataFrame(rows, columns=["project", "expert", "group", *columns])


def all_seatings(problem: em.Problem) -> list[tuple[float, dict[str, tuple[str, ...]]]]:
    """Every seating of the fixed groups that ``verify`` accepts, with its objective (the sum
    of the reviewing pairs' scores): the brute force."""
    from expertmatch.domain.scoring import pair_scores

    k = problem.meeting.panel_size
    ids = problem.expert_ids
    out = []
    names = list(problem.fixed_groups)
    once = problem.meeting.max_groups_per_expert == 1
    for choice in itertools.product(*(itertools.combinations(ids, k) for _ in names)):
        if once and len({e for panel in choice for e in panel}) < k * len(choice):
            continue  # an expert in two groups: verify would refuse it
        panels = dict(zip(names, choice, strict=True))
        frame = seated_frame(problem, panels)
        if em.verify(problem, frame):
            continue
        p = frame["project"].map(problem.project_index).to_numpy()
        e = frame["expert"].map(problem.expert_index).to_numpy()
        out.append((float(round(pair_scores(problem, p, e).sum(), 6)), panels))
    return out


def mixed_batch(
    rules: dict[str, Any] | None = None,
    experts: list[dict[str, Any]] | None = None,
    q1: dict[str, Any] | None = None,
) -> em.Problem:
    """A tiny mixed batch: meeting group G1 = {P1, P2} (three seats) beside one per-project
    panel Q1 (two members, fields 520.20.10), the four-project batch's experts."""
    projects = [dict(p) for p in MEETING_PROJECTS[:2]] + [
        {"id": "Q1", "organization": "A2", "fields": "520.20.10", "panel_size": 2, **(q1 or {})}
    ]
    merged = {"meeting": {"group_size": [2, 2]}, **(rules or {})}
    return meeting_batch(experts=experts, projects=projects, rules=merged)


def all_mixed(problem: em.Problem) -> list[tuple[float, pd.DataFrame]]:
    """Every assignment of a mixed batch that ``verify`` accepts, with its objective: each
    seating of the fixed groups with each choice of members for each per-project panel (the
    brute force; ``verify`` without a ``role`` column checks that chairs can be chosen)."""
    from expertmatch.domain.scoring import pair_scores

    k = problem.meeting.panel_size
    ids = problem.expert_ids
    names = list(problem.fixed_groups)
    panel_projects = [p for p in range(problem.n_projects) if not problem.project_meeting[p]]
    choices = [itertools.combinations(ids, k) for _ in names] + [
        itertools.combinations(ids, int(problem.project_panel_size[p])) for p in panel_projects
    ]
    out = []
    for choice in itertools.product(*choices):
        frame = seated_frame(problem, dict(zip(names, choice[: len(names)], strict=True)))
        rows = [
            {"project": problem.project_ids[p], "expert": e, "group": ""}
            for p, members in zip(panel_projects, choice[len(names) :], strict=True)
            for e in members
        ]
        frame = pd.concat([frame, pd.DataFrame(rows, columns=frame.columns)], ignore_index=True)
        if em.verify(problem, frame):
            continue
        p = frame["project"].map(problem.project_index).to_numpy()
        e = frame["expert"].map(problem.expert_index).to_numpy()
        out.append((float(round(pair_scores(problem, p, e).sum(), 6)), frame))
    return out

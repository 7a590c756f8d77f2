"""What a solve returns: status, panels, objective, bound, gap, run time, explanations and
summary figures, with conversions to a DataFrame, CSV, a workbook and JSON (``report.json``).

The tables the office files with an assignment are built here: the pairs (``assignment.csv``),
the panels (one row a project, members as columns), a summary per stage and the conflicts
record (:mod:`expertmatch.domain.record`); in English or Chinese (:mod:`expertmatch.io.lang`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from expertmatch.domain.eligibility import notices
from expertmatch.domain.meetings import Group, seat_list
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.problem import Problem
from expertmatch.domain.record import conflict_record
from expertmatch.domain.scoring import best_match
from expertmatch.io.lang import WHY, check_lang, sheet_name, translate, value
from expertmatch.io.output import staged, write_frame
from expertmatch.io.workbook import Sheet, is_workbook, write_table, write_workbook
from expertmatch.version import __version__
from expertmatch.vocabulary import Rule, Status

STATUSES = (Status.OPTIMAL, Status.FEASIBLE, Status.INFEASIBLE, Status.TIMEOUT)
#: The review stages, in the order their summary sheets come.
STAGES = ("approval", "midterm", "acceptance")


def utc_now() -> str:
    """The time now in UTC, ISO 8601 to the second: ``2026-11-27T13:55:02Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def project_stages(problem: Problem) -> tuple[str, ...]:
    """Each project's stage (``approval``, ``midterm`` or ``acceptance``): the Problem's
    ``project_stage`` where the batch has one, else ``approval`` for every project."""
    stages = getattr(problem, "project_stage", None)
    if stages is None or len(stages) != problem.n_projects:
        return ("approval",) * problem.n_projects
    return tuple(str(s) or "approval" for s in stages)


@dataclass(frozen=True)
class Stats(Mapping[str, Any]):
    """Base of the typed statistics of a run (reassign, reserves, lottery, relax, ...).

    A subclass is a frozen dataclass built once, with every figure, before the Result that
    carries it: nothing is added after the fact. Its fields read as attributes
    (``stats.kept_pairs``) and, for ``report.json`` and code written against the dicts of
    0.1.0, as a read-only mapping (``stats["kept_pairs"]``).
    """

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (nested dataclasses become dicts)."""
        return asdict(self)

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self))


def plain_stats(stats: Mapping[str, Any]) -> dict[str, Any]:
    """``stats`` as plain dicts and lists, for JSON."""
    return stats.as_dict() if isinstance(stats, Stats) else dict(stats)


@dataclass(frozen=True, eq=False)
class Result:
    """The assignment of one batch.

    ``pairs`` holds the assigned pairs (project and expert indices, scores), sorted by project
    then expert; ``objective`` is the sum of the assigned scores and ``bound`` a proven upper
    bound on any assignment's objective, so ``gap = (bound - objective) / bound`` says how far
    from optimal the result can be.
    """

    problem: Problem = field(repr=False)
    pairs: Pairs = field(repr=False)
    status: str
    objective: float
    bound: float
    time_s: float
    seed: int
    stats: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """Figures of the run: a plain mapping from the exact solver, a :class:`Stats` dataclass
    from the round tools; never changed after the Result is built."""
    bends: tuple[Any, ...] = field(default=(), repr=False)
    """With ``relax``: every rule the assignment bends (``relax.Bend``), by rule and place."""
    expected_objective: float | None = None
    """With ``max_probability < 1``: the expected score of the lottery drawn from."""
    max_probability: float | None = None
    """With ``max_probability < 1``: the cap on every pair's probability."""
    probabilities: Pairs | None = field(default=None, repr=False)
    """With ``max_probability < 1``: every pair's probability (in ``score``)."""
    chairs: Mapping[int, int] = field(default_factory=dict, repr=False)
    """With the chair rule: each panel's chair (project index -> expert index)."""
    created_at: str = field(default_factory=utc_now)
    """When the result was made: UTC, ISO 8601 (``report.json`` ``created_at``)."""
    groups: tuple[Group, ...] = field(default=(), repr=False)
    """Meeting groups (会评): projects, seated panel, chair, slot, room, recusals."""

    @classmethod
    def build(cls, problem: Problem, pairs: Pairs, **kwargs: Any) -> Result:
        order = np.lexsort((pairs.expert, pairs.project))
        frozen = [np.array(a[order]) for a in (pairs.project, pairs.expert, pairs.score)]
        for a in frozen:
            a.flags.writeable = False
        return cls(problem, Pairs(*frozen), **kwargs)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    @property
    def gap(self) -> float:
        """Relative gap between the proven bound and the objective (0 when optimal).

        For a random draw (``max_probability < 1``) the bound is on the *expected* score, so
        the gap compares it with ``expected_objective``, not with the one draw's score.
        """
        if self.bound <= 0:
            return 0.0
        value = self.objective if self.expected_objective is None else self.expected_objective
        return max(0.0, (self.bound - value) / self.bound)

    def probability_frame(self) -> pd.DataFrame:
        """Columns expert, project, probability: each pair's chance in the random draw."""
        if self.probabilities is None:
            raise ValueError("probabilities exist only for a random draw (max_probability < 1)")
        p, probs = self.problem, self.probabilities
        keep = probs.score > 0
        return pd.DataFrame(
            {
                "expert": [p.expert_ids[e] for e in probs.expert[keep]],
                "project": [p.project_ids[i] for i in probs.project[keep]],
                "probability": np.round(probs.score[keep], 6),
            }
        )

    @property
    def assignment(self) -> list[tuple[str, str]]:
        """The assigned (project id, expert id) pairs, sorted by project then expert."""
        p = self.problem
        return [
            (p.project_ids[i], p.expert_ids[e])
            for i, e in zip(self.pairs.project, self.pairs.expert, strict=True)
        ]

    @property
    def panels(self) -> dict[str, list[str]]:
        """Each project's panel: project id -> expert ids."""
        out: dict[str, list[str]] = {pid: [] for pid in self.problem.project_ids}
        for project, expert in self.assignment:
            out[project].append(expert)
        return out

    def loads(self) -> np.ndarray:
        """Reviews each expert got in this batch (by expert index)."""
        experts = self.pairs.expert
        return np.bincount(experts, minlength=self.problem.n_experts)

    @cached_property
    def frame(self) -> pd.DataFrame:
        """:meth:`to_frame`, computed once (the CSV and the report's audit trail share it)."""
        return self.to_frame()

    def to_frame(self, lang: str = "en") -> pd.DataFrame:
        """One row per assigned pair with the reasons it fits (``lang="zh"``: the reasons in
        Chinese; headers and types stay English, see :meth:`assignment_frame`)."""
        check_lang(lang)
        p = self.problem
        rows = []
        group_of = {q: g for g in self.groups for q in g.projects}
        keys_of: dict[int, tuple[str, ...]] = {}  # a project's coverage keys, once a project
        scores = self.pairs.score.tolist()
        for proj, exp, score in zip(
            self.pairs.project.tolist(), self.pairs.expert.tolist(), scores, strict=True
        ):
            project_field, expert_field, _ = best_match(p, proj, exp)
            keys = keys_of.get(proj)
            if keys is None:
                keys = keys_of[proj] = p.coverage_keys(proj)
            covers = [k for k in keys if p.covers(exp, k)]
            org = int(p.expert_org[exp])
            org_type = p.expert_type[exp] or "unknown"
            rows.append(
                {
                    "project": p.project_ids[proj],
                    "expert": p.expert_ids[exp],
                    "score": float(score),
                    "project_title": p.project_titles[proj],
                    "expert_name": p.expert_names[exp],
                    "organization": p.org_names[org],
                    "org_type": org_type,
                    "matched_field": project_field,
                    "expert_field": expert_field,
                    "covers": ";".join(covers),
                    "why": _why(project_field, expert_field, org_type, covers, lang),
                    "role": "chair"
                    if self.chairs.get(proj) == exp
                    or (proj in group_of and group_of[proj].chair == exp)
                    else "member",
                    **_group_cells(group_of.get(proj)),
                }
            )
        columns = [
            "project",
            "expert",
            "score",
            "project_title",
            "expert_name",
            "organization",
            "org_type",
            "matched_field",
            "expert_field",
            "covers",
            "why",
        ]
        if p.rules.chair is not None:  # assignment.csv's role column (chair or member)
            columns.insert(3, "role")
        if p.has_meetings:  # the meeting group of each reviewing pair, and when it meets
            columns[3:3] = ["group", "slot", "room"]
        return pd.DataFrame(rows).reindex(columns=columns)

    def summary(self) -> dict[str, Any]:
        """Headline figures: enterprise share, loads, coverage."""
        p = self.problem
        experts = self.pairs.expert
        projects = self.pairs.project
        ent = p.expert_enterprise[experts]
        per_panel = np.bincount(projects, weights=ent, minlength=p.n_projects)
        sizes = np.bincount(projects, minlength=p.n_projects)
        share = np.divide(per_panel, sizes, out=np.zeros(p.n_projects), where=sizes > 0)
        loads = self.loads()
        used = loads[loads > 0]
        keys = [(i, k) for i in range(p.n_projects) for k in p.coverage_keys(i)]
        panel = self.panels
        covered = sum(
            any(p.covers(p.expert_index[e], k) for e in panel[p.project_ids[i]]) for i, k in keys
        )
        return {
            "projects": p.n_projects,
            "reviews": len(self.pairs),
            "experts_used": int(used.size),
            Rule.ENTERPRISE_SHARE: float(ent.mean()) if ent.size else 0.0,
            "enterprise_share_min_panel": float(share.min()) if share.size else 0.0,
            "enterprise_share_per_panel": {
                pid: round(float(s), 4) for pid, s in zip(p.project_ids, share, strict=True)
            },
            "load_distribution": {str(k): int(v) for k, v in enumerate(np.bincount(loads)) if v},
            Rule.MAX_LOAD: int(loads.max()) if loads.size else 0,
            "mean_load_of_used_experts": float(used.mean()) if used.size else 0.0,
            "fields_to_cover": len(keys),
            "fields_covered": int(covered),
            "mean_score": float(self.pairs.score.mean()) if len(self.pairs) else 0.0,
            **({"quotas": self.quota_summary()} if p.count_rules else {}),
        }

    def quota_summary(self) -> list[dict[str, Any]]:
        """Each quota (and the chair's): per panel of its stages the members it counts, or over
        the batch the seats it counts, with its bounds; ``tight`` lists where a count sits on a
        bound (one decline there breaks the quota)."""
        p, out = self.problem, []
        for quota in p.count_rules:
            counted = p.has_value(quota.attribute, quota.values)[self.pairs.expert]
            per_panel = np.bincount(self.pairs.project, weights=counted, minlength=p.n_projects)
            applies = np.flatnonzero(p.covered_by(quota)).tolist()
            entry: dict[str, Any] = {"name": quota.name, "scope": quota.scope}
            if quota.scope == "batch":  # over every seat (a meeting seat counts one)
                seats = p.seats_of(quota, [g.projects for g in self.groups])
                low, high = quota.bounds(seats)
                has = p.has_value(quota.attribute, quota.values)
                got = sum(1 for s, e in self.seat_list() if quota.applies_to(s) and has[e])
                entry.update(seats=seats, count=got, min=low, max=high, tight=got in (low, high))
            else:
                counts = {p.project_ids[q]: int(per_panel[q]) for q in applies}
                bounds = {q: quota.bounds(int(p.project_panel_size[q])) for q in applies}
                tight = [
                    p.project_ids[q]
                    for q in applies
                    if int(per_panel[q]) in bounds[q]
                    and (int(per_panel[q]) > 0 or bounds[q][0] > 0)
                ]
                entry.update(per_panel=counts, tight=tight)
            out.append(entry)
        return out

    def seat_list(self) -> list[tuple[str, int]]:
        """Every seat as (stage, expert): the per-project panels' members and the experts
        seated in meeting groups (``domain/meetings.py`` ``seat_list``)."""
        p = self.problem
        panels: dict[int, list[int]] = {}
        for i, e in zip(self.pairs.project.tolist(), self.pairs.expert.tolist(), strict=True):
            if not p.project_meeting[i]:
                panels.setdefault(i, []).append(e)
        return seat_list(p, panels, self.groups)

    def assignment_frame(self, lang: str = "en") -> pd.DataFrame:
        """``assignment.csv`` (the workbook's ``pairs`` sheet) in ``lang``: headers, types
        and reasons (English: :attr:`frame` as it is)."""
        return self.frame if check_lang(lang) == "en" else translate(self.to_frame(lang), lang)

    def panel_frame(self, lang: str = "en") -> pd.DataFrame:
        """One row a project: project, project_title, stage, with the chair rule the panel's
        chair, then its members as columns ``expert 1`` ... ``expert k`` (highest score first),
        each "name (id)" over the organization (two lines in one cell)."""
        p = self.problem
        order = np.lexsort((self.pairs.expert, -self.pairs.score, self.pairs.project))
        members: list[list[str]] = [[] for _ in range(p.n_projects)]
        left, right = ("（", "）") if check_lang(lang) == "zh" else (" (", ")")

        def who(e: int) -> str:
            name = p.expert_names[e]
            return f"{name}{left}{p.expert_ids[e]}{right}" if name else p.expert_ids[e]

        for j in order.tolist():
            e = int(self.pairs.expert[j])
            members[int(self.pairs.project[j])].append(
                f"{who(e)}\n{p.org_names[int(p.expert_org[e])]}"
            )
        k = max((len(m) for m in members), default=0)
        chair = (
            {
                "chair": [
                    who(self.chairs[q]) if q in self.chairs else "" for q in range(p.n_projects)
                ]
            }
            if p.rules.chair is not None
            else {}
        )
        frame = pd.DataFrame(
            {
                "project": p.project_ids,
                "project_title": p.project_titles,
                "stage": project_stages(p),
                **chair,
                **{
                    f"expert {i + 1}": [m[i] if i < len(m) else "" for m in members]
                    for i in range(k)
                },
            }
        )
        return translate(frame, lang)

    def stage_summary(self, stage: str) -> dict[str, Any]:
        """The headline figures of one stage's projects: projects, seats, enterprise share
        overall and of the lowest panel, fields covered, loads (reviews in this stage)."""
        p = self.problem
        chosen = np.array([s == stage for s in project_stages(p)], dtype=bool)
        keep = chosen[self.pairs.project] if len(self.pairs) else np.zeros(0, dtype=bool)
        projects, experts = self.pairs.project[keep], self.pairs.expert[keep]
        ent = p.expert_enterprise[experts]
        sizes = np.bincount(projects, minlength=p.n_projects)[chosen]
        per_panel = np.bincount(projects, weights=ent, minlength=p.n_projects)[chosen]
        share = np.divide(per_panel, sizes, out=np.zeros(sizes.size), where=sizes > 0)
        loads = np.bincount(experts, minlength=p.n_experts)
        used = loads[loads > 0]
        panel: dict[int, list[int]] = {}
        for i, e in zip(projects.tolist(), experts.tolist(), strict=True):
            panel.setdefault(i, []).append(e)
        keys = [(i, k) for i in np.flatnonzero(chosen).tolist() for k in p.coverage_keys(i)]
        covered = sum(any(p.covers(e, k) for e in panel.get(i, ())) for i, k in keys)
        # seats: a panel member, or an expert seated in a meeting group (one, whatever the
        # group's size; then the reviews are counted apart)
        seat_ent = [bool(p.expert_enterprise[e]) for s, e in self.seat_list() if s == stage]
        meetings = bool(p.project_meeting[chosen].any())
        return {
            "projects": int(chosen.sum()),
            "seats": len(seat_ent),
            **({"reviews": int(keep.sum())} if meetings else {}),
            "experts used": int(used.size),
            "enterprise seats": int(sum(seat_ent)),
            "enterprise share of seats (%)": round(100 * sum(seat_ent) / len(seat_ent), 1)
            if seat_ent
            else 0.0,
            "lowest panel enterprise share (%)": round(100 * float(share.min()), 1)
            if share.size
            else 0.0,
            "fields to cover": len(keys),
            "fields covered": int(covered),
            "largest load": int(loads.max()) if loads.size else 0,
            "mean load of used experts": round(float(used.mean()), 2) if used.size else 0.0,
            "loads (reviews: experts)": _count_text(np.bincount(loads)),
            "mean score": round(float(self.pairs.score[keep].mean()), 4) if keep.any() else 0.0,
        }

    def stages(self) -> list[str]:
        """The stages of this batch's projects, in :data:`STAGES` order (others after)."""
        present = set(project_stages(self.problem))
        return [s for s in STAGES if s in present] + sorted(present - set(STAGES))

    def workbook_sheets(self, lang: str = "en") -> list[Sheet]:
        """The sheets of the ``.xlsx`` output: ``pairs``, ``panels`` (printable), one
        ``summary <stage>`` per stage present and ``conflicts`` (the conflicts record)."""
        sheets = [
            Sheet(sheet_name("pairs", lang), self.assignment_frame(lang)),
            Sheet(sheet_name("panels", lang), self.panel_frame(lang), printable=True),
        ]
        for stage in self.stages():
            figures = self.stage_summary(stage)
            frame = pd.DataFrame({"figure": list(figures), "value": list(figures.values())})
            sheets.append(
                Sheet(sheet_name(f"summary {stage}", lang), translate(frame, lang), printable=True)
            )
        for group in self.groups:  # one printable sheet a meeting (会评)
            frame = translate(meeting_frame(self.problem, group, lang), lang)
            sheets.append(Sheet(sheet_name(f"meeting {group.id}", lang), frame, printable=True))
        sheets.append(
            Sheet(sheet_name("conflicts", lang), conflict_record(self.problem).frame(lang))
        )
        return sheets

    def report(self) -> dict[str, Any]:
        """The content of ``report.json``."""
        return {
            "status": self.status,
            "created_at": self.created_at,
            "objective": round(self.objective, 6),
            "bound": round(self.bound, 6),
            "gap": round(self.gap, 8),
            "time_s": round(self.time_s, 3),
            "seed": self.seed,
            "input_sha256": self.problem.input_sha256,
            "rules": self.problem.rules.as_dict(),
            "summary": self.summary(),
            "stats": plain_stats(self.stats),
            **({"notices": notes} if (notes := notices(self.problem)) else {}),
            "version": __version__,
            "pairs": [  # the audit trail: each assigned pair and why it fits
                {"project": row.project, "expert": row.expert, "score": row.score, "why": row.why}
                for row in self.frame.itertuples(index=False)
            ],
            # the conflicts record: who was excluded from which project, and why
            "conflicts": conflict_record(self.problem).as_json(),
            **(
                {
                    "chairs": {
                        self.problem.project_ids[q]: self.problem.expert_ids[e]
                        for q, e in sorted(self.chairs.items())
                    }
                }
                if self.problem.rules.chair is not None
                else {}
            ),
            **({"bends": [b.as_dict() for b in self.bends]} if self.bends else {}),
            **(
                {"groups": [g.as_json(self.problem) for g in self.groups]}
                if self.problem.has_meetings
                else {}
            ),
            **(
                {
                    "expected_objective": round(self.expected_objective, 6),
                    Rule.MAX_PROBABILITY: self.max_probability,
                }
                if self.expected_objective is not None
                else {}
            ),
        }

    def to_json(self) -> str:
        """``report.json``'s text (:func:`dumps_report`)."""
        return dumps_report(self.report())

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write ``assignment.csv`` atomically, spreadsheet-safe, UTF-8 with BOM for Excel."""
        self.write(path)

    def write(
        self,
        assignment: str | os.PathLike[str],
        report: str | os.PathLike[str] | None = None,
        probabilities: str | os.PathLike[str] | None = None,
        lang: str = "en",
    ) -> None:
        """Write the assignment (and ``report.json``, the probabilities) together: all or
        none. An assignment named ``.xlsx`` is a workbook (:meth:`workbook_sheets`), any
        other name CSV; ``lang="zh"`` writes Chinese headers and values (``report.json``
        stays English)."""
        check_lang(lang)
        extra = [f for f in (report, probabilities) if f is not None]
        with staged([assignment, *extra]) as temps:
            if is_workbook(assignment):
                write_workbook(self.workbook_sheets(lang), temps[0])
            else:
                write_frame(self.assignment_frame(lang), temps[0])
            rest = iter(temps[1:])
            if report is not None:
                next(rest).write_text(self.to_json() + "\n", encoding="utf-8")
            if probabilities is not None:
                frame = translate(self.probability_frame(), lang)
                write_table(frame, next(rest), sheet_name("probabilities", lang), probabilities)

    def __str__(self) -> str:
        return (
            f"{self.status}: {len(self.pairs)} reviews for {self.problem.n_projects} "
            f"projects, objective {self.objective:.2f}, bound {self.bound:.2f}, "
            f"gap {self.gap:.4%}, {self.time_s:.1f} s"
        )


def meeting_frame(problem: Problem, group: Group, lang: str = "en") -> pd.DataFrame:
    """The sheet the office prints for one meeting: its slot and room, then the chair and
    members (organization, title, the projects each steps out of), then the projects (title,
    who steps out). Columns item, id, name, organization, detail, steps_out."""
    sep = "；" if check_lang(lang) == "zh" else "; "
    titles = problem.expert_attributes.get("title")
    rows = [
        {"item": "slot", "id": group.slot},
        {"item": "room", "id": str(group.room or "")},
    ]
    out_of: dict[int, list[str]] = {}
    for p, experts in group.recused.items():
        for e in experts:
            out_of.setdefault(e, []).append(problem.project_ids[p])
    members = sorted(group.panel, key=lambda e: (e != group.chair, problem.expert_ids[e]))
    for e in members:
        rows.append(
            {
                "item": "chair" if e == group.chair else "member",
                "id": problem.expert_ids[e],
                "name": problem.expert_names[e],
                "organization": problem.org_names[int(problem.expert_org[e])],
                "detail": "、".join(titles[e]) if titles else "",
                "steps_out": sep.join(out_of.get(e, [])),
            }
        )
    for p in group.projects:
        rows.append(
            {
                "item": "project",
                "id": problem.project_ids[p],
                "name": problem.project_titles[p],
                "organization": problem.org_names[int(problem.project_org[p])],
                "detail": "",
                "steps_out": sep.join(problem.expert_ids[e] for e in group.recused.get(p, ())),
            }
        )
    columns = ["item", "id", "name", "organization", "detail", "steps_out"]
    return pd.DataFrame(rows).reindex(columns=columns).fillna("")


def dumps_report(
    report: Mapping[str, Any], one_line: Sequence[str] = ("pairs", "conflicts")
) -> str:
    """``report`` as JSON text indented by two spaces, except that each item of the lists
    named ``one_line`` (the audit trail ``pairs`` and the ``conflicts`` record: tens of
    thousands of flat records) is written on one line.

    The same JSON as ``json.dumps(report, indent=2)`` (only the white space differs), in a
    fraction of the time: with an indent Python's ``json`` runs its pure-Python encoder over
    every value; here those lists go through the C encoder in one call. Its item separator is
    ``,`` and a NUL character, which cannot occur anywhere else in the text (JSON escapes
    control characters inside strings): an item ending ``}`` followed by one beginning ``{``
    is a record boundary and starts a new line; every other separator becomes ``, ``."""
    entries = []
    for key, item in report.items():
        head = f"  {json.dumps(key, ensure_ascii=False)}: "
        if key in one_line and isinstance(item, list) and item:
            text = json.dumps(item, ensure_ascii=False, separators=(",\0", ": "))
            rows = text[1:-1].replace("},\0{", "},\n    {").replace(",\0", ", ")
            entries.append(f"{head}[\n    {rows}\n  ]")
        else:
            text = json.dumps(item, ensure_ascii=False, indent=2)
            entries.append(head + text.replace("\n", "\n  "))
    return "{\n" + ",\n".join(entries) + "\n}" if entries else "{}"


def _group_cells(group: Group | None) -> dict[str, Any]:
    """The ``group``, ``slot`` and ``room`` cells of a pair (empty for a panel project)."""
    if group is None:
        return {"group": "", "slot": "", "room": ""}
    return {"group": group.id, "slot": group.slot, "room": group.room or ""}


def _why(
    project_field: str, expert_field: str, org_type: str, covers: list[str], lang: str = "en"
) -> str:
    """Why a pair fits, in ``lang``: the field it matches, the fields it covers, its type."""
    words = WHY[lang]
    parts = []
    if project_field:
        parts.append(words["field"].format(expert=expert_field, project=project_field))
    if covers:
        parts.append(words["covers"].format(keys=words["list"].join(covers)))
    parts.append(words["type"].format(type=value("org_type", org_type, lang)))
    return words["join"].join(parts)


def seat_roles(problem: Problem, project: int, members: Sequence[int], expert: int) -> list[str]:
    """What the panel ``members`` of ``project`` need ``expert`` (one of them) for: an
    enterprise seat, a field only they cover, ...; one line each, in English."""
    out = []
    enterprise = bool(problem.expert_enterprise[expert])
    if enterprise:
        count = int(sum(bool(problem.expert_enterprise[m]) for m in members))
        need = int(problem.enterprise_required[project])
        if count <= need:
            out.append(
                f"holds an enterprise seat: {count} enterprise expert(s) on the panel, "
                f"{need} needed"
            )
        else:
            out.append(f"one of {count} enterprise experts on the panel ({need} needed)")
    for key in problem.coverage_keys(project):
        if problem.covers(expert, key):
            others = sum(1 for m in members if m != expert and problem.covers(m, key))
            out.append(
                f"the only member covering field {key}"
                if not others
                else f"covers field {key} (as do {others} other member(s))"
            )
    stage = project_stages(problem)[project]
    for quota in getattr(problem.rules, "quota", ()):  # a panel quota this member counts for
        if quota.scope != "panel" or not quota.applies_to(stage):
            continue
        has = problem.has_value(quota.attribute, quota.values)
        low = quota.bounds(len(members))[0]
        if has[expert] and low:
            count = int(sum(bool(has[m]) for m in members))
            out.append(f"counts for the quota {quota.name}: {count} on the panel, {low} needed")
    if enterprise and problem.rules.enterprise_target_share is not None:
        out.append(
            f"counts toward the round's enterprise target "
            f"({problem.rules.enterprise_target_share} of all reviews)"
        )
    if not out:
        out.append("a seat by score: no panel rule depends on this member")
    return out


def _count_text(counts: np.ndarray) -> str:
    """A load distribution as ``reviews: experts`` pairs, ``1: 30; 2: 12``."""
    return "; ".join(f"{k}: {int(v)}" for k, v in enumerate(counts) if v and k)

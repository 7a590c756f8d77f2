"""The yearly measure of the use of enterprise experts (``expertmatch report``).

:func:`kpi` reads the assignments of the year's rounds (``assignment.csv`` files) against the
batch ``INPUT`` (the pool of experts, usually the next round's batch) and returns plain dicts
and lists, ready for ``kpi.json``:

- ``pool``: experts in INPUT, how many work for enterprises, their share; the same by field
  (``by_field``: an expert counts once in each of their fields at the report's level, the
  batch's coverage level or 1 when coverage is off) and by region (``by_region``, when
  experts.csv has a ``region`` column);
- ``seats``: panel seats over every round (one per expert and panel), the enterprise seats
  and share, ``by_stage`` and ``by_field`` (the project's primary field); ``reviews``: the
  same per reviewing row (equal to the seats on per-project panels);
- ``use``: for enterprise and other experts: the pool, the experts used, how many of the pool
  were never used, their reviews, reviews per used expert and how many experts gave each
  number of reviews (a histogram);
- ``chairs``: where the rounds name chairs (``role`` column): chairs, enterprise chairs, by
  stage;
- ``targets``: each rule of INPUT on enterprise experts (the per-panel minimum of each stage,
  ``enterprise_target_share``, a stage's own target, every quota counting ``org_type``
  ``enterprise``), per round and stage and, with several rounds, over the ``year``: the
  target, the enterprise seats it requires, those reached, the panels keeping it and the
  panels missing it, met or missed (:func:`targets`);
- ``short_fields``: in INPUT, the fields at the coverage level (level 1 when coverage is off)
  where fewer enterprise experts are eligible (``enterprise_available``: they cover the field,
  have a review left and may review at least one of its projects) than there are panels needing one
  (``enterprise_needed``; ``enterprise_seats_needed``: the enterprise seats those panels need;
  ``recruit``: the difference, a recruitment list for the pool);
- ``headroom``: the highest enterprise share of seats INPUT can reach with every rule holding
  and a score at least ``(1 - loss) x`` its optimum, for each loss, with the proven bound on
  enterprise seats (:func:`expertmatch.solvers.enterprise.enterprise_curve`);
- ``by_round``: the seat, review, stage, field and use figures of each round.

A round's projects and experts need not be in INPUT: an expert's type comes from INPUT, else
from the round's ``org_type`` column; a project's stage and primary field from INPUT, else from
a ``projects.csv`` (``stage``, ``fields``) beside the round's ``assignment.csv``, else
``approval`` and ``(unknown)``.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.fields import dotted_chain
from expertmatch.domain.problem import Problem
from expertmatch.domain.rules import STAGES, Quota, stage_name
from expertmatch.domain.validate import split_fields
from expertmatch.errors import InfeasibleError, InputError, InputIssue, SolveError
from expertmatch.io.tables import decode_csv, parse_csv, present, read_bytes
from expertmatch.io.workbook import Sheet
from expertmatch.rounds.history import _table
from expertmatch.solvers.chairs import with_chairs
from expertmatch.solvers.enterprise import enterprise_curve
from expertmatch.solvers.exact import solve
from expertmatch.solvers.params import SolveParams

#: The score losses of the headroom curve (the contract's).
HEADROOM_LOSSES = (0.0, 0.01, 0.02, 0.05)
ENTERPRISE = "enterprise"
DEFAULT_STAGE = "approval"
#: The field of a seat whose project's fields are known neither in INPUT nor beside the round.
UNKNOWN = "(unknown)"
#: An expert's region where the ``region`` cell is empty.
NOT_GIVEN = "(not given)"
#: The ``round`` of a target measured over all the rounds together.
YEAR = "year"


@dataclass(frozen=True)
class Seat:
    """One row of a round: who reviews which project, of which type, at which stage, in which
    field (the project's primary field at the report's level), on which panel (the project,
    or the meeting group when the row gives one)."""

    round: str
    project: str
    expert: str
    enterprise: bool
    stage: str
    chair: bool | None
    field: str = UNKNOWN
    panel: str = ""
    kind: str = ""

    @property
    def panel_key(self) -> str:
        """The panel within the year: the round and the project (or meeting group)."""
        return f"{self.round}: {self.panel or self.project}"


def round_file(path: str | os.PathLike[str]) -> Path:
    """A ROUND argument: an ``assignment.csv`` or a folder holding one."""
    p = Path(path)
    return p / "assignment.csv" if p.is_dir() else p


def field_level(problem: Problem) -> int:
    """The level at which figures are given by field: the batch's coverage level (level 1
    when coverage is off), the level short fields and coverage speak of."""
    return max(int(problem.rules.coverage_level), 1)


def field_at(problem: Problem, code: str, level: int) -> str:
    """``code``'s ancestor at ``level`` (a code INPUT does not know: its dotted prefix)."""
    if code in problem.field_tree.chains:
        return problem.field_tree.prefix(code, level)
    chain = dotted_chain(code)
    return chain[min(level, len(chain)) - 1]


def read_round(problem: Problem, path: str | os.PathLike[str], label: str) -> list[Seat]:
    """The seats of one round (see the module docstring for types, stages and fields)."""
    file = round_file(path)
    _, frame, rows = _table(file, ("project", "expert"))
    level = field_level(problem)
    stages = dict(zip(problem.project_ids, problem.stages, strict=True))
    fields = {
        p: field_at(problem, f[0], level) if f else UNKNOWN
        for p, f in zip(problem.project_ids, problem.project_fields, strict=True)
    }
    beside = _projects_beside(file)
    kinds = dict(zip(problem.expert_ids, problem.expert_type, strict=True))
    out, issues = [], []
    for i, (p, e) in enumerate(zip(frame["project"], frame["expert"], strict=True)):
        kind = kinds.get(e) or (str(frame["org_type"][i]) if "org_type" in frame else "")
        if not kind:
            issues.append(InputIssue(file.name, f"expert {e!r}: type unknown", rows[i]))
        stage = stages.get(p) or beside.get(p, ("", ""))[0] or DEFAULT_STAGE
        code = beside.get(p, ("", ""))[1]
        field = fields.get(p) or (field_at(problem, code, level) if code else UNKNOWN)
        chair = str(frame["role"][i]) == "chair" if "role" in frame else None
        group = str(frame["group"][i]) if "group" in frame else ""
        out.append(
            Seat(label, str(p), str(e), kind == ENTERPRISE, stage, chair, field, group, kind)
        )
    if issues:
        raise InputError(issues)
    return out


def _projects_beside(file: Path) -> dict[str, tuple[str, str]]:
    """Stage and primary field of each project of a ``projects.csv`` beside the round's file
    (empty if there is none; ``""`` where a column is absent or a cell empty)."""
    projects = file.parent / "projects.csv"
    if not present(projects):
        return {}
    table = parse_csv(decode_csv(read_bytes(projects, projects.name), projects.name), "p")
    frame = table.frame
    if "id" not in frame:
        return {}
    n = len(frame)
    stages = frame["stage"] if "stage" in frame else [""] * n
    fields = frame["fields"] if "fields" in frame else [""] * n
    out = {}
    for p, s, f in zip(frame["id"], stages, fields, strict=True):
        codes = split_fields(str(f))
        out[str(p)] = (stage_name(str(s)) or "", codes[0] if codes else "")
    return out


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _count(flags: list[bool]) -> dict[str, Any]:
    k = int(sum(flags))
    return {"total": len(flags), "enterprise": k, "enterprise_share": share(k, len(flags))}


def _by(items: list[Any], key: Any, flag: Any) -> dict[str, Any]:
    """``_count`` of the items grouped by ``key`` (groups in sorted order)."""
    groups: dict[str, list[bool]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(flag(item))
    return {k: _count(groups[k]) for k in sorted(groups)}


def _stage_key(stage: str) -> tuple[int, str]:
    """Stages in the office's order (approval, midterm, acceptance), any other after."""
    return (STAGES.index(stage) if stage in STAGES else len(STAGES), stage)


def _figures(seats: list[Seat]) -> dict[str, Any]:
    """total, enterprise, enterprise_share, by_stage and by_field of these rows."""
    by_stage = _by(seats, lambda s: s.stage, lambda s: s.enterprise)
    return {
        **_count([s.enterprise for s in seats]),
        "by_stage": {k: by_stage[k] for k in sorted(by_stage, key=_stage_key)},
        "by_field": _by(seats, lambda s: s.field, lambda s: s.enterprise),
    }


def panel_seats(rows: list[Seat]) -> list[Seat]:
    """The seats of these rows: one per expert and panel (a meeting group's expert holds one
    seat whatever the number of its projects; on per-project panels every row is a seat)."""
    return list({(s.panel_key, s.expert): s for s in rows}.values())


def seat_figures(seats: list[Seat]) -> dict[str, Any]:
    """Panel seats (:func:`panel_seats`) and, under ``reviews``, the reviews (one per row;
    on per-project panels the same numbers): total, enterprise, share, by stage, by field."""
    return {**_figures(panel_seats(seats)), "reviews": _figures(seats)}


def pool_figures(problem: Problem) -> dict[str, Any]:
    """The experts of INPUT: how many, how many enterprise, their share; the same by field
    (an expert counts once in each field of theirs at the report's level) and by region
    (the ``region`` column; ``(not given)`` where empty)."""
    ent = problem.expert_enterprise.tolist()
    level = field_level(problem)
    per_field = [
        (key, e)
        for fields, e in zip(problem.expert_fields, ent, strict=True)
        for key in dict.fromkeys(field_at(problem, f, level) for f in fields)
    ]
    out = {
        "experts": problem.n_experts,
        "enterprise": int(sum(ent)),
        "enterprise_share": share(int(sum(ent)), problem.n_experts),
        "field_level": level,
        "by_field": _rename(_by(per_field, lambda t: t[0], lambda t: t[1])),
    }
    if "region" in problem.expert_attributes:
        regions = [
            (v[0] if v else NOT_GIVEN, e)
            for v, e in zip(problem.expert_attributes["region"], ent, strict=True)
        ]
        out["by_region"] = _rename(_by(regions, lambda t: t[0], lambda t: t[1]))
    return out


def _rename(groups: dict[str, Any]) -> dict[str, Any]:
    """Pool groups say ``experts`` where seat groups say ``total``."""
    return {
        k: {
            "experts": v["total"],
            "enterprise": v["enterprise"],
            "enterprise_share": v["enterprise_share"],
        }
        for k, v in groups.items()
    }


def use_figures(problem: Problem, seats: list[Seat]) -> dict[str, Any]:
    """For enterprise and other experts: pool, experts used, never used (of the pool), reviews,
    reviews per used expert and the histogram {reviews: experts} (experts of the pool with no
    review count as 0; experts of a round who are not in INPUT count with their reviews)."""
    out = {}
    for kind, is_ent in ((ENTERPRISE, True), ("other", False)):
        reviews = Counter(s.expert for s in seats if s.enterprise == is_ent)
        pool = [
            e
            for e, t in zip(problem.expert_ids, problem.expert_enterprise, strict=True)
            if bool(t) == is_ent
        ]
        counts = Counter(reviews.get(e, 0) for e in pool)
        counts.update(n for e, n in reviews.items() if e not in problem.expert_index)
        total = sum(reviews.values())
        out[kind] = {
            "pool": len(pool),
            "experts_used": len(reviews),
            "never_used": sum(1 for e in pool if e not in reviews),
            "reviews": total,
            "reviews_per_used_expert": share(total, len(reviews)),
            "histogram": {str(n): counts[n] for n in sorted(counts)},
        }
    return out


def chair_figures(seats: list[Seat]) -> dict[str, Any] | None:
    """Chairs (rows whose ``role`` is ``chair``), how many enterprise experts hold, by stage;
    None when no round has a ``role`` column."""
    if all(s.chair is None for s in seats):
        return None
    named = [s for s in seats if s.chair]
    figures = _figures(named)
    del figures["by_field"]
    return figures


def short_fields(problem: Problem) -> list[dict[str, Any]]:
    """Fields where fewer enterprise experts are eligible than panels need one (an expert with
    no review left this year, ``yearly_cap`` reached, is not available)."""
    pairs = eligible_pairs(problem)
    eligible: dict[int, set[int]] = {}
    for p, e in zip(pairs.project.tolist(), pairs.expert.tolist(), strict=True):
        if problem.expert_enterprise[e] and problem.expert_capacity[e] > 0:
            eligible.setdefault(p, set()).add(e)
    tree = problem.field_tree
    needed: Counter[str] = Counter()
    panels: Counter[str] = Counter()
    available: dict[str, set[int]] = {}
    required = problem.enterprise_required
    for p in range(problem.n_projects):
        if required[p] <= 0:
            continue
        level = max(int(problem.project_coverage_level[p]), 1)
        for key in dict.fromkeys(tree.prefix(f, level) for f in problem.project_fields[p]):
            needed[key] += int(required[p])  # enterprise seats
            panels[key] += 1
            chain = tree.chains[key]
            for e in eligible.get(p, ()):
                if any(tree.chains[f][: len(chain)] == chain for f in problem.expert_fields[e]):
                    available.setdefault(key, set()).add(e)
    return [
        {
            "field": key,
            "enterprise_available": len(available.get(key, ())),
            "enterprise_needed": panels[key],
            "enterprise_seats_needed": needed[key],
            "recruit": panels[key] - len(available.get(key, ())),
        }
        for key in sorted(needed)
        if len(available.get(key, ())) < panels[key]
    ]


def _enterprise_quotas(problem: Problem) -> list[Quota]:
    """The quotas that count enterprise experts (``attribute = "org_type"``, ``enterprise``
    among the values)."""
    return [q for q in problem.rules.quota if q.attribute == "org_type" and ENTERPRISE in q.values]


def _panels(seats: list[Seat]) -> dict[str, list[Seat]]:
    panels: dict[str, list[Seat]] = {}
    for s in seats:
        panels.setdefault(s.panel_key, []).append(s)
    return panels


def _panel_entry(
    rule: str,
    name: str,
    target: str,
    stage: str,
    panels: dict[str, list[Seat]],
    bounds: Any,
    counts: Any,
) -> dict[str, Any]:
    """A per-panel rule over the panels of one stage: each panel's ``bounds(panel)`` (least,
    most) against ``counts(seat)``; met when every panel keeps them."""
    required = reached = seats = 0
    missed = []
    for key, members in panels.items():
        low, high = bounds(key, members)
        k = sum(1 for m in members if counts(m))
        required, reached, seats = required + low, reached + k, seats + len(members)
        if not low <= k <= high:
            missed.append(key)
    return {
        "rule": rule,
        "name": name,
        "stage": stage,
        "scope": "panel",
        "target": target,
        "seats": seats,
        "required": required,
        "reached": reached,
        "reached_share": share(reached, seats),
        "panels": len(panels),
        "panels_met": len(panels) - len(missed),
        "missed": missed,
        "met": not missed,
    }


def _batch_entry(
    rule: str,
    name: str,
    target: str,
    stage: str,
    seats: list[Seat],
    low: int,
    high: int | None,
    counts: Any,
) -> dict[str, Any]:
    """A rule over all seats of a round (or the year) and stage: at least ``low`` (and at most
    ``high``) of them counted."""
    k = sum(1 for s in seats if counts(s))
    return {
        "rule": rule,
        "name": name,
        "stage": stage,
        "scope": "batch",
        "target": target,
        "seats": len(seats),
        "required": low,
        "at_most": high,
        "reached": k,
        "reached_share": share(k, len(seats)),
        "panels": None,
        "panels_met": None,
        "missed": [],
        "met": low <= k and (high is None or k <= high),
    }


def _quota_target(q: Quota) -> str:
    """A quota's bounds in words, e.g. ``min_share 2/5``."""
    keys = ("min", "max", "min_share", "max_share")
    return "; ".join(f"{k} {getattr(q, k)}" for k in keys if getattr(q, k) is not None)


def targets(problem: Problem, label: str, seats: list[Seat]) -> list[dict[str, Any]]:
    """The rules on enterprise experts, met or missed, over these seats (one round, or the
    year's): the per-panel minimum (``enterprise_min_share`` of each stage, or a project's
    ``enterprise_min``) by stage; ``enterprise_target_share`` over all seats; each stage's own
    ``enterprise_target_share``; every quota counting enterprise experts (by stage for a panel
    quota, over its stages' seats for a batch quota). The targets are INPUT's rules; they
    count seats (:func:`panel_seats`: a meeting group's expert holds one), as the solver and
    ``verify`` do."""
    rules = problem.rules
    seats = panel_seats(seats)
    out = []
    stages = sorted({s.stage for s in seats}, key=_stage_key)
    own_min = problem.project_enterprise_min_given
    assert own_min is not None  # Problem fills it (-1: not given)
    given = dict(zip(problem.project_ids, own_min.tolist(), strict=True))
    ent = lambda s: s.enterprise  # noqa: E731
    for stage in stages:
        of = _panels([s for s in seats if s.stage == stage])
        ratio = rules.value("enterprise_min_share", stage)

        def least(key: str, members: list[Seat], ratio: Any = ratio) -> tuple[int, int]:
            n = len(members)  # a meeting group's seats follow the stage's share
            own = given.get(members[0].project, -1) if not members[0].panel else -1
            return (min(own, n) if own >= 0 else math.ceil(ratio * n)), n

        entry = _panel_entry(
            "enterprise_min_share",
            "enterprise_min_share",
            f">= {ratio} of each panel",
            stage,
            of,
            least,
            ent,
        )
        if entry["required"] > 0:
            out.append(entry)
    if rules.enterprise_target_share is not None:
        share_ = rules.enterprise_target_share
        out.append(
            _batch_entry(
                "enterprise_target_share",
                "enterprise_target_share",
                f">= {share_} of the seats",
                "all",
                seats,
                math.ceil(share_ * len(seats)),
                None,
                ent,
            )
        )
    for stage in stages:
        own = rules.stage.get(stage)
        if own is not None and own.enterprise_target_share is not None:
            of_stage = [s for s in seats if s.stage == stage]
            t = own.enterprise_target_share
            out.append(
                _batch_entry(
                    "enterprise_target_share",
                    f"stage.{stage}.enterprise_target_share",
                    f">= {t} of the {stage} seats",
                    stage,
                    of_stage,
                    math.ceil(t * len(of_stage)),
                    None,
                    ent,
                )
            )
    for q in _enterprise_quotas(problem):
        counted = lambda s, q=q: s.kind in q.values  # noqa: E731
        covered = [s for s in seats if q.applies_to(s.stage)]
        if q.scope == "batch":
            low, high = q.bounds(len(covered))
            out.append(
                _batch_entry(
                    "quota",
                    q.name,
                    _quota_target(q),
                    "+".join(q.stages) or "all",
                    covered,
                    low,
                    high,
                    counted,
                )
            )
            continue
        for stage in stages:
            if q.applies_to(stage):
                of = _panels([s for s in covered if s.stage == stage])
                out.append(
                    _panel_entry(
                        "quota",
                        q.name,
                        _quota_target(q) + " per panel",
                        stage,
                        of,
                        lambda key, m, q=q: q.bounds(len(m)),
                        counted,
                    )
                )
    return [{"round": label, **e} for e in out]


def headroom(
    problem: Problem, params: SolveParams, losses: tuple[float, ...] = HEADROOM_LOSSES
) -> tuple[list[dict[str, Any]], str | None]:
    """The headroom curve of INPUT and a note (why it is empty, or that a point is not
    proved): the optimum once, then every loss from it
    (:func:`expertmatch.solvers.enterprise.enterprise_curve`), within one time limit each."""
    if not losses:
        return [], None
    try:
        best = with_chairs(problem, solve(problem, params), params)
    except (InfeasibleError, SolveError) as error:
        return [], f"no headroom: the batch cannot be assigned ({str(error).splitlines()[0]})"
    out, unproved = [], []
    for loss, result in zip(losses, enterprise_curve(problem, params, losses, best), strict=True):
        seats = int(result.stats["enterprise_seats"])
        out.append(
            {
                "score_loss": loss,
                "enterprise_share": share(seats, len(result.pairs)),
                "enterprise_seats": seats,
                "enterprise_bound": int(result.stats["enterprise_bound"]),
                "seats": len(result.pairs),
                "score": result.objective,
                "status": str(result.status),
            }
        )
        if result.status != "optimal":
            unproved.append(f"{loss:g}")
    note = (
        f"not proved optimal within the time limit: loss {', '.join(unproved)} (the bound on "
        "enterprise seats is in the table)"
        if unproved
        else None
    )
    return out, note


def kpi(
    problem: Problem,
    rounds: list[str | os.PathLike[str]],
    params: SolveParams | None = None,
    losses: tuple[float, ...] = HEADROOM_LOSSES,
) -> dict[str, Any]:
    """Every figure of ``kpi.json`` (module docstring)."""
    params = params or SolveParams()
    labels = [_label(r, i) for i, r in enumerate(rounds)]
    per_round = [read_round(problem, r, lab) for r, lab in zip(rounds, labels, strict=True)]
    seats = [s for one in per_round for s in one]
    curve, note = headroom(problem, params, losses)
    by_round, goals = [], []
    for label, path, one in zip(labels, rounds, per_round, strict=True):
        use = use_figures(problem, one)
        by_round.append(
            {
                "round": label,
                "file": str(round_file(path)),
                **seat_figures(one),
                "experts_used": {k: v["experts_used"] for k, v in use.items()},
            }
        )
        goals += targets(problem, label, one)
    if len(per_round) > 1:
        goals += targets(problem, YEAR, seats)
    return {
        "pool": pool_figures(problem),
        "seats": seat_figures(seats),
        "use": use_figures(problem, seats),
        "chairs": chair_figures(seats),
        "targets": goals,
        "short_fields": short_fields(problem),
        "headroom": curve,
        "headroom_note": note,
        "by_round": by_round,
    }


def _label(path: str | os.PathLike[str], i: int) -> str:
    """A round's name on the page and in ``by_round``: ``round N`` in the order given."""
    return f"round {i + 1}"


def kpi_sheets(figures: dict[str, Any]) -> list[Sheet]:
    """The figures as workbook sheets: the pool (overall, by field, by region), seats and
    reviews by round and stage and by field, use, chairs, targets, short fields, headroom."""
    pool = figures["pool"]
    share_cols = ["experts", "enterprise", "enterprise_share"]
    sheets = [
        Sheet("pool", pd.DataFrame([{k: pool[k] for k in share_cols}])),
        Sheet("pool by field", _groups(pool["by_field"], "field", share_cols)),
    ]
    if "by_region" in pool:
        sheets.append(Sheet("pool by region", _groups(pool["by_region"], "region", share_cols)))
    rows = _seat_rows("all", figures["seats"])
    for r in figures["by_round"]:
        rows += _seat_rows(r["round"], r)
    sheets.append(
        Sheet(
            "seats",
            pd.DataFrame(rows).reindex(
                columns=["round", "stage", *SEAT_COLUMNS, *(f"reviews_{c}" for c in SEAT_COLUMNS)]
            ),
        )
    )
    field_rows = [
        {"round": r["round"], "field": f, **v}
        for r in [{"round": "all", **figures["seats"]}, *figures["by_round"]]
        for f, v in r["by_field"].items()
    ]
    sheets.append(
        Sheet(
            "seats by field",
            pd.DataFrame(field_rows).reindex(columns=["round", "field", *SEAT_COLUMNS]),
        )
    )
    use = [
        {"experts": kind, **{k: v for k, v in u.items() if k != "histogram"}}
        for kind, u in figures["use"].items()
    ]
    sheets.append(Sheet("use", pd.DataFrame(use)))
    chairs = figures.get("chairs")
    if chairs:
        sheets.append(
            Sheet("chairs", _groups({"all": chairs, **chairs["by_stage"]}, "stage", SEAT_COLUMNS))
        )
    sheets += [
        Sheet(
            "targets",
            pd.DataFrame(
                [{**t, "missed": ";".join(t["missed"])} for t in figures["targets"]]
            ).reindex(columns=TARGET_COLUMNS),
        ),
        Sheet("short fields", pd.DataFrame(figures["short_fields"]).reindex(columns=SHORT_COLUMNS)),
        Sheet("headroom", pd.DataFrame(figures["headroom"]).reindex(columns=HEADROOM_COLUMNS)),
    ]
    return sheets


SEAT_COLUMNS = ["total", "enterprise", "enterprise_share"]
TARGET_COLUMNS = [
    "round",
    "rule",
    "name",
    "stage",
    "scope",
    "target",
    "seats",
    "required",
    "at_most",
    "reached",
    "reached_share",
    "panels",
    "panels_met",
    "met",
    "missed",
]
SHORT_COLUMNS = [
    "field",
    "enterprise_available",
    "enterprise_needed",
    "enterprise_seats_needed",
    "recruit",
]
HEADROOM_COLUMNS = [
    "score_loss",
    "enterprise_share",
    "enterprise_seats",
    "enterprise_bound",
    "seats",
    "score",
    "status",
]


def _groups(groups: dict[str, Any], name: str, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{name: k, **{c: v[c] for c in columns}} for k, v in groups.items()])


def _seat_rows(label: str, figures: dict[str, Any]) -> list[dict[str, Any]]:
    """One row for all stages, then one per stage: seats and reviews side by side."""
    reviews = figures["reviews"]
    out = []
    for stage, seats, rev in [
        ("all", figures, reviews),
        *((st, v, reviews["by_stage"].get(st, {})) for st, v in figures["by_stage"].items()),
    ]:
        out.append(
            {
                "round": label,
                "stage": stage,
                **{c: seats[c] for c in SEAT_COLUMNS},
                **{f"reviews_{c}": rev.get(c) for c in SEAT_COLUMNS},
            }
        )
    return out

"""The yearly measure of the use of enterprise experts (``expertmatch report``).

:func:`kpi` reads the assignments of the year's rounds (``assignment.csv`` files) against the
batch ``INPUT`` (the pool of experts, usually the next round's batch) and returns plain dicts
and lists, ready for ``kpi.json``:

- ``pool``: experts in INPUT, how many work for enterprises, their share;
- ``seats``: panel seats over every round, the enterprise seats and share, by stage;
- ``use``: for enterprise and other experts: the pool, the experts used, their reviews,
  reviews per used expert and how many experts gave each number of reviews (a histogram);
- ``chairs``: where the rounds name chairs (``role`` column): chairs, enterprise chairs;
- ``short_fields``: in INPUT, the fields at the coverage level (level 1 when coverage is off)
  where fewer enterprise experts are eligible (``enterprise_available``: they cover the field
  and may review at least one of its projects) than there are panels needing one
  (``enterprise_needed``; ``enterprise_seats_needed``: the enterprise seats those panels need);
- ``headroom``: the highest enterprise share of seats INPUT can reach with every rule holding
  and a score at least ``(1 - loss) x`` its optimum, for each loss
  (:func:`expertmatch.solvers.enterprise.solve_enterprise`);
- ``by_round``: the seat, stage and use figures of each round.

A round's projects and experts need not be in INPUT: an expert's type comes from INPUT, else
from the round's ``org_type`` column; a project's stage from INPUT, else from a
``projects.csv`` (``stage`` column) beside the round's ``assignment.csv``, else ``approval``.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from expertmatch.domain.eligibility import eligible_pairs
from expertmatch.domain.problem import Problem
from expertmatch.domain.rules import stage_name
from expertmatch.errors import InfeasibleError, InputError, InputIssue, SolveError
from expertmatch.io.tables import decode_csv, parse_csv, present, read_bytes
from expertmatch.io.workbook import Sheet
from expertmatch.rounds.history import _table
from expertmatch.solvers.chairs import with_chairs
from expertmatch.solvers.enterprise import solve_enterprise
from expertmatch.solvers.exact import solve
from expertmatch.solvers.params import SolveParams

#: The score losses of the headroom curve (the contract's).
HEADROOM_LOSSES = (0.0, 0.01, 0.02, 0.05)
ENTERPRISE = "enterprise"
DEFAULT_STAGE = "approval"


@dataclass(frozen=True)
class Seat:
    """One row of a round: who sits on which panel, of which type, at which stage."""

    round: str
    project: str
    expert: str
    enterprise: bool
    stage: str
    chair: bool | None


def round_file(path: str | os.PathLike[str]) -> Path:
    """A ROUND argument: an ``assignment.csv`` or a folder holding one."""
    p = Path(path)
    return p / "assignment.csv" if p.is_dir() else p


def read_round(problem: Problem, path: str | os.PathLike[str], label: str) -> list[Seat]:
    """The seats of one round (see the module docstring for types and stages)."""
    file = round_file(path)
    _, frame, rows = _table(file, ("project", "expert"))
    stages = dict(zip(problem.project_ids, problem.stages, strict=True))
    stages_beside = _stages_beside(file)
    kinds = dict(zip(problem.expert_ids, problem.expert_type, strict=True))
    out, issues = [], []
    for i, (p, e) in enumerate(zip(frame["project"], frame["expert"], strict=True)):
        kind = kinds.get(e) or (str(frame["org_type"][i]) if "org_type" in frame else "")
        if not kind:
            issues.append(InputIssue(file.name, f"expert {e!r}: type unknown", rows[i]))
        stage = stages.get(p) or stages_beside.get(p) or DEFAULT_STAGE
        chair = str(frame["role"][i]) == "chair" if "role" in frame else None
        out.append(Seat(label, str(p), str(e), kind == ENTERPRISE, stage, chair))
    if issues:
        raise InputError(issues)
    return out


def _stages_beside(file: Path) -> dict[str, str]:
    """Stages of a ``projects.csv`` beside the round's file (empty if none or no stage)."""
    projects = file.parent / "projects.csv"
    if not present(projects):
        return {}
    table = parse_csv(decode_csv(read_bytes(projects, projects.name), projects.name), "p")
    frame = table.frame
    if "id" not in frame or "stage" not in frame:
        return {}
    out = {}
    for p, s in zip(frame["id"], frame["stage"], strict=True):
        name = stage_name(str(s))
        if name:
            out[str(p)] = name
    return out


def share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def seat_figures(seats: list[Seat]) -> dict[str, Any]:
    """total, enterprise, enterprise_share and by_stage of these seats."""
    ent = sum(s.enterprise for s in seats)
    by_stage: dict[str, Any] = {}
    for stage in dict.fromkeys(s.stage for s in seats):
        of = [s for s in seats if s.stage == stage]
        k = sum(s.enterprise for s in of)
        by_stage[stage] = {"total": len(of), "enterprise": k, "enterprise_share": share(k, len(of))}
    return {
        "total": len(seats),
        "enterprise": ent,
        "enterprise_share": share(ent, len(seats)),
        "by_stage": by_stage,
    }


def use_figures(problem: Problem, seats: list[Seat]) -> dict[str, Any]:
    """For enterprise and other experts: pool, experts used, reviews, reviews per used expert
    and the histogram {reviews: experts} (experts of the pool with no review count as 0)."""
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
            "reviews": total,
            "reviews_per_used_expert": share(total, len(reviews)),
            "histogram": {str(n): counts[n] for n in sorted(counts)},
        }
    return out


def chair_figures(seats: list[Seat]) -> dict[str, Any] | None:
    named = [s for s in seats if s.chair]
    if all(s.chair is None for s in seats):
        return None
    ent = sum(s.enterprise for s in named)
    return {"total": len(named), "enterprise": ent, "enterprise_share": share(ent, len(named))}


def short_fields(problem: Problem) -> list[dict[str, Any]]:
    """Fields where fewer enterprise experts are eligible than panels need one."""
    pairs = eligible_pairs(problem)
    eligible: dict[int, set[int]] = {}
    for p, e in zip(pairs.project.tolist(), pairs.expert.tolist(), strict=True):
        if problem.expert_enterprise[e]:
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
        }
        for key in sorted(needed)
        if len(available.get(key, ())) < panels[key]
    ]


def headroom(
    problem: Problem, params: SolveParams, losses: tuple[float, ...] = HEADROOM_LOSSES
) -> tuple[list[dict[str, Any]], str | None]:
    """The headroom curve of INPUT and a note (why it is empty, or that a point is not proved)."""
    try:
        best = with_chairs(problem, solve(problem, params), params)
    except (InfeasibleError, SolveError) as error:
        return [], f"no headroom: the batch cannot be assigned ({str(error).splitlines()[0]})"
    out, unproved = [], []
    for loss in losses:
        result = solve_enterprise(problem, replace(params), loss, best=best)
        seats = int(problem.expert_enterprise[result.pairs.expert].sum())
        out.append(
            {
                "score_loss": loss,
                "enterprise_share": share(seats, len(result.pairs)),
                "enterprise_seats": seats,
                "seats": len(result.pairs),
                "score": result.objective,
                "status": str(result.status),
            }
        )
        if result.status != "optimal":
            unproved.append(f"{loss:g}")
    note = (
        f"not proved optimal within the time limit: loss {', '.join(unproved)}"
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
    ent = int(problem.expert_enterprise.sum())
    curve, note = headroom(problem, params, losses)
    by_round = []
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
    return {
        "pool": {
            "experts": problem.n_experts,
            "enterprise": ent,
            "enterprise_share": share(ent, problem.n_experts),
        },
        "seats": seat_figures(seats),
        "use": use_figures(problem, seats),
        "chairs": chair_figures(seats),
        "short_fields": short_fields(problem),
        "headroom": curve,
        "headroom_note": note,
        "by_round": by_round,
    }


def _label(path: str | os.PathLike[str], i: int) -> str:
    """A round's name on the page and in ``by_round``: ``round N`` in the order given."""
    return f"round {i + 1}"


def kpi_sheets(figures: dict[str, Any]) -> list[Sheet]:
    """The figures as workbook sheets: seats by round and stage, use, short fields, headroom."""
    seats = [
        {"round": "all", "stage": "all", **_plain(figures["seats"])},
        *({"round": "all", "stage": st, **v} for st, v in figures["seats"]["by_stage"].items()),
    ]
    for r in figures["by_round"]:
        seats.append({"round": r["round"], "stage": "all", **_plain(r)})
        seats += [{"round": r["round"], "stage": st, **v} for st, v in r["by_stage"].items()]
    use = [
        {"experts": kind, **{k: v for k, v in u.items() if k != "histogram"}}
        for kind, u in figures["use"].items()
    ]
    pool = [figures["pool"]]
    return [
        Sheet("pool", pd.DataFrame(pool)),
        Sheet(
            "seats",
            pd.DataFrame(seats).reindex(
                columns=["round", "stage", "total", "enterprise", "enterprise_share"]
            ),
        ),
        Sheet("use", pd.DataFrame(use)),
        Sheet(
            "short fields",
            pd.DataFrame(figures["short_fields"]).reindex(
                columns=[
                    "field",
                    "enterprise_available",
                    "enterprise_needed",
                    "enterprise_seats_needed",
                ]
            ),
        ),
        Sheet(
            "headroom",
            pd.DataFrame(figures["headroom"]).reindex(
                columns=[
                    "score_loss",
                    "enterprise_share",
                    "enterprise_seats",
                    "seats",
                    "score",
                    "status",
                ]
            ),
        ),
    ]


def _plain(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: figures[k] for k in ("total", "enterprise", "enterprise_share")}

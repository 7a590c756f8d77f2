"""What a solve returns: status, panels, objective, bound, gap, run time, explanations and
summary figures, with conversions to a DataFrame, CSV and JSON (``report.json``)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from expertmatch.domain.eligibility import notices
from expertmatch.domain.pairs import Pairs
from expertmatch.domain.problem import Problem
from expertmatch.domain.scoring import best_match
from expertmatch.io.output import staged, write_frame
from expertmatch.version import __version__
from expertmatch.vocabulary import Rule, Status

STATUSES = (Status.OPTIMAL, Status.FEASIBLE, Status.INFEASIBLE, Status.TIMEOUT)


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

    def to_frame(self) -> pd.DataFrame:
        """One row per assigned pair with the reasons it fits."""
        p = self.problem
        rows = []
        for j in range(len(self.pairs)):
            proj, exp = int(self.pairs.project[j]), int(self.pairs.expert[j])
            project_field, expert_field, _ = best_match(p, proj, exp)
            covers = [k for k in p.coverage_keys(proj) if p.covers(exp, k)]
            org = int(p.expert_org[exp])
            org_type = p.expert_type[exp] or "unknown"
            rows.append(
                {
                    "project": p.project_ids[proj],
                    "expert": p.expert_ids[exp],
                    "score": float(self.pairs.score[j]),
                    "project_title": p.project_titles[proj],
                    "expert_name": p.expert_names[exp],
                    "organization": p.org_names[org],
                    "org_type": org_type,
                    "matched_field": project_field,
                    "expert_field": expert_field,
                    "covers": ";".join(covers),
                    "why": _why(project_field, expert_field, org_type, covers),
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
        return pd.DataFrame(rows, columns=columns)

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
        }

    def report(self) -> dict[str, Any]:
        """The content of ``report.json``."""
        return {
            "status": self.status,
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
            **({"bends": [b.as_dict() for b in self.bends]} if self.bends else {}),
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
        return json.dumps(self.report(), ensure_ascii=False, indent=2)

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """Write ``assignment.csv`` atomically, spreadsheet-safe, UTF-8 with BOM for Excel."""
        self.write(path)

    def write(
        self,
        assignment: str | os.PathLike[str],
        report: str | os.PathLike[str] | None = None,
        probabilities: str | os.PathLike[str] | None = None,
    ) -> None:
        """Write the assignment CSV (and ``report.json``, probabilities CSV) together: all or
        none."""
        extra = [f for f in (report, probabilities) if f is not None]
        with staged([assignment, *extra]) as temps:
            write_frame(self.frame, temps[0])
            rest = iter(temps[1:])
            if report is not None:
                next(rest).write_text(self.to_json() + "\n", encoding="utf-8")
            if probabilities is not None:
                write_frame(self.probability_frame(), next(rest))

    def __str__(self) -> str:
        return (
            f"{self.status}: {len(self.pairs)} reviews for {self.problem.n_projects} "
            f"projects, objective {self.objective:.2f}, bound {self.bound:.2f}, "
            f"gap {self.gap:.4%}, {self.time_s:.1f} s"
        )


def _why(project_field: str, expert_field: str, org_type: str, covers: list[str]) -> str:
    parts = []
    if project_field:
        parts.append(f"field {expert_field} matches {project_field}")
    if covers:
        parts.append(f"covers {', '.join(covers)}")
    parts.append(f"{org_type} expert")
    return "; ".join(parts)

"""The office's rules: one frozen dataclass that checks itself and loads from ``rules.toml``.

Every key of the data contract is a field here, with the contract's default. Shares are kept as
exact fractions so that ``ceil(share x panel size)`` is never off by a rounding error
(``0.2 x 5`` is exactly 1, not 1.0000000000000002); they are read from ``0.4``, ``"2/5"`` and
``"40%"``.

Part 2 of the contract adds, each optional: ``[stage.NAME]`` tables (:class:`StageRules`: the
per-panel rules of the projects of one stage), ``[[quota]]`` entries (:class:`Quota`: how many
members of a panel, or of all seats, have an attribute value) and a ``[chair]`` table
(:class:`Chair`). A workbook's ``rules`` sheet gives the same with dotted keys
(``stage.acceptance.panel_size``).
"""

from __future__ import annotations

import datetime
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from expertmatch.errors import InputError, InputIssue
from expertmatch.io.tables import read_toml


def _current_year() -> int:
    return datetime.date.today().year


#: The review stages (part 2 of the contract) and the names the office also writes.
STAGES = ("approval", "midterm", "acceptance")
STAGE_NAMES = {
    **{s: s for s in STAGES},
    "立项": "approval",
    "中期": "midterm",
    "验收": "acceptance",
    "结题": "acceptance",
    "结题验收": "acceptance",
}
#: How to write a share, for messages.
SHARE_EXAMPLES = '0.4, "2/5" or "40%"'


def stage_name(text: str) -> str | None:
    """The stage a cell names (English or the office's Chinese), None if it names none;
    an empty cell is the default stage, approval."""
    key = text.strip()
    return STAGE_NAMES.get(key.lower(), STAGE_NAMES.get(key)) if key else "approval"


def parse_share(value: Any) -> Fraction:
    """Read a share given as ``"1/3"``, ``0.2``, ``1`` or ``"40%"``; exact for decimal
    literals. Anything else raises ValueError with an example of what works (and a hint when
    Excel has turned ``1/3`` into a date)."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a share; write it as {SHARE_EXAMPLES}")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a share; write it as {SHARE_EXAMPLES}")
        return Fraction(repr(value))
    if isinstance(value, datetime.date | datetime.datetime):
        raise ValueError(
            f"{value!r} is a date: Excel turns 1/3 into a date; write the share as "
            f"{SHARE_EXAMPLES} (in Excel, type '1/3 with a leading apostrophe)"
        )
    if isinstance(value, str):
        text = value.strip()
        try:
            if text.endswith("%"):
                return Fraction(text[:-1].strip()) / 100
            return Fraction(text)
        except (ValueError, ZeroDivisionError):
            hint = ""
            if _looks_like_date(text):
                hint = " (Excel turns 1/3 into a date: type '1/3 with a leading apostrophe)"
            raise ValueError(
                f"{value!r} is not a share; write it as {SHARE_EXAMPLES}{hint}"
            ) from None
    raise ValueError(f"{value!r} is not a share; write it as {SHARE_EXAMPLES}")


def _looks_like_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text[:10])
        return True
    except ValueError:
        return "月" in text and "日" in text


#: The rules a ``[stage.NAME]`` table may set for the projects of that stage.
STAGE_KEYS = (
    "panel_size",
    "enterprise_min_share",
    "max_per_org",
    "coverage_level",
    "min_score",
    "max_probability",
    "enterprise_target_share",
    "mode",
)
#: How a project is reviewed: its own panel, or in a meeting group (会评); the office's words too.
MODES = ("panel", "meeting")
MODE_NAMES = {
    "panel": "panel",
    "meeting": "meeting",
    "会评": "meeting",
    "会议评审": "meeting",
    "函评": "panel",
    "网评": "panel",
}


def mode_name(text: str) -> str | None:
    """The review mode a cell names (English or the office's Chinese), None if it names none;
    an empty cell is ``""`` (not given)."""
    key = text.strip()
    return MODE_NAMES.get(key.lower(), MODE_NAMES.get(key)) if key else ""


@dataclass(frozen=True)
class StageRules:
    """Overrides for the projects of one stage; ``None`` keeps the batch's rule."""

    panel_size: int | None = None
    enterprise_min_share: Fraction | None = None
    max_per_org: int | None = None
    coverage_level: int | None = None
    min_score: float | None = None
    max_probability: float | None = None
    enterprise_target_share: Fraction | None = None
    """The share of enterprise reviews among the seats of this stage alone."""
    mode: str | None = None
    """``meeting``: the projects of this stage are reviewed in meeting groups (会评)."""

    def as_dict(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Quota:
    """How many members of a panel (``scope="panel"``) or of all seats of its stages
    (``scope="batch"``) have one of ``values`` in the expert attribute ``attribute``.

    A minimum share is ``ceil(share x seats)``, a maximum share ``floor(share x seats)``; counts
    and shares combine (the tighter bound wins). ``any_field``: the experts it counts are
    eligible for every project of its stages whatever their score (conflicts still apply) —
    a finance expert reviews the budget, not the science.
    """

    name: str
    attribute: str
    values: tuple[str, ...]
    min: int | None = None
    max: int | None = None
    min_share: Fraction | None = None
    max_share: Fraction | None = None
    stages: tuple[str, ...] = ()
    scope: str = "panel"
    any_field: bool = False

    def applies_to(self, stage: str) -> bool:
        """Does the quota count the panels (seats) of this stage?"""
        return not self.stages or stage in self.stages

    def bounds(self, seats: int) -> tuple[int, int]:
        """The least and the most members that must have the value among ``seats``."""
        low = max(self.min or 0, math.ceil(self.min_share * seats) if self.min_share else 0)
        high = seats if self.max is None else min(seats, self.max)
        if self.max_share is not None:
            high = min(high, math.floor(self.max_share * seats))
        return low, high

    def as_dict(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class Chair:
    """Each panel of ``stages`` (all if empty) gets exactly one chair: a member with one of
    ``values`` in ``attribute``; one expert chairs at most ``max_per_expert`` panels."""

    attribute: str
    values: tuple[str, ...]
    max_per_expert: int = 1
    stages: tuple[str, ...] = ()

    def applies_to(self, stage: str) -> bool:
        return not self.stages or stage in self.stages

    def as_dict(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class MeetingRules:
    """The ``[meeting]`` table: how meeting groups (会评) are formed, seated and scheduled.

    ``group_size`` projects per group (least, most); ``panel_size`` experts seated per group;
    ``min_reviewers`` per project after recusals; ``max_groups_per_expert`` seats one expert
    takes in the batch; ``recusal``: ``recuse`` (a seated expert with a conflict steps out for
    that project) or ``exclude`` (may not sit in that group); ``slots`` the sessions (empty: not
    scheduled); ``rooms`` groups meeting at once in one slot. The defaults are the contract's
    example.
    """

    group_size: tuple[int, int] = (6, 12)
    panel_size: int = 7
    min_reviewers: int = 5
    max_groups_per_expert: int = 1
    recusal: str = "recuse"
    slots: tuple[str, ...] = ()
    rooms: int = 1

    def problems(self) -> list[tuple[str, str]]:
        """What is wrong with these values: (key, message) pairs, empty when they hold."""
        low, high = self.group_size
        checks = [
            ("group_size", 1 <= low <= high <= 10**6, "needs 1 <= least <= most"),
            ("panel_size", 1 <= self.panel_size <= 10**6, "must be at least 1"),
            (
                "min_reviewers",
                1 <= self.min_reviewers <= self.panel_size,
                f"must be between 1 and panel_size ({self.panel_size})",
            ),
            ("max_groups_per_expert", self.max_groups_per_expert >= 1, "must be at least 1"),
            ("recusal", self.recusal in RECUSALS, f"must be one of {', '.join(RECUSALS)}"),
            ("rooms", 1 <= self.rooms <= 10**6, "must be at least 1"),
            ("slots", len(set(self.slots)) == len(self.slots), "a slot is listed twice"),
        ]
        return [(f"meeting.{key}", msg) for key, ok, msg in checks if not ok]

    def as_dict(self) -> dict[str, Any]:
        return {k: _plain(v) for k, v in asdict(self).items()}


#: What a seated expert with a conflict does: steps out for that project, or may not sit.
RECUSALS = ("recuse", "exclude")


#: The share of the built-in score that comes from text when papers are given (``[text]``).
TEXT_WEIGHT = 0.5


@dataclass(frozen=True)
class TextRules:
    """``[text]``: how much of the built-in score comes from text when the batch gives
    experts' papers (``papers.csv``), from 0 (none: field codes and keywords alone) to 1."""

    weight: float = TEXT_WEIGHT

    def as_dict(self) -> dict[str, Any]:
        return {"weight": self.weight}


def _plain(value: Any) -> Any:
    """A rule value as JSON writes it (a share as ``"2/5"``, tuples as lists)."""
    if isinstance(value, Fraction):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass(frozen=True)
class Rules:
    """Hard rules of one batch (see the README's rule table for their exact meaning)."""

    panel_size: int = 5
    max_load: int = 6
    yearly_cap: int = 10
    enterprise_min_share: Fraction = Fraction(1, 3)
    max_per_org: int = 1
    coverage_level: int = 2
    min_score: float = 0.0
    reference_year: int = field(default_factory=_current_year)
    collaboration_window: int = 3
    enterprise_target_share: Fraction | None = None
    max_probability: float = 1.0
    stage: Mapping[str, StageRules] = field(default_factory=dict)
    """``[stage.NAME]`` overrides, by stage (see :data:`STAGES`)."""
    quota: tuple[Quota, ...] = ()
    """``[[quota]]`` entries."""
    chair: Chair | None = None
    """The ``[chair]`` rule, if any."""
    meeting: MeetingRules | None = None
    """The ``[meeting]`` rules, if given (meeting projects use the defaults otherwise)."""
    text: TextRules | None = None
    """The ``[text]`` table, if given (else :data:`TEXT_WEIGHT` applies)."""

    def __post_init__(self) -> None:
        issues = _check(self)
        if issues:
            raise InputError([InputIssue("rules", msg, column=key) for key, msg in issues])

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], source: str = "rules.toml") -> Rules:
        """Build rules from a mapping such as a parsed TOML file; unknown keys are errors."""
        known = {f.name for f in fields(cls)}
        issues: list[InputIssue] = []
        kwargs: dict[str, Any] = {}
        for key, value in _nest_dotted(values).items():
            if key not in known:
                issues.append(InputIssue(source, f"unknown rule {key!r}", column=key))
                continue
            if key in _PARTS:
                kwargs[key] = _PARTS[key](value, source, issues)
                continue
            try:
                kwargs[key] = _convert(key, value)
            except (ValueError, TypeError, ZeroDivisionError) as err:
                issues.append(InputIssue(source, _bad_value(value, err), column=key))
        try:
            rules = cls(**kwargs)
        except InputError as err:
            issues += [replace(i, file=source) for i in err.issues]
        if issues:
            raise InputError(issues)
        return rules

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Rules:
        """Load ``rules.toml``; a file that is not TOML is an input error naming it."""

        path = Path(path)
        return cls.from_mapping(read_toml(path), source=path.name)

    def with_overrides(self, values: Mapping[str, Any], source: str = "rules") -> Rules:
        """These rules with some keys replaced (same checks as :meth:`from_mapping`)."""
        merged = {**self.as_dict(raw=True), **values}
        return Rules.from_mapping(merged, source=source)

    @property
    def text_weight(self) -> float:
        """The share of the built-in score that comes from text (``[text] weight``)."""
        return TEXT_WEIGHT if self.text is None else self.text.weight

    def enterprise_required(self, panel_size: int) -> int:
        """Enterprise experts a panel of this size needs: ceil(share x panel size)."""
        return math.ceil(self.enterprise_min_share * panel_size)

    def enterprise_target_required(self, total_reviews: int) -> int:
        """Enterprise reviews a batch of this many reviews needs under
        ``enterprise_target_share``: ceil(share x total), 0 when the rule is not set."""
        if self.enterprise_target_share is None:
            return 0
        return math.ceil(self.enterprise_target_share * total_reviews)

    def value(self, key: str, stage: str) -> Any:
        """The rule ``key`` for the projects of ``stage``: the stage's override, else the
        batch's value."""
        override = self.stage.get(stage)
        given = getattr(override, key) if override is not None else None
        return getattr(self, key) if given is None else given

    @property
    def stage_dependent(self) -> bool:
        """Do any per-panel rules differ by stage (a ``[stage]`` table, a quota or the chair
        limited to some stages)? Then a meeting group holds projects of one stage only."""
        limited = [q.stages for q in self.quota] + [self.chair.stages if self.chair else ()]
        return bool(self.stage) or any(limited)

    def stage_mode(self, stage: str) -> str:
        """How the projects of ``stage`` are reviewed when their row gives no ``mode``: the
        stage's ``mode``, else ``panel``."""
        override = self.stage.get(stage)
        return (override.mode if override is not None else None) or "panel"

    def as_dict(self, raw: bool = False) -> dict[str, Any]:
        """The effective rules; shares as ``"1/3"`` strings (or Fractions with ``raw``); the
        stage tables, quotas and chair only when given."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out.pop("stage"), out.pop("quota"), out.pop("chair"), out.pop("meeting")
        out.pop("text")
        if not raw:
            for key in ("enterprise_min_share", "enterprise_target_share"):
                if out[key] is not None:
                    out[key] = str(out[key])
        if self.stage:
            out["stage"] = {name: s.as_dict() for name, s in self.stage.items()}
        if self.quota:
            out["quota"] = [q.as_dict() for q in self.quota]
        if self.chair is not None:
            out["chair"] = self.chair.as_dict()
        if self.meeting is not None:
            out["meeting"] = self.meeting.as_dict() if not raw else asdict(self.meeting)
        if self.text is not None:
            out["text"] = self.text.as_dict()
        return out


def _bad_value(value: Any, err: Exception) -> str:
    """The message for a value that cannot be read, with the example of a share's error."""
    text = str(err)
    return text if "share" in text else f"{value!r} is not a valid value"


def _nest_dotted(values: Mapping[str, Any]) -> dict[str, Any]:
    """Dotted keys of a workbook's rules sheet (``stage.acceptance.panel_size``) as tables."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if "." not in key:
            out[key] = value
            continue
        head, *rest = key.split(".")
        node = out.setdefault(head, {})
        if not isinstance(node, dict):
            node = out[head] = {}
        for part in rest[:-1]:
            node = node.setdefault(part, {})
        node[rest[-1]] = value
    return out


def _stages(value: Any, source: str, issues: list[InputIssue]) -> dict[str, StageRules]:
    """``[stage.NAME]`` tables: each a known stage, each key one of ``STAGE_KEYS``."""
    if not isinstance(value, Mapping):
        issues.append(InputIssue(source, "stage must be a table of stages", column="stage"))
        return {}
    out = {}
    for name, table in value.items():
        stage = stage_name(str(name))
        where = f"stage.{name}"
        if stage is None or not str(name).strip():
            issues.append(
                InputIssue(
                    source,
                    f"unknown stage {name!r}; expected one of {', '.join(STAGES)} "
                    "(or 立项, 中期, 结题验收)",
                    column=where,
                )
            )
            continue
        if not isinstance(table, Mapping):
            issues.append(InputIssue(source, "must be a table of rules", column=where))
            continue
        kwargs = {}
        for key, item in table.items():
            if key not in STAGE_KEYS:
                issues.append(
                    InputIssue(
                        source,
                        f"a stage cannot set {key!r}; it may set {', '.join(STAGE_KEYS)}",
                        column=f"{where}.{key}",
                    )
                )
                continue
            try:
                kwargs[key] = _convert(key, item)
            except (ValueError, TypeError, ZeroDivisionError) as err:
                issues.append(InputIssue(source, _bad_value(item, err), column=f"{where}.{key}"))
        out[stage] = StageRules(**kwargs)
    return out


def _text_list(value: Any) -> tuple[str, ...]:
    """A list of strings from a TOML array or a ``;``-separated cell."""
    if isinstance(value, str):
        items: list[Any] = [v for v in value.replace("；", ";").split(";")]
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ValueError(f"{value!r} is not a list")
    return tuple(dict.fromkeys(str(v).strip() for v in items if str(v).strip()))


def _stage_list(value: Any) -> tuple[str, ...]:
    names = _text_list(value)
    stages = [stage_name(n) for n in names]
    unknown = [n for n, s in zip(names, stages, strict=True) if s is None]
    if unknown:
        raise ValueError(f"unknown stage(s) {', '.join(unknown)}; expected {', '.join(STAGES)}")
    return tuple(s for s in stages if s is not None)


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "是"):
        return True
    if text in ("false", "no", "0", "否", ""):
        return False
    raise ValueError(f"{value!r} is not true or false")


_QUOTA_KEYS: dict[str, Any] = {
    "name": str,
    "attribute": lambda v: str(v).strip(),
    "values": _text_list,
    "min": lambda v: _whole(v),
    "max": lambda v: _whole(v),
    "min_share": parse_share,
    "max_share": parse_share,
    "stages": _stage_list,
    "scope": lambda v: str(v).strip().lower(),
    "any_field": _flag,
}


def _whole(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(f"{value!r} is not a whole number")
    return int(value)


def _quotas(value: Any, source: str, issues: list[InputIssue]) -> tuple[Quota, ...]:
    """``[[quota]]`` entries (or the rows of a workbook's ``quotas`` sheet)."""
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list | tuple):
        issues.append(InputIssue(source, "quota must be a list of tables", column="quota"))
        return ()
    out = []
    for n, entry in enumerate(value, start=1):
        where = f"quota {n}"
        if not isinstance(entry, Mapping):
            issues.append(InputIssue(source, "must be a table", column=where))
            continue
        kwargs: dict[str, Any] = {}
        for key, item in entry.items():
            if item is None or (isinstance(item, str) and not item.strip() and key != "name"):
                continue
            if key not in _QUOTA_KEYS:
                issues.append(
                    InputIssue(
                        source,
                        f"unknown quota key {key!r}; known: {', '.join(_QUOTA_KEYS)}",
                        column=where,
                    )
                )
                continue
            try:
                kwargs[key] = _QUOTA_KEYS[key](item)
            except (ValueError, TypeError, ZeroDivisionError) as err:
                issues.append(InputIssue(source, f"{key}: {err}", column=where))
        quota = _quota(kwargs, n, source, issues)
        if quota is not None:
            out.append(quota)
    return tuple(out)


def _quota(kwargs: dict[str, Any], n: int, source: str, issues: list[InputIssue]) -> Quota | None:
    """One checked quota: an attribute, values, at least one bound, a known scope."""
    where = f"quota {n}"
    kwargs.setdefault("name", f"quota {n}")
    problems = []
    if not kwargs.get("attribute"):
        problems.append("needs an attribute (a column of experts.csv, or org_type)")
    if not kwargs.get("values"):
        problems.append("needs values (the attribute values it counts)")
    if not any(kwargs.get(k) is not None for k in ("min", "max", "min_share", "max_share")):
        problems.append("needs min, max, min_share or max_share")
    if kwargs.get("scope", "panel") not in ("panel", "batch"):
        problems.append(f"scope must be panel or batch, not {kwargs['scope']!r}")
    for key in ("min", "max"):
        if kwargs.get(key) is not None and kwargs[key] < 0:
            problems.append(f"{key} must not be negative")
    for key in ("min_share", "max_share"):
        if kwargs.get(key) is not None and not 0 <= kwargs[key] <= 1:
            problems.append(f"{key} must be between 0 and 1")
    issues.extend(InputIssue(source, f"{kwargs['name']}: {m}", column=where) for m in problems)
    return None if problems else Quota(**kwargs)


def _chair(value: Any, source: str, issues: list[InputIssue]) -> Chair | None:
    """The ``[chair]`` table."""
    if not isinstance(value, Mapping):
        issues.append(InputIssue(source, "chair must be a table", column="chair"))
        return None
    readers: dict[str, Any] = {
        "attribute": lambda v: str(v).strip(),
        "values": _text_list,
        "max_per_expert": _whole,
        "stages": _stage_list,
    }
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        if key not in readers:
            issues.append(
                InputIssue(
                    source,
                    f"unknown chair key {key!r}; known: {', '.join(readers)}",
                    column="chair",
                )
            )
            continue
        try:
            kwargs[key] = readers[key](item)
        except (ValueError, TypeError) as err:
            issues.append(InputIssue(source, f"{key}: {err}", column="chair"))
    missing = [k for k in ("attribute", "values") if not kwargs.get(k)]
    if missing:
        issues.append(InputIssue(source, f"needs {' and '.join(missing)}", column="chair"))
        return None
    if kwargs.get("max_per_expert", 1) < 1:
        issues.append(InputIssue(source, "max_per_expert must be at least 1", column="chair"))
        return None
    return Chair(**kwargs)


def _group_size(value: Any) -> tuple[int, int]:
    """``[6, 12]`` (least, most), ``"6;12"`` from a sheet, or one number (exactly that)."""
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        items = _text_list(str(value)) if isinstance(value, str) else (value,)
    elif isinstance(value, list | tuple):
        items = tuple(value)
    else:
        raise ValueError(f"{value!r} is not a size or [least, most]")
    sizes = [_whole(v if not isinstance(v, str) else float(v)) for v in items]
    if len(sizes) == 1:
        return sizes[0], sizes[0]
    if len(sizes) != 2:
        raise ValueError(f"{value!r}: give [least, most]")
    return sizes[0], sizes[1]


_MEETING_KEYS: dict[str, Any] = {
    "group_size": _group_size,
    "panel_size": _whole,
    "min_reviewers": _whole,
    "max_groups_per_expert": _whole,
    "recusal": lambda v: {"回避": "recuse", "排除": "exclude"}.get(
        str(v).strip(), str(v).strip().lower()
    ),
    "slots": lambda v: tuple(
        str(x).strip()
        for x in (v.replace("；", ";").split(";") if isinstance(v, str) else v)
        if str(x).strip()
    ),
    "rooms": _whole,
}


def _meeting(value: Any, source: str, issues: list[InputIssue]) -> MeetingRules | None:
    """The ``[meeting]`` table (or a workbook's ``meeting`` sheet, key/value)."""
    if not isinstance(value, Mapping):
        issues.append(InputIssue(source, "meeting must be a table", column="meeting"))
        return None
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        where = f"meeting.{key}"
        if key not in _MEETING_KEYS:
            issues.append(
                InputIssue(
                    source,
                    f"unknown meeting key {key!r}; known: {', '.join(_MEETING_KEYS)}",
                    column=where,
                )
            )
            continue
        try:
            kwargs[key] = _MEETING_KEYS[key](item)
        except (ValueError, TypeError) as err:
            issues.append(InputIssue(source, f"{key}: {err}", column=where))
    meeting = MeetingRules(**kwargs)
    found = meeting.problems()
    issues.extend(
        InputIssue(source, f"{key.removeprefix('meeting.')}: {msg}", column=key)
        for key, msg in found
    )
    return None if found else meeting


def _text(value: Any, source: str, issues: list[InputIssue]) -> TextRules | None:
    """The ``[text]`` table: ``weight``, a number from 0 to 1."""
    if not isinstance(value, Mapping):
        issues.append(InputIssue(source, "text must be a table (weight = 0.5)", column="text"))
        return None
    unknown = [k for k in value if k != "weight"]
    for key in unknown:
        issues.append(
            InputIssue(source, f"unknown text key {key!r}; known: weight", column=f"text.{key}")
        )
    weight = value.get("weight", TEXT_WEIGHT)
    try:
        if isinstance(weight, bool):
            raise ValueError
        number = float(weight)
    except (TypeError, ValueError):
        issues.append(InputIssue(source, f"{weight!r} is not a number", column="text.weight"))
        return None
    if not 0 <= number <= 1:
        issues.append(
            InputIssue(
                source, f"weight must be between 0 and 1, not {weight!r}", column="text.weight"
            )
        )
        return None
    return None if unknown else TextRules(weight=number)


_PARTS: dict[str, Any] = {
    "stage": _stages,
    "quota": _quotas,
    "chair": _chair,
    "meeting": _meeting,
    "text": _text,
}


_INT_KEYS = {
    "panel_size",
    "max_load",
    "yearly_cap",
    "max_per_org",
    "coverage_level",
    "reference_year",
    "collaboration_window",
}


def _convert(key: str, value: Any) -> Any:
    if key in _INT_KEYS:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(key)
        return int(value)
    if key in ("enterprise_min_share", "enterprise_target_share"):
        return None if value is None else parse_share(value)
    if key == "mode":
        mode = mode_name(str(value))
        if not mode:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {value!r}")
        return mode
    if key in ("min_score", "max_probability"):
        if isinstance(value, bool):
            raise ValueError(key)
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(key)
        return number
    return value


def _check(rules: Rules) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []

    def need(ok: bool, key: str, msg: str) -> None:
        if not ok:
            problems.append((key, msg))

    for key in _INT_KEYS:
        value = getattr(rules, key)
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append((key, f"{value!r} is not a whole number"))
    if problems:
        return problems
    for key in sorted(_INT_KEYS):
        need(abs(getattr(rules, key)) <= 10**9, key, "must be at most 10^9")
    need(rules.panel_size >= 1, "panel_size", "panel size must be at least 1")
    need(rules.max_load >= 0, "max_load", "max_load must not be negative")
    need(rules.yearly_cap >= 0, "yearly_cap", "yearly_cap must not be negative")
    need(rules.max_per_org >= 1, "max_per_org", "max_per_org must be at least 1")
    need(rules.coverage_level >= 0, "coverage_level", "coverage_level must not be negative")
    need(rules.collaboration_window >= 0, "collaboration_window", "must not be negative")
    need(0 <= rules.enterprise_min_share <= 1, "enterprise_min_share", "must be between 0 and 1")
    if rules.enterprise_target_share is not None:
        need(
            0 <= rules.enterprise_target_share <= 1,
            "enterprise_target_share",
            "must be between 0 and 1",
        )
    need(math.isfinite(rules.min_score), "min_score", "min_score must be a number")
    need(0 < rules.max_probability <= 1, "max_probability", "must be in (0, 1]")
    for name, stage in rules.stage.items():
        problems += [(f"stage.{name}.{key}", msg) for key, msg in _check_stage(stage)]
    return problems


def _check_stage(stage: StageRules) -> list[tuple[str, str]]:
    """The same limits as the batch's rules, for the values a stage sets."""
    checks: list[tuple[str, Any, str]] = [
        ("panel_size", lambda v: 1 <= v <= 10**9, "panel size must be at least 1"),
        ("max_per_org", lambda v: 1 <= v <= 10**9, "max_per_org must be at least 1"),
        ("coverage_level", lambda v: 0 <= v <= 10**9, "coverage_level must not be negative"),
        ("enterprise_min_share", lambda v: 0 <= v <= 1, "must be between 0 and 1"),
        ("enterprise_target_share", lambda v: 0 <= v <= 1, "must be between 0 and 1"),
        ("min_score", math.isfinite, "min_score must be a number"),
        ("max_probability", lambda v: 0 < v <= 1, "must be in (0, 1]"),
    ]
    return [
        (key, msg)
        for key, ok, msg in checks
        if getattr(stage, key) is not None and not ok(getattr(stage, key))
    ]

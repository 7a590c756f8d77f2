"""The office's rules: one frozen dataclass that checks itself and loads from ``rules.toml``.

Every key of the data contract is a field here, with the contract's default. Shares are kept as
exact fractions so that ``ceil(share x panel size)`` is never off by a rounding error
(``0.2 x 5`` is exactly 1, not 1.0000000000000002).
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


def parse_share(value: Any) -> Fraction:
    """Read a share given as ``"1/3"``, ``0.2`` or ``1``; exact for decimal literals."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a share")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a share")
        return Fraction(repr(value))
    if isinstance(value, str):
        return Fraction(value.strip())
    raise ValueError(f"{value!r} is not a share")


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
        for key, value in values.items():
            if key not in known:
                issues.append(InputIssue(source, f"unknown rule {key!r}", column=key))
                continue
            try:
                kwargs[key] = _convert(key, value)
            except (ValueError, TypeError, ZeroDivisionError):
                issues.append(InputIssue(source, f"{value!r} is not a valid value", column=key))
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

    def enterprise_required(self, panel_size: int) -> int:
        """Enterprise experts a panel of this size needs: ceil(share x panel size)."""
        return math.ceil(self.enterprise_min_share * panel_size)

    def enterprise_target_required(self, total_reviews: int) -> int:
        """Enterprise reviews a batch of this many reviews needs under
        ``enterprise_target_share``: ceil(share x total), 0 when the rule is not set."""
        if self.enterprise_target_share is None:
            return 0
        return math.ceil(self.enterprise_target_share * total_reviews)

    def as_dict(self, raw: bool = False) -> dict[str, Any]:
        """The effective rules; shares as ``"1/3"`` strings (or Fractions with ``raw``)."""
        out = asdict(self)
        if not raw:
            for key in ("enterprise_min_share", "enterprise_target_share"):
                if out[key] is not None:
                    out[key] = str(out[key])
        return out


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
    need(
        math.isfinite(rules.min_score) and rules.min_score >= 0,
        "min_score",
        "min_score must be a number >= 0",
    )
    need(0 < rules.max_probability <= 1, "max_probability", "must be in (0, 1]")
    return problems

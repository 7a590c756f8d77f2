"""expertmatch: assign review experts to S&T projects under conflict-of-interest, coverage,
enterprise-share and load rules, with a proven optimality bound.

    import expertmatch as em
    problem = em.load("batch/")          # folder of CSV files or an .xlsx workbook
    result = em.assign(problem)          # optimal panels, with bound and gap
    assert em.verify(problem, result) == []

The errors, the vocabulary and the version are imported with the package; every other public
name is imported on first use (module ``__getattr__``), so ``import expertmatch`` and
``expertmatch --help`` do not load pandas, SciPy or OR-Tools.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from expertmatch.errors import (
    Clash,
    ExpertMatchError,
    InfeasibleError,
    InputError,
    InputIssue,
    InternalError,
    SolveError,
)
from expertmatch.version import __version__
from expertmatch.vocabulary import Rule, Status

if TYPE_CHECKING:
    from expertmatch.api import assign, demo_path, lottery, reassign, reserves
    from expertmatch.domain.eligibility import eligible_pairs, why_ineligible
    from expertmatch.domain.load import from_tables, load
    from expertmatch.domain.problem import Problem
    from expertmatch.domain.rules import Rules
    from expertmatch.domain.text import text_affinity
    from expertmatch.result import Result
    from expertmatch.rounds.history import update_used, write_experts
    from expertmatch.solvers.params import SolveParams
    from expertmatch.synthetic import generate, write_batch
    from expertmatch.verify import Violation, verify

#: Public name -> the module it is imported from on first use.
_LAZY = {
    "assign": "expertmatch.api",
    "demo_path": "expertmatch.api",
    "lottery": "expertmatch.api",
    "reassign": "expertmatch.api",
    "reserves": "expertmatch.api",
    "eligible_pairs": "expertmatch.domain.eligibility",
    "why_ineligible": "expertmatch.domain.eligibility",
    "from_tables": "expertmatch.domain.load",
    "load": "expertmatch.domain.load",
    "Problem": "expertmatch.domain.problem",
    "Rules": "expertmatch.domain.rules",
    "text_affinity": "expertmatch.domain.text",
    "Result": "expertmatch.result",
    "update_used": "expertmatch.rounds.history",
    "write_experts": "expertmatch.rounds.history",
    "SolveParams": "expertmatch.solvers.params",
    "generate": "expertmatch.synthetic",
    "write_batch": "expertmatch.synthetic",
    "Violation": "expertmatch.verify",
    "verify": "expertmatch.verify",
}


def __getattr__(name: str) -> Any:
    """A lazy public name: imported from its module on first use, then kept."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(types.ModuleType):
    """The package's module type: importing the submodule ``expertmatch.verify`` must not
    hide the function ``expertmatch.verify`` (the import system sets the package attribute of
    each submodule it loads; a name of :data:`_LAZY` stays the public function)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "Clash",
    "ExpertMatchError",
    "InfeasibleError",
    "InputError",
    "InputIssue",
    "InternalError",
    "Problem",
    "Result",
    "Rule",
    "Rules",
    "SolveError",
    "SolveParams",
    "Status",
    "Violation",
    "__version__",
    "assign",
    "demo_path",
    "eligible_pairs",
    "from_tables",
    "generate",
    "load",
    "lottery",
    "reassign",
    "reserves",
    "text_affinity",
    "update_used",
    "verify",
    "why_ineligible",
    "write_batch",
    "write_experts",
]

"""expertmatch: assign review experts to S&T projects under conflict-of-interest, coverage,
enterprise-share and load rules, with a proven optimality bound.

    import expertmatch as em
    problem = em.load("batch/")          # folder of CSV files or an .xlsx workbook
    result = em.assign(problem)          # optimal panels, with bound and gap
    assert em.verify(problem, result) == []
"""

__version__ = "0.1.0"

from .api import assign, demo_path, lottery, reassign, reserves
from .errors import (
    Clash,
    ExpertMatchError,
    InfeasibleError,
    InputError,
    InputIssue,
    SolveError,
)
from .generate import generate, write_batch
from .history import update_used, write_experts
from .load import from_tables, load
from .problem import Problem
from .result import Result
from .rules import Rules
from .solve import SolveParams
from .verify import Violation, verify

__all__ = [
    "Clash",
    "ExpertMatchError",
    "InfeasibleError",
    "InputError",
    "InputIssue",
    "Problem",
    "Result",
    "Rules",
    "SolveError",
    "SolveParams",
    "Violation",
    "__version__",
    "assign",
    "demo_path",
    "from_tables",
    "generate",
    "load",
    "lottery",
    "reassign",
    "reserves",
    "update_used",
    "verify",
    "write_batch",
    "write_experts",
]

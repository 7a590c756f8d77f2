"""expertmatch: assign review experts to S&T projects under conflict-of-interest, coverage,
enterprise-share and load rules, with a proven optimality bound.

    import expertmatch as em
    problem = em.load("batch/")          # folder of CSV files or an .xlsx workbook
    result = em.assign(problem)          # optimal panels, with bound and gap
    assert em.verify(problem, result) == []
"""

from expertmatch.api import assign, demo_path, lottery, reassign, reserves
from expertmatch.domain.eligibility import eligible_pairs, why_ineligible
from expertmatch.domain.load import from_tables, load
from expertmatch.domain.problem import Problem
from expertmatch.domain.rules import Rules
from expertmatch.domain.text import text_affinity
from expertmatch.errors import (
    Clash,
    ExpertMatchError,
    InfeasibleError,
    InputError,
    InputIssue,
    InternalError,
    SolveError,
)
from expertmatch.result import Result
from expertmatch.rounds.history import update_used, write_experts
from expertmatch.solvers.params import SolveParams
from expertmatch.synthetic import generate, write_batch
from expertmatch.verify import Violation, verify
from expertmatch.version import __version__
from expertmatch.vocabulary import Rule, Status

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

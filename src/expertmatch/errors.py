"""Errors that reach the office: each names where the problem is and which rule is broken.

Every error the library raises on purpose derives from :class:`ExpertMatchError`, so the CLI
can print it without a traceback and exit non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass


class ExpertMatchError(Exception):
    """Base class of the library's own errors."""


@dataclass(frozen=True)
class InputIssue:
    """One problem in the input: the file, the (1-based, header = row 1) row and the column."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


#: Issues shown in full in an error's message; the rest are counted per file.
SHOWN_ISSUES = 20


class InputError(ExpertMatchError, ValueError):
    """The input cannot be used; ``issues`` lists every problem found, one per entry.

    The message shows the first ``SHOWN_ISSUES`` (they say what is wrong: the issues come file
    by file, row by row) and counts the rest per file, so a truncated file gives a readable
    message, not thousands of follow-on lines; ``issues`` keeps them all.
    """

    def __init__(self, issues: list[InputIssue]):
        self.issues = list(issues)
        lines = [f"- {issue}" for issue in self.issues[:SHOWN_ISSUES]]
        rest: dict[str, int] = {}
        for issue in self.issues[SHOWN_ISSUES:]:
            rest[issue.file] = rest.get(issue.file, 0) + 1
        if rest:
            lines.append(
                "- ... and " + ", ".join(f"{n:,} more in {file}" for file, n in rest.items())
            )
        text = "\n".join(lines)
        super().__init__(f"{len(self.issues):,} problem(s) in the input:\n{text}")


@dataclass(frozen=True)
class Clash:
    """A reason why the rules cannot all hold: the rule, the projects concerned and a message."""

    rule: str
    message: str
    projects: tuple[str, ...] = ()
    suggestion: str = ""
    experts: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"[{self.rule}] {self.message}"
        return text + (f"\n    suggestion: {self.suggestion}" if self.suggestion else "")

    def as_dict(self) -> dict[str, object]:
        """For ``report.json``."""
        return {
            "rule": self.rule,
            "message": self.message,
            "projects": list(self.projects),
            "experts": list(self.experts),
            "suggestion": self.suggestion,
        }


class InfeasibleError(ExpertMatchError):
    """The rules cannot all hold; ``clashes`` names the projects and rules involved."""

    def __init__(self, clashes: list[Clash]):
        self.clashes = list(clashes)
        lines = "\n".join(f"- {clash}" for clash in self.clashes)
        super().__init__(f"the rules cannot all hold:\n{lines}")


class SolveError(ExpertMatchError):
    """No assignment within the time limit: the only meaning of this error (CLI exit 4).

    ``status`` is ``"timeout"``. Rules that cannot hold raise :class:`InfeasibleError`; a fault
    of the library (a check of its own work failing) raises :class:`InternalError`.
    """

    def __init__(self, message: str, status: str = "timeout"):
        self.status = status
        super().__init__(message)


class InternalError(ExpertMatchError):
    """A fault inside expertmatch, not in the input or the rules: a check the library makes of
    its own work failed (e.g. a drawn assignment that breaks a rule). Never reported as
    infeasible or as a timeout; the CLI exits with ``EXIT_INTERNAL`` and asks for a report."""


#: Exit codes of the command line (README, "Exit status").
EXIT_OK, EXIT_VIOLATIONS, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_TIMEOUT = 0, 1, 2, 3, 4
#: An internal fault (:class:`InternalError` or an unexpected exception): 70, sysexits' EX_SOFTWARE.
EXIT_INTERNAL = 70

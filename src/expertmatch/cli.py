"""The ``expertmatch`` command line (see the README for every command and flag).

Exit status: 0 every rule holds; 1 ``verify`` found violations; 2 bad input or usage;
3 the rules cannot all hold (infeasible); 4 no assignment within the time limit; 70 a fault
inside expertmatch (an internal error: please report it).

Each sub-command is a parser builder (``_add_assign``, ...) and a handler (``_cmd_assign``,
...), paired in ``COMMANDS``; options several commands share are defined once (``_add_*``).
:func:`main` turns the library's errors into the exit status.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import logging
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeAlias

from rich.console import Console

from expertmatch.errors import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_VIOLATIONS,
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
    from expertmatch.domain.problem import Problem
    from expertmatch.result import Result
    from expertmatch.rounds.history import Row
    from expertmatch.solvers.params import Progress
    from expertmatch.verify import Violation

# The parsers are built from this module and the light ones above alone, so that ``--help``
# and ``--version`` start fast: every other import (pandas, SciPy, OR-Tools, the solvers)
# happens in the handler that needs it. The choices below repeat the library's own (checked
# by tests/test_startup.py) for the same reason.

#: ``--objective`` choices: ``expertmatch.solvers.enterprise.OBJECTIVES``.
OBJECTIVES = ("total", "fair", "spread", "enterprise")
#: ``--grouping`` choices: ``expertmatch.solvers.meetings.GROUPINGS``.
GROUPINGS = ("search", "hand")
#: ``--bend-order`` default: ``expertmatch.solvers.relax.BEND_ORDER``.
BEND_ORDER: tuple[str, ...] = (
    Rule.MAX_PER_ORG,
    Rule.COVERAGE,
    Rule.QUOTA,
    Rule.ENTERPRISE_SHARE,
    Rule.MAX_LOAD,
    Rule.YEARLY_CAP,
)
#: ``--lang`` choices: ``expertmatch.io.lang.LANGS``.
LANGS = ("en", "zh")

#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
DEFAULT_TIME_LIMIT = 60.0
#: The seed of a deterministic solve (CP-SAT) when ``--seed`` is not given; a random draw
#: without ``--seed`` takes its seed from the operating system instead.
DEFAULT_SEED = 0
SEED_HELP = (
    "random seed (default 0); a random draw (rule max_probability < 1) without --seed takes "
    "its seed from the operating system, prints it and records it in report.json: --seed N "
    "replays that draw"
)


# --- the library's entry points the handlers call, imported on first call -------------------
# (module-level names, so that a test may replace one with ``monkeypatch.setattr(cli, ...)``)


def load(*args: Any, **kwargs: Any) -> Problem:
    """:func:`expertmatch.load`; then the cyclic garbage collector runs again (see
    :func:`_execute`)."""
    from expertmatch.domain.load import load as read

    try:
        return read(*args, **kwargs)
    finally:
        _collect_again()


#: The program runs NumPy's BLAS (OpenBLAS) on one thread unless the user says otherwise:
#: when it loads, OpenBLAS starts a thread per core, which then spin after each call; the
#: solvers do no dense linear algebra worth a second core (0.05-0.1 s of CPU a run saved).
_ONE_BLAS_THREAD = ("OPENBLAS_NUM_THREADS",)

#: Set by :func:`main` when it runs as the program (no ``argv`` given): then the objects
#: alive once the batch is loaded are frozen (see :func:`_collect_again`).
_FREEZE = False


def _collect_again() -> None:
    """Turn the garbage collector back on (off while the libraries and the batch load).

    As the program, first ``gc.freeze()``: the libraries' objects and the batch (a million
    objects) move out of the collector's sight, so no later collection, the last one at exit
    included, walks them again (0.1 s of CPU on a 1k x 3k batch). Not when ``main`` is called
    with arguments (from Python, tests): a frozen object that later becomes cyclic garbage is
    never freed, which only the end of the process makes harmless."""
    if _FREEZE and not gc.isenabled():
        gc.freeze()
    gc.enable()


def assign(*args: Any, **kwargs: Any) -> Result:
    """:func:`expertmatch.assign`."""
    from expertmatch.api import assign as solve

    return solve(*args, **kwargs)


def read_pairs(*args: Any, **kwargs: Any) -> list[Row]:
    """:func:`expertmatch.rounds.history.read_pairs`."""
    from expertmatch.rounds.history import read_pairs as read

    return read(*args, **kwargs)


def verify(*args: Any, **kwargs: Any) -> list[Violation]:
    """:func:`expertmatch.verify`."""
    from expertmatch.verify import verify as check

    return check(*args, **kwargs)


@dataclass(frozen=True)
class Consoles:
    """Where a command writes: results to ``out`` (stdout), messages to ``err`` (stderr)."""

    out: Console
    err: Console


Handler: TypeAlias = Callable[[argparse.Namespace, Consoles], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


# --- options several commands share -------------------------------------------------------


def _add_input(p: argparse.ArgumentParser, text: str | None = None) -> None:
    p.add_argument("input", help=text)


def _add_rules(p: argparse.ArgumentParser, text: str | None = None) -> None:
    p.add_argument("--rules", help=text)


def _add_time_limit(
    p: argparse.ArgumentParser,
    metavar: str | None = "SECONDS",
    text: str | None = "bound on the whole run (default 60)",
) -> None:
    p.add_argument(
        "--time-limit", type=float, default=DEFAULT_TIME_LIMIT, metavar=metavar, help=text
    )


def _add_seed(p: argparse.ArgumentParser, text: str | None = SEED_HELP) -> None:
    p.add_argument("--seed", type=int, default=None, help=text)


def _add_lang(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lang",
        choices=LANGS,
        default="en",
        help="language of the headers and values of the tables written: en (default) or zh "
        "(项目编号, 专家编号, 姓名, 工作单位, 单位性质 企业/高校/..., 阶段 立项/中期/结题验收); "
        "report.json stays English",
    )


def _add_solve_options(p: argparse.ArgumentParser, gap: bool = True) -> None:
    """The options of a solving command: rules, time limit, seed, workers, gap, report, -v."""
    _add_rules(p, "rules.toml replacing INPUT's own rules")
    _add_time_limit(p)
    _add_seed(p)
    p.add_argument(
        "--workers", type=int, default=1, help="CP-SAT threads (default 1: fully deterministic)"
    )
    if gap:
        p.add_argument(
            "--gap",
            type=float,
            default=None,
            help="stop once the proven relative gap is at most this (default 0: optimal; "
            "a random draw's lottery with coverage rules: 0.001)",
        )
    p.add_argument("--report", help="write report.json here")
    _add_lang(p)
    p.add_argument("-v", "--verbose", action="store_true", help="show solver phases")


def _add_relax(p: argparse.ArgumentParser, text: str) -> None:
    """``--relax`` and ``--bend-order`` (assign, reassign)."""
    p.add_argument("--relax", action="store_true", help=text)
    p.add_argument(
        "--bend-order",
        default=",".join(BEND_ORDER),
        help=f"with --relax: rules in the order they may bend, first bends first "
        f"(default {','.join(BEND_ORDER)})",
    )


def _bend_order(args: argparse.Namespace) -> tuple[str, ...]:
    """``--bend-order`` as a checked tuple of rules (refused before any work). The default
    order (the library's, tests/test_startup.py) needs no check, so a run without the flag
    does not import the relaxed solver and its libraries."""
    order = tuple(r.strip() for r in args.bend_order.split(",") if r.strip())
    if order == BEND_ORDER:
        return order
    from expertmatch.solvers.relax import check_order

    return check_order(order)


# --- one parser builder per command --------------------------------------------------------


def _add_assign(sub: Subparsers) -> argparse.ArgumentParser:
    a = sub.add_parser("assign", help="assign experts to every project of a batch")
    _add_input(a, "batch folder or .xlsx workbook")
    a.add_argument(
        "-o",
        "--output",
        required=True,
        help="assignment.csv to write; a name ending .xlsx writes a workbook: the pairs, the "
        "panels (one row a project, printable), a summary per stage and the conflicts record",
    )
    _add_solve_options(a)
    _add_relax(
        a,
        "when the rules cannot all hold, bend the fewest (in --bend-order) and "
        "list every bend; conflicts of interest never bend",
    )
    a.add_argument(
        "--probabilities",
        metavar="FILE",
        help="with rule max_probability < 1: also write each pair's probability "
        "(columns expert, project, probability)",
    )
    a.add_argument(
        "--objective",
        choices=OBJECTIVES,
        default="total",
        help="total: highest total score (default); fair: best worst panel first, then total; "
        "spread: smallest largest load first, then total; enterprise: most enterprise seats "
        "with a score at least (1 - --max-score-loss) x the optimum, then total",
    )
    a.add_argument(
        "--max-score-loss",
        type=float,
        metavar="L",
        help="with --objective enterprise: the share of the optimal total score that may be "
        "given up for enterprise seats, in [0, 1) (default 0.01)",
    )
    a.add_argument(
        "--grouping",
        choices=GROUPINGS,
        help="meeting projects without a group: search (default: from the office's method, "
        "move and swap projects between groups, keep the better seating) or hand (the office's "
        "method alone: sorted by field code, cut into groups of the target size)",
    )
    return a


def _add_demo(sub: Subparsers) -> argparse.ArgumentParser:
    d = sub.add_parser("demo", help="run on the sample batch shipped with the package")
    d.add_argument("-o", "--output-dir", help="also write assignment.csv and report.json here")
    _add_time_limit(d, metavar=None, text=None)
    _add_seed(d, text=None)
    _add_lang(d)
    return d


def _add_verify(sub: Subparsers) -> argparse.ArgumentParser:
    v = sub.add_parser("verify", help="re-check an assignment file against every rule")
    _add_input(v)
    v.add_argument("assignment")
    _add_rules(v)
    v.add_argument(
        "--declined",
        help="declined.csv: verify against the batch with these declines ruled out (a "
        "declined pair is a violation naming the decline)",
    )
    return v


def _add_why(sub: Subparsers) -> argparse.ArgumentParser:
    w = sub.add_parser(
        "why",
        help="why may this expert not review this project? (if they may: the score, its rank "
        "and, with --assignment, what the panel needs them for)",
    )
    _add_input(w)
    w.add_argument("expert")
    w.add_argument("project")
    _add_rules(w)
    w.add_argument(
        "--assignment",
        metavar="FILE",
        help="an assignment.csv: say whether the expert is on the project's panel there and "
        "which rule they help to hold (enterprise seat, a field they cover, ...)",
    )
    w.add_argument("--declined", help="declined.csv: a declined pair is not eligible")
    return w


def _add_score(sub: Subparsers) -> argparse.ArgumentParser:
    s = sub.add_parser(
        "score",
        help="write every pair's score (field codes, keywords and, with papers.csv, text) as "
        "a scores.csv to inspect or edit",
    )
    _add_input(s)
    s.add_argument(
        "-o",
        "--output",
        required=True,
        help="scores.csv to write: expert, project, score (pairs scoring 0 left out, as the "
        "contract reads them), plus field_score and text_score",
    )
    _add_rules(s, "rules.toml replacing INPUT's own rules ([text] weight)")
    return s


def _add_reassign(sub: Subparsers) -> argparse.ArgumentParser:
    r = sub.add_parser(
        "reassign", help="after declines: change the fewest earlier pairs, then score highest"
    )
    _add_input(r)
    r.add_argument("--previous", required=True, help="the earlier assignment.csv")
    r.add_argument(
        "--declined",
        required=True,
        help="declined.csv: expert, project (empty project: unavailable for the whole round)",
    )
    r.add_argument(
        "-o", "--output", required=True, help="new assignment.csv (or .xlsx workbook) to write"
    )
    _add_solve_options(r, gap=False)  # reassign proves each stage optimal or stops at the limit
    _add_relax(
        r,
        "when the rules cannot all hold after the declines, bend the fewest (in "
        "--bend-order), then change the fewest earlier pairs; list every bend; conflicts "
        "and declines never bend",
    )
    return r


def _add_reserves(sub: Subparsers) -> argparse.ArgumentParser:
    s = sub.add_parser("reserves", help="ranked reserve experts per project and whom they replace")
    _add_input(s)
    s.add_argument("--previous", required=True, help="the assignment.csv the reserves back up")
    s.add_argument("-k", type=int, default=3, help="reserves per project (default 3)")
    s.add_argument(
        "-o", "--output", required=True, help="reserves.csv (or .xlsx, one sheet) to write"
    )
    s.add_argument("--declined", help="declined.csv: never propose declined pairs or experts")
    _add_rules(s)
    _add_lang(s)
    return s


def _add_update_used(sub: Subparsers) -> argparse.ArgumentParser:
    u = sub.add_parser(
        "update-used",
        help="add earlier rounds' reviews to each expert's used (yearly cap across rounds)",
    )
    _add_input(u)
    u.add_argument("earlier", nargs="+", help="assignment.csv files of earlier rounds")
    u.add_argument("-o", "--output", required=True, help="updated experts.csv to write")
    u.add_argument(
        "--skip-unknown",
        action="store_true",
        help="skip (and list) reviews by experts who are not in INPUT instead of stopping",
    )
    return u


def _add_report(sub: Subparsers) -> argparse.ArgumentParser:
    r = sub.add_parser(
        "report",
        help="the year's use of enterprise experts: shares by stage and round, use per expert, "
        "short fields and the headroom of INPUT (one printable HTML page)",
    )
    _add_input(r, "the batch (its expert pool; the headroom is this batch's)")
    r.add_argument(
        "rounds", nargs="+", metavar="ROUND", help="assignment.csv of a round, or its folder"
    )
    r.add_argument("-o", "--output", required=True, help="report.html to write")
    r.add_argument("--json", metavar="FILE", help="also write the figures as kpi.json")
    r.add_argument("--xlsx", metavar="FILE", help="also write the figures as a workbook")
    _add_rules(r, "rules.toml replacing INPUT's own rules")
    _add_time_limit(
        r, text="bound on the optimum, and once more on the four headroom points (default 60)"
    )
    r.add_argument(
        "--workers", type=int, default=1, help="CP-SAT threads of the optimum (default 1)"
    )
    return r


# --- one handler per command -----------------------------------------------------------------


def _cmd_assign(args: argparse.Namespace, io: Consoles) -> int:

    start = time.perf_counter()
    _refuse_clashing_paths(args, (args.output, args.report, args.probabilities))
    order = _bend_order(args)
    problem = load(args.input, rules=args.rules)
    _print_notices(io.err, problem)
    args.time_limit = _time_left(args.time_limit, start)
    if args.probabilities and problem.rules.max_probability >= 1:
        raise ExpertMatchError(
            "--probabilities needs the rule max_probability < 1 (a random draw); "
            "set it in rules.toml or --rules"
        )
    result = _solve_assign(args, problem, order, io.err)
    _check_or_die(result)
    result.write(args.output, args.report, args.probabilities, lang=args.lang)
    _print_summary(io.out, result)
    if args.seed is None and result.expected_objective is not None:
        io.err.print(
            f"seed {result.seed} drawn from the operating system (recorded in the report); "
            f"--seed {result.seed} replays this draw",
            markup=False,
        )
    _print_bends(io.err, result)
    return EXIT_OK


def _solve_assign(
    args: argparse.Namespace, problem: Problem, order: tuple[str, ...], err: Console
) -> Result:
    """``assign`` with the command's options; an infeasible batch still gets its report."""

    start = time.perf_counter()
    try:
        with _progress(err) as progress:
            return assign(
                problem,
                time_limit=args.time_limit,
                seed=args.seed,  # None: 0 for CP-SAT, or a draw's seed from the system
                workers=args.workers,
                gap_limit=args.gap,
                progress=progress,
                relax=args.relax,
                bend_order=order if args.relax else None,
                objective=args.objective,
                max_score_loss=args.max_score_loss,
                grouping=args.grouping,
            )
    except InfeasibleError as error:
        if args.report:  # the diagnosis is shown (exit 3) even if the report cannot be written
            try:
                # a random draw stopped before it drew: no seed was drawn (null)
                seed = None if args.seed is None and _draws(problem) else _seed(args.seed)
                _write_infeasible(args.report, problem, error, seed, time.perf_counter() - start)
            except OSError as failed:
                err.print(
                    f"expertmatch: could not write {args.report} ({failed.strerror or failed}); "
                    "the diagnosis follows",
                    markup=False,
                )
        raise


def _cmd_reassign(args: argparse.Namespace, io: Consoles) -> int:
    from expertmatch.api import reassign

    start = time.perf_counter()
    _refuse_clashing_paths(args, (args.output, args.report))
    order = _bend_order(args)
    problem = load(args.input, rules=args.rules)
    _print_notices(io.err, problem)
    result = reassign(
        problem,
        args.previous,
        args.declined,
        time_limit=_time_left(args.time_limit, start),
        seed=_seed(args.seed),
        workers=args.workers,
        relax=args.relax,
        bend_order=order if args.relax else None,
    )
    _check_or_die(result)
    result.write(args.output, args.report, lang=args.lang)
    _print_summary(io.out, result)
    _print_changes(io.out, result.stats)
    _print_bends(io.err, result)
    return EXIT_OK


def _cmd_reserves(args: argparse.Namespace, io: Consoles) -> int:
    from expertmatch.api import reserves
    from expertmatch.io.lang import sheet_name, translate
    from expertmatch.io.workbook import save_table

    _refuse_clashing_paths(args, (args.output,))
    problem = load(args.input, rules=args.rules)
    _print_notices(io.err, problem)
    frame = reserves(problem, args.previous, args.k, declined=args.declined)
    save_table(translate(frame, args.lang), args.output, sheet_name("reserves", args.lang))
    if problem.has_meetings:  # reserves per meeting group
        per_group = frame.groupby("group").size()
        io.out.print(f"{len(frame)} reserves for {per_group.size} meeting group(s) with any")
        return EXIT_OK
    per_project = frame.groupby("project").size().reindex(problem.project_ids, fill_value=0)
    io.out.print(
        f"{len(frame)} reserves for {problem.n_projects} projects (at most {args.k} each; "
        f"{int((per_project < args.k).sum())} projects have fewer, "
        f"{int((per_project == 0).sum())} none)"
    )
    return EXIT_OK


def _cmd_update_used(args: argparse.Namespace, io: Consoles) -> int:
    import numpy as np

    from expertmatch.rounds.history import count_reviews, with_used, write_experts

    _refuse_clashing_paths(args, (args.output,))
    problem = load(args.input)
    added, skipped = count_reviews(args.earlier, problem, "skip" if args.skip_unknown else "error")
    updated = with_used(problem, problem.expert_used + added)
    write_experts(updated, args.input, args.output)
    for row in skipped:
        io.err.print(
            f"skipped {row.label} row {row.row}: expert {row.expert} is not in this batch",
            markup=False,
        )
    over = np.flatnonzero(updated.expert_used > updated.rules.yearly_cap)
    io.out.print(
        f"added {int(added.sum())} earlier reviews for {int((added > 0).sum())} experts; "
        f"{int((updated.expert_capacity == 0).sum())} experts have no review left "
        f"this year" + (f"; {over.size} are already over yearly_cap" if over.size else "")
    )
    return EXIT_OK


def _cmd_report(args: argparse.Namespace, io: Consoles) -> int:
    from expertmatch.io.output import staged
    from expertmatch.io.report_page import write_page
    from expertmatch.io.workbook import save_workbook
    from expertmatch.rounds.kpi import kpi, kpi_sheets
    from expertmatch.solvers.params import SolveParams

    _refuse_clashing_paths(args, (args.output, args.json, args.xlsx))
    problem = load(args.input, rules=args.rules)
    params = SolveParams(time_limit=args.time_limit, workers=args.workers)
    figures = kpi(problem, args.rounds, params)
    write_page(figures, args.output)
    if args.json:
        with staged([args.json]) as (temp,):
            temp.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")
    if args.xlsx:
        save_workbook(kpi_sheets(figures), args.xlsx)
    seats = figures["seats"]
    io.out.print(
        f"{len(args.rounds)} round(s): {seats['enterprise']} of {seats['total']} seats "
        f"({seats['enterprise_share']:.1%}) held by enterprise experts "
        f"({figures['pool']['enterprise_share']:.1%} of the pool); "
        f"{len(figures['short_fields'])} field(s) short of enterprise experts; "
        + (
            "headroom "
            + ", ".join(
                f"{p['enterprise_share']:.1%} at {p['score_loss']:.0%}" for p in figures["headroom"]
            )
            if figures["headroom"]
            else str(figures["headroom_note"])
        ),
        markup=False,
    )
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace, io: Consoles) -> int:
    from expertmatch.api import demo_path

    problem = load(demo_path())
    io.out.print(
        f"Demo batch: {problem.n_projects} projects, {problem.n_experts} experts, "
        f"shipped in {demo_path()}"
    )
    result = assign(problem, time_limit=args.time_limit, seed=args.seed)
    _check_or_die(result)
    if args.output_dir:
        folder = Path(args.output_dir)
        result.write(folder / "assignment.csv", folder / "report.json", lang=args.lang)
    _print_panels(io.out, result)
    _print_summary(io.out, result)
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace, io: Consoles) -> int:
    from expertmatch.rounds.history import read_declines, with_declines

    problem = load(args.input, rules=args.rules)
    if args.declined:  # a declined pair is then a conflict naming the decline
        problem = with_declines(problem, read_declines(args.declined, problem))
    if problem.has_meetings or problem.rules.chair is not None:
        # the group, slot, room and role (who chairs) columns count too
        from expertmatch.rounds.history import read_assignment_table

        violations = verify(problem, read_assignment_table(args.assignment))
    else:
        rows = read_pairs(args.assignment)
        violations = verify(problem, [(row.project, row.expert) for row in rows])
    for violation in violations:
        io.err.print(str(violation), markup=False)
    if violations:
        io.err.print(f"{len(violations)} violation(s)")
        return EXIT_VIOLATIONS
    io.out.print("every rule holds")
    return EXIT_OK


def _cmd_why(args: argparse.Namespace, io: Consoles) -> int:
    from expertmatch.api import why_eligible
    from expertmatch.domain.eligibility import why_ineligible
    from expertmatch.rounds.history import read_declines, with_declines

    problem = load(args.input, rules=args.rules)
    for kind, value, known in (
        ("expert", args.expert, problem.expert_index),
        ("project", args.project, problem.project_index),
    ):
        if value not in known:
            raise InputError([InputIssue(f"{kind}s.csv", f"unknown {kind} {value!r}")])
    if args.declined:
        problem = with_declines(problem, read_declines(args.declined, problem))
    reasons = why_ineligible(problem, args.expert, args.project)
    if not reasons:
        label = Path(args.assignment).name if args.assignment else "the assignment"
        reasons = why_eligible(problem, args.expert, args.project, args.assignment, label)
    for reason in reasons:
        io.out.print(reason, markup=False)
    return EXIT_OK


def _cmd_score(args: argparse.Namespace, io: Consoles) -> int:
    from expertmatch.domain.scoring import score_table
    from expertmatch.domain.text import has_text
    from expertmatch.io.workbook import save_table

    _refuse_clashing_paths(args, (args.output,))
    problem = load(args.input, rules=args.rules)
    frame = score_table(problem)
    save_table(frame, args.output, "scores")
    source = "scores.csv" if problem.supplied_scores is not None else "the built-in score"
    text = " (text included: papers.csv)" if has_text(problem) else ""
    if has_text(problem) and problem.supplied_scores is not None:
        text = " (papers.csv not used: scores.csv gives the scores)"
    io.out.print(
        f"{len(frame)} pairs scoring above 0 of {problem.n_experts * problem.n_projects} "
        f"({problem.n_experts} experts x {problem.n_projects} projects), from {source}{text}",
        markup=False,
    )
    return EXIT_OK


#: Every sub-command, in the order ``--help`` lists them: its parser builder and its handler.
COMMANDS: tuple[tuple[Callable[[Subparsers], argparse.ArgumentParser], Handler], ...] = (
    (_add_assign, _cmd_assign),
    (_add_demo, _cmd_demo),
    (_add_verify, _cmd_verify),
    (_add_why, _cmd_why),
    (_add_score, _cmd_score),
    (_add_reassign, _cmd_reassign),
    (_add_reserves, _cmd_reserves),
    (_add_update_used, _cmd_update_used),
    (_add_report, _cmd_report),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="expertmatch", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"expertmatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add, handler in COMMANDS:
        add(sub).set_defaults(handler=handler)
    return parser


def _print_notices(err: Console, problem: Problem) -> None:
    """What the input allows but probably did not mean (it does not stop the run)."""
    from expertmatch.domain.eligibility import notices

    for note in notices(problem):
        err.print(f"note: {note}", markup=False)


def _print_summary(console: Console, result: Result) -> None:
    s = result.summary()
    console.print(
        f"[bold]{result.status}[/bold]: {s['reviews']} reviews for {s['projects']} "
        f"projects by {s['experts_used']} experts"
    )
    if result.expected_objective is not None:
        console.print(
            f"random draw (seed {result.seed}): this draw scores {result.objective:.2f}; "
            f"the lottery's expected score {result.expected_objective:.2f}  bound "
            f"{result.bound:.2f}  gap {result.gap:.4%}; every pair at most "
            f"{result.max_probability:g} likely  time {result.time_s:.2f} s"
        )
    else:
        console.print(
            f"objective {result.objective:.2f}  bound {result.bound:.2f}  "
            f"gap {result.gap:.4%}  time {result.time_s:.2f} s"
        )
    console.print(
        f"enterprise share {s['enterprise_share']:.1%} overall, lowest panel "
        f"{s['enterprise_share_min_panel']:.1%}; fields covered "
        f"{s['fields_covered']}/{s['fields_to_cover']}; loads "
        f"{s['load_distribution']} (reviews: experts)"
    )


def _print_panels(console: Console, result: Result, limit: int = 5) -> None:
    """The first panels: who reviews what, from where, and why they fit."""
    from rich.table import Table as RichTable

    frame = result.to_frame()
    table = RichTable(title=f"First {limit} of {result.problem.n_projects} panels")
    for column, justify in (
        ("project", "left"),
        ("expert", "left"),
        ("organization", "left"),
        ("type", "left"),
        ("score", "right"),
        ("field", "left"),
        ("covers", "left"),
    ):
        table.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for pid in list(result.problem.project_ids)[:limit]:
        rows = frame[frame["project"] == pid]
        title = str(rows["project_title"].iloc[0])[:10] if len(rows) else ""
        for n, (_, row) in enumerate(rows.iterrows()):
            table.add_row(
                f"{pid} {title}" if n == 0 else "",
                f"{row['expert']} {row['expert_name']}",
                str(row["organization"])[:10],
                row["org_type"],
                f"{row['score']:.2f}",
                f"{row['expert_field']} → {row['matched_field']}",
                row["covers"],
            )
        table.add_section()
    console.print(table)


def _print_bends(err: Console, result: Result) -> None:
    """Every rule a relaxed result bends, by rule and place."""
    for bend in result.bends:
        err.print(f"bent [{bend.rule}] {bend.message}", markup=False)


def _print_changes(out: Console, stats: Mapping[str, Any]) -> None:
    """What ``reassign`` changed: pairs kept, then who left and who joined each panel."""
    out.print(
        f"kept {stats['kept_pairs']} of {stats['previous_pairs']} earlier pairs "
        f"({stats['changed_pairs']} changed, {stats['declines']} decline(s))"
    )
    for change in stats["changes"]:
        out.print(
            f"  {change['project']}: out {', '.join(change['removed']) or '-'}; "
            f"in {', '.join(change['added']) or '-'}",
            markup=False,
        )


def _write_infeasible(
    path: str, problem: Problem, error: InfeasibleError, seed: int | None, time_s: float
) -> None:
    """``report.json`` for a batch whose rules cannot all hold: status and diagnosis."""
    from expertmatch.io.output import staged
    from expertmatch.result import utc_now

    report = {
        "status": Status.INFEASIBLE,
        "created_at": utc_now(),
        "objective": None,
        "bound": None,
        "gap": None,
        "time_s": round(time_s, 3),
        "seed": seed,
        "input_sha256": problem.input_sha256,
        "rules": problem.rules.as_dict(),
        "diagnosis": [c.as_dict() for c in error.clashes],
        "version": __version__,
    }
    with staged([path]) as (temp,):
        temp.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@contextmanager
def _progress(console: Console) -> Iterator[Progress]:
    """A live status line on standard error (terminals only): phase, incumbent, bound."""
    if not console.is_terminal:  # nothing to show: no live display (nor its thread, imports)
        yield lambda phase, incumbent, bound: None
        return
    start = time.perf_counter()
    with console.status("reading the batch and scoring pairs ...") as status:

        def update(phase: str, incumbent: float | None, bound: float | None) -> None:
            parts = [f"{time.perf_counter() - start:6.1f} s  {phase}"]
            if incumbent is not None:
                parts.append(f"incumbent {incumbent:,.2f}")
            if bound is not None:
                parts.append(f"bound {bound:,.2f}")
            status.update("  ".join(parts))

        yield update


# --- paths and time shared by the commands ---------------------------------------------------


def _input_names() -> frozenset[str]:
    """File names a batch folder is read from: an output by one of these names inside the
    input folder would become input of the next run."""
    from expertmatch.io.tables import SCHEMA

    return frozenset(f"{name}.csv" for name in SCHEMA) | {"rules.toml"}


def _input_paths(args: argparse.Namespace) -> list[Path]:
    """Every file the command reads: the batch (its folder's tables, or the workbook), the
    rules, earlier assignments and declines."""
    paths: list[Path] = []
    source = Path(args.input)
    if source.is_dir():
        paths += [source / name for name in sorted(_input_names()) if (source / name).exists()]
    else:
        paths.append(source)
    for name in ("rules", "previous", "declined"):
        if getattr(args, name, None):
            paths.append(Path(getattr(args, name)))
    paths += [Path(p) for p in getattr(args, "earlier", None) or []]
    rounds = getattr(args, "rounds", None) or []
    if rounds:
        from expertmatch.rounds.kpi import round_file

        paths += [round_file(p) for p in rounds]
    return paths


def _real(path: Path) -> Path:
    """The path with links followed as far as they go (a loop or a dangling link stays as it
    is: ``Path.resolve`` would raise on a loop)."""
    return Path(os.path.realpath(path))


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def _refuse_clashing_paths(args: argparse.Namespace, outputs: Sequence[str | None]) -> None:
    """Before any work: no output may be an input (or a table file in the input folder, which
    the next run would read), and no two outputs may be the same file."""
    issues = []
    given = [Path(o) for o in outputs if o]
    folder = _real(Path(args.input)) if Path(args.input).is_dir() else None
    inputs = _input_paths(args)
    for i, out in enumerate(given):
        resolved = _real(out)
        if any(_same(out, source) or resolved == _real(source) for source in inputs) or (
            folder is not None and resolved.parent == folder and out.name in _input_names()
        ):
            issues.append(InputIssue(str(out), "is an input of this run: choose another output"))
        elif any(resolved == _real(other) or _same(out, other) for other in given[:i]):
            issues.append(InputIssue(str(out), "is given for two outputs: choose two files"))
    if issues:
        raise InputError(issues)


def _draws(problem: Problem) -> bool:
    """Is the assignment a random draw (rule ``max_probability < 1``)?"""
    return bool(problem.rules.max_probability < 1)


def _seed(seed: int | None) -> int:
    """``--seed`` as given, else :data:`DEFAULT_SEED` (a command that draws nothing)."""
    return DEFAULT_SEED if seed is None else seed


def _time_left(limit: float, start: float) -> float:
    """The time limit counts the whole run: what loading the batch left of it (a little is
    always left, so the solver can say it ran out of time)."""
    if not (limit > 0 and math.isfinite(limit)):
        raise ValueError(f"time_limit must be a positive number of seconds, not {limit!r}")
    return max(limit - (time.perf_counter() - start), 0.05)


# --- running a command and its exit status ---------------------------------------------------


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; the library's errors propagate (see :func:`main`)."""
    return _execute(_parser().parse_args(argv))


def _execute(args: argparse.Namespace) -> int:
    if getattr(args, "verbose", False):
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    out = Console() if sys.stdout.isatty() else Console(width=140)
    handler: Handler = args.handler
    # Loading the libraries and the batch makes many objects and frees few: collecting
    # garbage meanwhile costs 0.03-0.05 s of CPU and finds little. Back on after the load.
    gc.disable()
    try:
        return handler(args, Consoles(out, Console(stderr=True, soft_wrap=True)))
    finally:
        _collect_again()


def main(argv: Sequence[str] | None = None) -> int:
    """The ``expertmatch`` program: run the command, print any error without a traceback
    (an internal fault's traceback only with ``-v``) and return the exit status."""
    global _FREEZE
    if argv is None:  # the program, before NumPy loads: see _ONE_BLAS_THREAD
        for name in _ONE_BLAS_THREAD:
            os.environ.setdefault(name, "1")
    args = _parser().parse_args(argv)  # bad usage: argparse exits with status 2
    err = Console(stderr=True, soft_wrap=True)
    _FREEZE = argv is None
    try:
        status = _execute(args)
    except KeyboardInterrupt:
        err.print("expertmatch: interrupted; nothing written")
        status = EXIT_INTERRUPTED
    except Exception as error:  # every error ends here, each with its exit status
        status = _report_error(error, err, getattr(args, "verbose", None))
    if argv is None:
        _leave(status)
    return status


def _leave(status: int) -> NoReturn:
    """End the program with ``status`` without tearing the interpreter down: the exit
    handlers run (``atexit``: logging's last flush, finalizers) and both streams are flushed,
    then the process exits and the operating system frees its memory. Freeing a million
    objects and unloading pandas, SciPy, HiGHS and OR-Tools one by one took 0.05-0.1 s of
    every run for nothing. Every file the command writes is complete and closed by now."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe (| head) or stream: nothing to keep
            stream.flush()
    os._exit(status)


def _report_error(error: Exception, err: Console, verbose: bool | None) -> int:
    """Print ``error`` for the office and return its exit status. ``verbose`` is None for a
    command without ``-v``."""
    if isinstance(error, InputError | InfeasibleError):  # they list every issue / clash
        err.print(str(error), markup=False)
        return EXIT_INPUT if isinstance(error, InputError) else EXIT_INFEASIBLE
    if isinstance(error, SolveError) and error.status == Status.TIMEOUT:
        err.print(f"expertmatch: {error}", markup=False)
        return EXIT_TIMEOUT
    if isinstance(error, ExpertMatchError | ValueError | OSError) and not isinstance(
        error, InternalError | SolveError
    ):  # bad input or usage found by the library, a missing or unreadable file
        err.print(f"expertmatch: {error}", markup=False)
        return EXIT_INPUT
    _report_internal(error, err, verbose)
    return EXIT_INTERNAL


def _report_internal(error: Exception, err: Console, verbose: bool | None) -> None:
    """One line for a fault inside expertmatch (an :class:`InternalError`, a SolveError that is
    no timeout, or an unexpected exception); the traceback only with ``-v``."""
    if isinstance(error, ExpertMatchError):
        detail = str(error).removeprefix("internal error: ")
    else:
        detail = f"{type(error).__name__}: {error}"
    hint = " (-v shows the traceback)" if verbose is False else ""
    err.print(
        f"expertmatch: internal error: {' '.join(detail.split())} -- a fault in expertmatch, "
        f"not in the input; please report it with the command and the input{hint}",
        markup=False,
    )
    if verbose:
        err.print("".join(traceback.format_exception(error)), markup=False, end="")


def _check_or_die(result: Result) -> None:
    from expertmatch.verify import unbent

    violations = unbent(verify(result.problem, result), result.bends)
    if violations:  # never hand out an assignment that breaks a rule
        raise InternalError(
            "the solver's assignment breaks rules: " + "; ".join(map(str, violations[:5]))
        )


if __name__ == "__main__":
    sys.exit(main())

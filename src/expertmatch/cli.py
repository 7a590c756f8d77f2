"""The ``expertmatch`` command line (see the README for every command and flag).

Exit status: 0 every rule holds; 1 ``verify`` found violations; 2 bad input or usage;
3 the rules cannot all hold (infeasible); 4 no assignment within the time limit.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table as RichTable

from . import __version__
from .api import assign, demo_path
from .errors import ExpertMatchError, InfeasibleError, InputError, InputIssue, SolveError
from .load import load
from .output import staged
from .problem import Problem
from .relax import BEND_ORDER, check_order
from .result import Result
from .solve import Progress
from .tables import decode_csv, parse_csv
from .verify import verify

EXIT_VIOLATIONS, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_TIMEOUT = 1, 2, 3, 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="expertmatch", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"expertmatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    def solve_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--rules", help="rules.toml replacing INPUT's own rules")
        p.add_argument(
            "--time-limit",
            type=float,
            default=60.0,
            metavar="SECONDS",
            help="bound on the whole run (default 60)",
        )
        p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        p.add_argument(
            "--workers", type=int, default=1, help="CP-SAT threads (default 1: fully deterministic)"
        )
        p.add_argument(
            "--gap",
            type=float,
            default=0.0,
            help="stop once the proven relative gap is at most this (default 0)",
        )
        p.add_argument("--report", help="write report.json here")
        p.add_argument("-v", "--verbose", action="store_true", help="show solver phases")

    a = sub.add_parser("assign", help="assign experts to every project of a batch")
    a.add_argument("input", help="batch folder or .xlsx workbook")
    a.add_argument("-o", "--output", required=True, help="assignment.csv to write")
    solve_options(a)
    a.add_argument(
        "--relax",
        action="store_true",
        help="when the rules cannot all hold, bend the fewest (in --bend-order) and "
        "list every bend; conflicts of interest never bend",
    )
    a.add_argument(
        "--bend-order",
        default=",".join(BEND_ORDER),
        help=f"rules in the order they may bend, first bends first "
        f"(default {','.join(BEND_ORDER)})",
    )
    a.add_argument("--probabilities", help="randomised assignment (not available in this version)")

    d = sub.add_parser("demo", help="run on the sample batch shipped with the package")
    d.add_argument("-o", "--output-dir", help="also write assignment.csv and report.json here")
    d.add_argument("--time-limit", type=float, default=60.0)
    d.add_argument("--seed", type=int, default=0)

    v = sub.add_parser("verify", help="re-check an assignment file against every rule")
    v.add_argument("input")
    v.add_argument("assignment")
    v.add_argument("--rules")

    w = sub.add_parser("why", help="why may this expert not review this project?")
    w.add_argument("input")
    w.add_argument("expert")
    w.add_argument("project")
    w.add_argument("--rules")

    for name in ("reassign", "reserves"):
        x = sub.add_parser(name, help=f"{name} (not available in this version)")
        x.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _print_summary(console: Console, result: Result) -> None:
    s = result.summary()
    console.print(
        f"[bold]{result.status}[/bold]: {s['reviews']} reviews for {s['projects']} "
        f"projects by {s['experts_used']} experts"
    )
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


def _read_assignment(path: str) -> pd.DataFrame:
    file = Path(path)
    if not file.is_file():
        raise InputError([InputIssue(path, "file not found")])
    frame = parse_csv(decode_csv(file.read_bytes(), file.name), file.name).frame
    missing = [c for c in ("project", "expert") if c not in frame.columns]
    if missing:
        raise InputError(
            [InputIssue(file.name, f"required column {c!r} missing", column=c) for c in missing]
        )
    for column in ("project", "expert"):
        frame[column] = [v[1:] if v.startswith("'") else v for v in frame[column]]
    return frame


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Console() if sys.stdout.isatty() else Console(width=140)
    err = Console(stderr=True, soft_wrap=True)
    if getattr(args, "verbose", False):
        logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.command in ("reassign", "reserves"):
        err.print(f"expertmatch {args.command}: not available in this version")
        return EXIT_INPUT
    if args.command == "assign":
        if args.probabilities:
            err.print("expertmatch assign: --probabilities is not available in this version")
            return EXIT_INPUT
        order = tuple(r.strip() for r in args.bend_order.split(",") if r.strip())
        check_order(order)
        problem = load(args.input, rules=args.rules)
        start = time.perf_counter()
        try:
            with _progress(err) as progress:
                result = assign(
                    problem,
                    time_limit=args.time_limit,
                    seed=args.seed,
                    workers=args.workers,
                    gap_limit=args.gap,
                    progress=progress,
                    relax=args.relax,
                    bend_order=order if args.relax else None,
                )
        except InfeasibleError as error:
            if args.report:
                _write_infeasible(
                    args.report, problem, error, args.seed, time.perf_counter() - start
                )
            raise
        _check_or_die(result)
        result.write(args.output, args.report)
        _print_summary(out, result)
        for bend in result.bends:
            err.print(f"bent [{bend.rule}] {bend.message}", markup=False)
        return 0
    if args.command == "demo":
        problem = load(demo_path())
        out.print(
            f"Demo batch: {problem.n_projects} projects, {problem.n_experts} experts, "
            f"shipped in {demo_path()}"
        )
        result = assign(problem, time_limit=args.time_limit, seed=args.seed)
        _check_or_die(result)
        if args.output_dir:
            folder = Path(args.output_dir)
            result.write(folder / "assignment.csv", folder / "report.json")
        _print_panels(out, result)
        _print_summary(out, result)
        return 0
    if args.command == "verify":
        problem = load(args.input, rules=args.rules)
        violations = verify(problem, _read_assignment(args.assignment))
        for violation in violations:
            err.print(str(violation), markup=False)
        if violations:
            err.print(f"{len(violations)} violation(s)")
            return EXIT_VIOLATIONS
        out.print("every rule holds")
        return 0
    if args.command == "why":
        problem = load(args.input, rules=args.rules)
        for kind, value, known in (
            ("expert", args.expert, problem.expert_index),
            ("project", args.project, problem.project_index),
        ):
            if value not in known:
                raise InputError([InputIssue(f"{kind}s.csv", f"unknown {kind} {value!r}")])
        reasons = problem.why_ineligible(args.expert, args.project)
        if not reasons:
            out.print(f"{args.expert} is eligible for {args.project}")
        for reason in reasons:
            out.print(reason, markup=False)
        return 0
    raise AssertionError(args.command)


def _write_infeasible(
    path: str, problem: Problem, error: InfeasibleError, seed: int, time_s: float
) -> None:
    """``report.json`` for a batch whose rules cannot all hold: status and diagnosis."""
    report = {
        "status": "infeasible",
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


def _check_or_die(result: Result) -> None:
    bent = {(b.rule, b.project, b.expert) for b in result.bends}
    violations = [
        v for v in verify(result.problem, result) if (v.rule, v.project, v.expert) not in bent
    ]
    if violations:  # never hand out an assignment that breaks a rule
        raise SolveError(
            "internal error: the solver's assignment breaks rules: "
            + "; ".join(map(str, violations[:5])),
            "infeasible",
        )


def main(argv: Sequence[str] | None = None) -> int:
    err = Console(stderr=True, soft_wrap=True)
    try:
        return run(argv)
    except InputError as error:
        err.print(str(error), markup=False)
        return EXIT_INPUT
    except InfeasibleError as error:
        err.print(str(error), markup=False)
        return EXIT_INFEASIBLE
    except SolveError as error:
        err.print(f"expertmatch: {error}", markup=False)
        return EXIT_TIMEOUT
    except ExpertMatchError as error:
        err.print(f"expertmatch: {error}", markup=False)
        return EXIT_INPUT
    except (ValueError, OSError) as error:
        err.print(f"expertmatch: {error}", markup=False)
        return EXIT_INPUT
    except KeyboardInterrupt:
        err.print("expertmatch: interrupted; nothing written")
        return 130


if __name__ == "__main__":
    sys.exit(main())

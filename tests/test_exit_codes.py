"""The command line's exit status, each on a real case: 0 every rule holds, 1 ``verify`` found
violations, 2 bad input or usage, 3 the rules cannot all hold, 4 no assignment within the time
limit, 70 a fault inside expertmatch (one line asking for a report; a traceback only with
``-v``). And the library side: a staged CP-SAT solve that finds the rules cannot hold raises
InfeasibleError, never SolveError (which only means a timeout)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

import expertmatch as em
import expertmatch.cli as cli
from expertmatch.errors import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_VIOLATIONS,
)
from expertmatch.formulation.cpsat import SatModel
from expertmatch.solvers.ordered import GOALS, solve_in_order
from expertmatch.solvers.params import SolveParams
from expertmatch.verify import Violation

DEMO = str(em.demo_path())


def demo_with(tmp_path: Path, *rules: str) -> Path:
    """A copy of the demo batch with ``rules`` lines replacing or adding top-level rules
    (written before the first table, ``[stage.acceptance]``, so that they stay top-level)."""
    folder = tmp_path / "batch"
    shutil.copytree(em.demo_path(), folder)
    path = folder / "rules.toml"
    names = {line.split("=")[0].strip() for line in rules}
    lines = path.read_text(encoding="utf-8").splitlines()
    first_table = next(i for i, line in enumerate(lines) if line.startswith("["))
    top = [line for line in lines[:first_table] if line.split("=")[0].strip() not in names]
    path.write_text("\n".join([*top, *rules, *lines[first_table:]]) + "\n", encoding="utf-8")
    return folder


def too_few_reviews() -> em.Problem:
    """The demo batch with only max_load 1 as rules (``rules=`` replaces rules.toml): 200
    reviews wanted, at most 193 to give by the experts eligible for some project."""
    return em.load(em.demo_path(), rules={"max_load": 1})


def test_the_codes_are_the_readme_s() -> None:
    assert (EXIT_OK, EXIT_VIOLATIONS, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_TIMEOUT) == (0, 1, 2, 3, 4)
    assert EXIT_INTERNAL == 70


@pytest.fixture(scope="module")
def assignment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("assigned") / "assignment.csv"
    assert cli.main(["assign", DEMO, "-o", str(out)]) == EXIT_OK
    return out


def test_ok_and_violations(assignment: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert cli.main(["verify", DEMO, str(assignment)]) == EXIT_OK
    lines = assignment.read_text(encoding="utf-8-sig").splitlines()
    broken = tmp_path / "broken.csv"
    broken.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # one review short
    capsys.readouterr()
    assert cli.main(["verify", DEMO, str(broken)]) == EXIT_VIOLATIONS
    assert "violation(s)" in capsys.readouterr().err


def test_bad_input_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "o.csv"
    assert cli.main(["assign", str(tmp_path / "nowhere"), "-o", str(out)]) == EXIT_INPUT
    assert "no such folder or workbook" in capsys.readouterr().err
    bad = demo_with(tmp_path, "panel_size = 0")
    assert cli.main(["assign", str(bad), "-o", str(out)]) == EXIT_INPUT
    assert "panel_size" in capsys.readouterr().err
    assert cli.main(["assign", DEMO, "-o", str(out), "--bend-order", "coverage", "--relax"]) == 2
    with pytest.raises(SystemExit) as info:
        cli.main(["assign", DEMO])  # -o is required
    assert info.value.code == EXIT_INPUT
    assert not out.exists()


def test_infeasible_prints_the_diagnosis(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    folder = demo_with(tmp_path, "max_load = 1")
    out, report = tmp_path / "o.csv", tmp_path / "report.json"
    code = cli.main(["assign", str(folder), "-o", str(out), "--report", str(report)])
    assert code == EXIT_INFEASIBLE
    err = capsys.readouterr().err
    assert "the rules cannot all hold" in err and "[load]" in err and "Traceback" not in err
    assert not out.exists()
    assert json.loads(report.read_text(encoding="utf-8"))["status"] == "infeasible"


def test_infeasible_with_a_staged_objective(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    folder = demo_with(tmp_path, "max_load = 1")
    code = cli.main(["assign", str(folder), "-o", str(tmp_path / "o.csv"), "--objective", "fair"])
    assert code == EXIT_INFEASIBLE
    assert "[load]" in capsys.readouterr().err


def test_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No assignment within the time limit is exit 4. The solver is made to run out of time
    (a real 0.01 s limit is a race: a capped lottery with its gap may or may not be found
    that fast)."""
    folder = demo_with(tmp_path, "max_probability = 0.5")
    out = tmp_path / "o.csv"
    monkeypatch.setattr(
        cli,
        "assign",
        raiser(em.SolveError("no lottery keeping max_probability was found within the time limit")),
    )
    code = cli.main(["assign", str(folder), "-o", str(out), "--time-limit", "0.01"])
    assert code == EXIT_TIMEOUT
    err = capsys.readouterr().err
    assert "within the time limit" in err and "Traceback" not in err
    assert not out.exists()


def raiser(error: BaseException) -> Callable[..., NoReturn]:
    """A stand-in that raises ``error`` whatever it is called with."""

    def fail(*args: object, **kwargs: object) -> NoReturn:
        raise error

    return fail


@pytest.mark.parametrize(
    "error",
    [
        em.InternalError("a drawn assignment breaks a rule"),
        RuntimeError("something nobody expected"),
        KeyError("missing"),
        em.SolveError("internal error: a dependent rounding broke a rule", "infeasible"),
    ],
    ids=["InternalError", "RuntimeError", "KeyError", "SolveError-not-a-timeout"],
)
def test_internal_fault_is_70_one_line_no_traceback(
    error: Exception,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cli, "assign", raiser(error))
    out = tmp_path / "o.csv"
    assert cli.main(["assign", DEMO, "-o", str(out)]) == EXIT_INTERNAL
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("expertmatch: internal error: ")
    assert "please report it" in lines[0] and "-v shows the traceback" in lines[0]
    assert "internal error: internal error" not in lines[0]
    assert "Traceback" not in captured.err and not out.exists()


def test_internal_fault_traceback_only_with_verbose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "assign", raiser(RuntimeError("boom")))
    code = cli.main(["assign", DEMO, "-o", str(tmp_path / "o.csv"), "-v"])
    assert code == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err and "please report it" in err
    assert "Traceback (most recent call last)" in err


def test_internal_fault_in_a_command_without_verbose(
    assignment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "verify", raiser(AttributeError("no such thing")))
    assert cli.main(["verify", DEMO, str(assignment)]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "AttributeError: no such thing" in err and "please report it" in err
    assert "-v" not in err and "Traceback" not in err  # verify has no -v


def test_an_assignment_that_breaks_a_rule_is_an_internal_fault(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI re-checks every assignment before writing it; a failed check is a fault of
    the solver (70), neither an infeasible batch (3) nor a timeout (4)."""
    broken = Violation("max_load", "E001 reviews 7 projects, max_load 6", expert="E001")
    monkeypatch.setattr(cli, "verify", lambda problem, assignment: [broken])
    out, report = tmp_path / "o.csv", tmp_path / "report.json"
    assert cli.main(["assign", DEMO, "-o", str(out), "--report", str(report)]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "the solver's assignment breaks rules" in err and "E001" in err
    assert not out.exists() and not report.exists()


# --- the library: infeasibility in a staged solve is InfeasibleError ---------------------------


def test_a_staged_solve_raises_infeasible_not_solve_error() -> None:
    problem = too_few_reviews()
    with pytest.raises(em.InfeasibleError) as caught:
        solve_in_order(problem, SolveParams(time_limit=30), [], method="test")
    assert not isinstance(caught.value, em.SolveError)
    assert [c.rule for c in caught.value.clashes] == ["combined"]
    assert "cannot all hold" in str(caught.value)


def test_one_stage_raises_infeasible() -> None:
    m = SatModel.build(too_few_reviews())
    with pytest.raises(em.InfeasibleError):
        m.stage("score", m.score(), True, SolveParams(time_limit=30), 30)


def test_the_staged_solve_asks_for_the_full_diagnosis() -> None:
    problem = too_few_reviews()
    calls = []
    with pytest.raises(em.InfeasibleError):  # on_infeasible returned: the stage's own error
        solve_in_order(
            problem,
            SolveParams(time_limit=30),
            [],
            method="test",
            on_infeasible=lambda: calls.append(1),
        )
    assert calls == [1]
    with pytest.raises(em.InfeasibleError) as caught:
        solve_in_order(
            problem,
            SolveParams(time_limit=30),
            [GOALS["fair"]],
            method="test",
            on_infeasible=lambda: em.assign(problem),
        )
    assert "load" in [c.rule for c in caught.value.clashes]


def test_fair_objective_on_an_infeasible_batch_raises_infeasible() -> None:
    with pytest.raises(em.InfeasibleError) as caught:
        em.assign(too_few_reviews(), objective="fair")
    assert caught.value.clashes and not isinstance(caught.value, em.SolveError)


def test_reassign_on_an_infeasible_batch_raises_the_diagnosis(demo_result: em.Result) -> None:
    """The fast path (keep every earlier pair) finds no completion, the full model neither:
    the exact solver's diagnosis is raised, not a SolveError."""
    with pytest.raises(em.InfeasibleError) as caught:
        em.reassign(too_few_reviews(), demo_result, [], time_limit=30)
    assert "load" in [c.rule for c in caught.value.clashes]

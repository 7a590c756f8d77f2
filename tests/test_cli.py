"""The command line, run in-process through ``expertmatch.cli.main`` (plus one run of the
installed ``expertmatch`` console script): exit codes, files written or not, and what the
office reads on standard error."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import expertmatch as em
from expertmatch.cli import main
from tests.batches import TWO_PROJECT_RULES, read_rows, two_project_tables, write_tables

DEMO = str(em.demo_path())
REPORT_KEYS = {
    "status",
    "objective",
    "bound",
    "gap",
    "time_s",
    "seed",
    "input_sha256",
    "rules",
    "summary",
}


@pytest.fixture(autouse=True)
def _fixed_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich sizes its output from COLUMNS; make every run see the same (unset) value."""
    monkeypatch.delenv("COLUMNS", raising=False)


def flat(text: str) -> str:
    """Whitespace-normalised text (the console may wrap long lines)."""
    return " ".join(text.split())


def two_project_folder(folder: Path, rules: str = TWO_PROJECT_RULES, **changes: object) -> Path:
    """The two-project batch written to ``folder``, with whole tables replaced by ``changes``."""
    tables = two_project_tables()
    tables.update(changes)  # type: ignore[arg-type]
    return write_tables(folder, tables, rules=rules)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("demo_run")
    code = main(
        [
            "assign",
            DEMO,
            "-o",
            str(out / "out.csv"),
            "--report",
            str(out / "rep.json"),
            "--seed",
            "3",
        ]
    )
    return {"code": code, "dir": out, "csv": out / "out.csv", "report": out / "rep.json"}


# -- assign on the demo ---------------------------------------------------------------------


def test_assign_demo_exit_0_and_files(demo_run: dict) -> None:
    """`assign` on the demo exits 0 and writes exactly the assignment and the report."""
    assert demo_run["code"] == 0
    assert sorted(p.name for p in demo_run["dir"].iterdir()) == ["out.csv", "rep.json"]


def _finance_experts(problem: em.Problem) -> set[str]:
    """The demo's finance experts (roles finance): its finance quota seats them whatever
    their score."""
    roles = problem.attribute("roles")
    return {e for e, r in zip(problem.expert_ids, roles, strict=True) if "finance" in r}


def _projects_of_stage(problem: em.Problem, stage: str) -> set[str]:
    return {p for p, s in zip(problem.project_ids, problem.stages, strict=True) if s == stage}


def test_assignment_csv_columns_and_panels(demo_run: dict) -> None:
    """The assignment CSV has the documented columns and full, distinct panels of scored pairs."""
    frame = pd.read_csv(
        demo_run["csv"], encoding="utf-8-sig", dtype={"project": str, "expert": str}
    )
    assert list(frame.columns[:3]) == ["project", "expert", "score"]
    assert {
        "project_title",
        "expert_name",
        "organization",
        "org_type",
        "matched_field",
        "why",
    } <= set(frame.columns)
    problem = em.load(DEMO)
    sizes = frame.groupby("project").size()
    assert sizes.to_dict() == dict(
        zip(problem.project_ids, problem.project_panel_size.tolist(), strict=True)
    )
    assert not frame.duplicated(["project", "expert"]).any()
    assert (frame["score"] >= 0).all()
    # a pair scores 0 only when the finance quota (any_field) seats a finance expert on an
    # acceptance panel; every other pair scores above min_score
    zero = frame[frame["score"] <= 0]
    assert not zero.empty
    assert set(zero["expert"]) <= _finance_experts(problem)
    assert set(zero["project"]) <= _projects_of_stage(problem, "acceptance")


def test_report_contents(demo_run: dict) -> None:
    """report.json holds status, bound, gap, seed, input hash, rules and a consistent summary."""
    report = json.loads(demo_run["report"].read_text(encoding="utf-8"))
    assert set(report) >= REPORT_KEYS
    assert report["status"] == "optimal"
    assert report["seed"] == 3
    assert len(report["input_sha256"]) == 64
    int(report["input_sha256"], 16)
    assert report["bound"] >= report["objective"] - 1e-6
    assert report["gap"] == pytest.approx(
        max(0.0, (report["bound"] - report["objective"]) / report["bound"]), abs=1e-7
    )
    assert report["gap"] <= 1e-6
    assert report["time_s"] >= 0
    assert report["rules"]["panel_size"] == 5
    assert report["rules"]["enterprise_min_share"] == "1/3"
    assert report["rules"]["reference_year"] == 2026
    summary = report["summary"]
    for key in (
        "enterprise_share",
        "enterprise_share_min_panel",
        "load_distribution",
        "max_load",
        "fields_to_cover",
        "fields_covered",
    ):
        assert key in summary, key
    assert summary["enterprise_share_min_panel"] >= 1 / 3 - 1e-9
    assert summary["fields_covered"] == summary["fields_to_cover"]
    assert summary["max_load"] <= 6
    frame = pd.read_csv(demo_run["csv"], encoding="utf-8-sig")
    assert summary["reviews"] == len(frame)
    loads = frame["expert"].value_counts()
    assert summary["max_load"] == loads.max()


def test_objective_is_sum_of_scores(demo_run: dict) -> None:
    """The reported objective is the sum of the assignment's scores."""
    report = json.loads(demo_run["report"].read_text(encoding="utf-8"))
    frame = pd.read_csv(demo_run["csv"], encoding="utf-8-sig")
    assert math.isclose(frame["score"].sum(), report["objective"], abs_tol=1e-4)


def test_demo_assignment_passes_verify(demo_run: dict, capsys: pytest.CaptureFixture) -> None:
    """`verify` accepts the demo assignment, silently on standard error."""
    assert main(["verify", DEMO, str(demo_run["csv"])]) == 0
    captured = capsys.readouterr()
    assert "every rule holds" in captured.out
    assert captured.err == ""


def test_same_seed_same_bytes_and_seed_recorded(tmp_path: Path) -> None:
    """Two runs with the same seed write byte-identical assignments and record the seed."""
    runs = []
    for k in range(2):
        out, rep = tmp_path / f"a{k}.csv", tmp_path / f"r{k}.json"
        assert main(["assign", DEMO, "-o", str(out), "--report", str(rep), "--seed", "11"]) == 0
        runs.append((out.read_bytes(), json.loads(rep.read_text(encoding="utf-8"))))
    assert runs[0][0] == runs[1][0]
    assert runs[0][1]["seed"] == runs[1][1]["seed"] == 11
    assert runs[0][1]["input_sha256"] == runs[1][1]["input_sha256"]
    assert runs[0][1]["objective"] == runs[1][1]["objective"]


def test_rules_flag_overrides_folder_rules(tmp_path: Path) -> None:
    """`--rules` replaces the folder's rules.toml for `assign` and `verify`."""
    folder = two_project_folder(tmp_path / "batch")
    other = tmp_path / "other.toml"
    other.write_text(
        TWO_PROJECT_RULES.replace("panel_size = 2", "panel_size = 3"), encoding="utf-8"
    )
    out, rep = tmp_path / "out.csv", tmp_path / "rep.json"
    assert main(["assign", str(folder), "-o", str(out), "--report", str(rep)]) == 0
    assert len(read_rows(out)) == 4  # folder rules: 2 projects x 2
    assert (
        main(["assign", str(folder), "-o", str(out), "--report", str(rep), "--rules", str(other)])
        == 0
    )
    rows = read_rows(out)
    assert len(rows) == 6  # other.toml: 2 projects x 3
    assert json.loads(rep.read_text(encoding="utf-8"))["rules"]["panel_size"] == 3
    assert main(["verify", str(folder), str(out), "--rules", str(other)]) == 0
    assert main(["verify", str(folder), str(out)]) == 1  # 3 per panel breaks panel_size = 2


def test_input_hash_follows_the_input(tmp_path: Path) -> None:
    """The input hash is the same for the same batch and changes when a cell changes."""

    def sha(folder: Path) -> str:
        rep = folder.parent / f"{folder.name}.json"
        assert (
            main(["assign", str(folder), "-o", str(folder.parent / "o.csv"), "--report", str(rep)])
            == 0
        )
        return json.loads(rep.read_text(encoding="utf-8"))["input_sha256"]

    tables = two_project_tables()
    a = sha(two_project_folder(tmp_path / "a"))
    assert sha(two_project_folder(tmp_path / "b")) == a
    tables["experts"][4]["keywords"] = "机器视觉"
    assert sha(two_project_folder(tmp_path / "c", experts=tables["experts"])) != a


# -- bad input ------------------------------------------------------------------------------


def _assert_nothing_written(folder: Path) -> None:
    assert list(folder.iterdir()) == [], f"left behind: {list(folder.iterdir())}"


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("max_load", "abc", "experts.csv, row 3, column max_load: 'abc' is not a whole number"),
        ("organization", "U9", "experts.csv, row 3, column organization: unknown organization"),
        ("fields", "520..10", "experts.csv, row 3, column fields: malformed field code"),
    ],
)
def test_bad_input_exit_2_names_location_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture, column: str, value: str, expected: str
) -> None:
    """Bad input exits 2, names file, row and column, and writes nothing."""
    tables = two_project_tables()
    tables["experts"][1][column] = value
    folder = two_project_folder(tmp_path / "batch", experts=tables["experts"])
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code = main(
        [
            "assign",
            str(folder),
            "-o",
            str(out_dir / "out.csv"),
            "--report",
            str(out_dir / "rep.json"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert expected in flat(captured.err)
    assert "Traceback" not in captured.err
    assert captured.out == ""
    _assert_nothing_written(out_dir)
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{n}.csv" for n in tables] + ["rules.toml"]
    )


def test_bad_input_keeps_previous_output(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Bad input leaves earlier output files untouched."""
    folder = two_project_folder(
        tmp_path / "batch", rules=TWO_PROJECT_RULES.replace("max_per_org = 1", "max_per_org = 0")
    )
    out, rep = tmp_path / "out.csv", tmp_path / "rep.json"
    out.write_text("old\n")
    rep.write_text("{}\n")
    assert main(["assign", str(folder), "-o", str(out), "--report", str(rep)]) == 2
    err = flat(capsys.readouterr().err)
    assert "rules.toml" in err and "max_per_org" in err
    assert out.read_text() == "old\n" and rep.read_text() == "{}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["batch", "out.csv", "rep.json"]


def test_missing_input_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A missing folder or a missing required file exits 2 and names it, without a traceback."""
    assert main(["assign", str(tmp_path / "nowhere"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "nowhere" in flat(capsys.readouterr().err)
    folder = two_project_folder(tmp_path / "batch")
    (folder / "projects.csv").unlink()
    assert main(["assign", str(folder), "-o", str(tmp_path / "o.csv")]) == 2
    captured = capsys.readouterr()
    assert "projects.csv" in captured.err and "Traceback" not in captured.err
    assert not (tmp_path / "o.csv").exists()


def test_bad_option_values_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """An invalid --time-limit or --seed exits 2, names the option and writes nothing."""
    out = tmp_path / "o.csv"
    assert main(["assign", DEMO, "-o", str(out), "--time-limit", "0"]) == 2
    assert "time_limit" in capsys.readouterr().err
    assert main(["assign", DEMO, "-o", str(out), "--seed", "-1"]) == 2
    assert "seed" in capsys.readouterr().err
    assert not out.exists()


def test_huge_number_is_bad_input_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """A number too large for an integer is bad input (exit 2), not a crash."""
    tables = two_project_tables()
    tables["experts"][0]["max_load"] = "99999999999999999999"
    folder = two_project_folder(tmp_path / "batch", experts=tables["experts"])
    assert main(["assign", str(folder), "-o", str(tmp_path / "o.csv")]) == 2
    assert "max_load" in capsys.readouterr().err


def test_error_lines_are_not_wrapped(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Each input error is printed on one unwrapped line."""
    tables = two_project_tables()
    long_id = "ORGANIZATION_WITH_A_VERY_LONG_IDENTIFIER_NOT_LISTED_ANYWHERE"
    tables["experts"][0]["organization"] = long_id
    folder = two_project_folder(tmp_path / "batch", experts=tables["experts"])
    assert main(["assign", str(folder), "-o", str(tmp_path / "o.csv")]) == 2
    lines = capsys.readouterr().err.splitlines()
    expected = (
        f"- experts.csv, row 2, column organization: unknown organization "
        f"'{long_id}' (not in organizations.csv)"
    )
    assert expected in lines


# -- infeasible -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "project", "rule"),
    [
        # P2's only eligible enterprise expert is E4 (E3 works for the applicant C1)
        ({"rules": TWO_PROJECT_RULES.replace('"1/3"', "1")}, "P2", "enterprise_share"),
        # P1 has 3 eligible experts (E1 same_org, E2 team)
        ({"panel": 4}, "P1", "panel_size"),
    ],
    ids=["enterprise_min_share=1", "panel_size>eligible"],
)
def test_infeasible_exit_3_names_project_and_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture, change: dict, project: str, rule: str
) -> None:
    """An infeasible batch exits 3, names project and rule, and reports only the diagnosis."""
    tables = two_project_tables()
    if "panel" in change:
        tables["projects"][0]["panel_size"] = str(change["panel"])
    folder = write_tables(tmp_path / "batch", tables, rules=change.get("rules", TWO_PROJECT_RULES))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code = main(
        ["assign", str(folder), "-o", str(out_dir / "a.csv"), "--report", str(out_dir / "r.json")]
    )
    captured = capsys.readouterr()
    assert code == 3
    err = flat(captured.err)
    assert f"[{rule}]" in err and project in err
    assert "Traceback" not in captured.err
    # No assignment; the report asked for records the diagnosis (and nothing else is left).
    assert sorted(p.name for p in out_dir.iterdir()) == ["r.json"]
    report = json.loads((out_dir / "r.json").read_text(encoding="utf-8"))
    assert report["status"] == "infeasible"
    assert any(d["rule"] == rule and project in d["projects"] for d in report["diagnosis"])


# -- verify ---------------------------------------------------------------------------------


def _assignment(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.write_text("project,expert\n" + "".join(f"{p},{e}\n" for p, e in pairs), encoding="utf-8")
    return path


def test_verify_hand_made_valid(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`verify` accepts a hand-made valid assignment."""
    folder = two_project_folder(tmp_path / "batch")
    good = _assignment(
        tmp_path / "good.csv", [("P1", "E3"), ("P1", "E5"), ("P2", "E2"), ("P2", "E4")]
    )
    assert main(["verify", str(folder), str(good)]) == 0
    assert "every rule holds" in capsys.readouterr().out


def test_verify_hand_made_broken(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`verify` exits 1 and names each broken rule of a hand-made assignment."""
    folder = two_project_folder(tmp_path / "batch")
    # P1: E1 works for the applicant and nobody is from an enterprise; P2: one expert only
    bad = _assignment(tmp_path / "bad.csv", [("P1", "E1"), ("P1", "E5"), ("P2", "E4")])
    assert main(["verify", str(folder), str(bad)]) == 1
    captured = capsys.readouterr()
    err = flat(captured.err)
    assert "[conflict] P1 E1: same_org" in err
    assert "[enterprise_share] P1: 0 enterprise experts, needs 1" in err
    assert "[panel_size] P2: panel has 1 experts, needs 2" in err
    assert "3 violation(s)" in err
    assert "every rule holds" not in captured.out


def test_verify_max_per_org_and_load(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`verify` names an organization over its cap and an expert over max_load."""
    tables = two_project_tables()
    tables["experts"][4]["organization"] = "C2"  # E5 joins E4's organization
    tables["experts"][3]["max_load"] = "1"
    folder = two_project_folder(tmp_path / "batch", experts=tables["experts"])
    bad = _assignment(
        tmp_path / "bad.csv", [("P1", "E4"), ("P1", "E5"), ("P2", "E4"), ("P2", "E2")]
    )
    assert main(["verify", str(folder), str(bad)]) == 1
    err = flat(capsys.readouterr().err)
    assert "[max_per_org] P1" in err
    assert "[max_load]" in err and "E4" in err


def test_verify_unknown_ids_and_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`verify` names unknown ids (exit 1) and refuses a file without the columns (exit 2)."""
    folder = two_project_folder(tmp_path / "batch")
    bad = _assignment(
        tmp_path / "bad.csv", [("P1", "E3"), ("P1", "E99"), ("P2", "E2"), ("P2", "E4")]
    )
    assert main(["verify", str(folder), str(bad)]) == 1
    assert "unknown expert 'E99'" in flat(capsys.readouterr().err)
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("project,reviewer\nP1,E3\n", encoding="utf-8")
    assert main(["verify", str(folder), str(nocol)]) == 2
    assert "required column 'expert' missing" in flat(capsys.readouterr().err)
    assert main(["verify", str(folder), str(tmp_path / "absent.csv")]) == 2


# -- why ------------------------------------------------------------------------------------


def test_why_prints_reasons(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`why` prints each reason a pair is excluded, or that it is eligible."""
    folder = two_project_folder(tmp_path / "batch")
    assert main(["why", str(folder), "E1", "P1"]) == 0
    out = flat(capsys.readouterr().out)
    assert "same_org" in out and "U1" in out
    assert main(["why", str(folder), "E2", "P1"]) == 0
    assert "team" in capsys.readouterr().out
    assert main(["why", str(folder), "E3", "P1"]) == 0
    assert "E3 is eligible for P1" in capsys.readouterr().out
    assert main(["why", str(folder), "E42", "P1"]) == 2
    assert "unknown expert 'E42'" in flat(capsys.readouterr().err)


# -- spreadsheet safety ---------------------------------------------------------------------


def test_formula_titles_are_neutralised(tmp_path: Path) -> None:
    """Cells a spreadsheet would run as formulas are quoted, and the file still verifies."""
    tables = two_project_tables()
    tables["projects"][0]["title"] = "=cmd|' /C calc'!A0"
    tables["projects"][1]["title"] = "@SUM(1+1)"
    tables["experts"][2]["name"] = "+郑磊"
    folder = two_project_folder(
        tmp_path / "batch", projects=tables["projects"], experts=tables["experts"]
    )
    out = tmp_path / "out.csv"
    assert main(["assign", str(folder), "-o", str(out)]) == 0
    rows = read_rows(out)
    titles = {r["project"]: r["project_title"] for r in rows}
    assert titles == {"P1": "'=cmd|' /C calc'!A0", "P2": "'@SUM(1+1)"}
    names = {r["expert_name"] for r in rows if r["expert"] == "E3"}
    assert names <= {"'+郑磊"}
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "@")), value
    assert main(["verify", str(folder), str(out)]) == 0  # the safe file still verifies


def test_formula_ids_round_trip_through_verify(tmp_path: Path) -> None:
    """An id that starts like a formula is quoted in the output and still verifies."""
    tables = two_project_tables()
    tables["projects"][0]["id"] = "-P1"
    tables["members"] = [{"project": "-P1", "person": "E2"}]
    folder = two_project_folder(
        tmp_path / "batch", projects=tables["projects"], members=tables["members"]
    )
    out = tmp_path / "out.csv"
    assert main(["assign", str(folder), "-o", str(out)]) == 0
    assert {r["project"] for r in read_rows(out)} == {"'-P1", "P2"}
    assert main(["verify", str(folder), str(out)]) == 0


# -- usage ----------------------------------------------------------------------------------


def test_unknown_flag_is_usage_error(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    """An unknown flag, a missing -o or no command is a usage error (exit 2) writing nothing."""
    with pytest.raises(SystemExit) as info:
        main(["assign", DEMO, "-o", str(tmp_path / "o.csv"), "--frobnicate"])
    assert info.value.code == 2
    assert "--frobnicate" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["assign", DEMO])  # -o is required
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    assert list(tmp_path.iterdir()) == []


def test_demo_in_process_writes_output_dir(tmp_path: Path, capsys: pytest.CaptureFixture):
    """`demo -o` writes the assignment and report, and the assignment verifies."""
    assert main(["demo", "-o", str(tmp_path / "demo_out")]) == 0
    assert "Demo batch" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "demo_out").iterdir()) == [
        "assignment.csv",
        "report.json",
    ]
    assert main(["verify", DEMO, str(tmp_path / "demo_out" / "assignment.csv")]) == 0


def _console_script() -> str:
    sibling = Path(sys.executable).with_name("expertmatch")
    if sibling.exists():
        return str(sibling)
    found = shutil.which("expertmatch")
    assert found, "the expertmatch console script is not installed"
    return found


@pytest.mark.slow
def test_console_script_demo() -> None:
    """The installed `expertmatch` console script runs the demo to optimality."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    proc = subprocess.run(
        [_console_script(), "demo", "--time-limit", "60"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Demo batch: 40 projects, 170 experts" in proc.stdout
    assert "optimal" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_report_holds_the_audit_trail_of_every_pair(tmp_path: Path) -> None:
    """report.json lists every pair of the assignment in order, with its score and why."""
    out, rep = tmp_path / "a.csv", tmp_path / "r.json"
    assert main(["assign", DEMO, "-o", str(out), "--report", str(rep), "--seed", "4"]) == 0
    report = json.loads(rep.read_text(encoding="utf-8"))
    frame = pd.read_csv(out, encoding="utf-8-sig", dtype={"project": str, "expert": str})
    assert [(p["project"], p["expert"]) for p in report["pairs"]] == list(
        zip(frame["project"], frame["expert"], strict=True)
    )
    finance = _finance_experts(em.load(DEMO))
    assert all(p["why"] and (p["score"] > 0 or p["expert"] in finance) for p in report["pairs"])
    assert report["seed"] == 4 and report["version"] == em.__version__

"""Starting fast: ``expertmatch --help``, ``--version`` and ``import expertmatch`` load none of
the heavy libraries (each in a fresh interpreter, checked on ``sys.modules``, not on time);
the public names load on first use and stay what they are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import expertmatch
from expertmatch import cli

#: What a command line that only prints its help must not import.
HEAVY = ("ortools", "scipy", "pandas", "matplotlib", "networkx", "highspy", "openpyxl", "numpy")
SRC = str(Path(expertmatch.__file__).resolve().parents[1])


def _fresh(code: str) -> object:
    """Run ``code`` in a new interpreter importing this package; the JSON it prints last."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _loaded_after(argv: list[str]) -> list[str]:
    code = (
        "import json, sys\n"
        "from expertmatch.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    found = _fresh(code)
    assert isinstance(found, list)
    return found


@pytest.mark.parametrize(
    "argv", [["--help"], ["--version"], ["assign", "--help"], ["report", "--help"]]
)
def test_help_and_version_import_no_heavy_library(argv: list[str]) -> None:
    """The parser is built from light modules alone."""
    assert _loaded_after(argv) == []


def test_importing_the_package_is_light_and_names_load_on_use() -> None:
    """``import expertmatch`` loads no heavy library; a public name loads its module."""
    code = (
        "import json, sys\n"
        "import expertmatch as em\n"
        f"light = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "assign = em.assign\n"
        "print(json.dumps([light, 'pandas' in sys.modules, callable(assign)]))\n"
    )
    assert _fresh(code) == [[], True, True]


def test_verify_stays_the_function_once_its_module_is_imported() -> None:
    """Importing the submodule ``expertmatch.verify`` (the CLI does) leaves ``em.verify`` the
    function, as an eager ``from expertmatch.verify import verify`` did."""
    code = (
        "import json\n"
        "import expertmatch as em\n"
        "import expertmatch.verify\n"
        "from expertmatch import verify\n"
        "print(json.dumps([em.verify.__module__, verify is em.verify, callable(em.verify)]))\n"
    )
    assert _fresh(code) == ["expertmatch.verify", True, True]


def test_every_public_name_is_listed_and_loads() -> None:
    """``dir()`` lists every lazy name; each one resolves (not to a module)."""
    assert set(expertmatch.__all__) <= set(dir(expertmatch))
    for name in expertmatch.__all__:
        assert not isinstance(getattr(expertmatch, name), type(sys))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = expertmatch.nothing  # type: ignore[attr-defined]


def test_the_cli_choices_are_the_library_s() -> None:
    """The parser's copies of the choices (kept so ``--help`` imports no solver) match the
    library's."""
    from expertmatch.io.lang import LANGS
    from expertmatch.solvers.enterprise import OBJECTIVES
    from expertmatch.solvers.meetings import GROUPINGS
    from expertmatch.solvers.relax import BEND_ORDER

    assert cli.OBJECTIVES == OBJECTIVES
    assert cli.GROUPINGS == GROUPINGS
    assert cli.BEND_ORDER == BEND_ORDER
    assert cli.LANGS == LANGS


#: What ``expertmatch assign`` on a batch with supplied scores, writing CSV, must not import:
#: the other solvers' libraries (CP-SAT, scipy.optimize, OR-Tools' graph library: the capacity
#: checks' greedy fill meets the demand here, so no max flow runs), the workbook writer, the
#: text scorer's segmenter, stemmer and scipy.special, the diagnosis graph library and the plots.
NOT_ON_THE_MAIN_PATH = (
    "ortools.sat.python.cp_model",
    "ortools.graph.python.max_flow",
    "ortools.graph.python.min_cost_flow",
    "scipy.optimize",
    "scipy.special",
    "openpyxl",
    "rjieba",
    "snowballstemmer",
    "networkx",
    "matplotlib",
)


def test_assign_as_the_program_loads_only_what_the_main_path_needs(tmp_path: Path) -> None:
    """``expertmatch assign`` run as the program (``main()`` without arguments, as the console
    script runs it) on a generated batch with supplied scores: exit 0, the summary printed,
    the assignment and report complete, and none of :data:`NOT_ON_THE_MAIN_PATH` imported.
    The program exits without tearing the interpreter down; the exit handlers still run (the
    one registered here records ``sys.modules``)."""
    import expertmatch as em

    batch = em.write_batch(em.generate(30, 90, seed=3, with_scores=True), tmp_path / "batch")
    out, report, seen = tmp_path / "assignment.csv", tmp_path / "report.json", tmp_path / "m"
    code = (
        "import atexit, json, sys\n"
        f"record = lambda: open({str(seen)!r}, 'w').write(json.dumps(sorted(sys.modules)))\n"
        "atexit.register(record)\n"
        "from expertmatch.cli import main\n"
        "sys.exit(main())\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    argv = ["assign", str(batch), "-o", str(out), "--report", str(report)]
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("optimal: "), proc.stdout
    rows = out.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("project,expert,score") and len(rows) > 30
    assert json.loads(report.read_text(encoding="utf-8"))["status"] == "optimal"
    modules = set(json.loads(seen.read_text()))
    assert "pandas" in modules and "highspy" in modules  # the check sees the real run
    assert [m for m in NOT_ON_THE_MAIN_PATH if m in modules] == []


def test_main_with_arguments_returns_and_leaves_the_collector_on(tmp_path: Path) -> None:
    """Called from Python with arguments, ``main`` returns the status (no exit) and freezes
    nothing: the garbage collector is on and nothing is frozen afterwards."""
    code = (
        "import gc, json, sys\n"
        "from expertmatch.cli import main\n"
        "from expertmatch.api import demo_path\n"
        f"status = main(['assign', str(demo_path()), '-o', {str(tmp_path / 'a.csv')!r}])\n"
        "print(json.dumps([status, gc.isenabled(), gc.get_freeze_count()]))\n"
    )
    assert _fresh(code) == [0, True, 0]


def test_a_fractional_lp_is_finished_without_loading_cp_sat() -> None:
    """A batch whose LP is fractional (one open project, one settled) is solved to optimal by
    HiGHS alone: the incumbent's search and the finish load no CP-SAT (0.15 s of import)."""
    root = str(Path(__file__).resolve().parents[1])
    loaded = _fresh(
        "import json, sys\n"
        f"sys.path.insert(0, {root!r})\n"
        "import expertmatch as em\n"
        "from tests.solvers.test_exact import _open_and_settled_batch\n"
        "result = em.assign(_open_and_settled_batch())\n"
        "print(json.dumps([result.status, result.stats['open_projects'],"
        " 'ortools.sat.python.cp_model' in sys.modules]))\n"
    )
    assert loaded == ["optimal", 1, False]

"""A random draw without ``--seed`` takes its seed from the operating system, prints it and
records it in report.json; ``--seed`` with that number replays the same assignment. A solve
that draws nothing keeps seed 0."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import expertmatch as em
from expertmatch.api import draw_seed
from expertmatch.cli import main
from tests.batches import plain_rules

DRAW_RULES = {"max_probability": 0.5, "coverage_level": 0}  # dependent rounding: quick


@pytest.fixture(scope="module")
def draw_batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo batch with a random draw (every pair at most 50 % likely, no coverage) under
    its part-1 rules: the rules before the first table, the office's stage tables, quotas and
    chair left out (a draw cannot yet keep a binding chair cap)."""
    folder = tmp_path_factory.mktemp("draw") / "batch"
    shutil.copytree(em.demo_path(), folder)
    rules = folder / "rules.toml"
    lines = rules.read_text(encoding="utf-8").splitlines()
    lines = lines[: next(i for i, line in enumerate(lines) if line.startswith("["))]
    kept = [line for line in lines if line.split("=")[0].strip() not in DRAW_RULES]
    extra = [f"{key} = {value}" for key, value in DRAW_RULES.items()]
    rules.write_text("\n".join([*kept, *extra]) + "\n", encoding="utf-8")
    return folder


def run(batch: Path, out: Path, *extra: str) -> tuple[bytes, dict]:
    csv, report = out.with_suffix(".csv"), out.with_suffix(".json")
    assert main(["assign", str(batch), "-o", str(csv), "--report", str(report), *extra]) == 0
    return csv.read_bytes(), json.loads(report.read_text(encoding="utf-8"))


def test_no_seed_two_runs_record_different_seeds(
    draw_batch: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """Each run without --seed draws its own seed (63 bits), prints it and records it."""
    _, first = run(draw_batch, tmp_path / "a")
    err = capsys.readouterr().err
    _, second = run(draw_batch, tmp_path / "b")
    seeds = first["seed"], second["seed"]
    assert seeds[0] != seeds[1]
    assert all(isinstance(s, int) and 0 <= s < 2**63 for s in seeds)
    assert f"--seed {seeds[0]} replays this draw" in " ".join(err.split())
    assert first["max_probability"] == 0.5


def test_replaying_the_recorded_seed_gives_the_same_assignment(
    draw_batch: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """``--seed`` with the recorded seed reproduces the drawn assignment byte for byte."""
    drawn, report = run(draw_batch, tmp_path / "a")
    capsys.readouterr()
    replayed, again = run(draw_batch, tmp_path / "b", "--seed", str(report["seed"]))
    assert again["seed"] == report["seed"]
    assert replayed == drawn
    assert [(p["project"], p["expert"]) for p in again["pairs"]] == [
        (p["project"], p["expert"]) for p in report["pairs"]
    ]
    assert "drawn from the operating system" not in capsys.readouterr().err


def test_api_seed_none_draws_and_records_a_seed() -> None:
    """``assign(seed=None)`` on a random draw: a fresh seed each time, ``Result.seed`` replays
    it; a solve that draws nothing keeps seed 0."""
    problem = em.load(em.demo_path())
    lottery_problem = plain_rules(problem, **DRAW_RULES)
    first = em.assign(lottery_problem)
    second = em.assign(lottery_problem)
    assert first.seed != second.seed
    replay = em.assign(lottery_problem, seed=first.seed)
    assert replay.assignment == first.assignment
    assert em.assign(problem).seed == 0
    assert em.assign(problem, seed=5).seed == 5


def test_a_solve_that_draws_nothing_records_seed_zero(tmp_path: Path) -> None:
    """Without a random draw and without --seed the report records seed 0, as before."""
    _, report = run(em.demo_path(), tmp_path / "a")
    assert report["seed"] == 0


def test_draw_seed_is_63_bits_from_the_system() -> None:
    """Seeds are whole numbers below 2**63 (a signed 64-bit integer) and not repeated."""
    seeds = {draw_seed() for _ in range(100)}
    assert len(seeds) == 100
    assert all(0 <= s < 2**63 for s in seeds)
    assert max(seeds) > 2**53  # more than a double's integers: kept exact in report.json

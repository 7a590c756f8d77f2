"""``verify`` of an assignment file reads its ``role`` column: the chairs it names are
checked (two chairs, none, one who may not chair), not only that some choice exists."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import expertmatch as em
from expertmatch.cli import main


def _roles(demo_result: em.Result, folder: Path) -> tuple[pd.DataFrame, Path]:
    path = folder / "assignment.csv"
    demo_result.write(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False), path


def test_the_roles_written_verify(demo_result: em.Result, tmp_path: Path) -> None:
    frame, path = _roles(demo_result, tmp_path)
    assert set(frame["role"]) == {"chair", "member"}
    assert em.verify(demo_result.problem, frame) == []
    assert main(["verify", str(em.demo_path()), str(path)]) == 0


def test_two_chairs_and_none_are_found(demo_result: em.Result, tmp_path: Path) -> None:
    frame, path = _roles(demo_result, tmp_path)
    first, second = frame["project"].unique()[:2]
    extra = frame.index[(frame["project"] == first) & (frame["role"] == "member")][0]
    frame.loc[extra, "role"] = "chair"
    frame.loc[(frame["project"] == second) & (frame["role"] == "chair"), "role"] = "member"
    found = {(v.rule, v.project, v.message) for v in em.verify(demo_result.problem, frame)}
    assert found == {("chair", first, "two chairs"), ("chair", second, "no chair")}
    frame.to_csv(path, index=False)
    assert main(["verify", str(em.demo_path()), str(path)]) == 1


def test_a_chair_who_may_not_chair(demo_result: em.Result) -> None:
    """Moving the chair to a member without a senior title breaks the rule for that panel."""
    problem = demo_result.problem
    frame = demo_result.frame.copy()
    titles = dict(zip(problem.expert_ids, problem.attribute("title"), strict=True))
    wanted = set(problem.rules.chair.values)
    moved: tuple[str, str] | None = None
    for project, group in frame.groupby("project"):
        juniors = [e for e in group["expert"] if not wanted & set(titles[e])]
        if moved is None and juniors and "chair" in set(group["role"]):
            frame.loc[group.index, "role"] = [
                "chair" if e == juniors[0] else "member" for e in group["expert"]
            ]
            moved = (str(project), juniors[0])
    assert moved is not None, "the demo has no panel with a member who may not chair"
    found = [v for v in em.verify(problem, frame) if v.rule == "chair"]
    assert [(v.project, v.message) for v in found] == [(moved[0], f"{moved[1]} may not chair it")]

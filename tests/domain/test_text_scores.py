"""Papers and abstracts in a batch: how ``papers.csv`` is read and judged, and how the built-in
score blends in text (``domain/scoring.py``), the ``score`` command and ``why``'s evidence."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import expertmatch as em
from expertmatch.cli import main
from expertmatch.domain.eligibility import notices
from expertmatch.domain.scoring import block_scores, pair_scores, score_table
from expertmatch.domain.text import text_points

DEMO = em.demo_path()


@pytest.fixture(scope="module")
def demo_text() -> em.Problem:
    """The demo batch (it ships papers.csv and abstracts)."""
    return em.load(DEMO)


def copy_demo(tmp_path: Path) -> Path:
    folder = tmp_path / "batch"
    shutil.copytree(DEMO, folder)
    return folder


def test_demo_reads_papers_and_abstracts(demo_text: em.Problem) -> None:
    """Every paper row of the demo is kept, with its expert, title, abstract and year."""
    papers = pd.read_csv(DEMO / "papers.csv", dtype=str, keep_default_na=False)
    assert demo_text.papers is not None
    assert len(demo_text.papers.title) == len(papers)
    assert demo_text.papers.title[0] == papers["title"][0]
    assert demo_text.expert_ids[demo_text.papers.expert[0]] == papers["expert"][0]
    assert int(demo_text.papers.year[0]) == int(papers["year"][0])
    assert all(demo_text.project_abstracts)
    assert "abstract" not in demo_text.attributes["projects"][0]


def test_bad_papers_are_named_by_file_row_and_column(tmp_path: Path) -> None:
    """A paper of an unknown expert, an empty title or a year that is no number: each an
    issue naming papers.csv, its row and column, all at once; an empty abstract is fine."""
    folder = copy_demo(tmp_path)
    (folder / "papers.csv").write_text(
        "expert,title,abstract,year\n"
        "E001,软件可靠性研究,,2020\n"
        "E999,某论文,摘要,2021\n"
        "E002,,摘要,2021\n"
        "E003,题目,摘要,去年\n",
        encoding="utf-8",
    )
    with pytest.raises(em.InputError) as err:
        em.load(folder)
    issues = [(i.file, i.row, i.column) for i in err.value.issues]
    assert issues == [
        ("papers.csv", 3, "expert"),
        ("papers.csv", 4, "title"),
        ("papers.csv", 5, "year"),
    ]
    text = str(err.value)
    assert (
        "unknown expert 'E999'" in text and "empty title" in text and "'去年' is not a year" in text
    )


def test_papers_sheet_and_chinese_headers(tmp_path: Path) -> None:
    """A workbook's 论文 sheet with Chinese headers is papers.csv."""
    tables = {
        name: pd.read_csv(DEMO / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in ("experts", "projects", "organizations")
    }
    papers = pd.read_csv(DEMO / "papers.csv", dtype=str, keep_default_na=False)
    papers.columns = ["专家编号", "论文题目", "摘要", "发表年份"]
    book = tmp_path / "batch.xlsx"
    with pd.ExcelWriter(book) as writer:
        for name, frame in tables.items():
            frame.to_excel(writer, sheet_name=name, index=False)
        papers.to_excel(writer, sheet_name="论文", index=False)
    problem = em.load(book)
    assert problem.papers is not None and len(problem.papers.title) == len(papers)


def test_blend_keeps_field_gate_and_agrees_pair_by_pair(demo_text: em.Problem) -> None:
    """With papers, a pair scores (1 - w) x field part + w x text part where the field part
    is above 0, and 0 elsewhere; the block and pair-by-pair paths give the same scores."""
    no_text = demo_text.with_rules({"text": {"weight": 0}})
    projects = np.arange(demo_text.n_projects)
    blended = block_scores(demo_text, projects)
    field = block_scores(no_text, projects)
    text = text_points(demo_text).astype(np.float64)
    expected = np.where(field > 0, np.round(0.5 * field + 0.5 * text, 2), 0.0)
    assert np.allclose(blended, expected, atol=0.011)  # field is rounded before blending here
    assert np.array_equal(blended > 0, field > 0)
    p, e = np.meshgrid(projects, np.arange(demo_text.n_experts), indexing="ij")
    assert np.array_equal(pair_scores(demo_text, p.ravel(), e.ravel()), blended.ravel())
    assert not np.array_equal(blended, field)
    assert text_points(no_text) is text_points(demo_text)  # fitted once for the batch


def test_text_points_are_50_for_experts_without_papers(tmp_path: Path) -> None:
    """An expert without papers counts as average on text: 50 for every project."""
    folder = copy_demo(tmp_path)
    papers = pd.read_csv(folder / "papers.csv", dtype=str, keep_default_na=False)
    papers[papers["expert"] != "E001"].to_csv(folder / "papers.csv", index=False)
    problem = em.load(folder)
    points = text_points(problem)
    e = problem.expert_index["E001"]
    assert np.all(points[:, e] == 50)
    assert points.min() < 50 < points.max()


def test_supplied_scores_override_text(tmp_path: Path) -> None:
    """With scores.csv the scores are its rows; papers change nothing."""
    folder = copy_demo(tmp_path)
    (folder / "scores.csv").write_text("expert,project,score\nE001,P001,7\n", encoding="utf-8")
    problem = em.load(folder)
    scores = block_scores(problem, np.arange(problem.n_projects))
    assert scores.sum() == 7
    assert list(score_table(problem).columns) == ["expert", "project", "score"]
    assert any(note.startswith("papers.csv is not used") for note in notices(problem))
    assert notices(em.load(DEMO)) == []


def test_score_command_writes_what_assign_uses(tmp_path: Path, demo_text: em.Problem) -> None:
    """``score`` writes every pair above 0 with its parts; given back as scores.csv it makes
    the same assignment objective as the built-in score."""
    out = tmp_path / "scores.csv"
    assert main(["score", str(DEMO), "-o", str(out)]) == 0
    frame = pd.read_csv(out, dtype={"expert": str, "project": str})
    assert list(frame.columns) == ["expert", "project", "score", "field_score", "text_score"]
    assert (frame["score"] > 0).all()
    expected = block_scores(demo_text, np.arange(demo_text.n_projects))
    assert len(frame) == int((expected > 0).sum())
    row = frame.iloc[0]
    p, e = demo_text.project_index[row["project"]], demo_text.expert_index[row["expert"]]
    assert row["score"] == pytest.approx(expected[p, e])
    folder = copy_demo(tmp_path)
    shutil.copy(out, folder / "scores.csv")
    supplied = em.assign(em.load(folder), seed=0)
    builtin = em.assign(demo_text, seed=0)
    assert supplied.objective == pytest.approx(builtin.objective, abs=1e-6)


def test_score_command_refuses_to_overwrite_an_input(tmp_path: Path) -> None:
    """``-o`` inside the input folder as scores.csv would become input: exit 2, nothing
    written."""
    folder = copy_demo(tmp_path)
    assert main(["score", str(folder), "-o", str(folder / "scores.csv")]) == 2
    assert not (folder / "scores.csv").exists()


def test_score_command_text_weight_zero(tmp_path: Path) -> None:
    """``--rules`` with ``[text] weight = 0``: the scores are the field part alone."""
    rules = tmp_path / "rules.toml"
    rules.write_text((DEMO / "rules.toml").read_text(encoding="utf-8") + "\n[text]\nweight = 0\n")
    out = tmp_path / "scores.csv"
    assert main(["score", str(DEMO), "-o", str(out), "--rules", str(rules)]) == 0
    frame = pd.read_csv(out)
    assert np.allclose(frame["score"], frame["field_score"])


def test_why_shows_text_evidence(capsys: pytest.CaptureFixture[str], demo_text: em.Problem) -> None:
    """``why`` on an eligible pair shows the score's text part and the expert's closest papers
    with their cosine similarity."""
    scores = block_scores(demo_text, np.array([0]))[0]
    expert = demo_text.expert_ids[int(np.argmax(scores))]
    project = demo_text.project_ids[0]
    assert main(["why", str(DEMO), expert, project]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(field codes, keywords)" in out and "(text, [text] weight = 0.5)" in out
    assert f"closest papers to {project} (cosine similarity):" in out
    e = demo_text.expert_index[expert]
    titles = [
        t for t, o in zip(demo_text.papers.title, demo_text.papers.expert, strict=True) if o == e
    ]  # type: ignore[union-attr]
    assert any(title in out for title in titles)

"""Validation at scale: ``scores.csv`` judged in columns (numpy and pandas, not row by row),
with the same issues, in the same order, with the same rows, as one cell at a time, plain
decimals read as Python reads them; parent links checked for a cycle without networkx (which
is imported only to name the cycles)."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import expertmatch as em
from expertmatch.domain.validate import _has_cycle
from tests.batches import build, load_error, raw


def _scores(rows: list[str]) -> str:
    return "expert,project,score\n" + "\n".join(rows) + "\n"


def test_every_bad_cell_is_named_in_row_order(tmp_path: Path) -> None:
    """Unknown and empty ids, every kind of bad number and repeated pairs (the file out of
    order): each issue with its row and column, rows in order within each check."""
    rows = [
        "E1,P1,3.5",  # row 2
        "E9,P1,1",  # 3: unknown expert
        "E2,P9,1",  # 4: unknown project
        ",P1,1",  # 5: empty expert id
        "E3,P2,high",  # 6: not a number
        "E4,P2,-1",  # 7: negative
        "E5,P2,nan",  # 8: NaN
        "E1,P2,1_000",  # 9: Python reads it, pandas does not: refused as before
        "E2,P2,",  # 10: empty score
        "E1,P1,2",  # 11: the pair of row 2 again
        "E5,P1,1e",  # 12: not a number
        "E2,P1,4.25",  # 13
        "E2,P1,4",  # 14: the pair of row 13 again
    ]
    folder = build(tmp_path / "b", raw("scores", _scores(rows)))
    issues = [(i.row, i.column, i.message) for i in load_error(folder).issues]
    assert issues == [
        (3, "expert", "unknown expert 'E9'"),
        (5, "expert", "empty expert id"),
        (4, "project", "unknown project 'P9'"),
        (6, "score", "'high' is not a number"),
        (7, "score", "score must be a number >= 0, not '-1'"),
        (8, "score", "score must be a number >= 0, not 'nan'"),
        (9, "score", "score must be a number >= 0, not '1_000'"),
        (10, "score", "'' is not a number"),
        (12, "score", "'1e' is not a number"),
        (11, "expert", "duplicate pair (first at row 2)"),
        (14, "expert", "duplicate pair (first at row 13)"),
    ]


@pytest.mark.parametrize("ordered", [True, False])
def test_plain_decimals_read_as_python_reads_them(tmp_path: Path, ordered: bool) -> None:
    """Scores written as plain decimals (any precision, exponents) come out as ``float``
    gives them, rounded to the score unit, whatever the order of the file."""
    rng = np.random.default_rng(3)
    experts, projects = ["E1", "E2", "E3", "E4", "E5"], ["P1", "P2"]
    cells = [f"{v:.{rng.integers(0, 12)}f}" for v in rng.uniform(0, 50, 10)]
    cells[3], cells[7] = "2.5e-1", "1E1"
    pairs = [(p, e) for p in projects for e in experts]
    order = range(10) if ordered else rng.permutation(10)
    rows = [f"{pairs[k][1]},{pairs[k][0]},{cells[k]}" for k in order]
    problem = em.load(build(tmp_path / "b", raw("scores", _scores(rows))))
    supplied = problem.supplied_scores
    assert supplied is not None
    got = {
        (problem.project_ids[p], problem.expert_ids[e]): s
        for p, e, s in zip(supplied.project, supplied.expert, supplied.score, strict=True)
    }
    assert got == {pair: round(float(c), 6) for pair, c in zip(pairs, cells, strict=True)}
    assert list(supplied.project * 5 + supplied.expert) == sorted(
        supplied.project * 5 + supplied.expert
    )


@given(
    st.dictionaries(
        st.sampled_from([f"n{i}" for i in range(8)]),
        st.sampled_from(["", "elsewhere", *(f"n{i}" for i in range(8))]),
    )
)
def test_the_cycle_check_agrees_with_networkx(parents: dict[str, str]) -> None:
    """Parent links (one parent each, empty for none, unknown parents allowed) loop exactly
    when networkx finds a simple cycle among them."""
    graph = nx.DiGraph([(child, parent) for child, parent in parents.items() if parent])
    assert _has_cycle(parents) == bool(list(nx.simple_cycles(graph)))

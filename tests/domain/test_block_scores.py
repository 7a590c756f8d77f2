"""Built-in scores of a block of projects: the in-place sums give the masked sums bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import expertmatch as em
from expertmatch.domain import scoring


def _masked(problem: em.Problem, projects: np.ndarray) -> np.ndarray:
    """The block's scores as the sums were first written: each code slot added through a
    mask of the projects that have it."""
    index = scoring._index(problem)
    field = np.zeros((projects.size, problem.n_experts))
    for i in range(index.project_codes.shape[1]):
        codes = index.project_codes[projects, i]
        has = codes >= 0
        field[has] += index.wp[projects[has], i][:, None] * index.code_match[codes[has]]
    keyword = (index.kp[projects] @ index.ke.T).toarray()
    raw = scoring.FIELD_WEIGHT * field + scoring.KEYWORD_WEIGHT * keyword
    return np.round(raw, scoring.DECIMALS)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_block_scores_equal_the_masked_sums(seed: int) -> None:
    problem = em.from_tables(**em.generate(60, 200, seed=seed))
    index = scoring._index(problem)
    slots = index.project_codes >= 0
    every = np.flatnonzero(slots.all(axis=1))  # every slot filled: the in-place path only
    some = np.flatnonzero(~slots.all(axis=1))  # a slot missing: the masked path too
    assert every.size and some.size, "the batch exercises both paths"
    for projects in (np.arange(problem.n_projects), every, some, every[:1]):
        assert np.array_equal(scoring.block_scores(problem, projects), _masked(problem, projects))

"""Shared fixtures, built from the hand-checkable batches in ``tests/batches.py``.

Tests marked ``slow`` (brute-force properties, the notebooks, repeated solves of the demo) run
by default; ``python -m pytest -m "not slow"`` skips them for a quick run. They are collected
first so that parallel workers start on the long ones.
"""

from __future__ import annotations

import pytest

import expertmatch as em
from tests.batches import make


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the ``slow`` tests first (a stable sort keeps the order within each group)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def tiny() -> em.Problem:
    """The tiny batch (one project, eight experts) with panels of 3."""
    return make(rules={"panel_size": 3})


@pytest.fixture(scope="session")
def demo() -> em.Problem:
    """The demo batch shipped in the package (40 projects, 170 experts, the office's rules)."""
    return em.load(em.demo_path())


@pytest.fixture(scope="session")
def demo_result(demo: em.Problem) -> em.Result:
    """The demo batch's optimal assignment (solved once per session and worker)."""
    return em.assign(demo, time_limit=60)

"""Shared fixtures: tiny hand-checkable batches built from Python records."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import expertmatch as em

# Eight experts in four organizations; E1-E4 enterprise, E5-E8 university/institute.
ORGS = [
    {"id": "C1", "name": "钱塘智能科技", "type": "enterprise", "parent": ""},
    {"id": "C2", "name": "之江能源", "type": "enterprise", "parent": ""},
    {"id": "U1", "name": "浙江大学", "type": "university", "parent": ""},
    {"id": "I1", "name": "之江研究院", "type": "institute", "parent": ""},
    {"id": "A", "name": "申报单位", "type": "university", "parent": ""},
]
EXPERTS = [
    {"id": "E1", "name": "王一", "organization": "C1", "fields": "520.20.10"},
    {"id": "E2", "name": "李二", "organization": "C2", "fields": "520.20.10"},
    {"id": "E3", "name": "张三", "organization": "C1", "fields": "520.20.30"},
    {"id": "E4", "name": "赵四", "organization": "C2", "fields": "520.40.10"},
    {"id": "E5", "name": "钱五", "organization": "U1", "fields": "520.20.10"},
    {"id": "E6", "name": "孙六", "organization": "I1", "fields": "520.40.10"},
    {"id": "E7", "name": "周七", "organization": "U1", "fields": "520.20.30"},
    {"id": "E8", "name": "吴八", "organization": "I1", "fields": "520.40.20"},
]
PROJECTS = [{"id": "P1", "title": "工业视觉", "organization": "A", "fields": "520.20.10"}]


def make(
    experts: list[dict[str, Any]] | None = None,
    projects: list[dict[str, Any]] | None = None,
    organizations: list[dict[str, Any]] | None = None,
    **kwargs: Any,
) -> em.Problem:
    """A batch from records (defaults: the tiny batch above) and keyword tables/rules."""
    return em.from_tables(
        experts=copy.deepcopy(EXPERTS if experts is None else experts),
        projects=copy.deepcopy(PROJECTS if projects is None else projects),
        organizations=copy.deepcopy(ORGS if organizations is None else organizations),
        **kwargs,
    )


def short_of_reviews() -> em.Problem:
    """Three panels of 3 (9 reviews) but eight experts with max_load 1: loads too small."""
    projects = [{**PROJECTS[0], "id": f"P{i}"} for i in (1, 2, 3)]
    return make(
        projects=projects,
        rules={
            "panel_size": 3,
            "max_load": 1,
            "enterprise_min_share": 0,
            "max_per_org": 3,
            "coverage_level": 0,
        },
    )


@pytest.fixture
def tiny() -> em.Problem:
    return make(rules={"panel_size": 3})


@pytest.fixture(scope="session")
def demo() -> em.Problem:
    return em.load(em.demo_path())


@pytest.fixture(scope="session")
def demo_result(demo: em.Problem) -> em.Result:
    return em.assign(demo, time_limit=60)

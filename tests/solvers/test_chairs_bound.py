"""``with_chairs`` keeps the first solve's bound when the whole-batch chair model stops with a
weaker one of its own (the chair rule only removes assignments, so that bound stays valid)."""

from __future__ import annotations

import dataclasses

import expertmatch as em
from expertmatch.solvers.chairs import _tighter
from expertmatch.vocabulary import Status


def _result(demo_result: em.Result, objective: float, bound: float) -> em.Result:
    return dataclasses.replace(demo_result, objective=objective, bound=bound, status=Status.TIMEOUT)


def test_the_better_bound_and_the_status_it_gives(demo_result: em.Result) -> None:
    full = _result(demo_result, 1000.0, 1010.0)
    assert _tighter(full, 1000.0, 0.0).status == Status.OPTIMAL
    within = _tighter(full, 1000.5, 0.001)
    assert within.bound == 1000.5 and within.status == Status.FEASIBLE
    beyond = _tighter(full, 1005.0, 0.001)
    assert beyond.bound == 1005.0 and beyond.status == Status.TIMEOUT
    assert _tighter(full, 1020.0, 0.001) is full  # its own bound is the better one

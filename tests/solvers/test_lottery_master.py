"""The column generation's master LP (:class:`expertmatch.solvers.lottery._Master`) keeps one
row per group of pairs that lie in the same columns: it must reach the optimum of the master
with one cap row per pair, and its duals, shared out over each group's pairs, must be an
optimal dual of that master (so pricing and the Lagrangian bound stay exact)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from expertmatch.solvers.lottery import _Master

PENALTY = 1e4


def per_pair_master(
    columns: list[np.ndarray], values: np.ndarray, caps: np.ndarray
) -> tuple[float, float]:
    """The master with one cap row per used pair (scipy, from scratch), in two phases: the
    least total excess over the caps and, when that is zero, the best value keeping them
    (else nan)."""
    used = np.unique(np.concatenate(columns))
    n_cols, n_rows = len(columns), used.size
    A = np.zeros((n_rows, n_cols))
    for i, cols in enumerate(columns):
        A[np.searchsorted(used, cols), i] = 1.0
    A_ub = np.hstack([A, -np.eye(n_rows)])
    A_eq = np.r_[np.ones(n_cols), np.zeros(n_rows)][None, :]
    one = linprog(
        np.r_[np.zeros(n_cols), np.ones(n_rows)],
        A_ub=A_ub,
        b_ub=caps[used],
        A_eq=A_eq,
        b_eq=[1.0],
        method="highs",
    )
    assert one.status == 0
    if one.fun > 1e-9:
        return float(one.fun), float("nan")
    two = linprog(-values, A_ub=A, b_ub=caps[used], A_eq=np.ones((1, n_cols)), b_eq=[1.0])
    assert two.status == 0
    return 0.0, float(-two.fun)


def random_master(
    seed: int, shaped: bool = False
) -> tuple[_Master, list[np.ndarray], np.ndarray, np.ndarray]:
    """Random columns over 30 pairs with two cap values (as with stage caps); few columns,
    so that some masters cannot keep the caps. ``shaped``: the duals shared out in the
    proportions of random weights, zero on half the pairs (as the capped LP's cap duals)."""
    rng = np.random.default_rng(seed)
    n = 30
    caps = np.where(rng.random(n) < 0.3, 0.7, 0.4)
    shape = np.where(rng.random(n) < 0.5, 0.0, rng.random(n)) if shaped else None
    master = _Master(n, caps, shape)
    columns, values = [], []
    for _ in range(int(rng.integers(2, 12))):
        cols = np.sort(rng.choice(n, size=int(rng.integers(3, 9)), replace=False))
        value = float(rng.integers(1, 100))
        master.add(cols, value)
        columns.append(cols)
        values.append(value)
    return master, columns, np.array(values), caps


@pytest.mark.parametrize("shaped", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_grouped_master_equals_the_master_with_a_row_per_pair(seed: int, shaped: bool) -> None:
    """Phase one reaches the per-pair master's least total excess; with the caps kept,
    phase two its best value, and its duals, shared out over each group's pairs, are an
    optimal dual of the per-pair master (every column prices at most zero and ``cap . mu +
    nu`` equals the value), shared equally or in proportion to a shape. In phase one the
    shared-out duals price every column at most
    zero in phase one's terms (``-mu . A - nu <= 0``), each pair's in [0, 1]."""
    master, columns, values, caps = random_master(seed, shaped)
    sol = master.solve()
    least_excess, best = per_pair_master(columns, values, caps)
    assert sol.phase_one == (least_excess > 1e-9)
    probs = np.zeros(caps.size)
    for lam, cols in zip(sol.lam, columns, strict=True):
        probs[cols] += lam
    assert sol.lam.sum() == pytest.approx(1.0)
    assert np.all(sol.mu >= 0)
    if sol.phase_one:
        assert np.maximum(probs - caps, 0).sum() == pytest.approx(least_excess, abs=1e-7)
        assert np.all(sol.mu <= 1 + 1e-9)
        assert max(-sol.mu[c].sum() - sol.nu for c in columns) <= 1e-7
        assert float(caps @ sol.mu) + sol.nu == pytest.approx(-least_excess, abs=1e-7)
        return
    assert sol.value == pytest.approx(best, abs=1e-6)
    reduced = [v - sol.mu[c].sum() - sol.nu for v, c in zip(values, columns, strict=True)]
    assert max(reduced) <= 1e-6
    assert float(caps @ sol.mu) + sol.nu == pytest.approx(best, abs=1e-6)
    assert np.all(probs <= caps + 1e-9)


def test_some_random_masters_need_an_excess() -> None:
    """The random masters above include some that cannot keep the caps (so the test above
    checks phase one too) and some that can."""
    needs = sum(random_master(seed)[0].solve().phase_one for seed in range(12))
    assert 0 < needs < 12


@pytest.mark.parametrize("shaped", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_master_solved_after_each_column_equals_the_per_pair_master(
    seed: int, shaped: bool
) -> None:
    """Solved after every column, as the column generation does, the master matches the
    per-pair master of the columns so far each time: in phase one (least total excess) and
    in phase two (best value, duals optimal for every column so far), also in the rounds
    after it first kept the caps, which solve phase two alone."""
    rng = np.random.default_rng(100 + seed)
    n = 24
    caps = np.where(rng.random(n) < 0.3, 0.7, 0.4)
    shape = np.where(rng.random(n) < 0.5, 0.0, rng.random(n)) if shaped else None
    master = _Master(n, caps, shape)
    columns: list[np.ndarray] = []
    values: list[float] = []
    phases = []
    for _ in range(14):
        cols = np.sort(rng.choice(n, size=int(rng.integers(3, 8)), replace=False))
        columns.append(cols)
        values.append(float(rng.integers(1, 100)))
        master.add(cols, values[-1])
        sol = master.solve()
        least_excess, best = per_pair_master(columns, np.array(values), caps)
        phases.append(sol.phase_one)
        assert sol.phase_one == (least_excess > 1e-9)
        assert sol.lam.size == len(columns)
        assert sol.lam.sum() == pytest.approx(1.0)
        if sol.phase_one:
            assert max(-sol.mu[c].sum() - sol.nu for c in columns) <= 1e-7
            continue
        assert sol.value == pytest.approx(best, abs=1e-6)
        reduced = [v - sol.mu[c].sum() - sol.nu for v, c in zip(values, columns, strict=True)]
        assert max(reduced) <= 1e-6
        assert float(caps @ sol.mu) + sol.nu == pytest.approx(best, abs=1e-6)
        probs = np.zeros(n)
        for lam, c in zip(sol.lam, columns, strict=True):
            probs[c] += lam
        assert np.all(probs <= caps + 1e-8)
    assert phases[-1] is False  # the later rounds ran in phase two

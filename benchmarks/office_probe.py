"""Where the time of an ``office`` batch goes, and what a chair-aware LP would give.

    python benchmarks/office_probe.py --projects 1000 --experts 3000 --seed 1
    python benchmarks/office_probe.py --projects 1000 --experts 3000 --seed 1 \
        --columns-milp 60 --milp 600

Not part of the benchmark protocol (``run.py``); a probe for the ``office`` set's write-up in
RESULTS.md. On the batch ``run.py --set office`` builds (``office_tables`` and ``OFFICE``):

1. ``expertmatch.solvers.exact.solve`` (assign's solver before the chairs are chosen), its
   phases timed through the progress callback, and the time inside ``survey``,
   ``check_feasibility``, ``build_model``, ``solve_lp`` (HiGHS), ``price`` and ``solve_sat``
   (CP-SAT) measured by wrapping the names ``solvers/exact.py`` imports (the wrappers only
   time; they change nothing).
2. ``expertmatch.domain.chairs.choose_chairs`` on its answer: the panels the cap of 2 leaves
   without a chair (each one sends ``assign`` to its exact fallback, CP-SAT over every eligible
   pair with a chair variable per member who may chair).
3. The LP over the columns of the last LP of step 1 plus a chair variable ``y <= x`` per
   (panel that needs a chair, member who may chair) column: one chair per such panel, at most
   ``max_per_expert`` per expert (HiGHS through ``scipy.optimize.linprog``). The chair cap
   only removes assignments, so the LP bound of step 1 (``stats["lp_bound"]``) is a bound here
   too: a 0/1 answer of this LP worth that bound is proven optimal with its chairs.
   With ``--columns-milp S``: HiGHS branch and cut on that model (chair variables included,
   presolve on, ``time_limit = S``): an assignment with its chairs over those columns (it
   keeps every rule, so its score is a lower bound for the batch).
4. With ``--milp S``: HiGHS branch and cut over every eligible pair with the chair
   variables, ``presolve=False`` (see the README's caveat), ``time_limit = S``: the exact
   optimum with the chair rule, for reference.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # the office batch as the benchmark builds it


def chair_rows(problem: Any, model: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray]:
    """``model``'s rows with the chair variables appended: ``(A, lb, ub, c)``, columns
    ``x`` (the model's pairs) then ``y``."""
    from expertmatch.domain.chairs import may_chair, needs_chair

    pairs = model.pairs
    can = np.flatnonzero(needs_chair(problem)[pairs.project] & may_chair(problem)[pairs.expert])
    nx, ny = model.n_pairs, can.size
    need = np.flatnonzero(needs_chair(problem))
    renum = np.full(problem.n_projects, -1)
    renum[need] = np.arange(need.size)
    ones = np.ones(ny)
    y_le_x = sp.hstack(
        [-sp.csr_matrix((ones, (np.arange(ny), can)), shape=(ny, nx)), sp.identity(ny)]
    )
    one_chair = sp.hstack(
        [
            sp.csr_matrix((need.size, nx)),
            sp.csr_matrix((ones, (renum[pairs.project[can]], np.arange(ny))), (need.size, ny)),
        ]
    )
    cap = sp.hstack(
        [
            sp.csr_matrix((problem.n_experts, nx)),
            sp.csr_matrix((ones, (pairs.expert[can], np.arange(ny))), (problem.n_experts, ny)),
        ]
    )
    A = sp.vstack([sp.hstack([model.A, sp.csr_matrix((model.n_rows, ny))]), y_le_x, one_chair, cap])
    k = problem.rules.chair.max_per_expert
    lb = np.concatenate(
        [model.lb, np.full(ny, -np.inf), np.ones(need.size), np.full(problem.n_experts, -np.inf)]
    )
    ub = np.concatenate([model.ub, np.zeros(ny), np.ones(need.size), np.full(problem.n_experts, k)])
    c = -np.concatenate([model.weight.astype(float), np.zeros(ny)])
    return A.tocsr(), lb, ub, c


def chair_lp(problem: Any, model: Any) -> dict[str, Any]:
    """Step 3: the LP with chair variables over ``model``'s columns."""
    from scipy.optimize import linprog

    from expertmatch.domain.chairs import choose_chairs

    start = time.perf_counter()
    A, lb, ub, c = chair_rows(problem, model)
    eq = lb == ub
    low = np.isfinite(lb) & ~eq
    high = np.isfinite(ub) & ~eq
    A_ub = sp.vstack([A[high], -A[low]]).tocsr()
    b_ub = np.concatenate([ub[high], -lb[low]])
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A[eq], b_eq=lb[eq], bounds=(0, 1), method="highs")
    lp_s = time.perf_counter() - start
    nx = model.n_pairs
    frac = (res.x > 1e-6) & (res.x < 1 - 1e-6)
    chosen = res.x[:nx] > 0.5
    _, missing = choose_chairs(problem, model.pairs.take(chosen))
    return {
        "columns": nx,
        "chair_vars": A.shape[1] - nx,
        "build_s": build_s,
        "highs_s": lp_s,
        "value": -res.fun * model.unit,
        "fractional_x": int(frac[:nx].sum()),
        "fractional_y": int(frac[nx:].sum()),
        "panels_without_chair": len(missing) if not frac.any() else None,
    }


def chair_milp(
    problem: Any, time_limit: float, model: Any = None, presolve: bool = False
) -> dict[str, Any]:
    """Steps 3 and 4: HiGHS branch and cut with chair variables over ``model``'s columns
    (default: every eligible pair)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from expertmatch.formulation.rows import build_model

    start = time.perf_counter()
    model = build_model(problem) if model is None else model
    A, lb, ub, c = chair_rows(problem, model)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    res = milp(
        c,
        integrality=np.ones(c.size),
        bounds=Bounds(0, 1),
        constraints=LinearConstraint(A, lb, ub),
        options={"time_limit": time_limit, "mip_rel_gap": 0.0, "presolve": presolve},
    )
    return {
        "pairs": model.n_pairs,
        "chair_vars": c.size - model.n_pairs,
        "build_s": build_s,
        "highs_s": time.perf_counter() - start,
        "message": str(res.message),
        "objective": -res.fun * model.unit if res.x is not None else None,
        "bound": -res.mip_dual_bound * model.unit if res.mip_dual_bound is not None else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--experts", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--gap", type=float, default=0.0, help="gap_limit of step 1")
    parser.add_argument("--columns-milp", type=float, help="step 3's MILP, time limit s")
    parser.add_argument("--milp", type=float, help="step 4 with this time limit, s")
    args = parser.parse_args()

    import expertmatch as em
    from expertmatch.domain.chairs import choose_chairs
    from expertmatch.solvers import exact
    from expertmatch.solvers.params import SolveParams

    tables = bench.office_tables(
        em.generate(args.projects, args.experts, seed=args.seed), args.seed
    )
    start = time.perf_counter()
    problem = em.from_tables(**tables, rules=bench.OFFICE)
    print(f"from_tables {time.perf_counter() - start:.2f} s")

    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    last_lp_model: list[Any] = []

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*a: Any, **k: Any) -> Any:
            began = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[name] += time.perf_counter() - began
                calls[name] += 1

        return wrapper

    solve_lp = exact.solve_lp

    def lp_keeping_model(model: Any, *a: Any, **k: Any) -> Any:
        last_lp_model[:] = [model]
        return solve_lp(model, *a, **k)

    for name in ("survey", "check_feasibility", "build_model", "price", "solve_sat"):
        setattr(exact, name, timed(name, getattr(exact, name)))
    exact.solve_lp = timed("solve_lp", lp_keeping_model)

    began = time.perf_counter()
    phases: list[tuple[float, str]] = []

    def progress(phase: str, incumbent: Any, bound: Any) -> None:
        phases.append(
            (time.perf_counter() - began, f"{phase}: incumbent {incumbent}, bound {bound}")
        )

    params = SolveParams(time_limit=args.time_limit, seed=args.seed, gap_limit=args.gap)
    result = None
    try:
        result = exact.solve(problem, params, progress)
    except em.SolveError as err:
        print(f"solve: {err}")
    total = time.perf_counter() - began
    print(f"\n1. exact.solve: {total:.2f} s")
    for at, text in phases:
        print(f"   {at:7.2f} s  {text}")
    for name in ("survey", "check_feasibility", "build_model", "solve_lp", "price", "solve_sat"):
        print(f"   {name:18s} {spent[name]:7.2f} s in {calls[name]} call(s)")
    if result is not None:
        print(f"   {result.status}, objective {result.objective:.2f}, bound {result.bound:.2f}")
        print(f"   stats {dict(result.stats)}")
        start = time.perf_counter()
        _, missing = choose_chairs(problem, result.pairs)
        print(
            f"\n2. choose_chairs: {time.perf_counter() - start:.2f} s, "
            f"{len(missing)} panel(s) left without a chair"
        )
    if last_lp_model:
        out = chair_lp(problem, last_lp_model[0])
        bound = result.stats.get("lp_bound") if result is not None else None
        print(f"\n3. chair LP over the last LP's columns: {out}")
        if bound is not None:
            print(
                f"   step 1's LP bound {bound:.2f}; chair LP - bound = {out['value'] - bound:.2f}"
            )
        if args.columns_milp:
            found = chair_milp(problem, args.columns_milp, last_lp_model[0], presolve=True)
            print(f"   chair MILP over the same columns: {found}")
    if args.milp:
        print(f"\n4. chair MILP over every eligible pair: {chair_milp(problem, args.milp)}")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""HiGHS presolve on or off for the package's LP relaxations, on the LPs the solvers really solve.

Each batch is solved once by ``expertmatch.assign``; every LP that
``solvers.backends.solve_lp`` hands to HiGHS on the way is kept, then each is solved again,
twice more, with presolve on and off (the rest of the setup as ``backends._lp_highs`` makes
it: dual simplex, one thread) and the faster of the two runs of each is kept. Prints, per
batch: the LPs, the seconds with presolve on and off (summed over the LPs), the worst ratio of
one LP, and whether every optimum agrees (relative 1e-6).

    python benchmarks/lp_presolve.py [--batches core-1k,office-1k,...]

This is how ``solve_lp`` came to run without presolve (benchmarks/RESULTS.md, "Set cli").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import dense_tables, meeting_tables, office_tables

import expertmatch as em
import expertmatch.solvers.backends as backends


def _batch(name: str) -> tuple[Any, dict[str, Any]]:
    """The named batch's Problem and the keyword arguments of its ``assign``."""
    if name == "cli-250k":
        return em.from_tables(**dense_tables(1000, 3000, 1)), {}
    if name == "meetings-200":
        return em.from_tables(**meeting_tables(em.generate(200, 600, seed=1), fixed=True)), {}
    if name == "office-1k":
        return em.from_tables(**office_tables(em.generate(1000, 3000, seed=1), 1)), {}
    if name == "lottery-300":
        tables = em.generate(300, 900, seed=1)
        return em.from_tables(**tables, rules={"max_probability": 0.5}), {"seed": 1}
    if name == "fair-200":
        return em.from_tables(**em.generate(200, 600, seed=1)), {"objective": "fair"}
    size = {"core-200": (200, 600), "core-1k": (1000, 3000), "core-3k": (3000, 9000)}
    size["core-10k"] = (10000, 30000)
    n_p, n_e = size[name]
    return em.from_tables(**em.generate(n_p, n_e, seed=1)), {}


def _time(lp: tuple[Any, ...], presolve: str) -> tuple[float, float]:
    """Seconds and optimum of one LP, the faster of two runs."""
    best = float("inf")
    value = float("nan")
    for _ in range(2):
        h = ORIGINAL(*lp)
        h.setOptionValue("presolve", presolve)
        start = time.perf_counter()
        h.run()
        best = min(best, time.perf_counter() - start)
        value = h.getInfo().objective_function_value
    return best, value


ORIGINAL = backends._lp_highs


def _spy(seen: list[tuple[Any, ...]]) -> Any:
    """``_lp_highs`` that also keeps each LP it is given in ``seen``."""

    def spy(*lp: Any) -> Any:
        seen.append(lp)
        return ORIGINAL(*lp)

    return spy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = "core-200,core-1k,core-3k,cli-250k,office-1k,meetings-200,lottery-300,fair-200"
    parser.add_argument("--batches", default=names)
    args = parser.parse_args()
    print("| batch | LPs | presolve on s | off s | off / on | worst LP off / on | same optima |")
    print("|---|---|---|---|---|---|---|")
    for name in args.batches.split(","):
        seen: list[tuple[Any, ...]] = []
        backends._lp_highs = _spy(seen)  # type: ignore[assignment]
        problem, kwargs = _batch(name)
        em.assign(problem, time_limit=300, **kwargs)
        backends._lp_highs = ORIGINAL  # type: ignore[assignment]
        on = [_time(lp, "on") for lp in seen]
        off = [_time(lp, "off") for lp in seen]
        same = all(
            abs(a[1] - b[1]) <= 1e-6 * max(1.0, abs(a[1])) for a, b in zip(on, off, strict=True)
        )
        t_on, t_off = sum(t for t, _ in on), sum(t for t, _ in off)
        worst = max(b[0] / max(a[0], 1e-4) for a, b in zip(on, off, strict=True))
        print(
            f"| {name} | {len(seen)} | {t_on:.3f} | {t_off:.3f} | {t_off / t_on:.2f} "
            f"| {worst:.2f} | {'yes' if same else 'NO'} |",
            flush=True,
        )


if __name__ == "__main__":
    main()

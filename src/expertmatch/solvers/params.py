"""How to solve (:class:`SolveParams`) and the progress callback type, shared by every solver."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from expertmatch.formulation.candidates import EXTRA

#: How the exact solver closes the gap left after reduced-cost fixing (``SolveParams.finish``).
FINISHES = ("highs", "cpsat")

Progress = Callable[[str, float | None, float | None], None]


@dataclass(frozen=True)
class SolveParams:
    """How to solve: time limit (s, whole run), seed, CP-SAT workers, gap to stop at."""

    time_limit: float = 60.0
    seed: int = 0
    workers: int = 1
    gap_limit: float = 0.0
    extra_candidates: int = EXTRA
    """Candidates per project beyond the panel size in the first LP; pricing adds any other
    pair that can improve it, so this changes speed, never the result."""
    fast_path: bool = False
    """Use min-cost flow when only panel size, loads, conflicts and the enterprise minimum
    apply (exact, no LP). Off by default: it needs every eligible pair, and measured here the
    priced LP on candidates is faster (see benchmarks/RESULTS.md)."""
    finish: str = "highs"
    """The exact finish after reduced-cost fixing: ``"highs"`` (HiGHS branch and cut, one
    thread, deterministic) or ``"cpsat"`` (CP-SAT with ``workers``); both prove the same
    optimum. HiGHS is the default: measured faster on the hard batches of
    ``benchmarks/run.py --set hard`` (benchmarks/RESULTS.md)."""

    def __post_init__(self) -> None:
        if not (self.time_limit > 0 and math.isfinite(self.time_limit)):
            raise ValueError(
                f"time_limit must be a positive number of seconds, not {self.time_limit!r}"
            )
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a whole number >= 0, not {self.seed!r}")
        if not isinstance(self.workers, int) or self.workers < 1:
            raise ValueError(f"workers must be a whole number >= 1, not {self.workers!r}")
        if not isinstance(self.extra_candidates, int) or self.extra_candidates < 0:
            raise ValueError(
                f"extra_candidates must be a whole number >= 0, not {self.extra_candidates!r}"
            )
        if self.finish not in FINISHES:
            raise ValueError(f"finish must be one of {', '.join(FINISHES)}, not {self.finish!r}")
        if not 0 <= self.gap_limit < 1:
            raise ValueError(f"gap_limit must be in [0, 1), not {self.gap_limit!r}")

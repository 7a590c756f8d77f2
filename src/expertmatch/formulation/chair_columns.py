"""The chair rule (组长) as columns and rows of a linear model, for HiGHS (LP and branch and cut).

:func:`expertmatch.formulation.rows.build_model` holds only the chair rule's necessary part (a
member who may chair on each panel that needs one: a quota row). When ``max_per_expert`` can
bind (:func:`expertmatch.domain.chairs.cap_can_bind`) that part is not enough, so the model is
extended by a chair variable ``y_j`` for each of its pairs j = (p, e) where p needs a chair and
e may chair:

    y_j - x_j                    <= 0                  a chair sits on the panel
    sum_{j in p} y_j              = 1                  one chair per panel that needs one
    sum_{j of e} y_j             <= max_per_expert     the cap (rows that can bind only)

with ``y`` in {0, 1} and no weight. The extended model's 0/1 points are exactly the model's
assignments that admit a choice of chairs within the cap, so its optimum is the optimum with
the chair rule and its LP relaxation a bound on it. The same rule is written for CP-SAT in
:func:`expertmatch.formulation.cpsat._chair_variables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from expertmatch.domain.chairs import cap_can_bind, may_chair, needs_chair

if TYPE_CHECKING:
    from expertmatch.domain.problem import Problem
    from expertmatch.formulation.rows import Model


@dataclass(frozen=True)
class Extended:
    """``lb <= A [x; y] <= ub``: the model's rows (first ``n_model_rows``) and the chair rows;
    columns the model's pairs then the chair variables (``chair_pair[i]``: the pair of
    ``y_i``). Without chair variables it is the model itself."""

    A: sp.csr_matrix
    lb: np.ndarray
    ub: np.ndarray
    weight: np.ndarray  # integer weights of all columns (0 for the chair variables)
    n_pairs: int
    chair_pair: np.ndarray
    cap_expert: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """The expert of each chair cap row (the last rows)."""

    @property
    def n_cols(self) -> int:
        return int(self.A.shape[1])

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    def chair_duals(
        self, problem: Problem, pi: np.ndarray, n_model_rows: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """From the row duals ``pi`` of this model's LP (maximisation sign): per project the
        dual of its one-chair row, per expert the dual of its chair cap row (<= 0)."""
        one = np.zeros(problem.n_projects)
        cap = np.zeros(problem.n_experts)
        if not self.chair_pair.size:
            return one, cap
        start = n_model_rows + self.chair_pair.size
        chaired = np.flatnonzero(needs_chair(problem))
        one[chaired] = pi[start : start + chaired.size]
        cap[self.cap_expert] = np.minimum(pi[start + chaired.size :], 0.0)
        return one, cap


def chair_columns_needed(problem: Problem) -> bool:
    """Does the exact model need chair variables (the chair rule's cap can bind)?"""
    return problem.rules.chair is not None and cap_can_bind(problem)


def extend(problem: Problem, model: Model, chairs: bool | None = None) -> Extended:
    """``model`` with chair variables and rows when ``chairs`` (default: when the cap can
    bind), else ``model`` as it is."""
    chairs = chair_columns_needed(problem) if chairs is None else chairs
    n = model.n_pairs
    if not chairs:
        return Extended(model.A, model.lb, model.ub, model.weight, n, np.zeros(0, np.int64))
    pairs = model.pairs
    need = needs_chair(problem)
    can = np.flatnonzero(need[pairs.project] & may_chair(problem)[pairs.expert])
    ny = can.size
    ones = np.ones(ny)
    y = np.arange(ny)
    # y_i - x_can[i] <= 0
    link = sp.csr_matrix(
        (np.concatenate([-ones, ones]), (np.concatenate([y, y]), np.concatenate([can, n + y]))),
        shape=(ny, n + ny),
    )
    chaired = np.flatnonzero(need)
    renum = np.full(problem.n_projects, -1)
    renum[chaired] = np.arange(chaired.size)
    one = sp.csr_matrix((ones, (renum[pairs.project[can]], n + y)), shape=(chaired.size, n + ny))
    cap = problem.rules.chair.max_per_expert  # type: ignore[union-attr]
    experts, count = np.unique(pairs.expert[can], return_counts=True)
    binding = experts[count > cap]
    row_of = np.full(problem.n_experts, -1)
    row_of[binding] = np.arange(binding.size)
    in_cap = row_of[pairs.expert[can]] >= 0
    cap_rows = sp.csr_matrix(
        (ones[in_cap], (row_of[pairs.expert[can][in_cap]], n + y[in_cap])),
        shape=(binding.size, n + ny),
    )
    A = sp.vstack([sp.hstack([model.A, sp.csr_matrix((model.n_rows, ny))]), link, one, cap_rows])
    lb = np.concatenate(
        [model.lb, np.full(ny, -np.inf), np.ones(chaired.size), np.full(binding.size, -np.inf)]
    )
    ub = np.concatenate(
        [model.ub, np.zeros(ny), np.ones(chaired.size), np.full(binding.size, float(cap))]
    )
    weight = np.concatenate([model.weight, np.zeros(ny, dtype=model.weight.dtype)])
    return Extended(A.tocsr(), lb, ub, weight, n, can, binding)

"""Field coverage: which (project, field prefix) pairs a panel must cover, and which experts
hold each node of the field tree (the data behind the ``coverage`` rule)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from expertmatch.domain.problem import Problem, memo


@dataclass(frozen=True)
class Coverage:
    """One entry per (project, distinct field prefix to cover); ``holds[e, node]`` is 1 when
    one of expert e's fields lies under that node of the field tree."""

    project: np.ndarray
    node: np.ndarray
    nodes: tuple[str, ...]
    holds: sp.csr_matrix
    holds_t: sp.csr_matrix  # nodes x experts

    @classmethod
    def build(cls, problem: Problem) -> Coverage:
        tree = problem.field_tree
        nodes = tuple(sorted({n for chain in tree.chains.values() for n in chain}))
        node_id = {n: i for i, n in enumerate(nodes)}
        indptr, indices = [0], []
        for fields in problem.expert_fields:
            indices.extend(sorted({node_id[n] for f in fields for n in tree.chains[f]}))
            indptr.append(len(indices))
        holds = sp.csr_matrix(
            (np.ones(len(indices)), indices, indptr), shape=(problem.n_experts, len(nodes))
        )
        project = [p for p in range(problem.n_projects) for _ in problem.coverage_keys(p)]
        node = [node_id[k] for p in range(problem.n_projects) for k in problem.coverage_keys(p)]
        return cls(
            np.array(project, dtype=np.int64),
            np.array(node, dtype=np.int64),
            nodes,
            holds,
            holds.T.tocsr(),
        )


def coverage_rows(problem: Problem) -> Coverage:
    """The coverage rows of a batch (computed once per problem)."""
    return memo(problem, "coverage", lambda: Coverage.build(problem))

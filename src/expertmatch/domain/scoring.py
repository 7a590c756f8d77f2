"""How well an expert fits a project: supplied scores, or the built-in score.

Built-in score, from 0 to 100 (rounded to 2 decimals)::

    score = 80 x field_match + 20 x keyword_match

``field_match`` compares field codes through their hierarchy. For one project field ``f`` and
one expert field ``g``: 1.0 if the codes are equal, 0.6 if they share at least two levels
(same parent, e.g. ``520.20.10`` and ``520.20.30``), 0.3 if they share only the root, else 0.
The expert's primary (first) field counts fully, the others x 0.8. Each project field takes its
best expert field; the project's primary field weighs 2, the others 1:
``field_match = sum_i w_i max_j sim(f_i, g_j) m_j / sum_i w_i``.

``keyword_match`` is the share of the project's keywords that the expert lists too, after
Unicode NFKC normalisation and case folding (so Chinese keywords such as 机器学习 match exactly,
full-width and half-width forms alike); 0 when the project lists no keywords.

With experts' papers (``papers.csv``) the built-in score blends in text (the project's title
and ``abstract`` against the expert's papers, :mod:`expertmatch.domain.text`)::

    score = (1 - w) x (80 x field_match + 20 x keyword_match) + w x text      if the first part > 0
    score = 0                                                                  otherwise

``w`` is ``[text] weight`` of ``rules.toml`` (default 0.5) and ``text``, from 0 to 100, is
``100 x Phi(affinity)``: 50 for the expert's average project, more for the projects closest to
their papers, 50 for an expert without papers. Text ranks the experts within the fields; it
never makes a pair that field codes and keywords score 0 eligible (an expert from outside the
project's fields stays outside).

With ``scores.csv``, a pair's score is its row there and an absent pair scores 0 (papers are
then not used).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from expertmatch.domain.problem import Problem, memo
from expertmatch.domain.text import closest_papers, has_text, text_points
from expertmatch.vocabulary import SCORE_SCALE

FIELD_WEIGHT = 80.0
KEYWORD_WEIGHT = 20.0
SIM_EXACT, SIM_PARENT, SIM_ROOT = 1.0, 0.6, 0.3
PRIMARY_PROJECT_WEIGHT, SECONDARY_EXPERT_FACTOR = 2.0, 0.8
#: The built-in score is rounded to this many decimals.
DECIMALS = 2


class _Index:
    """Arrays for vectorised scoring, built once per batch."""

    def __init__(self, problem: Problem):
        tree = problem.field_tree
        self.depth = max((len(c) for c in tree.chains.values()), default=1)
        self.pf = tree.level_matrix(problem.project_fields, pad=-1)
        self.ef = tree.level_matrix(problem.expert_fields, pad=-2)
        wp = np.zeros(self.pf.shape[:2])
        for i, fields in enumerate(problem.project_fields):
            wp[i, : len(fields)] = 1.0
            wp[i, 0] = PRIMARY_PROJECT_WEIGHT
        self.wp = wp / wp.sum(axis=1, keepdims=True)
        self.me = np.full(self.ef.shape[1], SECONDARY_EXPERT_FACTOR)
        self.me[0] = 1.0
        # Each distinct project field code against every expert: max_j sim(f, g_j) m_j.
        # A project's field match is then a weighted sum of its codes' rows.
        codes = sorted({f for fields in problem.project_fields for f in fields})
        code_id = {c: i for i, c in enumerate(codes)}
        self.project_codes: np.ndarray = np.full(self.pf.shape[:2], -1, dtype=np.int64)
        for i, fields in enumerate(problem.project_fields):
            self.project_codes[i, : len(fields)] = [code_id[f] for f in fields]
        single = tree.level_matrix([(c,) for c in codes], pad=-1)
        self.code_match = np.zeros((len(codes), problem.n_experts))
        step = max(1, 4_000_000 // max(problem.n_experts, 1))
        for start in range(0, len(codes), step):
            part = single[start : start + step]
            self.code_match[start : start + step] = _field_match(
                self, part[:, None], self.ef[None, :], np.ones((part.shape[0], 1, 1))
            )
        vocab: dict[str, int] = {}
        self.kp = _incidence(problem.project_keywords, vocab, normalise=True)
        self.ke = _incidence(problem.expert_keywords, vocab, normalise=False)
        self.kp.resize((self.kp.shape[0], len(vocab)))
        self.ke.resize((self.ke.shape[0], len(vocab)))


def _incidence(
    rows: tuple[tuple[str, ...], ...], vocab: dict[str, int], normalise: bool
) -> sp.csr_matrix:
    indptr, indices, data = [0], [], []
    for words in rows:
        ids = sorted({vocab.setdefault(w, len(vocab)) for w in words})
        indices.extend(ids)
        data.extend([1.0 / len(ids) if normalise else 1.0 for _ in ids])
        indptr.append(len(indices))
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), max(len(vocab), 1)))


@lru_cache(maxsize=4)
def _index(problem: Problem) -> _Index:
    return _Index(problem)


def _supplied(problem: Problem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Supplied scores as arrays sorted by project then expert."""
    given = problem.supplied_scores
    assert given is not None
    return given.project, given.expert, given.score


def _field_match(index: _Index, pf: np.ndarray, ef: np.ndarray, wp: np.ndarray) -> np.ndarray:
    """Field match for broadcastable project rows ``pf`` and expert rows ``ef``."""
    d = index.depth
    total = None
    for i in range(pf.shape[-2]):
        best = None
        for j in range(ef.shape[-2]):
            a, b = pf[..., i, :], ef[..., j, :]
            shared = np.zeros(np.broadcast_shapes(a.shape[:-1], b.shape[:-1]), dtype=np.int8)
            run = np.ones_like(shared, dtype=bool)
            for level in range(d):
                run &= a[..., level] == b[..., level]
                shared += run
            sim = np.where(
                a[..., d] == b[..., d],
                SIM_EXACT,
                np.where(shared >= 2, SIM_PARENT, np.where(shared >= 1, SIM_ROOT, 0.0)),
            )
            sim = sim * index.me[j]
            best = sim if best is None else np.maximum(best, sim)
        assert best is not None
        term = best * wp[..., i]
        total = term if total is None else total + term
    assert total is not None
    return total


def block_scores(problem: Problem, projects: np.ndarray) -> np.ndarray:
    """Scores of the given projects against every expert: shape (len(projects), experts)."""
    if problem.supplied_scores is not None:
        sp_project, sp_expert, sp_score = _supplied(problem)
        out = np.zeros((projects.size, problem.n_experts))
        for i, p in enumerate(projects):
            lo, hi = np.searchsorted(sp_project, [p, p + 1])
            out[i, sp_expert[lo:hi]] = sp_score[lo:hi]
        return out
    raw = _field_keyword_block(problem, projects)
    if not _blends(problem):
        return np.round(raw, DECIMALS, out=raw)
    return _blend(problem, raw, text_points(problem)[projects])


def _field_keyword_block(problem: Problem, projects: np.ndarray) -> np.ndarray:
    """``80 x field_match + 20 x keyword_match`` of the given projects against every expert,
    not rounded."""
    index = _index(problem)
    field: np.ndarray | None = None
    for i in range(index.project_codes.shape[1]):
        codes = index.project_codes[projects, i]
        has = codes >= 0
        if has.all():  # every project has an i-th code: weighted in place, no masked copies
            part = index.code_match[codes]
            part *= index.wp[projects, i][:, None]
            # the same sums as below (the first starts from zero: 0 + x is x, x >= 0)
            if field is None:
                field = part
            else:
                field += part
            continue
        if field is None:
            field = np.zeros((projects.size, problem.n_experts))
        field[has] += index.wp[projects[has], i][:, None] * index.code_match[codes[has]]
    if field is None:
        field = np.zeros((projects.size, problem.n_experts))
    keyword = (index.kp[projects] @ index.ke.T).toarray()
    field *= FIELD_WEIGHT  # in place: scoring is most of a pricing pass over every pair
    keyword *= KEYWORD_WEIGHT
    field += keyword
    return field


def score_table(problem: Problem, block: int = 2000) -> pd.DataFrame:
    """Every pair with a score above 0, in the ``scores.csv`` format (``expert``, ``project``,
    ``score``; an absent pair scores 0), projects in batch order and experts in batch order
    within a project. With built-in scores it adds the parts: ``field_score`` (field codes
    and keywords, 0 to 100) and, when papers are given, ``text_score`` (0 to 100). Conflicts
    are not applied: this is how well each expert fits, for the office to inspect or edit and
    give back as ``scores.csv``."""
    frames = []
    for start in range(0, problem.n_projects, block):
        projects = np.arange(start, min(start + block, problem.n_projects))
        scores = block_scores(problem, projects)
        p, e = np.nonzero(scores > 0)
        part: dict[str, Any] = {
            "expert": np.asarray(problem.expert_ids, dtype=object)[e],
            "project": np.asarray(problem.project_ids, dtype=object)[projects[p]],
            "score": scores[p, e],
        }
        if problem.supplied_scores is None:
            part["field_score"] = np.round(_field_keyword_block(problem, projects), DECIMALS)[p, e]
            if _blends(problem):
                text = text_points(problem)[projects]
                part["text_score"] = np.round(text[p, e].astype(np.float64), DECIMALS)
        frames.append(pd.DataFrame(part))
    columns = ["expert", "project", "score"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def pair_scores(problem: Problem, projects: np.ndarray, experts: np.ndarray) -> np.ndarray:
    """Scores of individual (project, expert) pairs, eligible or not."""
    if problem.supplied_scores is not None:
        sp_project, sp_expert, sp_score = _supplied(problem)
        n = max(problem.n_experts, 1)
        keys = sp_project * n + sp_expert
        query = np.asarray(projects, dtype=np.int64) * n + np.asarray(experts, dtype=np.int64)
        if keys.size == 0:
            return np.zeros(query.size)
        at = np.minimum(np.searchsorted(keys, query), keys.size - 1)
        return np.where(keys[at] == query, sp_score[at], 0.0)
    index = _index(problem)
    field = _field_match(index, index.pf[projects], index.ef[experts], index.wp[projects])
    keyword = np.asarray(index.kp[projects].multiply(index.ke[experts]).sum(axis=1)).ravel()
    raw = FIELD_WEIGHT * field + KEYWORD_WEIGHT * keyword
    if not _blends(problem):
        return np.round(raw, DECIMALS)
    return _blend(problem, raw, text_points(problem)[projects, experts])


def _blends(problem: Problem) -> bool:
    """Does the built-in score blend in text (papers given, ``[text] weight`` above 0)?"""
    return has_text(problem) and problem.rules.text_weight > 0


def _blend(problem: Problem, raw: np.ndarray, text: np.ndarray) -> np.ndarray:
    """The field-and-keyword score ``raw`` blended with the text points (the module's rule)."""
    weight = problem.rules.text_weight
    blended = (1.0 - weight) * raw + weight * text.astype(np.float64)
    return np.round(np.where(np.round(raw, DECIMALS) > 0, blended, 0.0), DECIMALS)


def score_parts(problem: Problem, project: int, expert: int) -> tuple[float, float | None]:
    """The two parts of a pair's built-in score: field codes and keywords (0 to 100), and
    text (0 to 100; None without papers)."""
    index = _index(problem)
    p, e = np.array([project]), np.array([expert])
    field = _field_match(index, index.pf[p], index.ef[e], index.wp[p])
    keyword = np.asarray(index.kp[p].multiply(index.ke[e]).sum(axis=1)).ravel()
    raw = float(np.round(FIELD_WEIGHT * field + KEYWORD_WEIGHT * keyword, DECIMALS)[0])
    text = float(text_points(problem)[project, expert]) if has_text(problem) else None
    return raw, text


def best_match(problem: Problem, project: int, expert: int) -> tuple[str, str, float]:
    """The project field and expert field that fit best, and their similarity (0 to 1)."""
    tree = problem.field_tree
    best = ("", "", 0.0)
    for f in problem.project_fields[project]:
        for j, g in enumerate(problem.expert_fields[expert]):
            shared = tree.shared_levels(f, g)
            sim = (
                SIM_EXACT
                if f == g
                else SIM_PARENT
                if shared >= 2
                else (SIM_ROOT if shared >= 1 else 0.0)
            )
            sim *= 1.0 if j == 0 else SECONDARY_EXPERT_FACTOR
            if sim > best[2]:
                best = (f, g, sim)
    return best


def score_of(problem: Problem, project: int, expert: int) -> float:
    """The score of one pair, whether eligible or not."""
    return float(pair_scores(problem, np.array([project]), np.array([expert]))[0])


def score_unit(problem: Problem) -> float:
    """The unit that makes every score an exact integer multiple (for CP-SAT and the weights).

    Built-in scores have ``DECIMALS`` decimals; supplied ones are kept to ``SCORE_DECIMALS``
    (:mod:`expertmatch.vocabulary`), and their gcd in that unit makes the weights small."""
    return memo(problem, "score_unit", lambda: _score_unit(problem))


def _score_unit(problem: Problem) -> float:
    if problem.supplied_scores is None:
        return 10.0**-DECIMALS
    raw = np.unique(
        np.rint(np.append(problem.supplied_scores.score, 0.0) * SCORE_SCALE).astype(np.int64)
    )
    g = int(np.gcd.reduce(raw)) if raw.size else 0
    return (g or 1) / SCORE_SCALE


def text_evidence(problem: Problem, project: int, expert: int, limit: int = 3) -> list[str]:
    """For ``why``: how text entered a pair's built-in score, and the expert's papers closest
    to the project's title and abstract with their cosine similarity; empty without papers or
    with ``scores.csv``."""
    if not has_text(problem) or problem.supplied_scores is not None:
        return []
    field, text = score_parts(problem, project, expert)
    weight = problem.rules.text_weight
    project_id, expert_id = problem.project_ids[project], problem.expert_ids[expert]
    if field <= 0:
        lines = [
            f"field codes and keywords give 0, so text does not count ({expert_id} is "
            f"outside {project_id}'s fields)"
        ]
    else:
        lines = [
            f"score = {1 - weight:g} x {field:g} (field codes, keywords) + {weight:g} x "
            f"{text:.2f} (text, [text] weight = {weight:g})"
        ]
    papers = closest_papers(problem, project, expert, limit)
    if not papers:
        return [*lines, f"{expert_id} has no papers in papers.csv (text counts as 50)"]
    found = "; ".join(
        f"{title}{f' ({year})' if year >= 0 else ''}: {cosine:.2f}"
        for title, year, cosine in papers
    )
    return [*lines, f"closest papers to {project_id} (cosine similarity): {found}"]

"""Text affinity: how close a project's title and abstract are to an expert's papers, in Chinese
and English, by a lexical method that runs on a CPU with nothing downloaded (3,000 experts with
20 papers each against 10,000 projects: about half a minute, ``benchmarks/RESULTS.md``).

Terms. Text is case-folded (NFKC-normalised where that changes a word: full-width ＢＥＲＴ is
bert), then segmented by jieba — its dictionary and HMM, through ``rjieba``, the Rust
implementation of jieba: the same words, about 30 times faster than the Python package, no
download — which also separates Latin words, numbers and punctuation. Punctuation ends a
clause; hyphens and dots split Latin words (graph-based is graph, based). Latin words are
stemmed by Snowball's English (Porter2) stemmer; numbers, one-letter words and the stop words
of :mod:`expertmatch.domain.stopwords` are dropped. A document's terms are these words and the
bigrams of adjacent words within one clause — the title and the abstract are separate fields,
so no bigram spans the two.

Two signals, both over the batch's own texts (projects and papers together fit one vocabulary
and one document frequency ``df`` per term, ``N`` documents):

1. **TF-IDF cosine, mean of the top 5.** Weight ``(1 + ln tf) x (ln((1 + N) / (1 + df)) + 1)``
   (sublinear term frequency, smoothed IDF), rows scaled to unit length. For project ``p`` and
   expert ``e``: the cosine between ``p`` and each paper of ``e``, and the mean of the
   ``TOP_PAPERS`` (5) largest (of all of them when ``e`` has fewer).
2. **BM25, each paper as the query.** Each paper of ``e`` queries the projects:
   ``BM25(q, p) = sum over the distinct terms t of q of idf(t) x tf(t, p) (k1 + 1) /
   (tf(t, p) + k1 (1 - b + b |p| / avgdl))`` with ``idf(t) = ln(1 + (N - df + 0.5) /
   (df + 0.5))``, ``k1 = 1.2``, ``b = 0.75``, ``|p|`` the project's number of terms and
   ``avgdl`` the projects' mean; averaged over the papers of ``e``.

Each signal is standardised per expert over the projects (z-score: minus the expert's mean,
divided by the expert's standard deviation; 0 when it is constant), the two are added, and the
sum is standardised per expert again: the affinity of ``(e, p)`` says how many standard
deviations project ``p`` stands above the expert's average project. Per-expert scaling makes
the two signals commensurable and removes the habits of an expert's writing (long papers, many
papers). The recipe — sublinear TF, Porter2 stems with bigrams within a field, batch IDF, mean
of the top-5 cosines, BM25 with the paper as the query, per-expert z-scores — is the one issue
15 reports to reach the neural matchers (SPECTER, TPMS) on the gold standard of reviewers'
self-reported expertise of Stelmakh et al. (2023). That data set is not available here, so it
is not re-measured; ``benchmarks/RESULTS.md`` has what is measured (speed, and the loss on a
constructed gold standard).

Everything is sparse and vectorised. Tokens are looked up once per distinct token, and the
bigrams are pairs of word numbers found with numpy. The project x paper cosines are computed in
blocks of projects (``BLOCK_CELLS`` cells at a time), the papers laid out expert by expert so
that a block reshapes to (projects, experts, papers) and one sort along the last axis gives
each expert's top 5; the terms shared by many projects and papers go through one dense matrix
product, the others through a sparse one (:class:`_Product`). BM25 averaged over an expert's
papers is one product with the expert's mean query.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from expertmatch.domain.problem import Papers, Problem
from expertmatch.domain.stopwords import CHINESE, ENGLISH
from expertmatch.errors import InputError, InputIssue
from expertmatch.io.tables import Table, from_objects

#: An expert's affinity to a project is the mean cosine of their this many closest papers.
TOP_PAPERS = 5
#: BM25's term-frequency saturation and length normalisation (the usual values).
BM25_K1, BM25_B = 1.2, 0.75
#: Cells of the dense project x paper (and project x expert x paper) blocks held at once.
BLOCK_CELLS = 8_000_000
#: Terms shared by more than this share of (project, paper) pairs go to the dense product.
DENSE_SHARE = 1 / 512
#: At most this many terms go to the dense product (its papers' matrix is papers x terms).
DENSE_TERMS = 1024

#: Characters NFKC changes that matter to words: full-width letters and digits (ＢＥＲＴ),
#: circled numbers, Latin ligatures. Text without them is not normalised (that is the slow part).
_COMPAT = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u2460-\u24ff\ufb00-\ufb06]")
#: What joins Latin words in jieba's eyes (graph-based, 3.5%, e.g) and what it becomes in
#: ours: a space, or (a dot) a clause break.
_JOINERS = (*((c, " ") for c in "-_+#&%'’"), (".", " . "))
#: A run of Han characters (the CJK blocks jieba segments).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
#: What a token from the segmenter is: a word (its term), nothing (a stop word, a space, a
#: number) or the end of a clause (punctuation).
SKIP, BREAK = "", None


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    """The English Porter2 stemmer, built on first use (only text scoring stems)."""
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=1 << 20)
def _term(token: str) -> str | None:
    """A token's term: a Latin word's Porter2 stem, a Han word as it is; ``SKIP`` for a stop
    word, a number, a one-letter word, a space or a letter of another script; ``BREAK`` for
    punctuation."""
    if token.isascii():
        if token.isalnum():
            if len(token) < 2 or token.isdigit() or token in ENGLISH:
                return SKIP
            return str(_stemmer().stemWord(token))
        return SKIP if token.isspace() else BREAK
    if _HAN.fullmatch(token):
        return SKIP if token in CHINESE else token
    return SKIP if token.isspace() or token.isalpha() else BREAK


def _tokens(text: str) -> list[str]:
    """The segmenter's tokens of ``text``: case-folded, NFKC only where it changes a word,
    Latin words split at hyphens and dots."""
    if _COMPAT.search(text):
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    for joiner, space in _JOINERS:
        text = text.replace(joiner, space)
    import rjieba  # here: only text scoring segments (its dictionary costs 0.1 s to load)

    return list(rjieba.cut(text, hmm=True))


def clauses(text: str) -> list[list[str]]:
    """The terms of ``text`` clause by clause (stemmed, stop words dropped, empty clauses left
    out)."""
    out: list[list[str]] = [[]]
    for token in _tokens(text):
        term = _term(token)
        if term is BREAK:
            out.append([])
        elif term:
            out[-1].append(term)
    return [words for words in out if words]


def tokenize(text: str) -> list[str]:
    """The words of ``text`` in reading order: Chinese segmented, English stemmed, stop words
    dropped (``"基于深度学习的图像识别"`` -> ``["深度", "学习", "图像识别"]``)."""
    return [word for clause in clauses(text) for word in clause]


def field_terms(text: str) -> list[str]:
    """The terms of one field (a title, an abstract): its words and the bigrams of adjacent
    words within a clause (``"深度 学习"``). The reference :func:`count_matrix` is tested
    against."""
    out: list[str] = []
    for words in clauses(text):
        out += words
        out += [f"{a} {b}" for a, b in pairwise(words)]
    return out


def document_terms(title: str, abstract: str) -> list[str]:
    """A document's terms: those of its title and of its abstract (no bigram spans the two)."""
    return field_terms(title) + field_terms(abstract)


#: Word ids in the stream :func:`count_matrix` builds: a skipped token, a clause break.
_SKIP_ID, _BREAK_ID = -2, -1


@dataclass(frozen=True)
class Terms:
    """The columns of a count matrix: the words, then the bigrams as pairs of word numbers."""

    words: list[str]
    bigrams: np.ndarray
    """Shape (bigrams, 2): each bigram's first and second word."""

    def names(self) -> list[str]:
        """Every column's term (``"深度"``, ``"深度 学习"``); built on demand (for tests and
        explanations: a large batch has millions of bigrams)."""
        return self.words + [f"{self.words[a]} {self.words[b]}" for a, b in self.bigrams.tolist()]


class _Stream:
    """Documents as one stream of word numbers: each distinct token looked up once."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.number: dict[str, int] = {}
        self.words: list[str] = []

    def token_id(self, token: str) -> int:
        """A token's word number, or ``_SKIP_ID`` / ``_BREAK_ID`` (remembered)."""
        term = _term(token)
        if term is BREAK:
            found = _BREAK_ID
        elif not term:
            found = _SKIP_ID
        else:
            found = self.number.setdefault(term, len(self.words))
            if found == len(self.words):
                self.words.append(term)
        self.ids[token] = found
        return found

    def text(self, text: str) -> list[int]:
        """One field's word numbers, ending with a clause break."""
        tokens = _tokens(text)
        found = list(map(self.ids.get, tokens))
        if None in found:
            found = [
                self.token_id(t) if f is None else f for t, f in zip(tokens, found, strict=True)
            ]
        found.append(_BREAK_ID)
        return found  # type: ignore[return-value]


def count_matrix(documents: Sequence[tuple[str, str]]) -> tuple[sp.csr_matrix, Terms]:
    """Term counts, one row per (title, abstract) document, and its :class:`Terms`: the words
    in order of first appearance, then the bigrams in order of their words' numbers, so the
    same documents always give the same matrix. Equal to counting :func:`document_terms`.

    The words of all documents become one integer stream (each distinct token is segmented
    text looked up once) with a break after each clause and each field; the bigrams are the
    adjacent pairs of word numbers, found with numpy.
    """
    stream = _Stream()
    parts: list[int] = []
    lengths = np.zeros(len(documents), dtype=np.int64)
    for i, (title, abstract) in enumerate(documents):
        before = len(parts)
        parts += stream.text(title)
        parts += stream.text(abstract)
        lengths[i] = len(parts) - before
    flat = np.asarray(parts, dtype=np.int64)
    owner = np.repeat(np.arange(len(documents), dtype=np.int64), lengths)
    kept = flat != _SKIP_ID
    flat, owner = flat[kept], owner[kept]
    n_words = max(len(stream.words), 1)
    pair = (flat[:-1] >= 0) & (flat[1:] >= 0)
    bigrams, bigram_ids = np.unique(flat[:-1][pair] * n_words + flat[1:][pair], return_inverse=True)
    is_word = flat >= 0
    rows = np.concatenate([owner[is_word], owner[:-1][pair]])
    cols = np.concatenate([flat[is_word], len(stream.words) + bigram_ids.ravel()])
    shape = (len(documents), max(len(stream.words) + bigrams.size, 1))
    counts = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=shape)
    counts.sum_duplicates()
    counts.sort_indices()
    first, second = np.divmod(bigrams, n_words)
    return counts, Terms(stream.words, np.column_stack([first, second]))


def _scale_rows(matrix: sp.csr_matrix, factors: np.ndarray) -> None:
    """Multiply each row of ``matrix`` by its factor, in place."""
    matrix.data *= np.repeat(factors, np.diff(matrix.indptr))


def tfidf(counts: sp.csr_matrix, df: np.ndarray, n_documents: int) -> sp.csr_matrix:
    """Sublinear TF x smoothed IDF, rows of unit length (a row without terms stays zero)."""
    weights = counts.astype(np.float64, copy=True)
    idf = np.log((1.0 + n_documents) / (1.0 + df)) + 1.0
    weights.data = (1.0 + np.log(weights.data)) * idf[weights.indices]
    norms = np.sqrt(np.asarray(weights.multiply(weights).sum(axis=1)).ravel())
    _scale_rows(weights, np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0))
    return weights


def bm25_documents(counts: sp.csr_matrix) -> sp.csr_matrix:
    """Each searched document's BM25 term weights ``tf (k1 + 1) / (tf + k1 (1 - b + b |d| /
    avgdl))`` (the query's IDF is applied on the query side)."""
    weights = counts.astype(np.float64, copy=True)
    length = np.asarray(counts.sum(axis=1)).ravel()
    average = float(length.mean()) if length.size and length.mean() > 0 else 1.0
    norm = BM25_K1 * (1.0 - BM25_B + BM25_B * length / average)
    tf = weights.data
    weights.data = tf * (BM25_K1 + 1.0) / (tf + np.repeat(norm, np.diff(weights.indptr)))
    return weights


def bm25_idf(df: np.ndarray, n_documents: int) -> np.ndarray:
    """BM25's IDF, ``ln(1 + (N - df + 0.5) / (df + 0.5))``: never negative."""
    return np.log1p((n_documents - df + 0.5) / (df + 0.5))


@dataclass(frozen=True, eq=False)
class TextModel:
    """The batch's texts fitted once: TF-IDF rows of projects and papers, BM25 weights of the
    projects and each expert's mean BM25 query. Experts are numbered ``0..n_experts - 1``;
    ``paper_expert`` says whose each paper is (an expert may have none)."""

    projects: sp.csr_matrix
    papers: sp.csr_matrix
    paper_expert: np.ndarray
    n_experts: int
    bm25_projects: sp.csr_matrix
    bm25_queries: sp.csr_matrix

    @classmethod
    def fit(
        cls,
        projects: Sequence[tuple[str, str]],
        papers: Sequence[tuple[str, str]],
        paper_expert: np.ndarray,
        n_experts: int,
    ) -> TextModel:
        """Fit the vocabulary and document frequencies on projects and papers together."""
        counts, _ = count_matrix([*projects, *papers])
        n = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
        weights = tfidf(counts, df, n)
        n_projects = len(projects)
        owner = np.asarray(paper_expert, dtype=np.int64)
        presence = counts[n_projects:].astype(np.float64, copy=True)
        presence.data = bm25_idf(df, n)[presence.indices]
        per_expert = np.bincount(owner, minlength=n_experts).astype(np.float64)
        mean = sp.csr_matrix(
            (1.0 / per_expert[owner], (owner, np.arange(owner.size))),
            shape=(n_experts, owner.size),
        )
        return cls(
            projects=weights[:n_projects],
            papers=weights[n_projects:],
            paper_expert=owner,
            n_experts=n_experts,
            bm25_projects=bm25_documents(counts[:n_projects]),
            bm25_queries=(mean @ presence).tocsr(),
        )

    def _slots(self) -> tuple[sp.csr_matrix, np.ndarray]:
        """The papers laid out expert by expert, ``width`` rows each (the most papers an
        expert has; an expert with fewer gets empty rows, whose cosines are 0), and each
        expert's number of papers. Cosines are never negative, so an empty row never displaces
        a paper from an expert's top 5 and adds 0 where an expert has fewer than 5."""
        owner = self.paper_expert
        count = np.bincount(owner, minlength=self.n_experts)
        width = max(int(count.max(initial=0)), 1)
        order = np.argsort(owner, kind="stable")
        start = np.concatenate(([0], np.cumsum(count)[:-1]))
        slot = np.empty(owner.size, dtype=np.int64)
        slot[order] = np.arange(owner.size) - np.repeat(start, count)
        place = sp.csr_matrix(
            (np.ones(owner.size), (owner * width + slot, np.arange(owner.size))),
            shape=(self.n_experts * width, owner.size),
        )
        return (place @ self.papers).tocsr(), count

    def top_cosine(self) -> np.ndarray:
        """Per project and expert, the mean of the ``TOP_PAPERS`` largest cosines between the
        project and the expert's papers (0 for an expert without papers): shape
        (projects, experts)."""
        papers, count = self._slots()
        width = papers.shape[0] // max(self.n_experts, 1)
        keep = min(TOP_PAPERS, width)
        divisor = np.maximum(np.minimum(count, TOP_PAPERS), 1).astype(np.float32)
        n_projects = self.projects.shape[0]
        out = np.zeros((n_projects, self.n_experts), dtype=np.float32)
        cosine = _Product(self.projects, papers)
        step = max(1, BLOCK_CELLS // max(papers.shape[0], 1))
        for start in range(0, n_projects, step):
            stop = min(start + step, n_projects)
            grouped = cosine.block(start, stop).reshape(stop - start, self.n_experts, width)
            if width > keep:
                grouped = np.sort(grouped, axis=2)[:, :, width - keep :]
            out[start:stop] = grouped.sum(axis=2) / divisor
        return out

    def bm25(self) -> np.ndarray:
        """Per project and expert, the BM25 score of each of the expert's papers as a query
        against the project, averaged over the papers: shape (projects, experts)."""
        n_projects = self.bm25_projects.shape[0]
        out = np.zeros((n_projects, self.n_experts), dtype=np.float32)
        product = _Product(self.bm25_projects, self.bm25_queries)
        step = max(1, BLOCK_CELLS // max(self.n_experts, 1))
        for start in range(0, n_projects, step):
            stop = min(start + step, n_projects)
            out[start:stop] = product.block(start, stop)
        return out

    def affinity(self) -> np.ndarray:
        """The combined affinity, per expert a z-score over the projects: shape (projects,
        experts), float32."""
        combined = standardise(self.top_cosine())
        combined += standardise(self.bm25())
        return standardise(combined)

    def cosines(self, project: int, expert: int) -> tuple[np.ndarray, np.ndarray]:
        """The expert's papers (their numbers) and each one's cosine with the project, closest
        first (ties in paper order)."""
        mine = np.flatnonzero(self.paper_expert == expert)
        cos = (self.papers[mine] @ self.projects[project].T).toarray().ravel()
        order = np.argsort(-cos, kind="stable")
        return mine[order], cos[order]


class _Product:
    """Blocks of rows of ``left @ right.T`` (two sparse matrices over the same terms) as dense
    float32 arrays: the cosines of projects with papers, the BM25 of projects with experts'
    queries.

    A term that occurs in a large share of the rows of both makes a sparse product slow
    (every pair of rows sharing it is one multiplication and one scattered addition); those
    terms go to one dense matrix product (BLAS), the rest to a sparse one: the same sums, split
    by term. A term is dense when the share of (left, right) row pairs that both hold it is
    above ``DENSE_SHARE`` (at most ``DENSE_TERMS`` terms, the most shared first).
    """

    def __init__(self, left: sp.csr_matrix, right: sp.csr_matrix) -> None:
        n_terms = left.shape[1]
        share = (np.bincount(left.indices, minlength=n_terms) / max(left.shape[0], 1)) * (
            np.bincount(right.indices, minlength=n_terms) / max(right.shape[0], 1)
        )
        order = np.argsort(-share, kind="stable")[:DENSE_TERMS]
        dense = np.zeros(n_terms, dtype=bool)
        dense[order[share[order] > DENSE_SHARE]] = True
        self.left_dense = left[:, dense].astype(np.float32).tocsr()
        self.left_sparse = left[:, ~dense].astype(np.float32).tocsr()
        self.right_dense_t = np.ascontiguousarray(
            right[:, dense].toarray(order="F").T, dtype=np.float32
        )
        self.right_sparse_t = right[:, ~dense].astype(np.float32).T.tocsr()
        self.n_right = right.shape[0]

    def block(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start..stop-1`` of ``left @ right.T``: shape (stop - start, right rows)."""
        if self.right_dense_t.shape[0]:
            out = self.left_dense[start:stop].toarray() @ self.right_dense_t
        else:
            out = np.zeros((stop - start, self.n_right), dtype=np.float32)
        out += (self.left_sparse[start:stop] @ self.right_sparse_t).toarray()
        return out


def standardise(values: np.ndarray) -> np.ndarray:
    """Each column (an expert) as z-scores over the rows (the projects), in place; a constant
    column becomes 0."""
    mean = values.mean(axis=0, dtype=np.float64)
    std = values.std(axis=0, dtype=np.float64)
    values -= mean.astype(values.dtype)
    values /= np.where(std > 0, std, np.inf).astype(values.dtype)
    return values


# -- the public function ---------------------------------------------------------------------


def text_affinity(projects: object, papers: object) -> pd.DataFrame:
    """How close each project's text is to each expert's papers.

    ``projects``: a DataFrame (or list of dicts) with ``id`` and ``title`` and/or ``abstract``;
    ``papers``: ``expert``, ``title`` and optionally ``abstract`` (several rows per expert).
    Returns one row per (expert, project) for every expert with a paper, in expert order of
    first appearance, then project order: ``expert``, ``project`` (categoricals) and ``score``,
    the affinity as a per-expert z-score (see the module's docstring). Bad input raises one
    :class:`InputError` naming the table, row and column of each issue.
    """
    tables = from_objects({"projects": projects, "papers": papers})
    ids, docs = _project_texts(tables["projects"])
    experts, owner, paper_docs = _paper_texts(tables["papers"])
    model = TextModel.fit(docs, paper_docs, owner, len(experts))
    score = model.affinity()  # (projects, experts)
    n_projects = len(ids)
    return pd.DataFrame(
        {
            "expert": pd.Categorical.from_codes(
                np.repeat(np.arange(len(experts)), n_projects), categories=experts
            ),
            "project": pd.Categorical.from_codes(
                np.tile(np.arange(n_projects), len(experts)), categories=ids
            ),
            "score": score.T.reshape(-1),
        }
    )


def _missing(table: Table, columns: Sequence[str]) -> list[InputIssue]:
    return [
        InputIssue(table.label, f"required column {c!r} missing", column=c)
        for c in columns
        if c not in table.columns
    ]


def _project_texts(table: Table) -> tuple[list[str], list[tuple[str, str]]]:
    """The projects' ids and (title, abstract); ids present and unique."""
    issues = _missing(table, ["id"])
    if not issues and "title" not in table.columns and "abstract" not in table.columns:
        issues.append(InputIssue(table.label, "needs a column 'title' or 'abstract'"))
    if issues:
        raise InputError(issues)
    ids = table.column("id")
    first: dict[str, int] = {}
    for i, value in enumerate(ids):
        if not value:
            issues.append(InputIssue(table.label, "empty id", table.row(i), "id"))
        elif value in first:
            issues.append(
                InputIssue(
                    table.label,
                    f"duplicate id {value!r} (first at row {table.row(first[value])})",
                    table.row(i),
                    "id",
                )
            )
        else:
            first[value] = i
    if issues:
        raise InputError(issues)
    docs = list(zip(table.column("title"), table.column("abstract"), strict=True))
    return list(ids), docs


def _paper_texts(table: Table) -> tuple[list[str], np.ndarray, list[tuple[str, str]]]:
    """The experts with papers (order of first appearance), each paper's expert number and
    (title, abstract); every paper names its expert and has a title."""
    issues = _missing(table, ["expert", "title"])
    if issues:
        raise InputError(issues)
    experts: dict[str, int] = {}
    owner = []
    for i, (expert, title) in enumerate(
        zip(table.column("expert"), table.column("title"), strict=True)
    ):
        if not expert:
            issues.append(InputIssue(table.label, "empty expert id", table.row(i), "expert"))
        if not title:
            issues.append(InputIssue(table.label, "empty title", table.row(i), "title"))
        owner.append(experts.setdefault(expert, len(experts)))
    if issues:
        raise InputError(issues)
    docs = list(zip(table.column("title"), table.column("abstract"), strict=True))
    return list(experts), np.array(owner, dtype=np.int64), docs


# -- the batch's text scores -------------------------------------------------------------------


def has_text(problem: Problem) -> bool:
    """Does the batch give experts' papers (so the built-in score blends in text)?"""
    return problem.papers is not None and len(problem.papers.title) > 0


@dataclass(frozen=True, eq=False)
class _Fitted:
    """A batch's fitted texts and text points, with the texts they came from."""

    titles: tuple[str, ...]
    abstracts: tuple[str, ...]
    n_experts: int
    model: TextModel
    points: np.ndarray


#: The fitted texts of each ``Papers`` table, shared by the Problems derived from one batch
#: (``with_rules``, declines, ``used``: new Problems holding the same texts), so a large batch
#: is not fitted again for each.
_FITTED: weakref.WeakKeyDictionary[Papers, _Fitted] = weakref.WeakKeyDictionary()


def _fitted(problem: Problem) -> _Fitted:
    """The batch's texts fitted once (see :data:`_FITTED`)."""
    papers = problem.papers
    assert papers is not None
    found = _FITTED.get(papers)
    if (
        found is not None
        and found.titles is problem.project_titles
        and found.abstracts is problem.project_abstracts
        and found.n_experts == problem.n_experts
    ):
        return found
    abstracts = problem.project_abstracts or ("",) * problem.n_projects
    model = TextModel.fit(
        list(zip(problem.project_titles, abstracts, strict=True)),
        list(zip(papers.title, papers.abstract, strict=True)),
        papers.expert,
        problem.n_experts,
    )
    from scipy.special import ndtr  # here: scipy.special takes 0.05-0.1 s to import

    points = (100.0 * ndtr(model.affinity())).astype(np.float32)
    points[:, np.bincount(papers.expert, minlength=problem.n_experts) == 0] = 50.0
    points.flags.writeable = False
    found = _Fitted(
        problem.project_titles, problem.project_abstracts, problem.n_experts, model, points
    )
    _FITTED[papers] = found
    return found


def batch_model(problem: Problem) -> TextModel:
    """The batch's texts fitted: project titles and abstracts, papers."""
    return _fitted(problem).model


def text_points(problem: Problem) -> np.ndarray:
    """Each pair's text score from 0 to 100, ``100 x Phi(affinity)`` (Phi the standard normal
    distribution function: 50 for the expert's average project); 50 for an expert without
    papers. Shape (projects, experts), float32, read-only, computed once per batch."""
    return _fitted(problem).points


def closest_papers(
    problem: Problem, project: int, expert: int, limit: int = 3
) -> list[tuple[str, int, float]]:
    """The expert's papers closest to the project's text: (title, year or -1, cosine), the
    closest first, at most ``limit``."""
    if not has_text(problem):
        return []
    papers = problem.papers
    assert papers is not None
    numbers, cos = batch_model(problem).cosines(project, expert)
    return [
        (papers.title[n], int(papers.year[n]), float(c))
        for n, c in zip(numbers[:limit].tolist(), cos[:limit].tolist(), strict=True)
    ]

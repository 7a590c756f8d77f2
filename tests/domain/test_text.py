"""Text affinity (``expertmatch.domain.text``): terms of Chinese, English and mixed text, the
sparse computation against a dense reference, rankings where the right expert is known,
determinism, and the messages for bad input."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

import expertmatch as em
from expertmatch.domain import text
from expertmatch.domain.text import (
    TextModel,
    count_matrix,
    document_terms,
    field_terms,
    text_affinity,
    tokenize,
)

# -- terms -------------------------------------------------------------------------------------


def test_chinese_is_segmented_and_stop_words_dropped() -> None:
    """jieba's words; function words (基于, 的, 和) are not terms."""
    words = tokenize("基于深度学习的图像识别和目标检测")
    assert words[:2] == ["深度", "学习"]
    assert "目标" in words or "目标检测" in words
    assert not {"基于", "的", "和"} & set(words)


def test_english_is_stemmed_lower_cased_without_stop_words_or_numbers() -> None:
    """Porter2 stems, case folded; stop words, numbers and one-letter words dropped."""
    assert tokenize("The Networks are Learning 2023 graphs, a survey") == [
        "network",
        "learn",
        "graph",
        "survey",
    ]


def test_mixed_text_keeps_reading_order_and_full_width_letters() -> None:
    """English words inside Chinese text are words too, in place; full-width ＢＥＲＴ is bert;
    hyphens split English words."""
    words = tokenize("基于ＢＥＲＴ的中文命名实体识别（graph-based）")
    assert words[0] == "bert"
    assert words[-2:] == ["graph", "base"]
    assert "中文" in words


def test_bigrams_stay_within_a_clause_and_a_field() -> None:
    """Adjacent words make a bigram; punctuation and the title/abstract boundary end them."""
    terms = field_terms("deep learning. image recognition")
    assert "deep learn" in terms and "imag recognit" in terms
    assert "learn imag" not in terms
    both = document_terms("image recognition", "deep learning")
    assert "recognit deep" not in both
    assert Counter(both)["imag recognit"] == 1


def test_count_matrix_equals_counting_the_terms() -> None:
    """The fast integer-stream path gives each document exactly the counts of
    :func:`document_terms` (empty documents included)."""
    docs = [
        (
            "基于BERT的中文命名实体识别",
            "我们提出一种graph-based方法。实验表明，在3.5%的数据上效果显著；ＢＥＲＴ模型。",
        ),
        ("", ""),
        (
            "Deep learning for graphs",
            "Graphs are everywhere. Deep graph learning works, e.g. here.",
        ),
        ("深度学习", "深度学习深度学习，深度学习"),
    ]
    counts, terms = count_matrix(docs)
    names = terms.names()
    assert len(set(names)) == len(names)
    for i, doc in enumerate(docs):
        row = counts[i]
        got = Counter({names[j]: v for j, v in zip(row.indices, row.data, strict=True)})
        assert got == Counter(document_terms(*doc)), doc


# -- the dense reference -----------------------------------------------------------------------


def dense_affinity(
    projects: list[tuple[str, str]], papers: list[tuple[str, str]], owner: list[int], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The method written out with dense arrays and loops: (top-5 cosine, BM25, affinity)."""
    docs = [Counter(document_terms(*d)) for d in projects + papers]
    vocab = sorted({t for d in docs for t in d})
    tf = np.array([[d.get(t, 0) for t in vocab] for d in docs], dtype=float)
    n_docs = len(docs)
    df = (tf > 0).sum(axis=0)
    w = np.where(tf > 0, 1 + np.log(np.where(tf > 0, tf, 1)), 0) * (
        np.log((1 + n_docs) / (1 + df)) + 1
    )
    norms = np.linalg.norm(w, axis=1, keepdims=True)
    w = np.divide(w, norms, out=np.zeros_like(w), where=norms > 0)
    wp, wq = w[: len(projects)], w[len(projects) :]
    cos = np.zeros((len(projects), n))
    bm = np.zeros((len(projects), n))
    idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5))
    tfp = tf[: len(projects)]
    length = tfp.sum(axis=1)
    avgdl = length.mean() if length.mean() > 0 else 1.0
    for p in range(len(projects)):
        for e in range(n):
            mine = [i for i, o in enumerate(owner) if o == e]
            if not mine:
                continue
            sims = sorted((wp[p] @ wq[i] for i in mine), reverse=True)[:5]
            cos[p, e] = np.mean(sims)
            scores = []
            for i in mine:
                terms = tf[len(projects) + i] > 0
                t = tfp[p]
                part = t * 2.2 / (t + 1.2 * (1 - 0.75 + 0.75 * length[p] / avgdl))
                scores.append((idf * part)[terms].sum())
            bm[p, e] = np.mean(scores)

    def z(m: np.ndarray) -> np.ndarray:
        std = m.std(axis=0)
        return np.where(std > 0, (m - m.mean(axis=0)) / np.where(std > 0, std, 1), 0.0)

    return cos, bm, z(z(cos) + z(bm))


SMALL_PROJECTS = [
    ("基于图神经网络的交通流量预测", "利用图神经网络建模城市路网，预测交通流量。"),
    (
        "Rice drought tolerance genes",
        "We map drought tolerance genes in rice by genome-wide association.",
    ),
    ("锂电池正极材料", "研究高镍正极材料的循环稳定性与热安全。"),
    ("深度学习", ""),
    ("", ""),
]
SMALL_PAPERS = [
    ("图神经网络的交通预测", "图卷积网络用于路网流量预测。", 0),
    ("Graph neural networks for traffic forecasting", "Spatio-temporal graphs.", 0),
    ("时空图卷积", "", 0),
    ("深度学习综述", "深度学习模型与训练方法。", 0),
    ("城市路网建模", "路网拓扑与交通流量。", 0),
    ("交通大数据", "交通流量数据治理。", 0),
    ("Drought tolerance in rice", "Genome-wide association of drought genes in rice.", 1),
    ("水稻抗旱基因定位", "水稻抗旱性状的基因定位。", 1),
    ("高镍正极材料循环稳定性", "正极材料热安全研究。", 2),
]


@pytest.mark.parametrize("share", [2.0, 0.0, 1 / 512])
def test_sparse_path_equals_dense_reference(monkeypatch: pytest.MonkeyPatch, share: float) -> None:
    """Cosines (all terms sparse, all dense, or split), BM25 and the z-scored affinity equal the
    dense loops on a small batch: experts with 6, 2, 1 and 0 papers, an empty project."""
    monkeypatch.setattr(text, "DENSE_SHARE", share)
    monkeypatch.setattr(text, "BLOCK_CELLS", 50)  # several blocks of projects
    papers = [(t, a) for t, a, _ in SMALL_PAPERS]
    owner = [e for _, _, e in SMALL_PAPERS]
    model = TextModel.fit(SMALL_PROJECTS, papers, np.array(owner), 4)
    cos, bm, aff = dense_affinity(SMALL_PROJECTS, papers, owner, 4)
    np.testing.assert_allclose(model.top_cosine(), cos, atol=1e-6)
    np.testing.assert_allclose(model.bm25(), bm, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.affinity(), aff, atol=1e-4)
    assert np.all(model.affinity()[:, 3] == 0)  # no papers: no signal


# -- rankings where the right expert is known ----------------------------------------------------


def frames(
    projects: list[tuple[str, str, str]], papers: list[tuple[str, str, str]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        pd.DataFrame(projects, columns=["id", "title", "abstract"]),
        pd.DataFrame(papers, columns=["expert", "title", "abstract"]),
    )


EXPERT_PAPERS = [
    ("traffic", "基于图神经网络的交通流量预测", "图卷积网络建模城市路网的时空依赖，预测交通流量。"),
    (
        "traffic",
        "Spatio-temporal graph networks for traffic",
        "Traffic forecasting on road networks.",
    ),
    ("traffic", "城市交通信号控制的强化学习方法", "强化学习优化路口信号配时。"),
    ("rice", "水稻抗旱基因的全基因组关联分析", "定位水稻抗旱相关基因，解析干旱胁迫响应机制。"),
    (
        "rice",
        "Drought tolerance QTL in rice",
        "Genome-wide association study of drought tolerance.",
    ),
    ("rice", "水稻分子育种", "分子标记辅助选择培育抗旱水稻品种。"),
    ("battery", "高镍三元正极材料的循环稳定性", "研究锂离子电池高镍正极的容量衰减与热失控。"),
    (
        "battery",
        "Solid electrolytes for lithium batteries",
        "Ionic conductivity of sulfide electrolytes.",
    ),
    ("battery", "锂电池热安全", "电池热失控机理与防护。"),
]
PROJECTS = [
    (
        "P1",
        "城市路网交通流量的时空预测方法",
        "利用图神经网络刻画路网结构，实现短时交通流量预测。",
        "traffic",
    ),
    ("P2", "抗旱水稻新品种的分子设计育种", "挖掘水稻抗旱基因，开展分子标记辅助育种。", "rice"),
    (
        "P3",
        "高安全锂离子电池正极材料研发",
        "针对高镍正极循环稳定性差和热失控问题开展研究。",
        "battery",
    ),
    (
        "P4",
        "Graph neural networks for traffic flow forecasting",
        "Road network traffic.",
        "traffic",
    ),
    (
        "P5",
        "Sulfide solid electrolytes",
        "Lithium batteries with high ionic conductivity.",
        "battery",
    ),
]


def test_the_right_expert_ranks_first() -> None:
    """Each project's closest expert by text is the one whose papers are on its subject, in
    Chinese, in English and across the two where the words are shared."""
    projects, papers = frames([p[:3] for p in PROJECTS], EXPERT_PAPERS)
    found = text_affinity(projects, papers)
    best = found.loc[found.groupby("project", observed=True)["score"].idxmax()]
    assert dict(zip(best["project"], best["expert"], strict=True)) == {p[0]: p[3] for p in PROJECTS}


def test_text_affinity_frame_and_determinism() -> None:
    """One row per (expert with papers, project), experts in order of first appearance; each
    expert's scores are z-scores; two calls give identical frames."""
    projects, papers = frames([p[:3] for p in PROJECTS], EXPERT_PAPERS)
    first = text_affinity(projects, papers)
    assert list(first.columns) == ["expert", "project", "score"]
    assert len(first) == 3 * len(PROJECTS)
    assert list(first["expert"].cat.categories) == ["traffic", "rice", "battery"]
    means = first.groupby("expert", observed=True)["score"].mean()
    assert np.allclose(means, 0, atol=1e-5)
    pd.testing.assert_frame_equal(first, text_affinity(projects.copy(), papers.copy()))


def test_text_affinity_accepts_lists_of_dicts_and_missing_abstracts() -> None:
    """Lists of dicts work like DataFrames; a project with a title only, or papers without an
    abstract column, are fine."""
    found = text_affinity(
        [{"id": "P1", "title": "交通流量预测"}, {"id": "P2", "title": "水稻抗旱"}],
        [{"expert": "a", "title": "交通流量"}, {"expert": "b", "title": "水稻抗旱基因"}],
    )
    top = found.loc[found.groupby("project", observed=True)["score"].idxmax()]
    assert list(top["expert"]) == ["a", "b"]


@pytest.mark.parametrize(
    ("projects", "papers", "message"),
    [
        ([{"title": "x"}], [{"expert": "a", "title": "t"}], "required column 'id' missing"),
        ([{"id": "P1"}], [{"expert": "a", "title": "t"}], "needs a column 'title' or 'abstract'"),
        (
            [{"id": "P1", "title": "x"}, {"id": "P1", "title": "y"}],
            [{"expert": "a", "title": "t"}],
            "projects, row 2, column id: duplicate id 'P1' (first at row 1)",
        ),
        (
            [{"id": "P1", "title": "x"}],
            [{"expert": "a", "abstract": "t"}],
            "required column 'title'",
        ),
        (
            [{"id": "P1", "title": "x"}],
            [{"expert": "a", "title": " "}],
            "papers, row 1, column title: empty title",
        ),
        (
            [{"id": "P1", "title": "x"}],
            [{"expert": "", "title": "t"}],
            "papers, row 1, column expert: empty expert id",
        ),
    ],
)
def test_bad_input_names_table_row_and_column(
    projects: list[dict[str, str]], papers: list[dict[str, str]], message: str
) -> None:
    """Each mistake is an InputError naming the table, the record and the column."""
    with pytest.raises(em.InputError) as err:
        text_affinity(projects, papers)
    assert message in str(err.value)

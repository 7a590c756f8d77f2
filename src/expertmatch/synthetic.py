"""Deterministic synthetic batches with realistic structure, for tests, benchmarks and notebooks.

``generate(n_projects, n_experts, seed=...)`` returns the tables of one batch in the exchange
format of ``DATA_CONTRACT.md`` (keys are the file stems ``experts``, ``projects``,
``organizations``, ``members``, ``relations``, ``conflicts`` and, with ``with_scores=True``,
``scores``); ``write_batch(tables, folder)`` writes them as ``<stem>.csv`` so that the CLI and
``expertmatch.load()`` can read them like any office's files.

Cells hold what a CSV file would hold: text is ``str``, list cells are joined with ``;``, an
optional number is a Python ``int`` or ``""`` when not given (``max_load``, ``panel_size``,
``year``), ``used`` is an integer column and ``score`` a float column with 2 decimals. Every
column of the contract is present, lower-case, in the contract's order.

Determinism
    All randomness comes from one ``numpy.random.default_rng(seed)`` consumed in a fixed order,
    so the same arguments give identical DataFrames on every run and platform. Nothing depends
    on hash order or on the wall clock (``reference_year`` is an argument, not "this year").

Speed
    Sampling is vectorised (cumulative-weight ``searchsorted`` and CSR "pools" of experts per
    field code); the only Python loops are per row (string formatting) or per organization.
    ``generate(10_000, 30_000)`` takes about 0.2 s (0.7 s with scores, 120 MB peak).

What is modelled, and why
-------------------------

Field codes
    A 3-level dotted tree like the national discipline codes (``520`` -> ``520.20`` ->
    ``520.20.10``): ``n_roots`` roots, each with ``children[0]`` second-level codes, each with
    ``children[1]`` leaves. Root numbers are distinct multiples of ten drawn from 110..990.
    Popularity is skewed: leaf weights follow Zipf's law with exponent ``field_skew`` over
    ranks that are shuffled deterministically, so a few sub-fields are crowded and many are
    rare (the hard case for coverage). Projects and experts use the same weights, so supply
    roughly follows demand, as it does when an office recruits experts for its own calls.
    Only the ``clip(n_experts // 40, 1, n_roots)`` heaviest roots are populated: a tiny batch
    is then a dense, solvable sub-tree instead of six experts spread over twelve disciplines.

    Experts list 1-3 fields, primary first, all leaves except that a secondary field is
    sometimes a level-2 code; a secondary field is in the primary's root 75% of the time
    (specialists), otherwise anywhere (interdisciplinary people).

    Projects list 1-3 fields, primary first; each is a leaf or, 15% of the time, a level-2
    code (offices often file a call under a sub-discipline only). Secondary fields are in the
    primary's root 80% of the time. Project fields are drawn only from level-2 codes that at
    least 5 different organization groups' experts hold (or, in batches too small for that,
    the best-supplied level-2 codes): with ``coverage_level = 2`` every project field then has
    experts who can cover it even after the applicant's group is excluded. No row lists the
    same code twice, nor a level-2 code together with one of its own leaves.

Organizations
    ``n_organizations`` defaults to ``max(20, n_experts // 8)``. Types are split by count as
    enterprise 50%, university 15%, institute 15%, hospital 8%, government 5%, other 7%
    (largest-remainder rounding, so small batches still get every common type). Sizes are
    heavy-tailed lognormal weights, large for universities and institutes, small but widely
    spread for enterprises: a few big universities employ many experts, most companies a few,
    and some organizations only apply for projects. Exactly
    ``round(enterprise_share * n_experts)`` experts work for enterprises (the contract's
    enterprise share rule is about experts, not organizations); each expert's organization is
    drawn by size among the organizations of the right kind, except that up to half of those
    organizations first get one expert each (size-weighted, without replacement) - this barely
    changes a large batch but keeps a small one from piling its few experts into two
    organizations, which ``max_per_org = 1`` would make infeasible. Names are synthetic Chinese
    names (``北京理工大学``, ``上海瑞泰电子有限公司``) made unique with a numbered suffix.

    Groups (``parent``): ``group_share`` of the enterprises are subsidiaries, under about half
    as many group heads drawn with a mild preference for larger firms. Seventy per cent of the
    subsidiaries are spread evenly over the heads and the rest hang under one of those
    subsidiaries, so trees have one or two levels, groups have about three members and, since
    a parent is always on an earlier level, there is never a cycle. A subsidiary carries its
    group's brand in its name. Half of the hospitals are affiliated to a university
    (``...大学附属第1医院``). Groups matter because the ``org_group`` conflict excludes the
    whole tree: one giant group would make every project it applies for short of enterprise
    experts, which is why groups stay small.

Experts
    Ids ``E000001``...; names from common surnames and given-name characters (duplicates
    happen, as in life - ids are the identity); ``organization``; ``org_type`` empty for about
    90% (derived from the organization) and otherwise equal to the organization's type; about
    20% give ``max_load`` (3-8), others use the rule default; ``used`` is 0 for 70%, else 1-9
    (reviews already done this year, which eats into ``yearly_cap``); ``region`` is mostly the
    organization's; ``title`` fits the organization type; 3-5 ``keywords``.

Keywords
    Every code of the tree owns a vocabulary of 6 synthetic two- or three-character Chinese
    words (distinct across the whole tree). A keyword is drawn from one of the row's fields
    (primary 60% of the time) and, from that field, mostly from the code's own words, else
    from its level-2 parent (or a child leaf) or its root. Experts and projects in the same
    sub-field therefore share words, and the overlap fades with distance in the tree.

Projects
    Ids ``P000001``...; the applicant organization is a university 45%, institute 25%,
    enterprise 25% or hospital 5% of the time (renormalised over the types present), bigger
    organizations applying more; 0-2 ``partners`` (other organizations, size-weighted);
    ``panel_size`` empty for 90% (rule default 5), else 3 or 7; ``stage`` 立项/中期/验收
    (60/20/20%); 2-5 ``keywords``; a title built from the first keywords.

Members (applicant teams)
    2-5 persons per project with person ids ``M0000001``... (not experts). About 5% of the
    projects have an expert on the team instead of the last member - 60% of the time a
    colleague from the applicant organization, otherwise an expert from elsewhere - which
    triggers the ``team`` conflict independently of ``same_org``.

Relations
    About ``coauthor_rate`` relations per project (Poisson total); 75% link an expert with a
    team member, 25% two experts. Kinds: coauthor 55%, coproject 25%, advisor 8%, relative 2%,
    other 10%. Coauthor/coproject years are uniform in ``reference_year-8..reference_year``
    (3% without a year, which the contract counts as recent), so with the default window of 3
    about a third of them are conflicts; advisor years are old or missing (conflict in any
    year); ``other`` never conflicts. The expert of a relation shares the project's primary
    level-2 code 60% of the time and its root another 20% (co-authors work in the same area),
    so the collaborator conflict removes experts who would otherwise be good candidates. The
    two ends are written in either order (a relation is symmetric).

Declared conflicts
    About 1% of the projects get 1-2 declared conflicts with experts of the project's primary
    level-2 code (the people a reviewer office actually worries about), with a reason text.

Scores (``with_scores=True``)
    A sparse table of candidate pairs per project: experts drawn from each project field's
    level-2 code (10 draws each), from the primary root (15-55 draws) and among the
    enterprise experts of the primary root (15 draws), plus 2 uniformly random experts. A
    level-2 code with at most 10 experts, a root with at most 80 and a root's enterprise
    experts if at most 15 are taken whole, so that small batches keep every candidate (and
    with it enough organizations and companies to fill a panel). After removing duplicates
    that is typically 40-90 candidates per project (median about 65). The score is
    ``10 * noise * max(closeness * project-field weight * expert-field weight)`` over the
    pairs of their fields, with position weights (1, 0.8, 0.7) for the project's fields and
    (1, 0.85, 0.7) for the expert's, noise uniform in 0.85..1.15, and closeness 1 for the
    same leaf, 0.85 for the same level-2 code when one side is a level-2 code, 0.65 for the
    same level-2 code, 0.3 for the same root and 0 otherwise - so scores run from about 1 to
    11.5 and the random extra pairs mostly score exactly 0.0 (present but ineligible, as the
    contract allows).

Feasibility
    With the default arguments and rules (panel 5, ``max_load`` 6, ``yearly_cap`` 10, a third
    enterprise, one expert per organization, coverage at level 2) and
    ``n_experts >= 3 * n_projects``, batches are feasible in practice: total capacity
    ``sum(min(max_load, 10 - used))`` is about 5.5 per expert, i.e. over three times the
    demand; each populated root holds dozens of experts of which 40% are enterprise experts
    from many small companies; and every project field's level-2 code is held by experts of
    several organization groups. An exact CP-SAT check of all the rules above found 146 of
    148 seeds feasible at sizes from ``(5, 15)`` to ``(300, 900)`` (one seed failed at
    ``(5, 15)`` and one at ``(30, 90)``) and seed 0 feasible at ``(1000, 3000)``, with or
    without scores (the scores table is drawn last, so the other tables are the same either
    way). Tiny batches such as ``(2, 6)`` are usually infeasible - five of six experts would
    have to be free of every conflict - and batches with other arguments (few experts,
    ``group_share`` near 1, one organization) need not be feasible either; they are still
    valid input, which is what tests of the infeasibility explanations need.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["generate", "write_batch"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
ObjArray = NDArray[np.object_]


def _split(text: str) -> tuple[str, ...]:
    """Space-separated word lists keep the constant tables below short and readable."""
    return tuple(text.split())


#: Column order of every generated table (the contract's order).
COLUMNS: dict[str, tuple[str, ...]] = {
    "experts": _split("id name organization org_type fields max_load used region title keywords"),
    "projects": _split("id title organization partners fields panel_size stage keywords"),
    "organizations": ("id", "name", "type", "parent"),
    "members": ("project", "person"),
    "relations": ("a", "b", "kind", "year"),
    "conflicts": ("expert", "project", "reason"),
    "scores": ("expert", "project", "score"),
}
#: Organization types of the contract; the index is the type code used internally.
ORG_TYPES = _split("enterprise university institute hospital government other")
_ENT, _UNI, _INST, _HOSP, _GOV, _OTHER = range(6)
#: Share of organizations (by count) of each type.
_ORG_TYPE_SHARE = np.array([0.50, 0.15, 0.15, 0.08, 0.05, 0.07])
#: Lognormal (mu, sigma) of the size weight of each type: big universities, many small firms.
_ORG_SIZE = np.array([[0.0, 0.9], [2.0, 0.9], [1.4, 0.8], [1.0, 0.7], [0.2, 0.6], [0.2, 0.6]])
#: Applicant types of projects: university, institute, enterprise, hospital.
_APPLICANT_SHARE = {_UNI: 0.45, _INST: 0.25, _ENT: 0.25, _HOSP: 0.05}


def _chars(text: str) -> tuple[str, ...]:
    """The distinct characters of ``text``, in order."""
    return tuple(dict.fromkeys(text))


_REGIONS = _split(
    "北京 上海 广东 江苏 浙江 湖北 四川 陕西 山东 天津 辽宁 湖南 安徽 福建 河南 重庆 黑龙江 吉林 "
    "河北 山西 江西 广西 云南 贵州 甘肃 内蒙古 新疆 海南 宁夏 青海"
)
_SURNAMES = (
    *_chars(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
        "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵"
    ),
    *_split("欧阳 司马 上官 诸葛"),
)
_GIVEN = _chars(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建国志红文辉力鹏宇浩凯博晨欣怡梓涵轩雨泽"
    "诺思远俊海峰晓东立新振春梅玉兰永庆德光兴旺卫龙嘉豪天翼佳琪子一婷颖斌瑞琳晶亮鑫"
)
_KEYWORD_CHARS = _chars(
    "光电磁热声力化生医药材能源信控网算智联测感纳微量子晶膜催储氢碳硅基因蛋白脑神经影像遥航"
    "海洋地震岩土水环态污染降解合成制造芯片通讯融流体燃氧稀金属陶瓷聚酶菌株作物土壤"
)
_TITLES = (  # by organization type, in ORG_TYPES order; repeats make a title more likely
    _split("高级工程师 正高级工程师 总工程师 技术总监 高级工程师"),
    _split("教授 教授 副教授 研究员"),
    _split("研究员 研究员 副研究员 高级工程师"),
    _split("主任医师 副主任医师 教授"),
    _split("研究员 高级工程师 正高级工程师"),
    _split("研究员 高级工程师 正高级工程师"),
)
_UNI_STEMS = (
    "",
    *_split(
        "理工 科技 工业 师范 交通 农业 医科 电子科技 化工 海洋 航空航天 石油 林业 信息工程 建筑"
    ),
)
_INST_SUBJECTS = _split(
    "材料 光电技术 自动化 生物工程 能源 信息技术 精密机械 化学物理 生态环境 先进制造 微电子 "
    "海洋科学 智能装备 计量测试"
)
_BRAND_CHARS = "华中新天瑞联创科博恒信达泰源晨智凯宏远航鼎盛安睿明德"
_INDUSTRIES = _split(
    "科技 电子 新材料 生物医药 智能装备 能源 信息技术 精密制造 环保科技 汽车零部件 半导体 "
    "通信技术 化工 医疗器械"
)
_HOSPITALS = _split("第一人民医院 第二人民医院 中医院 肿瘤医院 儿童医院 人民医院")
_GOVERNMENT = _split(
    "科学技术厅 工业和信息化厅 生态环境厅 卫生健康委员会 农业农村厅 发展和改革委员会"
)
_OTHER_ORGS = _split(
    "科学技术协会 标准化研究院 产品质量检验所 技术转移中心 知识产权服务中心 生产力促进中心"
)
_TITLE_TEMPLATES = (
    "基于{0}的{1}关键技术研究",
    "面向{1}的{0}方法与应用",
    "{0}与{1}协同机理研究",
    "{0}{1}系统研制与示范",
    "{0}驱动的{1}关键技术及产业化",
    "{1}中的{0}基础问题研究",
)
_STAGES = ("立项", "中期", "验收")
_KINDS = ("coauthor", "coproject", "advisor", "relative", "other")
_REASONS = _split(
    "申请人曾为本人指导的研究生 与申请单位存在经济利益往来 本人主动申请回避 "
    "与项目存在直接竞争关系 近三年与项目负责人有合作 亲属在申请单位任职"
)
_VOCAB = 6  # keywords owned by each field code


# --------------------------------------------------------------------------- field tree


@dataclass(frozen=True)
class _Tree:
    """The code tree. Code ids: roots ``0..R-1``, level-2 codes ``R + g``, leaves ``R + G + l``.

    ``g`` (global level-2 index) and ``l`` (global leaf index) are contiguous per parent, so a
    root's leaves are the block ``[r * B, (r + 1) * B)`` with ``B = c0 * c1``.
    """

    n_roots: int
    c0: int
    c1: int
    codes: ObjArray  # code id -> dotted code string
    root: IntArray  # code id -> root index
    l2: IntArray  # code id -> global level-2 index, -1 for roots
    depth: IntArray  # code id -> 1, 2 or 3

    @property
    def n_l2(self) -> int:
        return self.n_roots * self.c0

    @property
    def n_leaves(self) -> int:
        return self.n_roots * self.c0 * self.c1

    def leaf_id(self, leaf: IntArray) -> IntArray:
        return leaf + (self.n_roots + self.n_l2)

    def l2_id(self, l2: IntArray) -> IntArray:
        return l2 + self.n_roots


def _build_tree(rng: np.random.Generator, n_roots: int, c0: int, c1: int) -> _Tree:
    """Dotted codes ``RRR.SS.LL`` with distinct root numbers (multiples of ten from 110)."""
    if n_roots <= 89:
        numbers = np.sort(rng.choice(np.arange(11, 100), size=n_roots, replace=False)) * 10
    else:
        numbers = 100 + 10 * np.arange(1, n_roots + 1)
    roots = [str(int(n)) for n in numbers]
    l2 = [f"{r}.{10 * (j + 1):02d}" for r in roots for j in range(c0)]
    leaves = [f"{g}.{10 * (k + 1):02d}" for g in l2 for k in range(c1)]
    n_l2, n_leaves = len(l2), len(leaves)
    codes = np.array(roots + l2 + leaves, dtype=object)
    root = np.concatenate(
        [np.arange(n_roots), np.arange(n_l2) // c0, np.arange(n_leaves) // (c0 * c1)]
    ).astype(np.int64)
    l2_index = np.concatenate(
        [np.full(n_roots, -1), np.arange(n_l2), np.arange(n_leaves) // c1]
    ).astype(np.int64)
    depth = np.concatenate([np.full(n_roots, 1), np.full(n_l2, 2), np.full(n_leaves, 3)]).astype(
        np.int64
    )
    return _Tree(n_roots, c0, c1, codes, root, l2_index, depth)


# --------------------------------------------------------------------------- sampling helpers


class _Weighted:
    """Draw indices with probability proportional to non-negative weights, optionally
    restricted to contiguous blocks ``[lo, hi)``, by ``searchsorted`` on the cumulative sum."""

    def __init__(self, weights: FloatArray) -> None:
        self.weights = weights
        self.cum = np.cumsum(weights)
        positive = np.where(weights > 0, np.arange(weights.size), -1)
        self.last_positive = np.maximum.accumulate(positive) if weights.size else positive

    def draw(
        self, u: FloatArray, lo: IntArray | None = None, hi: IntArray | None = None
    ) -> IntArray:
        """One index per ``u`` (uniform in [0, 1)); blocks must have a positive total."""
        n = self.weights.size
        if lo is None or hi is None:
            lo = np.zeros(u.size, dtype=np.int64)
            hi = np.full(u.size, n, dtype=np.int64)
        base = np.where(lo > 0, self.cum[np.maximum(lo - 1, 0)], 0.0)
        top = self.cum[hi - 1]
        idx = np.searchsorted(self.cum, base + u * (top - base), side="right")
        return self.last_positive[np.minimum(idx, hi - 1)].astype(np.int64)


@dataclass(frozen=True)
class _Pools:
    """CSR index: for each group, the members (e.g. experts holding a level-2 code)."""

    starts: IntArray
    counts: IntArray
    members: IntArray

    @classmethod
    def build(cls, keys: IntArray, values: IntArray, n_groups: int) -> _Pools:
        order = np.argsort(keys, kind="stable")
        counts = np.bincount(keys, minlength=n_groups).astype(np.int64)
        starts = np.cumsum(counts) - counts
        return cls(starts, counts, values[order].astype(np.int64))

    def draw(self, groups: IntArray, u: FloatArray) -> IntArray:
        """A uniform member of each group (with repetition), -1 for empty or negative groups."""
        safe = np.maximum(groups, 0)
        count = np.where(groups >= 0, self.counts[safe], 0)
        if self.members.size == 0:
            return np.full(groups.shape, -1, dtype=np.int64)
        pos = self.starts[safe] + np.minimum((u * count).astype(np.int64), np.maximum(count - 1, 0))
        pos = np.minimum(pos, self.members.size - 1)
        return np.where(count > 0, self.members[pos], -1).astype(np.int64)

    def sample(self, groups: IntArray, take: IntArray, width: int, u: FloatArray) -> IntArray:
        """Rows of ``width`` members: all of the group's members when it has at most ``width``
        (small batches keep every candidate), else ``take`` uniform draws; -1 pads."""
        cols = np.arange(width)[None, :]
        drawn = self.draw(np.repeat(groups, width), u).reshape(groups.size, width)
        drawn[cols >= take[:, None]] = -1
        if self.members.size == 0:
            return drawn
        safe = np.maximum(groups, 0)
        count = np.where(groups >= 0, self.counts[safe], 0)
        pos = np.minimum(self.starts[safe][:, None] + cols, self.members.size - 1)
        whole = np.where(cols < count[:, None], self.members[pos], -1)
        return np.where((count <= width)[:, None], whole, drawn).astype(np.int64)


def _stratified_counts(n: int, shares: FloatArray) -> IntArray:
    """Split ``n`` by ``shares`` with largest-remainder rounding (deterministic, exact total)."""
    raw = n * shares / shares.sum()
    counts = np.floor(raw).astype(np.int64)
    rest = n - int(counts.sum())
    if rest > 0:
        counts[np.argsort(-(raw - counts), kind="stable")[:rest]] += 1
    return counts


def _pick(rng: np.random.Generator, n: int, probs: tuple[float, ...]) -> IntArray:
    """``n`` category indices drawn with the given probabilities."""
    p = np.asarray(probs, dtype=np.float64)
    return np.searchsorted(np.cumsum(p / p.sum()), rng.random(n), side="right").astype(np.int64)


def _ids(prefix: str, n: int, width: int) -> ObjArray:
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _join(strings: ObjArray, mask: BoolArray) -> ObjArray:
    """Join the kept cells of each row of a 2-D string array with ``;``."""
    n = strings.shape[0]
    out = np.full(n, "", dtype=object)
    has = np.zeros(n, dtype=bool)
    for j in range(strings.shape[1]):
        keep = mask[:, j]
        piece = np.where(has, ";", "").astype(object) + strings[:, j]
        out = out + np.where(keep, piece, "").astype(object)
        has |= keep
    return out


def _optional_int(values: IntArray, given: BoolArray) -> ObjArray:
    """Integers where given, ``""`` elsewhere - what an optional numeric CSV cell holds."""
    out = np.full(values.size, "", dtype=object)
    out[given] = values[given].astype(object)
    return out


def _frame(name: str, data: dict[str, ObjArray | IntArray | FloatArray]) -> pd.DataFrame:
    return pd.DataFrame({column: data[column] for column in COLUMNS[name]})


# --------------------------------------------------------------------------- fields & words


def _dedupe_fields(tree: _Tree, fields: IntArray) -> IntArray:
    """Drop repeated codes and a level-2 code listed with one of its own leaves (keeping the
    earlier one), then move the kept codes to the left, padding with -1."""
    fields = fields.copy()
    safe = np.maximum(fields, 0)
    l2 = np.where(fields >= 0, tree.l2[safe], -1)
    depth = tree.depth[safe]
    for j in range(1, fields.shape[1]):
        for i in range(j):
            same_l2 = (l2[:, i] == l2[:, j]) & (fields[:, i] >= 0) & (fields[:, j] >= 0)
            clash = same_l2 & (
                (fields[:, i] == fields[:, j]) | (depth[:, i] == 2) | (depth[:, j] == 2)
            )
            fields[clash, j] = -1
            l2[clash, j] = -1
    order = np.argsort(fields < 0, axis=1, kind="stable")
    return np.take_along_axis(fields, order, axis=1)


def _draw_fields(
    rng: np.random.Generator,
    tree: _Tree,
    sampler: _Weighted,
    n: int,
    count_probs: tuple[float, ...],
    same_root: float,
    l2_primary: float,
    l2_secondary: float,
) -> IntArray:
    """``n`` rows of 1-3 field code ids, primary first (see the module docstring)."""
    block = tree.c0 * tree.c1
    count = _pick(rng, n, count_probs) + 1
    leaves = np.empty((n, 3), dtype=np.int64)
    leaves[:, 0] = sampler.draw(rng.random(n))
    root = leaves[:, 0] // block
    for j in (1, 2):
        near = rng.random(n) < same_root
        anywhere = sampler.draw(rng.random(n))
        nearby = sampler.draw(rng.random(n), root * block, (root + 1) * block)
        leaves[:, j] = np.where(near, nearby, anywhere)
    to_l2 = rng.random((n, 3)) < np.array([l2_primary, l2_secondary, l2_secondary])
    ids = np.where(to_l2, tree.l2_id(leaves // tree.c1), tree.leaf_id(leaves))
    ids[np.arange(3)[None, :] >= count[:, None]] = -1
    return _dedupe_fields(tree, ids)


def _word_table(n_codes: int) -> ObjArray:
    """``n_codes * _VOCAB`` distinct synthetic Chinese words (word ``c * _VOCAB + j`` belongs
    to code ``c``), scrambled by a fixed bijection so that neighbours do not look alike."""
    n_chars = len(_KEYWORD_CHARS)
    total = n_codes * _VOCAB
    length = 2
    while n_chars**length < total:
        length += 1
    modulus = n_chars**length
    multiplier = 7919
    while math.gcd(multiplier, modulus) != 1:
        multiplier += 2
    scrambled = (np.arange(total, dtype=np.int64) * multiplier + 17) % modulus
    chars = np.array(_KEYWORD_CHARS, dtype=object)
    words = np.full(total, "", dtype=object)
    for _ in range(length):
        words = words + chars[scrambled % n_chars]
        scrambled //= n_chars
    return words


def _draw_keywords(
    rng: np.random.Generator, tree: _Tree, fields: IntArray, low: int, high: int
) -> IntArray:
    """Word ids (rows padded with -1), ``low..high`` per row before removing repeats."""
    n = fields.shape[0]
    n_fields = np.maximum((fields >= 0).sum(axis=1), 1)
    count: IntArray = np.asarray(rng.integers(low, high + 1, size=n), dtype=np.int64)
    words = np.empty((n, high), dtype=np.int64)
    rows = np.arange(n)
    for j in range(high):
        slot = np.where(rng.random(n) < 0.6, 0, rng.integers(0, n_fields))
        code = np.maximum(fields[rows, slot], 0)
        depth = tree.depth[code]
        u = rng.random(n)
        child_leaf = tree.l2[code] * tree.c1 + rng.integers(0, tree.c1, size=n)
        related = np.where(depth == 3, tree.l2_id(tree.l2[code]), tree.leaf_id(child_leaf))
        target = np.where(u < 0.55, code, np.where(u < 0.85, related, tree.root[code]))
        words[:, j] = target * _VOCAB + rng.integers(0, _VOCAB, size=n)
    words[np.arange(high)[None, :] >= count[:, None]] = -1
    for j in range(1, high):
        repeated = (words[:, :j] == words[:, j : j + 1]).any(axis=1)
        words[repeated, j] = -1
    order = np.argsort(words < 0, axis=1, kind="stable")
    return np.take_along_axis(words, order, axis=1)


def _codes_cell(tree: _Tree, fields: IntArray) -> ObjArray:
    return _join(tree.codes[np.maximum(fields, 0)], fields >= 0)


# --------------------------------------------------------------------------- organizations


@dataclass(frozen=True)
class _Orgs:
    """The organizations, by index."""

    ids: ObjArray
    names: ObjArray
    type: IntArray
    weight: FloatArray
    region: IntArray
    parent: IntArray  # -1 when none
    group: IntArray  # root of the parent tree


def _dedupe_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out: list[str] = []
    for name in names:
        k = seen.get(name, 0)
        seen[name] = k + 1
        out.append(name if k == 0 else f"{name}（{k + 1}）")
    return out


def _organizations(
    rng: np.random.Generator, n_org: int, group_share: float, need_ent: bool, need_other: bool
) -> _Orgs:
    """Draw ``n_org`` organizations: type, size and region, then enterprise groups, then
    affiliated hospitals, then names (module docstring, "Organizations")."""
    types, weight, region = _org_kinds(rng, n_org, need_ent, need_other)
    parent, level1, level2 = _enterprise_groups(rng, types, weight, group_share)
    parent, affiliated = _affiliate_hospitals(rng, types, weight, parent)
    group = np.arange(n_org, dtype=np.int64)
    for _ in range(3):  # trees are at most two levels deep
        group = np.where(parent[group] >= 0, parent[group], group)
    names = _org_names(rng, types, region, parent, (level1, level2), affiliated)
    return _Orgs(
        ids=_ids("O", n_org, 5),
        names=names,
        type=types,
        weight=weight,
        region=region,
        parent=parent,
        group=group,
    )


def _org_kinds(
    rng: np.random.Generator, n_org: int, need_ent: bool, need_other: bool
) -> tuple[IntArray, FloatArray, IntArray]:
    """Type, size weight and region of each organization.

    Types are split by count (largest remainder, so small batches still get every common type)
    and shuffled; if enterprise or other experts would have nowhere to work, one organization
    changes type. Sizes are heavy-tailed lognormal weights with a (mu, sigma) per type: a few
    big universities, many small firms. Regions are Zipf-like, so a few provinces dominate.
    """
    counts = _stratified_counts(n_org, _ORG_TYPE_SHARE)
    types = rng.permutation(np.repeat(np.arange(6), counts)).astype(np.int64)
    if n_org >= 2:  # both kinds of expert need somewhere to work
        if need_ent and not (types == _ENT).any():
            types[int(np.flatnonzero(types != _ENT)[0])] = _ENT
        if need_other and not (types != _ENT).any():
            types[0] = _UNI
    mu, sigma = _ORG_SIZE[types, 0], _ORG_SIZE[types, 1]
    weight = np.exp(mu + sigma * rng.standard_normal(n_org))
    region_p = 1.0 / np.arange(1, len(_REGIONS) + 1) ** 0.9
    region = _pick(rng, n_org, tuple(region_p))
    return types, weight, region


def _enterprise_groups(
    rng: np.random.Generator, types: IntArray, weight: FloatArray, group_share: float
) -> tuple[IntArray, IntArray, IntArray]:
    """Parents of the enterprises that belong to a group, and the two levels of subsidiaries.

    ``group_share`` of the enterprises are subsidiaries under about half as many heads, drawn
    with a mild preference for larger firms (Gumbel keys on half the log size). 70% of the
    subsidiaries are spread evenly over the heads and the rest hang under one of those, so a
    parent is always on an earlier level (no cycle) and groups stay small (about three members)
    - one giant group would leave its projects short of enterprise experts under ``org_group``.
    """
    parent = np.full(types.size, -1, dtype=np.int64)
    ents = np.flatnonzero(types == _ENT)
    n_children = min(math.floor(group_share * ents.size + 0.5), max(ents.size - 1, 0))
    keys = 0.5 * np.log(weight[ents]) + rng.gumbel(size=ents.size)
    by_size = ents[np.argsort(-keys, kind="stable")]
    level1 = level2 = np.empty(0, dtype=np.int64)
    if n_children > 0:
        n_heads = min(max(1, round(n_children / 2)), ents.size - n_children)
        heads = by_size[:n_heads]
        children = rng.permutation(by_size[n_heads:])[:n_children]
        n1 = math.ceil(0.7 * n_children)
        level1, level2 = children[:n1], children[n1:]
        parent[level1] = heads[np.arange(level1.size) % n_heads]
        parent[level2] = level1[rng.integers(0, n1, size=level2.size)]
    return parent, level1, level2


def _affiliate_hospitals(
    rng: np.random.Generator, types: IntArray, weight: FloatArray, parent: IntArray
) -> tuple[IntArray, IntArray]:
    """Half of the hospitals (when there is a university) become affiliated to a university
    drawn by size; returns the updated parents and the affiliated hospitals."""
    parent = parent.copy()
    hospitals = np.flatnonzero(types == _HOSP)
    universities = np.flatnonzero(types == _UNI)
    affiliated = hospitals[rng.random(hospitals.size) < 0.5] if universities.size else hospitals[:0]
    if affiliated.size:
        uni_pick = _Weighted(weight[universities]).draw(rng.random(affiliated.size))
        parent[affiliated] = universities[uni_pick]
    return parent, affiliated


def _org_names(
    rng: np.random.Generator,
    types: IntArray,
    region: IntArray,
    parent: IntArray,
    levels: tuple[IntArray, IntArray],
    affiliated: IntArray,
) -> ObjArray:
    """Unique synthetic Chinese names. A two-character brand per organization is inherited down
    each enterprise group (level by level, so a subsidiary carries its head's brand); two
    numbers per organization pick the name's stem; an affiliated hospital is named after its
    university. Repeated names get a numbered suffix."""
    n_org = types.size
    brand_idx = rng.integers(0, len(_BRAND_CHARS), size=(n_org, 2))
    brand = np.array([_BRAND_CHARS[a] + _BRAND_CHARS[b] for a, b in brand_idx], dtype=object)
    for level in levels:
        brand[level] = brand[parent[level]]
    pick = rng.integers(0, 1_000_000, size=(n_org, 2))
    names = [
        _org_name(int(types[i]), _REGIONS[int(region[i])], brand[i], bool(parent[i] >= 0), pick[i])
        for i in range(n_org)
    ]
    names = _dedupe_names(names)
    for i in affiliated:
        names[int(i)] = f"{names[int(parent[i])]}附属第{int(pick[i, 1]) % 3 + 1}医院"
    return np.array(_dedupe_names(names), dtype=object)


def _org_name(org_type: int, region: str, brand: str, in_group: bool, pick: IntArray) -> str:
    """One name from the type, region and brand; ``pick[0]`` chooses the stem (industry,
    kind of university, subject...), ``pick[1]`` whether an institute is of the Academy."""
    a, b = int(pick[0]), int(pick[1])
    if org_type == _ENT:
        industry = _INDUSTRIES[a % len(_INDUSTRIES)]
        if in_group:
            return f"{brand}{industry}（{region}）有限公司"
        return f"{region}{brand}{industry}有限公司"
    if org_type == _UNI:
        return f"{region}{_UNI_STEMS[a % len(_UNI_STEMS)]}大学"
    if org_type == _INST:
        subject = _INST_SUBJECTS[a % len(_INST_SUBJECTS)]
        return f"中国科学院{subject}研究所" if b % 3 == 0 else f"{region}{subject}研究院"
    if org_type == _HOSP:
        return f"{region}{_HOSPITALS[a % len(_HOSPITALS)]}"
    if org_type == _GOV:
        return f"{region}{_GOVERNMENT[a % len(_GOVERNMENT)]}"
    return f"{region}{_OTHER_ORGS[a % len(_OTHER_ORGS)]}"


def _organizations_table(orgs: _Orgs) -> pd.DataFrame:
    parent = np.where(orgs.parent >= 0, orgs.ids[np.maximum(orgs.parent, 0)], "")
    return _frame(
        "organizations",
        {
            "id": orgs.ids,
            "name": orgs.names,
            "type": np.array(ORG_TYPES, dtype=object)[orgs.type],
            "parent": parent.astype(object),
        },
    )


# --------------------------------------------------------------------------- main entry


def generate(
    n_projects: int,
    n_experts: int,
    *,
    seed: int = 0,
    n_roots: int = 12,
    children: tuple[int, int] = (6, 6),
    field_skew: float = 1.1,
    enterprise_share: float = 0.4,
    n_organizations: int | None = None,
    group_share: float = 0.3,
    coauthor_rate: float = 2.0,
    with_scores: bool = False,
    reference_year: int = 2026,
) -> dict[str, pd.DataFrame]:
    """Generate one synthetic batch; see the module docstring for what is modelled and why.

    Args:
        n_projects: number of projects (rows of ``projects``), >= 0.
        n_experts: number of experts (rows of ``experts``), >= 0.
        seed: seed of the single ``numpy.random.default_rng`` used; same arguments, same tables.
        n_roots: roots of the field-code tree.
        children: level-2 codes per root and leaves per level-2 code.
        field_skew: Zipf exponent of leaf popularity (0 = uniform).
        enterprise_share: share of the experts who work for enterprises.
        n_organizations: number of organizations (default ``max(20, n_experts // 8)``).
        group_share: share of the enterprises that belong to a parent company.
        coauthor_rate: mean number of relations per project.
        with_scores: also return a sparse ``scores`` table.
        reference_year: the year relations count back from (relation years are
            ``reference_year - 8 .. reference_year``).

    Returns:
        Tables keyed by contract file stem, columns exactly as in the contract.
    """
    settings = _Settings(
        n_projects=n_projects,
        n_experts=n_experts,
        n_roots=n_roots,
        children=children,
        field_skew=field_skew,
        enterprise_share=enterprise_share,
        n_organizations=n_organizations,
        group_share=group_share,
        coauthor_rate=coauthor_rate,
    )
    # One generator, consumed by the steps below in this fixed order: the order is part of the
    # output (moving a step changes every table drawn after it).
    rng = np.random.default_rng(seed)
    world = _world(rng, settings)
    experts = _experts(rng, world, n_experts, settings.n_ent_experts)
    pools = _expert_pools(world, experts)
    projects = _projects(rng, world, experts, n_projects)
    members = _members(rng, experts, projects, pools)
    relations = _relations(
        rng, world.tree, experts, projects, members, pools, coauthor_rate, reference_year
    )
    conflicts = _declared_conflicts(rng, world.tree, experts, projects, pools)
    tables: dict[str, pd.DataFrame] = {
        "experts": experts.table,
        "projects": projects.table,
        "organizations": _organizations_table(world.orgs),
        "members": members.table,
        "relations": relations,
        "conflicts": conflicts,
    }
    if with_scores:  # drawn last, so the other tables are the same with or without scores
        tables["scores"] = _scores_table(rng, world.tree, experts, projects, pools)
    return tables


@dataclass(frozen=True)
class _Settings:
    """The arguments of ``generate`` that shape the batch, checked when built."""

    n_projects: int
    n_experts: int
    n_roots: int
    children: tuple[int, int]
    field_skew: float
    enterprise_share: float
    n_organizations: int | None
    group_share: float
    coauthor_rate: float

    def __post_init__(self) -> None:
        if self.n_projects < 0 or self.n_experts < 0:
            raise ValueError("n_projects and n_experts must be >= 0")
        if self.n_roots < 1 or min(self.children) < 1 or len(self.children) != 2:
            raise ValueError("n_roots and both children counts must be >= 1")
        if not 0.0 <= self.enterprise_share <= 1.0 or not 0.0 <= self.group_share <= 1.0:
            raise ValueError("enterprise_share and group_share must be in [0, 1]")
        if self.field_skew < 0 or self.coauthor_rate < 0:
            raise ValueError("field_skew and coauthor_rate must be >= 0")
        if self.n_organizations is not None and self.n_organizations < 1:
            raise ValueError("n_organizations must be >= 1")

    @property
    def n_org(self) -> int:
        """Number of organizations (default ``max(20, n_experts // 8)``)."""
        if self.n_organizations is not None:
            return self.n_organizations
        return max(20, self.n_experts // 8)

    @property
    def n_ent_experts(self) -> int:
        """Experts who work for enterprises: ``round(enterprise_share * n_experts)``."""
        return math.floor(self.enterprise_share * self.n_experts + 0.5)


# --------------------------------------------------------------------------- world


@dataclass(frozen=True)
class _World:
    """What the experts and projects are drawn from."""

    tree: _Tree
    leaf_weight: FloatArray  # popularity of each leaf, 0 outside the populated roots
    words: ObjArray  # keyword vocabulary: word ``c * _VOCAB + j`` belongs to code ``c``
    orgs: _Orgs


def _world(rng: np.random.Generator, settings: _Settings) -> _World:
    """Draw the field tree (its root numbers), the leaf popularity and the organizations."""
    c0, c1 = int(settings.children[0]), int(settings.children[1])
    tree = _build_tree(rng, settings.n_roots, c0, c1)
    leaf_weight = _leaf_weights(rng, tree, settings.field_skew, settings.n_experts)
    n_ent_experts = settings.n_ent_experts
    orgs = _organizations(
        rng,
        settings.n_org,
        settings.group_share,
        n_ent_experts > 0,
        n_ent_experts < settings.n_experts,
    )
    return _World(tree, leaf_weight, _word_table(tree.codes.size), orgs)


def _leaf_weights(
    rng: np.random.Generator, tree: _Tree, field_skew: float, n_experts: int
) -> FloatArray:
    """Leaf popularity: Zipf's law with exponent ``field_skew`` over shuffled ranks (a few
    crowded sub-fields, many rare ones), zero outside the ``clip(n_experts // 40, 1, n_roots)``
    heaviest roots, so that a small batch is a dense sub-tree rather than a few experts spread
    over every discipline."""
    block = tree.c0 * tree.c1
    ranks = rng.permutation(tree.n_leaves) + 1.0
    leaf_weight = ranks ** (-float(field_skew))
    n_active = int(np.clip(n_experts // 40, 1, tree.n_roots))
    root_total = leaf_weight.reshape(tree.n_roots, block).sum(axis=1)
    active = np.zeros(tree.n_roots, dtype=bool)
    active[np.argsort(-root_total, kind="stable")[:n_active]] = True
    return leaf_weight * np.repeat(active, block)


def _field_entries(fields: IntArray) -> tuple[IntArray, IntArray]:
    """Row and code id of every listed field (row-major order)."""
    rows, slots = np.nonzero(fields >= 0)
    return rows, fields[rows, slots]


# --------------------------------------------------------------------------- experts


@dataclass(frozen=True)
class _Experts:
    """The experts' table, and what later steps draw from."""

    ids: ObjArray
    org: IntArray  # organization index
    is_ent: BoolArray  # works for an enterprise
    fields: IntArray  # field code ids, primary first, -1 pads
    table: pd.DataFrame


def _experts(
    rng: np.random.Generator, world: _World, n_experts: int, n_ent_experts: int
) -> _Experts:
    """Draw the experts: employer, fields, name, the other columns, then keywords."""
    tree = world.tree
    is_ent, org = _employ_experts(rng, world.orgs, n_experts, n_ent_experts)
    field_sampler = _Weighted(world.leaf_weight)
    fields = _draw_fields(rng, tree, field_sampler, n_experts, (0.35, 0.4, 0.25), 0.75, 0.0, 0.08)
    names = _expert_names(rng, n_experts)
    columns = _expert_columns(rng, world.orgs, org)
    words = _draw_keywords(rng, tree, fields, 3, 5)
    ids = _ids("E", n_experts, 6)
    table = _frame(
        "experts",
        {
            "id": ids,
            "name": names,
            "organization": world.orgs.ids[org],
            "fields": _codes_cell(tree, fields),
            "keywords": _join(world.words[np.maximum(words, 0)], words >= 0),
            **columns,
        },
    )
    return _Experts(ids=ids, org=org, is_ent=is_ent, fields=fields, table=table)


def _employ_experts(
    rng: np.random.Generator, orgs: _Orgs, n_experts: int, n_ent_experts: int
) -> tuple[BoolArray, IntArray]:
    """Which experts work for enterprises (exactly ``n_ent_experts``, at random) and where.

    Each expert's organization is drawn by size among the organizations of the right kind
    (any organization if there is none), except that up to half of those organizations first
    get one expert each (size-weighted, without replacement, by Gumbel keys): a large batch
    barely changes, a small one does not pile its few experts into two organizations, which
    ``max_per_org = 1`` would make infeasible.
    """
    is_ent = np.zeros(n_experts, dtype=bool)
    is_ent[rng.permutation(n_experts)[:n_ent_experts]] = True
    expert_org = np.empty(n_experts, dtype=np.int64)
    for want_ent in (True, False):
        rows = np.flatnonzero(is_ent == want_ent)
        pool = np.flatnonzero((orgs.type == _ENT) == want_ent)
        if pool.size == 0:
            pool = np.arange(orgs.ids.size)
        weight = orgs.weight[pool]
        drawn = pool[_Weighted(weight).draw(rng.random(rows.size))]
        n_spread = min(rows.size, (pool.size + 1) // 2)
        keys = np.log(weight) + rng.gumbel(size=pool.size)
        spread = pool[np.argsort(-keys, kind="stable")[:n_spread]]
        drawn[rng.permutation(rows.size)[:n_spread]] = spread
        expert_org[rows] = drawn
    return is_ent, expert_org


def _expert_names(rng: np.random.Generator, n: int) -> ObjArray:
    """A surname (Zipf-like over the common surnames) and one or, 70% of the time, two
    given-name characters; duplicates happen, as in life - ids are the identity."""
    surname_p = 1.0 / np.arange(1, len(_SURNAMES) + 1) ** 0.8
    surname = np.array(_SURNAMES, dtype=object)[_pick(rng, n, tuple(surname_p))]
    given = np.array(_GIVEN, dtype=object)
    g1 = given[rng.integers(0, len(_GIVEN), size=n)]
    g2 = given[rng.integers(0, len(_GIVEN), size=n)]
    two = rng.random(n) < 0.7
    names: ObjArray = surname + g1 + np.where(two, g2, "").astype(object)
    return names


def _expert_columns(
    rng: np.random.Generator, orgs: _Orgs, org: IntArray
) -> dict[str, ObjArray | IntArray]:
    """The experts' ``org_type`` (given by 10%, else derived from the organization),
    ``max_load`` (given by 20%, 3-8), ``used`` (0 for 70%, else 1-9 reviews done this year),
    ``region`` (the organization's 85% of the time) and a ``title`` fitting the
    organization's type."""
    n = org.size
    expert_type = orgs.type[org]
    org_type_given = rng.random(n) < 0.1
    org_type_cell = np.where(
        org_type_given, np.array(ORG_TYPES, dtype=object)[expert_type], ""
    ).astype(object)
    max_load_given = rng.random(n) < 0.2
    max_load = rng.integers(3, 9, size=n)
    used = np.where(rng.random(n) < 0.7, 0, rng.integers(1, 10, size=n))
    same_region = rng.random(n) < 0.85
    region = np.where(same_region, orgs.region[org], rng.integers(0, len(_REGIONS), size=n))
    title_u = rng.random(n)
    titles = np.empty(n, dtype=object)
    for t, options in enumerate(_TITLES):
        rows = np.flatnonzero(expert_type == t)
        titles[rows] = np.array(options, dtype=object)[
            (title_u[rows] * len(options)).astype(np.int64)
        ]
    return {
        "org_type": org_type_cell,
        "max_load": _optional_int(max_load, max_load_given),
        "used": used.astype(np.int64),
        "region": np.array(_REGIONS, dtype=object)[region],
        "title": titles,
    }


@dataclass(frozen=True)
class _ExpertPools:
    """Experts grouped for drawing by area: by the level-2 codes and by the roots of their
    fields (an expert with two fields in one code appears once per field: more fields, more
    often drawn), enterprise experts by root, and experts by organization."""

    l2: _Pools
    root: _Pools
    ent_root: _Pools
    org: _Pools


def _expert_pools(world: _World, experts: _Experts) -> _ExpertPools:
    """Index the experts by area and organization (no draws)."""
    tree = world.tree
    rows, codes = _field_entries(experts.fields)
    ent = experts.is_ent[rows]
    n_experts, n_org = experts.org.size, world.orgs.ids.size
    return _ExpertPools(
        l2=_Pools.build(tree.l2[codes], rows, tree.n_l2),
        root=_Pools.build(tree.root[codes], rows, tree.n_roots),
        ent_root=_Pools.build(tree.root[codes[ent]], rows[ent], tree.n_roots),
        org=_Pools.build(experts.org, np.arange(n_experts, dtype=np.int64), n_org),
    )


def _related_expert(
    rng: np.random.Generator, pools: _ExpertPools, n_experts: int, l2: IntArray, root: IntArray
) -> IntArray:
    """An expert of the level-2 code (60%), of the root (20%) or anyone (20%) - co-authors
    and declared conflicts work in the same area as the project or person they relate to."""
    k = l2.size
    u = rng.random(k)
    by_l2 = pools.l2.draw(l2, rng.random(k))
    by_root = pools.root.draw(root, rng.random(k))
    anyone = rng.integers(0, max(n_experts, 1), size=k)
    pick = np.where(u < 0.6, by_l2, np.where(u < 0.8, by_root, anyone))
    return np.where(pick >= 0, pick, anyone)


# --------------------------------------------------------------------------- projects


@dataclass(frozen=True)
class _Projects:
    """The projects' table, and what later steps draw from."""

    ids: ObjArray
    fields: IntArray  # field code ids, primary first, -1 pads
    applicant: IntArray  # organization index
    table: pd.DataFrame


def _projects(
    rng: np.random.Generator, world: _World, experts: _Experts, n_projects: int
) -> _Projects:
    """Draw the projects: fields, applicant, partners, panel size, stage, keywords, title."""
    tree, orgs = world.tree, world.orgs
    sampler = _Weighted(_project_field_weights(world, experts))
    fields = _draw_fields(rng, tree, sampler, n_projects, (0.45, 0.4, 0.15), 0.8, 0.15, 0.15)
    applicant = _applicants(rng, orgs, n_projects)
    partner, partner_ok = _partners(rng, orgs, applicant)
    panel = np.where(rng.random(n_projects) < 0.5, 3, 7)
    panel_given = rng.random(n_projects) < 0.1
    stage = np.array(_STAGES, dtype=object)[_pick(rng, n_projects, (0.6, 0.2, 0.2))]
    words = _draw_keywords(rng, tree, fields, 2, 5)
    ids = _ids("P", n_projects, 6)
    table = _frame(
        "projects",
        {
            "id": ids,
            "title": _project_titles(rng, world.words, words),
            "organization": orgs.ids[applicant],
            "partners": _join(orgs.ids[partner], partner_ok),
            "fields": _codes_cell(tree, fields),
            "panel_size": _optional_int(panel, panel_given),
            "stage": stage,
            "keywords": _join(world.words[np.maximum(words, 0)], words >= 0),
        },
    )
    return _Projects(ids=ids, fields=fields, applicant=applicant, table=table)


def _project_field_weights(world: _World, experts: _Experts) -> FloatArray:
    """Leaf weights for project fields: the leaf popularity restricted to the level-2 codes
    held by experts of at least 5 organization groups (or, in batches too small for that, the
    best-supplied codes), so that with ``coverage_level = 2`` every project field has experts
    left after the applicant's group is excluded. No draws."""
    tree, orgs, leaf_weight = world.tree, world.orgs, world.leaf_weight
    n_org = orgs.ids.size
    if experts.org.size:
        rows, codes = _field_entries(experts.fields)
        pairs = np.unique(tree.l2[codes] * n_org + orgs.group[experts.org[rows]])
        supply = np.bincount(pairs // n_org, minlength=tree.n_l2)
        eligible = supply >= min(5, int(supply.max()))
    else:
        eligible = np.ones(tree.n_l2, dtype=bool)
    project_weight = leaf_weight * np.repeat(eligible, tree.c1)
    if project_weight.sum() <= 0:
        project_weight = leaf_weight
    return project_weight


def _applicants(rng: np.random.Generator, orgs: _Orgs, n_projects: int) -> IntArray:
    """The applicant organization of each project: its type by ``_APPLICANT_SHARE``
    (renormalised over the types present, any organization if none is), then an organization
    of that type weighted by ``size ** 0.8`` - bigger organizations apply more."""
    present = [t for t in _APPLICANT_SHARE if (orgs.type == t).any()]
    applicant = np.empty(n_projects, dtype=np.int64)
    if present:
        app_type = np.array(present)[
            _pick(rng, n_projects, tuple(_APPLICANT_SHARE[t] for t in present))
        ]
    else:
        app_type = np.full(n_projects, -1, dtype=np.int64)
    u = rng.random(n_projects)
    for t in [*present, -1]:
        rows = np.flatnonzero(app_type == t)
        pool = np.flatnonzero(orgs.type == t) if t >= 0 else np.arange(orgs.ids.size)
        if rows.size:
            applicant[rows] = pool[_Weighted(orgs.weight[pool] ** 0.8).draw(u[rows])]
    return applicant


def _partners(
    rng: np.random.Generator, orgs: _Orgs, applicant: IntArray
) -> tuple[IntArray, BoolArray]:
    """Two size-weighted partner candidates per project and which of them are kept: 0, 1 or
    2 partners (55/30/15%), never the applicant, never the same one twice."""
    n_projects = applicant.size
    org_sampler = _Weighted(orgs.weight)
    n_partners = _pick(rng, n_projects, (0.55, 0.3, 0.15))
    partner = org_sampler.draw(rng.random(n_projects * 2)).reshape(n_projects, 2)
    partner_ok = np.stack(
        [
            (n_partners >= 1) & (partner[:, 0] != applicant),
            (n_partners >= 2) & (partner[:, 1] != applicant) & (partner[:, 1] != partner[:, 0]),
        ],
        axis=1,
    )
    return partner, partner_ok


def _project_titles(rng: np.random.Generator, words: ObjArray, p_words: IntArray) -> ObjArray:
    """A title from a random template and the first two keywords (or, for a project with a
    single keyword, another word of the first keyword's code)."""
    n_projects = int(p_words.shape[0])
    template = rng.integers(0, len(_TITLE_TEMPLATES), size=n_projects)
    first = words[p_words[:, 0]]
    other_word = (p_words[:, 0] // _VOCAB) * _VOCAB + (p_words[:, 0] % _VOCAB + 1) % _VOCAB
    fallback = words[other_word]
    second = np.where(p_words[:, 1] >= 0, words[np.maximum(p_words[:, 1], 0)], fallback)
    return np.array(
        [
            _TITLE_TEMPLATES[int(k)].format(a, b)
            for k, a, b in zip(template, first, second, strict=True)
        ],
        dtype=object,
    )


# --------------------------------------------------------------------------- applicant teams


@dataclass(frozen=True)
class _Members:
    """The applicant teams, one row per member."""

    project: IntArray  # project index
    expert: IntArray  # expert index, -1 for a member who is not an expert
    person: ObjArray  # person id (the expert's id for an expert)
    table: pd.DataFrame


def _members(
    rng: np.random.Generator, experts: _Experts, projects: _Projects, pools: _ExpertPools
) -> _Members:
    """Teams of 2-5 persons per project (ids ``M0000001``...). About 5% of the projects have
    an expert as last member instead - 60% of the time a colleague from the applicant
    organization, else anyone - which triggers the ``team`` conflict apart from ``same_org``."""
    n_projects, n_experts = projects.ids.size, experts.ids.size
    team_size = rng.integers(2, 6, size=n_projects)
    m_project = np.repeat(np.arange(n_projects, dtype=np.int64), team_size)
    m_expert = np.full(m_project.size, -1, dtype=np.int64)
    with_expert = np.flatnonzero((rng.random(n_projects) < 0.05) & (n_experts > 0))
    colleague = pools.org.draw(projects.applicant[with_expert], rng.random(with_expert.size))
    outsider = rng.integers(0, max(n_experts, 1), size=with_expert.size)
    chosen = np.where((rng.random(with_expert.size) < 0.6) & (colleague >= 0), colleague, outsider)
    last_slot = np.cumsum(team_size) - 1
    m_expert[last_slot[with_expert]] = chosen
    m_person = np.empty(m_project.size, dtype=object)
    not_expert = m_expert < 0
    m_person[not_expert] = _ids("M", int(not_expert.sum()), 7)
    m_person[~not_expert] = experts.ids[m_expert[~not_expert]]
    table = _frame("members", {"project": projects.ids[m_project], "person": m_person})
    return _Members(project=m_project, expert=m_expert, person=m_person, table=table)


# --------------------------------------------------------------------------- relations


def _relations(
    rng: np.random.Generator,
    tree: _Tree,
    experts: _Experts,
    projects: _Projects,
    members: _Members,
    pools: _ExpertPools,
    coauthor_rate: float,
    reference_year: int,
) -> pd.DataFrame:
    """About ``coauthor_rate`` relations per project (Poisson total): their ends, kinds and
    years, the ends written in either order (a relation is symmetric), then one row per
    unordered pair, kind and year (the first drawn wins)."""
    n_rel = int(rng.poisson(coauthor_rate * projects.ids.size)) if experts.ids.size else 0
    rel_a, rel_b = _relation_ends(rng, tree, experts, projects, members, pools, n_rel)
    kind, year, year_given = _relation_kinds(rng, rel_a.size, reference_year)
    swap = rng.random(rel_a.size) < 0.5
    relations = pd.DataFrame(
        {
            "a": np.where(swap, rel_b, rel_a).astype(object),
            "b": np.where(swap, rel_a, rel_b).astype(object),
            "kind": np.array(_KINDS, dtype=object)[kind],
            "year": _optional_int(year, year_given),
        }
    )
    pair = pd.DataFrame({"x": rel_a, "y": rel_b, "k": kind, "t": np.where(year_given, year, 0)})
    flip = pair["x"] > pair["y"]
    pair.loc[flip, ["x", "y"]] = pair.loc[flip, ["y", "x"]].to_numpy()
    return relations[~pair.duplicated().to_numpy()].reset_index(drop=True)


def _relation_ends(
    rng: np.random.Generator,
    tree: _Tree,
    experts: _Experts,
    projects: _Projects,
    members: _Members,
    pools: _ExpertPools,
    n_rel: int,
) -> tuple[ObjArray, ObjArray]:
    """The ids at the two ends of ``n_rel`` drawn relations, self-relations dropped: 75% link
    an expert with a team member, the expert working in the area of the member's project
    (``_related_expert``) so that the collaborator conflict removes good candidates; 25% link
    two experts, the second in the area of the first's primary field."""
    n_experts = experts.ids.size
    to_member = rng.random(n_rel) < (0.75 if members.project.size else 0.0)
    n_em, n_ee = int(to_member.sum()), int((~to_member).sum())
    member_row = rng.integers(0, max(members.project.size, 1), size=n_em)
    if members.project.size:
        rel_project = members.project[member_row]
    else:
        rel_project = np.empty(0, dtype=np.int64)
    primary = np.maximum(projects.fields[rel_project, 0], 0)
    em_expert = _related_expert(rng, pools, n_experts, tree.l2[primary], tree.root[primary])
    em_keep = members.expert[member_row] != em_expert
    ee_a = rng.integers(0, max(n_experts, 1), size=n_ee)
    a_primary = experts.fields[ee_a, 0] if n_experts else np.empty(0, dtype=np.int64)
    ee_b = _related_expert(rng, pools, n_experts, tree.l2[a_primary], tree.root[a_primary])
    ee_keep = ee_a != ee_b
    ids = experts.ids
    rel_a = np.concatenate([ids[em_expert[em_keep]], ids[ee_a[ee_keep]]])
    rel_b = np.concatenate([members.person[member_row[em_keep]], ids[ee_b[ee_keep]]])
    return rel_a, rel_b


def _relation_kinds(
    rng: np.random.Generator, n: int, reference_year: int
) -> tuple[IntArray, IntArray, BoolArray]:
    """Kind (coauthor 55%, coproject 25%, advisor 8%, relative 2%, other 10%), year and whether
    the year is given: coauthor/coproject years are ``reference_year - 8..reference_year``
    (given 97% of the time; with a window of 3 about a third are conflicts), advisor years
    5-30 years back (given 40%), a relative never has a year and ``other`` half the time."""
    kind = _pick(rng, n, (0.55, 0.25, 0.08, 0.02, 0.10))
    recent = reference_year - rng.integers(0, 9, size=n)
    old = reference_year - rng.integers(5, 31, size=n)
    u = rng.random(n)
    year = np.where(kind == 2, old, recent)
    year_given = np.select(
        [kind <= 1, kind == 2, kind == 3], [u >= 0.03, u >= 0.6, np.zeros(n, bool)], u >= 0.5
    )
    return kind, year, year_given


def _declared_conflicts(
    rng: np.random.Generator,
    tree: _Tree,
    experts: _Experts,
    projects: _Projects,
    pools: _ExpertPools,
) -> pd.DataFrame:
    """About 1% of the projects declare 1-2 conflicts, with experts of the project's primary
    area (``_related_expert``: the people an office actually worries about) and a reason."""
    n_projects, n_experts = projects.ids.size, experts.ids.size
    declaring = np.flatnonzero(rng.random(n_projects) < 0.01) if n_experts else np.empty(0, int)
    n_declared = rng.integers(1, 3, size=declaring.size)
    c_project = np.repeat(declaring, n_declared).astype(np.int64)
    c_primary = np.maximum(projects.fields[c_project, 0], 0)
    c_expert = _related_expert(rng, pools, n_experts, tree.l2[c_primary], tree.root[c_primary])
    c_reason = np.array(_REASONS, dtype=object)[rng.integers(0, len(_REASONS), c_project.size)]
    return pd.DataFrame(
        {
            "expert": experts.ids[c_expert] if n_experts else np.empty(0, dtype=object),
            "project": projects.ids[c_project],
            "reason": c_reason,
        }
    ).drop_duplicates(subset=["expert", "project"], ignore_index=True)


# --------------------------------------------------------------------------- scores


def _scores_table(
    rng: np.random.Generator,
    tree: _Tree,
    experts: _Experts,
    projects: _Projects,
    pools: _ExpertPools,
) -> pd.DataFrame:
    """The sparse ``scores`` table (module docstring, "Scores")."""
    s_expert, s_project, s_score = _scores(rng, tree, experts.fields, projects.fields, pools)
    return _frame(
        "scores",
        {
            "expert": experts.ids[s_expert],
            "project": projects.ids[s_project],
            "score": s_score,
        },
    )


def _scores(
    rng: np.random.Generator,
    tree: _Tree,
    e_fields: IntArray,
    p_fields: IntArray,
    pools: _ExpertPools,
) -> tuple[IntArray, IntArray, FloatArray]:
    """Candidate pairs per project and their field-closeness scores, times a noise uniform in
    0.85..1.15, rounded to 2 decimals (module docstring)."""
    n_projects, n_experts = p_fields.shape[0], e_fields.shape[0]
    if n_projects == 0 or n_experts == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=np.float64)
    p_idx, e_idx = _score_candidates(rng, tree, p_fields, n_experts, pools)
    best = _best_closeness(tree, p_fields, e_fields, p_idx, e_idx)
    noise = 0.85 + 0.3 * rng.random(p_idx.size)
    score = np.round(10.0 * best * noise, 2)
    return e_idx.astype(np.int64), p_idx.astype(np.int64), score


def _score_candidates(
    rng: np.random.Generator, tree: _Tree, p_fields: IntArray, n_experts: int, pools: _ExpertPools
) -> tuple[IntArray, IntArray]:
    """Distinct (project, expert) candidate pairs, sorted: 10 draws from each project field's
    level-2 code, 15-55 from the primary root, 15 among the primary root's enterprise experts
    and 2 uniformly random experts; pools of at most 10, 80 and 15 experts are taken whole,
    so that small batches keep every candidate."""
    n_projects = p_fields.shape[0]
    primary = np.maximum(p_fields[:, 0], 0)
    root = tree.root[primary]
    draws: list[IntArray] = []
    ten = np.full(n_projects, 10, dtype=np.int64)
    for j in range(p_fields.shape[1]):
        code = p_fields[:, j]
        l2 = np.where(code >= 0, tree.l2[np.maximum(code, 0)], -1)
        draws.append(pools.l2.sample(l2, ten, 10, rng.random(n_projects * 10)))
    n_root: IntArray = np.asarray(rng.integers(15, 56, size=n_projects), dtype=np.int64)
    draws.append(pools.root.sample(root, n_root, 80, rng.random(n_projects * 80)))
    fifteen = np.full(n_projects, 15, dtype=np.int64)
    draws.append(pools.ent_root.sample(root, fifteen, 15, rng.random(n_projects * 15)))
    draws.append(rng.integers(0, n_experts, size=(n_projects, 2)))
    cand = np.concatenate(draws, axis=1)
    proj = np.broadcast_to(np.arange(n_projects, dtype=np.int64)[:, None], cand.shape)
    keep = cand >= 0
    key = np.unique(proj[keep] * n_experts + cand[keep])
    return key // n_experts, key % n_experts


def _best_closeness(
    tree: _Tree, p_fields: IntArray, e_fields: IntArray, p_idx: IntArray, e_idx: IntArray
) -> FloatArray:
    """For each pair, the best ``closeness * project-field weight * expert-field weight`` over
    their fields: closeness 1 for the same leaf, 0.85 for the same level-2 code when one side
    is a level-2 code, 0.65 for the same level-2 code, 0.3 for the same root, else 0; position
    weights (1, 0.8, 0.7) for the project's fields and (1, 0.85, 0.7) for the expert's. No
    draws."""
    best = np.zeros(p_idx.size)
    project_weight = (1.0, 0.8, 0.7)
    expert_weight = (1.0, 0.85, 0.7)
    for i in range(p_fields.shape[1]):
        a = p_fields[p_idx, i]
        for j in range(e_fields.shape[1]):
            b = e_fields[e_idx, j]
            valid = (a >= 0) & (b >= 0)
            sa, sb = np.maximum(a, 0), np.maximum(b, 0)
            same_root = valid & (tree.root[sa] == tree.root[sb])
            same_l2 = same_root & (tree.l2[sa] == tree.l2[sb])
            shallow = np.minimum(tree.depth[sa], tree.depth[sb]) == 2
            closeness = np.select(
                [same_l2 & (sa == sb) & ~shallow, same_l2 & shallow, same_l2, same_root],
                [1.0, 0.85, 0.65, 0.3],
                0.0,
            )
            best = np.maximum(best, closeness * project_weight[i] * expert_weight[j])
    return best


def write_batch(tables: dict[str, pd.DataFrame], folder: str | os.PathLike[str]) -> Path:
    """Write each table as ``<stem>.csv`` (UTF-8, no index) into ``folder``, creating it if
    missing, and return the folder path - ready for ``expertmatch assign FOLDER``."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for stem, frame in tables.items():
        frame.to_csv(path / f"{stem}.csv", index=False, encoding="utf-8", lineterminator="\n")
    return path

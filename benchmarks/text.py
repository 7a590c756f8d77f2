"""Time and memory of ``expertmatch.text_affinity``, and its loss on a constructed gold standard.

    python benchmarks/text.py --repeat 3 --out benchmarks/results/
    python benchmarks/text.py --experts 300 --projects 1000 --repeat 1   # a quick look

**Speed.** Texts are generated (``generate_texts``, deterministic from the seed) by a topic
model: ``--topics`` topics, each a vocabulary of Chinese words (two or three common Han
characters, written without spaces as an abstract is: the segmenter has to cut them) and of
English terms; every expert has a mixture of a few topics, writes ``--papers`` papers from it,
and every project has its own mixture. A title has about 10 words, an abstract about 120,
about one word in five English. Each repeat runs ``text_affinity(projects, papers)`` in a
fresh Python subprocess (so ``ru_maxrss`` is the peak of that one run): ``time_s`` is the
call (wall clock), ``cpu_s`` the process's CPU time for it (BLAS threads included: on a
shared machine the steadier figure), ``peak_rss_mb`` the process's peak resident set,
``rss_start_mb`` the floor before the call (Python, libraries and the generated tables).
``segment_cpu_s``, the baseline of the same run: the CPU time of jieba's segmentation alone
(``rjieba.cut`` of every title and abstract), the floor of any method that reads the texts
with jieba; ``cpu / segment`` says how much the whole method costs beyond it.

**Loss on a gold standard** (``--gold``). The same generator at a small size gives the truth:
an expert's expertise for a project is the cosine between the expert's and the project's topic
mixtures. As in Stelmakh et al. (2023), the loss of a method is the share of wrongly ordered
pairs: for every expert, every two projects whose true expertise differs, the pair counts as
wrong when the method orders them the other way (a tie counts half). Several variants are
compared on the same texts: the full method, each signal alone, and without bigrams. This is
a synthetic gold standard (the public one is not shipped in any package); it checks that the
pieces behave as the method expects, not the numbers of the paper.

Output: a markdown summary (printed, and ``text-summary.md`` in ``--out`` with
``text-runs.csv``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Real two-character Chinese words of science: a topic's Chinese terms join one to three of
#: them (深度学习, 图像识别算法), so the segmenter cuts them as it would cut a real abstract.
_HAN = """
数据 模型 网络 结构 材料 能量 信号 系统 控制 算法 图像 学习 检测 分子
细胞 基因 蛋白 化学 反应 催化 合成 纳米 光电 磁场 流体 热力 机械 振动
声波 土壤 水文 气候 生态 植物 动物 病毒 免疫 药物 临床 诊断 影像 交通
城市 经济 金融 市场 风险 管理 决策 优化 计算 并行 存储 安全 加密 通信
无线 传感 芯片 电路 功率 电池 储能 燃料 太阳 风电 聚变 离子 激光 量子
拓扑 晶体 薄膜 界面 表面 腐蚀 疲劳 断裂 复合 深度 识别 预测 估计 分类
聚类 回归 推理 知识 语言 语音 视觉 机器 智能 自动 机器人 导航 定位 遥感
卫星 海洋 地质 矿产 石油 天然气 煤炭 钢铁 合金 陶瓷 聚合物 高分子 生物
医学 肿瘤 心血管 神经 代谢 遗传 育种 作物 水稻 小麦 病虫害 森林 湿地 污染
治理 排放 碳汇 能源 电网 调度 储运 桥梁 隧道 地震 抗震 混凝土 岩土 边坡
水利 灌溉 农业 畜牧 食品 营养 检验 质量 标准 制造 加工 装配 工艺 设备
仪器 测量 精度 稳定 可靠 故障 寿命 评估 仿真 建模 实验 理论 方法 框架
平台 应用 示范 集成 协同 多源 异构 融合 增强
"""
HAN = _HAN.split()
#: Latin syllables the English terms are made of.
_SYLLABLES = "ka lo mi tren vo sa ri po nel dex ter gra phi lin qua zor bel cy tro mon"
SYLLABLES = _SYLLABLES.split()


def _words(rng: np.random.Generator, n: int, han: bool) -> list[str]:
    """``n`` distinct made-up words, Chinese (2-3 Han characters) or English (2-3 syllables)."""
    seen: dict[str, None] = {}
    while len(seen) < n:
        if han:
            word = "".join(rng.choice(HAN, size=int(rng.integers(1, 4))))
        else:
            word = "".join(rng.choice(SYLLABLES, size=int(rng.integers(2, 4)))) + "s" * int(
                rng.integers(0, 2)
            )
        seen[word] = None
    return list(seen)


def _text(
    rng: np.random.Generator,
    mixture: np.ndarray,
    topics: list[list[str]],
    generic: list[str],
    n: int,
) -> str:
    """``n`` words, one in five generic, the others drawn from the topics' mixture (Zipf
    within a topic); Chinese words run together, English ones spaced, a clause break every
    12 words."""
    chosen = rng.choice(len(topics), size=n, p=mixture)
    parts = []
    for k, topic in enumerate(chosen):
        vocabulary = generic if rng.random() < 0.2 else topics[topic]
        rank = min(int(rng.zipf(1.3)) - 1, len(vocabulary) - 1)
        word = vocabulary[rank]
        parts.append(word if not word.isascii() else f" {word} ")
        if k % 12 == 11:
            parts.append("，")
    return "".join(parts) + "。"


def generate_texts(
    n_experts: int, papers: int, n_projects: int, topics: int = 200, seed: int = 1
) -> dict[str, Any]:
    """Projects (id, title, abstract), papers (expert, title, abstract) and the true topic
    mixtures of experts and projects."""
    rng = np.random.default_rng(seed)
    vocab = [
        list(rng.permutation(_words(rng, 160, True) + _words(rng, 40, False)))
        for _ in range(topics)
    ]
    generic = _words(rng, 30, True) + _words(rng, 10, False)  # in most texts, as 研究, model

    def mixture(k: int) -> np.ndarray:
        weights = np.zeros(topics)
        weights[rng.choice(topics, size=k, replace=False)] = rng.dirichlet(np.ones(k))
        return weights

    experts = np.array([mixture(3) for _ in range(n_experts)])
    projects = np.array([mixture(2) for _ in range(n_projects)])
    project_rows = [
        {
            "id": f"P{p:05d}",
            "title": _text(rng, projects[p], vocab, generic, 10),
            "abstract": _text(rng, projects[p], vocab, generic, 120),
        }
        for p in range(n_projects)
    ]
    paper_rows = []
    for e in range(n_experts):
        for _ in range(papers):
            focus = mixture(1) * 0.5 + experts[e] * 0.5  # a paper leans to one topic
            focus = np.where(experts[e] > 0, focus, 0.0)
            focus = focus / focus.sum() if focus.sum() > 0 else experts[e]
            paper_rows.append(
                {
                    "expert": f"E{e:05d}",
                    "title": _text(rng, focus, vocab, generic, 10),
                    "abstract": _text(rng, focus, vocab, generic, 120),
                }
            )
    return {
        "projects": pd.DataFrame(project_rows),
        "papers": pd.DataFrame(paper_rows),
        "expert_topics": experts,
        "project_topics": projects,
    }


# -- speed: one run per subprocess -------------------------------------------------------------


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Generate the texts, then time one ``text_affinity`` call (run in a fresh process)."""
    import rjieba

    from expertmatch import text_affinity

    data = generate_texts(spec["experts"], spec["papers"], spec["projects"], seed=spec["seed"])
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start, cpu = time.perf_counter(), time.process_time()
    frame = text_affinity(data["projects"], data["papers"])
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    segment = time.process_time()  # the floor: jieba's segmentation of every text, alone
    for table in (data["projects"], data["papers"]):
        for column in ("title", "abstract"):
            for cell in table[column]:
                rjieba.cut(cell)
    segment = time.process_time() - segment
    return {
        **spec,
        "rows": len(frame),
        "time_s": round(elapsed, 2),
        "cpu_s": round(cpu, 2),
        "segment_cpu_s": round(segment, 2),
        "rss_start_mb": round(start_rss, 1),
        "peak_rss_mb": round(peak, 1),
        "score_sum": float(np.float64(frame["score"].to_numpy(dtype=np.float64).sum())),
    }


def run_in_subprocess(spec: dict[str, Any]) -> dict[str, Any]:
    """``worker(spec)`` in a fresh Python process; its JSON answer."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


# -- quality: a constructed gold standard ------------------------------------------------------


def pair_loss(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Share of wrongly ordered project pairs, over experts (ties in the prediction count
    half; pairs with equal truth are skipped). Arrays are (projects, experts)."""
    wrong = total = 0.0
    for e in range(truth.shape[1]):
        t, s = truth[:, e], predicted[:, e]
        dt = np.sign(t[:, None] - t[None, :])
        ds = np.sign(s[:, None] - s[None, :])
        mask = dt > 0
        total += mask.sum()
        wrong += (ds[mask] < 0).sum() + 0.5 * (ds[mask] == 0).sum()
    return wrong / total if total else float("nan")


def gold(n_experts: int, papers: int, n_projects: int, seed: int) -> dict[str, float]:
    """The loss of the method and its variants on one generated gold standard."""
    from expertmatch.domain import text

    data = generate_texts(n_experts, papers, n_projects, topics=40, seed=seed)
    ex, pr = data["expert_topics"], data["project_topics"]
    truth = (pr / np.linalg.norm(pr, axis=1, keepdims=True)) @ (
        ex / np.linalg.norm(ex, axis=1, keepdims=True)
    ).T
    projects = list(zip(data["projects"]["title"], data["projects"]["abstract"], strict=True))
    paper_docs = list(zip(data["papers"]["title"], data["papers"]["abstract"], strict=True))
    owner = data["papers"]["expert"].str[1:].astype(int).to_numpy()
    model = text.TextModel.fit(projects, paper_docs, owner, n_experts)
    out = {
        "method (cosine top-5 + BM25, z-scored)": pair_loss(truth, model.affinity()),
        "cosine top-5 alone": pair_loss(truth, model.top_cosine()),
        "BM25 (paper as query) alone": pair_loss(truth, model.bm25()),
    }
    original = text.count_matrix

    def unigrams(documents: Any) -> Any:  # the same counts with the bigram columns dropped
        counts, terms = original(documents)
        keep = np.zeros(counts.shape[1], dtype=bool)
        keep[: len(terms.words)] = True
        return counts[:, keep].tocsr(), text.Terms(terms.words, terms.bigrams[:0])

    try:
        text.count_matrix = unigrams  # type: ignore[assignment]
        plain = text.TextModel.fit(projects, paper_docs, owner, n_experts)
        out["without bigrams"] = pair_loss(truth, plain.affinity())
    finally:
        text.count_matrix = original  # type: ignore[assignment]
    return out


# -- the report --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """The machine and the commit the numbers come from."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "commit": commit,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, default=3000)
    parser.add_argument("--papers", type=int, default=20)
    parser.add_argument("--projects", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gold", action="store_true", help="also the gold-standard loss")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    runs = []
    for seed in range(1, args.repeat + 1):
        spec = {
            "experts": args.experts,
            "papers": args.papers,
            "projects": args.projects,
            "seed": seed,
        }
        runs.append(run_in_subprocess(spec))
        print(runs[-1], file=sys.stderr)
    frame = pd.DataFrame(runs)
    segment = frame["segment_cpu_s"].median() if "segment_cpu_s" in frame else float("nan")
    info = machine()
    lines = [
        f"machine: {info}",
        "",
        f"text_affinity, {args.experts} experts x {args.papers} papers x {args.projects} "
        f"projects, {args.repeat} runs (seeds 1..{args.repeat}), medians:",
        "",
        "| time_s | cpu_s | segment_cpu_s | cpu / segment | peak_rss_mb | rss_start_mb | rows |",
        "|---|---|---|---|---|---|---|",
        f"| {frame['time_s'].median():.2f} | {frame['cpu_s'].median():.2f} | "
        f"{segment:.2f} | {frame['cpu_s'].median() / segment:.1f} | "
        f"{frame['peak_rss_mb'].median():.0f} | "
        f"{frame['rss_start_mb'].median():.0f} | {int(frame['rows'].iloc[0]):,} |",
    ]
    if args.gold:
        losses = pd.DataFrame([gold(60, 10, 300, seed) for seed in range(1, 4)])
        lines += [
            "",
            "Loss on the constructed gold standard (60 experts x 10 papers x 300 "
            "projects, 40 topics; mean of seeds 1-3; lower is better):",
            "",
            "| variant | loss |",
            "|---|---|",
        ]
        lines += [f"| {name} | {value:.3f} |" for name, value in losses.mean().items()]
    text = "\n".join(lines)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        frame.to_csv(args.out / "text-runs.csv", index=False)
        (args.out / "text-summary.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

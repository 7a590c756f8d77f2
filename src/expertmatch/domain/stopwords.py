"""Stop words of the text affinity (:mod:`expertmatch.domain.text`), Chinese and English.

Function words only (articles, pronouns, particles, conjunctions, auxiliaries) and the
boilerplate every abstract opens with (本项目, this paper): words that say nothing about the
subject. Frequent subject words (研究, model, data) are left to the IDF weighting, which
learns from the batch how common they are. English words are compared before stemming.
"""

from __future__ import annotations

_ENGLISH = """
    a about above after again against all also although am among an and another any are
    as at be because been before being below between both but by can could did do does
    doing done down during each either et etc few for from further had has have having he
    her here hers herself him himself his how however i if in into is it its itself just
    may me might more most must my myself no nor not of off on once only or other our ours
    ourselves out over own per same she should so some such than that the their theirs them
    themselves then there these they this those through thus to too under until up upon us
    very via was we were what when where whether which while who whom whose why will with
    within without would yet you your yours yourself yourselves
    paper article propose proposed present presents presented show shows shown
"""

_CHINESE = """

    的 地 得 了 着 过 是 在 和 与 及 以及 或 或者 并 并且 而 而且 但 但是 然而 因此 所以 因为
    由于 如果 虽然 即 即使 也 还 又 都 就 才 只 仅 将 把 被 对 对于 关于 为 为了 从 由 向
    以 于 按 按照 通过 根据 基于 其 其中 该 此 这 这些 这个 那 那些 之 个 种 一种 一个
    各 每 某 等 等等 中 上 下 内 外 后 前 间 时 我 我们 你 你们 他 他们 她 它 它们 本
    本文 本项目 本课题 本研究 本申请 项目 课题 拟 可 可以 能 能够 会 要 需 需要 应 应该 已
    已经 正在 进行 开展 实现 具有 存在 提出 采用 利用 使用 得到 获得 给出 有 无 不 没有
    很 较 更 最 非常 十分 进一步 同时 并且 以及 其他 其它 一些 有关 相关 主要 重要 方面
"""

#: English stop words (compared before stemming).
ENGLISH = frozenset(_ENGLISH.split())
#: Chinese stop words (compared with jieba's words).
CHINESE = frozenset(_CHINESE.split())

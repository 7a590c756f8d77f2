"""``report.html``: the yearly enterprise-expert figures (``kpi.json``'s dict) as one page.

One self-contained file: no script, no style sheet or font from the network; the charts are
inline SVG drawn by matplotlib with ``svg.fonttype = "none"`` (text stays text, so Chinese
labels stay searchable and sharp), sized for A4 and printable (no chart split across pages).
Only data goes in (the dict of :func:`expertmatch.rounds.kpi.kpi`), so this module needs
nothing of the domain.
"""

from __future__ import annotations

import html
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from expertmatch.io.output import staged
from expertmatch.version import __version__

#: No creator, date or licence block in the SVG (the page says what made it).
SVG_METADATA = {"Creator": None, "Date": None, "Format": None, "Type": None}

STYLE = """
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif;
       margin: 2em auto; max-width: 60em; color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 0.5em 0 1.5em; break-inside: avoid; page-break-inside: avoid; }
figure svg { max-width: 100%; height: auto; }
section { break-inside: avoid; page-break-inside: avoid; }
.note { color: #555; font-size: 0.9em; }
.missed { color: #b00; font-weight: bold; } .met { color: #070; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; } }
"""


#: Most fields drawn in the short-fields chart (the table lists them all).
SHORT_CHART_FIELDS = 30


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


@dataclass(frozen=True)
class Marked:
    """A table cell with a CSS class (met / missed)."""

    text: str
    css: str


def _cell(value: Any) -> str:
    if isinstance(value, Marked):
        return f'<td class="{value.css}">{html.escape(value.text)}</td>'
    return f"<td>{html.escape(str(value))}</td>"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _svg(fig: Any) -> str:
    """The figure as inline SVG (no XML prolog), then closed."""
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata=SVG_METADATA)
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


def share_chart(kpi: Mapping[str, Any]) -> str:
    """Enterprise share of seats by stage (and overall) over the rounds."""
    import matplotlib.pyplot as plt

    rounds = kpi["by_round"]
    labels = [r["round"] for r in rounds]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(labels, [r["enterprise_share"] for r in rounds], "o-", lw=2.5, label="all stages")
    stages = list(dict.fromkeys(s for r in rounds for s in r["by_stage"]))
    for stage in stages:
        ys = [r["by_stage"].get(stage, {}).get("enterprise_share") for r in rounds]
        xs = [x for x, y in zip(labels, ys, strict=True) if y is not None]
        ax.plot(xs, [y for y in ys if y is not None], "s--", label=stage)
    ax.axhline(kpi["pool"]["enterprise_share"], color="grey", lw=1, ls=":", label="share of pool")
    ax.set_ylabel("enterprise share of seats")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return _svg(fig)


def use_chart(kpi: Mapping[str, Any]) -> str:
    """How many experts of each kind gave 0, 1, 2, ... reviews over the rounds."""
    import matplotlib.pyplot as plt

    use = kpi["use"]
    kinds = [k for k in ("enterprise", "other") if k in use]
    counts = sorted({int(n) for k in kinds for n in use[k]["histogram"]})
    fig, ax = plt.subplots(figsize=(7, 3.2))
    width = 0.8 / max(len(kinds), 1)
    for i, kind in enumerate(kinds):
        hist = use[kind]["histogram"]
        xs = [n + (i - (len(kinds) - 1) / 2) * width for n in counts]
        ax.bar(xs, [hist.get(str(n), 0) for n in counts], width=width, label=kind)
    ax.set_xticks(counts)
    ax.set_xlabel("reviews per expert over the rounds")
    ax.set_ylabel("experts")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return _svg(fig)


def headroom_chart(kpi: Mapping[str, Any]) -> str:
    """The highest enterprise share reachable at each score loss."""
    import matplotlib.pyplot as plt

    points = kpi["headroom"]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    xs = [100 * p["score_loss"] for p in points]
    ys = [p["enterprise_share"] for p in points]
    ax.plot(xs, ys, "o-", lw=2.5)
    for x, y in zip(xs, ys, strict=True):
        ax.annotate(pct(y), (x, y), textcoords="offset points", xytext=(0, 7), ha="center")
    ax.set_xlabel("score given up (% of the optimum)")
    ax.set_ylabel("enterprise share of seats")
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
    ax.grid(alpha=0.3)
    return _svg(fig)


def short_chart(kpi: Mapping[str, Any]) -> str:
    """Per short field: enterprise experts eligible against panels needing one."""
    import matplotlib.pyplot as plt

    short = kpi["short_fields"][:SHORT_CHART_FIELDS]
    names = [f["field"] for f in short]
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.32 * max(len(short), 1)))
    ys = range(len(short))
    ax.barh(
        [y + 0.2 for y in ys],
        [f["enterprise_needed"] for f in short],
        0.4,
        label="panels needing an enterprise expert",
        color="#d62728",
    )
    ax.barh(
        [y - 0.2 for y in ys],
        [f["enterprise_available"] for f in short],
        0.4,
        label="enterprise experts eligible",
        color="#1f77b4",
    )
    ax.set_yticks(list(ys), names)
    ax.invert_yaxis()
    ax.set_xlabel("experts / panels")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    return _svg(fig)


def _share_row(label: str, figures: Mapping[str, Any], key: str = "total") -> list[Any]:
    return [label, figures[key], figures["enterprise"], pct(figures["enterprise_share"])]


def _headline(kpi: Mapping[str, Any]) -> str:
    """Pool, seats and reviews (by stage), chairs; then use by type of expert."""
    pool, seats, use = kpi["pool"], kpi["seats"], kpi["use"]
    reviews = seats["reviews"]
    rows = [
        _share_row("experts in the pool", pool, "experts"),
        _share_row("panel seats (all rounds)", seats),
    ]
    rows += [_share_row(f"  seats, {st}", v) for st, v in seats["by_stage"].items()]
    rows.append(_share_row("reviews (all rounds)", reviews))
    rows += [_share_row(f"  reviews, {st}", v) for st, v in reviews["by_stage"].items()]
    chairs = kpi.get("chairs")
    if chairs:
        rows.append(_share_row("chairs (组长)", chairs))
        rows += [_share_row(f"  chairs, {st}", v) for st, v in chairs["by_stage"].items()]
    table = _table(["", "all", "enterprise", "enterprise share"], rows)
    use_rows = [
        [
            kind,
            u["pool"],
            u["experts_used"],
            pct(u["experts_used"] / u["pool"]) if u["pool"] else "-",
            u.get("never_used", "-"),
            u["reviews"],
            f"{u['reviews_per_used_expert']:.2f}",
        ]
        for kind, u in use.items()
    ]
    use_table = _table(
        [
            "experts",
            "in the pool",
            "used",
            "share used",
            "never used",
            "reviews",
            "reviews per used expert",
        ],
        use_rows,
    )
    return table + use_table


def _groups_table(groups: Mapping[str, Any], name: str, key: str = "total") -> str:
    """One row per field (or region): all, enterprise, share."""
    return _table(
        [name, "all", "enterprise", "enterprise share"],
        [_share_row(k, v, key) for k, v in groups.items()],
    )


def _targets_table(kpi: Mapping[str, Any]) -> str:
    """Each rule on enterprise experts, per round (and the year) and stage: met or missed."""
    goals = kpi.get("targets", [])
    if not goals:
        return "<p>The rules set no target on enterprise experts.</p>"
    rows = []
    for t in goals:
        panels = f"{t['panels_met']} of {t['panels']}" if t["panels"] is not None else "-"
        missed = ", ".join(t["missed"][:10]) + (" ..." if len(t["missed"]) > 10 else "")
        rows.append(
            [
                t["round"],
                t["name"],
                t["stage"],
                t["target"],
                t["required"],
                f"{t['reached']} ({pct(t['reached_share'])})",
                panels,
                Marked("met", "met") if t["met"] else Marked("MISSED " + missed, "missed"),
            ]
        )
    return _table(
        [
            "round",
            "rule",
            "stage",
            "target",
            "enterprise seats required",
            "reached",
            "panels keeping it",
            "",
        ],
        rows,
    )


def _tables(kpi: Mapping[str, Any]) -> tuple[str, str, str]:
    """The rounds, short fields and headroom tables of the page."""
    rounds = _table(
        [
            "round",
            "file",
            "seats",
            "enterprise",
            "share",
            "enterprise experts used",
            "other experts used",
        ],
        [
            [
                r["round"],
                r["file"],
                r["total"],
                r["enterprise"],
                pct(r["enterprise_share"]),
                r["experts_used"]["enterprise"],
                r["experts_used"]["other"],
            ]
            for r in kpi["by_round"]
        ],
    )
    short = kpi["short_fields"]
    short_html = (
        _table(
            [
                "field",
                "enterprise experts eligible",
                "panels needing one",
                "enterprise seats those panels need",
                "to recruit (at least)",
            ],
            [
                [
                    f["field"],
                    f["enterprise_available"],
                    f["enterprise_needed"],
                    f.get("enterprise_seats_needed", ""),
                    f.get("recruit", f["enterprise_needed"] - f["enterprise_available"]),
                ]
                for f in short
            ],
        )
        if short
        else "<p>No field is short of enterprise experts.</p>"
    )
    headroom_rows = _table(
        ["score given up", "highest enterprise share", "enterprise seats", "score"],
        [
            [
                pct(p["score_loss"]),
                pct(p["enterprise_share"]),
                p.get("enterprise_seats", ""),
                f"{p.get('score', 0):.2f}",
            ]
            for p in kpi["headroom"]
        ],
    )
    return rounds, short_html, headroom_rows


def page(kpi: Mapping[str, Any], title: str = "Enterprise experts: the year's figures") -> str:
    """The whole HTML page."""
    import matplotlib

    matplotlib.use("Agg")
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "expertmatch"}):
        share = share_chart(kpi)
        use = use_chart(kpi)
        curve = headroom_chart(kpi) if kpi["headroom"] else ""
        short = short_chart(kpi) if kpi["short_fields"] else ""
    rounds, short_html, headroom_rows = _tables(kpi)
    note = kpi.get("headroom_note")
    pool = kpi["pool"]
    level = pool.get("field_level", "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f'<p class="note">expertmatch {html.escape(__version__)}; '
        f"{len(kpi['by_round'])} round(s).</p>",
        "<section><h2>Pool, seats and use</h2>",
        _headline(kpi),
        "</section>",
        "<section><h2>Targets in the rules: met or missed</h2>",
        _targets_table(kpi),
        "</section>",
        "<section><h2>Enterprise share of seats by stage, over the rounds</h2>",
        _figure(share, "Share of panel seats held by enterprise experts, per round and stage."),
        rounds,
        "</section>",
        "<section><h2>Use per expert, by type</h2>",
        _figure(use, "How many experts of each type gave each number of reviews."),
        "</section>",
        "<section><h2>Headroom: enterprise share at a cost in score</h2>",
        _figure(
            curve,
            "Highest enterprise share of seats the next batch can reach with every "
            "rule holding, for each share of the optimal score given up.",
        )
        if curve
        else "",
        headroom_rows,
        f'<p class="note">{html.escape(note)}</p>' if note else "",
        "</section>",
        "<section><h2>Fields short of enterprise experts (recruitment list)</h2>",
        _figure(short, "Enterprise experts eligible in the field against panels needing one.")
        if short
        else "",
        short_html,
        "</section>",
        f"<section><h2>Pool and seats by field (level {html.escape(str(level))})</h2>",
        _groups_table(pool["by_field"], "field", "experts"),
        _groups_table(kpi["seats"]["by_field"], "seats: field of the project"),
        "</section>",
    ]
    if "by_region" in pool:
        parts += [
            "<section><h2>Pool by region</h2>",
            _groups_table(pool["by_region"], "region", "experts"),
            "</section>",
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


def write_page(kpi: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write :func:`page` at ``path`` atomically (UTF-8)."""
    text = page(kpi)
    with staged([path]) as (temp,):
        temp.write_text(text, encoding="utf-8")

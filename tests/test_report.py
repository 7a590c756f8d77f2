"""``expertmatch report``: kpi.json's figures against counts made here, independently, on the
demo batch and on a generated year of three rounds; the page is one self-contained file."""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import expertmatch as em
from expertmatch.cli import main
from expertmatch.synthetic import generate, write_batch

STAGES = {"立项": "approval", "中期": "midterm", "验收": "acceptance", "结题验收": "acceptance"}


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def shares(seats: list[tuple[str, bool]]) -> dict[str, Any]:
    """total, enterprise, share and by_stage of (stage, is enterprise) seats."""
    by: dict[str, Any] = {}
    for stage in {s for s, _ in seats}:
        of = [e for s, e in seats if s == stage]
        by[stage] = {"total": len(of), "enterprise": sum(of), "enterprise_share": sum(of) / len(of)}
    ent = sum(e for _, e in seats)
    return {
        "total": len(seats),
        "enterprise": ent,
        "enterprise_share": ent / len(seats),
        "by_stage": by,
    }


def check_seats(got: dict[str, Any], want: dict[str, Any]) -> None:
    for key in ("total", "enterprise"):
        assert got[key] == want[key]
    assert got["enterprise_share"] == pytest.approx(want["enterprise_share"])
    assert set(got["by_stage"]) == set(want["by_stage"])
    for stage, figures in want["by_stage"].items():
        assert got["by_stage"][stage]["total"] == figures["total"]
        assert got["by_stage"][stage]["enterprise"] == figures["enterprise"]
        assert got["by_stage"][stage]["enterprise_share"] == pytest.approx(
            figures["enterprise_share"]
        )


def check_use(
    got: dict[str, Any], reviews: Counter[str], kind: dict[str, bool], pool: list[str]
) -> None:
    for name, is_ent in (("enterprise", True), ("other", False)):
        mine = {e: n for e, n in reviews.items() if kind[e] == is_ent}
        u = got[name]
        assert u["experts_used"] == len(mine)
        assert u["reviews"] == sum(mine.values())
        assert u["reviews_per_used_expert"] == pytest.approx(sum(mine.values()) / len(mine))
        of_pool = [e for e in pool if kind[e] == is_ent]
        hist = Counter(mine.get(e, 0) for e in of_pool)
        assert u["histogram"] == {str(n): hist[n] for n in sorted(hist)}


def check_page(page: Path, kpi: dict[str, Any]) -> None:
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    # share by stage, use per expert, headroom, and the short fields when there are some
    assert text.count("<svg") == 3 + bool(kpi["short_fields"])
    # self-contained: nothing fetched (namespace names in the SVG are not fetched)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert "<text" in text  # svg.fonttype none: text stays text


def test_report_on_the_demo(tmp_path: Path, demo: em.Problem, demo_result: em.Result) -> None:
    csv_path = tmp_path / "round" / "assignment.csv"
    demo_result.write(csv_path)
    out, kpi_json, xlsx = tmp_path / "report.html", tmp_path / "kpi.json", tmp_path / "kpi.xlsx"
    code = main(
        [
            "report",
            str(em.demo_path()),
            str(csv_path.parent),
            "-o",
            str(out),
            "--json",
            str(kpi_json),
            "--xlsx",
            str(xlsx),
        ]
    )
    assert code == 0
    kpi = json.loads(kpi_json.read_text(encoding="utf-8"))
    check_page(out, kpi)
    assert xlsx.stat().st_size > 0

    kind = {e: t == "enterprise" for e, t in zip(demo.expert_ids, demo.expert_type, strict=True)}
    assert kpi["pool"]["experts"] == len(demo.expert_ids)
    assert kpi["pool"]["enterprise"] == sum(kind.values())
    assert kpi["pool"]["enterprise_share"] == pytest.approx(sum(kind.values()) / len(kind))

    rows = rows_of(csv_path)
    stage = dict(zip(demo.project_ids, demo.stages, strict=True))
    want = shares([(stage[r["project"]], r["org_type"] == "enterprise") for r in rows])
    check_seats(kpi["seats"], want)
    check_seats(kpi["by_round"][0], want)
    check_use(kpi["use"], Counter(r["expert"] for r in rows), kind, list(demo.expert_ids))

    # short fields, counted with why_ineligible (field at the coverage level)
    tree = demo.field_tree
    level = max(int(demo.rules.coverage_level), 1)
    panels: Counter[str] = Counter()
    experts: dict[str, set[str]] = {}
    for p, pid in enumerate(demo.project_ids):
        if demo.enterprise_required[p] <= 0:
            continue
        for key in {tree.prefix(f, level) for f in demo.project_fields[p]}:
            panels[key] += 1
            for e, eid in enumerate(demo.expert_ids):
                if (
                    kind[eid]
                    and demo.covers(e, key)
                    and min(demo.expert_max_load[e], demo.rules.yearly_cap - demo.expert_used[e])
                    > 0
                    and not em.why_ineligible(demo, eid, pid)
                ):
                    experts.setdefault(key, set()).add(eid)
    short = {
        k: (len(experts.get(k, ())), n) for k, n in panels.items() if len(experts.get(k, ())) < n
    }
    assert {
        f["field"]: (f["enterprise_available"], f["enterprise_needed"]) for f in kpi["short_fields"]
    } == short

    # headroom: the losses of the contract, rising with the loss, from the optimum's score
    curve = kpi["headroom"]
    assert [p["score_loss"] for p in curve] == [0, 0.01, 0.02, 0.05]
    assert all(a["enterprise_share"] <= b["enterprise_share"] for a, b in itertools.pairwise(curve))
    assert curve[0]["score"] == pytest.approx(demo_result.objective)
    assert all(p["status"] == "optimal" for p in curve)
    check = em.assign(demo, objective="enterprise", max_score_loss=0.02)
    seats = sum(kind[e] for _, e in check.assignment)
    assert curve[2]["enterprise_share"] == pytest.approx(seats / len(check.assignment))
    assert curve[0]["enterprise_share"] >= want["enterprise_share"] - 1e-9


def test_report_on_a_year_of_three_rounds(tmp_path: Path) -> None:
    tables = generate(36, 90, seed=7)
    projects = tables["projects"]
    folders, files = [], []
    for r in range(3):
        folder = tmp_path / f"r{r + 1}"
        part = projects.iloc[r * 12 : (r + 1) * 12]
        ids = set(part["id"])
        write_batch(
            {
                **tables,
                "projects": part,
                "members": tables["members"][tables["members"]["project"].isin(ids)],
                "conflicts": tables["conflicts"][tables["conflicts"]["project"].isin(ids)],
            },
            folder,
        )
        problem = em.update_used(em.load(folder), files) if files else em.load(folder)
        result = em.assign(problem, time_limit=60)
        assert em.verify(problem, result) == []
        result.write(folder / "assignment.csv")
        folders.append(folder)
        files.append(folder / "assignment.csv")
    out, kpi_json = tmp_path / "report.html", tmp_path / "kpi.json"
    code = main(
        [
            "report",
            str(folders[-1]),
            str(folders[0]),
            str(files[1]),
            str(folders[2]),
            "-o",
            str(out),
            "--json",
            str(kpi_json),
        ]
    )
    assert code == 0
    kpi = json.loads(kpi_json.read_text(encoding="utf-8"))
    check_page(out, kpi)

    experts = tables["experts"]
    orgs = dict(zip(tables["organizations"]["id"], tables["organizations"]["type"], strict=True))
    kind = {
        e: orgs[o] == "enterprise"
        for e, o in zip(experts["id"], experts["organization"], strict=True)
    }
    stage = {
        p: STAGES.get(s, "approval") if s else "approval"
        for p, s in zip(projects["id"], projects["stage"], strict=True)
    }
    assert kpi["pool"]["experts"] == len(kind)
    assert kpi["pool"]["enterprise"] == sum(kind.values())

    every: list[tuple[str, bool]] = []
    reviews: Counter[str] = Counter()
    assert len(kpi["by_round"]) == 3
    for r, file in enumerate(files):
        rows = rows_of(file)
        seats = [(stage[row["project"]], kind[row["expert"]]) for row in rows]
        check_seats(kpi["by_round"][r], shares(seats))
        used = {row["expert"] for row in rows}
        assert kpi["by_round"][r]["experts_used"] == {
            "enterprise": sum(kind[e] for e in used),
            "other": sum(not kind[e] for e in used),
        }
        every += seats
        reviews.update(row["expert"] for row in rows)
    check_seats(kpi["seats"], shares(every))
    check_use(kpi["use"], reviews, kind, list(experts["id"]))
    curve = kpi["headroom"]
    assert [p["score_loss"] for p in curve] == [0, 0.01, 0.02, 0.05]
    assert all(p["status"] == "optimal" for p in curve)
    assert all(a["enterprise_seats"] <= b["enterprise_seats"] for a, b in itertools.pairwise(curve))

    # by field (the project's primary field at level 2, read beside each round's file), reviews
    primary = {
        p: ".".join(f.split(";")[0].split(".")[:2])
        for p, f in zip(projects["id"], projects["fields"], strict=True)
    }
    for r, file in enumerate(files):
        rows = rows_of(file)
        fields = Counter(primary[row["project"]] for row in rows)
        ent = Counter(primary[row["project"]] for row in rows if kind[row["expert"]])
        got = kpi["by_round"][r]
        assert {k: v["total"] for k, v in got["by_field"].items()} == dict(fields)
        assert {k: v["enterprise"] for k, v in got["by_field"].items()} == dict(ent)
        assert got["reviews"]["total"] == got["total"] == len(rows)
    # the per-panel minimum met in every round and over the year, panel by panel
    year = [t for t in kpi["targets"] if t["round"] == "year"]
    assert year and all(t["rule"] == "enterprise_min_share" for t in year)
    for t in year:
        per_round = [
            x for x in kpi["targets"] if x["name"] == t["name"] and x["stage"] == t["stage"]
        ]
        assert t["panels"] == sum(x["panels"] for x in per_round if x["round"] != "year")
        assert t["met"] and t["panels_met"] == t["panels"]
    panels = {(r, row["project"]) for r, file in enumerate(files) for row in rows_of(file)}
    assert sum(t["panels"] for t in year) == len(panels)


def test_report_refuses_an_output_that_is_an_input(
    tmp_path: Path, demo_result: em.Result, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path = tmp_path / "assignment.csv"
    demo_result.write(csv_path)
    code = main(["report", str(em.demo_path()), str(csv_path), "-o", str(csv_path)])
    assert code == 2
    assert "is an input" in capsys.readouterr().err


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs /usr/bin/chromium (apt-get install -y chromium; .ci/run installs it)",
)
def test_the_page_renders_in_a_real_browser(tmp_path: Path, demo_result: em.Result) -> None:
    """Headless Chromium draws the page (offline): the screenshot is not blank, the charts
    (coloured lines and bars) are on it, and the page Chromium built holds the figures of
    kpi.json (shares, headroom, targets, short fields, chart labels as text)."""
    import subprocess

    import numpy as np
    from matplotlib import image

    csv_path = tmp_path / "assignment.csv"
    demo_result.write(csv_path)
    page, kpi_json = tmp_path / "report.html", tmp_path / "kpi.json"
    args = ["report", str(em.demo_path()), str(csv_path), "-o", str(page), "--json", str(kpi_json)]
    assert main(args) == 0
    kpi = json.loads(kpi_json.read_text(encoding="utf-8"))
    shot = tmp_path / "out.png"
    profile = tmp_path / "profile"
    profile.mkdir()
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={shot}",
        "--window-size=1200,2000",
        page.resolve().as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    pixels = image.imread(str(shot))[..., :3]
    assert pixels.shape[:2] == (2000, 1200)
    ink = (pixels < 0.9).any(axis=2)
    assert ink.mean() > 0.02  # text, tables and charts, not a blank page
    colour = pixels.max(axis=2) - pixels.min(axis=2) > 0.3
    assert colour.sum() > 1000  # the charts' coloured lines and bars
    assert np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0).shape[0] > 20

    dom = subprocess.run(
        [*command[:-3], "--dump-dom", page.resolve().as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
        text=True,
    ).stdout
    text = re.sub(r"<[^>]+>", " ", dom)

    def pct(x: float) -> str:
        return f"{100 * x:.1f}%"

    assert pct(kpi["pool"]["enterprise_share"]) in text
    assert pct(kpi["seats"]["enterprise_share"]) in text
    for point in kpi["headroom"]:
        assert pct(point["enterprise_share"]) in text
    for field in kpi["short_fields"]:
        assert re.search(rf"{re.escape(field['field'])}\s+{field['enterprise_available']}\s", text)
    met = sum(t["met"] for t in kpi["targets"])
    assert len(re.findall(r"\bmet\b", text)) >= met > 0
    assert "enterprise share of seats" in text  # an axis label of the charts, kept as text

"""Real reviewer-bid matrices (AAMAS 2015/2016, PrefLib MD-00002) as expertmatch batches.

The files (``../shared/datasets/aamas-preflib/``, MIT licence, see its README) hold one line
``papers reviewers`` and then one line per paper with each reviewer's bid in {0, 0.25, 0.5, 1}.
They carry no organizations or fields, so the batch is built as follows and says so:

- every reviewer is their own organization (type ``university``), so no organization conflict
  and ``max_per_org`` never binds; every paper comes from an organization no reviewer is in;
- every paper and reviewer has the one field ``1``, so coverage always holds;
- ``enterprise_min_share = 0``; the bids are the supplied scores, so a bid of 0 is not eligible
  (``min_score = 0`` demands a score > 0), as is usual for these data;
- ``panel_size`` and ``max_load`` as in the literature (3 per paper; loads 12, 12, 6, 7, 6).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "aamas-preflib"
#: file stem -> (panel size, max load), the usual setting in the literature.
SETTINGS = {
    "aamas2015": (3, 12),
    "aamas2016": (3, 12),
    "preflib1": (3, 6),
    "preflib2": (3, 7),
    "preflib3": (3, 6),
}


def read_bids(path: Path) -> np.ndarray:
    """The bid matrix, papers x reviewers."""
    lines = path.read_text(encoding="utf-8").split("\n")
    papers, reviewers = (int(v) for v in lines[0].split())
    bids = np.array([[float(v) for v in line.split()] for line in lines[1 : 1 + papers]])
    if bids.shape != (papers, reviewers):
        raise ValueError(f"{path.name}: expected {papers} x {reviewers} bids, got {bids.shape}")
    return bids


def tables(stem: str, folder: Path = DATASETS) -> dict[str, Any]:
    """``expertmatch.from_tables`` keyword arguments for one data set (see module docstring)."""
    bids = read_bids(folder / f"{stem}.in")
    panel, load = SETTINGS[stem]
    papers, reviewers = bids.shape
    experts = [
        {"id": f"R{j}", "organization": f"R{j}", "org_type": "university", "fields": "1"}
        for j in range(reviewers)
    ]
    projects = [{"id": f"P{i}", "organization": "conference", "fields": "1"} for i in range(papers)]
    rows, cols = np.nonzero(bids > 0)
    scores = pd.DataFrame(
        {
            "expert": [f"R{j}" for j in cols],
            "project": [f"P{i}" for i in rows],
            "score": bids[rows, cols],
        }
    )
    rules = {
        "panel_size": panel,
        "max_load": load,
        "yearly_cap": 10_000,
        "enterprise_min_share": 0,
        "max_per_org": 1,
        "coverage_level": 0,
    }
    return {"experts": experts, "projects": projects, "scores": scores, "rules": rules}

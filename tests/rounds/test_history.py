"""Across the year: ``update_used`` adds earlier rounds' reviews to each expert's ``used`` so that
the yearly cap holds over rounds; unknown experts are named (or skipped on request); the command
line writes experts.csv for the next round."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import expertmatch as em
from expertmatch.cli import main
from tests.batches import read_rows

DEMO = str(em.demo_path())


def test_update_used_keeps_the_yearly_cap_across_rounds(
    demo: em.Problem, demo_result: em.Result
) -> None:
    """update_used adds earlier loads so that the yearly cap holds over rounds."""
    later = em.update_used(demo, [demo_result, demo_result.to_frame()])
    assert np.array_equal(later.expert_used, demo.expert_used + 2 * demo_result.loads())
    assert later.input_sha256 != demo.input_sha256  # the report's hash covers the new used
    result = em.assign(later)
    assert em.verify(later, result) == []
    total = later.expert_used + result.loads()
    assert total[result.loads() > 0].max() <= later.rules.yearly_cap
    # an expert the earlier rounds filled up gets nothing now
    full = np.flatnonzero(later.expert_used >= later.rules.yearly_cap)
    assert full.size and result.loads()[full].sum() == 0


def test_update_used_rejects_unknown_experts_unless_skipped(tmp_path: Path) -> None:
    """An unknown expert in an earlier round is named, unless skipped on request."""
    earlier = tmp_path / "round1.csv"
    earlier.write_text("project,expert\nQ1,E001\nQ2,NOBODY\n", encoding="utf-8")
    problem = em.load(DEMO)
    with pytest.raises(em.InputError) as err:
        em.update_used(problem, [earlier])
    assert [(i.file, i.row, i.column) for i in err.value.issues] == [("round1.csv", 3, "expert")]
    later = em.update_used(problem, [earlier], unknown="skip")
    assert later.expert_used[later.expert_index["E001"]] == problem.expert_used[0] + 1


def test_cli_update_used_writes_experts_for_the_next_round(tmp_path: Path) -> None:
    """`update-used` writes experts.csv with only the used column raised."""
    first = tmp_path / "round1.csv"
    assert main(["assign", DEMO, "-o", str(first)]) == 0
    out = tmp_path / "experts.csv"
    assert main(["update-used", DEMO, str(first), "-o", str(out)]) == 0
    before = {r["id"]: r for r in read_rows(Path(DEMO) / "experts.csv")}
    after = {r["id"]: r for r in read_rows(out)}
    counts: dict[str, int] = {}
    for r in read_rows(first):
        counts[r["expert"]] = counts.get(r["expert"], 0) + 1
    assert list(after) == list(before)
    for eid, row in after.items():
        assert int(row["used"]) == int(before[eid]["used"] or 0) + counts.get(eid, 0)
        assert {k: v for k, v in row.items() if k != "used"} == {
            k: v for k, v in before[eid].items() if k != "used"
        }
    bad = tmp_path / "bad.csv"
    bad.write_text("project,expert\nQ1,NOBODY\n", encoding="utf-8")
    assert main(["update-used", DEMO, str(bad), "-o", str(tmp_path / "x.csv")]) == 2
    assert (
        main(["update-used", DEMO, str(bad), "-o", str(tmp_path / "x.csv"), "--skip-unknown"]) == 0
    )

"""Corruption fuzzer for the text inputs: ``papers.csv`` and the ``abstract`` column of
``projects.csv``, in a batch without ``scores.csv`` (so the built-in score uses them), through
``assign`` and ``score``.

The property is the one of ``test_fuzz_inputs.py``: whatever the damage, exit 0 with an output
(an assignment ``verify`` accepts), exit 3 (``assign`` only), or exit 2 naming a file (the
damaged one when the damage is self-evident); never a traceback, never an output after a
failure, the input unchanged.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch.cli import main
from tests.io.test_fuzz_inputs import KINDS, SELF_EVIDENT, damage, snapshot

FILES = ("papers.csv", "projects.csv")


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small valid batch with abstracts and papers (Chinese and English), no scores.csv."""
    tables = em.generate(6, 24, seed=7)
    projects = tables["projects"].copy()
    topics = ["图像识别", "交通预测", "水稻育种", "电池材料", "graph learning", "精密测量"]
    projects["abstract"] = [
        f"项目围绕{topics[i % 6]}开展研究，建立{topics[(i + 1) % 6]}方法。"
        for i in range(len(projects))
    ]
    tables["projects"] = projects
    folder = em.write_batch(tables, tmp_path_factory.mktemp("fuzz_papers") / "batch")
    experts = tables["experts"]["id"].tolist()
    rows = [
        f"{e},{topics[k % 6]}的若干问题 {k},本文研究{topics[k % 6]}与{topics[(k + 2) % 6]}。,"
        f"{2019 + k % 6}"
        for k, e in enumerate(experts + experts[::3])
    ]
    (folder / "papers.csv").write_text(
        "expert,title,abstract,year\n" + "\n".join(rows) + "\n", encoding="utf-8"
    )
    (folder / "rules.toml").write_text(
        "panel_size = 3\nmax_load = 3\ncoverage_level = 1\n[text]\nweight = 0.4\n",
        encoding="utf-8",
    )
    assert main(["assign", str(folder), "-o", str(folder.parent / "ok.csv")]) == 0
    return folder


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(FILES),
    kind=st.sampled_from(KINDS),
    command=st.sampled_from(["assign", "score"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_damaged_text_inputs_are_refused_or_harmless(
    batch: Path, name: str, kind: str, command: str, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every damaged copy of papers.csv or projects.csv: the output is made and sound, or the
    rules cannot all hold (assign), or exit 2 naming the file; no traceback, no output after a
    failure, the input unchanged."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "batch"
        shutil.copytree(batch, folder)
        damage(folder, name, kind, random.Random(seed))
        before = snapshot(folder)
        out = Path(tmp) / f"{command}.csv"
        capsys.readouterr()
        limit = ["--time-limit", "20"] if command == "assign" else []
        code = main([command, str(folder), "-o", str(out), *limit])
        err = capsys.readouterr().err
        assert snapshot(folder) == before, "the input was changed"
        assert "Traceback" not in err
        if code == 0:
            assert out.exists()
            if command == "assign":
                assert main(["verify", str(folder), str(out)]) == 0
            return
        assert not out.exists()
        if code == 3 and command == "assign":
            assert "cannot all hold" in err
            return
        assert code == 2, err
        flat = " ".join(err.split())
        if kind in SELF_EVIDENT:
            assert name in flat, flat[:500]
        else:
            assert ".csv" in flat or "rules" in flat, flat[:500]

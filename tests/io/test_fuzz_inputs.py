"""Corruption fuzzer: random byte- and cell-level damage to every input file of a valid batch.

The property, whatever the damage: the command line either succeeds (exit 0) with an
assignment that ``verify`` accepts, or says the rules cannot all hold (exit 3, diagnosis, no
assignment), or refuses the input (exit 2) naming a file — for damage that breaks a file on its
own (encoding, control characters, huge cells, links, folders, a lost header) naming that very
file. Never a traceback, never an output file after a failure, the input never changed.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import expertmatch as em
from expertmatch.cli import main

FILES = (
    "experts.csv",
    "projects.csv",
    "organizations.csv",
    "members.csv",
    "relations.csv",
    "conflicts.csv",
    "scores.csv",
    "papers.csv",
    "rules.toml",
)
#: Damage after which the damaged file itself must be named in the error.
SELF_EVIDENT = {"control", "huge", "dangling", "loop", "folder", "utf16", "mixed"}
ODD_VALUES = ["", "-1", "1e309", "abc", "NaN", "0", "999999999999999999999", "１２", "P1;;", " "]


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small valid batch with every input file (scores, papers and rules included)."""
    tables = em.generate(6, 24, seed=5)
    folder = em.write_batch(tables, tmp_path_factory.mktemp("fuzz") / "batch")
    experts = tables["experts"]["id"].tolist()
    projects = tables["projects"]["id"].tolist()
    rng = random.Random(1)
    rows = ["expert,project,score"] + [
        f"{e},{p},{rng.randint(1, 99)}" for p in projects for e in rng.sample(experts, 15)
    ]
    (folder / "scores.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "papers.csv").write_text(
        "expert,title,abstract,year\n"
        + "".join(
            f"{e},基于深度学习的图像识别研究 {k},提出一种图像识别方法，实验表明有效。,{2020 + k}\n"
            for k, e in enumerate(experts)
        ),
        encoding="utf-8",
    )
    (folder / "conflicts.csv").write_text(
        f"expert,project,reason\n{experts[0]},{projects[0]},声明回避\n", encoding="utf-8"
    )
    (folder / "rules.toml").write_text(
        'panel_size = 3\nmax_load = 3\nenterprise_min_share = "1/3"\ncoverage_level = 1\n',
        encoding="utf-8",
    )
    assert main(["assign", str(folder), "-o", str(folder.parent / "ok.csv")]) == 0
    return folder


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry of the folder: file content hashes, link targets, folders."""
    out = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink():
            out[entry.name] = "link:" + os.readlink(entry)
        elif entry.is_dir():
            out[entry.name] = "dir"
        else:
            out[entry.name] = hashlib.sha256(entry.read_bytes()).hexdigest()
    return out


def damage(folder: Path, name: str, kind: str, rng: random.Random) -> None:
    path = folder / name
    data = path.read_bytes()
    lines = data.split(b"\n")
    row = rng.randrange(1, max(len(lines) - 1, 2))
    if kind == "truncate":
        path.write_bytes(data[: rng.randrange(len(data))])
    elif kind == "flip":
        pos = rng.randrange(len(data))
        path.write_bytes(data[:pos] + bytes([rng.randrange(256)]) + data[pos + 1 :])
    elif kind == "insert":
        pos = rng.randrange(len(data))
        path.write_bytes(data[:pos] + rng.randbytes(rng.randint(1, 8)) + data[pos:])
    elif kind == "control":
        text = lines[row].decode("utf-8", "replace")
        cut = text.find(",") if "," in text else 0
        lines[row] = (text[:cut] + chr(rng.choice([0, 1, 7, 27, 127])) + text[cut:]).encode()
        path.write_bytes(b"\n".join(lines))
    elif kind == "huge":
        lines[row] = lines[row] + b"x" * 140_000
        path.write_bytes(b"\n".join(lines))
    elif kind == "utf16":
        path.write_bytes(data.decode("utf-8").encode("utf-16"))
    elif kind == "mixed":
        lines[row] = "中文，".encode("gb18030") + lines[row]
        lines[0] = lines[0] + ",备注".encode()
        path.write_bytes(b"\n".join(lines))
    elif kind == "gb18030":
        path.write_bytes(data.decode("utf-8").encode("gb18030"))
    elif kind == "cell":
        text = lines[row].decode("utf-8").split(",")
        text[rng.randrange(len(text))] = rng.choice(ODD_VALUES)
        lines[row] = ",".join(text).encode()
        path.write_bytes(b"\n".join(lines))
    elif kind == "duplicate_row":
        lines.insert(row, lines[row])
        path.write_bytes(b"\n".join(lines))
    elif kind == "no_header":
        path.write_bytes(b"\n".join(lines[1:]))
    elif kind == "delete":
        path.unlink()
    elif kind == "dangling":
        path.unlink()
        path.symlink_to(folder / "nowhere.csv")
    elif kind == "loop":
        path.unlink()
        os.symlink(name, path)
    elif kind == "folder":
        path.unlink()
        path.mkdir()


KINDS = [
    "truncate",
    "flip",
    "insert",
    "control",
    "huge",
    "utf16",
    "mixed",
    "gb18030",
    "cell",
    "duplicate_row",
    "no_header",
    "delete",
    "dangling",
    "loop",
    "folder",
]


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(FILES),
    kind=st.sampled_from(KINDS),
    seed=st.integers(0, 2**32 - 1),
)
def test_damage_is_refused_or_harmless(
    batch: Path, name: str, kind: str, seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every damaged copy: exit 0 and verified, exit 3 with a diagnosis, or exit 2 naming a
    file (the damaged one where the damage is self-evident); no traceback; no output after a
    failure; the input unchanged."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "batch"
        shutil.copytree(batch, folder)
        damage(folder, name, kind, random.Random(seed))
        before = snapshot(folder)
        out, report = Path(tmp) / "assignment.csv", Path(tmp) / "report.json"
        capsys.readouterr()
        code = main(
            ["assign", str(folder), "-o", str(out), "--report", str(report), "--time-limit", "20"]
        )
        err = capsys.readouterr().err
        assert snapshot(folder) == before, "the input was changed"
        assert "Traceback" not in err
        if code == 0:
            assert main(["verify", str(folder), str(out)]) == 0
            return
        assert not out.exists()
        if code == 3:
            assert "cannot all hold" in err
            return
        assert code == 2, err
        assert not report.exists()
        flat = " ".join(err.split())
        if kind in SELF_EVIDENT:
            assert name in flat, flat[:500]
        else:
            assert any(f in flat for f in FILES) or "rules" in flat, flat[:500]

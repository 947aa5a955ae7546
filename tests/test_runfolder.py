"""Generate's run folder: a manifest says which run it holds; reruns continue, other runs are refused,
and the index agrees with the files after repeated, concurrent, killed and disk-full runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relaygen.files import file_digest
from relaygen.formats import read_levels

SEARCH = ["--model", "search"]
N = "30"
"""Levels per run: enough that a run writes its index (every second) before it ends."""


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "relaygen", "generate", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env)


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def assert_index_names_whole_files(out: Path) -> dict:
    """Every index row names a file with the recorded bytes and level; returns the index."""
    index = json.loads((out / "index.json").read_text())
    for name, row in index.items():
        assert file_digest(out / name) == row["digest"]
        (level,) = read_levels(out / name)
        assert level.digest() == row["level"] and level.meta["difficulty"] == row["difficulty"]
    return index


def assert_consistent(out: Path, n: int, seed: int) -> None:
    """The folder holds exactly the n levels its manifest describes, all indexed."""
    manifest = json.loads((out / "run.json").read_text())
    assert (manifest["seed"], manifest["n"]) == (seed, n)
    index = assert_index_names_whole_files(out)
    assert sorted(index) == sorted(p.name for p in out.glob("maze-*.json")) and len(index) == n
    assert [level.meta["seed"] for level in read_levels(out)] == [seed] * n  # the folder reads as its levels


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The files of one uninterrupted run: maze, N levels, search, seed 1."""
    out = tmp_path_factory.mktemp("reference") / "out"
    assert run_cli("maze", "-n", N, *SEARCH, "--seed", "1", "--out", str(out)).returncode == 0
    return files(out)


@pytest.mark.parametrize(
    "other",
    [
        ["--seed", "2"],
        pytest.param(["--difficulty", "0.9"], marks=pytest.mark.slow),
        pytest.param(["-n", "5"], marks=pytest.mark.slow),
        pytest.param(["--format", "txt"], marks=pytest.mark.slow),
    ],
)
def test_another_run_is_refused_and_overwrite_replaces_it(other: list[str], tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = ["maze", "-n", "4", *SEARCH, "--out", str(out)]
    assert run_cli(*first).returncode == 0
    before = files(out)
    refused = run_cli(*first, *other)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    (line,) = [x for x in refused.stderr.splitlines() if x.startswith("error:")]
    assert f"--out {out}: holds the levels of another run (" in line and "use --overwrite" in line
    assert files(out) == before
    replaced = run_cli(*first, *other, "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    manifest = json.loads((out / "run.json").read_text())
    index = json.loads((out / "index.json").read_text())
    names = {p.name for p in out.iterdir()} - {"run.json", "index.json"}
    assert names == set(index) and len(index) == manifest["n"]
    assert manifest["seed"] == (2 if "--seed" in other else 0)


def test_a_folder_of_levels_without_a_manifest_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.json").write_text("{}")
    run = run_cli("maze", "-n", "2", *SEARCH, "--out", str(out))
    assert run.returncode == 2 and "holds levels but no run manifest (run.json)" in run.stderr


def test_a_rerun_verifies_files_and_makes_only_the_damaged_ones(reference: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["maze", "-n", N, *SEARCH, "--seed", "1", "--out", str(out)]
    assert run_cli(*args).returncode == 0 and files(out) == reference
    again = run_cli(*args)
    assert "levels written         0" in again.stdout and "levels reused          30" in again.stdout
    flipped = bytearray((out / "maze-0003.json").read_bytes())
    flipped[len(flipped) // 2] ^= 1
    (out / "maze-0003.json").write_bytes(bytes(flipped))
    (out / "maze-0005.json").write_text("{")
    (out / "maze-0007.json").unlink()
    repaired = run_cli(*args)
    assert repaired.returncode == 0, repaired.stderr
    assert "levels written         3" in repaired.stdout
    assert "levels reused          27 (3 damaged, made again)" in repaired.stdout
    assert files(out) == reference


def test_a_killed_run_continues_where_it_stopped(reference: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["maze", "-n", N, *SEARCH, "--seed", "1", "--out", str(out)]
    process = subprocess.Popen(
        [sys.executable, "-m", "relaygen", "generate", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 60
    while time.time() < deadline and not (out / "index.json").exists():
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    index = assert_index_names_whole_files(out)
    assert 0 < len(index) < int(N), "the run should be killed part of the way"
    (out / ".maze-0029.json.k1ll3d_0.tmp").write_text('{\n "format": "relaygen-lev')  # as a kill mid-write leaves it
    rerun = run_cli(*args)
    assert rerun.returncode == 0
    assert f"levels reused          {len(index)}" in rerun.stdout
    assert f"levels written         {int(N) - len(index)}" in rerun.stdout
    assert files(out) == reference


def test_two_concurrent_runs_never_mix_their_files(reference: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "relaygen", "generate", "maze", "-n", N, *SEARCH, "--seed", seed, "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in ("1", "2")
    ]
    results = [(p.wait(), p.stderr.read()) for p in runs]  # type: ignore[union-attr]
    assert sorted(code for code, _ in results) == [0, 2]
    winner = 1 if results[0][0] == 0 else 2
    assert "holds the levels of another run" in results[2 - winner][1]
    assert_consistent(out, int(N), winner)
    if winner == 1:
        assert files(out) == reference


def test_two_concurrent_runs_of_the_same_run_agree(reference: dict, tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "relaygen", "generate", "maze", "-n", N, *SEARCH, "--seed", "1"]
    runs = [subprocess.Popen([*command, "--out", str(out)], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    assert [p.wait() for p in runs] == [0, 0]
    assert files(out) == reference


FULL_DISK = """
import errno, os
_replace, _state = os.replace, {"levels": 0}
def replace(src, dst, *args, **kwargs):
    if "maze-" in str(dst):
        _state["levels"] += 1
    if _state["levels"] > 5:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return _replace(src, dst, *args, **kwargs)
os.replace = replace
"""
"""A sitecustomize that makes the disk full from the sixth level file on (every later write fails)."""


def test_a_full_disk_is_a_clear_error_and_the_index_still_agrees(reference: dict, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(FULL_DISK)
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    out = tmp_path / "out"
    args = ["maze", "-n", N, *SEARCH, "--seed", "1", "--out", str(out)]
    full = run_cli(*args, env=env)
    assert full.returncode == 2 and "Traceback" not in full.stderr
    assert f"error: {out / 'maze-0005.json'}: cannot write: No space left on device" in full.stderr
    assert not list(out.glob(".*tmp")) and len(list(out.glob("maze-*.json"))) == 5
    if (out / "index.json").exists():
        assert len(assert_index_names_whole_files(out)) <= 5
    assert run_cli(*args).returncode == 0
    assert files(out) == reference


@pytest.mark.parametrize("blocker", ["index.json", "run.json"])
def test_a_folder_where_the_index_belongs_is_a_clear_error(blocker: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / blocker).mkdir(parents=True)
    run = run_cli("maze", "-n", "2", *SEARCH, "--out", str(out))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"error: {out / blocker}: is a folder, where the run's {blocker} belongs; move it away" in run.stderr


def test_out_that_is_a_file_is_named(tmp_path: Path) -> None:
    out = tmp_path / "levels"
    out.write_text("not a folder")
    run = run_cli("maze", "-n", "2", *SEARCH, "--out", str(out))
    assert run.returncode == 2 and f"--out {out}: cannot create the folder: {out} is a file, not a folder" in run.stderr
    assert "Errno" not in run.stderr

"""Datasets in shards (jsonl, boxoban): the same levels as level files, digests in run.json, reruns that
verify by shard and complete a partial dataset, and every reader (playtest, play, report, collect)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from relaygen import datasets
from relaygen.formats import read_levels
from relaygen.generate import Summary
from relaygen.level import LevelError
from relaygen.rules import load_rules
from relaygen.runfolder import write_run

SEARCH = {"model": "search", "seed": 1}
SHIPPED = {"seed": 1, "deepen": 0}
"""The shipped model without deepening: quick, and playable at every difficulty of the room rules."""


@pytest.fixture
def small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shards of 4 levels (jsonl) and 2 (boxoban), so that a few levels make several."""
    monkeypatch.setitem(datasets.SHARD_SIZES, "jsonl", 4)
    monkeypatch.setitem(datasets.SHARD_SIZES, "boxoban", 2)


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


@pytest.fixture(scope="module")
def maze_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ten maze levels as level files (the search baseline, seed 1)."""
    out = tmp_path_factory.mktemp("files") / "json"
    list(write_run(out, "json", "maze", 10, **SEARCH))
    return out


def test_jsonl_shards_hold_the_level_files_levels_and_their_digests(
    small_shards: None, maze_files: Path, tmp_path: Path
) -> None:
    out = tmp_path / "jsonl"
    paths = list(write_run(out, "jsonl", "maze", 10, **SEARCH))
    names = ["levels-00000.jsonl", "levels-00001.jsonl", "levels-00002.jsonl"]
    assert [p.name for p in paths] == [names[0]] * 4 + [names[1]] * 4 + [names[2]] * 2
    assert sorted(p.name for p in out.iterdir()) == [*names, "run.json"]
    assert [len(out.joinpath(name).read_text().splitlines()) for name in names] == [4, 4, 2]
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["level_format"] == "jsonl" and manifest["shard_size"] == 4
    for name in names:
        row = manifest["shards"][name]
        assert row["sha256"] == hashlib.sha256((out / name).read_bytes()).hexdigest()
    assert read_levels(out) == read_levels(maze_files)  # grids, names and meta (rules, model, seed, report)
    line = json.loads((out / names[0]).read_text().splitlines()[0])
    assert line["rules"] == {"name": "maze", "digest": line["meta"]["rules_digest"]}  # a built-in is named


def test_a_rerun_verifies_by_shard_and_remakes_only_the_damaged_ones(small_shards: None, tmp_path: Path) -> None:
    out = tmp_path / "jsonl"
    list(write_run(out, "jsonl", "maze", 10, **SEARCH))
    before = files(out)
    again = Summary()
    list(write_run(out, "jsonl", "maze", 10, summary=again, **SEARCH))
    assert (again.reused, again.written, again.drafts) == (10, 0, 0) and files(out) == before
    flipped = bytearray((out / "levels-00001.jsonl").read_bytes())
    flipped[len(flipped) // 2] ^= 1
    (out / "levels-00001.jsonl").write_bytes(bytes(flipped))
    (out / "levels-00002.jsonl").unlink()
    repaired = Summary()
    list(write_run(out, "jsonl", "maze", 10, summary=repaired, **SEARCH))
    assert (repaired.reused, repaired.redone, repaired.written) == (4, 6, 6)
    assert files(out) == before


def test_a_run_stopped_midway_keeps_whole_shards_and_completes(small_shards: None, tmp_path: Path) -> None:
    out = tmp_path / "jsonl"
    reference = tmp_path / "reference"
    list(write_run(reference, "jsonl", "maze", 10, **SEARCH))
    run = write_run(out, "jsonl", "maze", 10, **SEARCH)
    assert [next(run) for _ in range(5)][-1].name == "levels-00001.jsonl"
    run.close()  # stopped while the third shard was being gathered
    assert sorted(json.loads((out / "run.json").read_text())["shards"]) == ["levels-00000.jsonl", "levels-00001.jsonl"]
    assert not (out / "levels-00002.jsonl").exists() and not list(out.glob(".*tmp"))
    rest = Summary()
    list(write_run(out, "jsonl", "maze", 10, summary=rest, **SEARCH))
    assert (rest.reused, rest.written) == (8, 2) and files(out) == files(reference)


SMALL_SHARDS = 'import relaygen.datasets as d\nd.SHARD_SIZES["jsonl"] = 3\n'
"""A sitecustomize that makes jsonl shards of 3 levels in a ``relaygen generate`` process."""


@pytest.mark.slow  # two generate processes, one killed
def test_a_killed_dataset_run_loses_at_most_its_shard_in_progress(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SMALL_SHARDS)
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "relaygen", "generate", "maze", "-n", "30", "--model", "search", "--seed", "1"]
    command += ["--format", "jsonl", "--out", str(out)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and "levels-00001.jsonl" not in _listed(out):
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    listed = _listed(out)
    assert 2 <= len(listed) < 10, "the run should be killed part of the way"
    rerun = subprocess.run(command, env=env, text=True, capture_output=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"levels reused          {3 * len(listed)}" in rerun.stdout
    monkeypatch.setitem(datasets.SHARD_SIZES, "jsonl", 3)
    list(write_run(tmp_path / "whole", "jsonl", "maze", 30, **SEARCH))
    assert {k: v for k, v in files(out).items() if not k.startswith(".")} == files(tmp_path / "whole")


def _listed(out: Path) -> list[str]:
    """The shards the manifest in ``out`` lists (none while it is missing)."""
    try:
        return sorted(json.loads((out / "run.json").read_text()).get("shards", {}))
    except (OSError, ValueError):
        return []


def test_boxoban_shards_are_boxobans_layout_with_the_runs_meta(small_shards: None, tmp_path: Path) -> None:
    files_out, out = tmp_path / "json", tmp_path / "boxoban"
    list(write_run(files_out, "json", "boxoban", 3, difficulty_range=(0.0, 1.0), **SHIPPED))
    list(write_run(out, "boxoban", "boxoban", 3, difficulty_range=(0.0, 1.0), **SHIPPED))
    assert sorted(p.name for p in out.iterdir()) == ["000.txt", "001.txt", "run.json"]
    level_files = read_levels(files_out)
    rows = [level.rows() for level in level_files[:2]]
    xsb = [[row.replace("-", " ") for row in level] for level in rows]
    assert (out / "000.txt").read_text() == f"; 0\n{chr(10).join(xsb[0])}\n\n; 1\n{chr(10).join(xsb[1])}\n\n"
    back = read_levels(out)
    assert [lv.grid.tolist() for lv in back] == [lv.grid.tolist() for lv in level_files]
    assert [lv.name for lv in back] == [lv.name for lv in level_files]
    keys = ("rules", "rules_digest", "model", "seed", "index", "difficulty", "size")
    assert [{k: lv.meta[k] for k in keys} for lv in back] == [{k: lv.meta[k] for k in keys} for lv in level_files]
    assert {lv.rules.name for lv in back} == {"boxoban"}


def test_boxoban_of_other_rules_keeps_a_copy_of_them_beside(small_shards: None, tmp_path: Path) -> None:
    rules = tmp_path / "push.toml"
    rules.write_text(load_rules("boxoban").to_toml().replace('name = "boxoban"', 'name = "push"'))
    out = tmp_path / "boxoban"
    list(write_run(out, "boxoban", rules, 2, size=(7, 7), **SEARCH))
    rules.unlink()
    assert load_rules(out / "push.toml").width == 10  # the rules as given; the run's size is in run.json
    back = read_levels(out / "000.txt")
    assert [lv.grid.shape for lv in back] == [(7, 7)] * 2 and back[0].rules.name == "push"
    assert back[0].rules.width == 7 and back[0].meta["rules_digest"] == back[0].rules.digest


def test_boxoban_of_a_game_that_is_not_a_push_game_is_one_clear_error(
    relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], one_error_line: Callable[..., str], tmp_path: Path
) -> None:
    run = relaygen_cli("generate", "maze", "-n", "2", "--format", "boxoban", "--out", tmp_path / "out")
    one_error_line(run, "--format boxoban", "push-game", "'maze'", "--format jsonl")
    assert not (tmp_path / "out").exists()


def test_jsonl_of_other_rules_embeds_them(tiny_rules_toml: Callable[..., str], tmp_path: Path) -> None:
    rules = tmp_path / "tiny.toml"
    rules.write_text(tiny_rules_toml())
    out = tmp_path / "jsonl"
    list(write_run(out, "jsonl", rules, 3, **SEARCH))
    moved = tmp_path / "elsewhere.jsonl"
    moved.write_bytes((out / "levels-00000.jsonl").read_bytes())
    rules.unlink()
    back = read_levels(moved)
    assert len(back) == 3 and {lv.rules.name for lv in back} == {"tiny"}


def test_a_bad_line_names_the_file_and_line(tmp_path: Path) -> None:
    good = tmp_path / "jsonl"
    list(write_run(good, "jsonl", "maze", 2, **SEARCH))
    lines = (good / "levels-00000.jsonl").read_text().splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([lines[0], "", lines[1][:-3]]) + "\n")
    with pytest.raises(LevelError, match=r"bad\.jsonl: line 3, column \d+: invalid JSON"):
        read_levels(bad)


def test_overwrite_replaces_a_dataset_with_level_files(small_shards: None, tmp_path: Path) -> None:
    out = tmp_path / "out"
    list(write_run(out, "jsonl", "maze", 5, **SEARCH))
    list(write_run(out, "json", "maze", 2, overwrite=True, **SEARCH))
    assert sorted(p.name for p in out.iterdir()) == ["index.json", "maze-0000.json", "maze-0001.json", "run.json"]


def test_playtest_play_report_and_collect_read_both_formats(
    small_shards: None, relaygen_cli: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    from relaygen.report import read_batch
    from relaygen.viewer.play import load_entries

    jsonl, boxoban = tmp_path / "jsonl", tmp_path / "boxoban"
    list(write_run(jsonl, "jsonl", "maze", 5, **SEARCH))
    list(write_run(boxoban, "boxoban", "boxoban", 3, **SHIPPED))
    for folder, count, rules in ((jsonl, 5, "maze"), (boxoban, 3, "boxoban")):
        played = relaygen_cli("playtest", folder, "--json", "--max-nodes", "20000")
        assert played.returncode in (0, 1) and not played.stderr, played.stderr  # 1: a level off its target
        assert [r["rules"] for r in json.loads(played.stdout)] == [rules] * count
        entries, _ = load_entries(folder)
        assert len(entries) == count and len({e.key for e in entries}) == count
        batch = read_batch(folder)
        assert len(batch.levels) == count and batch.asked() is not None
        collected = relaygen_cli("collect", folder, "--out", tmp_path / f"{rules}.txt")
        assert collected.returncode == 0, collected.stderr
        assert [lv.grid.tolist() for lv in read_levels(tmp_path / f"{rules}.txt")] == [
            lv.grid.tolist() for lv in read_levels(folder)
        ]

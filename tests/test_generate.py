"""Generate: distinct playable levels, reproducible files, every export format, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from relaygen.formats import read_levels
from relaygen.generate import GenerateError, generate, generate_iter, write_run
from relaygen.level import Level
from relaygen.playtest import playtest
from relaygen.rules import load_rules


@pytest.mark.parametrize("rules", ["maze", "dungeon", "sokoban"])
def test_search_generates_distinct_playable_levels(rules: str) -> None:
    levels = generate(rules, 4, model="search", seed=3, difficulty_range=(0.0, 1.0))
    assert len({lv.digest() for lv in levels}) == 4
    for level, d in zip(levels, [0.0, 1 / 3, 2 / 3, 1.0], strict=True):
        assert playtest(level, d).playable
        assert level.meta["difficulty"] == pytest.approx(d, abs=1e-6)
        assert level.meta["rules_digest"] == level.rules.digest and level.meta["seed"] == 3


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "relaygen", "generate", *args], capture_output=True, text=True)


def test_same_seed_gives_identical_files_and_rerun_continues(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("maze", "-n", "4", "--model", "search", "--out", str(a)).returncode == 0
    # b is made in two goes, as if the first run had been killed after two levels
    list(zip(range(2), write_run(generate_iter("maze", 4, model="search"), b, "json", 4), strict=False))
    assert len(list(b.glob("maze-*.json"))) == 2
    assert run_cli("maze", "-n", "4", "--model", "search", "--out", str(b)).returncode == 0
    names = sorted(p.name for p in a.iterdir())
    assert (
        names
        == sorted(p.name for p in b.iterdir())
        == sorted([*(f"maze-{i:04d}.json" for i in range(4)), "index.json"])
    )
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    index = json.loads((a / "index.json").read_text())
    assert set(index["maze-0002.json"]) == {"difficulty", "length", "score"}
    assert not list(a.glob(".*tmp"))


def test_every_format_opens(tmp_path: Path) -> None:
    import pygame

    levels = generate("sokoban", 2, model="search", seed=1)
    outs = {}
    for kind in ["json", "txt", "xsb", "png", "tiled"]:
        outs[kind] = list(write_run(iter([lv.copy() for lv in levels]), tmp_path / kind, kind, 2))
    for kind in ["json", "txt", "xsb"]:
        back = [lv for p in outs[kind] for lv in read_levels(p)]
        assert [lv.grid.tolist() for lv in back] == [lv.grid.tolist() for lv in levels]
    image = pygame.image.load(str(outs["png"][0]))
    assert image.get_size() == (levels[0].width * 24, levels[0].height * 24)
    rules = levels[0].rules
    for path, level in zip(outs["tiled"], levels, strict=True):
        tmj = json.loads(path.read_text())
        assert tmj["type"] == "map" and tmj["orientation"] == "orthogonal" and tmj["infinite"] is False
        (layer,) = tmj["layers"]
        assert layer["type"] == "tilelayer" and (layer["width"], layer["height"]) == (level.width, level.height)
        assert np.array_equal(np.array(layer["data"]).reshape(level.grid.shape) - 1, level.grid)
        (tileset,) = tmj["tilesets"]
        assert tileset["firstgid"] == 1 and tileset["tilecount"] == len(rules.tiles)
        assert [t["type"] for t in tileset["tiles"]] == [t.name for t in rules.tiles]
        sheet = pygame.image.load(str(path.parent / tileset["image"]))
        assert sheet.get_size() == (tileset["imagewidth"], tileset["imageheight"])


def test_pinned_cells_are_kept() -> None:
    rules = load_rules("maze")
    rows = ["#" * 9] + ["#S??????#"] + ["#???????#"] * 5 + ["#??????E#"] + ["#" * 9]
    partial = Level.from_rows(rules, rows)
    for level in generate(rules, 3, model="search", pin=partial, seed=2):
        assert np.array_equal(level.grid[partial.pinned], partial.grid[partial.pinned])
        assert playtest(level).playable


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_such_game", "--model", "search"], "not a built-in ruleset"),
        (["maze", "--model", "search", "--difficulty", "1.5"], "difficulty must be in [0, 1]"),
        (["maze", "--model", "search", "--format", "gif"], "unknown format 'gif'"),
        (["maze", "--model", "missing.pt"], "missing.pt"),
    ],
)
def test_bad_input_exits_2_with_a_message(args: list[str], message: str, tmp_path: Path) -> None:
    run = run_cli(*args, "--out", str(tmp_path / "out"))
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr
    assert not list((tmp_path / "out").glob("*.json")) if (tmp_path / "out").exists() else True


def test_unwritable_output_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    run = run_cli("maze", "--model", "search", "--out", str(blocker / "sub"))
    assert run.returncode == 2 and "cannot write levels there" in run.stderr


def test_out_of_range_difficulty_in_python() -> None:
    with pytest.raises(GenerateError, match="difficulty"):
        generate("maze", 1, model="search", difficulty_range=(0.5, 2.0))

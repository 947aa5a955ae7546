"""Generate: distinct playable levels, reproducible files, every export format, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from relaygen.formats import read_levels
from relaygen.generate import GenerateError, Summary, generate
from relaygen.level import Level
from relaygen.playtest import playtest
from relaygen.rules import Rules, load_rules
from relaygen.runfolder import write_run


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
    """The rerun uses two worker processes: the files are still the same."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_cli("maze", "-n", "4", "--model", "search", "--out", str(a)).returncode == 0
    # b is made in two goes, as if the first run had been killed after two levels
    list(zip(range(2), write_run(b, "json", "maze", 4, model="search"), strict=False))
    assert 2 <= len(list(b.glob("maze-*.json"))) < 4  # the writer may have finished one more
    assert run_cli("maze", "-n", "4", "--model", "search", "--out", str(b), "--workers", "2").returncode == 0
    names = sorted(p.name for p in a.iterdir())
    assert (
        names
        == sorted(p.name for p in b.iterdir())
        == sorted([*(f"maze-{i:04d}.json" for i in range(4)), "index.json", "run.json"])
    )
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    index = json.loads((a / "index.json").read_text())
    assert set(index["maze-0002.json"]) == {"difficulty", "length", "score", "digest", "level"}
    assert not list(a.glob(".*tmp"))


def test_every_format_opens(tmp_path: Path) -> None:
    import pygame

    levels = generate("sokoban", 2, model="search", seed=1)
    outs = {}
    for kind in ["json", "txt", "xsb", "png", "tiled"]:
        outs[kind] = list(write_run(tmp_path / kind, kind, "sokoban", 2, model="search", seed=1))
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
    for level in generate(rules, 3, model="search", pin=partial, seed=2, size=(9, 9)):
        assert np.array_equal(level.grid[partial.pinned], partial.grid[partial.pinned])
        assert playtest(level).playable


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no_such_game", "--model", "search"], "not a built-in ruleset"),
        (["maze", "--model", "search", "--difficulty", "1.5"], "difficulty must be in [0, 1]"),
        (["maze", "--model", "search", "--format", "gif"], "unknown format 'gif'"),
        (["maze", "--model", "missing.pt"], "missing.pt"),
        (["maze", "--model", "search", "--size", "0x5"], "size 0x5: width: Input should be greater than or equal to 3"),
        (["maze", "--model", "search", "--size", "abc"], "size must be WIDTHxHEIGHT"),
        (["sokoban", "--model", "search", "--size", "3x3"], "only 1 editable cells"),
        (["maze", "--model", "search", "--seed", "-1"], "Invalid value for '--seed'"),
    ],
)
def test_bad_input_exits_2_with_a_message(args: list[str], message: str, tmp_path: Path) -> None:
    run = run_cli(*args, "--out", str(tmp_path / "out"))
    assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_unwritable_output_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    run = run_cli("maze", "--model", "search", "--out", str(blocker / "sub"))
    assert run.returncode == 2 and f"cannot create the folder: {blocker} is a file, not a folder" in run.stderr


def test_out_of_range_difficulty_in_python() -> None:
    with pytest.raises(GenerateError, match="difficulty"):
        generate("maze", 1, model="search", difficulty_range=(0.5, 2.0))


def files_made(tmp_path: Path, name: str, rules: str, n: int, **options: object) -> tuple[dict[str, bytes], Summary]:
    summary = Summary()
    paths = list(write_run(tmp_path / name, "json", rules, n, summary=summary, **options))
    return {p.name: p.read_bytes() for p in [*paths, tmp_path / name / "index.json"]}, summary


def counts(summary: Summary) -> tuple[int, ...]:
    return summary.written, summary.drafts, summary.raw_playable, summary.repaired, summary.duplicates


@pytest.mark.parametrize(
    ("rules", "n", "options"),
    [
        ("maze", 10, {"model": "search", "size": (4, 4)}),  # a tiny grid: duplicates are drafted again
        ("sokoban", 2, {"model": "narrow"}),
    ],
)
def test_workers_give_the_same_files_and_counts(
    rules: str, n: int, options: dict, tmp_path: Path, untrained_model: Callable[..., Path]
) -> None:
    if options["model"] != "search":
        options["model"] = untrained_model(tmp_path / "model.pt", rules, options["model"])
    one, one_summary = files_made(tmp_path, "one", rules, n, seed=1, **options)
    two, two_summary = files_made(tmp_path, "two", rules, n, seed=1, workers=2, **options)
    assert len(one) == n + 1 and one == two
    assert counts(one_summary) == counts(two_summary)
    if rules == "maze":
        assert one_summary.duplicates > 0


@pytest.mark.parametrize("model", ["search", "turtle", "wide"])
def test_size_gives_playable_levels_of_that_size(
    model: str, tmp_path: Path, untrained_model: Callable[..., Path]
) -> None:
    if model != "search":
        model = str(untrained_model(tmp_path / "model.pt", "sokoban", model))
    paths = write_run(tmp_path / "out", "json", "sokoban", 2, model=model, seed=4, size=(11, 7))
    for level in (lv for path in paths for lv in read_levels(path)):
        assert level.grid.shape == (7, 11) and (level.rules.width, level.rules.height) == (11, 7)
        assert level.meta["size"] == [11, 7]
        assert playtest(level, level.meta["difficulty"]).playable


def test_a_whole_map_dense_model_refuses_another_size(tmp_path: Path, untrained_model: Callable[..., Path]) -> None:
    path = untrained_model(tmp_path / "model.pt", "sokoban", "wide", spatial=False)
    assert generate("sokoban", 1, model=path, seed=0)[0].grid.shape == (9, 9)
    with pytest.raises(GenerateError, match=r"reads the whole 9x9 map .* cannot play 11x7 levels"):
        generate("sokoban", 1, model=path, size=(11, 7))


def test_a_pin_must_have_the_size_asked_for() -> None:
    partial = Level.from_rows(load_rules("maze"), ["#" * 9] + ["#S?????E#"] + ["#???????#"] * 6 + ["#" * 9])
    (level,) = generate("maze", 1, model="search", pin=partial, size=(9, 9))
    assert level.rules.width == 9 and np.array_equal(level.grid[partial.pinned], partial.grid[partial.pinned])
    with pytest.raises(GenerateError, match="pinned level is 9x9, but levels are generated at 10x9"):
        generate("maze", 1, model="search", pin=partial, size=(10, 9))


def test_polish_moves_playable_drafts_towards_their_targets() -> None:
    options = {"model": "search", "difficulty": 0.9, "seed": 3}
    plain = generate("maze", 4, polish=0, **options)
    polished = generate("maze", 4, polish=200, **options)
    plain_scores = [level.meta["report"]["score"] for level in plain]
    polished_scores = [level.meta["report"]["score"] for level in polished]
    assert all(p >= q for p, q in zip(polished_scores, plain_scores, strict=True))
    assert sum(polished_scores) > sum(plain_scores)
    assert all(playtest(level, 0.9).playable for level in polished)


def test_a_model_generates_under_the_rules_it_is_given(tmp_path: Path, untrained_model: Callable[..., Path]) -> None:
    path = untrained_model(tmp_path / "model.pt", "maze", "narrow")
    maze = load_rules("maze").model_dump()
    longer = Rules.model_validate(maze | {"name": "long_maze", "difficulty": {**maze["difficulty"], "easy": (40, 60)}})
    (level,) = generate(longer, 1, model=path, difficulty=0.0, seed=2)
    assert level.rules.digest == longer.digest == level.meta["rules_digest"]
    assert level.meta["report"]["score"] == pytest.approx(playtest(level, 0.0).score)
    fewer = maze | {"objectives": [o for o in maze["objectives"] if o["metric"] != "regions"]}
    with pytest.raises(GenerateError, match=r"does not fit rules 'maze'"):
        generate(Rules.model_validate(fewer), 1, model=path)


def test_the_index_lists_every_level_written_when_a_run_stops_early(tmp_path: Path) -> None:
    run = write_run(tmp_path, "json", "maze", 5, model="search", seed=1)
    first = [next(run), next(run)]
    run.close()
    index = json.loads((tmp_path / "index.json").read_text())
    assert all(p.exists() for p in first) and {p.name for p in first} <= set(index)
    assert sorted(index) == sorted(p.name for p in tmp_path.glob("maze-*.json"))  # a level in flight is kept too


def test_a_run_yields_every_file_in_order_once_it_is_written(tmp_path: Path) -> None:
    paths = list(write_run(tmp_path, "json", "maze", 5, model="search", seed=1))
    assert [p.name for p in paths] == [f"maze-{i:04d}.json" for i in range(5)] and all(p.exists() for p in paths)

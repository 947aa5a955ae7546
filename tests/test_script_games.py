"""A PuzzleScript game made learnable: the rules ``rules import`` writes (size, border, count ranges, the
difficulty knob) and the training reward that searches only levels keeping their counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from relaygen.cli import app
from relaygen.env.scoring import Scorer
from relaygen.env.vector import BatchedLevelEnv
from relaygen.level import Level
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.base import Budget
from relaygen.mechanics.script import import_size, knob_ends, rules_from_script, with_levels
from relaygen.playtest import playtest
from relaygen.rules import load_rules
from relaygen.score import VERDICTS

BIG = """

############
#p.........#
#..c....c..#
#..........#
#....c.....#
#..........#
#..c....c..#
#..........#
############
"""
"""A 12x9 level with five coins, bigger than coins.txt's others."""


@pytest.fixture
def coins(data_dir: Path, tmp_path: Path) -> Path:
    """A designer's own game (tests/data/coins.txt), copied where a test may write beside it."""
    return Path(shutil.copy(data_dir / "coins.txt", tmp_path / "coins.txt"))


def rows_of(*sizes: tuple[int, int]) -> list[list[str]]:
    return [["." * w] * h for w, h in sizes]


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        ([(5, 4), (7, 5), (6, 6)], (6, 5)),  # the median width and the median height
        ([(7, 5), (7, 4)], (7, 5)),  # the upper median of an even count
        ([(7, 7), (9, 9), (10, 10), (11, 10)], (7, 7)),  # 10x10 is over 64 cells: the biggest level within
        ([(10, 10), (9, 9)], (9, 9)),  # no level within 64 cells: the smallest
    ],
)
def test_rules_are_imported_at_the_median_level_size_within_64_cells(sizes: list, expected: tuple) -> None:
    assert import_size(rows_of(*sizes)) == expected


def test_the_knob_runs_from_one_or_two_moves_to_the_levels_shortest_to_median() -> None:
    assert knob_ends([16, 40, 33]) == ((1, 2), (16, 33))
    assert knob_ends([16, 33]) == ((1, 2), (16, 25)), "the median rounded up"
    assert knob_ends([7]) == ((1, 2), (7, 8)), "one level: the hard end is still a range"


def test_imported_rules_read_the_levels_of_their_size_and_every_level_still_reads(coins: Path) -> None:
    coins.write_text(coins.read_text() + BIG)
    rules = rules_from_script(coins, solve_levels=True)
    assert (rules.width, rules.height) == (7, 5)
    assert rules.border == "wall", "the glyph ringing the levels"
    ranges = {c.tiles[0]: (c.min, c.max) for c in rules.constraints}
    assert ranges == {"player": (1, 1), "coin": (1, 2)}, "no range for walls; the big level's 5 coins left out"
    assert rules.difficulty is not None and rules.difficulty.metric == "solution_length"
    assert rules.difficulty.hard == (7, 8), "from the solved level of that size (the big one is not asked)"
    big = Level.from_rows(rules, BIG.strip().splitlines())
    assert playtest(big).solvable == "yes", "a level bigger than the rules still reads and plays"


def test_rules_imported_at_another_size_keep_what_the_game_s_levels_say(coins: Path, tmp_path: Path) -> None:
    coins.write_text(coins.read_text() + BIG)
    out = tmp_path / "small.toml"
    result = CliRunner().invoke(app, ["rules", "import", str(coins), "--out", str(out), "--size", "6x4"])
    assert result.exit_code == 0, result.output
    small, usual = load_rules(out), rules_from_script(coins, solve_levels=True)
    assert (small.width, small.height) == (6, 4), "the size asked for"
    assert small.constraints == usual.constraints and small.difficulty == usual.difficulty, (
        "counts and the knob still come from the levels of the median size"
    )
    tiny = tmp_path / "tiny.toml"
    too_small = CliRunner().invoke(app, ["rules", "import", str(coins), "--out", str(tiny), "--size", "3x3"])
    assert too_small.exit_code == 2 and "3x3 grid" in too_small.output and not tiny.exists()


def test_a_game_whose_rings_are_open_has_no_border_and_its_terrain_no_count(coins: Path) -> None:
    open_rings = [
        [".......", ".p#c#..", ".##.##.", ".c#.#..", "......."],
        [".......", ".p.##..", "...##c.", "..###..", "......."],
    ]
    coins.write_text(with_levels(coins.read_text(), open_rings))
    rules = rules_from_script(coins)
    assert rules.border is None
    assert {c.tiles[0] for c in rules.constraints} == {"player", "coin"}, "walls fill a fifth of the cells"


def counted_and_not(coins: Path) -> tuple[Level, Level]:
    """Coins' first level (its counts kept) and the same with a third coin (one more than its range)."""
    rules = load_rules(coins)
    level = Level.from_rows(rules, ["#######", "#p..c.#", "#.###.#", "#c....#", "#######"])
    extra = Level.from_rows(rules, ["#######", "#p..c.#", "#.###.#", "#c..c.#", "#######"])
    return level, extra


def test_the_reward_searches_only_levels_that_keep_their_counts(coins: Path) -> None:
    level, extra = counted_and_not(coins)
    budget = Budget(max_nodes=2000, time_limit=None)
    scorer = Scorer(level.rules, budget)
    got = scorer.score(np.stack([level.grid, extra.grid]), [None, None], np.array([0.5, 0.5]))
    names = scorer.metric_names
    kept, broken = playtest(level, 0.5, budget), playtest(extra, 0.5, budget)
    assert kept.playable and got.score[0] == kept.score, "a level keeping its counts is searched as in the playtest"
    assert dict(zip(names, got.metrics[0], strict=True)) == kept.metrics
    assert broken.solvable == "yes" and broken.metrics["solver_nodes"] > 0
    assert VERDICTS[got.verdict[1]] == broken.verdict == "no", "unplayable either way"
    metrics = dict(zip(names, got.metrics[1], strict=True))
    assert metrics["solver_nodes"] == 0 and metrics["solution_length"] == 0, "no search for broken counts"
    assert metrics["regions"] == broken.metrics["regions"]


def test_only_a_mechanic_with_a_costly_search_skips_it() -> None:
    assert get_mechanic("script").reward_searches_counted
    assert not any(get_mechanic(name).reward_searches_counted for name in ("walk", "keys", "push", "relay"))


@pytest.mark.slow
def test_the_benchmark_trains_and_generates_a_designers_own_game(coins: Path, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    script = Path(__file__).parent.parent / "benchmarks" / "script_games.py"
    out = tmp_path / "results.json"
    options = ["--minutes", "0.2", "--levels", "3", "--time-limit", "2", "--work", str(tmp_path / "work")]
    done = subprocess.run(
        [sys.executable, str(script), str(coins), *options, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    row = json.loads(out.read_text())["results"][0]
    assert row["training"]["steps"] > 0 and row["own"]["fit"] == 7
    for generator in ("model", "search"):
        assert row[generator]["written"] == 3, row[generator]["failure"]
        assert (tmp_path / "work" / "coins" / generator / "game.txt").is_file(), "the --format puzzlescript file"
    assert "raw play" in done.stdout


def test_an_environment_searching_at_the_end_searches_the_last_level_only(coins: Path) -> None:
    level, _ = counted_and_not(coins)
    env = BatchedLevelEnv(
        level.rules, "wide", 1, autoreset=False, search_at_end=True, max_steps=3, start_level=level, difficulty=0.5
    )
    _, infos = env.reset(seed=0)
    start = infos["score"][0]
    rewards, verdicts = [], []
    for _ in range(3):
        _, reward, terminated, truncated, infos = env.step(np.array([0]))  # the corner is fixed border: no edit
        rewards.append(reward[0])
        verdicts.append(str(infos["verdict"][0]))
    report = playtest(level, 0.5, Budget(max_nodes=2000, time_limit=None))
    assert report.met and terminated[0] and not truncated[0], "met at its last step"
    assert verdicts == ["unknown", "unknown", "yes"], "not searched until the step that ends the episode"
    assert infos["score"][0] == report.score and infos["solution_length"][0] == report.length
    bonus = level.rules.playable_bonus
    assert sum(rewards) == pytest.approx(env.reward_scale * (report.score - start) + bonus), "the return telescopes"

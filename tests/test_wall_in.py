"""Walling in: floor a push level's solution never uses becomes wall, up to the rules' wall share."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from relaygen import generate as generate_module
from relaygen.generate import generate
from relaygen.hillclimb import wall_in
from relaygen.level import Level
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.base import regions, replay, room_walls
from relaygen.mechanics.push import _next_wall
from relaygen.playtest import Report, playtest
from relaygen.rules import Rules, load_rules, parse_rules

SOKOBAN = Path(__file__).resolve().parent.parent / "relaygen" / "rulesets" / "sokoban.toml"
ROOM = [
    "########",
    "#@ $ . #",
    "#      #",
    "#  ##  #",
    "#  # # #",
    "#   ## #",
    "########",
]
"""A hall with a pocket of floor no one reaches (row 4), walls on 7 of its 30 inner cells."""
PUSH = get_mechanic("push")


def walled_rules(low: float) -> Rules:
    """The sokoban rules asking for walls on at least ``low`` of the cells inside the outer ring."""
    extra = f'\n[[objectives]]\nmetric = "wall_share"\ntarget = [{low}, {max(low, 0.7)}]\nweight = 2\nscale = 0.1\n'
    return parse_rules(SOKOBAN.read_text() + extra, "walled.toml")


def room(low: float = 0.5) -> Level:
    return Level.from_rows(walled_rules(low), [row.replace(" ", "-") for row in ROOM])


def used_cells(level: Level, solution: str) -> set[tuple[int, int]]:
    """The cells the player or a box is on while ``solution`` is played."""
    return {cell for state in replay(PUSH, level, solution.lower()) for cell in (state.player, *state.boxes)}


def solid(level: Level) -> np.ndarray:
    return level.rules.with_property("solid")[level.grid]


def test_walls_go_where_the_solution_never_goes_until_the_share_is_met() -> None:
    level = room()
    report = playtest(level, 0.5)
    walled = PUSH.walled_in(level, report.solution, report.targets)
    assert walled is not None
    added = np.argwhere(solid(walled) & ~solid(level))
    assert len(added) and not {(int(r), int(c)) for r, c in added} & used_cells(level, report.solution)
    assert room_walls(solid(walled))[0] == 15  # half of the 30 inner cells
    assert replay(PUSH, walled, report.solution.lower())[-1].won
    assert room_walls(solid(walled))[1] == 0 and regions(~solid(walled)) == 1  # no post, the pocket is gone


@pytest.mark.parametrize("low", [0.5, 0.9])
def test_the_solution_still_plays_and_the_floor_stays_whole(low: float) -> None:
    # 0.9: more walls than the unused floor can give without cutting the hall apart
    hall = ["########", "#      #", "# @    #", "#  $   #", "#      #", "#   .  #", "########"]
    level = Level.from_rows(walled_rules(low), [row.replace(" ", "-") for row in hall])
    report = playtest(level, 0.5)
    assert report.solution == "rDDldR"  # the player walks around the box: not the shortest way between them
    walled = PUSH.walled_in(level, report.solution, report.targets)
    assert walled is not None and regions(~solid(walled)) == 1
    assert replay(PUSH, walled, report.solution.lower())[-1].won
    assert playtest(walled, 0.5).playable


def test_a_cell_whose_wall_would_cut_the_floor_in_two_stays_open() -> None:
    solid = np.array([[c == "#" for c in row] for row in ["#######", "#  #  #", "#     #", "#  #  #", "#######"]])
    free = np.zeros_like(solid)
    free[2, 3] = free[2, 5] = True  # (2, 3), between two walls, is the only way between the halves
    assert _next_wall(solid, free) == (2, 5)


def test_pinned_cells_stay_floor() -> None:
    level = room()
    level.pinned = ~solid(level)
    report = playtest(level, 0.5)
    walled = PUSH.walled_in(level, report.solution, report.targets)
    assert walled is None or np.array_equal(walled.grid[level.pinned], level.grid[level.pinned])


def test_rules_that_ask_for_no_wall_share_keep_their_pockets() -> None:
    level = Level.from_rows(load_rules("sokoban"), [row.replace(" ", "-") for row in ROOM])
    report = playtest(level, 0.5)
    assert report.metrics["regions"] == 2 and PUSH.walled_in(level, report.solution, report.targets) is None


def test_a_level_with_its_walls_and_no_pocket_is_left_as_it_is() -> None:
    level = room(low=0.2)
    pocket = level.rules.tile_index["wall"]
    level.grid[4, 4] = pocket
    report = playtest(level, 0.5)
    assert PUSH.walled_in(level, report.solution, report.targets) is None


def test_wall_in_keeps_the_walled_level_when_it_scores_higher() -> None:
    level = room()
    report = playtest(level, 0.5)
    _, walled_report = wall_in(level, report)
    assert walled_report.playable and walled_report.score > report.score
    assert walled_report.metrics["wall_share"] >= 0.5 > report.metrics["wall_share"]


def test_generate_walls_in_the_levels_of_rules_that_ask_for_walls() -> None:
    levels = generate(walled_rules(0.5), 4, model="search", seed=2, difficulty=0.5, workers=1)
    assert all(level.meta["report"]["metrics"]["wall_share"] >= 0.5 for level in levels)
    assert all(playtest(level, 0.5).playable for level in levels)


def test_a_walled_level_is_deepened_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counted(name: str, step: Callable[..., tuple[Level, Report]]) -> Callable[..., tuple[Level, Report]]:
        def wrapper(*args: Any) -> tuple[Level, Report]:
            calls.append(name)
            return step(*args)

        return wrapper

    monkeypatch.setattr(generate_module, "deepen", counted("deepen", generate_module.deepen))
    monkeypatch.setattr(generate_module, "wall_in", counted("wall_in", generate_module.wall_in))
    generate(walled_rules(0.5), 1, model="search", seed=2, difficulty=0.5, workers=1, deepen=5_000)
    assert calls == ["deepen", "wall_in", "deepen"]

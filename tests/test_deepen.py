"""Deepening: a reverse search of pulls finds the starts of a Sokoban room farthest from solved."""

from __future__ import annotations

import json
import shutil
import sysconfig
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from relaygen import generate as generate_module
from relaygen import hillclimb
from relaygen.agent.model import load_model, save_model
from relaygen.drafters import SEARCH, draft_deepen
from relaygen.formats import read_levels
from relaygen.generate import WALLED_DEEPEN_STARTS, GenerateError, deepen_starts, generate
from relaygen.hillclimb import deepen
from relaygen.level import Level
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.push import level_puzzle
from relaygen.playtest import Report, playtest
from relaygen.rules import load_rules
from relaygen.runfolder import write_run
from relaygen.solver import reverse
from relaygen.solver.board import Board, bits
from relaygen.solver.reverse import farthest_layouts
from relaygen.solver.sokoban import Puzzle, solve

LEVELS = Path(__file__).resolve().parents[1] / "levels"
ROOM = [
    "########",
    "#@  #  #",
    "# $.   #",
    "#  #.$ #",
    "##   # #",
    "#      #",
    "########",
]


def room_level() -> Level:
    """``ROOM`` as a level of the sokoban rules."""
    return Level.from_rows(load_rules("sokoban"), [row.replace(" ", "-") for row in ROOM])


def plain_reach(p: Puzzle, player: int, boxes: frozenset[int]) -> set[int]:
    """The cells the player walks to around ``boxes``, by a plain flood fill of ``p``'s grid."""
    seen, todo = {player}, [player]
    while todo:
        c = todo.pop()
        for s in (1, -1, p.width, -p.width):
            if 0 <= c + s < p.width * p.height and c + s not in p.walls and c + s not in boxes and c + s not in seen:
                seen.add(c + s)
                todo.append(c + s)
    return seen


def layouts_per_pushes(p: Puzzle) -> Counter[int]:
    """How many (boxes, player region) states need each least number of pushes, by a plain
    breadth-first search of pulls from every solved state."""
    free = {i for i in range(p.width * p.height) if i not in p.walls}
    depth: dict[tuple[frozenset[int], int], int] = {}
    queue: deque[tuple[frozenset[int], int]] = deque()
    for player in free - p.goals:
        state = (p.goals, min(plain_reach(p, player, p.goals)))
        if state not in depth:
            depth[state] = 0
            queue.append(state)
    while queue:
        boxes, player = queue.popleft()
        area = plain_reach(p, player, boxes)
        for box in boxes:
            for s in (1, -1, p.width, -p.width):
                if box + s in area and box + 2 * s in free and box + 2 * s not in boxes:
                    moved = boxes - {box} | {box + s}
                    state = (moved, min(plain_reach(p, box + 2 * s, moved)))
                    if state not in depth:
                        depth[state] = depth[(boxes, player)] + 1
                        queue.append(state)
    return Counter(d for d in depth.values() if d > 0)


def least_pushes(p: Puzzle) -> int:
    """The fewest pushes that solve ``p``, by a plain forward search over (boxes, player cell)."""
    free = {i for i in range(p.width * p.height) if i not in p.walls}
    steps = (1, -1, p.width, -p.width)
    start = (p.boxes, min(plain_reach(p, p.player, p.boxes)))
    depth, queue = {start: 0}, deque([start])
    while queue:
        boxes, player = queue.popleft()
        if boxes == p.goals:
            return depth[(boxes, player)]
        area = plain_reach(p, player, boxes)
        for box in boxes:
            for s in steps:
                if box - s in area and box + s in free and box + s not in boxes:
                    moved = boxes - {box} | {box + s}
                    state = (moved, min(plain_reach(p, box, moved)))
                    if state not in depth:
                        depth[state] = depth[(boxes, player)] + 1
                        queue.append(state)
    raise AssertionError("unsolvable")


@pytest.mark.parametrize("native", [True, False], ids=["c", "python"])
def test_a_lone_box_in_a_corridor_is_pulled_to_the_far_end(native: bool) -> None:
    corridor = Puzzle.from_rows(["########", "#  @$ .#", "########"])
    (layout,) = farthest_layouts(corridor, count=1, max_states=1000, native=native)
    # The player must stand beyond the box to pull it, so the box stops one cell short of the wall.
    assert layout.pushes == 4
    assert layout.puzzle.boxes == {corridor.width + 2}
    assert layout.puzzle.goals == corridor.goals and layout.puzzle.walls == corridor.walls


@pytest.mark.parametrize("native", [True, False], ids=["c", "python"])
def test_each_layout_needs_exactly_its_pushes_and_the_deepest_comes_first(native: bool) -> None:
    room = Puzzle.from_rows(ROOM)
    layouts = farthest_layouts(room, count=12, max_states=100_000, native=native)
    assert len(layouts) == 12
    assert [layout.pushes for layout in layouts] == sorted((layout.pushes for layout in layouts), reverse=True)
    for layout in layouts:
        assert layout.puzzle.goals == room.goals and layout.puzzle.walls == room.walls
        assert least_pushes(layout.puzzle) == layout.pushes
        assert solve(layout.puzzle).status == "solved"
    assert layouts[0].pushes > least_pushes(room)


def test_the_region_after_a_pull_is_what_the_player_reaches() -> None:
    # Corridors and a loop: many pulls leave the box cutting the player's region in two.
    p = Puzzle.from_rows(["#########", "#.  #   #", "# # # # #", "#   $  @#", "#########"])
    board = Board(p.width, p.height, p.walls, p.goals, p.boxes, p.player)
    W, cut = board.W, 0
    for box in bits(board.floor_mask):
        for stand_side in (1, -1, W, -W):
            stand, back = box + stand_side, box + 2 * stand_side
            free = board.floor_mask & ~(1 << box)
            if not ((free >> stand) & 1 and (free >> back) & 1):
                continue
            region = board.reach(stand, 1 << box)
            moved = 1 << stand
            expected = board.reach(back, moved)
            assert board.after_pull(region, box, stand, back, moved) == expected
            cut += expected != board.reach(box, moved)
    assert cut > 0  # some pulls did cut a region


@pytest.mark.parametrize("native", [True, False], ids=["c", "python"])
def test_the_search_finds_every_layout_at_its_least_pushes(native: bool) -> None:
    for rows in (ROOM, ["#########", "#.  #   #", "# # # # #", "# . $$ @#", "#########"]):
        room = Puzzle.from_rows(rows)
        every = farthest_layouts(room, count=10**6, max_states=10**6, native=native)
        assert Counter(layout.pushes for layout in every) == layouts_per_pushes(room)


@pytest.mark.parametrize("native", [True, False], ids=["c", "python"])
def test_a_small_state_budget_stops_the_search_early(native: bool) -> None:
    room = Puzzle.from_rows(ROOM)
    full = farthest_layouts(room, count=1, max_states=100_000, native=native)[0].pushes
    early = farthest_layouts(room, count=1, max_states=20, native=native)[0].pushes
    assert 0 < early < full


@pytest.mark.parametrize("native", [True, False], ids=["c", "python"])
def test_the_search_stops_at_the_most_pushes_asked_for(native: bool) -> None:
    room = Puzzle.from_rows(ROOM)
    full = farthest_layouts(room, count=1, max_states=100_000, native=native)[0].pushes
    capped = farthest_layouts(room, count=5, max_states=100_000, max_pushes=full - 3, native=native)
    assert capped[0].pushes == full - 3 and all(least_pushes(layout.puzzle) <= full - 3 for layout in capped)
    # The push mechanic caps the search at the top of the pushes target.
    level = room_level()
    starts = get_mechanic("push").farthest_starts(level, 5, 100_000, {"pushes": (2.0, full - 3.0)})
    box = load_rules("sokoban").with_property("pushable")
    width = room.width
    assert [{int(r * width + c) for r, c in np.argwhere(box[start.grid])} for start in starts] == [
        set(layout.puzzle.boxes) for layout in capped
    ]


@pytest.mark.skipif(reverse._reverse is None, reason="the C search is not built")
def test_the_c_search_finds_the_python_search_layouts_in_shipped_rooms(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = Counter[str]()

    class Counted:
        def deepest(self, *args: object) -> object:
            asked["c"] += 1
            return built.deepest(*args)

    built = reverse._reverse
    monkeypatch.setattr(reverse, "_reverse", Counted())
    rooms = [level_puzzle(level) for level in read_levels(LEVELS / "boxoban")[:10]]
    for room in rooms:
        for count, max_states, max_pushes in ((64, 200_000, 40), (30, 500, None)):
            found = farthest_layouts(room, count, max_states, max_pushes)
            assert found and found == farthest_layouts(room, count, max_states, max_pushes, native=False)
    assert asked["c"] == 2 * len(rooms)  # by default, rooms this size are searched in C


@pytest.mark.skipif(not shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0]), reason="no C compiler")
def test_the_c_search_is_built_where_there_is_a_c_compiler() -> None:
    assert reverse._reverse is not None, "pip install -e . did not build relaygen/solver/_reverse.c"


def test_a_room_too_large_for_the_c_search_is_searched_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    corridor = Puzzle.from_rows(["#" * 401, "#.$@" + " " * 396 + "#", "#" * 401])
    assert (corridor.width + 2) * (corridor.height + 2) > 64 * reverse.NATIVE_WORDS

    class Unbuilt:
        def deepest(self, *args: object) -> None:
            raise AssertionError("the C search was asked")

    monkeypatch.setattr(reverse, "_reverse", Unbuilt())
    (layout,) = farthest_layouts(corridor, count=1, max_states=1000)
    # The box stops one cell short of the far wall (cell 399 of the middle row), 397 pushes from its goal.
    assert layout.pushes == 397 and layout.puzzle.boxes == {corridor.width + 398}


def test_deepen_moves_boxes_and_player_only_and_never_scores_lower() -> None:
    rules = load_rules("sokoban")
    level = room_level()
    before = playtest(level, 1.0)
    deeper, report = deepen(level, before, 100_000)
    assert report.playable and report.score > before.score
    assert report.metrics["pushes"] > before.metrics["pushes"]
    solid = rules.with_property("solid")
    goal = rules.with_property("goal")
    assert np.array_equal(solid[deeper.grid], solid[level.grid])
    assert np.array_equal(goal[deeper.grid], goal[level.grid])


def test_deepen_searches_only_for_a_level_too_easy_for_its_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    level = room_level()
    easy = playtest(level, 0.0)
    assert easy.metrics["solution_length"] >= easy.targets["solution_length"][0]

    def no_search(*args: object) -> list[Level]:
        raise AssertionError("searched a level that is not too easy")

    monkeypatch.setattr(get_mechanic("push"), "farthest_starts", no_search)
    assert deepen(level, easy, 100_000) == (level, easy)
    with pytest.raises(AssertionError, match="searched"):
        deepen(level, playtest(level, 1.0), 100_000)


def test_deepen_stops_at_the_first_start_inside_its_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    level = room_level()
    tried: list[Level] = []
    monkeypatch.setattr(
        hillclimb, "playtest", lambda start, difficulty: tried.append(start) or playtest(start, difficulty)
    )
    deeper, report = deepen(level, playtest(level, 1.0), 100_000, starts=8)
    lo, hi = report.targets["solution_length"]
    assert tried == [deeper] and lo <= report.metrics["solution_length"] <= hi


def test_deepen_keeps_pinned_boxes_where_they_are() -> None:
    rules = load_rules("sokoban")
    level = room_level()
    level.pinned = rules.with_property("pushable")[level.grid]
    deeper, _ = deepen(level, playtest(level, 1.0), 100_000)
    assert np.array_equal(deeper.grid[level.pinned], level.grid[level.pinned])


def test_only_push_games_have_starts_to_search() -> None:
    maze = Level.random(load_rules("maze"), np.random.default_rng(0))
    assert get_mechanic("walk").farthest_starts(maze, 4, 1000, {}) == []
    with pytest.raises(GenerateError, match="walk mechanic of rules 'maze' has no reverse search"):
        generate("maze", 1, model="search", deepen=1000)


def test_generate_deepens_off_target_drafts_and_the_run_records_it(tmp_path: Path) -> None:
    options = {"difficulty": 1.0, "seed": 4, "candidates": 1}
    plain = generate("sokoban", 4, **options)
    deeper = generate("sokoban", 4, deepen=20_000, **options)
    gains = [d.meta["report"]["score"] - p.meta["report"]["score"] for d, p in zip(deeper, plain, strict=True)]
    assert min(gains) >= 0 and sum(gains) > 0
    assert all(playtest(level, 1.0).playable for level in deeper)
    list(write_run(tmp_path / "run", "json", "sokoban", 2, deepen=20_000, **options))
    assert json.loads((tmp_path / "run" / "run.json").read_text())["deepen"] == 20_000


def test_deepening_tries_more_starts_the_harder_the_level_is_asked_to_be(monkeypatch: pytest.MonkeyPatch) -> None:
    assert [deepen_starts(64, d) for d in (0.0, 0.5, 0.75, 1.0)] == [0, 8, 27, 64]
    tried: list[tuple[float, int]] = []

    def counted(level: Level, report: Report, max_states: int, starts: int = 64) -> tuple[Level, Report]:
        tried.append((report.difficulty, starts))
        return deepen(level, report, max_states, starts)

    monkeypatch.setattr(generate_module, "deepen", counted)
    for difficulty in (0.5, 1.0):
        generate("sokoban", 2, difficulty=difficulty, seed=4, candidates=1, deepen=20_000)
    firsts = {(d, starts) for d, starts in tried if starts in (8, 64)}
    assert firsts == {(0.5, 8), (1.0, 64)}
    assert {starts for _, starts in tried} <= {8, 64, WALLED_DEEPEN_STARTS, deepen_starts(WALLED_DEEPEN_STARTS, 0.5)}


def test_deepen_with_no_starts_keeps_the_level_without_a_search(monkeypatch: pytest.MonkeyPatch) -> None:
    level = room_level()
    hard = playtest(level, 1.0)

    def no_search(*args: object) -> list[Level]:
        raise AssertionError("searched with no starts to try")

    monkeypatch.setattr(get_mechanic("push"), "farthest_starts", no_search)
    assert deepen(level, hard, 100_000, starts=0) == (level, hard)


def test_generate_deepens_as_much_as_the_model_recommends(tmp_path: Path, untrained_model: Callable[..., Path]) -> None:
    plain = untrained_model(tmp_path / "plain.pt", "sokoban", "wide")
    model, meta = load_model(plain)
    deep = save_model(tmp_path / "deep.pt", model, meta | {"deepen": 20_000})
    assert (draft_deepen(plain), draft_deepen(deep), draft_deepen(SEARCH)) == (0, 20_000, 0)
    options = {"difficulty": 1.0, "seed": 4, "candidates": 1}

    def digests(path: Path, deepen: int | None = None) -> list[str]:
        return [level.digest() for level in generate("sokoban", 3, model=path, deepen=deepen, **options)]

    assert digests(deep) == digests(plain, 20_000) != digests(plain)
    assert digests(deep, 0) == digests(plain)
    list(write_run(tmp_path / "run", "json", "sokoban", 2, model=deep, **options))
    assert json.loads((tmp_path / "run" / "run.json").read_text())["deepen"] == 20_000
    for bad in (-1, "20000"):
        broken = save_model(tmp_path / "bad.pt", model, meta | {"deepen": bad})
        with pytest.raises(GenerateError, match=r"bad\.pt: meta 'deepen' must be a whole number of at least 0"):
            generate("sokoban", 1, model=broken)

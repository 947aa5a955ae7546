"""Tests of the Sokoban solver: solutions replay, verdicts agree with brute force, budgets hold."""

from __future__ import annotations

import heapq
import random
import shutil
import sysconfig
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from relaygen.solver import board as board_module
from relaygen.solver import search
from relaygen.solver.board import ROOMS_KEPT, Board
from relaygen.solver.deadlock import frozen_deadlock
from relaygen.solver.sokoban import Puzzle, is_solved, replay, solve

DATA = Path(__file__).parent / "data"
STEPS = {"l": (0, -1), "r": (0, 1), "u": (-1, 0), "d": (1, 0)}


def read_collection(path: Path) -> list[list[str]]:
    """Boards of an XSB/Boxoban file: runs of rows, split at blank, ``;`` and title lines."""
    levels: list[list[str]] = []
    rows: list[str] = []
    for line in [*path.read_text().splitlines(), ""]:
        if line.strip() and "#" in line and set(line.rstrip()) <= set("#@+$*.-_ "):
            rows.append(line.rstrip())
        elif rows:
            levels.append(rows)
            rows = []
    return levels


MICROBAN = read_collection(DATA / "microban.xsb")
BOXOBAN = read_collection(DATA / "boxoban-medium-valid-000-first50.txt")
BOXOBAN_HARD = read_collection(DATA / "boxoban-hard-000-first200.txt")


@pytest.fixture(params=["c", "python"])
def search_in(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with the fast search in C, then in Python (the C one skipped where it is not built)."""
    if request.param == "python":
        monkeypatch.setattr(search, "_search", None)
    elif search._search is None:
        pytest.skip("the C search is not built")
    return request.param


@pytest.fixture
def python_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast search in Python (the one whose memos stay in the board's room)."""
    monkeypatch.setattr(search, "_search", None)


def assert_solves(p: Puzzle, solution: str | None) -> None:
    """The solution is legal and ends with every box on a goal."""
    assert solution is not None
    boxes, _ = replay(p, solution)
    assert is_solved(p, boxes)


def brute_force(p: Puzzle) -> tuple[int, int] | None:
    """(moves, pushes) of a move-optimal, then push-optimal, solution by Dijkstra; None if none."""
    w, h = p.width, p.height

    def cell(r: int, c: int) -> int | None:
        return r * w + c if 0 <= r < h and 0 <= c < w and r * w + c not in p.walls else None

    start = (p.player, p.boxes)
    best = {start: (0, 0)}
    heap = [(0, 0, p.player, tuple(sorted(p.boxes)))]
    while heap:
        moves, pushes, player, boxes_t = heapq.heappop(heap)
        boxes = frozenset(boxes_t)
        if best.get((player, boxes)) != (moves, pushes):
            continue
        if boxes == p.goals:
            return moves, pushes
        r, c = divmod(player, w)
        for dr, dc in STEPS.values():
            nxt = cell(r + dr, c + dc)
            if nxt is None:
                continue
            cost = (moves + 1, pushes)
            new_boxes = boxes
            if nxt in boxes:
                beyond = cell(r + 2 * dr, c + 2 * dc)
                if beyond is None or beyond in boxes:
                    continue
                new_boxes = (boxes - {nxt}) | {beyond}
                cost = (moves + 1, pushes + 1)
            if best.get((nxt, new_boxes), (1 << 30, 0)) > cost:
                best[(nxt, new_boxes)] = cost
                heapq.heappush(heap, (*cost, nxt, tuple(sorted(new_boxes))))
    return None


# --- parsing ---------------------------------------------------------------------------------


def test_from_rows_reads_cells_and_walls_off_the_outside() -> None:
    p = Puzzle.from_rows(["  ####", "###  #", "#.$@ #", "#*  #", "#####"])
    assert (p.width, p.height) == (6, 5)
    assert p.player == 2 * 6 + 3
    assert p.boxes == frozenset({2 * 6 + 2, 3 * 6 + 1})
    assert p.goals == frozenset({2 * 6 + 1, 3 * 6 + 1})
    assert {0, 1} <= p.walls  # outside the level, left of the top wall
    assert 3 * 6 + 5 in p.walls  # the padding of the short row
    assert 2 * 6 + 4 not in p.walls


def test_from_rows_accepts_dash_and_underscore_floor() -> None:
    p = Puzzle.from_rows(["#####", "#@$.#", "#-_-#", "#####"])
    assert p.walls.isdisjoint({11, 12, 13})


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["#####", "#$. #", "#####"], "exactly one player"),
        (["#####", "#@$.@#", "#####"], "exactly one player"),
        (["#####", "#@$$.#", "#####"], "2 boxes but 1 goals"),
        (["#####", "#@$x.#", "#####"], "unknown character"),
        (["", "  "], "no rows"),
    ],
)
def test_from_rows_rejects_bad_levels(rows: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Puzzle.from_rows(rows)


# --- replay ----------------------------------------------------------------------------------

LINE = ["#######", "#@ $ .#", "#######"]


def test_replay_moves_and_pushes() -> None:
    p = Puzzle.from_rows(LINE)
    boxes, player = replay(p, "rRR")
    assert boxes == p.goals and player == 7 + 4
    assert is_solved(p, boxes)


@pytest.mark.parametrize(
    "solution",
    [
        "l",  # into a wall
        "rr",  # walks into the box without pushing
        "R",  # a push with no box ahead
        "rRRR",  # pushes the box into the wall
        "x",  # not a LURD letter
    ],
)
def test_replay_rejects_illegal_moves(solution: str) -> None:
    with pytest.raises(ValueError):
        replay(Puzzle.from_rows(LINE), solution)


def test_replay_rejects_pushing_a_box_into_a_box_and_leaving_the_grid() -> None:
    p = Puzzle.from_rows(["########", "#@$$ ..#", "########"])
    with pytest.raises(ValueError, match="wall or box"):
        replay(p, "R")
    open_grid = Puzzle(3, 1, frozenset(), frozenset({2}), frozenset({1}), 0)
    assert is_solved(open_grid, replay(open_grid, "R")[0])
    with pytest.raises(ValueError):
        replay(open_grid, "l")


# --- solving real levels ---------------------------------------------------------------------

MICROBAN_SAMPLE = [1, 2, 3, 4, 5, 7, 9, 12, 15, 21, 25, 30, 40, 60, 80]


@pytest.mark.parametrize("number", MICROBAN_SAMPLE)
def test_microban_solutions_replay(number: int, search_in: str) -> None:
    p = Puzzle.from_rows(MICROBAN[number - 1])
    result = solve(p, max_nodes=20_000)
    assert result.status == "solved"
    assert_solves(p, result.solution)
    assert result.moves == len(result.solution or "")
    assert result.pushes == sum(ch.isupper() for ch in result.solution or "")


def test_collections_read_completely() -> None:
    assert len(MICROBAN) == 155
    assert len(BOXOBAN) == 50


@pytest.mark.parametrize("index", range(0, 50, 5))
def test_boxoban_solutions_replay(index: int, search_in: str) -> None:
    p = Puzzle.from_rows(BOXOBAN[index])
    result = solve(p, max_nodes=50_000)
    assert result.status == "solved"
    assert_solves(p, result.solution)


# --- verdicts and budgets --------------------------------------------------------------------


@pytest.mark.parametrize(
    "rows",
    [
        ["######", "#$ @.#", "######"],  # box in a dead end, off its goal
        ["#######", "#@ $  #", "###.###", "  ###"],  # goal pocket no box can enter
        ["#######", "#@ $  #", "#######", "#  .  #", "#######"],  # goal walled off
        ["#######", "#.@$$.#", "#######"],  # boxes jammed in a corridor
        ["#######", "#@    #", "# $$  #", "# $$  #", "#.... #", "#######"],  # 2x2 block
        ["######", "# ## #", "#@$  #", "#    #", "#.$ .#", "######"],  # only a search can tell
    ],
)
def test_unsolvable_levels(rows: list[str], search_in: str) -> None:
    p = Puzzle.from_rows(rows)
    assert brute_force(p) is None
    result = solve(p, max_nodes=10_000)
    assert result.status == "unsolvable"
    assert result.solution is None and result.moves == 0


def test_unsolvable_found_by_exhausting_the_search(search_in: str) -> None:
    p = Puzzle.from_rows(["######", "# ## #", "#@$  #", "#    #", "#.$ .#", "######"])
    assert solve(p).nodes > 1
    assert solve(p, max_nodes=1).status == "unknown"
    assert solve(p, optimal=True).status == "unsolvable"


def test_already_solved_level_needs_no_moves() -> None:
    result = solve(Puzzle.from_rows(["#####", "#@* #", "#####"]))
    assert (result.status, result.solution, result.moves) == ("solved", "", 0)


def test_small_budgets_give_unknown(search_in: str) -> None:
    p = Puzzle.from_rows(MICROBAN[35])  # needs thousands of expansions
    result = solve(p, max_nodes=50)
    assert result.status == "unknown"
    assert result.nodes == 50
    assert result.solution is None
    assert solve(p, time_limit=0.0).status == "unknown"
    assert solve(p, max_nodes=50, optimal=True).status == "unknown"


def _fresh(p: Puzzle, optimal: bool = False) -> tuple[str, str | None, int]:
    """(status, solution, nodes) of ``p`` solved with no room kept from before."""
    board_module._rooms.clear()
    result = solve(p, optimal=optimal)
    return result.status, result.solution, result.nodes


def test_rooms_kept_between_solves_change_no_result(python_search: None) -> None:
    """Boards of one floor and goals share a room (push distances, bounds, corrals); a room with the
    same floor but other goals is another room, and solving after any other room answers exactly as
    solving alone."""
    puzzles = []
    for rows in MICROBAN[:12]:
        p = Puzzle.from_rows(rows)
        puzzles.append(p)
        if p.player not in p.goals | p.boxes:  # the same walls with boxes and goals swapped
            puzzles.append(replace(p, boxes=p.goals, goals=p.boxes))
    alone = [[_fresh(p, optimal) for p in puzzles] for optimal in (False, True)]
    board_module._rooms.clear()
    for optimal in (False, True):
        for order in (puzzles, puzzles[::-1], puzzles[::2] + puzzles[1::2]):
            for p in order:
                result = solve(p, optimal=optimal)
                assert (result.status, result.solution, result.nodes) == alone[optimal][puzzles.index(p)]


def test_boards_of_one_room_share_it_and_few_rooms_are_kept(python_search: None) -> None:
    p = Puzzle.from_rows(MICROBAN[3])
    first = Board(p.width, p.height, p.walls, p.goals, p.boxes, p.player)
    start = Board(p.width, p.height, p.walls, p.goals, p.goals, p.player)
    assert start.room is first.room
    solve(p)
    assert first.room.bounds and first.room.corrals  # the search's memos went into the room
    assert Board(p.width, p.height, p.walls, p.boxes, p.goals, p.player).room is not first.room
    for rows in MICROBAN[4 : 4 + ROOMS_KEPT]:
        other = Puzzle.from_rows(rows)
        Board(other.width, other.height, other.walls, other.goals, other.boxes, other.player)
    assert len(board_module._rooms) == ROOMS_KEPT
    assert Board(p.width, p.height, p.walls, p.goals, p.boxes, p.player).room is not first.room


def test_a_room_forgets_memos_past_its_limit(monkeypatch: pytest.MonkeyPatch, python_search: None) -> None:
    p = Puzzle.from_rows(MICROBAN[35])  # needs thousands of expansions
    alone = _fresh(p)
    monkeypatch.setattr(board_module, "MEMO_KEPT", 100)
    board_module._rooms.clear()
    result = solve(p)
    assert (result.status, result.solution, result.nodes) == alone
    room = Board(p.width, p.height, p.walls, p.goals, p.boxes, p.player).room
    assert not room.bounds and not room.corrals
    small = Puzzle.from_rows(MICROBAN[0])
    solve(small)  # a small search stays under the limit and is kept
    assert Board(small.width, small.height, small.walls, small.goals, small.boxes, small.player).room.bounds


def test_frozen_boxes_against_a_wall_are_a_deadlock_only_off_goals() -> None:
    off = Puzzle.from_rows(["#######", "#@   .#", "#     #", "# $$ .#", "#######"])
    on = Puzzle.from_rows(["#######", "#@    #", "#     #", "# **  #", "#######"])
    for p, deadlocked in ((off, True), (on, False)):
        board = Board(p.width, p.height, p.walls, p.goals, p.boxes, p.player)
        left, right = sorted(board.inner(c) for c in p.boxes)
        pair = 1 << left | 1 << right
        assert frozen_deadlock(board, pair, left) is deadlocked
        assert frozen_deadlock(board, pair, right) is deadlocked
        assert not frozen_deadlock(board, 1 << left, left)  # alone it slides along the wall


# --- optimal solutions -----------------------------------------------------------------------

TINY = [
    ["#######", "#@ $ .#", "#######"],
    ["######", "#    #", "# $$ #", "#@.. #", "######"],
    ["#####", "#.  #", "# $ #", "#  @#", "#####"],
    ["######", "#.#  #", "# $  #", "#  $.#", "#@   #", "######"],
    ["#######", "#.    #", "#.$$ @#", "#     #", "#######"],
]


@pytest.mark.parametrize("rows", TINY)
def test_optimal_matches_brute_force(rows: list[str]) -> None:
    p = Puzzle.from_rows(rows)
    expected = brute_force(p)
    assert expected is not None
    result = solve(p, optimal=True, max_nodes=200_000)
    assert result.status == "solved"
    assert_solves(p, result.solution)
    assert (result.moves, result.pushes) == expected
    fast = solve(p)
    assert_solves(p, fast.solution)
    assert fast.moves >= expected[0]


# --- random levels ---------------------------------------------------------------------------


# Scrambled levels on which an inadmissible bound (3x the pushes each box needs) returns a solution
# one or two moves too long: each pins the optimal search's admissibility.
INADMISSIBLE_BOUND_CATCHES = [(14, 5, 2, 60), (24, 5, 2, 60), (25, 5, 2, 60), (36, 5, 2, 60)]


@pytest.mark.parametrize(("seed", "size", "boxes", "steps"), INADMISSIBLE_BOUND_CATCHES)
def test_optimal_matches_brute_force_on_scrambled_levels(seed: int, size: int, boxes: int, steps: int) -> None:
    p = scrambled(seed, size, boxes, steps)
    result = solve(p, optimal=True, max_nodes=200_000)
    assert result.status == "solved"
    assert_solves(p, result.solution)
    assert (result.moves, result.pushes) == brute_force(p)


def scrambled(seed: int, size: int, boxes: int, steps: int) -> Puzzle:
    """A level made by pulling boxes away from a solved position: solvable by construction."""
    rng = random.Random(seed)
    w = h = size + 2
    walls = {r * w + c for r in range(h) for c in range(w) if r in (0, h - 1) or c in (0, w - 1)}
    inner = [r * w + c for r in range(1, h - 1) for c in range(1, w - 1)]
    walls |= set(rng.sample(inner, rng.randrange(0, size)))
    free = [c for c in inner if c not in walls]
    rng.shuffle(free)
    goals = set(free[:boxes])
    box_set = set(goals)
    player = free[boxes]
    for _ in range(steps):
        ways = [d for d in (1, -1, w, -w) if player + d not in walls and player + d not in box_set]
        if not ways:
            break
        pulls = [d for d in ways if player - d in box_set]
        d = rng.choice(pulls if pulls and rng.random() < 0.9 else ways)
        if d in pulls:
            box_set.remove(player - d)
            box_set.add(player)
        player += d
    return Puzzle(w, h, frozenset(walls), frozenset(goals), frozenset(box_set), player)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(4, 7),
    boxes=st.integers(1, 7),
    steps=st.integers(0, 300),
)
def test_scrambled_levels_are_solved(seed: int, size: int, boxes: int, steps: int, search_in: str) -> None:
    p = scrambled(seed, size, boxes, steps)
    result = solve(p, max_nodes=50_000)
    assert result.status == "solved"
    assert_solves(p, result.solution)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), boxes=st.integers(1, 3))
def test_verdicts_agree_with_brute_force_on_random_levels(seed: int, boxes: int, search_in: str) -> None:
    rng = random.Random(seed)
    size = 5
    w = size + 2
    inner = [r * w + c for r in range(1, size + 1) for c in range(1, size + 1)]
    walls = {c for c in range(w * w) if c not in inner} | set(rng.sample(inner, rng.randrange(0, 6)))
    free = [c for c in inner if c not in walls]
    picks = rng.sample(free, 2 * boxes + 1)
    p = Puzzle(w, w, frozenset(walls), frozenset(picks[:boxes]), frozenset(picks[boxes:-1]), picks[-1])
    expected = brute_force(p)
    result = solve(p, max_nodes=100_000)
    assert result.status == ("unsolvable" if expected is None else "solved")
    if expected is not None:
        assert_solves(p, result.solution)
        best = solve(p, optimal=True, max_nodes=100_000)
        assert (best.moves, best.pushes) == expected


def test_crowded_scrambled_levels_are_solved(search_in: str) -> None:
    # Many boxes in little room: corrals and frozen groups everywhere, so unsound pruning shows.
    for seed in range(300):
        p = scrambled(seed, 4 + seed % 3, 4 + seed % 4, 300)
        result = solve(p, max_nodes=50_000)
        assert result.status == "solved", seed
        assert_solves(p, result.solution)


# --- the search in C -------------------------------------------------------------------------

C_ONLY = pytest.mark.skipif(search._search is None, reason="the C search is not built")
PORTFOLIO_LEVELS = [35, 111, 132, 139]
"""Microban levels (0-based) the first search does not solve alone: the portfolio's other searches take turns."""


def _fast(p: Puzzle, native: bool, max_nodes: int | None = None) -> tuple[str, list | None, int]:
    board = Board(p.width, p.height, p.walls, p.goals, p.boxes, p.player)
    budget = search.Budget(max_nodes, None)
    status, plan = search.fast(board, budget, native=native)
    return status, plan, budget.nodes


@C_ONLY
def test_the_c_search_expands_what_the_python_search_expands(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same plan and node count, budget or not: portfolio levels, one past the third search's last
    turn, Boxoban hard rooms, and budgets that stop each of them."""
    asked = Counter[str]()
    built = search._search

    class Counted:
        def fast(self, *args: object) -> object:
            asked["c"] += 1
            return built.fast(*args)

    monkeypatch.setattr(search, "_search", Counted())
    cases = [(MICROBAN[i], budget) for i in PORTFOLIO_LEVELS for budget in (None, 4_000)]
    cases += [(MICROBAN[98], None)]  # solved after the weight-1 search's 20 turns (some 64,500 expansions)
    cases += [(rows, budget) for rows in BOXOBAN_HARD[:40] for budget in (None, 30)]
    for rows, budget in cases:
        p = Puzzle.from_rows(rows)
        in_c = _fast(p, True, budget)
        assert in_c == _fast(p, False, budget)
        assert in_c[0] in ("solved", "unknown")
    assert asked["c"] == len(cases)
    assert _fast(Puzzle.from_rows(MICROBAN[98]), True)[2] > 3_000 + 3 * 20 * search._SLICE


@C_ONLY
def test_the_c_search_proves_unsolvable_levels_as_the_python_search_does() -> None:
    p = Puzzle.from_rows(["######", "# ## #", "#@$  #", "#    #", "#.$ .#", "######"])
    assert _fast(p, True) == _fast(p, False) and _fast(p, True)[0] == "unsolvable"


@C_ONLY
def test_the_c_search_stops_at_its_time_limit() -> None:
    p = Puzzle.from_rows(MICROBAN[98])  # tens of thousands of expansions
    start = time.perf_counter()
    result = solve(p, time_limit=0.02)
    assert result.status == "unknown" and time.perf_counter() - start < 1.0
    assert 0 < result.nodes < solve(p, max_nodes=200_000).nodes


@C_ONLY
def test_the_c_search_answers_unknown_past_its_state_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    p = Puzzle.from_rows(MICROBAN[35])
    monkeypatch.setattr(search, "NATIVE_STATES", 100)
    result = solve(p)
    assert result.status == "unknown" and 0 < result.nodes < 100


def test_boards_too_large_or_too_many_boxes_for_the_c_search_are_searched_in_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Unbuilt:
        def fast(self, *args: object) -> object:
            raise AssertionError("the C search was asked")

    monkeypatch.setattr(search, "_search", Unbuilt())
    corridor = Puzzle.from_rows(["#" * 401, "#.$@" + " " * 396 + "#", "#" * 401])
    assert (corridor.width + 2) * (corridor.height + 2) > 64 * search.NATIVE_WORDS
    crowded = Puzzle.from_rows(
        ["#" * 12] + ["#" + ". $ " * 2 + "  #"] * 2 * search.NATIVE_BOXES + ["#@" + " " * 9 + "#", "#" * 12]
    )
    assert len(crowded.boxes) > search.NATIVE_BOXES
    assert solve(corridor).solution == "L"
    assert solve(crowded, max_nodes=20).nodes == 20


@pytest.mark.skipif(not shutil.which((sysconfig.get_config_var("CC") or "cc").split()[0]), reason="no C compiler")
def test_the_c_search_is_built_where_there_is_a_c_compiler() -> None:
    assert search._search is not None, "pip install -e . did not build relaygen/solver/_search.c"


@C_ONLY
def test_the_c_letters_of_a_plan_are_the_python_letters(monkeypatch: pytest.MonkeyPatch) -> None:
    levels = [MICROBAN[i] for i in (*range(0, 155, 10), *PORTFOLIO_LEVELS)] + BOXOBAN_HARD[:30]
    in_c = [solve(Puzzle.from_rows(rows), max_nodes=20_000) for rows in levels]
    monkeypatch.setattr(search, "_search", None)
    for rows, found in zip(levels, in_c, strict=True):
        expected = solve(Puzzle.from_rows(rows), max_nodes=20_000)
        assert (found.status, found.solution, found.moves, found.pushes) == (
            expected.status,
            expected.solution,
            expected.moves,
            expected.pushes,
        )
    assert sum(found.status == "solved" for found in in_c) > 40

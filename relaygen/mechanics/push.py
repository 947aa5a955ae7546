"""Push: Sokoban. Walk, push one box at a time, put every box on a goal."""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

import numpy as np

from relaygen.level import Level
from relaygen.mechanics.base import (
    Analysis,
    BatchAnalysis,
    Budget,
    Cell,
    GridMechanic,
    HudSegment,
    PlayState,
    beside,
    cells_with,
    distances,
    regions,
    replay,
    room_walls,
    with_,
    without,
)
from relaygen.rules import Rules
from relaygen.score import VERDICTS
from relaygen.solver.deadlock import start_deadlocked
from relaygen.solver.reverse import farthest_layouts
from relaygen.solver.search import unsearched
from relaygen.solver.sokoban import Puzzle, solve, stuck_boxes

_FLAGGED = ("solid", "pushable", "goal", "player")
"""The tile properties the C playtest reads, as bits 1, 2, 4 and 8 of a tile's flags."""
_WRONG_COUNTS, _NEEDS_SEARCH, _NOT_TAKEN, _NOTHING_TO_SOLVE, _UNSOLVABLE = range(5)
"""What the playtest finds before its search (the codes of :func:`~relaygen.solver.search.unsearched`)."""
_WHY_NOT = {
    _WRONG_COUNTS: "needs one player and as many boxes as goals (at least one)",
    _NOTHING_TO_SOLVE: "every box starts on a goal: there is nothing to solve",
    _UNSOLVABLE: "solver: unsolvable after 0 nodes",
}
_MEASURED = ("regions", "boxes", "wall_share", "isolated_walls", "stuck_boxes")
"""The metrics known before the search, in the order of the C playtest's values."""


class Push(GridMechanic):
    """Sokoban; the playtester is a search with deadlock detection. Metrics: solution moves and pushes,
    ``solver_nodes``, the states its fast search expanded to find a solution (the solver's effort), and
    three known without a search: ``wall_share``, the share of the cells inside the outer ring that are
    walls, ``isolated_walls``, the walls there with no wall beside them (the room's shape), and
    ``stuck_boxes``, the boxes no push can bring to a goal (:func:`~relaygen.solver.sokoban.stuck_boxes`;
    counted once the level holds one player and as many boxes as goals)."""

    name = "push"
    required_properties = ("player", "pushable", "goal")
    metrics = (
        "regions",
        "boxes",
        "solution_length",
        "pushes",
        "solver_nodes",
        "wall_share",
        "isolated_walls",
        "stuck_boxes",
    )
    solution_metrics = ("solution_length", "pushes", "solver_nodes")
    level_formats = ("json", "txt", "xsb")
    reverse_search = True

    @staticmethod
    def analyse_unsearched(rules: Rules, grids: np.ndarray) -> BatchAnalysis | None:
        """:meth:`analyse` of each grid with no search, in C (:func:`~relaygen.solver.search.unsearched`);
        None where that is missing or does not take every grid (the caller then analyses each level)."""
        found = unsearched(grids, _flags(rules))
        if found is None or (found[0] == _NOT_TAKEN).any():
            return None
        codes, values = found
        metrics = np.zeros((len(grids), len(Push.metrics)))
        metrics[:, [Push.metrics.index(name) for name in _MEASURED]] = values
        verdicts = np.where(codes == _NEEDS_SEARCH, VERDICTS.index("unknown"), VERDICTS.index("no")).astype(np.int8)
        return verdicts, metrics, np.zeros(len(grids), np.int64)

    def hud(self, level: Level, state: PlayState) -> list[HudSegment]:
        return [(f"pushes {state.pushes}", "text")]

    def start(self, level: Level) -> PlayState:
        state = super().start(level)
        boxes = frozenset(cells_with(level, "pushable"))
        grid = state.grid.copy()
        for cell in boxes:
            grid[cell] = without(level.rules, int(grid[cell]), "pushable")
        return replace(state, grid=grid, boxes=boxes)

    def _enter(self, level: Level, state: PlayState, cell: Cell, delta: Cell) -> PlayState | None:
        solid = level.rules.with_property("solid")
        if solid[state.grid[cell]]:
            return None
        if cell not in state.boxes:
            return replace(state, player=cell, moves=state.moves + 1)
        beyond = (cell[0] + delta[0], cell[1] + delta[1])
        h, w = state.grid.shape
        if not (0 <= beyond[0] < h and 0 <= beyond[1] < w) or solid[state.grid[beyond]] or beyond in state.boxes:
            return None
        boxes = (state.boxes - {cell}) | {beyond}
        goal = level.rules.with_property("goal")
        won = all(goal[state.grid[b]] for b in boxes)
        return replace(state, player=cell, boxes=boxes, moves=state.moves + 1, pushes=state.pushes + 1, won=won)

    def analyse(self, level: Level, targets: dict[str, tuple[float, float]], budget: Budget) -> Analysis:
        found, metrics = _before_search(level)
        if found != _NEEDS_SEARCH:
            return Analysis("no", None, metrics, _WHY_NOT[found])
        puzzle = level_puzzle(level)
        board = puzzle.board()
        result = solve(puzzle, max_nodes=budget.max_nodes, time_limit=budget.time_limit, board=board)
        if result.status != "solved":
            verdict = "no" if result.status == "unsolvable" else "unknown"
            return Analysis(verdict, None, metrics, f"solver: {result.status} after {result.nodes} nodes")
        metrics["solver_nodes"] = float(result.nodes)
        optimal, reason = False, ""
        if budget.optimal:
            left = _left(budget, result.nodes, result.seconds)
            best = solve(puzzle, max_nodes=left.max_nodes, time_limit=left.time_limit, optimal=True, board=board)
            optimal = best.status == "solved"
            result = best if optimal else result
            reason = "" if optimal else f"optimal search out of budget after {best.nodes} nodes: first solution kept"
        metrics["solution_length"] = float(result.moves)
        metrics["pushes"] = float(result.pushes)
        return Analysis("yes", result.solution, metrics, reason, optimal)

    def farthest_starts(
        self, level: Level, count: int, max_states: int, targets: dict[str, tuple[float, float]]
    ) -> list[Level]:
        rules = level.rules
        boxes, goals, players = cells_with(level, "pushable"), cells_with(level, "goal"), cells_with(level, "player")
        if len(players) != 1 or not goals or len(boxes) != len(goals):
            return []
        puzzle = level_puzzle(level)
        bare = level.grid.copy()
        for cell in (*boxes, players[0]):
            bare[cell] = without(rules, without(rules, int(bare[cell]), "pushable"), "player")
        starts = []
        most = targets.get("pushes", (0.0, math.inf))[1]
        for layout in farthest_layouts(puzzle, count, max_states, None if math.isinf(most) else int(most)):
            grid = bare.copy()
            for index in layout.puzzle.boxes:
                cell = divmod(index, level.width)
                grid[cell] = with_(rules, int(grid[cell]), "pushable")
            cell = divmod(layout.puzzle.player, level.width)
            grid[cell] = with_(rules, int(grid[cell]), "player")
            starts.append(replace(level, grid=grid, meta=dict(level.meta)))
        return starts

    def walled_in(self, level: Level, solution: str, targets: dict[str, tuple[float, float]]) -> Level | None:
        """For rules with a ``wall_share`` target, walls on plain floor cells that neither the player
        nor a box enters while ``solution`` is played: all those the player cannot reach, then, up to
        the target's low end, those with the most walls beside them (so no wall stands alone) whose
        walling splits no floor region. Pinned cells stay."""
        if "wall_share" not in targets:
            return None
        rules = level.rules
        solid = rules.with_property("solid")[level.grid]
        wall = _wall_tile(level, solid)
        if wall is None:
            return None
        free = np.zeros_like(solid)
        free[1:-1, 1:-1] = True
        free &= ~solid & np.array([not props for props in rules.tile_properties])[level.grid]
        states = replay(self, level, solution.lower())
        for state in states:
            for cell in (state.player, *state.boxes):
                free[cell] = False
        if level.pinned is not None:
            free &= ~level.pinned
        grid = level.grid.copy()
        pockets = free & (distances(~solid, states[0].player) < 0)
        solid |= pockets
        grid[pockets], free[pockets] = wall, False
        height, width = solid.shape
        lowest = math.ceil(targets["wall_share"][0] * (height - 2) * (width - 2) - 1e-9)
        for _ in range(lowest - room_walls(solid)[0]):
            placed = _next_wall(solid, free)
            if placed is None:
                break
            solid[placed], grid[placed], free[placed] = True, wall, False
        return None if (grid == level.grid).all() else replace(level, grid=grid, meta=dict(level.meta))


def _wall_tile(level: Level, solid: np.ndarray) -> int | None:
    """The tile that walls a level in: its border tile when solid, else its most common solid tile;
    None when the rules have no solid tile."""
    rules = level.rules
    solid_tiles = np.flatnonzero(rules.with_property("solid"))
    if rules.border is not None and rules.tile_index[rules.border] in solid_tiles:
        return rules.tile_index[rules.border]
    if not solid_tiles.size:
        return None
    return int(solid_tiles[np.bincount(level.grid[solid], minlength=len(rules.tiles))[solid_tiles].argmax()])


def _next_wall(solid: np.ndarray, free: np.ndarray) -> tuple[int, int] | None:
    """The ``free`` cell with the most walls beside it (the first by row among equals) whose walling
    splits no region of open cells; None when there is none."""
    walls_beside = beside(solid)
    open_regions = regions(~solid)
    for count in (3, 2, 1):
        for row, col in np.argwhere(free & (walls_beside == count)):
            solid[row, col] = True
            splits = regions(~solid) > open_regions
            solid[row, col] = False
            if not splits:
                return int(row), int(col)
    return None


@lru_cache(maxsize=64)
def _flags(rules: Rules) -> np.ndarray:
    """Each tile's flags for the C playtest: bit k set where it has property ``_FLAGGED[k]`` (kept per
    rules: every playtest asks)."""
    flags = np.asarray(
        sum(rules.with_property(name).astype(np.uint8) << bit for bit, name in enumerate(_FLAGGED)), np.uint8
    )
    flags.flags.writeable = False
    return flags


def _before_search(level: Level) -> tuple[int, dict[str, float]]:
    """What :meth:`Push.analyse` finds before it searches (one of the codes above, never ``_NOT_TAKEN``) and
    every metric known by then, the solution's at 0: in C where it was built and takes the level."""
    found = unsearched(level.grid[None], _flags(level.rules))
    metrics = dict.fromkeys(Push.metrics, 0.0)
    if found is not None and found[0][0] != _NOT_TAKEN:
        metrics.update(zip(_MEASURED, found[1][0].tolist(), strict=True))
        return int(found[0][0]), metrics
    solid = level.rules.with_property("solid")[level.grid]
    boxes, goals, players = cells_with(level, "pushable"), cells_with(level, "goal"), cells_with(level, "player")
    walls, isolated = room_walls(solid)
    metrics["regions"], metrics["boxes"] = float(regions(~solid)), float(len(boxes))
    metrics["wall_share"] = walls / max(1, (solid.shape[0] - 2) * (solid.shape[1] - 2))
    metrics["isolated_walls"] = float(isolated)
    if len(players) != 1 or not boxes or len(boxes) != len(goals):
        return _WRONG_COUNTS, metrics
    if set(boxes) <= set(goals):
        return _NOTHING_TO_SOLVE, metrics
    puzzle = to_puzzle(level.grid.shape, solid, boxes, goals, players[0])
    board = puzzle.board()
    metrics["stuck_boxes"] = float(stuck_boxes(puzzle, board))
    return (_NEEDS_SEARCH if board.feasible and not start_deadlocked(board) else _UNSOLVABLE), metrics


def _left(budget: Budget, nodes: int, seconds: float) -> Budget:
    """What is left of ``budget`` after a search that spent ``nodes`` and ``seconds``."""
    return Budget(
        max_nodes=None if budget.max_nodes is None else max(1, budget.max_nodes - nodes),
        time_limit=None if budget.time_limit is None else max(0.0, budget.time_limit - seconds),
    )


def level_puzzle(level: Level) -> Puzzle:
    """The solver's view of ``level``, which holds one player."""
    solid = level.rules.with_property("solid")[level.grid]
    boxes, goals = cells_with(level, "pushable"), cells_with(level, "goal")
    return to_puzzle(level.grid.shape, solid, boxes, goals, cells_with(level, "player")[0])


def to_puzzle(shape: tuple[int, ...], solid: np.ndarray, boxes: list[Cell], goals: list[Cell], player: Cell) -> Puzzle:
    """The solver's view of a level."""
    w = shape[1]
    index = lambda c: c[0] * w + c[1]  # noqa: E731
    return Puzzle(
        width=w,
        height=shape[0],
        walls=frozenset(np.flatnonzero(solid).tolist()),
        goals=frozenset(map(index, goals)),
        boxes=frozenset(map(index, boxes)),
        player=index(player),
    )

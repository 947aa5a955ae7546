"""Reverse search: the box layouts a Sokoban room is solvable from, found by pulling boxes off the goals.

A pull is a push played backwards, so a breadth-first search of pulls from the solved position
reaches every layout the player can solve, layer by layer: the layer of a layout is the least
number of pushes that solves it. The deepest layers hold the layouts farthest from solved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .board import Board, bits
from .sokoban import Puzzle


@dataclass(frozen=True)
class Layout:
    """A solvable start of the same room: ``puzzle`` needs at least ``pushes`` pushes."""

    puzzle: Puzzle
    pushes: int


def farthest_layouts(p: Puzzle, count: int, max_states: int, max_pushes: int | None = None) -> list[Layout]:
    """Up to ``count`` layouts of ``p``'s room, walls and goals farthest from solved (but needing at
    most ``max_pushes`` pushes), deepest first.

    The search stops once it has seen ``max_states`` layouts (box cells and player region); its
    deepest layers so far are then returned. The player keeps its cell where that cell lies in a
    layout's player region, else it stands on the region's first cell.
    """
    board = Board(p.width, p.height, p.walls, p.goals, p.goals, p.player)
    solved = sum(1 << board.inner(g) for g in p.goals)
    layers = [_player_regions(board, solved)]
    seen: dict[int, list[int]] = {solved: [region for _, region in layers[0]]}  # box cells → player regions
    states = len(layers[0])
    while states < max_states and (max_pushes is None or len(layers) <= max_pushes):
        layer = []
        for boxes, region in layers[-1]:
            for box, stand, back in _pulls(board, boxes, region):
                moved = boxes ^ (1 << box) | (1 << stand)
                regions = seen.setdefault(moved, [])
                if not any((known >> back) & 1 for known in regions):
                    reached = board.after_pull(region, box, stand, back, moved)
                    regions.append(reached)
                    layer.append((moved, reached))
        if not layer:
            break
        states += len(layer)
        layers.append(layer)
    found: list[Layout] = []
    for depth in range(len(layers) - 1, 0, -1):
        wanted = layers[depth][: count - len(found)]
        found += [Layout(_puzzle(p, board, boxes, region), depth) for boxes, region in wanted]
        if len(found) == count:
            break
    return found


def _player_regions(board: Board, boxes: int) -> list[tuple[int, int]]:
    """One state per region of free floor the player may stand in around ``boxes``."""
    states, free = [], board.floor_mask & ~boxes
    while free:
        region = board.reach((free & -free).bit_length() - 1, boxes)
        states.append((boxes, region))
        free &= ~region
    return states


def _pulls(board: Board, boxes: int, region: int) -> list[tuple[int, int, int]]:
    """The pulls open to the player: (box, stand, back), where the player stands beside the box on
    ``stand``, steps away to ``back`` and drags the box onto ``stand``. The player's region after
    it is :meth:`~relaygen.solver.board.Board.after_pull`'s, worked out only for a new state."""
    W, free, out = board.W, board.floor_mask & ~boxes, []
    for box in bits(boxes):
        for step in (1, -1, W, -W):
            stand, back = box + step, box + 2 * step
            if (region >> stand) & 1 and (free >> back) & 1:
                out.append((box, stand, back))
    return out


def _puzzle(p: Puzzle, board: Board, boxes: int, region: int) -> Puzzle:
    """``p`` with the boxes on ``boxes`` and the player in ``region`` (padded cells as bitsets)."""
    W = board.W

    def outer(c: int) -> int:
        row, col = divmod(c, W)
        return (row - 1) * p.width + col - 1

    player = p.player if (region >> board.inner(p.player)) & 1 else outer((region & -region).bit_length() - 1)
    return replace(p, boxes=frozenset(outer(c) for c in bits(boxes)), player=player)

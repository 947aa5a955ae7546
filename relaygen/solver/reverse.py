"""Reverse search: the box layouts a Sokoban room is solvable from, found by pulling boxes off the goals.

A pull is a push played backwards, so a breadth-first search of pulls from the solved position
reaches every layout the player can solve, layer by layer: the layer of a layout is the least
number of pushes that solves it. The deepest layers hold the layouts farthest from solved.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .board import Board, bits
from .sokoban import Puzzle

try:
    from . import _reverse
except ImportError:  # built without a C compiler: the Python search below runs
    _reverse = None

NATIVE_WORDS = 16
"""The most 64-bit words of a padded board's cell set the C search takes (1,024 cells); larger rooms
run the Python search."""


@dataclass(frozen=True)
class Layout:
    """A solvable start of the same room: ``puzzle`` needs at least ``pushes`` pushes."""

    puzzle: Puzzle
    pushes: int


def farthest_layouts(
    p: Puzzle, count: int, max_states: int, max_pushes: int | None = None, native: bool = True
) -> list[Layout]:
    """Up to ``count`` layouts of ``p``'s room, walls and goals farthest from solved (but needing at
    most ``max_pushes`` pushes), deepest first.

    The search stops once it has seen ``max_states`` layouts (box cells and player region); its
    deepest layers so far are then returned. The player keeps its cell where that cell lies in a
    layout's player region, else it stands on the region's first cell. ``native``: search in C
    (``relaygen.solver._reverse``, the same layouts some nine times as fast) where it was built and the
    room fits it; else, or with ``native=False``, in Python.
    """
    board = Board(p.width, p.height, p.walls, p.goals, p.goals, p.player)
    solved = sum(1 << board.inner(g) for g in p.goals)
    first = _player_regions(board, solved)
    words = (board.size + 63) // 64
    if native and _reverse is not None and words <= NATIVE_WORDS:
        deepest = _reverse.deepest(
            board.W,
            board.size,
            words,
            board.floor_mask.to_bytes(8 * words, "little"),
            solved.to_bytes(8 * words, "little"),
            [region.to_bytes(8 * words, "little") for _, region in first],
            max_states,
            -1 if max_pushes is None else max_pushes,
            count,
        )
        return [
            Layout(_puzzle(p, board, int.from_bytes(boxes, "little"), int.from_bytes(region, "little")), depth)
            for depth, boxes, region in deepest
        ]
    layers = [first]
    # box cells → the union of the player regions found beside them (a box set's regions are disjoint)
    seen: dict[int, int] = {solved: sum(region for _, region in layers[0])}
    states = len(layers[0])
    while states < max_states and (max_pushes is None or len(layers) <= max_pushes):
        layer = _next_layer(board, layers[-1], seen)
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


def _next_layer(board: Board, layer: list[tuple[int, int]], seen: dict[int, int]) -> list[tuple[int, int]]:
    """The states one pull away from ``layer``'s that ``seen`` does not hold yet (added to it), in
    the order of ``layer``, then box by box from the lowest cell, then by step (+1, -1, +W, -W).

    A pull: the player stands beside a box on ``stand``, steps away to ``back`` (a free cell) and
    drags the box onto ``stand``. The player's region after it is
    :meth:`~relaygen.solver.board.Board.after_pull`'s, worked out only for a new state."""
    W, floor, after_pull = board.W, board.floor_mask, board.after_pull
    found = []
    for boxes, region in layer:
        free = floor & ~boxes
        # per step: the boxes with the player's region on box + step and a free cell on box + 2 step
        by_step = (
            (1, boxes & region >> 1 & free >> 2),
            (-1, boxes & region << 1 & free << 2),
            (W, boxes & region >> W & free >> 2 * W),
            (-W, boxes & region << W & free << 2 * W),
        )
        pullable = by_step[0][1] | by_step[1][1] | by_step[2][1] | by_step[3][1]
        while pullable:
            low = pullable & -pullable
            pullable ^= low
            box = low.bit_length() - 1
            for step, boxes_here in by_step:
                if boxes_here & low:
                    stand = box + step
                    back = stand + step
                    moved = boxes ^ low | 1 << stand
                    known = seen.get(moved, 0)
                    if not (known >> back) & 1:
                        reached = after_pull(region, box, stand, back, moved)
                        seen[moved] = known | reached
                        found.append((moved, reached))
    return found


def _puzzle(p: Puzzle, board: Board, boxes: int, region: int) -> Puzzle:
    """``p`` with the boxes on ``boxes`` and the player in ``region`` (padded cells as bitsets)."""
    W = board.W

    def outer(c: int) -> int:
        row, col = divmod(c, W)
        return (row - 1) * p.width + col - 1

    player = p.player if (region >> board.inner(p.player)) & 1 else outer((region & -region).bit_length() - 1)
    return replace(p, boxes=frozenset(outer(c) for c in bits(boxes)), player=player)

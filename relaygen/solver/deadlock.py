"""Deadlock detection and PI-corral pruning for the push search.

All functions work on the padded cells and Python-int bitsets of a
:class:`~relaygen.solver.board.Board`.
"""

from __future__ import annotations

from .board import Board


def pi_corral(board: Board, boxes: int, region: int) -> tuple[int, int] | None:
    """Find a PI-corral; return (its boxes, its area) or None; (0, 0) means deadlock.

    A corral is an area the player cannot reach; its boxes are those next to it. It is a
    PI-corral when every push of those boxes that could happen before one of them moves
    goes into the area, and the player can make all those pushes now. If the corral is
    not finished, some solution starts with one of these pushes, so the search may push
    only them (and none means a deadlock). Each connected area is tried, then, if none
    qualifies, all of them together; the corral with fewest pushes wins.
    """
    W = board.W
    rest = board.floor_mask & ~boxes & ~region
    best, best_count = None, 1 << 30
    areas = 0
    while rest:
        area = f = rest & -rest
        while f:
            f = (f << 1 | f >> 1 | f << W | f >> W) & rest & ~area
            area |= f
        rest ^= area
        areas += 1
        found = _corral(board, boxes, region, area)
        if found is not None and found[1] < best_count:
            if found[1] == 0:
                return 0, 0
            best, best_count = found
    if best is None and areas > 1:
        found = _corral(board, boxes, region, board.floor_mask & ~boxes & ~region)
        if found is not None:
            best = (0, 0) if found[1] == 0 else found[0]
    return best


def _corral(board: Board, boxes: int, region: int, area: int) -> tuple[tuple[int, int], int] | None:
    """((boxes, area), number of pushes) if ``area`` is an unfinished PI-corral."""
    W, goals = board.W, board.goal_mask
    a_l, a_r, a_u, a_d = area << 1, area >> 1, area << W, area >> W
    cboxes = boxes & (a_l | a_r | a_u | a_d)
    if not (area & goals or cboxes & ~goals):
        return None
    origin = board.floor_mask & ~area & ~cboxes
    dest = board.live_mask & ~cboxes
    # Pushes that could happen before a corral box moves, per direction; each must
    # go into the area (a_*) from a cell the player reaches now (region shifted).
    right = cboxes & origin << 1 & dest >> 1
    left = cboxes & origin >> 1 & dest << 1
    down = cboxes & origin << W & dest >> W
    up = cboxes & origin >> W & dest << W
    if (
        right & ~(a_r & region << 1)
        or left & ~(a_l & region >> 1)
        or down & ~(a_d & region << W)
        or up & ~(a_u & region >> W)
    ):
        return None
    count = right.bit_count() + left.bit_count() + down.bit_count() + up.bit_count()
    return (cboxes, area), count


def axis_blocks(board: Board) -> tuple[int, int]:
    """Cells where a box can never move horizontally / vertically, whatever the other boxes.

    That is, cells with a wall on one side or dead squares on both sides along the axis. A
    pushed box can only be frozen if on each axis it is in this set or has a box beside it.
    """
    W, floor, dead = board.W, board.floor_mask, board.dead_mask
    wall = ((1 << board.size) - 1) & ~floor
    horizontal = (wall << 1 | wall >> 1 | (dead << 1) & (dead >> 1)) & floor
    vertical = (wall << W | wall >> W | (dead << W) & (dead >> W)) & floor
    return horizontal, vertical


def start_deadlocked(board: Board) -> bool:
    """True if some box of the start position is already frozen off its goal."""
    start = sum(1 << c for c in board.boxes)
    return any(frozen_deadlock(board, start, c) for c in board.boxes)


def frozen_deadlock(board: Board, boxes: int, cell: int) -> bool:
    """True if the box on ``cell`` is frozen together with a box that is off its goal."""
    group: list[int] = []
    if not _frozen(board, boxes, cell, set(), group):
        return False
    goals = board.goal_mask
    return any(not (goals >> c) & 1 for c in group)


def _frozen(board: Board, boxes: int, c: int, seen: set[int], group: list[int]) -> bool:
    """Whether the box on ``c`` can never move; boxes in ``seen`` count as walls."""
    seen.add(c)
    found: list[int] = []
    for s in (1, board.W):
        if not _blocked(board, boxes, c, s, seen, found):
            seen.difference_update(found)
            seen.discard(c)
            return False
    group.append(c)
    group.extend(found)
    return True


def _blocked(board: Board, boxes: int, c: int, s: int, seen: set[int], found: list[int]) -> bool:
    """Whether the box on ``c`` can never be pushed along the axis of step ``s``."""
    a, b = c - s, c + s
    wall = board.wall
    if wall[a] or wall[b] or a in seen or b in seen:
        return True
    if (board.dead_mask >> a) & (board.dead_mask >> b) & 1:
        return True
    return any((boxes >> x) & 1 and _frozen(board, boxes, x, seen, found) for x in (a, b))

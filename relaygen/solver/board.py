"""Static analysis of a Sokoban board for the search.

The board is re-indexed on a grid padded with one ring of walls (``W = width + 2``), so the
four neighbours of any floor cell are ``c - 1``, ``c + 1``, ``c - W`` and ``c + W`` with no
bounds checks, and cell sets can be held as Python ints used as bitsets.
"""

from __future__ import annotations

import re
import time
from array import array
from collections import OrderedDict
from collections.abc import Iterable

INF = 1 << 20
ROOMS_KEPT = 4
"""Rooms whose analysis outlives their boards: deepening solves up to 64 starts of one room."""
MEMO_KEPT = 200_000
"""Memo entries a room keeps after a search (some 20 MB); a room whose memos grew past it forgets them."""


class OutOfTime(Exception):
    """The board's analysis ran past the search's deadline (a huge board): the answer is unknown."""


class Room:
    """What depends only on a board's floor and goals, so boards of one room share it: push
    distances, live cells, and the memos of the searches (bounds per box set, PI-corrals per box
    set and player region)."""

    __slots__ = ("_push_table", "bounds", "corrals", "live_mask", "mindist", "to_goals")

    def __init__(self, dist: list[list[int]], live_mask: int, size: int) -> None:
        """``dist[g][c]``: the least number of pushes taking a lone box from ``c`` to goal ``g``."""
        self.to_goals = list(zip(*dist, strict=True)) if dist else [()] * size
        self.mindist = list(map(min, self.to_goals)) if dist else [0] * size
        self.live_mask = live_mask
        self.bounds: dict[int, int] = {}
        self.corrals: dict[tuple[int, int], tuple[int, int] | None] = {}
        self._push_table: bytes | None = None

    def push_table(self) -> bytes:
        """``to_goals`` as native 32-bit integers, cell by cell (what the C search reads)."""
        if self._push_table is None:
            self._push_table = array("i", [d for row in self.to_goals for d in row]).tobytes()
        return self._push_table

    def trim(self) -> None:
        """Forget the search memos once they hold more than ``MEMO_KEPT`` entries (they only save time)."""
        if len(self.bounds) + len(self.corrals) > MEMO_KEPT:
            self.bounds.clear()
            self.corrals.clear()


_rooms: OrderedDict[tuple[int, int, int], Room] = OrderedDict()


class Board:
    """Padded grid, dead squares and push distances of one puzzle.

    ``to_goals[c][g]`` is the least number of pushes taking a lone box from ``c`` to goal ``g``
    (``INF`` if impossible), ``mindist[c]`` the least over the goals. Both come from the board's
    :class:`Room`, shared with the boards of the last ``ROOMS_KEPT`` rooms.
    """

    __slots__ = (
        "W",
        "boxes",
        "dead_mask",
        "feasible",
        "floor_mask",
        "goal_mask",
        "goals",
        "live_mask",
        "mindist",
        "player",
        "room",
        "size",
        "to_goals",
        "wall",
        "width",
    )

    def __init__(
        self,
        width: int,
        height: int,
        walls: Iterable[int],
        goals: Iterable[int],
        boxes: Iterable[int],
        player: int,
        deadline: float | None = None,
    ) -> None:
        """``deadline``: the :func:`time.perf_counter` time after which the analysis stops with
        :class:`OutOfTime` (the time limit covers the set-up too)."""
        self.width = width
        W = self.W = width + 2
        n = self.size = W * (height + 2)
        inner = self.inner
        grid = bytearray(n)
        for r in range(height):
            grid[(r + 1) * W + 1 : (r + 1) * W + 1 + width] = b"\x01" * width
        for c in walls:
            row, col = divmod(c, width)
            grid[(row + 1) * W + col + 1] = 0
        goal_set = {inner(c) for c in goals}
        box_set = {inner(c) for c in boxes}
        self.player = inner(player)
        # The floor is what the player can reach when boxes are ignored; all else is wall.
        inside = _flags_to_mask(grid)
        floor = f = 1 << self.player
        while f:
            f = (f << 1 | f >> 1 | f << W | f >> W) & inside & ~floor
            floor |= f
        self.floor_mask = floor
        self.wall = _mask_to_flags(floor, n).translate(_NOT)
        # Boxes the player can never touch must already sit on goals; they act as walls.
        fixed = {c for c in box_set if not (floor >> c) & 1}
        self.feasible = all(c in goal_set for c in fixed) and all((floor >> g) & 1 or g in fixed for g in goal_set)
        goal_set -= fixed
        box_set -= fixed
        self.goals = sorted(goal_set)
        self.boxes = sorted(box_set)
        self.goal_mask = _mask(goal_set)
        room = self.room = self._room(deadline)
        self.to_goals, self.mindist = room.to_goals, room.mindist
        live = self.live_mask = room.live_mask
        self.dead_mask = floor & ~live
        if any(not (live >> c) & 1 for c in box_set):
            self.feasible = False

    def inner(self, c: int) -> int:
        """Map a puzzle cell index to the padded index."""
        r, col = divmod(c, self.width)
        return (r + 1) * self.W + col + 1

    def _room(self, deadline: float | None) -> Room:
        """This board's room: the one kept for its floor and goals, or a new one."""
        key = (self.W, self.floor_mask, self.goal_mask)
        room = _rooms.get(key)
        if room is not None:
            _rooms.move_to_end(key)
            return room
        dist, live = [], 0
        for g in self.goals:
            to_g, reached = self._push_distances(g, deadline)
            dist.append(to_g)
            live |= reached
        room = _rooms[key] = Room(dist, live, self.size)
        if len(_rooms) > ROOMS_KEPT:
            _rooms.popitem(last=False)
        return room

    def _push_distances(self, goal: int, deadline: float | None = None) -> tuple[list[int], int]:
        """Least pushes to bring a lone box from each cell to ``goal``, by reverse pulls.

        Also returns the bitset of the cells from which the box can reach the goal.
        """
        floor, W = self.floor_mask, self.W
        # A box reaches cell c from c + s when c + s and c + 2s are floor.
        right, left = floor & floor >> 1, floor & floor << 1
        down, up = floor & floor >> W, floor & floor << W
        dist = [INF] * self.size
        dist[goal] = 0
        seen = f = 1 << goal
        k = 0
        while f:
            k += 1
            f = (f << 1 & right | f >> 1 & left | f << W & down | f >> W & up) & ~seen
            seen |= f
            for c in bits(f):
                dist[c] = k
            if deadline is not None and time.perf_counter() > deadline:
                raise OutOfTime
        return dist, seen

    def reach(self, start: int, boxes: int) -> int:
        """Bitset of cells the player reaches from ``start`` with ``boxes`` in place."""
        free = self.floor_mask & ~boxes
        W = self.W
        r = f = 1 << start
        while f:
            f = (f << 1 | f >> 1 | f << W | f >> W) & free & ~r
            r |= f
        return r

    def after_push(self, region: int, b: int, t: int, boxes: int) -> int:
        """Player region after the box on ``b`` went to ``t``; ``boxes`` is the new box set.

        The old region is reused when the box did not cut it: either ``t`` was outside it,
        or the free cells around ``t`` stay connected to each other (a local test).
        """
        tb = 1 << t
        if region & tb:
            if not self._keeps_connected(t, boxes):
                return self.reach(b, boxes)
            region ^= tb
        return self._grown(region, b, boxes)

    def after_pull(self, region: int, b: int, t: int, player: int, boxes: int) -> int:
        """Player region after a pull took the box on ``b`` to ``t`` (a cell of ``region``) and the
        player on to ``player``; ``boxes`` is the new box set. As :meth:`after_push`, the old region
        is reused unless the box cut it."""
        if not self._keeps_connected(t, boxes):
            return self.reach(player, boxes)
        return self._grown(region ^ 1 << t, b, boxes)

    def _keeps_connected(self, t: int, boxes: int) -> bool:
        """Whether the free cells around ``t`` stay connected to each other with a box on ``t``."""
        W, free = self.W, self.floor_mask & ~boxes
        ring = (free >> (t - W - 1)) & 7 | ((free >> (t - 1)) & 7) << 3 | ((free >> (t + W - 1)) & 7) << 6
        return _RING_CONNECTED[ring]

    def _grown(self, region: int, start: int, boxes: int) -> int:
        """``region`` joined with what the player reaches from ``start`` around ``boxes``."""
        W, free = self.W, self.floor_mask & ~boxes
        r = f = 1 << start
        r |= region
        while f:
            f = (f << 1 | f >> 1 | f << W | f >> W) & free & ~r
            r |= f
        return r


def _ring_connected(pattern: int) -> bool:
    """Whether the free edge-neighbours of the centre of a 3x3 block (bits row-major, the
    centre ignored) are connected to each other through free cells of the block's ring."""
    cells = {(i // 3, i % 3) for i in range(9) if i != 4 and (pattern >> i) & 1}
    sides = [c for c in ((0, 1), (1, 0), (1, 2), (2, 1)) if c in cells]
    if not sides:
        return True
    seen, stack = {sides[0]}, [sides[0]]
    while stack:
        r, c = stack.pop()
        for n in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if n in cells and n not in seen:
                seen.add(n)
                stack.append(n)
    return all(c in seen for c in sides)


_RING_CONNECTED = bytes(_ring_connected(p) for p in range(512))


_NOT = bytes([1, 0]) + bytes(254)  # translate table: 0 <-> 1
_DIGITS = b"01" + bytes(254)  # translate table: 0, 1 -> ASCII digits
_FROM_DIGITS = bytes(48) + b"\x00\x01" + bytes(206)  # translate table: ASCII digits -> 0, 1


def _flags_to_mask(flags: bytearray) -> int:
    """Bitset of the indices whose flag byte is 1."""
    return int(flags.translate(_DIGITS)[::-1], 2) if flags else 0


def _mask_to_flags(mask: int, n: int) -> bytes:
    """Flag bytes (1 where the bit is set) of the low ``n`` bits of ``mask``."""
    return format(mask & ((1 << n) - 1), f"0{n}b")[::-1].encode().translate(_FROM_DIGITS)


def _mask(cells: Iterable[int]) -> int:
    """Bitset with the given bits set."""
    m = 0
    for c in cells:
        m |= 1 << c
    return m


_NONZERO = re.compile(rb"[^\x00]")
_BYTE_BITS = [[b for b in range(8) if byte >> b & 1] for byte in range(256)]


def bits(mask: int) -> list[int]:
    """Indices of the set bits of ``mask``, lowest first (in time linear in its length: a mask of
    a huge board is read byte by byte, not cleared bit by bit)."""
    if mask.bit_length() <= 512:
        out = []
        while mask:
            low = mask & -mask
            out.append(low.bit_length() - 1)
            mask ^= low
        return out
    data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
    return [8 * m.start() + b for m in _NONZERO.finditer(data) for b in _BYTE_BITS[m[0][0]]]

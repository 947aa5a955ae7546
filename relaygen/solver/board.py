"""Static analysis of a Sokoban board for the search.

The board is re-indexed on a grid padded with one ring of walls (``W = width + 2``), so the
four neighbours of any floor cell are ``c - 1``, ``c + 1``, ``c - W`` and ``c + W`` with no
bounds checks, and cell sets can be held as Python ints used as bitsets.
"""

from __future__ import annotations

from collections.abc import Iterable

INF = 1 << 20


class Board:
    """Padded grid, dead squares and per-goal push distances of one puzzle."""

    __slots__ = (
        "width", "W", "size", "wall", "floor_mask", "goal_mask", "goals", "boxes", "player",
        "dead", "live_mask", "dist", "mindist", "feasible",
    )

    def __init__(
        self, width: int, height: int, walls: Iterable[int], goals: Iterable[int],
        boxes: Iterable[int], player: int,
    ) -> None:
        self.width = width
        W = self.W = width + 2
        n = self.size = W * (height + 2)
        blocked = bytearray(b"\x01") * n
        for r in range(height):
            base = (r + 1) * W + 1
            blocked[base:base + width] = bytes(width)
        for c in walls:
            blocked[self.inner(c)] = 1
        goal_set = {self.inner(c) for c in goals}
        box_set = {self.inner(c) for c in boxes}
        self.player = start = self.inner(player)
        # The floor is what the player can reach when boxes are ignored; all else is wall.
        reach = bytearray(n)
        reach[start] = 1
        stack = [start]
        while stack:
            c = stack.pop()
            for d in (c - 1, c + 1, c - W, c + W):
                if not blocked[d] and not reach[d]:
                    reach[d] = 1
                    stack.append(d)
        self.feasible = True
        fixed = {c for c in box_set if not reach[c]}
        if any(c not in goal_set for c in fixed) or any(
            not reach[g] and g not in fixed for g in goal_set
        ):
            self.feasible = False
        goal_set -= fixed
        box_set -= fixed
        self.wall = wall = bytes(1 - v for v in reach)
        self.goals = sorted(goal_set)
        self.boxes = sorted(box_set)
        self.floor_mask = _mask(i for i in range(n) if reach[i])
        self.goal_mask = _mask(goal_set)
        self.dist = [self._push_distances(g) for g in self.goals]
        self.mindist = md = [min(col) for col in zip(*self.dist)] if self.goals else [0] * n
        self.dead = bytes(1 if (not wall[c] and md[c] >= INF) else 0 for c in range(n))
        self.live_mask = _mask(c for c in range(n) if not wall[c] and md[c] < INF)
        if any(md[c] >= INF for c in box_set):
            self.feasible = False

    def inner(self, c: int) -> int:
        """Map a puzzle cell index to the padded index."""
        r, col = divmod(c, self.width)
        return (r + 1) * self.W + col + 1

    def _push_distances(self, goal: int) -> list[int]:
        """Least pushes to bring a lone box from each cell to ``goal`` (by reverse pulls)."""
        wall, W = self.wall, self.W
        dist = [INF] * self.size
        dist[goal] = 0
        frontier = [goal]
        k = 0
        while frontier:
            k += 1
            nxt = []
            for c in frontier:
                for s in (1, -1, W, -W):
                    b = c + s
                    if not wall[b] and not wall[b + s] and dist[b] == INF:
                        dist[b] = k
                        nxt.append(b)
            frontier = nxt
        return dist

    def reach(self, start: int, boxes: int) -> int:
        """Bitset of cells the player reaches from ``start`` with ``boxes`` in place."""
        free = self.floor_mask & ~boxes
        W = self.W
        r = f = 1 << start
        while f:
            f = (f << 1 | f >> 1 | f << W | f >> W) & free & ~r
            r |= f
        return r

    def freeze_tables(self) -> tuple[bytes, bytes, list[int], list[int]]:
        """Per cell: blocked by walls/dead squares (horizontally, vertically), neighbour masks.

        A box can only be frozen if each axis is blocked or has a neighbouring box.
        """
        wall, dead, W, n = self.wall, self.dead, self.W, self.size
        inner = range(W, n - W)
        h_walls = bytearray(n)
        v_walls = bytearray(n)
        for c in inner:
            h_walls[c] = wall[c - 1] or wall[c + 1] or (dead[c - 1] and dead[c + 1])
            v_walls[c] = wall[c - W] or wall[c + W] or (dead[c - W] and dead[c + W])
        h_nbrs = [0] * n
        v_nbrs = [0] * n
        for c in inner:
            h_nbrs[c] = 5 << (c - 1)
            v_nbrs[c] = (1 | 1 << 2 * W) << (c - W)
        return bytes(h_walls), bytes(v_walls), h_nbrs, v_nbrs

    def frozen_deadlock(self, boxes: int, cell: int) -> bool:
        """True if the box on ``cell`` is frozen together with a box that is off its goal."""
        group: list[int] = []
        if not self._frozen(boxes, cell, set(), group):
            return False
        goals = self.goal_mask
        return any(not (goals >> c) & 1 for c in group)

    def _frozen(self, boxes: int, c: int, seen: set[int], group: list[int]) -> bool:
        """Whether the box on ``c`` can never move; boxes in ``seen`` count as walls."""
        seen.add(c)
        found: list[int] = []
        for s in (1, self.W):
            if not self._blocked(boxes, c, s, seen, found):
                seen.difference_update(found)
                seen.discard(c)
                return False
        group.append(c)
        group.extend(found)
        return True

    def _blocked(self, boxes: int, c: int, s: int, seen: set[int], found: list[int]) -> bool:
        """Whether the box on ``c`` can never be pushed along the axis of step ``s``."""
        a, b = c - s, c + s
        wall = self.wall
        if wall[a] or wall[b] or a in seen or b in seen:
            return True
        if self.dead[a] and self.dead[b]:
            return True
        for x in (a, b):
            if (boxes >> x) & 1 and self._frozen(boxes, x, seen, found):
                return True
        return False


def _mask(cells: Iterable[int]) -> int:
    """Bitset with the given bits set."""
    m = 0
    for c in cells:
        m |= 1 << c
    return m


def bits(mask: int) -> list[int]:
    """Indices of the set bits of ``mask``, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out

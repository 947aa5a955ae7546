"""Search procedures over a :class:`~relaygen.solver.board.Board`.

Both searches return ``(status, plan, nodes)``. ``plan`` is a list of ``(cell, step)`` pairs
in padded coordinates: for the fast search each pair is a push of the box on ``cell`` by
``step``; for the optimal search each pair is a player step from ``cell``.
"""

from __future__ import annotations

import time
from heapq import heappop, heappush

import numpy as np
from scipy.optimize import linear_sum_assignment

from .board import INF, Board, bits

Plan = list[tuple[int, int]]
Outcome = tuple[str, Plan | None, int]
_CHECK_EVERY = 64


class Budget:
    """Node and wall-clock budget shared by the searches."""

    __slots__ = ("max_nodes", "deadline")

    def __init__(self, max_nodes: int | None, time_limit: float | None) -> None:
        self.max_nodes = max_nodes if max_nodes is not None else -1
        self.deadline = time.perf_counter() + time_limit if time_limit is not None else None

    def exhausted(self, nodes: int) -> bool:
        """True once ``nodes`` expansions or the time limit have been used up."""
        if nodes == self.max_nodes:
            return True
        return (
            self.deadline is not None
            and nodes % _CHECK_EVERY == 0
            and time.perf_counter() > self.deadline
        )


class _Matcher:
    """Lower bound on the pushes left: cheapest assignment of boxes to distinct goals."""

    __slots__ = ("table", "rows")

    def __init__(self, board: Board) -> None:
        self.table = np.array(board.dist, dtype=np.int64).T.copy()
        self.rows = self.table.tolist()

    def __call__(self, cells: list[int]) -> int:
        rows = self.rows
        if len(cells) == 1:
            return min(rows[cells[0]])
        _, cols = linear_sum_assignment(self.table[cells])
        return sum([rows[c][g] for c, g in zip(cells, cols.tolist())])


def _unwind(links: dict, key: object, last: tuple[int, int]) -> Plan:
    """Moves from the root to ``key`` (via the parent links in ``links``), then ``last``."""
    plan = [last]
    while key is not None:
        key, move = links[key]
        if move is not None:
            plan.append(move)
    plan.reverse()
    return plan


def best_first(board: Board, budget: Budget, weight: int = 3) -> Outcome:
    """Weighted A* over box configurations; each edge is one push, walks are free.

    A state is the box set plus the lowest cell of the player's region, so positions
    that differ only by a walk are merged as soon as they are generated.
    """
    goal_mask, live, W = board.goal_mask, board.live_mask, board.W
    start = sum(1 << c for c in board.boxes)
    if start == goal_mask:
        return "solved", [], 0
    heuristic = _Matcher(board)
    frozen, reach = board.frozen_deadlock, board.reach
    h_walls, v_walls, h_nbrs, v_nbrs = board.freeze_tables()
    region = reach(board.player, start)
    key = (start, region & -region)
    links: dict[tuple[int, int], tuple] = {key: (None, None)}
    heap: list[tuple] = [(0, 0, start, region, 0, key)]
    tie = nodes = 0
    while heap:
        _, _, boxes, region, g, key = heappop(heap)
        if budget.exhausted(nodes):
            return "unknown", None, nodes
        nodes += 1
        g += 1
        cells = bits(boxes)
        slot = {c: i for i, c in enumerate(cells)}
        target = live & ~boxes
        for s in (1, -1, W, -W):
            if s > 0:
                pushable = boxes & (region << s) & (target >> s)
            else:
                pushable = boxes & (region >> -s) & (target << -s)
            while pushable:
                low = pushable & -pushable
                pushable ^= low
                b = low.bit_length() - 1
                t = b + s
                child = boxes ^ low ^ (1 << t)
                if child == goal_mask:
                    return "solved", _unwind(links, key, (b, s)), nodes
                if (
                    (h_walls[t] or child & h_nbrs[t])
                    and (v_walls[t] or child & v_nbrs[t])
                    and frozen(child, t)
                ):
                    continue
                reg = reach(b, child)
                ckey = (child, reg & -reg)
                if ckey in links:
                    continue
                links[ckey] = (key, (b, s))
                moved = cells.copy()
                moved[slot[b]] = t
                h = heuristic(moved)
                if h < INF:
                    tie -= 1
                    heappush(heap, (g + weight * h, tie, child, reg, g, ckey))
    return "unsolvable", None, nodes


def optimal(board: Board, budget: Budget) -> Outcome:
    """A* over (player, boxes) giving the fewest moves, then the fewest pushes."""
    goal_mask, wall, dead, md, W = board.goal_mask, board.wall, board.dead, board.mindist, board.W
    scale = 1 << 32  # cost = moves * scale + pushes
    boxes0 = sum(1 << c for c in board.boxes)
    start = (board.player, boxes0)
    h0 = sum(md[c] for c in board.boxes)
    heap: list[tuple] = [(h0 * scale, 0, 0, h0, start)]
    best = {start: 0}
    closed: dict[tuple[int, int], tuple] = {}
    parents: dict[tuple[int, int], tuple] = {start: (None, None)}
    nodes = tie = 0
    while heap:
        _, _, cost, h, state = heappop(heap)
        if state in closed:
            continue
        closed[state] = parents[state]
        player, boxes = state
        if boxes == goal_mask:
            key, move = closed[state]
            return "solved", (_unwind(closed, key, move) if move else []), nodes
        if budget.exhausted(nodes):
            return "unknown", None, nodes
        nodes += 1
        for s in (1, -1, W, -W):
            q = player + s
            if wall[q]:
                continue
            child, step, h2 = boxes, scale, h
            if (boxes >> q) & 1:
                t = q + s
                if wall[t] or dead[t] or (boxes >> t) & 1:
                    continue
                child = boxes ^ (1 << q) ^ (1 << t)
                if board.frozen_deadlock(child, t):
                    continue
                step += 1
                h2 = h - md[q] + md[t]
            nxt = (q, child)
            c2 = cost + step
            if nxt in closed or best.get(nxt, c2 + 1) <= c2:
                continue
            best[nxt] = c2
            parents[nxt] = (state, (player, s))
            tie += 1
            heappush(heap, (c2 + h2 * scale, tie, c2, h2, nxt))
    return "unsolvable", None, nodes

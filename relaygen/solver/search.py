"""Search procedures over a :class:`~relaygen.solver.board.Board`.

Both searches return ``(status, plan)`` and count their expansions in a :class:`Budget`.
``plan`` is a list of ``(cell, step)`` pairs in padded coordinates: for the fast search each
pair is a push of the box on ``cell`` by ``step``; for the optimal search each pair is a
player step from ``cell``.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from heapq import heappop, heappush
from operator import getitem
from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from .board import INF, Board, bits
from .deadlock import axis_blocks, frozen_deadlock, pi_corral

try:
    from . import _search
except ImportError:  # built without a C compiler: the Python search below runs
    _search = None

Plan = list[tuple[int, int]]
Outcome = tuple[str, Plan | None]
_CHECK_EVERY = 64  # expansions between clock reads
_SLICE = 1024  # expansions per turn when several searches share the budget
_WARMUP = 3000  # expansions the first search gets alone
# (heuristic weight, turns of _SLICE expansions or None for no limit); the first starts alone
_PORTFOLIO = ((5, None), (30, None), (1, 20))
NATIVE_WORDS = 16
"""The most 64-bit words of a padded board's cell set the C search takes (1,024 cells)."""
NATIVE_BOXES = 64
"""The most boxes the C search takes."""
NATIVE_STATES = 4_000_000
"""States the C search may hold (some 300 MB on a 10x10 board) before it answers "unknown", as if out of time."""


class Budget:
    """Node and wall-clock budget shared by the searches; ``nodes`` counts expansions."""

    __slots__ = ("deadline", "max_nodes", "nodes")

    def __init__(self, max_nodes: int | None, time_limit: float | None) -> None:
        self.max_nodes = max_nodes if max_nodes is not None else -1
        self.deadline = time.perf_counter() + time_limit if time_limit is not None else None
        self.nodes = 0

    def spend(self) -> bool:
        """Account for one expansion; False (and nothing spent) once the budget is used up."""
        n = self.nodes
        if n == self.max_nodes or (
            self.deadline is not None and n % _CHECK_EVERY == 0 and time.perf_counter() > self.deadline
        ):
            return False
        self.nodes = n + 1
        return True


class _Matcher:
    """Lower bound on the pushes left: cheapest assignment of boxes to distinct goals.

    Bounds are kept per box set in the board's room, for all searches of that room.
    """

    __slots__ = ("cache", "rows", "table")

    def __init__(self, board: Board) -> None:
        self.rows = board.to_goals
        self.table: np.ndarray | None = None
        self.cache = board.room.bounds

    def __call__(self, boxes: int, cells: list[int]) -> int:
        h = self.cache.get(boxes)
        if h is None:
            h = self.cache[boxes] = self._assign(cells)
        return h

    def _assign(self, cells: list[int]) -> int:
        """Cost of the cheapest assignment (``INF`` or more if there is none)."""
        rows = self.rows
        if len(cells) == 1:
            return min(rows[cells[0]])
        if len(cells) == 2:
            a, b = rows[cells[0]], rows[cells[1]]
            return min(a[0] + b[1], a[1] + b[0])
        if len(cells) == 3:
            a, b, c = rows[cells[0]], rows[cells[1]], rows[cells[2]]
            return min(
                a[0] + min(b[1] + c[2], b[2] + c[1]),
                a[1] + min(b[0] + c[2], b[2] + c[0]),
                a[2] + min(b[0] + c[1], b[1] + c[0]),
            )
        if self.table is None:
            self.table = np.array(rows, dtype=np.int64)
        _, cols = linear_sum_assignment(self.table.take(cells, axis=0))
        return sum(map(getitem, [rows[c] for c in cells], cols.tolist()))


class _Entry(NamedTuple):
    """A state on the heap of :func:`_best_first`. The heap compares entries field by field: lowest
    ``priority`` first, then a push of the box pushed last, then the newest state. ``tie`` is unique,
    so the fields after it (the list ``cells`` among them) are never compared."""

    priority: int
    """Pushes so far plus ``weight`` times the heuristic."""
    not_last: bool
    """Whether this state pushed a box other than the one pushed before it."""
    tie: int
    """Decreases with every push onto the heap: the newest state wins a tie."""
    boxes: int
    """Bitset of the box cells."""
    region: int
    """Bitset of the cells the player reaches."""
    cells: list[int]
    """The box cells, as a list (the heuristic's input)."""
    pushes: int
    """Pushes from the start."""
    key: tuple[int, int]
    """The state's key: the boxes and the lowest cell of the player's region."""
    last: int
    """The cell of the box pushed last (-1 at the start)."""


def _unwind(links: dict, key: object, last: tuple[int, int]) -> Plan:
    """Moves from the root to ``key`` (via the parent links in ``links``), then ``last``."""
    plan = [last]
    while key is not None:
        key, move = links[key]
        if move is not None:
            plan.append(move)
    plan.reverse()
    return plan


def fast(board: Board, budget: Budget, native: bool = True) -> Outcome:
    """Portfolio of weighted A* searches sharing ``budget``; the first to finish answers.

    The first search runs alone for a while, so easy puzzles cost one search only; then
    searches with other heuristic weights take turns with it, some for a limited time. Their memos
    stay in the board's room, trimmed when large. ``native``: search in C (``relaygen.solver._search``:
    the same expansions in the same order, so the same plan and node count) where it was built and the
    board fits it; else, or with ``native=False``, in Python.
    """
    words = (board.size + 63) // 64
    if native and _search is not None and words <= NATIVE_WORDS and len(board.boxes) <= NATIVE_BOXES:
        return _native_fast(board, budget, words)
    heuristic, corrals = _Matcher(board), board.room.corrals
    (weight, _), *others = _PORTFOLIO
    turns = [[_best_first(board, budget, weight, heuristic, corrals), None]]
    k = 0
    try:
        while True:
            search, slices_left = turns[k]
            try:
                next(search)
            except StopIteration as stop:
                return stop.value
            if slices_left is not None:
                turns[k][1] = slices_left = slices_left - 1
                if slices_left == 0:
                    del turns[k]
                    k -= 1
            if len(turns) == 1 and others and budget.nodes >= _WARMUP:
                turns += [[_best_first(board, budget, w, heuristic, corrals), cap] for w, cap in others]
                others = []
            k = (k + 1) % len(turns)
    finally:
        board.room.trim()


def _native_fast(board: Board, budget: Budget, words: int) -> Outcome:
    """:func:`fast` in C; the expansions it made are spent from ``budget``."""
    h_block, v_block = axis_blocks(board)
    seconds = -1.0 if budget.deadline is None else max(0.0, budget.deadline - time.perf_counter())
    status, plan, nodes = _search.fast(
        board.W,
        board.size,
        words,
        *(mask.to_bytes(8 * words, "little") for mask in (board.floor_mask, board.live_mask, board.goal_mask)),
        h_block.to_bytes(8 * words, "little"),
        v_block.to_bytes(8 * words, "little"),
        sum(1 << c for c in board.boxes).to_bytes(8 * words, "little"),
        board.player,
        board.room.push_table(),
        budget.max_nodes - budget.nodes if budget.max_nodes >= 0 else -1,
        seconds,
        NATIVE_STATES,
    )
    budget.nodes += nodes
    return status, plan


def native_push_letters(board: Board, plan: Plan) -> str | None:
    """The LURD letters of a plan of pushes (the walks between them found breadth first), in C; None where
    the C part was not built or the board is larger than it takes."""
    words = (board.size + 63) // 64
    if _search is None or words > NATIVE_WORDS:
        return None
    floor, boxes = board.floor_mask, sum(1 << c for c in board.boxes)
    as_bytes = (mask.to_bytes(8 * words, "little") for mask in (floor, boxes))
    return _search.push_letters(board.W, board.size, words, *as_bytes, board.player, plan)


def unsearched(grids: np.ndarray, flags: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """A push game's playtest of a stack of tile grids ``(m, H, W)`` up to its search, in C: per grid a
    code (0 not one player and as many boxes as goals, 1 needs a search, 2 not taken: tiles that
    overlap in ways a :class:`~.sokoban.Puzzle` refuses or more than :data:`NATIVE_BOXES` boxes, 3 every
    box on a goal, 4 unsolvable: a box or goal out of reach or a deadlock at the start) and the values
    ``(m, 5)`` regions, boxes, wall share, isolated walls and stuck boxes, as
    ``relaygen.mechanics.push`` measures them. ``flags``: per tile code, 1 solid, 2 pushable, 4 goal,
    8 player. None where the C part was not built or the grids are larger than it takes."""
    m, height, width = grids.shape
    if _search is None or (width + 2) * (height + 2) > 64 * NATIVE_WORDS:
        return None
    codes, values = np.empty(m, np.int8), np.empty((m, 5))
    tiles = np.ascontiguousarray(grids, dtype=np.uint8)
    _search.unsearched(tiles, m, height, width, flags.astype(np.uint8).tobytes(), codes, values)
    return codes, values


def _best_first(
    board: Board,
    budget: Budget,
    weight: int,
    heuristic: _Matcher,
    corrals: dict[tuple[int, int], tuple[int, int] | None],
) -> Generator[None, None, Outcome]:
    """Weighted A* over box configurations; each edge is one push, walks are free.

    A state is the box set plus the lowest cell of the player's region, so positions
    that differ only by a walk are merged as soon as they are generated. Ties go to pushing
    the box pushed last, then to the newest state. Yields every ``_SLICE`` expansions so
    that several searches can take turns. ``heuristic`` and the PI-corral cache ``corrals``
    may be shared between searches.
    """
    goal_mask, live, W = board.goal_mask, board.live_mask, board.W
    start = sum(1 << c for c in board.boxes)
    if start == goal_mask:
        return "solved", []
    after_push = board.after_push
    h_block, v_block = axis_blocks(board)
    v_pair = 1 | 1 << 2 * W  # the cells above and below, shifted down to the one above
    region = board.reach(board.player, start)
    key = (start, region & -region)
    links: dict[tuple[int, int], tuple] = {key: (None, None)}
    heap = [_Entry(0, False, 0, start, region, bits(start), 0, key, -1)]
    tie = nodes = 0
    while heap:
        _, _, _, boxes, region, cells, g, key, last = heappop(heap)
        if not budget.spend():
            return "unknown", None
        nodes += 1
        if nodes % _SLICE == 0:
            yield
        g += 1
        movable, target = boxes, live & ~boxes
        corral = corrals.get(key, False)
        if corral is False:
            corral = corrals[key] = pi_corral(board, boxes, region)
        if corral is not None:
            movable, area = corral
            target &= area
        for s in (1, -1, W, -W):
            # Boxes with the player's region behind them and a free live cell ahead.
            pushable = movable & region << s & target >> s if s > 0 else movable & region >> -s & target << -s
            while pushable:
                low = pushable & -pushable
                pushable ^= low
                b = low.bit_length() - 1
                t = b + s
                child = boxes ^ low ^ (1 << t)
                if child == goal_mask:
                    return "solved", _unwind(links, key, (b, s))
                if (
                    ((h_block >> t) & 1 or (child >> (t - 1)) & 5)
                    and ((v_block >> t) & 1 or (child >> (t - W)) & v_pair)
                    and frozen_deadlock(board, child, t)
                ):
                    continue
                reg = after_push(region, b, t, child)
                ckey = (child, reg & -reg)
                if ckey in links:
                    continue
                links[ckey] = (key, (b, s))
                moved = cells.copy()
                moved[cells.index(b)] = t
                h = heuristic(child, moved)
                if h < INF:
                    tie -= 1
                    heappush(heap, _Entry(g + weight * h, b != last, tie, child, reg, moved, g, ckey, t))
    return "unsolvable", None


def optimal(board: Board, budget: Budget) -> Outcome:
    """A* over (player, boxes) giving the fewest moves, then the fewest pushes.

    The bound (pushes each box needs to its nearest goal) never drops by more than the
    cost of a step, so the first time a state is popped its cost is optimal.
    """
    goal_mask, wall, dead, md, W = board.goal_mask, board.wall, board.dead_mask, board.mindist, board.W
    scale = 1 << 32  # cost = moves * scale + pushes
    start = (board.player, sum(1 << c for c in board.boxes))
    h0 = sum(md[c] for c in board.boxes)
    heap: list[tuple] = [(h0 * scale, 0, 0, h0, start)]
    best = {start: 0}
    links: dict[tuple[int, int], tuple] = {start: (None, None)}
    closed: set[tuple[int, int]] = set()
    tie = 0
    while heap:
        _, _, cost, h, state = heappop(heap)
        if state in closed:
            continue
        closed.add(state)
        player, boxes = state
        if boxes == goal_mask:
            parent, move = links[state]
            return "solved", (_unwind(links, parent, move) if move else [])
        if not budget.spend():
            return "unknown", None
        for s in (1, -1, W, -W):
            q = player + s
            if wall[q]:
                continue
            child, c2, h2 = boxes, cost + scale, h
            if (boxes >> q) & 1:
                t = q + s
                if wall[t] or ((dead | boxes) >> t) & 1:
                    continue
                child = boxes ^ (1 << q) ^ (1 << t)
                if frozen_deadlock(board, child, t):
                    continue
                c2 += 1
                h2 = h - md[q] + md[t]
            nxt = (q, child)
            if best.get(nxt, c2 + 1) <= c2:
                continue
            best[nxt] = c2
            links[nxt] = (state, (player, s))
            tie += 1
            heappush(heap, (c2 + h2 * scale, tie, c2, h2, nxt))
    return "unsolvable", None

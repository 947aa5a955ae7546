"""Sokoban puzzles, a solver, and a solution checker.

Cells are indexed ``row * width + col``. Solutions are LURD strings: lowercase ``udlr`` are
plain moves, uppercase ``UDLR`` are pushes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from .board import Board, OutOfTime
from .deadlock import frozen_deadlock, start_deadlocked
from .search import Budget, Plan, fast, native_push_letters
from .search import optimal as optimal_search

_FLOOR = " -_"
_KNOWN = set("#@+$*." + _FLOOR)
_LETTERS = {"l": (0, -1), "r": (0, 1), "u": (-1, 0), "d": (1, 0)}


@dataclass(frozen=True)
class Puzzle:
    """A Sokoban position: walls, goals, boxes and the player on a ``width x height`` grid."""

    width: int
    height: int
    walls: frozenset[int]
    goals: frozenset[int]
    boxes: frozenset[int]
    player: int

    def __post_init__(self) -> None:
        size = self.width * self.height
        cells = (*self.walls, *self.goals, *self.boxes, self.player)
        if any(not 0 <= c < size for c in cells):
            raise ValueError("cell index outside the grid")
        if len(self.boxes) != len(self.goals):
            raise ValueError(f"{len(self.boxes)} boxes but {len(self.goals)} goals")
        if self.walls & (self.goals | self.boxes) or self.player in self.walls:
            raise ValueError("a wall cell also holds a goal, box or the player")
        if self.player in self.boxes:
            raise ValueError("the player stands on a box")

    @classmethod
    def from_rows(cls, rows: list[str]) -> Puzzle:
        """Parse XSB rows. Ragged rows are padded; floor the player cannot reach becomes wall."""
        rows = [r.rstrip("\r\n") for r in rows]
        while rows and not rows[-1].strip():
            rows.pop()
        while rows and not rows[0].strip():
            rows.pop(0)
        if not rows:
            raise ValueError("no rows given")
        height, width = len(rows), max(len(r) for r in rows)
        walls, goals, boxes, players, floor = set(), set(), set(), [], set()
        for r, row in enumerate(rows):
            for c, ch in enumerate(row.ljust(width)):
                i = r * width + c
                if ch not in _KNOWN:
                    raise ValueError(f"unknown character {ch!r} at row {r}, column {c}")
                if ch == "#":
                    walls.add(i)
                    continue
                floor.add(i)
                if ch in "@+":
                    players.append(i)
                if ch in "$*":
                    boxes.add(i)
                if ch in ".+*":
                    goals.add(i)
        if len(players) != 1:
            raise ValueError(f"expected exactly one player, found {len(players)}")
        if len(boxes) != len(goals):
            raise ValueError(f"{len(boxes)} boxes but {len(goals)} goals")
        reached = _walkable(players[0], floor, width)
        walls |= {c for c in floor - reached if c not in boxes and c not in goals}
        return cls(width, height, frozenset(walls), frozenset(goals), frozenset(boxes), players[0])

    def board(self, deadline: float | None = None) -> Board:
        """The solver's static analysis of this puzzle (see :class:`~relaygen.solver.board.Board`)."""
        return Board(self.width, self.height, self.walls, self.goals, self.boxes, self.player, deadline)


@dataclass
class SolveResult:
    """Outcome of :func:`solve`."""

    status: str  # "solved" | "unsolvable" | "unknown" (budget exhausted)
    solution: str | None
    moves: int
    pushes: int
    nodes: int
    seconds: float


def is_solved(p: Puzzle, boxes: Iterable[int]) -> bool:
    """True if every box stands on a goal."""
    return frozenset(boxes) == p.goals


def solve(
    p: Puzzle,
    *,
    max_nodes: int | None = None,
    time_limit: float | None = None,
    optimal: bool = False,
    board: Board | None = None,
) -> SolveResult:
    """Solve ``p``; stop with status "unknown" after ``max_nodes`` expansions or ``time_limit`` s.

    The default search is fast but not optimal. ``optimal=True`` minimises moves, then pushes.
    Both are complete: "unsolvable" means the whole state space (less provable deadlocks) was
    searched. ``nodes`` in the result counts expanded states. ``board``: ``p.board()`` if already
    built (else it is built within the time limit).
    """
    t0 = time.perf_counter()
    budget = Budget(max_nodes, time_limit)
    if board is None:
        try:
            board = p.board(budget.deadline)
        except OutOfTime:
            return SolveResult("unknown", None, 0, 0, 0, time.perf_counter() - t0)
    status, plan = "unsolvable", None
    if board.feasible and not start_deadlocked(board):
        status, plan = (optimal_search if optimal else fast)(board, budget)
    solution = None
    if plan is not None:
        solution = _walk_letters(board, plan) if optimal else _push_letters(board, plan)
    moves = len(solution) if solution else 0
    pushes = sum(ch.isupper() for ch in solution) if solution else 0
    return SolveResult(status, solution, moves, pushes, budget.nodes, time.perf_counter() - t0)


def stuck_boxes(p: Puzzle, board: Board | None = None) -> int:
    """Boxes that can never reach a goal, seen without a search: off their goal where the player never
    comes, on a square from which pushes bring no lone box to a goal, or frozen off their goal.
    ``board``: ``p.board()`` if already built."""
    board = p.board() if board is None else board
    unreached = sum(1 for b in p.boxes if not (board.floor_mask >> board.inner(b)) & 1 and b not in p.goals)
    start = sum(1 << c for c in board.boxes)
    dead = sum(1 for c in board.boxes if (board.dead_mask >> c) & 1 or frozen_deadlock(board, start, c))
    return unreached + dead


def replay(p: Puzzle, solution: str) -> tuple[frozenset[int], int]:
    """Play ``solution`` from the start; return (boxes, player). Illegal moves raise ValueError."""
    boxes = set(p.boxes)
    r, c = divmod(p.player, p.width)
    for k, ch in enumerate(solution):
        if ch.lower() not in _LETTERS:
            raise ValueError(f"move {k}: unknown letter {ch!r}")
        dr, dc = _LETTERS[ch.lower()]
        nxt = _cell(p, r + dr, c + dc)
        if nxt is None or nxt in p.walls:
            raise ValueError(f"move {k} ({ch}): walks into a wall")
        if ch.islower():
            if nxt in boxes:
                raise ValueError(f"move {k} ({ch}): walks into a box without pushing")
        else:
            if nxt not in boxes:
                raise ValueError(f"move {k} ({ch}): push with no box ahead")
            beyond = _cell(p, r + 2 * dr, c + 2 * dc)
            if beyond is None or beyond in p.walls or beyond in boxes:
                raise ValueError(f"move {k} ({ch}): pushes a box into a wall or box")
            boxes.remove(nxt)
            boxes.add(beyond)
        r, c = r + dr, c + dc
    return frozenset(boxes), r * p.width + c


def _cell(p: Puzzle, r: int, c: int) -> int | None:
    """Index of (r, c), or None off the grid."""
    return r * p.width + c if 0 <= r < p.height and 0 <= c < p.width else None


def _walkable(start: int, floor: set[int], width: int) -> set[int]:
    """Cells of ``floor`` connected to ``start``."""
    seen, stack = {start}, [start]
    while stack:
        c = stack.pop()
        col = c % width
        for d, ok in ((c - 1, col > 0), (c + 1, col < width - 1), (c - width, True), (c + width, True)):
            if ok and d in floor and d not in seen:
                seen.add(d)
                stack.append(d)
    return seen


def _letters(board: Board) -> dict[int, str]:
    """Lowercase LURD letter of each padded step."""
    return {1: "r", -1: "l", board.W: "d", -board.W: "u"}


def _walk_letters(board: Board, plan: Plan) -> str:
    """Letters for a plan of single player steps, upper case where a box is pushed."""
    letters = _letters(board)
    boxes = set(board.boxes)
    out = []
    for cell, s in plan:
        ch = letters[s]
        if cell + s in boxes:
            boxes.remove(cell + s)
            boxes.add(cell + 2 * s)
            ch = ch.upper()
        out.append(ch)
    return "".join(out)


def _push_letters(board: Board, plan: Plan) -> str:
    """Letters for a plan of pushes, with the walks between them found by BFS (in C where it was built)."""
    native = native_push_letters(board, plan)
    if native is not None:
        return native
    W = board.W
    letters = _letters(board)
    boxes = sum(1 << c for c in board.boxes)
    player = board.player
    out = []
    for b, s in plan:
        free = board.floor_mask & ~boxes
        goal = 1 << (b - s)
        seen = f = 1 << player
        layers = []
        while not seen & goal:
            layers.append(f)
            f = (f << 1 | f >> 1 | f << W | f >> W) & free & ~seen
            if not f:
                raise RuntimeError("internal error: push position unreachable")
            seen |= f
        walk = []
        c = b - s
        for layer in reversed(layers):
            step = next(d for d in letters if (layer >> (c - d)) & 1)
            walk.append(letters[step])
            c -= step
        out.extend(reversed(walk))
        out.append(letters[s].upper())
        boxes ^= 1 << b | 1 << (b + s)
        player = b
    return "".join(out)

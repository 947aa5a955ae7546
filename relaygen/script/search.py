"""Breadth-first search for a won state, many searches at once.

Each search keeps a transposition table on the packed state and expands its frontier in order, as a
plain breadth-first search does, so it finds the same shortest solution and counts the same states.
What is batched is the simulation: each round takes a chunk of every search's frontier and simulates all
their moves together on tall boards (`Game.simulate_turns`), then walks the chunks with the turns already
done. Chunks start at one state and double, so a search that ends early wastes little.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from relaygen.script.game import State

MAX_CHUNK = 128
"""States of one search expanded per round at most (their moves are simulated together)."""


@dataclass(frozen=True)
class Found:
    """A search's answer: ``yes`` (with the shortest solution), ``no`` (every reachable state seen) or
    ``unknown`` (the budget ran out), and the number of states expanded."""

    verdict: str
    solution: str | None
    nodes: int


class _Search:
    """One breadth-first search, advanced a chunk of its frontier at a time."""

    def __init__(self, start: State, moves: str, max_nodes: int | None, deadline: float | None) -> None:
        self.moves, self.max_nodes, self.deadline = moves, max_nodes, deadline
        self.parent: dict[bytes, tuple[bytes, str] | None] = {start.key: None}
        self.frontier = deque([start])
        self.nodes, self.chunk = 0, 1
        self.found = Found("yes", "", 0) if start.won else None

    def take(self) -> list[State]:
        """The states to expand next; none once the search has its answer."""
        if self.found is not None:
            return []
        if not self.frontier:
            self.found = Found("no", None, self.nodes)
            return []
        left = None if self.max_nodes is None else self.max_nodes - self.nodes
        if left == 0 or (self.deadline is not None and time.perf_counter() > self.deadline):
            self.found = Found("unknown", None, self.nodes)
            return []
        size = min(self.chunk, len(self.frontier), MAX_CHUNK if left is None else left)
        self.chunk = min(2 * self.chunk, MAX_CHUNK)
        return [self.frontier.popleft() for _ in range(size)]

    def expand(self, states: list[State]) -> None:
        """Expand ``states`` in order, stopping at the first won state."""
        for state in states:
            self.nodes += 1
            for move in self.moves:
                after = state.move(move)
                if after.won:
                    self.found = Found("yes", self._path(state.key) + move, self.nodes)
                    return
                if after.key not in self.parent:
                    self.parent[after.key] = (state.key, move)
                    self.frontier.append(after)

    def _path(self, key: bytes) -> str:
        steps = []
        while (link := self.parent[key]) is not None:
            key, move = link
            steps.append(move)
        return "".join(reversed(steps))


def solve_many(
    starts: Sequence[State], moves: str, max_nodes: int | None = None, time_limit: float | None = None
) -> list[Found]:
    """Search from each start for a won state with inputs ``moves``; each search may expand ``max_nodes``
    states and run ``time_limit`` seconds (counted from the call, for all searches alike)."""
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    searches = [_Search(start, moves, max_nodes, deadline) for start in starts]
    while True:
        chunks = [search.take() for search in searches]
        turns = [(state, move) for chunk in chunks for state in chunk for move in moves]
        if not turns:
            return [search.found for search in searches]  # type: ignore[misc]
        for game in {id(state.game): state.game for state, _ in turns}.values():
            game.simulate_turns([(state.grid, move) for state, move in turns if state.game is game])
        for search, chunk in zip(searches, chunks, strict=True):
            if chunk:
                search.expand(chunk)

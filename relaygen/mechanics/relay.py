"""Relay: the game of the seed project. A path is carved through rock; the player runs it in legs.

The level carries its leg directions. In each leg the player moves any number of cells in that
leg's direction through open cells, then hands over to the next leg; reaching the end cell wins.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import groupby
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import ndimage

from relaygen.level import DIRECTIONS, Level, LevelError
from relaygen.mechanics.base import (
    Analysis,
    Budget,
    Cell,
    GridMechanic,
    HudSegment,
    PlayState,
    cells_with,
    distances,
    path_moves,
)

if TYPE_CHECKING:
    from relaygen.rules import Rules

_CROSS = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
ARROWS = {"u": "↑", "d": "↓", "l": "←", "r": "→"}
"""How the HUD shows a leg's direction."""


@dataclass(frozen=True)
class Legs:
    """A Relay level's payload: its leg directions, one letter (u/d/l/r) per straight run."""

    directions: str

    def __post_init__(self) -> None:
        bad = set(self.directions) - set(DIRECTIONS)
        if bad:
            raise LevelError(f"legs may hold only u, d, l, r; got {sorted(bad)}")

    def fields(self) -> dict[str, str]:
        return {"legs": self.directions}


def interest(x: float) -> float:
    """The seed project's interest curve over progress x in [0, 1]."""
    return 0.8 * (1 - 1 / (x + 1)) * (x + math.exp(0.05 * x) * math.sin(30 * x)) + 0.2


def run_target(turns_so_far: int, target_turns: float, shorter_side: int) -> float:
    """Target length of a straight run after ``turns_so_far`` turns (9·(1 − f(x)) + 1 on a 14x9 grid)."""
    x = min(turns_so_far / max(target_turns, 1e-9), 1.0)
    return shorter_side * (1 - interest(x)) + 1


def legs_of(moves: str) -> str:
    """The leg directions of a move string: one letter per straight run."""
    return "".join(k for k, _ in groupby(moves))


class Relay(GridMechanic):
    """Relay play. Metrics: turns, how well runs fit the interest curve, clusters, path length."""

    name = "relay"
    required_properties = ("player", "exit")
    metrics = ("turns", "run_fit", "clusters", "path_length")
    own_representations = ("carve", "legs")
    marks_trail = True

    def check_rules(self, rules: Rules) -> list[str]:
        if "carve" in rules.representations and rules.border is not None:
            return ["representations: 'carve' needs a grid without a fixed border"]
        return []

    def read_payload(self, fields: Mapping[str, Any], origin: str) -> Legs | None:
        legs = fields.get("legs") or ""
        if not isinstance(legs, str):
            raise LevelError(f"{origin}: legs must be a string of u, d, l, r")
        try:
            return Legs(legs) if legs else None
        except LevelError as exc:
            raise LevelError(f"{origin}: {exc}") from None

    def hud(self, level: Level, state: PlayState) -> list[HudSegment]:
        legs = self.legs(level)
        if not legs:
            return []
        leg = min(state.leg, len(legs) - 1)
        segments: list[HudSegment] = [(f"leg {leg + 1}/{len(legs)} {ARROWS[legs[leg]]}", "accent")]
        if leg + 1 < len(legs):
            segments.append((f"then {ARROWS[legs[leg + 1]]}", "dim"))
        return segments

    def step(self, level: Level, state: PlayState, move: str) -> PlayState | None:
        legs = self.legs(level)
        if state.leg < len(legs) and move == legs[state.leg]:
            moved = super().step(level, state, move)
        elif state.leg + 1 < len(legs) and move == legs[state.leg + 1]:
            moved = super().step(level, replace(state, leg=state.leg + 1), move)
        else:
            return None
        return moved

    def _enter(self, level: Level, state: PlayState, cell: Cell, delta: Cell) -> PlayState | None:
        moved = super()._enter(level, state, cell, delta)
        return None if moved is None else replace(moved, lost=False)

    def legs(self, level: Level) -> str:
        """The level's legs, or those of its shortest open path when it carries none."""
        if isinstance(level.payload, Legs):
            return level.payload.directions
        starts, ends = cells_with(level, "player"), cells_with(level, "exit")
        if len(starts) != 1 or not ends:
            return ""
        open_cells = ~level.rules.with_property("solid")[level.grid]
        dist = distances(open_cells, starts[0])
        reached = [e for e in ends if dist[e] > 0]
        return legs_of(path_moves(dist, min(reached, key=lambda e: dist[e]))) if reached else ""

    def analyse(self, level: Level, targets: dict[str, tuple[float, float]], budget: Budget) -> Analysis:
        open_cells = ~level.rules.with_property("solid")[level.grid]
        legs = self.legs(level)
        metrics = {"turns": float(max(len(legs) - 1, 0)), "run_fit": 0.0, "clusters": 0.0, "path_length": 0.0}
        starts = cells_with(level, "player")
        exits = level.rules.with_property("exit")[level.grid]
        if len(starts) != 1 or not exits.any() or not legs:
            metrics["clusters"] = float(open_cells.sum())
            return Analysis("no", None, metrics, "needs one start, an end and a path between them")
        solution = _search(open_cells, exits, starts[0], legs)
        if solution is None:
            metrics["clusters"] = float(open_cells.sum())
            return Analysis("no", None, metrics, "no relay of the legs reaches the end")
        runs = [len(list(g)) for _, g in groupby(solution)]
        target_turns = targets.get("turns", (len(runs) - 1,) * 2)[0]
        side = min(level.width, level.height)
        fits = [max(0.0, 1 - abs(n - t) / t) for i, n in enumerate(runs) for t in [run_target(i, target_turns, side)]]
        metrics["run_fit"] = float(np.mean(fits))
        metrics["clusters"] = float(_clusters(open_cells, starts[0], solution))
        metrics["path_length"] = float(len(solution))
        return Analysis("yes", solution, metrics)


def _search(open_cells: np.ndarray, exits: np.ndarray, start: Cell, legs: str) -> str | None:
    """Breadth-first search over (cell, leg): the shortest relay of ``legs`` from start to an end cell."""
    h, w = open_cells.shape
    parent: dict[tuple[Cell, int], tuple[tuple[Cell, int], str] | None] = {(start, 0): None}
    queue = deque([(start, 0)])
    while queue:
        node = queue.popleft()
        (y, x), leg = node
        if exits[y, x] and node != (start, 0):
            moves = []
            while parent[node] is not None:
                node, move = parent[node]  # type: ignore[misc]
                moves.append(move)
            return "".join(reversed(moves))
        for next_leg in (leg, leg + 1):
            if next_leg >= len(legs):
                continue
            dy, dx = DIRECTIONS[legs[next_leg]]
            cell = (y + dy, x + dx)
            child = (cell, next_leg)
            if 0 <= cell[0] < h and 0 <= cell[1] < w and open_cells[cell] and child not in parent:
                parent[child] = (node, legs[next_leg])
                queue.append(child)
    return None


def _clusters(open_cells: np.ndarray, start: Cell, solution: str) -> int:
    """Open cells that touch open cells other than their neighbours along the path (or lie off it)."""
    on_path = np.zeros_like(open_cells)
    links = np.zeros(open_cells.shape, dtype=np.int32)
    y, x = start
    on_path[y, x] = True
    for move in solution:
        links[y, x] += 1
        dy, dx = DIRECTIONS[move]
        y, x = y + dy, x + dx
        on_path[y, x] = True
        links[y, x] += 1
    neighbours = ndimage.convolve(open_cells.astype(np.int32), _CROSS, mode="constant")
    touching = on_path & (neighbours > links)
    return int(touching.sum() + (open_cells & ~on_path).sum())

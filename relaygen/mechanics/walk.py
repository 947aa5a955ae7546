"""Walk: the player walks through non-solid tiles to an exit (the maze game)."""

from __future__ import annotations

import numpy as np

from relaygen.level import Level
from relaygen.mechanics import fastplay
from relaygen.mechanics.base import (
    Analysis,
    Budget,
    GridMechanic,
    cells_with,
    corridor_share,
    distances,
    path_moves,
    regions,
)


def open_cells(level: Level, grid: np.ndarray | None = None) -> np.ndarray:
    """Cells a walker may stand on: neither solid nor a hazard."""
    rules = level.rules
    grid = level.grid if grid is None else grid
    return ~(rules.with_property("solid")[grid] | rules.with_property("hazard")[grid])


class Walk(GridMechanic):
    """Reach an exit from the start; metrics: open regions, the shortest path length, and the
    share of open cells that are corridors (at most two open neighbours)."""

    name = "walk"
    required_properties = ("player", "exit")
    metrics = ("regions", "path_length", "corridor_share")
    own_representations = ("backtrack",)
    analyse_batch = staticmethod(fastplay.walk)

    def analyse(self, level: Level, targets: dict[str, tuple[float, float]], budget: Budget) -> Analysis:
        players, level = cells_with(level, "player"), self.as_played(level)
        walkable = open_cells(level)
        metrics = {
            "regions": float(regions(walkable)),
            "path_length": 0.0,
            "corridor_share": float(corridor_share(walkable)),
        }
        exits = cells_with(level, "exit")
        if len(players) != 1 or not exits:
            return Analysis("no", None, metrics, "needs one player and an exit")
        dist = distances(walkable, players[0])
        reached = [e for e in exits if dist[e] > 0]
        if not reached:
            return Analysis("no", None, metrics, "no exit is reachable from the start")
        nearest = min(reached, key=lambda e: dist[e])
        metrics["path_length"] = float(dist[nearest])
        return Analysis("yes", path_moves(dist, nearest), metrics)

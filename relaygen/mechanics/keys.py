"""Keys: pick up a key, then walk to the door, never touching an enemy (the dungeon game)."""

from __future__ import annotations

from dataclasses import replace

from relaygen.level import Level
from relaygen.mechanics import fastplay
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
    regions,
    without,
)
from relaygen.mechanics.walk import open_cells


class Keys(GridMechanic):
    """Player → key → door. Metrics: regions, path length through the key, enemies and their distance."""

    name = "keys"
    required_properties = ("player", "key", "door")
    metrics = ("regions", "path_length", "enemies", "enemy_distance")
    analyse_batch = staticmethod(fastplay.keys)

    def hud(self, level: Level, state: PlayState) -> list[HudSegment]:
        return [("key: got it", "good") if state.has_key else ("key: not yet", "dim")]

    def _enter(self, level: Level, state: PlayState, cell: Cell, delta: Cell) -> PlayState | None:
        tile = level.rules.tiles[int(state.grid[cell])]
        if tile.solid or (tile.door and not state.has_key):
            return None
        moved = replace(state, player=cell, moves=state.moves + 1, lost=tile.hazard, won=tile.door)
        if tile.key and not state.has_key:
            grid = state.grid.copy()
            grid[cell] = without(level.rules, int(grid[cell]), "key")
            moved = replace(moved, grid=grid, has_key=True)
        return moved

    def analyse(self, level: Level, targets: dict[str, tuple[float, float]], budget: Budget) -> Analysis:
        rules, players, level = level.rules, cells_with(level, "player"), self.as_played(level)
        walkable = open_cells(level)
        doors = rules.with_property("door")[level.grid]
        hazards = cells_with(level, "hazard")
        metrics = {
            "regions": float(regions(walkable)),
            "path_length": 0.0,
            "enemies": float(len(hazards)),
            "enemy_distance": float(level.width + level.height),
        }
        keys, exits = cells_with(level, "key"), cells_with(level, "door")
        if len(players) != 1 or not keys or not exits:
            return Analysis("no", None, metrics, "needs one player, a key and a door")
        to_key = distances(walkable & ~doors, players[0])
        h, w = walkable.shape
        near = [
            to_key[y + dy, x + dx] + 1
            for y, x in hazards
            for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1))
            if 0 <= y + dy < h and 0 <= x + dx < w and to_key[y + dy, x + dx] >= 0
        ]
        if near:
            metrics["enemy_distance"] = float(min(near))
        reached_keys = [k for k in keys if to_key[k] > 0]
        if not reached_keys:
            return Analysis("no", None, metrics, "no key is reachable from the start")
        key = min(reached_keys, key=lambda k: to_key[k])
        to_door = distances(walkable, key)
        reached_doors = [d for d in exits if to_door[d] > 0]
        if not reached_doors:
            return Analysis("no", None, metrics, "no door is reachable from the key")
        door = min(reached_doors, key=lambda d: to_door[d])
        metrics["path_length"] = float(to_key[key] + to_door[door])
        return Analysis("yes", path_moves(to_key, key) + path_moves(to_door, door), metrics)

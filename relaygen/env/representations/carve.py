"""Carve (Relay's representation): a turtle carves a path through a solid grid from a random start."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from relaygen.env.representations.base import Digger, Edits, RepresentationError, random_free_cell
from relaygen.mechanics.relay import Legs
from relaygen.rules import Rules

if TYPE_CHECKING:
    from relaygen.env.vector import BatchedLevelEnv

HEADINGS = "urdl"
"""Headings 0..3 in clockwise order, as move letters."""
DELTAS = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])
FORWARD, LEFT, RIGHT, END = range(4)


class Carve(Digger):
    """Actions, relative to the turtle's heading: ``0`` forward, ``1`` turn left, ``2`` turn right
    (each turn also steps one cell, carving it), ``3`` end (put the end tile under the turtle).

    The map starts filled with the rules' solid ``start_map`` tile, with the start tile on a random
    cell and a random heading. A move off the grid, into a carved or frozen cell, or ending on the
    start costs ``penalty`` and is replaced by a random valid move (by ``end`` if the turtle is
    boxed in; if it cannot end either, the episode ends). The level's legs are the runs of the
    carved path. The crop is rotated so the turtle always faces up.
    """

    name = "carve"

    def check(self, rules: Rules) -> None:
        super().check(rules)
        if rules.start_map == "random" or not rules.tiles[rules.tile_index[rules.start_map]].solid:
            raise RepresentationError(f"{self.name}: rules {rules.name!r} need a solid start_map tile to carve")
        try:
            self.path, self.start, self.end = (rules.tile_of(), rules.tile_of(player=True), rules.tile_of(exit=True))
        except KeyError as exc:
            raise RepresentationError(
                f"{self.name}: {exc.args[0]} (needs a plain tile, a player and an exit)"
            ) from None
        self.rock = rules.tile_index[rules.start_map]

    def n_actions(self) -> int:
        return 4

    def bind(self, n: int) -> None:
        self.heading = np.zeros(n, np.int64)

    def reset(self, env: BatchedLevelEnv, i: int) -> None:
        env.cursor[i] = random_free_cell(env, i)
        env.grid[i][tuple(env.cursor[i])] = self.start
        self.heading[i] = env.rngs[i].integers(4)

    def act(self, env: BatchedLevelEnv, index: np.ndarray, actions: np.ndarray) -> Edits:
        edits = Edits.none(len(index))
        for j, (i, action) in enumerate(zip(index.tolist(), actions.tolist(), strict=True)):
            moves = [k for k in (FORWARD, LEFT, RIGHT) if self._open(env, i, k)]
            legs = env.payloads[i]
            can_end = isinstance(legs, Legs)
            if not (action in moves or (action == END and can_end)):
                edits.penalty[j] = -self.penalty
                if moves:
                    action = moves[int(env.rngs[i].integers(len(moves)))]
                elif can_end:
                    action = END
                else:
                    edits.end[j] = True
                    continue
            if action == END:
                edits.tiles[j], edits.end[j] = self.end, True
            else:
                heading = self._turned(i, action)
                self.heading[i] = heading
                env.cursor[i] += DELTAS[heading]
                directions = legs.directions if isinstance(legs, Legs) else ""
                if not directions.endswith(HEADINGS[heading]):
                    env.payloads[i] = Legs(directions + HEADINGS[heading])
                edits.tiles[j] = self.path
            edits.cells[j] = env.cursor[i, 0] * env.width + env.cursor[i, 1]
        return edits

    def _turned(self, i: int, action: int) -> int:
        return int((self.heading[i] + (0, -1, 1)[action]) % 4)

    def _open(self, env: BatchedLevelEnv, i: int, action: int) -> bool:
        y, x = env.cursor[i] + DELTAS[self._turned(i, action)]
        return 0 <= y < env.height and 0 <= x < env.width and not env.frozen[i, y, x] and env.grid[i, y, x] == self.rock

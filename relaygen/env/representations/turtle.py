"""Turtle: the agent moves a cursor one cell in four directions, or puts a tile under it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from relaygen.env.representations.base import Edits, Representation, random_free_cell

if TYPE_CHECKING:
    from relaygen.env.vector import BatchedLevelEnv

MOVES = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])
"""Actions 0..3: up, down, left, right."""


class Turtle(Representation):
    """Actions: ``0..3`` move the cursor up, down, left, right (it stays inside the editable
    area: the grid less a fixed border); ``4 + t`` puts tile ``t`` under the cursor."""

    name = "turtle"
    tile_actions = len(MOVES)

    def n_actions(self) -> int:
        return len(MOVES) + len(self.rules.tiles)

    def reset(self, env: BatchedLevelEnv, i: int) -> None:
        env.cursor[i] = random_free_cell(env, i)

    def act(self, env: BatchedLevelEnv, index: np.ndarray, actions: np.ndarray) -> Edits:
        edits = Edits.none(len(index))
        move = actions < len(MOVES)
        inset = 0 if self.rules.border is None else 1
        step = MOVES[np.where(move, actions, 0)] * move[:, None]
        cursor = np.clip(env.cursor[index] + step, inset, [env.height - 1 - inset, env.width - 1 - inset])
        env.cursor[index] = cursor
        place = ~move
        edits.cells[place] = cursor[place, 0] * env.width + cursor[place, 1]
        edits.tiles[place] = actions[place] - len(MOVES)
        return edits

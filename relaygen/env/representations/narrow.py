"""Narrow: the agent is shown one cell at a time and picks the tile to put there, or leaves it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from relaygen.env.representations.base import Edits, Representation
from relaygen.rules import Rules

if TYPE_CHECKING:
    from relaygen.env.vector import BatchedLevelEnv


class Narrow(Representation):
    """Actions: ``0 .. n_tiles - 1`` put that tile on the shown cell, ``n_tiles`` leaves it.

    The shown cell walks over the editable (not frozen) cells: in reading order from a random
    first cell (``order="sequential"``, the default) or drawn at random each step (``"random"``).
    """

    name = "narrow"

    def __init__(self, rules: Rules, order: Literal["sequential", "random"] = "sequential", **options: Any) -> None:
        super().__init__(rules, **options)
        if order not in ("sequential", "random"):
            raise ValueError(f"narrow: order must be 'sequential' or 'random', got {order!r}")
        self.order = order

    def bind(self, n: int) -> None:
        self._cells = np.zeros((n, self.rules.height * self.rules.width), np.int64)
        self._count = np.ones(n, np.int64)
        self._at = np.zeros(n, np.int64)

    def n_actions(self) -> int:
        return len(self.rules.tiles) + 1

    def reset(self, env: BatchedLevelEnv, i: int) -> None:
        free = np.flatnonzero(~env.frozen[i])
        self._count[i] = max(len(free), 1)
        self._cells[i, : len(free)] = free
        self._at[i] = env.rngs[i].integers(self._count[i])
        self._show(env, np.array([i]))

    def act(self, env: BatchedLevelEnv, index: np.ndarray, actions: np.ndarray) -> Edits:
        edits = Edits.none(len(index))
        place = actions < len(self.rules.tiles)
        edits.cells[place] = self._cells[index, self._at[index]][place]
        edits.tiles[place] = actions[place]
        if self.order == "sequential":
            self._at[index] = (self._at[index] + 1) % self._count[index]
        else:
            self._at[index] = [env.rngs[i].integers(self._count[i]) for i in index]
        self._show(env, index)
        return edits

    def _show(self, env: BatchedLevelEnv, index: np.ndarray) -> None:
        cell = self._cells[index, self._at[index]]
        env.cursor[index, 0], env.cursor[index, 1] = np.divmod(cell, env.width)

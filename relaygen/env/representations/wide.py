"""Wide: the agent picks any cell and the tile to put there in one action."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from relaygen.env.representations.base import Edits, Representation

if TYPE_CHECKING:
    from relaygen.env.vector import BatchedLevelEnv


class Wide(Representation):
    """Action ``tile * (H * W) + cell`` puts ``tile`` on ``cell = row * W + col`` (frozen cells,
    the border included, stay as they are). The observation is the whole map; the ``position``
    entry is the cell of the last action ((0, 0) after reset)."""

    name = "wide"
    egocentric = False
    spatial_actions = True

    def n_actions(self) -> int:
        return len(self.rules.tiles) * self.rules.height * self.rules.width

    def reset(self, env: BatchedLevelEnv, i: int) -> None:
        env.cursor[i] = 0

    def act(self, env: BatchedLevelEnv, index: np.ndarray, actions: np.ndarray) -> Edits:
        edits = Edits.none(len(index))
        tiles, edits.cells[:] = np.divmod(actions, env.height * env.width)
        edits.tiles[:] = tiles
        env.cursor[index] = np.stack(np.divmod(edits.cells, env.width), axis=1)
        return edits

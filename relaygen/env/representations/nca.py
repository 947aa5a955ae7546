"""NCA: every step, the agent proposes a tile (or to keep the tile) for every cell at once.

After the neural cellular automaton representation of PCGRL+ (Earle et al. 2024): a fully
convolutional policy rewrites the whole map in parallel, so a level takes a few steps instead of
hundreds, and the policy does not depend on the map's size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from relaygen.env.representations.base import Edits, Representation

if TYPE_CHECKING:
    from relaygen.env.vector import BatchedLevelEnv


class Nca(Representation):
    """Action: an ``(H, W)`` array; ``a[y, x] = t < n`` puts tile ``t`` on cell ``(y, x)`` and
    ``a[y, x] = n`` keeps it (frozen cells always keep theirs). Episodes are ``STEPS`` steps long
    (or end early when every objective is met); there is no change limit. The observation is the
    whole map; ``position`` is unused (0, 0)."""

    name = "nca"
    egocentric = False
    cellwise_actions = True
    change_limit = 1.0
    STEPS = 16
    """Default steps per episode."""

    def n_actions(self) -> int:
        return len(self.rules.tiles) + 1

    def default_max_steps(self) -> int:
        return self.STEPS

    def reset(self, env: BatchedLevelEnv, i: int) -> None:
        env.cursor[i] = 0

    def act(self, env: BatchedLevelEnv, index: np.ndarray, actions: np.ndarray) -> Edits:
        edits = Edits.none(len(index))
        edits.proposal = np.where(actions < len(self.rules.tiles), actions, -1)
        return edits

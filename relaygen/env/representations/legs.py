"""Legs (Relay's, the seed's way): each action lays one whole leg of the path, its turn and its length."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from relaygen.env.representations.base import COND_CAP, Edits
from relaygen.env.representations.carve import DELTAS, HEADINGS, Carve
from relaygen.mechanics.relay import Legs as LegsPayload
from relaygen.mechanics.relay import run_target
from relaygen.rules import Rules

if TYPE_CHECKING:
    from relaygen.env.vector import BatchedLevelEnv

LEG_SCALE = 16.0
"""Leg and turn counts in the observation are divided by this (a constant, the same at any size)."""
SPREAD = 4
"""A leg may be up to this many cells shorter or longer than the curve's target for it."""


class Legs(Carve):
    """Actions: ``2·(offset + SPREAD) + side`` turns left (side 0) or right (side 1) and lays a
    straight leg whose length is the interest curve's target for it (``run_target``, rounded) plus
    ``offset`` in [−SPREAD, SPREAD], within 1 and the grid's longer side − 1; the last action,
    ``2·(2·SPREAD + 1)``, ends the level.

    The seed project's levels were legs whose lengths follow its interest curve, and so are these:
    one decision per leg, where carve takes one per cell. The map starts filled with the rules'
    solid ``start_map`` tile, with the start tile on a random cell and a random heading. A leg stops
    early rather than leave the grid or touch the path anywhere but where it joins it, so every
    level is one path with no clusters. The end tile goes with the head of the path, so every step
    leaves a whole level, scored in full: the reward pays each leg for what it does to every
    objective (turns, how well its run fits the curve, path length), and the episode ends as soon
    as all are met. A leg with no room at all on the chosen side takes the other side; with no room
    on either, the level ends there (an invalid action costs ``penalty``, as does ending before the
    first leg, which lays a random leg instead).

    ``cond`` ends with what the policy needs to follow the curve: the legs laid, the next run's
    target length (``run_target`` at the episode's turn target), the turns laid minus the low and
    minus the high end of the turns target, the room for a leg to the left and to the right, and
    the run fit so far. The crop is rotated so the head faces up.
    """

    name = "legs"
    n_features = 7

    def check(self, rules: Rules) -> None:
        super().check(rules)
        self.longest = max(rules.width, rules.height) - 1
        self.turns_objective = any(o.metric == "turns" for o in rules.objectives)

    def n_actions(self) -> int:
        return 2 * (2 * SPREAD + 1) + 1

    def length(self, i: int, action: int) -> int:
        """The cells a leg of ``action`` asks for in environment ``i``: the curve's target plus its offset."""
        target = round(self.run_target(i, int(self.legs[i])))
        return int(np.clip(target + action // 2 - SPREAD, 1, self.longest))

    def default_max_steps(self) -> int:
        return self.rules.editable_cells

    def bind(self, n: int) -> None:
        self.heading = np.zeros(n, np.int64)
        self.curve_turns = np.zeros(n)
        """Each episode's turn target (its low end), over which the interest curve is laid."""
        self.turn_range = np.zeros((n, 2))
        self.fit_sum = np.zeros(n)
        self.legs = np.zeros(n, np.int64)

    def reset(self, env: BatchedLevelEnv, i: int) -> None:
        super().reset(env, i)
        self.fit_sum[i] = self.legs[i] = 0
        if self.turns_objective:
            self.turn_range[i] = env.rules.targets(float(env.difficulties[i]))["turns"]
            self.curve_turns[i] = self.turn_range[i, 0]
        else:
            self.turn_range[i] = (0.0, np.inf)
            self.curve_turns[i] = 0.0

    def act(self, env: BatchedLevelEnv, index: np.ndarray, actions: np.ndarray) -> Edits:
        edits = Edits.none(len(index))
        edits.proposal = np.full((len(index), env.height, env.width), -1, np.int64)
        end = self.n_actions() - 1
        for j, (i, action) in enumerate(zip(index.tolist(), actions.tolist(), strict=True)):
            laid = self.legs[i] > 0
            if action == end and laid:
                edits.end[j] = True
                continue
            if action == end:
                edits.penalty[j] = -self.penalty
                action = int(env.rngs[i].integers(end))
            n, side = self.length(i, action), action % 2
            heading = self._turned(i, side)
            cells = self.room(env, i, heading, n)
            if not cells:
                edits.penalty[j] = -self.penalty
                heading = self._turned(i, 1 - side)
                cells = self.room(env, i, heading, n)
            if not cells:
                edits.end[j] = True
                continue
            self._lay(env, i, j, heading, cells, edits.proposal)
        return edits

    def _lay(
        self, env: BatchedLevelEnv, i: int, j: int, heading: int, cells: list[tuple[int, int]], proposal: np.ndarray
    ) -> None:
        """Lay one leg of ``cells`` heading ``heading``: the old head becomes path, the new one the end."""
        head = tuple(env.cursor[i])
        if self.legs[i] > 0:
            proposal[j][head] = self.path
        for cell in cells[:-1]:
            proposal[j][cell] = self.path
        proposal[j][cells[-1]] = self.end
        target = self.run_target(i, int(self.legs[i]))
        self.fit_sum[i] += max(0.0, 1.0 - abs(len(cells) - target) / target)
        self.legs[i] += 1
        self.heading[i] = heading
        env.cursor[i] = cells[-1]
        legs = env.payloads[i]
        env.payloads[i] = LegsPayload((legs.directions if isinstance(legs, LegsPayload) else "") + HEADINGS[heading])

    def run_target(self, i: int, leg: int) -> float:
        """The interest curve's length for leg ``leg`` of environment ``i`` (as the playtest's run_fit)."""
        turns = self.curve_turns[i] if self.turns_objective else max(leg, 1)
        return run_target(leg, turns, min(self.rules.width, self.rules.height))

    def room(self, env: BatchedLevelEnv, i: int, heading: int, most: int) -> list[tuple[int, int]]:
        """The cells (at most ``most``) a leg from the head of environment ``i`` heading ``heading``
        can take: solid, not frozen, inside the grid, touching the path only where it joins it."""
        grid, frozen = env.grid[i], env.frozen[i]
        (y, x), (dy, dx) = env.cursor[i], DELTAS[heading]
        out: list[tuple[int, int]] = []
        for _ in range(most):
            y, x = y + dy, x + dx
            if not (0 <= y < env.height and 0 <= x < env.width) or frozen[y, x] or grid[y, x] != self.rock:
                break
            side = [(y + a, x + b) for a, b in DELTAS if (a, b) != (-dy, -dx)]
            if any(0 <= v < env.height and 0 <= u < env.width and grid[v, u] != self.rock for v, u in side):
                break
            out.append((y, x))
        return out

    def features(self, env: BatchedLevelEnv, index: np.ndarray) -> np.ndarray:
        out = np.zeros((len(index), self.n_features), np.float32)
        for j, i in enumerate(index.tolist()):
            legs, turns = int(self.legs[i]), max(int(self.legs[i]) - 1, 0)
            lo, hi = self.turn_range[i]
            left = len(self.room(env, i, self._turned(i, 0), self.longest))
            right = len(self.room(env, i, self._turned(i, 1), self.longest))
            out[j] = (
                legs / LEG_SCALE,
                self.run_target(i, legs) / self.longest,
                (turns - lo) / LEG_SCALE,
                (turns - hi) / LEG_SCALE if np.isfinite(hi) else -COND_CAP,
                left / self.longest,
                right / self.longest,
                self.fit_sum[i] / legs if legs else 0.0,
            )
        return np.clip(out, -COND_CAP, COND_CAP)

    def _turned(self, i: int, side: int) -> int:
        """The heading after a left (0) or right (1) turn; the first leg turns from the random start heading."""
        return int((self.heading[i] + (-1, 1)[side]) % 4)

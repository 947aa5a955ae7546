"""Backtrack: a digger carves a tree of one-cell corridors through a solid grid, as the recursive
backtracker does, with the policy choosing where to dig and where to put the exit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from relaygen.env.representations.base import COND_CAP, Digger, Edits, RepresentationError
from relaygen.rules import Rules
from relaygen.score import target_distance

if TYPE_CHECKING:
    from relaygen.env.vector import BatchedLevelEnv

DELTAS = ((-1, 0), (0, 1), (1, 0), (0, -1))
"""Headings 0..3 (up, right, down, left: clockwise) as (row, column) steps."""
FORWARD, LEFT, RIGHT, EXIT = range(4)
TURNS = (0, -1, 1)
"""Heading change of a forward, left and right dig."""
PATH_SCALE = 64.0
"""Path lengths in the observation are divided by this (a constant, so that it means the same at any size)."""


class Backtrack(Digger):
    """Actions, relative to the digger's heading: ``0`` dig forward, ``1`` dig left, ``2`` dig right,
    ``3`` put the exit here.

    The map starts solid (the rules' solid tile) with the start tile on a random cell of the lattice
    of every second row and column (counted from the first editable one). A dig moves two cells,
    carving the wall between and the next lattice cell, which must not be dug yet; when the digger
    is boxed in, it backs up along its way to the last cell with a way on (no action needed). The
    episode ends when it is back at the start with nowhere to dig: every lattice cell it could reach
    is dug, so the level is one region and a tree of corridors (a perfect maze). Then the exit is
    put where the policy chose (so that choosing early earns nothing sooner), or, if it never chose,
    on the dug cell farthest from the start. An invalid action costs ``penalty`` and is replaced by
    a random valid dig.

    Until the exit is put, the level is one region and unplayable whatever is dug, so it is scored
    only at the end (``scores_at_end``). The corridors form a tree, so the way back from the digger is the level's path if the exit goes
    there. As in controllable PCGRL (Earle et al. 2021), the policy sees that prospective metric
    against its target: ``cond`` ends with the way back's length minus the low and minus the high
    end of the episode's ``path_length`` target (0 and 0 when the rules set none), whether the exit
    is chosen, and how far the chosen exit's path lies outside the target; lengths are divided by
    :data:`PATH_SCALE`. The crop is rotated so the digger faces up.
    """

    name = "backtrack"
    n_features = 4
    scores_at_end = True

    def check(self, rules: Rules) -> None:
        super().check(rules)
        try:
            self.floor, self.rock = rules.tile_of(), rules.tile_of(solid=True)
            self.start, self.exit = rules.tile_of(player=True), rules.tile_of(exit=True)
        except KeyError as exc:
            raise RepresentationError(
                f"backtrack: {exc.args[0]} (needs a plain, a solid, a player and an exit tile)"
            ) from None
        self.origin = 0 if rules.border is None else 1

    def n_actions(self) -> int:
        return 4

    def bind(self, n: int) -> None:
        h, w = self.rules.height, self.rules.width
        self.heading = np.zeros(n, np.int64)
        self.diggable = np.zeros((n, h + 4, w + 4), bool)
        """Lattice cells not dug yet and not frozen, in a margin of 2 (so no dig needs a bounds check)."""
        self.passable = np.zeros((n, h + 4, w + 4), bool)
        """Cells of the grid that are not frozen, in the same margin."""
        self.stacks: list[list[tuple[int, int, int]]] = [[] for _ in range(n)]
        self.exit_cell: list[tuple[int, int] | None] = [None] * n
        self.exit_length = np.zeros(n)
        self.target = np.zeros((n, 2))
        self.farthest: list[tuple[int, int, int]] = [(0, 0, 0)] * n
        """Per environment: the dug cell farthest from the start and its depth (digs from the start)."""

    def reset(self, env: BatchedLevelEnv, i: int) -> None:
        grid, frozen, o = env.grid[i], env.frozen[i], self.origin
        grid[~frozen] = self.rock
        lattice = np.zeros_like(frozen)
        lattice[o : env.height - o : 2, o : env.width - o : 2] = True
        cells = np.flatnonzero(lattice & ~frozen)
        y, x = divmod(int(cells[env.rngs[i].integers(len(cells))]) if len(cells) else 0, env.width)
        grid[y, x] = self.start
        self.diggable[i], self.passable[i] = False, False
        self.diggable[i, 2:-2, 2:-2] = lattice & ~frozen
        self.diggable[i, y + 2, x + 2] = False
        self.passable[i, 2:-2, 2:-2] = ~frozen
        self.stacks[i] = [(y, x, int(env.rngs[i].integers(4)))]
        self.exit_cell[i], self.exit_length[i] = None, 0.0
        self.target[i] = self.rules.targets(float(env.difficulties[i])).get("path_length", (0.0, 0.0))
        self.farthest[i] = (y, x, 0)
        self._back_up(env, i)

    def act(self, env: BatchedLevelEnv, index: np.ndarray, actions: np.ndarray) -> Edits:
        edits = Edits.none(len(index))
        edits.proposal = np.full((len(index), env.height, env.width), -1, np.int64)
        for j, (i, action) in enumerate(zip(index.tolist(), actions.tolist(), strict=True)):
            stack = self.stacks[i]
            if not stack:  # the start was boxed in from the beginning
                edits.end[j] = True
                continue
            y, x, heading = stack[-1]
            digs = [k for k in (FORWARD, LEFT, RIGHT) if self._open(i, y, x, (heading + TURNS[k]) % 4)]
            can_exit = self.exit_cell[i] is None and len(stack) > 1
            if not (action in digs or (action == EXIT and can_exit)):
                edits.penalty[j] = -self.penalty
                action = digs[int(env.rngs[i].integers(len(digs)))]
            if action == EXIT:
                self.exit_cell[i], self.exit_length[i] = (y, x), 2.0 * (len(stack) - 1)
                continue
            heading = (heading + TURNS[action]) % 4
            dy, dx = DELTAS[heading]
            edits.proposal[j, y + dy, x + dx] = edits.proposal[j, y + 2 * dy, x + 2 * dx] = self.floor
            self.diggable[i, y + 2 * dy + 2, x + 2 * dx + 2] = False
            stack.append((y + 2 * dy, x + 2 * dx, heading))
            if len(stack) - 1 > self.farthest[i][2]:
                self.farthest[i] = (y + 2 * dy, x + 2 * dx, len(stack) - 1)
            if not self._back_up(env, i):
                edits.end[j] = True
                far_y, far_x, depth = self.farthest[i]
                exit_cell = self.exit_cell[i] or ((far_y, far_x) if depth else None)
                if exit_cell is not None:
                    edits.proposal[j][exit_cell] = self.exit
        return edits

    def features(self, env: BatchedLevelEnv, index: np.ndarray) -> np.ndarray:
        """Per row: the way back's length minus the target's ends, whether the exit is chosen, and
        how far the chosen exit's path length lies outside the target (see the class docstring)."""
        here = np.array([2.0 * max(len(self.stacks[i]) - 1, 0) for i in index.tolist()])
        lo, hi = self.target[index].T
        chosen = np.array([self.exit_cell[i] is not None for i in index.tolist()], np.float64)
        off = target_distance(self.exit_length[index], lo, hi)
        columns = [(here - lo) / PATH_SCALE, (here - hi) / PATH_SCALE, chosen, chosen * off / PATH_SCALE]
        return np.clip(np.stack(columns, axis=1), -COND_CAP, COND_CAP).astype(np.float32)

    def _back_up(self, env: BatchedLevelEnv, i: int) -> bool:
        """Pop environment ``i``'s way back to the last cell with a dig open (at the start, any of the
        four directions) and put the digger there; False if there is none (the maze is complete)."""
        stack = self.stacks[i]
        while stack:
            y, x, heading = stack[-1]
            if any(self._open(i, y, x, (heading + turn) % 4) for turn in TURNS):
                self.heading[i], env.cursor[i] = heading, (y, x)
                return True
            if len(stack) == 1 and self._open(i, y, x, (heading + 2) % 4):
                stack[-1] = (y, x, (heading + 2) % 4)
                continue
            stack.pop()
        return False

    def _open(self, i: int, y: int, x: int, heading: int) -> bool:
        """Whether a dig from (y, x) towards ``heading`` passes an unfrozen cell to a diggable one."""
        dy, dx = DELTAS[heading]
        return bool(self.diggable[i, y + 2 * dy + 2, x + 2 * dx + 2] and self.passable[i, y + dy + 2, x + dx + 2])

"""A play session as PuzzleScript's own test runner drives one: levels advance on a win, messages and the
title screen stop win checks, undo keeps a history, restart returns to the level start or checkpoint.

Used to replay PuzzleScript's test suite (inputs 0-4 = u l d r x, 'undo', 'restart', 'tick') and to
serialise the level as that suite records it.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from relaygen.script.board import unpack
from relaygen.script.errors import ScriptError
from relaygen.script.game import MAX_AGAIN_TURNS, Game, Outcome, load_game

SUITE_INPUTS = {0: "u", 1: "l", 2: "d", 3: "r", 4: "x"}


class Session:
    """PuzzleScript's front end around a Game, for one level index and what follows it."""

    def __init__(self, game: Game, index: int) -> None:
        self.game = game
        self.index = index
        self.text_mode = False
        self.undo: list[np.ndarray] = []
        self.grid = self.target = np.zeros((1, 0, 0), dtype=np.uint64)
        self._load(index)

    def _load(self, index: int) -> None:
        """Go to LEVELS entry `index`: a level starts fresh, a message keeps the old board on screen."""
        self.index = index
        level = self.game.levels[index]
        if level.message is not None:
            self.text_mode = True
            return
        self.text_mode = False
        self.undo = []
        self.grid = self.game.start_grid(index)
        self.target = self.grid
        if self.game.flag("run_rules_on_level_start"):
            self._settle(self.game.process(self.grid, self.target, None, no_win=True, undo=self.undo))

    def _settle(self, out: Outcome) -> None:
        """Take a turn's outcome, advance on a win, and run again turns while they are pending."""
        turns = 0
        while True:
            self.grid, self.target = out.grid, out.target
            again = self._win(out) if out.won else out.again
            if not again or turns == MAX_AGAIN_TURNS:
                return
            out = self._process(None)
            turns += 1

    def _next_is_level(self) -> bool:
        levels = self.game.levels
        return self.index + 1 < len(levels) and levels[self.index + 1].message is None

    def _win(self, out: Outcome) -> bool:
        """PuzzleScript's test runner goes straight to the next entry; returns whether again is pending."""
        if self._next_is_level():
            self._load(self.index + 1)
            return False
        self.text_mode = True
        self.index = min(self.index + 1, len(self.game.levels) - 1)
        return out.again

    def _process(self, move: str | None) -> Outcome:
        return self.game.process(self.grid, self.target, move, undo=self.undo, text_mode=self.text_mode,
                                 stop_on_win=self._next_is_level())  # fmt: skip

    def input(self, value: int | str) -> None:
        """One entry of a test's input list."""
        if value == "undo":
            self._undo()
        elif value == "restart":
            self._restart()
        else:
            self._settle(self._process(None if value == "tick" else SUITE_INPUTS[int(value)]))

    def _undo(self) -> None:
        if self.game.flag("noundo"):
            return
        while self.undo and np.array_equal(self.undo[-1], self.grid):
            self.undo.pop()
        if self.undo:
            self.grid = self.undo.pop()

    def _restart(self) -> None:
        if self.game.flag("norestart"):
            return
        self.undo.append(self.grid)
        grid, target, again = self.game.restart(self.target, self.undo)
        self._settle(Outcome(grid, target, True, False, again))

    def serialise(self) -> str:
        """The level as PuzzleScript's convertLevelToString writes it (cells column by column)."""
        rows = unpack(self.grid)
        height, width = len(rows), len(rows[0]) if rows else 0
        names = self.game.object_names
        seen: dict[str, int] = {}
        out = []
        for i, (x, y) in enumerate((x, y) for x in range(width) for y in range(height)):
            mask = rows[y][x]
            key = " ".join(sorted(n for b, n in enumerate(names) if mask >> b & 1))
            if key not in seen:
                seen[key] = len(seen)
                out.append(key + ":")
            out.append(f"{seen[key]},")
            if (i + 1) % width == 0:
                out.append("\n")
        return "".join(out)


def replay(source: str, inputs: list, index: int = 0, game: Game | None = None) -> str:
    """Replay one PuzzleScript test case: load level `index`, feed the inputs, return the serialised level."""
    session = Session(game if game is not None else load_game(source), int(index))
    for value in inputs:
        session.input(value)
    return session.serialise()


@dataclass(frozen=True)
class CaseResult:
    """One replayed suite case: status is 'pass', 'fail' (wrong level), 'skip' (unsupported) or 'error'."""

    name: str
    status: str
    reason: str = ""


def load_suite(path: str | Path) -> list[tuple[str, list]]:
    """PuzzleScript's test suite as vendored: [name, [source, inputs, expected, (level, seed, sounds)]]."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def run_case(name: str, data: list) -> CaseResult:
    """Replay one suite case and compare the final level with the recorded one (sounds are not compared)."""
    try:
        game = load_game(data[0])
    except ScriptError as err:
        status = "skip" if err.reason.startswith("unsupported feature") else "error"
        return CaseResult(name, status, str(err))
    try:
        got = replay(data[0], data[1], data[3] if len(data) > 3 and data[3] is not None else 0, game)
    except ScriptError as err:
        return CaseResult(name, "error", str(err))
    return CaseResult(name, "pass" if got == data[2] else "fail", "" if got == data[2] else "final level differs")

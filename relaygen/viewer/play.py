"""Playing levels by hand (``relaygen play``): one session over a list of levels.

Moves go through the level's mechanic (``mechanic.step``), the same simulator the playtester
searches with, so what a person can do here is exactly what the playtester judged. The session
is plain logic — key names in, state out — and draws itself onto any surface; the window loop
lives in :mod:`relaygen.viewer`.
"""

from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from relaygen.files import atomic_write
from relaygen.formats import level_files, read_levels
from relaygen.level import LevelError
from relaygen.mechanics import Mechanic, get_mechanic
from relaygen.mechanics.base import PlayedState, Tone
from relaygen.playtest import Report, playtest
from relaygen.render import grid_surface
from relaygen.viewer import KeyTable, dispatch, hud

if TYPE_CHECKING:
    import pygame

    from relaygen.level import Level
    from relaygen.rules import Rules

RATINGS_FILE = "ratings.json"

KEYS: KeyTable = {
    **dict.fromkeys(("up", "w"), ("move", "u")),
    **dict.fromkeys(("down", "s"), ("move", "d")),
    **dict.fromkeys(("left", "a"), ("move", "l")),
    **dict.fromkeys(("right", "d"), ("move", "r")),
    **dict.fromkeys(("z", "backspace"), ("undo",)),
    "r": ("restart",),
    "n": ("next_level", "1"),
    "p": ("next_level", "-1"),
    "home": ("goto", "0"),
    "end": ("goto", "-1"),
    **dict.fromkeys(("S", "tab"), ("solve",)),
    "space": ("pause",),
    **dict.fromkeys(("+", "=", "[+]"), ("faster", "2")),
    **dict.fromkeys(("-", "[-]"), ("faster", "0.5")),
    "k": ("rate", "keep"),
    "x": ("rate", "reject"),
    **dict.fromkeys(("h", "?"), ("toggle_help",)),
    "escape": ("back",),
}
"""Key name → (method, argument...): the whole keyboard of the play session."""

HELP = [
    ("arrows / WASD", "move; push boxes; in Relay, run the leg or turn to hand over"),
    ("Z / Backspace", "undo"),
    ("R", "restart the level"),
    ("N / P", "next / previous level"),
    ("Home / End", "first / last level"),
    ("Shift+S / Tab", "play the solver's solution"),
    ("Space   + / -", "pause, faster / slower while it plays"),
    ("K / X", f"keep / reject the level, then go to the next (saved in {RATINGS_FILE})"),
    ("H / ?", "show or hide these keys"),
    ("Esc", "stop the solution, close this help, or quit"),
]

RATED = {"keep": "kept", "reject": "rejected"}
"""A rating as the HUD reports it."""

VERDICT_COLOR = {"yes": hud.GOOD, "no": hud.BAD, "unknown": hud.WARN}
TONES: dict[Tone, hud.Color] = {
    "text": hud.TEXT,
    "dim": hud.DIM,
    "good": hud.GOOD,
    "bad": hud.BAD,
    "accent": hud.ACCENT,
}
"""The colour of each tone a mechanic's HUD text asks for."""


@dataclass
class Entry:
    """A level and the key its rating is stored under (its file name, plus ``#n`` in a many-level file)."""

    key: str
    level: Level


@dataclass
class Animation:
    """The solver's solution being played back."""

    moves: str
    done: int = 0
    paused: bool = False
    clock: float = 0.0


def load_entries(path: str | Path, rules: Rules | None = None) -> tuple[list[Entry], Path]:
    """The levels in a file or folder, each with its rating key, and the ratings file beside them."""
    path = Path(path)
    entries = []
    for file in level_files(path):
        levels = read_levels(file, rules)
        entries += [Entry(file.name if len(levels) == 1 else f"{file.name}#{i}", lv) for i, lv in enumerate(levels, 1)]
    return entries, (path if path.is_dir() else path.parent) / RATINGS_FILE


def read_ratings(path: Path | None) -> dict[str, str]:
    """The ratings stored in ``path`` (empty when there is no such file)."""
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LevelError(f"{path}: cannot read the ratings: {exc}") from None
    if not isinstance(data, dict):
        raise LevelError(f"{path}: ratings must be a JSON object of level → keep/reject")
    return {str(k): str(v) for k, v in data.items()}


def _difficulty(level: Level) -> float:
    value = level.meta.get("difficulty")
    return float(value) if isinstance(value, int | float) and 0 <= value <= 1 else 0.5


class PlaySession:
    """Levels, the one being played, its move history, the solver animation and the ratings."""

    keys = KEYS

    def __init__(self, entries: list[Entry], ratings_path: Path | None = None) -> None:
        if not entries:
            raise LevelError("no levels to play")
        self.entries = entries
        self.ratings_path = ratings_path
        self.ratings = read_ratings(ratings_path)
        self.running = True
        self.show_help = False
        self.speed = 8.0
        """Solution playback speed in moves per second."""
        self.index = 0
        self.message = ""
        self.animation: Animation | None = None
        self.by_solver = False
        self.state: PlayedState | None = None
        self.history: list[PlayedState] = []
        self.problem = ""
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._reports: dict[int, Future[Report]] = {}
        self.goto(0)

    @classmethod
    def from_path(cls, path: str | Path, rules: Rules | None = None) -> PlaySession:
        """A session over the levels in a file or folder, rating into ``ratings.json`` beside them."""
        return cls(*load_entries(path, rules))

    # ----- what is being played ------------------------------------------------------------------

    @property
    def level(self) -> Level:
        return self.entries[self.index].level

    @property
    def mechanic(self) -> Mechanic[Any]:
        """The rules of motion of the current level."""
        return get_mechanic(self.level.rules.mechanic)

    @property
    def won(self) -> bool:
        return self.state is not None and self.state.won

    def grid(self) -> np.ndarray:
        """The level as it stands now (the player and boxes where they are)."""
        if self.state is None:
            return self.level.grid
        return self.mechanic.draw(self.level, self.state)

    def report(self, wait: bool = False) -> Report | None:
        """The playtester's report on the current level (None while it is still being computed)."""
        if self.index not in self._reports:
            self._reports[self.index] = self._pool.submit(playtest, self.level, _difficulty(self.level))
        future = self._reports[self.index]
        return future.result() if wait or future.done() else None

    # ----- actions (the values of KEYS) ----------------------------------------------------------------

    def press(self, name: str) -> bool:
        """Act on the key called ``name``; False if it is not a key of this session."""
        return dispatch(self, KEYS, name)

    def move(self, direction: str) -> bool:
        """One move (u/d/l/r) by the mechanic's rules; False if it is not allowed."""
        self.animation = None
        return self._step(direction)

    def _step(self, direction: str) -> bool:
        if self.state is None:
            return False
        after = self.mechanic.step(self.level, self.state, direction)
        if after is None:
            return False
        self.history.append(self.state)
        self.state = after
        return True

    def undo(self) -> bool:
        """Take back the last move."""
        self.animation = None
        if not self.history:
            return False
        self.state = self.history.pop()
        return True

    def restart(self) -> None:
        """Back to the level's start."""
        self.animation = None
        self.history = []
        self.by_solver = False
        self.message = ""
        try:
            self.state, self.problem = self.mechanic.start(self.level), ""
        except ValueError as exc:
            self.state, self.problem = None, str(exc)

    def goto(self, index: str | int) -> None:
        """Show level ``index`` (negative counts from the end), clamped to the list."""
        i = int(index)
        self.index = min(max(i if i >= 0 else len(self.entries) + i, 0), len(self.entries) - 1)
        self.restart()
        self.report()

    def next_level(self, delta: str | int) -> None:
        """Move ``delta`` levels forward (or back)."""
        self.goto(min(max(self.index + int(delta), 0), len(self.entries) - 1))

    def solve(self) -> None:
        """Restart and play the solver's solution."""
        report = self.report(wait=True)
        assert report is not None
        if not report.solution:
            self.message = f"no solution to show (playtest: {report.verdict})"
            return
        self.restart()
        self.by_solver = True
        self.animation = Animation(report.solution.lower())

    def pause(self) -> None:
        """Pause or resume the solution playback."""
        if self.animation is not None:
            self.animation.paused = not self.animation.paused

    def faster(self, factor: str | float) -> None:
        """Play the solution ``factor`` times faster (1 to 64 moves per second)."""
        self.speed = min(64.0, max(1.0, self.speed * float(factor)))

    def rate(self, verdict: str) -> None:
        """Keep or reject the current level: write the ratings file, then go on to the next level (the
        message says which level was rated and where the session went)."""
        entry, last = self.entries[self.index], self.index == len(self.entries) - 1
        self.ratings[entry.key] = verdict
        if self.ratings_path is not None:
            atomic_write(self.ratings_path, json.dumps(self.ratings, indent=1, sort_keys=True) + "\n")
        self.next_level(1)
        where = "the last level" if last else f"now {self.index + 1}/{len(self.entries)}"
        self.message = f"{entry.key} {RATED[verdict]} · {where}"

    def toggle_help(self) -> None:
        self.show_help = not self.show_help

    def back(self) -> None:
        """Esc: stop the playback, else close the help, else quit."""
        if self.animation is not None:
            self.animation = None
        elif self.show_help:
            self.show_help = False
        else:
            self.running = False

    # ----- time ------------------------------------------------------------------------------------------

    def tick(self, dt: float) -> None:
        """Advance the solution playback by ``dt`` seconds."""
        anim = self.animation
        if anim is None or anim.paused:
            return
        anim.clock += dt * self.speed
        while anim.clock >= 1.0 and anim.done < len(anim.moves):
            anim.clock -= 1.0
            self._step(anim.moves[anim.done])
            anim.done += 1
        if anim.done >= len(anim.moves):
            self.animation = None

    def settle(self) -> None:
        """Finish the playback at once and wait for the playtest."""
        if self.animation is not None:
            self.animation.paused = False
            self.tick(len(self.animation.moves) / self.speed + 1.0)
        self.report(wait=True)

    def close(self) -> None:
        """Stop the background playtests."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ----- drawing ------------------------------------------------------------------------------------------

    def title(self) -> str:
        return f"relaygen play — {self.level.name or self.entries[self.index].key}"

    def window_size(self, scale: int) -> tuple[int, int]:
        return hud.window_size(self.level.grid.shape, scale)

    def trail(self) -> list[tuple[int, int]] | None:
        """The cells the player has run through, where the mechanic marks them (Relay)."""
        if not self.mechanic.marks_trail or self.state is None:
            return None
        return self.mechanic.trail(self.level, [*self.history, self.state])

    def draw(self, surface: pygame.Surface) -> None:
        """The frame: the board fitted to ``surface``, the HUD, banners and the help."""
        surface.fill(hud.BACKGROUND)
        lay = hud.layout(surface.get_size(), self.level.grid.shape)
        board = grid_surface(self.level.rules, self.grid(), cell_size=lay.cell, trail=self.trail())
        hud.draw_board(surface, board, lay.board)
        hud.draw_hud(surface, lay, self._left_lines(), self._right_lines())
        report = self.report()
        if self.problem:
            hud.draw_banner(surface, lay, [("cannot play", hud.BAD)], [(self.problem, hud.TEXT)])
        elif self.won and self.animation is None:
            moves = len(self.history)
            if self.by_solver:
                sub = f"the solver's solution: {moves} moves · N next level"
            else:
                best = f" (solver {report.length})" if report and report.solution else ""
                sub = f"you: {moves} moves{best} · N next level"
            hud.draw_banner(surface, lay, [("solved!", hud.ACCENT)], [(sub, hud.TEXT)])
        elif self.state is not None and self.state.lost:
            hud.draw_banner(surface, lay, [("caught!", hud.BAD)], [("Z undoes · R restarts", hud.TEXT)])
        if self.show_help:
            hud.draw_help(surface, "relaygen play — keys", HELP, lay.font_size)

    def _left_lines(self) -> list[hud.Line]:
        entry, rules = self.entries[self.index], self.level.rules
        where = f"   {self.index + 1}/{len(self.entries)} · {rules.name}"
        first: hud.Line = [(self.level.name or entry.key, hud.TEXT), (where, hud.DIM)]
        state = self.state
        if state is None:
            return [first]
        second: hud.Line = [(f"moves {len(self.history)}", hud.TEXT)]
        second += [(f"   {text}", TONES[tone]) for text, tone in self.mechanic.hud(self.level, state)]
        return [first, second]

    def _right_lines(self) -> list[hud.Line]:
        report = self.report()
        if report is None:
            first: hud.Line = [("playtest: running…", hud.DIM)]
        else:
            first = [("playtest: ", hud.DIM), (report.verdict, VERDICT_COLOR[report.verdict])]
            if report.solution:
                first.append((f" · solution {report.length} · score {report.score:.2f}", hud.DIM))
        second: hud.Line = []
        rating = self.ratings.get(self.entries[self.index].key)
        if rating:
            second.append((rating.upper() + "   ", hud.GOOD if rating == "keep" else hud.BAD))
        if self.animation is not None:
            anim = self.animation
            state = " paused" if anim.paused else ""
            second.append((f"solver {anim.done}/{len(anim.moves)} · {self.speed:g} moves/s{state}   ", hud.ACCENT))
        elif self.message:
            second.append((self.message + "   ", hud.WARN))
        second.append(
            ("H: keys" if self.message or self.animation else "K keep · X reject, then next · H: keys", hud.DIM)
        )
        return [first, second]

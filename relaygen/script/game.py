"""The public face of a PuzzleScript game: `load_game(text) -> Game`, `Game.start(i) -> State`,
`State.move(d) -> State`. States are immutable; a turn's commands (cancel, restart, checkpoint, again,
win) are handled here as PuzzleScript's front end handles them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from relaygen.script.board import pack, unpack
from relaygen.script.compiler import Compiler, Level, WinCondition
from relaygen.script.engine import INPUT_BITS, Tables, conditions_met, simulate_batch
from relaygen.script.errors import ScriptError
from relaygen.script.palettes import is_color, palette, to_hex
from relaygen.script.parser import parse

MAX_AGAIN_TURNS = 500  # PuzzleScript would spin forever; a game that needs more is not simulated further
TURN_MEMO_BYTES = 1 << 23  # about how much of the objects a game remembers simulated turns for
BATCH_TURNS = 512  # turns simulated together on one tall board at most


@dataclass(frozen=True)
class Outcome:
    """What one processed turn leaves: the objects, the restart target, and PuzzleScript's flags."""

    grid: np.ndarray
    target: np.ndarray
    modified: bool
    won: bool
    again: bool


class Game:
    """A compiled PuzzleScript game.

    Attributes for integrations: `title`, `metadata` (prelude keys -> values), `object_names` (bit order),
    `colors` and `sprites` (per object, for a renderer: hex colours and a 5x5 grid of colour indices,
    -1 transparent), `glyphs` (level character -> object names), `layers` (collision layers, object
    names), `win_conditions`, `player_objects`, `levels` (compiled LEVELS entries: message or glyph rows).
    """

    def __init__(self, text: str) -> None:
        src = parse(text)
        comp = Compiler(src)
        self.metadata = dict(src.metadata)
        self.title = src.metadata.get("title", "")
        self.object_names: tuple[str, ...] = tuple(comp.names)
        self.layers: tuple[tuple[str, ...], ...] = tuple(tuple(dict.fromkeys(layer)) for layer in comp.layers)
        self.glyphs: dict[str, tuple[str, ...]] = comp.glyphs()
        self.levels: tuple[Level, ...] = tuple(comp.levels())
        self.win_conditions: tuple[WinCondition, ...] = tuple(comp.win_conditions())
        player_mask = comp.mask("player")
        self.player_objects = tuple(n for n in self.object_names if comp.bit[n] & player_mask)
        table = palette(src.metadata.get("color_palette"))
        self.colors = {n: [to_hex(c, table) if is_color(c) else "#ff00ff" for c in o.colors] or ["#ff00ff"]
                       for n, o in src.objects.items()}  # fmt: skip
        self.sprites = {n: _sprite(o.sprite) for n, o in src.objects.items()}
        self._bit = comp.bit
        self._background = comp.background()
        self._back_layer = next(m for m in comp.layer_masks if m & self._background)
        groups, late, loops, late_loops = comp.rules()
        aggregate = comp.synonyms.get("player", "player") in comp.aggregates
        flags = {k for k, v in src.metadata.items() if v == "true"}
        self._turns: dict[tuple, tuple] = {}  # memo of simulated turns; results are read-only
        self.tables = Tables(len(comp.names), comp.layer_masks, groups, late, loops, late_loops,
                             player_mask, aggregate, list(self.win_conditions), flags)  # fmt: skip

    def flag(self, name: str) -> bool:
        """Whether a prelude flag (run_rules_on_level_start, noaction, noundo, ...) is set."""
        return name in self.tables.flags

    def start(self, index: int) -> State:
        """LEVELS entry `index` (messages count), after run_rules_on_level_start and its again turns."""
        if not 0 <= index < len(self.levels) or self.levels[index].message is not None:
            raise ScriptError(f"LEVELS entry {index} is not a level")
        return self.state_from_masks(self.levels[index].cells)

    def start_grid(self, index: int) -> np.ndarray:
        """LEVELS entry `index` as read-only object planes, before any rule runs."""
        grid = pack([list(row) for row in self.levels[index].cells], self.tables.obj_words)
        grid.setflags(write=False)
        return grid

    def level_objects(self, index: int) -> list[list[frozenset[str]]]:
        """A level's cells as sets of object names (row-major)."""
        return [[self._names(c) for c in row] for row in self.levels[index].cells]

    def state_from_cells(self, cells: Sequence[Sequence[Iterable[str]]]) -> State:
        """A state from rows of object-name sets (for generated levels); background added where missing."""
        masks = []
        for row in cells:
            masks.append([sum(self._bit[n] for n in set(cell)) for cell in row])
        return self.state_from_masks(masks)

    def state_from_masks(self, cells: Sequence[Sequence[int]]) -> State:
        """A state from rows of object bit masks, started as PuzzleScript starts a level."""
        rows = [[c if c & self._back_layer else c | self._background for c in row] for row in cells]
        grid = pack(rows, self.tables.obj_words)
        grid.setflags(write=False)
        out = self.process(grid, grid, None, no_win=True) if self.flag("run_rules_on_level_start") else None
        if out is None:
            return State(self, grid, grid, False)
        state = State(self, out.grid, out.target, False)
        return state._again(out) if out.again else state

    def _names(self, mask: int) -> frozenset[str]:
        return frozenset(n for n in self.object_names if self._bit[n] & mask)

    def process(self, grid: np.ndarray, target: np.ndarray, move: str | None, *, no_win: bool = False,
                probe: bool = False, restarting: bool = False, undo: list | None = None,
                text_mode: bool = False, stop_on_win: bool = True) -> Outcome:  # fmt: skip
        """One turn and its commands, as PuzzleScript's processInput; `undo` collects undo points."""
        key = _turn_key(grid, move)
        turn = self._turns.get(key)
        if turn is None:
            self.simulate_turns([(grid, move)])
            turn = self._turns[key]
        after, queue, blocked, met, modified = turn
        if blocked:
            return Outcome(grid, target, False, False, False)
        if "cancel" in queue:
            return Outcome(grid, target, len(queue) > 1, False, False)
        again = False
        if "restart" in queue:
            if undo is not None:
                undo.append(grid)
            if not probe and not restarting:
                after, target, again = self.restart(target, undo)
                queue = []
                # The turn's remembered verdicts were of its own result, not of the level restarted.
                met, modified = bool(conditions_met(self.tables, after)), not np.array_equal(after, grid)
        if probe and (modified or "win" in queue or "restart" in queue):
            return Outcome(grid, target, True, False, False)
        if modified and move is not None and undo is not None:
            undo.append(grid)
        won = not no_win and not text_mode and ("win" in queue or met)
        if won and stop_on_win:
            return Outcome(after, target, modified, True, False)
        if "checkpoint" in queue:
            target = after
        if "again" in queue and modified:
            look = self.process(after, target, None, no_win=True, probe=True, undo=undo)
            target, again = look.target, look.modified
        return Outcome(after, target, modified, won, again)

    def simulate_turns(self, turns: Sequence[tuple[np.ndarray, str | None]]) -> None:
        """Simulate these turns (object planes, input) together, and the again turns they lead to, and
        remember them: `process` and `State.move` then find them done. Turns of one size share a batch."""
        todo = list({_turn_key(g, m): (g, m) for g, m in turns}.items())
        for _ in range(MAX_AGAIN_TURNS):
            todo = [(key, turn) for key, turn in todo if key not in self._turns]
            if not todo:
                return
            if (len(self._turns) + len(todo)) * todo[0][1][0].nbytes >= TURN_MEMO_BYTES:
                self._turns.clear()
            follow = {}
            for start in range(0, len(todo), BATCH_TURNS):
                for after, queue, blocked in self._simulate(todo[start : start + BATCH_TURNS]):
                    if "again" in queue and "cancel" not in queue and not blocked:
                        follow[_turn_key(after, None)] = (after, None)
            todo = list(follow.items())

    def _simulate(self, todo: list) -> list[tuple]:
        """Simulate turns of possibly different sizes, one batch per size, and remember each."""
        by_shape: dict[tuple, list] = {}
        for key, turn in todo:
            by_shape.setdefault(key[0], []).append((key, turn))
        out = []
        for group in by_shape.values():
            results = simulate_batch(self.tables, [g for _, (g, _) in group], [m for _, (_, m) in group])
            befores = np.stack([grid for _, (grid, _) in group])
            afters = np.stack([after for after, _, _ in results])
            met = conditions_met(self.tables, afters).tolist()
            changed = (afters != befores).reshape(len(group), -1).any(axis=1).tolist()
            for (key, _), (after, queue, blocked), won, modified in zip(group, results, met, changed, strict=True):
                after.setflags(write=False)
                self._turns[key] = (after, tuple(queue), blocked, won, modified)
                out.append((after, queue, blocked))
        return out

    def restart(self, target: np.ndarray, undo: list | None) -> tuple[np.ndarray, np.ndarray, bool]:
        """Back to the restart target, rules on level start rerun: (grid, target, again pending)."""
        if not self.flag("run_rules_on_level_start"):
            return target, target, False
        out = self.process(target, target, None, no_win=True, restarting=True, undo=undo)
        return out.grid, out.target, out.again

    def cell_names(self, grid: np.ndarray) -> list[list[frozenset[str]]]:
        return [[self._names(c) for c in row] for row in unpack(grid)]


def _turn_key(grid: np.ndarray, move: str | None) -> tuple:
    """The memo key of one turn: the objects it starts from and its input."""
    return grid.shape, grid.tobytes(), move


def _sprite(rows: list[str]) -> tuple[tuple[int, ...], ...]:
    if not rows:
        return tuple((0,) * 5 for _ in range(5))
    return tuple(tuple(-1 if ch == "." else int(ch) for ch in (row + "." * 5)[:5]) for row in (rows + [""] * 5)[:5])


class State:
    """One moment of a level: immutable; `move` and `tick` return new states."""

    __slots__ = ("_game", "_grid", "_target", "won")
    lost = False
    """Always False: PuzzleScript has no lost state (a game restarts instead); relaygen's viewer asks."""

    def __init__(self, game: Game, grid: np.ndarray, target: np.ndarray, won: bool) -> None:
        self._game, self._grid, self._target, self.won = game, grid, target, won

    @property
    def game(self) -> Game:
        """The game this state belongs to."""
        return self._game

    @property
    def height(self) -> int:
        return self._grid.shape[1]

    @property
    def width(self) -> int:
        return self._grid.shape[2]

    @property
    def grid(self) -> np.ndarray:
        """The (words, height, width) uint64 object planes (read-only): bit i is object_names[i]."""
        return self._grid

    @property
    def key(self) -> bytes:
        """A compact, hashable form of the position (for a solver's transposition table)."""
        return self._grid.tobytes()

    def objects(self, y: int, x: int) -> frozenset[str]:
        """The names of the objects in cell (y, x)."""
        mask = sum(int(v) << (64 * k) for k, v in enumerate(self._grid[:, y, x].tolist()))
        return self._game._names(mask)

    def cells(self) -> list[list[frozenset[str]]]:
        """Every cell's object names, row-major."""
        return self._game.cell_names(self._grid)

    def move(self, direction: str) -> State:
        """One input (u, l, d, r or x) with its again turns; noaction games ignore x."""
        if direction not in INPUT_BITS:
            raise ValueError(f"unknown input {direction!r}: use u, l, d, r or x")
        if direction == "x" and self._game.flag("noaction"):
            return self
        return self._turn(direction)

    def tick(self) -> State:
        """One turn without input, with its again turns."""
        return self._turn(None)

    def restart(self) -> State:
        """Back to the level start or last checkpoint (unless the game says norestart)."""
        if self._game.flag("norestart"):
            return self
        grid, target, again = self._game.restart(self._target, None)
        state = State(self._game, grid, target, False)
        return state._again(Outcome(grid, target, True, False, again)) if again else state

    def _turn(self, move: str | None) -> State:
        out = self._game.process(self._grid, self._target, move)
        state = State(self._game, out.grid, out.target, self.won or out.won)
        return state._again(out) if out.again and not out.won else state

    def _again(self, out: Outcome) -> State:
        state = self
        for _ in range(MAX_AGAIN_TURNS):
            out = self._game.process(state._grid, state._target, None)
            state = State(self._game, out.grid, out.target, state.won or out.won)
            if not out.again or out.won:
                break
        return state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, State) and other._game is self._game and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


def load_game(text: str) -> Game:
    """Compile a PuzzleScript source; ScriptError (with .line) for a bad or unsupported game."""
    try:
        return Game(text)
    except ScriptError:
        raise
    except (KeyError, IndexError, ValueError, StopIteration) as err:
        raise ScriptError(f"cannot compile this game ({type(err).__name__}: {err})") from err

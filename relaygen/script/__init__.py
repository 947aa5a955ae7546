"""A PuzzleScript-compatible rule engine: any game's rules of motion, as PuzzleScript writes them.

    from relaygen.script import load_game, ScriptError
    game = load_game(source_text)  # ScriptError (.line: int | None) for a bad or unsupported game
    state = game.start(i)          # LEVELS entry i, messages counted, after run_rules_on_level_start
    state = state.move("r")        # u, l, d, r or x, with its again turns; a new state
    state = state.tick()           # a turn without input
    state.won, state.height, state.width, state.objects(y, x)

Out of scope, refused with a one-line ScriptError naming the feature and line: random, randomdir,
rigid, realtime_interval. Sounds and messages change nothing.

For integrations, a Game also has: `title`, `metadata`, `flag(name)`, `object_names` (bit order),
`colors`/`sprites` (per object: hex colours, 5x5 colour indices with -1 transparent), `glyphs` (level
character -> objects), `layers`, `win_conditions`, `player_objects`, `levels` (messages or glyph rows
with cell masks), `level_objects(i)`, `state_from_cells(rows of object-name sets)`, `start_grid(i)`.
A State also has `key` (bytes, for a transposition table), `grid` (read-only (words, H, W) uint64 object
planes), `cells()` and `restart()`; states hash and compare by position.

Modules, in pipeline order: parser (source -> sections), rules (rule lines -> concrete rules), compiler
(bit masks, levels, win conditions), board (bit-planes), match (rule rows matched over the whole grid),
engine (one turn: rules applied in order, movement, late rules), game (Game and State), session
(PuzzleScript's front end, to replay its test suite), palettes (colours), errors.
`match.pattern_map` and `engine.conditions_met` take planes with leading batch axes, the start of a
solver that steps many states at once.
"""

from __future__ import annotations

from relaygen.script.errors import ScriptError
from relaygen.script.game import Game, State, load_game

__all__ = ["Game", "ScriptError", "State", "load_game"]

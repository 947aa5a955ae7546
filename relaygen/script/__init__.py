"""A PuzzleScript-compatible rule engine: `load_game(text).start(i).move("r")`.

Modules, in pipeline order: parser (source -> sections), rules (rule lines -> concrete rules),
compiler (bit masks, levels, win conditions), board (bit-planes), engine (one turn), game (the public
Game and State), session (PuzzleScript's front end, for replaying its test suite), palettes (colours).
"""

from __future__ import annotations

from relaygen.script.errors import ScriptError
from relaygen.script.game import Game, State, load_game

__all__ = ["Game", "ScriptError", "State", "load_game"]

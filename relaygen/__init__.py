"""relaygen: procedural level generation for tile puzzles.

Rules files describe a game; playtesters judge levels; an A3C-trained policy builds them.
"""

import relaygen.env  # noqa: F401  (registers the Gymnasium environments)
from relaygen.level import Level, LevelError
from relaygen.rules import Rules, RulesError, builtin_names, load_rules

__version__ = "0.1.0"

__all__ = ["Level", "LevelError", "Rules", "RulesError", "__version__", "builtin_names", "load_rules"]

"""Gymnasium environments for level construction, registered on import.

Ids: ``relaygen/{rules}-{representation}-v0`` for every built-in ruleset and each representation
its file lists, and ``relaygen/level-v0`` for any rules file
(``gymnasium.make("relaygen/level-v0", rules="my_rules.toml", representation="turtle")``).
Registration reads only the ``representations`` field of the built-in files; the environment
modules are imported when an environment is made.
"""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any

import gymnasium

from relaygen.rules import Rules, builtin_names

ENTRY_POINT = "relaygen.env.level_env:LevelEnv"


def env_id(rules: str, representation: str) -> str:
    """The registered id of a built-in ruleset with a representation."""
    return f"relaygen/{rules}-{representation}-v0"


def builtin_ids() -> dict[str, tuple[str, str]]:
    """Registered id → (built-in rules name, representation), read from the shipped rules files."""
    default = Rules.model_fields["representations"].default
    ids = {}
    for name in builtin_names():
        text = (resources.files("relaygen") / "rulesets" / f"{name}.toml").read_text()
        for rep in tomllib.loads(text).get("representations", default):
            ids[env_id(name, rep)] = (name, rep)
    return ids


def register_envs() -> list[str]:
    """Register every built-in × representation and ``relaygen/level-v0`` (idempotent); the ids."""
    table = {**{k: {"rules": r, "representation": p} for k, (r, p) in builtin_ids().items()}, "relaygen/level-v0": {}}
    for key, kwargs in table.items():
        if key not in gymnasium.registry:
            gymnasium.register(id=key, entry_point=ENTRY_POINT, kwargs=kwargs)
    return list(table)


def __getattr__(name: str) -> Any:
    if name == "LevelEnv":
        from relaygen.env.level_env import LevelEnv

        return LevelEnv
    if name == "BatchedLevelEnv":
        from relaygen.env.vector import BatchedLevelEnv

        return BatchedLevelEnv
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


register_envs()

__all__ = ["BatchedLevelEnv", "LevelEnv", "builtin_ids", "env_id", "register_envs"]

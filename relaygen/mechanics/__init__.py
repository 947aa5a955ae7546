"""The mechanics: each game's rules of motion and its playtester, registered once and looked up by name."""

from __future__ import annotations

from typing import Any

from relaygen.mechanics.base import Analysis, Budget, GridMechanic, Mechanic, PlayState
from relaygen.mechanics.keys import Keys
from relaygen.mechanics.push import Push
from relaygen.mechanics.relay import Relay
from relaygen.mechanics.script import Script
from relaygen.mechanics.walk import Walk

MECHANICS: dict[str, Mechanic[Any]] = {m.name: m for m in (Walk(), Keys(), Push(), Relay(), Script())}
"""The registry: every mechanic, by the name a rules file gives it."""


def get_mechanic(name: str) -> Mechanic[Any]:
    """The mechanic called ``name`` (a key of :data:`MECHANICS`)."""
    try:
        return MECHANICS[name]
    except KeyError:
        raise KeyError(f"unknown mechanic {name!r}; known: {', '.join(MECHANICS)}") from None


SETTINGS: dict[str, str] = {setting: m.name for m in MECHANICS.values() for setting in m.settings}
"""Each mechanic-specific rules-file field, and the mechanic that reads it."""


def owner_of(representation: str) -> str | None:
    """The mechanic whose own representation ``representation`` is; None for a general one."""
    return next((m.name for m in MECHANICS.values() if representation in m.own_representations), None)


__all__ = [
    "MECHANICS",
    "SETTINGS",
    "Analysis",
    "Budget",
    "GridMechanic",
    "Mechanic",
    "PlayState",
    "get_mechanic",
    "owner_of",
]

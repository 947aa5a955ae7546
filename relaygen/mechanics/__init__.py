"""The mechanics: each game's rules of motion and its playtester, looked up by name."""

from __future__ import annotations

from relaygen.mechanics.base import Analysis, Budget, Mechanic, PlayState
from relaygen.mechanics.keys import Keys
from relaygen.mechanics.push import Push
from relaygen.mechanics.relay import Relay
from relaygen.mechanics.walk import Walk

MECHANICS: dict[str, Mechanic] = {m.name: m for m in (Walk(), Keys(), Push(), Relay())}


def get_mechanic(name: str) -> Mechanic:
    """The mechanic called ``name`` (walk, keys, push, relay)."""
    try:
        return MECHANICS[name]
    except KeyError:
        raise KeyError(f"unknown mechanic {name!r}; known: {', '.join(MECHANICS)}") from None


__all__ = ["MECHANICS", "Analysis", "Budget", "Mechanic", "PlayState", "get_mechanic"]

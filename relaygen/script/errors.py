"""The one error a PuzzleScript source can raise: bad, or using a feature relaygen cannot simulate exactly."""

from __future__ import annotations


class ScriptError(ValueError):
    """A game relaygen cannot load; str(error) is one line, `line N: reason` (or just the reason)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason = " ".join(reason.split())
        self.line = line
        super().__init__(f"line {line}: {self.reason}" if line is not None else self.reason)


def unsupported(feature: str, line: int | None) -> ScriptError:
    """The error for a feature that is out of scope (random, rigid, realtime): never a wrong simulation."""
    return ScriptError(f"unsupported feature '{feature}' (relaygen cannot simulate it exactly)", line)

"""A level: a grid of one ruleset's tiles, with the designer's pinned cells and where it came from."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from relaygen.errors import UserError
from relaygen.rules import Rules

DIRECTIONS = {"u": (-1, 0), "d": (1, 0), "l": (0, -1), "r": (0, 1)}
"""Moves in LURD notation: lowercase letter to (row, column) offset."""

FREE_CHAR = "?"
"""In a text map, a cell left for the generator to fill (every other cell is pinned)."""


class LevelError(UserError):
    """A level that does not fit its rules, or a level file that cannot be read."""


class Payload(Protocol):
    """What a mechanic keeps beside a level's grid (Relay: its leg directions); hashable and
    comparable, and written to level files as named text fields (the mechanic reads them back)."""

    def fields(self) -> dict[str, str]:
        """The payload as level-file fields (name to text)."""
        ...


@dataclass
class Level:
    """A grid of tile indices into ``rules.tiles`` plus metadata.

    ``pinned`` marks cells a designer fixed (the generator never changes them); ``payload`` is what
    the rules' mechanic keeps beside the grid (None for most); ``meta`` records seed, model,
    difficulty and the playtest report of generated levels.
    """

    rules: Rules
    grid: np.ndarray
    pinned: np.ndarray | None = None
    payload: Payload | None = None
    name: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.grid = np.asarray(self.grid, dtype=np.uint8)
        if self.grid.ndim != 2 or min(self.grid.shape) < 1:
            raise LevelError(f"level grid must be a non-empty 2-D array, got shape {self.grid.shape}")
        if self.grid.max() >= len(self.rules.tiles):
            raise LevelError(f"level grid holds tile index {int(self.grid.max())}; rules have {len(self.rules.tiles)}")
        if self.pinned is not None:
            self.pinned = np.asarray(self.pinned, dtype=bool)
            if self.pinned.shape != self.grid.shape:
                raise LevelError(f"pinned mask shape {self.pinned.shape} differs from grid shape {self.grid.shape}")

    @property
    def height(self) -> int:
        return int(self.grid.shape[0])

    @property
    def width(self) -> int:
        return int(self.grid.shape[1])

    def count(self, *names: str) -> int:
        """How many cells hold any of the named tiles."""
        index = self.rules.tile_index
        return int(np.isin(self.grid, [index[n] for n in names]).sum())

    def rows(self) -> list[str]:
        """The grid as text rows, one character per tile."""
        chars = np.array([t.char for t in self.rules.tiles])
        return ["".join(row) for row in chars[self.grid]]

    @classmethod
    def from_rows(cls, rules: Rules, rows: list[str], **kwargs: Any) -> Level:
        """A level from text rows; ``?`` marks a free cell (the others become pinned)."""
        if not rows:
            raise LevelError("a text map needs at least one row")
        width = max(len(r) for r in rows)
        if any(len(r) != width for r in rows):
            raise LevelError(f"text map rows have different lengths {sorted({len(r) for r in rows})}")
        index = rules.char_index
        free = np.array([[c == FREE_CHAR for c in r] for r in rows])
        fill = (
            rules.tiles[0].char if rules.start_map == "random" else rules.tiles[rules.tile_index[rules.start_map]].char
        )
        grid = np.zeros((len(rows), width), dtype=np.uint8)
        for y, row in enumerate(rows):
            for x, c in enumerate(row):
                c = fill if c == FREE_CHAR else c
                if c not in index:
                    known = "".join(t.char for t in rules.tiles)
                    raise LevelError(f"line {y + 1}, column {x + 1}: {c!r} is not a tile of {rules.name} ({known!r})")
                grid[y, x] = index[c]
        pinned = ~free if free.any() else kwargs.pop("pinned", None)
        return cls(rules, grid, pinned=pinned, **kwargs)

    @classmethod
    def random(
        cls, rules: Rules, rng: np.random.Generator, width: int | None = None, height: int | None = None
    ) -> Level:
        """A starting map: tiles drawn by their weights (or the rules' fill tile), inside the fixed border."""
        shape = (height or rules.height, width or rules.width)
        if rules.start_map == "random":
            weights = np.array([t.weight for t in rules.tiles], dtype=float)
            grid = rng.choice(len(rules.tiles), size=shape, p=weights / weights.sum()).astype(np.uint8)
        else:
            grid = np.full(shape, rules.tile_index[rules.start_map], dtype=np.uint8)
        if rules.border is not None:
            border = rules.tile_index[rules.border]
            grid[0, :] = grid[-1, :] = grid[:, 0] = grid[:, -1] = border
        return cls(rules, grid)

    def digest(self) -> str:
        """Hash of the grid (and payload): equal levels of one ruleset share it."""
        h = hashlib.sha256(self.grid.tobytes() + bytes(self.grid.shape) + payload_bytes(self.payload))
        return h.hexdigest()[:16]

    def copy(self) -> Level:
        return Level(
            self.rules,
            self.grid.copy(),
            None if self.pinned is None else self.pinned.copy(),
            self.payload,
            self.name,
            dict(self.meta),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        pins = (self.pinned is None) == (other.pinned is None) and (
            self.pinned is None or np.array_equal(self.pinned, other.pinned)
        )
        return (
            self.rules.digest == other.rules.digest
            and np.array_equal(self.grid, other.grid)
            and pins
            and self.payload == other.payload
            and self.name == other.name
            and self.meta == other.meta
        )


def payload_bytes(payload: Payload | None) -> bytes:
    """A payload's fields as bytes, for digests (empty without one)."""
    return b"" if payload is None else "".join(payload.fields().values()).encode()


def diversity(levels: list[Level]) -> tuple[float, float]:
    """Mean pairwise Hamming distance (share of cells that differ) and the share of distinct levels."""
    if len(levels) < 2:
        return 0.0, float(len(levels))
    grids = np.stack([level.grid.ravel() for level in levels])
    differ = sum(float((grids[i] != grids[i + 1 :]).mean(axis=1).sum()) for i in range(len(grids) - 1))
    pairs = len(grids) * (len(grids) - 1) / 2
    return differ / pairs, len({level.digest() for level in levels}) / len(levels)

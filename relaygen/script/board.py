"""A level's cells as bit-planes: objects (K, H, W) and movements (M, H, W) of uint64 words, row-major.

Several levels of one size are simulated together as one *tall* board: stacked top to bottom with an
empty separator row between them, which no pattern matches and no object moves into (`Board.valid`).

Whole-grid questions (where does this cell pattern match?) are numpy operations over every cell at once.
During a turn the cells are also held as flat lists of Python ints (all words of a cell in one int), which
is where single matched cells are read and written; the planes are brought up to date before matching.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

WORD = 64
FULL = (1 << WORD) - 1
_PATCH_LIMIT = 12  # writes after which recomputing a match map beats patching it cell by cell


def word_count(bits: int) -> int:
    """Words needed for a mask of `bits` bits (at least one)."""
    return max(1, -(-bits // WORD))


def split(mask: int, words: int) -> list[tuple[int, np.uint64]]:
    """The nonzero words of a mask, as (word index, value) pairs."""
    return [(k, np.uint64((mask >> (WORD * k)) & FULL)) for k in range(words) if (mask >> (WORD * k)) & FULL]


def to_planes(values: list[int], words: int, height: int, width: int) -> np.ndarray:
    """Flat row-major cell masks -> a (words, H, W) uint64 array."""
    if words == 1:
        return np.array(values, dtype=np.uint64).reshape(1, height, width)
    raw = b"".join(v.to_bytes(8 * words, "little") for v in values)
    return np.frombuffer(raw, dtype=np.uint64).reshape(height, width, words).transpose(2, 0, 1).copy()


def to_values(planes: np.ndarray) -> list[int]:
    """A (words, H, W) array -> flat row-major cell masks as Python ints."""
    if planes.shape[0] == 1:
        return planes[0].ravel().tolist()
    raw = np.ascontiguousarray(planes.transpose(1, 2, 0)).tobytes()
    size = 8 * planes.shape[0]
    return [int.from_bytes(raw[i : i + size], "little") for i in range(0, len(raw), size)]


def pack(cells: list[list[int]], words: int) -> np.ndarray:
    """Row-major rows of cell masks -> a (words, H, W) uint64 array."""
    height, width = len(cells), len(cells[0]) if cells else 0
    return to_planes([c for row in cells for c in row], words, height, width)


def unpack(planes: np.ndarray) -> list[list[int]]:
    """A (words, H, W) array -> rows of cell masks as Python ints."""
    values, width = to_values(planes), planes.shape[2]
    return [values[i : i + width] for i in range(0, len(values), width)]


def union(planes: np.ndarray) -> int:
    """Every bit set in any cell, as one mask."""
    words = np.bitwise_or.reduce(planes.reshape(planes.shape[0], -1), axis=1).tolist() if planes.size else []
    return sum(int(v) << (WORD * k) for k, v in enumerate(words))


def stack(grids: list[np.ndarray]) -> np.ndarray:
    """Object planes of equal shape (K, h, w) -> one tall board (K, n * (h + 1) - 1, w)."""
    if len(grids) == 1:
        return grids[0]
    words, rows, width = grids[0].shape
    tall = np.zeros((words, len(grids), rows + 1, width), dtype=np.uint64)
    tall[:, :, :rows] = np.stack(grids, axis=1)
    return tall.reshape(words, len(grids) * (rows + 1), width)[:, :-1]


def unstack(tall: np.ndarray, count: int) -> list[np.ndarray]:
    """A tall board of `count` levels -> each level's planes (views of one new array)."""
    if count == 1:
        return [tall.copy()]
    words, height, width = tall.shape
    rows = (height + 1) // count - 1
    padded = np.concatenate([tall, np.zeros((words, 1, width), dtype=tall.dtype)], axis=1)
    levels = padded.reshape(words, count, rows + 1, width)[:, :, :rows]
    return list(np.ascontiguousarray(levels.transpose(1, 0, 2, 3)))


class Board:
    """The working copy of a level, or of `count` stacked levels (see `stack`), during one turn.

    `obj` and `mov` are the flat cell lists (index y * width + x); `planes()` gives the numpy planes.
    `log` lists the cells written, in order (its length is the board's version); a cached match map is
    patched cell by cell after a few writes rather than recomputed. The unions only grow during a turn,
    as in PuzzleScript. `rows` is one level's height; `valid` is False on separator rows (None: one level).
    """

    def __init__(self, obj: np.ndarray, mov_words: int, count: int = 1) -> None:
        self.height, self.width = obj.shape[1], obj.shape[2]
        self.count = count
        self.rows = (self.height + 1) // count - 1
        self.cells_per_level = (self.rows + 1) * self.width
        self.valid = None
        if count > 1:
            self.valid = np.ones((self.height, self.width), dtype=bool)
            self.valid[self.rows :: self.rows + 1] = False
        self.obj_words, self.mov_words = obj.shape[0], mov_words
        self._obj_planes = obj.copy()
        self._mov_planes = np.zeros((mov_words, self.height, self.width), dtype=np.uint64)
        self.obj = to_values(obj)
        self.mov = [0] * len(self.obj)
        self._dirty: set[int] = set()
        self._maps: dict[int, tuple[int, np.ndarray]] = {}
        self.log: list[int] = []
        self.settled: dict[int, int] = {}  # rule -> version at which it ran and changed nothing
        self.index = np.arange(self.height * self.width).reshape(self.height, self.width)
        self.obj_union = union(obj)
        self.mov_union = 0

    def clear_movements(self) -> None:
        """Forget every movement (after they are resolved)."""
        self.log.extend(np.flatnonzero(self.planes()[1].any(axis=0)).tolist())
        self.mov = [0] * len(self.mov)
        self._mov_planes[:] = 0

    def set(self, i: int, obj: int, mov: int) -> None:
        """Write one cell."""
        self.obj[i], self.mov[i] = obj, mov
        self._dirty.add(i)
        self.obj_union |= obj
        self.mov_union |= mov
        self.log.append(i)

    def planes(self) -> tuple[np.ndarray, np.ndarray]:
        """The (objects, movements) planes, with every cell written so far."""
        if self._dirty:
            if len(self._dirty) * 8 > len(self.obj):
                self._obj_planes = to_planes(self.obj, self.obj_words, self.height, self.width)
                self._mov_planes = to_planes(self.mov, self.mov_words, self.height, self.width)
            else:
                cells = list(self._dirty)
                ys, xs = np.divmod(np.array(cells), self.width)
                for planes, values in ((self._obj_planes, self.obj), (self._mov_planes, self.mov)):
                    planes[:, ys, xs] = to_planes([values[i] for i in cells], planes.shape[0], 1, len(cells))[:, 0]
            self._dirty.clear()
        return self._obj_planes, self._mov_planes

    def replace_planes(self, obj: np.ndarray, mov: np.ndarray) -> bool:
        """Take whole new planes (from a whole-grid operation); returns whether any cell changed."""
        old_obj, old_mov = self.planes()
        changed = np.flatnonzero(np.any(obj != old_obj, axis=0) | np.any(mov != old_mov, axis=0)).tolist()
        if not changed:
            return False
        for values, planes in ((self.obj, obj), (self.mov, mov)):
            picked = planes.reshape(planes.shape[0], -1)[:, changed]
            for i, v in zip(changed, to_values(picked.reshape(planes.shape[0], 1, -1)), strict=True):
                values[i] = v
        for i in changed:
            self.obj_union |= self.obj[i]
            self.mov_union |= self.mov[i]
        self._obj_planes, self._mov_planes = obj, mov
        self.log.extend(changed)
        return True

    @property
    def version(self) -> int:
        return len(self.log)

    def match_map(self, key: int, pattern, compute) -> np.ndarray:
        """The cached map of where `pattern` matches: patched after a few writes, else `compute()`d."""
        version = len(self.log)
        found = self._maps.get(key)
        if found is not None:
            seen, where = found
            if seen == version:
                return where
            if version - seen <= _PATCH_LIMIT:
                width, objs, movs = self.width, self.obj, self.mov
                for i in set(self.log[seen:]):
                    where[i // width, i % width] = pattern.matches(objs[i], movs[i])
                self._maps[key] = (version, where)
                return where
        where = compute() if self.valid is None else compute() & self.valid
        self._maps[key] = (version, where)
        return where

    def level_of(self, i: int) -> int:
        """Which stacked level flat cell `i` belongs to."""
        return i // self.cells_per_level

    def levels_of(self, cells: Iterable[int]) -> list[int]:
        """The stacked levels (in order) that flat cells belong to; [0] on a board of one level."""
        return [0] if self.count == 1 else sorted({self.level_of(i) for i in cells})

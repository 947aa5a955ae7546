"""A level's cells as bit-planes: objects (K, H, W) and movements (M, H, W) of uint64 words, row-major.

Whole-grid questions (does this cell pattern match here?) are numpy operations over every cell at once;
single cells are read and written as Python ints (all words joined) where a rule applies.
"""

from __future__ import annotations

import numpy as np

WORD = 64
_FULL = (1 << WORD) - 1


def word_count(bits: int) -> int:
    """Words needed for a mask of `bits` bits (at least one)."""
    return max(1, -(-bits // WORD))


def split(mask: int, words: int) -> list[tuple[int, np.uint64]]:
    """The nonzero words of a mask, as (word index, value) pairs."""
    return [(k, np.uint64((mask >> (WORD * k)) & _FULL)) for k in range(words) if (mask >> (WORD * k)) & _FULL]


def pack(cells: list[list[int]], words: int) -> np.ndarray:
    """Row-major rows of cell masks -> a (words, H, W) uint64 array."""
    h, w = len(cells), len(cells[0]) if cells else 0
    out = np.zeros((words, h, w), dtype=np.uint64)
    for k in range(words):
        shift = WORD * k
        out[k] = np.array([[(c >> shift) & _FULL for c in row] for row in cells], dtype=np.uint64).reshape(h, w)
    return out


def unpack(planes: np.ndarray) -> list[list[int]]:
    """A (words, H, W) array -> rows of cell masks as Python ints."""
    rows = planes[0].tolist()
    for k in range(1, planes.shape[0]):
        for row, extra in zip(rows, planes[k].tolist(), strict=True):
            for x, v in enumerate(extra):
                row[x] |= v << (WORD * k)
    return rows


class Board:
    """The working copy of a level during one turn: planes, plus caches valid until the next change."""

    def __init__(self, obj: np.ndarray, mov: np.ndarray | None, mov_words: int) -> None:
        self.obj = obj.copy()
        self.mov = np.zeros((mov_words, *obj.shape[1:]), dtype=np.uint64) if mov is None else mov.copy()
        self.height, self.width = obj.shape[1], obj.shape[2]
        self.maps: dict[int, np.ndarray] = {}
        self._obj_union: int | None = None
        self._mov_union: int | None = None

    def changed(self) -> None:
        """Forget every cached answer: the planes were written."""
        self.maps.clear()
        self._obj_union = self._mov_union = None

    def obj_union(self) -> int:
        """Every object present anywhere on the board, as one mask."""
        if self._obj_union is None:
            self._obj_union = _union(self.obj)
        return self._obj_union

    def mov_union(self) -> int:
        """Every movement bit present anywhere on the board."""
        if self._mov_union is None:
            self._mov_union = _union(self.mov)
        return self._mov_union

    def get(self, y: int, x: int) -> tuple[int, int]:
        """(objects, movements) of one cell."""
        return _get(self.obj, y, x), _get(self.mov, y, x)

    def set(self, y: int, x: int, obj: int, mov: int) -> None:
        _set(self.obj, y, x, obj)
        _set(self.mov, y, x, mov)

    def get_obj(self, y: int, x: int) -> int:
        return _get(self.obj, y, x)

    def set_obj(self, y: int, x: int, value: int) -> None:
        _set(self.obj, y, x, value)


def _union(planes: np.ndarray) -> int:
    words = np.bitwise_or.reduce(planes.reshape(planes.shape[0], -1), axis=1).tolist() if planes.size else []
    return sum(int(v) << (WORD * k) for k, v in enumerate(words))


def _get(planes: np.ndarray, y: int, x: int) -> int:
    if planes.shape[0] == 1:
        return int(planes[0, y, x])
    return sum(int(v) << (WORD * k) for k, v in enumerate(planes[:, y, x].tolist()))


def _set(planes: np.ndarray, y: int, x: int, value: int) -> None:
    if planes.shape[0] == 1:
        planes[0, y, x] = value
        return
    for k in range(planes.shape[0]):
        planes[k, y, x] = (value >> (WORD * k)) & _FULL

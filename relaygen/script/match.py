"""Where rule rows match: each cell pattern as a boolean map over the whole grid (numpy over the
object and movement planes), a row's cells shifted along the rule's direction and ANDed, and the
matches listed in PuzzleScript's scan order (row by row for horizontal rules, column by column for
vertical ones). Ellipsis rows list every gap that fits, as PuzzleScript does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from relaygen.script.board import Board
from relaygen.script.compiler import Pattern


@dataclass(frozen=True)
class CellTest:
    """A pattern as numpy terms: (word, mask) pairs that must be all set / all clear, and any-of groups."""

    key: int
    obj_all: tuple
    obj_none: tuple
    obj_any: tuple
    mov_all: tuple
    mov_none: tuple
    pattern: Pattern


def pattern_map(test: CellTest, obj: np.ndarray, mov: np.ndarray) -> np.ndarray:
    """Where one cell pattern matches, for planes (..., K, H, W): any leading (batch) axes are kept."""
    flat = obj.ndim == 3
    result = None
    for planes, terms, clear in ((obj, test.obj_all, False), (obj, test.obj_none, True),
                                 (mov, test.mov_all, False), (mov, test.mov_none, True)):  # fmt: skip
        for k, w in terms:
            term = ((planes[k] if flat else planes[..., k, :, :]) & w) == (0 if clear else w)
            if result is None:
                result = term
            else:
                result &= term
    for group in test.obj_any:
        hit = None
        for k, w in group:
            term = ((obj[k] if flat else obj[..., k, :, :]) & w) != 0
            hit = term if hit is None else hit | term
        result = hit if result is None else result & hit
    if result is None:
        return np.ones(obj.shape[:-3] + obj.shape[-2:], dtype=bool)
    return result


def cell_map(test: CellTest, board: Board) -> np.ndarray:
    """Where on the board one cell pattern matches (cached until the board changes)."""
    return board.match_map(test.key, test.pattern, lambda: pattern_map(test, *board.planes()))


def _segment(tests, step, board: Board, span: int) -> tuple[np.ndarray, int, int]:
    """Where a run of cell patterns matches (origin map, offsets) for origins that leave `span` cells."""
    if len(tests) == 1 and not span:
        return cell_map(tests[0], board), 0, 0
    dy, dx = step
    y0, y1 = (span, board.height) if dy < 0 else (0, board.height - span * dy)
    x0, x1 = (span, board.width) if dx < 0 else (0, board.width - span * dx)
    if y1 <= y0 or x1 <= x0:
        return np.zeros((0, 0), dtype=bool), y0, x0
    acc = None
    for k, test in enumerate(tests):
        part = cell_map(test, board)[y0 + k * dy : y1 + k * dy, x0 + k * dx : x1 + k * dx]
        acc = part if acc is None else acc & part
    return acc, y0, x0


def _origins(acc: np.ndarray, y0: int, x0: int, vertical: bool, board: Board) -> list[int]:
    """Flat indices of the True cells of an origin map, row by row (column by column if vertical)."""
    cells = board.index[y0 : y0 + acc.shape[0], x0 : x0 + acc.shape[1]]
    return (cells.T[acc.T] if vertical else cells[acc]).tolist()


def _full(tests, step, board: Board) -> np.ndarray:
    acc, y0, x0 = _segment(tests, step, board, len(tests) - 1)
    out = np.zeros((board.height, board.width), dtype=bool)
    out[y0 : y0 + acc.shape[0], x0 : x0 + acc.shape[1]] = acc
    return out


def _ray(full: np.ndarray, y: int, x: int, step, start: int, count: int) -> list[int]:
    """Gaps k in [0, count) where `full` holds at (y, x) + (start + k) * step."""
    if count <= 0:
        return []
    t = np.arange(start, start + count)
    return np.flatnonzero(full[y + t * step[0], x + t * step[1]]).tolist()


def row_matches(row, step, board: Board) -> list:
    """Every match of one rule row, in PuzzleScript's order: a flat index, or (index, gap[, gap])."""
    vertical = step[1] == 0
    if None not in row:
        acc, y0, x0 = _segment(row, step, board, len(row) - 1)
        return _origins(acc, y0, x0, vertical, board)
    segments: list[list[CellTest]] = [[]]
    for test in row:
        if test is None:
            segments.append([])
        else:
            segments[-1].append(test)
    total = sum(len(s) for s in segments)
    acc, y0, x0 = _segment(segments[0], step, board, total - 1)
    fulls = [_full(s, step, board) for s in segments[1:]]
    dy, dx = step
    h, w = board.rows, board.width
    out: list[tuple] = []
    for i in _origins(acc, y0, x0, vertical, board):
        y, x = divmod(i, w)
        local = y % (h + 1)  # the row within its own level of a tall board
        room = (local + 1 if dy < 0 else h - local if dy > 0 else x + 1 if dx < 0 else w - x) - total + 1
        first = len(segments[0])
        for k1 in _ray(fulls[0], y, x, step, first, room):
            if len(fulls) == 1:
                out.append((i, k1))
                continue
            second = first + k1 + len(segments[1])
            out.extend((i, k1, k2) for k2 in _ray(fulls[1], y, x, step, second, room - k1))
    return out


def match_origin(match) -> int:
    """The flat index of the first cell of a match from `row_matches`."""
    return match if type(match) is int else match[0]


def matched_cells(row, match, stride: int) -> list[tuple[CellTest, int]]:
    """(pattern, flat cell index) for each cell of a matched row."""
    if type(match) is int:
        return [(test, match + k * stride) for k, test in enumerate(row)]
    i, *gaps = match
    g, out = 0, []
    for test in row:
        if test is None:
            i += gaps[g] * stride
            g += 1
            continue
        out.append((test, i))
        i += stride
    return out

"""One turn of a PuzzleScript game on bit-planes: player input, rule groups (with loops), movement
resolved through the collision layers, late rules, the command queue.

Rows are matched over the whole grid at once (relaygen.script.match); the matches are then applied in
PuzzleScript's scan order, one re-checked if a cell of it was written since it was found.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product

import numpy as np

from relaygen.script.board import FULL, WORD, Board, split, stack, unstack, word_count
from relaygen.script.compiler import DIR_STEP, Pattern, Rule, WinCondition
from relaygen.script.match import CellTest, cell_map, match_origin, matched_cells, row_matches

INPUT_BITS = {"u": 1, "l": 4, "d": 2, "r": 8, "x": 16}
_MOVE_STEP = {1: (-1, 0), 2: (1, 0), 4: (0, -1), 8: (0, 1)}
_MAX_GROUP_PASSES = 200
_FEW = 24  # matches of a one-cell rule written one by one; more are written as whole planes
_FEW_WRITES = 8  # writes since a rule last ran that are checked one by one before running it again


@dataclass(frozen=True)
class RunRule:
    """A compiled rule with its cell tests, ready to match."""

    ident: int
    rule: Rule
    rows: tuple[tuple[CellTest | None, ...], ...]
    step: tuple[int, int]
    single_cell: bool
    obj_mask: int
    mov_mask: int
    patterns: tuple[Pattern, ...]
    any_masks: tuple[int, ...]


class Tables:
    """The per-game tables the engine runs on (immutable after construction)."""

    def __init__(self, n_objects: int, layer_masks: list[int], groups, late_groups, loops, late_loops,
                 player_mask: int, player_aggregate: bool, wins: list[WinCondition], flags: set[str]) -> None:  # fmt: skip
        self.obj_words = word_count(n_objects)
        self.mov_words = word_count(5 * len(layer_masks))
        self.layer_masks = layer_masks
        self.player_mask = player_mask
        self.player_aggregate = player_aggregate
        self.wins = wins
        self.flags = flags
        self.player_layers = [(i, m & player_mask) for i, m in enumerate(layer_masks) if m & player_mask]
        keys: dict[Pattern, CellTest] = {}
        self._count = 0
        self.groups = [[self._run(r, keys) for r in g] for g in groups]
        self.late_groups = [[self._run(r, keys) for r in g] for g in late_groups]
        self.loops, self.late_loops = loops, late_loops

    def _run(self, rule: Rule, keys: dict[Pattern, CellTest]) -> RunRule:
        rows = tuple(tuple(None if p is None else self._test(p, keys) for p in row) for row in rule.rows)
        single = len(rows) == 1 and len(rows[0]) == 1 and rule.rows[0][0].replace is not None
        self._count += 1
        patterns = tuple(dict.fromkeys(p for row in rule.rows for p in row if p is not None))
        step = DIR_STEP.get(rule.direction, (0, 0))
        any_masks = tuple(dict.fromkeys(a for p in patterns for a in p.obj_any))
        return RunRule(self._count, rule, rows, step, single, rule.obj_mask, rule.mov_mask, patterns, any_masks)

    def _test(self, p: Pattern, keys: dict[Pattern, CellTest]) -> CellTest:
        if p not in keys:
            ow, mw = self.obj_words, self.mov_words
            keys[p] = CellTest(
                len(keys), tuple(split(p.obj_all, ow)), tuple(split(p.obj_none, ow)),
                tuple(tuple(split(a, ow)) for a in p.obj_any), tuple(split(p.mov_all, mw)),
                tuple(split(p.mov_none, mw)), p,
            )  # fmt: skip
        return keys[p]


def _queue(queue: list[str], rule: Rule) -> None:
    """Add a matched rule's commands to the turn's queue with PuzzleScript's priorities."""
    if not rule.commands or "cancel" in queue:
        return
    names = [c for c, _ in rule.commands]
    if "restart" in queue and "cancel" not in names:
        return
    if "cancel" in names or "restart" in names:
        queue.clear()
    queue.extend(c for c in dict.fromkeys(names) if c not in queue)


def _try_rule(run: RunRule, board: Board, queues: list[list[str]]) -> bool:
    """Apply one rule everywhere it matches; returns whether the board changed."""
    rule = run.rule
    if run.single_cell:
        return _apply_everywhere(run, board, queues)
    matches = []
    for row in run.rows:
        found = row_matches(row, run.step, board)
        if not found:
            return False
        matches.append(found)
    stride = run.step[0] * board.width + run.step[1]
    levels, every = _combinations(run, matches, stride, board)
    touched: set[int] = set()
    if rule.has_replacements:
        objs, movs = board.obj, board.mov
        for cells in every:
            # A match depends only on its own cells: re-check it only if one of them was written since.
            if (
                touched
                and any(i in touched for _, i in cells)
                and not all(t.pattern.matches(objs[i], movs[i]) for t, i in cells)
            ):
                continue
            for test, i in cells:
                replace = test.pattern.replace
                if replace is None:
                    continue
                obj, mov = objs[i], movs[i]
                new_obj, new_mov = (obj & ~replace[0]) | replace[1], (mov & ~replace[2]) | replace[3]
                if new_obj != obj or new_mov != mov:
                    board.set(i, new_obj, new_mov)
                    touched.add(i)
    for level in levels:
        _queue(queues[level], rule)
    return bool(touched)


def _combinations(run: RunRule, matches: list[list], stride: int, board: Board) -> tuple[list[int], Iterable]:
    """The levels in which every row of a rule matched, and each combination of one match per row (its
    cells), in PuzzleScript's order; on a tall board only matches of the same level combine."""
    if len(matches) == 1:
        every = (matched_cells(run.rows[0], m, stride) for m in matches[0])
        return board.levels_of(match_origin(m) for m in matches[0]), every
    by_level: list[dict[int, list]] = []
    for row, found in zip(run.rows, matches, strict=True):
        cells: dict[int, list] = {}
        for m in found:
            cells.setdefault(board.level_of(match_origin(m)), []).append(matched_cells(row, m, stride))
        by_level.append(cells)
    levels = sorted(set.intersection(*(set(cells) for cells in by_level)))
    every = (
        [c for part in reversed(combo) for c in part]
        for level in levels
        for combo in product(*(cells[level] for cells in reversed(by_level)))
    )
    return levels, every


def _apply_everywhere(run: RunRule, board: Board, queues: list[list[str]]) -> bool:
    """A one-cell rule: its matches cannot disturb each other, so apply them all at once."""
    test = run.rows[0][0]
    where = cell_map(test, board)
    found = board.index[where].tolist()
    if not found:
        return False
    clear, put, mclear, mset = test.pattern.replace
    for level in board.levels_of(found):
        _queue(queues[level], run.rule)
    if len(found) <= _FEW:
        changed, objs, movs = False, board.obj, board.mov
        for i in found:
            obj, mov = objs[i], movs[i]
            new_obj, new_mov = (obj & ~clear) | put, (mov & ~mclear) | mset
            if new_obj != obj or new_mov != mov:
                board.set(i, new_obj, new_mov)
                changed = True
        return changed
    new = []
    for planes, words_clear, words_set in zip(board.planes(), (clear, mclear), (put, mset), strict=True):
        planes = planes.copy()
        for k in range(planes.shape[0]):
            c = np.uint64((words_clear >> (64 * k)) & 0xFFFFFFFFFFFFFFFF)
            s = np.uint64((words_set >> (64 * k)) & 0xFFFFFFFFFFFFFFFF)
            if c or s:
                planes[k] = np.where(where, (planes[k] & ~c) | s, planes[k])
        new.append(planes)
    return board.replace_planes(*new)


def _still_settled(run: RunRule, board: Board) -> bool:
    """Whether a rule that last ran without changing anything would again change nothing.

    True if the board is as it was then, or if no cell written since matches any of the rule's
    patterns: any new match would have to include such a cell.
    """
    settled = board.settled.get(run.ident)
    if settled is None:
        return False
    version = board.version
    if settled == version:
        return True
    if version - settled > _FEW_WRITES:
        return False
    objs, movs = board.obj, board.mov
    for i in set(board.log[settled:version]):
        if any(p.matches(objs[i], movs[i]) for p in run.patterns):
            return False
    board.settled[run.ident] = version
    return True


def _apply_group(group: list[RunRule], board: Board, queues: list[list[str]]) -> bool:
    any_change = False
    for _ in range(_MAX_GROUP_PASSES):
        made = False
        for run in group:
            # Cheap refusals first: an object or movement the rule needs is nowhere on the board, or the
            # rule already ran on exactly this board without changing it.
            union = board.obj_union
            if run.obj_mask & ~union or run.mov_mask & ~board.mov_union or not all(a & union for a in run.any_masks):
                continue
            if _still_settled(run, board):
                continue
            if _try_rule(run, board, queues):
                made = True
            else:
                board.settled[run.ident] = board.version
        if not made:
            break
        any_change = True
    return any_change


def _apply_rules(groups: list[list[RunRule]], loops: dict[int, int], board: Board, queues: list[list[str]]) -> None:
    # On a tall board a group or loop repeats until no level changes: a level that did not change in a pass
    # would not change in another, so the others' extra passes leave it as it is.
    propagated, loop_count, gi = False, 0, 0
    while gi < len(groups):
        propagated = _apply_group(groups[gi], board, queues) or propagated
        if propagated and gi in loops:
            gi, propagated = loops[gi], False
            loop_count += 1
            if loop_count > 200:
                break
            continue
        gi += 1


def _player_map(t: Tables, obj: np.ndarray) -> np.ndarray:
    """Cells holding a player (all of an aggregate player's objects)."""
    return _has(obj, t.player_mask, t.player_aggregate, t.obj_words)


def _start_movement(t: Tables, board: Board, bits: list[int]) -> np.ndarray:
    """Give every player its level's input movement (`bits`, one per level); returns where players stood."""
    obj, mov = board.planes()
    where = _player_map(t, obj)
    mov = mov.copy()
    for layer, mask in t.player_layers:
        has = where & _has(obj, mask, False, t.obj_words)
        for k in range(t.mov_words):
            words = np.array([((b << (5 * layer)) >> (WORD * k)) & FULL for b in bits], dtype=np.uint64)
            if words.any():
                rows = np.repeat(words, board.rows + 1)[: board.height]
                mov[k] |= np.where(has, rows[:, None], np.uint64(0))
    board.replace_planes(obj, mov)
    return where


def _resolve_movement(t: Tables, board: Board) -> None:
    """Move objects cell by cell (column-major, as PuzzleScript scans) until nothing more can move; no
    object leaves its level."""
    h, w = board.rows, board.width
    objs = board.obj
    xs, ys = np.nonzero(board.planes()[1].any(axis=0).T)  # column by column, top to bottom
    moving = [[i, board.mov[i]] for i in (ys * w + xs).tolist()]
    progress = True
    while progress:
        progress = False
        for item in moving:
            i, mov = item
            if not mov:
                continue
            y, x = divmod(i, w)
            y %= h + 1
            for layer, layer_mask in enumerate(t.layer_masks):
                bits = (mov >> (5 * layer)) & 0x1F
                if not bits:
                    continue
                dy, dx = _MOVE_STEP.get(bits, (0, 0))
                if not (0 <= y + dy < h and 0 <= x + dx < w):
                    continue
                target = i + dy * w + dx
                if bits != 16 and objs[target] & layer_mask:
                    continue
                source = objs[i]
                board.set(i, source & ~layer_mask, board.mov[i])
                board.set(target, objs[target] | (source & layer_mask), board.mov[target])
                mov &= ~(0x1F << (5 * layer))
                progress = True
            item[1] = mov
    board.clear_movements()


def simulate(t: Tables, obj: np.ndarray, move: str | None) -> tuple[np.ndarray, list[str], bool]:
    """One turn's rules and movement: (objects after, command queue, blocked by require_player_movement)."""
    return simulate_batch(t, [obj], [move])[0]


def simulate_batch(
    t: Tables, grids: list[np.ndarray], moves: list[str | None]
) -> list[tuple[np.ndarray, list[str], bool]]:
    """`simulate` for several levels of one size at once, each with its own input, on one tall board."""
    board = Board(stack(grids), t.mov_words, len(grids))
    queues: list[list[str]] = [[] for _ in grids]
    bits = [0 if m is None else INPUT_BITS[m] for m in moves]
    players = _start_movement(t, board, bits) if any(bits) else None
    _apply_rules(t.groups, t.loops, board, queues)
    _resolve_movement(t, board)
    _apply_rules(t.late_groups, t.late_loops, board, queues)
    tall = board.planes()[0]
    afters = unstack(tall, len(grids))
    blocked = [False] * len(grids)
    if players is not None and "require_player_movement" in t.flags:
        kept = _has(tall, t.player_mask, False, t.obj_words) | ~players
        for b, rows in enumerate(range(0, board.height, board.rows + 1)):
            stood = players[rows : rows + board.rows]
            blocked[b] = bool(bits[b]) and stood.any() and kept[rows : rows + board.rows].all()
    return [(grids[b], [], True) if blocked[b] else (afters[b], queues[b], False) for b in range(len(grids))]


def _has(obj: np.ndarray, mask: int, aggregate: bool, words: int) -> np.ndarray:
    """Cells holding any of a mask's objects (all of them for an aggregate), for planes (..., K, H, W)."""
    out = np.full(obj.shape[:-3] + obj.shape[-2:], aggregate, dtype=bool)
    for k, w in split(mask, words):
        plane = obj[..., k, :, :]
        out = (out & ((plane & w) == w)) if aggregate else (out | ((plane & w) != 0))
    return out


def conditions_met(t: Tables, obj: np.ndarray) -> np.ndarray:
    """Whether every win condition holds, for object planes (..., K, H, W): one bool per leading index.

    False where the game has no win conditions (it is won only by a `win` command).
    """
    won = np.full(obj.shape[:-3], bool(t.wins))
    for cond in t.wins:
        first = _has(obj, cond.mask, cond.aggregate, t.obj_words)
        second = _has(obj, cond.on_mask, cond.on_aggregate, t.obj_words)
        if cond.quantifier == "no":
            won &= ~(first & second).any(axis=(-2, -1))
        elif cond.quantifier == "some":
            won &= (first & second).any(axis=(-2, -1))
        else:
            won &= ~(first & ~second).any(axis=(-2, -1))
    return won

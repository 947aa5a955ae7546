"""Array-batched playtests of the walk and keys mechanics (their ``analyse_batch``), for the
environment's per-step reward.

This is the one second implementation of rules of motion in relaygen, and it is the batched form
for rewards only: the playtester (final checks, ``relaygen playtest``, generation), the viewer and
the push and relay rewards all use the mechanics' ``analyse``. Each function takes a stack of grids
``(m, H, W)`` and returns what the mechanic's ``analyse`` finds for each of them (verdict, metrics,
solution length), without a Python loop over cells or levels. Masks are packed one row per
``uint64`` (rules allow at most 64 columns, bit ``x`` = column ``x``), so a breadth-first layer over
the whole batch is a handful of numpy calls.

The equivalence with :mod:`relaygen.mechanics` is tested, not assumed:
``tests/test_fastplay_equivalence.py`` is a Hypothesis property test over random rules files (random
tile sets with the mechanic's properties, sizes 5..12, random maps) asserting equal verdicts, metrics
and lengths, and that the mechanic's solution wins in its simulator; ``tests/test_env_scoring.py``
checks the whole batched score against the playtester on the built-ins.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from relaygen.mechanics.base import Budget, corridor_share, without
from relaygen.rules import Rules

_LABEL_STRUCTURE = np.zeros((3, 3, 3), dtype=bool)
_LABEL_STRUCTURE[1] = [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
"""4-connectivity inside each grid of a stack, none across grids."""


def pack(mask: np.ndarray) -> np.ndarray:
    """``(m, H, W)`` booleans as ``(m, H)`` uint64 rows."""
    m, h, w = mask.shape
    out = np.zeros((m, h, 8), dtype=np.uint8)
    out[..., : (w + 7) // 8] = np.packbits(mask, axis=-1, bitorder="little")
    return out.view("<u8")[..., 0]


def neighbours(rows: np.ndarray) -> np.ndarray:
    """Cells 4-adjacent to a set cell (the set cells themselves only if adjacent to another).

    Bits past the grid's width may be set; callers intersect the result with grid cells.
    """
    out = rows << np.uint64(1)
    out |= rows >> np.uint64(1)
    out[:, 1:] |= rows[:, :-1]
    out[:, :-1] |= rows[:, 1:]
    return out


def bfs_layers(open_rows: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Breadth-first layers ``(D, m, H)`` from ``source`` over ``open_rows``; layer 0 is the source.

    Layer ``d`` holds the cells at step distance ``d`` (the source itself need not be open).
    """
    layers = [source]
    unvisited = open_rows & ~source
    frontier = source
    while True:
        new = neighbours(frontier)
        new &= unvisited
        if not new.any():
            return np.stack(layers)
        unvisited &= ~new
        layers.append(new)
        frontier = new


def first_layer(layers: np.ndarray, target: np.ndarray, start: int = 0) -> np.ndarray:
    """Per grid, the first layer index >= ``start`` that meets ``target`` ``(m, H)``; -1 if none."""
    hit = ((layers[start:] & target) != 0).any(axis=2)
    if not len(hit):
        return np.full(layers.shape[1], -1)
    return np.where(hit.any(axis=0), hit.argmax(axis=0) + start, -1)


def first_cell(rows: np.ndarray) -> np.ndarray:
    """Per grid, ``(row, col)`` of the first set cell in reading order (rows with a set cell only)."""
    r = (rows != 0).argmax(axis=1)
    v = rows[np.arange(len(rows)), r]
    lowest = v & (~v + np.uint64(1))
    return np.stack([r, np.log2(lowest.astype(np.float64)).astype(np.int64)], axis=1)


def regions(open_cells: np.ndarray) -> np.ndarray:
    """Number of 4-connected regions of each ``(H, W)`` mask in a stack ``(m, H, W)``."""
    labels, _ = ndimage.label(open_cells, structure=_LABEL_STRUCTURE)
    # Labels follow reading order over the whole stack, so grid i's labels all exceed grid i-1's.
    top = np.maximum.accumulate(labels.reshape(len(labels), -1).max(axis=1))
    return np.diff(top, prepend=0)


def as_played(rules: Rules, grids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The player mask of each grid, whether it has exactly one player, and the grids as their play
    starts (:meth:`~relaygen.mechanics.base.Mechanic.as_played`): the one player's cell holds the tile
    the player leaves behind."""
    player = rules.with_property("player")[grids]
    one = player.sum(axis=(1, 2)) == 1
    left = np.array([without(rules, t, "player") for t in range(len(rules.tiles))], dtype=grids.dtype)
    return player, one, np.where(player & one[:, None, None], left[grids], grids)


def walk(rules: Rules, grids: np.ndarray, budget: Budget | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The walk mechanic over a stack: (playable, metrics [regions, path_length, corridor_share],
    solution length). The search is exhaustive and cheap: no budget bounds it."""
    player, one, grids = as_played(rules, grids)
    walkable = ~(rules.with_property("solid")[grids] | rules.with_property("hazard")[grids])
    exits = rules.with_property("exit")[grids]
    valid = one & exits.any(axis=(1, 2))
    source = pack(player & valid[:, None, None])
    dist = first_layer(bfs_layers(pack(walkable), source), pack(exits), start=1)
    playable = valid & (dist > 0)
    length = np.where(playable, dist, 0)
    metrics = np.stack([regions(walkable), length, corridor_share(walkable)], axis=1).astype(np.float64)
    return playable, metrics, length


def keys(rules: Rules, grids: np.ndarray, budget: Budget | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The keys mechanic over a stack: (playable, metrics [regions, path_length, enemies,
    enemy_distance], solution length). The search is exhaustive and cheap: no budget bounds it."""
    m, h, w = grids.shape
    player, one, grids = as_played(rules, grids)
    has = {p: rules.with_property(p)[grids] for p in ("key", "door", "hazard")}
    walkable = ~(rules.with_property("solid")[grids] | has["hazard"])
    valid = one & has["key"].any(axis=(1, 2)) & has["door"].any(axis=(1, 2))
    open_rows, doors = pack(walkable), pack(has["door"])
    to_key = bfs_layers(open_rows & ~doors, pack(player & valid[:, None, None]))
    near = first_layer(to_key, neighbours(pack(has["hazard"])))
    key_dist = first_layer(to_key, pack(has["key"]), start=1)
    enemy_distance = np.where(valid & (near >= 0), near + 1, w + h)
    path = np.zeros(m, dtype=np.int64)
    found = np.flatnonzero(key_dist > 0)
    if len(found):
        hit_rows = to_key[key_dist[found], found] & pack(has["key"][found])
        cells = first_cell(hit_rows)
        source = np.zeros((len(found), h), dtype=np.uint64)
        source[np.arange(len(found)), cells[:, 0]] = np.uint64(1) << cells[:, 1].astype(np.uint64)
        door_dist = first_layer(bfs_layers(open_rows[found], source), doors[found], start=1)
        path[found] = np.where(door_dist > 0, key_dist[found] + door_dist, 0)
    playable = path > 0
    metrics = np.stack([regions(walkable), path, has["hazard"].sum(axis=(1, 2)), enemy_distance], axis=1).astype(
        np.float64
    )
    return playable, metrics, path

"""What every representation shares: the edit record, the interface, and the map observation.

A representation decides what an action means. It reads and moves the cursor of a batch of
environments (:class:`relaygen.env.vector.BatchedLevelEnv`) and returns the edits to make; the
environment applies them (frozen cells are never changed), scores the result and builds the
observation with :func:`map_planes`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from relaygen.errors import UserError
from relaygen.rules import Rules

if TYPE_CHECKING:
    from relaygen.env.vector import BatchedLevelEnv


COND_CAP = 2.0
"""``cond`` entries are clipped to [-COND_CAP, COND_CAP] (an infinite target bound becomes the cap)."""


class RepresentationError(UserError):
    """A representation that does not exist, or that cannot express a ruleset."""


@dataclass
class Edits:
    """One step's edits for a batch: per environment a cell (flat index, -1 for none) and a tile,
    or, for whole-map representations, a ``proposal`` ``(n, H, W)`` of tiles (-1 keeps a cell).

    ``penalty`` is added to the reward (carve's invalid moves) and ``end`` ends the episode.
    """

    cells: np.ndarray
    tiles: np.ndarray
    penalty: np.ndarray
    end: np.ndarray
    proposal: np.ndarray | None = None

    @classmethod
    def none(cls, n: int) -> Edits:
        return cls(np.full(n, -1, np.int64), np.zeros(n, np.uint8), np.zeros(n), np.zeros(n, bool))


class Representation:
    """How an agent edits a level. Subclasses set the class attributes and fill the hooks."""

    name: ClassVar[str]
    egocentric: ClassVar[bool] = True
    """The map observation is a crop centred on the cursor (else the whole map)."""
    spatial_actions: ClassVar[bool] = False
    """Actions are (tile, cell) pairs over the whole map: index = tile * (H * W) + cell."""
    cellwise_actions: ClassVar[bool] = False
    """An action is one choice per cell, an ``(H, W)`` array of ``n_actions()`` choices each."""
    change_limit: ClassVar[float] = 0.2
    """Default share of the editable cells an episode may change before it is truncated."""
    starts_from_levels: ClassVar[bool] = True
    """Whether an episode can start from a given (e.g. partly pinned) level."""
    tile_actions: ClassVar[int | None] = 0
    """The action that puts tile 0 (tile ``t`` is this plus ``t``; per cell for spatial and cellwise
    actions), or None when no action names a tile."""
    scores_at_end: ClassVar[bool] = False
    """Score a level only when its episode ends: its score cannot change before (the rewards of the
    steps between are then paid at the end, so an episode's return stays the same)."""
    n_features: ClassVar[int] = 0
    """Entries :meth:`features` appends to the ``cond`` observation."""

    def __init__(self, rules: Rules, **options: Any) -> None:
        if options:
            raise TypeError(f"representation {self.name!r} takes no options {sorted(options)}")
        self.rules = rules
        self.check(rules)

    def check(self, rules: Rules) -> None:
        """Raise :class:`RepresentationError` when ``rules`` cannot be edited this way."""
        if self.name not in rules.representations:
            raise RepresentationError(
                f"rules {rules.name!r} do not offer representation {self.name!r} "
                f"(their representations: {', '.join(rules.representations)})"
            )

    def n_actions(self) -> int:
        """The number of actions (per cell, for cellwise representations)."""
        raise NotImplementedError

    def default_max_steps(self) -> int:
        """Steps after which an episode is truncated when ``max_steps`` is not given."""
        return 3 * self.rules.editable_cells

    def bind(self, n: int) -> None:
        """Allocate per-environment state for a batch of ``n`` environments."""

    def reset(self, env: BatchedLevelEnv, i: int) -> None:
        """Start environment ``i``'s episode: place its cursor (its map is already drawn)."""
        raise NotImplementedError

    def act(self, env: BatchedLevelEnv, index: np.ndarray, actions: np.ndarray) -> Edits:
        """The edits that ``actions`` of the environments in ``index`` make (one row each); moves their cursors."""
        raise NotImplementedError

    def features(self, env: BatchedLevelEnv, index: np.ndarray) -> np.ndarray:
        """The representation's own observation entries ``(len(index), n_features)``, appended to ``cond``."""
        return np.zeros((len(index), 0), np.float32)

    def turns(self, env: BatchedLevelEnv, index: np.ndarray) -> np.ndarray | None:
        """Quarter turns (counter-clockwise) to rotate each crop by, or None for no rotation."""
        return None


class Digger(Representation):
    """A turtle digging through a solid map (carve, backtrack): its actions are relative to its
    ``heading`` (one per environment), an invalid one costs ``penalty``, and the crop turns with it."""

    change_limit = 1.0
    starts_from_levels = False
    tile_actions = None
    heading: np.ndarray

    def __init__(self, rules: Rules, penalty: float = 0.05, **options: Any) -> None:
        super().__init__(rules, **options)
        self.penalty = float(penalty)

    def turns(self, env: BatchedLevelEnv, index: np.ndarray) -> np.ndarray:
        return self.heading[index]


def random_free_cell(env: BatchedLevelEnv, i: int) -> tuple[int, int]:
    """A uniformly drawn cell of environment ``i`` that is not frozen (any cell if all are)."""
    free = np.flatnonzero(~env.frozen[i])
    cell = int(free[env.rngs[i].integers(len(free))]) if len(free) else 0
    return divmod(cell, env.width)


def map_planes(codes: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Planes ``(m, C, h, w)`` float32 from cell codes ``(m, h, w)`` and a ``(C, codes)`` table."""
    out = np.empty((len(codes), len(table), *codes.shape[1:]), np.float32)
    index = codes.astype(np.intp)
    for c, row in enumerate(table):
        np.take(row, index, out=out[:, c], mode="clip")
    return out


def plane_table(n_tiles: int) -> np.ndarray:
    """Plane × code table. Code ``t`` is tile t, ``t + n_tiles + 1`` is tile t frozen and
    ``n_tiles`` is outside the grid; planes are the tiles, then frozen, then outside."""
    table = np.zeros((n_tiles + 2, 2 * (n_tiles + 1)), dtype=np.float32)
    for t in range(n_tiles):
        table[t, t] = table[t, t + n_tiles + 1] = table[n_tiles, t + n_tiles + 1] = 1
    table[n_tiles + 1, n_tiles] = 1
    return table


def crops(padded: np.ndarray, index: np.ndarray, cursor: np.ndarray, size: int) -> np.ndarray:
    """Square ``size`` crops of ``padded`` codes centred on each cursor (padding ``size // 2``)."""
    windows = sliding_window_view(padded, (size, size), axis=(1, 2))
    return windows[index, cursor[:, 0], cursor[:, 1]]

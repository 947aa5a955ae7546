"""The mechanic seam: what a game's rules of motion give the rest of relaygen, and the grid searches
the built-in mechanics share.

A mechanic is the one place where a game's rules of motion live. The playtester searches with them,
the environment's reward reads the playtester (or the mechanic's batched analyse), and the viewer
lets a person play with them. Every mechanic goes through :class:`Mechanic`, a protocol generic over
its own play state: the rest of relaygen (viewer, export, formats, generation) asks the mechanic
what to draw, what the HUD says and how a level's payload is written, and never names a mechanic.

The four built-ins play on a one-tile-per-cell grid through :class:`GridMechanic`, whose state is a
:class:`PlayState`. The playtester judges a level on the grid its play starts from
(:meth:`GridMechanic.as_played`), so its solutions win in the simulator.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypeVar, runtime_checkable

import numpy as np
from scipy import ndimage

from relaygen.level import DIRECTIONS, Level, Payload

if TYPE_CHECKING:
    from relaygen.rules import Rules

Verdict = Literal["yes", "no", "unknown"]
Cell = tuple[int, int]
Tone = Literal["text", "dim", "good", "bad", "accent"]
HudSegment = tuple[str, Tone]
"""A piece of HUD text and how it is toned (the viewer picks the colour)."""
BatchAnalysis = tuple[np.ndarray, np.ndarray, np.ndarray]
"""A batched analyse's answer for ``m`` grids: verdict codes ``(m,)`` (indexes of
:data:`relaygen.score.VERDICTS`; booleans read as no/yes), metrics ``(m, n_metrics)`` in
:meth:`Mechanic.metric_names` order, and solution lengths ``(m,)``."""


class PlayedState(Protocol):
    """What the viewer reads from any mechanic's play state."""

    @property
    def won(self) -> bool: ...

    @property
    def lost(self) -> bool: ...


S = TypeVar("S", bound=PlayedState)


@dataclass(frozen=True)
class PlayState:
    """A position in a grid game being played.

    ``grid`` holds the static tiles (the player and any pushable tiles lifted out of it),
    ``player`` and ``boxes`` the things that move, ``leg`` the current Relay leg.
    """

    grid: np.ndarray = field(compare=False)
    player: Cell
    boxes: frozenset[Cell] = frozenset()
    has_key: bool = False
    leg: int = 0
    moves: int = 0
    pushes: int = 0
    won: bool = False
    lost: bool = False


@dataclass(frozen=True)
class Analysis:
    """What a mechanic's playtester found: the verdict, a solution in its move alphabet, and the metrics."""

    verdict: Verdict
    solution: str | None
    metrics: dict[str, float]
    reason: str = ""
    optimal: bool = False
    """The solution is move-optimal (fewest moves, then fewest pushes)."""


@dataclass(frozen=True)
class Budget:
    """How hard a playtester may search before answering ``unknown``."""

    max_nodes: int | None = None
    time_limit: float | None = None
    optimal: bool = False
    """Push games: once solved, search on for a move-optimal solution with what is left of the budget."""


FULL_BUDGET = Budget(max_nodes=None, time_limit=10.0)
"""The final check's budget: what the generator and ``relaygen playtest`` use."""


@runtime_checkable
class Mechanic(Protocol[S]):
    """A game's rules of motion and its playtester, as the rest of relaygen uses them.

    Class attributes say what the mechanic is; the methods are its simulator (``start``, ``step``),
    its playtester (``analyse``, and ``analyse_batch`` where an array form exists), and what the
    viewer, export and file formats need (``draw``, ``trail``, ``hud``, ``read_payload``)."""

    name: ClassVar[str]
    moves: ClassVar[str] = "udlr"
    """The move alphabet: one letter per input, as solutions are written."""
    required_properties: ClassVar[tuple[str, ...]] = ()
    """Tile properties the rules must give some tile."""
    metrics: ClassVar[tuple[str, ...]] = ()
    solution_metrics: ClassVar[tuple[str, ...]] = ()
    """Metrics that only the search measures (0 in a level scored without one): what a blind
    environment keeps out of sight (:class:`~relaygen.env.options.EnvOptions` ``blind``)."""
    settings: ClassVar[tuple[str, ...]] = ()
    """Rules-file fields that only this mechanic reads (e.g. a script file)."""
    own_representations: ClassVar[tuple[str, ...]] = ()
    """Representations that build this mechanic's levels only (e.g. a maze digger)."""
    level_formats: ClassVar[tuple[str, ...]] = ("json", "txt")
    """The level file formats its levels can be written in."""
    marks_trail: ClassVar[bool] = False
    """The viewer and level pictures mark the cells the player ran through (:meth:`trail`)."""
    reverse_search: ClassVar[bool] = False
    """:meth:`farthest_starts` finds other starts of a level's room (a reverse search of its moves)."""
    analyse_batch: ClassVar[Callable[[Rules, np.ndarray, Budget], BatchAnalysis] | None] = None
    """The playtest of a stack of grids ``(m, H, W)`` within a budget, as arrays, for the environment's
    reward; None where the mechanic is played level by level."""
    analyse_unsearched: ClassVar[Callable[[Rules, np.ndarray], BatchAnalysis | None] | None] = None
    """The playtest of a stack of grids with no search, as arrays, where a faster form than ``analyse``
    level by level exists (it may answer None for a stack it does not take)."""
    reward_searches_counted: ClassVar[bool] = False
    """The environment's reward searches only levels that keep every count constraint (one that breaks
    one is unplayable whatever the search finds), as PCGRL runs its Sokoban solver only on maps with
    one player and as many crates as targets: for a mechanic whose search is costly."""

    def metric_names(self, rules: Rules) -> tuple[str, ...]:
        """Metrics that objectives of ``rules`` may name."""
        return self.metrics

    def check_rules(self, rules: Rules) -> list[str]:
        """What the mechanic finds wrong with ``rules`` beyond the schema: ``field: reason`` lines."""
        return []

    def source_names(self, rules: Rules) -> tuple[str, ...]:
        """Files besides the rules file that the game is made of, as the rules name them
        (:meth:`~relaygen.rules.Rules.sources` reads them)."""
        return ()

    def start(self, level: Level) -> S:
        """The state at the start of play; ``ValueError`` if the level cannot be played."""
        ...

    def step(self, level: Level, state: S, move: str) -> S | None:
        """The state after ``move`` (a letter of :attr:`moves`), or None when the move is not allowed."""
        ...

    def draw(self, level: Level, state: S) -> np.ndarray:
        """The state as a grid of the rules' tiles, as the renderer draws it."""
        ...

    def collection_text(self, levels: Sequence[Level]) -> str | None:
        """A ``.txt`` collection of ``levels`` in the game's own language (a PuzzleScript game with
        these levels); None to write relaygen's text maps."""
        return None

    def tile_art(self, rules: Rules) -> list[np.ndarray] | None:
        """Pixel art of each tile, ``(h, w, 3)`` uint8 RGB, drawn instead of the tiles' sprites and
        colours (a script game's own sprites); None to draw the tiles as the rules describe them."""
        return None

    def trail(self, level: Level, states: Sequence[S]) -> list[Cell]:
        """The cells the player passed through along a sequence of states (a run through the level)."""
        ...

    def hud(self, level: Level, state: S) -> list[HudSegment]:
        """What the HUD says about ``state`` beside the move count."""
        return []

    def analyse(self, level: Level, targets: dict[str, tuple[float, float]], budget: Budget) -> Analysis:
        """Decide whether ``level`` is playable, find a solution and measure the metrics."""
        ...

    def farthest_starts(
        self, level: Level, count: int, max_states: int, targets: dict[str, tuple[float, float]]
    ) -> list[Level]:
        """Up to ``count`` other starts of the level's room (same walls and goals), solvable and
        farthest from solved without passing the top of ``targets`` (the metrics' target ranges),
        found by a reverse search that sees at most ``max_states`` states; none where the mechanic
        has no such search."""
        return []

    def walled_in(self, level: Level, solution: str, targets: dict[str, tuple[float, float]]) -> Level | None:
        """The level with walls on floor cells that playing ``solution`` never uses (so that the
        solution still plays): floor the player cannot reach, and more as far as ``targets`` ask for
        walls; None where nothing is to be walled in (or the mechanic has no wall metric)."""
        return None

    def read_payload(self, fields: Mapping[str, Any], origin: str) -> Payload | None:
        """The level payload this mechanic keeps beside the grid, read from a level file's fields
        (:meth:`~relaygen.level.Payload.fields` writes them); None for a mechanic without one."""
        return None


def replay(mechanic: Mechanic[Any], level: Level, moves: str) -> list[Any]:
    """The states of playing ``moves`` from the start of ``level``, up to the first refused move."""
    states = [mechanic.start(level)]
    for move in moves:
        after = mechanic.step(level, states[-1], move)
        if after is None:
            break
        states.append(after)
    return states


class GridMechanic(Mechanic[PlayState]):
    """The built-in mechanics: one tile per cell, a player moved with u/d/l/r. Subclasses set the
    class attributes and fill ``analyse``; ``_enter`` is walk semantics."""

    def start(self, level: Level) -> PlayState:
        """The state at the start of play: the player lifted out of the grid."""
        rules = level.rules
        players = np.argwhere(rules.with_property("player")[level.grid])
        if len(players) != 1:
            raise ValueError(f"level needs exactly one player tile to be played, found {len(players)}")
        y, x = (int(v) for v in players[0])
        grid = level.grid.copy()
        grid[y, x] = without(rules, int(grid[y, x]), "player")
        return PlayState(grid=grid, player=(y, x))

    def as_played(self, level: Level) -> Level:
        """``level`` on the grid that :meth:`start` plays on, for the playtester: with exactly one player,
        the player's cell holds the tile the player leaves behind (its tile without ``player``, else plain
        floor), so the playtester judges the cells the simulator plays on. With no player or several,
        ``level`` itself."""
        if len(cells_with(level, "player")) != 1:
            return level
        return replace(level, grid=self.start(level).grid)

    def step(self, level: Level, state: PlayState, move: str) -> PlayState | None:
        if state.won or state.lost:
            return None
        dy, dx = DIRECTIONS[move]
        y, x = state.player[0] + dy, state.player[1] + dx
        if not (0 <= y < state.grid.shape[0] and 0 <= x < state.grid.shape[1]):
            return None
        return self._enter(level, state, (y, x), (dy, dx))

    def _enter(self, level: Level, state: PlayState, cell: Cell, delta: Cell) -> PlayState | None:
        """Move the player into ``cell`` (on the grid), or None if blocked. Walk semantics."""
        tile = level.rules.tiles[int(state.grid[cell])]
        if tile.solid:
            return None
        return replace(state, player=cell, moves=state.moves + 1, won=tile.exit, lost=tile.hazard)

    def trail(self, level: Level, states: Sequence[PlayState]) -> list[Cell]:
        return [s.player for s in states]

    def draw(self, level: Level, state: PlayState) -> np.ndarray:
        """The state drawn back as a grid of tiles (player and boxes put back in)."""
        rules = level.rules
        grid = state.grid.copy()
        for cell in state.boxes:
            grid[cell] = with_(rules, int(grid[cell]), "pushable")
        grid[state.player] = with_(rules, int(grid[state.player]), "player")
        return grid


# ----- tile property algebra ---------------------------------------------------------------------------


def without(rules: Rules, tile: int, prop: str) -> int:
    """The tile left behind when ``prop`` leaves ``tile`` (player on goal → goal; else plain floor)."""
    table = rules.by_properties
    return table.get(rules.properties_of(tile) - {prop}, table.get(frozenset(), tile))


def with_(rules: Rules, tile: int, prop: str) -> int:
    """The tile shown when ``prop`` enters ``tile`` (box onto goal → box on goal; else the plain one)."""
    table = rules.by_properties
    return table.get(rules.properties_of(tile) | {prop}, table.get(frozenset({prop}), tile))


# ----- grid searches -----------------------------------------------------------------------------------------

_FOUR = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)


def regions(open_cells: np.ndarray) -> int:
    """Number of 4-connected regions of ``open_cells``."""
    return int(ndimage.label(open_cells, structure=_FOUR)[1])


def corridor_share(open_cells: np.ndarray) -> np.ndarray:
    """Share of open cells with at most two open 4-neighbours (corridors and dead ends), per
    ``(H, W)`` mask of a stack ``(..., H, W)``; 0 without open cells. A perfect maze scores about 0.95,
    an open room near 0."""
    narrow = (open_cells & (beside(open_cells) <= 2)).sum(axis=(-2, -1))
    return narrow / np.maximum(1, open_cells.sum(axis=(-2, -1)))


def beside(mask: np.ndarray) -> np.ndarray:
    """How many of each cell's four neighbours are set in ``mask`` (outside the grid counts as unset),
    per ``(H, W)`` mask of a stack ``(..., H, W)``; int8."""
    counts = np.zeros(mask.shape, np.int8)
    counts[..., 1:, :] += mask[..., :-1, :]
    counts[..., :-1, :] += mask[..., 1:, :]
    counts[..., :, 1:] += mask[..., :, :-1]
    counts[..., :, :-1] += mask[..., :, 1:]
    return counts


def room_walls(solid: np.ndarray) -> tuple[int, int]:
    """Wall cells inside the outer ring, and how many of them are isolated: no wall among their four
    neighbours (posts standing alone in a hall, where designed rooms have corridors and closed rooms)."""
    inner = np.zeros_like(solid)
    inner[1:-1, 1:-1] = solid[1:-1, 1:-1]
    return int(inner.sum()), int((inner & (beside(solid) == 0)).sum())


def distances(open_cells: np.ndarray, source: Cell) -> np.ndarray:
    """BFS step counts from ``source`` over 4-connected ``open_cells``; -1 where unreachable."""
    h, w = open_cells.shape
    flat_open = open_cells.ravel().tolist()
    dist = [-1] * (h * w)
    start = source[0] * w + source[1]
    dist[start] = 0
    queue = deque([start])
    while queue:
        i = queue.popleft()
        d = dist[i] + 1
        x = i % w
        for j, ok in ((i - w, i >= w), (i + w, i < h * w - w), (i - 1, x > 0), (i + 1, x < w - 1)):
            if ok and flat_open[j] and dist[j] < 0:
                dist[j] = d
                queue.append(j)
    return np.array(dist, dtype=np.int32).reshape(h, w)


def path_moves(dist: np.ndarray, target: Cell) -> str:
    """The move string of a shortest path ending at ``target``, read back from a BFS ``dist`` map."""
    moves = []
    y, x = target
    h, w = dist.shape
    while dist[y, x] > 0:
        for move, (dy, dx) in DIRECTIONS.items():
            py, px = y - dy, x - dx
            if 0 <= py < h and 0 <= px < w and dist[py, px] == dist[y, x] - 1:
                moves.append(move)
                y, x = py, px
                break
    return "".join(reversed(moves))


def cells_with(level: Level, prop: str) -> list[Cell]:
    """Cells of ``level`` whose tile has ``prop``, in reading order."""
    rows, cols = np.nonzero(level.rules.with_property(prop)[level.grid])
    return list(zip(rows.tolist(), cols.tolist(), strict=True))

"""Script: a game whose rules of motion are a PuzzleScript program, played by :mod:`relaygen.script`.

A rules file says ``mechanic = "script"`` and ``script = "game.txt"`` (relative to the rules file);
a PuzzleScript ``.txt`` file itself is read as rules too (:func:`rules_from_script`). Each relaygen tile
is one of the game's legend glyphs (one character for one or more objects); a level's grid of glyphs
becomes the engine's start state. The playtester is a breadth-first search over engine states with a
transposition table on the packed state, answering yes (with the shortest ``udlrx`` solution), no (the
reachable states are exhausted) or unknown (the budget ran out).
"""

from __future__ import annotations

import math
import os
import re
import statistics
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import ndimage

from relaygen.level import Level, LevelError
from relaygen.mechanics.base import Analysis, BatchAnalysis, Budget, Cell, Mechanic
from relaygen.score import VERDICTS
from relaygen.script.search import solve_many

if TYPE_CHECKING:
    from relaygen.rules import Rules
    from relaygen.script import Game, State

SCRIPT_MARKER = re.compile(r"^\s*=+\s*\n\s*objects\s*\n\s*=+\s*$", re.IGNORECASE | re.MULTILINE)
"""The OBJECTS section header that every PuzzleScript source has."""
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
RESERVED = set(";?") | {" ", "\t"}
"""Characters that relaygen's text maps keep for themselves (comments, free cells, blanks)."""
_FOUR = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)


def is_script(text: str) -> bool:
    """Whether ``text`` is a PuzzleScript source (it has an OBJECTS section)."""
    return SCRIPT_MARKER.search(text) is not None


def game_of(rules: Rules) -> Game:
    """The compiled game of the rules' script (compiled once per script text)."""
    if rules.script is None:
        raise LevelError(f"rules {rules.name!r} name no script file")
    return _compiled(rules.source(rules.script))


@lru_cache(maxsize=16)
def _compiled(text: str) -> Game:
    from relaygen.script import load_game

    return load_game(text)


class Script(Mechanic["State"]):
    """PuzzleScript play. Metrics: solution length, the states the search expanded, and the regions of
    cells the player could stand on."""

    name = "script"
    moves = "udlrx"
    settings = ("script",)
    metrics = ("solution_length", "solver_nodes", "regions")
    solution_metrics = ("solution_length", "solver_nodes")
    level_formats = ("json", "txt", "puzzlescript")
    reward_searches_counted = True

    def source_names(self, rules: Rules) -> tuple[str, ...]:
        return () if rules.script is None else (rules.script,)

    def check_rules(self, rules: Rules) -> list[str]:
        from relaygen.rules import RulesError
        from relaygen.script import ScriptError

        if rules.script is None:
            return ["script: mechanic 'script' needs the PuzzleScript file of the game (script = \"game.txt\")"]
        try:
            game = game_of(rules)
        except ScriptError as exc:
            return [f"script: {rules.script}: {exc}"]
        except RulesError as exc:
            return [f"script: {exc}"]
        unknown = [t.char for t in rules.tiles if t.char not in game.glyphs]
        if unknown:
            return [f"tiles: {unknown} are not glyphs of the game's legend ({''.join(sorted(game.glyphs))})"]
        return []

    def start(self, level: Level) -> State:
        return _start_state(level.rules, level.grid)

    def step(self, level: Level, state: State, move: str) -> State | None:
        if state.won:
            return None
        after = state.move(move)
        return None if after.key == state.key and not after.won else after

    def draw(self, level: Level, state: State) -> np.ndarray:
        table = _tile_table(level.rules)
        cells = state.cells()
        return np.array([[_nearest(table, cell) for cell in row] for row in cells], dtype=np.uint8)

    def collection_text(self, levels: Sequence[Level]) -> str:
        """The game's own source with its LEVELS replaced by ``levels``: a file PuzzleScript plays."""
        return with_levels(levels[0].rules.source(levels[0].rules.script), [level.rows() for level in levels])

    def tile_art(self, rules: Rules) -> list[np.ndarray]:
        """Each glyph drawn as PuzzleScript draws it: its objects' 5x5 sprites over the background,
        in collision-layer order."""
        return _art(rules)

    def trail(self, level: Level, states: Sequence[State]) -> list[Cell]:
        players = set(game_of(level.rules).player_objects)
        cells = []
        for state in states:
            found = next(
                ((y, x) for y, row in enumerate(state.cells()) for x, cell in enumerate(row) if cell & players), None
            )
            if found is not None:
                cells.append(found)
        return cells

    def analyse(self, level: Level, targets: dict[str, tuple[float, float]], budget: Budget) -> Analysis:
        game = game_of(level.rules)
        metrics = {
            "solution_length": 0.0,
            "solver_nodes": 0.0,
            "regions": float(_regions(game, level.rules, level.grid)),
        }
        try:
            start = self.start(level)
        except ValueError as exc:
            return Analysis("no", None, metrics, f"cannot start: {exc}")
        found = solve_many([start], _moves(game), budget.max_nodes, budget.time_limit)[0]
        metrics["solver_nodes"] = float(found.nodes)
        if found.solution is None:
            why = (
                "every reachable state searched"
                if found.verdict == "no"
                else f"budget spent after {found.nodes} states"
            )
            return Analysis(found.verdict, None, metrics, f"solver: {why}")
        metrics["solution_length"] = float(len(found.solution))
        return Analysis("yes", found.solution, metrics, optimal=True)

    @staticmethod
    def analyse_batch(rules: Rules, grids: np.ndarray, budget: Budget) -> BatchAnalysis:
        """:meth:`analyse` of a stack of grids, their searches advanced together (one tall board per
        round); a grid the game cannot start counts as unplayable."""
        game = game_of(rules)
        length, nodes, regions = (Script.metrics.index(m) for m in ("solution_length", "solver_nodes", "regions"))
        verdicts = np.zeros(len(grids), dtype=np.int8)
        metrics = np.zeros((len(grids), len(Script.metrics)), dtype=np.float64)
        lengths = np.zeros(len(grids), dtype=np.int64)
        starts, playing = [], []
        for i, grid in enumerate(grids):
            metrics[i, regions] = _regions(game, rules, grid)
            try:
                starts.append(_start_state(rules, grid))
            except ValueError:
                continue
            playing.append(i)
        for i, found in zip(
            playing, solve_many(starts, _moves(game), budget.max_nodes, budget.time_limit), strict=True
        ):
            verdicts[i] = VERDICTS.index(found.verdict)
            metrics[i, nodes] = found.nodes
            lengths[i] = metrics[i, length] = len(found.solution or "")
        return verdicts, metrics, lengths


def _start_state(rules: Rules, grid: np.ndarray) -> State:
    """The engine's start state of a grid of the rules' tiles (each tile a legend glyph's objects)."""
    game = game_of(rules)
    objects = [game.glyphs[t.char] for t in rules.tiles]
    return game.state_from_cells([[objects[t] for t in row] for row in grid.tolist()])


def with_levels(source: str, levels: Sequence[Sequence[str]]) -> str:
    """PuzzleScript ``source`` with everything after its LEVELS header replaced by ``levels`` (rows
    of glyphs), one blank line between levels."""
    lines = source.splitlines()
    header = next(
        (
            i
            for i in range(1, len(lines) - 1)
            if lines[i].strip().lower() == "levels" and _rule_line(lines[i - 1]) and _rule_line(lines[i + 1])
        ),
        None,
    )
    if header is None:
        raise LevelError("the game has no LEVELS section to write levels into")
    body = "\n\n".join("\n".join(rows) for rows in levels)
    return "\n".join(lines[: header + 2]) + "\n\n" + body + "\n"


def _rule_line(line: str) -> bool:
    """Whether ``line`` is a section rule of ``=`` signs."""
    return bool(line.strip()) and set(line.strip()) == {"="}


def _regions(game: Game, rules: Rules, grid: np.ndarray) -> int:
    """4-connected regions of the cells a player could stand on (nothing in the player's collision layer)."""
    players = set(game.player_objects)
    layer = {name for names in game.layers if players & set(names) for name in names} - players
    objects = [set(game.glyphs[t.char]) for t in rules.tiles]
    blocked = np.array([bool(layer & o) for o in objects])[grid]
    return int(ndimage.label(~blocked, structure=_FOUR)[1])


@lru_cache(maxsize=16)
def _art(rules: Rules) -> list[np.ndarray]:
    game = game_of(rules)
    out = []
    for tile in rules.tiles:
        pixels = np.zeros((5, 5, 3), dtype=np.uint8)
        for name in _bottom_up(game, game.glyphs[tile.char]):
            colors = [_rgb(c) for c in game.colors[name]]
            sprite = np.array(game.sprites[name])
            for (y, x), index in np.ndenumerate(sprite):
                if 0 <= index < len(colors) and colors[index] is not None:
                    pixels[y, x] = colors[index]
        out.append(pixels)
    return out


def _rgb(color: str) -> tuple[int, int, int] | None:
    """An engine colour as (r, g, b); None for a transparent one."""
    if not HEX.match(color):
        return None
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))


@lru_cache(maxsize=16)
def _tile_table(rules: Rules) -> tuple[tuple[frozenset[str], int], ...]:
    """Each tile's objects (background added) with its index, most objects first."""
    game = game_of(rules)
    rows = [(frozenset(_bottom_up(game, game.glyphs[t.char])), i) for i, t in enumerate(rules.tiles)]
    return tuple(sorted(rows, key=lambda row: -len(row[0])))


def _nearest(table: tuple[tuple[frozenset[str], int], ...], cell: frozenset[str]) -> int:
    """The tile that shows ``cell``: the one with exactly its objects, else the most objects it holds."""
    best = next((i for objects, i in table if objects == cell), None)
    if best is not None:
        return best
    return next((i for objects, i in table if objects <= cell), table[-1][1])


# ----- a PuzzleScript file as rules ------------------------------------------------------------------------


def rules_from_script(path: str | Path, solve_levels: bool = False, size: tuple[int, int] | None = None) -> Rules:
    """The rules a PuzzleScript file implies, read from its levels of the median size or smaller
    (see :func:`import_size`): that size (or ``size``, the levels read all the same); a tile per
    legend glyph the levels use, floor first, drawn in random maps as often as in those levels; the
    glyph that rings them as the border; a count range per piece (not the floor, the border or another
    glyph that fills a fifth of the cells: their counts are the room's shape); and an objective on
    solution length. With ``solve_levels`` (``relaygen rules import``), the difficulty knob moves
    solution length up to the lengths those levels need (the ones the search solves in 10 s each; see
    :func:`knob_ends`); otherwise any solvable level meets it."""
    from relaygen.rules import RulesError, parse_rules
    from relaygen.script import ScriptError

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        game = _compiled(text)
    except ScriptError as exc:
        raise RulesError(f"{path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read: {exc}") from None
    levels = {i: lv.glyph_rows for i, lv in enumerate(game.levels) if lv.message is None}
    if not levels:
        raise RulesError(f"{path}: the game has no levels to learn sizes and tiles from")
    read_at = import_size(list(levels.values()))
    fitting = {i: rows for i, rows in levels.items() if _fits(rows, read_at)}
    lengths = _lengths(game, list(fitting)) if solve_levels else []
    toml = _rules_toml(game, path, list(levels.values()), list(fitting.values()), lengths, size or read_at)
    return parse_rules(toml, str(path), path.parent)


def imported_rules(path: Path, folder: Path, size: tuple[int, int] | None = None) -> Rules:
    """The rules of ``relaygen rules import``: :func:`rules_from_script` with the levels solved, for a
    rules file in ``folder`` (its ``script`` path relative to that folder), at ``size`` if given."""
    from relaygen.rules import Rules

    rules = rules_from_script(path, solve_levels=True, size=size)
    script = Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()
    return Rules.model_validate(rules.model_dump() | {"script": script})


IMPORT_AREA = 64
"""The most cells the imported size has where the game has a level that small (Sokoban's 8x8)."""


def import_size(levels: Sequence[Sequence[str]]) -> tuple[int, int]:
    """The (width, height) rules are imported at: the median of the levels' widths and of their heights
    (the upper one of an even count); where that is more than :data:`IMPORT_AREA` cells, the biggest
    level size within it, else the smallest level's. A game's biggest levels are its last and hardest;
    a generator learns, and a breadth-first search solves, small rooms in minutes."""
    sizes = sorted(set(sizes_of(levels)), key=lambda s: (s[0] * s[1], s))
    widths, heights = sorted(w for w, _ in sizes_of(levels)), sorted(h for _, h in sizes_of(levels))
    size = widths[len(widths) // 2], heights[len(heights) // 2]
    if size[0] * size[1] > IMPORT_AREA:
        small = [s for s in sizes if s[0] * s[1] <= IMPORT_AREA]
        size = small[-1] if small else sizes[0]
    return min(max(size[0], 3), 64), min(max(size[1], 3), 64)


def sizes_of(levels: Sequence[Sequence[str]]) -> list[tuple[int, int]]:
    """Each level's (width, height)."""
    return [(max(len(row) for row in rows), len(rows)) for rows in levels]


def _fits(rows: Sequence[str], size: tuple[int, int]) -> bool:
    return max(len(row) for row in rows) <= size[0] and len(rows) <= size[1]


def _lengths(game: Game, indexes: Sequence[int]) -> list[int]:
    """Solution lengths of the game's own levels at ``indexes`` that the search solves in 10 s each."""
    found = [solve_many([game.start(i)], _moves(game), time_limit=10.0)[0] for i in indexes]
    return [len(f.solution) for f in found if f.solution]


def _moves(game: Game) -> str:
    """The inputs the game takes: ``udlrx``, without the action key in a ``noaction`` game."""
    return Script.moves.replace("x", "") if game.flag("noaction") else Script.moves


TERRAIN_SHARE = 0.2
"""A glyph filling at least this share of the cells (walls, floor) is terrain: no count range."""
BORDER_SHARE = 0.75
"""The glyph filling at least this share of the levels' outer rings becomes the rules' border."""


def _rules_toml(
    game: Game,
    path: Path,
    levels: list[tuple[str, ...]],
    fitting: list[tuple[str, ...]],
    lengths: list[int],
    size: tuple[int, int],
) -> str:
    """The rules file text for a game: tiles from all its ``levels`` (so each of them reads), the rest
    from the ``fitting`` ones (see :func:`rules_from_script`)."""
    from relaygen.rules import RulesError

    used = list(dict.fromkeys(ch for rows in levels for row in rows for ch in row))
    reserved = sorted(RESERVED & set(used))
    if reserved:
        raise RulesError(
            f"{path}: the levels use glyph {reserved[0]!r}, which relaygen's text maps keep for themselves "
            f"(not {', '.join(repr(c) for c in sorted(RESERVED))}): give it another character in the LEGEND"
        )
    if len(used) < 2:
        used += [ch for ch in game.glyphs if ch not in used and ch not in RESERVED][: 2 - len(used)]
    if len(used) < 2:
        raise RulesError(f"{path}: the game's legend has one glyph only: there is nothing to place or generate")
    floor = next((ch for ch in used if game.glyphs[ch] == (_background(game),)), used[0])
    tiles = [floor] + [ch for ch in used if ch != floor]
    border = _border(fitting, floor)
    inner = [_inner(rows, border is not None) for rows in fitting]
    counts = {ch: [sum(row.count(ch) for row in rows) for rows in fitting] for ch in tiles}
    weights = {ch: sum(row.count(ch) for rows in inner for row in rows) for ch in tiles}
    total = sum(weights.values()) or 1
    cells = sum(len(row) for rows in fitting for row in rows)
    terrain = {floor, border} | {ch for ch in tiles if sum(counts[ch]) >= TERRAIN_SHARE * cells}
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", game.title or path.stem).strip("_.") or "game"
    taken: set[str] = set()
    names = {ch: _tile_name(game.glyphs[ch], taken) for ch in tiles}
    lines = [
        f"name = {_quote(name)}",
        f"description = {_quote(f'PuzzleScript game {game.title or path.name}')}",
        'mechanic = "script"',
        f"script = {_quote(path.name)}",
        f"width = {size[0]}",
        f"height = {size[1]}",
        'representations = ["wide", "narrow", "turtle", "nca"]',
    ]
    if border is not None:
        lines.append(f"border = {_quote(names[border])}")
    for ch in tiles:
        lines += ["", "[[tiles]]", f"name = {_quote(names[ch])}", f"char = {_quote(ch)}"]
        lines.append(f'color = "{_tile_color(game, game.glyphs[ch])}"')
        lines.append(f"weight = {max(weights[ch] / total, 0.001):.3f}")  # random maps as the game's levels
    for ch in (ch for ch in tiles if ch not in terrain):
        lines += ["", "[[constraints]]", f"tiles = [{_quote(names[ch])}]"]
        lines += [f"min = {min(counts[ch])}", f"max = {max(counts[ch])}"]
    lines += ["", "[[objectives]]", 'metric = "solution_length"']
    if lengths:
        easy, hard = knob_ends(lengths)
        lines += ["", "[difficulty]", 'metric = "solution_length"', f"easy = {list(easy)}", f"hard = {list(hard)}"]
    else:
        lines.append("target = [1, inf]")
    return "\n".join(lines) + "\n"


def knob_ends(lengths: Sequence[int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """The difficulty knob's solution-length targets at its two ends, from the lengths of the game's
    own levels: easy one or two moves, hard from the shortest of those levels to their median. Narrow
    ends keep the targets between them narrow, so that the generator, keeping the draft nearest its
    target, ranks its levels by length (wide ones leave many drafts inside, picked by score)."""
    lo, middle = min(lengths), math.ceil(statistics.median(lengths))
    return (1, 2), (lo, max(middle, lo + 1))


def _border(levels: list[tuple[str, ...]], floor: str) -> str | None:
    """The glyph (not the floor) that fills at least :data:`BORDER_SHARE` of the levels' outer rings, if any."""
    ring = [ch for rows in levels for ch in _ring(rows)]
    top = max(set(ring), key=ring.count)
    return top if top != floor and ring.count(top) >= BORDER_SHARE * len(ring) else None


def _ring(rows: tuple[str, ...]) -> str:
    """The outer ring of a level's cells."""
    return rows[0] + rows[-1] + "".join(row[0] + row[-1] for row in rows[1:-1])


def _inner(rows: tuple[str, ...], bordered: bool) -> tuple[str, ...]:
    """A level's cells inside its outer ring where the rules have a border (random maps draw those)."""
    return tuple(row[1:-1] for row in rows[1:-1]) if bordered and len(rows) > 2 else rows


def _tile_color(game: Game, objects: tuple[str, ...]) -> str:
    """The colour a tile is listed with: its topmost object's first visible colour."""
    top = reversed(_bottom_up(game, objects))
    return next((c for name in top for c in game.colors[name] if HEX.match(c)), "#ff00ff")


def _background(game: Game) -> str:
    """The object every cell holds at the bottom (the first collision layer's)."""
    return next(iter(game.layers[0]))


def _bottom_up(game: Game, objects: tuple[str, ...]) -> list[str]:
    """A glyph's objects with the background, in collision-layer order (as PuzzleScript draws them)."""
    order = {name: i for i, layer in enumerate(game.layers) for name in layer}
    return sorted(dict.fromkeys((_background(game), *objects)), key=lambda n: order.get(n, 0))


def _tile_name(objects: tuple[str, ...], taken: set[str]) -> str:
    """A tile name from a glyph's objects (``crate_target``), unique among ``taken``."""
    base = re.sub(r"[^a-z0-9_]", "_", "_".join(o.lower() for o in objects)) or "tile"
    base = base if base[0].isalpha() else f"t_{base}"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}_{i}", i + 1
    taken.add(name)
    return name


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def script_levels(path: Path, rules: Rules | None = None) -> list[Level]:
    """The levels of a PuzzleScript file, as levels of its rules (``rules``, or those it implies)."""
    from relaygen.rules import load_rules

    rules = rules or load_rules(path)
    game = game_of(rules)
    out = []
    for i, lv in enumerate(game.levels):
        if lv.message is None:
            level = Level.from_rows(rules, list(lv.glyph_rows), name=f"{path.stem} {len(out) + 1}")
            level.meta["script_level"] = i
            out.append(level)
    return out

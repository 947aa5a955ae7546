"""Drawing levels: the one renderer behind the viewer, the environment's render modes and PNG export.

Each tile is drawn with the sprite its rules name (``assets/<sprite>.png``, shipped in the
package, or a PNG file of the designer's, ``<file>.png`` relative to the rules file), composited
over the ruleset's plain ground tile; a tile without a sprite (or whose sprite is missing, which
:func:`sprite_problems` reports) is a flat block of its colour. Overlays mark pinned cells, an editing cursor,
changed cells and a trail of visited cells. Everything draws off-screen: no window is needed.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from relaygen.files import atomic_write
from relaygen.mechanics import get_mechanic

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    import pygame

    from relaygen.level import Level
    from relaygen.rules import Rules, Tile

SPRITE_SIZE = 24
"""Size in pixels of the shipped sprites."""
Cell = tuple[int, int]

CURSOR = (255, 214, 10)
HIGHLIGHT = (255, 230, 80, 110)
TRAIL = (58, 134, 255, 170)
PIN = (40, 30, 20, 150)


def require_pygame() -> ModuleType:
    """Import pygame (pygame-ce), or fail with a message that says how to install it."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    try:
        import pygame
    except ImportError as exc:
        raise RuntimeError("drawing levels needs pygame-ce: pip install pygame-ce") from exc
    return pygame


@cache
def sprite(name: str, folder: Path | None = None) -> pygame.Surface | None:
    """The sprite ``name`` at 24 px: a shipped one, or a PNG file (``*.png``, relative to ``folder``,
    scaled to 24 px); None if there is no such sprite."""
    pg = require_pygame()
    file = sprite_file(name, folder)
    if file is None:
        return None
    art = pg.image.load(io.BytesIO(file.read_bytes()), file.name)
    if art.get_size() != (SPRITE_SIZE, SPRITE_SIZE):
        art = pg.transform.smoothscale(art, (SPRITE_SIZE, SPRITE_SIZE))
    return art


def sprite_file(name: str, folder: Path | None = None) -> Traversable | None:
    """Where sprite ``name`` is: a shipped sprite, or a PNG file of the designer's (a name ending in
    ``.png``, relative to ``folder``); None when there is no such file."""
    if name.lower().endswith(".png"):
        file: Traversable = (folder or Path.cwd()) / name
    else:
        file = resources.files("relaygen") / "assets" / f"{name}.png"
    return file if file.is_file() else None


def sprite_names() -> list[str]:
    """Names of the sprites shipped in the package."""
    folder = resources.files("relaygen") / "assets"
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".png"))


def sprite_problems(rules: Rules) -> list[str]:
    """One line per tile whose sprite cannot be found (it is drawn as a block of its colour)."""
    problems = []
    for i, tile in enumerate(rules.tiles):
        if tile.sprite is None or sprite_file(tile.sprite, rules.folder) is not None:
            continue
        if tile.sprite.lower().endswith(".png"):
            where = (rules.folder or Path.cwd()) / tile.sprite
            why = f"no file {where}"
        else:
            why = f"no shipped sprite of that name (shipped: {', '.join(sprite_names())}; or give a .png file)"
        problems.append(f"tiles[{i}] ({tile.name}): sprite {tile.sprite!r}: {why}; drawn as a block of its colour")
    return problems


@lru_cache(maxsize=1024)
def tile_image(
    tile: Tile, ground: Tile | None, cell_size: int, sprites: bool = True, folder: Path | None = None
) -> pygame.Surface:
    """One tile drawn at ``cell_size``: its sprite (found as :func:`sprite` finds it) over the ground
    tile, or a block of its colour."""
    pg = require_pygame()
    art = sprite(tile.sprite, folder) if sprites and tile.sprite else None
    if art is None:
        block = pg.Surface((cell_size, cell_size))
        block.fill(tile.rgb)
        return block
    base = pg.Surface(art.get_size())
    if ground is not None and ground != tile:
        base.blit(tile_image(ground, None, SPRITE_SIZE, sprites, folder), (0, 0))
    else:
        base.fill(tile.rgb)
    base.blit(art, (0, 0))
    if cell_size == SPRITE_SIZE:
        return base
    if cell_size % SPRITE_SIZE == 0:
        return pg.transform.scale(base, (cell_size, cell_size))
    return pg.transform.smoothscale(base, (cell_size, cell_size))


def art_image(pixels: np.ndarray, cell_size: int) -> pygame.Surface:
    """Pixel art ``(h, w, 3)`` scaled to a ``cell_size`` square, each pixel a sharp block."""
    pg = require_pygame()
    art = pg.surfarray.make_surface(np.ascontiguousarray(pixels.transpose(1, 0, 2)))
    return pg.transform.scale(art, (cell_size, cell_size))


def _cells(marks: np.ndarray | Iterable[Cell] | None) -> list[Cell]:
    if marks is None:
        return []
    if isinstance(marks, np.ndarray) and marks.dtype == bool:
        return [(int(y), int(x)) for y, x in np.argwhere(marks)]
    return [(int(y), int(x)) for y, x in marks]


def grid_surface(
    rules: Rules,
    grid: np.ndarray,
    *,
    cell_size: int = SPRITE_SIZE,
    sprites: bool = True,
    pinned: np.ndarray | None = None,
    cursor: Cell | None = None,
    highlight: np.ndarray | Iterable[Cell] | None = None,
    trail: Sequence[Cell] | None = None,
) -> pygame.Surface:
    """A grid of ``rules``' tiles drawn on a new surface, with optional overlays.

    ``pinned`` (bool mask) marks designer-fixed cells with a corner notch, ``cursor`` outlines one
    cell, ``highlight`` (bool mask or cells) tints changed cells, ``trail`` draws a line through
    visited cells in order (its last cell, the runner, stays on top). ``sprites=False`` draws flat colour blocks.
    """
    pg = require_pygame()
    grid = np.asarray(grid)
    h, w = grid.shape
    cs = cell_size
    plain = rules.by_properties.get(frozenset())
    ground = None if plain is None else rules.tiles[plain]
    art = get_mechanic(rules.mechanic).tile_art(rules) if sprites else None
    if art is None:
        images = [tile_image(t, ground, cs, sprites, rules.folder) for t in rules.tiles]
    else:
        images = [art_image(pixels, cs) for pixels in art]
    surface = pg.Surface((w * cs, h * cs))
    surface.fblits([(images[t], (x * cs, y * cs)) for (y, x), t in np.ndenumerate(grid)])
    overlay = pg.Surface(surface.get_size(), pg.SRCALPHA)
    notch = max(3, cs // 4)
    for y, x in _cells(pinned):
        pg.draw.polygon(overlay, PIN, [(x * cs, y * cs), (x * cs + notch, y * cs), (x * cs, y * cs + notch)])
    for y, x in _cells(highlight):
        overlay.fill(HIGHLIGHT, (x * cs, y * cs, cs, cs))
    if trail:
        centres = [(x * cs + cs // 2, y * cs + cs // 2) for y, x in trail]
        if len(centres) > 1:
            pg.draw.lines(overlay, TRAIL, False, centres, max(2, cs // 6))
        for c in centres:
            pg.draw.circle(overlay, TRAIL, c, max(2, cs // 8))
    surface.blit(overlay, (0, 0))
    if trail:
        y, x = trail[-1]
        surface.blit(images[grid[y, x]], (x * cs, y * cs))
    if cursor is not None:
        y, x = cursor
        rect = pg.Rect(x * cs, y * cs, cs, cs)
        width = max(2, cs // 10)
        pg.draw.rect(surface, (20, 20, 20), rect, width + 2)
        pg.draw.rect(surface, CURSOR, rect.inflate(-2, -2), width)
    return surface


def to_array(surface: pygame.Surface) -> np.ndarray:
    """A surface's pixels as an (H, W, 3) uint8 array."""
    pg = require_pygame()
    return np.ascontiguousarray(pg.surfarray.array3d(surface).transpose(1, 0, 2), dtype=np.uint8)


def render_grid(rules: Rules, grid: np.ndarray, **options: Any) -> np.ndarray:
    """A grid drawn as an (H * cell_size, W * cell_size, 3) uint8 RGB array; options as :func:`grid_surface`."""
    return to_array(grid_surface(rules, grid, **options))


def render_level(level: Level, *, show_pinned: bool = False, **options: Any) -> np.ndarray:
    """A level drawn as an RGB array (its pinned cells marked if ``show_pinned``); options as :func:`grid_surface`."""
    if show_pinned:
        options.setdefault("pinned", level.pinned)
    return render_grid(level.rules, level.grid, **options)


def png_bytes(image: Level | np.ndarray | pygame.Surface, **options: Any) -> bytes:
    """PNG file contents of a level (drawn with ``options``), an RGB array or a surface."""
    pg = require_pygame()
    if isinstance(image, np.ndarray):
        surface = pg.surfarray.make_surface(np.asarray(image, dtype=np.uint8).transpose(1, 0, 2))
    elif isinstance(image, pg.Surface):
        surface = image
    else:
        surface = grid_surface(image.rules, image.grid, **options)
    buffer = io.BytesIO()
    pg.image.save(surface, buffer, "image.png")
    return buffer.getvalue()


def save_png(image: Level | np.ndarray | pygame.Surface, path: str | Path, **options: Any) -> Path:
    """Write a level, an RGB array or a surface to ``path`` as PNG, atomically."""
    return atomic_write(path, png_bytes(image, **options))

"""Frame layout and the viewer's text: the board fitted to the window, the banner band above it, the
HUD band below it, the help. Banners ("solved!", "playable!") have a band of their own, so that they
never hide the board, however small.

Text is drawn with pygame's default font. Its arrow glyphs are missing, so ``↑ ↓ ← →`` in a
HUD line are drawn as small polygons instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from relaygen.render import require_pygame

if TYPE_CHECKING:
    import pygame

Color = tuple[int, int, int]
Segment = tuple[str, Color]
Line = list[Segment]
"""One HUD line: text segments, each in its own colour."""

BACKGROUND: Color = (30, 33, 46)
PANEL: Color = (20, 22, 31)
TEXT: Color = (234, 236, 242)
DIM: Color = (148, 155, 178)
GOOD: Color = (110, 214, 122)
BAD: Color = (242, 98, 98)
WARN: Color = (250, 198, 72)
ACCENT: Color = (255, 214, 10)

HUD_LINES = 2
MIN_WIDTH = 600
ARROWS = {"↑": (0, -1), "↓": (0, 1), "←": (-1, 0), "→": (1, 0)}
_SPLIT = re.compile(f"([{''.join(ARROWS)}])")


@lru_cache(maxsize=16)
def font(size: int) -> pygame.font.Font:
    """pygame's default font at ``size`` pixels."""
    pg = require_pygame()
    pg.font.init()
    return pg.font.Font(None, size)


@dataclass(frozen=True)
class Layout:
    """Where things go in a window: the board's cell size and rectangle, the banner band above it, the
    HUD band below it, the font size."""

    cell: int
    board: pygame.Rect
    banner: pygame.Rect
    hud: pygame.Rect
    font_size: int


def _metrics(width: int) -> tuple[int, int, int, int]:
    """Font size, banner height, HUD height and margin for a window ``width`` wide."""
    size = max(20, min(34, width // 28))
    return size, round(size * 2.2), HUD_LINES * round(size * 1.2) + size, max(8, size // 2)


def window_size(grid_shape: tuple[int, int], scale: int) -> tuple[int, int]:
    """A window that shows a grid of ``grid_shape`` (rows, columns) at ``scale`` px per tile, with the
    banner band and the HUD."""
    rows, cols = grid_shape
    width = max(MIN_WIDTH, cols * scale + 2 * _metrics(MIN_WIDTH)[3])
    _, banner, hud, margin = _metrics(width)
    return width, banner + rows * scale + 2 * margin + hud


def layout(size: tuple[int, int], grid_shape: tuple[int, int]) -> Layout:
    """The largest board of ``grid_shape`` that fits a window of ``size`` between the banner and HUD bands."""
    pg = require_pygame()
    w, h = size
    font_size, banner_height, hud_height, margin = _metrics(w)
    rows, cols = grid_shape
    cell = max(2, min((w - 2 * margin) // cols, (h - banner_height - hud_height - 2 * margin) // rows))
    board = pg.Rect(0, 0, cols * cell, rows * cell)
    board.center = (w // 2, banner_height + (h - banner_height - hud_height) // 2)
    banner = pg.Rect(0, 0, w, banner_height)
    return Layout(cell, board, banner, pg.Rect(0, h - hud_height, w, hud_height), font_size)


def draw_board(surface: pygame.Surface, board: pygame.Surface, rect: pygame.Rect) -> None:
    """Blit a rendered board with a soft shadow and a thin frame."""
    pg = require_pygame()
    pg.draw.rect(surface, (14, 15, 22), rect.move(4, 5).inflate(6, 6), border_radius=6)
    pg.draw.rect(surface, (70, 76, 98), rect.inflate(6, 6), border_radius=5)
    surface.blit(board, rect)


def _arrow(surface: pygame.Surface, glyph: str, rect: pygame.Rect, color: Color) -> None:
    pg = require_pygame()
    dx, dy = ARROWS[glyph]
    cx, cy, r = rect.centerx, rect.centery, rect.height * 0.32
    tip = (cx + dx * r, cy + dy * r)
    back = (cx - dx * r, cy - dy * r)
    side = (-dy * r * 0.75, dx * r * 0.75)
    head = (cx + dx * r * 0.1, cy + dy * r * 0.1)
    pg.draw.line(surface, color, back, head, max(2, rect.height // 7))
    pg.draw.polygon(
        surface, color, [tip, (head[0] + side[0], head[1] + side[1]), (head[0] - side[0], head[1] - side[1])]
    )


def line_width(line: Line, size: int) -> int:
    """Width in pixels of a HUD line at font ``size``."""
    f = font(size)
    return sum(size if piece in ARROWS else f.size(piece)[0] for text, _ in line for piece in _SPLIT.split(text))


def draw_line(surface: pygame.Surface, line: Line, pos: tuple[int, int], size: int, align: str = "left") -> None:
    """Draw a HUD line with its left (or right, or centre) edge at ``pos``."""
    pg = require_pygame()
    f = font(size)
    x, y = pos
    x -= {"left": 0, "center": line_width(line, size) // 2, "right": line_width(line, size)}[align]
    for text, color in line:
        for piece in _SPLIT.split(text):
            if piece in ARROWS:
                _arrow(surface, piece, pg.Rect(x, y, size, f.get_height()), color)
                x += size
            elif piece:
                image = f.render(piece, True, color)
                surface.blit(image, (x, y))
                x += image.get_width()


def draw_hud(surface: pygame.Surface, lay: Layout, left: list[Line], right: list[Line]) -> None:
    """The HUD band: ``left`` lines flush left, ``right`` lines flush right."""
    pg = require_pygame()
    pg.draw.rect(surface, PANEL, lay.hud)
    pg.draw.line(surface, (60, 66, 90), lay.hud.topleft, lay.hud.topright, 2)
    step = round(lay.font_size * 1.2)
    pad = lay.font_size // 2
    top = lay.hud.top + pad + 2
    for i, line in enumerate(left):
        draw_line(surface, line, (lay.hud.left + pad * 2, top + i * step), lay.font_size)
    for i, line in enumerate(right):
        draw_line(surface, line, (lay.hud.right - pad * 2, top + i * step), lay.font_size, "right")


def draw_banner(surface: pygame.Surface, lay: Layout, title: Line, subtitle: Line | None = None) -> None:
    """A banner in the band above the board: a large ``title``, then an optional ``subtitle``, on one
    line (smaller when the window is too narrow for them)."""
    pg = require_pygame()
    pg.draw.rect(surface, PANEL, lay.banner)
    pg.draw.line(surface, (60, 66, 90), lay.banner.bottomleft, lay.banner.bottomright, 2)
    size = lay.font_size
    while True:
        big, gap = round(size * 1.5), size
        width = line_width(title, big) + (gap + line_width(subtitle, size) if subtitle else 0)
        if width <= lay.banner.width - 2 * lay.font_size or size <= 10:
            break
        size -= 1
    x = lay.banner.centerx - width // 2
    draw_line(surface, title, (x, lay.banner.centery - font(big).get_height() // 2), big)
    if subtitle:
        x += line_width(title, big) + gap
        draw_line(surface, subtitle, (x, lay.banner.centery - font(size).get_height() // 2 + 1), size)


def draw_help(surface: pygame.Surface, title: str, rows: list[tuple[str, str]], size: int) -> None:
    """A full-window overlay listing keys and what they do."""
    pg = require_pygame()
    shade = pg.Surface(surface.get_size(), pg.SRCALPHA)
    shade.fill((*PANEL, 232))
    surface.blit(shade, (0, 0))
    size = min(size, surface.get_height() // (len(rows) + 4))
    while True:
        keys_width = max(font(size).size(k)[0] for k, _ in rows) + 2 * size
        total = keys_width + max(font(size).size(d)[0] for _, d in rows)
        if total <= surface.get_width() - 2 * size or size <= 10:
            break
        size -= 1
    step = round(size * 1.25)
    x = max(size, (surface.get_width() - total) // 2)
    y = max(size, (surface.get_height() - step * (len(rows) + 2)) // 2)
    draw_line(surface, [(title, ACCENT)], (x, y), round(size * 1.3))
    for i, (keys, what) in enumerate(rows, start=2):
        draw_line(surface, [(keys, ACCENT)], (x, y + i * step), size)
        draw_line(surface, [(what, TEXT)], (x + keys_width, y + i * step), size)

"""Draw relaygen's tile art with pygame primitives and write ``assets/<sprite>.png``.

Run ``python assets/make_tiles.py`` after changing a sprite. Each sprite is drawn at 4x on a
96 px canvas and smooth-scaled to 24 px, so edges come out anti-aliased. The output is
deterministic: no randomness except a fixed-seed generator for speckles.

Ground tiles (floor, wall, rock, path) are opaque; the others have transparent backgrounds and
the renderer draws them over the ruleset's plain ground tile.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame

SIZE = 24
"""Size of the written sprites in pixels."""
S = SIZE * 4
"""Size of the drawing canvas."""

Color = tuple[int, int, int]


def _px(fraction: float) -> int:
    return round(fraction * S)


def _speckle(surf: pygame.Surface, seed: int, colors: list[Color], count: int, radius: float) -> None:
    rng = random.Random(seed)
    for _ in range(count):
        pos = (rng.randrange(4, S - 4), rng.randrange(4, S - 4))
        pygame.draw.circle(surf, rng.choice(colors), pos, _px(radius) + rng.randrange(0, 3))


def floor(surf: pygame.Surface) -> None:
    """Light flagstone with soft seams."""
    surf.fill((233, 223, 200))
    _speckle(surf, 1, [(224, 212, 186), (240, 232, 214)], 14, 0.03)
    seam = (214, 201, 173)
    pygame.draw.rect(surf, seam, (0, 0, S, S), 3)
    pygame.draw.line(surf, (244, 237, 222), (3, 3), (S - 4, 3), 3)


def wall(surf: pygame.Surface) -> None:
    """Slate bricks in two offset courses per tile."""
    mortar, brick, light, dark = (52, 54, 74), (94, 100, 132), (124, 130, 164), (72, 76, 102)
    surf.fill(mortar)
    course = S // 4
    for row in range(4):
        offset = 0 if row % 2 == 0 else -S // 4
        for col in range(3):
            rect = pygame.Rect(offset + col * S // 2 + 3, row * course + 3, S // 2 - 6, course - 6)
            pygame.draw.rect(surf, brick, rect, border_radius=4)
            pygame.draw.line(surf, light, (rect.left + 3, rect.top + 2), (rect.right - 4, rect.top + 2), 3)
            pygame.draw.line(surf, dark, (rect.left + 3, rect.bottom - 3), (rect.right - 4, rect.bottom - 3), 3)


def rock(surf: pygame.Surface) -> None:
    """Rough grey stone with cracks."""
    surf.fill((96, 100, 108))
    for poly, color in (
        ([(0, 0), (50, 0), (38, 30), (0, 44)], (110, 114, 122)),
        ([(56, 8), (96, 0), (96, 50), (62, 40)], (104, 108, 117)),
        ([(10, 60), (48, 50), (60, 96), (0, 96)], (112, 116, 124)),
        ([(64, 56), (96, 62), (96, 96), (70, 90)], (88, 92, 100)),
    ):
        pygame.draw.polygon(surf, color, poly)
    crack = (64, 67, 74)
    pygame.draw.lines(surf, crack, False, [(0, 46), (38, 32), (52, 4)], 4)
    pygame.draw.lines(surf, crack, False, [(38, 32), (60, 42), (96, 54)], 4)
    pygame.draw.lines(surf, crack, False, [(60, 42), (52, 70), (64, 96)], 4)
    _speckle(surf, 2, [(134, 138, 146), (80, 84, 92)], 10, 0.02)


def path(surf: pygame.Surface) -> None:
    """Packed sand with a few pebbles."""
    surf.fill((240, 213, 160))
    rng = random.Random(3)
    for _ in range(7):
        x, y = rng.randrange(8, S - 16), rng.randrange(8, S - 12)
        pygame.draw.ellipse(surf, (206, 176, 118), (x, y, rng.randrange(7, 13), rng.randrange(5, 9)))
    pygame.draw.rect(surf, (226, 196, 140), (0, 0, S, S), 2)


def start(surf: pygame.Surface) -> None:
    """A teal launch pad with a white play arrow."""
    centre = (S // 2, S // 2)
    pygame.draw.circle(surf, (24, 110, 100), centre, _px(0.42))
    pygame.draw.circle(surf, (42, 157, 143), centre, _px(0.36))
    pygame.draw.circle(surf, (110, 205, 190), centre, _px(0.36), 4)
    pygame.draw.polygon(surf, (255, 255, 255), [(_px(0.4), _px(0.3)), (_px(0.4), _px(0.7)), (_px(0.7), _px(0.5))])


def end(surf: pygame.Surface) -> None:
    """A chequered orange finish flag."""
    pole = pygame.Rect(_px(0.22), _px(0.12), _px(0.07), _px(0.78))
    pygame.draw.ellipse(surf, (70, 60, 50), (_px(0.1), _px(0.84), _px(0.32), _px(0.1)))
    pygame.draw.rect(surf, (80, 70, 60), pole, border_radius=3)
    flag = pygame.Rect(pole.right, _px(0.14), _px(0.56), _px(0.42))
    cell = flag.width // 4
    for i in range(4):
        for j in range(3):
            color = (231, 111, 81) if (i + j) % 2 == 0 else (255, 244, 230)
            pygame.draw.rect(surf, color, (flag.x + i * cell, flag.y + j * (flag.height // 3), cell, flag.height // 3))
    pygame.draw.rect(surf, (150, 60, 40), flag, 3)


def player(surf: pygame.Surface) -> None:
    """A round blue hero with big eyes."""
    body, shade, outline = (58, 134, 255), (40, 100, 210), (20, 50, 120)
    pygame.draw.ellipse(surf, outline, (_px(0.22), _px(0.8), _px(0.2), _px(0.12)))
    pygame.draw.ellipse(surf, outline, (_px(0.58), _px(0.8), _px(0.2), _px(0.12)))
    pygame.draw.circle(surf, outline, (S // 2, _px(0.5)), _px(0.36))
    pygame.draw.circle(surf, shade, (S // 2, _px(0.5)), _px(0.32))
    pygame.draw.circle(surf, body, (_px(0.47), _px(0.46)), _px(0.28))
    for x in (0.38, 0.62):
        pygame.draw.circle(surf, (255, 255, 255), (_px(x), _px(0.44)), _px(0.1))
        pygame.draw.circle(surf, (20, 24, 40), (_px(x + 0.02), _px(0.45)), _px(0.05))
    pygame.draw.arc(surf, outline, (_px(0.4), _px(0.5), _px(0.2), _px(0.14)), 3.6, 5.8, 3)


def key(surf: pygame.Surface) -> None:
    """A golden key, bow to the upper left."""
    gold, dark = (255, 190, 11), (150, 100, 0)
    shaft = [(_px(0.4), _px(0.34)), (_px(0.88), _px(0.82))]
    pygame.draw.line(surf, dark, *shaft, 16)
    pygame.draw.line(surf, gold, *shaft, 9)
    for t in (0.66, 0.78):
        x, y = _px(t), _px(t - 0.02)
        pygame.draw.line(surf, dark, (x, y), (x + 12, y - 12), 12)
        pygame.draw.line(surf, gold, (x, y), (x + 11, y - 11), 6)
    pygame.draw.circle(surf, dark, (_px(0.32), _px(0.3)), _px(0.22))
    pygame.draw.circle(surf, gold, (_px(0.32), _px(0.3)), _px(0.17))
    pygame.draw.circle(surf, dark, (_px(0.32), _px(0.3)), _px(0.07))


def door(surf: pygame.Surface) -> None:
    """An arched purple door with a golden keyhole."""
    frame, wood, plank = (64, 28, 112), (131, 56, 236), (104, 40, 196)
    outer = pygame.Rect(_px(0.12), _px(0.06), _px(0.76), _px(0.94))
    pygame.draw.rect(surf, frame, outer, border_top_left_radius=_px(0.38), border_top_right_radius=_px(0.38))
    inner = outer.inflate(-16, -12).move(0, 6)
    pygame.draw.rect(surf, wood, inner, border_top_left_radius=_px(0.3), border_top_right_radius=_px(0.3))
    for x in (0.37, 0.5, 0.63):
        pygame.draw.line(surf, plank, (_px(x), inner.top + 10), (_px(x), inner.bottom - 2), 3)
    pygame.draw.circle(surf, (255, 200, 40), (_px(0.5), _px(0.6)), _px(0.08))
    pygame.draw.polygon(surf, frame, [(_px(0.5), _px(0.6)), (_px(0.45), _px(0.74)), (_px(0.55), _px(0.74))])
    pygame.draw.circle(surf, frame, (_px(0.5), _px(0.6)), _px(0.035))


def enemy(surf: pygame.Surface) -> None:
    """An angry red slime."""
    body, dark, shine = (214, 40, 40), (120, 16, 20), (255, 140, 130)
    blob = pygame.Rect(_px(0.1), _px(0.22), _px(0.8), _px(0.72))
    pygame.draw.ellipse(surf, dark, blob)
    pygame.draw.ellipse(surf, body, blob.inflate(-8, -8))
    pygame.draw.rect(surf, dark, (blob.left, _px(0.7), blob.width, _px(0.24)), border_radius=10)
    pygame.draw.rect(surf, body, (blob.left + 4, _px(0.7), blob.width - 8, _px(0.2)), border_radius=8)
    pygame.draw.ellipse(surf, shine, (_px(0.22), _px(0.3), _px(0.16), _px(0.1)))
    for x, slope in ((0.38, 1), (0.62, -1)):
        pygame.draw.circle(surf, (255, 255, 255), (_px(x), _px(0.56)), _px(0.09))
        pygame.draw.circle(surf, (30, 0, 0), (_px(x), _px(0.58)), _px(0.045))
        pygame.draw.line(
            surf, dark, (_px(x - 0.12), _px(0.42 - 0.04 * slope)), (_px(x + 0.12), _px(0.42 + 0.04 * slope)), 6
        )


def _crate(surf: pygame.Surface, wood: Color, dark: Color, light: Color) -> None:
    outer = pygame.Rect(_px(0.08), _px(0.08), _px(0.84), _px(0.84))
    pygame.draw.rect(surf, dark, outer, border_radius=6)
    pygame.draw.rect(surf, wood, outer.inflate(-12, -12), border_radius=4)
    inner = outer.inflate(-26, -26)
    pygame.draw.rect(surf, dark, inner, 4)
    pygame.draw.line(surf, dark, inner.topleft, inner.bottomright, 7)
    pygame.draw.line(surf, light, (inner.left + 3, inner.top), (inner.right, inner.bottom - 3), 3)
    pygame.draw.line(surf, light, (outer.left + 8, outer.top + 7), (outer.right - 9, outer.top + 7), 3)


def box(surf: pygame.Surface) -> None:
    """A wooden crate."""
    _crate(surf, (201, 138, 43), (112, 70, 20), (232, 180, 96))


def goal(surf: pygame.Surface) -> None:
    """A green target marked on the ground."""
    centre = (S // 2, S // 2)
    pygame.draw.circle(surf, (46, 125, 50), centre, _px(0.34), 7)
    pygame.draw.circle(surf, (76, 175, 80), centre, _px(0.3), 5)
    pygame.draw.circle(surf, (76, 175, 80), centre, _px(0.12))


def box_on_goal(surf: pygame.Surface) -> None:
    """A crate glowing green: it sits on a goal."""
    pygame.draw.rect(surf, (96, 200, 100), (0, 0, S, S), border_radius=12)
    _crate(surf, (150, 178, 60), (70, 96, 24), (196, 222, 120))


def player_on_goal(surf: pygame.Surface) -> None:
    """The hero, a little smaller, standing inside a wide target ring."""
    centre = (S // 2, S // 2)
    pygame.draw.circle(surf, (46, 125, 50), centre, _px(0.48), 8)
    pygame.draw.circle(surf, (76, 175, 80), centre, _px(0.45), 5)
    hero = pygame.Surface((S, S), pygame.SRCALPHA)
    player(hero)
    small = pygame.transform.smoothscale(hero, (_px(0.8), _px(0.8)))
    surf.blit(small, small.get_rect(center=centre))


SPRITES: dict[str, Callable[[pygame.Surface], None]] = {
    f.__name__: f
    for f in (floor, wall, rock, path, start, end, player, key, door, enemy, box, goal, box_on_goal, player_on_goal)
}
"""Every sprite by name (the names rules files use in ``sprite = ...``)."""


def draw(name: str) -> pygame.Surface:
    """Sprite ``name`` as a SIZE x SIZE RGBA surface."""
    canvas = pygame.Surface((S, S), pygame.SRCALPHA)
    SPRITES[name](canvas)
    return pygame.transform.smoothscale(canvas, (SIZE, SIZE))


def main(folder: Path = Path(__file__).parent) -> None:
    """Write every sprite as ``folder/<name>.png``."""
    for name in SPRITES:
        pygame.image.save(draw(name), folder / f"{name}.png")
    print(f"wrote {len(SPRITES)} sprites to {folder}")


if __name__ == "__main__":
    main()

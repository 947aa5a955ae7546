"""The pygame viewer: play levels by hand (:mod:`.play`) and watch a generator build them (:mod:`.watch`).

A *scene* holds the logic and draws itself; this module runs one in a resizable window, or renders
one frame of it off-screen for ``--screenshot``. Keys are named as pygame names them ("up",
"space", "backspace", "escape", letters), except that typed symbols ("?", "+", "S" for Shift+S)
are named by the character they type. Importing this package does not import pygame.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from relaygen.errors import UserError
from relaygen.render import require_pygame, save_png

if TYPE_CHECKING:
    import pygame

FPS = 60

KeyTable = Mapping[str, tuple[str, ...]]
"""Key name → (method, argument...): a scene's keyboard, as data."""


class KeyNameError(UserError):
    """A ``--keys`` text naming a key the scene does not know."""


class Scene(Protocol):
    """What the window loop drives."""

    running: bool
    keys: KeyTable
    """The keys this scene knows."""

    def press(self, name: str) -> bool:
        """Act on key ``name``; False if the key means nothing here."""
        ...

    def tick(self, dt: float) -> None:
        """Advance animations by ``dt`` seconds."""
        ...

    def settle(self) -> None:
        """Finish running animations at once (before a screenshot)."""
        ...

    def draw(self, surface: pygame.Surface) -> None:
        """Draw the whole frame onto ``surface``, whatever its size."""
        ...

    def window_size(self, scale: int) -> tuple[int, int]:
        """The window size that shows the board at ``scale`` pixels per tile."""
        ...

    def title(self) -> str: ...


def dispatch(scene: Any, keys: KeyTable, name: str) -> bool:
    """Act on key ``name`` by the table ``keys``: call the scene's method with the table's arguments
    (strings). Any key but the help toggle closes the help first. False if ``keys`` lacks ``name``."""
    if name not in keys:
        return False
    action, *args = keys[name]
    if action != "toggle_help":
        scene.show_help = False
    getattr(scene, action)(*args)
    return True


def key_names(event: pygame.event.Event) -> list[str]:
    """Names to look a key event up by: the typed character first, then pygame's key name."""
    pg = require_pygame()
    names = [event.unicode] if getattr(event, "unicode", "").strip() else []
    return [*names, pg.key.name(event.key)]


def parse_keys(text: str, known: Mapping[str, Any]) -> list[str]:
    """Split a ``--keys`` string ("right right down z") into key names, checking each is known."""
    names = text.split()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyNameError(f"unknown key name(s) {unknown}; known: {' '.join(sorted(known))}")
    return names


def fit_to_desktop(size: tuple[int, int]) -> tuple[int, int]:
    """``size`` shrunk (keeping its shape) to fit the largest desktop, minus room for window decorations."""
    pg = require_pygame()
    desktops = pg.display.get_desktop_sizes() or [size]
    dw, dh = max(desktops)
    factor = min(1.0, (dw - 40) / size[0], (dh - 80) / size[1])
    return (max(320, int(size[0] * factor)), max(240, int(size[1] * factor)))


def run(scene: Scene, scale: int, *, frames: int | None = None) -> None:
    """Show ``scene`` in a resizable window until it stops running (or for ``frames`` frames)."""
    pg = require_pygame()
    pg.display.init()
    pg.font.init()
    try:
        window = pg.display.set_mode(fit_to_desktop(scene.window_size(scale)), pg.RESIZABLE)
        clock = pg.time.Clock()
        count = 0
        while scene.running and (frames is None or count < frames):
            for event in pg.event.get():
                if event.type == pg.QUIT:
                    scene.running = False
                elif event.type == pg.KEYDOWN:
                    any(scene.press(name) for name in key_names(event))
            scene.tick(clock.tick(FPS) / 1000.0)
            window = pg.display.get_surface()
            scene.draw(window)
            pg.display.set_caption(scene.title())
            pg.display.flip()
            count += 1
    finally:
        pg.display.quit()


def screenshot(scene: Scene, scale: int, path: str | Path, keys: str = "") -> Path:
    """Replay ``keys`` on ``scene``, finish its animations, draw one frame off-screen and save it as PNG."""
    pg = require_pygame()
    pg.font.init()
    for name in parse_keys(keys, scene.keys):
        scene.press(name)
    scene.settle()
    frame = pg.Surface(scene.window_size(scale))
    scene.draw(frame)
    return save_png(frame, path)

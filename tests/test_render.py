"""The renderer and the tile art: every sprite ships, cells show their tiles, overlays and PNGs are right."""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame
import pytest

from relaygen import render
from relaygen.level import Level
from relaygen.rules import Rules, builtin_names, load_rules

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"

SMALL = {
    "maze": ["#####", "#S.E#", "#####"],
    "dungeon": ["######", "#@kDe#", "######"],
    "sokoban": ["#######", "#@$.*+#", "#######"],
    "relay": ["#####", "#S.E#", "#####"],
}


def png_pixels(path: Path) -> np.ndarray:
    """A PNG's RGBA pixels as (H, W, 4), loaded straight from the file (independently of the renderer)."""
    image = pygame.image.load(str(path))
    rgb = pygame.surfarray.array3d(image).transpose(1, 0, 2)
    alpha = pygame.surfarray.array_alpha(image).T[..., None]
    return np.concatenate([rgb, alpha], axis=2).astype(np.int32)


def expected_cell(rules: Rules, tile: int) -> np.ndarray:
    """What a 24 px cell of ``tile`` must look like: its PNG over the plain ground tile's PNG."""
    ground = rules.tiles[rules.by_properties[frozenset()]]
    below = png_pixels(ASSETS / f"{ground.sprite}.png")[..., :3]
    art = png_pixels(ASSETS / f"{rules.tiles[tile].sprite}.png")
    a = art[..., 3:] / 255.0
    return art[..., :3] * a + below * (1 - a)


def test_every_builtin_sprite_ships_at_24px() -> None:
    used = {t.sprite for name in builtin_names() for t in load_rules(name).tiles}
    assert used <= set(render.sprite_names())
    for name in render.sprite_names():
        image = render.sprite(name)
        assert image is not None and image.get_size() == (render.SPRITE_SIZE, render.SPRITE_SIZE)


def test_make_tiles_draws_the_shipped_pngs_deterministically() -> None:
    spec = importlib.util.spec_from_file_location("make_tiles", ASSETS / "make_tiles.py")
    assert spec is not None and spec.loader is not None
    make_tiles = importlib.util.module_from_spec(spec)
    sys.modules["make_tiles"] = make_tiles
    spec.loader.exec_module(make_tiles)
    assert set(make_tiles.SPRITES) == set(render.sprite_names())
    for name in ("player", "wall", "box_on_goal"):
        first = pygame.surfarray.array3d(make_tiles.draw(name)).astype(int)
        assert np.array_equal(first, pygame.surfarray.array3d(make_tiles.draw(name)))
        shipped = png_pixels(ASSETS / f"{name}.png")[..., :3].transpose(1, 0, 2)
        assert np.abs(first - shipped).mean() < 2.0


def test_sprites_are_distinct() -> None:
    arrays = {n: pygame.surfarray.array3d(render.sprite(n)).astype(int) for n in render.sprite_names()}
    names = sorted(arrays)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(arrays[a] - arrays[b]).mean() > 10, (a, b)


@pytest.mark.parametrize("game", sorted(SMALL))
def test_cells_show_their_tiles_art(game: str) -> None:
    rules = load_rules(game)
    level = Level.from_rows(rules, SMALL[game])
    image = render.render_level(level)
    assert image.shape == (level.height * 24, level.width * 24, 3) and image.dtype == np.uint8
    for (y, x), tile in np.ndenumerate(level.grid):
        cell = image[y * 24 : (y + 1) * 24, x * 24 : (x + 1) * 24].astype(int)
        assert np.abs(cell - expected_cell(rules, int(tile))).max() <= 2, (game, rules.tiles[tile].name)


@pytest.mark.parametrize("cell_size", [10, 24, 48])
def test_flat_colours_fill_each_cell(cell_size: int) -> None:
    rules = load_rules("sokoban")
    level = Level.from_rows(rules, SMALL["sokoban"])
    image = render.render_level(level, cell_size=cell_size, sprites=False)
    assert image.shape == (3 * cell_size, 7 * cell_size, 3)
    colours = np.array([t.rgb for t in rules.tiles], dtype=np.uint8)
    assert np.array_equal(image, np.kron(colours[level.grid], np.ones((cell_size, cell_size, 1), np.uint8)))


def test_scaled_cells_keep_the_art() -> None:
    level = Level.from_rows(load_rules("dungeon"), SMALL["dungeon"])
    small, big = render.render_level(level, cell_size=13), render.render_level(level, cell_size=48)
    assert small.shape == (39, 78, 3) and big.shape == (144, 288, 3)
    assert np.array_equal(big[::2, ::2], render.render_level(level, cell_size=24))


def test_tile_without_sprite_falls_back_to_its_colour() -> None:
    data = load_rules("maze").model_dump()
    data["tiles"][3]["sprite"] = None
    data["tiles"][2]["sprite"] = "no_such_sprite"
    rules = Rules.model_validate(data)
    image = render.render_level(Level.from_rows(rules, SMALL["maze"]), cell_size=8)
    assert (image[8:16, 8:16] == rules.tiles[2].rgb).all()
    assert (image[8:16, 24:32] == rules.tiles[3].rgb).all()
    assert not (image[8:16, 16:24] == rules.tiles[0].rgb).all()


def test_overlays_mark_their_cells() -> None:
    level = Level.from_rows(load_rules("relay"), SMALL["relay"])
    plain = render.render_level(level, cell_size=20)
    marked = render.render_level(
        level,
        cell_size=20,
        show_pinned=True,
        cursor=(0, 0),
        highlight=[(2, 4)],
        trail=[(1, 1), (1, 2), (1, 3)],
    )
    changed = np.abs(marked.astype(int) - plain.astype(int)).sum(axis=2) > 0
    per_cell = changed.reshape(3, 20, 5, 20).any(axis=(1, 3))
    assert per_cell[0, 0] and per_cell[2, 4] and per_cell[1, 2]
    assert (marked[0, 5] == render.CURSOR).all() or (marked[1, 5] == render.CURSOR).all()
    assert not per_cell[2, 1]
    assert np.array_equal(marked[20:40, 60:80], plain[20:40, 60:80]), "the trail's head is drawn on top"
    pins = render.render_level(level, cell_size=20, pinned=np.eye(3, 5, dtype=bool))
    notched = np.abs(pins.astype(int) - plain.astype(int)).sum(axis=2).reshape(3, 20, 5, 20).any(axis=(1, 3))
    assert np.array_equal(notched, np.eye(3, 5, dtype=bool))


def test_save_png_writes_the_picture(tmp_path: Path) -> None:
    level = Level.from_rows(load_rules("sokoban"), SMALL["sokoban"])
    out = render.save_png(level, tmp_path / "level.png", cell_size=16)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(png_pixels(out)[..., :3], render.render_level(level, cell_size=16))
    array = render.render_level(level)
    assert np.array_equal(png_pixels(render.save_png(array, tmp_path / "a.png"))[..., :3], array)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "level.png"]


def test_renders_without_a_display() -> None:
    pygame.display.quit()
    render.render_level(Level.from_rows(load_rules("maze"), SMALL["maze"]), cell_size=7)
    assert not pygame.display.get_init()


def test_missing_pygame_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pygame", None)
    with pytest.raises(RuntimeError, match="pip install pygame-ce"):
        render.require_pygame()


@pytest.mark.slow
def test_generate_png_has_the_scale_and_a_relay_png_shows_the_legs(tmp_path: Path) -> None:
    import subprocess

    from relaygen.export import run_cells
    from relaygen.formats import read_levels
    from relaygen.level import DIRECTIONS
    from relaygen.mechanics.relay import Relay, legs_of

    for kind in ("json", "png", "tiled"):
        command = ["generate", "relay", "-n", "1", "--format", kind, "--scale", "10", "--out", str(tmp_path / kind)]
        done = subprocess.run([sys.executable, "-m", "relaygen", *command], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
    (level,) = read_levels(tmp_path / "json")
    cells = run_cells(level)
    move_of = {delta: move for move, delta in DIRECTIONS.items()}
    moves = "".join(move_of[(b[0] - a[0], b[1] - a[1])] for a, b in itertools.pairwise(cells))
    assert legs_of(moves) == Relay().legs(level), "the run goes leg by leg"
    assert level.rules.tiles[level.grid[cells[-1]]].exit
    picture = png_pixels(tmp_path / "png" / "relay-0000.png")[..., :3]
    assert picture.shape == (level.height * 10, level.width * 10, 3)
    assert np.array_equal(picture, render.render_level(level, cell_size=10, trail=cells))
    assert not np.array_equal(picture, render.render_level(level, cell_size=10)), "the run is drawn"
    assert run_cells(read_levels(ROOT / "levels" / "examples" / "maze.txt")[0]) is None
    tmj = json.loads((tmp_path / "tiled" / "relay-0000.tmj").read_text())
    (tileset,) = tmj["tilesets"]
    assert tmj["tilewidth"] == tileset["tileheight"] == 10 and tileset["image"] == "relay-tileset-10.png"
    sheet = png_pixels(tmp_path / "tiled" / tileset["image"])
    assert sheet.shape[:2] == (10, 10 * len(level.rules.tiles))


def own_sprite_rules(folder: Path, sprite: str) -> Path:
    """A maze rules file in ``folder`` whose wall is drawn with ``sprite``."""
    data = load_rules("maze").model_dump(exclude_defaults=True)
    data["tiles"] = [t | {"sprite": sprite} if t["name"] == "wall" else t for t in data["tiles"]]
    path = folder / "mine.toml"
    path.write_text(Rules.model_validate(data).to_toml())
    return path


def test_a_rules_file_may_draw_a_tile_with_its_own_png(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "art").mkdir()
    art = pygame.Surface((12, 12))
    art.fill((200, 0, 200))
    pygame.image.save(art, str(tmp_path / "art" / "wall.png"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # found beside the rules file, not in the working folder
    rules = load_rules(own_sprite_rules(tmp_path, "art/wall.png"))
    assert render.sprite_problems(rules) == []
    level = Level.from_rows(rules, SMALL["maze"])
    pixels = render.render_level(level, cell_size=24)
    assert (pixels[:24, :24] == (200, 0, 200)).all(), "the wall is the designer's magenta PNG, scaled to the cell"
    assert render.render_level(Level.from_rows(rules.resized(6, 4), ["######", "#S..E#", "#....#", "######"]))[
        0, 0
    ].tolist() == [200, 0, 200], "resized rules keep their folder"


@pytest.mark.parametrize(
    ("sprite", "warning"),
    [("wal", "sprite 'wal': no shipped sprite of that name"), ("art/none.png", "sprite 'art/none.png': no file ")],
)
def test_rules_check_warns_about_a_sprite_it_cannot_find(tmp_path: Path, sprite: str, warning: str) -> None:
    import subprocess

    path = own_sprite_rules(tmp_path, sprite)
    done = subprocess.run(
        [sys.executable, "-m", "relaygen", "rules", "check", str(path)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and f"{path}: ok (maze" in done.stdout, done.stderr
    assert f"warning: {path}: tiles[1] (wall): {warning}" in done.stderr, done.stderr
    assert "drawn as a block of its colour" in done.stderr

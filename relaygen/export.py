"""Export levels for game engines: PNG pictures and Tiled maps (``.tmj`` with an embedded tileset).

A PNG of a level whose mechanic marks trails (Relay) draws the run of the playtester's solution
over the tiles.

Tiled map JSON follows the documented structure of the Tiled editor (map → tile layer of global
tile ids, tileset with image, size and per-tile properties). The tileset image is drawn by the one
renderer: every tile of the rules once, in a row.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from relaygen.datasets import SHARD_SIZES, check_dataset_format, is_dataset
from relaygen.files import atomic_write
from relaygen.formats import payload_fields, require_format, write_levels
from relaygen.level import Level, LevelError
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.base import replay
from relaygen.playtest import playtest
from relaygen.rules import PROPERTIES, Rules

EXPORT_FORMATS = {"json": ".json", "txt": ".txt", "xsb": ".xsb", "png": ".png", "tiled": ".tmj"}
TILE_SIZE = 24
TILED_VERSION = "1.10"


def tileset_name(rules: Rules, tile_size: int = TILE_SIZE) -> str:
    """File name of a ruleset's tileset image (with its tile size unless it is the default)."""
    return f"{rules.name}-tileset{'' if tile_size == TILE_SIZE else f'-{tile_size}'}.png"


def write_tileset(rules: Rules, folder: Path, tile_size: int = TILE_SIZE) -> Path:
    """Draw every tile of ``rules`` once, left to right, into the folder's tileset PNG."""
    from relaygen.render import save_png

    strip = np.arange(len(rules.tiles), dtype=np.uint8)[None, :]
    return save_png(Level(rules, strip), folder / tileset_name(rules, tile_size), cell_size=tile_size)


def run_cells(level: Level) -> list[tuple[int, int]] | None:
    """The cells the run of the playtester's solution (as recorded in the level's report, or found
    now) passes through, from the start; None where the mechanic marks no trail or there is no solution."""
    mechanic = get_mechanic(level.rules.mechanic)
    if not mechanic.marks_trail:
        return None
    solution = level.meta.get("report", {}).get("solution") or playtest(level).solution
    try:
        return mechanic.trail(level, replay(mechanic, level, solution.lower())) if solution else None
    except ValueError:
        return None


def tiled_map(level: Level, tile_size: int = TILE_SIZE) -> dict:
    """A level as a Tiled map: one tile layer, one embedded tileset, level metadata as properties."""
    rules = level.rules
    n = len(rules.tiles)
    tiles = [
        {
            "id": i,
            "type": tile.name,
            "properties": [{"name": p, "type": "bool", "value": True} for p in PROPERTIES if getattr(tile, p)],
        }
        for i, tile in enumerate(rules.tiles)
    ]
    properties = [
        {"name": "rules", "type": "string", "value": rules.name},
        {"name": "rules_digest", "type": "string", "value": rules.digest},
        *({"name": key, "type": "string", "value": value} for key, value in payload_fields(level).items()),
        {"name": "meta", "type": "string", "value": json.dumps(level.meta, sort_keys=True)},
    ]
    return {
        "type": "map",
        "version": TILED_VERSION,
        "orientation": "orthogonal",
        "renderorder": "right-down",
        "width": level.width,
        "height": level.height,
        "tilewidth": tile_size,
        "tileheight": tile_size,
        "infinite": False,
        "nextlayerid": 2,
        "nextobjectid": 1,
        "properties": properties,
        "layers": [
            {
                "id": 1,
                "name": "tiles",
                "type": "tilelayer",
                "width": level.width,
                "height": level.height,
                "x": 0,
                "y": 0,
                "opacity": 1,
                "visible": True,
                "data": (level.grid.astype(int) + 1).ravel().tolist(),
            }
        ],
        "tilesets": [
            {
                "firstgid": 1,
                "name": rules.name,
                "image": tileset_name(rules, tile_size),
                "imagewidth": n * tile_size,
                "imageheight": tile_size,
                "tilewidth": tile_size,
                "tileheight": tile_size,
                "tilecount": n,
                "columns": n,
                "margin": 0,
                "spacing": 0,
                "tiles": tiles,
            }
        ],
    }


def check_format(kind: str, rules: Rules | None = None) -> None:
    """Raise :class:`LevelError` for an unknown export or dataset format, or for XSB (or Boxoban text)
    of ``rules`` whose mechanic's levels XSB cannot hold."""
    if is_dataset(kind):
        if rules is not None:
            check_dataset_format(kind, rules)
        return
    if kind not in EXPORT_FORMATS:
        raise LevelError(f"unknown format {kind!r} (use {', '.join([*EXPORT_FORMATS, *SHARD_SIZES])})")
    if kind == "xsb" and rules is not None:
        require_format(rules, kind)


def export_level(level: Level, path: str | Path, kind: str, durable: bool = True, tile_size: int = TILE_SIZE) -> Path:
    """Write one level as ``kind`` (json, txt, xsb, png, tiled), atomically (see ``atomic_write``);
    pictures (png, the tiled tileset) have ``tile_size`` pixels per tile."""
    path = Path(path)
    if kind == "png":
        from relaygen.render import png_bytes

        return atomic_write(path, png_bytes(level, cell_size=tile_size, trail=run_cells(level)), durable)
    if kind == "tiled":
        if not (path.parent / tileset_name(level.rules, tile_size)).exists():
            write_tileset(level.rules, path.parent, tile_size)
        return atomic_write(path, json.dumps(tiled_map(level, tile_size), indent=1) + "\n", durable)
    return write_levels([level], path, kind, durable)

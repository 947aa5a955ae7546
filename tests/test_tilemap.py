"""Tile mapping by meaning: which model tile each new tile takes, and the remapped weights."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from relaygen.agent.model import ActorCritic, build_model, to_tensors
from relaygen.agent.tilemap import TileMapError, map_tiles, parse_tile_map, remap_model
from relaygen.env.vector import BatchedLevelEnv
from relaygen.rules import Rules, load_rules


def renamed(rules: Rules, name: str, order: list[int] | None = None, extra: tuple[dict[str, Any], ...] = ()) -> Rules:
    """``rules`` with every tile called ``my_<name>``, the tiles in ``order`` (default: reversed),
    and ``extra`` tiles appended."""
    data = rules.model_dump(exclude_defaults=True)
    new = {t["name"]: f"my_{t['name']}" for t in data["tiles"]}
    tiles = [t | {"name": new[t["name"]]} for t in data["tiles"]]
    order = order if order is not None else list(range(len(tiles)))[::-1]
    data |= {"name": name, "tiles": [tiles[i] for i in order] + list(extra)}
    for key in ("border", "start_map"):
        if data.get(key) in new:
            data[key] = new[data[key]]
    for constraint in data.get("constraints", []):
        constraint["tiles"] = [new[t] for t in constraint["tiles"]]
        if "equal_to" in constraint:
            constraint["equal_to"] = [new[t] for t in constraint["equal_to"]]
    return Rules.model_validate(data)


def tile(name: str, char: str, **props: bool) -> dict[str, Any]:
    return {"name": name, "char": char, "color": "#123456", **props}


MAZE = load_rules("maze")
TWO_WALLS = renamed(MAZE, "two_walls", [0, 1, 2, 3], (tile("stone", "o", solid=True),))
"""A maze model's rules with a second solid tile (two model tiles of the same properties)."""


# ----- which model tile each tile takes -----------------------------------------------------------


def test_renamed_and_reordered_tiles_map_by_their_properties() -> None:
    sokoban = load_rules("sokoban")
    depot = renamed(sokoban, "depot", [3, 0, 6, 1, 4, 2, 5])
    tiles = map_tiles(depot, sokoban)
    assert tiles.sources == [3, 0, 6, 1, 4, 2, 5]
    assert tiles.exact and not tiles.identity
    assert "my_box = box" in tiles.describe()
    assert map_tiles(sokoban, sokoban).identity


def test_a_new_tile_of_the_same_properties_shares_the_model_tile() -> None:
    tiles = map_tiles(renamed(MAZE, "quarry", [0, 1, 2, 3], (tile("stone", "o", solid=True),)), MAZE)
    assert tiles.sources == [0, 1, 2, 3, 1]
    assert not tiles.exact
    assert "sharing 'wall''s weights with 'stone'" in tiles.describe()[1]


def test_a_new_tile_with_one_more_property_starts_from_the_tile_without_it() -> None:
    lava_wall = tile("lava_wall", "~", solid=True, hazard=True)
    tiles = map_tiles(renamed(MAZE, "lava", [0, 1, 2, 3], [lava_wall]), MAZE)
    assert tiles.sources == [0, 1, 2, 3, 1] and not tiles.exact
    assert tiles.describe()[-1] == "lava_wall = wall (a new tile, initialised from 'wall': its properties less hazard)"


def test_two_model_tiles_of_the_same_properties_need_a_name_or_a_pair() -> None:
    rock = renamed(MAZE, "rock", [0, 1, 2, 3], (tile("rock", "o", solid=True),))
    with pytest.raises(TileMapError, match=r"tile 'rock' \(solid\) .* 'my_wall' and 'stone' alike; .*--tile-map rock="):
        map_tiles(rock, TWO_WALLS)
    assert map_tiles(rock, TWO_WALLS, {"rock": "stone"}).sources == [0, 1, 2, 3, 4]  # my_wall by its name
    assert map_tiles(rock, TWO_WALLS, {"rock": "my_wall", "my_wall": "stone"}).sources == [0, 4, 2, 3, 1]


def test_a_tile_near_two_model_tiles_is_ambiguous() -> None:
    locked_exit = renamed(MAZE, "locked", [0, 1, 2, 3], (tile("gate", "g", solid=True, exit=True),))
    with pytest.raises(TileMapError, match=r"tile 'gate' \(exit\+solid\) .* 'wall' and 'exit' alike"):
        map_tiles(locked_exit, MAZE)


def test_a_tile_without_counterpart_is_named_with_the_reason() -> None:
    cursed = renamed(MAZE, "cursed", [0, 1, 2, 3], (tile("cursed_key", "k", key=True, hazard=True),))
    with pytest.raises(TileMapError) as error:
        map_tiles(cursed, MAZE)
    message = str(error.value)
    assert message.startswith("tile 'cursed_key' (hazard+key): the model has no tile with these properties")
    assert "wall (solid)" in message and "--tile-map cursed_key=TILE" in message


def test_another_mechanic_and_bad_pairs_are_refused() -> None:
    with pytest.raises(TileMapError, match="mechanic 'walk', these rules 'push'"):
        map_tiles(load_rules("sokoban"), MAZE)
    with pytest.raises(TileMapError, match="the rules have no tile 'lava'"):
        map_tiles(MAZE, MAZE, {"lava": "floor"})
    with pytest.raises(TileMapError, match="the model has no tile 'lava'"):
        map_tiles(MAZE, MAZE, {"floor": "lava"})


def test_tile_map_option_text() -> None:
    assert parse_tile_map("crate=box, dock = goal") == {"crate": "box", "dock": "goal"}
    assert parse_tile_map(None) == {}
    for bad in ("crate", "crate=", "crate=box,crate=goal", "crate=box,"):
        with pytest.raises(TileMapError, match="--tile-map"):
            parse_tile_map(bad)


# ----- the remapped weights -----------------------------------------------------------------------

CASES = [("sokoban", "narrow"), ("sokoban", "turtle"), ("sokoban", "wide"), ("maze", "nca"), ("relay", "carve")]


def random_model(rules: Rules, representation: str) -> tuple[ActorCritic, dict[str, np.ndarray]]:
    """A small model with random weights (biases too) for ``rules``, and two observations of its environment."""
    env = BatchedLevelEnv(rules, representation, 2)
    obs, _ = env.reset(seed=3)
    torch.manual_seed(0)
    model = build_model(env, channels=8, hidden=16)
    for parameter in model.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    return model.eval(), obs


def tile_logits(logits: torch.Tensor, representation: str, n_tiles: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A policy's logits split into the tile actions (tiles in the last dimension) and the others."""
    if representation == "wide":
        return logits.view(len(logits), n_tiles, -1).transpose(1, 2), logits[:, :0]
    if representation == "turtle":
        return logits[:, 4:], logits[:, :4]
    if representation == "carve":
        return logits[:, :0], logits
    return logits[..., :n_tiles], logits[..., n_tiles:]


@pytest.mark.parametrize(("name", "representation"), CASES)
def test_a_model_remapped_to_renamed_reordered_tiles_acts_the_same(name: str, representation: str) -> None:
    rules = load_rules(name)
    moved = renamed(rules, f"{name}_moved")
    model, obs = random_model(rules, representation)
    tiles = map_tiles(moved, rules)
    n = len(rules.tiles)
    assert tiles.sources == list(range(n))[::-1]
    remapped = remap_model(model, tiles, representation)

    moved_obs = dict(obs)
    moved_obs["map"] = np.concatenate([obs["map"][:, tiles.sources], obs["map"][:, n:]], axis=1)
    with torch.no_grad():
        logits, value = model(to_tensors(obs))
        moved_logits, moved_value = remapped(to_tensors(moved_obs))
    assert torch.allclose(moved_value, value, atol=1e-5)
    tiles_before, others_before = tile_logits(logits, representation, n)
    tiles_after, others_after = tile_logits(moved_logits, representation, n)
    if representation != "carve":  # carve's actions name no tile
        tiles_before = tiles_before[..., tiles.sources]
    assert torch.allclose(tiles_after, tiles_before, atol=1e-5)
    assert torch.allclose(others_after, others_before, atol=1e-5)
    assert logits.std() > 0.1  # the check compares distinct numbers


@pytest.mark.parametrize("representation", ["narrow", "wide", "nca"])
def test_tiles_sharing_a_model_tile_share_its_probability(representation: str) -> None:
    quarry = renamed(MAZE, "quarry", [0, 1, 2, 3], (tile("stone", "o", solid=True),))
    model, obs = random_model(MAZE, representation)
    remapped = remap_model(model, map_tiles(quarry, MAZE), representation)
    with_stone = dict(obs)  # no stone on the map: an empty plane for it
    with_stone["map"] = np.insert(obs["map"], 4, 0.0, axis=1)
    with torch.no_grad():
        before = tile_logits(model(to_tensors(obs))[0].softmax(-1), representation, 4)[0]
        after = tile_logits(remapped(to_tensors(with_stone))[0].softmax(-1), representation, 5)[0]
    assert torch.allclose(after[..., [0, 2, 3]], before[..., [0, 2, 3]], atol=1e-6)
    assert torch.allclose(after[..., 1], after[..., 4])
    assert torch.allclose(after[..., 1] + after[..., 4], before[..., 1], atol=1e-6)

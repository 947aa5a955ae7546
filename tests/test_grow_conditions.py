"""Starting from a model when the new game has more to say: a renamed dungeon with one more solid tile
and a count range on it starts from the shipped dungeon model, its new conditioning inputs at zero
weight, so the policy starts out as the model did."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from relaygen.agent.config import TrainConfig
from relaygen.agent.model import to_tensors
from relaygen.agent.policy import load_policy
from relaygen.agent.run import fit_start, make_env, prepare
from relaygen.drafters import shipped_models
from relaygen.rules import load_rules

RENAMES = {"floor": "ground", "wall": "rock", "player": "hero", "key": "gem", "door": "gate", "enemy": "bat"}
PILLAR = """
[[tiles]]
name = "pillar"
char = "I"
color = "#777777"
weight = 0.0
solid = true

[[constraints]]
tiles = ["pillar"]
min = 1
max = 4
"""


@pytest.fixture
def pillared(tmp_path: Path) -> Path:
    """The dungeon, every tile renamed, with a pillar tile (solid, as the rock) and a count range on it."""
    text = load_rules("dungeon").to_toml()
    for old, new in RENAMES.items():
        text = text.replace(f'"{old}"', f'"{new}"')
    head, _, tail = text.partition("\n[[constraints]]")
    path = tmp_path / "pillared.toml"
    path.write_text(head + PILLAR + "\n[[constraints]]" + tail.replace('name = "pillared"', ""))
    return path


def _dungeon_model() -> Path:
    return next(p for p in shipped_models() if p.stem == "dungeon")


def test_the_new_count_range_gets_new_inputs_and_the_policy_starts_as_the_model_did(pillared: Path) -> None:
    model_path = _dungeon_model()
    start, original = load_policy(model_path), load_policy(model_path)
    rules, config = prepare(TrainConfig(rules=str(pillared), init_from=str(model_path)), start)
    fit = fit_start(start, rules, config)
    conditions = fit.conditions
    assert conditions is not None
    added = [n for n, s in zip(conditions.names, conditions.sources, strict=True) if s is None]
    assert added == ["count pillar lo", "count pillar hi"] and not conditions.dropped
    assert "added count pillar lo, count pillar hi (zero weights)" in fit.summary()
    assert start.model.arch["cond_size"] == original.model.arch["cond_size"] + 2

    env = make_env(config, rules, 4)
    obs, _ = env.reset(seed=3)
    assert not (env.grid == rules.tile_index["pillar"]).any(), "no pillar on the maps compared"
    kept = [s is not None for s in conditions.sources]
    order = np.argsort([s for s in conditions.sources if s is not None])
    old_obs = {
        "map": np.delete(obs["map"], rules.tile_index["pillar"], axis=1),
        "position": obs["position"],
        "cond": obs["cond"][:, kept][:, order],
    }
    with torch.no_grad():
        _, value = start.model(to_tensors(obs))
        _, old_value = original.model(to_tensors(old_obs))
    assert torch.allclose(value, old_value, atol=1e-5)
    assert np.abs(obs["cond"][:, ~np.array(kept)]).sum() > 0, "the new inputs carry a signal the model ignores"


def test_an_objective_the_new_rules_lack_is_dropped(tmp_path: Path) -> None:
    text = load_rules("dungeon").to_toml()
    head, _, tail = text.partition('[[objectives]]\nmetric = "enemy_distance"')
    path = tmp_path / "no_distance.toml"
    path.write_text(head + tail.partition("\n\n")[2])
    model_path = _dungeon_model()
    start = load_policy(model_path)
    rules, config = prepare(TrainConfig(rules=str(path), init_from=str(model_path)), start)
    assert [o.metric for o in rules.objectives] == ["regions", "path_length"]
    conditions = fit_start(start, rules, config).conditions
    assert conditions is not None
    assert set(conditions.dropped) == {
        f"{kind} enemy_distance {end}" for kind in ("target", "measure") for end in ("lo", "hi")
    }
    assert None not in conditions.sources

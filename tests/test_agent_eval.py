"""Evaluation: diversity by hand, equal episode shares, and the model-vs-random report."""

from __future__ import annotations

import numpy as np
import pytest

from relaygen.agent.evaluate import build_levels, evaluate, format_table
from relaygen.agent.model import build_model
from relaygen.agent.policy import Policy, random_actor
from relaygen.env.vector import BatchedLevelEnv
from relaygen.level import Level, diversity
from relaygen.rules import load_rules


def test_diversity_by_hand() -> None:
    rules = load_rules("maze")
    a = Level(rules, np.zeros((2, 2)))
    b = Level(rules, np.array([[1, 0], [0, 0]]))
    hamming, distinct = diversity([a, b, a.copy()])
    assert hamming == pytest.approx((0.25 + 0.0 + 0.25) / 3)
    assert distinct == pytest.approx(2 / 3)


def test_build_levels_gives_each_environment_an_equal_share() -> None:
    env = BatchedLevelEnv("sokoban", "narrow", 4)
    levels, changes, seconds = build_levels(env, random_actor(env.single_action_space, 0), 10, seed=0)
    assert len(levels) == len(changes) == 10
    assert seconds > 0
    assert all(isinstance(level, Level) and "difficulty" in level.meta for level in levels)


def test_evaluate_reports_model_and_random_side_by_side() -> None:
    rules = load_rules("dungeon")
    model = build_model(BatchedLevelEnv(rules, "narrow", 1), channels=8, hidden=16)
    policy = Policy(model, rules, "narrow", {"steps": 0}, seed=0)
    result = evaluate(policy, episodes=6, difficulty=0.3, seed=1, num_envs=3)
    for side in ("model", "random"):
        assert result[side]["levels"] == 6
        assert 0.0 <= result[side]["playable_rate"] <= 1.0
        assert set(result[side]["satisfaction"]) == {"count:player", "count:key", "count:door", "count:enemy",
                                                     "regions", "path_length", "enemy_distance"}  # fmt: skip
    table = format_table(result)
    assert "playable rate" in table and "satisfied: enemy_distance" in table and "difficulty 0.3" in table

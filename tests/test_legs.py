"""The legs representation: Relay levels laid one whole leg per action, as the seed's levels were legs."""

from __future__ import annotations

from itertools import groupby

import numpy as np
import pytest

from relaygen.env.level_env import LevelEnv
from relaygen.env.representations.legs import LEG_SCALE, SPREAD
from relaygen.level import Level
from relaygen.mechanics.relay import Legs, run_target
from relaygen.playtest import playtest

LONGEST = 13
"""Relay's grid is 14x9: a leg is 1 to 13 cells."""
END = 2 * (2 * SPREAD + 1)
ON_CURVE = 2 * SPREAD
"""A left turn and a leg of the curve's length (offset 0); + 1 turns right."""


def runs(solution: str) -> list[tuple[str, int]]:
    return [(k, len(list(g))) for k, g in groupby(solution)]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_every_step_leaves_one_untouching_path_with_its_end_at_the_head(seed: int) -> None:
    env = LevelEnv("relay", "legs", penalty=0.0)
    env.reset(seed=seed)
    batch, rules, rng = env.batch, env.batch.rules, np.random.default_rng(seed)
    asked: list[int] = []
    for _ in range(40):
        action = int(rng.integers(END))
        asked.append(batch.rep.length(0, action))
        _, _, terminated, truncated, _ = env.step(action)
        grid = batch.grid[0]
        head = tuple(batch.cursor[0])
        assert grid[head] == rules.tile_index["end"] and (grid == rules.tile_index["end"]).sum() == 1
        assert (grid == rules.tile_index["start"]).sum() == 1
        report = playtest(Level(rules, grid.copy(), payload=batch.payloads[0]))
        assert report.playable and report.metrics["clusters"] == 0, "\n".join(map(str, grid))
        laid = runs(report.solution)
        assert "".join(d for d, _ in laid) == batch.payloads[0].directions
        assert all(n <= want for (_, n), want in zip(laid, asked, strict=False)), (laid, asked)
        if terminated or truncated:
            break


def test_a_leg_turns_left_or_right_and_runs_the_curves_length_plus_its_offset() -> None:
    env = LevelEnv("relay", "legs", penalty=0.0, difficulty=0.5)
    env.reset(seed=5)
    batch, low = env.batch, env.batch.rules.targets(0.5)["turns"][0]
    for leg, (offset, side) in enumerate([(0, 0), (-2, 1), (1, 0)]):
        action = 2 * (offset + SPREAD) + side
        want = max(1, round(run_target(leg, low, 9)) + offset)
        assert batch.rep.length(0, action) == want
        before, heading = batch.cursor[0].copy(), int(batch.rep.heading[0])
        room = batch.rep.room(batch, 0, (heading + (-1, 1)[side]) % 4, want)
        env.step(action)
        if len(room) == want:
            assert int(batch.rep.heading[0]) == (heading + (-1, 1)[side]) % 4
            assert np.abs(batch.cursor[0] - before).sum() == want


def test_ending_before_the_first_leg_costs_the_penalty_and_lays_a_leg() -> None:
    env = LevelEnv("relay", "legs", penalty=0.25)
    env.reset(seed=1)
    _, reward, terminated, _, _ = env.step(END)
    assert not terminated and isinstance(env.batch.payloads[0], Legs) and len(env.batch.payloads[0].directions) == 1
    assert reward <= -0.25 + 10.0  # the penalty, plus what the first leg earned
    with_penalty = reward
    env = LevelEnv("relay", "legs", penalty=0.0)
    env.reset(seed=1)
    _, reward, _, _, _ = env.step(END)
    assert reward == pytest.approx(with_penalty + 0.25)
    _, _, terminated, _, info = env.step(END)
    assert terminated and info["level"].payload == env.batch.payloads[0]


def test_the_episode_ends_when_every_objective_is_met() -> None:
    """At difficulty 0 (turns 1-2) a leg of the curve's 8 cells, a turn and another make a level that
    meets everything: the episode ends there, its level scored 1."""
    for seed in range(20):
        env = LevelEnv("relay", "legs", difficulty=0.0, penalty=0.0)
        env.reset(seed=seed)
        for _ in range(3):
            _, _, terminated, _, info = env.step(ON_CURVE)
            if terminated:
                break
        if terminated and info["met"]:
            assert info["level"].meta["report"]["met"] and info["score"] == 1.0
            return
    pytest.fail("no seed gave a level meeting every objective at difficulty 0")


def test_the_policy_sees_the_curve_target_of_its_next_leg() -> None:
    env = LevelEnv("relay", "legs", difficulty=1.0)
    obs, _ = env.reset(seed=0)
    low, high = env.batch.rules.targets(1.0)["turns"]
    for legs in range(4):
        features = obs["cond"][-7:]
        assert features[0] == pytest.approx(legs / LEG_SCALE)
        assert features[1] == pytest.approx(run_target(legs, low, 9) / LONGEST, rel=1e-5)
        assert features[2] == pytest.approx(max(legs - 1, 0) / LEG_SCALE - low / LEG_SCALE, rel=1e-5)
        assert features[3] == pytest.approx((max(legs - 1, 0) - high) / LEG_SCALE, rel=1e-5)
        obs, *_ = env.step(0)  # the shortest offset, turning left: room is left around the leg

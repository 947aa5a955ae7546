"""The level-construction environment: registry and check_env, determinism, rewards, episode ends,
pinned cells, bad input, and the batched form matching single environments."""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Callable

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import relaygen.env
from relaygen.env.level_env import LevelEnv
from relaygen.env.options import EnvOptions
from relaygen.env.representations import RepresentationError
from relaygen.env.vector import BatchedLevelEnv, random_actions
from relaygen.level import Level
from relaygen.playtest import playtest
from relaygen.rules import load_rules

USER_RULES = {
    "width": 7,
    "height": 5,
    "border": None,
    "representations": ["narrow", "turtle", "wide"],
    "weights": {"floor": 3, "start": 0.2, "exit": 0.2},
    "tail": '\n[[objectives]]\nmetric = "path_length"\ntarget = [4, 8]\n',
}
"""The ``tiny_rules_toml`` fixture's options for a rules file of one's own: 7x5, no border."""

HAS_RENDERER = importlib.util.find_spec("relaygen.render") is not None


def run_random(env: LevelEnv, seed: int, steps: int = 400) -> tuple[list, float, dict, dict]:
    """Random actions until the episode ends: (transitions, return, reset info, last info)."""
    obs, first = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    transitions, total, info = [], 0.0, first
    for _ in range(steps):
        action = random_actions(env.action_space, rng)
        obs, reward, terminated, truncated, info = env.step(action)
        transitions.append((obs, reward, terminated, truncated, info))
        total += reward
        if terminated or truncated:
            break
    return transitions, total, first, info


def corridor_maze(wall_at: int | None = 7) -> Level:
    """A 16x16 maze whose only open cells are row 1: S at column 1, E at column 14."""
    rules = load_rules("maze")
    grid = np.full((16, 16), rules.tile_index["wall"], np.uint8)
    grid[1, 1:15] = rules.tile_index["floor"]
    grid[1, 1], grid[1, 14] = rules.tile_index["start"], rules.tile_index["exit"]
    if wall_at is not None:
        grid[1, wall_at] = rules.tile_index["wall"]
    return Level(rules, grid)


# ----- registry and check_env ---------------------------------------------------------------------


def test_registry_has_every_builtin_and_representation() -> None:
    expected = {
        f"relaygen/{n}-{r}-v0" for n in ("maze", "dungeon", "sokoban", "boxoban") for r in ("narrow", "turtle", "wide")
    }
    expected |= {"relaygen/relay-carve-v0", "relaygen/relay-legs-v0", "relaygen/level-v0", "relaygen/maze-nca-v0"}
    expected.add("relaygen/dungeon-nca-v0")
    expected.add("relaygen/maze-backtrack-v0")
    assert set(relaygen.env.register_envs()) == expected and expected <= set(gym.registry)


@pytest.mark.parametrize("env_id", sorted(relaygen.env.builtin_ids()))
def test_check_env_builtin(env_id: str) -> None:
    env = gym.make(env_id, render_mode="rgb_array" if HAS_RENDERER else "ansi")
    check_env(env.unwrapped, skip_render_check=not HAS_RENDERER)
    assert env.unwrapped.spatial_actions == env_id.endswith("-wide-v0")


@pytest.mark.parametrize("representation", ["narrow", "turtle", "wide"])
def test_check_env_user_rules_file(tmp_path, representation: str, tiny_rules_toml: Callable[..., str]) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_rules_toml(**USER_RULES))
    env = gym.make("relaygen/level-v0", rules=str(path), representation=representation)
    check_env(env.unwrapped, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs["map"].shape[0] == 4 + 2 and obs["cond"].shape == (1 + 2 * 1,)


# ----- determinism and returns --------------------------------------------------------------------


@pytest.mark.parametrize("env_id", ["relaygen/maze-narrow-v0", "relaygen/sokoban-turtle-v0", "relaygen/relay-carve-v0"])
def test_same_seed_same_episode(env_id: str) -> None:
    a, _, _, _ = run_random(gym.make(env_id).unwrapped, seed=3)
    b, _, _, _ = run_random(gym.make(env_id).unwrapped, seed=3)
    c, _, _, _ = run_random(gym.make(env_id).unwrapped, seed=4)
    assert len(a) == len(b)
    for (oa, ra, *ea, ia), (ob, rb, *eb, ib) in zip(a, b, strict=True):
        assert all(np.array_equal(oa[k], ob[k]) for k in oa) and ra == rb and ea == eb
        assert {k: v for k, v in ia.items() if k != "level"} == {k: v for k, v in ib.items() if k != "level"}
    assert not all(np.array_equal(x[0]["map"], y[0]["map"]) for x, y in zip(a, c, strict=False))


@pytest.mark.parametrize("env_id", sorted(relaygen.env.builtin_ids()))
def test_return_is_final_minus_initial_score(env_id: str) -> None:
    digger = any(rep in env_id for rep in ("carve", "backtrack", "legs"))
    env = (gym.make(env_id, penalty=0.0) if digger else gym.make(env_id)).unwrapped
    _, total, first, last = run_random(env, seed=11)
    bonus = env.rules.playable_bonus * (last["playable"] - first["playable"])
    assert total == pytest.approx(10.0 * (last["score"] - first["score"]) + bonus, abs=1e-9)
    report = last["level"].meta["report"]
    assert report["score"] == pytest.approx(last["score"]) and report["playable"] == last["playable"]
    assert set(last) >= {"playable", "verdict", "score", "solution_length", "metrics", "terms", "changes", "met"}


# ----- rewards ------------------------------------------------------------------------------------


def test_connecting_the_maze_raises_the_score_and_breaking_it_lowers_it() -> None:
    env = LevelEnv("maze", "wide", difficulty=1.0, start_level=corridor_maze())
    _, info = env.reset(seed=0)
    assert not info["playable"] and info["metrics"]["regions"] == 2
    floor, wall, cell = 0, 1, 1 * 16 + 7
    _, reward, terminated, _, info = env.step(floor * 256 + cell)
    assert info["playable"] and info["metrics"]["path_length"] == 13 and reward > 1.0 and not terminated
    _, reward, _, _, info = env.step(wall * 256 + cell)
    assert not info["playable"] and reward < -1.0
    _, reward, _, _, info = env.step(floor * 256 + 0)  # the border is frozen: nothing changes
    assert reward == 0.0 and info["changes"] == 2


@pytest.mark.parametrize("keep_best", [False, True])
def test_keep_best_hands_out_the_best_level_of_the_episode(keep_best: bool) -> None:
    start = corridor_maze()
    env = LevelEnv("maze", "wide", difficulty=1.0, start_level=start, change_limit=0.01, keep_best=keep_best)
    env.reset(seed=0)
    floor, wall, cell = 0, 1, 1 * 16 + 7  # two edits end the episode: connect the maze, then break it
    _, _, _, truncated, info = env.step(floor * 256 + cell)
    assert info["playable"] and not truncated
    _, _, _, truncated, info = env.step(wall * 256 + cell)
    assert truncated and not info["playable"]
    level = info["level"]
    assert level.meta["report"]["playable"] == keep_best == (level.grid[1, 7] == floor)
    assert playtest(level, 1.0).playable == keep_best
    env.reset(seed=1)  # a new episode forgets the last one's best
    assert np.array_equal(env.batch.final_level(0).grid, start.grid)


def test_a_level_that_meets_every_objective_ends_the_episode() -> None:
    rules = load_rules("maze")
    grid = np.full((16, 16), rules.tile_index["floor"], np.uint8)
    grid[[0, -1], :] = grid[:, [0, -1]] = rules.tile_index["wall"]
    grid[1, 1], grid[14, 14] = rules.tile_index["start"], rules.tile_index["exit"]
    solved = Level(rules, grid)
    assert playtest(solved, 0.5).met
    env = LevelEnv("maze", "narrow", difficulty=0.5, start_level=solved)
    _, info = env.reset(seed=0)
    assert info["met"]
    _, reward, terminated, truncated, info = env.step(len(rules.tiles))  # leave the cell
    assert terminated and not truncated and reward == 0.0
    assert info["level"].meta["report"]["met"] and info["level"].meta["difficulty"] == 0.5


def test_change_limit_truncates() -> None:
    env = LevelEnv("maze", "wide", change_limit=0.05, difficulty=0.5)
    env.reset(seed=0)
    limit = int(np.ceil(0.05 * 14 * 14))
    changes, truncated = 0, False
    for cell in range(17, 17 + 14):  # row 1, distinct cells, alternating tiles so each one changes
        tile = 1 - int(env.batch.grid[0].flat[cell] == 1)
        _, _, _, truncated, info = env.step(tile * 256 + cell)
        changes = info["changes"]
        if truncated:
            break
    assert truncated and changes == limit


# ----- pinned tiles -------------------------------------------------------------------------------


def test_training_pins_never_change_and_are_shown() -> None:
    env = LevelEnv("dungeon", "wide", pinned_share=0.4, max_steps=300, change_limit=1.0)
    obs, _ = env.reset(seed=5)
    frozen, start = env.batch.frozen[0].copy(), env.batch.grid[0].copy()
    assert frozen[1:-1, 1:-1].any() and not frozen[1:-1, 1:-1].all()
    assert np.array_equal(obs["map"][len(env.rules.tiles)], frozen)
    rng = np.random.default_rng(0)
    for _ in range(300):
        _, _, terminated, truncated, info = env.step(random_actions(env.action_space, rng))
        if terminated or truncated:
            break
    final = info["level"].grid
    assert np.array_equal(final[frozen], start[frozen]) and not np.array_equal(final, start)


def test_designer_pins_are_kept_and_the_rest_is_drawn() -> None:
    rules = load_rules("maze")
    rows = ["#" * 16] + ["#" + "?" * 14 + "#" for _ in range(14)] + ["#" * 16]
    rows[1] = "#S" + "?" * 12 + "E#"
    partial = Level.from_rows(rules, rows)
    env = LevelEnv("maze", "narrow", start_level=partial)
    env.reset(seed=1)
    grid = env.batch.grid[0]
    assert grid[1, 1] == rules.tile_index["start"] and grid[1, 14] == rules.tile_index["exit"]
    assert len(np.unique(grid[2:-2, 2:-2])) > 1
    rng = np.random.default_rng(1)
    for _ in range(200):
        *_, terminated, truncated, info = env.step(random_actions(env.action_space, rng))
        if terminated or truncated:
            break
        assert not env.batch.frozen[0][tuple(env.batch.cursor[0])]  # the scan skips frozen cells
    assert np.array_equal(info["level"].pinned, partial.pinned)
    assert np.array_equal(info["level"].grid[partial.pinned], partial.grid[partial.pinned])


# ----- bad input ----------------------------------------------------------------------------------


def test_unknown_representation_names_the_choices() -> None:
    with pytest.raises(RepresentationError, match=r"unknown representation 'spiral'.*narrow, turtle, wide, carve"):
        LevelEnv("maze", "spiral")


@pytest.mark.parametrize(("rules", "rep"), [("maze", "carve"), ("relay", "narrow")])
def test_representation_the_rules_do_not_offer(rules: str, rep: str) -> None:
    with pytest.raises(ValueError, match=f"do not offer representation '{rep}'"):
        gym.make("relaygen/level-v0", rules=rules, representation=rep)


def test_rules_file_that_carve_cannot_express(tmp_path, tiny_rules_toml: Callable[..., str]) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(tiny_rules_toml(**USER_RULES | {"representations": ["carve"]}))
    with pytest.raises(
        ValueError, match="'carve' builds levels of mechanic 'relay' only; it needs mechanic 'relay', not 'walk'"
    ):
        LevelEnv(str(path), "carve")


def test_out_of_range_difficulty_and_options() -> None:
    with pytest.raises(ValueError, match=r"difficulty must be in \[0, 1\].*got 1.5"):
        LevelEnv("maze", difficulty=1.5)
    env = LevelEnv("maze")
    with pytest.raises(ValueError, match=r"got -0\.1"):
        env.reset(options={"difficulty": -0.1})
    with pytest.raises(ValueError, match="crop_size must be a positive odd number"):
        LevelEnv("maze", crop_size=8)
    with pytest.raises(ValueError, match="not 'maze'"):
        env.reset(options={"level": Level(load_rules("dungeon"), np.zeros((9, 13)))})
    with pytest.raises(ValueError, match="carve representation cannot start from a given level"):
        LevelEnv("relay", "carve", start_level=Level(load_rules("relay"), np.zeros((9, 14))))
    with pytest.raises(ValueError, match="pinned_share must be in"):
        LevelEnv("maze", pinned_share=1.0)
    with pytest.raises(TypeError, match="takes no options"):
        LevelEnv("maze", "wide", order="random")


def test_environment_options_are_split_from_the_representation_s_own() -> None:
    options, rest = EnvOptions.split({"difficulty": 0.3, "keep_best": True, "order": "random"})
    assert options == EnvOptions(difficulty=0.3, keep_best=True) and rest == {"order": "random"}
    env = gym.make(
        "relaygen/level-v0", rules="maze", representation="narrow", order="random", difficulty=0.3,
        keep_best=True, reward_scale=2.0, solver_budget=50, max_steps=7,
    ).unwrapped  # fmt: skip
    batch = env.batch
    assert (batch.difficulty, batch.keep_best, batch.reward_scale, batch.max_steps) == (0.3, True, 2.0, 7)
    assert batch.scorer.budget.max_nodes == 50 and batch.rep.order == "random"


# ----- batched ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rules", "rep"), [("maze", "narrow"), ("dungeon", "turtle"), ("relay", "carve")])
def test_batched_matches_single_envs(rules: str, rep: str) -> None:
    n, limit = 3, None if rep == "carve" else 0.05
    batch = BatchedLevelEnv(rules, rep, n, change_limit=limit)
    singles = [LevelEnv(rules, rep, change_limit=limit) for _ in range(n)]
    obs, infos = batch.reset(seed=20)
    first = [s.reset(seed=20 + i) for i, s in enumerate(singles)]
    for i in range(n):
        assert all(np.array_equal(obs[k][i], first[i][0][k]) for k in obs)
        assert infos["score"][i] == first[i][1]["score"]
    rng, ended = np.random.default_rng(0), 0
    for _ in range(60):
        actions = random_actions(batch.single_action_space, rng, n)
        obs, reward, terminated, truncated, infos = batch.step(actions)
        for i, env in enumerate(singles):
            o, r, te, tr, info = env.step(actions[i])
            assert (r, te, tr) == (reward[i], terminated[i], truncated[i])
            assert info["score"] == infos["score"][i] and info["changes"] == infos["changes"][i]
            if te or tr:
                ended += 1
                assert all(np.array_equal(o[k], infos["final_obs"][i][k]) for k in o)
                assert infos["final_level"][i] == info["level"]
                o, _ = env.reset()
            assert all(np.array_equal(o[k], obs[k][i]) for k in o)
    assert ended >= 2


# ----- rendering ----------------------------------------------------------------------------------


def test_ansi_render_is_the_text_map() -> None:
    env = LevelEnv("maze", "turtle", render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert text.splitlines() == Level(env.rules, env.batch.grid[0]).rows()
    assert LevelEnv.metadata["render_fps"] > 0


@pytest.mark.skipif(not HAS_RENDERER, reason="relaygen.render (the project's renderer) is not installed yet")
def test_rgb_array_render_size() -> None:
    env = LevelEnv("dungeon", "narrow", render_mode="rgb_array", cell_size=8)
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (9 * 8, 13 * 8, 3) and frame.dtype == np.uint8


def test_observe_budget_shows_the_share_of_edits_left() -> None:
    env = LevelEnv("maze", "narrow", observe_budget=True, change_limit=0.05)
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=0)
    assert obs["cond"].shape == (6,) and obs["cond"][-1] == 1.0
    limit = env.batch._limit[0]
    lefts = [1.0]
    for _ in range(400):
        obs, _, terminated, truncated, info = env.step(env.action_space.sample())
        lefts.append(float(obs["cond"][-1]))
        if terminated or truncated:
            break
    assert truncated and info["changes"] == limit and lefts[-1] == 0.0
    assert all(a >= b for a, b in itertools.pairwise(lefts))
    assert LevelEnv("maze", "narrow").observation_space["cond"].shape == (5,)


def test_observe_metrics_shows_counts_and_objective_values_against_their_ranges() -> None:
    env = LevelEnv("dungeon", "narrow", observe_metrics=True, difficulty=0.5)
    check_env(env, skip_render_check=True)
    rules = env.rules
    n_con, n_obj = len(rules.constraints), len(rules.objectives)
    assert env.observation_space["cond"].shape == (1 + 2 * n_obj + 2 * (n_con + n_obj),)
    obs, info = env.reset(seed=4)
    for _ in range(30):
        obs, _, terminated, truncated, info = env.step(env.action_space.sample())
        if terminated or truncated:
            break
    measures = obs["cond"][1 + 2 * n_obj :].reshape(-1, 2)
    targets = env.batch.rules.target_ranges(np.array([0.5]))[0]
    grid = env.batch.grid[0]
    for c, constraint in enumerate(rules.constraints):
        count = sum(int((grid == rules.tile_index[t]).sum()) for t in constraint.tiles)
        scale = max(1, constraint.max or constraint.min)
        high = constraint.max if constraint.max is not None else np.inf
        expected = np.clip([(count - constraint.min) / scale, (count - high) / scale], -2, 2)
        assert measures[c] == pytest.approx(expected), constraint.tiles
    for j, objective in enumerate(rules.objectives):
        value = info["metrics"][objective.metric]
        scale = env.batch._cond_scale[j]
        expected = np.clip([(value - targets[j, 0]) / scale, (value - targets[j, 1]) / scale], -2, 2)
        assert measures[n_con + j] == pytest.approx(expected), objective.metric


def test_a_blind_environment_hides_what_only_the_search_measures_and_plays_on_once_met() -> None:
    rules = load_rules("sokoban")
    rows = ["#########", "#@------#", "#-------#", "#--$---.#", *["#-------#"] * 4, "#########"]
    level = Level.from_rows(rules, rows)
    assert playtest(level, 0.0).met, "the level meets every objective at difficulty 0"
    no_op = rules.tile_index["floor"] * rules.height * rules.width + 1 * rules.width + 2  # floor on floor
    seen = {}
    for blind in (False, True):
        env = BatchedLevelEnv(
            rules, "wide", 1, autoreset=False, observe_metrics=True, blind=blind, difficulty=0.0, start_level=level
        )
        obs, _ = env.reset(seed=0)
        seen[blind] = dict(zip(env.cond_names(), obs["cond"][0].tolist(), strict=True))
        _, _, terminated, truncated, infos = env.step(np.array([no_op]))
        assert infos["met"][0] and not truncated[0]
        assert terminated[0] != blind, "a blind episode plays on until its edits run out"
    searched = [f"measure {m} {end}" for m in ("pushes", "solution_length") for end in ("lo", "hi")]
    assert all(seen[False][name] != 0.0 for name in searched)
    assert all(seen[True][name] == 0.0 for name in searched), "the solution's metrics are out of sight"
    assert {k: v for k, v in seen[True].items() if k not in searched} == {
        k: v for k, v in seen[False].items() if k not in searched
    }


def test_vary_counts_draws_each_episode_s_ranges_and_scores_by_them() -> None:
    rules = load_rules("sokoban")
    two_boxes = Level.from_rows(
        rules,
        [
            "#########",
            "#-------#",
            "#-$-.---#",
            "#-------#",
            "#-@-----#",
            "#-$-.---#",
            "#-------#",
            "#-------#",
            "#########",
        ],
    )
    options = {"observe_metrics": True, "difficulty": 0.5, "autoreset": False}
    env = BatchedLevelEnv(rules, "wide", 24, vary_counts=True, **options)
    obs, info = env.reset(seed=3, options={"level": two_boxes})
    variants = [env._variants[i] for i in range(24)]
    boxes = {v[1] for v in variants}
    assert len(boxes) > 2 and all(1 <= lo <= hi <= 3 for lo, hi in boxes)
    assert {v[0] for v in variants} == {(1, 1)} and {v[2] for v in variants} == {(0, None)}
    for i, variant in enumerate(variants):
        report = playtest(Level(rules.with_counts(variant), two_boxes.grid), 0.5)
        assert bool(info["playable"][i]) == report.playable == (variant[1][0] <= 2 <= variant[1][1]), variant
        assert info["score"][i] == pytest.approx(report.score)
        box_measures = obs["cond"][i, 1 + 2 * len(rules.objectives) + 2 : 1 + 2 * len(rules.objectives) + 4]
        assert box_measures == pytest.approx([(2 - variant[1][0]) / 3, (2 - variant[1][1]) / 3])
        assert env.final_level(i).rules.constraints[1].max == variant[1][1]
    again = BatchedLevelEnv(rules, "wide", 24, vary_counts=True, **options)
    again.reset(seed=3, options={"level": two_boxes})
    assert again._variants == env._variants
    fixed = BatchedLevelEnv(rules, "wide", 24, **options)
    fixed.reset(seed=3, options={"level": two_boxes})
    assert set(fixed._variants) == {((1, 1), (1, 3), (0, None))}


def test_training_environments_skip_the_full_report_of_finished_levels() -> None:
    """A trainer reads the in-episode scores of a finished level; the full playtest (with the
    solution) is for generation and evaluation only."""
    from relaygen.agent.config import TrainConfig
    from relaygen.agent.worker import make_env

    rules = load_rules("sokoban")
    trained = make_env(TrainConfig(rules="sokoban", representation="wide", episode_steps=3), rules, 2)
    reported = BatchedLevelEnv(rules, "wide", 2, max_steps=3)
    finished, rng = [], np.random.default_rng(0)
    for env in (trained, reported):
        env.reset(seed=0)
        for _ in range(400):
            *_, terminated, truncated, infos = env.step(random_actions(env.single_action_space, rng, 2))
            if (terminated | truncated).any():
                finished.append(infos["final_level"][np.flatnonzero(terminated | truncated)[0]].meta["report"])
                break
    assert "solution" not in finished[0] and "targets" in finished[0]
    assert "solution" in finished[1]

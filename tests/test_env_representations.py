"""Representations and observations: what each action does, the crop, the conditioning vector."""

from __future__ import annotations

import re
from importlib import resources

import numpy as np
import pytest

from relaygen.env.level_env import LevelEnv
from relaygen.env.representations.backtrack import EXIT, PATH_SCALE
from relaygen.env.representations.carve import DELTAS, END, HEADINGS
from relaygen.mechanics.relay import Legs, legs_of
from relaygen.rules import RulesError, load_rules


def tiles_at(obs_map: np.ndarray, n_tiles: int) -> np.ndarray:
    """Tile index per cell of a map observation (-1 where no tile plane is set)."""
    planes = obs_map[:n_tiles]
    return np.where(planes.any(axis=0), planes.argmax(axis=0), -1)


def test_narrow_sequential_scan_visits_each_editable_cell_once() -> None:
    env = LevelEnv("dungeon", "narrow", pinned_share=0.3, change_limit=1.0, max_steps=1000)
    env.reset(seed=2)
    frozen = env.batch.frozen[0]
    seen = []
    for _ in range((~frozen).sum()):
        seen.append(tuple(env.batch.cursor[0]))
        env.step(len(env.rules.tiles))  # leave
    assert len(set(seen)) == len(seen) == (~frozen).sum()
    assert not any(frozen[c] for c in seen)
    assert tuple(env.batch.cursor[0]) == seen[0]  # the scan wraps around


def test_narrow_random_order_is_seeded() -> None:
    def cursors(seed: int) -> list[tuple[int, int]]:
        env = LevelEnv("maze", "narrow", order="random")
        env.reset(seed=seed)
        out = []
        for _ in range(30):
            out.append(tuple(int(v) for v in env.batch.cursor[0]))
            env.step(len(env.rules.tiles))
        return out

    a, b = cursors(1), cursors(1)
    assert a == b and a != cursors(2)
    assert sorted(a) != a  # not the reading-order scan
    with pytest.raises(ValueError, match="order must be"):
        LevelEnv("maze", "narrow", order="spiral")


def test_narrow_puts_the_tile_on_the_shown_cell_and_the_crop_is_centred() -> None:
    env = LevelEnv("maze", "narrow", crop_size=5)
    obs, _ = env.reset(seed=0)
    n_tiles = len(env.rules.tiles)
    assert obs["map"].shape == (n_tiles + 2, 5, 5)
    for _ in range(20):
        y, x = env.batch.cursor[0]
        assert tiles_at(obs["map"], n_tiles)[2, 2] == env.batch.grid[0, y, x]
        assert np.allclose(obs["position"], [y / 16, x / 16])
        outside = obs["map"][n_tiles + 1]
        rows, cols = np.arange(y - 2, y + 3), np.arange(x - 2, x + 3)
        off = (rows[:, None] < 0) | (rows[:, None] >= 16) | (cols[None, :] < 0) | (cols[None, :] >= 16)
        assert np.array_equal(outside, off.astype(np.float32))
        tile = int(env.batch.grid[0, y, x] == 0)  # floor <-> wall
        obs, *_ = env.step(tile)
        assert env.batch.grid[0, y, x] == tile


def test_default_crop_is_twice_the_map() -> None:
    obs, _ = LevelEnv("dungeon", "turtle").reset(seed=0)
    assert obs["map"].shape == (6 + 2, 25, 25)


def test_turtle_moves_inside_the_border_and_places_under_the_cursor() -> None:
    env = LevelEnv("maze", "turtle")
    env.reset(seed=0)
    for _ in range(20):
        env.step(0)  # up
    assert env.batch.cursor[0, 0] == 1
    for _ in range(20):
        env.step(3)  # right
    assert tuple(env.batch.cursor[0]) == (1, 14)
    env.step(4 + 3)  # exit tile
    assert env.batch.grid[0, 1, 14] == 3
    env.step(1)
    assert tuple(env.batch.cursor[0]) == (2, 14)


def test_wide_action_layout_and_whole_map_observation() -> None:
    env = LevelEnv("sokoban", "wide")
    obs, _ = env.reset(seed=0)
    h, w, n_tiles = 9, 9, len(env.rules.tiles)
    assert env.action_space.n == n_tiles * h * w and env.spatial_actions
    box = env.rules.tile_index["box"]
    obs, *_ = env.step(box * h * w + 4 * w + 6)
    assert env.batch.grid[0, 4, 6] == box
    assert np.array_equal(tiles_at(obs["map"], n_tiles), env.batch.grid[0])
    assert np.array_equal(obs["map"][n_tiles], env.batch.frozen[0]) and not obs["map"][n_tiles + 1].any()
    assert np.allclose(obs["position"], [4 / 9, 6 / 9])


def test_conditioning_vector() -> None:
    env = LevelEnv("maze", "narrow", difficulty=0.25)
    obs, _ = env.reset(seed=0)
    # [difficulty, regions lo, hi (scale 1), path_length lo, hi (8..20 to 28..56: scale 56, its largest bound)]
    assert np.allclose(obs["cond"], [0.25, 1, 1, 13 / 56, 29 / 56])
    obs, _ = LevelEnv("dungeon", "narrow", difficulty=1.0).reset(seed=0)
    assert np.allclose(obs["cond"][-2:], [1.0, 2.0])  # enemy_distance [4, inf] → (1, cap 2)
    obs, _ = env.reset(seed=0, options={"difficulty": 1.0})
    assert obs["cond"][0] == 1.0


def test_difficulty_is_drawn_per_episode_when_not_given() -> None:
    env = LevelEnv("maze", "narrow")
    drawn = {float(env.reset(seed=s)[0]["cond"][0]) for s in range(5)}
    assert len(drawn) == 5 and all(0 <= d <= 1 for d in drawn)


# ----- carve --------------------------------------------------------------------------------------


def carve_episode(seed: int, penalty: float = 0.05) -> tuple[LevelEnv, list]:
    """A random carve episode (end only once the path is long); checks the invariants on the way."""
    env = LevelEnv("relay", "carve", penalty=penalty)
    obs, _ = env.reset(seed=seed)
    rules, rng, steps = env.rules, np.random.default_rng(seed), []
    start = tuple(env.batch.cursor[0])
    assert env.batch.grid[0][start] == rules.tile_index["start"]
    assert (env.batch.grid[0] == rules.tile_index["rock"]).sum() == 14 * 9 - 1
    moves = ""
    for t in range(200):
        heading = int(env.batch.rep.heading[0])
        ahead = env.batch.cursor[0] + DELTAS[heading]
        centre = obs["map"].shape[1] // 2
        if 0 <= ahead[0] < 9 and 0 <= ahead[1] < 14:  # the crop faces the turtle's heading
            assert obs["map"][env.batch.grid[0][tuple(ahead)], centre - 1, centre] == 1
        else:
            assert obs["map"][len(rules.tiles) + 1, centre - 1, centre] == 1
        action = END if t >= 25 else int(rng.integers(3))
        before = env.batch.cursor[0].copy()
        obs, reward, terminated, truncated, info = env.step(action)
        steps.append((action, reward, info))
        if terminated or truncated:
            break
        delta = tuple(env.batch.cursor[0] - before)
        moves += HEADINGS[[tuple(d) for d in DELTAS].index(delta)]
        assert env.batch.grid[0][tuple(env.batch.cursor[0])] == rules.tile_index["path"]
    assert env.batch.payloads[0] == Legs(legs_of(moves)) == info["level"].payload
    return env, steps


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_carve_paths_runs_and_end(seed: int) -> None:
    _, steps = carve_episode(seed)
    level = steps[-1][2]["level"]  # ended by END, or boxed in (an invalid move replaced by END)
    assert level.count("end") == 1 and level.count("start") == 1 and steps[-1][2]["playable"]
    assert level.meta["report"]["solution"] and isinstance(level.payload, Legs)


def test_carve_invalid_moves_cost_the_penalty() -> None:
    _, with_penalty = carve_episode(3, penalty=0.5)
    _, without = carve_episode(3, penalty=0.0)
    differences = [a[1] - b[1] for a, b in zip(with_penalty, without, strict=True)]
    assert all(d == pytest.approx(0.0) or d == pytest.approx(-0.5) for d in differences)
    assert any(d == pytest.approx(-0.5) for d in differences)


def test_carve_end_on_the_start_is_invalid() -> None:
    env = LevelEnv("relay", "carve", penalty=0.25)
    env.reset(seed=0)
    start = tuple(env.batch.cursor[0])
    _, reward, terminated, _, _ = env.step(END)
    assert (
        not terminated and tuple(env.batch.cursor[0]) != start and env.batch.payloads[0] in [Legs(h) for h in HEADINGS]
    )
    rock = load_rules("relay").tile_index["rock"]
    assert (env.batch.grid[0] != rock).sum() == 2 and reward < 0


# ----- backtrack ----------------------------------------------------------------------------------


def open_cells_form_a_tree(grid: np.ndarray, rock: int) -> bool:
    """Whether the non-rock cells are one region without cycles (cells = neighbouring pairs + 1)."""
    open_ = grid != rock
    pairs = (open_[1:] & open_[:-1]).sum() + (open_[:, 1:] & open_[:, :-1]).sum()
    return bool(pairs == open_.sum() - 1)


def distances_from(grid: np.ndarray, rock: int, start: tuple[int, int]) -> dict[tuple[int, int], int]:
    """Steps from ``start`` to every open cell reachable from it."""
    seen, frontier = {start: 0}, [start]
    while frontier:
        y, x = frontier.pop()
        for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            cell = (y + dy, x + dx)
            if grid[cell] != rock and cell not in seen:
                seen[cell] = seen[(y, x)] + 1
                frontier.append(cell)
    return seen


def backtrack_episode(seed: int, exit_at: int | None, penalty: float = 0.05) -> tuple[LevelEnv, list]:
    """A backtrack episode of random digs, choosing the exit at step ``exit_at`` (never if None)."""
    env = LevelEnv("maze", "backtrack", penalty=penalty)
    obs, _ = env.reset(seed=seed)
    rules, rng, steps = env.rules, np.random.default_rng(seed), []
    rock, start = rules.tile_index["wall"], tuple(env.batch.cursor[0])
    assert (env.batch.grid[0] == rock).sum() == 16 * 16 - 1 and env.batch.grid[0][start] == rules.tile_index["start"]
    for t in range(500):
        action = EXIT if t == exit_at else int(rng.integers(3))
        obs, reward, terminated, truncated, info = env.step(action)
        steps.append((action, reward, obs["cond"][-4:], info))
        assert not truncated
        if terminated:
            return env, steps
        assert (env.batch.grid[0] == rules.tile_index["exit"]).sum() == 0  # the exit is put at the end
        assert open_cells_form_a_tree(env.batch.grid[0], rock)
    raise AssertionError("the episode did not end")


@pytest.mark.parametrize(("seed", "exit_at"), [(0, 6), (1, 15), (2, None)])
def test_backtrack_digs_a_perfect_maze_and_puts_the_exit_where_chosen(seed: int, exit_at: int | None) -> None:
    env, steps = backtrack_episode(seed, exit_at)
    level, rules = steps[-1][3]["level"], env.rules
    rock, grid = rules.tile_index["wall"], level.grid
    assert level.count("start") == 1 and level.count("exit") == 1 and steps[-1][3]["playable"]
    assert open_cells_form_a_tree(grid, rock)
    assert (grid[1:15:2, 1:15:2] != rock).all()  # every lattice cell dug: the maze fills the grid
    start = tuple(np.argwhere(grid == rules.tile_index["start"])[0])
    distance = distances_from(grid, rock, start)
    path = level.meta["report"]["metrics"]["path_length"]
    assert path == distance[tuple(np.argwhere(grid == rules.tile_index["exit"])[0])]
    if exit_at is None:  # the exit goes on the farthest cell
        assert path == max(distance.values())
    lo, hi = level.meta["report"]["targets"]["path_length"]
    off = max(lo - path, 0, path - hi) / PATH_SCALE
    if exit_at is not None:  # the observed way back when the exit was chosen is the level's path
        assert steps[exit_at - 1][2][:3] == pytest.approx([(path - lo) / PATH_SCALE, (path - hi) / PATH_SCALE, 0])
        assert steps[exit_at][2][2:] == pytest.approx([1, off])
    assert all(r <= 0 for _, r, _, _ in steps[:-1]) and steps[-1][1] > 0  # the score arrives with the exit


def test_backtrack_observes_the_way_back_and_penalises_invalid_actions() -> None:
    env = LevelEnv("maze", "backtrack", penalty=0.5, difficulty=0.0)
    obs, _ = env.reset(seed=4)
    lo, hi = env.rules.targets(0.0)["path_length"]
    assert obs["cond"][-4:] == pytest.approx([-lo / PATH_SCALE, -hi / PATH_SCALE, 0, 0])
    _, reward, *_ = env.step(EXIT)  # no exit on the start: replaced by a dig, which costs the penalty
    assert reward == -0.5 and env.batch.rep.exit_cell[0] is None
    obs, reward, *_ = env.step(EXIT)
    assert reward == 0.0 and env.batch.rep.exit_cell[0] == tuple(env.batch.cursor[0])
    assert obs["cond"][-4:] == pytest.approx([(2 - lo) / PATH_SCALE, (2 - hi) / PATH_SCALE, 1, (lo - 2) / PATH_SCALE])
    _, reward, *_ = env.step(EXIT)  # only one exit
    assert reward == -0.5


def test_backtrack_needs_the_walk_mechanic(tmp_path) -> None:
    text = (resources.files("relaygen") / "rulesets" / "dungeon.toml").read_text()
    path = tmp_path / "dungeon.toml"
    path.write_text(re.sub(r"^representations = .*$", 'representations = ["backtrack"]', text, flags=re.M))
    with pytest.raises(RulesError, match=r"dungeon.toml.*representations.*'backtrack'.*'walk'"):
        load_rules(path)


def test_backtrack_digs_behind_the_start_too(tmp_path) -> None:
    text = (resources.files("relaygen") / "rulesets" / "maze.toml").read_text()
    path = tmp_path / "corridor.toml"  # one lattice column: half of it lies behind the start
    path.write_text(text.replace("width = 16", "width = 3").replace("height = 16", "height = 15"))
    for seed in range(6):
        env = LevelEnv(load_rules(path), "backtrack")
        env.reset(seed=seed)
        terminated = False
        while not terminated:
            *_, terminated, _, info = env.step(0)
        assert (info["level"].grid[1:14:2, 1] != env.rules.tile_index["wall"]).all()

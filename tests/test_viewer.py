"""The viewer, headless: key presses drive the one simulator, ratings are saved, screenshots are real."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame
import pytest
from typer.testing import CliRunner

from relaygen.cli import app
from relaygen.env.level_env import LevelEnv
from relaygen.formats import write_levels
from relaygen.level import Level
from relaygen.mechanics.relay import Legs
from relaygen.render import CURSOR, grid_surface, tile_image, to_array
from relaygen.rules import load_rules
from relaygen.viewer import parse_keys, run, screenshot
from relaygen.viewer.hud import ACCENT, GOOD, layout
from relaygen.viewer.hud import line_width as hud_line_width
from relaygen.viewer.hud import window_size as hud_window_size
from relaygen.viewer.play import KEYS, PlaySession, load_entries
from relaygen.viewer.watch import WatchSession, model_policy, open_watch, random_policy

EXAMPLES = Path(__file__).resolve().parents[1] / "levels" / "examples"
MODELS = Path(__file__).resolve().parents[1] / "relaygen" / "models"
MOVE_KEYS = {"u": "up", "d": "down", "l": "left", "r": "right"}


@pytest.fixture
def levels_dir(tmp_path: Path) -> Path:
    for file in EXAMPLES.iterdir():
        shutil.copy(file, tmp_path / file.name)
    return tmp_path


@pytest.fixture
def session(levels_dir: Path) -> PlaySession:
    s = PlaySession.from_path(levels_dir / "sokoban.xsb")
    yield s
    s.close()


def press_all(session: PlaySession, names: list[str]) -> None:
    for name in names:
        assert session.press(name), name


def post_keys(*keys: tuple[int, str]) -> None:
    pygame.display.init()
    for key, text in keys:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, unicode=text, mod=0))


def test_entries_are_keyed_by_file_and_number(levels_dir: Path) -> None:
    entries, ratings = load_entries(levels_dir)
    keys = [e.key for e in entries]
    assert keys == ["dungeon.txt", "maze.txt", "relay.txt", "sokoban.xsb#1", "sokoban.xsb#2", "sokoban.xsb#3"]
    assert ratings == levels_dir / "ratings.json"


def test_push_undo_and_restart(session: PlaySession) -> None:
    start = session.grid().copy()
    assert session.press("left") and session.state.player == (2, 1)
    assert session.press("d")
    assert session.state.player == (2, 2) and session.state.pushes == 0
    assert session.press("right")
    assert session.state.pushes == 1 and session.won
    assert not session.move("l"), "a won level takes no more moves"
    session.press("z")
    assert session.state.player == (2, 2) and not session.won
    press_all(session, ["backspace", "z"])
    assert np.array_equal(session.grid(), start) and not session.history
    press_all(session, ["right", "r"])
    assert np.array_equal(session.grid(), start) and session.state.moves == 0


def test_walls_block_and_only_the_mechanic_moves(levels_dir: Path) -> None:
    session = PlaySession.from_path(levels_dir / "maze.txt")
    assert not session.move("u") and not session.move("l") and session.state.moves == 0
    assert session.move("r") and session.state.player == (1, 2)
    session.close()


def test_dungeon_key_then_door(levels_dir: Path) -> None:
    session = PlaySession.from_path(levels_dir / "dungeon.txt")
    report = session.report(wait=True)
    for move in report.solution:
        session.press(MOVE_KEYS[move])
        if session.level.rules.tiles[session.level.grid[session.state.player]].key:
            assert session.state.has_key
    assert session.won and session.state.moves == report.length
    session.close()


def test_relay_moves_follow_the_legs(levels_dir: Path) -> None:
    session = PlaySession.from_path(levels_dir / "relay.txt")
    assert session.level.payload == Legs("rdrurdr")
    assert not session.move("d"), "down is two legs ahead"
    press_all(session, ["right"] * 3)
    assert session.state.leg == 0
    assert session.press("down") and session.state.leg == 1, "a move in the next leg's direction hands over"
    assert not session.move("r"), "rock to the right"
    press_all(session, ["down", "down", "right"])
    assert session.state.leg == 2 and session.state.player == (4, 5)
    assert session.trail()[0] == (1, 1) and session.trail()[-1] == session.state.player
    session.close()


@pytest.mark.parametrize("game", ["maze", "dungeon", "sokoban", "relay"])
def test_solution_replayed_as_keys_solves_the_level(levels_dir: Path, game: str) -> None:
    file = next(levels_dir.glob(f"{game}.*"))
    session = PlaySession.from_path(file)
    for index in range(len(session.entries)):
        session.goto(index)
        report = session.report(wait=True)
        assert report.verdict == "yes"
        press_all(session, [MOVE_KEYS[m] for m in report.solution.lower()])
        assert session.won, (game, index)
        assert session.state.moves == report.length
    session.close()


def test_solver_animation_plays_pauses_and_stops(session: PlaySession) -> None:
    session.goto(2)
    report = session.report(wait=True)
    session.press("S")
    assert session.animation is not None and session.state.moves == 0
    session.tick(1.0 / session.speed + 1e-6)
    assert session.state.moves == 1
    session.press("space")
    session.tick(10.0)
    assert session.state.moves == 1
    press_all(session, ["space", "+"])
    assert session.speed == 16
    session.tick(3 / 16 + 1e-6)
    assert session.state.moves == 4
    session.press("escape")
    assert session.animation is None and session.running, "Esc stops the playback first"
    session.press("tab")
    session.settle()
    assert session.won and session.by_solver and session.state.moves == report.length
    session.press("escape")
    assert not session.running


def test_level_navigation_clamps(session: PlaySession) -> None:
    press_all(session, ["n", "n", "n"])
    assert session.index == 2
    session.press("home")
    assert session.index == 0
    press_all(session, ["p", "end"])
    assert session.index == 2
    session.press("right")
    session.press("p")
    assert session.index == 1 and session.state.moves == 0


def test_ratings_written_atomically_and_merged(levels_dir: Path) -> None:
    (levels_dir / "ratings.json").write_text(json.dumps({"maze.txt": "reject"}))
    session = PlaySession.from_path(levels_dir)
    session.goto(3)
    session.press("k")
    assert session.index == 4, "rating moves on to the next level"
    session.press("x")
    session.goto(0)
    session.press("k")
    ratings = json.loads((levels_dir / "ratings.json").read_text())
    assert ratings == {"dungeon.txt": "keep", "maze.txt": "reject", "sokoban.xsb#1": "keep", "sokoban.xsb#2": "reject"}
    assert not list(levels_dir.glob(".ratings.json.*")), "no temporary file left behind"
    session.close()


def test_broken_ratings_file_is_named(levels_dir: Path) -> None:
    (levels_dir / "ratings.json").write_text("{oops")
    with pytest.raises(ValueError, match=r"ratings\.json: cannot read the ratings"):
        PlaySession.from_path(levels_dir)


def test_posted_key_events_drive_the_window(session: PlaySession) -> None:
    post_keys((pygame.K_LEFT, ""), (pygame.K_d, "d"), (pygame.K_RIGHT, ""))
    run(session, 24, frames=3)
    assert session.won and session.state.pushes == 1
    post_keys((pygame.K_z, "z"), (pygame.K_s, "S"))
    run(session, 24, frames=2)
    assert session.animation is not None and session.state.moves == 0
    post_keys((pygame.K_ESCAPE, ""), (pygame.K_ESCAPE, ""))
    run(session, 24, frames=5)
    assert not session.running


def test_closing_the_window_quits(session: PlaySession) -> None:
    pygame.display.init()
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    run(session, 24, frames=5)
    assert not session.running


def test_keys_string_is_checked() -> None:
    assert parse_keys("right  right z S", KEYS) == ["right", "right", "z", "S"]
    with pytest.raises(ValueError, match="unknown key name"):
        parse_keys("right jump", KEYS)


@pytest.mark.parametrize("game", ["maze", "dungeon", "sokoban", "relay"])
def test_screenshot_draws_the_level(levels_dir: Path, tmp_path: Path, game: str) -> None:
    session = PlaySession.from_path(next(levels_dir.glob(f"{game}.*")))
    out = screenshot(session, 20, tmp_path / f"{game}.png")
    image = pygame.image.load(str(out))
    assert image.get_size() == session.window_size(20)
    pixels = to_array(image)
    lay = layout(image.get_size(), session.level.grid.shape)
    rules = session.level.rules
    ground = rules.tiles[rules.by_properties[frozenset()]]
    c = lay.cell
    for (y, x), tile in np.ndenumerate(session.grid()):
        expected = to_array(tile_image(rules.tiles[tile], ground, c))
        top, left = lay.board.top + y * c, lay.board.left + x * c
        assert np.array_equal(pixels[top : top + c, left : left + c], expected), (game, y, x)
    assert len(np.unique(pixels[lay.hud.top :].reshape(-1, 3), axis=0)) > 10, "the HUD has text"
    session.close()


def test_screenshot_after_keys_shows_the_solved_level(levels_dir: Path, tmp_path: Path) -> None:
    session = PlaySession.from_path(levels_dir / "sokoban.xsb")
    before = to_array(pygame.image.load(str(screenshot(session, 20, tmp_path / "a.png"))))
    screenshot(session, 20, tmp_path / "b.png", keys="S")
    assert session.won
    after = to_array(pygame.image.load(str(tmp_path / "b.png")))
    assert before.shape == after.shape and not np.array_equal(before, after)
    session.close()


def test_play_command_screenshot_and_errors(levels_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    shot = tmp_path / "shot.png"
    result = runner.invoke(app, ["play", str(levels_dir / "maze.txt"), "--screenshot", str(shot), "--scale", "16"])
    assert result.exit_code == 0, result.output
    assert pygame.image.load(str(shot)).get_width() >= 16 * 16
    result = runner.invoke(app, ["play", str(levels_dir / "nope.txt"), "--screenshot", str(shot)])
    assert result.exit_code == 2 and "no such file" in result.output
    result = runner.invoke(app, ["play", str(levels_dir / "maze.txt"), "--screenshot", str(shot), "--keys", "fly"])
    assert result.exit_code == 2 and "unknown key name" in result.output


def test_rendering_a_level_file_round_trip(tmp_path: Path) -> None:
    rules = load_rules("sokoban")
    write_levels([Level.from_rows(rules, ["#####", "#@$.#", "#####"], name="tiny")], tmp_path / "tiny.json")
    session = PlaySession.from_path(tmp_path)
    assert session.entries[0].key == "tiny.json" and session.level.name == "tiny"
    session.press("right")
    assert session.won
    session.close()


# ----- watch ---------------------------------------------------------------------------------------


def watch_session(rules: str = "maze", representation: str = "narrow", seed: int = 0) -> WatchSession:
    env = LevelEnv(rules=rules, representation=representation, difficulty=0.5)
    return WatchSession(env, random_policy(env, seed), seed=seed)


def test_watch_animates_an_episode_and_plays_its_level() -> None:
    session = open_watch("sokoban", None, None, 0.5, 0)  # the shipped model: its level can be played
    session.tick(1.5 / session.speed)
    assert session.steps == 1
    session.press("space")
    session.tick(10.0)
    assert session.steps == 1
    session.press(".")
    assert session.steps == 2
    session.press("f")
    level = session.level
    assert level is not None and np.array_equal(level.grid, session.grid)
    assert level.meta["report"]["verdict"] == session.info["verdict"]
    session.press("p")
    assert session.playing is not None and session.playing.level is level
    assert session.press("right") is True
    session.press("escape")
    assert session.playing is None and session.running
    session.press("g")
    assert session.episode == 2 and session.steps == 0 and session.level is None
    session.press("escape")
    assert not session.running
    session.close()


def test_posted_key_events_drive_the_watch_window() -> None:
    session = watch_session()
    post_keys((pygame.K_SPACE, " "), (pygame.K_PERIOD, "."), (pygame.K_PERIOD, "."), (pygame.K_h, "h"))
    run(session, 24, frames=1)
    assert session.paused and session.steps == 2 and session.show_help
    post_keys((pygame.K_g, "g"))
    run(session, 24, frames=1)
    assert session.episode == 2 and session.steps == 0 and not session.show_help
    post_keys((pygame.K_f, "f"), (pygame.K_ESCAPE, ""))
    run(session, 24, frames=5)
    assert session.level is not None and not session.running
    session.close()


def test_watch_is_deterministic_per_seed() -> None:
    first, second = watch_session("relay", "carve", seed=3), watch_session("relay", "carve", seed=3)
    first.finish()
    second.finish()
    assert np.array_equal(first.level.grid, second.level.grid) and first.level.payload == second.level.payload
    first.close()
    second.close()


def test_watch_screenshot_shows_cursor_then_verdict(tmp_path: Path) -> None:
    session = watch_session("sokoban", "turtle")
    image = to_array(pygame.image.load(str(screenshot(session, 20, tmp_path / "a.png"))))
    lay = layout(session.window_size(20), session.grid.shape)
    y, x = (int(v) for v in session.batch.cursor[0])
    top, left = lay.board.top + y * lay.cell, lay.board.left + x * lay.cell
    assert (image[top : top + lay.cell, left : left + lay.cell] == CURSOR).all(axis=2).any()
    done = to_array(pygame.image.load(str(screenshot(session, 20, tmp_path / "b.png", keys="f"))))
    assert session.level is not None and not np.array_equal(image, done)
    session.close()


def test_watch_command_with_a_model(tmp_path: Path) -> None:
    from relaygen.agent.model import build_model, save_model

    rules = load_rules("maze")
    env = LevelEnv(rules=rules, representation="turtle", observe_budget=True)  # trained options the watcher must use
    meta = {
        "rules": "maze",
        "rules_digest": rules.digest,
        "rules_toml": rules.to_toml(),
        "representation": "turtle",
        "config": {"rules": "maze", "observe_budget": True, "change_limit": 0.3, "vary_counts": True},
    }
    path = save_model(tmp_path / "model.pt", build_model(env, 4, 8), meta)
    policy, loaded = model_policy(path, seed=1)
    obs, _ = env.reset(seed=0)
    assert loaded.representation == "turtle" and env.action_space.contains(policy(obs))
    expected = {
        "difficulty": 0.5,
        "change_limit": 0.3,
        "observe_budget": True,
        "observe_metrics": False,
        "vary_counts": False,
        "search_at_end": False,
        "blind": False,
        "privileged_critic": False,
    }
    assert loaded.env_options(difficulty=0.5) == expected
    shot = tmp_path / "w.png"
    result = CliRunner().invoke(app, ["watch", "maze", "--model", str(path), "--screenshot", str(shot), "--keys", "f"])
    assert result.exit_code == 0, result.output
    assert pygame.image.load(str(shot)).get_size() == hud_window_size((16, 16), 40)
    result = CliRunner().invoke(app, ["watch", "dungeon", "--model", str(path), "--screenshot", str(shot)])
    assert result.exit_code == 2 and "trained for rules 'maze'" in result.output


def test_watch_defaults_to_the_shipped_model_of_a_built_in(tmp_path: Path) -> None:
    assert open_watch("sokoban", None, None, 0.5, 0).label == "model sokoban.pt"
    turtle = open_watch("sokoban", None, "turtle", 0.5, 0)
    assert turtle.label == "random policy (the shipped model does not fit)", "the shipped one edits wide"
    assert open_watch("sokoban", "random", None, 0.5, 0).label == "random policy"
    own = tmp_path / "boxes.toml"
    own.write_text(load_rules("sokoban").model_copy(update={"name": "boxes"}).to_toml())
    assert open_watch(own, None, None, 0.5, 0).label == "random policy", "no shipped model for new rules"
    with pytest.raises(ValueError, match="edits with 'wide', not 'turtle'"):
        open_watch("sokoban", str(MODELS / "sokoban.pt"), "turtle", 0.5, 0)


def watch_cli(*args: object) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}
    command = [sys.executable, "-m", "relaygen", "watch", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=env)


@pytest.mark.parametrize(("keys", "playing"), [((), False), (("--keys", "p"), True)])
def test_watch_command_shows_the_shipped_model_finished_level(tmp_path: Path, keys: tuple, playing: bool) -> None:
    done = watch_cli("sokoban", "--screenshot", tmp_path / "shot.png", "--scale", 20, *keys)
    assert done.returncode == 0, done.stderr
    session = open_watch("sokoban", None, None, 0.5, 0)
    expected = screenshot(session, 20, tmp_path / "expected.png", "p" if playing else "f")
    assert session.level is not None and (session.playing is not None) == playing and not session.problem
    assert session.level.meta["report"]["playable"], "the shipped model's level can be played"
    shot = to_array(pygame.image.load(str(tmp_path / "shot.png")))
    assert np.array_equal(shot, to_array(pygame.image.load(str(expected))))
    first = to_array(
        pygame.image.load(str(screenshot(open_watch("sokoban", None, None, 0.5, 0), 20, tmp_path / "0.png")))
    )
    assert not np.array_equal(shot, first), "not the episode's first step"
    session.close()


def test_watch_says_why_a_level_cannot_be_played() -> None:
    session = watch_session("sokoban", "narrow")
    session.press("p")
    assert session.playing is None and "needs exactly one player tile" in session.problem
    session.press("g")
    assert not session.problem
    session.close()


@pytest.mark.parametrize("scale", [8, 40])
def test_the_solved_banner_leaves_a_small_board_uncovered(levels_dir: Path, tmp_path: Path, scale: int) -> None:
    session = PlaySession.from_path(levels_dir / "sokoban.xsb")
    frame = to_array(pygame.image.load(str(screenshot(session, scale, tmp_path / "won.png", keys="S"))))
    assert session.won
    lay = layout(session.window_size(scale), session.level.grid.shape)
    board = to_array(grid_surface(session.level.rules, session.grid(), cell_size=lay.cell))
    shown = frame[lay.board.top : lay.board.bottom, lay.board.left : lay.board.right]
    assert np.array_equal(shown, board), "every cell of the board shows, its centre too"
    band = frame[lay.banner.top : lay.banner.bottom]
    assert (band == ACCENT).all(axis=2).sum() > 50, "'solved!' is written in the banner band"
    assert lay.banner.bottom <= lay.board.top and lay.board.bottom <= lay.hud.top
    session.close()


def test_the_playable_banner_leaves_the_watched_board_uncovered(tmp_path: Path) -> None:
    session = open_watch("sokoban", None, None, 0.5, 0)
    frame = to_array(pygame.image.load(str(screenshot(session, 20, tmp_path / "done.png", keys="f"))))
    lay = layout(session.window_size(20), session.grid.shape)
    board = to_array(
        grid_surface(session.rules, session.grid, cell_size=lay.cell, highlight=session.grid != session.start)
    )
    assert np.array_equal(frame[lay.board.top : lay.board.bottom, lay.board.left : lay.board.right], board)
    assert (frame[lay.banner.top : lay.banner.bottom] == GOOD).all(axis=2).sum() > 50, "'playable!' in the band"
    session.close()


def hud_text(line: list[tuple[str, tuple[int, int, int]]]) -> str:
    return "".join(text for text, _ in line)


def test_the_hud_says_what_keep_and_reject_do(levels_dir: Path) -> None:
    session = PlaySession.from_path(levels_dir)
    assert "K keep · X reject, then next" in hud_text(session._right_lines()[1])
    session.press("k")
    assert session.index == 1 and hud_text(session._right_lines()[1]) == "dungeon.txt kept · now 2/6   H: keys"
    session.press("end")
    session.press("x")
    assert hud_text(session._right_lines()[1]).startswith("REJECT   sokoban.xsb#3 rejected · the last level")
    session.goto(3)
    press_all(session, ["left", "down"])  # moves and pushes on the left, the longest right line: no overlap
    size = session.window_size(8)
    lay = layout(size, session.level.grid.shape)
    left, right = session._left_lines()[1], session._right_lines()[1]
    assert hud_line_width(left, lay.font_size) + hud_line_width(right, lay.font_size) + 4 * lay.font_size < size[0]
    session.close()


def test_watch_falls_back_to_a_random_policy_when_the_shipped_model_does_not_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from relaygen.viewer import watch

    monkeypatch.setattr(watch, "shipped_model", lambda rules: MODELS / "relay.pt")  # a model of other rules
    assert open_watch("sokoban", None, None, 0.5, 0).label == "random policy (the shipped model does not fit)"
    with pytest.raises(ValueError, match=r"trained for rules 'relay'\) does not fit rules 'sokoban'"):
        open_watch("sokoban", str(MODELS / "relay.pt"), None, 0.5, 0)
    with pytest.raises(ValueError, match=r"trained for rules 'dungeon'\) does not fit rules 'maze': "):
        open_watch("maze", str(MODELS / "dungeon.pt"), None, 0.5, 0)

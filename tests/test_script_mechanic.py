"""The script mechanic: a PuzzleScript game as relaygen rules, playtested by the script solver, and the
shipped Sokoban written as a PuzzleScript game agreeing with the push mechanic."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from relaygen.formats import read_levels
from relaygen.level import Level
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.base import Budget, replay
from relaygen.playtest import playtest
from relaygen.rules import RulesError, load_rules, parse_rules
from relaygen.script import load_game

SOKOBAN_TXT = Path(str(resources.files("relaygen") / "rulesets" / "sokoban.txt"))
ROOT = Path(__file__).parent.parent


@pytest.fixture
def coins(data_dir: Path, tmp_path: Path) -> Path:
    """A designer's own game (tests/data/coins.txt), copied where a test may write beside it."""
    return Path(shutil.copy(data_dir / "coins.txt", tmp_path / "coins.txt"))


def test_a_puzzlescript_file_is_read_as_the_rules_it_implies(coins: Path) -> None:
    rules = load_rules(coins)
    assert rules.mechanic == "script" and rules.script == "coins.txt" and rules.folder == coins.parent
    assert [t.char for t in rules.tiles] == [".", "#", "p", "c"], "the glyphs its levels use, floor first"
    assert (rules.width, rules.height) == (7, 5)
    coin = next(c for c in rules.constraints if c.tiles == ["coin"])
    assert (coin.min, coin.max) == (1, 2), "the coin count ranges over the game's own levels"


def test_the_playtest_solves_each_level_and_its_solution_wins_in_the_engine(coins: Path) -> None:
    levels = read_levels(coins)
    assert [lv.meta["script_level"] for lv in levels] == [1, 2], "LEVELS entries counted with the message"
    game = load_game(coins.read_text())
    first, second = (playtest(lv) for lv in levels)
    assert first.solvable == "yes" and first.length == 7 and first.metrics["solution_length"] == 7
    state = game.start(1)
    for move in first.solution:
        assert not state.won
        state = state.move(move)
    assert state.won
    assert second.solvable == "no" and second.solution is None, "the coin is walled off"


def test_an_exhausted_budget_is_unknown_never_no(coins: Path) -> None:
    level = read_levels(coins)[1]
    report = playtest(level, budget=Budget(max_nodes=2))
    assert report.solvable == "unknown" and report.metrics["solver_nodes"] == 2


def test_the_viewer_protocol_plays_a_script_level(coins: Path) -> None:
    level = read_levels(coins)[0]
    mechanic = get_mechanic(level.rules.mechanic)
    states = replay(mechanic, level, playtest(level).solution)
    assert states[-1].won and mechanic.step(level, states[-1], "r") is None
    assert mechanic.step(level, states[0], "u") is None, "walking into a wall changes nothing"
    drawn = mechanic.draw(level, states[-1])
    chars = {t.char: i for i, t in enumerate(level.rules.tiles)}
    assert (drawn == chars["c"]).sum() == 0 and (drawn == chars["p"]).sum() == 1


def test_a_rules_file_names_its_script_and_the_digest_follows_the_game(coins: Path) -> None:
    toml = load_rules(coins).to_toml()
    path = coins.parent / "mine.toml"
    path.write_text(toml)
    rules = load_rules(path)
    assert rules.script == "coins.txt" and playtest(read_levels(coins, rules)[0]).playable
    before = rules.digest
    coins.write_text(coins.read_text().replace("#ffd000", "#ffd001"))
    assert load_rules(path).digest != before, "the game's source is part of the rules"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace('script = "coins.txt"\n', ""), "script: mechanic 'script' needs the PuzzleScript"),
        (lambda t: t.replace('"coins.txt"', '"gone.txt"'), "gone.txt: cannot read"),
        (lambda t: t.replace('char = "c"', 'char = "z"'), "tiles: ['z'] are not glyphs of the game's legend"),
        (lambda t: t.replace('mechanic = "script"', 'mechanic = "walk"'), "script: only mechanic 'script' reads it"),
    ],
)
def test_a_bad_script_rules_file_names_the_file_and_the_field(coins: Path, change, message: str) -> None:
    path = coins.parent / "bad.toml"
    path.write_text(change(load_rules(coins).to_toml()))
    with pytest.raises(RulesError, match=re.escape(f"{path}: ") + ".*" + re.escape(message)):
        load_rules(path)


def test_a_broken_game_is_one_clear_error_with_its_line(coins: Path) -> None:
    coins.write_text(
        coins.read_text().replace("late [ Player Coin ] -> [ Player ]", "late [ Player Coin ] -> [ Plyer ]")
    )
    with pytest.raises(RulesError, match=re.escape(f"{coins}: line ") + r"\d+: "):
        load_rules(coins)
    done = subprocess.run(
        [sys.executable, "-m", "relaygen", "playtest", str(coins)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr and "line " in done.stderr


def test_playtest_cli_answers_for_the_games_own_levels(coins: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "relaygen", "playtest", str(coins)], capture_output=True, text=True, timeout=120
    )
    assert "solvable: yes, 7 moves" in done.stdout and "solvable: no" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 1, "one of the game's levels cannot be solved"


SOKOBAN_CASES = [
    *(lv for lv in read_levels(ROOT / "levels" / "examples" / "sokoban.xsb")),
    Level.from_rows(load_rules("sokoban").resized(6, 5), ["######", "#@$-.#", "#--#-#", "#-$.##", "######"]),
    Level.from_rows(load_rules("sokoban").resized(6, 4), ["######", "#@-$.#", "#-$-.#", "######"]),
]


@pytest.mark.parametrize("level", SOKOBAN_CASES, ids=lambda lv: lv.name or "room")
def test_the_script_sokoban_agrees_with_the_push_mechanic(level: Level) -> None:
    script_rules = load_rules(SOKOBAN_TXT)
    scripted = Level.from_rows(script_rules, level.rows())  # the script's legend is XSB's, as relaygen's sokoban
    by_script, by_push = playtest(scripted), playtest(level)
    assert by_script.solvable == by_push.solvable != "unknown"
    if by_push.solution:
        for mover, solution in ((level, by_script.solution), (scripted, by_push.solution.lower())):
            mechanic = get_mechanic(mover.rules.mechanic)
            states = replay(mechanic, mover, solution)
            assert len(states) == len(solution) + 1 and states[-1].won, "each solution wins in the other"
        assert by_script.length <= by_push.length, "breadth-first search finds a shortest solution"


def test_rules_import_writes_rules_with_targets_from_the_games_levels(coins: Path) -> None:
    out = coins.parent / "rules" / "coins.toml"
    out.parent.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "relaygen", "rules", "import", str(coins), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rules = parse_rules(out.read_text(), str(out), out.parent)
    assert rules.script == "../coins.txt"
    assert rules.difficulty is not None and rules.difficulty.metric == "solution_length"
    assert rules.difficulty.hard == (7, 8), "the knob's hard end: the solved level's solution length"
    again = subprocess.run(
        [sys.executable, "-m", "relaygen", "rules", "import", str(coins), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 2 and "--overwrite" in again.stderr


def test_script_levels_are_drawn_with_the_games_own_sprites(coins: Path) -> None:
    from relaygen.render import render_level

    level = read_levels(coins)[0]
    cell = 20
    image = render_level(level, cell_size=cell)
    y, x = 1, 4  # the coin: a plus of #ffd000 on the #202020 background
    centre = image[y * cell + cell // 2, x * cell + cell // 2]
    corner = image[y * cell + 1, x * cell + 1]
    assert tuple(centre) == (0xFF, 0xD0, 0x00) and tuple(corner) == (0x20, 0x20, 0x20)
    assert tuple(image[1, 1]) == (0x80, 0x80, 0x80), "a wall without a sprite is a block of its colour"


def test_the_viewer_plays_a_script_game_and_replays_the_solvers_solution(coins: Path) -> None:
    from relaygen.viewer.play import PlaySession

    session = PlaySession.from_path(coins)
    assert session.move("d") and not session.move("l"), "the wall to the left stops the player"
    session.solve()
    session.settle()
    assert session.won and session.by_solver and len(session.history) == 7
    session.close()


def test_a_script_level_file_carries_its_game_and_plays_where_the_game_file_is_not(coins: Path, tmp_path: Path) -> None:
    from relaygen.formats import write_levels

    level = read_levels(coins)[0]
    (tmp_path / "elsewhere").mkdir()
    path = write_levels([level], tmp_path / "elsewhere" / "level.json")
    coins.unlink()
    (back,) = read_levels(path)
    assert back.rules.digest == level.rules.digest and playtest(back).solvable == "yes"


def test_a_collection_of_script_levels_is_the_game_with_its_levels_replaced(coins: Path, tmp_path: Path) -> None:
    from relaygen.formats import write_levels

    levels = read_levels(coins)
    mine = Level.from_rows(levels[0].rules, ["#######", "#p.c.c#", "#######"])
    path = write_levels([mine, levels[0]], tmp_path / "mine.txt")
    text = path.read_text()
    assert text.startswith(coins.read_text().split("=======\nLEVELS")[0]), "the game itself, unchanged"
    game = load_game(text)
    assert [lv.glyph_rows for lv in game.levels] == [tuple(mine.rows()), tuple(levels[0].rows())]
    back = read_levels(path)
    assert [b.rows() for b in back] == [mine.rows(), levels[0].rows()]
    assert playtest(back[0]).solution == "rrrr"


def test_a_runs_game_file_is_not_read_as_more_levels(coins: Path, tmp_path: Path) -> None:
    from relaygen.formats import level_files, write_levels

    run = tmp_path / "run"
    run.mkdir()
    level = read_levels(coins)[0]
    write_levels([level], run / "coins-0000.json")
    write_levels([level], run / "game.txt")
    assert [p.name for p in level_files(run)] == ["coins-0000.json"]


def test_random_maps_of_an_imported_game_draw_its_glyphs_as_often_as_its_levels_do(coins: Path) -> None:
    rules = load_rules(coins)
    weights = {t.char: t.weight for t in rules.tiles}
    assert rules.border == "wall", "random maps draw the cells inside the border the levels have"
    cells = "".join(row[1:-1] for lv in read_levels(coins) for row in lv.rows()[1:-1])
    assert weights == pytest.approx({ch: cells.count(ch) / len(cells) for ch in weights}, abs=1e-3)


def test_a_game_with_an_unsupported_feature_is_refused_in_one_line(coins: Path) -> None:
    text = coins.read_text().replace(
        "late [ Player Coin ] -> [ Player ]", "late [ Player Coin ] -> [ Player ]\nrandom [ Coin ] -> [ Coin ]"
    )
    coins.write_text(text)
    line = text.splitlines().index("random [ Coin ] -> [ Coin ]") + 1
    for command in (
        ["playtest", str(coins)],
        ["rules", "show", str(coins)],
        ["play", str(coins), "--screenshot", "x.png"],
    ):
        done = subprocess.run([sys.executable, "-m", "relaygen", *command], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert done.stderr.strip().splitlines() == [
            f"error: {coins}: line {line}: unsupported feature 'random' (relaygen cannot simulate it exactly)"
        ]


@pytest.mark.slow
def test_a_designers_own_game_trains_and_generates_checked_levels(coins: Path, tmp_path: Path) -> None:
    from relaygen.agent.config import TrainConfig
    from relaygen.agent.trainer import train
    from relaygen.files import file_digest
    from relaygen.generate import generate

    config = TrainConfig(
        rules=str(coins), total_steps=96, workers=1, envs_per_worker=4, t_max=8, runs_dir=str(tmp_path)
    )
    folder = train(config.replace(progress=False))
    model = folder / "model.pt"
    levels = generate(coins, 2, model=str(model), seed=1, repair=30)
    assert len(levels) == 2 and len({lv.digest() for lv in levels}) == 2
    own = {tuple(lv.rows()) for lv in read_levels(coins)}
    game = load_game(coins.read_text())
    for level in levels:
        assert level.meta["model_digest"] == file_digest(model) and tuple(level.rows()) not in own
        state = game.state_from_cells([[game.glyphs[ch] for ch in row] for row in level.rows()])
        for move in level.meta["report"]["solution"]:
            state = state.move(move)
        assert state.won, "the recorded solution wins in the engine"


def test_glyphs_of_the_same_objects_name_their_own_tiles_in_the_count_ranges(coins: Path) -> None:
    text = coins.read_text().replace("c = Coin\n", "c = Coin\nk = Coin\n").replace("#c....#", "#c...k#")
    coins.write_text(text)
    rules = load_rules(coins)
    names = {t.char: t.name for t in rules.tiles}
    assert names["c"] != names["k"]
    ranges = {c.tiles[0]: (c.min, c.max) for c in rules.constraints}
    assert ranges[names["c"]] == (1, 2) and ranges[names["k"]] == (0, 1)

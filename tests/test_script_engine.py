"""relaygen.script on small hand-written games, one PuzzleScript feature at a time."""

from __future__ import annotations

import numpy as np
import pytest

from relaygen.script import ScriptError, load_game
from relaygen.script.board import unpack
from relaygen.script.engine import conditions_met
from relaygen.script.match import pattern_map
from relaygen.script.session import Session


def make(rules: str = "", level: str = "P.*.O", win: str = "", prelude: str = "", legend: str = "",
         objects: str = "", layers: str = "") -> str:  # fmt: skip
    """A small Sokoban-like game: P player, * crate, O target, # wall, a/b/c/d markers."""
    return f"""title test
{prelude}
========
OBJECTS
========
Background
black
Target
yellow
Wall
brown
Player
pink
Crate
red
MarkA
blue
MarkB
green
MarkC
white
MarkD
purple
{objects}
=======
LEGEND
=======
. = Background
# = Wall
P = Player
* = Crate
O = Target
a = MarkA
b = MarkB
@ = Crate and Target
{legend}
=======
SOUNDS
=======
================
COLLISIONLAYERS
================
Background
Target
Player, Wall, Crate
MarkA, MarkB, MarkC, MarkD
{layers}
======
RULES
======
{rules}
==============
WINCONDITIONS
==============
{win}
=======
LEVELS
=======
{level}
"""


PUSH = "[ > Player | Crate ] -> [ > Player | > Crate ]"


def row(state, y: int = 0) -> str:
    """One row of a state as glyphs: P * O # @ a b c d, '.' for background only."""
    out = []
    for x in range(state.width):
        names = state.objects(y, x) - {"background"}
        glyph = {
            frozenset({"player"}): "P", frozenset({"crate"}): "*", frozenset({"target"}): "O",
            frozenset({"wall"}): "#", frozenset({"crate", "target"}): "@", frozenset(): ".",
            frozenset({"marka"}): "a", frozenset({"markb"}): "b", frozenset({"markc"}): "c",
            frozenset({"markd"}): "d", frozenset({"player", "target"}): "p",
        }  # fmt: skip
        out.append(glyph.get(frozenset(names), "?"))
    return "".join(out)


def test_push_moves_player_and_crate_and_keeps_old_state() -> None:
    start = load_game(make(PUSH)).start(0)
    after = start.move("r")
    assert row(start) == "P.*.O"
    assert row(after.move("r")) == "..P*O"
    assert (start.height, start.width) == (1, 5)


def test_wall_blocks_the_push_and_the_player() -> None:
    state = load_game(make(PUSH, level="P*#")).start(0)
    assert row(state.move("r")) == "P*#"


def test_movement_resolves_a_chain_front_first() -> None:
    rules = PUSH + "\n[ > Crate | Crate ] -> [ > Crate | > Crate ]"
    assert row(load_game(make(rules, level="P**..")).start(0).move("r")) == ".P**."


def test_ellipsis_reaches_across_empty_cells() -> None:
    rules = "[ > Player | ... | Crate ] -> [ > Player | ... | > Crate ]"
    assert row(load_game(make(rules, level="P...*.")).start(0).move("r")) == ".P...*"


def test_late_rules_see_the_board_after_movement() -> None:
    rules = PUSH + "\nlate [ Crate Target ] -> [ Wall Target ]"
    state = load_game(make(rules, level="P*O")).start(0).move("r")
    assert state.objects(0, 2) == {"background", "wall", "target"}


def test_rule_group_loops_until_no_member_applies() -> None:
    grouped = "[ MarkC ] -> [ MarkD ]\n+ [ MarkB ] -> [ MarkC ]"
    separate = "[ MarkC ] -> [ MarkD ]\n[ MarkB ] -> [ MarkC ]"
    assert row(load_game(make(grouped, level="b")).start(0).tick()) == "d"
    assert row(load_game(make(separate, level="b")).start(0).tick()) == "c"


def test_startloop_endloop_repeats_the_rules_between() -> None:
    looped = "startloop\n[ MarkC ] -> [ MarkD ]\n[ MarkB ] -> [ MarkC ]\nendloop"
    assert row(load_game(make(looped, level="b")).start(0).tick()) == "d"


def test_again_runs_further_turns_in_one_move() -> None:
    fall = "down [ stationary Crate | no Wall ] -> [ down Crate | ]"
    level = "*P\n..\n..\n.."
    without = load_game(make(fall, level=level)).start(0).tick()
    with_again = load_game(make(fall + " again", level=level)).start(0).tick()
    assert row(without, 1)[0] == "*"
    assert row(with_again, 3)[0] == "*"


def test_cancel_undoes_the_whole_turn() -> None:
    state = load_game(make("[ right Player ] -> cancel", level=".P.")).start(0)
    assert row(state.move("r")) == ".P."
    assert row(state.move("l")) == "P.."


def test_restart_command_returns_to_the_level_start() -> None:
    state = load_game(make("late [ Player Target ] -> restart", level="P.O", win="some Player on Target")).start(0)
    assert row(state.move("r")) == ".PO"
    restarted = state.move("r").move("r")
    assert row(restarted) == "P.O"
    assert not restarted.won  # the win conditions are checked on the level restarted, not on the turn's result


def test_win_command_and_win_conditions() -> None:
    by_command = load_game(make("late [ Player Target ] -> win", level="P.O")).start(0)
    assert not by_command.move("r").won and by_command.move("r").move("r").won
    by_condition = load_game(make(PUSH, level="P*O", win="all Crate on Target")).start(0)
    assert not by_condition.won and by_condition.move("r").won


@pytest.mark.parametrize(
    ("win", "level", "won"),
    [
        ("all Crate on Target", "P*O", False),
        ("all Crate on Target", "P.@", True),
        ("some Crate on Target", "P*@", True),
        ("any Crate", "P..", False),
        ("no Crate", "P..", True),
        ("no Crate on Target", "P*@", False),
        ("some Target\nno Crate", "P.O", True),
    ],
)
def test_win_condition_forms(win: str, level: str, won: bool) -> None:
    state = load_game(make("", level=level, win=win)).start(0)
    assert state.move("l").won is won


def test_checkpoint_becomes_the_restart_point() -> None:
    state = load_game(make("late [ Player Target ] -> checkpoint", level="PO..")).start(0)
    moved = state.move("r").move("r").move("r")
    assert row(moved) == ".O.P"
    assert row(moved.restart()) == ".p.."
    assert row(state.move("r").restart()) == ".p.."
    assert row(state.restart()) == "PO.."


def test_relative_directions_turn_with_the_rule() -> None:
    rules = "[ > Player | Crate ] -> [ > Player | ^ Crate ]"
    level = "...\nP*.\n..."
    assert row(load_game(make(rules, level=level)).start(0).move("r"), 0) == ".*."
    assert row(load_game(make(rules, level="P*.\n...")).start(0).move("r"), 0) == "P*."


@pytest.mark.parametrize(
    ("word", "moves", "pushes"),
    [("horizontal", "r", True), ("horizontal", "d", False), ("vertical", "d", True), ("moving", "x", True),
     ("orthogonal", "u", True), ("parallel", "r", True), ("perpendicular", "r", False), ("action", "x", True)],
)  # fmt: skip
def test_movement_words(word: str, moves: str, pushes: bool) -> None:
    rules = f"[ {word} Player ] [ MarkA ] -> [ {word} Player ] [ MarkB ]"
    if word in ("parallel", "perpendicular"):
        rules = f"right [ {word} Player | ] [ MarkA ] -> [ {word} Player | ] [ MarkB ]"
    state = load_game(make(rules, level=".....\n..P..\n....a")).start(0).move(moves)
    assert (row(state, 2)[-1] == "b") is pushes


def test_stationary_and_no() -> None:
    rules = "[ stationary Crate ] [ Player no Target ] -> [ Crate ] [ Player MarkA ]"
    state = load_game(make(rules, level="P.*", layers="")).start(0)
    assert state.tick().objects(0, 0) == {"background", "player", "marka"}


def test_several_players_all_move() -> None:
    state = load_game(make("", level="P..\n...\nP..")).start(0).move("r")
    assert row(state, 0) == ".P." and row(state, 2) == ".P."


def test_properties_and_aggregates() -> None:
    legend = "Mark = MarkA or MarkB"
    rules = "[ > Player | Mark ] -> [ > Player | > Mark ]"
    state = load_game(make(rules, level="Pa.", legend=legend)).start(0).move("r")
    assert row(state) == ".Pa"
    assert load_game(make("", level="@")).start(0).objects(0, 0) == {"background", "crate", "target"}


def test_run_rules_on_level_start() -> None:
    source = make("[ Crate ] -> [ Wall ]", level="P*", prelude="run_rules_on_level_start")
    assert row(load_game(source).start(0)) == "P#"
    assert row(load_game(make("[ Crate ] -> [ Wall ]", level="P*")).start(0)) == "P*"


def test_require_player_movement_cancels_turns_where_no_player_moved() -> None:
    rules = "[ Crate ] -> [ Target ]"
    blocked = load_game(make(rules, level="P#*", prelude="require_player_movement")).start(0)
    assert row(blocked.move("r")) == "P#*"
    assert row(load_game(make(rules, level="P#*")).start(0).move("r")) == "P#O"
    free = load_game(make(rules, level=".P*", prelude="require_player_movement")).start(0)
    assert row(free.move("l")) == "P.O"


def test_noaction_ignores_the_action_key() -> None:
    rules = "[ action Player ] -> [ Crate ]"
    assert row(load_game(make(rules, level="P")).start(0).move("x")) == "*"
    assert row(load_game(make(rules, level="P", prelude="noaction")).start(0).move("x")) == "P"


def test_levels_count_messages_and_state_helpers() -> None:
    game = load_game(make("", level="message hello (world)\n\nP.\n\nmessage bye\n\n.P"))
    assert [lv.message for lv in game.levels] == ["hello (world)", None, "bye", None]
    assert row(game.start(3)) == ".P"
    with pytest.raises(ScriptError):
        game.start(0)
    state = game.start(1)
    again = game.state_from_cells([[{"player"}, set()]])
    assert again == state and again.key == state.key and hash(again) == hash(state)
    assert state.cells() == [[frozenset({"background", "player"}), frozenset({"background"})]]
    assert game.level_objects(1) == state.cells()


def test_game_describes_itself_for_a_renderer() -> None:
    game = load_game(make(PUSH, objects="Gem\n#ff0 transparent\n.0.0.\n01110\n.....\n.....\n.....", layers="Gem"))
    assert game.colors["crate"] == ["#be2633"] and game.colors["gem"] == ["#ffff00", "transparent"]
    assert game.sprites["gem"][1] == (0, 1, 1, 1, 0) and game.sprites["crate"][0] == (0,) * 5
    assert game.glyphs["@"] == ("crate", "target") and game.player_objects == ("player",)
    assert game.layers[2] == ("player", "wall", "crate") and game.object_names[0] == "background"
    assert game.win_conditions == ()
    assert isinstance(game.start(0).grid, np.ndarray) and not game.start(0).grid.flags.writeable


def test_move_rejects_unknown_inputs() -> None:
    with pytest.raises(ValueError, match="unknown input"):
        load_game(make()).start(0).move("q")


def test_win_check_and_pattern_maps_take_a_batch_of_states() -> None:
    game = load_game(make(PUSH, level="P*O", win="all Crate on Target"))
    batch = np.stack([game.start(0).grid, game.start(0).move("r").grid])
    assert conditions_met(game.tables, batch).tolist() == [False, True]
    crate_bit = 1 << game.object_names.index("crate")
    tests = [t for run in game.tables.groups[0] for row in run.rows for t in row]
    crate = next(t for t in tests if t.pattern.obj_all == crate_bit)
    maps = pattern_map(crate, batch, np.zeros((2, game.tables.mov_words, 1, 3), dtype=np.uint64))
    assert maps.tolist() == [[[False, True, False]], [[False, False, True]]]


def test_session_undo_restart_and_levels_as_puzzlescript_runs_its_tests() -> None:
    game = load_game(make(PUSH, level="P.*.O\n\nP*O\n\nmessage done\n\n.P", win="all Crate on Target"))
    session = Session(game, 0)
    for value in (3, 3, "undo"):
        session.input(value)
    assert row(game.state_from_masks(unpack(session.grid))) == ".P*.O"
    session.input("restart")
    assert row(game.state_from_masks(unpack(session.grid))) == "P.*.O"
    session.input("undo")
    assert row(game.state_from_masks(unpack(session.grid))) == ".P*.O"
    for value in (3, 3):
        session.input(value)
    assert session.index == 1 and not session.text_mode
    session.input(3)
    assert session.index == 2 and session.text_mode
    assert session.serialise() == "background:0,background player:1,background crate target:2,\n"

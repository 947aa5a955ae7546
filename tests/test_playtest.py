"""Playtesters: verdicts, solutions that replay through the one simulator, metrics and scores."""

from __future__ import annotations

from pathlib import Path

import pytest

from relaygen.formats import read_levels
from relaygen.level import Level
from relaygen.mechanics import Budget, get_mechanic
from relaygen.mechanics.relay import Legs, interest, legs_of, run_target
from relaygen.playtest import playtest
from relaygen.rules import load_rules


def level(rules: str, *rows: str, legs: str = "") -> Level:
    return Level.from_rows(load_rules(rules), list(rows), payload=Legs(legs) if legs else None)


def replay(lv: Level, solution: str):
    """Play ``solution`` through the mechanic's simulator; fail on a refused move."""
    mechanic = get_mechanic(lv.rules.mechanic)
    state = mechanic.start(lv)
    for i, move in enumerate(solution):
        nxt = mechanic.step(lv, state, move.lower())
        assert nxt is not None, f"move {i} ({move}) refused"
        state = nxt
    return state


MAZE = ("########", "#S.....#", "####.#.#", "#E...#.#", "########")


def test_maze_solution_is_shortest_and_replays() -> None:
    lv = level("maze", *MAZE)
    report = playtest(lv)
    assert report.playable and report.metrics["path_length"] == 8 == report.length
    assert replay(lv, report.solution).won


def test_maze_wall_makes_it_unplayable_and_lowers_score() -> None:
    open_maze = level("maze", *MAZE)
    closed = level("maze", *MAZE[:2], "####.#.#".replace(".", "#", 1), *MAZE[3:])
    good, bad = playtest(open_maze), playtest(closed)
    assert not bad.playable and bad.reason.startswith("no exit is reachable from the start")
    assert bad.score < good.score


def test_constraints_broken_means_unplayable() -> None:
    report = playtest(level("maze", "######", "#SSE.#", "######"))
    assert report.verdict == "no" and report.reason == "needs one player and an exit"
    assert report.broken == ("start 2 > 1",) and not report.meets_rules
    assert report.terms["count:start"] == pytest.approx(0.5)


def test_required_objective_broken_means_unplayable() -> None:
    two_regions = level("maze", *MAZE[:-1], "########", "#.######", "########")
    report = playtest(two_regions)
    assert report.solvable == "yes" and report.verdict == "no" and report.broken == ("regions 2 > 1",)
    rules = load_rules("maze")
    lenient = rules.model_copy(
        update={"objectives": [o.model_copy(update={"required": False}) for o in rules.objectives]}
    )
    assert playtest(Level(lenient, two_regions.grid)).playable


def test_longer_path_scores_higher_at_hard_difficulty() -> None:
    short = level("maze", "#######", "#S...E#", "#######")
    long = level("maze", *MAZE)
    assert playtest(long, 1.0).score > playtest(short, 1.0).score


DUNGEON = ("#########", "#@..#..D#", "#.#.#.#.#", "#...k.#e#", "#e#######")


def test_dungeon_goes_through_the_key_and_replays() -> None:
    lv = level("dungeon", *DUNGEON)
    report = playtest(lv)
    assert report.playable
    state = replay(lv, report.solution)
    assert state.won and state.has_key
    assert report.metrics["enemies"] == 2
    assert report.metrics["enemy_distance"] == 3  # (1,1) -> (2,1) -> (3,1), next to the e at (4,1)
    assert report.metrics["path_length"] == report.length == 5 + 5


def test_dungeon_door_blocks_without_key() -> None:
    lv = level("dungeon", "#######", "#@D.k.#", "#e...e#", "#######")
    report = playtest(lv)
    assert not report.playable and report.reason == "no key is reachable from the start"
    mechanic = get_mechanic("keys")
    assert mechanic.step(lv, mechanic.start(lv), "r") is None


def test_dungeon_enemy_touch_loses() -> None:
    lv = level("dungeon", "#######", "#@e.kD#", "#....e#", "#######")
    mechanic = get_mechanic("keys")
    assert mechanic.step(lv, mechanic.start(lv), "r").lost
    report = playtest(lv)
    assert report.playable and "e" not in report.solution and report.length == 6


RELAY = ("#########", "#S..#####", "###.#####", "###....E#", "#########")


def test_relay_follows_the_legs() -> None:
    lv = level("relay", *RELAY, legs="rdr")
    report = playtest(lv, 0.0)
    assert report.playable and report.solution == "rrddrrrr"
    assert report.metrics["turns"] == 2 and report.metrics["clusters"] == 0
    assert replay(lv, report.solution).won


def test_relay_wrong_legs_are_unplayable() -> None:
    lv = level("relay", *RELAY, legs="udr")
    assert not playtest(lv).playable
    mechanic = get_mechanic("relay")
    assert mechanic.step(lv, mechanic.start(lv), "r") is None


def test_relay_derives_legs_from_the_open_path() -> None:
    assert get_mechanic("relay").legs(level("relay", *RELAY)) == "rdr"
    assert legs_of("rrddrrrr") == "rdr"


def test_relay_clusters_count_open_blobs() -> None:
    blob = level("relay", "#######", "#S...##", "#...E##", "#######")
    report = playtest(blob)
    assert report.metrics["clusters"] > 0
    assert playtest(level("relay", *RELAY)).score > report.score


def test_relay_run_targets_follow_interest_curve() -> None:
    assert interest(0.0) == pytest.approx(0.2)
    assert run_target(0, 10, 9) == pytest.approx(9 * 0.8 + 1)
    expected = 9 * (1 - interest(1.0)) + 1
    assert run_target(30, 10, 9) == pytest.approx(expected)  # progress is capped at 1


# ----- two answers: solvable, and meets the rules -------------------------------------------------------


def test_four_box_level_is_solvable_but_breaks_the_sokoban_rules(data_dir: Path) -> None:
    lv = read_levels(data_dir / "boxoban-medium-valid-000-first50.txt")[0]
    report = playtest(lv)
    assert report.solvable == "yes" and replay(lv, report.solution).won
    assert report.broken == ("box+box_on_goal 4 > 3",) and not report.meets_rules
    assert report.verdict == "no" and not report.playable  # what the generator demands
    assert report.length == len(report.solution) and report.to_dict()["meets_rules"] is False


def test_boxoban_rules_admit_four_boxes_and_score_solver_effort(data_dir: Path) -> None:
    grid = read_levels(data_dir / "boxoban-medium-valid-000-first50.txt")[0].grid
    lv = Level(load_rules("boxoban"), grid)
    easy, hard = playtest(lv, 0.0), playtest(lv, 1.0)
    assert easy.playable and easy.broken == () and replay(lv, easy.solution).won
    assert easy.metrics["pushes"] == 16 and easy.metrics["solver_nodes"] == 26  # the fast search's effort
    assert "pushes 16 > 6" in easy.off_target and "pushes 16 < 20" in hard.off_target
    assert "solver_nodes 26 < 130" in hard.off_target and "solver_nodes" not in " ".join(easy.off_target)


def test_solver_nodes_are_the_fast_search_s_also_when_searching_on_for_the_optimum(data_dir: Path) -> None:
    lv = read_levels(data_dir / "microban.xsb")[3]  # solved in 9 nodes, move-optimal in about 600
    fast, best = playtest(lv), playtest(lv, budget=Budget(time_limit=10.0, optimal=True))
    assert best.optimal and fast.metrics["solver_nodes"] == best.metrics["solver_nodes"] == 9


def test_budget_exhaustion_is_unknown_never_no(data_dir: Path) -> None:
    lv = read_levels(data_dir / "microban.xsb")[5]  # level 6: 3 boxes, needs a few hundred nodes
    report = playtest(lv, budget=Budget(max_nodes=10))
    assert report.solvable == "unknown" and report.verdict == "unknown" and report.solution is None
    assert report.meets_rules and "unknown after 10 nodes" in report.reason


def test_unsolvable_is_no_with_the_rules_met() -> None:
    report = playtest(level("sokoban", "#######", "#@$#.-#", "#######"))
    assert report.solvable == "no" and report.meets_rules and report.verdict == "no"


def test_a_push_level_whose_boxes_all_start_on_goals_is_not_a_puzzle() -> None:
    solved = playtest(level("sokoban", "######", "#@*-*#", "######"))
    assert solved.solvable == "no" and solved.meets_rules and "every box starts on a goal" in solved.reason
    one_left = playtest(level("sokoban", "#######", "#@$.-*#", "#######"))
    assert one_left.playable and one_left.metrics["pushes"] == 1


@pytest.mark.parametrize(
    ("rows", "stuck"),
    [
        (("#######", "#$--.@#", "#-----#", "#######"), 1),  # in a corner: no push moves it
        (("#######", "#@-.#$#", "#######"), 1),  # walled in where the player never comes
        (("########", "#-$$..@#", "#------#", "########"), 2),  # side by side against a wall: frozen
        (("########", "#-$-.-@#", "#------#", "########"), 0),  # pushed along the wall onto its goal
    ],
)
def test_stuck_boxes_are_seen_without_a_search(rows: tuple[str, ...], stuck: int) -> None:
    report = playtest(level("sokoban", *rows), budget=Budget(max_nodes=0))
    assert report.metrics["stuck_boxes"] == stuck
    assert report.solvable == ("no" if stuck else "unknown")


def test_objectives_off_target_are_listed_not_broken() -> None:
    report = playtest(level("sokoban", "######", "#@$-.#", "######"), 1.0)
    assert report.playable and report.broken == ()
    assert "solution_length 2 < 30" in report.off_target and "pushes 2" not in " ".join(report.off_target)


def test_optimal_solution_has_the_fewest_moves(data_dir: Path) -> None:
    lv = read_levels(data_dir / "microban.xsb")[3]  # level 4: the fast search finds 29 moves
    fast, best = playtest(lv), playtest(lv, budget=Budget(time_limit=10.0, optimal=True))
    assert best.optimal and not fast.optimal and replay(lv, best.solution).won
    assert fast.length == 29 and best.length == 23  # 23 moves, 7 pushes by exhaustive search (test_sokoban_solver)
    assert best.metrics["solution_length"] == 23 and best.metrics["pushes"] == 7


def test_optimal_out_of_budget_keeps_the_first_solution(data_dir: Path) -> None:
    lv = read_levels(data_dir / "microban.xsb")[3]  # solved in 9 nodes, move-optimal in about 600
    fast, report = playtest(lv), playtest(lv, budget=Budget(max_nodes=50, optimal=True))
    assert report.solvable == "yes" and not report.optimal and report.solution == fast.solution
    assert "optimal search out of budget" in report.reason


def test_corridor_share_counts_open_cells_with_at_most_two_open_neighbours() -> None:
    corridor = playtest(level("maze", *MAZE)).metrics["corridor_share"]
    assert corridor == 12 / 13  # of MAZE's 13 open cells only (1, 4) has three open neighbours
    room = playtest(level("maze", "#####", "#S..#", "#...#", "#..E#", "#####")).metrics["corridor_share"]
    assert room == 4 / 9  # the four corners have two open neighbours; edges have three, the centre four


def test_a_push_room_s_shape_counts_its_inner_walls_and_the_isolated_ones() -> None:
    room = (
        "#######",
        "#@-#--#",
        "#--#-##",
        "#-$--.#",
        "#-#---#",
        "#######",
    )  # four walls among the 20 cells inside the ring, each beside another wall or the ring
    report = playtest(level("sokoban", *room))
    assert report.metrics["wall_share"] == 4 / 20 and report.metrics["isolated_walls"] == 0
    hall = playtest(level("sokoban", "#######", "#@----#", "#-#-$-#", "#---.-#", "#######"))  # one post in a hall
    assert hall.metrics["wall_share"] == 1 / 15 and hall.metrics["isolated_walls"] == 1

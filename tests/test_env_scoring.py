"""The environment's scorer: batched walk/keys playtests equal the mechanics', results are cached,
and the training budget counts an unfinished Sokoban search as unplayable."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from relaygen.env import scoring
from relaygen.env.scoring import Scorer
from relaygen.formats import read_levels
from relaygen.level import Level
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.base import Budget
from relaygen.mechanics.relay import Legs
from relaygen.playtest import playtest
from relaygen.rules import load_rules
from relaygen.score import VERDICTS
from relaygen.solver import search

BUDGET = Budget(max_nodes=2000, time_limit=None)
LEVELS = Path(__file__).resolve().parents[1] / "levels"


def random_grids(rules_name: str, n: int, seed: int) -> np.ndarray:
    """Grids drawn two ways: from the tile weights, and open rooms holding the special tiles (those
    after floor and wall) as many times as the constraints ask."""
    rules = load_rules(rules_name)
    need = {c.tiles[0]: c.min for c in rules.constraints if len(c.tiles) == 1}
    specials = [i for i, t in enumerate(rules.tiles[2:], 2) for _ in range(max(1, need.get(t.name, 1)))]
    rng = np.random.default_rng(seed)
    weights = np.array([t.weight for t in rules.tiles])
    drawn = rng.choice(len(weights), size=(n, rules.height, rules.width), p=weights / weights.sum())
    rooms = np.where(rng.random((n, rules.height, rules.width)) < 0.12, 1, 0)
    rooms[:, [0, -1], :] = rooms[:, :, [0, -1]] = 1
    inner = (rules.height - 2) * (rules.width - 2)
    for room in rooms:
        for tile, cell in zip(specials, rng.permutation(inner), strict=False):
            room[1 + cell // (rules.width - 2), 1 + cell % (rules.width - 2)] = tile
    return np.concatenate([drawn, rooms]).astype(np.uint8)


@pytest.mark.parametrize("rules_name", ["maze", "dungeon"])
def test_batched_playtest_equals_the_mechanic(rules_name: str) -> None:
    rules = load_rules(rules_name)
    grids = random_grids(rules_name, 150, seed=7)
    difficulty = np.random.default_rng(0).random(len(grids))
    scorer = Scorer(rules, BUDGET)
    got = scorer.score(grids, [None] * len(grids), difficulty)
    playable = 0
    for i, grid in enumerate(grids):
        report = playtest(Level(rules, grid), float(difficulty[i]), BUDGET)
        assert got.score[i] == report.score
        assert VERDICTS[got.verdict[i]] == report.verdict and got.met[i] == report.met
        assert got.length[i] == report.length
        assert dict(zip(scorer.metric_names, got.metrics[i], strict=True)) == report.metrics
        assert dict(zip(scorer.term_names, got.terms[i], strict=True)) == report.terms
        playable += report.playable
    assert 20 < playable < len(grids) - 20  # both kinds of verdict were exercised


@pytest.mark.parametrize("rules_name", ["sokoban", "boxoban", "relay"])
def test_levels_scored_without_a_search_score_as_their_playtest_with_no_search(rules_name: str) -> None:
    rules = load_rules(rules_name)
    shipped = [level for level in read_levels(LEVELS / rules_name) if level.grid.shape == (rules.height, rules.width)]
    drawn = random_grids(rules_name, 30, seed=3)
    grids = np.concatenate([drawn, np.stack([level.grid for level in shipped[:40]])])
    payloads = [None] * len(drawn) + [level.payload for level in shipped[:40]]
    difficulty = np.random.default_rng(1).random(len(grids))
    scorer = Scorer(rules, BUDGET)
    got = scorer.score(grids, payloads, difficulty, search=False)
    for i, (grid, payload) in enumerate(zip(grids, payloads, strict=True)):
        report = playtest(Level(rules, grid, payload=payload), float(difficulty[i]), scoring.NO_SEARCH)
        assert got.score[i] == report.score and got.met[i] == report.met and got.length[i] == report.length
        assert VERDICTS[got.verdict[i]] == report.verdict
        assert dict(zip(scorer.metric_names, got.metrics[i], strict=True)) == report.metrics
        assert dict(zip(scorer.term_names, got.terms[i], strict=True)) == report.terms
    assert len(shipped) >= 40 and len(set(got.score.tolist())) > 20
    assert len(set(got.verdict.tolist())) == 2  # push games: broken rules and unsearched; relay: played with no search


def test_scores_are_cached_and_solver_runs_once(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = load_rules("sokoban")
    level = Level.from_rows(rules, ["#########", "#@-$-.--#", "#-------#", *["#-------#"] * 5, "#########"])
    calls = []

    def counting(*args: object) -> object:
        calls.append(args)
        return playtest(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(scoring, "playtest", counting)
    scorer = Scorer(rules, BUDGET)
    grids = np.stack([level.grid, level.grid])
    first = scorer.score(grids, [None, None], np.array([0.5, 0.5]))
    again = scorer.score(grids[:1], [None], np.array([0.5]))
    assert len(calls) == 1 and first.playable.all() and again.score[0] == first.score[0]
    assert first.metrics[0, scorer.metric_names.index("pushes")] == 2
    assert scorer.report(level.grid, None, 0.5).solution and len(calls) == 1
    scorer.score(grids[:1], [None], np.array([0.7]))  # another difficulty is another entry
    assert len(calls) == 2


def test_unfinished_solver_search_counts_as_unplayable() -> None:
    rules = load_rules("sokoban")
    rows = [
        "#########",
        "#@------#",
        "#-$-$---#",
        "#---$---#",
        "#-------#",
        "#--...--#",
        *["#-------#"] * 2,
        "#########",
    ]
    level = Level.from_rows(rules, rows)
    assert playtest(level, 0.5, BUDGET).playable
    tiny = Scorer(rules, Budget(max_nodes=1, time_limit=None))
    scores = tiny.score(level.grid[None], [None], np.array([0.5]))
    assert VERDICTS[scores.verdict[0]] == "unknown" and not scores.playable[0]


def test_relay_uses_the_legs() -> None:
    rules = load_rules("relay")
    rows = ["#" * 14] * 3 + ["#S....E" + "#" * 7] + ["#" * 14] * 5
    grid = Level.from_rows(rules, rows).grid
    scores = Scorer(rules, BUDGET).score(np.stack([grid, grid]), [Legs("r"), Legs("u")], np.array([0.5, 0.5]))
    assert scores.playable.tolist() == [True, False]


SCRIPT_SOKOBAN = str(resources.files("relaygen") / "rulesets" / "sokoban.txt")


@pytest.mark.parametrize("rules_name", ["sokoban", SCRIPT_SOKOBAN], ids=["push", "script"])
def test_the_solution_metrics_are_those_a_level_scored_without_a_search_lacks(rules_name: str) -> None:
    """What a blind environment hides (the mechanic's ``solution_metrics``) is exactly what only the search measures."""
    rules = load_rules(rules_name)
    rows = ["#######", "#@----#", "#-----#", "#-$--.#", "#-----#", "#######"]
    grid = Level.from_rows(rules, rows).grid
    scorer = Scorer(rules, Budget(max_nodes=2000, time_limit=None))
    searched, unsearched = (scorer.score(grid[None], [None], np.zeros(1), search) for search in (True, False))
    assert searched.playable[0] and not unsearched.playable[0]
    solution = get_mechanic(rules.mechanic).solution_metrics
    assert solution, "the mechanic searches, so some metric needs the search"
    for j, name in enumerate(scorer.metric_names):
        if name in solution:
            assert searched.metrics[0, j] > 0 and unsearched.metrics[0, j] == 0, name
        else:
            assert searched.metrics[0, j] == unsearched.metrics[0, j], name


def push_rooms(rules_name: str, n: int, seed: int) -> np.ndarray:
    """Rooms with one player and as many boxes as goals among random walls (some boxes start on goals):
    boxes out of the player's reach, boxes in corners and frozen against each other, goals walled off."""
    rules = load_rules(rules_name)
    tile = rules.tile_index
    rng = np.random.default_rng(seed)
    grids = np.full((n, rules.height, rules.width), tile["wall"], np.uint8)
    for grid in grids:
        inner = grid[1:-1, 1:-1]
        inner[:] = np.where(rng.random(inner.shape) < rng.uniform(0.1, 0.5), tile["wall"], tile["floor"])
        boxes = int(rng.integers(1, 5))
        cells = rng.permutation(inner.size)[: 2 * boxes + 1]
        on_goal = int(rng.integers(0, boxes + 1)) if rng.random() < 0.3 else 0
        for k, cell in enumerate(cells[:-1]):
            name = "goal" if k < boxes - on_goal else "box" if k < 2 * boxes - 2 * on_goal else "box_on_goal"
            inner.flat[cell] = tile[name]
        inner.flat[cells[-1]] = tile["player"]
    return grids


@pytest.mark.skipif(search._search is None, reason="the C part is not built")
@pytest.mark.parametrize("rules_name", ["sokoban", "boxoban"])
def test_the_c_playtest_with_no_search_equals_the_python_one(rules_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = load_rules(rules_name)
    shipped = [level.grid for level in read_levels(LEVELS / rules_name)]
    grids = np.concatenate([push_rooms(rules_name, 400, seed=5), random_grids(rules_name, 100, seed=6), shipped])
    in_c = get_mechanic("push").analyse_unsearched(rules, grids)
    assert in_c is not None
    monkeypatch.setattr(search, "_search", None)
    each = Scorer(rules, BUDGET)._analysed_each(grids, [None] * len(grids), np.zeros(len(grids)))
    for got, expected in zip(in_c, each, strict=True):
        np.testing.assert_array_equal(got, expected)
    verdicts, metrics, _ = in_c
    stuck = metrics[:, get_mechanic("push").metrics.index("stuck_boxes")]
    assert {VERDICTS[v] for v in verdicts} == {"no", "unknown"} and len(set(stuck.tolist())) >= 3


def test_a_push_stack_goes_through_the_c_playtest_with_no_search(monkeypatch: pytest.MonkeyPatch) -> None:
    rules = load_rules("boxoban")
    asked: list[int] = []
    push = type(get_mechanic("push"))
    unsearched = push.analyse_unsearched

    def counted(rules: object, grids: np.ndarray) -> object:
        asked.append(len(grids))
        return unsearched(rules, grids)

    monkeypatch.setattr(push, "analyse_unsearched", staticmethod(counted))
    grids = push_rooms("boxoban", 20, seed=1)
    Scorer(rules, BUDGET).score(grids, [None] * len(grids), np.zeros(len(grids)), search=False)
    assert asked == [len(grids)]


@pytest.mark.skipif(search._search is None, reason="the C part is not built")
def test_push_playtests_are_the_same_with_or_without_the_c_part(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every report field (verdict, reason, solution, metrics, score) of full playtests of rooms and
    shipped levels, with the C playtest and search, then with the Python ones."""
    rules = load_rules("boxoban")
    levels = [Level(rules, grid) for grid in push_rooms("boxoban", 150, seed=8)]
    levels += read_levels(LEVELS / "boxoban")[:20] + read_levels(LEVELS / "sokoban")[:10]
    in_c = [playtest(level, 0.7) for level in levels]
    monkeypatch.setattr(search, "_search", None)
    assert [playtest(level, 0.7) for level in levels] == in_c
    assert {report.verdict for report in in_c} == {"yes", "no"} and len({r.reason for r in in_c}) >= 4


@pytest.mark.skipif(search._search is None, reason="the C part is not built")
def test_a_level_with_more_boxes_than_the_c_playtest_takes_is_analysed_in_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rules = load_rules("sokoban")
    tile = rules.tile_index
    grid = np.full((12, 20), tile["floor"], np.uint8)
    grid[[0, -1], :] = grid[:, [0, -1]] = tile["wall"]
    grid[1:5, 1:-1], grid[6:10, 1:-1], grid[5, 1] = tile["box"], tile["goal"], tile["player"]
    assert (grid == tile["box"]).sum() > search.NATIVE_BOXES
    push = get_mechanic("push")
    assert push.analyse_unsearched(rules, grid[None]) is None
    found = push.analyse(Level(rules, grid), rules.targets(0.5), scoring.NO_SEARCH)
    monkeypatch.setattr(search, "_search", None)
    assert push.analyse(Level(rules, grid), rules.targets(0.5), scoring.NO_SEARCH) == found
    assert found.metrics["stuck_boxes"] > 0  # the top row's boxes sit against the wall

"""The batched engine (several levels on one tall board) against the engine one level at a time: for the
positions PuzzleScript's own test cases pass through, every input simulated in one batch gives exactly
the turn that simulating it alone gives (objects after, command queue, blocked)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from relaygen.script import ScriptError, load_game
from relaygen.script.engine import simulate, simulate_batch
from relaygen.script.session import Session, load_suite

SUITE = load_suite(Path(__file__).parent / "data" / "puzzlescript" / "testdata.json.gz")
INPUTS = ["u", "l", "d", "r", "x", None]


def _positions(source: str, inputs: list, index: int) -> tuple:
    """The game of a suite case and the distinct positions of one size its replay passes through."""
    try:
        game = load_game(source)
    except ScriptError:
        return None, []
    session = Session(game, index)
    seen: dict[bytes, np.ndarray] = {}
    for value in inputs:
        if not session.text_mode:
            seen.setdefault(session.grid.tobytes(), session.grid)
        session.input(value)
    shape = session.grid.shape if seen else None
    return game, [g for g in seen.values() if g.shape == shape][:12]


CASES = [(i, data) for i, (_, data) in enumerate(SUITE) if len(data[1]) <= 60 and len(data[0]) <= 15000]


@pytest.mark.parametrize(("index", "data"), CASES, ids=[str(i) for i, _ in CASES])
def test_a_batch_equals_each_alone(index: int, data: list) -> None:
    level = data[3] if len(data) > 3 and data[3] is not None else 0
    game, grids = _positions(data[0], data[1], int(level))
    if len(grids) < 2:
        pytest.skip("fewer than two positions of one size (or the game is refused)")
    pairs = [(g, m) for g in grids for m in INPUTS]
    batch = simulate_batch(game.tables, [g for g, _ in pairs], [m for _, m in pairs])
    for (grid, move), (after, queue, blocked) in zip(pairs, batch, strict=True):
        alone_after, alone_queue, alone_blocked = simulate(game.tables, grid, move)
        assert np.array_equal(after, alone_after), f"objects differ after {move!r}"
        assert (queue, blocked) == (alone_queue, alone_blocked), f"commands differ after {move!r}"


def test_enough_cases_compare() -> None:
    compared = sum(
        len(_positions(d[0], d[1], int(d[3] if len(d) > 3 and d[3] is not None else 0))[1]) >= 2 for _, d in CASES
    )
    assert compared >= 150


def test_the_batched_playtest_equals_the_playtest_level_by_level() -> None:
    """Script's analyse_batch (the environment's reward) answers as analyse does for each level: the
    first Microban levels walled to one size (yes, and unknown at the budget) and random maps (no,
    and maps the game cannot start)."""
    from importlib import resources

    from relaygen.formats import read_levels
    from relaygen.level import Level
    from relaygen.mechanics import get_mechanic
    from relaygen.mechanics.base import Budget
    from relaygen.rules import load_rules
    from relaygen.score import VERDICTS

    rules = load_rules(Path(str(resources.files("relaygen") / "rulesets" / "sokoban.txt"))).resized(9, 9)
    grids = []
    for level in read_levels(Path(__file__).parent / "data" / "microban.xsb")[:12]:
        rows = [row.replace(" ", "-") for row in level.rows()]
        if len(rows) <= 9 and max(map(len, rows)) <= 9:
            grids.append(Level.from_rows(rules, [row.ljust(9, "#") for row in rows] + ["#" * 9] * (9 - len(rows))).grid)
    random = np.random.default_rng(3).choice(
        len(rules.tiles), size=(12, 9, 9), p=[0.4, 0.45, 0.03, 0.04, 0.04, 0.02, 0.02]
    )
    grids = np.stack(grids + list(random))
    mechanic, budget = get_mechanic("script"), Budget(max_nodes=1000)
    verdicts, metrics, lengths = mechanic.analyse_batch(rules, grids, budget)
    seen = set()
    for i, grid in enumerate(grids):
        alone = mechanic.analyse(Level(rules, grid), {}, budget)
        seen.add(alone.verdict)
        assert VERDICTS[verdicts[i]] == alone.verdict
        assert lengths[i] == len(alone.solution or "")
        assert metrics[i].tolist() == [alone.metrics[k] for k in mechanic.metrics]
    assert seen == {"yes", "no", "unknown"}

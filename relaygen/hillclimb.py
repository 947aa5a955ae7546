"""Search without learning: hill-climbing repair of a level, deepening a level's start by reverse
search, and the random-map-plus-repair baseline.

The generator repairs a model's unplayable draft with :func:`hill_climb` and can move a playable
draft's start farther from solved with :func:`deepen`; the benchmark compares the trained generator
against :func:`search_level`, which needs no training at all.
"""

from __future__ import annotations

import numpy as np

from relaygen.level import Level
from relaygen.mechanics import Budget, get_mechanic
from relaygen.playtest import Report, playtest
from relaygen.rules import Rules

QUICK_BUDGET = Budget(max_nodes=2000)
"""The solver budget for the many playtests of a search; the final check uses the full solver."""


def editable_cells(level: Level) -> np.ndarray:
    """(row, col) of cells an editor may change: inside the fixed border and not pinned."""
    mask = np.ones(level.grid.shape, dtype=bool)
    if level.rules.border is not None:
        mask[0, :] = mask[-1, :] = mask[:, 0] = mask[:, -1] = False
    if level.pinned is not None:
        mask &= ~level.pinned
    return np.argwhere(mask)


def hill_climb(
    level: Level, difficulty: float, rng: np.random.Generator, proposals: int = 300, budget: Budget = QUICK_BUDGET
) -> tuple[Level, Report]:
    """Try ``proposals`` random single-tile edits, keeping each that does not lower (playable, score).

    Stops early once every objective is met. Pinned and border cells are never touched.
    """
    current = level.copy()
    report = playtest(current, difficulty, budget)
    cells = editable_cells(current)
    if not len(cells):
        return current, report
    rules = level.rules
    weights = np.array([t.weight for t in rules.tiles]) + 0.05 * sum(t.weight for t in rules.tiles)
    weights /= weights.sum()
    for _ in range(proposals):
        if report.met:
            break
        surplus = _surplus_cells(current, cells)
        pool = surplus if len(surplus) and rng.random() < 0.5 else cells
        y, x = pool[rng.integers(len(pool))]
        old, new = current.grid[y, x], rng.choice(len(weights), p=weights)
        if new == old:
            continue
        current.grid[y, x] = new
        candidate = playtest(current, difficulty, budget)
        if (candidate.playable, candidate.score) >= (report.playable, report.score):
            report = candidate
        else:
            current.grid[y, x] = old
    return current, report


def deepen(level: Level, report: Report, max_states: int, starts: int = 64) -> tuple[Level, Report]:
    """The level, or, when it is too easy, a start of its room farther from solved: up to ``starts``
    starts, farthest first within its targets (:meth:`~relaygen.mechanics.base.Mechanic.farthest_starts`,
    a reverse search of at most ``max_states`` states), are playtested at the difficulty of ``report`` (the
    level's playtest) until one puts every metric only the search measures inside its target; the
    best by (playable, score) is kept (with no starts to try, the level is kept). Too easy: such a metric
    is below its target. The room and goals are kept, the boxes and player may move; starts that change a
    pinned cell are left out."""
    mechanic = get_mechanic(level.rules.mechanic)
    if starts < 1 or not any(value < lo for value, (lo, _) in _searched(report, mechanic.solution_metrics)):
        return level, report
    for start in mechanic.farthest_starts(level, starts, max_states, report.targets):
        if level.pinned is not None and (start.grid != level.grid)[level.pinned].any():
            continue
        candidate = playtest(start, report.difficulty)
        if (candidate.playable, candidate.score) > (report.playable, report.score):
            level, report = start, candidate
        if report.playable and all(
            lo <= value <= hi for value, (lo, hi) in _searched(report, mechanic.solution_metrics)
        ):
            break
    return level, report


def wall_in(level: Level, report: Report) -> tuple[Level, Report]:
    """The playable level, or, where its rules ask for a wall share, the level with walls on floor
    cells its solution never uses (:meth:`~relaygen.mechanics.base.Mechanic.walled_in`), if its
    playtest scores no lower; the solution still plays, so it stays playable."""
    if report.solution is None:
        return level, report
    walled = get_mechanic(level.rules.mechanic).walled_in(level, report.solution, report.targets)
    if walled is None:
        return level, report
    candidate = playtest(walled, report.difficulty)
    if (candidate.playable, candidate.score) >= (report.playable, report.score):
        return walled, candidate
    return level, report


def _searched(report: Report, metrics: tuple[str, ...]) -> list[tuple[float, tuple[float, float]]]:
    """(value, target) of each of ``metrics`` that has a target in ``report``."""
    return [(report.metrics[m], report.targets[m]) for m in metrics if m in report.targets]


def _surplus_cells(level: Level, cells: np.ndarray) -> np.ndarray:
    """Editable cells holding a tile that some constraint says there are too many of."""
    rules = level.rules
    counts = np.bincount(level.grid.ravel(), minlength=len(rules.tiles))
    over = [
        rules.tile_index[t]
        for c in rules.constraints
        if c.max is not None and sum(counts[rules.tile_index[t]] for t in c.tiles) > c.max
        for t in c.tiles
    ]
    return cells[np.isin(level.grid[cells[:, 0], cells[:, 1]], over)] if over else cells[:0]


def search_level(
    rules: Rules, difficulty: float, rng: np.random.Generator, proposals: int = 300
) -> tuple[Level, Report]:
    """The no-training baseline: a random starting map improved by :func:`hill_climb`."""
    return hill_climb(Level.random(rules, rng), difficulty, rng, proposals)

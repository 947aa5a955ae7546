"""The quality score's one implementation (relaygen.score): terms, weights and verdicts over arrays."""

from __future__ import annotations

import numpy as np
import pytest

from relaygen.level import Level
from relaygen.playtest import playtest
from relaygen.rules import load_rules
from relaygen.score import VERDICTS, score_table

MAZE = ["#######", "#S...E#", "#######"]


def test_a_term_is_one_inside_its_target_and_falls_with_distance_over_scale() -> None:
    rules = load_rules("maze")
    table = score_table(rules)
    level = Level.from_rows(rules.resized(7, 3), MAZE)
    j = next(j for j, o in enumerate(rules.objectives) if rules.knob_ends(o) is None and o.target[1] < np.inf)
    objective = rules.objectives[j]
    lo, hi = objective.target
    scale = objective.scale or max(1.0, lo)
    column = table.metric_col[j]
    metrics = np.zeros((3, len(table.metric_names)))
    metrics[:, column] = [lo, hi + scale, hi + 2 * scale]
    rows = table.score(np.ones(3, np.int8), metrics, np.repeat(level.grid[None], 3, axis=0), np.full(3, 0.5))
    term = rows.terms[:, len(rules.constraints) + j]
    assert term == pytest.approx([1.0, 0.5, 1 / 3])


def test_the_score_is_the_weighted_mean_of_the_terms_and_a_broken_count_says_no() -> None:
    rules = load_rules("maze").resized(7, 3)
    report = playtest(Level.from_rows(rules, MAZE))
    table = score_table(rules)
    weights = np.array([c.weight for c in rules.constraints] + [o.weight for o in rules.objectives])
    terms = np.array([report.terms[k] for k in table.term_names])
    assert report.score == pytest.approx(float(terms @ weights / weights.sum()))
    no_exit = Level.from_rows(rules, ["#######", "#S....#", "#######"])
    rows = table.score(np.ones(1, np.int8), np.zeros((1, len(table.metric_names))), no_exit.grid[None], np.ones(1))
    assert VERDICTS[rows.verdict[0]] == "no" and rows.count_broken[0].any() and not rows.met[0]

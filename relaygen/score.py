"""The quality score, computed in one place: over arrays, one row per level.

The playtester (:func:`relaygen.playtest.playtest`) calls it with one row; the environment's reward
(:mod:`relaygen.env.scoring`) with a stack of levels. Each count constraint and each objective gives
one term in [0, 1]: 1 inside its target range, falling as 1 / (1 + distance / scale) outside it. The
score is the weighted mean of the terms. A level is playable when the mechanic solved it and it
keeps every constraint and required objective.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from relaygen.rules import Rules

VERDICTS = ("no", "yes", "unknown")
"""Verdict codes: index into this tuple."""
NO, YES = 0, 1


@dataclass(frozen=True)
class Rows:
    """The score of ``m`` levels, as arrays (terms in :attr:`ScoreTable.term_names` order)."""

    verdict: np.ndarray
    """``(m,)`` verdict codes: ``no`` where a constraint or required objective is broken, else the
    mechanic's."""
    terms: np.ndarray
    """``(m, n_terms)``: the count constraints' terms, then the objectives'."""
    score: np.ndarray
    met: np.ndarray
    """``(m,)``: playable and every term 1."""
    counts: np.ndarray
    """``(m, n_constraints)`` each constraint's count, and its allowed range in ``count_lo``/``count_hi``."""
    count_lo: np.ndarray
    count_hi: np.ndarray
    values: np.ndarray
    """``(m, n_objectives)`` each objective's measured value, and its target in ``targets``."""
    targets: np.ndarray
    """``(m, n_objectives, 2)``."""

    @property
    def count_broken(self) -> np.ndarray:
        return target_distance(self.counts, self.count_lo, self.count_hi) > 0

    @property
    def off_target(self) -> np.ndarray:
        return target_distance(self.values, self.targets[..., 0], self.targets[..., 1]) > 0


class ScoreTable:
    """One ruleset's scoring, prepared once: which tiles each constraint counts, the weights, and
    where each objective's metric sits among the mechanic's metrics. Get it with :func:`score_table`."""

    def __init__(self, rules: Rules, metric_names: tuple[str, ...]) -> None:
        self.rules = rules
        self.metric_names = metric_names
        self.term_names = tuple(f"count:{'+'.join(c.tiles)}" for c in rules.constraints) + tuple(
            o.metric for o in rules.objectives
        )
        self._counted = _tile_matrix(rules, [c.tiles for c in rules.constraints])
        self._equal = _tile_matrix(rules, [c.equal_to or [] for c in rules.constraints])
        self._has_equal = np.array([bool(c.equal_to) for c in rules.constraints], dtype=bool)
        self.bounds = np.array(
            [(c.min, np.inf if c.max is None else c.max) for c in rules.constraints], dtype=np.float64
        ).reshape(-1, 2)
        """Each count constraint's allowed (min, max) ``(n_constraints, 2)``; max is inf when open."""
        self.metric_col = np.array([metric_names.index(o.metric) for o in rules.objectives], dtype=np.int64)
        """Each objective's column among the metrics."""
        self._required = np.array([o.required for o in rules.objectives], dtype=bool)
        self._weights = [c.weight for c in rules.constraints] + [o.weight for o in rules.objectives]
        self._scales = np.array([o.scale or 0.0 for o in rules.objectives])

    def counts(self, grids: np.ndarray, bounds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each count constraint's count in ``grids`` ``(m, H, W)`` and its allowed range (lo, hi),
        three ``(m, n_constraints)`` arrays (an ``equal_to`` constraint's range is the other count);
        ``bounds`` ``(m, n_constraints, 2)`` replaces the rules' (min, max) per grid."""
        bounds = self.bounds if bounds is None else bounds
        m, n_tiles = len(grids), len(self.rules.tiles)
        flat = grids.reshape(m, -1).astype(np.int64) + n_tiles * np.arange(m)[:, None]
        per_tile = np.bincount(flat.ravel(), minlength=m * n_tiles).reshape(m, n_tiles)
        count = (per_tile @ self._counted.T).astype(np.float64)
        other = (per_tile @ self._equal.T).astype(np.float64)
        lo = np.where(self._has_equal, other, bounds[..., 0])
        hi = np.where(self._has_equal, other, bounds[..., 1])
        return count, lo, hi

    def score(self, solvable: np.ndarray, metrics: np.ndarray, grids: np.ndarray, difficulty: np.ndarray) -> Rows:
        """Score ``m`` levels: the mechanic's verdict codes ``(m,)``, its metrics ``(m, n_metrics)``
        (in :attr:`metric_names` order), the grids ``(m, H, W)`` and the difficulties ``(m,)``."""
        count, lo, hi = self.counts(grids)
        count_dist = target_distance(count, lo, hi)
        count_terms = 1.0 / (1.0 + count_dist / np.maximum(1.0, lo))
        targets = self.rules.target_ranges(difficulty)
        values = metrics[:, self.metric_col]
        scales = np.where(self._scales > 0, self._scales, np.maximum(1.0, targets[..., 0]))
        objective_dist = target_distance(values, targets[..., 0], targets[..., 1])
        objective_terms = 1.0 / (1.0 + objective_dist / scales)
        terms = np.concatenate([count_terms, objective_terms], axis=1)
        total, score = sum(self._weights), np.zeros(len(grids))
        for j, weight in enumerate(self._weights):
            score = score + terms[:, j] * weight
        score = score / total if total else score
        broken = (count_dist > 0).any(axis=1) | (objective_dist[:, self._required] > 0).any(axis=1)
        verdict = np.where(broken, NO, solvable).astype(np.int8)
        met = (verdict == YES) & (terms == 1.0).all(axis=1)
        return Rows(verdict, terms, score, met, count, lo, hi, values, targets)


@lru_cache(maxsize=64)
def score_table(rules: Rules) -> ScoreTable:
    """The :class:`ScoreTable` of ``rules`` (kept for the rules' digest)."""
    from relaygen.mechanics import get_mechanic

    return ScoreTable(rules, tuple(get_mechanic(rules.mechanic).metric_names(rules)))


def _tile_matrix(rules: Rules, groups: list[list[str]]) -> np.ndarray:
    """A ``(len(groups), n_tiles)`` 0/1 matrix: row g marks the tiles named in ``groups[g]``."""
    out = np.zeros((len(groups), len(rules.tiles)), np.int64)
    for g, names in enumerate(groups):
        out[g, [rules.tile_index[t] for t in names]] = 1
    return out


def target_distance(value: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How far each value lies outside [lo, hi] (0 inside)."""
    return np.where(value < lo, lo - value, np.where(value > hi, value - hi, 0.0))

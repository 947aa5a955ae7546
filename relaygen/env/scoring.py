"""The environment's reward source: playtest scores for stacks of grids, batched and cached.

:class:`Scorer` returns, for ``m`` grids at once, the same verdict, metrics, terms and score as
:func:`relaygen.playtest.playtest` (with the training budget), as arrays. Walk and keys levels are
played array-batched (:mod:`relaygen.env.fastplay`); push and relay levels go through the
mechanic's own playtest. Results are kept in a least-recently-used cache keyed by (grid bytes, legs,
difficulty), so a solver result is not computed twice for a level seen again.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from relaygen.env import fastplay
from relaygen.level import Level
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.base import Budget
from relaygen.playtest import Report, playtest
from relaygen.rules import Rules

VERDICTS = ("no", "yes", "unknown")
"""Verdict codes used in :class:`Scores` (index into this tuple)."""


@dataclass
class Scores:
    """Playtest results for a stack of grids, one row per grid."""

    score: np.ndarray
    verdict: np.ndarray
    length: np.ndarray
    met: np.ndarray
    metrics: np.ndarray
    terms: np.ndarray

    @property
    def playable(self) -> np.ndarray:
        return self.verdict == 1

    @classmethod
    def empty(cls, n: int, n_metrics: int, n_terms: int) -> Scores:
        return cls(
            np.zeros(n),
            np.zeros(n, np.int8),
            np.zeros(n, np.int64),
            np.zeros(n, bool),
            np.zeros((n, n_metrics)),
            np.zeros((n, n_terms)),
        )

    def fields(self) -> tuple[np.ndarray, ...]:
        """The field arrays, in :meth:`put` order."""
        return tuple(getattr(self, f) for f in _FIELDS)

    def rows(self) -> list[tuple]:
        """One tuple of field values per grid."""
        return list(zip(*self.fields(), strict=True))

    def put(self, index: int | np.ndarray, row: tuple) -> None:
        for f, values in zip(_FIELDS, row, strict=True):
            getattr(self, f)[index] = values


_FIELDS = ("score", "verdict", "length", "met", "metrics", "terms")


class Scorer:
    """Scores grids of one ruleset; ``budget`` bounds the Sokoban solver (unknown is unplayable)."""

    def __init__(self, rules: Rules, budget: Budget, cache_size: int = 20_000) -> None:
        self.rules = rules
        self.budget = budget
        self.metric_names = tuple(get_mechanic(rules.mechanic).metric_names(rules))
        self.term_names = tuple(f"count:{'+'.join(c.tiles)}" for c in rules.constraints) + tuple(
            o.metric for o in rules.objectives
        )
        self._batched = fastplay.BATCHED.get(rules.mechanic)
        self._cache: OrderedDict[tuple, tuple] = OrderedDict()
        self._reports: OrderedDict[tuple, Report] = OrderedDict()
        self._cache_size = cache_size
        self._counted = _tile_matrix(rules, [c.tiles for c in rules.constraints])
        self._equal = _tile_matrix(rules, [c.equal_to or [] for c in rules.constraints])
        self._has_equal = np.array([bool(c.equal_to) for c in rules.constraints], dtype=bool)
        self.bounds = np.array(
            [(c.min, np.inf if c.max is None else c.max) for c in rules.constraints], dtype=np.float64
        ).reshape(-1, 2)
        """Each count constraint's allowed (min, max) ``(n_constraints, 2)``; max is inf when open."""
        self._metric_col = np.array([self.metric_names.index(o.metric) for o in rules.objectives])
        self._required = np.array([o.required for o in rules.objectives], dtype=bool)
        self._weights = np.array([c.weight for c in rules.constraints] + [o.weight for o in rules.objectives])

    # ----- public --------------------------------------------------------------------------------

    def score(self, grids: np.ndarray, legs: list[str], difficulty: np.ndarray) -> Scores:
        """Scores of ``grids`` ``(m, H, W)`` with their legs and difficulties ``(m,)``."""
        m = len(grids)
        out = Scores.empty(m, len(self.metric_names), len(self.term_names))
        keys = [(g.tobytes(), lg, float(d)) for g, lg, d in zip(grids, legs, difficulty, strict=True)]
        missing = []
        for i, key in enumerate(keys):
            row = self._cache.get(key)
            if row is None:
                missing.append(i)
            else:
                self._cache.move_to_end(key)
                out.put(i, row)
        if missing:
            todo = np.array(missing)
            if self._batched is not None:
                fresh = self._score_batched(grids[todo], difficulty[todo])
            else:
                fresh = self._score_each(grids[todo], [legs[i] for i in todo], difficulty[todo])
            out.put(todo, fresh.fields())
            for i, row in zip(missing, fresh.rows(), strict=True):
                self._remember(self._cache, keys[i], row)
        return out

    def report(self, grid: np.ndarray, legs: str, difficulty: float) -> Report:
        """The full :class:`Report` (with the solution) of one grid, cached like the scores."""
        key = (grid.tobytes(), legs, float(difficulty))
        found = self._reports.get(key)
        if found is None:
            found = playtest(Level(self.rules, grid, legs=legs), float(difficulty), self.budget)
            self._remember(self._reports, key, found)
        else:
            self._reports.move_to_end(key)
        return found

    def counts(self, grids: np.ndarray, bounds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each count constraint's count in ``grids`` ``(m, H, W)`` and its allowed range (lo, hi),
        three ``(m, n_constraints)`` arrays (an ``equal_to`` constraint's range is the other count);
        ``bounds`` ``(m, n_constraints, 2)`` replaces the rules' (min, max) per grid."""
        bounds = self.bounds if bounds is None else bounds
        m, n_tiles = len(grids), len(self.rules.tiles)
        flat = grids.reshape(m, -1).astype(np.int64) + n_tiles * np.arange(m)[:, None]
        counts = np.bincount(flat.ravel(), minlength=m * n_tiles).reshape(m, n_tiles)
        count = (counts @ self._counted.T).astype(np.float64)
        other = (counts @ self._equal.T).astype(np.float64)
        lo = np.where(self._has_equal, other, bounds[..., 0])
        hi = np.where(self._has_equal, other, bounds[..., 1])
        return count, lo, hi

    def objective_values(self, scores: Scores) -> np.ndarray:
        """Each objective's measured value ``(m, n_objectives)`` among ``scores``' metrics."""
        return scores.metrics[:, self._metric_col]

    # ----- internals -----------------------------------------------------------------------------

    def _remember(self, cache: OrderedDict, key: tuple, value: object) -> None:
        cache[key] = value
        if len(cache) > self._cache_size:
            cache.popitem(last=False)

    def _score_each(self, grids: np.ndarray, legs: list[str], difficulty: np.ndarray) -> Scores:
        """Score level by level through the mechanic's own playtest."""
        out = Scores.empty(len(grids), len(self.metric_names), len(self.term_names))
        for i, (grid, lg, d) in enumerate(zip(grids, legs, difficulty, strict=True)):
            report = self.report(grid, lg, d)
            out.score[i] = report.score
            out.verdict[i] = VERDICTS.index(report.verdict)
            out.length[i] = report.length
            out.met[i] = report.met
            out.metrics[i] = [report.metrics[k] for k in self.metric_names]
            out.terms[i] = [report.terms[k] for k in self.term_names]
        return out

    def _score_batched(self, grids: np.ndarray, difficulty: np.ndarray) -> Scores:
        """Score a stack with the array-batched mechanic and array-computed terms."""
        assert self._batched is not None
        m = len(grids)
        playable, metrics, length = self._batched(self.rules, grids)
        count, lo, hi = self.counts(grids)
        count_dist = target_distance(count, lo, hi)
        count_terms = 1.0 / (1.0 + count_dist / np.maximum(1.0, lo))
        targets = self.rules.target_ranges(difficulty)
        values = metrics[:, self._metric_col]
        scales = np.array([o.scale or 0.0 for o in self.rules.objectives])
        scales = np.where(scales > 0, scales, np.maximum(1.0, targets[..., 0]))
        objective_dist = target_distance(values, targets[..., 0], targets[..., 1])
        objective_terms = 1.0 / (1.0 + objective_dist / scales)
        terms = np.concatenate([count_terms, objective_terms], axis=1)
        total, score = sum(self._weights.tolist()), np.zeros(m)
        for j, weight in enumerate(self._weights):  # summed in playtest's order, for identical floats
            score = score + terms[:, j] * weight
        score = score / total if total else score
        playable &= ~(count_dist > 0).any(axis=1) & ~(objective_dist[:, self._required] > 0).any(axis=1)
        met = playable & (terms == 1.0).all(axis=1)
        verdict = playable.astype(np.int8)
        return Scores(score, verdict, length, met, metrics, terms)


def _tile_matrix(rules: Rules, groups: list[list[str]]) -> np.ndarray:
    """A ``(len(groups), n_tiles)`` 0/1 matrix: row g marks the tiles named in ``groups[g]``."""
    out = np.zeros((len(groups), len(rules.tiles)), np.int64)
    for g, names in enumerate(groups):
        out[g, [rules.tile_index[t] for t in names]] = 1
    return out


def target_distance(value: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How far each value lies outside [lo, hi] (0 inside), as :func:`relaygen.playtest.distance`."""
    return np.where(value < lo, lo - value, np.where(value > hi, value - hi, 0.0))

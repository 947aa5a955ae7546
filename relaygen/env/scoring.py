"""The environment's reward source: playtest scores for stacks of grids, batched and cached.

:class:`Scorer` returns, for ``m`` grids at once, the same verdict, metrics, terms and score as
:func:`relaygen.playtest.playtest` (with the training budget), as arrays. Walk and keys levels are
played array-batched (:mod:`relaygen.env.fastplay`); push and relay levels go through the
mechanic's own playtest, or, scored without a search, its own analyse level by level and the
scoring of the whole stack at once. Where a mechanic's search is costly
(``reward_searches_counted``: script games), a level that breaks a count constraint is scored
without a search (it is unplayable either way), so its solution metrics are 0 where the playtest
would report them. Results are kept in a least-recently-used cache keyed by (grid bytes, legs,
difficulty, searched or not), so a solver result is not computed twice for a level seen again. A
call with ``search=False`` scores levels with a zero budget (no search: counts and the other metrics
as usual, the level not playable), for an environment that searches only the levels its episodes
end with.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from relaygen.level import Level, Payload
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.base import BatchAnalysis, Budget
from relaygen.playtest import Report, playtest
from relaygen.rules import Rules
from relaygen.score import VERDICTS, score_table


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

NO_SEARCH = Budget(max_nodes=0, time_limit=None)
"""The budget of a level scored without a search."""


class Scorer:
    """Scores grids of one ruleset; ``budget`` bounds the Sokoban solver (unknown is unplayable)."""

    def __init__(self, rules: Rules, budget: Budget, cache_size: int = 20_000) -> None:
        self.rules = rules
        self.budget = budget
        self.table = score_table(rules)
        self.metric_names = self.table.metric_names
        self.term_names = self.table.term_names
        self.bounds = self.table.bounds
        """Each count constraint's allowed (min, max) ``(n_constraints, 2)``; max is inf when open."""
        mechanic = get_mechanic(rules.mechanic)
        self.searched_objectives = np.array([o.metric in mechanic.solution_metrics for o in rules.objectives], bool)
        """Which objectives measure a metric only the search finds (the mechanic's ``solution_metrics``)."""
        self._batched = mechanic.analyse_batch
        self._unsearched = mechanic.analyse_unsearched
        self._counted_only = mechanic.reward_searches_counted
        self._cache: OrderedDict[tuple, tuple] = OrderedDict()
        self._reports: OrderedDict[tuple, Report] = OrderedDict()
        self._cache_size = cache_size

    # ----- public --------------------------------------------------------------------------------

    def score(
        self, grids: np.ndarray, payloads: list[Payload | None], difficulty: np.ndarray, search: bool = True
    ) -> Scores:
        """Scores of ``grids`` ``(m, H, W)`` with their payloads and difficulties ``(m,)``; with
        ``search=False`` no level is searched (none is playable)."""
        m = len(grids)
        out = Scores.empty(m, len(self.metric_names), len(self.term_names))
        keys = [(g.tobytes(), p, float(d), search) for g, p, d in zip(grids, payloads, difficulty, strict=True)]
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
            budget = self.budget if search else NO_SEARCH
            if self._batched is not None:
                fresh = self._stack_scores(grids[todo], difficulty[todo], self._analysed(grids[todo], budget))
            elif not search:
                analysis = self._analysed_unsearched(grids[todo], [payloads[i] for i in todo], difficulty[todo])
                fresh = self._stack_scores(grids[todo], difficulty[todo], analysis)
            else:
                fresh = self._score_each(grids[todo], [payloads[i] for i in todo], difficulty[todo], budget)
            out.put(todo, fresh.fields())
            for i, row in zip(missing, fresh.rows(), strict=True):
                self._remember(self._cache, keys[i], row)
        return out

    def report(
        self, grid: np.ndarray, payload: Payload | None, difficulty: float, budget: Budget | None = None
    ) -> Report:
        """The full :class:`Report` (with the solution) of one grid, cached like the scores; ``budget``
        (default: the scorer's) bounds its search."""
        budget = budget or self.budget
        key = (grid.tobytes(), payload, float(difficulty), budget)
        found = self._reports.get(key)
        if found is None:
            found = playtest(Level(self.rules, grid, payload=payload), float(difficulty), budget)
            self._remember(self._reports, key, found)
        else:
            self._reports.move_to_end(key)
        return found

    def counts(self, grids: np.ndarray, bounds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each count constraint's count and allowed range in ``grids`` (:meth:`ScoreTable.counts`)."""
        return self.table.counts(grids, bounds)

    def objective_values(self, scores: Scores) -> np.ndarray:
        """Each objective's measured value ``(m, n_objectives)`` among ``scores``' metrics."""
        return scores.metrics[:, self.table.metric_col]

    # ----- internals -----------------------------------------------------------------------------

    def _remember(self, cache: OrderedDict, key: tuple, value: object) -> None:
        cache[key] = value
        if len(cache) > self._cache_size:
            cache.popitem(last=False)

    def _score_each(
        self, grids: np.ndarray, payloads: list[Payload | None], difficulty: np.ndarray, budget: Budget
    ) -> Scores:
        """Score level by level through the mechanic's own playtest."""
        out = Scores.empty(len(grids), len(self.metric_names), len(self.term_names))
        for i, (grid, payload, d) in enumerate(zip(grids, payloads, difficulty, strict=True)):
            report = self.report(grid, payload, d, budget)
            out.score[i] = report.score
            out.verdict[i] = VERDICTS.index(report.verdict)
            out.length[i] = report.length
            out.met[i] = report.met
            out.metrics[i] = [report.metrics[k] for k in self.metric_names]
            out.terms[i] = [report.terms[k] for k in self.term_names]
        return out

    def _analysed_unsearched(
        self, grids: np.ndarray, payloads: list[Payload | None], difficulty: np.ndarray
    ) -> BatchAnalysis:
        """The mechanic's analyse of each level with no search: its array form where it has one that takes
        these levels (none with a payload), else level by level."""
        if self._unsearched is not None and all(payload is None for payload in payloads):
            found = self._unsearched(self.rules, grids)
            if found is not None:
                return found
        return self._analysed_each(grids, payloads, difficulty)

    def _analysed_each(
        self, grids: np.ndarray, payloads: list[Payload | None], difficulty: np.ndarray
    ) -> BatchAnalysis:
        """The mechanic's own analyse of each level with no search, as arrays (no report is kept: with no
        search there is no solution to keep)."""
        mechanic = get_mechanic(self.rules.mechanic)
        verdicts = np.zeros(len(grids), np.int8)
        metrics = np.zeros((len(grids), len(self.metric_names)))
        length = np.zeros(len(grids), np.int64)
        for i, (grid, payload, d) in enumerate(zip(grids, payloads, difficulty, strict=True)):
            level = Level(self.rules, grid, payload=payload)
            found = mechanic.analyse(level, self.rules.targets(float(d)), NO_SEARCH)
            verdicts[i] = VERDICTS.index(found.verdict)
            metrics[i] = [found.metrics[k] for k in self.metric_names]
            length[i] = len(found.solution or "") if found.verdict == "yes" else 0
        return verdicts, metrics, length

    def _stack_scores(self, grids: np.ndarray, difficulty: np.ndarray, analysis: BatchAnalysis) -> Scores:
        """Score a stack of analysed grids with the one scoring function."""
        verdicts, metrics, length = analysis
        rows = self.table.score(verdicts.astype(np.int8), metrics, grids, difficulty)
        return Scores(rows.score, rows.verdict, length, rows.met, metrics, rows.terms)

    def _analysed(self, grids: np.ndarray, budget: Budget) -> BatchAnalysis:
        """The mechanic's batched analyse of ``grids`` within ``budget``; where its reward searches only
        counted levels, a grid that breaks a count constraint is analysed with no search."""
        assert self._batched is not None
        if not self._counted_only or budget == NO_SEARCH:
            return self._batched(self.rules, grids, budget)
        count, lo, hi = self.table.counts(grids)
        kept = ((count >= lo) & (count <= hi)).all(axis=1)
        verdicts = np.zeros(len(grids), np.int8)
        metrics = np.zeros((len(grids), len(self.metric_names)))
        length = np.zeros(len(grids), np.int64)
        for rows, allowed in ((kept, budget), (~kept, NO_SEARCH)):
            if rows.any():
                verdicts[rows], metrics[rows], length[rows] = self._batched(self.rules, grids[rows], allowed)
        return verdicts, metrics, length

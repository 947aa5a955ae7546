"""The array-batched environment: ``n`` level-construction environments stepped together.

:class:`BatchedLevelEnv` holds every environment's grid, frozen mask and cursor in stacked arrays,
applies one action per environment, rescores only the grids that changed (one batched, cached
:class:`~relaygen.env.scoring.Scorer` call) and returns stacked observations. It is a Gymnasium
``VectorEnv`` with same-step autoreset: when an environment's episode ends, the returned
observation is the first of its next episode, ``infos["final_obs"]`` holds its last observation and
``infos["final_level"]`` the finished :class:`~relaygen.level.Level`; the other ``infos`` arrays
describe the step itself (before any reset). :class:`~relaygen.env.level_env.LevelEnv` is one of
these with ``n = 1`` and no autoreset, so single and batched environments behave identically.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils.seeding import np_random
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from relaygen.env.options import EnvOptions
from relaygen.env.representations import make_representation
from relaygen.env.representations.base import COND_CAP, Edits, crops, map_planes, plane_table
from relaygen.env.scoring import Scorer, Scores
from relaygen.level import Level, Payload
from relaygen.mechanics.base import Budget
from relaygen.rules import Rules, load_rules
from relaygen.score import VERDICTS


class BatchedLevelEnv(VectorEnv):
    """``num_envs`` environments of one ruleset and representation, with arrays in and out.

    Arguments are those of :class:`~relaygen.env.level_env.LevelEnv` (which documents spaces,
    rewards and termination): the fields of :class:`~relaygen.env.options.EnvOptions` and the
    representation's own options as keywords, plus ``num_envs``, ``autoreset`` and ``final_reports``
    (False: a finished level's ``meta["report"]`` holds the in-episode scores instead of a full
    playtest with the solution, which a trainer that reads neither need not pay for). Seeding
    ``reset(seed=s)`` seeds environment ``i`` with ``s + i``, the way ``LevelEnv.reset(seed=s + i)`` would.
    """

    def __init__(
        self,
        rules: str | Path | Rules,
        representation: str | None = None,
        num_envs: int = 1,
        *,
        autoreset: bool = True,
        final_reports: bool = True,
        **options: Any,
    ) -> None:
        settings, rep_options = EnvOptions.split(options)
        self.rules = rules = load_rules(rules)
        self.rep = make_representation(representation or rules.representations[0], rules, **rep_options)
        self.rep.bind(num_envs)
        self.num_envs, self.height, self.width = num_envs, rules.height, rules.width
        self.spatial_actions = self.rep.spatial_actions
        self.cellwise_actions = self.rep.cellwise_actions
        self.difficulty = _check_difficulty(settings.difficulty)
        self.start_level = self._check_level(settings.start_level)
        pinned_share, change_limit = settings.pinned_share, settings.change_limit
        if not 0.0 <= pinned_share < 1.0:
            raise ValueError(f"pinned_share must be in [0, 1), got {pinned_share}")
        limit = self.rep.change_limit if change_limit is None else change_limit
        if not 0.0 < limit <= 1.0:
            raise ValueError(f"change_limit must be in (0, 1], got {change_limit}")
        self.change_limit, self.pinned_share, self.reward_scale = limit, pinned_share, settings.reward_scale
        self.observe_budget, self.keep_best = settings.observe_budget, settings.keep_best
        self.observe_metrics, self.blind = settings.observe_metrics, settings.blind
        self.max_steps = settings.max_steps or self.rep.default_max_steps()
        self.vary_counts, self.search_at_end = settings.vary_counts, settings.search_at_end
        self.scorer = Scorer(rules, Budget(max_nodes=settings.solver_budget, time_limit=None))
        self.privileged_critic = bool(
            settings.blind and settings.privileged_critic and self.scorer.searched_objectives.any()
        )
        self._scorers = {_count_key(rules): self.scorer}
        self.crop_size = settings.crop_size or 2 * max(self.height, self.width) - 1
        if self.crop_size < 1 or self.crop_size % 2 == 0:
            raise ValueError(f"crop_size must be a positive odd number, got {self.crop_size}")
        self._build_spaces()
        self._allocate()
        self.metadata = {"autoreset_mode": AutoresetMode.SAME_STEP if autoreset else AutoresetMode.DISABLED}
        self.autoreset, self.final_reports = autoreset, final_reports
        self.rngs = [np_random(None)[0] for _ in range(num_envs)]

    # ----- setup ---------------------------------------------------------------------------------

    def _build_spaces(self) -> None:
        n_tiles, n_obj = len(self.rules.tiles), len(self.rules.objectives)
        n_metrics = 2 * (len(self.rules.constraints) + n_obj) if self.observe_metrics else 0
        view = (self.crop_size,) * 2 if self.rep.egocentric else (self.height, self.width)
        self.single_observation_space = spaces.Dict(
            {
                "map": spaces.Box(0.0, 1.0, (n_tiles + 2, *view), np.float32),
                "position": spaces.Box(0.0, 1.0, (2,), np.float32),
                "cond": spaces.Box(
                    -COND_CAP,
                    COND_CAP,
                    (1 + 2 * n_obj + self.observe_budget + n_metrics + self.rep.n_features,),
                    np.float32,
                ),
            }
        )
        if self.privileged_critic:
            critic = (2 * int(self.scorer.searched_objectives.sum()),)
            self.single_observation_space["critic"] = spaces.Box(-COND_CAP, COND_CAP, critic, np.float32)
        if self.rep.cellwise_actions:
            self.single_action_space = spaces.MultiDiscrete(np.full((self.height, self.width), self.rep.n_actions()))
        else:
            self.single_action_space = spaces.Discrete(self.rep.n_actions())
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        bounds = self.rules.target_ranges(np.array([0.0, 1.0]))
        finite = np.where(np.isfinite(bounds), np.abs(bounds), 0.0)
        self._cond_scale = np.maximum(1.0, finite.max(axis=(0, 2)))
        lo, hi = self.scorer.bounds.T
        self._count_scale = np.maximum(1.0, np.where(np.isfinite(hi), hi, lo))

    def cond_names(self) -> list[str]:
        """What each ``cond`` entry means, in order: ``difficulty``, ``target METRIC lo|hi`` per
        objective, ``budget``, ``count TILE+TILE lo|hi`` per count constraint and ``measure METRIC
        lo|hi`` per objective (when observed), then the representation's own entries."""
        objectives = [o.metric for o in self.rules.objectives]
        names = ["difficulty", *(f"target {m} {end}" for m in objectives for end in ("lo", "hi"))]
        names += ["budget"] * self.observe_budget
        if self.observe_metrics:
            counts = ["+".join(c.tiles) for c in self.rules.constraints]
            names += [f"count {t} {end}" for t in counts for end in ("lo", "hi")]
            names += _measure_names(objectives)
        return names + [f"{self.rep.name} {i}" for i in range(self.rep.n_features)]

    def critic_names(self) -> list[str]:
        """What each ``critic`` entry means, in order (none unless ``privileged_critic``): ``measure
        METRIC lo|hi`` per objective that only a search measures, named as in :meth:`cond_names`."""
        if not self.privileged_critic:
            return []
        return _measure_names(np.array([o.metric for o in self.rules.objectives])[self.scorer.searched_objectives])

    def _allocate(self) -> None:
        n, h, w, n_tiles = self.num_envs, self.height, self.width, len(self.rules.tiles)
        self._pad = p = self.crop_size // 2 if self.rep.egocentric else 0
        self._tiles = np.full((n, h + 2 * p, w + 2 * p), n_tiles, np.uint8)
        self._codes = self._tiles.copy()
        self.grid = self._tiles[:, p : p + h, p : p + w]
        """Each environment's grid ``(n, H, W)`` (a view into the padded array)."""
        self.frozen = np.zeros((n, h, w), bool)
        """Cells edits cannot change: the fixed border, designer pins and training pins."""
        self._pins = np.zeros((n, h, w), bool)
        self._has_pins = np.zeros(n, bool)
        self.fixed = np.zeros((h, w), bool)
        """The rules' fixed border ``(H, W)``."""
        if self.rules.border is not None:
            self.fixed[[0, -1], :] = self.fixed[:, [0, -1]] = True
        self.cursor = np.zeros((n, 2), np.int64)
        self.payloads: list[Payload | None] = [None] * n
        """Each environment's level payload (what its mechanic keeps beside the grid)."""
        self.difficulties = np.zeros(n)
        """Each environment's episode difficulty."""
        self._cond = np.zeros((n, 1 + 2 * len(self.rules.objectives)), np.float32)
        self._targets = np.zeros((n, len(self.rules.objectives), 2))
        self._variants = [_count_key(self.rules)] * n
        self._count_bounds = np.repeat(self.scorer.bounds[None], n, axis=0)
        self.changes = np.zeros(n, np.int64)
        self.steps = np.zeros(n, np.int64)
        self._limit = np.ones(n, np.int64)
        self._scores = Scores.empty(n, len(self.scorer.metric_names), len(self.scorer.term_names))
        self._best = np.zeros((n, h, w), np.uint8)
        self._best_scores = Scores.empty(n, len(self.scorer.metric_names), len(self.scorer.term_names))
        self._best_rank = np.zeros(n)
        self._best_payloads: list[Payload | None] = [None] * n
        self._lut = plane_table(n_tiles)
        weights = np.array([t.weight for t in self.rules.tiles])
        if self.rules.start_map == "random" and weights.sum() <= 0:
            raise ValueError(f"rules {self.rules.name!r}: start_map is random but every tile weight is 0")
        self._weights = weights / max(weights.sum(), 1e-12)

    def _check_level(self, level: Level | None) -> Level | None:
        if level is None:
            return None
        if level.rules.digest != self.rules.digest:
            raise ValueError(f"start level is for rules {level.rules.name!r}, not {self.rules.name!r}")
        if level.grid.shape != (self.rules.height, self.rules.width):
            raise ValueError(
                f"start level is {level.grid.shape}, rules {self.rules.name!r} need "
                f"{(self.rules.height, self.rules.width)}"
            )
        if not self.rep.starts_from_levels:
            raise ValueError(f"the {self.rep.name} representation cannot start from a given level")
        return level

    # ----- episodes ------------------------------------------------------------------------------

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Start every environment's episode; ``options`` may hold ``difficulty`` and ``level``."""
        if seed is not None:
            seeds = [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else list(seed)
            self.rngs = [np_random(s)[0] for s in seeds]
        self.reset_envs(np.arange(self.num_envs), options)
        return self.observe(), self.infos()

    def reset_envs(self, index: np.ndarray, options: dict[str, Any] | None = None) -> None:
        """Start the next episode of the environments in ``index``, each with its own ``rngs[i]``."""
        options = options or {}
        unknown = set(options) - {"difficulty", "level"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; known: difficulty, level")
        difficulty = _check_difficulty(options.get("difficulty", self.difficulty))
        self.begin(index, [difficulty] * len(index), options.get("level", self.start_level))

    def begin(self, index: np.ndarray, difficulties: list[float | None], level: Level | None = None) -> None:
        """Start the episodes of the environments in ``index``, ``index[j]`` at ``difficulties[j]``
        (None draws one), from ``level`` if given, each with its own ``rngs[i]``."""
        level = self._check_level(level)
        for i, difficulty in zip(index, difficulties, strict=True):
            self._start(i, _check_difficulty(difficulty), level)
        d = self.difficulties[index]
        self._targets[index] = self.rules.target_ranges(d)
        targets = self._targets[index] / self._cond_scale[:, None]
        self._cond[index] = np.concatenate([d[:, None], np.clip(targets, -COND_CAP, COND_CAP).reshape(len(d), -1)], 1)
        self._scores.put(index, self._score(index, search=not self.search_at_end).fields())
        self._best_rank[index] = -np.inf
        self._keep_best(index)

    def _start(self, i: int, difficulty: float | None, level: Level | None) -> None:
        """Draw environment ``i``'s start: difficulty, map, frozen cells, cursor (not its score)."""
        rng = self.rngs[i]
        self.difficulties[i] = float(rng.random()) if difficulty is None else difficulty
        if self.vary_counts:
            self._vary_counts(i, rng)
        grid = self._start_map(rng)
        pins = np.zeros_like(self.fixed)
        if level is not None and level.pinned is None:
            grid = level.grid.copy()
        elif level is not None:
            pins = level.pinned
            grid = np.where(pins, level.grid, grid)
        frozen = self.fixed | pins
        if self.pinned_share:
            frozen |= (rng.random(grid.shape) < self.pinned_share) & ~self.fixed
        self.grid[i], self.frozen[i], self._pins[i] = grid, frozen, pins
        self._has_pins[i] = level is not None and level.pinned is not None
        self.payloads[i] = None
        self.rep.reset(self, i)
        p, (h, w) = self._pad, grid.shape
        self._codes[i, p : p + h, p : p + w] = self._encode(self.grid[i], frozen)
        self.changes[i] = self.steps[i] = 0
        self._limit[i] = max(1, math.ceil(self.change_limit * (~frozen).sum()))

    def _vary_counts(self, i: int, rng: np.random.Generator) -> None:
        """Draw environment ``i``'s count ranges: each bounded range [min, max] of the rules narrowed to
        a random [a, b] inside it (both ends drawn uniformly, then ordered)."""
        key = []
        for c in self.rules.constraints:
            if c.equal_to or c.max is None or c.max == c.min:
                key.append((c.min, c.max))
            else:
                a, b = sorted(int(v) for v in rng.integers(c.min, c.max + 1, size=2))
                key.append((a, b))
        variant = tuple(key)
        if variant not in self._scorers:
            self._scorers[variant] = Scorer(self.rules.with_counts(variant), self.scorer.budget)
        self._variants[i] = variant
        self._count_bounds[i] = self._scorers[variant].bounds

    def _score(self, index: np.ndarray, search: bool = True) -> Scores:
        """Scores of the current grids of ``index``, each by its episode's count ranges (searched for
        a solution unless ``search`` is False)."""
        if not self.vary_counts:  # one scorer: no grouping on the hot path
            return self.scorer.score(
                self.grid[index], [self.payloads[i] for i in index], self.difficulties[index], search
            )
        out = Scores.empty(len(index), len(self.scorer.metric_names), len(self.scorer.term_names))
        variants = [self._variants[i] for i in index]
        for variant in dict.fromkeys(variants):
            rows = np.array([j for j, v in enumerate(variants) if v == variant])
            idx = index[rows]
            fresh = self._scorers[variant].score(
                self.grid[idx], [self.payloads[i] for i in idx], self.difficulties[idx], search
            )
            out.put(rows, fresh.fields())
        return out

    def _start_map(self, rng: np.random.Generator) -> np.ndarray:
        rules, shape = self.rules, (self.height, self.width)
        if rules.start_map == "random":
            grid = rng.choice(len(rules.tiles), size=shape, p=self._weights).astype(np.uint8)
        else:
            grid = np.full(shape, rules.tile_index[rules.start_map], np.uint8)
        if rules.border is not None:
            grid[self.fixed] = rules.tile_index[rules.border]
        return grid

    def step(
        self, actions: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Apply one action per environment; see the module docstring for autoreset and infos."""
        reward, terminated, truncated = self.advance(actions)
        infos = self.infos()
        done = np.flatnonzero(terminated | truncated)
        if self.autoreset and len(done):
            last = self.observe(done)
            mask = np.zeros(self.num_envs, bool)
            mask[done] = True
            final_obs = np.full(self.num_envs, None, object)
            final_level = np.full(self.num_envs, None, object)
            for j, i in enumerate(done):
                final_obs[i] = {k: v[j] for k, v in last.items()}
                final_level[i] = self.final_level(i, full_report=self.final_reports)
            self.reset_envs(done)
            infos.update(final_obs=final_obs, _final_obs=mask, final_level=final_level, _final_level=mask)
        return self.observe(), reward, terminated, truncated, infos

    def advance(
        self, actions: np.ndarray, index: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Apply and score one action for each environment in ``index`` (default: all; no reset):
        (reward, terminated, truncated), one row per environment in ``index``."""
        index = np.arange(self.num_envs) if index is None else np.asarray(index, dtype=np.int64)
        actions = np.asarray(actions, dtype=np.int64).reshape(len(index), *self.single_action_space.shape)
        n_actions = self.rep.n_actions()
        if len(index) and (actions.min() < 0 or actions.max() >= n_actions):
            raise ValueError(f"actions must be in [0, {n_actions}), got {actions}")
        edits = self.rep.act(self, index, actions)
        reward = edits.penalty.astype(np.float64)
        rows = self._apply(index, edits)
        self.steps[index] += 1
        truncated = self.steps[index] >= self.max_steps
        if not self.cellwise_actions:
            truncated |= self.changes[index] >= self._limit[index]
        if self.rep.scores_at_end:
            rows = rows[edits.end[rows]]
        searched = np.ones(len(index), bool)
        if self.search_at_end:  # an episode's last level is searched even if its last step changed nothing
            searched = edits.end | truncated
            rows = np.union1d(rows, np.flatnonzero(searched))
        for search in (True, False):
            part = rows[searched[rows] == search]
            if len(part):
                idx = index[part]
                old_score, old_playable = self._scores.score[idx], self._scores.playable[idx]
                new = self._score(idx, search)
                reward[part] += self.reward_scale * (new.score - old_score)
                reward[part] += self.rules.playable_bonus * (new.playable.astype(float) - old_playable)
                self._scores.put(idx, new.fields())
                self._keep_best(idx)
        terminated = edits.end if self.blind else self._scores.met[index] | edits.end
        return reward, terminated, truncated & ~terminated

    def _apply(self, index: np.ndarray, edits: Edits) -> np.ndarray:
        """Make ``edits`` of the environments in ``index`` (frozen cells stay); the rows of ``index``
        whose grid changed, counting their changes."""
        if edits.proposal is not None:
            changed = (edits.proposal >= 0) & ~self.frozen[index] & (self.grid[index] != edits.proposal)
            counts = changed.sum(axis=(1, 2))
            rows = np.flatnonzero(counts)
            idx = index[rows]
            p, (h, w) = self._pad, self.grid.shape[1:]
            grids = np.where(changed[rows], edits.proposal[rows], self.grid[idx]).astype(np.uint8)
            self.grid[idx] = grids
            self._codes[idx, p : p + h, p : p + w] = self._encode(grids, self.frozen[idx])
            self.changes[idx] += counts[rows]
            return rows
        y, x = np.divmod(np.maximum(edits.cells, 0), self.width)
        changed = (edits.cells >= 0) & ~self.frozen[index, y, x] & (self.grid[index, y, x] != edits.tiles)
        rows = np.flatnonzero(changed)
        idx, y, x, tiles = index[rows], y[rows], x[rows], edits.tiles[rows]
        self.grid[idx, y, x] = tiles
        self._codes[idx, y + self._pad, x + self._pad] = tiles
        self.changes[idx] += 1
        return rows

    def _encode(self, grids: np.ndarray, frozen: np.ndarray) -> np.ndarray:
        """Cell codes of grids with their frozen masks (see :func:`plane_table`)."""
        return grids + (len(self.rules.tiles) + 1) * frozen

    def _keep_best(self, index: np.ndarray) -> None:
        """With ``keep_best``, remember the grids in ``index`` that rank above their episode's best so far."""
        if not self.keep_best:
            return
        rank = self._scores.playable[index] + self._scores.score[index]  # playable first, then score
        above = rank > self._best_rank[index]
        better = index[above]
        self._best_rank[better] = rank[above]
        self._best[better] = self.grid[better]
        self._best_scores.put(better, tuple(f[better] for f in self._scores.fields()))
        for i in better:
            self._best_payloads[i] = self.payloads[i]

    # ----- observations and infos ----------------------------------------------------------------

    def observe(self, index: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Stacked observations of the environments in ``index`` (all by default)."""
        index = np.arange(self.num_envs) if index is None else index
        if self.rep.egocentric:
            codes = crops(self._codes, index, self.cursor[index], self.crop_size)
            turns = self.rep.turns(self, index)
            for k in range(1, 4) if turns is not None else ():
                codes[turns == k] = np.rot90(codes[turns == k], k, axes=(1, 2))
        else:
            codes = self._codes[index]
        obs = {
            "map": map_planes(codes, self._lut),
            "position": (self.cursor[index] / [self.height, self.width]).astype(np.float32),
            "cond": self._conditions(index),
        }
        if self.privileged_critic:
            searched = self._objective_measures(index)[:, self.scorer.searched_objectives]
            obs["critic"] = np.clip(searched.reshape(len(index), -1), -COND_CAP, COND_CAP).astype(np.float32)
        return obs

    def _conditions(self, index: np.ndarray) -> np.ndarray:
        """The ``cond`` rows of ``index``: difficulty and targets, the share of edits left and the
        measures against their ranges if observed, then the representation's own entries."""
        parts = [self._cond[index]]
        if self.observe_budget:
            parts.append((1.0 - self.changes[index] / self._limit[index])[:, None].astype(np.float32))
        if self.observe_metrics:
            parts.append(self._measures(index))
        return np.concatenate([*parts, self.rep.features(self, index)], axis=1)

    def _measures(self, index: np.ndarray) -> np.ndarray:
        """For each count constraint, then each objective: (value - lo, value - hi) of the current
        grid, over the count's or the objective's scale, clipped to the cond range (0 for an objective
        only a search measures, in a blind environment)."""
        count, lo, hi = self.scorer.counts(self.grid[index], self._count_bounds[index])
        counts = np.stack([count - lo, count - hi], axis=2) / self._count_scale[:, None]
        objectives = self._objective_measures(index)
        if self.blind:
            objectives[:, self.scorer.searched_objectives] = 0.0
        both = np.concatenate([counts, objectives], axis=1).reshape(len(index), -1)
        return np.clip(both, -COND_CAP, COND_CAP).astype(np.float32)

    def _objective_measures(self, index: np.ndarray) -> np.ndarray:
        """Each objective's (value - lo, value - hi) over its scale, ``(len(index), n_objectives, 2)``."""
        values = self.scorer.objective_values(self._scores)[index][:, :, None]
        return (values - self._targets[index]) / self._cond_scale[:, None]

    def infos(self) -> dict[str, Any]:
        """The playtest of every environment's current grid, as arrays (copies)."""
        s = self._scores
        return {
            "playable": s.playable,
            "verdict": np.array(VERDICTS)[s.verdict],
            "score": s.score.copy(),
            "solution_length": s.length.copy(),
            "metrics": {k: s.metrics[:, j].copy() for j, k in enumerate(self.scorer.metric_names)},
            "terms": {k: s.terms[:, j].copy() for j, k in enumerate(self.scorer.term_names)},
            "changes": self.changes.copy(),
            "met": s.met.copy(),
        }

    def info(self, i: int) -> dict[str, Any]:
        """Environment ``i``'s playtest as plain Python values."""
        s = self._scores
        return {
            "playable": bool(s.verdict[i] == 1),
            "verdict": VERDICTS[s.verdict[i]],
            "score": float(s.score[i]),
            "solution_length": int(s.length[i]),
            "metrics": dict(zip(self.scorer.metric_names, s.metrics[i].tolist(), strict=True)),
            "terms": dict(zip(self.scorer.term_names, s.terms[i].tolist(), strict=True)),
            "changes": int(self.changes[i]),
            "met": bool(s.met[i]),
        }

    def final_level(self, i: int, full_report: bool = True) -> Level:
        """Environment ``i``'s level as it stands (with ``keep_best``: the best its episode built), with
        its difficulty and playtest report in ``meta``: the full report (with the solution), or
        without ``full_report`` the in-episode scores (playable, score, metrics, terms, targets)."""
        grid, payload = (self._best[i], self._best_payloads[i]) if self.keep_best else (self.grid[i], self.payloads[i])
        grid, d = grid.copy(), float(self.difficulties[i])
        scorer = self._scorers[self._variants[i]]
        if full_report:
            report = scorer.report(grid, payload, d).to_dict()
        else:
            scores = self._best_scores if self.keep_best else self._scores
            targets = self._targets[i]
            report = {
                "playable": bool(scores.verdict[i] == 1),
                "score": float(scores.score[i]),
                "metrics": dict(zip(self.scorer.metric_names, scores.metrics[i].tolist(), strict=True)),
                "terms": dict(zip(self.scorer.term_names, scores.terms[i].tolist(), strict=True)),
                "targets": {o.metric: targets[j].tolist() for j, o in enumerate(self.rules.objectives)},
            }
        pinned = self._pins[i].copy() if self._has_pins[i] else None
        return Level(scorer.rules, grid, pinned, payload, meta={"difficulty": d, "report": report})


def _measure_names(metrics: Iterable[str]) -> list[str]:
    """The names of the (value - lo, value - hi) measures of ``metrics``, in order."""
    return [f"measure {m} {end}" for m in metrics for end in ("lo", "hi")]


def _count_key(rules: Rules) -> tuple[tuple[int, int | None], ...]:
    """The rules' count ranges, one (min, max) per constraint: the key of a count variant's scorer."""
    return tuple((c.min, c.max) for c in rules.constraints)


def action_count(space: spaces.Discrete | spaces.MultiDiscrete) -> int:
    """The number of choices of a single action space (per cell for a cellwise one)."""
    return int(space.nvec.flat[0]) if isinstance(space, spaces.MultiDiscrete) else int(space.n)


def random_actions(
    space: spaces.Discrete | spaces.MultiDiscrete, rng: np.random.Generator, n: int | None = None
) -> np.ndarray:
    """Uniformly random actions of a single action space: one, or ``n`` stacked."""
    shape = () if n is None else (n,)
    if isinstance(space, spaces.MultiDiscrete):
        return rng.integers(space.nvec, size=shape + space.shape)
    return rng.integers(space.n, size=shape)


def _check_difficulty(difficulty: float | None) -> float | None:
    if difficulty is not None and not 0.0 <= difficulty <= 1.0:
        raise ValueError(f"difficulty must be in [0, 1] (or None to draw one per episode), got {difficulty}")
    return None if difficulty is None else float(difficulty)

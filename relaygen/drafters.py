"""Where drafts come from: a trained model's episodes in the environment, or the search baseline.

A drafter maps a list of :class:`Job` (a level's index, attempt, difficulty and seed) and an
optional pinned partial level to one draft level per job; the same job gives the same draft. A
model drafts every job's episodes together in a :class:`~relaygen.pool.DraftPool` (one forward
pass per step for all of them), ``candidates`` episodes per job, and :func:`best_draft` picks the
one to keep: playable, nearest its difficulty's target, best score by the in-episode scores. The
search baseline improves a random map by hill climbing. :func:`default_model` finds the model
shipped for a built-in.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from relaygen.errors import UserError
from relaygen.files import file_digest
from relaygen.hillclimb import hill_climb, search_level
from relaygen.level import Level
from relaygen.rules import Rules

if TYPE_CHECKING:
    from relaygen.agent.policy import Policy
    from relaygen.env.vector import BatchedLevelEnv

SEARCH = "search"
"""The ``model`` value that selects the no-training search baseline."""
SLOTS = 256
"""Episodes a model's draft pool runs together by default (one forward pass per step for all)."""
CANDIDATES = 16
"""Episodes a model drafts per attempt when its file recommends no number (see :func:`draft_candidates`);
the best is kept. A model that follows the difficulty knob loosely needs many to hit its targets."""


class DraftError(UserError):
    """A drafter cannot be made: a bad option, no model for the rules, or a model that cannot be
    used for them. :mod:`relaygen.generate` reports it as a ``GenerateError`` with the same message."""


@dataclass(frozen=True)
class Job:
    """One draft to make: attempt ``attempt`` at level ``index``, at ``difficulty``, from ``seed``."""

    index: int
    attempt: int
    difficulty: float
    seed: int


Drafter = Callable[[Sequence[Job], Level | None], list[Level]]
"""(jobs, pinned partial level or None) → one draft level per job, each with ``meta["report"]``."""


def model_drafter(
    model_path: str | Path,
    rules: Rules,
    candidates: int = CANDIDATES,
    slots: int | None = None,
    tile_map: str | None = None,
    pinned: bool = False,
    on_step: Callable[[int], None] | None = None,
) -> Drafter:
    """Drafts from a trained model: per job, the best level of each of ``candidates`` episodes of its
    policy, all run in one draft pool of ``slots`` environments at the rules' size. The model may
    have been trained on another game that matches ``rules`` up to tile names and order (tiles
    mapped by their properties, or by ``tile_map``'s "new=old,..." pairs). ``pinned``: the drafts
    complete a pinned partial level, which the model's representation must be able to start from.
    ``on_step`` hears of every step of the draft pool (see :meth:`~relaygen.pool.DraftPool.run`)."""
    from relaygen.pool import DraftPool, Episode

    policy = fitted_policy(model_path, rules, tile_map, pinned)
    if candidates < 1:
        raise DraftError(f"candidates must be at least 1, got {candidates}")
    env = policy.make_env(
        slots or SLOTS, rules, autoreset=False, keep_best=True, **size_options(policy, rules, model_path)
    )
    fit_to_env(policy, rules, env, model_path)
    _say_if_slow(policy, rules, model_path, env.max_steps, candidates)
    pool = DraftPool(policy.model, env)
    meta = {"model": model_label(model_path), "model_digest": file_digest(model_path)}

    def draft(jobs: Sequence[Job], pinned: Level | None) -> list[Level]:
        seeds = [np.random.SeedSequence([job.seed, k]).generate_state(1)[0] for job in jobs for k in range(candidates)]
        episodes = [Episode(int(s), jobs[e // candidates].difficulty, pinned) for e, s in enumerate(seeds)]
        levels = pool.run(episodes, on_step)
        kept = [best_draft(levels[j * candidates : (j + 1) * candidates]) for j in range(len(jobs))]
        for level in kept:
            level.meta.update(meta)
        return kept

    return draft


# ----- whether a trained model fits rules: one answer for generate, watch and fine-tuning ------------


def fitted_policy(model_path: str | Path, rules: Rules, tile_map: str | None = None, pinned: bool = False) -> Policy:
    """The policy in ``model_path``, checked to draft levels of ``rules`` (its tiles mapped, and able to
    complete a pinned level if ``pinned``); :class:`DraftError` says why not."""
    from relaygen.agent.model import ModelError
    from relaygen.agent.policy import load_policy

    try:
        policy = load_policy(model_path)
    except ModelError as exc:
        raise DraftError(str(exc)) from None
    if pinned and not _starts_from_levels(policy.representation):
        raise DraftError(
            f"--pin: the model {model_path} edits with the {policy.representation} representation, which cannot "
            f"complete a pinned level; use --model {SEARCH}, or a model of another representation"
        )
    fit_tiles(policy, rules, model_path, tile_map)
    return policy


def fit_tiles(policy: Policy, rules: Rules, model_path: str | Path, tile_map: str | None = None) -> None:
    """Remap ``policy``'s model onto the tiles of ``rules`` (by their properties, or ``tile_map``'s
    "new=old,..." pairs); :class:`DraftError` unless they match one to one, the objectives are the
    model's and the rules offer its representation."""
    from relaygen.agent.tilemap import TileMapError, map_tiles, parse_tile_map, remap_model

    trained = policy.rules
    refusal = f"{model_path}: the model (trained for rules {trained.name!r}) does not fit rules {rules.name!r}"
    fine_tune = f"fine-tune it with `relaygen train RULES --init-from {model_path}`"
    try:
        tiles = map_tiles(rules, trained, parse_tile_map(tile_map))
    except TileMapError as exc:
        raise DraftError(f"{refusal}: {exc}") from None
    if not tiles.exact:
        raise DraftError(f"{refusal}: their tiles do not match one to one ({tiles.summary()}); {fine_tune}")
    metrics = [[o.metric for o in r.objectives] for r in (trained, rules)]
    if metrics[0] != metrics[1]:
        raise DraftError(f"{refusal}: objectives {metrics[0]} in the model, {metrics[1]} here; {fine_tune}")
    if policy.representation not in rules.representations:
        raise DraftError(
            f"{refusal}: it edits with the {policy.representation} representation, which the rules do not offer "
            f"(they offer {', '.join(rules.representations)}); add it to their representations, or train a model"
        )
    policy.model = remap_model(policy.model, tiles, policy.representation)


def size_options(policy: Policy, rules: Rules, model_path: str | Path) -> dict[str, Any]:
    """The environment options with which ``policy``'s model can play ``rules`` at their size: at
    another size than the model's, a crop-observing model keeps its crop and a spatial one is
    rebuilt for the new map (:func:`fit_to_env`); one that reads the whole map through fully
    connected layers cannot be used (:class:`DraftError`)."""
    from relaygen.env.representations import KINDS

    trained = policy.rules
    if (rules.width, rules.height) == (trained.width, trained.height):
        return {}
    if KINDS[policy.representation].egocentric:
        return {"crop_size": policy.model.arch["map_shape"][1]}
    if not policy.model.spatial:
        raise DraftError(
            f"{model_path}: this model reads the whole {trained.width}x{trained.height} map through fully "
            f"connected layers, so it cannot play {rules.width}x{rules.height} levels; use --model {SEARCH}, or a "
            "model with a cropped view (narrow, turtle, carve, backtrack) or spatial actions (wide, nca)"
        )
    return {}


def fit_to_env(policy: Policy, rules: Rules, env: BatchedLevelEnv, model_path: str | Path) -> None:
    """:func:`misfits_in` ``env``, an environment of ``rules``, as a :class:`DraftError` that says how
    the model does not fit, if it does not."""
    misfits = misfits_in(policy, rules, env)
    if misfits:
        raise DraftError(
            f"{model_path}: the model does not fit rules {rules.name!r}: {'; '.join(misfits)}; "
            "train one for them, or fine-tune with --init-from"
        )


def misfits_in(policy: Policy, rules: Rules, env: BatchedLevelEnv) -> list[str]:
    """Rebuild a spatial (fully convolutional) model for ``env``'s map, the same weights (it fits any
    map size), then say how the observation and actions of ``env``, an environment of ``rules``,
    do not fit the model: one line each, none when it fits. Generate, watch and fine-tuning all
    decide by it."""
    from relaygen.env.vector import action_count

    shape, n_actions = tuple(env.single_observation_space["map"].shape), action_count(env.single_action_space)
    arch = policy.model.arch
    if policy.model.spatial and (list(shape) != list(arch["map_shape"]) or n_actions != arch["n_actions"]):
        policy.model = policy.model.resized(shape, n_actions)
    return policy.misfits(rules, env)


SLOW_STEPS = 20_000
"""Episode steps per level above which generation says up front that a level may take minutes."""


def _say_if_slow(policy: Policy, rules: Rules, model_path: str | Path, max_steps: int, candidates: int) -> None:
    """Say on standard error, before drafting starts, when a level of ``rules`` costs so many episode
    steps (a map much larger than the model's) that it may take minutes."""
    steps = max_steps * candidates
    if steps > SLOW_STEPS:
        trained = policy.rules
        print(
            f"relaygen generate: {Path(model_path).name} was trained on {trained.width}x{trained.height} maps; "
            f"at {rules.width}x{rules.height} a level takes up to {candidates} episodes of {max_steps} steps "
            f"({steps} steps), which may take minutes per level",
            file=sys.stderr,
        )


def _starts_from_levels(representation: str) -> bool:
    from relaygen.env.representations import KINDS

    return KINDS[representation].starts_from_levels


def draft_candidates(model_path: str | Path) -> int:
    """The episodes per attempt a model file recommends: its ``meta["candidates"]`` (the fewest with
    which it follows the difficulty knob, measured when it was shipped), else :data:`CANDIDATES`;
    1 for the search baseline, which drafts once per attempt."""
    return 1 if str(model_path) == SEARCH else _recommended(model_path, "candidates", CANDIDATES, least=1)


def draft_deepen(model_path: str | Path) -> int:
    """The reverse-search states a model file recommends for deepening its drafts (``generate``'s
    ``deepen``): its ``meta["deepen"]`` (measured when it was shipped), else 0 (off); 0 for the
    search baseline."""
    return 0 if str(model_path) == SEARCH else _recommended(model_path, "deepen", 0, least=0)


def _recommended(model_path: str | Path, key: str, default: int, least: int) -> int:
    """The whole number ``meta[key]`` of a model file (at least ``least``), else ``default``."""
    from relaygen.agent.checkpoint import read_payload
    from relaygen.agent.model import ModelError

    try:
        recommended = read_payload(model_path, "model", ModelError).get("meta", {}).get(key, default)
    except ModelError as exc:
        raise DraftError(str(exc)) from None
    if not isinstance(recommended, int) or isinstance(recommended, bool) or recommended < least:
        raise DraftError(f"{model_path}: meta {key!r} must be a whole number of at least {least}, got {recommended!r}")
    return recommended


def search_drafter(rules: Rules, proposals: int = 300) -> Drafter:
    """Drafts from the search baseline: a random map improved by hill climbing (no model)."""

    def draft(jobs: Sequence[Job], pinned: Level | None) -> list[Level]:
        levels = []
        for job in jobs:
            rng = np.random.default_rng(job.seed)
            if pinned is not None:
                level, report = hill_climb(_fill_free(pinned, rng), job.difficulty, rng, proposals)
            else:
                level, report = search_level(rules, job.difficulty, rng, proposals)
            level.meta.update(model=SEARCH, difficulty=job.difficulty, report=report.to_dict())
            levels.append(level)
        return levels

    return draft


def best_draft(drafts: list[Level]) -> Level:
    """The draft to keep: playable first, then nearest the targets the difficulty knob moves at its
    difficulty (the least sum of those objectives' shortfalls from a full term), then the highest
    score, then the one deepest inside its targets (:func:`target_depth`: of two drafts that keep
    every promise, the one that keeps them by the wider margin), by each draft's ``meta["report"]``;
    the first on ties."""

    def key(level: Level) -> tuple[bool, float, float, float]:
        report = level.meta["report"]
        off = sum(1.0 - report["terms"][o.metric] for o in level.rules.knob_objectives)
        return not report["playable"], off, -report["score"], -target_depth(report)

    return min(drafts, key=key)


def target_depth(report: dict[str, Any]) -> float:
    """How deep inside their targets a report's objectives lie: the sum, over the objectives with a
    bounded target of some width, of the distance to the nearer end over the width (0 at an end or
    outside, 0.5 in the middle)."""
    depth = 0.0
    for metric, (lo, hi) in report.get("targets", {}).items():
        if lo is not None and hi is not None and math.isfinite(hi) and hi > lo and metric in report["metrics"]:
            depth += max(0.0, min(report["metrics"][metric] - lo, hi - report["metrics"][metric])) / (hi - lo)
    return depth


def _fill_free(partial: Level, rng: np.random.Generator) -> Level:
    """A partial level with its free cells drawn at random."""
    fresh = Level.random(partial.rules, rng, partial.width, partial.height)
    level = partial.copy()
    free = ~partial.pinned if partial.pinned is not None else np.zeros(partial.grid.shape, dtype=bool)
    level.grid[free] = fresh.grid[free]
    return level


def model_label(path: str | Path) -> str:
    """How a level names the model that made it: ``builtin:<rules>`` for a shipped model, else the
    file's name (never a path of the machine that made it)."""
    path = Path(path)
    return f"builtin:{path.stem}" if path.resolve().parent == _shipped_folder().resolve() else path.name


def shipped_models() -> list[Path]:
    """The model files shipped with relaygen, one per built-in ruleset that has one."""
    return sorted(_shipped_folder().glob("*.pt"))


def _shipped_folder() -> Path:
    return Path(str(resources.files("relaygen") / "models"))


def default_model(rules: Rules, source: str | Path | None = None) -> Path:
    """The model shipped for a built-in ruleset; the error for other rules says how to train one on
    ``source``, the rules' name or file as the user gave it."""
    path = _shipped_folder() / f"{rules.name}.pt"
    if not path.exists():
        raise DraftError(
            f"no shipped model for rules {rules.name!r}: train one with `relaygen train {source or rules.name}` "
            f"and pass --model, or use --model {SEARCH} for the no-training search baseline"
        )
    return path

"""Where drafts come from: a trained model's episodes in the environment, or the search baseline.

A drafter maps (difficulty, seed, pinned partial level or None) to draft levels, each with the
playtest report it was judged by in ``meta["report"]``; the same arguments give the same drafts.
A model drafts a batch of episodes at once (one forward pass per step for all of them), and
:func:`best_draft` picks the one to keep: playable, nearest its difficulty's target, best score.
:func:`default_model` finds the model shipped for a built-in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from relaygen.files import file_digest
from relaygen.level import Level
from relaygen.playtest import distance
from relaygen.rules import Rules
from relaygen.search import hill_climb, search_level

if TYPE_CHECKING:
    from relaygen.agent.evaluate import Policy

SEARCH = "search"
"""The ``model`` value that selects the no-training search baseline."""
CANDIDATES = 16
"""Episodes a model drafts together per attempt by default (more follow the difficulty closer, slower)."""


class GenerateError(ValueError):
    """Generation cannot start: bad rules, model, difficulty or output folder."""


Drafter = Callable[[float, int, Level | None], list[Level]]
"""(difficulty, seed, pinned partial level or None) → draft levels, each with ``meta["report"]``."""


def model_drafter(model_path: str | Path, rules: Rules, candidates: int = CANDIDATES) -> Drafter:
    """Drafts from a trained model: the best level of each of ``candidates`` episodes of its policy,
    run in one batched environment at the rules' size and judged by the environment's playtest."""
    import torch

    from relaygen.agent.evaluate import load_policy
    from relaygen.agent.model import ModelError

    try:
        policy = load_policy(model_path)
    except ModelError as exc:
        raise GenerateError(str(exc)) from None
    if [t.name for t in policy.rules.tiles] != [t.name for t in rules.tiles] or policy.rules.mechanic != rules.mechanic:
        raise GenerateError(
            f"{model_path}: model was trained for rules {policy.rules.name!r} ({policy.rules.mechanic}, tiles "
            f"{[t.name for t in policy.rules.tiles]}), not {rules.name!r}"
        )
    if candidates < 1:
        raise GenerateError(f"candidates must be at least 1, got {candidates}")
    env = _model_env(policy, rules, model_path, candidates)
    digest = file_digest(model_path)

    def draft(difficulty: float, seed: int, pinned: Level | None) -> list[Level]:
        policy.generator = torch.Generator().manual_seed(seed)
        options: dict[str, Any] = {"difficulty": difficulty}
        if pinned is not None:
            options["level"] = pinned
        obs, _ = env.reset(seed=seed, options=options)
        drafts: dict[int, Level] = {}
        while len(drafts) < candidates:
            obs, _, terminated, truncated, _ = env.step(policy(obs))
            for i in np.flatnonzero(terminated | truncated):
                if i not in drafts:  # a finished episode's later steps are ignored
                    drafts[i] = env.final_level(i)
                    drafts[i].meta.update(model=str(model_path), model_digest=digest)
        return [drafts[i] for i in range(candidates)]

    return draft


def _model_env(policy: Policy, rules: Rules, model_path: str | Path, num_envs: int) -> Any:
    """A ``num_envs``-level environment of ``rules`` (set up as in training) with ``policy``'s model fitted to it.

    At another size than the model's, a crop-observing model keeps its crop, a spatial one is
    rebuilt for the new map with the same weights, and one that reads the whole map through fully
    connected layers cannot be used. The observation and actions must fit the model's.
    """
    from relaygen.env.representations import KINDS
    from relaygen.env.vector import action_count

    trained, arch = policy.rules, policy.model.arch
    resized = (rules.width, rules.height) != (trained.width, trained.height)
    options: dict[str, Any] = {"autoreset": False, "keep_best": True}
    if resized and KINDS[policy.representation].egocentric:
        options["crop_size"] = arch["map_shape"][1]
    elif resized and not arch["spatial"]:
        raise GenerateError(
            f"{model_path}: this model reads the whole {trained.width}x{trained.height} map through fully "
            f"connected layers, so it cannot generate at {rules.width}x{rules.height}; use --model {SEARCH}, or a "
            "model with a cropped view (narrow, turtle, carve) or spatial actions (wide)"
        )
    env = policy.make_env(num_envs, rules, **options)
    shape, n_actions = tuple(env.single_observation_space["map"].shape), action_count(env.single_action_space)
    if resized and arch["spatial"]:
        policy.model = policy.model.resized(shape, n_actions)
    misfits = policy.misfits(rules, env)
    if misfits:
        raise GenerateError(
            f"{model_path}: the model does not fit rules {rules.name!r}: {'; '.join(misfits)}; "
            "train one for them, or fine-tune with --init-from"
        )
    return env


def search_drafter(rules: Rules, proposals: int = 300) -> Drafter:
    """Drafts from the search baseline: a random map improved by hill climbing (no model)."""

    def draft(difficulty: float, seed: int, pinned: Level | None) -> list[Level]:
        rng = np.random.default_rng(seed)
        if pinned is not None:
            level, report = hill_climb(_fill_free(pinned, rng), difficulty, rng, proposals)
        else:
            level, report = search_level(rules, difficulty, rng, proposals)
        level.meta.update(model=SEARCH, report=report.to_dict())
        return [level]

    return draft


def best_draft(drafts: list[Level]) -> Level:
    """The draft to keep: playable first, then nearest the target of the rules' difficulty metric at
    its difficulty, then the highest score (by each draft's ``meta["report"]``; the first on ties)."""

    def key(level: Level) -> tuple[bool, float, float]:
        report, knob = level.meta["report"], level.rules.difficulty
        off = 0.0 if knob is None else distance(report["metrics"][knob.metric], report["targets"][knob.metric])
        return not report["playable"], off, -report["score"]

    return min(drafts, key=key)


def _fill_free(partial: Level, rng: np.random.Generator) -> Level:
    """A partial level with its free cells drawn at random."""
    fresh = Level.random(partial.rules, rng, partial.width, partial.height)
    level = partial.copy()
    free = ~partial.pinned if partial.pinned is not None else np.zeros(partial.grid.shape, dtype=bool)
    level.grid[free] = fresh.grid[free]
    return level


def default_model(rules: Rules) -> Path:
    """The model shipped for a built-in ruleset."""
    from importlib import resources

    path = Path(str(resources.files("relaygen") / "models" / f"{rules.name}.pt"))
    if not path.exists():
        raise GenerateError(
            f"no shipped model for rules {rules.name!r}: train one with `relaygen train {rules.name}` "
            f"and pass --model, or use --model {SEARCH} for the no-training search baseline"
        )
    return path

"""Where drafts come from: a trained model's episode in the environment, or the search baseline.

A drafter maps (difficulty, seed, pinned partial level or None) to a draft level; the same
arguments give the same draft. :func:`default_model` finds the model shipped for a built-in.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from relaygen.files import file_digest
from relaygen.level import Level
from relaygen.rules import Rules
from relaygen.search import hill_climb, search_level

if TYPE_CHECKING:
    from relaygen.agent.evaluate import Policy

SEARCH = "search"
"""The ``model`` value that selects the no-training search baseline."""


class GenerateError(ValueError):
    """Generation cannot start: bad rules, model, difficulty or output folder."""


Drafter = Callable[[float, int, Level | None], Level]
"""(difficulty, seed, pinned partial level or None) → a draft level."""


def model_drafter(model_path: str | Path, rules: Rules) -> Drafter:
    """Drafts from a trained model: one episode of its policy in the environment, at the rules' size."""
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
    env = _model_env(policy, rules, model_path)
    digest = file_digest(model_path)

    def draft(difficulty: float, seed: int, pinned: Level | None) -> Level:
        policy.generator = torch.Generator().manual_seed(seed)
        options: dict[str, Any] = {"difficulty": difficulty}
        if pinned is not None:
            options["level"] = pinned
        obs, _ = env.reset(seed=seed, options=options)
        while True:
            obs, _, terminated, truncated, _ = env.step(policy(obs))
            if terminated[0] or truncated[0]:
                level = env.final_level(0)
                level.meta.update(model=str(model_path), model_digest=digest)
                return level

    return draft


def _model_env(policy: Policy, rules: Rules, model_path: str | Path) -> Any:
    """A one-level environment of ``rules`` (set up as in training) with ``policy``'s model fitted to it.

    At another size than the model's, a crop-observing model keeps its crop, a spatial one is
    rebuilt for the new map with the same weights, and one that reads the whole map through fully
    connected layers cannot be used. The observation and actions must fit the model's.
    """
    from relaygen.env.representations import KINDS

    trained, arch = policy.rules, policy.model.arch
    resized = (rules.width, rules.height) != (trained.width, trained.height)
    options: dict[str, Any] = {"autoreset": False}
    if resized and KINDS[policy.representation].egocentric:
        options["crop_size"] = arch["map_shape"][1]
    elif resized and not arch["spatial"]:
        raise GenerateError(
            f"{model_path}: this model reads the whole {trained.width}x{trained.height} map through fully "
            f"connected layers, so it cannot generate at {rules.width}x{rules.height}; use --model {SEARCH}, or a "
            "model with a cropped view (narrow, turtle, carve) or spatial actions (wide)"
        )
    env = policy.make_env(1, rules, **options)
    shape, n_actions = tuple(env.single_observation_space["map"].shape), int(env.single_action_space.n)
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

    def draft(difficulty: float, seed: int, pinned: Level | None) -> Level:
        rng = np.random.default_rng(seed)
        if pinned is not None:
            level, _ = hill_climb(_fill_free(pinned, rng), difficulty, rng, proposals)
        else:
            level, _ = search_level(rules, difficulty, rng, proposals)
        level.meta.update(model=SEARCH)
        return level

    return draft


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

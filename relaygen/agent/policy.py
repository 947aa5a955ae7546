"""A trained generator as a policy: a batched observation → action function.

:class:`Policy` turns a batch of observations into actions (sampled or greedy) and sets up
environments as its model was trained; :func:`load_policy` reads one from a model file, with the
rules and representation it was trained for. Generation (the model drafter), the viewer's watch
mode, fine-tuning and evaluation use it; :func:`random_actor` is the uniformly random baseline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from relaygen.agent.config import TrainConfig
from relaygen.agent.model import ActorCritic, ModelError, load_model, to_tensors
from relaygen.rules import Rules, RulesError, parse_rules

Act = Callable[[dict[str, np.ndarray]], np.ndarray]
"""A batched policy: stacked observations (B, ...) → actions (B,)."""


@dataclass
class Policy:
    """A trained model as a batched obs → action function."""

    model: ActorCritic
    rules: Rules
    representation: str
    meta: dict[str, Any]
    greedy: bool = False
    """Take the most probable action instead of sampling one."""
    seed: int | None = None

    def __post_init__(self) -> None:
        self.generator = torch.Generator().manual_seed(self.seed) if self.seed is not None else None

    def __call__(self, obs: dict[str, np.ndarray]) -> np.ndarray:
        """Actions (B,) for stacked observations (B, ...)."""
        with torch.inference_mode():
            logits, _ = self.model(to_tensors(obs))
        if self.greedy:
            return logits.argmax(dim=-1).numpy()
        uniform = torch.rand(logits.shape, generator=self.generator).clamp_(min=1e-12)
        return (logits - torch.log(-torch.log(uniform))).argmax(dim=-1).numpy()  # Gumbel-max sample

    def misfits(self, rules: Rules, env: Any) -> list[str]:
        """How this model does not fit ``env``, an environment of ``rules``: map shape, conditions,
        actions and critic inputs, one line each (empty when it fits). The model's tiles must be
        those of ``rules`` (see :func:`relaygen.agent.tilemap.remap_model`)."""
        from relaygen.env.vector import action_count

        space, arch = env.single_observation_space, self.model.arch
        ours = {
            "map_shape": list(space["map"].shape),
            "cond_size": int(space["cond"].shape[0]),
            "n_actions": action_count(env.single_action_space),
            "critic_size": int(space["critic"].shape[0]) if "critic" in space.spaces else 0,
        }
        theirs = {
            "map_shape": list(arch["map_shape"]),
            "cond_size": arch["cond_size"],
            "n_actions": arch["n_actions"],
            "critic_size": arch.get("critic_size", 0),
        }
        return [
            f"{key} {theirs[key]} in the model, {value} here" for key, value in ours.items() if theirs[key] != value
        ]

    def env_options(self, **options: Any) -> dict[str, Any]:
        """The environment's keyword arguments as in training (difficulty, change limit, crop size,
        observations), but with the rules' own count ranges, and for a blind model a search only at
        each episode's end; ``options`` that are not None override those."""
        trained = TrainConfig.from_dict(self.meta.get("config", {}), "model config").env_options()
        drafting = {"vary_counts": False} | ({"search_at_end": True} if trained["blind"] else {})
        return trained | drafting | {k: v for k, v in options.items() if v is not None}

    def make_env(self, num_envs: int, rules: Rules | None = None, **options: Any) -> Any:
        """A batched environment for ``rules`` (default: the policy's own) set up as in training;
        ``options`` as in :meth:`env_options`."""
        from relaygen.env.vector import BatchedLevelEnv

        return BatchedLevelEnv(rules or self.rules, self.representation, num_envs, **self.env_options(**options))


def load_policy(path: str | Path, greedy: bool = False, seed: int | None = None) -> Policy:
    """The policy in model file ``path``; :class:`ModelError` names the file if it cannot be used."""
    model, meta = load_model(path)
    try:
        rules = parse_rules(meta["rules_toml"], f"{path} (embedded rules)", sources=meta.get("rules_sources"))
        representation = str(meta["representation"])
    except (KeyError, RulesError) as exc:
        raise ModelError(f"{path}: model file lacks usable rules: {exc}") from None
    if rules.digest != meta.get("rules_digest"):
        raise ModelError(f"{path}: embedded rules do not match the recorded digest")
    return Policy(model, rules, representation, meta, greedy, seed)


def random_actor(space: Any, seed: int) -> Act:
    """Uniformly random actions of the single action ``space``: the baseline."""
    from relaygen.env.vector import random_actions

    rng = np.random.default_rng(seed)
    return lambda obs: random_actions(space, rng, len(obs["cond"]))

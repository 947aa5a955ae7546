"""Evaluation of a trained generator, side by side with a random agent, and the reusable policy.

:class:`Policy` turns a batch of observations into actions (sampled or greedy); :func:`load_policy`
reads one from a model file, with the rules and representation it was trained for. The generate
and viewer code reuse both. :func:`evaluate` builds levels with the policy and with uniformly
random actions in the same environment, and judges every finished level with the full playtester
(no retries): playable rate, quality score, per-objective satisfaction, tiles changed, diversity
and time per level.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from relaygen.agent.config import TrainConfig
from relaygen.agent.model import ActorCritic, ModelError, load_model, to_tensors
from relaygen.cliutil import progress as bars
from relaygen.level import Level, diversity
from relaygen.playtest import playtest
from relaygen.rules import Rules, RulesError, parse_rules

Act = Callable[[dict[str, np.ndarray]], np.ndarray]


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
        """How this model does not fit ``env``, an environment of ``rules``: map shape, conditions and
        actions, one line each (empty when it fits). The model's tiles must be those of ``rules``
        (see :func:`relaygen.agent.tilemap.remap_model`)."""
        from relaygen.env.vector import action_count

        space, arch = env.single_observation_space, self.model.arch
        ours = {
            "map_shape": list(space["map"].shape),
            "cond_size": int(space["cond"].shape[0]),
            "n_actions": action_count(env.single_action_space),
        }
        theirs = {
            "map_shape": list(arch["map_shape"]),
            "cond_size": arch["cond_size"],
            "n_actions": arch["n_actions"],
        }
        return [
            f"{key} {theirs[key]} in the model, {value} here" for key, value in ours.items() if theirs[key] != value
        ]

    def env_options(self, **options: Any) -> dict[str, Any]:
        """The environment's keyword arguments as in training (difficulty, change limit, crop size,
        budget observation); ``options`` that are not None override those."""
        trained = TrainConfig.from_dict(self.meta.get("config", {}), "model config").env_options()
        return trained | {k: v for k, v in options.items() if v is not None}

    def make_env(self, num_envs: int, rules: Rules | None = None, **options: Any) -> Any:
        """A batched environment for ``rules`` (default: the policy's own) set up as in training;
        ``options`` as in :meth:`env_options`."""
        from relaygen.env.vector import BatchedLevelEnv

        return BatchedLevelEnv(rules or self.rules, self.representation, num_envs, **self.env_options(**options))


def load_policy(path: str | Path, greedy: bool = False, seed: int | None = None) -> Policy:
    """The policy in model file ``path``; :class:`ModelError` names the file if it cannot be used."""
    model, meta = load_model(path)
    try:
        rules = parse_rules(meta["rules_toml"], f"{path} (embedded rules)")
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


def build_levels(
    env: Any, act: Act, episodes: int, seed: int, tick: Callable[[], object] = lambda: None
) -> tuple[list[Level], list[int], float]:
    """Run ``episodes`` episodes (an equal share per environment, so short ones are not favoured),
    calling ``tick`` as each one ends.

    Returns the finished levels, the tiles each episode changed, and the wall time.
    """
    n = env.num_envs
    quota = np.full(n, episodes // n) + (np.arange(n) < episodes % n)
    levels: list[Level] = []
    changes: list[int] = []
    started = time.perf_counter()
    obs, _ = env.reset(seed=seed)
    while (quota > 0).any():
        obs, _, terminated, truncated, infos = env.step(act(obs))
        for i in np.flatnonzero((terminated | truncated) & (quota > 0)):
            levels.append(infos["final_level"][i])
            changes.append(int(infos["changes"][i]))
            quota[i] -= 1
            tick()
    return levels, changes, time.perf_counter() - started


def judge(
    levels: list[Level], changes: list[int], seconds: float, tick: Callable[[], object] = lambda: None
) -> dict[str, Any]:
    """The metrics of a set of generated levels, each playtested in full at its own difficulty
    (``tick`` is called after each playtest)."""
    reports = []
    for level in levels:
        reports.append(playtest(level, level.meta["difficulty"]))
        tick()
    hamming, distinct = diversity(levels)
    terms = reports[0].terms.keys() if reports else []
    return {
        "levels": len(levels),
        "playable_rate": float(np.mean([r.playable for r in reports])),
        "met_rate": float(np.mean([r.met for r in reports])),
        "mean_score": float(np.mean([r.score for r in reports])),
        "satisfaction": {k: float(np.mean([r.terms[k] == 1.0 for r in reports])) for k in terms},
        "mean_tiles_changed": float(np.mean(changes)),
        "hamming": hamming,
        "distinct": distinct,
        "seconds_per_level": seconds / max(len(levels), 1),
    }


def evaluate(
    model: str | Path | Policy,
    episodes: int = 200,
    difficulty: float | None = None,
    greedy: bool = False,
    seed: int = 0,
    num_envs: int = 16,
    keep_best: bool = False,
    progress: bool = False,
) -> dict[str, Any]:
    """The model's metrics and a random agent's, in the same environment with the same seeds; with
    ``keep_best`` each episode's best level is judged instead of its last; ``progress`` shows bars
    of the levels built and playtested on stderr."""
    policy = model if isinstance(model, Policy) else load_policy(model, greedy, seed)
    torch.set_num_threads(1)
    env = policy.make_env(min(num_envs, episodes), difficulty=difficulty, keep_best=keep_best)
    results = {}
    for name, act in (("model", policy), ("random", random_actor(env.single_action_space, seed))):
        built = bars(total=episodes, desc=f"{name}: levels built", unit="level", disable=not progress)
        made = build_levels(env, act, episodes, seed, built.update)
        built.close()
        tested = bars(total=episodes, desc=f"{name}: levels playtested", unit="level", disable=not progress)
        results[name] = judge(*made, tested.update)
        tested.close()
    return {
        "rules": policy.rules.name,
        "representation": policy.representation,
        "difficulty": difficulty,
        "greedy": greedy,
        "keep_best": keep_best,
        "episodes": episodes,
        "training_steps": policy.meta.get("steps"),
        **results,
    }


def format_table(result: dict[str, Any]) -> str:
    """The evaluation as a two-column text table: model | random."""
    model, rand = result["model"], result["random"]
    rows: list[tuple[str, Any, str]] = [
        ("playable rate", "playable_rate", "{:.1%}"),
        ("objectives met", "met_rate", "{:.1%}"),
        ("mean score", "mean_score", "{:.3f}"),
        ("tiles changed", "mean_tiles_changed", "{:.1f}"),
        ("hamming diversity", "hamming", "{:.3f}"),
        ("distinct levels", "distinct", "{:.1%}"),
        ("seconds per level", "seconds_per_level", "{:.4f}"),
    ]
    rows += [(f"satisfied: {name}", ("satisfaction", name), "{:.1%}") for name in model["satisfaction"]]
    width = max(len(label) for label, _, _ in rows) + 2

    def cell(side: dict[str, Any], key: str | tuple[str, str], fmt: str) -> str:
        value = side[key[0]][key[1]] if isinstance(key, tuple) else side[key]
        return f"{fmt.format(value):>10}"

    lines = [
        f"{result['rules']} ({result['representation']}), {result['episodes']} levels, "
        f"difficulty {'random' if result['difficulty'] is None else result['difficulty']}, "
        f"{'greedy' if result['greedy'] else 'sampled'} actions, "
        f"{'best' if result.get('keep_best') else 'last'} level of each episode, "
        f"model trained {result['training_steps']} steps",
        f"{'':<{width}}{'model':>10}{'random':>10}",
    ]
    lines += [f"{label:<{width}}{cell(model, key, fmt)}{cell(rand, key, fmt)}" for label, key, fmt in rows]
    return "\n".join(lines)

"""Evaluation of a trained generator, side by side with a random agent.

:func:`evaluate` builds levels with a :class:`~relaygen.agent.policy.Policy` and with uniformly
random actions in the same environment, and judges every finished level with the full playtester
(no retries): playable rate, quality score, per-objective satisfaction, tiles changed, diversity
and time per level.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from relaygen.agent.policy import Act, Policy, load_policy, random_actor
from relaygen.cliutil import progress as bars
from relaygen.level import Level, diversity
from relaygen.playtest import playtest


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

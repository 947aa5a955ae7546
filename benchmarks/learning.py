"""Learning quality: train each built-in for a wall-clock budget, then judge 200 raw levels.

For each ruleset: train A3C with the default config (wide for Sokoban) for at most ``--minutes``
on this machine, then generate ``--levels`` levels with the learned policy (sampled and greedy,
each episode's last level; and sampled, each episode's best level, as ``generate`` drafts them;
no retries, every level judged by the full playtester) and with a random agent in the same
environment. With ``stable_baselines3`` importable, ``--peer`` also trains SB3's A2C and PPO on
the same environment for the same budget and adds their rows. The quality bars of the issue are
printed next to the results.

    python benchmarks/learning.py [--rules maze dungeon sokoban relay] [--minutes 30] [--levels 200]
                                  [--runs RUN_DIR ...] [--peer] [--json FILE]

``--runs`` judges finished runs (their steps/s from the checkpoint's step count and elapsed time)
instead of training those rules again.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from relaygen.agent.checkpoint import load_checkpoint
from relaygen.agent.config import TrainConfig
from relaygen.agent.evaluate import build_levels, judge
from relaygen.agent.policy import Policy, load_policy, random_actor
from relaygen.agent.trainer import train
from relaygen.files import atomic_write
from relaygen.rules import builtin_names, parse_rules

BARS = {"maze": 0.95, "dungeon": 0.80, "sokoban": 0.90, "relay": 0.95}
"""The issue's playable-rate bars for raw generator output."""
REPRESENTATION = {"sokoban": "wide"}
"""Representation per ruleset where it is not the rules' first (wide learns Sokoban faster than narrow)."""
ANNEAL_STEPS_PER_SECOND = 2_500
"""Without --steps, the learning rate anneals over the steps this rate reaches in the budget."""


def measure(policy: Policy, act: Any, levels: int, seed: int, keep_best: bool = False) -> dict[str, Any]:
    """Metrics of ``levels`` levels built by ``act`` in the policy's environment: each episode's last
    level, or with ``keep_best`` its best (what ``generate`` drafts)."""
    env = policy.make_env(min(16, levels), keep_best=keep_best)
    return judge(*build_levels(env, act, levels, seed))


def train_a3c(rules: str, args: argparse.Namespace) -> tuple[Path, float]:
    """A3C on ``rules`` for at most ``args.minutes``; the run folder and its mean steps/s."""
    steps = args.steps or int(ANNEAL_STEPS_PER_SECOND * 60 * args.minutes)
    config = TrainConfig(
        rules=rules,
        representation=REPRESENTATION.get(rules),
        max_minutes=args.minutes,
        total_steps=steps,
        runs_dir=args.runs_dir,
        seed=args.seed,
        progress=False,
    )
    started = time.time()
    folder = train(config)
    return folder, load_checkpoint(folder)["step"] / (time.time() - started)


def train_peer(algorithm: str, policy: Policy, minutes: float, seed: int) -> tuple[Any, float]:
    """Stable-Baselines3 ``algorithm`` (a2c or ppo) on the same environment for ``minutes``."""
    import stable_baselines3 as sb3
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    from relaygen.env.level_env import LevelEnv

    class Deadline(BaseCallback):
        def __init__(self, seconds: float) -> None:
            super().__init__()
            self.end = time.time() + seconds

        def _on_step(self) -> bool:
            return time.time() < self.end

    options = TrainConfig.from_dict(policy.meta["config"]).env_options()
    env_kwargs = {"rules": policy.rules, "representation": policy.representation, **options}
    env = make_vec_env(LevelEnv, n_envs=8, seed=seed, env_kwargs=env_kwargs)
    model = getattr(sb3, algorithm.upper())("MultiInputPolicy", env, seed=seed, device="cpu", verbose=0)
    started = time.time()
    model.learn(total_timesteps=10**12, callback=Deadline(60 * minutes))
    return model, model.num_timesteps / (time.time() - started)


def benchmark(rules: str, args: argparse.Namespace) -> dict[str, Any]:
    """One ruleset's rows: A3C sampled and greedy, random, and the optional peers."""
    trained = {parse_rules(load_checkpoint(run)["rules_toml"]).name: Path(run) for run in args.runs}
    if rules in trained:
        checkpoint = load_checkpoint(trained[rules])
        folder, speed = trained[rules], checkpoint["step"] / checkpoint["elapsed"]
    else:
        folder, speed = train_a3c(rules, args)
    sampled = load_policy(folder / "model.pt", greedy=False, seed=args.seed)
    greedy = load_policy(folder / "model.pt", greedy=True)
    space = sampled.make_env(1).single_action_space
    rows = {
        "a3c (sampled)": measure(sampled, sampled, args.levels, args.seed) | {"steps_per_second": speed},
        "a3c (greedy)": measure(greedy, greedy, args.levels, args.seed) | {"steps_per_second": speed},
        "a3c (best)": measure(sampled, sampled, args.levels, args.seed, keep_best=True) | {"steps_per_second": speed},
        "random": measure(sampled, random_actor(space, args.seed), args.levels, args.seed),
    }
    if args.peer:
        for algorithm in ("a2c", "ppo"):
            model, peer_speed = train_peer(algorithm, sampled, args.minutes, args.seed)
            act = lambda obs, model=model: np.asarray(model.predict(obs, deterministic=False)[0])  # noqa: E731
            rows[f"sb3 {algorithm}"] = measure(sampled, act, args.levels, args.seed) | {"steps_per_second": peer_speed}
    return {"rules": rules, "representation": sampled.representation, "run": str(folder), "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", nargs="+", default=builtin_names())
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--steps", type=int, default=None, help="Step budget (and annealing horizon).")
    parser.add_argument("--levels", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs-dir", default="runs/benchmarks")
    parser.add_argument("--peer", action="store_true", help="Also train SB3 A2C and PPO (needs stable_baselines3).")
    parser.add_argument(
        "--runs", nargs="+", default=[], help="Judge these finished run folders instead of training their rules."
    )
    parser.add_argument("--json", type=Path, default=None, help="Also write the results to this JSON file.")
    args = parser.parse_args()
    results = []
    print(
        f"{'rules':<9}{'agent':<15}{'playable':>9}{'bar':>6}{'score':>7}{'met':>7}{'distinct':>9}{'steps/s':>9}",
        flush=True,
    )
    for rules in args.rules:
        result = benchmark(rules, args)
        results.append(result)
        for agent, row in result["rows"].items():
            bar = f"{BARS[rules]:.0%}" if rules in BARS and agent.startswith("a3c") else ""
            speed = f"{row['steps_per_second']:.0f}" if "steps_per_second" in row else ""
            print(
                f"{rules:<9}{agent:<15}{row['playable_rate']:>9.1%}{bar:>6}{row['mean_score']:>7.3f}"
                f"{row['met_rate']:>7.1%}{row['distinct']:>9.1%}{speed:>9}",
                flush=True,
            )
    if args.json:
        atomic_write(args.json, json.dumps({"minutes": args.minutes, "results": results}, indent=1))


if __name__ == "__main__":
    main()

"""Environment speed: random-action steps per second for every built-in × representation.

Runs on one core (pinned with ``sched_setaffinity``, BLAS threads set to 1) and prints a table:
single-environment steps/s (``LevelEnv``), batched steps/s (``BatchedLevelEnv``, environment
steps, i.e. batch steps × batch size, autoreset included) and the reward alone, in µs per
environment step (the time spent in the scorer during the batched run, over all its steps).
Rates are per CPU second of this process (``time.process_time``), so other work on a shared
machine does not slow the figures down.

    python benchmarks/env_speed.py [--seconds 2] [--envs 64] [--cpu 0] [--only maze-narrow]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from relaygen.env import builtin_ids  # noqa: E402
from relaygen.env.level_env import LevelEnv  # noqa: E402
from relaygen.env.vector import BatchedLevelEnv, random_actions  # noqa: E402


def single_rate(rules: str, rep: str, seconds: float) -> float:
    """Random-action steps per second of one ``LevelEnv`` (resets included)."""
    env = LevelEnv(rules, rep)
    env.reset(seed=0)
    env.action_space.seed(0)
    steps, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for _ in range(100):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        steps += 100
    return steps / (time.process_time() - start)


def batched_rate(rules: str, rep: str, n: int, seconds: float) -> tuple[float, float]:
    """(environment steps per second, scorer µs per environment step) of a ``BatchedLevelEnv``."""
    env = BatchedLevelEnv(rules, rep, n)
    env.reset(seed=0)
    scoring = [0.0]
    score = env.scorer.score

    def timed(*args: object) -> object:
        t = time.process_time()
        out = score(*args)  # type: ignore[arg-type]
        scoring[0] += time.process_time() - t
        return out

    env.scorer.score = timed  # type: ignore[method-assign]
    rng = np.random.default_rng(0)
    space = env.single_action_space
    steps, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        for _ in range(10):
            env.step(random_actions(space, rng, n))
        steps += 10 * n
    elapsed = time.process_time() - start
    return steps / elapsed, scoring[0] / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    parser.add_argument("--envs", type=int, default=64, help="batch size of the batched environment")
    parser.add_argument("--cpu", type=int, default=0, help="the core to pin to (-1: no pinning)")
    parser.add_argument("--only", nargs="*", default=None, help="rules-representation pairs, e.g. maze-narrow")
    args = parser.parse_args()
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    print(f"{'rules':<9} {'repr':<7} {'single st/s':>12} {'batched st/s':>13} {'reward µs/st':>13}")
    for name, rep in builtin_ids().values():
        if args.only and f"{name}-{rep}" not in args.only:
            continue
        single = single_rate(name, rep, args.seconds)
        batched, reward = batched_rate(name, rep, args.envs, args.seconds)
        print(f"{name:<9} {rep:<7} {single:>12,.0f} {batched:>13,.0f} {reward:>13.1f}", flush=True)


if __name__ == "__main__":
    main()

"""Playtests per second for each built-in mechanic on random levels of its default size.

Two sets per ruleset: random maps drawn from the tile weights (Relay: a random self-avoiding
carved path), most of which break a count constraint and are rejected early, and playable levels
made by the search baseline, which the playtester must really solve. Sokoban is timed with the
training-time budget and the full solver; microban.py measures the solver on a real collection.

    python benchmarks/playtest_speed.py [--levels 300] [--playable 30] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from relaygen.generate import generate
from relaygen.level import DIRECTIONS, Level
from relaygen.mechanics import Budget
from relaygen.playtest import playtest
from relaygen.rules import builtin_names, load_rules


def random_relay(rng: np.random.Generator) -> Level:
    """A random carved path from a random start, for the Relay mechanic."""
    rules = load_rules("relay")
    level = Level.random(rules, rng)
    path, start = rules.tile_index["path"], (int(rng.integers(rules.height)), int(rng.integers(rules.width)))
    y, x = start
    moves = []
    for _ in range(int(rng.integers(5, 40))):
        options = [
            (m, y + dy, x + dx)
            for m, (dy, dx) in DIRECTIONS.items()
            if 0 <= y + dy < rules.height
            and 0 <= x + dx < rules.width
            and level.grid[y + dy, x + dx] != path
            and (y + dy, x + dx) != start
        ]
        if not options:
            break
        m, y, x = options[int(rng.integers(len(options)))]
        level.grid[y, x] = path
        moves.append(m)
    level.grid[start] = rules.tile_index["start"]
    level.grid[y, x] = rules.tile_index["end"]
    return level


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=300)
    parser.add_argument("--playable", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    budgets = {"training budget (2,000 nodes)": Budget(max_nodes=2000), "full solver (10 s)": Budget(time_limit=10.0)}
    print(f"{'ruleset':<10} {'levels':<9} {'budget':<30} {'playtests/s':>12} {'playable':>9}")
    for name in builtin_names():
        rules = load_rules(name)
        sets = {
            "random": [random_relay(rng) if name == "relay" else Level.random(rules, rng) for _ in range(args.levels)],
            "playable": generate(rules, args.playable, model="search", seed=args.seed, difficulty_range=(0.0, 1.0))
            if name != "relay"
            else [lv for lv in (random_relay(rng) for _ in range(args.levels)) if playtest(lv).playable][
                : args.playable
            ],
        }
        for kind, levels in sets.items():
            for label, budget in budgets.items() if name == "sokoban" else [("-", Budget())]:
                start = time.perf_counter()
                playable = sum(playtest(level, 0.5, budget).playable for level in levels)
                rate = len(levels) / (time.perf_counter() - start)
                print(f"{name:<10} {kind:<9} {label:<30} {rate:>12,.0f} {playable / len(levels):>9.1%}")


if __name__ == "__main__":
    main()

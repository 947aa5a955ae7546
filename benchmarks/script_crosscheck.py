"""The script mechanic against the push mechanic on Microban: the shipped Sokoban written as a
PuzzleScript game (relaygen/rulesets/sokoban.txt) is solved by the script solver and by the push
mechanic, each with the same time limit; every level both decide must get the same verdict, and every
solution must win when replayed in the other mechanic.

Usage: python benchmarks/script_crosscheck.py [--levels 50] [--time-limit 10] [--file PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from importlib import resources
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from relaygen.formats import read_levels
from relaygen.level import Level
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.base import Budget, replay
from relaygen.playtest import playtest
from relaygen.rules import load_rules

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "tests" / "data" / "microban.xsb"


def wins(level: Level, solution: str) -> bool:
    """Whether ``solution`` wins ``level`` when replayed through its mechanic."""
    states = replay(get_mechanic(level.rules.mechanic), level, solution.lower())
    return len(states) == len(solution) + 1 and states[-1].won


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=50)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    args = parser.parse_args()
    script_rules = load_rules(Path(str(resources.files("relaygen") / "rulesets" / "sokoban.txt")))
    budget = Budget(time_limit=args.time_limit)
    solved = agreed = decided = replayed = 0
    started = time.perf_counter()
    print(f"{'level':>5} {'script':>8} {'moves':>5} {'states':>7} {'s':>6}   {'push':>8} {'moves':>5} {'s':>6}")
    for i, level in enumerate(read_levels(args.file)[: args.levels], start=1):
        scripted = Level.from_rows(script_rules, level.rows())
        t0 = time.perf_counter()
        by_script = playtest(scripted, budget=budget)
        t1 = time.perf_counter()
        by_push = playtest(level, budget=budget)
        t2 = time.perf_counter()
        solved += by_script.solvable == "yes"
        if "unknown" not in (by_script.solvable, by_push.solvable):
            decided += 1
            agreed += by_script.solvable == by_push.solvable
        ok = (not by_script.solution or wins(level, by_script.solution)) and (
            not by_push.solution or wins(scripted, by_push.solution)
        )
        replayed += ok
        nodes = int(by_script.metrics["solver_nodes"])
        print(
            f"{i:>5} {by_script.solvable:>8} {by_script.length:>5} {nodes:>7} {t1 - t0:>6.2f}   "
            f"{by_push.solvable:>8} {by_push.length:>5} {t2 - t1:>6.2f}{'' if ok else '   REPLAY FAILS'}"
        )
    n = min(args.levels, i)
    print(f"script solver: {solved}/{n} solved within {args.time_limit:g} s each")
    print(f"verdicts agree on {agreed}/{decided} levels both decide; solutions win in both: {replayed}/{n}")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

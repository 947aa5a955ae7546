"""Replay relaygen's solutions of PuzzleScript levels in PuzzleScript's own engine (node).

For every level of the given files or folders (PuzzleScript games, or level files of script games, e.g.
a `relaygen generate` run folder), the level is written into its game (the game with its LEVELS
replaced by that one level) and the solution relaygen recorded (or finds now, within the time limit)
is played by PuzzleScript's engine, read from a checkout of its repository; it must compile without
errors and win. Prints one line per level and the totals.

Usage: python benchmarks/script_node_check.py --puzzlescript PATH LEVELS... [--time-limit 2] [--levels N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from relaygen.errors import UserError
from relaygen.formats import level_files, read_levels
from relaygen.level import Level
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.base import Budget
from relaygen.playtest import playtest

HARNESS = Path(__file__).resolve().parent / "puzzlescript_replay.js"


def level_case(level: Level, time_limit: float) -> dict | None:
    """The replay case of one level (its game with that one level, and the solution it records or the
    playtest finds in ``time_limit`` s), or None when there is no solution or no game text."""
    mechanic = get_mechanic(level.rules.mechanic)
    solution = level.meta.get("report", {}).get("solution")
    if solution is None:
        solution = playtest(level, budget=Budget(time_limit=time_limit)).solution
    game = mechanic.collection_text([level])
    return None if solution is None or game is None else {"game": game, "level": 0, "moves": solution}


def replay(checkout: Path, cases: list[dict]) -> list[dict]:
    """Each case ({"game", "level", "moves"}) played in PuzzleScript's engine from ``checkout``, in node:
    {"compiled", "errors", "won", "moves"} per case."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        json.dump(cases, handle)
        handle.flush()
        done = subprocess.run(
            ["node", str(HARNESS), str(checkout), handle.name], capture_output=True, text=True, check=True
        )
    return [json.loads(line) for line in done.stdout.splitlines()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", type=Path, nargs="+")
    parser.add_argument("--puzzlescript", type=Path, required=True, help="a checkout of PuzzleScript's repository")
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds to solve a level without a solution")
    parser.add_argument("--levels", type=int, default=None, help="at most this many levels of each file")
    args = parser.parse_args()
    cases, names = [], []
    for file in (f for p in args.paths for f in level_files(p)):
        try:
            levels = read_levels(file)
        except UserError as exc:
            print(f"{file.name}: not read: {str(exc).splitlines()[0][:100]}")
            continue
        for level in levels[: args.levels]:
            case = level_case(level, args.time_limit)
            if case is not None:
                cases.append(case)
                names.append(f"{file.name}: {level.name}")
    results = replay(args.puzzlescript, cases)
    won = compiled = 0
    for name, case, result in zip(names, cases, results, strict=True):
        won += result["won"]
        compiled += result["compiled"]
        verdict = "wins" if result["won"] else "DOES NOT WIN"
        errors = f"  errors: {result['errors'][:2]}" if result["errors"] else ""
        print(f"{name:<50} {len(case['moves']):>4} moves  {verdict}{errors}")
    print(f"\n{len(cases)} solutions replayed in PuzzleScript's engine: {compiled} compiled, {won} won")


if __name__ == "__main__":
    main()

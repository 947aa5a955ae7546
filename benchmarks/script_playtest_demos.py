"""``relaygen playtest`` on PuzzleScript's demo games: for each game of a folder (PuzzleScript's
``src/demo``), read it as rules, playtest its first levels with a time limit, and replay every ``yes``
solution in the engine. The demos are read where they are, never copied into relaygen.

Usage: python benchmarks/script_playtest_demos.py PATH/TO/PuzzleScript/src/demo [--levels 3] [--time-limit 2]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from relaygen.errors import UserError
from relaygen.formats import read_levels
from relaygen.mechanics import get_mechanic
from relaygen.mechanics.base import Budget, replay
from relaygen.playtest import playtest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--levels", type=int, default=3, help="levels per game")
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds per level")
    args = parser.parse_args()
    budget = Budget(time_limit=args.time_limit)
    games: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    failed_replays = 0
    started = time.perf_counter()
    for path in sorted(args.folder.glob("*.txt")):
        try:
            levels = read_levels(path)[: args.levels]
        except UserError as exc:
            games["not played"] += 1
            print(f"{path.name:<40} not played: {str(exc).splitlines()[0][:110]}")
            continue
        answers = []
        for level in levels:
            report = playtest(level, budget=budget)
            verdicts[report.solvable] += 1
            if report.solution is not None:
                mechanic = get_mechanic(level.rules.mechanic)
                won = replay(mechanic, level, report.solution)[-1].won
                failed_replays += not won
            answers.append(f"{report.solvable}{f' ({report.length})' if report.solution else ''}")
        games["answered" if any(a != "unknown" for a in answers) else "all unknown"] += 1
        print(f"{path.name:<40} {', '.join(answers)}")
    print(
        f"\ngames: {games['answered']} with an answer, {games['all unknown']} all unknown, "
        f"{games['not played']} not played; levels: {dict(verdicts)}; yes solutions that do not win: "
        f"{failed_replays}; {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()

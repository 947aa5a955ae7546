"""Load every demo game of a PuzzleScript checkout (src/demo/*.txt) with relaygen.script.

Prints, per game, `loads` with its count of levels and messages, or `unsupported`/`refused` with the
one-line ScriptError (never a traceback), then the totals. The demos are not vendored (not all of them
are MIT): pass a checkout.

    python benchmarks/puzzlescript_demos.py PATH_TO_PUZZLESCRIPT [--play N]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

from relaygen.script import ScriptError, load_game


def check(path: Path, play: int) -> tuple[str, str]:
    """(verdict, detail) for one demo: loads and starts every level, playing `play` scripted moves on each."""
    try:
        game = load_game(path.read_text(encoding="utf-8"))
    except ScriptError as err:
        return ("unsupported" if err.reason.startswith("unsupported") else "refused"), str(err)
    levels = [i for i, lv in enumerate(game.levels) if lv.message is None]
    for i in levels:
        state = game.start(i)
        for move in "rdlux"[: max(play, 0)] * (play // 5 + 1):
            state = state.move(move)
    messages = len(game.levels) - len(levels)
    return "loads", f"{len(levels)} levels, {messages} messages"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkout", type=Path, help="a PuzzleScript checkout (its src/demo/*.txt are read)")
    parser.add_argument("--play", type=int, default=5, help="scripted moves played on every level (0: none)")
    args = parser.parse_args()
    verdicts: Counter[str] = Counter()
    start = time.perf_counter()
    for path in sorted((args.checkout / "src" / "demo").glob("*.txt")):
        verdict, detail = check(path, args.play)
        verdicts[verdict] += 1
        print(f"{path.name:<40} {verdict:<12} {detail}")
    total = sum(verdicts.values())
    print(f"\n{total} demos: " + ", ".join(f"{n} {v}" for v, n in verdicts.most_common()))
    print(f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()

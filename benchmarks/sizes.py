"""Other sizes: how the shipped models hold up at 0.5x, 1x, 2x and 4x their rules' area, next to
the search baseline at the same sizes.

For each built-in with a model that can change size, generate ``--levels`` levels spread over
difficulty 0..1 (seed 0, one process) at each area (width and height each scaled by the square root,
at least the rules' minimum of 3) with the shipped model and with the search baseline, and print
the share of drafts playable before any repair (every written level is playable either way), the
Spearman correlation of asked and measured difficulty, and levels/s (measured as in
generate_speed.py, which this script shares).

    python benchmarks/sizes.py [--rules maze dungeon sokoban] [--levels 40] [--areas 0.5 1 2 4]
"""

from __future__ import annotations

import argparse

# benchmarks/ is on sys.path when this file is run as a script.
from difficulty import model_for
from generate_speed import measure, scaled

from relaygen.drafters import SEARCH, draft_candidates
from relaygen.rules import load_rules

RESIZABLE = ("maze", "dungeon", "sokoban")
"""Built-ins whose shipped model can generate at another size (relay's reads the whole map)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", nargs="+", default=list(RESIZABLE))
    parser.add_argument("--levels", type=int, default=40)
    parser.add_argument("--areas", type=float, nargs="+", default=[0.5, 1, 2, 4])
    parser.add_argument("--max-seconds", type=float, default=120.0, help="stop one measurement after this long")
    args = parser.parse_args()
    print(f"{'rules':<9}{'area':>5}{'size':>7}{'generator':>11}{'raw play':>10}{'rho':>7}{'lvl/s':>8}", flush=True)
    for name in args.rules:
        rules = load_rules(name)
        for area in args.areas:
            width, height = (max(3, side) for side in scaled(rules, area))
            for generator in (model_for(rules, None, None)[1], SEARCH):
                row = measure(
                    rules, generator, args.levels, (width, height), 1,
                    candidates=draft_candidates(generator), max_seconds=args.max_seconds,
                )  # fmt: skip
                label = SEARCH if generator == SEARCH else "model"
                print(
                    f"{name:<9}{area:>5g}{row['size']:>7}{label:>11}{row['raw_playable_rate']:>10.1%}"
                    f"{row['spearman']:>7.2f}{row['levels_per_second']:>8.2f}  {row['failure']}",
                    flush=True,
                )


if __name__ == "__main__":
    main()

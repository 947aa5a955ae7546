"""Other sizes: the raw playable rate of the shipped models' drafts at the trained size and at about
twice its area.

For each built-in with a model that can change size, generate ``--levels`` levels spread over
difficulty 0..1 (seed 0) at the rules' size and at the larger size, and print the share of drafts
playable before any repair (every written level is playable either way) and levels/s.

    python benchmarks/sizes.py [--levels 20]
"""

from __future__ import annotations

import argparse
import time

from relaygen.generate import Summary, generate_iter
from relaygen.rules import load_rules

LARGER = {"sokoban": (13, 13), "dungeon": (18, 13), "maze": (23, 23)}
"""About twice the trained area of each built-in whose model can generate at another size."""


def raw_playable(rules: str, size: tuple[int, int], n: int) -> tuple[float, float]:
    """(raw playable rate of the drafts, levels/s) of ``n`` levels of ``rules`` at ``size``."""
    summary = Summary()
    started = time.perf_counter()
    for _ in generate_iter(rules, n, difficulty_range=(0.0, 1.0), seed=0, size=size, summary=summary):
        pass
    return summary.raw_playable / summary.drafts, n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=20)
    args = parser.parse_args()
    print(
        f"{'rules':<9}{'trained':>9}{'raw play':>10}{'lvl/s':>7}{'larger':>9}{'raw play':>10}{'lvl/s':>7}", flush=True
    )
    for name, larger in LARGER.items():
        rules = load_rules(name)
        trained = (rules.width, rules.height)
        (rate, speed), (big_rate, big_speed) = (raw_playable(name, s, args.levels) for s in (trained, larger))
        print(
            f"{name:<9}{'x'.join(map(str, trained)):>9}{rate:>10.1%}{speed:>7.2f}"
            f"{'x'.join(map(str, larger)):>9}{big_rate:>10.1%}{big_speed:>7.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()

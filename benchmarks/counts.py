"""Rules variants without retraining: the shipped model asked for other count ranges.

For each count range given (default: Sokoban with exactly 1, 2 and 3 boxes, and the rules' own 1
to 3), write the rules with that range, draft ``--levels`` levels with the shipped model (one draft
per level, difficulties spread over 0..1, seed 0, as ``relaygen generate --candidates 1`` drafts
them) and print the share of drafts that meet the range and the share playable, before any repair.

    python benchmarks/counts.py [--rules sokoban] [--ranges 1-1 2-2 3-3 1-3] [--levels 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from relaygen.drafters import Job, default_model, model_drafter
from relaygen.rules import load_rules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="sokoban")
    parser.add_argument("--constraint", type=int, default=1, help="which count constraint to change (index)")
    parser.add_argument("--ranges", nargs="+", default=["1-1", "2-2", "3-3", "1-3"], help="MIN-MAX per variant")
    parser.add_argument("--levels", type=int, default=100)
    args = parser.parse_args()
    rules = load_rules(args.rules)
    model = default_model(rules)
    target = rules.constraints[args.constraint]
    print(f"model {model}; varying {target.describe()}")
    print(f"{'range':>7}{'meets range':>13}{'playable':>10}{'drafts/s':>10}", flush=True)
    for text in args.ranges:
        lo, hi = (int(v) for v in text.split("-"))
        bounds = [(c.min, c.max) for c in rules.constraints]
        bounds[args.constraint] = (lo, hi)
        variant = rules.with_counts(bounds)
        draft = model_drafter(model, variant, candidates=1)
        jobs = [Job(i, 0, float(d), i) for i, d in enumerate(np.linspace(0.0, 1.0, args.levels))]
        started = time.perf_counter()
        levels = draft(jobs, None)
        seconds = time.perf_counter() - started
        counts = [level.count(*target.tiles) for level in levels]
        meets = np.mean([lo <= n <= hi for n in counts])
        playable = np.mean([level.meta["report"]["playable"] for level in levels])
        print(f"{text:>7}{meets:>13.1%}{playable:>10.1%}{len(levels) / seconds:>10.1f}", flush=True)


if __name__ == "__main__":
    main()

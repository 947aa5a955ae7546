"""Generation speed and quality: the trained model against the search baseline, asked for the same levels.

For each built-in, generate ``--levels`` levels spread over difficulty 0..1 (seed 0) once with the
shipped model (or ``DIR/<rules>.pt`` from ``--models-dir``) and once with the search baseline, in
this one run, and print per generator: levels/s (distinct playable levels written over the wall
time of the generate call, model loading included), the part of it spent outside making levels
(imports, model loading), the raw playable rate of the drafts before repair, the drafts repaired by search,
the distinct fraction of the playable candidates, the mean score, and the Spearman correlation of
asked and measured difficulty (as in difficulty.py). The model's row ends with its levels/s over
the search's.

    python benchmarks/generate_speed.py [--rules maze dungeon sokoban relay] [--levels 100]
                                        [--models-dir DIR] [--candidates 16] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

# benchmarks/ is on sys.path when this file is run as a script.
from difficulty import correlation, model_for, spread

from relaygen.drafters import CANDIDATES, SEARCH, GenerateError
from relaygen.files import atomic_write
from relaygen.generate import Summary
from relaygen.level import Level
from relaygen.rules import Rules, builtin_names, load_rules


def measure(rules: Rules, model: str | Path, n: int, candidates: int) -> dict[str, Any]:
    """Speed and quality of ``n`` levels of ``rules`` from ``model`` (drafting ``candidates`` per attempt)."""
    summary = Summary()
    started = time.perf_counter()
    levels: list[Level] = []
    try:
        spread(rules, model, n, candidates, summary, levels)
        failure = ""
    except GenerateError as exc:  # the generator gave up on a level: report what it made before
        failure = str(exc)
    seconds = time.perf_counter() - started
    return {
        "failure": failure,
        "written": summary.written,
        "seconds": seconds,
        "startup_seconds": seconds - summary.seconds,
        "levels_per_second": summary.written / seconds,
        "drafts": summary.drafts,
        "raw_playable_rate": summary.raw_playable / summary.drafts,
        "repaired": summary.repaired,
        "distinct": summary.written / (summary.written + summary.duplicates),
        "mean_score": float(np.mean(summary.scores)),
    } | correlation(rules, levels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", nargs="+", default=builtin_names())
    parser.add_argument("--levels", type=int, default=100)
    parser.add_argument("--models-dir", type=Path, default=None, help="models named <rules>.pt (default: shipped)")
    parser.add_argument("--candidates", type=int, default=CANDIDATES, help="episodes the model drafts per attempt")
    parser.add_argument("--json", type=Path, default=None, help="Also write the results to this JSON file.")
    args = parser.parse_args()
    try:
        plan = [(rules, *model_for(rules, None, args.models_dir)) for rules in map(load_rules, args.rules)]
    except GenerateError as exc:
        parser.error(str(exc))
    results = []
    print(f"models: {args.models_dir / '<rules>.pt' if args.models_dir else 'shipped'}, {args.candidates} candidates")
    print(
        f"{'rules':<9}{'generator':<10}{'levels':>7}{'levels/s':>9}{'start s':>8}{'drafts':>7}{'raw play':>9}{'repaired':>9}"
        f"{'distinct':>9}{'score':>7}{'rho':>7}{'speed':>7}"
    )
    for rules, label, model in plan:
        rows = {
            "model": measure(rules, model, args.levels, args.candidates),
            SEARCH: measure(rules, SEARCH, args.levels, args.candidates),
        }
        rows["model"]["speed_ratio"] = rows["model"]["levels_per_second"] / rows[SEARCH]["levels_per_second"]
        results.append(
            {"rules": rules.name, "model": label, "levels": args.levels, "candidates": args.candidates, "rows": rows}
        )
        for generator, row in rows.items():
            ratio = f"{row['speed_ratio']:.2f}x" if "speed_ratio" in row else ""
            print(
                f"{rules.name:<9}{generator:<10}{row['written']:>7}{row['levels_per_second']:>9.2f}{row['startup_seconds']:>8.1f}{row['drafts']:>7}"
                f"{row['raw_playable_rate']:>9.1%}{row['repaired']:>9}{row['distinct']:>9.1%}{row['mean_score']:>7.3f}"
                f"{row['spearman']:>7.3f}{ratio:>7}",
                flush=True,
            )
            if row["failure"]:
                print(f"  {generator} stopped early: {row['failure']}")
    if args.json:
        atomic_write(args.json, json.dumps({"levels": args.levels, "results": results}, indent=1))


if __name__ == "__main__":
    main()

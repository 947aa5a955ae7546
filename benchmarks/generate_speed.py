"""Generation speed and quality: the trained model against the search baseline, asked for the same levels.

For each built-in, at each size (``--areas``: multiples of the rules' area, e.g. 1 2 4 gives maze
16x16, 23x23, 32x32) and each process count (``--workers``: 1 and all cores by default), generate
``--levels`` levels spread over difficulty 0..1 (seed 0) with the shipped model (or
``DIR/<rules>.pt`` from ``--models-dir``) and with the search baseline, in this one run, write them
as JSON files, and print per generator: distinct checked-playable levels written per second (wall
time of the whole call: worker start, model loading and file writes included), the raw playable
rate of the drafts before repair, the drafts repaired by search, the distinct fraction, the mean
score, and the Spearman correlation of asked and measured difficulty (as in difficulty.py). A
measurement stops after ``--max-seconds`` and reports what it made by then. ``--busy N`` runs N
CPU-bound processes beside every measurement (a machine also doing other work). The published
anchors are printed last, for reference. An unreported warm-up call comes first, so that the first
row does not pay the one-time imports of the benchmark's own process (worker processes still pay
theirs in every row).

    python benchmarks/generate_speed.py [--rules maze dungeon sokoban relay] [--levels 200]
        [--areas 1 2 4] [--workers 1 2] [--models-dir DIR] [--candidates 1] [--deepen STATES] [--busy 1] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

# benchmarks/ is on sys.path when this file is run as a script.
from difficulty import correlation, model_for

from relaygen.drafters import SEARCH
from relaygen.files import atomic_write
from relaygen.formats import read_levels
from relaygen.generate import GenerateError, Summary
from relaygen.rules import Rules, RulesError, builtin_names, load_rules
from relaygen.runfolder import write_run

ANCHORS = (
    "published checked-playable levels/s: PCGNN 14x14 mazes ~416/s (GECCO 2022); PCGRL wide 0.62/s, turtle 0.17/s "
    "(Khalifa et al. 2020); gym-sokoban reverse play 4.6 rooms/s at 7x7 with 2 boxes, 0.14/s at 10x10 with 3"
)


def scaled(rules: Rules, area: float) -> tuple[int, int]:
    """The rules' width and height, each multiplied by sqrt(area)."""
    factor = math.sqrt(area)
    return round(rules.width * factor), round(rules.height * factor)


def measure(
    rules: Rules,
    model: str | Path,
    n: int,
    size: tuple[int, int],
    workers: int,
    out: Path | None = None,
    kind: str = "json",
    deepen: int | None = None,
    **options: Any,
) -> dict:
    """Speed and quality of up to ``n`` levels of ``rules`` at ``size`` from ``model`` (``deepen``: see
    :func:`~relaygen.generate.generate`), written as
    ``kind`` files into the run folder ``out`` (kept), or into a scratch folder."""
    summary, paths = Summary(), []
    started = time.perf_counter()
    failure = ""
    with tempfile.TemporaryDirectory() as scratch:
        try:
            made = write_run(
                out or Path(scratch), kind, rules, n, difficulty_range=(0.0, 1.0), model=model, seed=0, size=size,
                workers=workers, candidates=options["candidates"], deepen=deepen, summary=summary,
                overwrite=out is not None,
            )  # fmt: skip
            for path in made:
                paths.append(path)
                if time.perf_counter() - started > options["max_seconds"]:
                    failure = f"stopped after {options['max_seconds']:g} s"
                    break
        except (GenerateError, RulesError) as exc:  # the generator gave up: report what it made before
            failure = str(exc)
        seconds = time.perf_counter() - started
        levels = [level for path in paths for level in read_levels(path)]
    drafts = max(summary.drafts, 1)
    return {
        "size": f"{size[0]}x{size[1]}",
        "workers": workers,
        "failure": failure,
        "written": len(levels),
        "seconds": seconds,
        "levels_per_second": len(levels) / seconds,
        "raw_playable_rate": summary.raw_playable / drafts,
        "repaired": summary.repaired,
        "distinct": summary.written / max(summary.written + summary.duplicates, 1),
        "mean_score": float(np.mean(summary.scores)) if summary.scores else float("nan"),
    } | (correlation(rules, levels) if len(levels) > 2 else {"spearman": float("nan")})


def _spin() -> None:
    while True:
        pass


@contextmanager
def busy(processes: int) -> Any:
    """``processes`` CPU-bound processes running beside the block."""
    context = multiprocessing.get_context("spawn")
    spinners = [context.Process(target=_spin, daemon=True) for _ in range(processes)]
    for spinner in spinners:
        spinner.start()
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()


def main() -> None:
    cores = len(os.sched_getaffinity(0))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", nargs="+", default=builtin_names())
    parser.add_argument("--levels", type=int, default=200)
    parser.add_argument("--areas", type=float, nargs="+", default=[1, 2, 4])
    parser.add_argument("--workers", type=int, nargs="+", default=sorted({1, cores}))
    parser.add_argument("--generators", nargs="+", default=["model", SEARCH], choices=["model", SEARCH])
    parser.add_argument("--models-dir", type=Path, default=None, help="models named <rules>.pt (default: shipped)")
    parser.add_argument(
        "--candidates", type=int, default=None, help="episodes the model drafts per attempt (default: the model's own)"
    )
    parser.add_argument(
        "--deepen",
        type=int,
        help="push games: reverse-search states per draft (0: off; default: the model's recommendation)",
    )
    parser.add_argument("--max-seconds", type=float, default=120.0, help="stop one measurement after this long")
    parser.add_argument("--busy", type=int, default=0, help="CPU-bound processes running beside each measurement")
    parser.add_argument("--json", type=Path, default=None, help="Also write the results to this JSON file.")
    args = parser.parse_args()
    try:
        plan = [(rules, *model_for(rules, None, args.models_dir)) for rules in map(load_rules, args.rules)]
    except GenerateError as exc:
        parser.error(str(exc))
    print(
        f"models: {args.models_dir / '<rules>.pt' if args.models_dir else 'shipped'}, {args.candidates or 'recommended'} candidates, "
        f"deepen {'recommended' if args.deepen is None else args.deepen}, {args.levels} levels, {cores} cores, {args.busy} busy processes beside"
    )
    print(
        f"{'rules':<9}{'size':>7}{'generator':>10}{'procs':>6}{'levels':>7}{'levels/s':>10}{'raw play':>9}"
        f"{'repaired':>9}{'distinct':>9}{'score':>7}{'rho':>7}{'speed':>8}"
    )
    results = []
    options = {"candidates": args.candidates, "deepen": args.deepen, "max_seconds": args.max_seconds}
    with busy(args.busy):
        rules, _, model = plan[0]  # warm-up, not reported: the imports a first call pays once per process
        measure(rules, model, 5, (rules.width, rules.height), 1, **options)
        for rules, label, model in plan:
            for area in args.areas:
                size = scaled(rules, area)
                for workers in args.workers:
                    rows = {
                        generator: measure(rules, model if generator == "model" else SEARCH, args.levels, size,
                                           workers, **options)
                        for generator in args.generators
                    }  # fmt: skip
                    if len(rows) == 2 and rows[SEARCH]["levels_per_second"] > 0:
                        rows["model"]["speed_ratio"] = (
                            rows["model"]["levels_per_second"] / rows[SEARCH]["levels_per_second"]
                        )
                    results.append({"rules": rules.name, "model": label, "area": area, "rows": rows})
                    for generator, row in rows.items():
                        _print_row(rules.name, generator, row)
    print(ANCHORS)
    if args.json:
        atomic_write(args.json, json.dumps({"levels": args.levels, "busy": args.busy, "results": results}, indent=1))


def _print_row(rules: str, generator: str, row: dict) -> None:
    ratio = f"{row['speed_ratio']:.1f}x" if "speed_ratio" in row else ""
    print(
        f"{rules:<9}{row['size']:>7}{generator:>10}{row['workers']:>6}{row['written']:>7}{row['levels_per_second']:>10.2f}"
        f"{row['raw_playable_rate']:>9.1%}{row['repaired']:>9}{row['distinct']:>9.1%}{row['mean_score']:>7.3f}"
        f"{row['spearman']:>7.3f}{ratio:>8}",
        flush=True,
    )
    if row["failure"]:
        print(f"  {generator} stopped early: {row['failure']}")


if __name__ == "__main__":
    main()

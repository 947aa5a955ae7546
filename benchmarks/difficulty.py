"""Difficulty control: does the asked difficulty rank levels by the rules' difficulty metric?

For each built-in, generate ``--levels`` levels spread evenly over difficulty 0..1 (seed 0) with
the shipped model, with ``DIR/<rules>.pt`` from ``--models-dir``, or with ``--model search`` (or
a model file, for one ruleset), then take the Spearman rank correlation between each level's
asked difficulty and the metric its rules' ``[difficulty]`` table moves (path length, turns,
solution length) as the playtester measured it. The mean metric over the easiest and hardest
fifth of the levels shows the spread behind the correlation.

    python benchmarks/difficulty.py [--rules maze dungeon sokoban relay] [--levels 100]
                                    [--model search | --models-dir DIR] [--candidates K] [--deepen STATES]
                                    [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from relaygen.drafters import SEARCH
from relaygen.files import atomic_write
from relaygen.generate import GenerateError, Summary, generate_iter, resolve_candidates, resolve_model
from relaygen.level import Level
from relaygen.rules import Rules, RulesError, builtin_names, load_rules

BAR = 0.8
"""The issue's bar for the rank correlation of asked and measured difficulty."""


def model_for(rules: Rules, model: str | None, models_dir: Path | None) -> tuple[str, str | Path]:
    """(label, model) to generate ``rules`` with: ``model``, else ``models_dir/<rules>.pt``, else the shipped one."""
    if model:
        return model, model
    if models_dir is None:
        return "shipped", resolve_model(rules)
    path = models_dir / f"{rules.name}.pt"
    if not path.is_file():
        raise GenerateError(f"{path}: no model for rules {rules.name!r} in {models_dir}")
    return str(path), path


def spread(
    rules: Rules,
    model: str | Path,
    n: int,
    candidates: int | None,
    summary: Summary | None = None,
    collected: list[Level] | None = None,
    deepen: int | None = None,
) -> list[Level]:
    """``n`` levels at difficulties evenly spread over 0..1, seed 0, a model drafting ``candidates``
    per attempt (and ``deepen``, see :func:`~relaygen.generate.generate`), appended to ``collected`` as they come (so that a caller catching a GenerateError
    keeps the levels made before it)."""
    levels = collected if collected is not None else []
    levels.extend(
        generate_iter(
            rules,
            n,
            difficulty_range=(0.0, 1.0),
            model=model,
            seed=0,
            candidates=candidates,
            summary=summary,
            deepen=deepen,
        )
    )
    return levels


def correlation(rules: Rules, levels: list[Level]) -> dict[str, Any]:
    """Spearman rho and p-value of asked difficulty against the measured difficulty metric, and the
    metric's mean over the easiest and the hardest fifth (rho is NaN when either side is constant)."""
    if rules.difficulty is None:
        raise GenerateError(f"rules {rules.name!r} have no [difficulty] table")
    metric = rules.difficulty.metric
    asked = np.array([level.meta["difficulty"] for level in levels])
    measured = np.array([level.meta["report"]["metrics"][metric] for level in levels])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        rho, p_value = stats.spearmanr(asked, measured)
    ordered = measured[np.argsort(asked, kind="stable")]
    fifth = max(len(levels) // 5, 1)
    return {
        "metric": metric,
        "spearman": float(rho),
        "p_value": float(p_value),
        "easiest_fifth": float(ordered[:fifth].mean()),
        "hardest_fifth": float(ordered[-fifth:].mean()),
    }


def parse_plan(description: str) -> tuple[argparse.Namespace, list[tuple[Rules, str, str | Path]]]:
    """The command line of a spread benchmark (``--rules``, ``--levels``, ``--model`` or
    ``--models-dir``, ``--candidates``, ``--deepen``, ``--json``) and its (rules, label, model) per ruleset."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rules", nargs="+", default=builtin_names())
    parser.add_argument("--levels", type=int, default=100)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--model", default=None, help=f"{SEARCH!r}, or a model file (with one --rules)")
    source.add_argument("--models-dir", type=Path, default=None, help="a folder of models named <rules>.pt")
    parser.add_argument(
        "--candidates", type=int, default=None, help="episodes a model drafts per attempt (default: the model's own)"
    )
    parser.add_argument(
        "--deepen",
        type=int,
        help="push games: reverse-search states per draft (0: off; default: the model's recommendation)",
    )
    parser.add_argument("--json", type=Path, default=None, help="Also write the results to this JSON file.")
    args = parser.parse_args()
    try:
        return args, [(rules, *model_for(rules, args.model, args.models_dir)) for rules in map(load_rules, args.rules)]
    except (GenerateError, RulesError) as exc:
        parser.error(str(exc))


def main() -> None:
    args, plan = parse_plan(__doc__.splitlines()[0])
    results = []
    print(
        f"{'rules':<9}{'levels':>7}  {'metric':<16}{'rho':>7}{'p':>10}{'easy 1/5':>10}{'hard 1/5':>10}{'bar':>8}  model"
    )
    for rules, label, model in plan:
        row = {
            "rules": rules.name,
            "model": label,
            "levels": args.levels,
            "candidates": resolve_candidates(model, args.candidates),
        }
        row |= correlation(rules, spread(rules, model, args.levels, args.candidates, deepen=args.deepen))
        results.append(row)
        mark = "ok" if row["spearman"] >= BAR else "no"
        print(
            f"{rules.name:<9}{args.levels:>7}  {row['metric']:<16}{row['spearman']:>7.3f}{row['p_value']:>10.2g}"
            f"{row['easiest_fifth']:>10.1f}{row['hardest_fifth']:>10.1f}{f'{BAR:g} {mark}':>8}  {label}",
            flush=True,
        )
    if args.json:
        atomic_write(args.json, json.dumps({"bar": BAR, "results": results}, indent=1))


if __name__ == "__main__":
    main()

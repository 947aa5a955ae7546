"""PuzzleScript games end to end: import the rules, train from scratch, generate, replay in PuzzleScript.

For each PuzzleScript game file given: write the rules ``relaygen rules import`` writes
(``WORK/<game>/rules.toml``), train A3C on them from scratch for ``--minutes`` with ``--workers``
workers (``relaygen train RULES --minutes M --workers W``, the rules' first representation unless
``--representation``), then generate ``--levels`` levels spread over difficulty 0..1 (seed 0) with
the trained model and with ``--model search``, each as ``relaygen generate RULES -n N
--difficulty-range 0 1 --format puzzlescript`` writes them (``WORK/<game>/model``, ``.../search``).
Per game and generator it prints: the raw playable share of the drafts (before repair), checked
levels written per second (wall time of the whole call), the Spearman rho of asked difficulty against
solution length, the distinct share, and the generated levels' median solution length beside the
median of the game's own levels (those at the rules' size or smaller, and all of them; each solved
with ``--time-limit`` s). With ``--puzzlescript CHECKOUT`` (a checkout of PuzzleScript's repository
and ``node``), every generated level's recorded solution is replayed in PuzzleScript's own engine
(the game with its LEVELS replaced by that level), and the ``--format puzzlescript`` file is compiled
there and each of its levels played with the solution of the generated level at its place.

    python benchmarks/script_games.py GAME.txt... [--minutes 10] [--workers 2] [--levels 50]
        [--size WxH] [--search-at-end] [--solver-budget N] [--candidates N]
        [--work /tmp/script_games] [--puzzlescript CHECKOUT] [--runs RUN_DIR...] [--json FILE]

``--size`` imports the rules at that size (``rules import --size``); ``--search-at-end`` and
``--solver-budget`` are ``train``'s options of those names, ``--candidates`` ``generate``'s (model only).

``--runs`` (one run folder per game, in order) skips training and uses those runs' models.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_speed import measure
from script_node_check import level_case, replay

from relaygen.agent.checkpoint import load_checkpoint
from relaygen.agent.config import TrainConfig
from relaygen.agent.trainer import train
from relaygen.drafters import SEARCH
from relaygen.files import atomic_write
from relaygen.formats import read_levels, write_levels
from relaygen.mechanics.base import Budget
from relaygen.mechanics.script import imported_rules, script_levels
from relaygen.playtest import playtest
from relaygen.rules import Rules, load_rules, size_from_text

EXPORT = "game.txt"
"""The file ``--format puzzlescript`` writes in the run folder: the game with the generated levels."""


def import_rules(game: Path, folder: Path, size: tuple[int, int] | None) -> Path:
    """``relaygen rules import GAME --out FOLDER/rules.toml [--size WxH]``: the rules file, written."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "rules.toml"
    rules = imported_rules(game, folder, size)
    atomic_write(
        out, f"# Rules of the PuzzleScript game {game.name}, written by relaygen rules import.\n{rules.to_toml()}"
    )
    return out


def train_from_scratch(rules: Path, args: argparse.Namespace, runs_dir: Path) -> tuple[Path, dict[str, Any]]:
    """``relaygen train RULES --minutes M --workers W``: the run folder and its steps, minutes and steps/s."""
    config = TrainConfig(
        rules=str(rules),
        representation=args.representation,
        workers=args.workers,
        max_minutes=args.minutes,
        seed=args.seed,
        search_at_end=args.search_at_end,
        solver_budget=args.solver_budget,
        runs_dir=str(runs_dir),
        progress=False,
    )
    started = time.time()
    folder = train(config)
    seconds = time.time() - started
    steps = load_checkpoint(folder)["step"]
    return folder, {"steps": steps, "minutes": seconds / 60, "steps_per_second": steps / seconds}


def own_levels(game: Path, rules: Rules, time_limit: float) -> dict[str, Any]:
    """Median solution length of the game's own levels that fit the rules' size, and of all of them."""
    lengths: dict[str, list[int]] = {"fit": [], "all": []}
    for level in script_levels(game, rules):
        report = playtest(level, budget=Budget(time_limit=time_limit))
        if report.solvable == "yes":
            lengths["all"].append(report.length)
            if level.grid.shape[1] <= rules.width and level.grid.shape[0] <= rules.height:
                lengths["fit"].append(report.length)
    return {k: statistics.median(v) if v else None for k, v in lengths.items()} | {"solved": len(lengths["all"])}


def generated(rules: Rules, model: str | Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    """``relaygen generate RULES -n N --difficulty-range 0 1 --format puzzlescript --out OUT``, measured."""
    shutil.rmtree(out, ignore_errors=True)
    size = (rules.width, rules.height)
    candidates = None if model == SEARCH else args.candidates
    row = measure(rules, model, args.levels, size, args.gen_workers, out=out, candidates=candidates,
                  max_seconds=args.max_seconds)  # fmt: skip
    levels = read_levels(out) if out.is_dir() else []
    row["in_folder"] = len(levels)  # more than written when a stopped call finishes the levels it had drafted
    if levels:
        write_levels(levels, out / EXPORT)  # what --format puzzlescript adds to the json files
    lengths = [level.meta["report"]["length"] for level in levels]
    row["median_length"] = statistics.median(lengths) if lengths else None
    if args.puzzlescript is not None and levels:
        row |= in_puzzlescript(levels, out / EXPORT, args.puzzlescript)
    return row


def in_puzzlescript(levels: list, export: Path, checkout: Path) -> dict[str, Any]:
    """Each level's recorded solution replayed in PuzzleScript's engine (its game with that level
    alone), and the exported game compiled there with each of its levels played by the solution of
    the generated level at the same place (so its levels are the generated ones, in order)."""
    alone = [level_case(level, 0.0) for level in levels]
    solutions = [level.meta["report"]["solution"] for level in levels]
    text = export.read_text(encoding="utf-8") if export.is_file() else ""
    exported = [{"game": text, "level": i, "moves": moves} for i, moves in enumerate(solutions)]
    results = replay(checkout, [case for case in alone if case is not None] + exported)
    ones, whole = results[: len(results) - len(exported)], results[len(results) - len(exported) :]
    return {
        "node_replayed": len(ones),
        "node_won": sum(r["won"] for r in ones),
        "export_compiled": bool(text) and all(r["compiled"] for r in whole),
        "export_won": sum(r["won"] for r in whole),
        "export_errors": sorted({e for r in whole for e in r["errors"]})[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("games", type=Path, nargs="+", help="PuzzleScript game files")
    parser.add_argument("--minutes", type=float, default=10.0, help="training budget per game")
    parser.add_argument("--workers", type=int, default=2, help="training workers")
    parser.add_argument("--representation", default=None, help="default: the rules' first")
    parser.add_argument("--seed", type=int, default=1, help="training seed")
    parser.add_argument("--size", type=size_from_text, default=None, help="WxH: import the rules at this size")
    parser.add_argument("--search-at-end", action="store_true", help="train searching each episode's last level only")
    parser.add_argument("--solver-budget", type=int, default=None, help="the reward's search budget (train's)")
    parser.add_argument("--levels", type=int, default=50, help="levels each generator writes")
    parser.add_argument(
        "--candidates", type=int, default=None, help="episodes the model drafts per level (default: the model's own)"
    )
    parser.add_argument("--gen-workers", type=int, default=1, help="processes each generate call drafts in")
    parser.add_argument("--max-seconds", type=float, default=1800.0, help="stop one generate call after this long")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds to solve each of a game's own levels")
    parser.add_argument("--work", type=Path, default=Path("/tmp/script_games"), help="rules, runs and levels go here")
    parser.add_argument("--runs", type=Path, nargs="+", default=None, help="trained run folders, one per game")
    parser.add_argument("--puzzlescript", type=Path, default=None, help="a PuzzleScript checkout: replay in node")
    parser.add_argument("--json", type=Path, default=None, help="Also write the results to this JSON file.")
    args = parser.parse_args()
    if args.runs is not None and len(args.runs) != len(args.games):
        parser.error(f"--runs: give one run folder per game ({len(args.games)}), got {len(args.runs)}")
    results = []
    for i, game in enumerate(args.games):
        folder = args.work / game.stem
        rules_path = import_rules(game, folder, args.size)
        rules = load_rules(rules_path)
        if args.runs is None:
            run, training = train_from_scratch(rules_path, args, folder / "runs")
        else:
            run, training = args.runs[i], {}
        print(f"{game.name}: rules {rules_path} ({rules.width}x{rules.height}), run {run}", flush=True)
        row: dict[str, Any] = {"game": game.name, "rules": str(rules_path), "run": str(run), "training": training}
        row["own"] = own_levels(game, rules, args.time_limit)
        row["model"] = generated(rules, run / "model.pt", folder / "model", args)
        row["search"] = generated(rules, SEARCH, folder / "search", args)
        results.append(row)
        _print(row)
    if args.json:
        atomic_write(args.json, json.dumps({"results": results}, indent=1, default=str))


def _print(row: dict[str, Any]) -> None:
    training = row["training"]
    if training:
        print(
            f"  trained {training['minutes']:.1f} min, {training['steps']} steps ({training['steps_per_second']:.0f}/s)"
        )
    own = row["own"]
    print(f"  own levels' median solution length: {own['fit']} at the rules' size or smaller, {own['all']} in all")
    print(f"  {'generator':<9}{'levels':>7}{'raw play':>9}{'levels/s':>9}{'rho':>7}{'distinct':>9}{'median':>7}  node")
    for generator in ("model", SEARCH):
        g = row[generator]
        node = (
            f"{g['node_won']}/{g['node_replayed']} win; export compiles {g['export_compiled']}, "
            f"{g['export_won']}/{g['in_folder']} win"
            if "node_won" in g
            else "-"
        )
        print(
            f"  {generator:<9}{g['written']:>7}{g['raw_playable_rate']:>9.1%}{g['levels_per_second']:>9.3f}"
            f"{g['spearman']:>7.3f}{g['distinct']:>9.1%}{g['median_length'] or 0:>7}  {node}",
            flush=True,
        )
        if g["failure"]:
            print(
                f"    stopped early: {g['failure']}; {g['in_folder']} levels in the folder after {g['seconds']:.0f} s"
            )


if __name__ == "__main__":
    main()

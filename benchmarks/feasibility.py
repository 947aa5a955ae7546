"""Feasibility: does a level meeting every objective exist, for each built-in at difficulty 0, 0.5 and 1?

A generator can only be asked for levels that exist. For each built-in and difficulty this script
looks for a witness: one level that the full playtest (:func:`relaygen.playtest.playtest`) finds
playable with every objective and constraint inside its target. The search may be slow; it says
only that the rules ask for something possible, not how often a generator gets there.

- **relay**: a constructive search that builds the path leg by leg, as the seed project's levels
  were legs: run ``i`` is given a length near the interest curve's ``run_target`` (longest fits
  first), turns left or right, and may not touch the path anywhere but where it joins it (no
  clusters). Depth first, pruned when the runs so far can no longer reach the ``run_fit`` target on
  average; restarted from random start cells until the time runs out.
- **every other built-in**: the shipped model's episodes (``--drafts`` per round, as ``generate``
  drafts them), then the hill-climbing search baseline, until a level meets every objective.

The table gives, per game and difficulty, whether a witness was found, its metrics against their
targets, where it came from and the seconds it took. Exit code 1 when some witness is missing.

    python benchmarks/feasibility.py [--rules relay maze ...] [--difficulties 0 0.5 1]
                                     [--seconds 120] [--seed 0] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from relaygen.drafters import Job, default_model, model_drafter
from relaygen.files import atomic_write
from relaygen.hillclimb import search_level
from relaygen.level import DIRECTIONS, Level
from relaygen.mechanics.relay import Legs, run_target
from relaygen.playtest import Report, playtest
from relaygen.rules import Rules, builtin_names, load_rules

Cell = tuple[int, int]
TURNS = {"u": "lr", "d": "lr", "l": "ud", "r": "ud"}
"""The two directions a leg may turn to from each heading."""


@dataclass
class Witness:
    """The outcome of one search: the level found (or None), where it came from and how long it took."""

    rules: str
    difficulty: float
    level: Level | None
    report: Report | None
    source: str
    seconds: float
    tried: int = 0
    targets: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return self.report is not None and self.report.met

    def row(self) -> dict[str, Any]:
        metrics = self.report.metrics if self.report else {}
        return {
            "rules": self.rules,
            "difficulty": self.difficulty,
            "found": self.found,
            "source": self.source,
            "seconds": round(self.seconds, 2),
            "tried": self.tried,
            "metrics": {k: metrics.get(k) for k in self.targets},
            "targets": {k: [lo, None if math.isinf(hi) else hi] for k, (lo, hi) in self.targets.items()},
            "level": "\n".join(self.level.rows()) if self.level is not None else None,
            "legs": self.level.payload.directions if self.level is not None and self.level.payload else None,
        }


# ----- relay: a path built leg by leg ----------------------------------------------------------------


class LegSearch:
    """Depth-first search for a Relay path of ``turns`` turns whose runs fit the interest curve.

    Run ``i`` aims at ``run_target(i, curve_turns, shorter side)`` cells; a run may be any length
    that still lets the mean fit reach ``min_fit``. A cell may join the path only where it touches
    the cell before it, so the path has no clusters. ``nodes`` bounds one start's search.
    """

    def __init__(self, width: int, height: int, curve_turns: float, min_fit: float, nodes: int = 20_000) -> None:
        self.width, self.height = width, height
        self.curve_turns, self.min_fit, self.nodes = curve_turns, min_fit, nodes
        self.side = min(width, height)
        self.longest = max(width, height) - 1

    def search(self, turns: int, start: Cell, heading: str, rng: np.random.Generator) -> list[tuple[str, int]] | None:
        """Runs (direction, length) of a path from ``start`` first heading ``heading``, or None."""
        self._left = self.nodes
        self._turns = turns
        return self._extend(0, start, heading, {start}, [], 0.0, rng)

    def _fit(self, i: int, n: int) -> float:
        t = run_target(i, self.curve_turns, self.side)
        return max(0.0, 1.0 - abs(n - t) / t)

    def _extend(
        self,
        i: int,
        cell: Cell,
        heading: str,
        used: set[Cell],
        runs: list[tuple[str, int]],
        fit: float,
        rng: np.random.Generator,
    ) -> list[tuple[str, int]] | None:
        self._left -= 1
        if self._left < 0:
            return None
        if i > self._turns:
            return runs
        need = self.min_fit * (self._turns + 1) - (self._turns - i)
        lengths = [n for n in range(1, self.longest + 1) if fit + self._fit(i, n) >= need - 1e-9]
        lengths.sort(key=lambda n: (-self._fit(i, n), rng.random()))
        headings = [heading] if i == 0 else list(rng.permutation(list(TURNS[heading])))
        for direction in headings:
            carved = self._carve(cell, direction, max(lengths, default=0), used)
            for n in lengths:
                if n > len(carved):
                    continue
                added = carved[:n]
                used.update(added)
                found = self._extend(
                    i + 1, added[-1], direction, used, [*runs, (direction, n)], fit + self._fit(i, n), rng
                )
                used.difference_update(added)
                if found is not None:
                    return found
        return None

    def _carve(self, cell: Cell, direction: str, most: int, used: set[Cell]) -> list[Cell]:
        """The cells a run from ``cell`` in ``direction`` can take, up to ``most``, without touching the path."""
        dy, dx = DIRECTIONS[direction]
        out, (y, x), previous = [], cell, cell
        for _ in range(most):
            y, x = y + dy, x + dx
            if not (0 <= y < self.height and 0 <= x < self.width) or (y, x) in used:
                break
            neighbours = [(y + a, x + b) for a, b in DIRECTIONS.values()]
            if any(n in used and n != previous for n in neighbours):
                break
            out.append((y, x))
            previous = (y, x)
        return out


def relay_level(rules: Rules, start: Cell, runs: list[tuple[str, int]]) -> Level:
    """The Relay level of a path from ``start`` along ``runs``: rock around, start and end at its ends."""
    grid = np.full((rules.height, rules.width), rules.tile_index[rules.start_map], np.uint8)
    (y, x), path = start, rules.tile_of()
    for direction, n in runs:
        dy, dx = DIRECTIONS[direction]
        for _ in range(n):
            y, x = y + dy, x + dx
            grid[y, x] = path
    grid[start] = rules.tile_of(player=True)
    grid[y, x] = rules.tile_of(exit=True)
    return Level(rules, grid, payload=Legs("".join(d for d, _ in runs)))


def relay_witness(rules: Rules, difficulty: float, seconds: float, rng: np.random.Generator) -> Witness:
    """A Relay level meeting every objective at ``difficulty``, built leg by leg (see :class:`LegSearch`)."""
    targets = rules.targets(difficulty)
    lo, hi = targets["turns"]
    search = LegSearch(rules.width, rules.height, lo, targets.get("run_fit", (0.0, 1.0))[0])
    clock, tried, best = time.perf_counter(), 0, None
    for turns in _cycle(range(math.ceil(lo), math.floor(hi) + 1)):
        if time.perf_counter() - clock > seconds:
            break
        start = (int(rng.integers(rules.height)), int(rng.integers(rules.width)))
        runs = search.search(turns, start, "urdl"[int(rng.integers(4))], rng)
        tried += 1
        if runs is None:
            continue
        level = relay_level(rules, start, runs)
        report = playtest(level, difficulty)
        best = (level, report)
        if report.met:
            break
    level, report = best if best else (None, None)
    return Witness(rules.name, difficulty, level, report, "legs", time.perf_counter() - clock, tried, targets)


def _cycle(values: range) -> Iterator[int]:
    while True:
        yield from values


# ----- every other built-in: the shipped model's drafts, then search ----------------------------------


def search_witness(rules: Rules, difficulty: float, seconds: float, seed: int, drafts: int) -> Witness:
    """A level meeting every objective at ``difficulty``: the shipped model's episodes (``drafts`` a
    round, one per job), then the hill-climbing baseline, until ``seconds`` run out."""
    targets = rules.targets(difficulty)
    clock, tried, best = time.perf_counter(), 0, None
    try:
        draft = model_drafter(default_model(rules), rules, candidates=1)
    except Exception:  # no shipped model: search alone
        draft = None
    rounds = 0
    while time.perf_counter() - clock < seconds / 2 and draft is not None:
        jobs = [Job(k, rounds, difficulty, seed * 1_000_003 + rounds * drafts + k) for k in range(drafts)]
        for level in draft(jobs, None):
            tried += 1
            if level.meta["report"]["playable"] and min(level.meta["report"]["terms"].values()) == 1.0:
                report = playtest(level, difficulty)
                if report.met:
                    return Witness(
                        rules.name, difficulty, level, report, "model", time.perf_counter() - clock, tried, targets
                    )
        rounds += 1
    rng = np.random.default_rng(seed)
    while time.perf_counter() - clock < seconds:
        level, report = search_level(rules, difficulty, rng, 1000)
        tried += 1
        report = playtest(level, difficulty)
        if best is None or report.score > best[1].score:
            best = (level, report)
        if report.met:
            break
    level, report = best if best else (None, None)
    return Witness(rules.name, difficulty, level, report, "search", time.perf_counter() - clock, tried, targets)


def witness(rules: Rules, difficulty: float, seconds: float, seed: int = 0, drafts: int = 64) -> Witness:
    """A level of ``rules`` meeting every objective at ``difficulty``, by the mechanic's search."""
    if rules.mechanic == "relay":
        return relay_witness(rules, difficulty, seconds, np.random.default_rng(seed))
    return search_witness(rules, difficulty, seconds, seed, drafts)


def describe(found: Witness) -> str:
    """One table row: game, difficulty, found, each objective's value against its target, source, seconds."""
    metrics = found.report.metrics if found.report else {}
    cells = []
    for name, (lo, hi) in found.targets.items():
        value = metrics.get(name)
        shown = "-" if value is None else f"{value:g}"
        cells.append(f"{name} {shown} in [{lo:.3g}, {'inf' if math.isinf(hi) else f'{hi:.3g}'}]")
    yes = "yes" if found.found else "NO"
    return (
        f"| {found.rules} | {found.difficulty:g} | {yes} | {'; '.join(cells)} | {found.source} "
        f"({found.tried} tried) | {found.seconds:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", nargs="+", default=builtin_names())
    parser.add_argument("--difficulties", nargs="+", type=float, default=[0.0, 0.5, 1.0])
    parser.add_argument("--seconds", type=float, default=120.0, help="budget per game and difficulty")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drafts", type=int, default=64, help="model episodes per round")
    parser.add_argument("--json", help="write the witnesses (with their levels) to this file")
    args = parser.parse_args()
    print("| game | difficulty | found | metrics against targets | source | seconds |")
    print("|---|---|---|---|---|---|")
    results = []
    for name in args.rules:
        rules = load_rules(name)
        for d in args.difficulties:
            found = witness(rules, d, args.seconds, args.seed, args.drafts)
            results.append(found)
            print(describe(found), flush=True)
    if args.json:
        atomic_write(args.json, json.dumps({"witnesses": [w.row() for w in results]}, indent=1))
    raise SystemExit(0 if all(w.found for w in results) else 1)


if __name__ == "__main__":
    main()

"""Level quality per built-in: rules kept, shapes beside a reference, difficulty control, diversity.

For each built-in, generate ``--levels`` levels spread evenly over difficulty 0..1 (seed 0) with
the shipped model (``--models-dir DIR`` for ``DIR/<rules>.pt``, ``--model search`` for the
baseline), playtest each with the full budget and report:

- **rules kept**: the share of levels that keep every constraint and required objective (the
  generator's promise: must be 100 %);
- **shape**: mean figures that say what kind of level it is. Walk games (maze, dungeon): wall
  share of the inner cells, ``corridor_share`` (open cells with at most two open neighbours),
  dead ends per open cell, path length and path length over open cells. Push games (Sokoban):
  boxes, pushes, moves, the solver's expanded nodes, and the room's shape (inner wall cells, and
  isolated ones with no wall beside them). Relay: turns and path cells;
- **reference**, the same figures for levels a designer would call the real thing: perfect mazes
  made by a recursive backtracker at the maze's size (start and exit on two random cells), and the
  first 50 Boxoban medium levels (``tests/data/boxoban-medium-valid-000-first50.txt``, DeepMind,
  Apache 2.0) solved by relaygen's solver;
- **objectives met**: per objective, the share of levels inside its target at their asked
  difficulty, and the share meeting all of them (and every constraint), beside rho: a knob that
  follows the difficulty says nothing of the other promises (``relaygen report`` shows the same);
- **rho** (Spearman, asked difficulty against the difficulty metric), the distinct fraction and
  the mean pairwise Hamming distance;
- push games only, **the hard end**: the median figures of ``--levels`` more levels made at
  difficulty 1.0, beside the medians of Boxoban medium and of the first levels of Boxoban hard
  (``tests/data/boxoban-hard-000-first200.txt``), solved by the same solver (the bar: median solver
  nodes at least Boxoban hard's, every level solvable), and the interquartile range of Boxoban
  medium's room figures (the bar: the median room inside it).

    python benchmarks/quality.py [--rules maze dungeon sokoban relay] [--levels 100]
                                 [--model search | --models-dir DIR] [--candidates K] [--deepen STATES] [--json FILE]
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from difficulty import correlation, parse_plan, spread

from relaygen.files import atomic_write
from relaygen.formats import read_levels
from relaygen.generate import generate, resolve_candidates, resolve_deepen
from relaygen.level import Level, diversity
from relaygen.mechanics.base import corridor_share, room_walls
from relaygen.playtest import Report, playtest
from relaygen.report import MET, Batch, objective_shares
from relaygen.rules import Rules

BOXOBAN_MEDIUM = Path(__file__).resolve().parents[1] / "tests" / "data" / "boxoban-medium-valid-000-first50.txt"
BOXOBAN_HARD = BOXOBAN_MEDIUM.with_name("boxoban-hard-000-first200.txt")


def walk_shape(level: Level, report: Report) -> dict[str, float]:
    """Wall share, corridor share, dead ends per open cell, path length and path over open cells."""
    solid = level.rules.with_property("solid")[level.grid]
    inner = solid[1:-1, 1:-1] if level.rules.border else solid
    open_cells = ~solid
    padded = np.pad(open_cells, 1)
    around = padded[:-2, 1:-1].astype(int) + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]
    n_open = max(1, int(open_cells.sum()))
    path = report.metrics.get("path_length", 0.0)
    return {
        "wall_share": float(inner.mean()),
        "corridor_share": float(corridor_share(open_cells)),
        "dead_ends": float((open_cells & (around == 1)).sum() / n_open),
        "path_length": float(path),
        "path_per_open": float(path / n_open),
    }


def push_shape(level: Level, report: Report) -> dict[str, float]:
    """Boxes, pushes and moves of the solver's solution, the nodes its fast search expanded, and the
    room's shape: wall cells inside the outer ring, and those of them with no wall beside them
    (posts standing alone in a hall, where designed rooms have corridors and closed rooms)."""
    return {
        "boxes": report.metrics["boxes"],
        "pushes": report.metrics["pushes"],
        "moves": report.metrics["solution_length"],
        "solver_nodes": report.metrics["solver_nodes"],
        "solved": float(report.solvable == "yes"),
        **room_shape(level.rules.with_property("solid")[level.grid]),
    }


def room_shape(solid: np.ndarray) -> dict[str, float]:
    """Inner wall cells (inside the outer ring) and isolated ones (no wall among their 4 neighbours)."""
    walls, isolated = room_walls(solid)
    return {"inner_walls": float(walls), "isolated_walls": float(isolated)}


def relay_shape(level: Level, report: Report) -> dict[str, float]:
    """Turns of the run, the number of path cells, the run fit and the level's median run (in moves)."""
    return {
        "turns": report.metrics.get("turns", 0.0),
        "path_cells": float((~level.rules.with_property("solid")[level.grid]).sum()),
        "run_fit": report.metrics.get("run_fit", 0.0),
        "median_run": float(statistics.median(run_lengths(report.solution))) if report.solution else 0.0,
    }


def run_lengths(solution: str) -> list[int]:
    """The lengths of the straight runs of a solution (moves in one direction before a turn)."""
    return [len(list(group)) for _, group in itertools.groupby(solution)]


SHAPES = {"walk": walk_shape, "keys": walk_shape, "push": push_shape, "relay": relay_shape}


def perfect_maze(rules: Rules, rng: np.random.Generator) -> Level:
    """A perfect maze (recursive backtracker on the odd cells) filling ``rules``' grid, start and exit
    on two random distinct maze cells."""
    wall, floor = rules.tile_of(solid=True), rules.tile_of()
    grid = np.full((rules.height, rules.width), wall, dtype=np.uint8)
    cells = [(y, x) for y in range(1, rules.height - 1, 2) for x in range(1, rules.width - 1, 2)]
    lattice = set(cells)
    start = cells[int(rng.integers(len(cells)))]
    grid[start] = floor
    stack = [start]
    while stack:
        y, x = stack[-1]
        steps = [(dy, dx) for dy, dx in ((-2, 0), (2, 0), (0, -2), (0, 2)) if (y + dy, x + dx) in lattice]
        fresh = [(dy, dx) for dy, dx in steps if grid[y + dy, x + dx] == wall]
        if not fresh:
            stack.pop()
            continue
        dy, dx = fresh[int(rng.integers(len(fresh)))]
        grid[y + dy // 2, x + dx // 2] = grid[y + dy, x + dx] = floor
        stack.append((y + dy, x + dx))
    ends = rng.choice(len(cells), size=2, replace=False)
    grid[cells[ends[0]]] = rules.tile_of(player=True)
    grid[cells[ends[1]]] = rules.tile_of(exit=True)
    return Level(rules, grid)


def reference(rules: Rules, n: int) -> tuple[str, list[Level]] | None:
    """The reference levels for ``rules``: perfect mazes for maze, Boxoban medium for Sokoban."""
    if rules.name == "maze":
        rng = np.random.default_rng(0)
        return "perfect mazes", [perfect_maze(rules, rng) for _ in range(n)]
    if rules.mechanic == "push":
        return "Boxoban medium", read_levels(BOXOBAN_MEDIUM)[:n]
    return None


def shape_means(
    rules: Rules, levels: list[Level], reports: list[Report], average: Callable[[list[float]], float] = statistics.fmean
) -> dict[str, float]:
    """Each shape figure's mean (or other ``average``) over ``levels``, read from each level and its playtest report."""
    figures = [SHAPES[rules.mechanic](level, report) for level, report in zip(levels, reports, strict=True)]
    return {key: float(average([f[key] for f in figures])) for key in figures[0]} if figures else {}


def hard_end(rules: Rules, model: str | Path, n: int, candidates: int | None, deepen: int | None) -> dict[str, Any]:
    """Median shape figures of ``n`` levels made at difficulty 1.0 (seed 0)."""
    levels = generate(rules, n, difficulty=1.0, model=model, seed=0, candidates=candidates, deepen=deepen)
    reports = [playtest(level, 1.0) for level in levels]
    return {
        "levels": len(levels),
        "playable": sum(r.playable for r in reports) / len(levels),
        "shape": shape_means(rules, levels, reports, statistics.median),
    }


def quality(
    rules: Rules, model: str | Path, n: int, candidates: int | None, deepen: int | None = None
) -> dict[str, Any]:
    """Every figure of one built-in, generated and reference side (``deepen``: see
    :func:`~relaygen.generate.generate`)."""
    levels = spread(rules, model, n, candidates, deepen=deepen)
    reports = [playtest(level, level.meta["difficulty"]) for level in levels]
    hamming, distinct = diversity(levels)
    row: dict[str, Any] = {
        "rules": rules.name,
        "levels": len(levels),
        "candidates": resolve_candidates(model, candidates),
        "deepen": resolve_deepen(model, deepen),
        "rules_kept": sum(r.meets_rules for r in reports) / len(levels),
        "playable": sum(r.playable for r in reports) / len(levels),
        "distinct": distinct,
        "hamming": hamming,
        "shape": shape_means(rules, levels, reports),
    }
    shares = objective_shares(Batch(Path(), levels, [r.to_dict() for r in reports]))
    row["met"] = shares.pop(MET)
    row["in_target"] = {name.removesuffix(" in target"): share for name, share in shares.items()}
    if rules.difficulty is not None:
        row |= correlation(rules, levels)
    ref = reference(rules, n)
    if ref is not None:
        ref_reports = [playtest(level) for level in ref[1]]
        row["reference"] = {"name": ref[0], "levels": len(ref[1]), "shape": shape_means(rules, ref[1], ref_reports)}
        if rules.mechanic == "push":
            hard = read_levels(BOXOBAN_HARD)[: len(ref[1])]  # as many as of Boxoban medium: its first 50
            medians = {
                ref[0]: shape_means(rules, ref[1], ref_reports, statistics.median),
                "Boxoban hard": shape_means(rules, hard, [playtest(level) for level in hard], statistics.median),
            }
            quartiles = {
                key: np.percentile(
                    [room_shape(level.rules.with_property("solid")[level.grid])[key] for level in ref[1]], [25, 75]
                ).tolist()
                for key in ("inner_walls", "isolated_walls")
            }
            row["hard_end"] = hard_end(rules, model, n, candidates, deepen) | {
                "references": medians,
                "room_iqr": quartiles,
            }
    return row


def main() -> None:
    args, plan = parse_plan(__doc__.splitlines()[0])
    results = []
    for rules, label, model in plan:
        row = quality(rules, model, args.levels, args.candidates, args.deepen) | {"model": label}
        results.append(row)
        rho = row.get("spearman")
        print(
            f"{rules.name} ({label}, {row['levels']} levels): rules kept {row['rules_kept']:.0%}, "
            f"playable {row['playable']:.0%}, rho {'-' if rho is None else f'{rho:.3f}'}, "
            f"distinct {row['distinct']:.0%}, hamming {row['hamming']:.3f}",
            flush=True,
        )
        inside = ", ".join(f"{name} {share:.0%}" for name, share in row["in_target"].items())
        print(f"  objectives in target: {inside}; all met {row['met']:.0%}", flush=True)
        ref = row.get("reference")
        print(f"  {'figure':<16}{'generated':>11}{ref['name'] if ref else '':>18}")
        for key, value in row["shape"].items():
            other = f"{ref['shape'][key]:>18.3f}" if ref else ""
            print(f"  {key:<16}{value:>11.3f}{other}")
        hard = row.get("hard_end")
        if hard:
            print(f"  at difficulty 1.0 ({hard['levels']} levels, playable {hard['playable']:.0%}), medians:")
            print(f"  {'figure':<16}{'generated':>11}" + "".join(f"{name:>18}" for name in hard["references"]))
            for key, value in hard["shape"].items():
                others = "".join(f"{medians[key]:>18.3f}" for medians in hard["references"].values())
                print(f"  {key:<16}{value:>11.3f}{others}")
            for key, (low, high) in hard["room_iqr"].items():
                print(f"  {key} of {ref['name']}: interquartile range {low:g}-{high:g}")
    if args.json:
        atomic_write(args.json, json.dumps({"results": results}, indent=1))


if __name__ == "__main__":
    main()

"""Solve the Microban levels with a per-level time limit and verify every solution.

Usage: python benchmarks/microban.py [--time-limit 10] [--levels 1-155] [--file PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from relaygen.solver.sokoban import Puzzle, is_solved, replay, solve

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "tests" / "data" / "microban.xsb"
_BOARD_CHARS = set("#@+$*.-_ ")


def read_levels(text: str) -> list[list[str]]:
    """Split an XSB collection into boards: runs of lines made of board characters only."""
    levels: list[list[str]] = []
    rows: list[str] = []
    for line in [*text.splitlines(), ""]:
        line = line.rstrip()
        if line and "#" in line and set(line) <= _BOARD_CHARS:
            rows.append(line)
        elif rows:
            levels.append(rows)
            rows = []
    return levels


def parse_range(spec: str, count: int) -> list[int]:
    """Parse '5', '3-9' or '1-10,20' into 1-based level numbers."""
    out: list[int] = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return [n for n in out if 1 <= n <= count]


def main() -> int:
    """Run the benchmark and print a summary; exit status 1 if a solution fails to verify."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per level")
    ap.add_argument("--levels", default=None, help="e.g. 1-155 or 1-20,40")
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE)
    ap.add_argument("--quiet", action="store_true", help="no per-level lines")
    args = ap.parse_args()
    levels = read_levels(args.file.read_text())
    numbers = parse_range(args.levels, len(levels)) if args.levels else range(1, len(levels) + 1)
    times: list[float] = []
    unsolved: list[int] = []
    bad: list[int] = []
    t_start = time.perf_counter()
    for n in numbers:
        puzzle = Puzzle.from_rows(levels[n - 1])
        res = solve(puzzle, time_limit=args.time_limit)
        ok = res.status == "solved"
        if ok:
            try:
                boxes, _ = replay(puzzle, res.solution or "")
                ok = is_solved(puzzle, boxes)
            except ValueError:
                ok = False
            if not ok:
                bad.append(n)
        if ok:
            times.append(res.seconds)
        else:
            unsolved.append(n)
        if not args.quiet:
            print(
                f"level {n:3d}: {res.status:10s} {res.seconds:7.2f}s nodes={res.nodes:8d} "
                f"moves={res.moves} pushes={res.pushes}",
                flush=True,
            )
    total = time.perf_counter() - t_start
    print(f"solved: {len(times)} / {len(numbers)}")
    if times:
        print(f"median time (solved): {statistics.median(times):.3f}s")
        print(f"mean time (solved): {statistics.mean(times):.3f}s")
    print(f"total time: {total:.1f}s")
    print(f"unsolved: {unsolved}")
    if bad:
        print(f"INVALID SOLUTIONS: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())

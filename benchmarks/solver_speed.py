"""The push solver's fast search in C against the same search in Python, on the collections in tests/data.

Each level is searched by both within the same node budget; the script checks that both give the same
status, plan and node count, and prints expansions per second and the ratio. The Board (dead squares,
push distances) is built once per level and not timed: it is the same Python code either way.

    python benchmarks/solver_speed.py [--max-nodes 20000] [--hard 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.microban import read_levels
from relaygen.solver import search
from relaygen.solver.board import Board
from relaygen.solver.deadlock import start_deadlocked
from relaygen.solver.sokoban import Puzzle

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def timed(board: Board, max_nodes: int, native: bool) -> tuple[float, tuple]:
    """Seconds of one fast search of ``board`` and its (status, plan, nodes)."""
    budget = search.Budget(max_nodes, None)
    start = time.perf_counter()
    status, plan = search.fast(board, budget, native=native)
    return time.perf_counter() - start, (status, plan, budget.nodes)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-nodes", type=int, default=20_000, help="node budget per level")
    ap.add_argument("--hard", type=int, default=200, help="Boxoban hard levels to search (of 200)")
    args = ap.parse_args()
    if search._search is None:
        print("the C search is not built (pip install -e . with a C compiler)")
        return 1
    collections = {
        "Microban (155)": read_levels((DATA / "microban.xsb").read_text()),
        f"Boxoban hard ({args.hard})": read_levels((DATA / "boxoban-hard-000-first200.txt").read_text())[: args.hard],
    }
    differ = 0
    for name, levels in collections.items():
        seconds = {True: 0.0, False: 0.0}
        nodes = searched = 0
        for rows in levels:
            p = Puzzle.from_rows(rows)
            board = Board(p.width, p.height, p.walls, p.goals, p.boxes, p.player)
            if not board.feasible or start_deadlocked(board):
                continue
            results = {}
            for native in (True, False):
                spent, results[native] = timed(board, args.max_nodes, native)
                seconds[native] += spent
            differ += results[True] != results[False]
            nodes += results[True][2]
            searched += 1
        print(
            f"{name:20s} {searched} levels, {nodes} expansions: C {nodes / seconds[True]:,.0f}/s, "
            f"Python {nodes / seconds[False]:,.0f}/s, {seconds[False] / seconds[True]:.1f}x"
        )
    print(f"levels where C and Python differ: {differ}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())

"""What deepening costs on Boxoban-sized rooms: the reverse search, and the solves of its starts.

Drafts ``--levels`` boxoban levels at difficulty 1.0 with no deepening (seed 0), then, for each room,
times the reverse search (:func:`~relaygen.solver.reverse.farthest_layouts`, 64 layouts, 200,000
states, at most 40 pushes: deepening's call at difficulty 1.0) in C and in Python (and checks that
both find the same layouts) and the fast solves of its 64 starts: with the search in C, then in
Python once with the room kept from one solve to the next (its memos, as deepening runs) and once
forgetting it before every solve; prints milliseconds per room and the ratios, measured in this one
run, and checks that all three give the same node counts.

    python benchmarks/deepen_speed.py [--levels 30]
"""

from __future__ import annotations

import argparse
import time

from relaygen.generate import generate
from relaygen.mechanics.push import level_puzzle
from relaygen.solver import board, search
from relaygen.solver.reverse import Layout, farthest_layouts
from relaygen.solver.sokoban import Puzzle, solve


def rooms(n: int) -> list[Puzzle]:
    """The solver's view of ``n`` boxoban drafts at difficulty 1.0, walled in, not deepened."""
    return [level_puzzle(level) for level in generate("boxoban", n, seed=0, workers=1, difficulty=1.0, deepen=0)]


def search_all(puzzles: list[Puzzle], native: bool) -> tuple[float, list[list[Layout]]]:
    """Seconds to reverse-search ``puzzles`` (in C or in Python), and the layouts found."""
    began = time.perf_counter()
    layouts = [farthest_layouts(p, 64, 200_000, 40, native=native) for p in puzzles]
    return time.perf_counter() - began, layouts


def solve_all(starts: list[Puzzle], keep_rooms: bool, native: bool) -> tuple[float, list[int]]:
    """Seconds to solve ``starts`` with the fast search (in C or in Python), and their node counts."""
    built = search._search
    search._search = built if native else None
    try:
        board._rooms.clear()
        began = time.perf_counter()
        nodes = []
        for start in starts:
            if not keep_rooms:
                board._rooms.clear()
            nodes.append(solve(start).nodes)
        return time.perf_counter() - began, nodes
    finally:
        search._search = built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", type=int, default=30)
    args = parser.parse_args()
    puzzles = rooms(args.levels)
    reverse, layouts = search_all(puzzles, native=True)
    in_python, python_layouts = search_all(puzzles, native=False)
    if python_layouts != layouts:
        raise SystemExit("the C and Python reverse searches found other layouts")
    starts = [layout.puzzle for found in layouts for layout in found]
    in_c, c_nodes = solve_all(starts, keep_rooms=True, native=True)
    kept, kept_nodes = solve_all(starts, keep_rooms=True, native=False)
    alone, alone_nodes = solve_all(starts, keep_rooms=False, native=False)
    if not c_nodes == kept_nodes == alone_nodes:
        raise SystemExit("the C search or kept rooms changed a node count")
    per_room = 1000 / len(puzzles)
    print(f"{len(puzzles)} rooms, {len(starts)} starts ({len(starts) / len(puzzles):.1f} per room)")
    print(f"reverse search in C: {reverse * per_room:.1f} ms per room")
    print(f"reverse search in Python: {in_python * per_room:.1f} ms per room ({in_python / reverse:.1f}x)")
    print(f"solves of the starts in C: {in_c * per_room:.1f} ms per room ({kept / in_c:.1f}x Python's, rooms kept)")
    print(f"solves of the starts in Python, rooms kept: {kept * per_room:.1f} ms per room")
    print(f"solves of the starts in Python, rooms forgotten: {alone * per_room:.1f} ms per room")
    print(f"kept rooms: {alone / kept:.2f}x as fast in Python; the same node counts everywhere")


if __name__ == "__main__":
    main()

"""PuzzleScript's own test suite replayed through relaygen.script: pass share and time.

Every case of the vendored suite (tests/data/puzzlescript/testdata.json.gz) is compiled and replayed
(inputs, undo, restart, tick) and its final level compared with the recorded one; sounds are not
compared. Cases whose game uses random, randomdir, rigid or realtime_interval are skipped (the engine
refuses them with a one-line ScriptError) and do not count as deterministic. With --node, PuzzleScript's
own runner (`node src/tests/run_tests_node.js --sim-only` in that checkout) is timed in the same run,
twice: on its whole suite, and on the cases relaygen replays (a copy of its src/ with only those).

    python benchmarks/puzzlescript_conformance.py [--node PATH_TO_PUZZLESCRIPT] [--show-failures]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

from relaygen.script.session import CaseResult, load_suite, run_case

SUITE = Path(__file__).resolve().parent.parent / "tests" / "data" / "puzzlescript" / "testdata.json.gz"


def replay_suite(path: Path) -> tuple[list[CaseResult], float, float]:
    """Every case's result, and the wall and CPU seconds of compiling and replaying them all."""
    cases = load_suite(path)
    start, cpu = time.perf_counter(), time.process_time()
    results = [run_case(name, data) for name, data in cases]
    return results, time.perf_counter() - start, time.process_time() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_node(checkout: Path, cases: list | None = None) -> tuple[float, float, str]:
    """Wall and CPU seconds of PuzzleScript's node runner on its suite (or on `cases`, from a copy of src/)."""
    with tempfile.TemporaryDirectory() as tmp:
        if cases is not None:
            shutil.copytree(checkout / "src", Path(tmp) / "src")
            data = Path(tmp) / "src" / "tests" / "resources" / "testdata.js"
            data.write_text("var testdata = " + json.dumps(cases) + ";\n", encoding="utf-8")
            checkout = Path(tmp)
        start, cpu = time.perf_counter(), _children_cpu()
        done = subprocess.run(
            ["node", "src/tests/run_tests_node.js", "--sim-only"], cwd=checkout, capture_output=True, text=True
        )
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu
    counts = re.findall(r"^(Passed|Failed|Errors):\s+(\d+)", done.stdout, re.MULTILINE)
    return wall, cpu, ", ".join(f"{k.lower()} {v}" for k, v in counts) or done.stdout.strip()[-200:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", type=Path, default=SUITE)
    parser.add_argument("--node", type=Path, help="a PuzzleScript checkout whose node runner to time alongside")
    parser.add_argument("--show-failures", action="store_true")
    args = parser.parse_args()
    results, wall, cpu = replay_suite(args.suite)
    same_cases = [case for case, r in zip(load_suite(args.suite), results, strict=True) if r.status != "skip"]
    by_status = Counter(r.status for r in results)
    skips = Counter(re.sub(r"^line \d+: ", "", r.reason) for r in results if r.status == "skip")
    deterministic = len(results) - by_status["skip"]
    print(f"cases: {len(results)}, deterministic: {deterministic}")
    print(f"passed: {by_status['pass']} / {deterministic} = {by_status['pass'] / max(deterministic, 1):.1%}")
    print(f"failed (wrong final level): {by_status['fail']}, errors (refused or crashed): {by_status['error']}")
    print(f"skipped: {by_status['skip']}")
    for reason, count in skips.most_common():
        print(f"  {count:4d}  {reason}")
    if args.show_failures:
        for r in results:
            if r.status in ("fail", "error"):
                print(f"  {r.status}: {r.name}: {r.reason}")
    print(f"relaygen.script replay of the suite: {wall:.1f} s wall, {cpu:.1f} s CPU")
    if args.node:
        timings = {
            "its whole suite": time_node(args.node),
            "the cases relaygen replays": time_node(args.node, same_cases),
        }
        for label, (node_wall, node_cpu, summary) in timings.items():
            print(f"PuzzleScript node runner (--sim-only) on {label}: {node_wall:.1f} s wall, {node_cpu:.1f} s CPU")
            print(f"  ({summary}); relaygen is {node_wall / wall:.2f}x as fast (wall), {node_cpu / cpu:.2f}x (CPU)")


if __name__ == "__main__":
    main()

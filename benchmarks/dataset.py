"""Datasets: levels/s with 1, 2 and 4 Ray actors on a local Ray cluster next to the local backend, bytes
per level of each format, and the time to verify a finished dataset.

Every run writes the same ``--levels`` levels of ``--rules`` (shipped model, seed 0) as a jsonl
dataset; the seconds are the whole run (actors' start included, Ray's own start not: the cluster
is started once, with as many CPUs as the most actors asked for), and each Ray run's files are
checked byte-identical to the local run's. Bytes per level: the levels of the local run written in
each format its rules allow (a level file's bytes; a line or block of a shard). Verify: the same
command run again over the finished dataset (in this process, and as a whole ``relaygen generate``
command, interpreter start included).

    python benchmarks/dataset.py [--rules maze] [--levels 2000] [--actors 1 2 4]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from relaygen.datasets import is_builtin, shard_entry
from relaygen.formats import dump_levels, read_levels
from relaygen.generate import usable_cores
from relaygen.mechanics import get_mechanic
from relaygen.rules import load_rules
from relaygen.runfolder import write_run


def timed_run(out: Path, rules: str, n: int, **options: object) -> float:
    """Seconds to write the jsonl dataset of ``n`` levels into ``out``."""
    began = time.perf_counter()
    for _ in write_run(out, "jsonl", rules, n, **options):
        pass
    return time.perf_counter() - began


def files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def verdict(out: Path, reference: dict[str, bytes]) -> str:
    """Whether the files in ``out`` are the reference run's, byte for byte."""
    return "byte-identical" if files(out) == reference else "DIFFERENT FILES"


def bytes_per_level(folder: Path) -> dict[str, float]:
    """Mean bytes of one level in each format its rules allow."""
    levels = read_levels(folder)
    named = is_builtin(levels[0].rules)
    sizes = {kind: [len(dump_levels([lv], kind).encode()) for lv in levels] for kind in ("json", "txt")}
    sizes["jsonl"] = [len(shard_entry(lv, "jsonl", i, named).encode()) for i, lv in enumerate(levels)]
    if "xsb" in get_mechanic(levels[0].rules.mechanic).level_formats:
        sizes["boxoban"] = [len(shard_entry(lv, "boxoban", i, named).encode()) for i, lv in enumerate(levels)]
    return {kind: sum(values) / len(values) for kind, values in sizes.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", default="maze")
    parser.add_argument("--levels", type=int, default=2000)
    parser.add_argument("--actors", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    rules, n = load_rules(args.rules).name, args.levels
    with tempfile.TemporaryDirectory(prefix="relaygen-dataset-") as temp:
        root = Path(temp)
        rows, reference = [], {}
        for workers in sorted({1, usable_cores()}):
            seconds = timed_run(root / f"local-{workers}", rules, n, workers=workers)
            same = verdict(root / f"local-{workers}", reference) if reference else "reference"
            reference = reference or files(root / "local-1")
            rows.append((f"local, {workers} process{'es' if workers > 1 else ''}", seconds, same))
        import ray

        ray.init(num_cpus=max(args.actors), include_dashboard=False, log_to_driver=False)
        for actors in args.actors:
            out = root / f"ray-{actors}"
            seconds = timed_run(out, rules, n, backend="ray", workers=actors)
            same = verdict(out, reference)
            rows.append((f"ray, {actors} actor{'s' if actors > 1 else ''}", seconds, same))
        ray.shutdown()
        print(f"{n} {rules} levels, jsonl, {usable_cores()} cores")
        print(f"{'backend':<22}{'seconds':>9}{'levels/s':>10}  files")
        for label, seconds, same in rows:
            print(f"{label:<22}{seconds:>9.1f}{n / seconds:>10.0f}  {same}")
        print(f"\n{'format':<9}{'bytes/level':>12}")
        for kind, size in bytes_per_level(root / "local-1").items():
            print(f"{kind:<9}{size:>12.0f}")
        began = time.perf_counter()
        timed_run(root / "local-1", rules, n)
        inside = time.perf_counter() - began
        command = [sys.executable, "-m", "relaygen", "generate", rules, "-n", str(n), "--format", "jsonl"]
        began = time.perf_counter()
        subprocess.run([*command, "--out", str(root / "local-1")], check=True, capture_output=True)
        whole = time.perf_counter() - began
        print(f"\nverify the finished dataset: {inside:.2f} s in process, {whole:.2f} s as a whole command")


if __name__ == "__main__":
    main()

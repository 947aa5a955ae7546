"""A new game in minutes: fine-tuning a shipped model on a renamed variant of its game, against
training from scratch for the same minutes.

For each built-in (one per mechanic: maze's walk, dungeon's keys, sokoban's push) the script writes
a variant rules file: every tile renamed and the tiles reordered, another map size, other count
ranges where the mechanic has any, and one extra solid tile (so the shipped model cannot generate
it as it stands). It then trains on the variant twice with ``relaygen train`` (the shipped model's
recipe, 2 workers): from the shipped model (``--init-from``) and from scratch, each one run resumed
up to each of ``--minutes`` in turn, and after each stop generates ``--levels`` levels with the
run's model (one draft per level) and prints the share of drafts playable before any repair. The
curve goes to ``--png``.

    python benchmarks/transfer.py [--rules maze dungeon sokoban] [--minutes 1 2 5 10] [--levels 60]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

# benchmarks/ is on sys.path when this file is run as a script.
from generate_speed import measure

from relaygen.drafters import shipped_models
from relaygen.files import atomic_write
from relaygen.rules import Rules, load_rules

VARIANTS: dict[str, dict[str, Any]] = {
    "maze": {
        "names": {"floor": "grass", "wall": "hedge", "start": "gate", "exit": "fountain"},
        "size": (12, 12),
        "counts": {},
    },
    "dungeon": {
        "names": {
            "floor": "flagstone",
            "wall": "masonry",
            "player": "thief",
            "key": "rune",
            "door": "portal",
            "enemy": "ghost",
        },
        "size": (11, 8),
        "counts": {"ghost": (1, 3)},
    },
    "sokoban": {
        "names": {
            "floor": "ground",
            "wall": "rack",
            "player": "forklift",
            "box": "crate",
            "goal": "dock",
            "box_on_goal": "crate_on_dock",
            "player_on_goal": "forklift_on_dock",
        },
        "size": (8, 8),
        "counts": {"crate": (2, 2)},
    },
}
"""Per built-in: its tiles' new names, the variant's size, and new (min, max) of the count
constraints whose first tile is named (by its new name)."""
EXTRA_SOLID = {"name": "pillar", "char": "P", "color": "#50505a", "solid": True, "weight": 0.05}
"""The variant's extra tile: solid, so it maps onto the wall's weights in a new slot."""


def variant(rules: Rules) -> Rules:
    """``rules`` with the changes of :data:`VARIANTS`: renamed and reversed tiles, another size,
    other count ranges and the extra solid tile."""
    spec = VARIANTS[rules.name]
    names = spec["names"]
    data = rules.model_dump(exclude_defaults=True)
    tiles = [t | {"name": names[t["name"]]} for t in reversed(data["tiles"])] + [EXTRA_SOLID]
    constraints = []
    for c in data["constraints"]:
        c = c | {key: [names[t] for t in c[key]] for key in ("tiles", "equal_to") if key in c}
        lo, hi = spec["counts"].get(c["tiles"][0], (c.get("min", 0), c.get("max")))
        constraints.append(c | {"min": lo, "max": hi})
    renamed = {"border": names[data["border"]]} if "border" in data else {}
    if "start_map" in data and data["start_map"] != "random":
        renamed["start_map"] = names[data["start_map"]]
    width, height = spec["size"]
    fields = {"tiles": tiles, "constraints": constraints, "width": width, "height": height}
    return Rules.model_validate(data | renamed | fields | {"name": f"{rules.name}_variant"})


def recipe(model: Path, folder: Path) -> Path:
    """The shipped model's training config for a run on another game: its hyperparameters, the
    variant's size only, no step or time budget of its own (``--minutes`` sets it)."""
    config = tomllib.loads(model.with_suffix(".toml").read_text())
    for key in ("rules", "init_from", "sizes", "total_steps", "max_minutes", "runs_dir", "progress"):
        config.pop(key, None)
    lines = [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    path = folder / f"{model.stem}_recipe.toml"
    atomic_write(path, "\n".join(lines) + "\n")
    return path


def train(rules_file: Path, config: Path, runs: Path, minutes: float, start: Path | None, run: Path | None) -> Path:
    """Train (or resume ``run``) until ``minutes`` of training in all; the run folder."""
    if run is None:
        runs.mkdir(parents=True)
        first = ["train", str(rules_file), "--config", str(config), "--runs-dir", str(runs), "--seed", "0"]
        args = first + (["--init-from", str(start)] if start else [])
    else:
        args = ["train", "--resume", str(run)]
    done = subprocess.run(
        [sys.executable, "-m", "relaygen", *args, "--minutes", str(minutes), "--workers", "2", "--steps", "100000000",
         "--no-progress"],
        capture_output=True, text=True,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"relaygen {' '.join(args)} failed:\n{done.stderr}")
    (folder,) = runs.iterdir()
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 2, 5, 10])
    parser.add_argument("--levels", type=int, default=60)
    parser.add_argument("--png", type=Path, default=None, help="draw the curves into this PNG")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    args = parser.parse_args()
    shipped = {path.stem: path for path in shipped_models()}
    results: dict[str, dict[str, list[float]]] = {}
    print(f"{'variant':<18}{'start':<10}" + "".join(f"{m:>8g} min" for m in args.minutes), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in args.rules:
            rules = variant(load_rules(name))
            rules_file = folder / f"{rules.name}.toml"
            atomic_write(rules_file, rules.to_toml())
            config = recipe(shipped[name], folder)
            results[rules.name] = {}
            for label, start in (("shipped", shipped[name]), ("scratch", None)):
                run, rates = None, []
                for minutes in args.minutes:
                    run = train(rules_file, config, folder / f"{rules.name}-{label}", minutes, start, run)
                    row = measure(
                        load_rules(rules_file), run / "model.pt", args.levels, (rules.width, rules.height), 1,
                        candidates=1, max_seconds=120.0,
                    )  # fmt: skip
                    rates.append(row["raw_playable_rate"])
                results[rules.name][label] = rates
                print(f"{rules.name:<18}{label:<10}" + "".join(f"{r:>12.1%}" for r in rates), flush=True)
    if args.json:
        atomic_write(args.json, json.dumps({"minutes": args.minutes, "raw_playable_rate": results}, indent=1))
    if args.png:
        atomic_write(args.png, draw(results, args.minutes))
        print(f"wrote {args.png}")


def draw(results: dict[str, dict[str, list[float]]], minutes: list[float]) -> bytes:
    """One panel per variant, raw playable rate against training minutes, from the shipped model and
    from scratch, as a PNG (needs matplotlib)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4.2 * len(results), 3.6), dpi=110, layout="constrained")
    panels = figure.subplots(1, len(results), squeeze=False)[0]
    for axes, (name, curves) in zip(panels, results.items(), strict=True):
        for label, rates in curves.items():
            axes.plot(minutes, [100 * r for r in rates], marker="o", label=f"from {label}")
        axes.axhline(90, color="grey", linestyle=":", linewidth=1)
        axes.set(title=name, xlabel="training minutes (2 workers)", ylabel="raw playable %", ylim=(-3, 103))
        axes.grid(alpha=0.3)
        axes.legend(loc="lower right", fontsize="small")
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


if __name__ == "__main__":
    main()

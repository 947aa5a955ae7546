"""A new game from a shipped model, through the command line: a renamed, reordered Sokoban
(crate, dock, forklift) fine-tuned briefly from the shipped model, and the clear refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from relaygen.agent.model import load_model
from relaygen.drafters import shipped_models
from relaygen.formats import read_levels
from relaygen.playtest import playtest
from relaygen.rules import Rules, load_rules

pytestmark = pytest.mark.slow  # trains or runs subprocesses: the full lane only

SOKOBAN = load_rules("sokoban")
SHIPPED = next(path for path in shipped_models() if path.stem == "sokoban")
NAMES = {
    "floor": "ground",
    "wall": "rack",
    "player": "forklift",
    "box": "crate",
    "goal": "dock",
    "box_on_goal": "crate_on_dock",
    "player_on_goal": "forklift_on_dock",
}
ORDER = [3, 0, 6, 1, 4, 2, 5]
"""The depot's tiles: Sokoban's, in this order (crate, ground, forklift_on_dock, rack, ...)."""
CURSED = {"name": "cursed", "char": "x", "color": "#000000", "key": True, "hazard": True}
"""A tile no Sokoban tile is like: the model has neither its properties nor all but one of them."""
STONE = {"name": "stone", "char": "o", "color": "#777777", "solid": True, "weight": 0.1}


def depot(name: str, extra: tuple[dict[str, object], ...] = (), size: int = 9) -> Rules:
    """Sokoban with every tile renamed and the tiles reordered, plus ``extra`` tiles, in a ``size`` square."""
    data = SOKOBAN.model_dump(exclude_defaults=True)
    tiles = [t | {"name": NAMES[t["name"]]} for t in data["tiles"]]
    constraints = [
        c | {key: [NAMES[t] for t in c[key]] for key in ("tiles", "equal_to") if key in c} for c in data["constraints"]
    ]
    tiles = [tiles[i] for i in ORDER] + list(extra)
    fields = {"name": name, "border": "rack", "tiles": tiles, "constraints": constraints, "width": size, "height": size}
    return Rules.model_validate(data | fields)


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relaygen", *map(str, args)], capture_output=True, text=True, timeout=180
    )


@pytest.fixture(scope="module")
def rules_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """depot.toml (renamed, reordered), quarry.toml (and a second solid tile, at 8x8), cursed.toml (and
    a tile that cannot be mapped)."""
    folder = tmp_path_factory.mktemp("tilemap")
    files = {"depot": depot("depot"), "quarry": depot("quarry", (STONE,), size=8), "cursed": depot("cursed", (CURSED,))}
    for name, rules in files.items():
        (folder / f"{name}.toml").write_text(rules.to_toml())
    return {name: folder / f"{name}.toml" for name in files}


def generated_levels_are_playable(rules_file: Path, model: Path, out: Path) -> None:
    """``relaygen generate`` writes 4 levels of the rules, each playable under them, and most of the
    model's drafts were playable before any repair (a model fitted to the wrong tiles drafts none)."""
    done = cli("generate", rules_file, "-n", 4, "--model", model, "--out", out, "--candidates", 4)
    assert done.returncode == 0, done.stderr
    (raw,) = (line.split()[-1] for line in done.stdout.splitlines() if line.startswith("raw playable rate"))
    assert float(raw.rstrip("%")) >= 75.0, done.stdout
    rules = load_rules(rules_file)
    levels = read_levels(out)
    assert len(levels) == 4
    for level in levels:
        assert level.rules == rules
        assert playtest(level, level.meta["difficulty"]).playable, level.name


def test_rules_show_names_the_shipped_model_to_start_from(rules_files: dict[str, Path]) -> None:
    done = cli("rules", "show", rules_files["depot"])
    assert done.returncode == 0, done.stderr
    assert f"{SHIPPED}: tiles crate = box; ground = floor; forklift_on_dock = player_on_goal;" in done.stdout
    done = cli("rules", "show", rules_files["cursed"])
    assert done.returncode == 0, done.stderr
    assert f"{SHIPPED}: a run of rules 'cursed' cannot start from this model" in done.stdout
    assert "tile 'cursed' (hazard+key)" in done.stdout


def test_the_shipped_model_generates_renamed_reordered_levels(rules_files: dict[str, Path], tmp_path: Path) -> None:
    generated_levels_are_playable(rules_files["depot"], SHIPPED, tmp_path / "levels")


def test_a_fine_tuned_shipped_model_generates_playable_levels_of_the_new_game(
    rules_files: dict[str, Path], tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    done = cli(
        "train", rules_files["quarry"], "--init-from", SHIPPED, "--runs-dir", runs, "--no-progress",
        "--steps", 300, "--workers", 1, "--envs", 4, "--t-max", 8,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (folder,) = runs.iterdir()
    log = (folder / "log.txt").read_text()
    assert "tiles crate = box; ground = floor;" in log
    assert "stone = wall (a new slot, sharing 'wall''s weights with 'rack')" in log

    tuned, meta = load_model(folder / "model.pt")
    shipped, _ = load_model(SHIPPED)
    assert meta["rules"] == "quarry" and meta["steps"] >= 300
    sources = [*ORDER, 1]  # the stone starts as a wall
    planes = tuned.input_layer.weight[:, : len(sources)]
    rows = tuned.policy_layer.weight
    assert torch.allclose(planes, shipped.input_layer.weight[:, sources], atol=0.02)  # a few updates from them
    assert torch.allclose(rows, shipped.policy_layer.weight[sources], atol=0.02)

    generated_levels_are_playable(rules_files["quarry"], folder / "model.pt", tmp_path / "levels")


@pytest.mark.parametrize("command", ["train", "generate"])
def test_a_tile_that_cannot_be_mapped_is_named_with_the_reason(
    rules_files: dict[str, Path], tmp_path: Path, command: str
) -> None:
    out = ("--runs-dir", tmp_path / "runs") if command == "train" else ("--model", SHIPPED, "--out", tmp_path / "out")
    options = ("--init-from", SHIPPED) if command == "train" else ()
    done = cli(command, rules_files["cursed"], *options, *out)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"error: {SHIPPED}: ")
    assert "tile 'cursed' (hazard+key): the model has no tile with these properties or all but one of them" in line
    assert not (tmp_path / "runs").exists()


def test_generate_refuses_a_game_that_is_not_the_model_s_up_to_names(
    rules_files: dict[str, Path], tmp_path: Path
) -> None:
    done = cli("generate", rules_files["quarry"], "--model", SHIPPED, "--out", tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert "their tiles do not match one to one" in done.stderr and "--init-from" in done.stderr


def test_a_run_from_scratch_names_the_shipped_model_it_could_start_from(
    rules_files: dict[str, Path], tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    done = cli(
        "train", rules_files["depot"], "--runs-dir", runs, "--no-progress",
        "--steps", 8, "--workers", 1, "--envs", 2, "--t-max", 4,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (folder,) = runs.iterdir()
    hint = f"this run could start from a shipped model instead: --init-from {SHIPPED} (tiles crate = box; ground ="
    assert hint in (folder / "log.txt").read_text()

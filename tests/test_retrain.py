"""Retraining on new rules, end to end through the command line: check, train, generate, fine-tune."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from relaygen.agent.checkpoint import load_checkpoint
from relaygen.agent.config import TrainConfig
from relaygen.agent.model import load_model
from relaygen.files import file_digest
from relaygen.formats import read_levels
from relaygen.playtest import playtest
from relaygen.rules import Rules, load_rules

pytestmark = pytest.mark.slow  # trains or runs subprocesses: the full lane only

MAZE = load_rules("maze").model_dump(exclude_defaults=True)
HALL = MAZE | {
    "name": "hall",
    "description": "A small maze with one or two exits.",
    "width": 9,
    "height": 9,
    "representations": ["narrow"],
    "constraints": [{"tiles": ["start"], "min": 1, "max": 1}, {"tiles": ["exit"], "min": 1, "max": 2}],
    "objectives": [{"metric": "regions", "target": [1, 1], "scale": 2}, {"metric": "path_length", "scale": 6}],
    "difficulty": {"metric": "path_length", "easy": [4, 10], "hard": [10, 20]},
}
LAVA = {"name": "lava", "char": "~", "color": "#ff5500", "hazard": True, "weight": 0.05}
VARIANTS: dict[str, dict[str, Any]] = {
    "hall": HALL,
    "hall_long": {
        **HALL,
        "name": "hall_long",
        "difficulty": {"metric": "path_length", "easy": [8, 14], "hard": [14, 26]},
    },
    "lava": {
        **HALL,
        "name": "lava",
        "tiles": [*HALL["tiles"], LAVA],
        "constraints": [*HALL["constraints"], {"tiles": ["lava"], "min": 1, "max": 3}],
    },
}
"""New rulesets derived from the built-in maze: another size, exit count and targets; the same tiles
with other targets (hall_long); and a new tile (lava)."""
TRAINED = ("hall", "lava")

SMALL = {"envs_per_worker": 4, "t_max": 8, "channels": 8, "hidden": 32, "progress": False}
"""A tiny model and batch (the command line gives the steps and workers)."""
STEPS = 320
"""Steps of each trained run: ten updates of 32 steps. Runs are bounded by steps, never by the clock."""
TIMEOUT = 1800
"""Seconds a command may take before the test gives up: only a hang, never a busy machine, reaches it."""


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relaygen", *map(str, args)], capture_output=True, text=True, timeout=TIMEOUT
    )


def train_all(jobs: dict[str, tuple[object, ...]]) -> dict[str, Path]:
    """``relaygen train RULES --runs-dir RUNS OPTIONS...`` for each job (RULES, RUNS, OPTIONS...), all at
    once; each must succeed. Job name → its new run folder."""
    started = {
        name: subprocess.Popen(
            [
                sys.executable,
                "-m",
                "relaygen",
                "train",
                *map(str, [rules, "--runs-dir", runs, "--no-progress", *options]),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (rules, runs, *options) in jobs.items()
    }
    for process in started.values():
        _, stderr = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, stderr
    return {name: next(Path(str(runs)).iterdir()) for name, (_, runs, *_) in jobs.items()}


def train(rules: Path, runs: Path, *options: object) -> Path:
    """One run of :func:`train_all`: its run folder."""
    return train_all({"run": (rules, runs, *options)})["run"]


def small(workdir: Path, steps: int) -> tuple[object, ...]:
    """The options of a one-worker run of ``steps`` with the small model (several workers: test_agent_train)."""
    return ("--config", workdir / "small.toml", "--steps", steps, "--workers", 1)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rules files (NAME.toml) and the small training config (small.toml)."""
    folder = tmp_path_factory.mktemp("retrain")
    for name, data in VARIANTS.items():
        (folder / f"{name}.toml").write_text(Rules.model_validate(data).to_toml())
    (folder / "small.toml").write_text(TrainConfig(**SMALL).to_toml())
    return folder


@pytest.fixture(scope="module")
def trained(workdir: Path) -> dict[str, Path]:
    """A short run on each of TRAINED, side by side, through the command line, shared by the tests:
    name → run folder."""
    return train_all(
        {name: (workdir / f"{name}.toml", workdir / f"runs-{name}", *small(workdir, STEPS)) for name in TRAINED}
    )


def test_the_new_rules_files_pass_the_check(workdir: Path) -> None:
    done = cli("rules", "check", *(workdir / f"{name}.toml" for name in VARIANTS))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": ok (") == len(VARIANTS)


@pytest.mark.parametrize("name", TRAINED)
def test_the_model_is_trained_for_the_new_rules(trained: dict[str, Path], workdir: Path, name: str) -> None:
    rules = load_rules(workdir / f"{name}.toml")
    _, meta = load_model(trained[name] / "model.pt")
    assert (meta["rules"], meta["rules_digest"]) == (name, rules.digest)
    assert meta["steps"] >= STEPS


@pytest.mark.parametrize("name", TRAINED)
def test_generated_levels_are_playable_under_the_new_rules(
    trained: dict[str, Path], workdir: Path, tmp_path: Path, name: str
) -> None:
    rules = load_rules(workdir / f"{name}.toml")
    out = tmp_path / "levels"
    done = cli(
        "generate", workdir / f"{name}.toml", "-n", 5, "--model", trained[name] / "model.pt", "--out", out, "--seed", 0
    )
    assert done.returncode == 0, done.stderr
    levels = read_levels(out)
    assert len(levels) == 5
    for level in levels:
        assert level.rules == rules
        assert level.meta["rules_digest"] == rules.digest
        assert (level.width, level.height) == (9, 9)
        assert playtest(level, level.meta["difficulty"]).playable, level.name


def test_fine_tuning_on_other_targets_starts_from_the_model(
    trained: dict[str, Path], workdir: Path, tmp_path: Path
) -> None:
    source = trained["hall"] / "model.pt"
    runs = tmp_path / "runs"
    folder = train(workdir / "hall_long.toml", runs, "--init-from", source, "--steps", 40, "--workers", 1, "--seed", 7)
    tuned, meta = load_model(folder / "model.pt")
    assert meta["rules"] == "hall_long"
    assert (meta["init_from"], meta["init_digest"]) == (str(source), file_digest(source))
    config = TrainConfig.from_toml(folder / "config.toml")
    assert config.init_from == str(source)
    assert (config.channels, config.hidden) == (SMALL["channels"], SMALL["hidden"])  # the model's widths
    assert f"starting from the weights of {source}" in (folder / "log.txt").read_text()
    original, _ = load_model(source)
    for key, weights in original.state_dict().items():  # one update (of at most ~lr) from the source's weights,
        assert torch.allclose(tuned.state_dict()[key], weights, atol=0.01), key  # far from seed 7's fresh ones


def test_a_new_tile_starts_from_the_model_tile_it_is_nearest(
    trained: dict[str, Path], workdir: Path, tmp_path: Path
) -> None:
    source = trained["hall"] / "model.pt"
    folder = train(workdir / "lava.toml", tmp_path / "runs", "--init-from", source, "--steps", 40, "--workers", 1)
    assert (
        "lava = floor (a new tile, initialised from 'floor': its properties less hazard)"
        in (folder / "log.txt").read_text()
    )
    tuned, _ = load_model(folder / "model.pt")
    original, _ = load_model(source)
    floor, lava = tuned.input_layer.weight[:, 0], tuned.input_layer.weight[:, 4]
    assert torch.allclose(lava, original.input_layer.weight[:, 0], atol=0.01)  # one update from the floor's
    assert torch.allclose(floor, original.input_layer.weight[:, 0], atol=0.01)


def test_minutes_stop_a_run_by_wall_clock_also_when_resumed(workdir: Path, tmp_path: Path) -> None:
    folder = train(workdir / "hall.toml", tmp_path / "runs", *small(workdir, 10**9), "--minutes", 0.05)
    assert (folder / "model.pt").is_file()
    checkpoint = load_checkpoint(folder)
    assert checkpoint["step"] < 10**9 and checkpoint["elapsed"] >= 3.0
    assert checkpoint["config"]["max_minutes"] == 0.05

    done = cli("train", "--resume", folder, "--minutes", 0.1)  # the budget counts the time already spent
    assert done.returncode == 0, done.stderr
    resumed = load_checkpoint(folder)
    assert resumed["elapsed"] >= 6.0 and resumed["config"]["max_minutes"] == 0.1

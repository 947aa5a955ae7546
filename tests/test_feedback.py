"""Honest feedback from the commands: summaries that never round to nothing, errors before progress bars,
training and evaluation progress against the budget that will stop them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from relaygen.agent.config import TrainConfig
from relaygen.generate import Summary

pytestmark = pytest.mark.slow  # trains or runs subprocesses: the full lane only

SHIPPED = Path(__file__).resolve().parents[1] / "relaygen" / "models"


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "relaygen", *map(str, args)], capture_output=True, text=True, timeout=900
    )


def test_a_slow_run_shows_seconds_per_level() -> None:
    table = Summary(written=20, seconds=412.0).table()
    assert "levels/s               0.0485" in table
    assert "seconds per level      20.6" in table
    assert "levels/s               -" in Summary().table()


def test_xsb_of_a_game_without_boxes_fails_before_any_progress_bar(tmp_path: Path) -> None:
    done = cli("generate", "maze", "--model", "search", "--format", "xsb", "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "XSB cannot hold levels of rules 'maze' (mechanic 'walk'); their formats: json, txt" in done.stderr
    assert "generate maze" not in done.stderr and "%" not in done.stderr, done.stderr


SMALL = {"envs_per_worker": 4, "t_max": 8, "channels": 8, "hidden": 32, "log_seconds": 0.0}
"""A tiny model that logs at every poll."""


def small_config(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(TrainConfig(**SMALL).to_toml())
    return path


def final_bar(stderr: str) -> str:
    """The last state of the progress bar (tqdm redraws it after carriage returns)."""
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith("train maze:")][-1]


def test_the_bar_follows_the_minutes_when_they_stop_the_run_first(tmp_path: Path) -> None:
    done = cli(
        "train", "maze", "--config", small_config(tmp_path), "--workers", 1, "--minutes", 0.05,
        "--runs-dir", tmp_path / "runs", "--progress",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    bar = final_bar(done.stderr)
    assert bar.startswith("train maze: 100%|") and "/1.0" not in bar, bar
    assert "time 0:0" in bar and "/0:03 (steps " in bar and "/3M)" in bar, bar


def test_the_bar_follows_the_steps_when_they_stop_the_run_first(tmp_path: Path) -> None:
    done = cli(
        "train", "maze", "--config", small_config(tmp_path), "--workers", 1, "--steps", 64, "--minutes", 60,
        "--runs-dir", tmp_path / "runs", "--progress",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    bar = final_bar(done.stderr)
    assert bar.startswith("train maze: 100%") and "steps 64/64 (time 0:" in bar and "/1:00:00)" in bar, bar


def test_episode_statistics_come_early_with_an_episode_step_limit(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    runs = tmp_path / "runs"
    done = cli(
        "train", "maze", "--config", small_config(tmp_path), "--workers", 1, "--steps", 96, "--episode-steps", 4,
        "--runs-dir", runs, "--no-progress",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (folder,) = runs.iterdir()
    assert TrainConfig.from_toml(folder / "config.toml").episode_steps == 4
    events = EventAccumulator(str(folder))
    events.Reload()
    returns = events.Scalars("charts/episodic_return")
    assert returns and returns[0].step <= 96
    assert "episodes: return " in done.stderr and ", playable " in done.stderr, done.stderr


def test_eval_shows_progress(tmp_path: Path) -> None:
    done = cli("eval", SHIPPED / "relay.pt", "--episodes", 3)
    assert done.returncode == 0, done.stderr
    for bar in ("model: levels built", "model: levels playtested", "random: levels built"):
        assert f"{bar}: 100%" in done.stderr and "3/3" in done.stderr, done.stderr
    assert "playable rate" in done.stdout

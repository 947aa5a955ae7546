"""Honest feedback from the commands: summaries that never round to nothing, errors before progress bars,
training and evaluation progress against the budget that will stop them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from relaygen.generate import Summary


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "relaygen", *map(str, args)], capture_output=True, text=True, timeout=900)


def test_a_slow_run_shows_seconds_per_level() -> None:
    table = Summary(written=20, seconds=412.0).table()
    assert "levels/s               0.0485" in table
    assert "seconds per level      20.6" in table
    assert "levels/s               -" in Summary().table()


def test_xsb_of_a_game_without_boxes_fails_before_any_progress_bar(tmp_path: Path) -> None:
    done = cli("generate", "maze", "--model", "search", "--format", "xsb", "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "XSB holds push-game levels; rules 'maze' use mechanic 'walk'" in done.stderr
    assert "generate maze" not in done.stderr and "%" not in done.stderr, done.stderr
